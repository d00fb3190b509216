/* libFuzzer target: the apk installed-database reader.
 * Invariants: a failed read adds nothing; every package read has a valid apk version. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/pkg.h"
#include "scan/ver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct scan_pkgs l;
	char why[256];
	int rc;

	scan_pkgs_init(&l);
	rc = scan_apk_parse((const char *)data, n, &l, why, sizeof why);
	if (rc < 0 && l.n != 0)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].name[0] || !l.v[i].source[0] || scan_ver_apk_check(l.v[i].version) != 0)
			abort();
	scan_pkgs_release(&l);
	return 0;
}
