/* ver_dpkg: Debian version ordering (Policy 5.6.12) and dpkg's version grammar. */
#include "scan/ver.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

/* A version cut into epoch, upstream and revision, as [begin, end) ranges into the caller's string. */
struct dparts {
	const char *e, *ee;
	const char *u, *ue;
	const char *r, *re;
};

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks at both ends, as dpkg does before parsing. */
static void trim(const char **s, const char **end)
{
	while (*s < *end && is_blank(**s))
		(*s)++;
	while (*end > *s && is_blank((*end)[-1]))
		(*end)--;
}

/* Splits like dpkg: the epoch is what precedes the first ':' when that is a run of digits; the
 * revision follows the last '-' of the rest. Input dpkg would reject still splits somehow (no epoch
 * when the prefix is not digits, an empty revision after a trailing '-'), so every string has an order. */
static void split(const char *s, struct dparts *p)
{
	const char *end = s + strlen(s), *colon, *q, *hy = NULL;

	trim(&s, &end);
	p->e = p->ee = s;
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon && colon > s) {
		for (q = s; q < colon && is_digit(*q); q++)
			;
		if (q == colon) {
			p->ee = colon;
			s = colon + 1;
		}
	}
	for (q = s; q < end; q++)
		if (*q == '-')
			hy = q;
	p->u = s;
	p->ue = hy ? hy : end;
	p->r = hy ? hy + 1 : end;
	p->re = end;
}

/* Compares two runs of digits as unsigned numbers of any size. */
static int num_cmp(const char *a, const char *ae, const char *b, const char *be)
{
	size_t na, nb;
	int c;

	while (a < ae && *a == '0')
		a++;
	while (b < be && *b == '0')
		b++;
	na = (size_t)(ae - a);
	nb = (size_t)(be - b);
	if (na != nb)
		return na < nb ? -1 : 1;
	c = na ? memcmp(a, b, na) : 0;
	return c < 0 ? -1 : c > 0;
}

/* Weight of the character at p inside a non-digit run: a digit or the end of the part weighs 0
 * (the run has ended), '~' less than that, letters their code, other ASCII after all letters.
 * Bytes >= 0x80 weigh their code too: dpkg reads them as negative chars and adds 256, which lands
 * them between the letters and ASCII punctuation. */
static int weight(const char *p, const char *end)
{
	unsigned char c;

	if (p >= end || is_digit(*p))
		return 0;
	c = (unsigned char)*p;
	if (c == '~')
		return -1;
	if (is_alpha(c) || c >= 0x80)
		return c;
	return c + 256;
}

/* Compares an upstream or revision part: alternately the leading non-digit runs, character by
 * character by weight, then the leading digit runs as numbers, until one side differs. */
static int part_cmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		const char *da, *db;
		int c;

		for (;;) {
			int wa = weight(a, ae), wb = weight(b, be);

			if (wa != wb)
				return wa < wb ? -1 : 1;
			if (wa == 0)
				break;
			a++;
			b++;
		}
		for (da = a; da < ae && is_digit(*da); da++)
			;
		for (db = b; db < be && is_digit(*db); db++)
			;
		c = num_cmp(a, da, b, db);
		if (c)
			return c;
		a = da;
		b = db;
	}
	return 0;
}

int scan_ver_dpkg_cmp(const char *a, const char *b)
{
	struct dparts x, y;
	int c;

	split(a, &x);
	split(b, &y);
	c = num_cmp(x.e, x.ee, y.e, y.ee);
	if (!c)
		c = part_cmp(x.u, x.ue, y.u, y.ue);
	if (!c)
		c = part_cmp(x.r, x.re, y.r, y.re);
	return c;
}

static int fail(int rc, char *why, size_t whyn, const char *msg)
{
	if (why && whyn)
		snprintf(why, whyn, "%s", msg);
	return rc;
}

int scan_ver_dpkg_check(const char *v, char *why, size_t whyn)
{
	const char *s = v, *end = v + strlen(v), *colon, *q, *hy = NULL;

	if (!*v)
		return fail(-BERTH_EINVAL, why, whyn, "version is empty");
	trim(&s, &end);
	for (q = s; q < end; q++)
		if (is_blank(*q))
			return fail(-BERTH_EINVAL, why, whyn, "version has embedded blanks");
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		unsigned long long e = 0;

		if (colon == s)
			return fail(-BERTH_EINVAL, why, whyn, "epoch is empty");
		for (q = s; q < colon; q++) {
			if (!is_digit(*q))
				return fail(-BERTH_EINVAL, why, whyn, "epoch is not a number");
			if (e <= INT_MAX)
				e = e * 10 + (unsigned)(*q - '0');
		}
		if (e > INT_MAX)
			return fail(-BERTH_EINVAL, why, whyn, "epoch is too big");
		if (colon + 1 == end)
			return fail(-BERTH_EINVAL, why, whyn, "nothing after the epoch's colon");
		s = colon + 1;
	}
	for (q = s; q < end; q++)
		if (*q == '-')
			hy = q;
	if (hy && hy + 1 == end)
		return fail(-BERTH_EINVAL, why, whyn, "revision is empty");
	if ((hy ? hy : end) == s)
		return fail(-BERTH_EINVAL, why, whyn, "upstream version is empty");
	if (!is_digit(*s))
		return fail(SCAN_VER_WARN, why, whyn, "upstream version does not start with a digit");
	for (q = s; q < (hy ? hy : end); q++)
		if (!is_digit(*q) && !is_alpha(*q) && !strchr(".-+~:", *q))
			return fail(SCAN_VER_WARN, why, whyn, "invalid character in upstream version");
	for (q = hy ? hy + 1 : end; q < end; q++)
		if (!is_digit(*q) && !is_alpha(*q) && !strchr(".+~", *q))
			return fail(SCAN_VER_WARN, why, whyn, "invalid character in revision");
	return 0;
}

int scan_ver_cmp(enum scan_eco eco, const char *a, const char *b)
{
	int c;

	switch (eco) {
	case SCAN_ECO_DPKG:
		return scan_ver_dpkg_cmp(a, b);
	case SCAN_ECO_RPM:
		return scan_ver_rpm_cmp(a, b);
	case SCAN_ECO_APK:
		return scan_ver_apk_cmp(a, b);
	default:
		c = strcmp(a, b);
		return c < 0 ? -1 : c > 0;
	}
}
