/* custody: reading the custody log, the hash-chained journal that meta writes with every change of
 * custody (push, tag moves, deletes, signatures, GC, scan results, grade changes, pulls when
 * configured). This module proves the chain unbroken, exports it as JSON lines and answers one image's
 * history. It never writes: the rows are appended by meta in the transactions that make the changes
 * (meta.h, "journal"). What a hash chain does and does not protect against: docs/internals/custody.md.
 *
 *   struct custody_verify_result v;
 *   custody_verify(m, expect_head_or_NULL, &v);   // v.ok, v.bad_seq, v.why, v.head
 *   custody_export(m, "team/app", 0, 100, &buf, &last, &more);
 */
#ifndef BERTH_CUSTODY_CUSTODY_H
#define BERTH_CUSTODY_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "meta/meta.h"

struct custody_verify_result {
	int ok; /* 1: every check passed */
	int64_t count; /* rows read */
	int64_t head_seq; /* the last row's seq (0: empty journal) */
	char head[META_EVENT_HASH_MAX]; /* the last row's stored hash ("" when empty) */
	int64_t bad_seq; /* the first row whose check failed (0 when ok or only the
					     expected head is missing) */
	int expect_found; /* the expected head is some row's hash */
	char why[256]; /* one line when !ok */
};

/* Reads the whole journal in seq order and checks, row by row: seq is the previous one plus one
 * (from 1), prev is the previous row's hash (NULL for the first), the columns rebuild exactly the
 * stored entry text, and hash is SHA-256 of the entry text. Stops at the first failure and names
 * that row in r->bad_seq. expect_head (may be NULL) is a head recorded earlier: it must still be the
 * hash of some row, else the log was rewritten from there on (or truncated). Returns 0 with r filled
 * (r->ok says whether the log verified), or a negative error when the journal cannot be read. */
int custody_verify(struct meta *m, const char *expect_head, struct custody_verify_result *r);

/* One row as a JSON object's text (no newline): seq, time (ms), action, repo, digest, tag, detail
 * (an object or null), prev and hash, keys sorted. Appended to out. */
int custody_event_json(const struct meta_event *ev, struct buf *out);

/* Appends the rows with seq > after (of repo when not NULL), at most limit (< 0: all), one JSON object
 * per line, to out. *last (may be NULL) gets the last seq written (after when none), *more (may be
 * NULL) whether more rows follow. */
int custody_export(struct meta *m, const char *repo, int64_t after, long limit, struct buf *out, int64_t *last,
		   int *more);

/* One image's history: the rows of repo about digest d (push, signature, delete, pulls...) and the
 * tag moves that took one of its tags elsewhere (a "tag" or "push" row whose detail.from is d), in
 * seq order. tags (may be NULL) gets every tag that ever pointed at d, sorted. Free *out with
 * meta_events_free() and tags with meta_names_release(). */
int custody_history(struct meta *m, const char *repo, const struct digest *d, struct meta_event **out, size_t *n,
		    struct meta_names *tags);

/* Which manifest a tag names, for history: the tag's current digest, else the last digest the
 * journal saw it point at (a deleted or moved tag). 0 with *d, or -BERTH_ENOENT. */
int custody_resolve_tag(struct meta *m, const char *repo, const char *tag, struct digest *d);

#endif
