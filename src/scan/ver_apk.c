/* ver_apk: Alpine version grammar and ordering, digits{.digits}[letter]{_suffix[N]}[~hash][-rN].
 * A version is read as a sequence of typed tokens; the token kinds are ordered, and a token may only
 * follow one of a lower kind (a letter after a number, a suffix after the letter, ...). */
#include "scan/ver.h"

#include <string.h>

#include "base/err.h"

/* Token kinds in grammar order. KEND and KBAD come last: when two versions agree up to where one of
 * them stops, the higher kind is the older version (so a version that ends, or turns invalid,
 * is older than one that continues, except into a pre-release suffix). */
enum kind { KFIRST, KDOT, KLETTER, KSUFFIX, KSUFFIX_NO, KHASH, KREV, KEND, KBAD, KSTART };

/* Suffix ranks; RANK_NONE is where "no suffix" sits, so anything below it is a pre-release. */
enum { RANK_NONE = 4 };
static const char *const suffixes[] = {"alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"};

struct tok {
	enum kind kind;
	const char *p; /* the token's text: digits, the letter, the suffix name or the hash */
	size_t n;
	int rank; /* KSUFFIX: index in suffixes[] */
};

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static size_t span(const char *s, int (*cls)(int))
{
	size_t n = 0;

	while (s[n] && cls((unsigned char)s[n]))
		n++;
	return n;
}

/* Reads the token at *s that follows a token of kind prev (KSTART before the first one) and
 * advances *s past it. */
static void next(const char **s, enum kind prev, struct tok *t)
{
	const char *p = *s;

	t->p = p;
	t->n = 0;
	if (prev == KSTART) { /* a version opens with a number */
		t->n = span(p, is_digit);
		t->kind = t->n ? KFIRST : KBAD;
		*s = p + t->n;
		return;
	}
	t->kind = KBAD;
	if (!*p) {
		t->kind = KEND;
	} else if (is_lower((unsigned char)*p)) {
		if (prev <= KDOT) {
			t->kind = KLETTER;
			t->n = 1;
		}
	} else if (*p == '.') {
		if (prev <= KDOT) {
			t->p = ++p;
			t->n = span(p, is_digit);
			if (t->n)
				t->kind = KDOT;
		}
	} else if (is_digit((unsigned char)*p)) {
		if (prev == KSUFFIX) {
			t->n = span(p, is_digit);
			t->kind = KSUFFIX_NO;
		}
	} else if (*p == '_') {
		if (prev <= KSUFFIX_NO) {
			t->p = ++p;
			t->n = span(p, is_lower);
			for (int i = 0; i < (int)(sizeof suffixes / sizeof *suffixes); i++) {
				if (i != RANK_NONE && strlen(suffixes[i]) == t->n &&
				    memcmp(suffixes[i], p, t->n) == 0) {
					t->kind = KSUFFIX;
					t->rank = i;
				}
			}
		}
	} else if (*p == '~') {
		if (prev < KHASH) {
			t->p = ++p;
			t->n = span(p, is_hex);
			if (t->n)
				t->kind = KHASH;
		}
	} else if (*p == '-') {
		if (prev < KREV && p[1] == 'r') {
			t->p = p += 2;
			t->n = span(p, is_digit);
			if (t->n)
				t->kind = KREV;
		}
	}
	*s = t->kind == KBAD ? p : t->p + t->n;
}

static int bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c < 0 ? -1 : 1;
	return na == nb ? 0 : na < nb ? -1 : 1;
}

static int num_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	while (na && *a == '0')
		a++, na--;
	while (nb && *b == '0')
		b++, nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	return bytes_cmp(a, na, b, nb);
}

/* Compares two tokens of the same kind. */
static int tok_cmp(const struct tok *a, const struct tok *b)
{
	switch (a->kind) {
	case KDOT:
		/* "1.05" against "1.5": with a leading zero the component is a fraction-like string */
		if (a->p[0] == '0' || b->p[0] == '0')
			return bytes_cmp(a->p, a->n, b->p, b->n);
		return num_cmp(a->p, a->n, b->p, b->n);
	case KFIRST:
	case KSUFFIX_NO:
	case KREV:
		return num_cmp(a->p, a->n, b->p, b->n);
	case KLETTER:
		return a->p[0] == b->p[0] ? 0 : a->p[0] < b->p[0] ? -1 : 1;
	case KSUFFIX:
		return a->rank == b->rank ? 0 : a->rank < b->rank ? -1 : 1;
	default: /* KHASH */
		return bytes_cmp(a->p, a->n, b->p, b->n);
	}
}

int scan_ver_apk_cmp(const char *a, const char *b)
{
	struct tok ta, tb;
	enum kind ka = KSTART, kb = KSTART;

	for (;;) {
		int c;

		next(&a, ka, &ta);
		next(&b, kb, &tb);
		ka = ta.kind;
		kb = tb.kind;
		if (ka != kb || ka >= KEND)
			break;
		c = tok_cmp(&ta, &tb);
		if (c)
			return c;
	}
	if (ka == kb)
		return 0;
	if (ka == KSUFFIX && ta.rank < RANK_NONE)
		return -1;
	if (kb == KSUFFIX && tb.rank < RANK_NONE)
		return 1;
	return ka > kb ? -1 : 1;
}

int scan_ver_apk_check(const char *v)
{
	struct tok t;
	enum kind k = KSTART;

	do {
		next(&v, k, &t);
		k = t.kind;
	} while (k < KEND);
	return k == KEND ? 0 : -BERTH_EINVAL;
}
