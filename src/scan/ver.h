/* ver: version ordering for the three package ecosystems berth scans (dpkg, rpm, apk).
 * Each comparator takes two NUL-terminated strings and returns <0, 0 or >0, like strcmp. They never
 * allocate and never fail: any byte string has a place in the order, so a malformed version read
 * from an image still compares deterministically (reflexive and antisymmetric; the fuzz target checks
 * both). Validity is a separate question, answered by the *_check functions where the ecosystem has
 * a grammar. The rules are written down in docs/internals/scan.md; dpkg and rpm are checked against
 * libdpkg and librpm on 100,000 generated pairs each (tests/tools/verdiff.c).
 *
 *   if (scan_ver_dpkg_cmp(installed, fixed) < 0) -> installed is older than the fix
 *   if (scan_ver_cmp(SCAN_ECO_RPM, "1:2.0-1.el9", "2.0-1.el9") > 0) -> the epoch wins
 */
#ifndef BERTH_SCAN_VER_H
#define BERTH_SCAN_VER_H

#include <stddef.h>

#include "scan/pkg.h"

/* Returned (positive) by scan_ver_dpkg_check for versions dpkg accepts with a warning. */
#define SCAN_VER_WARN 1

/* dpkg: "[epoch:]upstream[-revision]" ordered as dpkg_version_compare() orders the parsed
 * version (Debian Policy 5.6.12): epochs numerically, then upstream and revision by alternating
 * non-digit runs ('~' first, then the end of the run, then letters, then everything else) and digit
 * runs (numerically). Leading and trailing blanks are ignored, as dpkg does. */
int scan_ver_dpkg_cmp(const char *a, const char *b);

/* Checks v against dpkg's version parser: 0 when dpkg accepts it silently, SCAN_VER_WARN when dpkg
 * accepts it with a warning (upstream not starting with a digit, a character outside the policy's
 * set), -BERTH_EINVAL when dpkg rejects it (empty, embedded blank, bad or too big epoch, nothing after
 * the colon, empty revision, empty upstream). why (may be NULL) receives the reason for anything
 * but 0. Differs from dpkg in one documented place: dpkg's strtol() also takes a sign before the
 * epoch ("+1:2.0"); berth rejects it. */
int scan_ver_dpkg_check(const char *v, char *why, size_t whyn);

/* rpm's rpmvercmp(): one version or release string, compared by alphanumeric segments; any other
 * byte separates segments and is otherwise ignored ("1.0" equals "1_0"), '~' sorts before
 * everything (even the end), '^' after the end but before any further segment, digits beat letters,
 * numbers compare numerically. */
int scan_ver_rpm_vercmp(const char *a, const char *b);

/* rpm "[epoch:]version[-release]" as librpm's rpmverParse()+rpmverCmp() compare them: epochs (a
 * missing or empty epoch is 0), then versions, then releases; when only one side has a release
 * (even an empty one after a trailing '-') that side is greater. */
int scan_ver_rpm_cmp(const char *a, const char *b);

/* apk: "digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]" compared as apk-tools (3.x) does:
 * token by token; numbers numerically except that a dotted component with a leading zero compares
 * as a string; suffixes alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p; when one version
 * runs out first it is older, unless the other continues with a pre-release suffix. */
int scan_ver_apk_cmp(const char *a, const char *b);

/* 0 when v follows apk's version grammar above, else -BERTH_EINVAL. */
int scan_ver_apk_check(const char *v);

/* Dispatches to the ecosystem's comparator (rpm: scan_ver_rpm_cmp). Unknown ecosystems compare
 * with strcmp. */
int scan_ver_cmp(enum scan_eco eco, const char *a, const char *b);

#endif
