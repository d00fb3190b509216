/* Unit tests for grade/: every boundary of the default table, unknown severity both ways, the
 * freshness schedule, and the calendar. Dates are fixed, so the tests travel in time. */
#include "base/err.h"
#include "grade/grade.h"
#include "harness.h"

static int32_t day(const char *s)
{
	int32_t d = -1;

	if (grade_day_parse(s, &d) != 0)
		FAIL_AT("bad test date %s", s);
	return d;
}

/* The letter of an image with one erratum of severity sev issued `age` days before 2026-06-01. */
static char one(enum grade_sev sev, int32_t age, enum grade_unknown unknown)
{
	struct grade_rules r;
	struct grade_item it = {"X", sev, 1, 0};
	struct grade_result g;
	char c;

	grade_rules_default(&r);
	r.unknown = unknown;
	it.issued_day = day("2026-06-01") - age;
	CHECK_EQ(grade_compute(&r, &it, 1, day("2026-06-01"), &g), 0);
	c = g.grade;
	grade_result_release(&g);
	return c;
}

TEST(critical_boundaries)
{
	const enum grade_unknown u = GRADE_UNKNOWN_IMPORTANT;

	CHECK_EQ(one(GRADE_SEV_CRITICAL, 0, u), 'B');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 7, u), 'B');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 8, u), 'C');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 30, u), 'C');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 31, u), 'D');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 90, u), 'D');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 91, u), 'E');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 365, u), 'E');
	CHECK_EQ(one(GRADE_SEV_CRITICAL, 366, u), 'F');
}

TEST(important_boundaries)
{
	const enum grade_unknown u = GRADE_UNKNOWN_IMPORTANT;

	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 0, u), 'B');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 7, u), 'B');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 30, u), 'B');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 31, u), 'C');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 90, u), 'C');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 91, u), 'D');
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 365, u), 'D'); /* Important never earns E */
	CHECK_EQ(one(GRADE_SEV_IMPORTANT, 366, u), 'F');
}

TEST(moderate_and_low_never_count)
{
	CHECK_EQ(one(GRADE_SEV_MODERATE, 5000, GRADE_UNKNOWN_IMPORTANT), 'A');
	CHECK_EQ(one(GRADE_SEV_LOW, 5000, GRADE_UNKNOWN_IMPORTANT), 'A');
}

TEST(unknown_severity_both_ways)
{
	CHECK_EQ(one(GRADE_SEV_UNKNOWN, 31, GRADE_UNKNOWN_IMPORTANT), 'C');
	CHECK_EQ(one(GRADE_SEV_UNKNOWN, 366, GRADE_UNKNOWN_IMPORTANT), 'F');
	CHECK_EQ(one(GRADE_SEV_UNKNOWN, 366, GRADE_UNKNOWN_IGNORE), 'A');
	CHECK_EQ(one(GRADE_SEV_UNKNOWN, 8, GRADE_UNKNOWN_CRITICAL), 'C');
}

TEST(non_security_and_future_do_not_count)
{
	struct grade_rules r;
	struct grade_item it[2] = {
	    {"BUG", GRADE_SEV_CRITICAL, 0, 0},
	    {"LATER", GRADE_SEV_CRITICAL, 1, 0},
	};
	struct grade_result g;

	grade_rules_default(&r);
	it[0].issued_day = day("2020-01-01");
	it[1].issued_day = day("2026-06-02"); /* issued the day after the grading day */
	CHECK_EQ(grade_compute(&r, it, 2, day("2026-06-01"), &g), 0);
	CHECK_EQ(g.grade, 'A');
	CHECK_EQ(g.counted, 0);
	/* the advisory appears the next day and the image falls to B then */
	CHECK_EQ(g.next_drop_day, day("2026-06-02"));
	CHECK_EQ(g.schedule[1].grade, 'B');
	grade_result_release(&g);
}

TEST(worst_item_wins_and_counts)
{
	struct grade_rules r;
	struct grade_item it[3] = {
	    {"A1", GRADE_SEV_CRITICAL, 1, 0},
	    {"A2", GRADE_SEV_IMPORTANT, 1, 0},
	    {"A3", GRADE_SEV_UNKNOWN, 1, 0},
	};
	struct grade_result g;
	int32_t d = day("2026-06-01");

	grade_rules_default(&r);
	it[0].issued_day = d - 3; /* B */
	it[1].issued_day = d - 100; /* D */
	it[2].issued_day = d - 40; /* as Important: C */
	CHECK_EQ(grade_compute(&r, it, 3, d, &g), 0);
	CHECK_EQ(g.grade, 'D');
	CHECK_EQ(g.counted, 3);
	CHECK_EQ(g.unknown_counted, 1);
	grade_result_release(&g);
}

TEST(schedule_of_one_critical)
{
	struct grade_rules r;
	struct grade_item it = {"DSA-1", GRADE_SEV_CRITICAL, 1, 0};
	struct grade_result g;
	char s[16];

	grade_rules_default(&r);
	it.issued_day = day("2026-01-01");
	CHECK_EQ(grade_compute(&r, &it, 1, day("2026-01-05"), &g), 0);
	CHECK_EQ(g.grade, 'B');
	CHECK_EQ(g.n_schedule, 5);
	CHECK_EQ(g.schedule[0].grade, 'B');
	CHECK_EQ(g.schedule[0].start_day, day("2026-01-05"));
	CHECK_EQ(g.schedule[0].end_day, day("2026-01-08")); /* age 7 on 01-08 */
	CHECK_EQ(g.schedule[1].grade, 'C');
	CHECK_EQ(g.schedule[1].start_day, day("2026-01-09"));
	CHECK_EQ(g.schedule[1].end_day, day("2026-01-31"));
	CHECK_EQ(g.schedule[2].grade, 'D');
	CHECK_EQ(g.schedule[2].start_day, day("2026-02-01"));
	CHECK_EQ(g.schedule[3].grade, 'E');
	CHECK_EQ(g.schedule[3].start_day, day("2026-04-02"));
	CHECK_EQ(g.schedule[4].grade, 'F');
	grade_day_format(g.schedule[4].start_day, s, sizeof(s));
	CHECK_STR(s, "2027-01-02"); /* 366 days after 2026-01-01 */
	CHECK_EQ(g.schedule[4].end_day, -1);
	CHECK_EQ(g.next_drop_day, day("2026-01-09"));
	grade_result_release(&g);
}

TEST(schedule_merges_items_and_ends_at_f)
{
	struct grade_rules r;
	struct grade_item it[2] = {
	    {"I", GRADE_SEV_IMPORTANT, 1, 0},
	    {"C", GRADE_SEV_CRITICAL, 1, 0},
	};
	struct grade_result g;
	int32_t d = day("2026-06-01");

	grade_rules_default(&r);
	it[0].issued_day = d - 400; /* already F */
	it[1].issued_day = d - 1;
	CHECK_EQ(grade_compute(&r, it, 2, d, &g), 0);
	CHECK_EQ(g.grade, 'F');
	CHECK_EQ(g.n_schedule, 1);
	CHECK_EQ(g.next_drop_day, -1);
	grade_result_release(&g);
}

TEST(a_forever_without_errata)
{
	struct grade_rules r;
	struct grade_result g;

	grade_rules_default(&r);
	CHECK_EQ(grade_compute(&r, NULL, 0, day("2026-06-01"), &g), 0);
	CHECK_EQ(g.grade, 'A');
	CHECK_EQ(g.n_schedule, 1);
	CHECK_EQ(g.schedule[0].end_day, -1);
	CHECK_EQ(g.next_drop_day, -1);
	grade_result_release(&g);
}

TEST(custom_table)
{
	struct grade_rules r;
	struct grade_item it = {"X", GRADE_SEV_CRITICAL, 1, 0};

	grade_rules_default(&r);
	CHECK_EQ(grade_rules_parse_limits("1, 2,3,4", r.crit), 0);
	it.issued_day = day("2026-06-01") - 2;
	CHECK_EQ(grade_item_letter(&r, &it, day("2026-06-01")), 'C');
	it.issued_day = day("2026-06-01") - 5;
	CHECK_EQ(grade_item_letter(&r, &it, day("2026-06-01")), 'F');
	CHECK_EQ(grade_rules_parse_limits("1,2,3", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("1,2,3,4,5", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("4,3,5,6", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("1,2,x,4", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("1,2,-3,4", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("1,2,3,9999999", r.crit), -BERTH_EINVAL);
	CHECK_EQ(grade_rules_parse_limits("", r.crit), -BERTH_EINVAL);
	CHECK_EQ(r.crit[0], 1); /* a failed parse left the table alone */
}

TEST(names_parse)
{
	enum grade_unknown u;

	CHECK_EQ(grade_sev_parse("Critical"), GRADE_SEV_CRITICAL);
	CHECK_EQ(grade_sev_parse("IMPORTANT"), GRADE_SEV_IMPORTANT);
	CHECK_EQ(grade_sev_parse("moderate"), GRADE_SEV_MODERATE);
	CHECK_EQ(grade_sev_parse("Low"), GRADE_SEV_LOW);
	CHECK_EQ(grade_sev_parse("urgent"), GRADE_SEV_UNKNOWN);
	CHECK_EQ(grade_sev_parse(NULL), GRADE_SEV_UNKNOWN);
	CHECK_EQ(grade_unknown_parse("ignore", &u), 0);
	CHECK_EQ(u, GRADE_UNKNOWN_IGNORE);
	CHECK_EQ(grade_unknown_parse("Important", &u), -BERTH_EINVAL);
	CHECK_STR(grade_unknown_name(GRADE_UNKNOWN_IMPORTANT), "important");
}

TEST(calendar)
{
	int32_t d;
	char s[16];

	CHECK_EQ(grade_day_parse("1970-01-01", &d), 0);
	CHECK_EQ(d, 0);
	CHECK_EQ(grade_day_parse("2000-03-01", &d), 0);
	CHECK_EQ(d, 11017);
	CHECK_EQ(day("2024-03-01") - day("2024-02-28"), 2); /* leap year */
	CHECK_EQ(day("2100-03-01") - day("2100-02-28"), 1); /* not a leap year */
	CHECK_EQ(day("2027-01-01") - day("2026-01-01"), 365);
	CHECK_EQ(grade_day_parse("2026-02-29", &d), -BERTH_EINVAL);
	CHECK_EQ(grade_day_parse("2026-13-01", &d), -BERTH_EINVAL);
	CHECK_EQ(grade_day_parse("2026-00-10", &d), -BERTH_EINVAL);
	CHECK_EQ(grade_day_parse("2026-1-10", &d), -BERTH_EINVAL);
	CHECK_EQ(grade_day_parse("2026-01-10T00", &d), -BERTH_EINVAL);
	CHECK_EQ(grade_day_parse("2026/01/10", &d), -BERTH_EINVAL);
	for (int32_t i = -800000; i < 800000; i += 997) {
		int32_t back = 0;

		grade_day_format(i, s, sizeof(s));
		if (i >= day("0000-01-01") && i <= day("9999-12-31")) {
			CHECK_EQ(grade_day_parse(s, &back), 0);
			CHECK_EQ(back, i);
		}
	}
}

static const struct test tests[] = {
    T(critical_boundaries),
    T(important_boundaries),
    T(moderate_and_low_never_count),
    T(unknown_severity_both_ways),
    T(non_security_and_future_do_not_count),
    T(worst_item_wins_and_counts),
    T(schedule_of_one_critical),
    T(schedule_merges_items_and_ends_at_f),
    T(a_forever_without_errata),
    T(custom_table),
    T(names_parse),
    T(calendar),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
