/* meta: berth's metadata, behind one interface: repositories, blob links, manifests, tags,
 * referrers, upload sessions, and security errata with their feeds' sync state. `meta_open("sqlite:PATH")` (or a bare path) is the embedded
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
 * or after cutoff, a child of a live index, the subject of a live referrer, or a referrer of a live
 * manifest (a kept image keeps its signatures); with delete_untagged 0 every manifest is live. A repository's
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
 * their references, journaling one "gc-delete" per manifest. The deleted ones go to *out (repo set; free with meta_gc_items_free). */
int meta_gc_manifests_prune(struct meta *m, const char *repo, int64_t cutoff, struct meta_gc_item **out, size_t *n);
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
	const struct digest *subject; /* NULL when the manifest has no subject */
	const struct digest *blobs; /* config and layers: each must be linked in repo */
	size_t nblobs;
	const struct digest *manifests; /* an index's children: each must be a manifest of repo */
	size_t nmanifests;
	const char *tag; /* NULL when pushed by digest */
	int tag_protected; /* 1: moving an existing tag to another digest is refused */
};

/* Stores a manifest in one transaction: checks every blob and child manifest exists in repo; if one
 * does not, writes nothing, copies it to *missing (when missing != NULL), sets *missing_is_manifest
 * and returns -BERTH_ENOENT. Blobs are checked before child manifests, each in array order.
 * Otherwise records the manifest (idempotent for the same digest: the first put's row is kept), and
 * points tag at it (moving the tag if it pointed elsewhere). With tag_protected, a tag that exists and
 * points at another digest is not moved: -BERTH_EDENIED and nothing is written.
 * In the same transaction the journal records (see "journal" below): a new manifest -> "push" (tag set
 * when pushed by tag; detail {"from": old digest} when that moved the tag, else {"from": null});
 * an existing manifest given a new tag -> "tag" {"from": null}; moved onto it -> "tag" {"from": old};
 * an identical re-put -> nothing. 0, -BERTH_ENOENT, -BERTH_EDENIED or -BERTH_EDB;
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

/* Removes manifest d from repo together with every tag pointing at it, journaling "delete" with
 * detail {"tags": [the removed tags, sorted]}. 0 or -BERTH_ENOENT.
 * Manifests whose subject is d (its referrers) stay. */
int meta_manifest_delete(struct meta *m, const char *repo, const struct digest *d);
/* Removes one tag, journaling "untag" (digest: where it pointed); the manifest stays. 0 or -BERTH_ENOENT. */
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
int meta_tags_list(struct meta *m, const char *repo, const char *last, long limit, struct meta_names *out, int *more);
/* Repository names, same ordering and paging rules. */
int meta_catalog(struct meta *m, const char *last, long limit, struct meta_names *out, int *more);

/* One entry of a referrers list. */
struct meta_desc {
	struct digest digest;
	uint64_t size;
	char *media_type;
	char *artifact_type; /* NULL when none */
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

/* --- errata -------------------------------------------------------------------------------------
 * Security advisories (errata) imported from feeds (src/errata). An erratum is keyed by its id
 * ("DSA-5310-1", "ALSA-2024:0003"); the source that first stored an id owns it. Releases are the
 * normalized keys of docs/internals/errata.md ("debian:11", "almalinux:8", "alpine:3.11").
 * Every import that changes anything bumps one store-wide generation number, so a matcher can tell
 * whether it must re-match stored images. */

enum meta_erratum_type { META_ERRATUM_SECURITY = 0, META_ERRATUM_BUGFIX, META_ERRATUM_ENHANCEMENT };
/* Ordered: a higher value is more severe. */
enum meta_severity { META_SEV_UNKNOWN = 0, META_SEV_LOW, META_SEV_MODERATE, META_SEV_IMPORTANT, META_SEV_CRITICAL };
/* What an affected entry says about one package in one release. FIXED: versions before `fixed`
 * (and from `introduced`, when given) are affected. UNFIXED: affected with no fix yet (from
 * `introduced`, up to `last_affected` when given). NOT_AFFECTED: the source says this release is
 * not affected. END_OF_LIFE: affected, and the release gets no fix (out of security support). */
enum meta_pkg_status { META_PKG_FIXED = 0, META_PKG_UNFIXED, META_PKG_NOT_AFFECTED, META_PKG_END_OF_LIFE };

/* One affected package of one release. Strings are owned by the enclosing erratum. */
struct meta_erratum_pkg {
	char *release; /* "debian:11" */
	char *package; /* as the source names it */
	int binary; /* 1: a binary package name (rpm); 0: a source package (dpkg Source, apk origin) */
	enum meta_pkg_status status;
	char *introduced; /* NULL: affected from the first version */
	char *fixed; /* NULL unless status is FIXED */
	char *last_affected; /* NULL unless the source gives one (OSV last_affected) */
};

/* One advisory. Every string is malloc()ed and owned by the struct (meta_erratum_release frees it);
 * optional ones are NULL when absent. Times are seconds since the epoch, UTC. */
struct meta_erratum {
	char *id;
	char *source; /* the importer that produced it: "debian-tracker", "osv", "alpine-secdb" */
	enum meta_erratum_type type;
	enum meta_severity severity;
	int64_t issued; /* when issued_known is 0 the store answers first_seen here */
	int issued_known; /* 1: the source gave the date */
	int64_t modified; /* 0: the source gives none */
	int64_t withdrawn; /* 0: not withdrawn */
	char *summary;
	char *details;
	char **cves; /* sorted, unique "CVE-YYYY-N" */
	size_t ncves;
	char **refs; /* URLs and non-CVE identifiers (XSA-254) in source order */
	size_t nrefs;
	struct meta_erratum_pkg *pkgs;
	size_t npkgs;
	char hash[65]; /* content hash (lower-case sha256 hex) set by the importer */
	/* Set by the store on reads; ignored on writes. */
	int64_t first_seen, updated, generation;
};
/* Frees every string and array of e and zeroes it; NULL and a zeroed struct are fine. */
void meta_erratum_release(struct meta_erratum *e);
/* Frees an array of n errata returned by a list call. */
void meta_errata_free(struct meta_erratum *v, size_t n);

/* Names used in storage, the CLI and the API ("security", "Important", "not-affected"), and back.
 * The parse calls answer 0 or -BERTH_EINVAL; severity names compare case-insensitively. */
const char *meta_erratum_type_name(enum meta_erratum_type t);
const char *meta_severity_name(enum meta_severity s);
const char *meta_pkg_status_name(enum meta_pkg_status s);
int meta_erratum_type_parse(const char *s, enum meta_erratum_type *out);
int meta_severity_parse(const char *s, enum meta_severity *out);
int meta_pkg_status_parse(const char *s, enum meta_pkg_status *out);

/* What meta_errata_put did with one erratum. */
enum meta_put_result {
	META_PUT_UNCHANGED = 0, /* stored with the same hash: nothing written */
	META_PUT_ADDED,
	META_PUT_UPDATED, /* the hash differed: rewritten, first_seen kept */
	META_PUT_CONFLICT, /* the id belongs to another source: left alone */
};

/* Stores v[0..n) in one transaction: an unknown id is added, a known one with another hash is
 * rewritten (its first_seen kept), an equal hash writes nothing, and an id owned by another source
 * is left alone. res[i] (res may be NULL) says which. When anything was added or updated, the errata
 * generation goes up by exactly one and every changed erratum records it. *generation (may be NULL)
 * is the generation afterwards. Each erratum needs id, source, summary-or-NULL and a 64-hex hash;
 * else -BERTH_EINVAL and nothing is written. */
int meta_errata_put(struct meta *m, const struct meta_erratum *v, size_t n, enum meta_put_result *res,
		    int64_t *generation);
/* The errata generation: 0 before any import, then one more for every import that changed something. */
int meta_errata_generation(struct meta *m, int64_t *generation);
/* The full erratum id: 0, or -BERTH_ENOENT. out is released by the caller with meta_erratum_release(). */
int meta_errata_get(struct meta *m, const char *id, struct meta_erratum *out);

/* Filters for meta_errata_list; NULL / -1 fields do not filter. */
struct meta_errata_filter {
	const char *release; /* has an affected entry for this release */
	const char *package; /* has an affected entry naming this package */
	const char *cve; /* lists this CVE */
	int severity; /* an enum meta_severity, or -1 */
	int type; /* an enum meta_erratum_type, or -1 */
	const char *last; /* the id the previous page ended with */
	long limit; /* < 0: all */
};
/* Errata matching f, newest first (issued descending, then id in byte order), after f->last and at
 * most f->limit, with their CVEs and affected packages but without details. *more is 1 when more
 * follow. A `last` that names no stored erratum is -BERTH_ENOENT. Free *out with meta_errata_free(). */
int meta_errata_list(struct meta *m, const struct meta_errata_filter *f, struct meta_erratum **out, size_t *n,
		     int *more);

/* One affected entry found by meta_errata_affecting, with the erratum's headline facts. */
struct meta_errata_hit {
	char *id;
	enum meta_erratum_type type;
	enum meta_severity severity;
	int64_t issued; /* first_seen when the source gave no date */
	struct meta_erratum_pkg pkg;
};
/* Every affected entry of a non-withdrawn erratum for release and any of the package names
 * pkgs[0..npkgs), ordered by package, then erratum id. One read transaction, one indexed lookup per
 * name. Callers ask with source names for entries whose pkg.binary is 0 and binary names for those
 * whose pkg.binary is 1. Free *out with meta_errata_hits_free(). */
int meta_errata_affecting(struct meta *m, const char *release, const char *const *pkgs, size_t npkgs,
			  struct meta_errata_hit **out, size_t *n);
void meta_errata_hits_free(struct meta_errata_hit *v, size_t n);
/* Ids of the errata added or updated by imports with a generation above `since`, in id order. */
int meta_errata_changed_since(struct meta *m, int64_t since, struct meta_names *out);

/* Remembered state of one errata feed (a URL or a path): HTTP validators and the hash of the
 * content last imported. Strings are malloc()ed, NULL when absent. */
struct meta_feed_state {
	char *etag;
	char *last_modified;
	char *content_hash;
	int64_t checked; /* last attempt */
	int64_t changed; /* last import that found new content */
};
/* 0 with *out filled, or -BERTH_ENOENT for a feed never synced. Release with meta_feed_state_release. */
int meta_feed_get(struct meta *m, const char *feed, struct meta_feed_state *out);
/* Records st for feed (replacing what was there). */
int meta_feed_put(struct meta *m, const char *feed, const struct meta_feed_state *st);
void meta_feed_state_release(struct meta_feed_state *st);

/* --- journal (custody log) -----------------------------------------------------------------------
 * Every change of custody is one row of an append-only journal, written in the same transaction as
 * the change it records (manifest put, tag move, deletes, signatures, GC) so a committed change always
 * has its row and a rolled-back one never does. seq counts 1, 2, 3... without gaps. Each row keeps
 * `entry`, the canonical text of {action, detail, digest, prev, repo, seq, tag, time} (compact JSON,
 * keys sorted, see meta_event_entry()), and `hash` = "sha256:" + hex(SHA-256(entry)); `prev` is the
 * previous row's hash (NULL for seq 1). Editing any row breaks its hash or the next row's prev:
 * src/custody verifies the chain. The rows also feed webhook delivery (src/notify). */

#define META_EVENT_HASH_MAX 72 /* "sha256:" + 64 hex + NUL */

/* One journal row. Every string is malloc()ed and owned by the struct; digest, tag, detail and
 * prev may be NULL. detail is a JSON object's compact, key-sorted text. */
struct meta_event {
	int64_t seq;
	int64_t time_ms; /* milliseconds since the epoch, UTC */
	char *action;
	char *repo;
	char *digest;
	char *tag;
	char *detail;
	char *prev;
	char *entry;
	char *hash;
};
void meta_event_release(struct meta_event *ev);
void meta_events_free(struct meta_event *v, size_t n);

/* The canonical entry text of ev's columns (seq, time_ms, action, repo, digest, tag, detail parsed
 * as JSON, prev) into a malloc()ed string *out; what the journal stores and hashes. -BERTH_EINVAL
 * when detail is not a JSON object's text, -BERTH_ENOMEM. */
int meta_event_entry(const struct meta_event *ev, char **out);
/* "sha256:" + hex(SHA-256(entry)) into out. */
void meta_event_hash(const char *entry, char out[META_EVENT_HASH_MAX]);

/* Appends one event in its own transaction, for modules whose change is not a meta write (a scan
 * result, a grade change, a pull): it is appended after that change, not atomically with it.
 * action and repo are required; digest, tag and detail_json (a JSON object's text) may be NULL.
 * *seq (may be NULL) gets the new row's seq. 0, -BERTH_EINVAL (bad detail), -BERTH_EDB. */
int meta_event_append(struct meta *m, const char *action, const char *repo, const struct digest *digest,
		      const char *tag, const char *detail_json, int64_t *seq);

/* Which rows meta_events_list returns: seq > after, repo equal when repo != NULL, digest equal when
 * digest != NULL, at most limit (< 0: all), in seq order. */
struct meta_event_filter {
	int64_t after;
	const char *repo;
	const char *digest;
	long limit;
};
/* Rows matching f, with their stored columns exactly as read (so verification sees edits). *more is
 * 1 when further rows match (may be NULL). Free *out with meta_events_free(). */
int meta_events_list(struct meta *m, const struct meta_event_filter *f, struct meta_event **out, size_t *n, int *more);
/* The last row's seq and hash (0 and "" for an empty journal). */
int meta_event_head(struct meta *m, int64_t *seq, char hash[META_EVENT_HASH_MAX]);

/* Webhook delivery cursors: the last seq an endpoint acknowledged. get answers 0 with 0 for an
 * endpoint never seen. */
int meta_notify_cursor_get(struct meta *m, const char *endpoint, int64_t *seq);
int meta_notify_cursor_set(struct meta *m, const char *endpoint, int64_t seq);

/* --- simple signatures (the signature extension API) ----------------------------------------------
 * OpenPGP simple signatures of a manifest, stored per repository and manifest digest, each with the
 * name the client gave it ("<digest>@<id>"). Identical content is stored once. */

#define META_SIGNATURES_MAX 64 /* signatures kept per manifest */

struct meta_signature {
	char *name;
	unsigned char *content;
	size_t len;
	int64_t created;
};
void meta_signatures_free(struct meta_signature *v, size_t n);

/* Stores a signature of manifest d of repo, journaling "signature" with detail
 * {"op": "add", "name": name, "sha256": hex of the content}. *added (may be NULL) is 1 when stored,
 * 0 when identical content was there already (nothing written, no event). -BERTH_ENOENT when repo has
 * no manifest d, -BERTH_ETOOBIG when it has META_SIGNATURES_MAX signatures already. */
int meta_signature_put(struct meta *m, const char *repo, const struct digest *d, const char *name, const void *content,
		       size_t len, int *added);
/* The signatures of manifest d of repo in the order they were stored. -BERTH_ENOENT when repo has no
 * manifest d. Free with meta_signatures_free(). */
int meta_signatures_list(struct meta *m, const char *repo, const struct digest *d, struct meta_signature **out,
			 size_t *n);
/* Removes the signature called name, journaling "signature" {"op": "remove", ...}. 0 or -BERTH_ENOENT. */
int meta_signature_delete(struct meta *m, const char *repo, const struct digest *d, const char *name);

/* --- scans (docs/internals/scan.md) ----------------------------------------------------------------
 * Layer index results keyed by layer digest (computed once, shared by every image and repository),
 * image scans keyed by manifest digest, and a durable queue of manifests to scan. A manifest is
 * queued by a trigger in the same transaction that stores it (when no scan of that digest exists),
 * so a crash cannot lose a scan; the queue outlives restarts. */

/* One queued manifest: the repository to read its blobs through, and its digest. */
struct meta_scan_job {
	char repo[256];
	struct digest digest;
};
/* Takes the oldest unclaimed job and marks it claimed. 0 with *job, or -BERTH_ENOENT when none. */
int meta_scan_claim(struct meta *m, struct meta_scan_job *job);
/* Makes every claimed job claimable again (at start: the jobs a stopped process held). */
int meta_scan_requeue(struct meta *m);
/* Queues digest (of repo) again unless it is queued already; its stored scan stays until replaced. */
int meta_scan_enqueue(struct meta *m, const char *repo, const struct digest *d);
/* 1 when digest is queued, else 0. */
int meta_scan_queued(struct meta *m, const struct digest *d);

/* A layer's stored index: the bytes of scan_layer_encode(), or why it failed (blob NULL). get gives
 * malloc()ed copies (free()d by the caller); -BERTH_ENOENT when the layer was never indexed. */
int meta_scan_layer_get(struct meta *m, const struct digest *d, void **blob, size_t *n, char **why);
int meta_scan_layer_put(struct meta *m, const struct digest *d, const void *blob, size_t n, const char *why);
/* Layers indexed so far (a figure for tests and metrics). */
int meta_scan_layer_count(struct meta *m, int64_t *n);

/* One image's stored scan. Strings and packages are malloc()ed, released by meta_scan_release. */
struct meta_scan {
	struct digest digest;
	char *status; /* "scanned", "unsupported", "failed" */
	char *why; /* NULL unless unsupported or failed */
	char *os; /* release key ("debian:12") or NULL */
	char *pretty; /* PRETTY_NAME or NULL */
	char *layers; /* JSON array text of the layer digests, bottom first */
	void *packages; /* scan_pkgs_encode() bytes, NULL when none */
	size_t packages_len;
	int64_t generation; /* errata generation the findings were matched at; -1: never matched */
	char *findings; /* JSON array text, NULL before matching */
	int64_t updated;
};
void meta_scan_release(struct meta_scan *s);
/* Stores (replacing) the scan of s->digest and removes its queue row, in one transaction. */
int meta_scan_put(struct meta *m, const struct meta_scan *s);
/* 0 with *out, or -BERTH_ENOENT. */
int meta_scan_get(struct meta *m, const struct digest *d, struct meta_scan *out);
/* Calls fn for every scanned image whose generation is below gen (digest, os, packages set; the
 * struct is valid only during the call), from one read snapshot; fn's negative return stops it. */
int meta_scan_each_stale(struct meta *m, int64_t gen, int (*fn)(void *ctx, const struct meta_scan *s), void *ctx);
/* Sets findings and generation of v[0..n) (matched by digest) in one transaction. */
int meta_scan_findings_put(struct meta *m, const struct meta_scan *v, size_t n);

/* --- grade state (docs/internals/grade.md, "Grade events") -----------------------------------------
 * The last grade letter ('A'..'F') recorded for a manifest digest and the day (days since
 * 1970-01-01) it was computed for. get: 0, or -BERTH_ENOENT when none was recorded. set replaces. */
int meta_grade_state_get(struct meta *m, const struct digest *d, char *grade, int32_t *day);
int meta_grade_state_set(struct meta *m, const struct digest *d, char grade, int32_t day);

#endif
