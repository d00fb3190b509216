/* libFuzzer target: the client's parsers of outside input. The first byte picks one: image
 * references (a parsed reference formats back to a text that parses to the same fields), registry
 * WWW-Authenticate challenges, base64 credentials, and manifest/index descriptors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/auth.h"
#include "image/desc.h"
#include "image/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void fuzz_ref(const char *s)
{
	struct image_ref r, again;
	char why[256];
	char *text;

	if (image_ref_parse(s, &r, why, sizeof(why)) < 0)
		return;
	text = image_ref_format(&r);
	if (image_ref_parse(text, &again, why, sizeof(why)) < 0)
		abort();
	if (again.transport != r.transport || !same(again.host, r.host) || !same(again.repo, r.repo) ||
	    !same(again.tag, r.tag) || !same(again.path, r.path) || again.has_digest != r.has_digest ||
	    (r.has_digest && !digest_eq(&again.digest, &r.digest)))
		abort();
	image_ref_release(&again);
	image_ref_release(&r);
	free(text);
}

static void fuzz_challenge(const char *s)
{
	struct client_challenge c;

	if (client_challenge_parse(s, &c) < 0)
		return;
	if (c.scheme == AUTH_BEARER && (!c.realm || !*c.realm))
		abort();
	client_challenge_release(&c);
}

static void fuzz_basic(const char *s)
{
	char *u, *p;

	if (client_basic_decode(s, &u, &p) == 0) {
		char *again = client_basic_encode(u, p), *u2, *p2;
		if (client_basic_decode(again, &u2, &p2) < 0 || strcmp(u, u2) || strcmp(p, p2))
			abort();
		free(u2);
		free(p2);
		free(again);
		free(u);
		free(p);
	}
}

static void fuzz_doc(const uint8_t *data, size_t n)
{
	struct image_doc d;
	struct image_platform host;
	char why[256];

	if (image_doc_parse(data, n, NULL, &d, why, sizeof(why)) < 0)
		return;
	image_platform_host(&host);
	if (d.is_index)
		(void)image_doc_pick(&d, &host);
	image_platform_release(&host);
	image_doc_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *z;

	if (n < 1)
		return 0;
	z = strndup((const char *)data + 1, n - 1);
	switch (data[0] % 4) {
	case 0:
		fuzz_ref(z);
		break;
	case 1:
		fuzz_challenge(z);
		break;
	case 2:
		fuzz_basic(z);
		break;
	default:
		fuzz_doc(data + 1, n - 1);
		break;
	}
	free(z);
	return 0;
}
