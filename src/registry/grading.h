/* grading: Container Health Index grades of stored images (grade/ applied to stored scans), the
 * pull policies that act on them, and a cache so a gated manifest GET does not re-read findings.
 *
 * A grade is a pure function of (findings, rules, day, exceptions): grading_report() turns a scan's
 * findings JSON (scanner_findings_json's shape) into the grade object the API, the CLI and the
 * policies share. Configuration (flattened YAML keys, see docs/internals/grade.md):
 *
 *   grade.critical_days "7,30,90,365"   grade.important_days "30,90,365,365"
 *   grade.unknown_severity important|critical|ignore
 *   policy.grades.<rule>.repositories "team/?*" (a glob or a list of globs)
 *   policy.grades.<rule>.min_grade    "E"      (the worst letter still served)
 *   policy.grades.<rule>.unscanned    deny|allow  (default deny: "not scanned yet")
 *   policy.grades.<rule>.exceptions   ["DSA-5000-1 until 2027-01-31: vendor fix pending", ...]
 *
 *   struct grading *g; grading_load(&cfg, &g, why, sizeof why);
 *   grading_pull_check(g, meta, "team/app", &digest, grade_day_today(), why, sizeof why);
 *   grading_free(g);
 */
#ifndef BERTH_REGISTRY_GRADING_H
#define BERTH_REGISTRY_GRADING_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "grade/grade.h"

struct config;
struct meta;

/* One exception of a pull rule: an advisory id or a CVE id that does not count up to and including
 * until_day. Strings are owned (grading_exception_release). */
struct grading_exception {
	char *id;
	int32_t until_day;
	char *reason;
};

/* Parses "ID until YYYY-MM-DD: reason" (the reason may be empty; "ID until DATE" alone is allowed).
 * 0, or -BERTH_EINVAL with one line in why (no "until", bad date, empty or odd id). */
int grading_exception_parse(const char *s, struct grading_exception *out, char *why, size_t whyn);
void grading_exception_release(struct grading_exception *e);

/* 1 when c is one of 'A'..'F'. Letters order A (best) < F (worst). */
int grading_letter_valid(char c);

/* The grade object of findings (a JSON array's text; NULL means none) on day, as compact JSON text
 * (malloc()ed) in *out:
 *   {"grade", "date", "counted", "unknown_severity": "important|critical|ignore",
 *    "graded_unknown": [advisory ids of unknown severity that counted],
 *    "errata": [{"advisory", "severity", "graded_as", "issued", "age_days", "grade", "cves", "packages"}]
 *        (counted errata, worst letter first, then oldest),
 *    "excepted": [{"advisory", "id", "until", "reason"}],
 *    "next_drop_date" (null when none), "freshness": [{"grade", "start_date", "end_date"|null}]}
 * Exceptions ex[0..nex) in force on day (day <= until_day) remove the errata whose id or a CVE they
 * name. *letter (may be NULL) gets the grade. 0, -BERTH_EINVAL (findings not an array), -BERTH_ENOMEM. */
int grading_report(const struct grade_rules *r, const char *findings, int32_t day, const struct grading_exception *ex,
		   size_t nex, char **out, char *letter);

struct grading;

/* Reads grade.* and policy.grades.* from c. 0, or -BERTH_EINVAL with one line in why naming the key
 * (a bad table, an unknown letter, a bad exception). *out is never NULL on success. */
int grading_load(const struct config *c, struct grading **out, char *why, size_t whyn);
void grading_free(struct grading *g);
/* The rules (borrowed; valid while g lives). */
const struct grade_rules *grading_rules(const struct grading *g);
/* Number of pull rules. */
size_t grading_rule_count(const struct grading *g);

/* Tells the cache that stored findings changed (a scan stored, a re-match): cached answers are
 * dropped. Thread-safe. NULL is a no-op. */
void grading_invalidate(struct grading *g);

/* What an image (manifest d of repo; an index through its children's scans) grades on day with the
 * rules of g and exceptions ex. *letter is 'A'..'F', or 0 when the image has no grade (not scanned
 * yet, unsupported, failed): then *status says which ("queued", "unsupported", "failed").
 * *report (may be NULL) gets grading_report()'s text for the worst image (NULL when no grade).
 * 0 or a negative error. */
int grading_image(const struct grade_rules *r, struct meta *m, const char *repo, const struct digest *d, int32_t day,
		  const struct grading_exception *ex, size_t nex, char *letter, const char **status, char **report);

/* The pull check for manifest d of repo on day: every pull rule whose globs match repo must have the
 * image's grade at or above its min_grade. Cached per (digest, day, rule, invalidation epoch).
 * 0 when served; -BERTH_EDENIED with why naming the rule, the grade and the errata behind it (or
 * "not scanned yet"); another negative error when stored data cannot be read. g NULL: 0. */
int grading_pull_check(struct grading *g, struct meta *m, const char *repo, const struct digest *d, int32_t day,
		       char *why, size_t whyn);

/* Cached letter of d on day with the default (no exception) view: 'A'..'F', or 0 when ungraded. */
int grading_image_cached(struct grading *g, struct meta *m, const char *repo, const struct digest *d, int32_t day,
			 char *letter);

/* Grades the "findings" of a scan report's text (berth grade --errata). 0, -BERTH_EINVAL, -BERTH_ENOMEM. */
int grading_report_of_scan(const struct grade_rules *r, const char *scan_json, int32_t day, char **out, char *letter);
/* The "grade" object of a registry's scan report as text in *out (malloc()ed); -BERTH_ENOENT when the
 * report has none (not scanned: the report's status says why). */
int grading_report_extract(const char *scan_json, char **out);
/* A grade object (grading_report's text) as lines for a terminal (malloc()ed), or NULL when it is not one. */
char *grading_table(const char *grade_json);
/* The /api/v1/grades document as a table, one row per repository tag, sorted by name or worst grade
 * first (malloc()ed), or NULL when it is not such a document. */
char *grading_scores_table(const char *doc_json, int sort_by_grade);

#endif
