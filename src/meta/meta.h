/* meta: berth's metadata, behind one interface: repositories, blob links, manifests, tags,
 * referrers and upload sessions. `meta_open("sqlite:PATH")` (or a bare path) is the embedded
 * backend (SQLite, WAL); a PostgreSQL backend will implement the same calls later, so nothing
 * above this header speaks SQL.
 *
 * Invariants: every call is safe from any thread at once; a write either commits whole or not at
 * all; a manifest, its links and its tag change in one transaction. Repositories come into being
 * on their first blob link, manifest or upload. Strings passed in are borrowed.
 *
 * Names (repository, tag, upload uuid) must be non-empty: NULL or "" is -BERTH_EINVAL, as is any NULL
 * required pointer. Every call that fails leaves its outputs empty (NULL lists, n = 0, body NULL).
 * Besides the codes listed per call, any call may return -BERTH_EDB (database failure or a writer
 * still busy after the retries), -BERTH_ENOMEM, or -BERTH_ENOSPC (the disk is full).
 *
 *   struct meta *m; if (meta_open("sqlite:var/berth.db", &m) < 0) ...
 *   meta_blob_link(m, "library/alpine", &d, size);
 *   meta_free(m);
 */
#ifndef BERTH_META_META_H
#define BERTH_META_META_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

struct meta;

/* Opens (creating and migrating as needed) the metadata store at uri: "sqlite:PATH" or PATH.
 * 0 or -BERTH_EDB / -BERTH_EINVAL; -BERTH_EUNSUPPORTED for another backend's URI ("postgres://...",
 * "postgresql:...", any "scheme://"). A database written by a newer berth (higher schema version)
 * is refused with -BERTH_EDB. Free with meta_free(). */
int meta_open(const char *uri, struct meta **out);
/* NULL is a no-op. Call it once no thread uses m any more: it closes every thread's connection. */
void meta_free(struct meta *m);

/* 1 when repo has ever received a blob link, manifest or upload (and still exists), else 0;
 * a negative error when the database fails. */
int meta_repo_exists(struct meta *m, const char *repo);

/* Blob links: which repositories may serve which blob. The bytes live in store/.
 * link is idempotent; get answers 0 with *size, or -BERTH_ENOENT when repo has no such link;
 * unlink answers -BERTH_ENOENT when there was none. */
int meta_blob_link(struct meta *m, const char *repo, const struct digest *d, uint64_t size);
/* Links a freshly committed blob and ends its upload session (uuid may be NULL) in one transaction. */
int meta_blob_commit(struct meta *m, const char *repo, const struct digest *d, uint64_t size, const char *uuid);
int meta_blob_get(struct meta *m, const char *repo, const struct digest *d, uint64_t *size);
int meta_blob_unlink(struct meta *m, const char *repo, const struct digest *d);
/* 1 when any repository links d, any manifest is d, or any manifest lists d as a blob or child
 * (so a blob unlinked while a manifest still uses it is kept); used by garbage collection. */
int meta_blob_referenced(struct meta *m, const struct digest *d);

/* A manifest to store. artifact_type and annotations_json (a JSON object's text) are what the
 * referrers list shows for it; NULL when absent. */
struct meta_manifest_in {
	const char *repo;
	const struct digest *digest;
	const char *media_type;
	const char *artifact_type;
	const char *annotations_json;
	const void *body;
	size_t len;
	const struct digest *subject;       /* NULL when the manifest has no subject */
	const struct digest *blobs;         /* config and layers: each must be linked in repo */
	size_t nblobs;
	const struct digest *manifests;     /* an index's children: each must be a manifest of repo */
	size_t nmanifests;
	const char *tag;                    /* NULL when pushed by digest */
};

/* Stores a manifest in one transaction: checks every blob and child manifest exists in repo; if one
 * does not, writes nothing, copies it to *missing (when missing != NULL), sets *missing_is_manifest
 * and returns -BERTH_ENOENT. Blobs are checked before child manifests, each in array order.
 * Otherwise records the manifest (idempotent for the same digest: the first put's row is kept), and
 * points tag at it (moving the tag if it pointed elsewhere). 0, -BERTH_ENOENT or -BERTH_EDB;
 * -BERTH_EINVAL when media_type is NULL or longer than 255 bytes or tag is "". */
int meta_manifest_put(struct meta *m, const struct meta_manifest_in *in, struct digest *missing,
		      int *missing_is_manifest);

struct meta_manifest {
	struct digest digest;
	char media_type[256];
	uint64_t size;
	void *body; /* malloc()ed when asked for, else NULL; freed by meta_manifest_release() */
};
/* Looks up a manifest of repo by tag or by digest; with want_body the exact stored bytes come too.
 * 0 or -BERTH_ENOENT. */
int meta_manifest_get_by_tag(struct meta *m, const char *repo, const char *tag, int want_body,
			     struct meta_manifest *out);
int meta_manifest_get(struct meta *m, const char *repo, const struct digest *d, int want_body,
		      struct meta_manifest *out);
void meta_manifest_release(struct meta_manifest *mf);

/* Removes manifest d from repo together with every tag pointing at it. 0 or -BERTH_ENOENT.
 * Manifests whose subject is d (its referrers) stay. */
int meta_manifest_delete(struct meta *m, const char *repo, const struct digest *d);
/* Removes one tag; the manifest stays. 0 or -BERTH_ENOENT. */
int meta_tag_delete(struct meta *m, const char *repo, const char *tag);

/* A list of names returned to the caller; free with meta_names_release(). */
struct meta_names {
	char **v;
	size_t n;
};
void meta_names_release(struct meta_names *l);

/* Tags of repo in lexical (byte) order, strictly after `last` when not NULL, at most `limit`
 * (limit < 0: all; 0: none, with *more saying whether any exist). *more is 1 when further tags
 * exist after the last one returned.
 * -BERTH_ENOENT when repo does not exist. */
int meta_tags_list(struct meta *m, const char *repo, const char *last, long limit, struct meta_names *out,
		   int *more);
/* Repository names, same ordering and paging rules. */
int meta_catalog(struct meta *m, const char *last, long limit, struct meta_names *out, int *more);

/* One entry of a referrers list. */
struct meta_desc {
	struct digest digest;
	uint64_t size;
	char *media_type;
	char *artifact_type;    /* NULL when none */
	char *annotations_json; /* NULL when none */
};
/* Manifests of repo whose subject is `subject`, filtered by artifact_type when not NULL, ordered by
 * digest. *out is malloc()ed (free with meta_descs_free); an empty list is 0 with *n = 0 and
 * *out NULL, also when repo does not exist (callers wanting a 404 ask meta_repo_exists()). */
int meta_referrers(struct meta *m, const char *repo, const struct digest *subject, const char *artifact_type,
		   struct meta_desc **out, size_t *n);
void meta_descs_free(struct meta_desc *v, size_t n);

/* Upload sessions survive restarts: uuid -> repository. put replaces an existing uuid's repository.
 * get copies the repository name into repo (size n) and answers 0 or -BERTH_ENOENT, or
 * -BERTH_ETOOBIG when n is too small; delete answers 0 or -BERTH_ENOENT when there was none. */
int meta_upload_put(struct meta *m, const char *uuid, const char *repo);
int meta_upload_get(struct meta *m, const char *uuid, char *repo, size_t n);
int meta_upload_delete(struct meta *m, const char *uuid);
/* The uuids of the sessions recorded at or before created_max (seconds since the epoch), in byte
 * order; the upload sweep's candidates. Free with meta_names_release(). */
int meta_upload_list(struct meta *m, int64_t created_max, struct meta_names *out);

#endif
