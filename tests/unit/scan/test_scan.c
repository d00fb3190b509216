/* Unit tests for scan: version comparators, package database readers, os detection, matching. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "base/err.h"
#include "harness.h"
#include "scan/match.h"
#include "scan/osrel.h"
#include "scan/pkg.h"
#include "scan/ver.h"

/* Reads a whole file; NULL when it cannot. Caller frees. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		b = malloc((size_t)n + 1);
		if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
			free(b);
			b = NULL;
		}
		if (b) {
			b[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return b;
}

static void spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	CHECK_EQ(fwrite(p, 1, n, f), n);
	CHECK_EQ(fclose(f), 0);
}

/* A fresh temporary directory, removed by rmtree(). */
static void tmpdir(char *out, size_t n)
{
	snprintf(out, n, "/tmp/berth-scan-XXXXXX");
	CHECK(mkdtemp(out) != NULL);
}

static void rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
}

static const struct scan_pkg *find_pkg(const struct scan_pkgs *l, const char *name, const char *arch)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0 && (!arch || strcmp(l->v[i].arch, arch) == 0))
			return &l->v[i];
	return NULL;
}

#define CHECK_PKG(l, nm, ver, arch, src, srcver)                                                  \
	do {                                                                                      \
		const struct scan_pkg *p_ = find_pkg((l), (nm), (arch));                          \
		if (!p_)                                                                          \
			FAIL_AT("package %s (%s) not found", (nm), (arch) ? (arch) : "any arch"); \
		CHECK_STR(p_->version, (ver));                                                    \
		CHECK_STR(p_->source, (src));                                                     \
		CHECK_STR(p_->source_version, (srcver));                                          \
	} while (0)

static int sgn(int x)
{
	return x < 0 ? -1 : x > 0;
}

/* Each row: a, b, the expected sign of cmp(a, b); the reverse must give the opposite. */
struct vcase {
	const char *a, *b;
	int want;
};

static void check_cases(int (*cmp)(const char *, const char *), const struct vcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int got = sgn(cmp(c[i].a, c[i].b)), rev = sgn(cmp(c[i].b, c[i].a));

		if (got != c[i].want || rev != -c[i].want)
			FAIL_AT("cmp(\"%s\", \"%s\") = %d (reverse %d), want %d", c[i].a, c[i].b, got, rev, c[i].want);
		if (cmp(c[i].a, c[i].a) != 0)
			FAIL_AT("cmp(\"%s\", itself) != 0", c[i].a);
	}
}

#define CASES(cmp, arr) check_cases(cmp, arr, sizeof arr / sizeof *arr)

TEST(dpkg_order)
{
	static const struct vcase c[] = {
	    {"1.0~rc1", "1.0", -1},
	    {"1.0", "1.0+b1", -1},
	    {"1:0.9", "2.0", 1},
	    {"1.0-1", "1.0-1.1", -1},
	    {"1.0~~", "1.0~~a", -1},
	    {"1.0~~a", "1.0~", -1},
	    {"1.0~", "1.0", -1},
	    {"1.0", "1.0a", -1},
	    {"1.0a", "1.0+", -1},
	    {"1.0-0", "1.0", 0},
	    {"0:1.0", "1.0", 0},
	    {"1.01", "1.1", 0},
	    {"1.2.10", "1.2.9", 1},
	    {"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	    {"1.0-1~bpo12+1", "1.0-1", -1},
	    {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
	    {"1:2.0", "01:2.0", 0},
	    {"99999999999999999999:1", "99999999999999999998:1", 1},
	    {" 1.0 ", "1.0", 0},
	    {"1.0", "1.0.", -1},
	    {"a", "b", -1},
	    {"1.0-a", "1.0-+", -1},
	    {"1.0\xe9", "1.0z", 1},
	    {"1.0\xe9", "1.0.", -1},
	};

	CASES(scan_ver_dpkg_cmp, c);
}

TEST(dpkg_check)
{
	char why[100];

	CHECK_EQ(scan_ver_dpkg_check("1.0", why, sizeof why), 0);
	CHECK_EQ(scan_ver_dpkg_check(" 1:2.3~rc1-4+deb12u1 ", why, sizeof why), 0);
	CHECK_EQ(scan_ver_dpkg_check("2147483647:1", why, sizeof why), 0);
	CHECK_EQ(scan_ver_dpkg_check("1:2:3-4-5", why, sizeof why), 0);
	CHECK_EQ(scan_ver_dpkg_check("a1", why, sizeof why), SCAN_VER_WARN);
	CHECK_STR(why, "upstream version does not start with a digit");
	CHECK_EQ(scan_ver_dpkg_check("1.0_1", why, sizeof why), SCAN_VER_WARN);
	CHECK_EQ(scan_ver_dpkg_check("1.0-a_b", why, sizeof why), SCAN_VER_WARN);
	CHECK_STR(why, "invalid character in revision");
	CHECK_EQ(scan_ver_dpkg_check("", why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "version is empty");
	CHECK_EQ(scan_ver_dpkg_check("1:", why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "nothing after the epoch's colon");
	CHECK_EQ(scan_ver_dpkg_check("1.0-", why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "revision is empty");
	CHECK_EQ(scan_ver_dpkg_check("1 0", why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_ver_dpkg_check("-1", why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "upstream version is empty");
	CHECK_EQ(scan_ver_dpkg_check(":1", why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_ver_dpkg_check("x:1", why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_ver_dpkg_check("+1:1", why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_ver_dpkg_check("2147483648:1", why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "epoch is too big");
	CHECK_EQ(scan_ver_dpkg_check("1.0", NULL, 0), 0);
}

TEST(rpm_vercmp)
{
	static const struct vcase c[] = {
	    {"1.0~rc1", "1.0", -1},
	    {"1.0^git1", "1.0", 1},
	    {"1.0^git1", "1.0.1", -1},
	    {"1.0", "1_0", 0},
	    {"1.0a", "1.0.a", 0},
	    {"a", "1", -1},
	    {"10", "9", 1},
	    {"1.010", "1.10", 0},
	    {"1.0", "1.0.", 0},
	    {"~~", "~", -1},
	    {"1.0~", "1.0^", -1},
	    {"el9", "el9_2", -1},
	    {"", "", 0},
	    {"", "~", 1},
	    {"", "^", -1},
	    {"abc", "abd", -1},
	    {"1.0", "1.0a", -1},
	    {"1a", "1.a", 0},
	    {"123456789012345678901", "123456789012345678900", 1},
	};

	CASES(scan_ver_rpm_vercmp, c);
}

TEST(rpm_evr)
{
	static const struct vcase c[] = {
	    {"2:1.0-1", "1:9.9-9", 1},
	    {"1.0-1.el9", "1.0-1.el9_2", -1},
	    {"1.0", "1.0-1", -1},
	    {"0:1.0-1", "1.0-1", 0},
	    {":1.0-1", "1.0-1", 0},
	    {"1.0-", "1.0", 1},
	    {"3.0.7-27.el9", "1:3.0.7-24.el9", -1},
	    {"5.1.8-6.el9", "5.1.8-6.el9_1", -1},
	    {"1.0-1-2", "1.0-1", 1},
	    {"a:1", "1", -1},
	    {"1:", "0:", 1},
	};

	CASES(scan_ver_rpm_cmp, c);
}

TEST(apk_order)
{
	/* each row is one of the rules in docs/internals/scan.md */
	static const struct vcase c[] = {
	    {"1.0", "1.0.1", -1}, /* a version that ends is older than one that goes on */
	    {"1.0_alpha", "1.0_beta", -1}, /* suffix ranks */
	    {"1.0_beta", "1.0_pre", -1},
	    {"1.0_pre", "1.0_rc", -1},
	    {"1.0_rc", "1.0", -1}, /* ... pre-release suffixes are older than no suffix */
	    {"1.0", "1.0_cvs", -1}, /* ... post-release ones newer */
	    {"1.0_cvs", "1.0_svn", -1},
	    {"1.0_svn", "1.0_git", -1},
	    {"1.0_git", "1.0_hg", -1},
	    {"1.0_hg", "1.0_p", -1},
	    {"1.0_rc", "1.0_rc1", -1},
	    {"1.0_rc2", "1.0_rc10", -1},
	    {"1.0_alpha_beta", "1.0_alpha", -1},
	    {"1.0_p1_p2", "1.0_p1", 1},
	    {"1.0", "1.0-r0", -1},
	    {"1.0-r1", "1.0-r2", -1},
	    {"1.0-r9", "1.0-r10", -1},
	    {"1.0", "1.0a", -1},
	    {"1.0a", "1.0b", -1},
	    {"1.0a", "1.0.1", -1},
	    {"1.0_rc1", "1.0a", -1},
	    {"1.0_p1", "1.0.1", -1},
	    {"1.0-r5", "1.0.1", -1},
	    {"1.0", "1.0~abc", -1},
	    {"1.0~abc", "1.0~abd", -1},
	    {"1.0~abc", "1.0-r1", 1},
	    {"1.01", "1.1", -1}, /* a leading zero makes the component compare as a string */
	    {"1.001", "1.01", -1},
	    {"1.0", "1.00", -1},
	    {"1.05", "1.5", -1},
	    {"1.010", "1.10", -1},
	    {"1.10", "1.9", 1},
	    {"01.0", "1.0", 0},
	    {"1.2.3", "1.2.10", -1},
	    {"1.99999999999999999999", "1.100000000000000000000", -1},
	    {"2024a-r0", "2024b-r0", -1},
	    {"2024a-r1", "2024a-r0", 1},
	    {"1.36.1-r5", "1.36.1-r15", -1},
	    {"3.1.4-r5", "3.1.4_p1-r0", -1},
	    {"1.0", "1.0-x", 1}, /* an invalid tail is older than the end */
	    {"", "abc", 0}, /* two invalid starts are equal */
	};

	CASES(scan_ver_apk_cmp, c);
}

TEST(apk_check)
{
	static const char *const ok[] = {"1",
					 "1.0",
					 "1.2.3",
					 "1.2.3a",
					 "1.2.3_alpha",
					 "1.2.3_alpha1",
					 "1.2.3_rc1_p2",
					 "1.2_p",
					 "1.0~abc123",
					 "1.0-r0",
					 "1.0_git20240101-r3",
					 "2024a-r0",
					 "0.0.0",
					 "1.0~0f-r1",
					 "1.0a_p1~ff-r2"};
	static const char *const bad[] = {"",          "a1",        "1..0",    "1.",      "1.0-",   "1.0-r",
					  "1.0-rx",    "1.0_foo",   "1.0_",    "1a.2",    "1ab",    "1.0_p1a",
					  "1.0-r1-r2", "1.0~",      "1.0~xyz", "1.0~ABC", "1.0 ",   "1,0",
					  "1.0-r1_p1", "1.0~ab_p1", "1.0-1",   "1a1",     "1.0_P1", "-r1"};

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (scan_ver_apk_check(ok[i]) != 0)
			FAIL_AT("\"%s\" should be valid", ok[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (scan_ver_apk_check(bad[i]) != -BERTH_EINVAL)
			FAIL_AT("\"%s\" should be invalid", bad[i]);
}

TEST(ver_dispatch)
{
	CHECK(scan_ver_cmp(SCAN_ECO_DPKG, "1.0~1", "1.0") < 0);
	CHECK(scan_ver_cmp(SCAN_ECO_RPM, "1:1.0", "2.0") > 0);
	CHECK(scan_ver_cmp(SCAN_ECO_APK, "1.0_rc1", "1.0") < 0);
	CHECK(scan_ver_cmp(SCAN_ECO_NONE, "b", "a") > 0);
	CHECK_STR(scan_eco_name(SCAN_ECO_RPM), "rpm");
	CHECK_STR(scan_eco_name((enum scan_eco)42), "none");
}

/* ---- dpkg ---- */

static const char dpkg_status[] = "Package: libc6\n"
				  "Status: install ok installed\n"
				  "Priority: optional\n"
				  "Architecture: amd64\n"
				  "Multi-Arch: same\n"
				  "Source: glibc\n"
				  "Version: 2.36-9+deb12u4\n"
				  "Description: GNU C Library: Shared libraries\n"
				  " Contains the standard libraries that are used by nearly all programs on\n"
				  " the system.\n"
				  "\t.\n"
				  "\n"
				  "package: libc6\n" /* field names are case-insensitive */
				  "STATUS: install ok installed\n"
				  "Architecture: i386\n"
				  "Source: glibc\n"
				  "Version: 2.36-9+deb12u4\n"
				  "\n\n  \t\n" /* several separators, one with blanks */
				  "Package: gcc\n"
				  "Status: hold ok installed\n" /* held: still installed */
				  "Architecture: amd64\n"
				  "Source: gcc-defaults (1.203)\n" /* binary and source versions differ */
				  "Version: 4:12.2.0-3\n"
				  "\n"
				  "Package: libssl1.1\n"
				  "Status: deinstall ok config-files\n" /* removed, only its conffiles left */
				  "Architecture: amd64\n"
				  "Version: 1.1.1n-0+deb11u5\n"
				  "\n"
				  "Package: half\n"
				  "Status: install reinstreq half-installed\n"
				  "Version: 1.0\n"
				  "\n"
				  "Package: trig\n"
				  "Status: install ok triggers-pending\n"
				  "Architecture: all\n"
				  "Source: trig-src (1:0.5-1)\n"
				  "Version: 1:0.5-1+b2\n"
				  "Config-Version: 1:0.5-1\n"
				  "\n"
				  "Package: zlib1g\n"
				  "Status: install ok installed\n"
				  "Architecture: amd64\n"
				  "Source: zlib\n"
				  "Version: 1:1.2.13.dfsg-1"; /* no final newline */

TEST(dpkg_status_parse)
{
	struct scan_pkgs l;
	char why[200] = "";

	scan_pkgs_init(&l);
	CHECK_EQ(scan_dpkg_parse(dpkg_status, strlen(dpkg_status), 0, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 5);
	CHECK_PKG(&l, "libc6", "2.36-9+deb12u4", "amd64", "glibc", "2.36-9+deb12u4");
	CHECK_PKG(&l, "libc6", "2.36-9+deb12u4", "i386", "glibc", "2.36-9+deb12u4");
	CHECK_PKG(&l, "gcc", "4:12.2.0-3", "amd64", "gcc-defaults", "1.203");
	CHECK_PKG(&l, "trig", "1:0.5-1+b2", "all", "trig-src", "1:0.5-1");
	CHECK_PKG(&l, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1");
	CHECK(find_pkg(&l, "libssl1.1", NULL) == NULL);
	CHECK(find_pkg(&l, "half", NULL) == NULL);
	CHECK_EQ(l.v[0].eco, SCAN_ECO_DPKG);
	scan_pkgs_release(&l);
	CHECK_EQ(l.n, 0);
}

TEST(dpkg_status_d)
{
	/* distroless writes one file per package into status.d/, without Status */
	static const char f[] = "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"
				"Maintainer: Santiago Vila <sanvila@debian.org>\n";
	struct scan_pkgs l;
	char why[200];

	scan_pkgs_init(&l);
	CHECK_EQ(scan_dpkg_parse(f, strlen(f), SCAN_DPKG_STATUS_D, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 1);
	CHECK_PKG(&l, "base-files", "12.4+deb12u5", "amd64", "base-files", "12.4+deb12u5");
	/* the main status file must say Status */
	CHECK_EQ(scan_dpkg_parse(f, strlen(f), 0, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "line 1: package base-files has no Status field");
	CHECK_EQ(l.n, 1);
	CHECK_EQ(scan_dpkg_statusd_name_ok("base-files"), 1);
	CHECK_EQ(scan_dpkg_statusd_name_ok("libc6.md5sums"), 0);
	CHECK_EQ(scan_dpkg_statusd_name_ok(".hidden"), 0);
	CHECK_EQ(scan_dpkg_statusd_name_ok(""), 0);
	scan_pkgs_release(&l);
}

/* Each malformed status fails with this exact reason and leaves the list as it was. */
TEST(dpkg_status_hostile)
{
	static const struct {
		const char *in, *why;
	} c[] = {
	    {"Package: a\nStatus: install ok installed\nVersion 1.0\n", "line 3: not a \"Field: value\" line"},
	    {" continued\n", "line 1: continuation line outside a field"},
	    {"Package: a\nStatus: purge ok not-installed\n\n continued\n", "line 4: continuation line outside a field"},
	    {"Package: a\nStatus: install ok installed\nVersion: 1.0\nVersion: 1.1\n",
	     "line 4: duplicate Version field"},
	    {"Status: install ok installed\nVersion: 1.0\n", "line 1: paragraph has no Package field"},
	    {"Package: a\nStatus: install ok installed\n", "line 1: package a has no Version field"},
	    {"Package: a\nStatus: install ok installed\nVersion: 1:\n",
	     "line 3: package a: version \"1:\": nothing after the epoch's colon"},
	    {"Package: a\nStatus: install ok installed\nVersion: 1 2\n",
	     "line 3: package a: version \"1 2\": version has embedded blanks"},
	    {"Package: a\nStatus: install ok maybe\nVersion: 1\n", "line 2: invalid Status \"install ok maybe\""},
	    {"Package: a\nStatus: install ok\nVersion: 1\n", "line 2: invalid Status \"install ok\""},
	    {"Package: a\nStatus: install ok installed now\nVersion: 1\n",
	     "line 2: invalid Status \"install ok installed now\""},
	    {"Package: a\nStatus: install broken installed\nVersion: 1\n",
	     "line 2: invalid Status \"install broken installed\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (\n", "line 4: invalid Source \"b (\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (1:)\n",
	     "line 4: invalid Source version \"b (1:)\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\nSource: b c\n", "line 4: invalid Source \"b c\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\nSource: (1.0)\n",
	     "line 4: invalid Source \"(1.0)\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1.0\n 2.0\n", "line 4: Version must be one line"},
	    {"Package: Foo Bar\nStatus: install ok installed\nVersion: 1\n",
	     "line 1: invalid package name \"Foo Bar\""},
	    {"Package: -a\nStatus: install ok installed\nVersion: 1\n", "line 1: invalid package name \"-a\""},
	    {"Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n", "line 1: invalid package name \"a\r\""},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: am d64\n",
	     "line 4: invalid Architecture"},
	    {"Package:\nStatus: install ok installed\n", "line 1: Package is empty"},
	    {"#comment: x\n", "line 1: not a \"Field: value\" line"},
	    {"Pack age: a\n", "line 1: invalid field name"},
	    {": a\n", "line 1: not a \"Field: value\" line"},
	    {"Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: install ok installed\n",
	     "line 5: package b has no Version field"},
	};
	struct scan_pkgs l;
	char why[200];

	scan_pkgs_init(&l);
	CHECK_EQ(
	    scan_dpkg_parse("Package: keep\nStatus: install ok installed\nVersion: 1\n", 54, 0, &l, why, sizeof why),
	    0);
	CHECK_EQ(l.n, 1);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		why[0] = '\0';
		if (scan_dpkg_parse(c[i].in, strlen(c[i].in), 0, &l, why, sizeof why) != -BERTH_EINVAL)
			FAIL_AT("case %zu accepted", i);
		if (strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu: why \"%s\", want \"%s\"", i, why, c[i].why);
		CHECK_EQ(l.n, 1);
	}
	/* a NUL byte, and a file over the size limit */
	CHECK_EQ(scan_dpkg_parse("Package: a\0b\n", 13, 0, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "NUL byte at offset 10");
	CHECK_EQ(scan_dpkg_parse("", SCAN_TEXT_MAX + 1, 0, &l, why, sizeof why), -BERTH_ETOOBIG);
	/* a too-long kept field */
	{
		char *big = malloc(SCAN_FIELD_MAX + 100);

		memcpy(big, "Package: ", 9);
		memset(big + 9, 'a', SCAN_FIELD_MAX + 1);
		CHECK_EQ(scan_dpkg_parse(big, 9 + SCAN_FIELD_MAX + 1, 0, &l, why, sizeof why), -BERTH_EINVAL);
		CHECK_STR(why, "line 1: Package is too long");
		free(big);
	}
	/* an empty file is an empty database */
	CHECK_EQ(scan_dpkg_parse("", 0, 0, &l, why, sizeof why), 0);
	CHECK_EQ(scan_dpkg_parse("\n\n", 2, 0, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 1);
	scan_pkgs_release(&l);
}

/* The machine's own dpkg database, read by berth and by dpkg-query: the same packages. */
TEST(dpkg_status_matches_dpkg_query)
{
	char dir[64], path[128], cmd[512], line[2048];
	struct scan_pkgs l;
	size_t len, seen = 0;
	char *status, why[200];
	FILE *q;

	tmpdir(dir, sizeof dir);
	status = slurp("/var/lib/dpkg/status", &len);
	CHECK(status != NULL);
	snprintf(path, sizeof path, "%s/status", dir);
	spill(path, status, len);
	scan_pkgs_init(&l);
	CHECK_EQ(scan_dpkg_parse(status, len, 0, &l, why, sizeof why), 0);
	CHECK(l.n > 10);
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/updates %s/info && dpkg-query --admindir=%s -W "
		 "-f='${Status}|${Package}|${Version}|${Architecture}|${source:Package}|${source:Version}\\n'",
		 dir, dir, dir);
	q = popen(cmd, "r");
	CHECK(q != NULL);
	while (fgets(line, sizeof line, q)) {
		char *f[6], *save = NULL, *st;
		const struct scan_pkg *p;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, "|", &save); t && k < 6; t = strtok_r(NULL, "|", &save))
			f[k++] = t;
		CHECK_EQ(k, 6);
		st = strrchr(f[0], ' ');
		if (!strstr(f[0], " ok ") || !(strcmp(st, " installed") == 0 || strstr(st, "triggers")))
			continue;
		p = find_pkg(&l, f[1], f[3]);
		if (!p)
			FAIL_AT("dpkg-query lists %s:%s, berth does not", f[1], f[3]);
		CHECK_STR(p->version, f[2]);
		CHECK_STR(p->source, f[4]);
		CHECK_STR(p->source_version, f[5]);
		seen++;
	}
	CHECK_EQ(pclose(q), 0);
	CHECK_EQ(seen, l.n);
	printf("  %zu installed packages agree with dpkg-query\n", seen);
	scan_pkgs_release(&l);
	free(status);
	rmtree(dir);
}

/* ---- apk ---- */

static const char apk_installed[] = "C:Q1p78yvTLG094tHE1+dToJGbmYzQE=\n"
				    "P:musl\n"
				    "V:1.2.4_git20230717-r4\n"
				    "A:x86_64\n"
				    "S:407278\n"
				    "I:667648\n"
				    "T:the musl c library (libc) implementation\n"
				    "U:https://musl.libc.org/\n"
				    "L:MIT\n"
				    "o:musl\n"
				    "m:Timo Ter\xc3\xa4s <timo.teras@iki.fi>\n"
				    "t:1704290731\n"
				    "c:6a0a4d3b4f4b3fc7b8a3e1f7d2c5b6a7e8f9a0b1\n"
				    "p:so:libc.musl-x86_64.so.1=1\n"
				    "F:lib\n"
				    "R:ld-musl-x86_64.so.1\n"
				    "a:0:0:755\n"
				    "Z:Q1dLbk4ARN3OIqXLQjzF3gLCaAPHQ=\n"
				    "R:libc.musl-x86_64.so.1\n"
				    "\n"
				    "C:Q1Ka0bD5CKuwvNKLHFGJvAr9lTGZM=\n"
				    "P:libcrypto3\n"
				    "V:3.1.4-r5\n"
				    "A:x86_64\n"
				    "o:openssl\n"
				    "D:so:libc.musl-x86_64.so.1\n"
				    "\n"
				    "P:alpine-baselayout-data\n"
				    "V:3.4.3-r2\n"
				    "A:x86_64\n"; /* no origin: the name is its own origin; no final blank line */

TEST(apk_parse)
{
	struct scan_pkgs l;
	char why[200] = "";

	scan_pkgs_init(&l);
	CHECK_EQ(scan_apk_parse(apk_installed, strlen(apk_installed), &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 3);
	CHECK_PKG(&l, "musl", "1.2.4_git20230717-r4", "x86_64", "musl", "1.2.4_git20230717-r4");
	CHECK_PKG(&l, "libcrypto3", "3.1.4-r5", "x86_64", "openssl", "3.1.4-r5");
	CHECK_PKG(&l, "alpine-baselayout-data", "3.4.3-r2", "x86_64", "alpine-baselayout-data", "3.4.3-r2");
	CHECK_EQ(l.v[1].eco, SCAN_ECO_APK);
	scan_pkgs_release(&l);
}

TEST(apk_hostile)
{
	static const struct {
		const char *in, *why;
	} c[] = {
	    {"P:a\nV:1.0-r0\nnot a line\n", "line 3: not a \"K:value\" line"},
	    {"P:a\nV:1.0-r0\n:x\n", "line 3: not a \"K:value\" line"},
	    {"P:a\nV:1.0-r0\nX\n", "line 3: not a \"K:value\" line"},
	    {"V:1.0-r0\nA:x86_64\n", "line 1: record has no P: (name)"},
	    {"P:a\nA:x86_64\n", "line 1: package a has no V: (version)"},
	    {"P:a\nV:1.0-r0\nP:b\n", "line 3: duplicate P: in one record"},
	    {"P:a\nV:1.0-r0-r1\n", "line 2: package a: invalid version \"1.0-r0-r1\""},
	    {"P:a\nV:one\n", "line 2: package a: invalid version \"one\""},
	    {"P:a b\nV:1.0\n", "line 1: invalid package name \"a b\""},
	    {"P:a\nV:1.0\no:-x\n", "line 3: invalid origin \"-x\""},
	    {"P:\nV:1.0\n", "line 1: P: is empty"},
	    {"P:a\nV:1.0\nA:x 86\n", "line 3: invalid arch"},
	    {"P:a\r\nV:1.0\r\n", "line 1: invalid package name \"a\r\""},
	    {"P:a\nV:1\n\n \n", "line 4: not a \"K:value\" line"},
	};
	struct scan_pkgs l;
	char why[200];

	scan_pkgs_init(&l);
	CHECK_EQ(scan_apk_parse("P:keep\nV:1\n", 11, &l, why, sizeof why), 0);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		why[0] = '\0';
		if (scan_apk_parse(c[i].in, strlen(c[i].in), &l, why, sizeof why) != -BERTH_EINVAL)
			FAIL_AT("case %zu accepted", i);
		if (strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu: why \"%s\", want \"%s\"", i, why, c[i].why);
		CHECK_EQ(l.n, 1);
	}
	CHECK_EQ(scan_apk_parse("P:a\0\n", 5, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "NUL byte at offset 3");
	CHECK_EQ(scan_apk_parse("", SCAN_TEXT_MAX + 1, &l, why, sizeof why), -BERTH_ETOOBIG);
	CHECK_EQ(scan_apk_parse("\n\n\n", 3, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 1);
	scan_pkgs_release(&l);
}

/* ---- rpm headers ---- */

struct hentry {
	uint32_t tag, type, count;
	const void *val;
	size_t len;
	long off; /* -1: place val in the data store; else use this offset as is */
};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Builds a header blob from entries; returns its length (blob has room for 4096 bytes). */
static size_t mkhdr(unsigned char *blob, const struct hentry *e, size_t n)
{
	unsigned char data[2048];
	size_t dl = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t off;

		if (e[i].off >= 0) {
			off = (uint32_t)e[i].off;
		} else {
			if (e[i].type == 4)
				while (dl % 4)
					data[dl++] = 0;
			off = (uint32_t)dl;
			memcpy(data + dl, e[i].val, e[i].len);
			dl += e[i].len;
		}
		put32(blob + 8 + i * 16, e[i].tag);
		put32(blob + 12 + i * 16, e[i].type);
		put32(blob + 16 + i * 16, off);
		put32(blob + 20 + i * 16, e[i].count);
	}
	put32(blob, (uint32_t)n);
	put32(blob + 4, (uint32_t)dl);
	memcpy(blob + 8 + n * 16, data, dl);
	return 8 + n * 16 + dl;
}

#define S(tag, s)                           \
	{                                   \
		tag, 6, 1, s, sizeof(s), -1 \
	}
static const unsigned char epoch7[4] = {0, 0, 0, 7};

TEST(rpm_header_parse)
{
	const struct hentry good[] = {
	    {63, 7, 16, "0123456789abcdef", 16, -1}, /* a region tag, ignored */
	    S(1000, "openssl-libs"),
	    S(1001, "3.0.7"),
	    S(1002, "27.el9"),
	    {1003, 4, 1, epoch7, 4, -1},
	    S(1022, "x86_64"),
	    S(1044, "openssl-3.0.7-27.el9.src.rpm"),
	    S(1004, "summary, ignored"),
	};
	const struct hentry noepoch[] = {S(1000, "bash"), S(1001, "5.1.8"), S(1002, "6.el9_1"), S(1022, "x86_64"),
					 S(1044, "bash-5.1.8-6.el9_1.src.rpm")};
	const struct hentry key[] = {S(1000, "gpg-pubkey"), S(1001, "fd431d51"), S(1002, "4ae0493b")};
	const struct hentry oddsrc[] = {S(1000, "x"), S(1001, "1"), S(1002, "1"), S(1044, "(none)")};
	unsigned char blob[4096];
	struct scan_pkgs l;
	char why[200] = "";
	size_t n;

	scan_pkgs_init(&l);
	n = mkhdr(blob, good, sizeof good / sizeof *good);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), 0);
	n = mkhdr(blob, noepoch, sizeof noepoch / sizeof *noepoch);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), 0);
	n = mkhdr(blob, key, sizeof key / sizeof *key);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), 0); /* skipped */
	n = mkhdr(blob, oddsrc, sizeof oddsrc / sizeof *oddsrc);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 3);
	CHECK_PKG(&l, "openssl-libs", "7:3.0.7-27.el9", "x86_64", "openssl", "7:3.0.7-27.el9");
	CHECK_PKG(&l, "bash", "5.1.8-6.el9_1", "x86_64", "bash", "5.1.8-6.el9_1");
	CHECK_PKG(&l, "x", "1-1", "", "x", "1-1");
	CHECK_EQ(l.v[0].eco, SCAN_ECO_RPM);
	scan_pkgs_release(&l);
}

TEST(rpm_header_hostile)
{
	static const char unterminated[] = {'a', 'b', 'c'};
	const struct hentry base[] = {S(1000, "a"), S(1001, "1"), S(1002, "1")};
	const struct {
		struct hentry e[4];
		size_t n;
		const char *why;
	} c[] = {
	    {{S(1000, "a"), S(1001, "1")}, 2, "header lacks RELEASE"},
	    {{S(1001, "1"), S(1002, "1")}, 2, "header lacks NAME"},
	    {{S(1000, "a"), S(1001, "1"), S(1002, "1"), S(1000, "b")}, 4, "header entry 3: bad string for tag 1000"},
	    {{S(1000, "a"), S(1001, "1-2"), S(1002, "1")},
	     3,
	     "header has an empty or hyphenated name, version or release"},
	    {{S(1000, "a"), S(1001, ""), S(1002, "1")},
	     3,
	     "header has an empty or hyphenated name, version or release"},
	    {{S(1000, "a"), S(1001, "1"), S(1002, "1"), {1003, 4, 1, epoch7, 4, 1}}, 4, "header entry 3: bad EPOCH"},
	    {{S(1000, "a"), S(1001, "1"), S(1002, "1"), {1003, 4, 2, epoch7, 4, -1}}, 4, "header entry 3: bad EPOCH"},
	    {{S(1000, "a"), S(1001, "1"), S(1002, "1"), {1003, 6, 1, "7", 2, -1}}, 4, "header entry 3: bad EPOCH"},
	    {{S(1000, "a"), S(1001, "1"), S(1002, "1"), {1003, 4, 1, epoch7, 4, 4096}}, 4, "header entry 3: bad EPOCH"},
	    {{S(1000, "a"), S(1001, "1"), {1002, 6, 1, "1", 2, 1000}}, 3, "header entry 2: bad string for tag 1002"},
	    {{S(1000, "a"), S(1001, "1"), {1002, 6, 1, unterminated, 3, -1}},
	     3,
	     "header entry 2: bad string for tag 1002"},
	    {{S(1000, "a"), S(1001, "1"), {1002, 8, 1, "1", 2, -1}}, 3, "header entry 2: bad string for tag 1002"},
	    {{S(1000, "a"), S(1001, "1"), {1002, 6, 2, "1", 2, -1}}, 3, "header entry 2: bad string for tag 1002"},
	};
	unsigned char blob[4096];
	struct scan_pkgs l;
	char why[200];
	size_t n;

	scan_pkgs_init(&l);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		n = mkhdr(blob, c[i].e, c[i].n);
		why[0] = '\0';
		if (scan_rpm_header_parse(blob, n, &l, why, sizeof why) != -BERTH_EINVAL)
			FAIL_AT("case %zu accepted", i);
		if (strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu: why \"%s\", want \"%s\"", i, why, c[i].why);
	}
	/* sizes */
	n = mkhdr(blob, base, 3);
	CHECK_EQ(scan_rpm_header_parse(blob, 7, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "header of 7 bytes is too short");
	CHECK_EQ(scan_rpm_header_parse(blob, n - 1, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_rpm_header_parse(blob, n + 1, &l, why, sizeof why), -BERTH_EINVAL);
	put32(blob, 0);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_STR(why, "header has 0 index entries");
	put32(blob, 0x10000);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), -BERTH_EINVAL);
	put32(blob, 0x0fffffff); /* il * 16 wraps 32 bits: must not pass the size check */
	put32(blob + 4, 0xffffffff);
	CHECK_EQ(scan_rpm_header_parse(blob, n, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(l.n, 0);
	scan_pkgs_release(&l);
}

/* ---- rpmdb.sqlite ---- */

/* Makes the fixture database with the real rpm (tests/unit/scan/mkrpmdb.sh) under dir. */
static void make_rpmdb(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "sh %s/mkrpmdb.sh %s >%s/mkrpmdb.log 2>&1", TEST_SRCDIR, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof cmd, "cat %s/mkrpmdb.log >&2", dir);
		(void)!system(cmd);
		FAIL_AT("mkrpmdb.sh failed");
	}
}

/* Compares a package list with rpm's own reading (expected.txt). */
static void check_against_rpm(const char *dir, const struct scan_pkgs *l)
{
	char path[256], line[512];
	size_t lines = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/expected.txt", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f)) {
		char *fld[6], *save = NULL, evr[300], srcname[200];
		const struct scan_pkg *p;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, "|", &save); t && k < 6; t = strtok_r(NULL, "|", &save))
			fld[k++] = t;
		CHECK_EQ(k, 6);
		if (strcmp(fld[1], "(none)") == 0)
			snprintf(evr, sizeof evr, "%s-%s", fld[2], fld[3]);
		else
			snprintf(evr, sizeof evr, "%s:%s-%s", fld[1], fld[2], fld[3]);
		/* the source name is the SOURCERPM minus "-version-release.src.rpm" */
		snprintf(srcname, sizeof srcname, "%s", fld[5]);
		for (int dashes = 0; dashes < 2;)
			if (srcname[strlen(srcname) - 1] == '-')
				srcname[strlen(srcname) - 1] = '\0', dashes++;
			else
				srcname[strlen(srcname) - 1] = '\0';
		p = find_pkg(l, fld[0], fld[4]);
		if (!p)
			FAIL_AT("rpm lists %s.%s, berth does not", fld[0], fld[4]);
		CHECK_STR(p->version, evr);
		CHECK_STR(p->source, srcname);
		lines++;
	}
	fclose(f);
	CHECK_EQ(lines, l->n);
}

TEST(rpmdb_sqlite_real)
{
	char dir[64], db[128], copy[160], why[200] = "";
	struct scan_pkgs l;
	size_t len;
	char *bytes;

	tmpdir(dir, sizeof dir);
	make_rpmdb(dir);
	snprintf(db, sizeof db, "%s/root/var/lib/rpm/rpmdb.sqlite", dir);
	scan_pkgs_init(&l);
	CHECK_EQ(scan_rpmdb_sqlite_read_file(db, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 4);
	check_against_rpm(dir, &l);
	CHECK_PKG(&l, "berth-a", "2:1.2.3-4.el9", "noarch", "berth-a", "2:1.2.3-4.el9");
	CHECK_PKG(&l, "berth-libs", "0.9-7.el9_2", "noarch", "berth-src", "0.9-7.el9_2");
	CHECK_PKG(&l, "berth-c", "2.0~rc1^git3-1", "x86_64", "berth-c", "2.0~rc1^git3-1");
	scan_pkgs_release(&l);

	/* the same bytes from memory, and the file alone (as extracted from a layer: no -wal, no -shm),
	 * in a directory with a '%' and a '?' in its name */
	bytes = slurp(db, &len);
	CHECK(bytes != NULL);
	CHECK_EQ(scan_rpmdb_sqlite_read_mem(bytes, len, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 4);
	check_against_rpm(dir, &l);
	scan_pkgs_release(&l);
	snprintf(copy, sizeof copy, "%s/odd%%3F?#dir", dir);
	CHECK_EQ(mkdir(copy, 0755), 0);
	snprintf(copy, sizeof copy, "%s/odd%%3F?#dir/rpmdb.sqlite", dir);
	spill(copy, bytes, len);
	CHECK_EQ(chmod(copy, 0444), 0);
	CHECK_EQ(scan_rpmdb_sqlite_read_file(copy, &l, why, sizeof why), 0);
	CHECK_EQ(l.n, 4);
	scan_pkgs_release(&l);
	{
		char slashes[200];

		snprintf(slashes, sizeof slashes, "/%s", db); /* "//tmp/...": a path, not a URI host */
		CHECK_EQ(scan_rpmdb_sqlite_read_file(slashes, &l, why, sizeof why), 0);
		CHECK_EQ(l.n, 4);
		scan_pkgs_release(&l);
	}
	snprintf(copy, sizeof copy, "%s/odd%%3F?#dir/rpmdb.sqlite-wal", dir);
	CHECK_EQ(access(copy, F_OK), -1); /* nothing was created beside it */

	/* cut in half: an error, not a crash; the list is unchanged */
	CHECK_EQ(scan_pkgs_add(&l, SCAN_ECO_RPM, "keep", 4, "1-1", 3, "", 0, NULL, 0, NULL, 0), 0);
	CHECK(scan_rpmdb_sqlite_read_mem(bytes, len / 2, &l, why, sizeof why) < 0);
	CHECK_EQ(l.n, 1);
	scan_pkgs_release(&l);
	free(bytes);
	rmtree(dir);
}

/* Runs SQL on a fresh database file and returns its bytes. */
static char *mkdb(const char *dir, const char *sql, size_t *len)
{
	char path[128];
	sqlite3 *db;
	char *b;

	snprintf(path, sizeof path, "%s/t.sqlite", dir);
	unlink(path);
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ(sqlite3_close(db), SQLITE_OK);
	b = slurp(path, len);
	CHECK(b != NULL);
	return b;
}

TEST(rpmdb_sqlite_hostile)
{
	static const struct {
		const char *sql, *why;
	} c[] = {
	    {"CREATE TABLE other(x);", "rpm database: no Packages table"},
	    {"CREATE TABLE t(hnum, blob); CREATE VIEW Packages AS SELECT * FROM t;",
	     "rpm database: Packages is not a table"},
	    {"CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB); INSERT INTO Packages VALUES (1, 'text');",
	     "rpm database: package 1: not a header blob"},
	    {"CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB); INSERT INTO Packages VALUES (5, "
	     "x'0000000100000000');",
	     "rpm database: package 5: header sizes (1 entries, 0 data bytes) do not add up to its 8 bytes"},
	    {"CREATE TABLE Packages(x);", "rpm database: no such column: hnum"},
	};
	char dir[64], path[128], why[200];
	struct scan_pkgs l;
	size_t len;

	tmpdir(dir, sizeof dir);
	scan_pkgs_init(&l);
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		char *b = mkdb(dir, c[i].sql, &len);
		int rc;

		why[0] = '\0';
		rc = scan_rpmdb_sqlite_read_mem(b, len, &l, why, sizeof why);
		if (rc != -BERTH_EINVAL || strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu (mem): %d \"%s\", want \"%s\"", i, rc, why, c[i].why);
		snprintf(path, sizeof path, "%s/t.sqlite", dir);
		rc = scan_rpmdb_sqlite_read_file(path, &l, why, sizeof why);
		if (rc != -BERTH_EINVAL || strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu (file): %d \"%s\", want \"%s\"", i, rc, why, c[i].why);
		free(b);
	}
	CHECK_EQ(scan_rpmdb_sqlite_read_mem("not a database at all, not a database at all, not a database at all, "
					    "not a database at all, not a database at all",
					    110, &l, why, sizeof why),
		 -BERTH_EINVAL);
	CHECK_STR(why, "rpm database: not an SQLite database");
	snprintf(path, sizeof path, "%s/garbage", dir);
	spill(path, "garbage garbage garbage", 23);
	CHECK_EQ(scan_rpmdb_sqlite_read_file(path, &l, why, sizeof why), -BERTH_EINVAL);
	snprintf(path, sizeof path, "%s/missing", dir);
	CHECK_EQ(scan_rpmdb_sqlite_read_file(path, &l, why, sizeof why), -BERTH_EIO);
	CHECK_EQ(l.n, 0);
	scan_pkgs_release(&l);
	rmtree(dir);
}

/* ---- rpm Berkeley DB Packages ---- */

/* Makes the BDB fixtures (tests/unit/scan/mkrpmbdb.py) from the rpmdb.sqlite fixture. */
static void make_rpmbdb(const char *dir)
{
	char cmd[1024];

	make_rpmdb(dir);
	snprintf(cmd, sizeof cmd, "python3 %s/mkrpmbdb.py %s >>%s/mkrpmdb.log 2>&1", TEST_SRCDIR, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof cmd, "cat %s/mkrpmdb.log >&2", dir);
		(void)!system(cmd);
		FAIL_AT("mkrpmbdb.py failed");
	}
}

static char *bdb_bytes(const char *dir, const char *variant, size_t *len)
{
	char path[256];
	char *b;

	snprintf(path, sizeof path, "%s/bdb/%s/Packages", dir, variant);
	b = slurp(path, len);
	CHECK(b != NULL);
	return b;
}

TEST(rpmdb_bdb_real)
{
	static const char *const variants[] = {"le", "be", "small", "sum"};
	char dir[64], path[256], line[512], why[200] = "";
	struct scan_pkgs l;
	size_t len, lines = 0;
	FILE *f;

	tmpdir(dir, sizeof dir);
	make_rpmbdb(dir);
	scan_pkgs_init(&l);
	for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
		char *b = bdb_bytes(dir, variants[v], &len);

		if (scan_rpmdb_bdb_read_mem(b, len, &l, why, sizeof why) != 0)
			FAIL_AT("%s: %s", variants[v], why);
		CHECK_EQ(l.n, 4);
		check_against_rpm(dir, &l); /* the same as rpm's reading of the SQLite database */
		CHECK_PKG(&l, "berth-big", "3-1", "noarch", "berth-big", "3-1");
		scan_pkgs_release(&l);
		free(b);
	}
	/* and rpm's own Berkeley DB reader saw the same four packages in the le file */
	snprintf(path, sizeof path, "%s/bdb/le/rpm-qa.txt", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	CHECK_EQ(lines, 4);
	rmtree(dir);
}

static void set32le(char *p, uint32_t v)
{
	p[0] = (char)v;
	p[1] = (char)(v >> 8);
	p[2] = (char)(v >> 16);
	p[3] = (char)(v >> 24);
}

TEST(rpmdb_bdb_hostile)
{
	char dir[64], why[256];
	struct scan_pkgs l;
	size_t len;
	char *good, *b;
	uint32_t ps = 512;

	tmpdir(dir, sizeof dir);
	make_rpmbdb(dir);
	good = bdb_bytes(dir, "small", &len); /* 512-byte pages, little-endian, every header off-page */
	b = malloc(len);
	CHECK(b != NULL);
	scan_pkgs_init(&l);
	CHECK_EQ(scan_pkgs_add(&l, SCAN_ECO_RPM, "keep", 4, "1-1", 3, "", 0, NULL, 0, NULL, 0), 0);

#define MUTATE(stmt, want_rc, want_why)                                                                   \
	do {                                                                                              \
		int rc_;                                                                                  \
		memcpy(b, good, len);                                                                     \
		stmt;                                                                                     \
		why[0] = '\0';                                                                            \
		rc_ = scan_rpmdb_bdb_read_mem(b, len, &l, why, sizeof why);                               \
		if (rc_ != (want_rc) || strcmp(why, (want_why)) != 0)                                     \
			FAIL_AT("%s: %d \"%s\", want %d \"%s\"", #stmt, rc_, why, (want_rc), (want_why)); \
		CHECK_EQ(l.n, 1);                                                                         \
	} while (0)

	MUTATE(b[12] = 0, -BERTH_EINVAL, "rpm database (Berkeley DB): not a Berkeley DB hash database");
	MUTATE(set32le(b + 16, 3), -BERTH_EUNSUPPORTED, "rpm database (Berkeley DB): Berkeley DB hash version 3");
	MUTATE(set32le(b + 20, 1000), -BERTH_EINVAL, "rpm database (Berkeley DB): page size 1000");
	MUTATE(b[25] = 9, -BERTH_EINVAL, "rpm database (Berkeley DB): page 0 is not a hash meta page");
	MUTATE(b[24] = 1, -BERTH_EUNSUPPORTED, "rpm database (Berkeley DB): encrypted or partitioned Berkeley DB");
	MUTATE(set32le(b + 32, 100000), -BERTH_EINVAL,
	       "rpm database (Berkeley DB): last page 100000 is past the end of the file (82 pages)");
	MUTATE(set32le(b + 72, 5000), -BERTH_EINVAL, "rpm database (Berkeley DB): 5001 buckets in a file of 82 pages");
	/* bucket 0's page points back to itself: a loop */
	MUTATE(set32le(b + ps * 1 + 16, 1), -BERTH_EINVAL,
	       "rpm database (Berkeley DB): bucket 0 reaches page 1: out of range, revisited or not a hash page");
	MUTATE(set32le(b + 96, 4000), -BERTH_EINVAL,
	       "rpm database (Berkeley DB): bucket 0 reaches page 4000: out of range, revisited or not a hash page");
	/* an odd item count, and an item offset outside the page */
	MUTATE(b[ps + 20] = 3, -BERTH_EINVAL, "rpm database (Berkeley DB): hash page 1 has 3 items");
	MUTATE((b[ps + 26] = 1, b[ps + 27] = 0), -BERTH_EINVAL,
	       "rpm database (Berkeley DB): hash page 1: item 0 lies outside the page");
	/* truncated: the file ends before its last page */
	memcpy(b, good, len);
	CHECK_EQ(scan_rpmdb_bdb_read_mem(b, len - ps, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_rpmdb_bdb_read_mem(b, 100, &l, why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(l.n, 1);
	/* every single-byte change anywhere in the file: an answer, never a crash, and all-or-nothing */
	for (size_t i = 0; i < len; i++) {
		int rc;

		memcpy(b, good, len);
		b[i] ^= (char)0x5a;
		rc = scan_rpmdb_bdb_read_mem(b, len, &l, why, sizeof why);
		if (rc < 0 ? l.n != 1 : l.n > 5)
			FAIL_AT("byte %zu: rc %d with %zu packages", i, rc, l.n);
		scan_pkgs_truncate(&l, 1);
	}
#undef MUTATE
	scan_pkgs_release(&l);
	free(b);
	free(good);
	rmtree(dir);
}

/* ---- os-release and the release key ---- */

TEST(osrel_parse)
{
	static const char t[] = "# a comment\n"
				"\n"
				"   \n"
				"NAME=\"Debian GNU/Linux\"\n"
				"ID=debian\n"
				"VERSION_ID='12'\n"
				"VERSION_CODENAME=book\\worm\n" /* an escaped ordinary character */
				"PRETTY_NAME=\"a \\\"b\\\" \\\\ \\$x \\`y\\` \\n\"  # trailing comment\n"
				"ID_LIKE=\"deb\"'ian'x\n" /* pieces joined as a shell joins them */
				"HOME_URL=\"https://www.debian.org/\"\n"
				"ID=debian\n"
				"LOGO=\""
				"0123456789012345678901234567890123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
				"VERSION_ID=\"12\""; /* later wins; no final newline */
	struct scan_osrel o;
	char why[200] = "";

	CHECK_EQ(scan_osrel_parse(t, strlen(t), &o, why, sizeof why), 0);
	CHECK_STR(o.id, "debian");
	CHECK_STR(o.version_id, "12");
	CHECK_STR(o.version_codename, "bookworm");
	CHECK_STR(o.pretty_name, "a \"b\" \\ $x `y` \\n");
	CHECK_STR(o.id_like, "debianx");
}

TEST(osrel_parse_hostile)
{
	static const struct {
		const char *in, *why;
	} c[] = {
	    {"ID=debian\nnonsense\n", "os-release line 2: not a KEY=VALUE assignment"},
	    {"ID =debian\n", "os-release line 1: not a KEY=VALUE assignment"},
	    {"1D=debian\n", "os-release line 1: not a KEY=VALUE assignment"},
	    {"ID=\"debian\n", "os-release line 1: unterminated quote or escape"},
	    {"ID='debian\n", "os-release line 1: unterminated quote or escape"},
	    {"ID=debian\\", "os-release line 1: unterminated quote or escape"},
	    {"ID=debian linux\n", "os-release line 1: text after the value"},
	    {"VERSION_ID=\"0123456789012345678901234567890123456789012345678901234567890123456789\"\n",
	     "os-release line 1: VERSION_ID is too long"},
	};
	struct scan_osrel o;
	char why[200];

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		why[0] = '\0';
		if (scan_osrel_parse(c[i].in, strlen(c[i].in), &o, why, sizeof why) != -BERTH_EINVAL)
			FAIL_AT("case %zu accepted", i);
		if (strcmp(why, c[i].why) != 0)
			FAIL_AT("case %zu: why \"%s\", want \"%s\"", i, why, c[i].why);
	}
	CHECK_EQ(scan_osrel_parse("ID=a\0", 5, &o, why, sizeof why), -BERTH_EINVAL);
	CHECK_EQ(scan_osrel_parse("", SCAN_OSREL_MAX + 1, &o, why, sizeof why), -BERTH_ETOOBIG);
}

#define OSR_DEBIAN12                                                                                     \
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n" \
	"VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"

/* One detection case: the files (NULL = absent), the databases, the expected code and key or reason. */
struct oscase {
	const char *osr, *debv, *alpr, *rhr;
	unsigned dbs;
	int rc;
	const char *want; /* release key when rc == 0, else the reason */
	const char *distro;
};

TEST(os_detect)
{
	static const struct oscase c[] = {
	    {OSR_DEBIAN12, "12.4\n", NULL, NULL, SCAN_DB_DPKG, 0, "debian:12", "debian"},
	    {OSR_DEBIAN12, NULL, NULL, NULL, 0, 0, "debian:12", "debian"}, /* no database: nothing to scan, fine */
	    {"ID=debian\nVERSION_CODENAME=trixie\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n", "trixie/sid\n", NULL,
	     NULL, SCAN_DB_DPKG, 0, "debian:13", "debian"},
	    {"ID=debian\nVERSION_CODENAME=sid\n", "trixie/sid\n", NULL, NULL, SCAN_DB_DPKG, 0, "debian:sid", "debian"},
	    {NULL, "11.6\n", NULL, NULL, SCAN_DB_DPKG, 0, "debian:11", "debian"},
	    {NULL, "bookworm/sid", NULL, NULL, SCAN_DB_DPKG, 0, "debian:12", "debian"},
	    {"NAME=x\n", "10.13\n", NULL, NULL, SCAN_DB_DPKG, 0, "debian:10", "debian"}, /* no ID: the file decides */
	    {"ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n", "bookworm/sid\n", NULL, NULL, SCAN_DB_DPKG, 0,
	     "ubuntu:22.04", "ubuntu"},
	    {"ID=alpine\nVERSION_ID=3.19.1\n", NULL, "3.19.1\n", NULL, SCAN_DB_APK, 0, "alpine:3.19", "alpine"},
	    {"ID=alpine\nVERSION_ID=3.20.0_alpha20240329\n", NULL, NULL, NULL, SCAN_DB_APK, 0, "alpine:edge", "alpine"},
	    {NULL, NULL, "3.11.6\n", NULL, SCAN_DB_APK, 0, "alpine:3.11", "alpine"},
	    {"ID=\"rhel\"\nVERSION_ID=\"9.2\"\n", NULL, NULL, "Red Hat Enterprise Linux release 9.2 (Plow)\n",
	     SCAN_DB_RPM, 0, "rhel:9", "rhel"},
	    {"ID=\"almalinux\"\nVERSION_ID=\"8.8\"\n", NULL, NULL, NULL, SCAN_DB_RPM, 0, "almalinux:8", "almalinux"},
	    {"ID=\"ol\"\nVERSION_ID=\"7.9\"\n", NULL, NULL, "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
	     SCAN_DB_RPM, 0, "ol:7", "ol"},
	    {"ID=\"rocky\"\nVERSION_ID=\"9.1\"\n", NULL, NULL, NULL, SCAN_DB_RPM, 0, "rocky:9", "rocky"},
	    {"ID=\"amzn\"\nVERSION_ID=\"2023\"\n", NULL, NULL, NULL, SCAN_DB_RPM, 0, "amzn:2023", "amzn"},
	    {"ID=\"amzn\"\nVERSION_ID=\"2\"\n", NULL, NULL, NULL, SCAN_DB_RPM, 0, "amzn:2", "amzn"},
	    {"ID=fedora\nVERSION_ID=39\n", NULL, NULL, NULL, SCAN_DB_RPM, 0, "fedora:39", "fedora"},
	    {NULL, NULL, NULL, "CentOS Linux release 7.9.2009 (Core)\n", SCAN_DB_RPM, 0, "centos:7", "centos"},
	    {NULL, NULL, NULL, "Red Hat Enterprise Linux Server release 6.10 (Santiago)", SCAN_DB_RPM, 0, "rhel:6",
	     "rhel"},
	    {"ID=Debian\nVERSION_ID=12\n", NULL, NULL, NULL, SCAN_DB_DPKG, 0, "debian:12", "debian"},

	    /* evidence that lies or is garbage */
	    {OSR_DEBIAN12, "11.6\n", NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "os-release says Debian 12 but /etc/debian_version says 11.6", "debian"},
	    {OSR_DEBIAN12, NULL, NULL, NULL, SCAN_DB_APK, -BERTH_EINVAL,
	     "os-release says debian, but the image has no dpkg database, only apk", "debian"},
	    {"ID=alpine\nVERSION_ID=3.19.1\n", NULL, NULL, NULL, SCAN_DB_DPKG | SCAN_DB_RPM, -BERTH_EINVAL,
	     "os-release says alpine, but the image has no apk database, only dpkg and rpm", "alpine"},
	    {"ID=debian\nVERSION_ID=twelve\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "os-release VERSION_ID \"twelve\" is not a Debian release number", "debian"},
	    {"ID=debian\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "no Debian release number in os-release or /etc/debian_version", "debian"},
	    {"ID=ubuntu\nVERSION_ID=22.4\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "os-release VERSION_ID \"22.4\" is not a ubuntu release", "ubuntu"},
	    {"ID=alpine\nVERSION_ID=3.19.1\n", NULL, "3.18.4\n", NULL, SCAN_DB_APK, -BERTH_EINVAL,
	     "os-release says alpine:3.19 but /etc/alpine-release says 3.18.4", "alpine"},
	    {"ID=alpine\nVERSION_ID=3\n", NULL, NULL, NULL, SCAN_DB_APK, -BERTH_EINVAL,
	     "os-release VERSION_ID \"3\" is not a alpine release", "alpine"},
	    {"ID=rhel\nVERSION_ID=9.2\n", NULL, NULL, "Red Hat Enterprise Linux release 8.6 (Ootpa)", SCAN_DB_RPM,
	     -BERTH_EINVAL,
	     "os-release says rhel:9 but /etc/redhat-release says \"Red Hat Enterprise Linux release 8.6 (Ootpa)\"",
	     "rhel"},
	    {"ID=rhel\n", NULL, NULL, NULL, SCAN_DB_RPM, -BERTH_EINVAL, "os-release for rhel has no VERSION_ID",
	     "rhel"},
	    {"ID=\"deb;ian\"\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "os-release ID \"deb;ian\" is not a distribution id", ""},
	    {"ID=debian\nVERSION_ID=\"12\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "os-release line 2: unterminated quote or escape", ""},
	    {NULL, NULL, NULL, "Slackware 15.0", SCAN_DB_RPM, -BERTH_EINVAL,
	     "/etc/redhat-release \"Slackware 15.0\" names no known release", ""},
	    {NULL, NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL, "a dpkg database but no os-release or release file",
	     ""},

	    /* not supported, not wrong */
	    {"ID=linuxmint\nID_LIKE=ubuntu\nVERSION_ID=21.2\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EUNSUPPORTED,
	     "distribution \"linuxmint\" is not supported", "linuxmint"},
	    {"ID=arch\n", NULL, NULL, NULL, 0, -BERTH_EUNSUPPORTED, "distribution \"arch\" is not supported", "arch"},
	    {"ID=debian\n", "Bookworm!\n", NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "\"Bookworm!\" is not a Debian release name", "debian"},
	    {"ID=debian\nVERSION_CODENAME=\"x y\"\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EINVAL,
	     "\"x y\" is not a Debian release name", "debian"},
	    {"ID=debian\nVERSION_CODENAME=hamm\n", NULL, NULL, NULL, SCAN_DB_DPKG, -BERTH_EUNSUPPORTED,
	     "Debian release \"hamm\" is not known", "debian"},
	    {NULL, NULL, NULL, NULL, 0, -BERTH_ENOENT, "no os-release, release file or package database", ""},
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct scan_os_files f = {
		    c[i].osr,  c[i].osr ? strlen(c[i].osr) : 0,   c[i].debv, c[i].debv ? strlen(c[i].debv) : 0,
		    c[i].alpr, c[i].alpr ? strlen(c[i].alpr) : 0, c[i].rhr,  c[i].rhr ? strlen(c[i].rhr) : 0,
		    c[i].dbs};
		struct scan_os os;
		char why[256] = "";
		int rc = scan_os_detect(&f, &os, why, sizeof why);

		if (rc != c[i].rc)
			FAIL_AT("case %zu: rc %d (%s), want %d", i, rc, why, c[i].rc);
		if (strcmp(rc == 0 ? os.release : why, c[i].want) != 0)
			FAIL_AT("case %zu: \"%s\", want \"%s\"", i, rc == 0 ? os.release : why, c[i].want);
		if (strcmp(os.distro, c[i].distro) != 0)
			FAIL_AT("case %zu: distro \"%s\", want \"%s\"", i, os.distro, c[i].distro);
		if (rc == 0 && os.eco == SCAN_ECO_NONE)
			FAIL_AT("case %zu: no ecosystem", i);
		if (rc != 0 && os.release[0])
			FAIL_AT("case %zu: a release key on failure", i);
	}
}

TEST(os_detect_pretty)
{
	struct scan_os_files f = {
	    .os_release = OSR_DEBIAN12, .os_release_len = strlen(OSR_DEBIAN12), .dbs = SCAN_DB_DPKG};
	struct scan_os os;
	char why[100];

	CHECK_EQ(scan_os_detect(&f, &os, why, sizeof why), 0);
	CHECK_STR(os.pretty, "Debian GNU/Linux 12 (bookworm)");
	CHECK_EQ(os.eco, SCAN_ECO_DPKG);
	f = (struct scan_os_files){
	    .redhat_release = "CentOS release 6.10 (Final)\n", .redhat_release_len = 28, .dbs = SCAN_DB_RPM};
	CHECK_EQ(scan_os_detect(&f, &os, why, sizeof why), 0);
	CHECK_STR(os.release, "centos:6");
	CHECK_STR(os.pretty, "CentOS release 6.10 (Final)");
	CHECK_EQ(os.eco, SCAN_ECO_RPM);
}

/* ---- matching ---- */

static void add_pkg(struct scan_pkgs *l, enum scan_eco eco, const char *name, const char *ver, const char *arch,
		    const char *src, const char *srcver)
{
	CHECK_EQ(scan_pkgs_add(l, eco, name, strlen(name), ver, strlen(ver), arch, strlen(arch), src,
			       src ? strlen(src) : 0, srcver, srcver ? strlen(srcver) : 0),
		 0);
}

/* Checks the findings are exactly these (pkg, affected) pairs, in order. */
static void check_findings(const struct scan_findings *f, const size_t (*want)[2], size_t n)
{
	if (f->n != n)
		FAIL_AT("%zu findings, want %zu", f->n, n);
	for (size_t i = 0; i < n; i++)
		if (f->v[i].pkg != want[i][0] || f->v[i].affected != want[i][1])
			FAIL_AT("finding %zu is (%zu, %zu), want (%zu, %zu)", i, f->v[i].pkg, f->v[i].affected,
				want[i][0], want[i][1]);
}

TEST(match_debian)
{
	const struct scan_affected a[] = {
	    {"debian:12", "glibc", SCAN_KIND_SOURCE, NULL, NULL, "2.36-9+deb12u7", NULL, NULL}, /* 0: hits both */
	    {"debian:12", "glibc", SCAN_KIND_SOURCE, NULL, NULL, "2.36-9+deb12u4", NULL,
	     NULL}, /* 1: installed == fixed */
	    {"debian:11", "glibc", SCAN_KIND_SOURCE, NULL, NULL, "9.9", NULL, NULL}, /* 2: another release */
	    {"debian:12", "gcc-defaults", SCAN_KIND_SOURCE, NULL, NULL, "1.204", NULL, NULL}, /* 3: by source version */
	    {"debian:12", "openssl", SCAN_KIND_SOURCE, NULL, NULL, NULL, NULL, NULL}, /* 4: not fixed yet */
	    {"debian:12", "openssl", SCAN_KIND_SOURCE, NULL, "3.1.0", "3.1.5", NULL, NULL}, /* 5: before introduced */
	    {"debian:12", "zlib", SCAN_KIND_SOURCE, NULL, "1:1.2.0", "1:1.3", NULL, NULL}, /* 6: in the range */
	    {"debian:12", "libc6", SCAN_KIND_BINARY, NULL, NULL, "2.37", NULL, NULL}, /* 7: by binary name */
	    {"debian:12", "glibc", SCAN_KIND_BINARY, NULL, NULL, "9", NULL, NULL}, /* 8: no such binary */
	    {"debian:12", "zlib", SCAN_KIND_SOURCE, NULL, "", "", NULL, NULL}, /* 9: "" = unset */
	    {"debian:12", "openssl", SCAN_KIND_SOURCE, NULL, "3.0.11-1~deb12u2", "3.0.11-1~deb12u3", NULL,
	     NULL}, /* 10 */
	    {NULL, "openssl", SCAN_KIND_SOURCE, NULL, NULL, NULL, NULL, NULL}, /* 11: incomplete */
	};
	static const size_t want[][2] = {{0, 0}, {0, 7}, {1, 0}, {2, 3}, {3, 4}, {3, 10}, {4, 6}, {4, 9}};
	struct scan_pkgs l;
	struct scan_findings f;

	scan_pkgs_init(&l);
	add_pkg(&l, SCAN_ECO_DPKG, "libc6", "2.36-9+deb12u4", "amd64", "glibc", NULL);
	add_pkg(&l, SCAN_ECO_DPKG, "libc-bin", "2.36-9+deb12u4", "amd64", "glibc", NULL);
	add_pkg(&l, SCAN_ECO_DPKG, "gcc", "4:12.2.0-3", "amd64", "gcc-defaults", "1.203");
	add_pkg(&l, SCAN_ECO_DPKG, "libssl3", "3.0.11-1~deb12u2", "amd64", "openssl", NULL);
	add_pkg(&l, SCAN_ECO_DPKG, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", NULL);
	add_pkg(&l, SCAN_ECO_RPM, "glibc", "2.0-1", "x86_64", NULL, NULL); /* a stray rpm database: not matched */
	scan_findings_init(&f);
	CHECK_EQ(scan_match(&l, "debian:12", a, sizeof a / sizeof *a, &f), 0);
	check_findings(&f, want, sizeof want / sizeof *want);
	scan_findings_release(&f);
	/* another release, no entries, an unknown release */
	CHECK_EQ(scan_match(&l, "debian:11", a, sizeof a / sizeof *a, &f), 0);
	CHECK_EQ(f.n, 2);
	CHECK_EQ(f.v[0].affected, 2);
	CHECK_EQ(f.v[1].pkg, 1);
	scan_findings_release(&f);
	CHECK_EQ(scan_match(&l, "debian:12", a, 0, &f), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(scan_match(&l, "plan9:4", a, sizeof a / sizeof *a, &f), 0);
	CHECK_EQ(f.n, 0);
	scan_findings_release(&f);
	/* an index built once answers like scan_match, list after list */
	{
		struct scan_match_index ix;
		struct scan_pkgs one;

		CHECK_EQ(scan_match_index_build("debian:12", a, sizeof a / sizeof *a, &ix), 0);
		CHECK_EQ(ix.n, 10); /* entries 2 (debian:11) and 11 (no release) left out */
		CHECK_EQ(scan_match_indexed(&l, &ix, &f), 0);
		check_findings(&f, want, sizeof want / sizeof *want);
		scan_findings_release(&f);
		scan_pkgs_init(&one);
		add_pkg(&one, SCAN_ECO_DPKG, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", NULL);
		CHECK_EQ(scan_match_indexed(&one, &ix, &f), 0);
		CHECK_EQ(f.n, 2);
		CHECK_EQ(f.v[0].affected, 6);
		CHECK_EQ(f.v[1].affected, 9);
		scan_findings_release(&f);
		scan_pkgs_release(&one);
		scan_match_index_release(&ix);
		CHECK(ix.idx == NULL && ix.release == NULL);
		scan_match_index_release(NULL);
	}
	scan_pkgs_release(&l);
}

TEST(match_rpm_and_apk)
{
	const struct scan_affected a[] = {
	    {"rhel:9", "openssl-libs", SCAN_KIND_BINARY, "x86_64", NULL, "1:3.0.7-25.el9", NULL,
	     NULL}, /* 0: x86_64 only */
	    {"rhel:9", "bash", SCAN_KIND_BINARY, NULL, NULL, "5.1.8-6.el9_1", NULL, NULL}, /* 1: any arch */
	    {"rhel:9", "openssl", SCAN_KIND_SOURCE, NULL, NULL, "1:3.0.7-24.el9", NULL, NULL}, /* 2: == fixed */
	    {"rhel:9", "bash", SCAN_KIND_BINARY, NULL, NULL, "5.1.8-6.el9", NULL, NULL}, /* 3: == fixed */
	    {"alpine:3.19", "openssl", SCAN_KIND_SOURCE, NULL, NULL, "3.1.4-r6", NULL, NULL}, /* 4 */
	    {"alpine:3.19", "openssl", SCAN_KIND_SOURCE, NULL, NULL, "3.1.4_p1-r0", NULL, NULL}, /* 5 */
	    {"alpine:3.19", "openssl", SCAN_KIND_SOURCE, NULL, NULL, "3.1.4_rc1-r0", NULL, NULL}, /* 6: older */
	};
	static const size_t want_rpm[][2] = {{0, 0}, {2, 1}};
	static const size_t want_apk[][2] = {{3, 4}, {3, 5}};
	struct scan_pkgs l;
	struct scan_findings f;

	scan_pkgs_init(&l);
	add_pkg(&l, SCAN_ECO_RPM, "openssl-libs", "1:3.0.7-24.el9", "x86_64", "openssl", NULL);
	add_pkg(&l, SCAN_ECO_RPM, "openssl-libs", "1:3.0.7-24.el9", "i686", "openssl", NULL);
	add_pkg(&l, SCAN_ECO_RPM, "bash", "5.1.8-6.el9", "x86_64", NULL, NULL);
	add_pkg(&l, SCAN_ECO_APK, "libcrypto3", "3.1.4-r5", "x86_64", "openssl", NULL);
	scan_findings_init(&f);
	CHECK_EQ(scan_match(&l, "rhel:9", a, sizeof a / sizeof *a, &f), 0);
	check_findings(&f, want_rpm, 2);
	f.n = 0;
	CHECK_EQ(scan_match(&l, "alpine:3.19", a, sizeof a / sizeof *a, &f), 0);
	check_findings(&f, want_apk, 2);
	CHECK_EQ(scan_release_eco("alpine:edge"), SCAN_ECO_APK);
	CHECK_EQ(scan_release_eco("amzn:2023"), SCAN_ECO_RPM);
	CHECK_EQ(scan_release_eco("debianx:12"), SCAN_ECO_NONE);
	CHECK_EQ(scan_release_eco("debian"), SCAN_ECO_NONE);
	scan_findings_release(&f);
	scan_pkgs_release(&l);
}

/* OSV's last_affected: an upper bound that is itself affected, with no fixed version. */
TEST(match_last_affected)
{
	const struct scan_affected a[] = {
	    {"alpine:3.19", "busybox", SCAN_KIND_SOURCE, NULL, NULL, NULL, NULL, "1.36.1-r15"}, /* 0: == last */
	    {"alpine:3.19", "busybox", SCAN_KIND_SOURCE, NULL, NULL, NULL, NULL, "1.36.1-r2"}, /* 1: above it */
	    {"alpine:3.19", "busybox", SCAN_KIND_SOURCE, NULL, "1.37.0-r0", NULL, NULL, "1.38"}, /* 2: below intro */
	    {"alpine:3.19", "busybox", SCAN_KIND_SOURCE, NULL, NULL, NULL, NULL, ""}, /* 3: "" = unset */
	};
	static const size_t want[][2] = {{0, 0}, {0, 3}};
	struct scan_pkgs l;
	struct scan_findings f;

	scan_pkgs_init(&l);
	add_pkg(&l, SCAN_ECO_APK, "busybox", "1.36.1-r15", "x86_64", "busybox", NULL);
	scan_findings_init(&f);
	CHECK_EQ(scan_match(&l, "alpine:3.19", a, sizeof a / sizeof *a, &f), 0);
	check_findings(&f, want, sizeof want / sizeof *want);
	scan_findings_release(&f);
	scan_pkgs_release(&l);
}

/* A large image against a large feed: the sorted lookup keeps it fast. */
TEST(match_scale)
{
	enum { NPKG = 3000, NAFF = 300000 };
	static char names[NAFF][16];
	struct scan_affected *a = calloc(NAFF, sizeof *a);
	struct scan_pkgs l;
	struct scan_findings f;
	uint64_t t0, t1;
	struct timespec ts;

	CHECK(a != NULL);
	for (int i = 0; i < NAFF; i++) {
		snprintf(names[i], sizeof names[i], "src%d", i % 20000);
		a[i] = (struct scan_affected){
		    "debian:12", names[i], SCAN_KIND_SOURCE, NULL, NULL, i % 2 ? "1.0-2" : "1.0-1", NULL, NULL};
	}
	scan_pkgs_init(&l);
	for (int i = 0; i < NPKG; i++) {
		char n[32], s[32];

		snprintf(n, sizeof n, "bin%d", i);
		snprintf(s, sizeof s, "src%d", i * 7);
		add_pkg(&l, SCAN_ECO_DPKG, n, "1.0-1", "amd64", s, NULL);
	}
	scan_findings_init(&f);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	CHECK_EQ(scan_match(&l, "debian:12", a, NAFF, &f), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* sources src0..src19999 each have 15 entries, 7 or 8 of them with fix 1.0-2; bin i has src(7i),
	 * and 7i < 20000 for i <= 2857 */
	{
		size_t want = 0;

		for (int i = 0; i < NPKG; i++)
			if (i * 7 < 20000)
				for (int k = i * 7; k < NAFF; k += 20000)
					want += k % 2;
		CHECK_EQ(f.n, want);
	}
	printf("  %d packages x %d entries: %zu findings in %.1f ms\n", NPKG, NAFF, f.n, (double)(t1 - t0) / 1e6);
	scan_findings_release(&f);
	scan_pkgs_release(&l);
	free(a);
}

static const struct test tests[] = {
    T(dpkg_order),
    T(dpkg_check),
    T(rpm_vercmp),
    T(rpm_evr),
    T(apk_order),
    T(apk_check),
    T(ver_dispatch),
    T(dpkg_status_parse),
    T(dpkg_status_d),
    T(dpkg_status_hostile),
    T(dpkg_status_matches_dpkg_query),
    T(apk_parse),
    T(apk_hostile),
    T(rpm_header_parse),
    T(rpm_header_hostile),
    T(rpmdb_sqlite_real),
    T(rpmdb_sqlite_hostile),
    T(rpmdb_bdb_real),
    T(rpmdb_bdb_hostile),
    T(osrel_parse),
    T(osrel_parse_hostile),
    T(os_detect),
    T(os_detect_pretty),
    T(match_debian),
    T(match_rpm_and_apk),
    T(match_last_affected),
    T(match_scale),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
