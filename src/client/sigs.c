/* sigs: signatures over the client's transports (see sigs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "client/remote.h"
#include "client/sigs.h"
#include "image/manifest.h"
#include "sign/extension.h"
#include "sign/gpg.h"
#include "sign/simple.h"

#define REFERRERS_MAX (4u << 20)
#define REFERRER_SIGS_MAX 64

struct fetch_ctx {
	struct client_remote *r;
	const char *repo;
	const struct client_opts *o;
};

void client_sigs_release(struct client_sigs *s)
{
	sign_collected_release(&s->c);
	memset(s, 0, sizeof(*s));
}

size_t client_sigs_count(const struct client_sigs *s)
{
	return s->c.nsimple + s->c.nsigstore;
}

int client_sigs_ref(const struct client_image *im, struct sign_ref *out, struct client_err *e)
{
	struct buf b;
	char ds[DIGEST_STR_MAX], why[256];
	int rc;

	if (im->ref.transport != REF_DOCKER)
		return client_err_set(e, -BERTH_EINVAL, "%s is not a docker:// image", im->name);
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s/%s", im->ref.host, im->ref.repo);
	if (im->ref.has_digest)
		buf_addf(&b, "@%s", digest_str(&im->ref.digest, ds));
	else
		buf_addf(&b, ":%s", im->ref.tag ? im->ref.tag : "latest");
	rc = sign_ref_parse_docker(b.ptr, out, why, sizeof(why));
	if (rc < 0)
		client_err_set(e, rc, "%s: %s", b.ptr, why);
	buf_release(&b);
	return rc;
}

/* ---------------------------------------------------------------- fetchers for sign_collect */

static int status_rc(int rc, long status)
{
	if (rc < 0)
		return rc;
	return status == 200 ? 0 : -BERTH_ENOENT;
}

static int f_manifest(void *ctx, const struct sign_ref *ref, const char *tag, struct buf *out, char *mt, size_t mtn)
{
	struct fetch_ctx *f = ctx;
	struct client_err e = {0};
	struct buf path;
	char *ct = NULL;
	long st;
	int rc;

	(void)ref;
	buf_init(&path, BUF_UNLIMITED);
	buf_addf(&path, "/v2/%s/manifests/%s", f->repo, tag);
	rc = client_remote_get(f->r, f->repo, path.ptr, MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST, SIGN_SIGNATURE_MAX,
			       out, &st, &ct, &e);
	if (mtn)
		snprintf(mt, mtn, "%s", ct ? ct : "");
	free(ct);
	buf_release(&path);
	return status_rc(rc, st);
}

static int f_blob(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out)
{
	struct fetch_ctx *f = ctx;
	struct client_err e = {0};
	struct buf path;
	char ds[DIGEST_STR_MAX];
	long st;
	int rc;

	(void)ref;
	buf_init(&path, BUF_UNLIMITED);
	buf_addf(&path, "/v2/%s/blobs/%s", f->repo, digest_str(d, ds));
	rc = client_remote_get(f->r, f->repo, path.ptr, NULL, SIGN_SIGNATURE_MAX, out, &st, NULL, &e);
	buf_release(&path);
	return status_rc(rc, st);
}

static int f_url(void *ctx, const char *url, struct buf *out)
{
	struct fetch_ctx *f = ctx;
	struct client_err e = {0};
	long st;
	int rc = client_url_get(f->o, url, SIGN_SIGNATURE_MAX, out, &st, &e);

	return status_rc(rc, st);
}

static int f_extension(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out)
{
	struct fetch_ctx *f = ctx;
	struct client_err e = {0};
	struct buf path;
	long st;
	int rc;

	(void)ref;
	buf_init(&path, BUF_UNLIMITED);
	sign_ext_path(f->repo, d, &path);
	rc = client_remote_get(f->r, f->repo, path.ptr, "application/json", SIGN_EXT_LIST_MAX, out, &st, NULL, &e);
	buf_release(&path);
	return status_rc(rc, st);
}

/* OCI 1.1 referrers of artifact type cosign-signature: each one's layer signatures appended to c. */
static int collect_referrers(struct fetch_ctx *f, const struct digest *dg, struct sign_collected *c,
			     struct client_err *e)
{
	struct buf body, path, man;
	char ds[DIGEST_STR_MAX], why[512];
	json_t *root = NULL, *arr, *it;
	size_t i, taken = 0;
	long st;
	int rc;

	buf_init(&body, REFERRERS_MAX);
	buf_init(&path, BUF_UNLIMITED);
	buf_init(&man, SIGN_SIGNATURE_MAX);
	/* the type's '+' percent-encoded: in a query it would read as a space */
	buf_addf(&path, "/v2/%s/referrers/%s?artifactType=application/vnd.dev.cosign.artifact.sig.v1%%2Bjson", f->repo,
		 digest_str(dg, ds));
	rc = client_remote_get(f->r, f->repo, path.ptr, MT_OCI_INDEX, REFERRERS_MAX, &body, &st, NULL, e);
	if (rc < 0 && (rc == -BERTH_EINVAL || rc == -BERTH_EUNSUPPORTED))
		rc = 0; /* a registry without the referrers API */
	if (rc < 0 || st != 200)
		goto out;
	root = json_loadb(body.ptr, body.len, 0, NULL);
	arr = json_object_get(root, "manifests");
	if (!json_is_array(arr)) {
		rc = client_err_set(e, -BERTH_EINVAL, "the referrers list of %s is not an OCI index", ds);
		goto out;
	}
	json_array_foreach(arr, i, it)
	{
		const char *at = json_string_value(json_object_get(it, "artifactType"));
		const char *d = json_string_value(json_object_get(it, "digest"));
		struct sign_attachment a;
		struct digest md;
		char *mt = NULL;

		if (!at || strcmp(at, SIGSTORE_ARTIFACT_TYPE) || !d || digest_parse_cstr(d, &md) < 0)
			continue;
		if (++taken > REFERRER_SIGS_MAX)
			break;
		rc = client_remote_manifest_get(f->r, f->repo, d, &man, &mt, &md, e);
		free(mt);
		if (rc < 0)
			goto out;
		sign_attachment_init(&a);
		if (sign_attachment_parse(man.ptr, man.len, &a, why, sizeof(why)) < 0) {
			sign_attachment_release(&a);
			continue; /* not a signature artifact we understand: counted as nothing */
		}
		for (size_t k = 0; k < a.nlayers; k++) {
			struct buf blob;
			buf_init(&blob, SIGN_SIGNATURE_MAX);
			rc = f_blob(f, NULL, &a.layers[k].digest, &blob);
			if (rc == 0) {
				c->sigstore = xrealloc(c->sigstore, (c->nsigstore + 1) * sizeof(*c->sigstore));
				memset(&c->sigstore[c->nsigstore], 0, sizeof(*c->sigstore));
				rc = sign_attachment_layer_sig(&a.layers[k], blob.ptr, blob.len,
							       &c->sigstore[c->nsigstore]);
				if (rc == 0)
					c->nsigstore++;
			}
			buf_release(&blob);
			if (rc < 0) {
				client_err_set(e, rc, "reading referrer signature %s layer %zu: %s", d, k,
					       berth_strerror(rc));
				sign_attachment_release(&a);
				goto out;
			}
		}
		sign_attachment_release(&a);
	}
	rc = 0;
out:
	json_decref(root);
	buf_release(&body);
	buf_release(&path);
	buf_release(&man);
	return rc;
}

int client_sigs_collect(struct client_image *im, const struct registries *registries, const struct digest *dg,
			struct client_sigs *out, struct client_err *e)
{
	struct client_remote *r = client__docker_remote(im);
	struct fetch_ctx f = {.r = r, .repo = im->ref.repo, .o = im->opts};
	struct sign_fetch sf = {
	    .ctx = &f, .manifest = f_manifest, .blob = f_blob, .url = f_url, .extension = f_extension};
	struct sign_ref ref;
	char why[1024];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!r)
		return 0;
	rc = client_sigs_ref(im, &ref, e);
	if (rc < 0)
		return rc;
	rc = sign_collect(registries, &ref, dg, client_remote_supports_signatures(r), &sf, &out->c, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "collecting the signatures of %s: %s", im->name, why);
	out->nattached = out->c.nsigstore;
	rc = collect_referrers(&f, dg, &out->c, e);
	if (rc < 0)
		client_err_wrap(e, "collecting the signatures of %s", im->name);
	return rc;
}

int client_sigs_check(struct client_image *im, const struct policy *p, const struct registries *registries,
		      struct client_sigs *sigs, struct digest *dg, struct client_err *e)
{
	struct buf man, reason;
	struct policy_blob *blobs = NULL;
	struct policy_image img;
	struct sign_ref ref;
	char *mt = NULL;
	int rc;

	memset(sigs, 0, sizeof(*sigs));
	buf_init(&man, CLIENT_MANIFEST_MAX);
	buf_init(&reason, 64 << 10);
	rc = client_image_manifest_get(im, NULL, &man, &mt, dg, e);
	if (rc < 0)
		goto out;
	if (im->ref.transport != REF_DOCKER) {
		memset(&img, 0, sizeof(img));
		img.transport = image_transport_name(im->ref.transport);
		img.manifest = man.ptr;
		img.manifest_len = man.len;
	} else {
		rc = client_sigs_ref(im, &ref, e);
		if (rc == 0)
			rc = client_sigs_collect(im, registries, dg, sigs, e);
		if (rc < 0)
			goto out;
		blobs = xcalloc(sigs->c.nsimple + 1, sizeof(*blobs));
		sign_collected_image(&sigs->c, &ref, man.ptr, man.len, blobs, &img);
	}
	rc = policy_eval(p, &img, &reason);
	if (rc == -BERTH_EDENIED)
		client_err_set(e, rc, "%s rejected by policy: %s", im->name, reason.ptr);
	else if (rc < 0)
		client_err_set(e, rc, "evaluating the policy for %s: %s", im->name,
			       reason.len ? reason.ptr : berth_strerror(rc));
out:
	free(blobs);
	free(mt);
	buf_release(&man);
	buf_release(&reason);
	return rc;
}

void client_sigs_pin(struct client_image *im, const struct digest *dg)
{
	if (im->ref.transport != REF_DOCKER)
		return;
	im->ref.digest = *dg;
	im->ref.has_digest = 1;
}

/* ---------------------------------------------------------------- writing */

/* Uploads data as a blob of repo unless it is there. */
static int blob_put_mem(struct client_image *im, const void *data, size_t n, const char *media_type,
			struct client_err *e)
{
	struct client_remote *r = client__docker_remote(im);
	struct image_desc d;
	int fd, rc;

	memset(&d, 0, sizeof(d));
	digest_of(DIGEST_SHA256, data, n, &d.digest);
	d.size = (int64_t)n;
	d.media_type = (char *)media_type;
	rc = client_remote_blob_exists(r, im->ref.repo, &d, e);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	fd = client_tmpfile(client_tmp_dir(im->opts), e);
	if (fd < 0)
		return fd;
	if (write(fd, data, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) < 0)
		rc = client_err_set(e, -BERTH_EIO, "writing a temporary file: %s", strerror(errno));
	else
		rc = client_remote_blob_upload(r, im->ref.repo, &d, fd, NULL, e);
	close(fd);
	return rc;
}

/* Appends sigs[0..n) to the .sig attachment of dg in im's repository. */
static int attach_sigstore(struct client_image *im, const struct sign_sigstore_sig *sigs, size_t n,
			   const struct digest *dg, struct client_err *e)
{
	struct client_remote *r = client__docker_remote(im);
	struct sign_attachment a;
	struct buf body, path, cfg, man;
	struct digest cd;
	char tag[SIGSTORE_TAG_MAX], why[512], *ct = NULL;
	size_t added = 0;
	long st;
	int rc;

	sign_attachment_init(&a);
	buf_init(&body, SIGN_SIGNATURE_MAX);
	buf_init(&path, BUF_UNLIMITED);
	buf_init(&cfg, SIGN_SIGNATURE_MAX);
	buf_init(&man, SIGN_SIGNATURE_MAX);
	sign_sigstore_tag(dg, tag);
	buf_addf(&path, "/v2/%s/manifests/%s", im->ref.repo, tag);
	rc = client_remote_get(r, im->ref.repo, path.ptr, MT_OCI_MANIFEST, SIGN_SIGNATURE_MAX, &body, &st, &ct, e);
	if (rc < 0)
		goto out;
	if (st == 200 && sign_attachment_parse(body.ptr, body.len, &a, why, sizeof(why)) < 0) {
		rc = client_err_set(e, -BERTH_EINVAL, "the existing attachment %s/%s:%s cannot be extended: %s",
				    im->ref.host, im->ref.repo, tag, why);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = sign_attachment_add(&a, &sigs[i]);
		if (rc < 0) {
			client_err_set(e, rc, "adding a signature layer: %s", berth_strerror(rc));
			goto out;
		}
		if (rc == 1) {
			added++;
			rc = blob_put_mem(im, sigs[i].payload, sigs[i].payload_len, sigs[i].media_type, e);
			if (rc < 0)
				goto out;
		}
	}
	rc = 0;
	if (!added && st == 200)
		goto out; /* every signature was there already */
	if ((rc = sign_attachment_config(&a, &cfg)) < 0) {
		client_err_set(e, rc, "building the attachment config");
		goto out;
	}
	digest_of(DIGEST_SHA256, cfg.ptr, cfg.len, &cd);
	rc = blob_put_mem(im, cfg.ptr, cfg.len, "application/vnd.oci.image.config.v1+json", e);
	if (rc == 0 && (rc = sign_attachment_manifest(&a, &cd, (int64_t)cfg.len, &man)) < 0)
		client_err_set(e, rc, "building the attachment manifest");
	if (rc == 0)
		rc = client_remote_manifest_put(r, im->ref.repo, tag, man.ptr, man.len, MT_OCI_MANIFEST, e);
out:
	free(ct);
	sign_attachment_release(&a);
	buf_release(&body);
	buf_release(&path);
	buf_release(&cfg);
	buf_release(&man);
	return rc;
}

/* Pushes s as an OCI 1.1 referrer of dg (subject: media type and size of the image manifest). */
static int refer_sigstore(struct client_image *im, const struct sign_sigstore_sig *s, const struct digest *dg,
			  const char *subject_mt, int64_t subject_size, struct client_err *e)
{
	struct client_remote *r = client__docker_remote(im);
	struct buf man;
	struct digest md;
	char ds[DIGEST_STR_MAX];
	int rc;

	buf_init(&man, SIGN_SIGNATURE_MAX);
	rc = blob_put_mem(im, s->payload, s->payload_len, s->media_type, e);
	if (rc == 0)
		rc = blob_put_mem(im, "{}", 2, MT_OCI_EMPTY, e);
	if (rc == 0 && (rc = sign_referrer_manifest(s, subject_mt, dg, subject_size, &man)) < 0)
		client_err_set(e, rc, "building the referrer manifest");
	if (rc == 0) {
		digest_of(DIGEST_SHA256, man.ptr, man.len, &md);
		rc = client_remote_manifest_put(r, im->ref.repo, digest_str(&md, ds), man.ptr, man.len, MT_OCI_MANIFEST,
						e);
	}
	buf_release(&man);
	return rc;
}

/* The identity to sign: the given one, else the image's reference with its tag. */
static int sign_identity(struct client_image *im, const char *identity, char out[SIGN_REF_STR_MAX],
			 struct client_err *e)
{
	struct sign_ref ref;
	char why[256];
	int rc;

	if (identity) {
		rc = sign_ref_parse(identity, &ref, why, sizeof(why));
		if (rc < 0)
			return client_err_set(e, rc, "--sign-identity %s: %s", identity, why);
		if (sign_ref_is_name_only(&ref))
			return client_err_set(e, -BERTH_EINVAL, "--sign-identity %s needs a tag or digest", identity);
	} else {
		rc = client_sigs_ref(im, &ref, e);
		if (rc < 0)
			return rc;
		if (!ref.tag[0])
			return client_err_set(
			    e, -BERTH_EINVAL,
			    "%s names a digest, not a tag: give the identity to sign with --sign-identity", im->name);
	}
	sign_ref_string(&ref, out);
	return 0;
}

int client_sigs_sign_sigstore(struct client_image *im, const struct sign_key *k, const char *identity,
			      enum client_sig_attach attach, struct digest *dg_out, struct client_err *e)
{
	struct sign_sigstore_sig s;
	struct buf man;
	struct digest dg;
	char id[SIGN_REF_STR_MAX], *mt = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	buf_init(&man, CLIENT_MANIFEST_MAX);
	if (!client__docker_remote(im))
		return client_err_set(e, -BERTH_EUNSUPPORTED, "berth sign takes a docker:// image, not %s", im->name);
	rc = sign_identity(im, identity, id, e);
	if (rc == 0)
		rc = client_image_manifest_get(im, NULL, &man, &mt, &dg, e);
	if (rc < 0)
		goto out;
	rc = sign_sigstore_create(k, id, &dg, (int64_t)time(NULL), NULL, &s);
	if (rc < 0) {
		client_err_set(e, rc, "signing failed: %s", berth_strerror(rc));
		goto out;
	}
	if (attach == CLIENT_ATTACH_REFERRER)
		rc = refer_sigstore(im, &s, &dg, mt, (int64_t)man.len, e);
	else
		rc = attach_sigstore(im, &s, 1, &dg, e);
	if (rc == 0 && dg_out)
		*dg_out = dg;
out:
	sign_sigstore_sig_release(&s);
	free(mt);
	buf_release(&man);
	return rc;
}

/* Writes data to path/signature-N for the first N (from 1) that does not exist. */
static int lookaside_write(const char *url, const void *sig, size_t n, char **where, struct client_err *e)
{
	struct buf path;
	char *dir;
	int rc = 0, fd = -1;

	if (strncmp(url, "file://", 7))
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "writing signatures to %s is not supported (only file:// lookaside-staging)",
				      url);
	/* url is <base>/<repo>@<alg>=<hex>/signature-1: write into its folder */
	dir = xstrdup(url + 7);
	*strrchr(dir, '/') = '\0';
	for (char *s = dir + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				rc = client_err_set(e, -BERTH_EIO, "creating %s: %s", dir, strerror(errno));
			*s = c;
			if (!c || rc < 0)
				break;
		}
	}
	buf_init(&path, BUF_UNLIMITED);
	for (unsigned i = 1; rc == 0 && i <= SIGN_LOOKASIDE_MAX; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/signature-%u", dir, i);
		fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (rc == 0 && fd < 0)
		rc = client_err_set(e, -BERTH_EIO, "cannot create a signature file in %s: %s", dir, strerror(errno));
	if (rc == 0) {
		if (write(fd, sig, n) != (ssize_t)n || fsync(fd) < 0) {
			rc = client_err_set(e, -BERTH_EIO, "writing %s: %s", path.ptr, strerror(errno));
			unlink(path.ptr);
		} else if (where) {
			*where = xstrdup(path.ptr);
		}
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	buf_release(&path);
	return rc;
}

int client_sigs_put_simple(struct client_image *im, const struct registries *registries, const struct digest *dg,
			   const void *sig, size_t n, char **where, struct client_err *e)
{
	struct client_remote *r = client__docker_remote(im);
	struct sign_ref ref;
	struct buf body, path;
	const char *base;
	long st;
	int rc;

	if (where)
		*where = NULL;
	if (!r)
		return client_err_set(e, -BERTH_EUNSUPPORTED, "%s cannot hold signatures", im->name);
	rc = client_sigs_ref(im, &ref, e);
	if (rc < 0)
		return rc;
	buf_init(&body, SIGN_EXT_LIST_MAX);
	buf_init(&path, BUF_UNLIMITED);
	if (client_remote_supports_signatures(r)) {
		rc = sign_ext_sig_create(dg, sig, n, &body);
		if (rc == 0)
			rc = sign_ext_path(im->ref.repo, dg, &path);
		if (rc < 0)
			client_err_set(e, rc, "building the signature upload");
		else
			rc = client_remote_put(r, im->ref.repo, path.ptr, "application/json", body.ptr, body.len, &st,
					       e);
		if (rc == 0 && where)
			*where = xstrdup("the registry's signature extension API");
		goto out;
	}
	base = registries ? registries_lookaside(registries, &ref, 1) : NULL;
	if (!base) {
		rc = client_err_set(
		    e, -BERTH_EUNSUPPORTED,
		    "%s does not accept simple signatures (no X-Registry-Supports-Signatures) and registries.d "
		    "configures no lookaside-staging for %s",
		    im->ref.host, ref.name);
		goto out;
	}
	rc = registries_lookaside_url(base, &ref, dg, 0, &path);
	if (rc < 0)
		client_err_set(e, rc, "the lookaside URL for %s", ref.name);
	else
		rc = lookaside_write(path.ptr, sig, n, where, e);
out:
	buf_release(&body);
	buf_release(&path);
	return rc;
}

int client_sigs_sign_gpg(struct client_image *im, const struct registries *registries, const char *gnupg_home,
			 const char *key_id, const char *passphrase, const char *identity, struct digest *dg_out,
			 char **where, struct client_err *e)
{
	struct buf man, payload, sig;
	struct digest dg;
	char id[SIGN_REF_STR_MAX], ds[DIGEST_STR_MAX], why[512], *mt = NULL;
	int rc;

	if (!client__docker_remote(im))
		return client_err_set(e, -BERTH_EUNSUPPORTED, "berth sign takes a docker:// image, not %s", im->name);
	buf_init(&man, CLIENT_MANIFEST_MAX);
	buf_init(&payload, SIGN_PAYLOAD_MAX);
	buf_init(&sig, SIGN_SIGNATURE_MAX);
	rc = sign_identity(im, identity, id, e);
	if (rc == 0)
		rc = client_image_manifest_get(im, NULL, &man, &mt, &dg, e);
	if (rc < 0)
		goto out;
	rc = sign_payload_create(SIGN_PAYLOAD_ATOMIC, id, digest_str(&dg, ds),
				 "berth "
				 "0.1.0",
				 (int64_t)time(NULL), &payload);
	if (rc == 0 &&
	    (rc = sign_gpg_sign(gnupg_home, key_id, passphrase, payload.ptr, payload.len, &sig, why, sizeof(why))) < 0)
		client_err_set(e, rc, "signing with GPG key %s: %s", key_id, why);
	if (rc == 0)
		rc = client_sigs_put_simple(im, registries, &dg, sig.ptr, sig.len, where, e);
	if (rc == 0 && dg_out)
		*dg_out = dg;
out:
	free(mt);
	buf_release(&man);
	buf_release(&payload);
	buf_release(&sig);
	return rc;
}

int client_sigs_can_carry(struct client_image *dst, const struct registries *registries, const struct client_sigs *s,
			  struct client_err *e)
{
	struct client_remote *r = client__docker_remote(dst);
	struct sign_ref ref;

	if (!client_sigs_count(s))
		return 0;
	if (!r)
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "%s cannot hold signatures; copy with --remove-signatures to drop them",
				      dst->name);
	if (!s->c.nsimple || client_remote_supports_signatures(r))
		return 0;
	if (client_sigs_ref(dst, &ref, e) < 0)
		return e->code;
	if (!registries || !registries_lookaside(registries, &ref, 1))
		return client_err_set(
		    e, -BERTH_EUNSUPPORTED,
		    "%s has no place for simple signatures (no signature extension API, no registries.d "
		    "lookaside for %s); copy with --remove-signatures to drop them",
		    dst->name, ref.name);
	return 0;
}

int client_sigs_carry(struct client_image *dst, const struct registries *registries, const struct client_sigs *s,
		      const struct digest *dg, struct client_err *e)
{
	struct buf man;
	char *mt = NULL;
	int rc = 0;

	if (!client_sigs_count(s))
		return 0;
	rc = client_sigs_can_carry(dst, registries, s, e);
	for (size_t i = 0; rc == 0 && i < s->c.nsimple; i++)
		rc = client_sigs_put_simple(dst, registries, dg, s->c.simple[i].ptr, s->c.simple[i].len, NULL, e);
	if (rc == 0 && s->nattached)
		rc = attach_sigstore(dst, s->c.sigstore, s->nattached, dg, e);
	if (rc < 0 || s->nattached == s->c.nsigstore)
		return rc;
	buf_init(&man, CLIENT_MANIFEST_MAX);
	{
		struct digest got;
		char ds[DIGEST_STR_MAX];
		rc = client_remote_manifest_get(client__docker_remote(dst), dst->ref.repo, digest_str(dg, ds), &man,
						&mt, &got, e);
	}
	for (size_t i = s->nattached; rc == 0 && i < s->c.nsigstore; i++)
		rc = refer_sigstore(dst, &s->c.sigstore[i], dg, mt, (int64_t)man.len, e);
	free(mt);
	buf_release(&man);
	if (rc < 0)
		client_err_wrap(e, "copying signatures to %s", dst->name);
	return rc;
}
