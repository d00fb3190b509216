/* pkg_rpm_bdb: rpm's Berkeley DB "Packages" file (rpm before 4.16; RHEL/CentOS 7 and 8, Amazon
 * Linux 2), read without libdb. It is a Berkeley DB hash database: page 0 is the hash meta page,
 * every bucket is a chain of hash pages, each holding key/data items; an item too large for a page
 * lives in a chain of overflow pages. rpm's keys are 4-byte header numbers (0 holds a counter) and
 * its values header blobs.
 *
 * Layout used here (all integers in the file's byte order, which the meta page's magic tells):
 *   meta page: 12 magic 0x061561, 16 version, 20 page size, 24 encryption, 25 page type (8),
 *              26 flags (1: page checksums), 32 last page, 36 partitions, 72 max bucket,
 *              96 spares[32] (bucket b is page b + spares[ceil(log2(b + 1))])
 *   any page:  8 page number, 16 next page, 20 entries (u16), 22 high free offset (u16), 25 type;
 *              the item offsets (u16) start at 26, or 32 with checksums
 *   hash page (type 13, or 2 before Berkeley DB 4.6): entries alternate key, data; item i spans
 *              [offset i, offset i-1) (page end for i = 0) and starts with its kind: 1 bytes
 *              inline, 3 off-page {pad[3], first page u32, total length u32}
 *   overflow page (type 7): "high free offset" bytes of data right after the header. */
#include "scan/pkg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { HASH_MAGIC = 0x061561, P_HASH_UNSORTED = 2, P_OVERFLOW = 7, P_HASHMETA = 8, P_HASH = 13 };
enum { H_KEYDATA = 1, H_DUPLICATE = 2, H_OFFPAGE = 3, H_OFFDUP = 4 };

struct bdb {
	const unsigned char *p;
	uint32_t psize, npages;
	size_t overhead; /* bytes before a page's item offsets */
	int be; /* integers are big-endian */
	unsigned char *seen; /* one bit per page: every page is visited at most once */
	char *why;
	size_t whyn;
};

static int fail(struct bdb *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct bdb *d, int rc, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->whyn) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->whyn, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint32_t u32(const struct bdb *d, const unsigned char *q)
{
	if (d->be)
		return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

static uint16_t u16(const struct bdb *d, const unsigned char *q)
{
	return d->be ? (uint16_t)(q[0] << 8 | q[1]) : (uint16_t)(q[1] << 8 | q[0]);
}

/* The page pg, checked to exist, to be unvisited and to have the given type. */
static const unsigned char *page(struct bdb *d, uint32_t pg, int type1, int type2)
{
	const unsigned char *q;

	if (pg == 0 || pg >= d->npages || d->seen[pg / 8] & (1u << (pg % 8)))
		return NULL;
	d->seen[pg / 8] |= (unsigned char)(1u << (pg % 8));
	q = d->p + (size_t)pg * d->psize;
	if (q[25] != type1 && q[25] != type2)
		return NULL;
	return q;
}

/* Gathers an off-page item of tlen bytes starting at page pg into a new buffer. */
static int overflow(struct bdb *d, uint32_t pg, uint32_t tlen, unsigned char **out)
{
	unsigned char *buf;
	size_t got = 0;

	*out = NULL;
	if (tlen > SCAN_RPM_HEADER_MAX || (uint64_t)tlen > (uint64_t)d->npages * d->psize)
		return fail(d, -BERTH_EINVAL, "off-page item of %u bytes is larger than the file", tlen);
	buf = malloc(tlen ? tlen : 1);
	if (!buf)
		return -BERTH_ENOMEM;
	while (pg != 0) {
		const unsigned char *q = page(d, pg, P_OVERFLOW, P_OVERFLOW);
		uint16_t n;

		if (!q) {
			free(buf);
			return fail(d, -BERTH_EINVAL,
				    "overflow chain reaches page %u: out of range, revisited or not an "
				    "overflow page",
				    pg);
		}
		n = u16(d, q + 22);
		if (n > d->psize - d->overhead || n > tlen - got) {
			free(buf);
			return fail(d, -BERTH_EINVAL, "overflow page %u holds %u bytes, more than fit", pg, n);
		}
		memcpy(buf + got, q + d->overhead, n);
		got += n;
		pg = u32(d, q + 16);
	}
	if (got != tlen) {
		free(buf);
		return fail(d, -BERTH_EINVAL, "overflow chain holds %zu of %u bytes", got, tlen);
	}
	*out = buf;
	return 0;
}

/* Reads the key/data pairs of one hash page. */
static int hash_page(struct bdb *d, uint32_t pg, const unsigned char *q, struct scan_pkgs *out)
{
	uint16_t n = u16(d, q + 20);
	const unsigned char *inp = q + d->overhead;
	size_t lo = d->overhead + (size_t)n * 2;

	if (n % 2 || lo > d->psize)
		return fail(d, -BERTH_EINVAL, "hash page %u has %u items", pg, n);
	for (uint16_t i = 0; i < n; i += 2) {
		uint32_t koff = u16(d, inp + 2 * i), kend = i == 0 ? d->psize : u16(d, inp + 2 * i - 2);
		uint32_t voff = u16(d, inp + 2 * i + 2), vend = koff;
		const unsigned char *key = q + koff, *val = q + voff;
		unsigned char *big = NULL;
		const unsigned char *blob;
		size_t blen;
		char reason[200];
		uint32_t hnum;
		int rc;

		if (koff < lo || koff >= kend || kend > d->psize || voff < lo || voff >= vend)
			return fail(d, -BERTH_EINVAL, "hash page %u: item %u lies outside the page", pg, i);
		if (key[0] != H_KEYDATA || kend - koff != 5)
			return fail(d, -BERTH_EINVAL, "hash page %u: item %u is not a 4-byte header number", pg, i);
		hnum = u32(d, key + 1);
		if (val[0] == H_KEYDATA) {
			blob = val + 1;
			blen = vend - voff - 1;
		} else if (val[0] == H_OFFPAGE && vend - voff == 12) {
			rc = overflow(d, u32(d, val + 4), u32(d, val + 8), &big);
			if (rc < 0)
				return rc;
			blob = big;
			blen = u32(d, val + 8);
		} else {
			return fail(d, -BERTH_EINVAL, "hash page %u: item %u has kind %u", pg, i + 1, val[0]);
		}
		if (hnum == 0) { /* rpm's counter record */
			free(big);
			continue;
		}
		rc = scan_rpm_header_parse(blob, blen, out, reason, sizeof reason);
		free(big);
		if (rc < 0)
			return fail(d, rc, "package %u: %s", hnum, reason);
	}
	return 0;
}

static uint32_t ceil_log2(uint64_t x)
{
	uint32_t i = 0;

	while (((uint64_t)1 << i) < x)
		i++;
	return i;
}

static int read_bdb(struct bdb *d, const unsigned char *m, size_t len, struct scan_pkgs *out)
{
	uint32_t version, last, max_bucket;

	if (len < 512)
		return fail(d, -BERTH_EINVAL, "not a Berkeley DB hash database (%zu bytes)", len);
	d->be = 0;
	if (u32(d, m + 12) != HASH_MAGIC) {
		d->be = 1;
		if (u32(d, m + 12) != HASH_MAGIC)
			return fail(d, -BERTH_EINVAL, "not a Berkeley DB hash database");
	}
	version = u32(d, m + 16);
	d->psize = u32(d, m + 20);
	if (version < 8 || version > 10)
		return fail(d, -BERTH_EUNSUPPORTED, "Berkeley DB hash version %u", version);
	if (d->psize < 512 || d->psize > 65536 || (d->psize & (d->psize - 1)) || len < d->psize)
		return fail(d, -BERTH_EINVAL, "page size %u", d->psize);
	if (m[25] != P_HASHMETA)
		return fail(d, -BERTH_EINVAL, "page 0 is not a hash meta page");
	if (m[24] != 0 || u32(d, m + 36) != 0)
		return fail(d, -BERTH_EUNSUPPORTED, "encrypted or partitioned Berkeley DB");
	d->overhead = m[26] & 1 ? 32 : 26;
	if (len / d->psize > UINT32_MAX)
		return fail(d, -BERTH_ETOOBIG, "too many pages");
	d->npages = (uint32_t)(len / d->psize);
	last = u32(d, m + 32);
	max_bucket = u32(d, m + 72);
	if (last >= d->npages)
		return fail(d, -BERTH_EINVAL, "last page %u is past the end of the file (%u pages)", last, d->npages);
	if (max_bucket >= d->npages)
		return fail(d, -BERTH_EINVAL, "%u buckets in a file of %u pages", max_bucket + 1, d->npages);
	d->seen = calloc((size_t)d->npages / 8 + 1, 1);
	if (!d->seen)
		return -BERTH_ENOMEM;
	for (uint64_t b = 0; b <= max_bucket; b++) {
		uint32_t sp = ceil_log2(b + 1), pg;

		if (sp >= 32)
			return fail(d, -BERTH_EINVAL, "bucket %llu has no spares entry", (unsigned long long)b);
		pg = (uint32_t)b + u32(d, m + 96 + 4 * sp);
		while (pg != 0) {
			const unsigned char *q = page(d, pg, P_HASH, P_HASH_UNSORTED);
			int rc;

			if (!q)
				return fail(d, -BERTH_EINVAL,
					    "bucket %llu reaches page %u: out of range, revisited or not a "
					    "hash page",
					    (unsigned long long)b, pg);
			rc = hash_page(d, pg, q, out);
			if (rc < 0)
				return rc;
			pg = u32(d, q + 16);
		}
	}
	return 0;
}

int scan_rpmdb_bdb_read_mem(const void *db, size_t len, struct scan_pkgs *out, char *why, size_t whyn)
{
	struct bdb d = {.p = db, .why = why, .whyn = whyn};
	size_t n0 = out->n;
	char reason[256];
	int rc;

	if (len > SCAN_RPMDB_MAX) {
		if (why && whyn)
			snprintf(why, whyn, "rpm database of %zu bytes is over the limit", len);
		return -BERTH_ETOOBIG;
	}
	d.why = reason;
	d.whyn = sizeof reason;
	reason[0] = '\0';
	rc = read_bdb(&d, db, len, out);
	free(d.seen);
	if (rc < 0) {
		scan_pkgs_truncate(out, n0);
		if (why && whyn)
			snprintf(why, whyn, "rpm database (Berkeley DB): %s", reason);
	}
	return rc;
}
