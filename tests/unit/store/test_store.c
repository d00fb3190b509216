/* Unit tests for store/fs: blobs land whole or not at all, uploads are private until committed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"
#include "harness.h"

static char *tmpdir(void)
{
	char *p = xstrdup("/tmp/berth-store-XXXXXX");
	if (!mkdtemp(p))
		abort();
	return p;
}

TEST(open_creates_layout)
{
	char *root = tmpdir(), p[512];
	struct store *s = NULL;
	struct stat st;

	CHECK_EQ(store_open(root, &s), 0);
	snprintf(p, sizeof(p), "%s/blobs/sha256", root);
	CHECK_EQ(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/uploads", root);
	CHECK_EQ(stat(p, &st), 0);
	store_free(s);
	store_free(NULL);
	free(root);
}

TEST(upload_commit_and_read_back)
{
	char *root = tmpdir(), buf[16] = {0}, p[600];
	struct store *s = NULL;
	struct digest d;
	struct stat st;
	uint64_t size = 0;
	int fd = -1, rfd = -1;

	CHECK_EQ(store_open(root, &s), 0);
	digest_of(DIGEST_SHA256, "hello", 5, &d);
	CHECK_EQ(store_blob_stat(s, &d, &size), -BERTH_ENOENT);
	CHECK_EQ(store_upload_create(s, "u1", &fd), 0);
	CHECK_EQ(store_upload_create(s, "u1", &rfd), -BERTH_EEXIST);
	CHECK_EQ(store_write_all(fd, "hel", 3, 0), 0);
	CHECK_EQ(store_write_all(fd, "lo", 2, 3), 0);
	CHECK_EQ(store_upload_commit(s, "u1", fd, &d), 0);
	close(fd);
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	CHECK_EQ(size, 5);
	CHECK_EQ(store_blob_open(s, &d, &rfd, &size), 0);
	CHECK_EQ(read(rfd, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "hello");
	close(rfd);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", root, d.hex, d.hex);
	CHECK_EQ(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/uploads/u1", root);
	CHECK_EQ(stat(p, &st), -1);
	store_free(s);
	free(root);
}

TEST(second_commit_of_same_blob_keeps_one_file)
{
	char *root = tmpdir();
	struct store *s = NULL;
	struct digest d;
	uint64_t size;
	int fd = -1;

	CHECK_EQ(store_open(root, &s), 0);
	digest_of(DIGEST_SHA256, "same", 4, &d);
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof(id), "u%d", i);
		CHECK_EQ(store_upload_create(s, id, &fd), 0);
		CHECK_EQ(store_write_all(fd, "same", 4, 0), 0);
		CHECK_EQ(store_upload_commit(s, id, fd, &d), 0);
		close(fd);
		CHECK_EQ(store_upload_remove(s, id), -BERTH_ENOENT);
	}
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	CHECK_EQ(size, 4);
	store_free(s);
	free(root);
}

TEST(blob_put_verifies_digest)
{
	char *root = tmpdir();
	struct store *s = NULL;
	struct digest d;
	uint64_t size;

	CHECK_EQ(store_open(root, &s), 0);
	digest_of(DIGEST_SHA256, "abc", 3, &d);
	CHECK_EQ(store_blob_put(s, &d, "abd", 3), -BERTH_EDIGEST);
	CHECK_EQ(store_blob_stat(s, &d, &size), -BERTH_ENOENT);
	CHECK_EQ(store_blob_put(s, &d, "abc", 3), 0);
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	CHECK_EQ(store_blob_delete(s, &d), 0);
	CHECK_EQ(store_blob_delete(s, &d), -BERTH_ENOENT);
	store_free(s);
	free(root);
}

TEST(upload_open_reports_size)
{
	char *root = tmpdir();
	struct store *s = NULL;
	uint64_t size = 0;
	int fd = -1;

	CHECK_EQ(store_open(root, &s), 0);
	CHECK_EQ(store_upload_open(s, "missing", &fd, &size), -BERTH_ENOENT);
	CHECK_EQ(store_upload_create(s, "u", &fd), 0);
	CHECK_EQ(store_write_all(fd, "12345678", 8, 0), 0);
	close(fd);
	CHECK_EQ(store_upload_open(s, "u", &fd, &size), 0);
	CHECK_EQ(size, 8);
	close(fd);
	CHECK_EQ(store_upload_remove(s, "u"), 0);
	store_free(s);
	free(root);
}

TEST(space_check_keeps_reserve)
{
	char *root = tmpdir();
	struct store *s = NULL;

	CHECK_EQ(store_open(root, &s), 0);
	store_set_reserve(s, 0);
	CHECK_EQ(store_space_check(s, 1), 0);
	CHECK_EQ(store_space_check(s, UINT64_MAX), -BERTH_ENOSPC);
	store_set_reserve(s, INT64_MAX);
	CHECK_EQ(store_space_check(s, 1), -BERTH_ENOSPC);
	CHECK_EQ(store_space_check(s, 0), -BERTH_ENOSPC);
	store_set_reserve(s, -1); /* the default: 5% of the file system, at most 64 MiB */
	CHECK_EQ(store_space_check(s, 4096), 0);
	store_free(s);
	free(root);
}

TEST(upload_link_keeps_upload_until_removed)
{
	char *root = tmpdir(), p[600];
	struct store *s = NULL;
	struct digest d;
	struct stat st;
	uint64_t size = 0;
	int64_t mtime = 0;
	int fd = -1;

	CHECK_EQ(store_open(root, &s), 0);
	digest_of(DIGEST_SHA256, "linked", 6, &d);
	CHECK_EQ(store_upload_create(s, "u", &fd), 0);
	CHECK_EQ(store_write_all(fd, "linked", 6, 0), 0);
	CHECK_EQ(store_upload_link(s, "u", fd, &d), 0);
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	CHECK_EQ(size, 6);
	CHECK_EQ(store_upload_stat(s, "u", &size, &mtime), 0); /* the upload is still there */
	CHECK(mtime > 0);
	/* the blob went away (a collector): link again from the same upload */
	CHECK_EQ(store_blob_delete(s, &d), 0);
	CHECK_EQ(store_upload_link(s, "u", fd, &d), 0);
	CHECK_EQ(store_upload_link(s, "u", fd, &d), 0); /* already there: fine */
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", root, d.hex, d.hex);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_nlink, 2);
	close(fd);
	CHECK_EQ(store_upload_remove(s, "u"), 0);
	CHECK_EQ(store_upload_stat(s, "u", NULL, NULL), -BERTH_ENOENT);
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	/* sha512 folders are made on demand */
	digest_of(DIGEST_SHA512, "linked", 6, &d);
	CHECK_EQ(store_upload_create(s, "v", &fd), 0);
	CHECK_EQ(store_write_all(fd, "linked", 6, 0), 0);
	CHECK_EQ(store_upload_commit(s, "v", fd, &d), 0);
	close(fd);
	CHECK_EQ(store_blob_stat(s, &d, &size), 0);
	CHECK_EQ(store_upload_stat(s, "v", NULL, NULL), -BERTH_ENOENT);
	store_free(s);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK_EQ(system(p), 0);
	free(root);
}

struct seen {
	int n, sha512;
	uint64_t bytes;
};

static int count_blob(const struct digest *d, uint64_t size, int64_t mtime_ms, void *ctx)
{
	struct seen *x = ctx;

	x->n++;
	x->bytes += size;
	x->sha512 += d->alg == DIGEST_SHA512;
	return 0;
}

static int stop_at_first(const struct digest *d, uint64_t size, int64_t mtime_ms, void *ctx)
{
	(*(int *)ctx)++;
	return 1;
}

TEST(blob_each_lists_blobs_only)
{
	char *root = tmpdir(), p[600];
	struct store *s = NULL;
	struct digest a, b, c;
	struct seen x = {0};
	int calls = 0;
	FILE *f;

	CHECK_EQ(store_open(root, &s), 0);
	CHECK_EQ(store_blob_each(s, count_blob, &x), 0);
	CHECK_EQ(x.n, 0);
	digest_of(DIGEST_SHA256, "aa", 2, &a);
	digest_of(DIGEST_SHA256, "bbb", 3, &b);
	digest_of(DIGEST_SHA512, "cccc", 4, &c);
	CHECK_EQ(store_blob_put(s, &a, "aa", 2), 0);
	CHECK_EQ(store_blob_put(s, &b, "bbb", 3), 0);
	CHECK_EQ(store_blob_put(s, &c, "cccc", 4), 0);
	/* junk: a temp name, a digest in the wrong fan-out folder, upper-case hex, a folder */
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/tmp-123", root, a.hex);
	f = fopen(p, "w");
	fclose(f);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s/%s", root, a.hex[0] == '0' ? "11" : "00", a.hex);
	f = fopen(p, "w");
	fclose(f);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/%s", root, b.hex, b.hex);
	for (char *q = p + strlen(p) - 64; *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 32);
	f = fopen(p, "w");
	fclose(f);
	CHECK_EQ(store_blob_each(s, count_blob, &x), 0);
	CHECK_EQ(x.n, 3);
	CHECK_EQ(x.bytes, 9);
	CHECK_EQ(x.sha512, 1);
	CHECK_EQ(store_blob_each(s, stop_at_first, &calls), 0);
	CHECK_EQ(calls, 1);
	store_free(s);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK_EQ(system(p), 0);
	free(root);
}

static const struct test tests[] = {
    T(open_creates_layout),
    T(upload_commit_and_read_back),
    T(second_commit_of_same_blob_keeps_one_file),
    T(blob_put_verifies_digest),
    T(upload_open_reports_size),
    T(space_check_keeps_reserve),
    T(upload_link_keeps_upload_until_removed),
    T(blob_each_lists_blobs_only),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
