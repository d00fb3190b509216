/* libFuzzer target: the version comparators and grammars on arbitrary strings. The input is
 * split at its first newline into a and b. Invariants for each of dpkg, rpm (EVR and segment) and
 * apk: cmp(a, a) == 0, and cmp(a, b) and cmp(b, a) have opposite signs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static int sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

static void check(int (*cmp)(const char *, const char *), const char *a, const char *b)
{
	if (cmp(a, a) != 0 || cmp(b, b) != 0)
		abort();
	if (sign(cmp(a, b)) != -sign(cmp(b, a)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t *nl = memchr(data, '\n', n);
	size_t an = nl ? (size_t)(nl - data) : n;
	char *a = strndup((const char *)data, an);
	char *b = strndup(nl ? (const char *)nl + 1 : "", nl ? n - an - 1 : 0);
	char why[128];

	check(scan_ver_dpkg_cmp, a, b);
	check(scan_ver_rpm_cmp, a, b);
	check(scan_ver_rpm_vercmp, a, b);
	check(scan_ver_apk_cmp, a, b);
	scan_ver_dpkg_check(a, why, sizeof why);
	scan_ver_apk_check(b);
	free(a);
	free(b);
	return 0;
}
