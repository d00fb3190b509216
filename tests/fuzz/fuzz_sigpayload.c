/* libFuzzer target: the parsers of signature material from the network: the simple-signing payload
 * (both types), the .sig attachment manifest, a PKIX public key PEM, a docker reference (the input
 * up to the first newline), a registries.d YAML document and the signature extension API bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sign/extension.h"
#include "sign/policy.h"
#include "sign/registries.h"
#include "sign/sigstore.h"
#include "sign/simple.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct sign_payload p;
	struct sign_attachment a;
	struct sign_key *k = NULL;
	struct registries *r;
	struct sign_ref ref;
	char why[512], *line;
	const uint8_t *nl = memchr(data, '\n', n);

	if (sign_payload_parse(data, n, SIGN_PAYLOAD_ATOMIC, &p, why, sizeof(why)) == 0)
		sign_payload_release(&p);
	if (sign_payload_parse(data, n, SIGN_PAYLOAD_COSIGN, &p, why, sizeof(why)) == 0)
		sign_payload_release(&p);
	if (sign_attachment_parse(data, n, &a, why, sizeof(why)) == 0) {
		struct buf cfg;
		buf_init(&cfg, 1 << 20);
		sign_attachment_config(&a, &cfg);
		buf_release(&cfg);
		sign_attachment_release(&a);
	}
	if (sign_key_load_public(data, n, &k, why, sizeof(why)) == 0)
		sign_key_free(k);
	line = strndup((const char *)data, nl ? (size_t)(nl - data) : n);
	if (line && sign_ref_parse(line, &ref, why, sizeof(why)) == 0) {
		char **scopes = NULL;
		size_t ns = 0;
		sign_ref_scopes(&ref, &scopes, &ns);
		sign_ref_scopes_free(scopes);
	}
	free(line);
	{
		struct sign_ext_list l;
		struct sign_ext_sig es;
		struct digest d;
		digest_of(DIGEST_SHA256, "", 0, &d);
		if (sign_ext_list_parse(data, n, &l, why, sizeof(why)) == 0)
			sign_ext_list_release(&l);
		if (sign_ext_sig_parse(data, n, &d, &es, why, sizeof(why)) == 0)
			sign_ext_sig_release(&es);
	}
	r = registries_new();
	registries_parse(r, data, n, "fuzz", why, sizeof(why));
	registries_free(r);
	return 0;
}
