/* libFuzzer target: policy_parse (containers-policy.json) on arbitrary bytes, then the scope lookup
 * for a few references. Evaluation is left out: it would read key files named by the input. */
#include <stdint.h>
#include <stdlib.h>

#include "sign/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static const char *const refs[] = {"busybox", "reg.example.com:5000/ns/app:v1",
					   "a.b.example.org/x@sha256:"
					   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					   NULL};
	struct policy *p = NULL;
	char why[512];

	if (policy_parse(data, n, &p, why, sizeof(why)) == 0) {
		for (int i = 0; refs[i]; i++) {
			struct sign_ref r;
			const char *scope;
			if (sign_ref_parse_docker(refs[i], &r, NULL, 0) == 0)
				policy_reqs_for(p, "docker", &r, &scope);
		}
		policy_free(p);
	}
	return 0;
}
