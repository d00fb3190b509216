/* Differential tests of scan/ver against the real implementations, in process: dpkg's own
 * parseversion()/dpkg_version_compare() from libdpkg, rpm's rpmvercmp() and rpmverParse()+rpmverCmp()
 * from librpm, on at least 100,000 seeded random pairs each (epochs, '~', '^', letters, leading zeros,
 * separators, revisions; half the pairs are near-copies so comparisons reach deep into the strings).
 * Then a few hundred pairs through the command-line tools (dpkg --compare-versions, rpm's Lua
 * rpm.vercmp) to show the libraries are what the tools run. apk has no reference implementation on
 * Debian; its generated versions are checked for a consistent total order instead.
 * BERTH_VERDIFF_SEED=<n> changes the seed; BERTH_VERDIFF_PAIRS=<n> the pair count. */
#define LIBDPKG_VOLATILE_API 1
#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <dpkg/version.h>
#include <rpm/rpmver.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "harness.h"
#include "scan/ver.h"

#define VMAX 96

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void seed(void)
{
	const char *s = getenv("BERTH_VERDIFF_SEED");

	rng_state = s ? strtoull(s, NULL, 10) : 20261126;
}

static long pairs_wanted(void)
{
	const char *s = getenv("BERTH_VERDIFF_PAIRS");

	return s ? atol(s) : 100000;
}

static int sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

/* Appends to a bounded string. */
struct sb {
	char s[VMAX + 1];
	size_t n;
};

static void sb_c(struct sb *b, char c)
{
	if (b->n < VMAX) {
		b->s[b->n++] = c;
		b->s[b->n] = '\0';
	}
}

static void sb_s(struct sb *b, const char *s)
{
	while (*s)
		sb_c(b, *s++);
}

static void sb_pick(struct sb *b, const char *set)
{
	sb_c(b, set[below((unsigned)strlen(set))]);
}

/* A digit run: often short, sometimes with leading zeros, sometimes long (past 64 bits). */
static void gen_digits(struct sb *b)
{
	unsigned r = below(20), n;

	if (r < 3)
		sb_s(b, r == 0 ? "0" : r == 1 ? "00" : "007");
	n = r == 19 ? 18 + below(8) : 1 + below(3);
	for (unsigned i = 0; i < n; i++)
		sb_pick(b, "0123456789");
}

/* Writes a near-copy of src into b: one character changed, inserted or removed, a digit bumped, or
 * a tail added ("~rc1", "^git", ".1", "a", "-1", "+b1"). */
static void mutate(struct sb *b, const char *src, const char *alphabet)
{
	static const char *const tails[] = {"~",  "~rc1", "~~",  "^",   "^git1", ".1", ".0", "a",
					    "-1", "+b1",  "-r1", "_p1", "_rc2",  "0",  "~1"};
	size_t n = strlen(src), at = n ? below((unsigned)n) : 0;

	b->n = 0;
	b->s[0] = '\0';
	switch (below(6)) {
	case 0: /* replace one character */
		for (size_t i = 0; i < n; i++)
			sb_c(b, i == at ? alphabet[below((unsigned)strlen(alphabet))] : src[i]);
		break;
	case 1: /* insert one */
		for (size_t i = 0; i <= n; i++) {
			if (i == at)
				sb_pick(b, alphabet);
			if (i < n)
				sb_c(b, src[i]);
		}
		break;
	case 2: /* delete one */
		for (size_t i = 0; i < n; i++)
			if (i != at)
				sb_c(b, src[i]);
		break;
	case 3: /* bump or zero-pad a digit */
		for (size_t i = 0; i < n; i++) {
			char c = src[i];

			if (i == at && c >= '0' && c <= '8')
				c++;
			else if (i == at && c == '9')
				sb_c(b, '0');
			sb_c(b, c);
		}
		break;
	case 4: /* a tail */
		sb_s(b, src);
		sb_s(b, tails[below(sizeof tails / sizeof *tails)]);
		break;
	default: /* the same string */
		sb_s(b, src);
		break;
	}
}

/* ---- dpkg ---- */

static void gen_dpkg_part(struct sb *b, const char *seps, int first_digit)
{
	unsigned n = 1 + below(6);

	if (first_digit)
		gen_digits(b);
	for (unsigned i = 0; i < n; i++) {
		switch (below(4)) {
		case 0:
			gen_digits(b);
			break;
		case 1:
			for (unsigned k = 1 + below(3); k; k--)
				sb_pick(b, "abcxyzABZ");
			break;
		default:
			sb_pick(b, seps);
			break;
		}
	}
}

static void gen_dpkg(struct sb *b)
{
	b->n = 0;
	b->s[0] = '\0';
	switch (below(16)) { /* epochs, including the edge ones */
	case 0:
	case 1:
	case 2:
		gen_digits(b);
		sb_c(b, ':');
		break;
	case 3:
		sb_s(b, below(2) ? "2147483647:" : "2147483648:");
		break;
	case 4:
		sb_s(b, below(2) ? ":" : "x:");
		break;
	}
	/* upstream, mostly starting with a digit, sometimes not (a dpkg warning) */
	gen_dpkg_part(b, below(40) ? ".+~.~:" : ".+~_@ ", below(10) != 0);
	if (below(2)) {
		sb_c(b, '-');
		if (below(30))
			gen_dpkg_part(b, below(40) ? ".+~" : ".+~_:", 0);
	}
}

/* 2 = dpkg rejects, 1 = accepts with a warning, 0 = accepts. */
static int dpkg_class(const char *v, struct dpkg_version *out)
{
	struct dpkg_error err = DPKG_ERROR_INIT;
	int cls;

	if (parseversion(out, v, &err) == 0)
		cls = 0;
	else
		cls = err.type == DPKG_MSG_ERROR ? 2 : 1;
	dpkg_error_destroy(&err);
	return cls;
}

static int signed_epoch(const char *v)
{
	return (v[0] == '+' || v[0] == '-') && strchr(v, ':');
}

static int our_dpkg_class(const char *v)
{
	int rc = scan_ver_dpkg_check(v, NULL, 0);

	return rc < 0 ? 2 : rc;
}

TEST(dpkg_vs_libdpkg)
{
	long want = pairs_wanted(), compared = 0, strings = 0, cls_n[3] = {0}, res_n[3] = {0}, bad = 0;
	long sign_skipped = 0;
	struct sb a, b;

	seed();
	while (compared < want) {
		struct dpkg_version va, vb;
		int ca, cb, ours, theirs;

		gen_dpkg(&a);
		if (below(2))
			mutate(&b, a.s, "0123456789.~+-:ab");
		else
			gen_dpkg(&b);
		/* dpkg's strtol() takes a sign before the epoch ("+1:2"); berth does not (documented) */
		if (signed_epoch(a.s) || signed_epoch(b.s)) {
			sign_skipped++;
			continue;
		}
		ca = dpkg_class(a.s, &va);
		cb = dpkg_class(b.s, &vb);
		strings += 2;
		cls_n[ca]++;
		cls_n[cb]++;
		if (ca != our_dpkg_class(a.s) || cb != our_dpkg_class(b.s)) {
			if (bad++ < 10)
				printf("  validity differs: \"%s\" dpkg %d ours %d / \"%s\" dpkg %d ours %d\n", a.s, ca,
				       our_dpkg_class(a.s), b.s, cb, our_dpkg_class(b.s));
			continue;
		}
		if (ca == 2 || cb == 2)
			continue;
		theirs = sign(dpkg_version_compare(&va, &vb));
		ours = sign(scan_ver_dpkg_cmp(a.s, b.s));
		compared++;
		res_n[theirs + 1]++;
		if (ours != theirs && bad++ < 10)
			printf("  dpkg order differs: \"%s\" vs \"%s\": dpkg %d ours %d\n", a.s, b.s, theirs, ours);
	}
	nffreeall();
	printf("  dpkg: %ld pairs compared (lt %ld, eq %ld, gt %ld); validity of %ld strings (ok %ld, warn %ld, "
	       "error %ld); %ld differences; %ld pairs with a signed epoch skipped\n",
	       compared, res_n[0], res_n[1], res_n[2], strings, cls_n[0], cls_n[1], cls_n[2], bad, sign_skipped);
	CHECK_EQ(bad, 0);
	CHECK(res_n[0] > want / 10 && res_n[1] > want / 50 && res_n[2] > want / 10);
	CHECK(cls_n[1] > 0 && cls_n[2] > 0);
}

/* ---- rpm ---- */

static void gen_rpm_seg(struct sb *b, int allow_dash)
{
	unsigned n = 1 + below(7);

	for (unsigned i = 0; i < n; i++) {
		switch (below(5)) {
		case 0:
		case 1:
			gen_digits(b);
			break;
		case 2:
			for (unsigned k = 1 + below(3); k; k--)
				sb_pick(b, "abcfgzABZ");
			break;
		case 3:
			sb_pick(b, allow_dash ? "~^._+-%" : "~^._+");
			break;
		default:
			sb_pick(b, ".~^");
			break;
		}
	}
}

static void gen_rpm_evr(struct sb *b)
{
	b->n = 0;
	b->s[0] = '\0';
	switch (below(10)) {
	case 0:
	case 1:
		gen_digits(b);
		sb_c(b, ':');
		break;
	case 2:
		sb_c(b, ':');
		break;
	}
	gen_rpm_seg(b, 0);
	switch (below(10)) {
	case 0:
		break;
	case 1:
		sb_c(b, '-');
		break;
	default:
		sb_c(b, '-');
		gen_rpm_seg(b, 0);
		break;
	}
}

TEST(rpm_vercmp_vs_librpm)
{
	long want = pairs_wanted(), res_n[3] = {0}, bad = 0;
	struct sb a, b;

	seed();
	for (long i = 0; i < want; i++) {
		int ours, theirs;

		a.n = 0;
		a.s[0] = '\0';
		if (below(50))
			gen_rpm_seg(&a, 1);
		if (below(2))
			mutate(&b, a.s, "0123456789.~^_ab");
		else {
			b.n = 0;
			b.s[0] = '\0';
			gen_rpm_seg(&b, 1);
		}
		theirs = sign(rpmvercmp(a.s, b.s));
		ours = sign(scan_ver_rpm_vercmp(a.s, b.s));
		res_n[theirs + 1]++;
		if (ours != theirs && bad++ < 10)
			printf("  rpmvercmp differs: \"%s\" vs \"%s\": rpm %d ours %d\n", a.s, b.s, theirs, ours);
	}
	printf("  rpmvercmp: %ld pairs (lt %ld, eq %ld, gt %ld); %ld differences\n", want, res_n[0], res_n[1], res_n[2],
	       bad);
	CHECK_EQ(bad, 0);
	CHECK(res_n[0] > want / 10 && res_n[1] > want / 50 && res_n[2] > want / 10);
}

TEST(rpm_evr_vs_librpm)
{
	long want = pairs_wanted(), res_n[3] = {0}, bad = 0;
	struct sb a, b;

	seed();
	for (long i = 0; i < want; i++) {
		rpmver ra, rb;
		int ours, theirs;

		gen_rpm_evr(&a);
		if (below(2))
			mutate(&b, a.s, "0123456789.~^-:ab");
		else
			gen_rpm_evr(&b);
		if (!b.s[0])
			sb_c(&b, '1'); /* rpmverParse refuses the empty string */
		ra = rpmverParse(a.s);
		rb = rpmverParse(b.s);
		CHECK(ra && rb);
		theirs = sign(rpmverCmp(ra, rb));
		ours = sign(scan_ver_rpm_cmp(a.s, b.s));
		rpmverFree(ra);
		rpmverFree(rb);
		res_n[theirs + 1]++;
		if (ours != theirs && bad++ < 10)
			printf("  rpm EVR differs: \"%s\" vs \"%s\": rpm %d ours %d\n", a.s, b.s, theirs, ours);
	}
	printf("  rpm EVR: %ld pairs (lt %ld, eq %ld, gt %ld); %ld differences\n", want, res_n[0], res_n[1], res_n[2],
	       bad);
	CHECK_EQ(bad, 0);
	CHECK(res_n[0] > want / 10 && res_n[1] > want / 50 && res_n[2] > want / 10);
}

/* ---- the command-line tools ---- */

#define CLI_PAIRS 300

/* Runs cmd with the pairs file on stdin and reads one integer per line into res. */
static int run_tool(const char *cmd, const char *pairs_path, int *res, int n)
{
	char line[64], full[1024];
	FILE *p;
	int i = 0;

	snprintf(full, sizeof full, "%s < %s", cmd, pairs_path);
	p = popen(full, "r");
	if (!p)
		return -1;
	while (i < n && fgets(line, sizeof line, p))
		res[i++] = sign(atoi(line));
	return pclose(p) == 0 && i == n ? 0 : -1;
}

TEST(dpkg_cli_agrees)
{
	static char as[CLI_PAIRS][VMAX + 1], bs[CLI_PAIRS][VMAX + 1];
	char path[] = "/tmp/berth-verdiff-XXXXXX";
	int res[CLI_PAIRS], n = 0, bad = 0, fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct sb a, b;

	CHECK(f != NULL);
	seed();
	rng_state ^= 0xd;
	while (n < CLI_PAIRS) {
		gen_dpkg(&a);
		mutate(&b, a.s, "0123456789.~+-ab");
		/* the shell reads whitespace-separated words: only versions dpkg accepts without a warning */
		if (our_dpkg_class(a.s) || our_dpkg_class(b.s))
			continue;
		memcpy(as[n], a.s, sizeof a.s);
		memcpy(bs[n], b.s, sizeof b.s);
		fprintf(f, "%s %s\n", a.s, b.s);
		n++;
	}
	fclose(f);
	CHECK_EQ(run_tool("sh -c 'while read a b; do if dpkg --compare-versions \"$a\" lt \"$b\"; then echo -1; "
			  "elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo 0; else echo 1; fi; done'",
			  path, res, n),
		 0);
	unlink(path);
	for (int i = 0; i < n; i++) {
		if (sign(scan_ver_dpkg_cmp(as[i], bs[i])) != res[i] && bad++ < 10)
			printf("  dpkg --compare-versions differs: \"%s\" vs \"%s\": dpkg %d\n", as[i], bs[i], res[i]);
	}
	printf("  dpkg --compare-versions: %d pairs, %d differences\n", n, bad);
	CHECK_EQ(bad, 0);
}

TEST(rpm_cli_agrees)
{
	static char as[CLI_PAIRS][VMAX + 1], bs[CLI_PAIRS][VMAX + 1];
	char path[] = "/tmp/berth-verdiff-XXXXXX", cmd[256];
	int res[CLI_PAIRS], bad = 0, fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct sb a, b;

	CHECK(f != NULL);
	seed();
	rng_state ^= 0x5;
	for (int i = 0; i < CLI_PAIRS; i++) {
		gen_rpm_evr(&a);
		mutate(&b, a.s, "0123456789.~^-:ab");
		if (!b.s[0])
			sb_c(&b, '1');
		memcpy(as[i], a.s, sizeof a.s);
		memcpy(bs[i], b.s, sizeof b.s);
		fprintf(f, "%s %s\n", a.s, b.s);
	}
	fclose(f);
	/* one rpm process: its Lua rpm.vercmp() over every line of stdin */
	snprintf(cmd, sizeof cmd,
		 "rpm --eval '%%{lua: for l in io.lines() do local a, b = l:match(\"^(%%S+) (%%S+)$\"); "
		 "io.write(rpm.vercmp(a, b), \"\\n\") end}' 2>/dev/null");
	CHECK_EQ(run_tool(cmd, path, res, CLI_PAIRS), 0);
	unlink(path);
	for (int i = 0; i < CLI_PAIRS; i++) {
		if (sign(scan_ver_rpm_cmp(as[i], bs[i])) != res[i] && bad++ < 10)
			printf("  rpm.vercmp differs: \"%s\" vs \"%s\": rpm %d\n", as[i], bs[i], res[i]);
	}
	printf("  rpm Lua rpm.vercmp: %d pairs, %d differences\n", CLI_PAIRS, bad);
	CHECK_EQ(bad, 0);
}

/* ---- apk: no reference here; the order must at least be a consistent total preorder ---- */

static void gen_apk(struct sb *b)
{
	static const char *const suf[] = {"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"};

	b->n = 0;
	b->s[0] = '\0';
	gen_digits(b);
	for (unsigned k = below(4); k; k--) {
		sb_c(b, '.');
		gen_digits(b);
	}
	if (!below(4))
		sb_pick(b, "abz");
	for (unsigned k = below(3) ? 0 : 1 + below(2); k; k--) {
		sb_c(b, '_');
		sb_s(b, suf[below(9)]);
		if (below(2))
			gen_digits(b);
	}
	if (!below(8)) {
		sb_c(b, '~');
		for (unsigned k = 1 + below(6); k; k--)
			sb_pick(b, "0123456789abcdef");
	}
	if (below(2)) {
		sb_s(b, "-r");
		gen_digits(b);
	}
}

static int apk_qsort_cmp(const void *x, const void *y)
{
	return scan_ver_apk_cmp(*(char *const *)x, *(char *const *)y);
}

TEST(apk_order_is_consistent)
{
	enum { N = 3000 };
	static char store[N][VMAX + 1];
	static char *v[N];
	long invalid = 0, bad = 0, checked = 0;
	struct sb a;

	seed();
	for (int i = 0; i < N; i++) {
		if (i % 2 && i > 0)
			mutate(&a, store[i - 1], "0123456789._-rpa");
		else
			gen_apk(&a);
		if (scan_ver_apk_check(a.s) < 0) {
			invalid++;
			gen_apk(&a);
		}
		CHECK_EQ(scan_ver_apk_check(a.s), 0);
		memcpy(store[i], a.s, sizeof a.s);
		v[i] = store[i];
	}
	qsort(v, N, sizeof *v, apk_qsort_cmp);
	/* after sorting, every pair i < j must be ordered: checks transitivity of the comparator */
	for (int i = 0; i < N; i++) {
		for (int j = i + 1; j < N; j += 1 + (int)below(7)) {
			int c = scan_ver_apk_cmp(v[i], v[j]), r = scan_ver_apk_cmp(v[j], v[i]);

			checked++;
			if ((c > 0 || sign(c) != -sign(r)) && bad++ < 10)
				printf("  apk order inconsistent: \"%s\" vs \"%s\": %d / %d\n", v[i], v[j], c, r);
		}
	}
	printf("  apk: %d versions sorted, %ld ordered pairs checked, %ld differences\n", N, checked, bad);
	CHECK_EQ(bad, 0);
}

static const struct test tests[] = {
    T(dpkg_vs_libdpkg),
    T(rpm_vercmp_vs_librpm),
    T(rpm_evr_vs_librpm),
    T(dpkg_cli_agrees),
    T(rpm_cli_agrees),
    T(apk_order_is_consistent),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
