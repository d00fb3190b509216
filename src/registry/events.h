/* events: the "scan" and "grade" rows of the custody journal (docs/internals/grade.md, "Grade
 * events"). They are appended with meta_event_append() after the change they record has committed,
 * and reach webhooks like every journal row.
 *
 *   scan  {"status", "os", "findings": entries, "advisories": distinct ids, "new": [ids not seen before]}
 *         when the set of advisory ids of a manifest's findings changed (a scan or a re-match).
 *   grade {"from", "to", "date", "next_drop_date", "errata": [ids earning the new letter]}
 *         when a manifest's grade for today differs from the last one recorded (table grade_state);
 *         the first grade of a manifest is recorded without an event.
 *
 *   char *ids; events_advisory_ids(old_findings, &ids);   ... store the new findings ...
 *   events_scan_append(m, repo, &d, "scanned", "debian:12", ids, new_findings, &appended);
 *   events_grade_check(rules, m, grade_day_today(), &n);
 */
#ifndef BERTH_REGISTRY_EVENTS_H
#define BERTH_REGISTRY_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "grade/grade.h"

struct meta;

/* The sorted distinct "advisory" values of a findings JSON array's text (NULL or "" means none) as a
 * compact JSON array's text, malloc()ed in *out. 0, -BERTH_EINVAL (not an array), -BERTH_ENOMEM. */
int events_advisory_ids(const char *findings, char **out);

/* Journals "scan" for manifest d of repo when the advisory ids of findings (a JSON array's text, NULL
 * for none) differ from old_ids (events_advisory_ids() text of the previous findings; NULL when the
 * manifest had none). status and os (may be NULL) go into the detail. *appended (may be NULL) is 1
 * when a row was written. 0, -BERTH_EINVAL (findings or old_ids not arrays), or meta's error. */
int events_scan_append(struct meta *m, const char *repo, const struct digest *d, const char *tag, const char *status,
		       const char *os, const char *old_ids, const char *findings, int *appended);

/* Grades manifest d of repo on day (grading_image, no exceptions) and compares the letter with the
 * recorded one: none recorded -> recorded silently; different -> "grade" journaled (tag may be NULL)
 * and the new letter recorded. An image with no grade (queued, unsupported, failed) is left alone.
 * Serialized within the process, so two threads do not journal the same change twice. *journaled (may
 * be NULL) is 1 when a row was written. 0 or a negative error. */
int events_grade_one(const struct grade_rules *r, struct meta *m, const char *repo, const struct digest *d,
		     const char *tag, int32_t day, int *journaled);

/* events_grade_one() for every tag of every repository (a manifest tagged several times, or in several
 * repositories, is compared once, under its first repository and tag in name order). *journaled (may
 * be NULL) gets the number of "grade" rows written. 0 or the first error. */
int events_grade_check(const struct grade_rules *r, struct meta *m, int32_t day, uint64_t *journaled);

/* One manifest whose findings a re-match replaced (strings borrowed). */
struct events_change {
	char digest[DIGEST_STR_MAX]; /* "alg:hex" */
	const char *old_ids; /* events_advisory_ids() of the previous findings, NULL: none */
	const char *os;
	const char *findings; /* the new findings */
};
/* Journals "scan" (events_scan_append) for each of v[0..n) whose advisory ids changed, under the first
 * repository and tag (name order) where it is tagged; v is sorted here by digest. A manifest tagged
 * nowhere (an index's child, an untagged push) has no repository to file the row under and is skipped.
 * Costs one walk of the tags and a binary search per tag. *journaled (may be NULL) gets the rows
 * written. 0 or the first error. */
int events_rematch_journal(struct meta *m, struct events_change *v, size_t n, uint64_t *journaled);

#endif
