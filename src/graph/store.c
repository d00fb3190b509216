/* store: the local image store: SQLite metadata, flock'd commits, verified parallel unpacking. */
#include "graph/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "graph/driver.h"
#include "graph/extract.h"
#include "graph/internal.h"
#include "image/decomp.h"
#include "image/layer.h"
#include "image/manifest.h"

struct graph_store {
	char *root;
	struct graph_driver drv;
	sqlite3 *db;
	int lockfd, stagefd;
	char why[1024];
};

static int sfail(struct graph_store *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sfail(struct graph_store *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return err;
}

static int dbfail(struct graph_store *s)
{
	return sfail(s, -BERTH_EDB, "store database: %s", sqlite3_errmsg(s->db));
}

const char *graph_store_why(const struct graph_store *s)
{
	return s->why;
}

const char *graph_store_driver(const struct graph_store *s)
{
	return s->drv.ops->name;
}

const char *graph_store_root(const struct graph_store *s)
{
	return s->root;
}

/* ---- locks ---- */

static int lock_ex(struct graph_store *s)
{
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return sfail(s, berth_from_errno(errno), "locking the store: %s", strerror(errno));
	return 0;
}

static void unlock(struct graph_store *s)
{
	flock(s->lockfd, LOCK_UN);
}

static int stage_sh(struct graph_store *s)
{
	while (flock(s->stagefd, LOCK_SH) < 0)
		if (errno != EINTR)
			return sfail(s, berth_from_errno(errno), "locking the store: %s", strerror(errno));
	return 0;
}

static void stage_un(struct graph_store *s)
{
	flock(s->stagefd, LOCK_UN);
}

/* 1 when no other process is staging (we then hold staging.lock exclusively until stage_un). */
static int stage_try_ex(struct graph_store *s)
{
	return flock(s->stagefd, LOCK_EX | LOCK_NB) == 0;
}

/* ---- database ---- */

static const char *schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS layers (id TEXT PRIMARY KEY, parent TEXT NOT NULL, diff_id TEXT NOT NULL,"
    " digest TEXT NOT NULL, comp_size INTEGER NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, manifest TEXT NOT NULL, top TEXT NOT NULL,"
    " nlayers INTEGER NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS image_layers (image TEXT NOT NULL, idx INTEGER NOT NULL, layer TEXT NOT NULL,"
    " PRIMARY KEY (image, idx));"
    "CREATE INDEX IF NOT EXISTS image_layers_layer ON image_layers(layer);"
    "CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, image TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS names_image ON names(image);"
    "CREATE TABLE IF NOT EXISTS containers (name TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, image TEXT NOT NULL,"
    " mounted INTEGER NOT NULL, path TEXT NOT NULL, created INTEGER NOT NULL);";

static int exec(struct graph_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : dbfail(s);
}

static int prep(struct graph_store *s, sqlite3_stmt **st, const char *sql)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : dbfail(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* One text column of the first row of sql with one text parameter (NULL when none). */
static char *query_text(struct graph_store *s, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	if (prep(s, &st, sql) < 0)
		return NULL;
	if (arg)
		bind_text(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static int layer_exists(struct graph_store *s, const char *id)
{
	char *v = query_text(s, "SELECT id FROM layers WHERE id = ?", id);
	int yes = v != NULL;
	free(v);
	return yes;
}

/* ---- open / close ---- */

int graph_store_open(struct graph_store **out, const char *root, const char *driver, char *why, size_t whyn)
{
	struct graph_store *s = NULL;
	char *p = NULL, *have = NULL;
	const char *use;
	struct rlimit rl;
	int rc;

	*out = NULL;
	if (why && whyn)
		why[0] = 0;
	s = xcalloc(1, sizeof(*s));
	s->lockfd = s->stagefd = -1;
	s->root = xstrdup(root);
	if ((rc = fs_mkdirs(root)) < 0) {
		sfail(s, rc, "cannot create the store root %s: %s", root, berth_strerror(rc));
		goto out;
	}
	chmod(root, 0700);
	p = graph__pathf("%s/blobs/.staging", root);
	rc = p ? fs_mkdirs(p) : -BERTH_ENOMEM;
	free(p);
	p = NULL;
	if (rc < 0) {
		sfail(s, rc, "cannot create the blob folders in %s: %s", root, berth_strerror(rc));
		goto out;
	}
	/* tree copies and removals hold a descriptor per directory level */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	p = graph__pathf("%s/lock", root);
	s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	p = graph__pathf("%s/staging.lock", root);
	s->stagefd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (s->lockfd < 0 || s->stagefd < 0) {
		rc = sfail(s, berth_from_errno(errno), "cannot open the store locks in %s: %s", root, strerror(errno));
		goto out;
	}
	p = graph__pathf("%s/graph.db", root);
	rc = sqlite3_open_v2(p, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	free(p);
	p = NULL;
	if (rc != SQLITE_OK) {
		rc = sfail(s, -BERTH_EDB, "cannot open the store database in %s", root);
		goto out;
	}
	sqlite3_busy_timeout(s->db, 30000);
	if ((rc = lock_ex(s)) < 0)
		goto out;
	rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
	if (rc == 0)
		rc = exec(s, schema);
	if (rc == 0) {
		have = query_text(s, "SELECT value FROM meta WHERE key = 'driver'", NULL);
		use = driver ? driver : have ? have : graph__driver_default(root);
		if (have && strcmp(have, use) != 0)
			rc = sfail(s, -BERTH_EINVAL, "the store at %s uses the %s driver, not %s", root, have, use);
	}
	if (rc == 0) {
		rc = graph__driver_open(&s->drv, use, root, s->why, sizeof(s->why));
		if (rc == 0 && !have) {
			sqlite3_stmt *st = NULL;
			rc = prep(s, &st, "INSERT INTO meta (key, value) VALUES ('driver', ?)");
			if (rc == 0) {
				bind_text(st, 1, use);
				if (sqlite3_step(st) != SQLITE_DONE)
					rc = dbfail(s);
				sqlite3_finalize(st);
			}
		}
	}
	unlock(s);
out:
	free(have);
	if (rc < 0) {
		if (why && whyn)
			snprintf(why, whyn, "%s", s->why[0] ? s->why : berth_strerror(rc));
		graph_store_close(s);
		return rc;
	}
	s->why[0] = 0;
	*out = s;
	return 0;
}

void graph_store_close(struct graph_store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->stagefd >= 0)
		close(s->stagefd);
	if (s->drv.ops)
		graph__driver_close(&s->drv);
	free(s->root);
	free(s);
}

/* ---- manifest and config ---- */

struct desc {
	struct digest d;
	uint64_t size;
};

struct img_meta {
	struct desc config;
	struct desc *layers;
	struct digest *diff_ids;
	char (*chain)[65];
	size_t n;
};

static void img_meta_release(struct img_meta *m)
{
	free(m->layers);
	free(m->diff_ids);
	free(m->chain);
	memset(m, 0, sizeof(*m));
}

static int layer_media_type_ok(const char *mt)
{
	static const char *const ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    NULL,
	};
	for (int i = 0; ok[i]; i++)
		if (!strcmp(mt, ok[i]))
			return 1;
	return 0;
}

static int parse_desc(struct graph_store *s, json_t *o, const char *what, struct desc *d, const char **mt)
{
	json_t *dg = json_object_get(o, "digest"), *sz = json_object_get(o, "size");
	json_t *m = json_object_get(o, "mediaType");

	if (!json_is_object(o) || !json_is_string(dg) || !json_is_integer(sz) || json_integer_value(sz) < 0)
		return sfail(s, -BERTH_EINVAL, "manifest: %s is not a valid descriptor", what);
	if (digest_parse_cstr(json_string_value(dg), &d->d) < 0)
		return sfail(s, -BERTH_EINVAL, "manifest: %s has an invalid digest", what);
	d->size = (uint64_t)json_integer_value(sz);
	if (mt)
		*mt = json_is_string(m) ? json_string_value(m) : "";
	return 0;
}

static int parse_image(struct graph_store *s, const void *manifest, size_t mlen, const void *config, size_t clen,
		       struct img_meta *m)
{
	json_t *root = NULL, *cfg = NULL, *layers, *diffs, *mt, *rootfs;
	json_error_t je;
	struct digest cd;
	char a[DIGEST_STR_MAX];
	int rc = 0;

	memset(m, 0, sizeof(*m));
	root = json_loadb(manifest, mlen, 0, &je);
	if (!json_is_object(root)) {
		rc = sfail(s, -BERTH_EINVAL, "manifest is not a JSON object");
		goto out;
	}
	mt = json_object_get(root, "mediaType");
	if (json_is_string(mt) && strcmp(json_string_value(mt), MT_OCI_MANIFEST) != 0 &&
	    strcmp(json_string_value(mt), MT_DOCKER_MANIFEST) != 0) {
		rc = sfail(s, -BERTH_EINVAL, "manifest media type %s is not an image manifest (pick a platform first)",
			   json_string_value(mt));
		goto out;
	}
	if (json_object_get(root, "manifests")) {
		rc = sfail(s, -BERTH_EINVAL, "manifest is an index (pick a platform first)");
		goto out;
	}
	if ((rc = parse_desc(s, json_object_get(root, "config"), "config", &m->config, NULL)) < 0)
		goto out;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers)) {
		rc = sfail(s, -BERTH_EINVAL, "manifest has no layers array");
		goto out;
	}
	m->n = json_array_size(layers);
	m->layers = xcalloc(m->n ? m->n : 1, sizeof(*m->layers));
	m->diff_ids = xcalloc(m->n ? m->n : 1, sizeof(*m->diff_ids));
	m->chain = xcalloc(m->n ? m->n : 1, sizeof(*m->chain));
	for (size_t i = 0; i < m->n; i++) {
		const char *lmt;
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i);
		if ((rc = parse_desc(s, json_array_get(layers, i), what, &m->layers[i], &lmt)) < 0)
			goto out;
		if (!layer_media_type_ok(lmt)) {
			rc = sfail(s, -BERTH_EUNSUPPORTED, "layer %s has media type \"%s\", which berth cannot unpack",
				   digest_str(&m->layers[i].d, a), lmt);
			goto out;
		}
	}
	/* the config must be the blob the manifest names */
	digest_of(m->config.d.alg, config, clen, &cd);
	if (!digest_eq(&cd, &m->config.d) || clen != m->config.size) {
		rc = sfail(s, -BERTH_EDIGEST, "config does not match its descriptor %s (%zu bytes)",
			   digest_str(&m->config.d, a), clen);
		goto out;
	}
	cfg = json_loadb(config, clen, 0, &je);
	rootfs = json_object_get(cfg, "rootfs");
	diffs = json_object_get(rootfs, "diff_ids");
	if (!json_is_object(cfg) || !json_is_array(diffs)) {
		rc = sfail(s, -BERTH_EINVAL, "config has no rootfs.diff_ids");
		goto out;
	}
	if (json_array_size(diffs) != m->n) {
		rc = sfail(s, -BERTH_EINVAL, "config lists %zu diff_ids for %zu layers", json_array_size(diffs), m->n);
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		json_t *v = json_array_get(diffs, i);
		if (!json_is_string(v) || digest_parse_cstr(json_string_value(v), &m->diff_ids[i]) < 0) {
			rc = sfail(s, -BERTH_EINVAL, "config: diff_id %zu is not a digest", i);
			goto out;
		}
	}
	/* chain IDs: ChainID(L0) = DiffID(L0); ChainID(..Ln) = sha256(ChainID(..Ln-1) + " " + DiffID(Ln)) */
	for (size_t i = 0; i < m->n; i++) {
		struct digest c;
		if (i == 0 && m->diff_ids[0].alg == DIGEST_SHA256) {
			c = m->diff_ids[0];
		} else if (i == 0) {
			digest_of(DIGEST_SHA256, digest_str(&m->diff_ids[0], a), strlen(a), &c);
		} else {
			char b[DIGEST_STR_MAX * 2 + 80], d2[DIGEST_STR_MAX];
			snprintf(b, sizeof(b), "sha256:%s %s", m->chain[i - 1], digest_str(&m->diff_ids[i], d2));
			digest_of(DIGEST_SHA256, b, strlen(b), &c);
		}
		memcpy(m->chain[i], c.hex, 64);
		m->chain[i][64] = 0;
	}
out:
	json_decref(root);
	json_decref(cfg);
	if (rc < 0)
		img_meta_release(m);
	return rc;
}

static int name_valid(const char *n)
{
	size_t l = strlen(n);

	if (l == 0 || l > 255)
		return 0;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* ---- unpacking one layer ---- */

struct job {
	struct graph_store *s;
	const struct graph_source *src;
	const struct desc *desc;
	const struct digest *diff_id;
	const char *parent_root; /* vfs/btrfs: the tree to start from */
	uint64_t max;
	volatile int *cancel;
	char *stage, *root;
	char *blob; /* the staged copy of the compressed blob (ROOT/blobs/.staging/...), kept for local: */
	int blob_only; /* the layer is present but its blob is not: read, verify and keep the blob only */
	int rc;
	uint64_t in_bytes, out_bytes;
	char why[768];
};

struct rd {
	const struct graph_source *src;
	void *stream;
	uint64_t size, got;
	volatile int *cancel;
	int bfd; /* the blob's bytes are also written here (the kept copy) */
};

/* Reads the blob, refusing a byte more than its descriptor promised. */
static ssize_t rd_read(void *ctx, void *buf, size_t n)
{
	struct rd *r = ctx;
	ssize_t k;

	if (*r->cancel)
		return -BERTH_EIO;
	k = r->src->read(r->stream, buf, n);
	if (k > 0) {
		r->got += (uint64_t)k;
		if (r->got > r->size)
			return -BERTH_EDIGEST;
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(r->bfd, (const char *)buf + off, (size_t)(k - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return berth_from_errno(errno);
			off += w;
		}
	}
	return k;
}

/* ---- kept blobs: ROOT/blobs/<alg>/<hex>, staged in ROOT/blobs/.staging ---- */

static char *blob_path(struct graph_store *s, const struct digest *d)
{
	return graph__pathf("%s/blobs/%s/%s", s->root, digest_alg_name(d->alg), d->hex);
}

static int blob_have(struct graph_store *s, const struct digest *d)
{
	char *p = blob_path(s, d);
	int yes = p && access(p, F_OK) == 0;

	free(p);
	return yes;
}

/* A new empty file in the blob staging folder: *fd and *path (malloc'd). */
static int blob_stage(struct graph_store *s, int *fd, char **path)
{
	char *p = graph__pathf("%s/blobs/.staging/XXXXXX", s->root);

	*fd = -1;
	*path = NULL;
	if (!p)
		return -BERTH_ENOMEM;
	*fd = mkostemp(p, O_CLOEXEC);
	if (*fd < 0) {
		int rc = berth_from_errno(errno);
		free(p);
		return rc;
	}
	*path = p;
	return 0;
}

/* Stages small bytes (a manifest, a config) as a blob, fsynced. */
static int blob_stage_bytes(struct graph_store *s, const void *p, size_t n, char **path)
{
	const char *c = p;
	int fd, rc = blob_stage(s, &fd, path);

	if (rc < 0)
		return rc;
	while (rc == 0 && n > 0) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = berth_from_errno(errno);
			break;
		}
		c += k;
		n -= (size_t)k;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = berth_from_errno(errno);
	close(fd);
	if (rc < 0) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
	return rc;
}

/* Under lock: gives the staged file its name; *added = 1 when the store did not have it (a failed put
 * removes it again), else the staged copy is dropped. */
static int blob_commit(struct graph_store *s, char **staged, const struct digest *d, int *added)
{
	char *dir = graph__pathf("%s/blobs/%s", s->root, digest_alg_name(d->alg));
	char *p = blob_path(s, d);
	int rc = 0;

	*added = 0;
	if (!dir || !p) {
		rc = -BERTH_ENOMEM;
	} else if (access(p, F_OK) == 0) {
		unlink(*staged);
	} else if ((rc = fs_mkdirs(dir)) == 0) {
		if (rename(*staged, p) < 0)
			rc = berth_from_errno(errno);
		else
			*added = 1;
	}
	if (rc == 0) {
		free(*staged);
		*staged = NULL;
	}
	free(dir);
	free(p);
	return rc;
}

static void blob_unlink(struct graph_store *s, const struct digest *d)
{
	char *p = blob_path(s, d);

	if (p)
		unlink(p);
	free(p);
}

int graph_blob_open(struct graph_store *s, const struct digest *d, int *fd)
{
	char *p = blob_path(s, d);
	char ds[DIGEST_STR_MAX];

	s->why[0] = 0;
	*fd = -1;
	if (!p)
		return -BERTH_ENOMEM;
	*fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (*fd < 0) {
		int rc = berth_from_errno(errno);
		return sfail(s, rc, "blob %s: %s", digest_str(d, ds),
			     rc == -BERTH_ENOENT ? "not kept by the store" : berth_strerror(rc));
	}
	return 0;
}

/* Under lock and staging.lock exclusive: removes kept blobs no image's manifest, config or layer
 * record names, and (all) staged blobs. */
static void remove_unreferenced_blobs(struct graph_store *s, size_t *count)
{
	struct graph__strset keep;
	sqlite3_stmt *st = NULL;
	char *top = graph__pathf("%s/blobs", s->root);
	DIR *d = top ? opendir(top) : NULL;
	struct dirent *de;

	graph__strset_init(&keep);
	if (prep(s, &st, "SELECT manifest FROM images UNION SELECT id FROM images UNION SELECT digest FROM layers") ==
	    0) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			if (v)
				graph__strset_add(&keep, v, strlen(v));
		}
		sqlite3_finalize(st);
	} else {
		goto out; /* never remove on a database error */
	}
	while (d && (de = readdir(d)) != NULL) {
		char *sub;
		DIR *e;
		struct dirent *fe;
		if (de->d_name[0] == '.') {
			if (!strcmp(de->d_name, ".staging")) {
				char *st_dir = graph__pathf("%s/.staging", top);
				int fd = st_dir ? open(st_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
				if (fd >= 0) {
					graph__clear_dir(fd);
					close(fd);
				}
				free(st_dir);
			}
			continue;
		}
		sub = graph__pathf("%s/%s", top, de->d_name);
		e = sub ? opendir(sub) : NULL;
		while (e && (fe = readdir(e)) != NULL) {
			char key[600];
			if (fe->d_name[0] == '.')
				continue;
			snprintf(key, sizeof(key), "%s:%s", de->d_name, fe->d_name);
			if (!graph__strset_has(&keep, key, strlen(key)) && unlinkat(dirfd(e), fe->d_name, 0) == 0 &&
			    count)
				(*count)++;
		}
		if (e)
			closedir(e);
		free(sub);
	}
out:
	if (d)
		closedir(d);
	free(top);
	graph__strset_release(&keep);
}

static ssize_t dc_read(void *ctx, void *buf, size_t n)
{
	return decomp_read(ctx, buf, n);
}

/* A layer the store has unpacked but whose blob it does not keep: the blob is read from the source,
 * hashed and kept; nothing is unpacked. Closes r->bfd. */
static void blob_only(struct job *j, struct rd *r, const char *a)
{
	struct hasher h = {0};
	struct digest got;
	char b[DIGEST_STR_MAX];
	static const size_t bufsz = 256 * 1024;
	char *buf = xmalloc(bufsz);
	int rc, opened = 0;
	ssize_t k;

	if ((rc = hasher_init(&h, j->desc->d.alg)) < 0)
		goto out;
	rc = j->src->open(j->src->ctx, &j->desc->d, j->desc->size, &r->stream);
	if (rc < 0) {
		snprintf(j->why, sizeof(j->why), "layer %s: cannot open the blob: %s", a, berth_strerror(rc));
		goto out;
	}
	opened = 1;
	while ((k = rd_read(r, buf, bufsz)) > 0)
		hasher_update(&h, buf, (size_t)k);
	if (k < 0) {
		rc = (int)k;
		if (r->got > r->size)
			snprintf(j->why, sizeof(j->why),
				 "layer %s: the blob is longer than its descriptor's %llu bytes", a,
				 (unsigned long long)r->size);
		goto out;
	}
	hasher_final(&h, &got);
	j->in_bytes = r->got;
	if (r->got != j->desc->size) {
		rc = -BERTH_EDIGEST;
		snprintf(j->why, sizeof(j->why), "layer %s: the blob has %llu bytes, its descriptor says %llu", a,
			 (unsigned long long)r->got, (unsigned long long)j->desc->size);
	} else if (!digest_eq(&got, &j->desc->d)) {
		rc = -BERTH_EDIGEST;
		snprintf(j->why, sizeof(j->why), "layer %s: the blob's bytes hash to %s", a, digest_str(&got, b));
	}
out:
	if (rc < 0 && !j->why[0])
		snprintf(j->why, sizeof(j->why), "layer %s: %s", a, berth_strerror(rc));
	hasher_release(&h);
	free(buf);
	close(r->bfd);
	r->bfd = -1;
	if (opened)
		j->src->close(r->stream);
	j->rc = rc;
	if (rc < 0)
		*j->cancel = 1;
}

static void run_job(struct job *j)
{
	struct graph_driver *drv = &j->s->drv;
	struct rd r = {j->src, NULL, j->desc->size, 0, j->cancel, -1};
	struct decomp *dc = NULL;
	struct layer_walker *w = NULL;
	struct decomp_opts dopts = {.max_out = j->max, .in_alg = j->desc->d.alg, .out_alg = j->diff_id->alg};
	struct layer_limits lim = {.max_entry = j->max};
	struct decomp_result res;
	char a[DIGEST_STR_MAX], b[DIGEST_STR_MAX], xwhy[600] = "";
	int fd = -1, rc, opened = 0;

	digest_str(&j->desc->d, a);
	rc = blob_stage(j->s, &r.bfd, &j->blob);
	if (rc < 0) {
		snprintf(j->why, sizeof(j->why), "layer %s: cannot stage the blob: %s", a, berth_strerror(rc));
		goto out;
	}
	if (j->blob_only) {
		blob_only(j, &r, a);
		return;
	}
	rc = drv->ops->stage(drv, j->parent_root, &j->stage, &j->root);
	if (rc < 0) {
		snprintf(j->why, sizeof(j->why), "layer %s: cannot create a staging layer: %s", a, berth_strerror(rc));
		goto out;
	}
	rc = j->src->open(j->src->ctx, &j->desc->d, j->desc->size, &r.stream);
	if (rc < 0) {
		snprintf(j->why, sizeof(j->why), "layer %s: cannot open the blob: %s", a, berth_strerror(rc));
		goto out;
	}
	opened = 1;
	if ((rc = decomp_new(&dc, rd_read, &r, &dopts)) < 0 || (rc = layer_walker_new(&w, dc_read, dc, &lim)) < 0)
		goto out;
	fd = open(j->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = berth_from_errno(errno);
		goto out;
	}
	rc = graph_extract(fd, w, drv->ops->wh, NULL, xwhy, sizeof(xwhy));
	if (rc == 0)
		rc = decomp_finish(dc, &res);
	if (rc < 0) {
		if (r.got > r.size)
			snprintf(j->why, sizeof(j->why),
				 "layer %s: the blob is longer than its descriptor's %llu bytes", a,
				 (unsigned long long)r.size);
		else if (decomp_why(dc)[0] && strcmp(decomp_why(dc), "stream already finished") != 0)
			snprintf(j->why, sizeof(j->why), "layer %s: %s", a, decomp_why(dc));
		else
			snprintf(j->why, sizeof(j->why), "layer %s: %s", a, xwhy[0] ? xwhy : berth_strerror(rc));
		if (r.got > r.size)
			rc = -BERTH_EDIGEST;
		goto out;
	}
	j->in_bytes = res.in_bytes;
	j->out_bytes = res.out_bytes;
	if (res.in_bytes != j->desc->size || r.got != j->desc->size) {
		rc = -BERTH_EDIGEST;
		snprintf(j->why, sizeof(j->why), "layer %s: the blob has %llu bytes, its descriptor says %llu", a,
			 (unsigned long long)res.in_bytes, (unsigned long long)j->desc->size);
		goto out;
	}
	if (!digest_eq(&res.in_digest, &j->desc->d)) {
		rc = -BERTH_EDIGEST;
		snprintf(j->why, sizeof(j->why), "layer %s: the blob's bytes hash to %s", a,
			 digest_str(&res.in_digest, b));
		goto out;
	}
	if (!digest_eq(&res.out_digest, j->diff_id)) {
		char c[DIGEST_STR_MAX];
		rc = -BERTH_EDIGEST;
		snprintf(j->why, sizeof(j->why), "layer %s: the unpacked tar hashes to %s, the config's diff_id is %s",
			 a, digest_str(&res.out_digest, b), digest_str(j->diff_id, c));
		goto out;
	}
out:
	if (rc < 0 && !j->why[0])
		snprintf(j->why, sizeof(j->why), "layer %s: %s", a, berth_strerror(rc));
	if (fd >= 0)
		close(fd);
	if (r.bfd >= 0)
		close(r.bfd);
	layer_walker_free(w);
	decomp_free(dc);
	if (opened)
		j->src->close(r.stream);
	j->rc = rc;
	if (rc < 0)
		*j->cancel = 1;
}

struct pool {
	struct job *jobs;
	size_t *todo, ntodo, next;
	pthread_mutex_t mu;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t k;
		pthread_mutex_lock(&p->mu);
		k = p->next < p->ntodo ? p->todo[p->next++] : (size_t)-1;
		pthread_mutex_unlock(&p->mu);
		if (k == (size_t)-1)
			return NULL;
		if (*p->jobs[k].cancel) {
			p->jobs[k].rc = -BERTH_EIO;
			continue;
		}
		run_job(&p->jobs[k]);
	}
}

static int nproc_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Directories whose entries changed must be fsynced for the renames to be durable. */
static void sync_dirs(struct graph_store *s)
{
	char *p = graph__pathf("%s/%s", s->drv.home, s->drv.ops->layers_dir);
	if (p)
		fs_sync_dir(p);
	free(p);
	p = graph__pathf("%s/l", s->drv.home);
	if (p && !strcmp(s->drv.ops->name, "overlay2"))
		fs_sync_dir(p);
	free(p);
}

static void sync_fs(struct graph_store *s)
{
	int fd = open(s->drv.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
}

int graph_image_put(struct graph_store *s, const void *manifest, size_t mlen, const void *config, size_t clen,
		    const struct graph_source *src, const struct graph_put_opts *opts, struct graph_put_result *res)
{
	struct graph_put_opts o = {0};
	struct img_meta m;
	struct job *jobs = NULL;
	int *present = NULL, *committed = NULL, locked = 0, staged = 0, rc;
	int *blob_added = NULL, man_added = 0, cfg_added = 0;
	char *man_stage = NULL, *cfg_stage = NULL;
	volatile int cancel = 0;
	struct digest mdig;
	char idstr[DIGEST_STR_MAX], mstr[DIGEST_STR_MAX];
	uint64_t total_size = 0;
	size_t nnew = 0;
	sqlite3_stmt *st = NULL;

	s->why[0] = 0;
	if (opts)
		o = *opts;
	if (!o.max_layer_bytes)
		o.max_layer_bytes = GRAPH_DEFAULT_MAX_LAYER;
	if (o.parallel <= 0)
		o.parallel = nproc_default();
	if (res)
		memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < o.nnames; i++)
		if (!name_valid(o.names[i]))
			return sfail(s, -BERTH_EINVAL, "invalid image name \"%s\"", o.names[i]);
	rc = parse_image(s, manifest, mlen, config, clen, &m);
	if (rc < 0)
		return rc;
	digest_of(DIGEST_SHA256, manifest, mlen, &mdig);
	digest_str(&m.config.d, idstr);
	digest_str(&mdig, mstr);
	jobs = xcalloc(m.n ? m.n : 1, sizeof(*jobs));
	present = xcalloc(m.n ? m.n : 1, sizeof(int));
	committed = xcalloc(m.n ? m.n : 1, sizeof(int));
	blob_added = xcalloc(m.n ? m.n : 1, sizeof(int));

	if ((rc = stage_sh(s)) < 0)
		goto out;
	staged = 1;
	/* the manifest and config bytes are kept as blobs too (local: serves them) */
	if ((rc = blob_stage_bytes(s, manifest, mlen, &man_stage)) < 0 ||
	    (rc = blob_stage_bytes(s, config, clen, &cfg_stage)) < 0) {
		sfail(s, rc, "cannot stage the manifest and config: %s", berth_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < m.n; i++) {
		present[i] = layer_exists(s, m.chain[i]);
		jobs[i] = (struct job){.s = s,
				       .src = src,
				       .desc = &m.layers[i],
				       .diff_id = &m.diff_ids[i],
				       .max = o.max_layer_bytes,
				       .cancel = &cancel};
		if (!present[i])
			nnew++;
	}

	/* unpack what is missing */
	if (nnew && s->drv.ops->parallel) {
		struct pool p = {.jobs = jobs};
		pthread_t th[8];
		int nth = o.parallel < (int)nnew ? o.parallel : (int)nnew, started = 0;

		if (nth > 8)
			nth = 8;
		p.todo = xcalloc(nnew, sizeof(size_t));
		for (size_t i = 0; i < m.n; i++)
			if (!present[i])
				p.todo[p.ntodo++] = i;
		pthread_mutex_init(&p.mu, NULL);
		for (int t = 1; t < nth; t++)
			if (pthread_create(&th[started], NULL, worker, &p) == 0)
				started++;
		worker(&p);
		for (int t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		pthread_mutex_destroy(&p.mu);
		free(p.todo);
	} else {
		char *prev_root = NULL; /* committed parents are read from the driver, staged ones from staging */
		for (size_t i = 0; i < m.n && !cancel; i++) {
			if (present[i]) {
				free(prev_root);
				prev_root = s->drv.ops->layer_root(&s->drv, m.chain[i]);
				continue;
			}
			jobs[i].parent_root = prev_root ? prev_root : i > 0 ? jobs[i - 1].root : NULL;
			run_job(&jobs[i]);
			free(prev_root);
			prev_root = NULL;
		}
		free(prev_root);
	}
	/* layers the store has but whose blob it does not keep (put before blobs were kept, or the blob
	 * was lost): read the blob alone, so this image can be read back whole */
	for (size_t i = 0; i < m.n && !cancel; i++) {
		if (!present[i] || blob_have(s, &m.layers[i].d))
			continue;
		jobs[i].blob_only = 1;
		run_job(&jobs[i]);
		if (jobs[i].rc < 0) {
			rc = sfail(s, jobs[i].rc, "%s", jobs[i].why);
			goto out;
		}
	}
	for (size_t i = 0; i < m.n; i++) {
		if (!present[i] && jobs[i].rc < 0 && jobs[i].rc != -BERTH_EIO) {
			rc = sfail(s, jobs[i].rc, "%s", jobs[i].why);
			goto out;
		}
	}
	for (size_t i = 0; i < m.n; i++) {
		if (!present[i] && jobs[i].rc < 0) {
			rc = sfail(s, jobs[i].rc, "%s", jobs[i].why);
			goto out;
		}
	}
	sync_fs(s); /* the unpacked layers and the staged blobs */

	/* commit: layers into place, then the records, all under the store lock */
	if ((rc = lock_ex(s)) < 0)
		goto out;
	locked = 1;
	for (size_t i = 0; i < m.n; i++) {
		if (present[i] && !layer_exists(s, m.chain[i])) {
			rc = sfail(s, -BERTH_EBUSY, "layer %s was removed while the image was being put; try again",
				   m.chain[i]);
			goto out;
		}
	}
	for (size_t i = 0; i < m.n; i++) {
		if (present[i])
			continue;
		if (layer_exists(s, m.chain[i])) { /* another process committed it meanwhile */
			s->drv.ops->abort(&s->drv, jobs[i].stage);
			free(jobs[i].stage);
			jobs[i].stage = NULL;
			present[i] = 1;
			continue;
		}
		s->drv.ops->remove(&s->drv, m.chain[i]); /* an orphan left by an interrupted commit */
		rc = s->drv.ops->commit(&s->drv, jobs[i].stage, m.chain[i], i ? m.chain[i - 1] : NULL);
		if (rc < 0) {
			sfail(s, rc, "committing layer %s: %s", m.chain[i], berth_strerror(rc));
			goto out;
		}
		committed[i] = 1;
		free(jobs[i].stage);
		jobs[i].stage = NULL;
	}
	sync_dirs(s);
	/* the kept blobs: renamed in under the same lock; a failure below removes the new ones */
	for (size_t i = 0; i < m.n; i++) {
		if (jobs[i].blob && (rc = blob_commit(s, &jobs[i].blob, &m.layers[i].d, &blob_added[i])) < 0) {
			sfail(s, rc, "keeping blob of layer %s: %s", m.chain[i], berth_strerror(rc));
			goto out;
		}
	}
	if ((rc = blob_commit(s, &man_stage, &mdig, &man_added)) < 0 ||
	    (rc = blob_commit(s, &cfg_stage, &m.config.d, &cfg_added)) < 0) {
		sfail(s, rc, "keeping the manifest and config: %s", berth_strerror(rc));
		goto out;
	}
	{
		char *bd = graph__pathf("%s/blobs/sha256", s->root);
		if (bd)
			fs_sync_dir(bd);
		free(bd);
		if (m.config.d.alg != DIGEST_SHA256 || (m.n && m.layers[0].d.alg != DIGEST_SHA256)) {
			bd = graph__pathf("%s/blobs/sha512", s->root);
			if (bd)
				fs_sync_dir(bd);
			free(bd);
		}
	}

	if ((rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		if (!committed[i])
			continue;
		char dd[DIGEST_STR_MAX], ld[DIGEST_STR_MAX];
		if ((rc = prep(s, &st,
			       "INSERT INTO layers (id, parent, diff_id, digest, comp_size, size, created) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?)")) < 0)
			goto rollback;
		bind_text(st, 1, m.chain[i]);
		bind_text(st, 2, i ? m.chain[i - 1] : "");
		bind_text(st, 3, digest_str(&m.diff_ids[i], dd));
		bind_text(st, 4, digest_str(&m.layers[i].d, ld));
		sqlite3_bind_int64(st, 5, (sqlite3_int64)m.layers[i].size);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)jobs[i].out_bytes);
		sqlite3_bind_int64(st, 7, time_now_ms());
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = dbfail(s);
			goto rollback;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	{
		sqlite3_stmt *q = NULL;
		for (size_t i = 0; i < m.n; i++) {
			if (committed[i]) {
				total_size += jobs[i].out_bytes;
				continue;
			}
			if (prep(s, &q, "SELECT size FROM layers WHERE id = ?") == 0) {
				bind_text(q, 1, m.chain[i]);
				if (sqlite3_step(q) == SQLITE_ROW)
					total_size += (uint64_t)sqlite3_column_int64(q, 0);
				sqlite3_finalize(q);
			}
		}
	}
	if ((rc = prep(s, &st,
		       "INSERT OR REPLACE INTO images (id, manifest, top, nlayers, size, created) "
		       "VALUES (?, ?, ?, ?, ?, ?)")) < 0)
		goto rollback;
	bind_text(st, 1, idstr);
	bind_text(st, 2, mstr);
	bind_text(st, 3, m.n ? m.chain[m.n - 1] : "");
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m.n);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)total_size);
	sqlite3_bind_int64(st, 6, time_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = dbfail(s);
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = prep(s, &st, "DELETE FROM image_layers WHERE image = ?")) < 0)
		goto rollback;
	bind_text(st, 1, idstr);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = dbfail(s);
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < m.n; i++) {
		if ((rc = prep(s, &st, "INSERT INTO image_layers (image, idx, layer) VALUES (?, ?, ?)")) < 0)
			goto rollback;
		bind_text(st, 1, idstr);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, m.chain[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = dbfail(s);
			goto rollback;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	for (size_t i = 0; i < o.nnames; i++) {
		if ((rc = prep(s, &st, "INSERT OR REPLACE INTO names (name, image) VALUES (?, ?)")) < 0)
			goto rollback;
		bind_text(st, 1, o.names[i]);
		bind_text(st, 2, idstr);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = dbfail(s);
			goto rollback;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((rc = exec(s, "COMMIT")) < 0)
		goto rollback;
	if (res) {
		res->image_id = m.config.d;
		res->manifest = mdig;
		res->layers_total = m.n;
		for (size_t i = 0; i < m.n; i++) {
			res->bytes_in += jobs[i].in_bytes;
			res->bytes_unpacked += jobs[i].out_bytes;
			res->layers_new += committed[i] ? 1 : 0;
		}
	}
	for (size_t i = 0; i < m.n; i++)
		committed[i] = blob_added[i] = 0; /* now owned by the records */
	man_added = cfg_added = 0;
	goto out;
rollback:
	if (st)
		sqlite3_finalize(st);
	st = NULL;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	if (st)
		sqlite3_finalize(st);
	/* a failed put leaves the store as it was: staged and freshly committed layers and blobs go */
	for (size_t i = 0; i < m.n; i++) {
		if (committed && committed[i])
			s->drv.ops->remove(&s->drv, m.chain[i]);
		if (blob_added && blob_added[i])
			blob_unlink(s, &m.layers[i].d);
		if (jobs && jobs[i].stage)
			s->drv.ops->abort(&s->drv, jobs[i].stage);
		if (jobs && jobs[i].blob)
			unlink(jobs[i].blob);
		if (jobs) {
			free(jobs[i].stage);
			free(jobs[i].root);
			free(jobs[i].blob);
		}
	}
	if (man_added)
		blob_unlink(s, &mdig);
	if (cfg_added)
		blob_unlink(s, &m.config.d);
	if (man_stage)
		unlink(man_stage);
	if (cfg_stage)
		unlink(cfg_stage);
	free(man_stage);
	free(cfg_stage);
	free(blob_added);
	if (locked)
		unlock(s);
	if (staged)
		stage_un(s);
	free(jobs);
	free(present);
	free(committed);
	img_meta_release(&m);
	return rc;
}

/* ---- listing ---- */

void graph_image_info_release(struct graph_image_info *i)
{
	for (size_t k = 0; k < i->nnames; k++)
		free(i->names[k]);
	free(i->names);
	memset(i, 0, sizeof(*i));
}

static int load_image(struct graph_store *s, const char *id, struct graph_image_info *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(s, &st,
		       "SELECT manifest, top, nlayers, size, created, "
		       "(SELECT count(*) FROM containers c WHERE c.image = images.id) FROM images WHERE id = ?")) < 0)
		return rc;
	bind_text(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -BERTH_ENOENT;
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->manifest, sizeof(out->manifest), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(out->top_layer, sizeof(out->top_layer), "%s", (const char *)sqlite3_column_text(st, 1));
	out->nlayers = (size_t)sqlite3_column_int64(st, 2);
	out->size = (uint64_t)sqlite3_column_int64(st, 3);
	out->created_ms = sqlite3_column_int64(st, 4);
	out->containers = (size_t)sqlite3_column_int64(st, 5);
	sqlite3_finalize(st);
	if ((rc = prep(s, &st, "SELECT name FROM names WHERE image = ? ORDER BY name")) < 0)
		return rc;
	bind_text(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		out->names = xrealloc(out->names, (out->nnames + 1) * sizeof(char *));
		out->names[out->nnames++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return 0;
}

int graph_image_list(struct graph_store *s, struct graph_image_info **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct graph_image_info *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = prep(s, &st, "SELECT id FROM images ORDER BY created DESC, id")) < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		if (load_image(s, (const char *)sqlite3_column_text(st, 0), &v[k]) == 0)
			k++;
	}
	sqlite3_finalize(st);
	*out = v;
	*n = k;
	return 0;
}

void graph_image_list_free(struct graph_image_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		graph_image_info_release(&v[i]);
	free(v);
}

int graph_layer_list(struct graph_store *s, struct graph_layer_info **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct graph_layer_info *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = prep(s, &st,
		       "SELECT id, parent, diff_id, digest, comp_size, size, created, "
		       "(SELECT count(*) FROM image_layers il WHERE il.layer = layers.id) "
		       "FROM layers ORDER BY created DESC, id")) < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct graph_layer_info *l;
		v = xrealloc(v, (k + 1) * sizeof(*v));
		l = &v[k++];
		memset(l, 0, sizeof(*l));
		snprintf(l->id, sizeof(l->id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(l->parent, sizeof(l->parent), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(l->diff_id, sizeof(l->diff_id), "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(l->digest, sizeof(l->digest), "%s", (const char *)sqlite3_column_text(st, 3));
		l->compressed_size = (uint64_t)sqlite3_column_int64(st, 4);
		l->size = (uint64_t)sqlite3_column_int64(st, 5);
		l->created_ms = sqlite3_column_int64(st, 6);
		l->refs = (size_t)sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	*out = v;
	*n = k;
	return 0;
}

void graph_layer_list_free(struct graph_layer_info *v, size_t n)
{
	free(v);
}

static void fill_container(sqlite3_stmt *st, struct graph_container_info *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(c->id, sizeof(c->id), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(c->image, sizeof(c->image), "%s", (const char *)sqlite3_column_text(st, 2));
	c->mounted = sqlite3_column_int(st, 3);
	c->path = xstrdup((const char *)sqlite3_column_text(st, 4));
	c->created_ms = sqlite3_column_int64(st, 5);
}

int graph_container_list(struct graph_store *s, struct graph_container_info **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct graph_container_info *v = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = prep(s, &st,
		       "SELECT name, id, image, mounted, path, created FROM containers "
		       "ORDER BY created DESC, name")) < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		fill_container(st, &v[k++]);
	}
	sqlite3_finalize(st);
	*out = v;
	*n = k;
	return 0;
}

void graph_container_list_free(struct graph_container_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* The image id a name resolves to (exact, then with ":latest"); *by_name says which name matched. */
static char *find_by_name(struct graph_store *s, const char *ref, char **by_name)
{
	char *id = query_text(s, "SELECT image FROM names WHERE name = ?", ref);
	const char *slash = strrchr(ref, '/');

	*by_name = NULL;
	if (id) {
		*by_name = xstrdup(ref);
		return id;
	}
	if (!strchr(slash ? slash : ref, ':') && !strchr(ref, '@')) {
		char *tagged = graph__pathf("%s:latest", ref);
		id = tagged ? query_text(s, "SELECT image FROM names WHERE name = ?", tagged) : NULL;
		if (id)
			*by_name = tagged;
		else
			free(tagged);
	}
	return id;
}

static int find_image_id(struct graph_store *s, const char *ref, char **id_out, char **by_name)
{
	char *id;
	size_t l = strlen(ref);

	*id_out = NULL;
	id = find_by_name(s, ref, by_name);
	if (id) {
		*id_out = id;
		return 0;
	}
	if (!strncmp(ref, "sha256:", 7) && l == 71) {
		id = query_text(s, "SELECT id FROM images WHERE id = ?1 OR manifest = ?1", ref);
		if (id) {
			*id_out = id;
			return 0;
		}
	}
	{
		const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
		size_t hl = strlen(hex), cnt = 0;
		sqlite3_stmt *st = NULL;
		int ok = hl >= 4 && hl <= 64;

		for (size_t i = 0; ok && i < hl; i++)
			ok = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
		if (!ok)
			return sfail(s, -BERTH_ENOENT, "no image \"%s\" in the store", ref);
		if (prep(s, &st, "SELECT id FROM images WHERE substr(id, 8, ?1) = ?2") < 0)
			return -BERTH_EDB;
		sqlite3_bind_int(st, 1, (int)hl);
		bind_text(st, 2, hex);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (!id)
				id = xstrdup((const char *)sqlite3_column_text(st, 0));
			cnt++;
		}
		sqlite3_finalize(st);
		if (cnt > 1) {
			free(id);
			return sfail(s, -BERTH_EINVAL, "\"%s\" matches %zu images; give more of the id", ref, cnt);
		}
		if (!id)
			return sfail(s, -BERTH_ENOENT, "no image \"%s\" in the store", ref);
		*id_out = id;
		return 0;
	}
}

int graph_image_find(struct graph_store *s, const char *ref, struct graph_image_info *out)
{
	char *id = NULL, *by = NULL;
	int rc = find_image_id(s, ref, &id, &by);

	free(by);
	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	rc = load_image(s, id, out);
	free(id);
	return rc;
}

/* ---- removal ---- */

/* Deletes layers no image references (record first, then the directory: a failed removal leaves an
 * orphan directory for prune, never a record over a half-deleted tree). Needs staging.lock exclusive. */
static int remove_unreferenced(struct graph_store *s, size_t *count)
{
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t n = 0;
	int rc;

	if ((rc = prep(s, &st, "SELECT id FROM layers WHERE id NOT IN (SELECT layer FROM image_layers)")) < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof(char *));
		ids[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		if (prep(s, &st, "DELETE FROM layers WHERE id = ?") == 0) {
			bind_text(st, 1, ids[i]);
			if (sqlite3_step(st) == SQLITE_DONE) {
				sqlite3_finalize(st);
				if (s->drv.ops->remove(&s->drv, ids[i]) == 0 && count)
					(*count)++;
			} else {
				sqlite3_finalize(st);
			}
		}
		free(ids[i]);
	}
	free(ids);
	return 0;
}

static int run_sql1(struct graph_store *s, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(s, &st, sql);

	if (rc < 0)
		return rc;
	bind_text(st, 1, arg);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dbfail(s);
	sqlite3_finalize(st);
	return rc;
}

int graph_image_remove(struct graph_store *s, const char *ref, struct graph_rmi_result *res)
{
	char *id = NULL, *by = NULL, *user = NULL;
	struct graph_rmi_result r = {0};
	int rc;

	s->why[0] = 0;
	if ((rc = lock_ex(s)) < 0)
		return rc;
	if ((rc = find_image_id(s, ref, &id, &by)) < 0)
		goto out;
	if (by) {
		char *other = NULL;
		sqlite3_stmt *st = NULL;
		if ((rc = prep(s, &st, "SELECT name FROM names WHERE image = ? AND name != ? LIMIT 1")) < 0)
			goto out;
		bind_text(st, 1, id);
		bind_text(st, 2, by);
		if (sqlite3_step(st) == SQLITE_ROW)
			other = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (other) {
			free(other);
			rc = run_sql1(s, "DELETE FROM names WHERE name = ?", by);
			if (rc == 0)
				r.untagged = 1;
			goto out;
		}
	}
	/* removing a name the image has besides others is fine; removing the image is not while in use */
	user = query_text(s, "SELECT name FROM containers WHERE image = ? ORDER BY name LIMIT 1", id);
	if (user) {
		rc = sfail(s, -BERTH_EBUSY, "image %s is in use by container %s (berth rm %s first)", ref, user, user);
		goto out;
	}
	if ((rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		goto out;
	if ((rc = run_sql1(s, "DELETE FROM names WHERE image = ?", id)) < 0 ||
	    (rc = run_sql1(s, "DELETE FROM image_layers WHERE image = ?", id)) < 0 ||
	    (rc = run_sql1(s, "DELETE FROM images WHERE id = ?", id)) < 0 || (rc = exec(s, "COMMIT")) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	r.deleted = 1;
	if (stage_try_ex(s)) {
		remove_unreferenced(s, &r.layers_removed);
		remove_unreferenced_blobs(s, &r.blobs_removed);
		stage_un(s);
	}
out:
	unlock(s);
	free(id);
	free(by);
	free(user);
	if (res)
		*res = r;
	return rc;
}

static int is_hex64(const char *n)
{
	if (strlen(n) != 64)
		return 0;
	for (; *n; n++)
		if (!((*n >= '0' && *n <= '9') || (*n >= 'a' && *n <= 'f')))
			return 0;
	return 1;
}

int graph_prune(struct graph_store *s, struct graph_prune_result *res)
{
	struct graph_prune_result r = {0};
	char *dir = NULL;
	DIR *d;
	struct dirent *de;
	int rc;

	s->why[0] = 0;
	if ((rc = lock_ex(s)) < 0)
		return rc;
	/* orphans: layer directories without a layer or container record */
	dir = graph__pathf("%s/%s", s->drv.home, s->drv.ops->layers_dir);
	d = dir ? opendir(dir) : NULL;
	while (d && (de = readdir(d)) != NULL) {
		char *known;
		if (!is_hex64(de->d_name))
			continue;
		known = query_text(
		    s, "SELECT id FROM layers WHERE id = ?1 UNION SELECT id FROM containers WHERE id = ?1", de->d_name);
		if (!known && s->drv.ops->remove(&s->drv, de->d_name) == 0)
			r.orphans++;
		free(known);
	}
	if (d)
		closedir(d);
	free(dir);
	if (stage_try_ex(s)) {
		remove_unreferenced(s, &r.layers);
		remove_unreferenced_blobs(s, &r.blobs);
		dir = graph__pathf("%s/.staging", s->drv.home);
		d = dir ? opendir(dir) : NULL;
		while (d && (de = readdir(d)) != NULL) {
			char *p;
			if (de->d_name[0] == '.')
				continue;
			p = graph__pathf("%s/%s", dir, de->d_name);
			if (p && s->drv.ops->abort(&s->drv, p) == 0)
				r.staging++;
			free(p);
		}
		if (d)
			closedir(d);
		free(dir);
		stage_un(s);
	} else {
		r.busy = 1;
	}
	if (s->drv.ops->sweep)
		s->drv.ops->sweep(&s->drv);
	unlock(s);
	if (res)
		*res = r;
	return 0;
}

/* ---- containers ---- */

static int cname_valid(const char *n)
{
	size_t l = strlen(n);

	if (l == 0 || l > 128)
		return 0;
	for (size_t i = 0; i < l; i++) {
		char c = n[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

static int random_hex(char out[65])
{
	unsigned char b[32];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -BERTH_EIO;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int container_present(struct graph_store *s, const char *cid, const char *name, char **path)
{
	char why[512] = "";
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (s->drv.ops->mount) {
		rc = s->drv.ops->mount(&s->drv, cid, path, why, sizeof(why));
	} else {
		*path = s->drv.ops->layer_root(&s->drv, cid);
		if (!*path)
			rc = -BERTH_ENOMEM;
	}
	if (rc < 0)
		return sfail(s, rc, "%s", why[0] ? why : berth_strerror(rc));
	if ((rc = prep(s, &st, "UPDATE containers SET mounted = 1, path = ? WHERE name = ?")) < 0)
		return rc;
	bind_text(st, 1, *path);
	bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dbfail(s);
	sqlite3_finalize(st);
	return rc;
}

int graph_container_mount(struct graph_store *s, const char *ref, const char *name, char **path, char **name_out)
{
	char cid[65], gen[16], *id = NULL, *by = NULL, *stage = NULL, *root = NULL, *parent_root = NULL;
	char *have_id = NULL, *have_image = NULL;
	struct graph_image_info img;
	int rc, locked = 0, staged = 0, created = 0;

	s->why[0] = 0;
	*path = NULL;
	if (name_out)
		*name_out = NULL;
	memset(&img, 0, sizeof(img));
	if (name && !cname_valid(name))
		return sfail(s, -BERTH_EINVAL, "invalid container name \"%s\" (letters, digits, '_', '.', '-')", name);
	if ((rc = random_hex(cid)) < 0)
		return rc;
	if (!name) {
		snprintf(gen, sizeof(gen), "%.12s", cid);
		name = gen;
	}
	if ((rc = lock_ex(s)) < 0)
		return rc;
	locked = 1;
	if ((rc = find_image_id(s, ref, &id, &by)) < 0)
		goto out;
	if ((rc = load_image(s, id, &img)) < 0)
		goto out;
	have_id = query_text(s, "SELECT id FROM containers WHERE name = ?", name);
	if (have_id) {
		have_image = query_text(s, "SELECT image FROM containers WHERE name = ?", name);
		if (!have_image || strcmp(have_image, id) != 0) {
			rc = sfail(s, -BERTH_EEXIST, "container %s already exists from image %s", name,
				   have_image ? have_image : "?");
			goto out;
		}
		rc = container_present(s, have_id, name, path);
		goto out;
	}
	unlock(s);
	locked = 0;

	/* the writable layer: staged outside the lock like any layer */
	if ((rc = stage_sh(s)) < 0)
		goto out;
	staged = 1;
	if (img.top_layer[0] && !s->drv.ops->parallel)
		parent_root = s->drv.ops->layer_root(&s->drv, img.top_layer);
	rc = s->drv.ops->stage(&s->drv, parent_root, &stage, &root);
	if (rc < 0) {
		sfail(s, rc, "cannot create the container layer: %s", berth_strerror(rc));
		goto out;
	}
	if ((rc = lock_ex(s)) < 0)
		goto out;
	locked = 1;
	{
		char *still = query_text(s, "SELECT id FROM images WHERE id = ?", id);
		char *taken = query_text(s, "SELECT id FROM containers WHERE name = ?", name);
		if (!still || taken)
			rc = sfail(s, still ? -BERTH_EEXIST : -BERTH_ENOENT,
				   "%s changed while the container was created", still ? name : ref);
		free(still);
		free(taken);
		if (rc < 0)
			goto out;
	}
	rc = s->drv.ops->commit(&s->drv, stage, cid, img.top_layer[0] ? img.top_layer : NULL);
	if (rc < 0) {
		sfail(s, rc, "committing the container layer: %s", berth_strerror(rc));
		goto out;
	}
	free(stage);
	stage = NULL;
	created = 1;
	sync_dirs(s);
	{
		sqlite3_stmt *st = NULL;
		if ((rc = prep(s, &st,
			       "INSERT INTO containers (name, id, image, mounted, path, created) "
			       "VALUES (?, ?, ?, 0, '', ?)")) < 0)
			goto out;
		bind_text(st, 1, name);
		bind_text(st, 2, cid);
		bind_text(st, 3, id);
		sqlite3_bind_int64(st, 4, time_now_ms());
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = dbfail(s);
		sqlite3_finalize(st);
		if (rc < 0)
			goto out;
	}
	rc = container_present(s, cid, name, path);
	if (rc < 0) {
		run_sql1(s, "DELETE FROM containers WHERE id = ?", cid);
		goto out;
	}
	created = 0;
out:
	if (created)
		s->drv.ops->remove(&s->drv, cid);
	if (stage)
		s->drv.ops->abort(&s->drv, stage);
	if (locked)
		unlock(s);
	if (staged)
		stage_un(s);
	if (rc == 0 && name_out)
		*name_out = xstrdup(name);
	graph_image_info_release(&img);
	free(stage);
	free(root);
	free(parent_root);
	free(id);
	free(by);
	free(have_id);
	free(have_image);
	return rc;
}

static char *container_id(struct graph_store *s, const char *name)
{
	char *id = query_text(s, "SELECT id FROM containers WHERE name = ?", name);
	if (!id)
		sfail(s, -BERTH_ENOENT, "no container \"%s\"", name);
	return id;
}

/* Under the store lock: looks container name up and unmounts its root file system. 0 with *id
 * (malloc()ed; the caller frees it), or a negative error with why set (*id may still need freeing). */
static int container_unmount_locked(struct graph_store *s, const char *name, char **id)
{
	int rc;

	*id = container_id(s, name);
	if (!*id)
		return -BERTH_ENOENT;
	rc = s->drv.ops->umount ? s->drv.ops->umount(&s->drv, *id) : 0;
	if (rc < 0)
		sfail(s, rc, "unmounting container %s: %s", name, berth_strerror(rc));
	return rc;
}

int graph_container_umount(struct graph_store *s, const char *name)
{
	char *id = NULL;
	int rc;

	s->why[0] = 0;
	if ((rc = lock_ex(s)) < 0)
		return rc;
	rc = container_unmount_locked(s, name, &id);
	if (rc == 0)
		rc = run_sql1(s, "UPDATE containers SET mounted = 0 WHERE name = ?", name);
	unlock(s);
	free(id);
	return rc;
}

int graph_container_remove(struct graph_store *s, const char *name)
{
	char *id = NULL;
	int rc;

	s->why[0] = 0;
	if ((rc = lock_ex(s)) < 0)
		return rc;
	if ((rc = container_unmount_locked(s, name, &id)) < 0)
		goto out;
	if ((rc = run_sql1(s, "DELETE FROM containers WHERE name = ?", name)) < 0)
		goto out;
	rc = s->drv.ops->remove(&s->drv, id);
	if (rc < 0)
		sfail(s, rc, "removing the layer of container %s: %s (berth prune retries)", name, berth_strerror(rc));
out:
	unlock(s);
	free(id);
	return rc;
}

/* ---- JSON ---- */

static int dump(json_t *v, struct buf *out)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc;

	json_decref(v);
	if (!s)
		return -BERTH_ENOMEM;
	rc = buf_adds(out, s);
	if (rc == 0)
		rc = buf_add(out, "\n", 1);
	free(s);
	return rc;
}

int graph_images_json(const struct graph_image_info *v, size_t n, struct buf *out)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *names = json_array();
		for (size_t k = 0; k < v[i].nnames; k++)
			json_array_append_new(names, json_string(v[i].names[k]));
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:I, s:I, s:s, s:I, s:I}", "id", v[i].id,
						   "manifest", v[i].manifest, "names", names, "layers",
						   (json_int_t)v[i].nlayers, "size", (json_int_t)v[i].size, "top_layer",
						   v[i].top_layer, "containers", (json_int_t)v[i].containers,
						   "created_ms", (json_int_t)v[i].created_ms));
	}
	return dump(a, out);
}

int graph_layers_json(const struct graph_layer_info *v, size_t n, struct buf *out)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "chain_id", v[i].id,
						   "parent", v[i].parent, "diff_id", v[i].diff_id, "digest",
						   v[i].digest, "compressed_size", (json_int_t)v[i].compressed_size,
						   "size", (json_int_t)v[i].size, "refs", (json_int_t)v[i].refs,
						   "created_ms", (json_int_t)v[i].created_ms));
	return dump(a, out);
}

int graph_containers_json(const struct graph_container_info *v, size_t n, struct buf *out)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "name", v[i].name, "id", v[i].id,
						   "image", v[i].image, "path", v[i].path ? v[i].path : "", "mounted",
						   v[i].mounted, "created_ms", (json_int_t)v[i].created_ms));
	return dump(a, out);
}
