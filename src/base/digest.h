/* digest: OCI content digests ("sha256:<64 hex>", "sha512:<128 hex>") and streaming hashing.
 * A parsed digest is always lower-case hex of the algorithm's exact length.
 *
 *   struct hasher h; hasher_init(&h, DIGEST_SHA256);
 *   hasher_update(&h, p, n); ... hasher_final(&h, &d); hasher_release(&h);
 */
#ifndef BERTH_BASE_DIGEST_H
#define BERTH_BASE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

enum digest_alg { DIGEST_SHA256 = 0, DIGEST_SHA512 = 1 };

#define DIGEST_HEX_MAX 128
#define DIGEST_STR_MAX (7 + DIGEST_HEX_MAX + 1) /* "sha512:" + hex + NUL */

struct digest {
	enum digest_alg alg;
	char hex[DIGEST_HEX_MAX + 1];
};

/* Parses s[0..n). Returns 0; -BERTH_EINVAL when it breaks the grammar
 * (algorithm ":" encoded, per image-spec descriptor.md) or a registered algorithm's hex length/case;
 * -BERTH_EUNSUPPORTED when the grammar holds but the algorithm is not sha256/sha512. */
int digest_parse(const char *s, size_t n, struct digest *d);
int digest_parse_cstr(const char *s, struct digest *d);

/* Writes "alg:hex" into out (DIGEST_STR_MAX bytes); returns out. */
char *digest_str(const struct digest *d, char out[DIGEST_STR_MAX]);
const char *digest_alg_name(enum digest_alg alg);
size_t digest_hex_len(enum digest_alg alg);
int digest_eq(const struct digest *a, const struct digest *b);

/* Streaming hash over OpenSSL EVP. */
struct hasher {
	void *ctx;
	enum digest_alg alg;
};
int hasher_init(struct hasher *h, enum digest_alg alg); /* 0 or -BERTH_ENOMEM */
void hasher_update(struct hasher *h, const void *p, size_t n);
/* Hashes everything from fd's current position to EOF; 0 or a negative error. */
int hasher_update_fd(struct hasher *h, int fd, uint64_t *bytes);
void hasher_final(struct hasher *h, struct digest *out); /* h may not be updated afterwards */
int hasher_copy(struct hasher *dst, const struct hasher *src); /* dst uninitialised; 0 or -BERTH_ENOMEM */
void hasher_release(struct hasher *h); /* safe on a zeroed or released hasher */

/* One-shot digest of a buffer. */
void digest_of(enum digest_alg alg, const void *p, size_t n, struct digest *out);

#endif
