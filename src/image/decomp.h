/* decomp: streaming decompression of a layer blob, computing both of its digests on the way.
 * The format is detected by magic (gzip 1f 8b, zstd 28 b5 2f fd; anything else passes through as an
 * uncompressed tar). The compressed bytes are hashed as they are read (the blob digest) and the
 * decompressed bytes as they are produced (the diff_id). Inflating more than max_out bytes fails with
 * -BERTH_ETOOBIG (decompression bombs); reading more than max_in input bytes fails the same way.
 * Concatenated gzip members and zstd frames are one stream; anything after the last one is an error.
 * Input comes from a read callback (a file, an HTTP body, ...); nothing is buffered beyond one block.
 *
 *   struct decomp *d; struct decomp_opts o = {.max_out = 1ull << 36};
 *   decomp_new(&d, read_fd, &fd, &o);
 *   while ((n = decomp_read(d, buf, sizeof buf)) > 0) use(buf, n);
 *   decomp_finish(d, &res);  -> res.in_digest (blob digest), res.out_digest (diff_id)
 *   decomp_free(d);
 */
#ifndef BERTH_IMAGE_DECOMP_H
#define BERTH_IMAGE_DECOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/digest.h"

/* Reads up to n bytes into buf: returns the count, 0 at the end of the stream, or a negative BERTH_E*. */
typedef ssize_t (*decomp_read_fn)(void *ctx, void *buf, size_t n);

enum decomp_format { DECOMP_TAR = 1, DECOMP_GZIP, DECOMP_ZSTD };

/* Which inflater runs gzip: ISA-L's igzip (faster, when built with it) or zlib. */
enum decomp_engine { DECOMP_ENGINE_AUTO = 0, DECOMP_ENGINE_ZLIB, DECOMP_ENGINE_ISAL };

struct decomp_opts {
	uint64_t max_out; /* bound on decompressed bytes; 0: none */
	uint64_t max_in; /* bound on compressed bytes read; 0: none */
	enum digest_alg in_alg; /* blob digest algorithm (default sha256) */
	enum digest_alg out_alg; /* diff_id algorithm (default sha256) */
	enum decomp_engine engine; /* gzip inflater */
};

struct decomp_result {
	enum decomp_format format;
	struct digest in_digest; /* of the bytes read: the blob's digest */
	struct digest out_digest; /* of the bytes produced: the diff_id */
	uint64_t in_bytes, out_bytes;
};

struct decomp;

/* Starts a stream over fn/ctx (borrowed until decomp_free). opts may be NULL (no bounds, sha256).
 * Nothing is read yet. 0, -BERTH_ENOMEM, or -BERTH_EUNSUPPORTED for an engine not built in. */
int decomp_new(struct decomp **out, decomp_read_fn fn, void *ctx, const struct decomp_opts *opts);

/* Reads up to n decompressed bytes: the count, 0 at the end of the data, or a negative error that
 * repeats on every later call: -BERTH_EINVAL (corrupt or truncated data, trailing garbage),
 * -BERTH_ETOOBIG (a bound), or whatever the read callback returned. decomp_why() says which. */
ssize_t decomp_read(struct decomp *d, void *buf, size_t n);

/* Reads and hashes whatever decompressed data is left (a tar's padding after its end marker counts
 * for the diff_id), checks that the input ended cleanly and fills *res. 0 or the stream's error. */
int decomp_finish(struct decomp *d, struct decomp_result *res);

/* The detected format, 0 before the first read. */
enum decomp_format decomp_format_of(const struct decomp *d);

/* A one-line reason for the last error ("" when none); valid until decomp_free. */
const char *decomp_why(const struct decomp *d);

/* 1 when the gzip engine e is built in. */
int decomp_engine_available(enum decomp_engine e);

void decomp_free(struct decomp *d); /* NULL is a no-op */

#endif
