/* Unit tests for meta (SQLite backend): each test opens a fresh database in its own temp directory. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/err.h"
#include "harness.h"
#include "meta/meta.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"

/* A temp directory holding one database file. */
struct tdb {
	char dir[64];
	char path[128];
	char uri[160];
};

/* Makes a fresh temp directory and the database path inside it. */
static void tdb_init(struct tdb *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/berth-meta-XXXXXX");
	CHECK(mkdtemp(t->dir) != NULL);
	snprintf(t->path, sizeof(t->path), "%s/meta.db", t->dir);
	snprintf(t->uri, sizeof(t->uri), "sqlite:%s", t->path);
}

/* Removes the database, its WAL files and the directory. */
static void tdb_cleanup(struct tdb *t)
{
	char p[192];
	const char *sfx[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/* Opens the test database, failing the test on error. */
static struct meta *tdb_open(struct tdb *t)
{
	struct meta *m = NULL;

	CHECK_EQ(meta_open(t->uri, &m), 0);
	CHECK(m != NULL);
	return m;
}

/* The sha256 digest of a string. */
static struct digest dig(const char *s)
{
	struct digest d;

	digest_of(DIGEST_SHA256, s, strlen(s), &d);
	return d;
}

/* A manifest_in for body with the given blobs, children and tag (no subject). */
static struct meta_manifest_in mf_in(const char *repo, const struct digest *d, const char *body,
				     const struct digest *blobs, size_t nblobs, const struct digest *kids, size_t nkids,
				     const char *tag)
{
	struct meta_manifest_in in = {0};

	in.repo = repo;
	in.digest = d;
	in.media_type = kids ? MT_INDEX : MT_MANIFEST;
	in.body = body;
	in.len = strlen(body);
	in.blobs = blobs;
	in.nblobs = nblobs;
	in.manifests = kids;
	in.nmanifests = nkids;
	in.tag = tag;
	return in;
}

/* Puts a plain manifest of one (linked) blob under tag; fails the test on error. */
static struct digest put_simple(struct meta *m, const char *repo, const char *body, const char *tag)
{
	struct digest d = dig(body), blob = dig("config");
	struct meta_manifest_in in = mf_in(repo, &d, body, &blob, 1, NULL, 0, tag);

	CHECK_EQ(meta_blob_link(m, repo, &blob, 6), 0);
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	return d;
}

/* Checks that tag in repo resolves to want. */
static void check_tag(struct meta *m, const char *repo, const char *tag, const struct digest *want)
{
	struct meta_manifest mf;

	CHECK_EQ(meta_manifest_get_by_tag(m, repo, tag, 0, &mf), 0);
	CHECK(digest_eq(&mf.digest, want));
	CHECK(mf.body == NULL);
}

/* Checks that l holds exactly the names of want (NULL-terminated), in order. */
static void check_names(const struct meta_names *l, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	CHECK_EQ(l->n, n);
	for (size_t i = 0; i < n; i++)
		CHECK_STR(l->v[i], want[i]);
}

TEST(open_uri_forms)
{
	struct tdb t;
	struct meta *m = NULL;

	tdb_init(&t);
	CHECK_EQ(meta_open(t.uri, &m), 0);
	meta_free(m);
	m = NULL;
	CHECK_EQ(meta_open(t.path, &m), 0); /* a bare path */
	meta_free(m);
	m = NULL;
	CHECK_EQ(meta_open("postgres://user@localhost/berth", &m), -BERTH_EUNSUPPORTED);
	CHECK(m == NULL);
	CHECK_EQ(meta_open("postgresql:dbname=berth", &m), -BERTH_EUNSUPPORTED);
	CHECK_EQ(meta_open("", &m), -BERTH_EINVAL);
	CHECK_EQ(meta_open("sqlite:", &m), -BERTH_EINVAL);
	CHECK_EQ(meta_open("sqlite:/nonexistent-dir-berth/x/meta.db", &m), -BERTH_EDB);
	CHECK(m == NULL);
	meta_free(NULL);
	tdb_cleanup(&t);
}

TEST(reopen_keeps_data)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest blob = dig("layer"), d;
	uint64_t size = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_blob_link(m, "lib/a", &blob, 42), 0);
	d = put_simple(m, "lib/a", "{\"m\":1}", "v1");
	meta_free(m);

	m = tdb_open(&t);
	CHECK_EQ(meta_repo_exists(m, "lib/a"), 1);
	CHECK_EQ(meta_blob_get(m, "lib/a", &blob, &size), 0);
	CHECK_EQ(size, 42);
	check_tag(m, "lib/a", "v1", &d);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(newer_schema_refused)
{
	struct tdb t;
	struct meta *m = NULL;
	sqlite3 *db = NULL;

	tdb_init(&t);
	m = tdb_open(&t);
	meta_free(m);
	m = NULL;
	CHECK_EQ(sqlite3_open(t.path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(meta_open(t.uri, &m), -BERTH_EDB);
	CHECK(m == NULL);
	tdb_cleanup(&t);
}

TEST(blob_link_get_unlink)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a = dig("a"), b = dig("b");
	uint64_t size = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_repo_exists(m, "r"), 0);
	CHECK_EQ(meta_blob_get(m, "r", &a, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_referenced(m, &a), 0);
	CHECK_EQ(meta_blob_link(m, "r", &a, 100), 0);
	CHECK_EQ(meta_repo_exists(m, "r"), 1);
	CHECK_EQ(meta_blob_link(m, "r", &a, 100), 0); /* idempotent */
	CHECK_EQ(meta_blob_get(m, "r", &a, &size), 0);
	CHECK_EQ(size, 100);
	CHECK_EQ(meta_blob_get(m, "r", &b, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_get(m, "other", &a, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_referenced(m, &a), 1);
	CHECK_EQ(meta_blob_link(m, "r2", &a, 100), 0);
	CHECK_EQ(meta_blob_unlink(m, "r", &a), 0);
	CHECK_EQ(meta_blob_unlink(m, "r", &a), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_get(m, "r", &a, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_referenced(m, &a), 1); /* still linked from r2 */
	CHECK_EQ(meta_blob_unlink(m, "r2", &a), 0);
	CHECK_EQ(meta_blob_referenced(m, &a), 0);
	CHECK_EQ(meta_blob_unlink(m, "nope", &a), -BERTH_ENOENT);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(blob_referenced_by_manifest)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest cfg = dig("config"), d;

	tdb_init(&t);
	m = tdb_open(&t);
	d = put_simple(m, "r", "{\"x\":1}", NULL);
	CHECK_EQ(meta_blob_referenced(m, &d), 1); /* a manifest is d */
	CHECK_EQ(meta_blob_unlink(m, "r", &cfg), 0);
	CHECK_EQ(meta_blob_referenced(m, &cfg), 1); /* the manifest still uses it */
	CHECK_EQ(meta_manifest_delete(m, "r", &d), 0);
	CHECK_EQ(meta_blob_referenced(m, &cfg), 0);
	CHECK_EQ(meta_blob_referenced(m, &d), 0);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(put_missing_blob_writes_nothing)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest blobs[3] = {dig("cfg"), dig("l1"), dig("l2")}, d = dig("{}"), missing = {0};
	struct meta_manifest_in in = mf_in("fresh", &d, "{}", blobs, 3, NULL, 0, "latest");
	struct meta_manifest mf;
	int is_mf = -1;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_manifest_put(m, &in, &missing, &is_mf), -BERTH_ENOENT);
	CHECK(digest_eq(&missing, &blobs[0]));
	CHECK_EQ(is_mf, 0);
	CHECK_EQ(meta_repo_exists(m, "fresh"), 0); /* not even the repository */

	CHECK_EQ(meta_blob_link(m, "fresh", &blobs[0], 1), 0);
	CHECK_EQ(meta_blob_link(m, "fresh", &blobs[2], 1), 0);
	CHECK_EQ(meta_blob_link(m, "elsewhere", &blobs[1], 1), 0); /* another repo's link does not count */
	CHECK_EQ(meta_manifest_put(m, &in, &missing, &is_mf), -BERTH_ENOENT);
	CHECK(digest_eq(&missing, &blobs[1]));
	CHECK_EQ(is_mf, 0);
	CHECK_EQ(meta_manifest_get(m, "fresh", &d, 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get_by_tag(m, "fresh", "latest", 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_referenced(m, &d), 0);
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), -BERTH_ENOENT); /* NULL outputs are fine */

	CHECK_EQ(meta_blob_link(m, "fresh", &blobs[1], 1), 0);
	CHECK_EQ(meta_manifest_put(m, &in, &missing, &is_mf), 0);
	check_tag(m, "fresh", "latest", &d);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(put_missing_child_manifest)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest c1, c2 = dig("child-2"), idx = dig("index"), missing = {0};
	struct digest kids[2];
	struct meta_manifest_in in;
	struct meta_manifest mf;
	struct meta_names l = {0};
	int is_mf = -1, more = -1;

	tdb_init(&t);
	m = tdb_open(&t);
	c1 = put_simple(m, "r", "child-1", NULL);
	put_simple(m, "other", "child-2", NULL); /* c2 exists, but in another repository */
	kids[0] = c1;
	kids[1] = c2;
	in = mf_in("r", &idx, "index", NULL, 0, kids, 2, "multi");
	CHECK_EQ(meta_manifest_put(m, &in, &missing, &is_mf), -BERTH_ENOENT);
	CHECK(digest_eq(&missing, &c2));
	CHECK_EQ(is_mf, 1);
	CHECK_EQ(meta_manifest_get(m, "r", &idx, 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_tags_list(m, "r", NULL, -1, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	meta_names_release(&l);

	put_simple(m, "r", "child-2", NULL);
	CHECK_EQ(meta_manifest_put(m, &in, &missing, &is_mf), 0);
	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "multi", 0, &mf), 0);
	CHECK(digest_eq(&mf.digest, &idx));
	CHECK_STR(mf.media_type, MT_INDEX);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(put_idempotent)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d;
	struct meta_manifest mf;
	struct meta_names l = {0};
	int more = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	d = put_simple(m, "r", "{\"same\":true}", "a");
	d = put_simple(m, "r", "{\"same\":true}", "a");
	d = put_simple(m, "r", "{\"same\":true}", "b");
	d = put_simple(m, "r", "{\"same\":true}", NULL);
	CHECK_EQ(meta_manifest_get(m, "r", &d, 1, &mf), 0);
	CHECK_EQ(mf.size, strlen("{\"same\":true}"));
	CHECK_MEM(mf.body, "{\"same\":true}", mf.size);
	meta_manifest_release(&mf);
	CHECK_EQ(meta_tags_list(m, "r", NULL, -1, &l, &more), 0);
	check_names(&l, (const char *const[]){"a", "b", NULL});
	meta_names_release(&l);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(tag_move)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d1, d2;
	struct meta_manifest mf;

	tdb_init(&t);
	m = tdb_open(&t);
	d1 = put_simple(m, "r", "one", "latest");
	check_tag(m, "r", "latest", &d1);
	d2 = put_simple(m, "r", "two", "latest");
	check_tag(m, "r", "latest", &d2);
	CHECK_EQ(meta_manifest_get(m, "r", &d1, 0, &mf), 0); /* the old manifest stays, untagged */
	put_simple(m, "r", "one", "latest");
	check_tag(m, "r", "latest", &d1);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(get_exact_body)
{
	static const char body[] = "{\"a\":1}\0binary\xff\x00tail";
	struct tdb t;
	struct meta *m = NULL;
	struct digest d, cfg = dig("config");
	struct meta_manifest_in in;
	struct meta_manifest mf;

	tdb_init(&t);
	m = tdb_open(&t);
	digest_of(DIGEST_SHA256, body, sizeof(body), &d);
	in = mf_in("r", &d, "", &cfg, 1, NULL, 0, "t");
	in.body = body;
	in.len = sizeof(body);
	in.media_type = "application/vnd.docker.distribution.manifest.v2+json";
	CHECK_EQ(meta_blob_link(m, "r", &cfg, 1), 0);
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);

	CHECK_EQ(meta_manifest_get(m, "r", &d, 1, &mf), 0);
	CHECK(digest_eq(&mf.digest, &d));
	CHECK_EQ(mf.size, sizeof(body));
	CHECK(mf.body != NULL);
	CHECK_MEM(mf.body, body, sizeof(body));
	CHECK_STR(mf.media_type, "application/vnd.docker.distribution.manifest.v2+json");
	meta_manifest_release(&mf);
	CHECK(mf.body == NULL);

	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "t", 1, &mf), 0);
	CHECK(digest_eq(&mf.digest, &d));
	CHECK_EQ(mf.size, sizeof(body));
	CHECK_MEM(mf.body, body, sizeof(body));
	meta_manifest_release(&mf);

	CHECK_EQ(meta_manifest_get(m, "r", &d, 0, &mf), 0);
	CHECK(mf.body == NULL);
	CHECK_EQ(mf.size, sizeof(body));
	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "nope", 1, &mf), -BERTH_ENOENT);
	CHECK(mf.body == NULL);
	CHECK_EQ(meta_manifest_get(m, "other", &d, 1, &mf), -BERTH_ENOENT);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(delete_manifest_removes_tags)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d1, d2, sig = dig("signature"), cfg = dig("config");
	struct meta_manifest_in in;
	struct meta_manifest mf;
	struct meta_names l = {0};
	struct meta_desc *v = NULL;
	size_t n = 0;
	int more = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	d1 = put_simple(m, "r", "one", "a");
	put_simple(m, "r", "one", "b");
	d2 = put_simple(m, "r", "two", "c");
	in = mf_in("r", &sig, "signature", &cfg, 1, NULL, 0, NULL);
	in.subject = &d1;
	in.artifact_type = "application/vnd.example.sig";
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);

	CHECK_EQ(meta_manifest_delete(m, "r", &d1), 0);
	CHECK_EQ(meta_manifest_delete(m, "r", &d1), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get(m, "r", &d1, 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "a", 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "b", 0, &mf), -BERTH_ENOENT);
	check_tag(m, "r", "c", &d2);
	CHECK_EQ(meta_tags_list(m, "r", NULL, -1, &l, &more), 0);
	check_names(&l, (const char *const[]){"c", NULL});
	meta_names_release(&l);
	/* the referrer of the deleted manifest is untouched */
	CHECK_EQ(meta_referrers(m, "r", &d1, NULL, &v, &n), 0);
	CHECK_EQ(n, 1);
	CHECK(digest_eq(&v[0].digest, &sig));
	meta_descs_free(v, n);
	CHECK_EQ(meta_manifest_get(m, "r", &sig, 0, &mf), 0);
	CHECK_EQ(meta_manifest_delete(m, "nope", &d2), -BERTH_ENOENT);
	/* a re-put after delete works and can be tagged again */
	put_simple(m, "r", "one", "a");
	check_tag(m, "r", "a", &d1);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(tag_delete)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d;
	struct meta_manifest mf;

	tdb_init(&t);
	m = tdb_open(&t);
	d = put_simple(m, "r", "one", "a");
	put_simple(m, "r", "one", "b");
	CHECK_EQ(meta_tag_delete(m, "r", "a"), 0);
	CHECK_EQ(meta_tag_delete(m, "r", "a"), -BERTH_ENOENT);
	CHECK_EQ(meta_tag_delete(m, "nope", "a"), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get_by_tag(m, "r", "a", 0, &mf), -BERTH_ENOENT);
	check_tag(m, "r", "b", &d);
	CHECK_EQ(meta_manifest_get(m, "r", &d, 0, &mf), 0);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(tags_list_order_and_paging)
{
	static const char *const all[] = {"A", "B", "Z", "_x", "a", "a-b", "a.b", "b", "latest", "v1.0", NULL};
	static const char *const put_order[] = {"latest", "b", "a-b", "Z", "a", "v1.0", "A", "_x", "a.b", "B"};
	struct tdb t;
	struct meta *m = NULL;
	struct meta_names l = {0};
	int more = -1;

	tdb_init(&t);
	m = tdb_open(&t);
	for (size_t i = 0; i < sizeof(put_order) / sizeof(put_order[0]); i++)
		put_simple(m, "r", put_order[i], put_order[i]);

	CHECK_EQ(meta_tags_list(m, "r", NULL, -1, &l, &more), 0);
	check_names(&l, all);
	CHECK_EQ(more, 0);
	meta_names_release(&l);
	CHECK(l.v == NULL && l.n == 0);

	CHECK_EQ(meta_tags_list(m, "r", NULL, 3, &l, &more), 0);
	check_names(&l, (const char *const[]){"A", "B", "Z", NULL});
	CHECK_EQ(more, 1);
	meta_names_release(&l);

	CHECK_EQ(meta_tags_list(m, "r", "Z", 3, &l, &more), 0);
	check_names(&l, (const char *const[]){"_x", "a", "a-b", NULL});
	CHECK_EQ(more, 1);
	meta_names_release(&l);

	CHECK_EQ(meta_tags_list(m, "r", "a-b", 3, &l, &more), 0);
	check_names(&l, (const char *const[]){"a.b", "b", "latest", NULL});
	CHECK_EQ(more, 1);
	meta_names_release(&l);

	/* exactly the rest: more is 0 */
	CHECK_EQ(meta_tags_list(m, "r", "latest", 1, &l, &more), 0);
	check_names(&l, (const char *const[]){"v1.0", NULL});
	CHECK_EQ(more, 0);
	meta_names_release(&l);

	CHECK_EQ(meta_tags_list(m, "r", "v1.0", 5, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(more, 0);
	meta_names_release(&l);

	/* `last` need not be an existing tag */
	CHECK_EQ(meta_tags_list(m, "r", "a-", -1, &l, &more), 0);
	check_names(&l, (const char *const[]){"a-b", "a.b", "b", "latest", "v1.0", NULL});
	meta_names_release(&l);

	CHECK_EQ(meta_tags_list(m, "r", NULL, 0, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(more, 1);
	meta_names_release(&l);

	CHECK_EQ(meta_tags_list(m, "r", NULL, 10, &l, &more), 0);
	check_names(&l, all);
	CHECK_EQ(more, 0);
	meta_names_release(&l);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(tags_list_unknown_and_empty_repo)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_names l = {0};
	struct digest cfg = dig("config");
	int more = -1;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_tags_list(m, "nope", NULL, -1, &l, &more), -BERTH_ENOENT);
	CHECK_EQ(l.n, 0);
	CHECK(l.v == NULL);
	CHECK_EQ(meta_blob_link(m, "empty", &cfg, 1), 0);
	CHECK_EQ(meta_tags_list(m, "empty", NULL, -1, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(more, 0);
	meta_names_release(&l);
	put_simple(m, "untagged", "by-digest", NULL);
	CHECK_EQ(meta_tags_list(m, "untagged", NULL, 5, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	meta_names_release(&l);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(catalog_paging)
{
	static const char *const repos[] = {"b/x", "a", "a-b", "A", "a/b", "c"};
	struct tdb t;
	struct meta *m = NULL;
	struct meta_names l = {0};
	struct digest cfg = dig("config");
	int more = -1;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_catalog(m, NULL, -1, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(more, 0);
	meta_names_release(&l);

	CHECK_EQ(meta_blob_link(m, repos[0], &cfg, 1), 0);
	put_simple(m, repos[1], "m", "t");
	CHECK_EQ(meta_upload_put(m, "uuid-1", repos[2]), 0);
	for (size_t i = 3; i < sizeof(repos) / sizeof(repos[0]); i++)
		CHECK_EQ(meta_blob_link(m, repos[i], &cfg, 1), 0);

	CHECK_EQ(meta_catalog(m, NULL, -1, &l, &more), 0);
	check_names(&l, (const char *const[]){"A", "a", "a-b", "a/b", "b/x", "c", NULL});
	CHECK_EQ(more, 0);
	meta_names_release(&l);

	CHECK_EQ(meta_catalog(m, NULL, 2, &l, &more), 0);
	check_names(&l, (const char *const[]){"A", "a", NULL});
	CHECK_EQ(more, 1);
	meta_names_release(&l);
	CHECK_EQ(meta_catalog(m, "a", 2, &l, &more), 0);
	check_names(&l, (const char *const[]){"a-b", "a/b", NULL});
	CHECK_EQ(more, 1);
	meta_names_release(&l);
	CHECK_EQ(meta_catalog(m, "a/b", 2, &l, &more), 0);
	check_names(&l, (const char *const[]){"b/x", "c", NULL});
	CHECK_EQ(more, 0);
	meta_names_release(&l);
	CHECK_EQ(meta_catalog(m, "c", 2, &l, &more), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(more, 0);
	meta_names_release(&l);
	meta_free(m);
	tdb_cleanup(&t);
}

/* Puts a manifest with subject, artifact type and annotations; returns its digest. */
static struct digest put_referrer(struct meta *m, const char *repo, const char *body, const struct digest *subject,
				  const char *artifact_type, const char *annotations)
{
	struct digest d = dig(body), cfg = dig("config");
	struct meta_manifest_in in = mf_in(repo, &d, body, &cfg, 1, NULL, 0, NULL);

	in.subject = subject;
	in.artifact_type = artifact_type;
	in.annotations_json = annotations;
	CHECK_EQ(meta_blob_link(m, repo, &cfg, 6), 0);
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	return d;
}

TEST(referrers)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest subj, other, r[4];
	struct meta_desc *v = NULL;
	size_t n = 99;
	const struct digest *sorted[3];

	tdb_init(&t);
	m = tdb_open(&t);
	subj = put_simple(m, "r", "subject", "v1");
	other = dig("not-pushed");
	CHECK_EQ(meta_referrers(m, "r", &subj, NULL, &v, &n), 0);
	CHECK_EQ(n, 0);
	CHECK(v == NULL);

	r[0] = put_referrer(m, "r", "sig-1", &subj, "application/vnd.example.sig", "{\"k\":\"v\"}");
	r[1] = put_referrer(m, "r", "sbom-1", &subj, "application/spdx+json", NULL);
	r[2] = put_referrer(m, "r", "sig-2", &subj, "application/vnd.example.sig", NULL);
	r[3] = put_referrer(m, "r", "dangling", &other, NULL, NULL); /* subject need not exist */
	put_referrer(m, "r2", "sig-1", &subj, "application/vnd.example.sig", NULL); /* another repo */

	/* expected order: by digest text */
	sorted[0] = &r[0];
	sorted[1] = &r[1];
	sorted[2] = &r[2];
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (strcmp(sorted[j]->hex, sorted[i]->hex) < 0) {
				const struct digest *x = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = x;
			}

	CHECK_EQ(meta_referrers(m, "r", &subj, NULL, &v, &n), 0);
	CHECK_EQ(n, 3);
	for (size_t i = 0; i < n; i++) {
		CHECK(digest_eq(&v[i].digest, sorted[i]));
		CHECK_STR(v[i].media_type, MT_MANIFEST);
		if (digest_eq(&v[i].digest, &r[0])) {
			CHECK_STR(v[i].annotations_json, "{\"k\":\"v\"}");
			CHECK_EQ(v[i].size, strlen("sig-1"));
		} else
			CHECK(v[i].annotations_json == NULL);
	}
	meta_descs_free(v, n);

	CHECK_EQ(meta_referrers(m, "r", &subj, "application/vnd.example.sig", &v, &n), 0);
	CHECK_EQ(n, 2);
	for (size_t i = 0; i < n; i++) {
		CHECK_STR(v[i].artifact_type, "application/vnd.example.sig");
		CHECK(digest_eq(&v[i].digest, &r[0]) || digest_eq(&v[i].digest, &r[2]));
	}
	CHECK(strcmp(v[0].digest.hex, v[1].digest.hex) < 0);
	meta_descs_free(v, n);

	CHECK_EQ(meta_referrers(m, "r", &subj, "application/none", &v, &n), 0);
	CHECK_EQ(n, 0);
	meta_descs_free(v, n);

	CHECK_EQ(meta_referrers(m, "r", &other, NULL, &v, &n), 0);
	CHECK_EQ(n, 1);
	CHECK(digest_eq(&v[0].digest, &r[3]));
	CHECK(v[0].artifact_type == NULL);
	meta_descs_free(v, n);

	CHECK_EQ(meta_referrers(m, "nope", &subj, NULL, &v, &n), 0);
	CHECK_EQ(n, 0);
	meta_free(m);
	tdb_cleanup(&t);
}

/* Runs one SQL statement on the test database through a connection of its own (to age rows). */
static void tdb_sql(struct tdb *t, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	CHECK_EQ(sqlite3_open(t->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		FAIL_AT("%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
}

/* Links blobs into repo, then puts a manifest body using them, with optional children, subject, tag. */
static struct digest put_mf(struct meta *m, const char *repo, const char *body, const struct digest *blobs, size_t nb,
			    const struct digest *kids, size_t nk, const struct digest *subject, const char *tag)
{
	struct digest d = dig(body);
	struct meta_manifest_in in = mf_in(repo, &d, body, blobs, nb, kids, nk, tag);

	in.subject = subject;
	for (size_t i = 0; i < nb; i++)
		CHECK_EQ(meta_blob_link(m, repo, &blobs[i], 10 + i), 0);
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	return d;
}

/* Checks that items v[n] are exactly want[nw] (each with repository repo, or NULL for blobs), in
 * any order. */
static void check_items(const struct meta_gc_item *v, size_t n, const char *repo, const struct digest *want, size_t nw)
{
	CHECK_EQ(n, nw);
	for (size_t i = 0; i < nw; i++) {
		int found = 0;
		for (size_t j = 0; j < n && !found; j++)
			found = digest_eq(&v[j].digest, &want[i]) &&
				(repo ? v[j].repo && strcmp(v[j].repo, repo) == 0 : v[j].repo == NULL);
		if (!found)
			FAIL_AT("item %zu (%.12s) missing", i, want[i].hex);
	}
}

/* A repository of every shape the rules distinguish; ages all rows to t=100 s. */
struct gc_fixture {
	struct digest c1, x1, x2, x3, x4, x5, l2;
	struct digest i1, i2, i3, ix, s, i4, t;
};

static void gc_fixture_make(struct tdb *t, struct meta *m, struct gc_fixture *f)
{
	f->c1 = dig("c1");
	f->x1 = dig("x1");
	f->x2 = dig("x2");
	f->x3 = dig("x3");
	f->x4 = dig("x4");
	f->x5 = dig("x5");
	f->l2 = dig("l2");
	{
		struct digest b[2] = {f->c1, f->x1};
		f->i1 = put_mf(m, "r", "img1", b, 2, NULL, 0, NULL, "v1"); /* tagged */
	}
	{
		struct digest b[2] = {f->c1, f->x2};
		f->i2 = put_mf(m, "r", "img2", b, 2, NULL, 0, NULL, NULL); /* untagged */
	}
	f->i3 = put_mf(m, "r", "img3", &f->x3, 1, NULL, 0, NULL, NULL); /* untagged child of ix */
	f->ix = put_mf(m, "r", "index", NULL, 0, &f->i3, 1, NULL, NULL); /* untagged index */
	f->s = put_mf(m, "r", "sig", &f->x4, 1, NULL, 0, &f->i1, NULL); /* untagged referrer of i1 */
	f->i4 = put_mf(m, "r", "img4", &f->x5, 1, NULL, 0, NULL, NULL); /* untagged, subject of t */
	f->t = put_mf(m, "r", "tsig", &f->c1, 1, NULL, 0, &f->i4, "sig"); /* tagged referrer */
	CHECK_EQ(meta_blob_link(m, "r", &f->l2, 7), 0); /* linked, never used */
	CHECK_EQ(meta_blob_link(m, "other", &f->x1, 7), 0); /* used in r, not in other */
	tdb_sql(t, "UPDATE blob_links SET touched = 100; UPDATE manifests SET created = 100;");
}

TEST(gc_plan_reference_rules)
{
	struct tdb t;
	struct meta *m = NULL;
	struct gc_fixture f;
	struct meta_gc_plan p;

	tdb_init(&t);
	m = tdb_open(&t);
	gc_fixture_make(&t, m, &f);

	/* untagged manifests kept: only the link never used, and other's link to x1, are garbage */
	CHECK_EQ(meta_gc_plan(m, 1000, 0, &p), 0);
	CHECK_EQ(p.nmanifests, 0);
	CHECK_EQ(p.nlinks, 2);
	CHECK_STR(p.links[0].repo, "other"); /* sorted by repository */
	CHECK(digest_eq(&p.links[0].digest, &f.x1));
	CHECK_EQ(p.links[0].size, 7);
	CHECK_STR(p.links[1].repo, "r");
	CHECK(digest_eq(&p.links[1].digest, &f.l2));
	check_items(p.blobs, p.nblobs, NULL, &f.l2, 1); /* x1 stays: i1 uses it */
	CHECK_EQ(p.blobs[0].size, 7);
	meta_gc_plan_release(&p);
	CHECK(p.links == NULL && p.nlinks == 0);

	/* delete_untagged: i2, the index and its child go; the referrer of a tagged image stays (a kept
	 * image keeps its signatures) and so does the subject of a tagged referrer */
	CHECK_EQ(meta_gc_plan(m, 1000, 1, &p), 0);
	{
		struct digest want[3] = {f.i2, f.i3, f.ix};
		check_items(p.manifests, p.nmanifests, "r", want, 3);
	}
	{
		struct digest want[3] = {f.l2, f.x2, f.x3};
		check_items(p.blobs, p.nblobs, NULL, want, 3);
	}
	CHECK_EQ(p.nlinks, 4); /* other:x1, r:l2, r:x2, r:x3 */
	meta_gc_plan_release(&p);

	/* within the grace period nothing at all */
	CHECK_EQ(meta_gc_plan(m, 100, 1, &p), 0);
	CHECK_EQ(p.nmanifests + p.nlinks + p.nblobs, 0);
	meta_gc_plan_release(&p);

	/* a young untagged index keeps its child */
	tdb_sql(&t, "UPDATE manifests SET created = 5000 WHERE body = CAST('index' AS BLOB)");
	CHECK_EQ(meta_gc_plan(m, 1000, 1, &p), 0);
	check_items(p.manifests, p.nmanifests, "r", &f.i2, 1);
	{
		struct digest want[2] = {f.l2, f.x2};
		check_items(p.blobs, p.nblobs, NULL, want, 2);
	}
	meta_gc_plan_release(&p);

	/* linking a blob again makes it young again */
	CHECK_EQ(meta_blob_link(m, "r", &f.l2, 7), 0);
	CHECK_EQ(meta_gc_plan(m, 1000, 0, &p), 0);
	check_items(p.links, p.nlinks, "other", &f.x1, 1);
	CHECK_EQ(p.nblobs, 0);
	meta_gc_plan_release(&p);
	CHECK_EQ(meta_gc_plan(m, 0, 0, NULL), -BERTH_EINVAL);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(gc_prune_and_unlink_recheck)
{
	struct tdb t;
	struct meta *m = NULL;
	struct gc_fixture f;
	struct meta_gc_item *del = NULL;
	struct meta_manifest mf;
	struct meta_desc *refs = NULL;
	size_t n = 0;
	uint64_t size = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	gc_fixture_make(&t, m, &f);
	CHECK_EQ(meta_gc_manifests_prune(m, "nope", 1000, &del, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(meta_gc_manifests_prune(m, "r", 1000, &del, &n), 0);
	{
		struct digest want[3] = {f.i2, f.i3, f.ix};
		check_items(del, n, "r", want, 3);
	}
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(del[i].size, digest_eq(&del[i].digest, &f.ix) ? 5 : 4);
	meta_gc_items_free(del, n);
	CHECK_EQ(meta_manifest_get(m, "r", &f.i2, 0, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get(m, "r", &f.i4, 0, &mf), 0);
	check_tag(m, "r", "v1", &f.i1);
	check_tag(m, "r", "sig", &f.t);
	CHECK_EQ(meta_referrers(m, "r", &f.i1, NULL, &refs, &n), 0);
	CHECK_EQ(n, 1); /* the kept image kept its signature */
	CHECK(digest_eq(&refs[0].digest, &f.s));
	meta_descs_free(refs, n);
	/* a second prune finds nothing */
	CHECK_EQ(meta_gc_manifests_prune(m, "r", 1000, &del, &n), 0);
	CHECK_EQ(n, 0);

	/* links: the rule is checked again inside the transaction */
	CHECK_EQ(meta_gc_blob_unlink(m, &f.x2, 1000), 1);
	CHECK_EQ(meta_gc_blob_unlink(m, &f.x2, 1000), 0);
	CHECK_EQ(meta_gc_blob_unlink(m, &f.c1, 1000), 0); /* i1 and t use it */
	CHECK_EQ(meta_gc_blob_unlink(m, &f.x1, 1000), 1); /* other's link only */
	CHECK_EQ(meta_blob_get(m, "r", &f.x1, &size), 0);
	CHECK_EQ(meta_blob_get(m, "other", &f.x1, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_gc_blob_unlink(m, &f.l2, 100), 0); /* not older than the cutoff */
	{
		/* a manifest put after the plan was made keeps the blob */
		struct digest b = f.l2;
		put_mf(m, "r", "late", &b, 1, NULL, 0, NULL, "late");
	}
	CHECK_EQ(meta_gc_blob_unlink(m, &f.l2, INT64_MAX), 0);
	CHECK_EQ(meta_gc_blob_unlink(NULL, &f.l2, 0), -BERTH_EINVAL);
	meta_free(m);
	tdb_cleanup(&t);
}

static int hook_calls;

static int hook_ok(void *ctx)
{
	hook_calls++;
	return 0;
}

static int hook_fail(void *ctx)
{
	hook_calls++;
	return *(int *)ctx;
}

TEST(gc_forget_commit_mount_hooks)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a = dig("a"), b = dig("b");
	struct meta_hook ok = {hook_ok, NULL};
	int code = -BERTH_ENOENT;
	struct meta_hook bad = {hook_fail, &code};
	char repo[64];
	uint64_t size = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	/* forget runs the hook only when nothing names the digest */
	CHECK_EQ(meta_blob_link(m, "r", &a, 3), 0);
	hook_calls = 0;
	CHECK_EQ(meta_blob_forget(m, &a, &ok), 0);
	CHECK_EQ(hook_calls, 0);
	CHECK_EQ(meta_blob_forget(m, &b, &ok), 1);
	CHECK_EQ(hook_calls, 1);
	code = -BERTH_EIO;
	CHECK_EQ(meta_blob_forget(m, &b, &bad), -BERTH_EIO);
	CHECK_EQ(meta_blob_forget(m, &b, NULL), -BERTH_EINVAL);

	/* commit: a failing presence check writes nothing, not even the repository */
	code = -BERTH_ENOENT;
	CHECK_EQ(meta_upload_put(m, "u9", "q"), 0);
	CHECK_EQ(meta_blob_commit(m, "q", &b, 4, "u9", &bad), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_get(m, "q", &b, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_upload_get(m, "u9", repo, sizeof(repo)), 0);
	CHECK_EQ(meta_blob_commit(m, "q2", &b, 4, NULL, &bad), -BERTH_ENOENT);
	CHECK_EQ(meta_repo_exists(m, "q2"), 0);
	hook_calls = 0;
	CHECK_EQ(meta_blob_commit(m, "q", &b, 4, "u9", &ok), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(meta_blob_get(m, "q", &b, &size), 0);
	CHECK_EQ(meta_upload_get(m, "u9", repo, sizeof(repo)), -BERTH_ENOENT);

	/* mount: one transaction, nothing written when the source has no link */
	CHECK_EQ(meta_blob_mount(m, "dst", "nope", &a), -BERTH_ENOENT);
	CHECK_EQ(meta_repo_exists(m, "dst"), 0);
	CHECK_EQ(meta_blob_mount(m, "dst", "q", &a), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_mount(m, "dst", "r", &a), 0);
	CHECK_EQ(meta_blob_get(m, "dst", &a, &size), 0);
	CHECK_EQ(size, 3);
	tdb_sql(&t, "UPDATE blob_links SET touched = 100");
	CHECK_EQ(meta_blob_mount(m, "dst", "r", &a), 0); /* mounted again: young again */
	{
		struct meta_gc_plan p;
		CHECK_EQ(meta_gc_plan(m, 1000, 0, &p), 0);
		CHECK_EQ(p.nlinks, 2); /* r:a and q:b, not dst:a */
		CHECK_EQ(p.nblobs, 1); /* b */
		meta_gc_plan_release(&p);
	}
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(migration_gives_old_links_their_time)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a = dig("a");
	struct meta_gc_plan p;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_blob_link(m, "r", &a, 3), 0);
	meta_free(m);
	/* what a database written before migration 2 looks like */
	tdb_sql(&t, "ALTER TABLE blob_links DROP COLUMN touched; UPDATE blob_links SET created = 200;"
		    " DROP TABLE errata_cves; DROP TABLE errata_pkgs; DROP TABLE errata; DROP TABLE errata_state;"
		    " DROP TABLE errata_feeds; DROP TABLE events; DROP TABLE notify_cursors; DROP TABLE signatures;"
		    " DROP TRIGGER scan_enqueue; DROP TRIGGER scan_forget; DROP TABLE scan_queue; DROP TABLE scans; "
		    "DROP TABLE scan_layers;"
		    " DROP TABLE grade_state; DROP TABLE scan_packages;"
		    " PRAGMA user_version = 1;");
	m = tdb_open(&t);
	CHECK_EQ(meta_gc_plan(m, 200, 0, &p), 0);
	CHECK_EQ(p.nlinks, 0);
	meta_gc_plan_release(&p);
	CHECK_EQ(meta_gc_plan(m, 201, 0, &p), 0);
	CHECK_EQ(p.nlinks, 1);
	meta_gc_plan_release(&p);
	meta_free(m);
	tdb_cleanup(&t);
}

static int stale_count(void *ctx, const struct meta_scan *s)
{
	size_t *n = ctx;

	if (s->packages_len != 5 || memcmp(s->packages, "\x01pkgs", 5) != 0)
		return -BERTH_EINVAL;
	(*n)++;
	return 0;
}

TEST(scan_rows_packages_and_findings)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a = dig("img-a"), b = dig("img-b");
	struct meta_scan in = {0}, out = {0};
	size_t n = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	in.digest = a;
	in.status = (char *)"scanned";
	in.os = (char *)"debian:12";
	in.layers = (char *)"[]";
	in.packages = (char *)"\x01pkgs";
	in.packages_len = 5;
	in.generation = -1;
	CHECK_EQ(meta_scan_put(m, &in), 0);
	in.digest = b;
	in.packages = NULL;
	in.packages_len = 0;
	in.status = (char *)"unsupported";
	CHECK_EQ(meta_scan_put(m, &in), 0);
	CHECK_EQ(meta_scan_get(m, &a, &out), 0);
	CHECK_EQ(out.packages_len, 5);
	CHECK(memcmp(out.packages, "\x01pkgs", 5) == 0);
	CHECK_EQ(out.generation, -1);
	CHECK(out.findings == NULL);
	meta_scan_release(&out);
	CHECK_EQ(meta_scan_get(m, &b, &out), 0);
	CHECK_EQ(out.packages_len, 0);
	meta_scan_release(&out);
	/* only scanned rows below the generation are stale, each with its package list */
	CHECK_EQ(meta_scan_each_stale(m, 3, stale_count, &n), 0);
	CHECK_EQ(n, 1);
	/* a findings update leaves the package list alone */
	in.digest = a;
	in.findings = (char *)"[{\"advisory\":\"DSA-1\"}]";
	in.generation = 3;
	CHECK_EQ(meta_scan_findings_put(m, &in, 1), 0);
	CHECK_EQ(meta_scan_get(m, &a, &out), 0);
	CHECK_EQ(out.packages_len, 5);
	CHECK_STR(out.findings, "[{\"advisory\":\"DSA-1\"}]");
	CHECK_EQ(out.generation, 3);
	meta_scan_release(&out);
	n = 0;
	CHECK_EQ(meta_scan_each_stale(m, 3, stale_count, &n), 0);
	CHECK_EQ(n, 0);
	/* a rescan without packages drops the old list */
	in.packages = NULL;
	in.status = (char *)"failed";
	CHECK_EQ(meta_scan_put(m, &in), 0);
	CHECK_EQ(meta_scan_get(m, &a, &out), 0);
	CHECK_EQ(out.packages_len, 0);
	CHECK_STR(out.status, "failed");
	meta_scan_release(&out);
	meta_free(m);
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		CHECK_EQ(sqlite3_open(t.path, &db), SQLITE_OK);
		CHECK_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM scan_packages", -1, &st, NULL), SQLITE_OK);
		CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
		CHECK_EQ(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	tdb_cleanup(&t);
}

TEST(migrations_move_package_lists_and_forget_orphan_scans)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a, g = dig("gone");
	struct meta_scan out = {0};
	char sql[1024], ds[DIGEST_STR_MAX], gone[DIGEST_STR_MAX];

	tdb_init(&t);
	m = tdb_open(&t);
	a = put_mf(m, "r", "img-a", NULL, 0, NULL, 0, NULL, "v1");
	meta_free(m);
	/* what a database written before migration 7 looks like: the list inside the scans row, and a
	 * scan left behind by a deleted manifest (migration 8 removes it) */
	digest_str(&a, ds);
	digest_str(&g, gone);
	snprintf(sql, sizeof sql,
		 "DROP TABLE scan_packages; ALTER TABLE scans ADD COLUMN packages BLOB;"
		 " INSERT INTO scans(digest, status, os, layers, generation, updated, packages)"
		 " VALUES ('%s', 'scanned', 'debian:12', '[]', 1, 0, X'01706b6773'), ('%s', 'scanned', 'debian:12',"
		 " '[]', 1, 0, X'00'); DROP TRIGGER scan_forget; PRAGMA user_version = 6;",
		 ds, gone);
	tdb_sql(&t, sql);
	m = tdb_open(&t);
	CHECK_EQ(meta_scan_get(m, &a, &out), 0);
	CHECK_EQ(out.packages_len, 5);
	CHECK(memcmp(out.packages, "\x01pkgs", 5) == 0);
	meta_scan_release(&out);
	CHECK_EQ(meta_scan_get(m, &g, &out), -BERTH_ENOENT);
	/* deleting the last manifest row of a digest forgets its scan */
	CHECK_EQ(meta_manifest_delete(m, "r", &a), 0);
	CHECK_EQ(meta_scan_get(m, &a, &out), -BERTH_ENOENT);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(uploads_survive_reopen)
{
	struct tdb t;
	struct meta *m = NULL;
	char repo[64], tiny[4];

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_upload_get(m, "u1", repo, sizeof(repo)), -BERTH_ENOENT);
	CHECK_EQ(meta_upload_put(m, "u1", "lib/alpine"), 0);
	CHECK_EQ(meta_upload_put(m, "u2", "lib/busybox"), 0);
	CHECK_EQ(meta_repo_exists(m, "lib/alpine"), 1);
	meta_free(m);

	m = tdb_open(&t);
	CHECK_EQ(meta_upload_get(m, "u1", repo, sizeof(repo)), 0);
	CHECK_STR(repo, "lib/alpine");
	CHECK_EQ(meta_upload_get(m, "u2", repo, sizeof(repo)), 0);
	CHECK_STR(repo, "lib/busybox");
	CHECK_EQ(meta_upload_get(m, "u2", tiny, sizeof(tiny)), -BERTH_ETOOBIG);
	CHECK_EQ(meta_upload_delete(m, "u1"), 0);
	CHECK_EQ(meta_upload_delete(m, "u1"), -BERTH_ENOENT);
	meta_free(m);

	m = tdb_open(&t);
	CHECK_EQ(meta_upload_get(m, "u1", repo, sizeof(repo)), -BERTH_ENOENT);
	CHECK_EQ(meta_upload_get(m, "u2", repo, sizeof(repo)), 0);
	CHECK_STR(repo, "lib/busybox");
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(upload_list_by_age)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_names l = {0};
	sqlite3 *db = NULL;
	const char *const old_two[] = {"a-old", "b-old", NULL};
	const char *const all[] = {"a-old", "b-old", "c-new", NULL};

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_upload_put(m, "c-new", "lib/a"), 0);
	CHECK_EQ(meta_upload_put(m, "b-old", "lib/a"), 0);
	CHECK_EQ(meta_upload_put(m, "a-old", "lib/b"), 0);
	meta_free(m);
	CHECK_EQ(sqlite3_open(t.path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "UPDATE uploads SET created = 1000 WHERE uuid LIKE '%-old'", NULL, NULL, NULL),
		 SQLITE_OK);
	sqlite3_close(db);
	m = tdb_open(&t);
	CHECK_EQ(meta_upload_list(m, 999, &l), 0);
	CHECK_EQ(l.n, 0);
	CHECK(l.v == NULL);
	CHECK_EQ(meta_upload_list(m, 1000, &l), 0);
	check_names(&l, old_two);
	meta_names_release(&l);
	CHECK_EQ(meta_upload_list(m, INT64_MAX, &l), 0);
	check_names(&l, all);
	meta_names_release(&l);
	CHECK_EQ(meta_upload_list(m, 0, NULL), -BERTH_EINVAL);
	CHECK_EQ(meta_upload_list(NULL, 0, &l), -BERTH_EINVAL);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(blob_commit_links_and_ends_session)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d;
	uint64_t size = 0;
	char repo[64];

	tdb_init(&t);
	m = tdb_open(&t);
	digest_of(DIGEST_SHA256, "blob", 4, &d);
	CHECK_EQ(meta_upload_put(m, "u1", "lib/a"), 0);
	CHECK_EQ(meta_blob_commit(m, "lib/a", &d, 4, "u1", NULL), 0);
	CHECK_EQ(meta_blob_get(m, "lib/a", &d, &size), 0);
	CHECK_EQ(size, 4);
	CHECK_EQ(meta_upload_get(m, "u1", repo, sizeof(repo)), -BERTH_ENOENT);
	/* no session (a monolithic upload) and a session that is already gone both work */
	CHECK_EQ(meta_blob_commit(m, "lib/b", &d, 4, NULL, NULL), 0);
	CHECK_EQ(meta_blob_commit(m, "lib/c", &d, 4, "gone", NULL), 0);
	CHECK_EQ(meta_blob_get(m, "lib/c", &d, &size), 0);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(unknown_repo_and_bad_args)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest d = dig("x");
	struct meta_manifest mf;
	struct meta_manifest_in in = mf_in("r", &d, "x", NULL, 0, NULL, 0, NULL);
	struct meta_names l = {0};
	uint64_t size = 0;
	int more = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_repo_exists(m, "nope"), 0);
	CHECK_EQ(meta_blob_get(m, "nope", &d, &size), -BERTH_ENOENT);
	CHECK_EQ(meta_blob_unlink(m, "nope", &d), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get(m, "nope", &d, 1, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_get_by_tag(m, "nope", "latest", 1, &mf), -BERTH_ENOENT);
	CHECK_EQ(meta_manifest_delete(m, "nope", &d), -BERTH_ENOENT);
	CHECK_EQ(meta_tag_delete(m, "nope", "latest"), -BERTH_ENOENT);
	CHECK_EQ(meta_tags_list(m, "nope", NULL, -1, &l, &more), -BERTH_ENOENT);
	CHECK_EQ(meta_repo_exists(m, "nope"), 0); /* lookups create nothing */

	CHECK_EQ(meta_repo_exists(m, ""), -BERTH_EINVAL);
	CHECK_EQ(meta_blob_link(m, NULL, &d, 1), -BERTH_EINVAL);
	in.media_type = NULL;
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), -BERTH_EINVAL);
	in.media_type = MT_MANIFEST;
	in.tag = "";
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), -BERTH_EINVAL);
	CHECK_EQ(meta_upload_put(m, "", "r"), -BERTH_EINVAL);
	meta_free(m);
	tdb_cleanup(&t);
}

/* --- concurrency ----------------------------------------------------------------------------- */

#define CONC_THREADS 8
#define CONC_ROUNDS 200

struct conc {
	struct meta *m;
	int id;
	int errors;
	char first_error[160];
	struct digest last;
};

/* Records a failed expectation of a worker thread (CHECK would exit from the wrong thread). */
static void conc_fail(struct conc *c, const char *what, int rc)
{
	if (!c->errors)
		snprintf(c->first_error, sizeof(c->first_error), "thread %d: %s (%d)", c->id, what, rc);
	c->errors++;
}

/* One worker: puts manifests, moves its own tag and a shared one, and reads them back. */
static void *conc_worker(void *p)
{
	struct conc *c = p;
	struct digest cfg = dig("config"), d;
	struct meta_manifest mf;
	struct meta_manifest_in in;
	struct meta_names l = {0};
	char body[64], tag[16];
	int rc, more = 0;

	snprintf(tag, sizeof(tag), "t%d", c->id);
	for (int i = 0; i < CONC_ROUNDS; i++) {
		snprintf(body, sizeof(body), "{\"thread\":%d,\"round\":%d}", c->id, i);
		d = dig(body);
		in = mf_in("conc/repo", &d, body, &cfg, 1, NULL, 0, i % 2 ? "shared" : tag);
		rc = meta_manifest_put(c->m, &in, NULL, NULL);
		if (rc != 0)
			conc_fail(c, "put", rc);
		if (i % 2) {
			in.tag = tag; /* re-put: idempotent, moves this thread's tag */
			rc = meta_manifest_put(c->m, &in, NULL, NULL);
			if (rc != 0)
				conc_fail(c, "re-put", rc);
		}
		rc = meta_manifest_get_by_tag(c->m, "conc/repo", tag, 0, &mf);
		if (rc != 0 || !digest_eq(&mf.digest, &d))
			conc_fail(c, "get by own tag", rc);
		rc = meta_manifest_get(c->m, "conc/repo", &d, 1, &mf);
		if (rc != 0 || mf.size != strlen(body) || memcmp(mf.body, body, strlen(body)) != 0)
			conc_fail(c, "get by digest", rc);
		meta_manifest_release(&mf);
		rc = meta_manifest_get_by_tag(c->m, "conc/repo", "shared", 0, &mf);
		if (rc != 0 && !(rc == -BERTH_ENOENT && i == 0))
			conc_fail(c, "get shared", rc);
		if (i % 50 == 0) {
			rc = meta_tags_list(c->m, "conc/repo", NULL, -1, &l, &more);
			if (rc != 0)
				conc_fail(c, "tags list", rc);
			meta_names_release(&l);
		}
		c->last = d;
	}
	return NULL;
}

TEST(concurrent_puts_and_reads)
{
	struct tdb t;
	struct meta *m = NULL;
	struct conc c[CONC_THREADS];
	pthread_t th[CONC_THREADS];
	struct digest cfg = dig("config"), d;
	struct meta_manifest mf;
	struct meta_names l = {0};
	char body[64], tag[16];
	int more = 0, shared_ok = 0;

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_blob_link(m, "conc/repo", &cfg, 6), 0);
	for (int i = 0; i < CONC_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].m = m;
		c[i].id = i;
		CHECK_EQ(pthread_create(&th[i], NULL, conc_worker, &c[i]), 0);
	}
	for (int i = 0; i < CONC_THREADS; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < CONC_THREADS; i++) {
		if (c[i].errors)
			FAIL_AT("%d errors, first: %s", c[i].errors, c[i].first_error);
	}

	/* every manifest is there; each thread's tag is on its last manifest; shared on some thread's last odd round */
	for (int i = 0; i < CONC_THREADS; i++) {
		for (int r = 0; r < CONC_ROUNDS; r++) {
			snprintf(body, sizeof(body), "{\"thread\":%d,\"round\":%d}", i, r);
			d = dig(body);
			CHECK_EQ(meta_manifest_get(m, "conc/repo", &d, 0, &mf), 0);
		}
		snprintf(tag, sizeof(tag), "t%d", i);
		check_tag(m, "conc/repo", tag, &c[i].last);
	}
	CHECK_EQ(meta_manifest_get_by_tag(m, "conc/repo", "shared", 0, &mf), 0);
	for (int i = 0; i < CONC_THREADS; i++)
		shared_ok |= digest_eq(&mf.digest, &c[i].last);
	CHECK(shared_ok);
	CHECK_EQ(meta_tags_list(m, "conc/repo", NULL, -1, &l, &more), 0);
	check_names(&l, (const char *const[]){"shared", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", NULL});
	meta_names_release(&l);
	meta_free(m);
	tdb_cleanup(&t);
}

/* Threads that outlive nothing: each opens its connection and exits before meta_free. */
static void *conc_reader(void *p)
{
	struct meta *m = p;

	return (void *)(intptr_t)meta_repo_exists(m, "r");
}

TEST(threads_exit_before_free)
{
	struct tdb t;
	struct meta *m = NULL;
	pthread_t th[4];
	void *res = NULL;
	struct digest cfg = dig("config");

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_blob_link(m, "r", &cfg, 1), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, conc_reader, m), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pthread_join(th[i], &res), 0);
		CHECK_EQ((intptr_t)res, 1);
	}
	CHECK_EQ(meta_repo_exists(m, "r"), 1);
	meta_free(m);
	tdb_cleanup(&t);
}

/* The journal rows of the store, all of them. */
static struct meta_event *journal(struct meta *m, size_t *n)
{
	struct meta_event_filter f = {.after = 0, .limit = -1};
	struct meta_event *v = NULL;

	CHECK_EQ(meta_events_list(m, &f, &v, n, NULL), 0);
	return v;
}

/* Checks row ev: action, repo, digest (text or NULL), tag, detail text. */
static void check_ev(const struct meta_event *ev, int64_t seq, const char *action, const char *repo,
		     const struct digest *d, const char *tag, const char *detail)
{
	char ds[DIGEST_STR_MAX];

	CHECK_EQ(ev->seq, seq);
	CHECK_STR(ev->action, action);
	CHECK_STR(ev->repo, repo);
	if (d)
		CHECK_STR(ev->digest, digest_str(d, ds));
	else
		CHECK(ev->digest == NULL);
	if (tag)
		CHECK_STR(ev->tag, tag);
	else
		CHECK(ev->tag == NULL);
	if (detail)
		CHECK_STR(ev->detail, detail);
	else
		CHECK(ev->detail == NULL);
}

TEST(journal_records_every_change_in_its_transaction)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_event *v = NULL;
	struct meta_gc_item *gone = NULL;
	size_t n = 0, ngone = 0;
	char ds[DIGEST_STR_MAX], want[256], *entry = NULL, hash[META_EVENT_HASH_MAX];
	struct digest a, b, c, missing = dig("nope");
	struct meta_manifest_in in;

	tdb_init(&t);
	m = tdb_open(&t);
	a = put_simple(m, "r", "{\"a\":1}", "v1"); /* 1 push v1 */
	put_simple(m, "r", "{\"a\":1}", "v1"); /* identical: nothing */
	b = put_simple(m, "r", "{\"b\":2}", "v1"); /* 2 push v1 from a */
	put_simple(m, "r", "{\"a\":1}", "old"); /* 3 tag old on a, from null */
	put_simple(m, "r", "{\"a\":1}", "v1"); /* 4 tag v1 back onto a, from b */
	c = put_simple(m, "r", "{\"c\":3}", NULL); /* 5 push by digest */
	/* a put that fails writes neither the manifest nor an event */
	in = mf_in("r", &b, "{\"b\":2}", &missing, 1, NULL, 0, "x");
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), -BERTH_ENOENT);
	CHECK_EQ(meta_tag_delete(m, "r", "old"), 0); /* 6 untag old (a) */
	CHECK_EQ(meta_tag_delete(m, "r", "old"), -BERTH_ENOENT);
	put_simple(m, "r", "{\"a\":1}", "z"); /* 7 tag z */
	CHECK_EQ(meta_manifest_delete(m, "r", &a), 0); /* 8 delete a with tags v1, z */
	CHECK_EQ(meta_event_append(m, "scan", "r", &b, NULL, "{ \"z\": 1, \"a\": [2] }", NULL), 0); /* 9 */
	CHECK_EQ(meta_event_append(m, "scan", "r", &b, NULL, "[1]", NULL), -BERTH_EINVAL);
	CHECK_EQ(meta_gc_manifests_prune(m, "r", INT64_MAX, &gone, &ngone), 0); /* 10, 11: b and c */
	CHECK_EQ(ngone, 2);
	meta_gc_items_free(gone, ngone);

	v = journal(m, &n);
	CHECK_EQ(n, 11);
	check_ev(&v[0], 1, "push", "r", &a, "v1",
		 "{\"from\":null,\"media_type\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":7}");
	snprintf(want, sizeof(want),
		 "{\"from\":\"%s\",\"media_type\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":7}",
		 digest_str(&a, ds));
	check_ev(&v[1], 2, "push", "r", &b, "v1", want);
	check_ev(&v[2], 3, "tag", "r", &a, "old", "{\"from\":null}");
	snprintf(want, sizeof(want), "{\"from\":\"%s\"}", digest_str(&b, ds));
	check_ev(&v[3], 4, "tag", "r", &a, "v1", want);
	check_ev(&v[4], 5, "push", "r", &c, NULL,
		 "{\"media_type\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":7}");
	check_ev(&v[5], 6, "untag", "r", &a, "old", NULL);
	check_ev(&v[6], 7, "tag", "r", &a, "z", "{\"from\":null}");
	check_ev(&v[7], 8, "delete", "r", &a, NULL, "{\"tags\":[\"v1\",\"z\"]}");
	check_ev(&v[8], 9, "scan", "r", &b, NULL, "{\"a\":[2],\"z\":1}");
	CHECK_STR(v[9].action, "gc-delete");
	CHECK_STR(v[10].action, "gc-delete");
	/* the chain: genesis prev is NULL, each prev is the hash before, each hash is of the entry text */
	CHECK(v[0].prev == NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			CHECK_STR(v[i].prev, v[i - 1].hash);
		CHECK_EQ(meta_event_entry(&v[i], &entry), 0);
		CHECK_STR(entry, v[i].entry);
		free(entry);
		meta_event_hash(v[i].entry, hash);
		CHECK_STR(hash, v[i].hash);
	}
	snprintf(want, sizeof(want),
		 "{\"action\":\"untag\",\"detail\":null,\"digest\":\"%s\",\"prev\":\"%s\",\"repo\":\"r\",\"seq\":6,"
		 "\"tag\":\"old\",\"time\":%lld}",
		 digest_str(&a, ds), v[4].hash, (long long)v[5].time_ms);
	CHECK_STR(v[5].entry, want);
	meta_events_free(v, n);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(journal_filters_and_head)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_event *v = NULL;
	struct meta_event_filter f = {.after = 1, .repo = "r", .limit = 1};
	size_t n = 0;
	int more = 0;
	int64_t seq = -1;
	char head[META_EVENT_HASH_MAX];

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_event_head(m, &seq, head), 0);
	CHECK_EQ(seq, 0);
	CHECK_STR(head, "");
	put_simple(m, "r", "{\"a\":1}", "1");
	put_simple(m, "s", "{\"a\":1}", "1");
	put_simple(m, "r", "{\"a\":2}", "2");
	put_simple(m, "r", "{\"a\":3}", "3");
	CHECK_EQ(meta_events_list(m, &f, &v, &n, &more), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(more, 1);
	CHECK_EQ(v[0].seq, 3);
	meta_events_free(v, n);
	f.after = 3;
	CHECK_EQ(meta_events_list(m, &f, &v, &n, &more), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(more, 0);
	CHECK_EQ(v[0].seq, 4);
	CHECK_EQ(meta_event_head(m, &seq, head), 0);
	CHECK_EQ(seq, 4);
	CHECK_STR(head, v[0].hash);
	meta_events_free(v, n);
	CHECK_EQ(meta_notify_cursor_get(m, "hook", &seq), 0);
	CHECK_EQ(seq, 0);
	CHECK_EQ(meta_notify_cursor_set(m, "hook", 3), 0);
	CHECK_EQ(meta_notify_cursor_set(m, "hook", 4), 0);
	CHECK_EQ(meta_notify_cursor_get(m, "hook", &seq), 0);
	CHECK_EQ(seq, 4);
	CHECK_EQ(meta_notify_cursor_set(m, "hook", -1), -BERTH_EINVAL);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(protected_tag_is_not_moved)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a, b = dig("{\"b\":2}"), blob = dig("config");
	struct meta_manifest_in in;
	size_t n = 0;
	struct meta_event *v = NULL;

	tdb_init(&t);
	m = tdb_open(&t);
	a = put_simple(m, "r", "{\"a\":1}", "v1");
	in = mf_in("r", &b, "{\"b\":2}", &blob, 1, NULL, 0, "v1");
	in.tag_protected = 1;
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), -BERTH_EDENIED);
	check_tag(m, "r", "v1", &a);
	struct meta_manifest mf;
	CHECK_EQ(meta_manifest_get(m, "r", &b, 0, &mf), -BERTH_ENOENT); /* nothing written */
	in.tag = "v2"; /* a new protected tag is fine */
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	in = mf_in("r", &a, "{\"a\":1}", &blob, 1, NULL, 0, "v1");
	in.tag_protected = 1;
	CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0); /* re-put of the same digest */
	v = journal(m, &n);
	CHECK_EQ(n, 2);
	meta_events_free(v, n);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(signatures_store_dedupe_and_journal)
{
	struct tdb t;
	struct meta *m = NULL;
	struct digest a, other = dig("other");
	struct meta_signature *s = NULL;
	struct meta_event *v = NULL;
	size_t n = 0;
	int added = -1;
	char name[128];

	tdb_init(&t);
	m = tdb_open(&t);
	CHECK_EQ(meta_signature_put(m, "r", &other, "x@1", "\x90sig", 4, &added), -BERTH_ENOENT);
	a = put_simple(m, "r", "{\"a\":1}", "v1");
	CHECK_EQ(meta_signature_put(m, "r", &other, "x@1", "\x90sig", 4, &added), -BERTH_ENOENT);
	CHECK_EQ(meta_signatures_list(m, "r", &other, &s, &n), -BERTH_ENOENT);
	CHECK_EQ(meta_signatures_list(m, "r", &a, &s, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(meta_signature_put(m, "r", &a, "a@1", "\x90sig1", 5, &added), 0);
	CHECK_EQ(added, 1);
	CHECK_EQ(meta_signature_put(m, "r", &a, "a@2", "\x90sig1", 5, &added), 0);
	CHECK_EQ(added, 0);
	CHECK_EQ(meta_signature_put(m, "r", &a, "a@3", "\x90sig2", 5, &added), 0);
	CHECK_EQ(added, 1);
	CHECK_EQ(meta_signatures_list(m, "r", &a, &s, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_STR(s[0].name, "a@1");
	CHECK_EQ(s[0].len, 5);
	CHECK_MEM(s[0].content, "\x90sig1", 5);
	CHECK_STR(s[1].name, "a@3");
	meta_signatures_free(s, n);
	CHECK_EQ(meta_signature_delete(m, "r", &a, "a@1"), 0);
	CHECK_EQ(meta_signature_delete(m, "r", &a, "a@1"), -BERTH_ENOENT);
	for (int i = 0; i < META_SIGNATURES_MAX - 1; i++) {
		snprintf(name, sizeof(name), "sig%d", i);
		CHECK_EQ(meta_signature_put(m, "r", &a, "n", name, strlen(name), &added), 0);
	}
	CHECK_EQ(meta_signature_put(m, "r", &a, "n", "one too many", 12, &added), -BERTH_ETOOBIG);
	CHECK_EQ(meta_signature_put(m, "r", &a, "n", "", 0, &added), -BERTH_EINVAL);
	v = journal(m, &n);
	CHECK_EQ(n, 1 + 2 + 1 + META_SIGNATURES_MAX - 1);
	CHECK_STR(v[1].action, "signature");
	CHECK_STR(v[1].detail, "{\"name\":\"a@1\",\"op\":\"add\",\"sha256\":"
			       "\"1c5fbd159b43facc9043609ba44871db82a3ee77d252dd7ee94187491bf43961\"}");
	CHECK_STR(v[3].action, "signature");
	meta_events_free(v, n);
	meta_free(m);
	tdb_cleanup(&t);
}

static const struct test tests[] = {
    T(open_uri_forms),
    T(reopen_keeps_data),
    T(newer_schema_refused),
    T(blob_link_get_unlink),
    T(blob_referenced_by_manifest),
    T(put_missing_blob_writes_nothing),
    T(put_missing_child_manifest),
    T(put_idempotent),
    T(tag_move),
    T(get_exact_body),
    T(delete_manifest_removes_tags),
    T(tag_delete),
    T(tags_list_order_and_paging),
    T(tags_list_unknown_and_empty_repo),
    T(catalog_paging),
    T(referrers),
    T(gc_plan_reference_rules),
    T(gc_prune_and_unlink_recheck),
    T(gc_forget_commit_mount_hooks),
    T(migration_gives_old_links_their_time),
    T(scan_rows_packages_and_findings),
    T(migrations_move_package_lists_and_forget_orphan_scans),
    T(uploads_survive_reopen),
    T(upload_list_by_age),
    T(blob_commit_links_and_ends_session),
    T(unknown_repo_and_bad_args),
    T(concurrent_puts_and_reads),
    T(threads_exit_before_free),
    T(journal_records_every_change_in_its_transaction),
    T(journal_filters_and_head),
    T(protected_tag_is_not_moved),
    T(signatures_store_dedupe_and_journal),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
