/* custody: chain verification against hand-edited databases, export, history. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/err.h"
#include "custody/custody.h"
#include "harness.h"
#include "meta/meta.h"

struct tdb {
	char dir[64], path[128], uri[160];
};

static void tdb_init(struct tdb *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/berth-custody-XXXXXX");
	CHECK(mkdtemp(t->dir) != NULL);
	snprintf(t->path, sizeof(t->path), "%s/meta.db", t->dir);
	snprintf(t->uri, sizeof(t->uri), "sqlite:%s", t->path);
}

static void tdb_cleanup(struct tdb *t)
{
	char p[192];
	const char *sfx[] = {"", "-wal", "-shm"};

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/* Runs sql on the file directly: what someone with write access to the database can do. */
static void tdb_sql(struct tdb *t, const char *sql)
{
	sqlite3 *db = NULL;

	CHECK_EQ(sqlite3_open(t->path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static struct digest dig(const char *s)
{
	struct digest d;

	digest_of(DIGEST_SHA256, s, strlen(s), &d);
	return d;
}

/* A store with n manifests pushed to "r" (tags t0..), one moved tag and one signature: n + 2 rows. */
static struct meta *populate(struct tdb *t, int n)
{
	struct meta *m = NULL;
	struct digest blob = dig("cfg"), d[16];
	char body[32], tag[16];

	CHECK_EQ(meta_open(t->uri, &m), 0);
	CHECK_EQ(meta_blob_link(m, "r", &blob, 3), 0);
	for (int i = 0; i < n; i++) {
		struct meta_manifest_in in = {0};
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		snprintf(tag, sizeof(tag), "t%d", i);
		d[i] = dig(body);
		in.repo = "r";
		in.digest = &d[i];
		in.media_type = "application/vnd.oci.image.manifest.v1+json";
		in.body = body;
		in.len = strlen(body);
		in.blobs = &blob;
		in.nblobs = 1;
		in.tag = tag;
		CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	}
	{
		struct meta_manifest_in in = {0};
		snprintf(body, sizeof(body), "{\"n\":%d}", 0);
		in.repo = "r";
		in.digest = &d[0];
		in.media_type = "application/vnd.oci.image.manifest.v1+json";
		in.body = body;
		in.len = strlen(body);
		in.blobs = &blob;
		in.nblobs = 1;
		in.tag = "t1"; /* moves t1 from d[1] to d[0] */
		CHECK_EQ(meta_manifest_put(m, &in, NULL, NULL), 0);
	}
	CHECK_EQ(meta_signature_put(m, "r", &d[0], "x@1", "\x90s", 2, NULL), 0);
	return m;
}

static void verify(struct meta *m, const char *expect, int ok, int64_t bad, const char *why_part)
{
	struct custody_verify_result r;

	CHECK_EQ(custody_verify(m, expect, &r), 0);
	if (r.ok != ok)
		FAIL_AT("ok %d, want %d (%s)", r.ok, ok, r.why);
	CHECK_EQ(r.bad_seq, bad);
	if (why_part && !strstr(r.why, why_part))
		FAIL_AT("why \"%s\" lacks \"%s\"", r.why, why_part);
}

TEST(intact_chain_verifies_and_reports_head)
{
	struct tdb t;
	struct meta *m = NULL;
	struct custody_verify_result r;
	int64_t seq = 0;
	char head[META_EVENT_HASH_MAX];

	tdb_init(&t);
	m = populate(&t, 5);
	CHECK_EQ(custody_verify(m, NULL, &r), 0);
	CHECK_EQ(r.ok, 1);
	CHECK_EQ(r.count, 7);
	CHECK_EQ(r.head_seq, 7);
	CHECK_EQ(meta_event_head(m, &seq, head), 0);
	CHECK_STR(r.head, head);
	verify(m, head, 1, 0, NULL);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(empty_journal_verifies)
{
	struct tdb t;
	struct meta *m = NULL;
	struct custody_verify_result r;

	tdb_init(&t);
	CHECK_EQ(meta_open(t.uri, &m), 0);
	CHECK_EQ(custody_verify(m, NULL, &r), 0);
	CHECK_EQ(r.ok, 1);
	CHECK_EQ(r.count, 0);
	CHECK_STR(r.head, "");
	verify(m, "sha256:00", 0, 0, "not in the log");
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(edited_column_is_named)
{
	struct tdb t;
	struct meta *m = NULL;

	tdb_init(&t);
	m = populate(&t, 5);
	tdb_sql(&t, "UPDATE events SET tag = 'evil' WHERE seq = 3");
	verify(m, NULL, 0, 3, "columns do not match");
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(edited_entry_text_is_named)
{
	struct tdb t;
	struct meta *m = NULL;

	tdb_init(&t);
	m = populate(&t, 5);
	tdb_sql(&t, "UPDATE events SET entry = replace(entry, '\"t3\"', '\"t9\"'), tag = 't9' WHERE seq = 4");
	verify(m, NULL, 0, 4, "hash does not match");
	meta_free(m);
	tdb_cleanup(&t);
}

/* An editor who also recomputes the row's hash breaks the next row's link; rewriting the whole tail
 * is only caught against a head recorded elsewhere. */
TEST(rehashed_row_breaks_the_next_link_and_rewritten_tail_needs_the_head)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_event *v = NULL;
	struct meta_event_filter f = {.after = 0, .limit = -1};
	size_t n = 0;
	char *entry = NULL, hash[META_EVENT_HASH_MAX], sql[4096], old_head[META_EVENT_HASH_MAX];
	int64_t seq;

	tdb_init(&t);
	m = populate(&t, 5);
	CHECK_EQ(meta_event_head(m, &seq, old_head), 0);
	CHECK_EQ(meta_events_list(m, &f, &v, &n, NULL), 0);
	CHECK_EQ(n, 7);
	free(v[6].tag);
	v[6].tag = strdup("evil");
	free(v[6].entry);
	CHECK_EQ(meta_event_entry(&v[6], &entry), 0);
	meta_event_hash(entry, hash);
	/* the last row rewritten consistently: the chain alone cannot tell */
	snprintf(sql, sizeof(sql), "UPDATE events SET tag = 'evil', entry = '%s', hash = '%s' WHERE seq = 7", entry,
		 hash);
	tdb_sql(&t, sql);
	verify(m, NULL, 1, 0, NULL);
	verify(m, old_head, 0, 0, "not in the log");
	/* the same done to row 3 breaks row 4's prev */
	free(entry);
	free(v[2].tag);
	v[2].tag = strdup("evil");
	CHECK_EQ(meta_event_entry(&v[2], &entry), 0);
	meta_event_hash(entry, hash);
	snprintf(sql, sizeof(sql), "UPDATE events SET tag = 'evil', entry = '%s', hash = '%s' WHERE seq = 3", entry,
		 hash);
	tdb_sql(&t, sql);
	verify(m, NULL, 0, 4, "prev does not match");
	free(entry);
	v[6].entry = NULL;
	meta_events_free(v, n);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(deleted_rows_are_named)
{
	struct tdb t;
	struct meta *m = NULL;

	tdb_init(&t);
	m = populate(&t, 5);
	tdb_sql(&t, "DELETE FROM events WHERE seq = 2");
	verify(m, NULL, 0, 3, "entries are missing");
	meta_free(m);
	tdb_cleanup(&t);
	tdb_init(&t);
	m = populate(&t, 5);
	tdb_sql(&t, "DELETE FROM events WHERE seq = 1");
	verify(m, NULL, 0, 2, "entries are missing");
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(forged_genesis_prev_is_named)
{
	struct tdb t;
	struct meta *m = NULL;

	tdb_init(&t);
	m = populate(&t, 2);
	tdb_sql(&t, "UPDATE events SET prev = 'sha256:00' WHERE seq = 1");
	verify(m, NULL, 0, 1, "prev does not match");
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(export_pages_as_json_lines)
{
	struct tdb t;
	struct meta *m = NULL;
	struct buf b;
	int64_t last = -1;
	int more = -1;
	const char *p;
	size_t lines = 0;

	tdb_init(&t);
	m = populate(&t, 3);
	buf_init(&b, BUF_UNLIMITED);
	CHECK_EQ(custody_export(m, "r", 1, 2, &b, &last, &more), 0);
	CHECK_EQ(last, 3);
	CHECK_EQ(more, 1);
	for (p = b.ptr; *p; p++)
		lines += *p == '\n';
	CHECK_EQ(lines, 2);
	CHECK(strncmp(b.ptr, "{\"action\":\"push\",\"detail\":{\"from\":null,", 39) == 0);
	CHECK(strstr(b.ptr, "\"seq\":2,") != NULL);
	CHECK(strstr(b.ptr, "\"hash\":\"sha256:") != NULL);
	buf_reset(&b);
	CHECK_EQ(custody_export(m, "other", 0, -1, &b, &last, &more), 0);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(last, 0);
	CHECK_EQ(more, 0);
	buf_release(&b);
	meta_free(m);
	tdb_cleanup(&t);
}

TEST(history_follows_tags_away)
{
	struct tdb t;
	struct meta *m = NULL;
	struct meta_event *v = NULL;
	struct meta_names tags;
	struct digest d1 = dig("{\"n\":1}"), d0 = dig("{\"n\":0}"), got;
	size_t n = 0;

	tdb_init(&t);
	m = populate(&t, 3);
	/* d1: pushed as t1 (seq 2), then t1 moved to d0 (seq 4, from d1) */
	CHECK_EQ(custody_history(m, "r", &d1, &v, &n, &tags), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(v[0].seq, 2);
	CHECK_STR(v[1].action, "tag");
	CHECK_EQ(v[1].seq, 4);
	CHECK_EQ(tags.n, 1);
	CHECK_STR(tags.v[0], "t1");
	meta_events_free(v, n);
	meta_names_release(&tags);
	CHECK_EQ(custody_history(m, "r", &d0, &v, &n, &tags), 0);
	CHECK_EQ(n, 3); /* push t0, tag t1, signature */
	CHECK_STR(v[2].action, "signature");
	CHECK_EQ(tags.n, 2);
	meta_events_free(v, n);
	meta_names_release(&tags);
	CHECK_EQ(custody_resolve_tag(m, "r", "t1", &got), 0);
	CHECK(digest_eq(&got, &d0));
	CHECK_EQ(meta_tag_delete(m, "r", "t2"), 0);
	CHECK_EQ(custody_resolve_tag(m, "r", "t2", &got), 0); /* gone, but the journal remembers */
	d1 = dig("{\"n\":2}");
	CHECK(digest_eq(&got, &d1));
	CHECK_EQ(custody_resolve_tag(m, "r", "never", &got), -BERTH_ENOENT);
	meta_free(m);
	tdb_cleanup(&t);
}

static const struct test tests[] = {
    T(intact_chain_verifies_and_reports_head),
    T(empty_journal_verifies),
    T(edited_column_is_named),
    T(edited_entry_text_is_named),
    T(rehashed_row_breaks_the_next_link_and_rewritten_tail_needs_the_head),
    T(deleted_rows_are_named),
    T(forged_genesis_prev_is_named),
    T(export_pages_as_json_lines),
    T(history_follows_tags_away),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
