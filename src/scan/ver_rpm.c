/* ver_rpm: rpm's segment comparison (rpmvercmp) and epoch:version-release ordering. */
#include "scan/ver.h"

#include <string.h>

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

/* Compares [a, ae) with [b, be) segment by segment. Separators (anything but letters, digits, '~'
 * and '^') are skipped; a '~' on one side only makes that side older; a '^' on one side only makes
 * that side newer when the other has ended and older when the other goes on with a segment; then
 * the next run of digits (or letters, decided by a's next character) is compared: a number beats
 * letters, numbers compare by value, letters by bytes. When every segment matched, the side with
 * something left after its last segment is newer. */
static int vercmp(const char *a, const char *ae, const char *b, const char *be)
{
	if (ae - a == be - b && memcmp(a, b, (size_t)(ae - a)) == 0)
		return 0;
	while (a < ae || b < be) {
		const char *sa, *sb;
		size_t na, nb;
		int num, c;

		while (a < ae && !is_alnum(*a) && *a != '~' && *a != '^')
			a++;
		while (b < be && !is_alnum(*b) && *b != '~' && *b != '^')
			b++;
		if ((a < ae && *a == '~') || (b < be && *b == '~')) {
			if (a == ae || *a != '~')
				return 1;
			if (b == be || *b != '~')
				return -1;
			a++;
			b++;
			continue;
		}
		if ((a < ae && *a == '^') || (b < be && *b == '^')) {
			if (a == ae)
				return -1;
			if (b == be)
				return 1;
			if (*a != '^')
				return 1;
			if (*b != '^')
				return -1;
			a++;
			b++;
			continue;
		}
		if (a == ae || b == be)
			break;
		num = is_digit(*a);
		for (sa = a; sa < ae && (num ? is_digit(*sa) : is_alpha(*sa)); sa++)
			;
		for (sb = b; sb < be && (num ? is_digit(*sb) : is_alpha(*sb)); sb++)
			;
		if (sb == b)
			return num ? 1 : -1;
		if (num) {
			while (a < sa && *a == '0')
				a++;
			while (b < sb && *b == '0')
				b++;
		}
		na = (size_t)(sa - a);
		nb = (size_t)(sb - b);
		if (num && na != nb)
			return na < nb ? -1 : 1;
		c = memcmp(a, b, na < nb ? na : nb);
		if (c)
			return c < 0 ? -1 : 1;
		if (na != nb)
			return na < nb ? -1 : 1;
		a = sa;
		b = sb;
	}
	if (a == ae && b == be)
		return 0;
	return a == ae ? -1 : 1;
}

int scan_ver_rpm_vercmp(const char *a, const char *b)
{
	return vercmp(a, a + strlen(a), b, b + strlen(b));
}

/* An EVR cut as rpm cuts it: an epoch is a (possibly empty) run of leading digits ended by ':'; the
 * release follows the last '-'. has_r is 0 when there is no '-' at all. */
struct evr {
	const char *e, *ee, *v, *ve, *r, *re;
	int has_r;
};

static void evr_split(const char *s, struct evr *p)
{
	const char *end = s + strlen(s), *q = s, *hy;

	while (q < end && is_digit(*q))
		q++;
	hy = strrchr(q, '-');
	if (q < end && *q == ':') {
		p->e = s;
		p->ee = q;
		p->v = q + 1;
	} else {
		p->e = p->ee = "";
		p->v = s;
	}
	p->has_r = hy != NULL;
	p->ve = hy ? hy : end;
	p->r = hy ? hy + 1 : end;
	p->re = end;
	if (p->e == p->ee) /* no epoch, or ":" alone: both mean 0 */
		p->e = "0", p->ee = p->e + 1;
}

int scan_ver_rpm_cmp(const char *a, const char *b)
{
	struct evr x, y;
	int c;

	evr_split(a, &x);
	evr_split(b, &y);
	c = vercmp(x.e, x.ee, y.e, y.ee);
	if (!c)
		c = vercmp(x.v, x.ve, y.v, y.ve);
	if (!c) {
		if (x.has_r && y.has_r)
			c = vercmp(x.r, x.re, y.r, y.re);
		else
			c = x.has_r - y.has_r;
	}
	return c;
}
