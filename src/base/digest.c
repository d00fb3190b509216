#include "base/digest.h"

#include <errno.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

static const char *const names[] = {"sha256", "sha512"};
static const size_t hexlens[] = {64, 128};

const char *digest_alg_name(enum digest_alg alg)
{
	return names[alg];
}

size_t digest_hex_len(enum digest_alg alg)
{
	return hexlens[alg];
}

static int is_alg_component(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alg_separator(char c)
{
	return c == '+' || c == '.' || c == '_' || c == '-';
}

static int is_encoded(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '=' || c == '_' ||
	       c == '-';
}

/* Grammar from image-spec descriptor.md:
 *   digest    ::= algorithm ":" encoded
 *   algorithm ::= component (separator component)*
 *   component ::= [a-z0-9]+
 *   separator ::= [+._-]
 *   encoded   ::= [a-zA-Z0-9=_-]+ */
int digest_parse(const char *s, size_t n, struct digest *d)
{
	size_t colon = 0, i;
	int want_component = 1;
	enum digest_alg alg;

	while (colon < n && s[colon] != ':')
		colon++;
	if (colon == 0 || colon >= n - 1 || n > 256)
		return -BERTH_EINVAL;
	for (i = 0; i < colon; i++) {
		if (is_alg_component(s[i]))
			want_component = 0;
		else if (is_alg_separator(s[i]) && !want_component)
			want_component = 1;
		else
			return -BERTH_EINVAL;
	}
	if (want_component)
		return -BERTH_EINVAL;
	for (i = colon + 1; i < n; i++)
		if (!is_encoded(s[i]))
			return -BERTH_EINVAL;

	if (colon == 6 && memcmp(s, "sha256", 6) == 0)
		alg = DIGEST_SHA256;
	else if (colon == 6 && memcmp(s, "sha512", 6) == 0)
		alg = DIGEST_SHA512;
	else
		return -BERTH_EUNSUPPORTED;
	if (n - colon - 1 != hexlens[alg])
		return -BERTH_EINVAL;
	for (i = colon + 1; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -BERTH_EINVAL;
	d->alg = alg;
	memcpy(d->hex, s + colon + 1, hexlens[alg]);
	d->hex[hexlens[alg]] = '\0';
	return 0;
}

int digest_parse_cstr(const char *s, struct digest *d)
{
	return digest_parse(s, strlen(s), d);
}

char *digest_str(const struct digest *d, char out[DIGEST_STR_MAX])
{
	snprintf(out, DIGEST_STR_MAX, "%s:%s", names[d->alg], d->hex);
	return out;
}

int digest_eq(const struct digest *a, const struct digest *b)
{
	return a->alg == b->alg && strcmp(a->hex, b->hex) == 0;
}

int hasher_init(struct hasher *h, enum digest_alg alg)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	h->ctx = NULL;
	h->alg = alg;
	if (!c)
		return -BERTH_ENOMEM;
	if (EVP_DigestInit_ex(c, alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -BERTH_ENOMEM;
	}
	h->ctx = c;
	return 0;
}

void hasher_update(struct hasher *h, const void *p, size_t n)
{
	if (n)
		EVP_DigestUpdate(h->ctx, p, n);
}

int hasher_update_fd(struct hasher *h, int fd, uint64_t *bytes)
{
	static const size_t bufsz = 1 << 17;
	unsigned char *b = malloc(bufsz);
	uint64_t total = 0;
	int rc = 0;

	if (!b)
		return -BERTH_ENOMEM;
	for (;;) {
		ssize_t r = read(fd, b, bufsz);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = berth_from_errno(errno);
			break;
		}
		if (r == 0)
			break;
		hasher_update(h, b, (size_t)r);
		total += (uint64_t)r;
	}
	free(b);
	if (bytes)
		*bytes = total;
	return rc;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void hasher_final(struct hasher *h, struct digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	out->alg = h->alg;
	to_hex(md, len, out->hex);
}

int hasher_copy(struct hasher *dst, const struct hasher *src)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	dst->ctx = NULL;
	dst->alg = src->alg;
	if (!c)
		return -BERTH_ENOMEM;
	if (EVP_MD_CTX_copy_ex(c, src->ctx) != 1) {
		EVP_MD_CTX_free(c);
		return -BERTH_ENOMEM;
	}
	dst->ctx = c;
	return 0;
}

void hasher_release(struct hasher *h)
{
	if (h->ctx)
		EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void digest_of(enum digest_alg alg, const void *p, size_t n, struct digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256(), NULL);
	out->alg = alg;
	to_hex(md, len, out->hex);
}
