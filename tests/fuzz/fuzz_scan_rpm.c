/* libFuzzer target: the rpm header blob parser (the bytes of one rpmdb Packages row).
 * Invariants: at most one package per header; a failed parse adds nothing; a package read has a
 * name and an "[epoch:]version-release" with exactly one '-'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct scan_pkgs l;
	char why[256];
	int rc;

	scan_pkgs_init(&l);
	rc = scan_rpm_header_parse(data, n, &l, why, sizeof why);
	if (l.n > 1 || (rc < 0 && l.n != 0))
		abort();
	if (l.n == 1) {
		const char *v = l.v[0].version, *dash = strchr(v, '-');

		if (!l.v[0].name[0] || !dash || strchr(dash + 1, '-'))
			abort();
	}
	scan_pkgs_release(&l);
	return 0;
}
