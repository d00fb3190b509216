/* tarmake: builds tar archives byte by byte for unit tests, including the hostile ones no tar tool
 * writes (".." names, absurd sizes, bad checksums), plus gzip/zstd helpers. Header-only, test code. */
#ifndef BERTH_TEST_TARMAKE_H
#define BERTH_TEST_TARMAKE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct tm_buf {
	unsigned char *p;
	size_t len, cap;
};

static inline void tmb_add(struct tm_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

struct tm_ent {
	const char *name;
	char type; /* '0' file, '1' hard link, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo */
	unsigned mode;
	unsigned uid, gid;
	const void *data;
	size_t size;
	const char *link;
	unsigned major, minor;
	long long mtime;
	const char *pax; /* extra pax records, "key=value" separated by '\n' (values without '\n') */
	unsigned long long fake_size; /* header size when nonzero (base-256 when large); data still `size` */
	int bad_checksum;
};

static inline void tm_octal(unsigned char *f, size_t w, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(w - 1), v);
	memcpy(f, tmp, w - 1);
	f[w - 1] = 0;
}

static inline void tm_header(struct tm_buf *b, const char *name, char type, unsigned mode, unsigned uid, unsigned gid,
			     unsigned long long size, const char *link, unsigned major, unsigned minor, long long mtime,
			     int bad)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	strncpy((char *)h, name, 100);
	tm_octal(h + 100, 8, mode);
	tm_octal(h + 108, 8, uid);
	tm_octal(h + 116, 8, gid);
	if (size >= 077777777777ull) {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	} else {
		tm_octal(h + 124, 12, size);
	}
	tm_octal(h + 136, 12, (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	tm_octal(h + 329, 8, major);
	tm_octal(h + 337, 8, minor);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	if (bad)
		sum += 7;
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	tmb_add(b, h, 512);
}

static inline void tm_pad(struct tm_buf *b, size_t n)
{
	static const unsigned char z[512];
	if (n % 512)
		tmb_add(b, z, 512 - n % 512);
}

static inline void tm_pax_record(struct tm_buf *r, const char *key, const char *val, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, len = base, d;
	char num[32];

	for (;;) {
		d = (size_t)snprintf(num, sizeof(num), "%zu", len);
		if (base + d == len)
			break;
		len = base + d;
	}
	tmb_add(r, num, d);
	tmb_add(r, " ", 1);
	tmb_add(r, key, strlen(key));
	tmb_add(r, "=", 1);
	tmb_add(r, val, vlen);
	tmb_add(r, "\n", 1);
}

static inline void tm_add(struct tm_buf *b, const struct tm_ent *e)
{
	struct tm_buf rec = {0};
	const char *name = e->name, *link = e->link;
	unsigned mode = e->mode ? e->mode : (e->type == '5' ? 0755 : 0644);
	char type = e->type ? e->type : '0';

	if (strlen(name) > 99)
		tm_pax_record(&rec, "path", name, strlen(name));
	if (link && strlen(link) > 99)
		tm_pax_record(&rec, "linkpath", link, strlen(link));
	if (e->pax) {
		const char *p = e->pax;
		while (*p) {
			const char *nl = strchr(p, '\n'), *eq;
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			char key[256];
			eq = memchr(p, '=', l);
			if (eq) {
				snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
				tm_pax_record(&rec, key, eq + 1, l - (size_t)(eq - p) - 1);
			}
			p += l + (nl ? 1 : 0);
		}
	}
	if (rec.len) {
		tm_header(b, "PaxHeaders/x", 'x', 0644, 0, 0, rec.len, NULL, 0, 0, 0, 0);
		tmb_add(b, rec.p, rec.len);
		tm_pad(b, rec.len);
		free(rec.p);
	}
	tm_header(b, name, type, mode, e->uid, e->gid, e->fake_size ? e->fake_size : e->size, link, e->major, e->minor,
		  e->mtime ? e->mtime : 1700000000, e->bad_checksum);
	if (e->size) {
		tmb_add(b, e->data, e->size);
		tm_pad(b, e->size);
	}
}

static inline void tm_end(struct tm_buf *b)
{
	static const unsigned char z[1024];
	tmb_add(b, z, sizeof(z));
}

/* gzip of p[0..n) (one member). Caller frees. */
static inline unsigned char *tm_gzip(const void *p, size_t n, size_t *outn)
{
	z_stream z;
	size_t cap = compressBound((uLong)n) + 64;
	unsigned char *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	*outn = z.total_out;
	deflateEnd(&z);
	return out;
}

static inline unsigned char *tm_zstd(const void *p, size_t n, size_t *outn)
{
	size_t cap = ZSTD_compressBound(n);
	unsigned char *out = malloc(cap);
	*outn = ZSTD_compress(out, cap, p, n, 3);
	return out;
}

/* A memory reader for read callbacks: hands out at most `chunk` bytes per call (0: all). */
struct tm_reader {
	const unsigned char *p;
	size_t len, pos, chunk;
	int fail_at_end; /* return this error instead of EOF when nonzero */
};

static inline ssize_t tm_read(void *ctx, void *buf, size_t n)
{
	struct tm_reader *r = ctx;
	size_t k = r->len - r->pos;

	if (k == 0 && r->fail_at_end)
		return r->fail_at_end;
	if (k > n)
		k = n;
	if (r->chunk && k > r->chunk)
		k = r->chunk;
	memcpy(buf, r->p + r->pos, k);
	r->pos += k;
	return (ssize_t)k;
}

#endif
