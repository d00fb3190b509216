/* libFuzzer target: errata_parse_osv on arbitrary bytes. On success every advisory must be
 * complete (id, source, 64-hex hash); on failure the set must stay empty and the error non-empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errata/errata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct errata_set s;
	char why[512] = "";
	int rc;

	errata_set_init(&s);
	rc = errata_parse_osv("fuzz", (const char *)data, n, &s, why, sizeof(why));
	if (rc == 0) {
		for (size_t i = 0; i < s.n; i++)
			if (!s.v[i].id || !s.v[i].source || strlen(s.v[i].hash) != 64)
				abort();
	} else if (s.n != 0 || why[0] == '\0') {
		abort();
	}
	errata_set_release(&s);
	return 0;
}
