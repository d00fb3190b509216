#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/err.h"

#define READ_BUF (128 * 1024)
#define PATH_MAXLEN 4095
#define NAME_MAXLEN 255
#define MAX_XATTRS 1024
#define MAX_XATTR_VALUE 65536
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

struct layer_walker {
	layer_read_fn fn;
	void *ctx;
	struct archive *a;
	int opened;
	int err;
	int read_err; /* the callback's own error, reported instead of libarchive's */
	uint64_t max_entry;
	uint64_t count;
	unsigned char *rbuf;
	char **filter;
	struct layer_entry e;
	char *path, *raw, *link; /* sized for PATH_MAXLEN + 1 */
	struct layer_xattr *xattrs;
	size_t xcap;
	/* content state for layer_walker_read */
	const unsigned char *blk;
	size_t blk_left;
	uint64_t blk_off, pos;
	int data_end;
	int has_entry;
	char why[PATH_MAXLEN + 128];
};

static int wfail(struct layer_walker *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int wfail(struct layer_walker *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return w->err;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	w->err = err;
	return err;
}

static la_ssize_t cb_read(struct archive *a, void *cd, const void **buf)
{
	struct layer_walker *w = cd;
	ssize_t n = w->fn(w->ctx, w->rbuf, READ_BUF);

	if (n < 0) {
		w->read_err = (int)n;
		archive_set_error(a, EIO, "read callback failed");
		return -1;
	}
	*buf = w->rbuf;
	return n;
}

int layer_walker_new(struct layer_walker **out, layer_read_fn fn, void *ctx, const struct layer_limits *lim)
{
	struct layer_walker *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -BERTH_ENOMEM;
	w->fn = fn;
	w->ctx = ctx;
	w->max_entry = lim && lim->max_entry ? lim->max_entry : (1ull << 40);
	w->rbuf = malloc(READ_BUF);
	w->path = malloc(PATH_MAXLEN + 1);
	w->raw = malloc(PATH_MAXLEN + 1);
	w->link = malloc(PATH_MAXLEN + 1);
	w->a = archive_read_new();
	if (!w->rbuf || !w->path || !w->raw || !w->link || !w->a) {
		layer_walker_free(w);
		return -BERTH_ENOMEM;
	}
	/* tar only (ustar, pax, GNU, v7); no filters: decompression and its bounds are the caller's */
	archive_read_support_format_tar(w->a);
	*out = w;
	return 0;
}

static void free_filter(struct layer_walker *w)
{
	if (!w->filter)
		return;
	for (char **p = w->filter; *p; p++)
		free(*p);
	free(w->filter);
	w->filter = NULL;
}

void layer_walker_free(struct layer_walker *w)
{
	if (!w)
		return;
	if (w->a)
		archive_read_free(w->a);
	free_filter(w);
	free(w->rbuf);
	free(w->path);
	free(w->raw);
	free(w->link);
	free(w->xattrs);
	free(w);
}

int layer_walker_set_filter(struct layer_walker *w, const char *const *patterns)
{
	size_t n = 0;

	free_filter(w);
	if (!patterns)
		return 0;
	while (patterns[n])
		n++;
	w->filter = calloc(n + 1, sizeof(char *));
	if (!w->filter)
		return -BERTH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		w->filter[i] = strdup(patterns[i]);
		if (!w->filter[i]) {
			free_filter(w);
			return -BERTH_ENOMEM;
		}
	}
	return 0;
}

const char *layer_walker_why(const struct layer_walker *w)
{
	return w->why;
}

uint64_t layer_walker_count(const struct layer_walker *w)
{
	return w->count;
}

int layer_path_normalize(const char *name, char *out, size_t outn)
{
	size_t o = 0, len = strlen(name);
	const char *p = name, *end = name + len;

	if (len > PATH_MAXLEN)
		return -BERTH_EINVAL;
	while (p < end) {
		const char *s = memchr(p, '/', (size_t)(end - p));
		size_t cl;

		if (!s)
			s = end;
		cl = (size_t)(s - p);
		if (cl == 0 || (cl == 1 && p[0] == '.')) {
			p = s + 1;
			continue;
		}
		if (cl == 2 && p[0] == '.' && p[1] == '.')
			return -BERTH_EINVAL;
		if (cl > NAME_MAXLEN)
			return -BERTH_EINVAL;
		if (o + (o ? 1 : 0) + cl + 1 > outn)
			return -BERTH_EINVAL;
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, cl);
		o += cl;
		p = s + 1;
	}
	out[o] = '\0';
	return 0;
}

static int matches_filter(const struct layer_walker *w, const char *path)
{
	for (char **p = w->filter; *p; p++)
		if (fnmatch(*p, path, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

/* Splits the normalized raw name into whiteout kind and target path. */
static int classify_whiteout(struct layer_walker *w)
{
	const char *base = strrchr(w->raw, '/');
	size_t dirlen = base ? (size_t)(base - w->raw) : 0;

	base = base ? base + 1 : w->raw;
	w->e.wh = LAYER_WH_NONE;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
		return 0;
	if (strcmp(base, WH_OPAQUE) == 0) {
		w->e.wh = LAYER_WH_OPAQUE;
		memcpy(w->path, w->raw, dirlen);
		w->path[dirlen] = '\0';
		return 0;
	}
	if (strncmp(base, WH_META, strlen(WH_META)) == 0) {
		w->e.wh = LAYER_WH_META;
		return 0;
	}
	base += strlen(WH_PREFIX);
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return wfail(w, -BERTH_EINVAL, "invalid whiteout name \"%s\"", w->raw);
	w->e.wh = LAYER_WH_FILE;
	if (dirlen) {
		memcpy(w->path, w->raw, dirlen);
		w->path[dirlen] = '/';
		dirlen++;
	}
	memcpy(w->path + dirlen, base, strlen(base) + 1);
	return 0;
}

static int fill_xattrs(struct layer_walker *w, struct archive_entry *ae)
{
	int n = archive_entry_xattr_reset(ae);
	const char *name;
	const void *val;
	size_t size, i = 0;

	w->e.nxattrs = 0;
	if (n <= 0)
		return 0;
	if (n > MAX_XATTRS)
		return wfail(w, -BERTH_EINVAL, "%s: %d xattrs (limit %d)", w->raw, n, MAX_XATTRS);
	if ((size_t)n > w->xcap) {
		struct layer_xattr *x = realloc(w->xattrs, (size_t)n * sizeof(*x));
		if (!x)
			return wfail(w, -BERTH_ENOMEM, "out of memory");
		w->xattrs = x;
		w->xcap = (size_t)n;
	}
	while (i < (size_t)n && archive_entry_xattr_next(ae, &name, &val, &size) == ARCHIVE_OK) {
		if (!name || !*name || strlen(name) > NAME_MAXLEN)
			return wfail(w, -BERTH_EINVAL, "%s: invalid xattr name", w->raw);
		if (size > MAX_XATTR_VALUE)
			return wfail(w, -BERTH_EINVAL, "%s: xattr %s of %zu bytes (limit %d)", w->raw, name, size,
				     MAX_XATTR_VALUE);
		w->xattrs[i].name = name;
		w->xattrs[i].value = val;
		w->xattrs[i].size = size;
		i++;
	}
	w->e.xattrs = w->xattrs;
	w->e.nxattrs = i;
	return 0;
}

/* Fills w->e from the archive entry; 1 when it should be returned, 0 to skip, or an error. */
static int fill_entry(struct layer_walker *w, struct archive_entry *ae)
{
	const char *name = archive_entry_pathname(ae);
	const char *hl = archive_entry_hardlink(ae);
	const char *sl = archive_entry_symlink(ae);
	mode_t ft = archive_entry_filetype(ae);
	la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae), size = archive_entry_size(ae);
	struct layer_entry *e = &w->e;
	int rc;

	memset(e, 0, sizeof(*e));
	if (!name || !*name)
		return wfail(w, -BERTH_EINVAL, "entry %llu has no name", (unsigned long long)w->count);
	if (layer_path_normalize(name, w->raw, PATH_MAXLEN + 1) < 0)
		return wfail(w, -BERTH_EINVAL, "path escapes the layer or is too long: \"%.300s\"", name);
	e->raw_path = w->raw;
	e->path = w->path;
	rc = classify_whiteout(w);
	if (rc < 0)
		return rc;
	if (e->wh == LAYER_WH_NONE || e->wh == LAYER_WH_META)
		memcpy(w->path, w->raw, strlen(w->raw) + 1);
	if (w->filter && e->wh == LAYER_WH_NONE && !matches_filter(w, w->path))
		return 0;

	if (size < 0 || (uint64_t)size > w->max_entry)
		return wfail(w, -BERTH_ETOOBIG, "%s: entry size %lld over the limit", w->raw, (long long)size);
	if (uid < 0 || gid < 0 || uid >= 0xffffffffLL || gid >= 0xffffffffLL)
		return wfail(w, -BERTH_EINVAL, "%s: invalid owner %lld:%lld", w->raw, (long long)uid, (long long)gid);
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	e->mode = archive_entry_perm(ae) & 07777;
	e->size = (uint64_t)size;
	e->mtime_sec = archive_entry_mtime(ae);
	e->mtime_nsec = archive_entry_mtime_nsec(ae);
	if (archive_entry_atime_is_set(ae)) {
		e->atime_sec = archive_entry_atime(ae);
		e->atime_nsec = archive_entry_atime_nsec(ae);
	} else {
		e->atime_sec = e->mtime_sec;
		e->atime_nsec = e->mtime_nsec;
	}
	if (e->mtime_nsec < 0 || e->mtime_nsec > 999999999 || e->atime_nsec < 0 || e->atime_nsec > 999999999)
		return wfail(w, -BERTH_EINVAL, "%s: invalid timestamp", w->raw);

	if (hl) {
		e->type = LAYER_HARDLINK;
		if (!*hl || layer_path_normalize(hl, w->link, PATH_MAXLEN + 1) < 0 || !w->link[0])
			return wfail(w, -BERTH_EINVAL, "%s: hard link target escapes the layer: \"%.300s\"", w->raw,
				     hl);
		e->link = w->link;
		e->size = 0;
	} else {
		switch (ft) {
		case AE_IFREG:
			e->type = LAYER_REG;
			break;
		case AE_IFDIR:
			e->type = LAYER_DIR;
			e->size = 0;
			break;
		case AE_IFLNK:
			e->type = LAYER_SYMLINK;
			if (!sl || strlen(sl) > PATH_MAXLEN)
				return wfail(w, -BERTH_EINVAL, "%s: invalid symlink target", w->raw);
			memcpy(w->link, sl, strlen(sl) + 1);
			e->link = w->link;
			e->size = 0;
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			e->type = ft == AE_IFCHR ? LAYER_CHR : LAYER_BLK;
			e->devmajor = (uint32_t)archive_entry_rdevmajor(ae);
			e->devminor = (uint32_t)archive_entry_rdevminor(ae);
			e->size = 0;
			break;
		case AE_IFIFO:
			e->type = LAYER_FIFO;
			e->size = 0;
			break;
		default:
			return wfail(w, -BERTH_EINVAL, "%s: unsupported entry type 0%o", w->raw, (unsigned)ft);
		}
	}
	if (e->wh == LAYER_WH_NONE && !w->raw[0] && e->type != LAYER_DIR)
		return wfail(w, -BERTH_EINVAL, "the layer root entry is not a directory");
	rc = fill_xattrs(w, ae);
	if (rc < 0)
		return rc;
	return 1;
}

int layer_walker_next(struct layer_walker *w, const struct layer_entry **out)
{
	struct archive_entry *ae;
	int r, rc;

	*out = NULL;
	if (w->err)
		return w->err;
	if (!w->opened) {
		if (archive_read_open(w->a, w, NULL, cb_read, NULL) != ARCHIVE_OK) {
			if (w->read_err)
				return wfail(w, w->read_err, "reading the layer failed");
			return wfail(w, -BERTH_EINVAL, "not a tar archive: %s", archive_error_string(w->a));
		}
		w->opened = 1;
	}
	for (;;) {
		w->has_entry = 0;
		r = archive_read_next_header(w->a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (w->read_err)
				return wfail(w, w->read_err, "reading the layer failed after %llu entries",
					     (unsigned long long)w->count);
			return wfail(w, -BERTH_EINVAL, "malformed tar after %llu entries: %s",
				     (unsigned long long)w->count, archive_error_string(w->a));
		}
		w->count++;
		rc = fill_entry(w, ae);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		w->has_entry = 1;
		w->blk = NULL;
		w->blk_left = 0;
		w->pos = 0;
		w->blk_off = 0;
		w->data_end = w->e.type != LAYER_REG;
		*out = &w->e;
		return 1;
	}
}

int layer_walker_block(struct layer_walker *w, const void **p, size_t *n, uint64_t *off)
{
	la_int64_t o;
	int r;

	if (w->err)
		return w->err;
	if (!w->has_entry || w->data_end)
		return 0;
	r = archive_read_data_block(w->a, p, n, &o);
	if (r == ARCHIVE_EOF) {
		w->data_end = 1;
		return 0;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		if (w->read_err)
			return wfail(w, w->read_err, "%s: reading the layer failed", w->raw);
		return wfail(w, -BERTH_EINVAL, "%s: %s", w->raw, archive_error_string(w->a));
	}
	if (o < 0 || (uint64_t)o + *n > w->e.size)
		return wfail(w, -BERTH_EINVAL, "%s: content beyond the entry size", w->raw);
	*off = (uint64_t)o;
	return 1;
}

ssize_t layer_walker_read(struct layer_walker *w, void *buf, size_t n)
{
	unsigned char *out = buf;
	size_t got = 0;

	while (got < n) {
		if (w->blk_left == 0) {
			const void *p;
			size_t bn;
			uint64_t off;
			int r;

			if (w->pos < w->blk_off) { /* inside a hole */
				size_t z = w->blk_off - w->pos < n - got ? (size_t)(w->blk_off - w->pos) : n - got;
				memset(out + got, 0, z);
				got += z;
				w->pos += z;
				continue;
			}
			r = layer_walker_block(w, &p, &bn, &off);
			if (r < 0)
				return r;
			if (r == 0) {
				/* a trailing hole up to the entry size */
				if (w->pos < w->e.size) {
					w->blk_off = w->e.size;
					w->blk_left = 0;
					if (w->pos < w->blk_off)
						continue;
				}
				break;
			}
			if (off < w->pos)
				return wfail(w, -BERTH_EINVAL, "%s: overlapping sparse blocks", w->raw);
			w->blk = p;
			w->blk_left = bn;
			w->blk_off = off;
			continue;
		}
		if (w->pos < w->blk_off) {
			size_t z = w->blk_off - w->pos < n - got ? (size_t)(w->blk_off - w->pos) : n - got;
			memset(out + got, 0, z);
			got += z;
			w->pos += z;
			continue;
		}
		size_t k = w->blk_left < n - got ? w->blk_left : n - got;
		memcpy(out + got, w->blk, k);
		w->blk += k;
		w->blk_left -= k;
		w->blk_off += k;
		w->pos += k;
		got += k;
	}
	return (ssize_t)got;
}
