/* grade: the Container Health Index, a letter A-F for an image on a given day.
 *
 * Only unapplied security errata of severity Critical or Important count (advisories of unknown severity
 * count as Important unless the rules say to ignore them). Each counted erratum earns a letter from its
 * severity and its age on the grading day (days since it was issued); the image gets the worst letter.
 * A letter only falls as days pass, so the dates on which it will fall (the freshness schedule) follow
 * from the same inputs. Everything is a pure function of (findings, rules, day): reproducible.
 *
 *   struct grade_rules r; grade_rules_default(&r);
 *   struct grade_result g; grade_compute(&r, items, n, grade_day_today(), &g);
 *   printf("%c, next drop %d\n", g.grade, g.next_drop_day);  grade_result_release(&g);
 */
#ifndef BERTH_GRADE_GRADE_H
#define BERTH_GRADE_GRADE_H

#include <stddef.h>
#include <stdint.h>

enum grade_sev {
	GRADE_SEV_UNKNOWN = 0,
	GRADE_SEV_LOW,
	GRADE_SEV_MODERATE,
	GRADE_SEV_IMPORTANT,
	GRADE_SEV_CRITICAL,
};

/* What an advisory of unknown severity counts as. */
enum grade_unknown {
	GRADE_UNKNOWN_IMPORTANT = 0, /* the default: count it as Important */
	GRADE_UNKNOWN_CRITICAL,
	GRADE_UNKNOWN_IGNORE,
};

/* The grade table: for the letters B, C, D and E (index 0..3), the oldest age in days a Critical
 * (crit) or Important (imp) erratum may have for the image to keep that letter. Older than the E
 * limit is F. Limits must not decrease from B to E. */
struct grade_rules {
	int32_t crit[4];
	int32_t imp[4];
	enum grade_unknown unknown;
};

/* One unapplied erratum of an image, borrowed by grade_compute(). */
struct grade_item {
	const char *id; /* advisory id, for the caller's report */
	enum grade_sev sev;
	int security; /* non-zero for a security advisory; others never count */
	int32_t issued_day; /* days since 1970-01-01 (UTC): issued, or first seen where no date is given */
};

/* A stretch of days with one letter: [start_day, end_day], end_day = -1 when it lasts for ever. */
struct grade_span {
	char grade;
	int32_t start_day;
	int32_t end_day;
};

struct grade_result {
	char grade; /* 'A'..'F' on the grading day */
	int32_t day; /* the grading day */
	size_t counted; /* errata that count on that day */
	size_t unknown_counted; /* of those, how many had unknown severity */
	int32_t next_drop_day; /* first later day with a worse letter, or -1 when none (A for ever, or F) */
	struct grade_span *schedule; /* from the grading day on; grade_result_release() frees it */
	size_t n_schedule;
};

/* The defaults of the issue: B crit<=7 imp<=30, C 30/90, D 90/365, E 365/365, unknown as Important. */
void grade_rules_default(struct grade_rules *r);

/* Reads a table row "7,30,90,365" (four non-decreasing day counts) into out.
 * 0 or -BERTH_EINVAL (wrong count, not a number, decreasing, negative). */
int grade_rules_parse_limits(const char *s, int32_t out[4]);

/* "important", "critical" or "ignore" -> 0 and *out; anything else -BERTH_EINVAL. */
int grade_unknown_parse(const char *s, enum grade_unknown *out);
const char *grade_unknown_name(enum grade_unknown u);

/* "Critical", "important", "MODERATE", "low", ... (any case) -> severity; others GRADE_SEV_UNKNOWN. */
enum grade_sev grade_sev_parse(const char *s);
const char *grade_sev_name(enum grade_sev s);

/* The severity an item is graded with under r (unknown mapped by r->unknown), or GRADE_SEV_LOW when it
 * does not count at all (not security, Moderate, Low, or unknown ignored). */
enum grade_sev grade_item_effective_sev(const struct grade_rules *r, const struct grade_item *it);

/* The letter one item earns on day `day` ('A' when it does not count or was not yet issued). */
char grade_item_letter(const struct grade_rules *r, const struct grade_item *it, int32_t day);

/* Grades items on `day` and computes the schedule. 0, or -BERTH_ENOMEM. out is always initialized;
 * release it with grade_result_release(). */
int grade_compute(const struct grade_rules *r, const struct grade_item *items, size_t n, int32_t day,
		  struct grade_result *out);
void grade_result_release(struct grade_result *g);

/* Dates: days since 1970-01-01 in the proleptic Gregorian calendar. */
/* Parses exactly "YYYY-MM-DD" (a real calendar day); 0 and *day, or -BERTH_EINVAL. */
int grade_day_parse(const char *s, int32_t *day);
/* Writes "YYYY-MM-DD" into out (>= 11 bytes). */
void grade_day_format(int32_t day, char *out, size_t n);
/* Today in UTC; in tests only, the environment variable BERTH_GRADE_TODAY=YYYY-MM-DD replaces the
 * clock (a value that is not a valid date is ignored). */
int32_t grade_day_today(void);

#endif
