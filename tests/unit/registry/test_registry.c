/* Unit tests for registry/: the spec's grammar and upload/manifest rules without HTTP. */
#include <stdlib.h>
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
