/* Unit tests for registry/: the spec's grammar and upload/manifest rules without HTTP. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fault.h"
#include "registry/registry.h"
#include "registry/grading.h"
#include "registry/scanner.h"
#include "harness.h"
#include "tarmake.h"

/* Opens a registry in a fresh directory under base (a template ending in XXXXXX). */
static struct registry *open_tmp_in(const char *tmpl, char **dir)
{
	struct registry_opts o = {0};
	struct registry *r = NULL;
	char why[256];

	*dir = xstrdup(tmpl);
	if (!mkdtemp(*dir))
		abort();
	o.data_dir = *dir;
	o.delete_enabled = 1;
	if (registry_open(&o, &r, why, sizeof(why)) < 0)
		abort();
	return r;
}

static struct registry *open_tmp(char **dir)
{
	return open_tmp_in("/tmp/berth-reg-XXXXXX", dir);
}

/* Opens the registry in an existing dir with an upload TTL. */
static struct registry *open_dir(const char *dir, int64_t ttl_ms)
{
	struct registry_opts o = {0};
	struct registry *r = NULL;
	char why[256];

	o.data_dir = dir;
	o.delete_enabled = 1;
	o.upload_ttl_ms = ttl_ms;
	if (registry_open(&o, &r, why, sizeof(why)) < 0)
		abort();
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Removes a test's data directory (blobs, uploads, database). */
static void rm_rf(const char *dir)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		FAIL_AT("cannot remove %s", dir);
}

/* 1 when <dir>/uploads/<uuid> exists. */
static int upload_file_exists(const char *dir, const char *uuid)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/uploads/%s", dir, uuid);
	return access(p, F_OK) == 0;
}

TEST(upload_sweep_expires_only_idle_sessions)
{
	char *dir, idle[37], touched[37], held[37], repo[64];
	struct registry *r = open_tmp(&dir), *r2 = NULL;
	struct registry_sweep_stats st;
	struct upload *u = NULL, *h = NULL;
	struct reg_err e;

	registry_free(r);
	r2 = open_dir(dir, 1000);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, idle, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "abc", 3, &e), 0);
	registry_upload_release(r2, u);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, touched, &u, &e), 0);
	registry_upload_release(r2, u);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, held, &h, &e), 0);
	/* nothing is idle for the TTL yet */
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 0);
	sleep_ms(700);
	CHECK_EQ(registry_upload_acquire(r2, "x", touched, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "12", 2, &e), 0);
	registry_upload_release(r2, u);
	sleep_ms(500);
	/* idle: 1200 ms; touched: 500 ms; held: in use by a request the whole time */
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 1);
	CHECK_EQ(st.orphans, 0);
	CHECK_EQ(st.bytes, 3);
	CHECK_EQ(registry_upload_acquire(r2, "x", idle, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_BLOB_UPLOAD_UNKNOWN);
	CHECK_EQ(e.status, 404);
	CHECK_EQ(upload_file_exists(dir, idle), 0);
	CHECK_EQ(meta_upload_get(registry_meta(r2), idle, repo, sizeof(repo)), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_acquire(r2, "x", touched, &u, &e), 0);
	CHECK_EQ(registry_upload_size(u), 2);
	registry_upload_release(r2, u);
	CHECK_EQ(upload_file_exists(dir, held), 1);
	CHECK_EQ(registry_upload_write(h, "z", 1, &e), 0);
	registry_upload_release(r2, h);
	/* once given back, the held session ages like any other */
	sleep_ms(1100);
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 2);
	CHECK_EQ(registry_upload_acquire(r2, "x", held, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_acquire(r2, "x", touched, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(upload_file_exists(dir, held), 0);
	registry_free(r2);
	rm_rf(dir);
	free(dir);
}

TEST(upload_sweep_after_restart_uses_file_age)
{
	char *dir, old[37], fresh[37], orphan[37], repo[64];
	struct registry *r = open_tmp(&dir), *r2 = NULL;
	struct registry_sweep_stats st;
	struct upload *u = NULL;
	struct reg_err e;

	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, old, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "1234", 4, &e), 0);
	registry_upload_release(r, u);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 1, orphan, &u, &e), 0);
	registry_free(r); /* a monolithic upload cut off: its file has no record */
	sleep_ms(1600);
	r2 = open_dir(dir, 1500);
	/* at open: the orphan goes at once, the old session (not in memory, file 1.6 s old) too */
	CHECK_EQ(upload_file_exists(dir, orphan), 0);
	CHECK_EQ(upload_file_exists(dir, old), 0);
	CHECK_EQ(meta_upload_get(registry_meta(r2), old, repo, sizeof(repo)), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, fresh, &u, &e), 0);
	registry_upload_release(r2, u);
	registry_free(r2);
	r2 = open_dir(dir, 1500);
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 0);
	sleep_ms(1600);
	/* not in memory in this process: its file's age decides */
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 1);
	CHECK_EQ(registry_upload_acquire(r2, "x", fresh, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_BLOB_UPLOAD_UNKNOWN);
	CHECK_EQ(upload_file_exists(dir, fresh), 0);
	registry_free(r2);
	rm_rf(dir);
	free(dir);
}

TEST(upload_ttl_zero_never_expires)
{
	char *dir, id[37];
	struct registry *r = open_tmp(&dir);
	struct registry_sweep_stats st;
	struct upload *u = NULL;
	struct reg_err e;

	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, id, &u, &e), 0);
	registry_upload_release(r, u);
	sleep_ms(20);
	CHECK_EQ(registry_upload_sweep(r, &st), 0);
	CHECK_EQ(st.sessions + st.orphans, 0);
	CHECK_EQ(registry_upload_acquire(r, "x", id, &u, &e), 0);
	registry_upload_release(r, u);
	registry_free(r);
	rm_rf(dir);
	free(dir);
}

#define RACE_SESSIONS 24

struct race {
	struct registry *r;
	char ids[RACE_SESSIONS][37];
	atomic_int committed[RACE_SESSIONS];
	atomic_int stop;
	atomic_int bad;
};

/* A client: keeps PATCHing and finally PUTting its sessions; every answer must be success,
 * busy (another client has it) or BLOB_UPLOAD_UNKNOWN (swept), never anything else. */
static void *race_client(void *arg)
{
	struct race *ra = arg;
	unsigned seed = (unsigned)(uintptr_t)pthread_self();

	for (int round = 0; round < 400; round++) {
		int i = (int)(rand_r(&seed) % RACE_SESSIONS);
		struct upload *u = NULL;
		struct reg_err e;
		struct digest d;
		int rc = registry_upload_acquire(ra->r, "race", ra->ids[i], &u, &e);

		if (rc == -BERTH_ENOENT || rc == -BERTH_EBUSY) {
			if (rc == -BERTH_ENOENT && (e.code != REG_BLOB_UPLOAD_UNKNOWN || e.status != 404))
				atomic_fetch_add(&ra->bad, 1);
			continue;
		}
		if (rc < 0) {
			atomic_fetch_add(&ra->bad, 1);
			continue;
		}
		if (registry_upload_write(u, "x", 1, &e) < 0)
			atomic_fetch_add(&ra->bad, 1);
		uint64_t n = registry_upload_size(u);
		if (rand_r(&seed) % 8 == 0) {
			char buf[4096];
			memset(buf, 'x', n);
			digest_of(DIGEST_SHA256, buf, n, &d);
			if (registry_upload_finish(ra->r, u, &d, &e) < 0)
				atomic_fetch_add(&ra->bad, 1);
			else
				atomic_store(&ra->committed[i], (int)n + 1);
		} else {
			registry_upload_release(ra->r, u);
		}
	}
	return NULL;
}

/* The sweeper with a TTL of 1 ms: anything a client is not holding right now goes. */
static void *race_sweeper(void *arg)
{
	struct race *ra = arg;
	struct registry_sweep_stats st;

	while (!atomic_load(&ra->stop)) {
		if (registry_upload_sweep(ra->r, &st) < 0)
			atomic_fetch_add(&ra->bad, 1);
		sleep_ms(1);
	}
	return NULL;
}

TEST(upload_sweep_races_requests)
{
	char *dir, repo[64];
	struct race *ra = calloc(1, sizeof(*ra));
	struct registry *r = open_tmp(&dir);
	struct upload *u = NULL;
	struct reg_err e;
	pthread_t cl[4], sw;

	for (int i = 0; i < RACE_SESSIONS; i++) {
		CHECK_EQ(registry_upload_start(r, "race", DIGEST_SHA256, 0, ra->ids[i], &u, &e), 0);
		registry_upload_release(r, u);
	}
	/* half the sessions are revived from disk by the clients while the sweep removes them */
	registry_free(r);
	{
		struct registry_opts o = {0};
		char why[200];
		o.data_dir = dir;
		o.upload_ttl_ms = 1;
		o.no_upload_sweep = 1; /* keep them for the race instead of expiring them at open */
		CHECK_EQ(registry_open(&o, &ra->r, why, sizeof(why)), 0);
	}
	for (int i = 0; i < RACE_SESSIONS / 2; i++) {
		CHECK_EQ(registry_upload_acquire(ra->r, "race", ra->ids[i], &u, &e), 0);
		registry_upload_release(ra->r, u);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&cl[i], NULL, race_client, ra);
	pthread_create(&sw, NULL, race_sweeper, ra);
	for (int i = 0; i < 4; i++)
		pthread_join(cl[i], NULL);
	atomic_store(&ra->stop, 1);
	pthread_join(sw, NULL);
	CHECK_EQ(atomic_load(&ra->bad), 0);
	sleep_ms(5);
	CHECK_EQ(registry_upload_sweep(ra->r, NULL), 0);
	/* no half state: every session is gone whole (file, row, memory), and every blob a finish
	 * acknowledged is there */
	for (int i = 0; i < RACE_SESSIONS; i++) {
		CHECK_EQ(upload_file_exists(dir, ra->ids[i]), 0);
		CHECK_EQ(meta_upload_get(registry_meta(ra->r), ra->ids[i], repo, sizeof(repo)), -BERTH_ENOENT);
		CHECK_EQ(registry_upload_acquire(ra->r, "race", ra->ids[i], &u, &e), -BERTH_ENOENT);
		if (atomic_load(&ra->committed[i])) {
			uint64_t n = (uint64_t)atomic_load(&ra->committed[i]) - 1, size = 0;
			char buf[4096];
			struct digest d;
			memset(buf, 'x', n);
			digest_of(DIGEST_SHA256, buf, n, &d);
			CHECK_EQ(registry_blob_stat(ra->r, "race", &d, &size, &e), 0);
			CHECK_EQ(size, n);
		}
	}
	registry_free(ra->r);
	free(ra);
	rm_rf(dir);
	free(dir);
}

TEST(name_grammar)
{
	CHECK(registry_name_valid("a"));
	CHECK(registry_name_valid("library/alpine"));
	CHECK(registry_name_valid("a.b_c__d---e/f0"));
	CHECK(!registry_name_valid(""));
	CHECK(!registry_name_valid("A"));
	CHECK(!registry_name_valid("a//b"));
	CHECK(!registry_name_valid("a/"));
	CHECK(!registry_name_valid("/a"));
	CHECK(!registry_name_valid(".."));
	CHECK(!registry_name_valid("a/../b"));
	CHECK(!registry_name_valid("a___b"));
	CHECK(!registry_name_valid("a.-b"));
	CHECK(!registry_name_valid("a-"));
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = '\0';
	CHECK(!registry_name_valid(longname));
	longname[255] = '\0';
	CHECK(registry_name_valid(longname));
}

TEST(tag_grammar)
{
	CHECK(registry_tag_valid("latest"));
	CHECK(registry_tag_valid("_x.Y-1"));
	CHECK(!registry_tag_valid(".x"));
	CHECK(!registry_tag_valid("-x"));
	CHECK(!registry_tag_valid("a/b"));
	CHECK(!registry_tag_valid(""));
	char t[200];
	memset(t, 'a', 129);
	t[129] = '\0';
	CHECK(!registry_tag_valid(t));
	t[128] = '\0';
	CHECK(registry_tag_valid(t));
}

TEST(chunked_upload_rollback_and_commit)
{
	char *dir, uuid[37];
	struct registry *r = open_tmp(&dir);
	struct upload *u = NULL, *other = NULL;
	struct reg_err e;
	struct digest d;
	uint64_t size;

	digest_of(DIGEST_SHA256, "abcdef", 6, &d);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "abc", 3, &e), 0);
	registry_upload_release(r, u);
	/* a chunk that breaks off is undone */
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &other, &e), -BERTH_EBUSY);
	CHECK(other == NULL);
	CHECK_EQ(registry_upload_checkpoint(u), 0);
	CHECK_EQ(registry_upload_write(u, "XYZ", 3, &e), 0);
	registry_upload_rollback(u);
	CHECK_EQ(registry_upload_size(u), 3);
	CHECK_EQ(registry_upload_write(u, "def", 3, &e), 0);
	CHECK_EQ(registry_upload_finish(r, u, &d, &e), 0);
	CHECK_EQ(registry_blob_stat(r, "x", &d, &size, &e), 0);
	CHECK_EQ(size, 6);
	CHECK_EQ(registry_blob_stat(r, "y", &d, &size, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_BLOB_UNKNOWN);
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_BLOB_UPLOAD_UNKNOWN);
	registry_free(r);
	free(dir);
}

TEST(upload_survives_reopen)
{
	char *dir, uuid[37];
	struct registry *r = open_tmp(&dir), *r2 = NULL;
	struct registry_opts o = {0};
	struct upload *u = NULL;
	struct reg_err e;
	struct digest d;
	char why[200];

	digest_of(DIGEST_SHA256, "0123456789", 10, &d);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "01234", 5, &e), 0);
	registry_upload_release(r, u);
	registry_free(r);
	o.data_dir = dir;
	CHECK_EQ(registry_open(&o, &r2, why, sizeof(why)), 0);
	CHECK_EQ(registry_upload_acquire(r2, "other", uuid, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_acquire(r2, "x", uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_size(u), 5);
	CHECK_EQ(registry_upload_write(u, "56789", 5, &e), 0);
	CHECK_EQ(registry_upload_finish(r2, u, &d, &e), 0);
	registry_free(r2);
	free(dir);
}

TEST(orphan_upload_files_swept_on_open)
{
	char *dir, uuid[37], kept[37], path[600];
	struct registry *r = open_tmp(&dir), *r2 = NULL;
	struct registry_opts o = {0};
	struct upload *u = NULL, *k = NULL;
	struct reg_err e;
	char why[200];

	/* a monolithic upload cut off by a crash leaves a file and no record */
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 1, uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "partial", 7, &e), 0);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, kept, &k, &e), 0);
	registry_upload_release(r, k);
	registry_free(r);
	o.data_dir = dir;
	CHECK_EQ(registry_open(&o, &r2, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/uploads/%s", dir, uuid);
	CHECK_EQ(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/uploads/%s", dir, kept);
	CHECK_EQ(access(path, F_OK), 0);
	CHECK_EQ(registry_upload_acquire(r2, "x", kept, &k, &e), 0);
	registry_upload_release(r2, k);
	registry_free(r2);
	free(dir);
}

TEST(digest_mismatch_stores_nothing)
{
	char *dir, uuid[37];
	struct registry *r = open_tmp(&dir);
	struct upload *u = NULL;
	struct reg_err e;
	struct digest want, real;
	uint64_t size;

	digest_of(DIGEST_SHA256, "expected", 8, &want);
	digest_of(DIGEST_SHA256, "actual", 6, &real);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "actual", 6, &e), 0);
	CHECK_EQ(registry_upload_finish(r, u, &want, &e), -BERTH_EDIGEST);
	CHECK_EQ(e.code, REG_DIGEST_INVALID);
	CHECK_EQ(e.status, 400);
	CHECK_EQ(registry_blob_stat(r, "x", &want, &size, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_blob_stat(r, "x", &real, &size, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), -BERTH_ENOENT);
	registry_free(r);
	free(dir);
}

TEST(sha512_upload)
{
	char *dir, uuid[37];
	struct registry *r = open_tmp(&dir);
	struct upload *u = NULL;
	struct reg_err e;
	struct digest d;
	uint64_t size;

	digest_of(DIGEST_SHA512, "data", 4, &d);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "data", 4, &e), 0);
	CHECK_EQ(registry_upload_finish(r, u, &d, &e), 0);
	CHECK_EQ(registry_blob_stat(r, "x", &d, &size, &e), 0);
	registry_free(r);
	free(dir);
}

#define MT "application/vnd.oci.image.manifest.v1+json"

static int push_blob(struct registry *r, const char *repo, const char *data, struct digest *d)
{
	char uuid[37];
	struct upload *u = NULL;
	struct reg_err e;

	digest_of(DIGEST_SHA256, data, strlen(data), d);
	if (registry_upload_start(r, repo, DIGEST_SHA256, 1, uuid, &u, &e) < 0)
		return -1;
	if (registry_upload_write(u, data, strlen(data), &e) < 0)
		return -1;
	return registry_upload_finish(r, u, d, &e);
}

TEST(manifest_rules)
{
	char *dir, body[1024], ds[DIGEST_STR_MAX], cs[DIGEST_STR_MAX];
	struct registry *r = open_tmp(&dir);
	struct digest cfg, layer, got, sub;
	struct reg_err e;
	struct meta_manifest mf = {0};
	int has_sub = 0;

	CHECK_EQ(push_blob(r, "x", "{}", &cfg), 0);
	digest_of(DIGEST_SHA256, "layer-never-pushed", 18, &layer);
	snprintf(
	    body, sizeof(body),
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":2},"
	    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":18}]}",
	    digest_str(&cfg, cs), digest_str(&layer, ds));
	CHECK_EQ(registry_manifest_put(r, "x", "v1", "application/vnd.oci.image.manifest.v1+json", body, strlen(body),
				       &got, &sub, &has_sub, &e),
		 -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_MANIFEST_BLOB_UNKNOWN);
	CHECK_STR(e.detail, ds);
	CHECK_EQ(push_blob(r, "x", "layer-never-pushed", &layer), 0);
	CHECK_EQ(registry_manifest_put(r, "x", "BAD/TAG", "application/vnd.oci.image.manifest.v1+json", body,
				       strlen(body), &got, &sub, &has_sub, &e),
		 -BERTH_EINVAL);
	CHECK_EQ(registry_manifest_put(r, "x",
				       "sha256:0000000000000000000000000000000000000000000000000000000000000000", MT,
				       body, strlen(body), &got, &sub, &has_sub, &e),
		 -BERTH_EDIGEST);
	CHECK_EQ(e.code, REG_DIGEST_INVALID);
	CHECK_EQ(registry_manifest_put(r, "x", "v1", "application/vnd.oci.image.manifest.v1+json", body, strlen(body),
				       &got, &sub, &has_sub, &e),
		 0);
	CHECK_EQ(has_sub, 0);
	CHECK_EQ(registry_manifest_get(r, "x", "v1", 1, &mf, &e), 0);
	CHECK_EQ(mf.size, strlen(body));
	CHECK_MEM(mf.body, body, strlen(body));
	CHECK_STR(mf.media_type, "application/vnd.oci.image.manifest.v1+json");
	meta_manifest_release(&mf);
	CHECK_EQ(registry_manifest_get(r, "nope", "v1", 0, &mf, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_NAME_UNKNOWN);
	CHECK_EQ(registry_manifest_get(r, "x", "v2", 0, &mf, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_MANIFEST_UNKNOWN);
	CHECK_EQ(registry_manifest_delete(r, "x", "v1", &e), 0);
	CHECK_EQ(registry_manifest_get(r, "x", digest_str(&got, ds), 0, &mf, &e), 0);
	meta_manifest_release(&mf);
	registry_free(r);
	free(dir);
}

/* ---- garbage collection ---- */

/* An image: config and layers pushed into repo, then the manifest under tag (NULL: by digest). */
struct img {
	char cfg[64];
	const char *layers[3];
	size_t nlayers;
	char body[2048];
	struct digest digest;
};

static int push_img(struct registry *r, const char *repo, struct img *im, const char *tag, struct reg_err *e)
{
	struct digest cd, ld[3], sub;
	char cs[DIGEST_STR_MAX], ls[3][DIGEST_STR_MAX], ref[DIGEST_STR_MAX];
	size_t off;
	int has = 0, rc;

	if (push_blob(r, repo, im->cfg, &cd) < 0)
		return -1;
	for (size_t i = 0; i < im->nlayers; i++)
		if (push_blob(r, repo, im->layers[i], &ld[i]) < 0)
			return -1;
	off = (size_t)snprintf(
	    im->body, sizeof(im->body),
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT "\",\"config\":{\"mediaType\":"
	    "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
	    digest_str(&cd, cs), strlen(im->cfg));
	for (size_t i = 0; i < im->nlayers; i++)
		off += (size_t)snprintf(
		    im->body + off, sizeof(im->body) - off,
		    "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}",
		    i ? "," : "", digest_str(&ld[i], ls[i]), strlen(im->layers[i]));
	snprintf(im->body + off, sizeof(im->body) - off, "]}");
	digest_of(DIGEST_SHA256, im->body, strlen(im->body), &im->digest);
	rc = registry_manifest_put(r, repo, tag ? tag : digest_str(&im->digest, ref), MT, im->body, strlen(im->body),
				   &im->digest, &sub, &has, e);
	return rc;
}

/* 1 when blob data is linked in repo and its file reads back exactly. */
static int blob_reads_back(struct registry *r, const char *repo, const char *data)
{
	struct digest d;
	struct reg_err e;
	uint64_t size = 0;
	char buf[4096];
	ssize_t n;
	int fd = -1, ok;

	digest_of(DIGEST_SHA256, data, strlen(data), &d);
	if (registry_blob_open(r, repo, &d, &fd, &size, &e) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ok = n >= 0 && (size_t)n == strlen(data) && size == (uint64_t)n && memcmp(buf, data, (size_t)n) == 0;
	return ok;
}

/* 1 when the blob file of data exists under dir. */
static int blob_file_exists(const char *dir, const char *data)
{
	struct digest d;
	char p[700];

	digest_of(DIGEST_SHA256, data, strlen(data), &d);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", dir, d.hex, d.hex);
	return access(p, F_OK) == 0;
}

struct gc_log {
	int manifests, blobs, orphans;
};

static void gc_count(void *ctx, const struct registry_gc_item *it)
{
	struct gc_log *l = ctx;

	if (it->is_manifest)
		l->manifests++;
	else if (it->orphan)
		l->orphans++;
	else
		l->blobs++;
}

TEST(gc_removes_only_unshared_blobs)
{
	char *dir;
	struct registry *r = open_tmp(&dir);
	struct img a = {"cfg-a", {"shared-layer", "layer-a"}, 2, "", {0}};
	struct img b = {"cfg-b", {"shared-layer", "layer-b"}, 2, "", {0}};
	struct registry_gc_opts o = {0};
	struct registry_gc_stats st;
	struct gc_log log = {0};
	struct reg_err e;
	char ds[DIGEST_STR_MAX];

	CHECK_EQ(push_img(r, "x", &a, "a", &e), 0);
	CHECK_EQ(push_img(r, "x", &b, "b", &e), 0);
	/* nothing is garbage while both are stored, whatever the grace */
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.blobs + st.links + st.manifests, 0);
	CHECK_EQ(registry_manifest_delete(r, "x", digest_str(&a.digest, ds), &e), 0);
	/* within the grace period (1 h) nothing goes */
	o.grace_ms = 3600000;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.blobs + st.links, 0);
	/* a dry run reports what a run removes, and removes nothing */
	o.grace_ms = 0;
	o.dry_run = 1;
	o.report = gc_count;
	o.ctx = &log;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.blobs, 2);
	CHECK_EQ(st.blob_bytes, strlen("cfg-a") + strlen("layer-a"));
	CHECK_EQ(st.links, 2);
	CHECK_EQ(log.blobs, 2);
	CHECK(blob_reads_back(r, "x", "layer-a"));
	o.dry_run = 0;
	memset(&log, 0, sizeof(log));
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.blobs, 2);
	CHECK_EQ(st.blob_bytes, strlen("cfg-a") + strlen("layer-a"));
	CHECK_EQ(st.links, 2);
	CHECK_EQ(st.manifests, 0);
	CHECK_EQ(st.orphans, 0);
	CHECK_EQ(log.blobs, 2);
	CHECK(!blob_file_exists(dir, "cfg-a"));
	CHECK(!blob_file_exists(dir, "layer-a"));
	CHECK(!blob_reads_back(r, "x", "layer-a"));
	CHECK(blob_reads_back(r, "x", "cfg-b"));
	CHECK(blob_reads_back(r, "x", "shared-layer"));
	CHECK(blob_reads_back(r, "x", "layer-b"));
	/* nothing left to do */
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.blobs + st.links + st.manifests + st.orphans, 0);
	/* pushing the removed blob again works as for a new one */
	CHECK_EQ(push_img(r, "x", &a, "a", &e), 0);
	CHECK(blob_reads_back(r, "x", "layer-a"));
	registry_free(r);
	rm_rf(dir);
	free(dir);
}

TEST(gc_delete_untagged)
{
	char *dir;
	struct registry *r = open_tmp(&dir);
	struct img v1 = {"cfg-1", {"base", "app-1"}, 2, "", {0}};
	struct img v2 = {"cfg-2", {"base", "app-2"}, 2, "", {0}};
	struct img loose = {"cfg-3", {"app-3"}, 1, "", {0}};
	struct registry_gc_opts o = {0};
	struct registry_gc_stats st;
	struct meta_manifest mf = {0};
	struct reg_err e;
	char ds[DIGEST_STR_MAX];

	CHECK_EQ(push_img(r, "x", &v1, "latest", &e), 0);
	CHECK_EQ(push_img(r, "x", &v2, "latest", &e), 0); /* the tag moves: v1 is untagged */
	CHECK_EQ(push_img(r, "x", &loose, NULL, &e), 0); /* pushed by digest */
	/* untagged manifests are kept by default, and so are their blobs */
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.manifests + st.blobs, 0);
	o.delete_untagged = 1;
	o.grace_ms = 3600000; /* all of it is younger than the grace period */
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.manifests + st.blobs, 0);
	o.grace_ms = 0;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.manifests, 2);
	CHECK_EQ(st.manifest_bytes, strlen(v1.body) + strlen(loose.body));
	CHECK_EQ(st.blobs, 4); /* cfg-1, app-1, cfg-3, app-3 */
	CHECK_EQ(registry_manifest_get(r, "x", digest_str(&v1.digest, ds), 0, &mf, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_manifest_get(r, "x", digest_str(&loose.digest, ds), 0, &mf, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_manifest_get(r, "x", "latest", 1, &mf, &e), 0);
	CHECK_MEM(mf.body, v2.body, strlen(v2.body));
	meta_manifest_release(&mf);
	CHECK(blob_reads_back(r, "x", "base"));
	CHECK(blob_reads_back(r, "x", "app-2"));
	CHECK(!blob_file_exists(dir, "app-1"));
	CHECK(!blob_file_exists(dir, "app-3"));
	registry_free(r);
	rm_rf(dir);
	free(dir);
}

TEST(gc_orphan_files_after_grace)
{
	char *dir, p[700];
	struct registry *r = open_tmp(&dir);
	struct registry_gc_opts o = {0};
	struct registry_gc_stats st;
	struct gc_log log = {0};
	struct timeval old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	struct digest d;
	FILE *f;

	/* a blob file no metadata names: what a crash between a collector's row delete and its unlink
	 * leaves */
	digest_of(DIGEST_SHA256, "orphan", 6, &d);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", dir, d.hex, d.hex);
	f = fopen(p, "w");
	CHECK(f != NULL);
	fputs("orphan", f);
	fclose(f);
	/* junk that is not a blob name is never touched */
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/not-a-digest", dir, d.hex);
	f = fopen(p, "w");
	CHECK(f != NULL);
	fclose(f);
	CHECK_EQ(utimes(p, old), 0);
	o.grace_ms = 3600000;
	o.report = gc_count;
	o.ctx = &log;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.orphans, 0); /* young */
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", dir, d.hex, d.hex);
	CHECK_EQ(utimes(p, old), 0);
	o.dry_run = 1;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.orphans, 1);
	CHECK_EQ(access(p, F_OK), 0);
	o.dry_run = 0;
	CHECK_EQ(registry_gc(r, &o, &st), 0);
	CHECK_EQ(st.orphans, 1);
	CHECK_EQ(st.blobs, 1);
	CHECK_EQ(st.blob_bytes, 6);
	CHECK_EQ(log.orphans, 2);
	CHECK_EQ(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/not-a-digest", dir, d.hex);
	CHECK_EQ(access(p, F_OK), 0);
	registry_free(r);
	rm_rf(dir);
	free(dir);
}

TEST(gc_json_lines)
{
	struct registry_gc_stats st = {1, 2, 3, 4, 5, 6};
	struct digest d;
	struct registry_gc_item it = {0, 1, NULL, &d, 42};
	char *s = registry_gc_stats_json(&st, 1), want[300];

	CHECK_STR(s, "{\"dry_run\":true,\"manifests\":1,\"manifest_bytes\":2,\"links\":3,\"blobs\":4,"
		     "\"blob_bytes\":5,\"orphans\":6}");
	free(s);
	digest_of(DIGEST_SHA256, "x", 1, &d);
	s = registry_gc_item_json(&it);
	snprintf(want, sizeof(want), "{\"kind\":\"orphan\",\"digest\":\"sha256:%s\",\"size\":42}", d.hex);
	CHECK_STR(s, want);
	free(s);
	it.is_manifest = 1;
	it.repo = "a/b";
	s = registry_gc_item_json(&it);
	snprintf(want, sizeof(want),
		 "{\"kind\":\"manifest\",\"digest\":\"sha256:%s\",\"size\":42,\"repository\":\"a/b\"}", d.hex);
	CHECK_STR(s, want);
	free(s);
}

/* The race: pushers put images (their blobs first, then the manifest under their own tag, which moves)
 * while a collector with no grace period and delete_untagged runs back to back. Every manifest PUT
 * must either succeed with all its blobs readable, or answer MANIFEST_BLOB_UNKNOWN; nothing else. */
struct gcrace {
	struct registry *r;
	atomic_int stop, bad, ok_puts, unknown, gc_runs;
	char first_bad[256];
	pthread_mutex_t lock;
};

static void gcrace_bad(struct gcrace *g, const char *what, const struct reg_err *e)
{
	pthread_mutex_lock(&g->lock);
	if (!atomic_load(&g->bad))
		snprintf(g->first_bad, sizeof(g->first_bad), "%s: %.150s (%s)", what, e ? e->msg : "",
			 e ? reg_code_name(e->code) : "");
	atomic_fetch_add(&g->bad, 1);
	pthread_mutex_unlock(&g->lock);
}

static void *gcrace_pusher(void *arg)
{
	struct gcrace *g = arg;
	static atomic_int ids;
	int id = atomic_fetch_add(&ids, 1);
	char tag[16], uniq[64], cfg[64];
	struct reg_err e;

	snprintf(tag, sizeof(tag), "t%d", id);
	for (int n = 0; !atomic_load(&g->stop); n++) {
		struct img im = {"", {"layer-shared-by-all", uniq}, 2, "", {0}};
		int rc;
		snprintf(cfg, sizeof(cfg), "cfg-%d-%d", id, n % 5); /* configs repeat: blobs come back after GC */
		snprintf(uniq, sizeof(uniq), "layer-%d-%d", id, n % 7);
		snprintf(im.cfg, sizeof(im.cfg), "%s", cfg);
		rc = push_img(g->r, "race/gc", &im, tag, &e);
		if (rc == 0) {
			atomic_fetch_add(&g->ok_puts, 1);
			/* tagged by us, so kept: every blob must be there, byte for byte */
			if (!blob_reads_back(g->r, "race/gc", im.cfg) ||
			    !blob_reads_back(g->r, "race/gc", im.layers[0]) ||
			    !blob_reads_back(g->r, "race/gc", im.layers[1]))
				gcrace_bad(g, "a stored manifest's blob does not read back", NULL);
		} else if (rc == -BERTH_ENOENT && e.code == REG_MANIFEST_BLOB_UNKNOWN) {
			atomic_fetch_add(&g->unknown, 1);
		} else if (rc != -1) {
			gcrace_bad(g, "manifest put", &e);
		}
	}
	return NULL;
}

static void *gcrace_collector(void *arg)
{
	struct gcrace *g = arg;
	struct registry_gc_opts o = {0};
	struct registry_gc_stats st;
	int rc;

	o.delete_untagged = 1;
	while (!atomic_load(&g->stop)) {
		rc = registry_gc(g->r, &o, &st);
		if (rc < 0)
			gcrace_bad(g, "gc run failed", NULL);
		atomic_fetch_add(&g->gc_runs, 1);
	}
	return NULL;
}

/* Checks with SQL that every link and every blob a manifest lists has its file, hashing right. */
static void check_no_dangling(const char *dir)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int rows = 0;

	snprintf(path, sizeof(path), "%s/berth.db", dir);
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_prepare_v2(
		     db, "SELECT digest FROM blob_links UNION SELECT digest FROM manifest_refs WHERE kind = 0", -1, &st,
		     NULL),
		 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct digest d, got;
		struct hasher h;
		int fd;
		CHECK_EQ(digest_parse_cstr((const char *)sqlite3_column_text(st, 0), &d), 0);
		snprintf(path, sizeof(path), "%s/blobs/sha256/%.2s/%s", dir, d.hex, d.hex);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			FAIL_AT("metadata names %s but its file is missing", d.hex);
		CHECK_EQ(hasher_init(&h, DIGEST_SHA256), 0);
		CHECK_EQ(hasher_update_fd(&h, fd, NULL), 0);
		hasher_final(&h, &got);
		hasher_release(&h);
		close(fd);
		CHECK(digest_eq(&d, &got));
		rows++;
	}
	sqlite3_finalize(st);
	CHECK_EQ(sqlite3_prepare_v2(db,
				    "SELECT COUNT(*) FROM tags t LEFT JOIN manifests m"
				    " ON m.repo_id = t.repo_id AND m.digest = t.digest WHERE m.id IS NULL",
				    -1, &st, NULL),
		 SQLITE_OK);
	CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK(rows > 0);
}

/* check_no_dangling() for a store that may hold nothing yet. */
static void check_no_dangling_maybe_empty(const char *dir)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int rows = 0;

	snprintf(path, sizeof(path), "%s/berth.db", dir);
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_prepare_v2(db,
				    "SELECT (SELECT COUNT(*) FROM blob_links) + (SELECT COUNT(*) FROM manifest_refs"
				    " WHERE kind = 0)",
				    -1, &st, NULL),
		 SQLITE_OK);
	CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
	rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rows)
		check_no_dangling(dir);
}

TEST(gc_races_pushes)
{
	char *dir;
	struct gcrace *g = calloc(1, sizeof(*g));
	pthread_t p[3], c;

	g->r = open_tmp(&dir);
	pthread_mutex_init(&g->lock, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&p[i], NULL, gcrace_pusher, g);
	pthread_create(&c, NULL, gcrace_collector, g);
	sleep_ms(4000);
	atomic_store(&g->stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(p[i], NULL);
	pthread_join(c, NULL);
	if (atomic_load(&g->bad))
		FAIL_AT("%d bad outcomes, first: %s", atomic_load(&g->bad), g->first_bad);
	fprintf(stderr, "  gc_races_pushes: %d puts ok, %d MANIFEST_BLOB_UNKNOWN, %d gc runs\n",
		atomic_load(&g->ok_puts), atomic_load(&g->unknown), atomic_load(&g->gc_runs));
	CHECK(atomic_load(&g->ok_puts) > 0);
	CHECK(atomic_load(&g->gc_runs) > 0);
	check_no_dangling(dir);
	/* and a last collection leaves the tagged images whole */
	{
		struct registry_gc_opts o = {0};
		struct registry_gc_stats st;
		o.delete_untagged = 1;
		CHECK_EQ(registry_gc(g->r, &o, &st), 0);
		check_no_dangling(dir);
	}
	registry_free(g->r);
	pthread_mutex_destroy(&g->lock);
	free(g);
	rm_rf(dir);
	free(dir);
}

/* ---- fault injection: fail the Nth write / fsync / rename / db step and lose nothing ---- */

enum { OP_CHUNKED, OP_MONO, OP_CFG1, OP_PUT1, OP_CFG2, OP_PUT2, OP_DELETE1, OP_N };

/* The push sequence's content, fixed so a second run repeats it exactly. */
struct fseq {
	char layer1[3000], layer2[1500], cfg1[64], cfg2[64];
	char m1[1024], m2[1024];
	struct digest dl1, dl2, dc1, dc2, dm1, dm2;
	int acked[OP_N];
};

static void fseq_init(struct fseq *q)
{
	char a[DIGEST_STR_MAX], b[DIGEST_STR_MAX], c[DIGEST_STR_MAX];

	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < sizeof(q->layer1); i++)
		q->layer1[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(q->layer2); i++)
		q->layer2[i] = (char)('A' + (i * 7) % 26);
	snprintf(q->cfg1, sizeof(q->cfg1), "{\"architecture\":\"amd64\",\"v\":1}");
	snprintf(q->cfg2, sizeof(q->cfg2), "{\"architecture\":\"amd64\",\"v\":2}");
	digest_of(DIGEST_SHA256, q->layer1, sizeof(q->layer1), &q->dl1);
	digest_of(DIGEST_SHA256, q->layer2, sizeof(q->layer2), &q->dl2);
	digest_of(DIGEST_SHA256, q->cfg1, strlen(q->cfg1), &q->dc1);
	digest_of(DIGEST_SHA256, q->cfg2, strlen(q->cfg2), &q->dc2);
	snprintf(q->m1, sizeof(q->m1),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT "\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":["
		 "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu},"
		 "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		 digest_str(&q->dc1, a), strlen(q->cfg1), digest_str(&q->dl1, b), sizeof(q->layer1),
		 digest_str(&q->dl2, c), sizeof(q->layer2));
	snprintf(q->m2, sizeof(q->m2),
		 "{\"schemaVersion\":2,\"mediaType\":\"" MT "\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":["
		 "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		 digest_str(&q->dc2, a), strlen(q->cfg2), digest_str(&q->dl1, b), sizeof(q->layer1));
	digest_of(DIGEST_SHA256, q->m1, strlen(q->m1), &q->dm1);
	digest_of(DIGEST_SHA256, q->m2, strlen(q->m2), &q->dm2);
}

/* A monolithic upload as h_uploads does it (a failed finish aborts the session). */
static int fseq_mono_in(struct registry *r, const char *repo, const char *data, size_t n, const struct digest *d)
{
	struct upload *u = NULL;
	struct reg_err e;
	char uuid[37];

	if (registry_upload_start(r, repo, d->alg, 1, uuid, &u, &e) < 0)
		return -1;
	if (registry_upload_write(u, data, n, &e) < 0) {
		registry_upload_abort(r, u);
		return -1;
	}
	if (registry_upload_finish(r, u, d, &e) < 0) {
		if (e.code == REG_STORAGE_FULL || e.code == REG_INTERNAL)
			registry_upload_abort(r, u);
		return -1;
	}
	return 0;
}

static int fseq_mono(struct registry *r, const char *data, size_t n, const struct digest *d)
{
	return fseq_mono_in(r, "f/app", data, n, d);
}

/* A chunked upload in three PATCHes and a PUT, each chunk checkpointed and rolled back on failure as
 * the HTTP layer does. */
static int fseq_chunked(struct registry *r, const struct fseq *q)
{
	struct upload *u = NULL;
	struct reg_err e;
	char uuid[37];
	size_t off = 0, step = sizeof(q->layer1) / 3;

	if (registry_upload_start(r, "f/app", DIGEST_SHA256, 0, uuid, &u, &e) < 0)
		return -1;
	registry_upload_release(r, u);
	for (int i = 0; i < 3; i++) {
		size_t n = i == 2 ? sizeof(q->layer1) - off : step;
		if (registry_upload_acquire(r, "f/app", uuid, &u, &e) < 0)
			return -1;
		if (registry_upload_checkpoint(u) < 0 || registry_upload_write(u, q->layer1 + off, n, &e) < 0) {
			registry_upload_rollback(u);
			registry_upload_release(r, u);
			return -1;
		}
		registry_upload_release(r, u);
		off += n;
	}
	if (registry_upload_acquire(r, "f/app", uuid, &u, &e) < 0)
		return -1;
	return registry_upload_finish(r, u, &q->dl1, &e) < 0 ? -1 : 0;
}

static int fseq_put(struct registry *r, const char *body, const char *tag)
{
	struct digest got, sub;
	struct reg_err e;
	int has = 0;

	return registry_manifest_put(r, "f/app", tag, MT, body, strlen(body), &got, &sub, &has, &e) < 0 ? -1 : 0;
}

/* Runs the sequence until the first operation that fails; records which were acknowledged. Any
 * error must come back as an error, and spec-shaped (checked by the callers' reg_err use). */
static void fseq_run(struct registry *r, struct fseq *q)
{
	char ds[DIGEST_STR_MAX];
	struct reg_err e;

	memset(q->acked, 0, sizeof(q->acked));
	if (fseq_chunked(r, q) < 0)
		return;
	q->acked[OP_CHUNKED] = 1;
	if (fseq_mono(r, q->layer2, sizeof(q->layer2), &q->dl2) < 0)
		return;
	q->acked[OP_MONO] = 1;
	if (fseq_mono(r, q->cfg1, strlen(q->cfg1), &q->dc1) < 0)
		return;
	q->acked[OP_CFG1] = 1;
	if (fseq_put(r, q->m1, "v1") < 0)
		return;
	q->acked[OP_PUT1] = 1;
	if (fseq_mono(r, q->cfg2, strlen(q->cfg2), &q->dc2) < 0)
		return;
	q->acked[OP_CFG2] = 1;
	if (fseq_put(r, q->m2, "v1") < 0) /* moves the tag */
		return;
	q->acked[OP_PUT2] = 1;
	if (registry_manifest_delete(r, "f/app", digest_str(&q->dm1, ds), &e) < 0)
		return;
	q->acked[OP_DELETE1] = 1;
}

/* Blob bytes read back exactly through the registry. */
static void check_blob_exact_in(struct registry *r, const char *repo, const struct digest *d, const char *data,
				size_t n)
{
	struct reg_err e;
	uint64_t size = 0;
	char *buf = malloc(n + 1);
	int fd = -1;

	CHECK_EQ(registry_blob_open(r, repo, d, &fd, &size, &e), 0);
	CHECK_EQ(size, n);
	CHECK_EQ(read(fd, buf, n + 1), (ssize_t)n);
	CHECK_MEM(buf, data, n);
	close(fd);
	free(buf);
}

static void check_blob_exact(struct registry *r, const struct digest *d, const char *data, size_t n)
{
	check_blob_exact_in(r, "f/app", d, data, n);
}

static void check_manifest_exact(struct registry *r, const char *ref, const char *body)
{
	struct meta_manifest mf = {0};
	struct reg_err e;

	CHECK_EQ(registry_manifest_get(r, "f/app", ref, 1, &mf, &e), 0);
	CHECK_EQ(mf.size, strlen(body));
	CHECK_MEM(mf.body, body, strlen(body));
	meta_manifest_release(&mf);
}

/* Everything acknowledged reads back byte-exact; what was not acknowledged is either absent or whole. */
static void fseq_verify(struct registry *r, const struct fseq *q)
{
	char ds[DIGEST_STR_MAX];
	struct meta_manifest mf = {0};
	struct reg_err e;

	if (q->acked[OP_CHUNKED])
		check_blob_exact(r, &q->dl1, q->layer1, sizeof(q->layer1));
	if (q->acked[OP_MONO])
		check_blob_exact(r, &q->dl2, q->layer2, sizeof(q->layer2));
	if (q->acked[OP_CFG1])
		check_blob_exact(r, &q->dc1, q->cfg1, strlen(q->cfg1));
	if (q->acked[OP_CFG2])
		check_blob_exact(r, &q->dc2, q->cfg2, strlen(q->cfg2));
	if (q->acked[OP_PUT1] && !q->acked[OP_DELETE1])
		check_manifest_exact(r, digest_str(&q->dm1, ds), q->m1);
	if (q->acked[OP_PUT1] && !q->acked[OP_PUT2])
		check_manifest_exact(r, "v1", q->m1); /* unless the failed move went through: then m2 */
	if (q->acked[OP_PUT2]) {
		check_manifest_exact(r, "v1", q->m2);
		check_manifest_exact(r, digest_str(&q->dm2, ds), q->m2);
	}
	if (q->acked[OP_DELETE1])
		CHECK_EQ(registry_manifest_get(r, "f/app", digest_str(&q->dm1, ds), 0, &mf, &e), -BERTH_ENOENT);
}

/* One variant: for N = 1, 2, ... fail the Nth call at point p (with errno err) during the sequence,
 * until the sequence completes without the fault firing. */
static void fault_sweep(enum fault_point p, int err)
{
	struct fseq *q = malloc(sizeof(*q));
	int runs = 0, fired_any = 0;

	fseq_init(q);
	for (uint64_t n = 1;; n++) {
		char *dir;
		/* faults are injected, not real: a tmpfs makes each run's fsyncs free (when there is one) */
		struct registry *r = open_tmp_in(
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm/berth-fault-XXXXXX" : "/tmp/berth-fault-XXXXXX", &dir);
		struct fseq again;
		int fired, all;

		fault_set(p, n, err);
		fseq_run(r, q);
		fired = fault_fired(p);
		fault_clear();
		all = 1;
		for (int i = 0; i < OP_N; i++)
			all &= q->acked[i];
		if (!fired && !all)
			FAIL_AT("%s:%llu: an operation failed although no fault fired", fault_name(p),
				(unsigned long long)n);
		/* at once, in the same process (same connections, same sessions) ... */
		fseq_verify(r, q);
		registry_free(r);
		/* reopen with no fault: acknowledged data is there, nothing half-written is visible */
		r = open_dir(dir, 0);
		fseq_verify(r, q);
		check_no_dangling_maybe_empty(dir);
		/* and the registry keeps working: the same sequence succeeds and reads back */
		again = *q;
		fseq_run(r, &again);
		for (int i = 0; i < OP_N; i++)
			if (!again.acked[i])
				FAIL_AT("%s:%llu: after the fault, operation %d of a clean run failed", fault_name(p),
					(unsigned long long)n, i);
		fseq_verify(r, &again);
		check_no_dangling_maybe_empty(dir);
		registry_free(r);
		rm_rf(dir);
		free(dir);
		runs++;
		fired_any |= fired;
		if (!fired)
			break;
	}
	fprintf(stderr, "  %s%s: %d runs\n", fault_name(p), err == ENOSPC ? ":enospc" : "", runs);
	CHECK(fired_any);
	CHECK(runs >= 2);
	free(q);
}

TEST(fault_write)
{
	fault_sweep(FAULT_WRITE, EIO);
	fault_sweep(FAULT_WRITE, ENOSPC);
}

TEST(fault_fsync)
{
	fault_sweep(FAULT_FSYNC, EIO);
}

TEST(fault_rename)
{
	fault_sweep(FAULT_RENAME, EIO);
}

TEST(fault_db)
{
	fault_sweep(FAULT_DB, EIO);
}

TEST(fault_db_full)
{
	fault_sweep(FAULT_DB, ENOSPC);
}

/* An injected ENOSPC on blob bytes reaches the caller as the spec's 507, EIO as a 500 with a message. */
TEST(fault_errors_map_to_spec_errors)
{
	char *dir, uuid[37];
	struct registry *r = open_tmp(&dir);
	struct upload *u = NULL;
	struct reg_err e;
	struct digest d;

	digest_of(DIGEST_SHA256, "data", 4, &d);
	CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
	fault_set(FAULT_WRITE, 1, ENOSPC);
	CHECK_EQ(registry_upload_write(u, "data", 4, &e), -BERTH_ENOSPC);
	CHECK_EQ(e.code, REG_STORAGE_FULL);
	CHECK_EQ(e.status, 507);
	fault_set(FAULT_WRITE, 1, EIO);
	CHECK_EQ(registry_upload_write(u, "data", 4, &e), -BERTH_EIO);
	CHECK_EQ(e.code, REG_INTERNAL);
	CHECK_EQ(e.status, 500);
	CHECK(e.msg[0] != '\0');
	CHECK_EQ(registry_upload_size(u), 0);
	CHECK_EQ(registry_upload_write(u, "data", 4, &e), 0);
	fault_set(FAULT_FSYNC, 1, EIO);
	CHECK_EQ(registry_upload_finish(r, u, &d, &e), -BERTH_EIO);
	CHECK_EQ(e.status, 500);
	/* the session is kept for a retry, which succeeds */
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_size(u), 4);
	/* the metadata transaction fails after the file is in place: kept for a retry too */
	fault_set(FAULT_DB, 1, EIO);
	CHECK_EQ(registry_upload_finish(r, u, &d, &e), -BERTH_EDB);
	CHECK_EQ(e.status, 500);
	CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), 0);
	CHECK_EQ(registry_upload_finish(r, u, &d, &e), 0);
	check_blob_exact_in(r, "x", &d, "data", 4);
	fault_set(FAULT_DB, 1, ENOSPC);
	{
		struct digest got, sub;
		int has = 0;
		char body[600], ds[DIGEST_STR_MAX];
		snprintf(body, sizeof(body),
			 "{\"schemaVersion\":2,\"mediaType\":\"" MT "\",\"config\":{\"mediaType\":"
			 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":4},\"layers\":[]}",
			 digest_str(&d, ds));
		CHECK_EQ(registry_manifest_put(r, "x", "t", MT, body, strlen(body), &got, &sub, &has, &e),
			 -BERTH_ENOSPC);
		CHECK_EQ(e.status, 507);
		CHECK_EQ(e.code, REG_MANIFEST_INVALID);
		CHECK_EQ(registry_manifest_put(r, "x", "t", MT, body, strlen(body), &got, &sub, &has, &e), 0);
	}
	fault_clear();
	registry_free(r);
	rm_rf(dir);
	free(dir);
}

/* A commit that linked the upload into blobs/ and then failed leaves a session whose file is also the
 * blob's: writing on must not change the blob another repository may have committed meanwhile. */
TEST(session_after_half_commit_does_not_rewrite_the_blob)
{
	for (int restart = 0; restart < 2; restart++) {
		char *dir, uuid[37];
		struct registry *r = open_tmp(&dir);
		struct upload *u = NULL;
		struct reg_err e;
		struct digest abc, abcdef;

		digest_of(DIGEST_SHA256, "abc", 3, &abc);
		digest_of(DIGEST_SHA256, "abcdef", 6, &abcdef);
		CHECK_EQ(registry_upload_start(r, "x", DIGEST_SHA256, 0, uuid, &u, &e), 0);
		CHECK_EQ(registry_upload_write(u, "abc", 3, &e), 0);
		fault_set(FAULT_DB, 1, EIO); /* the file is linked, then the metadata transaction fails */
		CHECK_EQ(registry_upload_finish(r, u, &abc, &e), -BERTH_EDB);
		fault_clear();
		CHECK(blob_file_exists(dir, "abc"));
		/* another repository commits the same bytes: it keeps the file that is there */
		CHECK_EQ(fseq_mono_in(r, "y", "abc", 3, &abc), 0);
		if (restart) {
			registry_free(r);
			r = open_dir(dir, 0);
		}
		/* the client goes on with its session instead of retrying the commit */
		CHECK_EQ(registry_upload_acquire(r, "x", uuid, &u, &e), 0);
		CHECK_EQ(registry_upload_checkpoint(u), 0);
		CHECK_EQ(registry_upload_write(u, "def", 3, &e), 0);
		check_blob_exact_in(r, "y", &abc, "abc", 3);
		registry_upload_rollback(u); /* and a chunk that broke off truncates only its own file */
		CHECK_EQ(registry_upload_size(u), 3);
		check_blob_exact_in(r, "y", &abc, "abc", 3);
		CHECK_EQ(registry_upload_write(u, "def", 3, &e), 0);
		CHECK_EQ(registry_upload_finish(r, u, &abcdef, &e), 0);
		check_blob_exact_in(r, "x", &abcdef, "abcdef", 6);
		check_blob_exact_in(r, "y", &abc, "abc", 3);
		registry_free(r);
		rm_rf(dir);
		free(dir);
	}
}

/* ---- grading: exceptions, the grade of findings, configuration ---- */

TEST(grading_exception_parse_ok_and_hostile)
{
	struct grading_exception e;
	char why[300];
	int32_t d;

	CHECK_EQ(grading_exception_parse("DSA-5000-1 until 2027-01-31: vendor fix pending", &e, why, sizeof why), 0);
	CHECK_STR(e.id, "DSA-5000-1");
	CHECK_EQ(grade_day_parse("2027-01-31", &d), 0);
	CHECK_EQ(e.until_day, d);
	CHECK_STR(e.reason, "vendor fix pending");
	grading_exception_release(&e);
	CHECK_EQ(grading_exception_parse("  CVE-2024-1234   until 2026-02-28", &e, why, sizeof why), 0);
	CHECK_STR(e.id, "CVE-2024-1234");
	CHECK_STR(e.reason, "");
	grading_exception_release(&e);
	static const char *bad[] = {"",
				    "until 2027-01-01: x",
				    "DSA-1 2027-01-01: x",
				    "DSA-1 until 2026-02-29: x",
				    "DSA-1 until 2027-13-01",
				    "DSA-1 until 27-01-01",
				    "DSA-1 until 2027-01-01 x",
				    "DSA-1 untill 2027-01-01",
				    "DSA/1 until 2027-01-01",
				    "DSA-1 until"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		CHECK_EQ(grading_exception_parse(bad[i], &e, why, sizeof why), -BERTH_EINVAL);
		CHECK(why[0] != '\0');
		grading_exception_release(&e);
	}
}

static const char findings2[] =
    "[{\"advisory\":\"RHSA-1\",\"type\":\"security\",\"severity\":\"Critical\",\"issued\":\"2024-01-01T00:00:00Z\","
    "\"cves\":[\"CVE-2024-0001\"],\"package\":\"a\"},"
    "{\"advisory\":\"RHSA-1\",\"type\":\"security\",\"severity\":\"Critical\",\"issued\":\"2024-01-01T00:00:00Z\","
    "\"cves\":[\"CVE-2024-0001\"],\"package\":\"b\"},"
    "{\"advisory\":\"RHSA-2\",\"type\":\"security\",\"severity\":\"Important\",\"issued\":\"2024-01-01T00:00:00Z\","
    "\"cves\":[],\"package\":\"c\"},"
    "{\"advisory\":\"RHSA-3\",\"type\":\"security\",\"severity\":\"Moderate\",\"issued\":\"2020-01-01T00:00:00Z\","
    "\"cves\":[],\"package\":\"d\"},"
    "{\"advisory\":\"RHBA-4\",\"type\":\"bugfix\",\"severity\":\"Critical\",\"issued\":\"2020-01-01T00:00:00Z\","
    "\"cves\":[],\"package\":\"e\"}]";

static char grade_on(const char *findings, const char *date, const struct grading_exception *ex, size_t nex)
{
	struct grade_rules r;
	int32_t day;
	char *out = NULL, l = 0;

	grade_rules_default(&r);
	CHECK_EQ(grade_day_parse(date, &day), 0);
	CHECK_EQ(grading_report(&r, findings, day, ex, nex, &out, &l), 0);
	free(out);
	return l;
}

TEST(grading_report_counts_per_advisory_and_exceptions_expire)
{
	struct grading_exception ex[2] = {{(char *)"CVE-2024-0001", 0, (char *)"vendor"},
					  {(char *)"RHSA-2", 0, (char *)"accepted"}};
	struct grade_rules r;
	char *out = NULL, l = 0;
	int32_t day;

	grade_rules_default(&r);
	CHECK_EQ(grade_day_parse("2024-01-08", &day), 0);
	CHECK_EQ(grading_report(&r, findings2, day, NULL, 0, &out, &l), 0);
	CHECK_EQ(l, 'B'); /* Critical 7 days old: B; Moderate and bugfix never count */
	CHECK(strstr(out, "\"counted\":2,") != NULL);
	CHECK(strstr(out, "\"packages\":[\"a\",\"b\"]") != NULL);
	CHECK(strstr(out, "\"next_drop_date\":\"2024-01-09\"") != NULL);
	free(out);
	CHECK_EQ(grade_on(findings2, "2024-01-09", NULL, 0), 'C');
	/* the CVE exception removes RHSA-1 until its expiry day inclusive, then it counts again */
	CHECK_EQ(grade_day_parse("2024-03-01", &ex[0].until_day), 0);
	CHECK_EQ(grade_day_parse("2024-01-31", &ex[1].until_day), 0);
	CHECK_EQ(grade_on(findings2, "2024-01-31", ex, 2), 'A');
	CHECK_EQ(grade_on(findings2, "2024-02-01", ex, 2), 'C'); /* RHSA-2 back, 31 days Important */
	CHECK_EQ(grade_on(findings2, "2024-03-01", ex, 1), 'C');
	CHECK_EQ(grade_on(findings2, "2024-03-02", ex, 1), 'D'); /* RHSA-1 back: 61 days Critical */
	CHECK_EQ(grade_on(NULL, "2024-03-02", NULL, 0), 'A');
	CHECK_EQ(grade_on("[]", "2024-03-02", NULL, 0), 'A');
	CHECK_EQ(grading_report(&r, "{\"a\":1}", day, NULL, 0, &out, &l), -BERTH_EINVAL);
	CHECK(out == NULL);
	CHECK_EQ(grading_report(&r, "[not json", day, NULL, 0, &out, &l), -BERTH_EINVAL);
	/* findings with odd members grade without crashing: no id skipped, bad date counts from the day */
	CHECK_EQ(
	    grade_on("[{\"type\":\"security\"},{\"advisory\":\"X\",\"type\":\"security\",\"severity\":\"Critical\","
		     "\"issued\":\"garbage-date\"},{\"advisory\":7}]",
		     "2024-01-01", NULL, 0),
	    'B');
}

static int load_cfg(const char *const *kv, size_t n, struct grading **g, char *why, size_t whyn)
{
	struct config c;
	int rc;

	config_init(&c);
	for (size_t i = 0; i + 1 < n; i += 2)
		config_set(&c, kv[i], kv[i + 1]);
	rc = grading_load(&c, g, why, whyn);
	config_release(&c);
	return rc;
}

TEST(grading_config_good_and_hostile)
{
	static const char *good[] = {"grade.critical_days",
				     "1,2,3,4",
				     "grade.unknown_severity",
				     "ignore",
				     "policy.grades.prod.repositories",
				     "prod/*\nteam/?*",
				     "policy.grades.prod.min_grade",
				     "d",
				     "policy.grades.prod.exceptions",
				     "DSA-1-1 until 2030-01-01: x\nCVE-2024-1 until 2030-01-01: y"};
	static const char *bad[][2] = {
	    {"grade.critical_days", "7,30,90"},     {"grade.important_days", "30,20,365,365"},
	    {"grade.unknown_severity", "high"},     {"policy.grades.p.min_grade", "G"},
	    {"policy.grades.p.min_grade", "AB"},    {"policy.grades.p.exceptions", "DSA-1 until 2030-02-30: x"},
	    {"policy.grades.p.unscanned", "maybe"}, {"policy.grades.p.colour", "red"},
	};
	struct grading *g = NULL;
	char why[300];

	CHECK_EQ(load_cfg(good, 10, &g, why, sizeof why), 0);
	CHECK_EQ(grading_rules(g)->crit[3], 4);
	CHECK_EQ(grading_rules(g)->unknown, GRADE_UNKNOWN_IGNORE);
	CHECK_EQ(grading_rule_count(g), 1);
	grading_free(g);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *kv[6] = {
		    bad[i][0], bad[i][1], "policy.grades.p.repositories", "x/*", "policy.grades.p.min_grade", "E"};
		size_t n = strncmp(bad[i][0], "policy.grades.p.min_grade", 25) == 0 ? 4 : 6;
		g = NULL;
		why[0] = '\0';
		CHECK_EQ(load_cfg(kv, n, &g, why, sizeof why), -BERTH_EINVAL);
		CHECK(g == NULL);
		CHECK(why[0] != '\0');
	}
	/* a rule with no repositories */
	{
		const char *kv[] = {"policy.grades.q.min_grade", "E"};
		CHECK_EQ(load_cfg(kv, 2, &g, why, sizeof why), -BERTH_EINVAL);
		CHECK(strstr(why, "repositories") != NULL);
	}
}

/* ---- scanner_image_local: layers from a source that may stream and check at the end ---- */

/* A Debian 11 layer with one dpkg package. */
static void debian_tar(struct tm_buf *b)
{
	static const char osr[] = "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n";
	static const char st[] = "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
				 "Version: 1.1.1k-1+deb11u2\n\n";
	struct tm_ent e1 = {.name = "etc/os-release", .data = osr, .size = sizeof(osr) - 1};
	struct tm_ent e2 = {.name = "var/lib/dpkg/status", .data = st, .size = sizeof(st) - 1};

	tm_add(b, &e1);
	tm_add(b, &e2);
	tm_end(b);
}

/* Each layer is a pipe fed by a thread that writes bytes then pad zero bytes past the tar's end
 * (more than a pipe holds) and records how much it wrote; done() joins it, as a registry stream's
 * check would, and fails when told to. */
struct feeder {
	pthread_t th;
	int wfd;
	const unsigned char *p;
	size_t n, pad, written;
};

struct src {
	struct tm_buf tar[2];
	size_t pad;
	struct feeder f[2];
	int opened[2], done_calls[2];
	int fail_open, fail_done; /* layer index + 1 */
	int bad_tar; /* layer index + 1 whose bytes are garbage */
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	static const unsigned char z[4096];
	size_t pad = f->pad;
	ssize_t k;

	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < f->n; off += (size_t)k) {
		k = write(f->wfd, f->p + off, f->n - off);
		if (k <= 0)
			goto out;
		f->written += (size_t)k;
	}
	while (pad) {
		k = write(f->wfd, z, pad < sizeof z ? pad : sizeof z);
		if (k <= 0)
			goto out;
		f->written += (size_t)k;
		pad -= (size_t)k;
	}
out:
	close(f->wfd);
	return NULL;
}

static int src_open(void *ctx, size_t i, int *fd, char *why, size_t whyn)
{
	struct src *s = ctx;
	int fds[2];

	s->opened[i]++;
	if (s->fail_open == (int)i + 1) {
		snprintf(why, whyn, "layer %zu: registry said no", i);
		return -BERTH_ENOENT;
	}
	CHECK_EQ(pipe(fds), 0);
	s->f[i].wfd = fds[1];
	s->f[i].p = s->tar[i].p;
	s->f[i].n = s->tar[i].len;
	s->f[i].pad = s->pad;
	CHECK_EQ(pthread_create(&s->f[i].th, NULL, feed, &s->f[i]), 0);
	*fd = fds[0];
	return 0;
}

static int src_done(void *ctx, size_t i, char *why, size_t whyn)
{
	struct src *s = ctx;

	s->done_calls[i]++;
	pthread_join(s->f[i].th, NULL);
	if (s->f[i].written != s->f[i].n + s->f[i].pad) {
		snprintf(why, whyn, "layer %zu: the reader stopped after %zu bytes", i, s->f[i].written);
		return -BERTH_EIO;
	}
	if (s->fail_done == (int)i + 1) {
		snprintf(why, whyn, "digest mismatch: layer %zu", i);
		return -BERTH_EDIGEST;
	}
	return 0;
}

static void src_setup(struct src *s)
{
	memset(s, 0, sizeof *s);
	debian_tar(&s->tar[0]);
	{
		static const char f[] = "hello";
		struct tm_ent e = {.name = "usr/share/doc/hello", .data = f, .size = 5};
		tm_add(&s->tar[1], &e);
		tm_end(&s->tar[1]);
	}
	s->pad = 300000; /* more than a pipe's buffer: the reader must drain it */
}

static int run_src(struct src *s, struct scan_image *im, char *why, size_t whyn)
{
	static const char *const digests[] = {"sha256:aa", "sha256:bb"};
	struct scanner_layers l = {.n = 2, .digests = digests, .open = src_open, .done = src_done, .ctx = s};
	struct scanner_opts o = {0};

	if (s->bad_tar) {
		struct tm_buf *t = &s->tar[s->bad_tar - 1];
		memset(t->p, 'x', t->len);
	}
	return scanner_image_local(&l, &o, im, why, whyn);
}

static void src_free(struct src *s)
{
	free(s->tar[0].p);
	free(s->tar[1].p);
}

TEST(scanner_local_pipes_are_read_to_their_end)
{
	struct src s;
	struct scan_image im;
	char why[256] = "";

	src_setup(&s);
	CHECK_EQ(run_src(&s, &im, why, sizeof why), 0);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_STR(im.os.release, "debian:11");
	CHECK_EQ(im.pkgs.n, 1);
	CHECK_STR(im.pkgs.v[0].name, "openssl");
	CHECK_EQ(im.layer[0], 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(s.opened[i], 1);
		CHECK_EQ(s.done_calls[i], 1);
		CHECK_EQ(s.f[i].written, s.tar[i].len + s.pad);
	}
	scan_image_release(&im);
	src_free(&s);
}

TEST(scanner_local_source_verdict_wins)
{
	struct src s;
	struct scan_image im;
	char why[256] = "";

	/* the bytes index fine, but the source says they were not the digest's: no report at all */
	src_setup(&s);
	s.fail_done = 2;
	CHECK_EQ(run_src(&s, &im, why, sizeof why), -BERTH_EDIGEST);
	CHECK_STR(why, "digest mismatch: layer 1");
	CHECK_EQ(im.pkgs.n, 0);
	src_free(&s);

	/* garbage that the indexer refuses, and the source also fails: the source's error is told */
	src_setup(&s);
	s.bad_tar = 1;
	s.fail_done = 1;
	CHECK_EQ(run_src(&s, &im, why, sizeof why), -BERTH_EDIGEST);
	CHECK_STR(why, "digest mismatch: layer 0");
	CHECK_EQ(s.opened[1], 0);
	src_free(&s);

	/* garbage from a source that vouches for it: a FAILED image, the rest drained, later layers unread */
	src_setup(&s);
	s.bad_tar = 1;
	CHECK_EQ(run_src(&s, &im, why, sizeof why), 0);
	CHECK_EQ(im.status, SCAN_FAILED);
	CHECK(strncmp(im.why, "layer 0: ", 9) == 0);
	CHECK_EQ(s.done_calls[0], 1);
	CHECK_EQ(s.f[0].written, s.tar[0].len + s.pad);
	CHECK_EQ(s.opened[1], 0);
	scan_image_release(&im);
	src_free(&s);

	/* a source that cannot open a layer stops the scan with its reason */
	src_setup(&s);
	s.fail_open = 2;
	CHECK_EQ(run_src(&s, &im, why, sizeof why), -BERTH_ENOENT);
	CHECK_STR(why, "layer 1: registry said no");
	CHECK_EQ(s.done_calls[0], 1);
	CHECK_EQ(s.done_calls[1], 0);
	src_free(&s);
}

static const struct test tests[] = {
    T(scanner_local_pipes_are_read_to_their_end),
    T(scanner_local_source_verdict_wins),
    T(grading_exception_parse_ok_and_hostile),
    T(grading_report_counts_per_advisory_and_exceptions_expire),
    T(grading_config_good_and_hostile),
    T(upload_sweep_expires_only_idle_sessions),
    T(upload_sweep_after_restart_uses_file_age),
    T(upload_ttl_zero_never_expires),
    T(upload_sweep_races_requests),
    T(name_grammar),
    T(tag_grammar),
    T(chunked_upload_rollback_and_commit),
    T(upload_survives_reopen),
    T(orphan_upload_files_swept_on_open),
    T(digest_mismatch_stores_nothing),
    T(sha512_upload),
    T(manifest_rules),
    T(gc_removes_only_unshared_blobs),
    T(gc_delete_untagged),
    T(gc_orphan_files_after_grace),
    T(gc_json_lines),
    T(gc_races_pushes),
    T(fault_write),
    T(fault_fsync),
    T(fault_rename),
    T(fault_db),
    T(fault_db_full),
    T(fault_errors_map_to_spec_errors),
    T(session_after_half_commit_does_not_rewrite_the_blob),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
