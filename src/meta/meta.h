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

/* A check or action a write call runs inside its transaction, once the backend excludes every other
 * writer (SQLite: the database write lock): fn(ctx) returns 0 to go on, or a negative error that
 * rolls the transaction back and is returned. This is how the registry ties a blob file's presence
 * to its metadata rows without a lock of its own (see docs/internals/registry.md, GC). */
struct meta_hook {
	int (*fn)(void *ctx);
	void *ctx;
};

/* Blob links: which repositories may serve which blob. The bytes live in store/.
 * link is idempotent and refreshes the link's time (a blob linked again is young again for garbage
 * collection); get answers 0 with *size, or -BERTH_ENOENT when repo has no such link; unlink answers
 * -BERTH_ENOENT when there was none. link does not check the blob's file: the registry uses commit
 * and mount, which do. */
int meta_blob_link(struct meta *m, const char *repo, const struct digest *d, uint64_t size);
/* Links a freshly committed blob and ends its upload session (uuid may be NULL) in one transaction.
 * present (may be NULL) runs inside it, after the link is written: the registry checks there that the
 * blob's file is still in place, so a collector that removed it a moment ago cannot leave a link to
 * nothing. Its error (-BERTH_ENOENT: the file is gone) is returned and nothing is written. */
int meta_blob_commit(struct meta *m, const char *repo, const struct digest *d, uint64_t size, const char *uuid,
		     const struct meta_hook *present);
/* Links blob d into repo when repository from links it, in one transaction (a cross-repository
 * mount); the size is from's. 0, or -BERTH_ENOENT when from has no such link (nothing written). */
int meta_blob_mount(struct meta *m, const char *repo, const char *from, const struct digest *d);
int meta_blob_get(struct meta *m, const char *repo, const struct digest *d, uint64_t *size);
int meta_blob_unlink(struct meta *m, const char *repo, const struct digest *d);
/* 1 when any repository links d, any manifest is d, or any manifest lists d as a blob or child
 * (so a blob unlinked while a manifest still uses it is kept); used by garbage collection. */
int meta_blob_referenced(struct meta *m, const struct digest *d);

/* --- garbage collection (rules in docs/internals/registry.md) ---
 * `cutoff` is a time in seconds since the epoch: a row created or touched before it is old enough to
 * collect; INT64_MAX makes everything old (no grace). A manifest is live when it is tagged, created at
 * or after cutoff, a child of a live index, or the subject of a live referrer (the subject relation
 * keeps the subject, not the referrer); with delete_untagged 0 every manifest is live. A repository's
 * link to a blob is garbage when it is older than cutoff and no live manifest of that repository
 * uses the blob (config, layer) or is the blob. A blob is garbage when all its links are and no live
 * manifest anywhere uses or is it. */

/* One thing a collection removes (or would): a manifest or link (repo set) or a blob (repo NULL). */
struct meta_gc_item {
	char *repo;
	struct digest digest;
	uint64_t size;
};

/* What a collection would remove now, from one consistent snapshot. Each list is sorted (manifests
 * and links by repository then digest, blobs by digest). Free with meta_gc_plan_release(). */
struct meta_gc_plan {
	struct meta_gc_item *manifests; /* untagged manifests that are not live (delete_untagged only) */
	size_t nmanifests;
	struct meta_gc_item *links; /* garbage repository links, counting the manifests above as gone */
	size_t nlinks;
	struct meta_gc_item *blobs; /* garbage blobs, likewise */
	size_t nblobs;
};
int meta_gc_plan(struct meta *m, int64_t cutoff, int delete_untagged, struct meta_gc_plan *out);
void meta_gc_plan_release(struct meta_gc_plan *p);
/* Deletes, in one transaction, every manifest of repo that is not live (recomputed inside it), with
 * their references. The deleted ones go to *out (repo set; free with meta_gc_items_free). */
int meta_gc_manifests_prune(struct meta *m, const char *repo, int64_t cutoff, struct meta_gc_item **out,
			    size_t *n);
void meta_gc_items_free(struct meta_gc_item *v, size_t n);
/* Deletes, in one transaction, d's garbage links (the rule re-checked inside it against the manifests
 * stored now, all live). The number deleted, or a negative error. */
int meta_gc_blob_unlink(struct meta *m, const struct digest *d, int64_t cutoff);
/* In one write transaction: when nothing names d any more (meta_blob_referenced() would say 0), runs
 * drop (which removes the file) and answers 1; otherwise 0 and drop is not run. drop's error is
 * returned. Because commit and mount run under the same exclusion, no link to d can appear between
 * the check and the removal. */
int meta_blob_forget(struct meta *m, const struct digest *d, const struct meta_hook *drop);

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
