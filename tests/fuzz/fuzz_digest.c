/* libFuzzer target: digest_parse and the name/tag grammars on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct digest d;
	char s[DIGEST_STR_MAX];
	char *z = strndup((const char *)data, n);

	if (digest_parse((const char *)data, n, &d) == 0) {
		/* a parsed digest formats back to exactly its input */
		digest_str(&d, s);
		if (strlen(s) != n || memcmp(s, data, n) != 0)
			abort();
	}
	registry_name_valid(z);
	registry_tag_valid(z);
	free(z);
	return 0;
}
