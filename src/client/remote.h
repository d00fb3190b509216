/* remote: an HTTP client for one registry (OCI Distribution API v1.1 / Docker Registry v2), on libcurl.
 *
 * Opening a remote pings /v2/ and so learns the scheme (HTTPS; plain HTTP only with tls_verify = 0,
 * after HTTPS failed) and the authentication challenge. Requests then carry Basic credentials or a
 * Bearer token for the scope they need ("repository:NAME:pull,push"); tokens are cached per scope and
 * fetched again once when a request is answered 401. A remote is safe to use from several threads at
 * once (one curl handle per request, taken from a pool).
 *
 * Every byte read from the registry is checked: manifests against the digest asked for (or the
 * Docker-Content-Digest the registry announced), blobs against the descriptor's digest and size, before
 * the call returns success. Blob downloads resume with Range after a broken connection.
 *
 *   struct client_remote *r;
 *   if (client_remote_open("127.0.0.1:5000", &opts, &r, &e) < 0) ...
 *   client_remote_manifest_get(r, "app", "v1", &body, &mt, &dg, &e); ... client_remote_free(r);
 */
#ifndef BERTH_CLIENT_REMOTE_H
#define BERTH_CLIENT_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "client/client.h"

#define CLIENT_MANIFEST_MAX (4 << 20) /* largest manifest accepted (the registry's own limit) */

struct client_remote;

/* Opens host ("name[:port]") with o (borrowed; must outlive r). Pings /v2/; fails with e set when the
 * host cannot be reached, the TLS certificate is not trusted (the message names --tls-verify=false) or
 * the answer is not a registry's. r owns nothing of the caller's. */
int client_remote_open(const char *host, const struct client_opts *o, struct client_remote **out, struct client_err *e);
void client_remote_free(struct client_remote *r); /* NULL is a no-op */
const char *client_remote_host(const struct client_remote *r);
/* "https" or "http": the scheme the ping settled on. */
const char *client_remote_scheme(const struct client_remote *r);

/* Checks that the credentials in use are accepted: a Basic retry of /v2/ or a token fetch with them.
 * 0, or -BERTH_EDENIED with e set when the registry refuses them. */
int client_remote_login_check(struct client_remote *r, struct client_err *e);

/* GETs the manifest ref (a tag or "alg:hex") of repo, accepting the OCI and Docker manifest and index
 * types. body receives the exact bytes (at most CLIENT_MANIFEST_MAX), *media_type (caller free()s)
 * the Content-Type or the body's mediaType, *dg the digest of the bytes (in ref's algorithm when ref is
 * a digest). Fails -BERTH_ENOENT "manifest unknown", -BERTH_EDIGEST when the bytes do not match. */
int client_remote_manifest_get(struct client_remote *r, const char *repo, const char *ref, struct buf *body,
			       char **media_type, struct digest *dg, struct client_err *e);
/* HEAD of a manifest: its digest (from Docker-Content-Digest, else by a GET). */
int client_remote_manifest_digest(struct client_remote *r, const char *repo, const char *ref, struct digest *dg,
				  struct client_err *e);
/* PUTs a manifest under ref (tag or digest) with Content-Type media_type. Fails when the registry
 * refuses it, or answers with a Docker-Content-Digest other than the bytes' digest. */
int client_remote_manifest_put(struct client_remote *r, const char *repo, const char *ref, const void *body, size_t len,
			       const char *media_type, struct client_err *e);
/* DELETEs the manifest dg (which removes every tag pointing at it). */
int client_remote_manifest_delete(struct client_remote *r, const char *repo, const struct digest *dg,
				  struct client_err *e);

/* 1 when repo has blob d with d->size (HEAD), 0 when not, negative on error. */
int client_remote_blob_exists(struct client_remote *r, const char *repo, const struct image_desc *d,
			      struct client_err *e);
/* Downloads blob d into fd (truncated first) and checks size and digest; resumes with Range up to
 * opts->retries times when the connection breaks. fd holds exactly the verified bytes on success.
 * -BERTH_EDIGEST / -BERTH_ETOOBIG when the bytes are not the descriptor's. */
int client_remote_blob_fetch(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			     struct client_xfer *x, struct client_err *e);
/* Like client_remote_blob_fetch, but fd is a pipe (or socket) read by someone else as the bytes come:
 * they are written in order, once each (a resumed download skips what was delivered, even when the
 * registry ignores Range). The check of size and digest happens at the end, so the reader must not
 * trust the bytes before this returns 0 (the host store verifies them itself before committing). */
int client_remote_blob_stream(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			      struct client_xfer *x, struct client_err *e);
/* Asks for a cross-repository mount of d from repository from (same registry). 1 when the
 * registry mounted it, 0 when it would not (the upload session it opened instead is cancelled). */
int client_remote_blob_mount(struct client_remote *r, const char *repo, const char *from, const struct image_desc *d,
			     struct client_err *e);
/* Uploads d's bytes, read from fd at offset 0, into repo: small blobs in one PUT, big ones in PATCH
 * chunks closed by a PUT with the digest. A session that fails is cancelled (DELETE). */
int client_remote_blob_upload(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			      struct client_xfer *x, struct client_err *e);

/* Every tag of repo (following Link pagination), sorted as the registry sent them. *tags is an array
 * of *n strings; free with client_strv_free(). */
int client_remote_tags_list(struct client_remote *r, const char *repo, char ***tags, size_t *n, struct client_err *e);
void client_strv_free(char **v, size_t n);

/* 1 when /v2/ answered "X-Registry-Supports-Signatures: 1" (the signature extension API). */
int client_remote_supports_signatures(const struct client_remote *r);
/* A small GET of path on the registry's host ("/v2/...", "/extensions/v2/...", berth's "/api/v1/...";
 * with a query when wanted) with repo's pull authorisation (repo NULL: a token for no repository,
 * Basic credentials as usual), redirects followed. 0 with *status 200 (body filled, at most max bytes) or 404 (body empty); other statuses
 * fail with e set. *content_type (may be NULL; caller free()s) gets the media type without parameters. */
int client_remote_get(struct client_remote *r, const char *repo, const char *path, const char *accept, size_t max,
		      struct buf *body, long *status, char **content_type, struct client_err *e);
/* A PUT of body to path with repo's push authorisation; any 2xx is 0 (*status says which). */
int client_remote_put(struct client_remote *r, const char *repo, const char *path, const char *content_type,
		      const void *body, size_t len, long *status, struct client_err *e);
/* A plain GET of an http(s) URL outside any registry (a lookaside signature store), with the TLS
 * settings of o (certs.d of the URL's host). 0 with *status 200 (out filled, at most max bytes) or 404. */
int client_url_get(const struct client_opts *o, const char *url, size_t max, struct buf *out, long *status,
		   struct client_err *e);

#endif
