/* registry: the OCI Distribution API's semantics, free of HTTP plumbing. Upload sessions, blob
 * commit, cross-repository mount, manifest put rules, tags, referrers and catalog, over store/
 * (bytes) and meta/ (metadata).
 *
 * Errors come back as a negative BERTH_E* plus a `struct reg_err` naming the spec's error code, the
 * HTTP status the spec gives it, and a one-line message, so http/ only has to write them out.
 *
 *   struct registry *r; registry_open(&opts, &r);
 *   registry_upload_start(r, "library/alpine", uuid, &e);
 *   ... registry_free(r);
 */
#ifndef BERTH_REGISTRY_REGISTRY_H
#define BERTH_REGISTRY_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "meta/meta.h"

struct store;

/* The spec's error codes (distribution-spec "Error Codes"). */
enum reg_code {
	REG_OK = 0,
	REG_BLOB_UNKNOWN,
	REG_BLOB_UPLOAD_INVALID,
	REG_BLOB_UPLOAD_UNKNOWN,
	REG_DIGEST_INVALID,
	REG_MANIFEST_BLOB_UNKNOWN,
	REG_MANIFEST_INVALID,
	REG_MANIFEST_UNKNOWN,
	REG_NAME_INVALID,
	REG_NAME_UNKNOWN,
	REG_SIZE_INVALID,
	REG_UNAUTHORIZED,
	REG_DENIED,
	REG_UNSUPPORTED,
	REG_TOOMANYREQUESTS,
	REG_RANGE_INVALID, /* 416: an upload chunk out of order (code BLOB_UPLOAD_INVALID) */
	REG_STORAGE_FULL, /* 507: no space left (code BLOB_UPLOAD_INVALID or MANIFEST_INVALID) */
	REG_INTERNAL, /* 500: a bug or an unexpected I/O error */
};

struct reg_err {
	enum reg_code code;
	int status;
	char msg[256];
	char detail[160]; /* e.g. the missing digest; empty when none */
};

/* Spec code text ("BLOB_UNKNOWN") for c. */
const char *reg_code_name(enum reg_code c);

struct registry_opts {
	const char *data_dir;
	const char *meta_uri; /* NULL: sqlite:<data_dir>/berth.db */
	uint64_t manifest_max;
	uint64_t blob_max; /* 0: no limit */
	int delete_enabled;
	int64_t reserve_bytes; /* free space kept for metadata; < 0: 5% of the file system, at most 64 MiB */
	int64_t upload_ttl_ms; /* an upload session idle this long is swept; 0: sessions never expire */
	int no_upload_sweep; /* leave uploads/ alone at open: another process (berth serve) owns them */
	int log_pulls; /* journal a "pull" for every manifest GET (custody.log_pulls) */
	int no_sig_extension; /* do not announce the signature extension API (signatures.extension_api: false) */
};

struct registry;
int registry_open(const struct registry_opts *o, struct registry **out, char *why, size_t whyn);
void registry_free(struct registry *r);
struct meta *registry_meta(struct registry *r);
/* The largest manifest accepted, in bytes. */
uint64_t registry_manifest_limit(const struct registry *r);

/* Name and reference grammar from the spec. 1 when valid. */
int registry_name_valid(const char *name);
int registry_tag_valid(const char *tag);

/* Blobs of a repository. 0, or -BERTH_ENOENT with e = BLOB_UNKNOWN. open gives a read-only fd the
 * caller closes. */
int registry_blob_stat(struct registry *r, const char *repo, const struct digest *d, uint64_t *size, struct reg_err *e);
int registry_blob_open(struct registry *r, const char *repo, const struct digest *d, int *fd, uint64_t *size,
		       struct reg_err *e);
int registry_blob_delete(struct registry *r, const char *repo, const struct digest *d, struct reg_err *e);
/* Links blob d, already held by repository from, into repo. 0, or -BERTH_ENOENT when from does not
 * hold it (the caller then starts an ordinary upload). */
int registry_blob_mount(struct registry *r, const char *repo, const char *from, const struct digest *d,
			struct reg_err *e);

/* Upload sessions. A session is used by one request at a time: acquire it, write, then finish or
 * release it. */
struct upload;
/* Starts a session for repo; its id goes to uuid. alg is the hash to run while bytes arrive
 * (sha256 unless the client announced a sha512 digest). An ephemeral session (a monolithic
 * upload, which ends with its one request) is not recorded in meta/ and does not survive a restart. */
int registry_upload_start(struct registry *r, const char *repo, enum digest_alg alg, int ephemeral, char uuid[37],
			  struct upload **u, struct reg_err *e);
/* Takes a session for one request: -BERTH_ENOENT (BLOB_UPLOAD_UNKNOWN) or -BERTH_EBUSY. */
int registry_upload_acquire(struct registry *r, const char *repo, const char *uuid, struct upload **u,
			    struct reg_err *e);
uint64_t registry_upload_size(const struct upload *u);
const char *registry_upload_id(const struct upload *u);
/* Marks the current size as the point to roll back to if this request does not complete. */
int registry_upload_checkpoint(struct upload *u);
/* Undoes everything written since the checkpoint (a request that broke off). */
void registry_upload_rollback(struct upload *u);
/* Appends bytes; -BERTH_ENOSPC (STORAGE_FULL) or -BERTH_ETOOBIG (SIZE_INVALID) on failure, after
 * which the session rolls back to its checkpoint. */
int registry_upload_write(struct upload *u, const void *p, size_t n, struct reg_err *e);
/* Verifies the bytes against d and commits the blob into the session's repository; the session ends
 * (u is released and gone) whether it succeeds or not, except on -BERTH_ENOSPC/-BERTH_EIO, when it is
 * kept so the client may retry. */
int registry_upload_finish(struct registry *r, struct upload *u, const struct digest *d, struct reg_err *e);
/* Gives the session back for later requests. */
void registry_upload_release(struct registry *r, struct upload *u);
/* Cancels a session and removes its bytes. */
int registry_upload_cancel(struct registry *r, const char *repo, const char *uuid, struct reg_err *e);
/* Like cancel, for a session the caller holds (a monolithic upload that failed). */
void registry_upload_abort(struct registry *r, struct upload *u);

/* What an upload sweep removed. */
struct registry_sweep_stats {
	uint64_t sessions; /* expired sessions: file, meta row and in-memory state */
	uint64_t orphans; /* upload files no session owns (a monolithic upload cut off by a crash) */
	uint64_t bytes; /* size of the files removed */
};
/* Expires upload sessions with no request for the TTL of registry_opts (activity: a request
 * acquiring or releasing the session in this process, else the upload file's mtime), and removes
 * upload files that no session owns once they are as old. A session a request holds is never swept;
 * one swept while a request looks it up answers that request BLOB_UPLOAD_UNKNOWN, as if it had never
 * existed. Each session goes meta row first, then file, then memory. Safe to call from any thread,
 * at any time; berth serve runs it on a timer. 0, or the first error met (the sweep goes on past it). */
int registry_upload_sweep(struct registry *r, struct registry_sweep_stats *st);

/* ---- garbage collection (online; the rules and the race argument are in docs/internals/registry.md) ----
 * Safe while requests run, in this process or in a `berth serve` sharing the data directory: every
 * removal is a small metadata transaction that re-checks the rule, then the file goes under the same
 * exclusion as blob commits, so a manifest PUT racing a collection either sees its blobs (and they are
 * kept) or answers MANIFEST_BLOB_UNKNOWN, and no link or manifest ever points at a missing file. */
struct registry_gc_item {
	int is_manifest; /* 1: an untagged manifest (repo set); 0: a blob file */
	int orphan; /* a blob file no metadata named (left by a crash between row and file) */
	const char *repo; /* the manifest's repository; NULL for a blob */
	const struct digest *digest;
	uint64_t size;
};

struct registry_gc_opts {
	int64_t grace_ms; /* keep what was committed, linked, mounted or pushed more recently; 0: none */
	int delete_untagged; /* also remove manifests no tag keeps (Distribution's --delete-untagged) */
	int dry_run; /* change nothing; report what would go */
	/* called for each manifest and blob removed (dry run: that would be); may be NULL */
	void (*report)(void *ctx, const struct registry_gc_item *it);
	void *ctx;
	const atomic_int *stop; /* when not NULL and set, the collection ends early (at the next item) */
};

struct registry_gc_stats {
	uint64_t manifests, manifest_bytes;
	uint64_t links; /* repository links removed */
	uint64_t blobs, blob_bytes; /* blob files removed, orphans included */
	uint64_t orphans;
};

/* One collection. 0, or the first error met (the collection goes on past errors on single items, so
 * one bad file does not keep everything else). */
int registry_gc(struct registry *r, const struct registry_gc_opts *o, struct registry_gc_stats *st);
/* The stats, or one item, as one line of JSON (no newline); the caller free()s it. NULL when out of
 * memory. */
char *registry_gc_stats_json(const struct registry_gc_stats *st, int dry_run);
char *registry_gc_item_json(const struct registry_gc_item *it);

/* Sets a function called (on the request's thread, after the commit) each time a manifest is
 * stored: berth serve wakes the scan workers with it. fn may be NULL. Set before serving. */
void registry_set_manifest_hook(struct registry *r, void (*fn)(void *ctx), void *ctx);

/* Stores a manifest pushed to repo under ref (a tag, or the digest it must hash to). content_type is
 * the request's. On success *digest is the manifest's digest and *subject / *has_subject its subject. */
int registry_manifest_put(struct registry *r, const char *repo, const char *ref, const char *content_type,
			  const void *body, size_t len, struct digest *digest, struct digest *subject, int *has_subject,
			  struct reg_err *e);
/* Looks up by tag or digest text. With want_body the exact bytes. -BERTH_ENOENT (MANIFEST_UNKNOWN),
 * -BERTH_EINVAL (DIGEST_INVALID or MANIFEST_INVALID for a malformed reference). */
int registry_manifest_get(struct registry *r, const char *repo, const char *ref, int want_body,
			  struct meta_manifest *out, struct reg_err *e);
/* Like registry_manifest_get without the pull policies (signatures, grades) and without logging a
 * pull: for reading metadata about a manifest (its scan report). 0 or 1 (ref was a digest), or an error. */
int registry_manifest_lookup(struct registry *r, const char *repo, const char *ref, int want_body,
			     struct meta_manifest *out, struct reg_err *e);
/* DELETE by digest removes the manifest and its tags; by tag removes only the tag. */
int registry_manifest_delete(struct registry *r, const char *repo, const char *ref, struct reg_err *e);

/* Tags of repo, sorted, after last (may be NULL), at most limit (< 0: all). NAME_UNKNOWN when the
 * repository does not exist. */
int registry_tags(struct registry *r, const char *repo, const char *last, long limit, struct meta_names *out, int *more,
		  struct reg_err *e);
/* Repository names, same paging. */
int registry_catalog(struct registry *r, const char *last, long limit, struct meta_names *out, int *more,
		     struct reg_err *e);
/* Manifests in repo whose subject is d, optionally of one artifactType. */
int registry_referrers(struct registry *r, const char *repo, const struct digest *d, const char *artifact_type,
		       struct meta_desc **out, size_t *n, struct reg_err *e);

/* ---- custody: enforcement, journal hook, signature extension API ---- */

struct registry_policy;
struct buf;
/* Installs the signature requirements and immutable tags (registry/policy.h); r owns p afterwards
 * and frees any previous policy. NULL removes them. Call before serving. */
void registry_set_policy(struct registry *r, struct registry_policy *p);
struct grading;
/* Installs the grade rules and the pull rules on grades (registry/grading.h); r owns g afterwards.
 * NULL: default rules, no gating. Call before serving. */
void registry_set_grading(struct registry *r, struct grading *g);
/* The installed grading (borrowed), or NULL. */
struct grading *registry_grading(struct registry *r);
/* fn(arg) runs after every write that appended to the journal (push, tag, delete, signature, GC,
 * pull when logged), on the request's thread: berth serve wakes webhook delivery with it. */
void registry_set_event_hook(struct registry *r, void (*fn)(void *arg), void *arg);

/* 1 when /v2/ announces X-Registry-Supports-Signatures (containers/image then stores and reads simple
 * signatures through the extension API instead of a registries.d lookaside). */
int registry_signatures_announced(const struct registry *r);

#define REGISTRY_SIGNATURE_MAX (64u << 10) /* bytes of one simple signature */

/* The extension API's GET answer {"signatures":[...]} for manifest d of repo, appended to out (an
 * empty list when it has none). MANIFEST_UNKNOWN (404) when repo has no manifest d. */
int registry_signatures_get(struct registry *r, const char *repo, const struct digest *d, struct buf *out,
			    struct reg_err *e);
/* Stores the signatures of a PUT body: one signature object (what containers/image sends) or a
 * {"signatures": [...]} list. Each needs schemaVersion 2, type "atomic", name "<d>@<id>" and base64
 * content of at most REGISTRY_SIGNATURE_MAX bytes that starts like an OpenPGP message; identical
 * content is stored once. *added is how many were new. 400 MANIFEST_INVALID for a bad body, 404
 * MANIFEST_UNKNOWN when the manifest is not in repo, 413 past SIGN_EXT_LIST_MAX. */
int registry_signature_put(struct registry *r, const char *repo, const struct digest *d, const void *body, size_t len,
			   int *added, struct reg_err *e);
/* Removes the signature called name (journaled). 404 when there is none. */
int registry_signature_delete(struct registry *r, const char *repo, const struct digest *d, const char *name,
			      struct reg_err *e);

#endif
