/* libFuzzer target: os-release parsing and release detection. The first byte gives the package
 * databases present and which release file the input also stands for; the rest is the text.
 * Invariant: a release key exactly when detection succeeds, and then of the form "distro:version". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "scan/osrel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const char *t = (const char *)data + 1;
	struct scan_os_files f = {0};
	struct scan_os os;
	struct scan_osrel o;
	char why[256];
	int rc;

	if (n < 1)
		return 0;
	scan_osrel_parse(t, n - 1, &o, why, sizeof why);
	f.dbs = data[0] & 7;
	if (data[0] & 8)
		f.os_release = t, f.os_release_len = n - 1;
	if (data[0] & 16)
		f.debian_version = t, f.debian_version_len = n - 1;
	if (data[0] & 32)
		f.alpine_release = t, f.alpine_release_len = n - 1;
	if (data[0] & 64)
		f.redhat_release = t, f.redhat_release_len = n - 1;
	rc = scan_os_detect(&f, &os, why, sizeof why);
	if ((rc == 0) != (os.release[0] != '\0'))
		abort();
	if (rc == 0 && (!strchr(os.release, ':') || scan_release_eco(os.release) != os.eco || os.eco == SCAN_ECO_NONE))
		abort();
	return 0;
}
