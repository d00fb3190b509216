/* Unit tests for store/fs: blobs land whole or not at all, uploads are private until committed. */
#include <fcntl.h>
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

static const struct test tests[] = {
	T(open_creates_layout),
	T(upload_commit_and_read_back),
	T(second_commit_of_same_blob_keeps_one_file),
	T(blob_put_verifies_digest),
	T(upload_open_reports_size),
	T(space_check_keeps_reserve),
	{0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
