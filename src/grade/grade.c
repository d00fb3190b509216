/* grade: Container Health Index letters and the freshness schedule (see grade.h). */
#include "grade/grade.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"

void grade_rules_default(struct grade_rules *r)
{
	static const int32_t crit[4] = {7, 30, 90, 365};
	static const int32_t imp[4] = {30, 90, 365, 365};

	memcpy(r->crit, crit, sizeof(crit));
	memcpy(r->imp, imp, sizeof(imp));
	r->unknown = GRADE_UNKNOWN_IMPORTANT;
}

int grade_rules_parse_limits(const char *s, int32_t out[4])
{
	int32_t v[4];
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		long n = 0;
		int digits = 0;

		while (*p == ' ')
			p++;
		while (isdigit((unsigned char)*p) && digits < 6) {
			n = n * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || isdigit((unsigned char)*p))
			return -BERTH_EINVAL;
		while (*p == ' ')
			p++;
		if (i < 3 && *p++ != ',')
			return -BERTH_EINVAL;
		v[i] = (int32_t)n;
		if (i > 0 && v[i] < v[i - 1])
			return -BERTH_EINVAL;
	}
	if (*p != '\0')
		return -BERTH_EINVAL;
	memcpy(out, v, sizeof(v));
	return 0;
}

int grade_unknown_parse(const char *s, enum grade_unknown *out)
{
	if (strcmp(s, "important") == 0)
		*out = GRADE_UNKNOWN_IMPORTANT;
	else if (strcmp(s, "critical") == 0)
		*out = GRADE_UNKNOWN_CRITICAL;
	else if (strcmp(s, "ignore") == 0)
		*out = GRADE_UNKNOWN_IGNORE;
	else
		return -BERTH_EINVAL;
	return 0;
}

const char *grade_unknown_name(enum grade_unknown u)
{
	switch (u) {
	case GRADE_UNKNOWN_CRITICAL:
		return "critical";
	case GRADE_UNKNOWN_IGNORE:
		return "ignore";
	default:
		return "important";
	}
}

enum grade_sev grade_sev_parse(const char *s)
{
	if (!s)
		return GRADE_SEV_UNKNOWN;
	if (strcasecmp(s, "critical") == 0)
		return GRADE_SEV_CRITICAL;
	if (strcasecmp(s, "important") == 0)
		return GRADE_SEV_IMPORTANT;
	if (strcasecmp(s, "moderate") == 0)
		return GRADE_SEV_MODERATE;
	if (strcasecmp(s, "low") == 0)
		return GRADE_SEV_LOW;
	return GRADE_SEV_UNKNOWN;
}

const char *grade_sev_name(enum grade_sev s)
{
	switch (s) {
	case GRADE_SEV_CRITICAL:
		return "Critical";
	case GRADE_SEV_IMPORTANT:
		return "Important";
	case GRADE_SEV_MODERATE:
		return "Moderate";
	case GRADE_SEV_LOW:
		return "Low";
	default:
		return "unknown";
	}
}

enum grade_sev grade_item_effective_sev(const struct grade_rules *r, const struct grade_item *it)
{
	if (!it->security)
		return GRADE_SEV_LOW;
	if (it->sev == GRADE_SEV_UNKNOWN) {
		if (r->unknown == GRADE_UNKNOWN_IGNORE)
			return GRADE_SEV_LOW;
		return r->unknown == GRADE_UNKNOWN_CRITICAL ? GRADE_SEV_CRITICAL : GRADE_SEV_IMPORTANT;
	}
	return it->sev >= GRADE_SEV_IMPORTANT ? it->sev : GRADE_SEV_LOW;
}

char grade_item_letter(const struct grade_rules *r, const struct grade_item *it, int32_t day)
{
	enum grade_sev sev = grade_item_effective_sev(r, it);
	const int32_t *lim;
	int64_t age;

	if (sev < GRADE_SEV_IMPORTANT)
		return 'A';
	age = (int64_t)day - it->issued_day;
	if (age < 0)
		return 'A'; /* not yet issued on that day */
	lim = sev == GRADE_SEV_CRITICAL ? r->crit : r->imp;
	for (int i = 0; i < 4; i++)
		if (age <= lim[i])
			return (char)('B' + i);
	return 'F';
}

/* The image's letter on `day`: the worst of its items'. */
static char grade_at(const struct grade_rules *r, const struct grade_item *items, size_t n, int32_t day)
{
	char worst = 'A';

	for (size_t i = 0; i < n; i++) {
		char c = grade_item_letter(r, &items[i], day);

		if (c > worst)
			worst = c;
	}
	return worst;
}

static int cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Days after `day` on which some item's letter can change: the day it is issued, and the day after
 * each of its limits. Returned sorted and without duplicates; *out is malloc()ed (NULL when none). */
static int change_days(const struct grade_rules *r, const struct grade_item *items, size_t n, int32_t day,
		       int32_t **out, size_t *nout)
{
	int32_t *d = NULL;
	size_t k = 0, m = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / (5 * sizeof(*d)))
		return -BERTH_ENOMEM;
	d = malloc(n * 5 * sizeof(*d));
	if (!d)
		return -BERTH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		enum grade_sev sev = grade_item_effective_sev(r, &items[i]);
		const int32_t *lim;

		if (sev < GRADE_SEV_IMPORTANT)
			continue;
		lim = sev == GRADE_SEV_CRITICAL ? r->crit : r->imp;
		if (items[i].issued_day > day)
			d[k++] = items[i].issued_day;
		for (int j = 0; j < 4; j++) {
			int64_t c = (int64_t)items[i].issued_day + lim[j] + 1;

			if (c > day && c <= INT32_MAX)
				d[k++] = (int32_t)c;
		}
	}
	qsort(d, k, sizeof(*d), cmp_day);
	for (size_t i = 0; i < k; i++)
		if (m == 0 || d[m - 1] != d[i])
			d[m++] = d[i];
	*out = d;
	*nout = m;
	if (m == 0) {
		free(d);
		*out = NULL;
	}
	return 0;
}

int grade_compute(const struct grade_rules *r, const struct grade_item *items, size_t n, int32_t day,
		  struct grade_result *out)
{
	int32_t *days = NULL;
	size_t nd = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->day = day;
	out->next_drop_day = -1;
	out->grade = grade_at(r, items, n, day);
	for (size_t i = 0; i < n; i++) {
		if (grade_item_letter(r, &items[i], day) == 'A')
			continue;
		out->counted++;
		if (items[i].sev == GRADE_SEV_UNKNOWN)
			out->unknown_counted++;
	}
	rc = change_days(r, items, n, day, &days, &nd);
	if (rc < 0)
		return rc;
	out->schedule = malloc((nd + 1) * sizeof(*out->schedule));
	if (!out->schedule) {
		free(days);
		return -BERTH_ENOMEM;
	}
	out->schedule[0] = (struct grade_span){out->grade, day, -1};
	out->n_schedule = 1;
	for (size_t i = 0; i < nd; i++) {
		char g = grade_at(r, items, n, days[i]);
		struct grade_span *last = &out->schedule[out->n_schedule - 1];

		if (g == last->grade)
			continue;
		last->end_day = days[i] - 1;
		out->schedule[out->n_schedule++] = (struct grade_span){g, days[i], -1};
		if (out->next_drop_day < 0)
			out->next_drop_day = days[i];
	}
	free(days);
	return 0;
}

void grade_result_release(struct grade_result *g)
{
	free(g->schedule);
	g->schedule = NULL;
	g->n_schedule = 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (era arithmetic: 400-year cycles
 * of 146097 days, with March as the first month so the leap day falls at the end of a year). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int month_days(int64_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : len[m - 1];
}

int grade_day_parse(const char *s, int32_t *day)
{
	int v[8];
	int64_t y;
	int m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -BERTH_EINVAL;
	for (int i = 0, k = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (!isdigit((unsigned char)s[i]))
			return -BERTH_EINVAL;
		v[k++] = s[i] - '0';
	}
	y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	m = v[4] * 10 + v[5];
	d = v[6] * 10 + v[7];
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return -BERTH_EINVAL;
	*day = (int32_t)days_from_civil(y, m, d);
	return 0;
}

void grade_day_format(int32_t day, char *out, size_t n)
{
	int64_t y;
	int m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, n, "%04lld-%02d-%02d", (long long)y, m, d);
}

int32_t grade_day_today(void)
{
	/* test-only time travel (docs/internals/grade.md): a valid date here replaces the clock */
	static _Atomic int32_t fake_day = -2; /* -2: not looked at yet; -1: no (valid) override */
	int32_t day = fake_day;

	if (day == -2) {
		const char *fake = getenv("BERTH_GRADE_TODAY");

		if (!fake || grade_day_parse(fake, &day) < 0)
			day = -1;
		fake_day = day; /* the environment does not change while we run; racing writers agree */
	}
	if (day >= 0)
		return day;
	return (int32_t)(time(NULL) / 86400);
}
