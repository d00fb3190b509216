/* Unit tests for registry/: the spec's grammar and upload/manifest rules without HTTP. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "registry/registry.h"
#include "harness.h"

static struct registry *open_tmp(char **dir)
{
	struct registry_opts o = {0};
	struct registry *r = NULL;
	char why[256];

	*dir = xstrdup("/tmp/berth-reg-XXXXXX");
	if (!mkdtemp(*dir))
		abort();
	o.data_dir = *dir;
	o.delete_enabled = 1;
	if (registry_open(&o, &r, why, sizeof(why)) < 0)
		abort();
	return r;
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

/* 1 when <dir>/uploads/<uuid> exists. */
static int upload_file_exists(const char *dir, const char *uuid)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/uploads/%s", dir, uuid);
	return access(p, F_OK) == 0;
}

TEST(duration_grammar)
{
	int64_t ms = -1;

	CHECK_EQ(registry_duration_parse("30s", &ms), 0);
	CHECK_EQ(ms, 30000);
	CHECK_EQ(registry_duration_parse("15m", &ms), 0);
	CHECK_EQ(ms, 900000);
	CHECK_EQ(registry_duration_parse("24h", &ms), 0);
	CHECK_EQ(ms, 86400000);
	CHECK_EQ(registry_duration_parse("250ms", &ms), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(registry_duration_parse("2d", &ms), 0);
	CHECK_EQ(ms, 172800000);
	CHECK_EQ(registry_duration_parse("0", &ms), 0);
	CHECK_EQ(ms, 0);
	CHECK_EQ(registry_duration_parse("0s", &ms), 0);
	CHECK_EQ(ms, 0);
	ms = 7;
	CHECK_EQ(registry_duration_parse("", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("30", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("-1s", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("1.5h", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse(" 1s", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("1s ", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("1hh", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("h", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("1H", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("99999999999999999999s", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse("9223372036854775807d", &ms), -BERTH_EINVAL);
	CHECK_EQ(registry_duration_parse(NULL, &ms), -BERTH_EINVAL);
	CHECK_EQ(ms, 7);
}

TEST(upload_sweep_expires_only_idle_sessions)
{
	char *dir, idle[37], touched[37], held[37], repo[64];
	struct registry *r = open_tmp(&dir), *r2 = NULL;
	struct registry_sweep_stats st;
	struct upload *u = NULL, *h = NULL;
	struct reg_err e;

	registry_free(r);
	r2 = open_dir(dir, 400);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, idle, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "abc", 3, &e), 0);
	registry_upload_release(r2, u);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, touched, &u, &e), 0);
	registry_upload_release(r2, u);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, held, &h, &e), 0);
	/* nothing is idle for the TTL yet */
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 0);
	sleep_ms(250);
	CHECK_EQ(registry_upload_acquire(r2, "x", touched, &u, &e), 0);
	CHECK_EQ(registry_upload_write(u, "12", 2, &e), 0);
	registry_upload_release(r2, u);
	sleep_ms(250);
	/* idle: 500 ms; touched: 250 ms; held: in use by a request the whole time */
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
	sleep_ms(450);
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 2);
	CHECK_EQ(registry_upload_acquire(r2, "x", held, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_acquire(r2, "x", touched, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(upload_file_exists(dir, held), 0);
	registry_free(r2);
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
	sleep_ms(600);
	r2 = open_dir(dir, 500);
	/* at open: the orphan goes at once, the old session (not in memory, file 600 ms old) too */
	CHECK_EQ(upload_file_exists(dir, orphan), 0);
	CHECK_EQ(upload_file_exists(dir, old), 0);
	CHECK_EQ(meta_upload_get(registry_meta(r2), old, repo, sizeof(repo)), -BERTH_ENOENT);
	CHECK_EQ(registry_upload_start(r2, "x", DIGEST_SHA256, 0, fresh, &u, &e), 0);
	registry_upload_release(r2, u);
	registry_free(r2);
	r2 = open_dir(dir, 500);
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 0);
	sleep_ms(600);
	/* not in memory in this process: its file's age decides */
	CHECK_EQ(registry_upload_sweep(r2, &st), 0);
	CHECK_EQ(st.sessions, 1);
	CHECK_EQ(registry_upload_acquire(r2, "x", fresh, &u, &e), -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_BLOB_UPLOAD_UNKNOWN);
	CHECK_EQ(upload_file_exists(dir, fresh), 0);
	registry_free(r2);
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
	snprintf(body, sizeof(body),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":2},"
		 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":18}]}",
		 digest_str(&cfg, cs), digest_str(&layer, ds));
	CHECK_EQ(registry_manifest_put(r, "x", "v1", "application/vnd.oci.image.manifest.v1+json", body, strlen(body), &got, &sub, &has_sub, &e),
		 -BERTH_ENOENT);
	CHECK_EQ(e.code, REG_MANIFEST_BLOB_UNKNOWN);
	CHECK_STR(e.detail, ds);
	CHECK_EQ(push_blob(r, "x", "layer-never-pushed", &layer), 0);
	CHECK_EQ(registry_manifest_put(r, "x", "BAD/TAG", "application/vnd.oci.image.manifest.v1+json", body, strlen(body), &got, &sub, &has_sub, &e),
		 -BERTH_EINVAL);
	CHECK_EQ(registry_manifest_put(r, "x", "sha256:0000000000000000000000000000000000000000000000000000000000000000",
				       MT, body, strlen(body), &got, &sub, &has_sub, &e),
		 -BERTH_EDIGEST);
	CHECK_EQ(e.code, REG_DIGEST_INVALID);
	CHECK_EQ(registry_manifest_put(r, "x", "v1", "application/vnd.oci.image.manifest.v1+json", body, strlen(body), &got, &sub, &has_sub, &e), 0);
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

static const struct test tests[] = {
	T(duration_grammar),
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
	{0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
