/* Unit tests for scan: version comparators, package database readers, os detection, matching. */
#include <stdlib.h>

#include "base/err.h"
#include "harness.h"
#include "scan/ver.h"

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
		{"1.0~rc1", "1.0", -1},     {"1.0", "1.0+b1", -1},        {"1:0.9", "2.0", 1},
		{"1.0-1", "1.0-1.1", -1},   {"1.0~~", "1.0~~a", -1},     {"1.0~~a", "1.0~", -1},
		{"1.0~", "1.0", -1},        {"1.0", "1.0a", -1},          {"1.0a", "1.0+", -1},
		{"1.0-0", "1.0", 0},        {"0:1.0", "1.0", 0},          {"1.01", "1.1", 0},
		{"1.2.10", "1.2.9", 1},     {"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.0-1~bpo12+1", "1.0-1", -1}, {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
		{"1:2.0", "01:2.0", 0},     {"99999999999999999999:1", "99999999999999999998:1", 1},
		{" 1.0 ", "1.0", 0},        {"1.0", "1.0.", -1},          {"a", "b", -1},
		{"1.0-a", "1.0-+", -1},     {"1.0\xe9", "1.0z", 1},       {"1.0\xe9", "1.0.", -1},
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
		{"1.0~rc1", "1.0", -1}, {"1.0^git1", "1.0", 1},  {"1.0^git1", "1.0.1", -1}, {"1.0", "1_0", 0},
		{"1.0a", "1.0.a", 0},   {"a", "1", -1},          {"10", "9", 1},            {"1.010", "1.10", 0},
		{"1.0", "1.0.", 0},     {"~~", "~", -1},         {"1.0~", "1.0^", -1},      {"el9", "el9_2", -1},
		{"", "", 0},            {"", "~", 1},            {"", "^", -1},             {"abc", "abd", -1},
		{"1.0", "1.0a", -1},    {"1a", "1.a", 0},        {"123456789012345678901", "123456789012345678900", 1},
	};

	CASES(scan_ver_rpm_vercmp, c);
}

TEST(rpm_evr)
{
	static const struct vcase c[] = {
		{"2:1.0-1", "1:9.9-9", 1},         {"1.0-1.el9", "1.0-1.el9_2", -1}, {"1.0", "1.0-1", -1},
		{"0:1.0-1", "1.0-1", 0},           {":1.0-1", "1.0-1", 0},           {"1.0-", "1.0", 1},
		{"3.0.7-27.el9", "1:3.0.7-24.el9", -1}, {"5.1.8-6.el9", "5.1.8-6.el9_1", -1},
		{"1.0-1-2", "1.0-1", 1},           {"a:1", "1", -1},                 {"1:", "0:", 1},
	};

	CASES(scan_ver_rpm_cmp, c);
}

TEST(apk_order)
{
	/* each row is one of the rules in docs/internals/scan.md */
	static const struct vcase c[] = {
		{"1.0", "1.0.1", -1},           /* a version that ends is older than one that goes on */
		{"1.0_alpha", "1.0_beta", -1},  /* suffix ranks */
		{"1.0_beta", "1.0_pre", -1},    {"1.0_pre", "1.0_rc", -1},
		{"1.0_rc", "1.0", -1},          /* ... pre-release suffixes are older than no suffix */
		{"1.0", "1.0_cvs", -1},         /* ... post-release ones newer */
		{"1.0_cvs", "1.0_svn", -1},     {"1.0_svn", "1.0_git", -1},
		{"1.0_git", "1.0_hg", -1},      {"1.0_hg", "1.0_p", -1},
		{"1.0_rc", "1.0_rc1", -1},      {"1.0_rc2", "1.0_rc10", -1},
		{"1.0_alpha_beta", "1.0_alpha", -1}, {"1.0_p1_p2", "1.0_p1", 1},
		{"1.0", "1.0-r0", -1},          {"1.0-r1", "1.0-r2", -1},  {"1.0-r9", "1.0-r10", -1},
		{"1.0", "1.0a", -1},            {"1.0a", "1.0b", -1},      {"1.0a", "1.0.1", -1},
		{"1.0_rc1", "1.0a", -1},        {"1.0_p1", "1.0.1", -1},   {"1.0-r5", "1.0.1", -1},
		{"1.0", "1.0~abc", -1},         {"1.0~abc", "1.0~abd", -1}, {"1.0~abc", "1.0-r1", 1},
		{"1.01", "1.1", -1},            /* a leading zero makes the component compare as a string */
		{"1.001", "1.01", -1},          {"1.0", "1.00", -1},       {"1.05", "1.5", -1},
		{"1.010", "1.10", -1},          {"1.10", "1.9", 1},        {"01.0", "1.0", 0},
		{"1.2.3", "1.2.10", -1},
		{"1.99999999999999999999", "1.100000000000000000000", -1},
		{"2024a-r0", "2024b-r0", -1},   {"2024a-r1", "2024a-r0", 1},
		{"1.36.1-r5", "1.36.1-r15", -1}, {"3.1.4-r5", "3.1.4_p1-r0", -1},
		{"1.0", "1.0-x", 1},            /* an invalid tail is older than the end */
		{"", "abc", 0},                 /* two invalid starts are equal */
	};

	CASES(scan_ver_apk_cmp, c);
}

TEST(apk_check)
{
	static const char *const ok[] = {"1",          "1.0",          "1.2.3",       "1.2.3a",      "1.2.3_alpha",
					 "1.2.3_alpha1", "1.2.3_rc1_p2", "1.2_p",       "1.0~abc123",  "1.0-r0",
					 "1.0_git20240101-r3", "2024a-r0", "0.0.0",    "1.0~0f-r1",   "1.0a_p1~ff-r2"};
	static const char *const bad[] = {"",        "a1",       "1..0",      "1.",        "1.0-",     "1.0-r",
					  "1.0-rx",  "1.0_foo",  "1.0_",      "1a.2",      "1ab",      "1.0_p1a",
					  "1.0-r1-r2", "1.0~",   "1.0~xyz",   "1.0~ABC",   "1.0 ",     "1,0",
					  "1.0-r1_p1", "1.0~ab_p1", "1.0-1",  "1a1",       "1.0_P1",   "-r1"};

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

static const struct test tests[] = {
	T(dpkg_order),
	T(dpkg_check),
	T(rpm_vercmp),
	T(rpm_evr),
	T(apk_order),
	T(apk_check),
	T(ver_dispatch),
	{0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
