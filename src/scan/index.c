/* index: one layer's watched files, streamed out of its blob (see index.h). */
#include "scan/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "image/decomp.h"
#include "image/layer.h"

const char *const scan_watch_patterns[] = {
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "etc/redhat-release",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/*",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    NULL,
};

/* The roots a whiteout or opaque directory must touch to matter: files, and directories ending "/". */
static const char *const roots[] = {
    "etc/os-release",     "usr/lib/os-release",    "etc/debian_version",     "etc/alpine-release",
    "etc/redhat-release", "var/lib/dpkg/status",   "var/lib/dpkg/status.d/", "lib/apk/db/installed",
    "var/lib/rpm/",       "usr/lib/sysimage/rpm/",
};

enum scan_watch scan_watch_of(const char *path)
{
	static const struct {
		const char *path;
		enum scan_watch kind;
	} exact[] = {
	    {"etc/os-release", SCAN_W_OS_RELEASE},
	    {"usr/lib/os-release", SCAN_W_OS_RELEASE_USR},
	    {"etc/debian_version", SCAN_W_DEBIAN_VERSION},
	    {"etc/alpine-release", SCAN_W_ALPINE_RELEASE},
	    {"etc/redhat-release", SCAN_W_REDHAT_RELEASE},
	    {"var/lib/dpkg/status", SCAN_W_DPKG_STATUS},
	    {"lib/apk/db/installed", SCAN_W_APK},
	    {"var/lib/rpm/rpmdb.sqlite", SCAN_W_RPM_SQLITE},
	    {"var/lib/rpm/Packages", SCAN_W_RPM_BDB},
	    {"var/lib/rpm/Packages.db", SCAN_W_RPM_NDB},
	    {"usr/lib/sysimage/rpm/rpmdb.sqlite", SCAN_W_RPM_SQLITE},
	    {"usr/lib/sysimage/rpm/Packages", SCAN_W_RPM_BDB},
	    {"usr/lib/sysimage/rpm/Packages.db", SCAN_W_RPM_NDB},
	};
	static const char statusd[] = "var/lib/dpkg/status.d/";

	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcmp(path, exact[i].path) == 0)
			return exact[i].kind;
	if (strncmp(path, statusd, sizeof statusd - 1) == 0) {
		const char *name = path + sizeof statusd - 1;
		if (*name && !strchr(name, '/') && scan_dpkg_statusd_name_ok(name))
			return SCAN_W_DPKG_STATUSD;
	}
	return SCAN_W_NONE;
}

/* 1 when deleting or making opaque the directory or file `path` can hide a watched file. */
static int touches(const char *path)
{
	size_t pl = strlen(path);

	if (pl == 0)
		return 1;
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		const char *r = roots[i];
		size_t rl = strlen(r);
		int dir = r[rl - 1] == '/';
		size_t rn = dir ? rl - 1 : rl;

		/* path is the root, or a directory above it */
		if (pl <= rn && strncmp(r, path, pl) == 0 && (pl == rn || r[pl] == '/'))
			return 1;
		/* path is inside a watched directory */
		if (dir && pl > rl && strncmp(path, r, rl) == 0)
			return 1;
	}
	return 0;
}

void scan_layer_init(struct scan_layer *l)
{
	memset(l, 0, sizeof *l);
}

static void lf_release(struct scan_lf *f)
{
	free(f->path);
	free(f->data);
	free(f->why);
	free(f->link);
	scan_pkgs_release(&f->pkgs);
}

void scan_layer_release(struct scan_layer *l)
{
	for (size_t i = 0; i < l->n; i++)
		lf_release(&l->v[i]);
	free(l->v);
	scan_layer_init(l);
}

/* A new zeroed record at the end of l, or NULL. */
static struct scan_lf *lf_push(struct scan_layer *l, enum scan_lf_op op, const char *path)
{
	struct scan_lf *f;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct scan_lf *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	f = &l->v[l->n];
	memset(f, 0, sizeof *f);
	scan_pkgs_init(&f->pkgs);
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	f->op = op;
	f->kind = scan_watch_of(path);
	l->n++;
	return f;
}

static void say(char *why, size_t whyn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whyn, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whyn)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whyn, fmt, ap);
	va_end(ap);
}

static ssize_t decomp_cb(void *ctx, void *buf, size_t n)
{
	return decomp_read(ctx, buf, n);
}

/* Copies the current entry's content to fd, at most max bytes. */
static int spool(struct layer_walker *w, int fd, uint64_t size)
{
	char buf[65536];
	ssize_t k;

	(void)size;
	while ((k = layer_walker_read(w, buf, sizeof buf)) > 0) {
		const char *p = buf;
		while (k > 0) {
			ssize_t m = write(fd, p, (size_t)k);
			if (m < 0) {
				if (errno == EINTR)
					continue;
				return berth_from_errno(errno);
			}
			p += m;
			k -= m;
		}
	}
	return k < 0 ? (int)k : 0;
}

/* Reads an rpm database entry through a temporary file and records its packages (or why not). */
static int index_rpmdb(struct layer_walker *w, const struct layer_entry *e, struct scan_lf *f, const char *tmpdir,
		       char *why, size_t whyn)
{
	char path[4096], reason[256] = "";
	int fd = -1, rc;
	void *map = MAP_FAILED;

	if (e->size > SCAN_RPMDB_MAX) {
		say(reason, sizeof reason, "%s: %llu bytes, over the %zu-byte limit for rpm databases", e->path,
		    (unsigned long long)e->size, SCAN_RPMDB_MAX);
		rc = 0;
		goto record;
	}
	if (snprintf(path, sizeof path, "%s/berth-rpmdb-XXXXXX", tmpdir) >= (int)sizeof path) {
		say(why, whyn, "spool directory name too long");
		return -BERTH_EINVAL;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		rc = berth_from_errno(errno);
		say(why, whyn, "cannot create a spool file in %s: %s", tmpdir, strerror(errno));
		return rc;
	}
	rc = spool(w, fd, e->size);
	if (rc < 0) {
		say(why, whyn, "%s: %s", e->path, berth_strerror(rc));
		goto out;
	}
	if (f->kind == SCAN_W_RPM_SQLITE) {
		rc = scan_rpmdb_sqlite_read_file(path, &f->pkgs, reason, sizeof reason);
	} else if (e->size == 0) {
		rc = -BERTH_EINVAL;
		say(reason, sizeof reason, "empty Berkeley DB file");
	} else {
		map = mmap(NULL, (size_t)e->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			rc = berth_from_errno(errno);
			say(why, whyn, "%s: mmap: %s", e->path, strerror(errno));
			goto out;
		}
		rc = scan_rpmdb_bdb_read_mem(map, (size_t)e->size, &f->pkgs, reason, sizeof reason);
	}
	if (rc == -BERTH_ENOMEM)
		goto out;
record:
	if (rc < 0 || reason[0]) {
		char full[512];
		snprintf(full, sizeof full, "%s: %s", e->path, reason[0] ? reason : berth_strerror(rc));
		f->why = strdup(full);
		if (!f->why) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)e->size);
	if (fd >= 0) {
		unlink(path);
		close(fd);
	}
	return rc;
}

/* Keeps a text file's bytes (bounded by max_file and by what is left of max_kept). */
static int index_text(struct layer_walker *w, const struct layer_entry *e, struct scan_lf *f, uint64_t max_file,
		      uint64_t *kept_left, char *why, size_t whyn)
{
	size_t len = 0;
	char *p;
	ssize_t k;

	if (e->size > max_file) {
		char full[512];
		snprintf(full, sizeof full, "%s: %llu bytes, over the %llu-byte limit", e->path,
			 (unsigned long long)e->size, (unsigned long long)max_file);
		f->why = strdup(full);
		return f->why ? 0 : -BERTH_ENOMEM;
	}
	if (e->size > *kept_left) {
		say(why, whyn, "%s: the layer's watched files exceed the per-layer limit", e->path);
		return -BERTH_ETOOBIG;
	}
	p = malloc((size_t)e->size + 1);
	if (!p)
		return -BERTH_ENOMEM;
	while (len < e->size && (k = layer_walker_read(w, p + len, (size_t)e->size - len)) > 0)
		len += (size_t)k;
	if (len < e->size) {
		free(p);
		say(why, whyn, "%s: %s", e->path, layer_walker_why(w)[0] ? layer_walker_why(w) : "short read");
		return -BERTH_EINVAL;
	}
	p[len] = '\0';
	f->data = p;
	f->len = len;
	*kept_left -= len;
	return 0;
}

int scan_layer_index(ssize_t (*fn)(void *ctx, void *buf, size_t n), void *ctx, const struct scan_index_limits *lim,
		     struct scan_layer *l, char *why, size_t whyn)
{
	struct decomp *d = NULL;
	struct layer_walker *w = NULL;
	struct decomp_opts o = {0};
	struct decomp_result res;
	struct layer_limits ll = {0};
	const struct layer_entry *e;
	uint64_t max_file = lim && lim->max_file ? lim->max_file : SCAN_TEXT_MAX;
	uint64_t kept_left = lim && lim->max_kept ? lim->max_kept : (uint64_t)256 << 20;
	const char *tmpdir = lim && lim->tmpdir ? lim->tmpdir : getenv("TMPDIR");
	int rc;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (why && whyn)
		why[0] = '\0';
	o.max_out = lim && lim->max_out ? lim->max_out : (uint64_t)16 << 30;
	ll.max_entry = o.max_out;
	rc = decomp_new(&d, fn, ctx, &o);
	if (rc < 0)
		goto out;
	rc = layer_walker_new(&w, decomp_cb, d, &ll);
	if (rc < 0)
		goto out;
	rc = layer_walker_set_filter(w, scan_watch_patterns);
	if (rc < 0)
		goto out;
	while ((rc = layer_walker_next(w, &e)) > 0) {
		struct scan_lf *f;
		enum scan_watch kind;

		if (e->wh == LAYER_WH_META)
			continue;
		if (e->wh == LAYER_WH_FILE || e->wh == LAYER_WH_OPAQUE) {
			if (!touches(e->path))
				continue;
			if (!lf_push(l, e->wh == LAYER_WH_FILE ? SCAN_LF_DELETE : SCAN_LF_OPAQUE, e->path)) {
				rc = -BERTH_ENOMEM;
				goto out;
			}
			continue;
		}
		kind = scan_watch_of(e->path);
		if (kind == SCAN_W_NONE)
			continue;
		if (e->type == LAYER_DIR)
			continue;
		if (e->type == LAYER_SYMLINK || e->type == LAYER_HARDLINK) {
			f = lf_push(l, SCAN_LF_LINK, e->path);
			if (!f || !(f->link = strdup(e->link ? e->link : ""))) {
				rc = -BERTH_ENOMEM;
				goto out;
			}
			f->hard = e->type == LAYER_HARDLINK;
			continue;
		}
		if (e->type != LAYER_REG) {
			/* a device or fifo where a database was: the file is gone */
			if (!lf_push(l, SCAN_LF_DELETE, e->path)) {
				rc = -BERTH_ENOMEM;
				goto out;
			}
			continue;
		}
		f = lf_push(l, SCAN_LF_PUT, e->path);
		if (!f) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
		if (kind == SCAN_W_RPM_SQLITE || kind == SCAN_W_RPM_BDB)
			rc = index_rpmdb(w, e, f, tmpdir, why, whyn);
		else if (kind == SCAN_W_RPM_NDB)
			rc = 0; /* seen, not read: no reader for ndb */
		else
			rc = index_text(w, e, f, max_file, &kept_left, why, whyn);
		if (rc < 0)
			goto out;
	}
	if (rc < 0) {
		const char *dw = decomp_why(d);
		say(why, whyn, "%s", dw[0] ? dw : layer_walker_why(w));
		goto out;
	}
	rc = decomp_finish(d, &res);
	if (rc < 0) {
		say(why, whyn, "%s", decomp_why(d));
		goto out;
	}
	l->in_bytes = res.in_bytes;
	l->out_bytes = res.out_bytes;
	l->entries = layer_walker_count(w);
out:
	if (rc < 0) {
		if (why && whyn && !why[0])
			say(why, whyn, "%s", berth_strerror(rc));
		scan_layer_release(l);
	}
	layer_walker_free(w);
	decomp_free(d);
	return rc < 0 ? rc : 0;
}

/* ---- encoding ------------------------------------------------------------------------------- */

static int put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	return buf_add(b, x, 4);
}

static int put_u64(struct buf *b, uint64_t v)
{
	int rc = put_u32(b, (uint32_t)(v >> 32));
	return rc < 0 ? rc : put_u32(b, (uint32_t)v);
}

/* A string: u32 length (0xffffffff for NULL), then its bytes. */
static int put_str(struct buf *b, const char *s, size_t n)
{
	int rc;

	if (!s)
		return put_u32(b, 0xffffffffu);
	if (n >= 0xffffffffu)
		return -BERTH_ETOOBIG;
	rc = put_u32(b, (uint32_t)n);
	return rc < 0 ? rc : buf_add(b, s, n);
}

static int put_cstr(struct buf *b, const char *s)
{
	return put_str(b, s, s ? strlen(s) : 0);
}

static int put_pkg(struct buf *b, const struct scan_pkg *p)
{
	unsigned char eco = (unsigned char)p->eco;
	int rc = buf_add(b, &eco, 1);

	if (rc == 0)
		rc = put_cstr(b, p->name);
	if (rc == 0)
		rc = put_cstr(b, p->version);
	if (rc == 0)
		rc = put_cstr(b, p->arch);
	if (rc == 0)
		rc = put_cstr(b, p->source);
	if (rc == 0)
		rc = put_cstr(b, p->source_version);
	return rc;
}

int scan_layer_encode(const struct scan_layer *l, struct buf *b)
{
	int rc = buf_add(b, "BSL1", 4);

	if (rc == 0)
		rc = put_u64(b, l->in_bytes);
	if (rc == 0)
		rc = put_u64(b, l->out_bytes);
	if (rc == 0)
		rc = put_u64(b, l->entries);
	if (rc == 0)
		rc = put_u32(b, (uint32_t)l->n);
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		const struct scan_lf *f = &l->v[i];
		unsigned char h[3] = {(unsigned char)f->op, (unsigned char)f->kind, (unsigned char)f->hard};

		rc = buf_add(b, h, 3);
		if (rc == 0)
			rc = put_cstr(b, f->path);
		if (rc == 0)
			rc = put_str(b, f->data, f->len);
		if (rc == 0)
			rc = put_cstr(b, f->why);
		if (rc == 0)
			rc = put_cstr(b, f->link);
		if (rc == 0)
			rc = put_u32(b, (uint32_t)f->pkgs.n);
		for (size_t j = 0; rc == 0 && j < f->pkgs.n; j++)
			rc = put_pkg(b, &f->pkgs.v[j]);
	}
	return rc;
}

/* A bounds-checked reader over an encoding. */
struct rd {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static uint32_t get_u32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->n - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 | (uint32_t)r->p[r->off + 2] << 8 |
	    r->p[r->off + 3];
	r->off += 4;
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t hi = get_u32(r);
	return hi << 32 | get_u32(r);
}

static unsigned char get_u8(struct rd *r)
{
	if (r->bad || r->off >= r->n) {
		r->bad = 1;
		return 0;
	}
	return r->p[r->off++];
}

/* A borrowed view of the next string: *s NULL for a NULL string. */
static void get_view(struct rd *r, const char **s, size_t *len)
{
	uint32_t n = get_u32(r);

	*s = NULL;
	*len = 0;
	if (r->bad || n == 0xffffffffu)
		return;
	if (r->n - r->off < n) {
		r->bad = 1;
		return;
	}
	*s = (const char *)r->p + r->off;
	*len = n;
	r->off += n;
}

/* The next string, copied (NULL stays NULL). -BERTH_ENOMEM or 0; r->bad on malformed input. */
static int get_dup(struct rd *r, char **out, size_t *outlen)
{
	const char *s;
	size_t n;

	*out = NULL;
	get_view(r, &s, &n);
	if (r->bad || !s)
		return 0;
	if (memchr(s, '\0', n) && !outlen) {
		r->bad = 1;
		return 0;
	}
	*out = malloc(n + 1);
	if (!*out)
		return -BERTH_ENOMEM;
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	if (outlen)
		*outlen = n;
	return 0;
}

static int get_pkg(struct rd *r, struct scan_pkgs *pk)
{
	unsigned eco = get_u8(r);
	const char *s[5];
	size_t n[5];

	for (int i = 0; i < 5; i++)
		get_view(r, &s[i], &n[i]);
	if (r->bad || eco > SCAN_ECO_RPM || !s[0] || !s[1] || !s[2] || !s[3] || !s[4]) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 5; i++)
		if (memchr(s[i], '\0', n[i])) {
			r->bad = 1;
			return 0;
		}
	return scan_pkgs_add(pk, (enum scan_eco)eco, s[0], n[0], s[1], n[1], s[2], n[2], s[3], n[3], s[4], n[4]);
}

int scan_layer_decode(const void *p, size_t n, struct scan_layer *l)
{
	struct rd r = {p, n, 0, 0};
	uint32_t count;
	int rc = 0;

	scan_layer_init(l);
	if (n < 4 || memcmp(p, "BSL1", 4) != 0)
		return -BERTH_EINVAL;
	r.off = 4;
	l->in_bytes = get_u64(&r);
	l->out_bytes = get_u64(&r);
	l->entries = get_u64(&r);
	count = get_u32(&r);
	for (uint32_t i = 0; !r.bad && rc == 0 && i < count; i++) {
		unsigned op = get_u8(&r), kind = get_u8(&r), hard = get_u8(&r);
		const char *path;
		size_t plen;
		struct scan_lf *f;
		uint32_t np;

		get_view(&r, &path, &plen);
		if (r.bad || !path || memchr(path, '\0', plen) || op < SCAN_LF_PUT || op > SCAN_LF_OPAQUE ||
		    kind > SCAN_W_RPM_NDB || hard > 1) {
			r.bad = 1;
			break;
		}
		{
			char *tmp = strndup(path, plen);
			if (!tmp) {
				rc = -BERTH_ENOMEM;
				break;
			}
			f = lf_push(l, (enum scan_lf_op)op, tmp);
			free(tmp);
		}
		if (!f) {
			rc = -BERTH_ENOMEM;
			break;
		}
		f->kind = (enum scan_watch)kind;
		f->hard = (int)hard;
		rc = get_dup(&r, &f->data, &f->len);
		if (rc == 0)
			rc = get_dup(&r, &f->why, NULL);
		if (rc == 0)
			rc = get_dup(&r, &f->link, NULL);
		np = get_u32(&r);
		if (np > SCAN_PKGS_MAX)
			r.bad = 1;
		for (uint32_t j = 0; rc == 0 && !r.bad && j < np; j++)
			rc = get_pkg(&r, &f->pkgs);
	}
	if (rc == 0 && (r.bad || r.off != n))
		rc = -BERTH_EINVAL;
	if (rc < 0)
		scan_layer_release(l);
	return rc;
}

int scan_pkgs_encode(const struct scan_pkgs *pk, const uint32_t *layers, struct buf *b)
{
	int rc = buf_add(b, "BSP1", 4);

	if (rc == 0)
		rc = put_u32(b, (uint32_t)pk->n);
	for (size_t i = 0; rc == 0 && i < pk->n; i++) {
		rc = put_u32(b, layers ? layers[i] : 0);
		if (rc == 0)
			rc = put_pkg(b, &pk->v[i]);
	}
	return rc;
}

int scan_pkgs_decode(const void *p, size_t n, struct scan_pkgs *pk, uint32_t **layers)
{
	struct rd r = {p, n, 0, 0};
	size_t base = pk->n;
	uint32_t count, *lv = NULL;
	int rc = 0;

	if (layers)
		*layers = NULL;
	if (n < 8 || memcmp(p, "BSP1", 4) != 0)
		return -BERTH_EINVAL;
	r.off = 4;
	count = get_u32(&r);
	if (count > SCAN_PKGS_MAX || count > n / 25)
		return -BERTH_EINVAL;
	if (layers && count) {
		lv = malloc(count * sizeof *lv);
		if (!lv)
			return -BERTH_ENOMEM;
	}
	for (uint32_t i = 0; rc == 0 && !r.bad && i < count; i++) {
		uint32_t li = get_u32(&r);
		if (lv)
			lv[i] = li;
		rc = get_pkg(&r, pk);
	}
	if (rc == 0 && (r.bad || r.off != n))
		rc = -BERTH_EINVAL;
	if (rc < 0) {
		scan_pkgs_truncate(pk, base);
		free(lv);
		return rc;
	}
	if (layers)
		*layers = lv;
	return 0;
}
