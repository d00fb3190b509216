#include "image/decomp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#ifdef BERTH_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "base/buf.h"
#include "base/err.h"

#define IN_BUF (256 * 1024)

struct decomp {
	decomp_read_fn fn;
	void *ctx;
	struct decomp_opts o;
	enum decomp_format fmt;
	struct hasher hin, hout;
	uint64_t in_bytes, out_bytes;
	unsigned char *ibuf;
	size_t ipos, ilen;
	int in_eof;
	int done; /* all decompressed data produced */
	int err; /* sticky error */
	int member_open; /* gzip: inside a member; zstd: inside a frame */
	z_stream z;
	int z_inited;
#ifdef BERTH_HAVE_ISAL
	struct inflate_state *isal;
#endif
	ZSTD_DStream *zs;
	char why[200];
};

int decomp_engine_available(enum decomp_engine e)
{
#ifdef BERTH_HAVE_ISAL
	return 1;
#else
	return e != DECOMP_ENGINE_ISAL;
#endif
}

static int fail(struct decomp *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct decomp *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d->err)
		return d->err;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	d->err = err;
	return err;
}

int decomp_new(struct decomp **out, decomp_read_fn fn, void *ctx, const struct decomp_opts *opts)
{
	struct decomp *d;

	*out = NULL;
	if (opts && opts->engine == DECOMP_ENGINE_ISAL && !decomp_engine_available(DECOMP_ENGINE_ISAL))
		return -BERTH_EUNSUPPORTED;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -BERTH_ENOMEM;
	d->fn = fn;
	d->ctx = ctx;
	if (opts)
		d->o = *opts;
	d->ibuf = malloc(IN_BUF);
	if (!d->ibuf || hasher_init(&d->hin, d->o.in_alg) < 0 || hasher_init(&d->hout, d->o.out_alg) < 0) {
		decomp_free(d);
		return -BERTH_ENOMEM;
	}
	*out = d;
	return 0;
}

void decomp_free(struct decomp *d)
{
	if (!d)
		return;
	if (d->z_inited)
		inflateEnd(&d->z);
#ifdef BERTH_HAVE_ISAL
	free(d->isal);
#endif
	ZSTD_freeDStream(d->zs);
	hasher_release(&d->hin);
	hasher_release(&d->hout);
	free(d->ibuf);
	free(d);
}

enum decomp_format decomp_format_of(const struct decomp *d)
{
	return d->fmt;
}

const char *decomp_why(const struct decomp *d)
{
	return d->why;
}

/* Refills the input buffer when it is empty; 0 (maybe at EOF) or an error. */
static int fill(struct decomp *d)
{
	ssize_t n;

	if (d->ipos < d->ilen || d->in_eof)
		return 0;
	d->ipos = d->ilen = 0;
	n = d->fn(d->ctx, d->ibuf, IN_BUF);
	if (n < 0)
		return fail(d, (int)n, "reading the blob failed: %s", berth_strerror((int)n));
	if (n == 0) {
		d->in_eof = 1;
		return 0;
	}
	if (d->o.max_in && d->in_bytes + (uint64_t)n > d->o.max_in)
		return fail(d, -BERTH_ETOOBIG, "blob is longer than %llu bytes", (unsigned long long)d->o.max_in);
	hasher_update(&d->hin, d->ibuf, (size_t)n);
	d->in_bytes += (uint64_t)n;
	d->ilen = (size_t)n;
	return 0;
}

/* Makes sure at least k bytes are buffered unless the input ends first (moves the tail to the front). */
static int fill_atleast(struct decomp *d, size_t k)
{
	while (d->ilen - d->ipos < k && !d->in_eof) {
		ssize_t n;
		if (d->ipos > 0) {
			memmove(d->ibuf, d->ibuf + d->ipos, d->ilen - d->ipos);
			d->ilen -= d->ipos;
			d->ipos = 0;
		}
		n = d->fn(d->ctx, d->ibuf + d->ilen, IN_BUF - d->ilen);
		if (n < 0)
			return fail(d, (int)n, "reading the blob failed: %s", berth_strerror((int)n));
		if (n == 0) {
			d->in_eof = 1;
			break;
		}
		if (d->o.max_in && d->in_bytes + (uint64_t)n > d->o.max_in)
			return fail(d, -BERTH_ETOOBIG, "blob is longer than %llu bytes",
				    (unsigned long long)d->o.max_in);
		hasher_update(&d->hin, d->ibuf + d->ilen, (size_t)n);
		d->in_bytes += (uint64_t)n;
		d->ilen += (size_t)n;
	}
	return 0;
}

static int is_gzip(const unsigned char *p)
{
	return p[0] == 0x1f && p[1] == 0x8b;
}

static int detect(struct decomp *d)
{
	int rc = fill_atleast(d, 4);
	const unsigned char *p = d->ibuf + d->ipos;
	size_t avail = d->ilen - d->ipos;

	if (rc < 0)
		return rc;
	if (avail >= 2 && is_gzip(p)) {
		d->fmt = DECOMP_GZIP;
		if (d->o.engine == DECOMP_ENGINE_ZLIB || !decomp_engine_available(DECOMP_ENGINE_ISAL)) {
			if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
				return fail(d, -BERTH_ENOMEM, "cannot start zlib");
			d->z_inited = 1;
		} else {
#ifdef BERTH_HAVE_ISAL
			d->isal = malloc(sizeof(*d->isal));
			if (!d->isal)
				return fail(d, -BERTH_ENOMEM, "out of memory");
			isal_inflate_init(d->isal);
			d->isal->crc_flag = ISAL_GZIP;
#endif
		}
		d->member_open = 1;
	} else if (avail >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
		d->fmt = DECOMP_ZSTD;
		d->zs = ZSTD_createDStream();
		if (!d->zs)
			return fail(d, -BERTH_ENOMEM, "cannot start zstd");
		ZSTD_initDStream(d->zs);
	} else {
		d->fmt = DECOMP_TAR;
	}
	return 0;
}

/* After a gzip member ended: another member, the end, or garbage. */
static int gzip_next_member(struct decomp *d)
{
	int rc = fill_atleast(d, 2);

	if (rc < 0)
		return rc;
	if (d->ipos == d->ilen && d->in_eof) {
		d->done = 1;
		return 0;
	}
	if (d->ilen - d->ipos < 2 || !is_gzip(d->ibuf + d->ipos))
		return fail(d, -BERTH_EINVAL, "data after the end of the gzip stream");
	if (d->z_inited) {
		inflateReset(&d->z);
	} else {
#ifdef BERTH_HAVE_ISAL
		isal_inflate_reset(d->isal);
		d->isal->crc_flag = ISAL_GZIP;
#endif
	}
	d->member_open = 1;
	return 0;
}

static ssize_t read_gzip_zlib(struct decomp *d, unsigned char *out, size_t n)
{
	size_t produced = 0;

	while (produced == 0 && !d->done) {
		int zr, rc;
		size_t before_in;

		if (!d->member_open) {
			rc = gzip_next_member(d);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = fill(d);
		if (rc < 0)
			return rc;
		d->z.next_in = d->ibuf + d->ipos;
		d->z.avail_in = (uInt)(d->ilen - d->ipos);
		before_in = d->z.avail_in;
		d->z.next_out = out + produced;
		d->z.avail_out = (uInt)(n - produced > UINT32_MAX ? UINT32_MAX : n - produced);
		zr = inflate(&d->z, Z_NO_FLUSH);
		d->ipos += before_in - d->z.avail_in;
		produced = (size_t)(d->z.next_out - out);
		if (zr == Z_STREAM_END) {
			d->member_open = 0;
		} else if (zr == Z_BUF_ERROR || (zr == Z_OK && produced == 0 && before_in == d->z.avail_in)) {
			if (d->in_eof && d->ipos == d->ilen)
				return fail(d, -BERTH_EINVAL, "truncated gzip stream");
		} else if (zr == Z_MEM_ERROR) {
			return fail(d, -BERTH_ENOMEM, "out of memory in zlib");
		} else if (zr != Z_OK) {
			return fail(d, -BERTH_EINVAL, "corrupt gzip data (%s)", d->z.msg ? d->z.msg : "zlib error");
		}
	}
	return (ssize_t)produced;
}

#ifdef BERTH_HAVE_ISAL
static ssize_t read_gzip_isal(struct decomp *d, unsigned char *out, size_t n)
{
	size_t produced = 0;

	while (produced == 0 && !d->done) {
		int ir, rc;
		size_t before_in;
		struct inflate_state *s = d->isal;

		if (!d->member_open) {
			rc = gzip_next_member(d);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = fill(d);
		if (rc < 0)
			return rc;
		s->next_in = d->ibuf + d->ipos;
		s->avail_in = (uint32_t)(d->ilen - d->ipos);
		before_in = s->avail_in;
		s->next_out = out + produced;
		s->avail_out = (uint32_t)(n - produced > UINT32_MAX ? UINT32_MAX : n - produced);
		ir = isal_inflate(s);
		d->ipos += before_in - s->avail_in;
		produced = (size_t)(s->next_out - out);
		if (ir < 0)
			return fail(d, -BERTH_EINVAL, "corrupt gzip data (igzip error %d)", ir);
		if (s->block_state == ISAL_BLOCK_FINISH) {
			d->member_open = 0;
		} else if (produced == 0 && before_in == s->avail_in && d->in_eof && d->ipos == d->ilen) {
			return fail(d, -BERTH_EINVAL, "truncated gzip stream");
		}
	}
	return (ssize_t)produced;
}
#endif

static ssize_t read_zstd(struct decomp *d, unsigned char *out, size_t n)
{
	ZSTD_outBuffer ob = {out, n, 0};

	while (ob.pos == 0 && !d->done) {
		ZSTD_inBuffer ib;
		size_t zr;
		int rc = fill(d);

		if (rc < 0)
			return rc;
		if (d->ipos == d->ilen && d->in_eof) {
			if (d->member_open)
				return fail(d, -BERTH_EINVAL, "truncated zstd stream");
			d->done = 1;
			break;
		}
		ib.src = d->ibuf;
		ib.size = d->ilen;
		ib.pos = d->ipos;
		zr = ZSTD_decompressStream(d->zs, &ob, &ib);
		d->ipos = ib.pos;
		if (ZSTD_isError(zr)) {
			if (ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation)
				return fail(d, -BERTH_ENOMEM, "out of memory in zstd");
			return fail(d, -BERTH_EINVAL, "corrupt zstd data (%s)", ZSTD_getErrorName(zr));
		}
		/* 0: a frame ended and everything was flushed */
		d->member_open = zr != 0;
	}
	return (ssize_t)ob.pos;
}

static ssize_t read_tar(struct decomp *d, unsigned char *out, size_t n)
{
	size_t k;
	int rc;

	if (d->ipos == d->ilen && !d->in_eof) {
		/* read straight into the caller's buffer: no copy for uncompressed layers */
		ssize_t r = d->fn(d->ctx, out, n);
		if (r < 0)
			return fail(d, (int)r, "reading the blob failed: %s", berth_strerror((int)r));
		if (r == 0) {
			d->in_eof = 1;
			d->done = 1;
			return 0;
		}
		if (d->o.max_in && d->in_bytes + (uint64_t)r > d->o.max_in)
			return fail(d, -BERTH_ETOOBIG, "blob is longer than %llu bytes",
				    (unsigned long long)d->o.max_in);
		hasher_update(&d->hin, out, (size_t)r);
		d->in_bytes += (uint64_t)r;
		return r;
	}
	rc = fill(d);
	if (rc < 0)
		return rc;
	k = d->ilen - d->ipos;
	if (k == 0) {
		d->done = 1;
		return 0;
	}
	if (k > n)
		k = n;
	memcpy(out, d->ibuf + d->ipos, k);
	d->ipos += k;
	return (ssize_t)k;
}

ssize_t decomp_read(struct decomp *d, void *buf, size_t n)
{
	ssize_t r;
	int rc;

	if (d->err)
		return d->err;
	if (!d->fmt) {
		rc = detect(d);
		if (rc < 0)
			return rc;
	}
	if (d->done || n == 0)
		return 0;
	switch (d->fmt) {
	case DECOMP_GZIP:
#ifdef BERTH_HAVE_ISAL
		if (d->isal) {
			r = read_gzip_isal(d, buf, n);
			break;
		}
#endif
		r = read_gzip_zlib(d, buf, n);
		break;
	case DECOMP_ZSTD:
		r = read_zstd(d, buf, n);
		break;
	default:
		r = read_tar(d, buf, n);
		break;
	}
	if (r <= 0)
		return r;
	if (d->o.max_out && d->out_bytes + (uint64_t)r > d->o.max_out)
		return fail(d, -BERTH_ETOOBIG, "layer inflates to more than %llu bytes",
			    (unsigned long long)d->o.max_out);
	d->out_bytes += (uint64_t)r;
	if (d->fmt != DECOMP_TAR || d->o.in_alg != d->o.out_alg)
		hasher_update(&d->hout, buf, (size_t)r);
	return r;
}

int decomp_finish(struct decomp *d, struct decomp_result *res)
{
	unsigned char *scratch = NULL;
	ssize_t r;

	memset(res, 0, sizeof(*res));
	if (d->err)
		return d->err;
	scratch = malloc(64 * 1024);
	if (!scratch)
		return fail(d, -BERTH_ENOMEM, "out of memory");
	do
		r = decomp_read(d, scratch, 64 * 1024);
	while (r > 0);
	free(scratch);
	if (r < 0)
		return (int)r;
	res->format = d->fmt;
	res->in_bytes = d->in_bytes;
	res->out_bytes = d->out_bytes;
	hasher_final(&d->hin, &res->in_digest);
	if (d->fmt == DECOMP_TAR && d->o.in_alg == d->o.out_alg)
		res->out_digest = res->in_digest;
	else
		hasher_final(&d->hout, &res->out_digest);
	d->err = -BERTH_EINVAL; /* the hashers are spent: no reads after finish */
	str_copy(d->why, sizeof(d->why), "stream already finished");
	return 0;
}
