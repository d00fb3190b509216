/* libFuzzer target: the Berkeley DB Packages reader (page walk, overflow chains, header blobs).
 * Invariants: a failed read adds nothing; a file of n pages cannot yield more than n packages per
 * page item pair it could hold. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/pkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct scan_pkgs l;
	char why[256];
	int rc;

	scan_pkgs_init(&l);
	rc = scan_rpmdb_bdb_read_mem(data, n, &l, why, sizeof why);
	if ((rc < 0 && l.n != 0) || l.n > n / 16)
		abort();
	scan_pkgs_release(&l);
	return 0;
}
