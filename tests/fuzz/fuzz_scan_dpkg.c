/* libFuzzer target: the dpkg status reader. The first byte picks status or status.d mode.
 * Invariants: a failed read adds nothing; every package read has a version dpkg would load. */
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "scan/pkg.h"
#include "scan/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct scan_pkgs l;
	char why[256];
	int rc;

	if (n < 1)
		return 0;
	scan_pkgs_init(&l);
	rc = scan_dpkg_parse((const char *)data + 1, n - 1, data[0] & 1 ? SCAN_DPKG_STATUS_D : 0, &l, why, sizeof why);
	if (rc < 0 && l.n != 0)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].name[0] || scan_ver_dpkg_check(l.v[i].version, NULL, 0) < 0 ||
		    scan_ver_dpkg_check(l.v[i].source_version, NULL, 0) < 0)
			abort();
	scan_pkgs_release(&l);
	return 0;
}
