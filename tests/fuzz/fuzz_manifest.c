/* libFuzzer target: manifest_parse on arbitrary bytes with an arbitrary Content-Type.
 * The first input line (up to '\n') is the Content-Type, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t *nl = memchr(data, '\n', n);
	size_t ctn = nl ? (size_t)(nl - data) : 0;
	char *ct = strndup((const char *)data, ctn);
	struct manifest m;
	char why[256];

	if (manifest_parse(nl ? nl + 1 : data, nl ? n - ctn - 1 : n, ct, &m, why, sizeof(why)) == 0)
		manifest_release(&m);
	free(ct);
	return 0;
}
