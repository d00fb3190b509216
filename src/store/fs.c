/* store/fs: the local file-system blob store (see store.h for the invariants). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fault.h"
#include "base/util.h"
#include "store/store.h"

struct store {
	char *root;
	int64_t reserve; /* bytes kept free for metadata; < 0: 5% of the file system, at most 64 MiB */
};

int store_open(const char *root, struct store **out)
{
	char p[PATH_MAX];
	struct store *s = NULL;
	int rc;

	*out = NULL;
	rc = fs_mkdirs(root);
	if (rc < 0)
		return rc;
	snprintf(p, sizeof(p), "%s/blobs/sha256", root);
	rc = fs_mkdirs(p);
	if (rc < 0)
		return rc;
	/* All 256 sha256 fan-out folders up front: a commit never has to create and fsync one. */
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/blobs/sha256/%02x", root, i);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return berth_from_errno(errno);
	}
	snprintf(p, sizeof(p), "%s/blobs/sha512", root);
	rc = fs_mkdirs(p);
	if (rc < 0)
		return rc;
	snprintf(p, sizeof(p), "%s/uploads", root);
	rc = fs_mkdirs(p);
	if (rc < 0)
		return rc;
	/* Make the folder tree itself durable, deepest first, before any blob is renamed into it. */
	for (int i = 0; i < 3; i++) {
		static const char *const dirs[] = {"/blobs/sha256", "/blobs", ""};
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		rc = fs_sync_dir(p);
		if (rc < 0)
			return rc;
	}
	s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(root);
	s->reserve = -1;
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	free(s->root);
	free(s);
}

const char *store_root(const struct store *s)
{
	return s->root;
}

/* fsync of a file on the data path (fault point fsync). */
static int file_sync(int fd)
{
	int fe = fault_hit(FAULT_FSYNC);

	if (fe)
		return berth_from_errno(fe);
	return fsync(fd) < 0 ? berth_from_errno(errno) : 0;
}

/* fsync of a folder on the data path (fault point fsync). */
static int dir_sync(const char *path)
{
	int fe = fault_hit(FAULT_FSYNC);

	if (fe)
		return berth_from_errno(fe);
	return fs_sync_dir(path);
}

/* rename(2) or link(2) into blobs/ (fault point rename): 0 or -1 with errno set. */
static int publish(const char *from, const char *to, int hard)
{
	int fe = fault_hit(FAULT_RENAME);

	if (fe) {
		errno = fe;
		return -1;
	}
	return hard ? link(from, to) : rename(from, to);
}

/* <root>/blobs/<alg>/<2 hex>/<hex>; dir gets the folder part when not NULL. */
static void blob_path(const struct store *s, const struct digest *d, char *path, size_t n, char *dir, size_t dn)
{
	snprintf(path, n, "%s/blobs/%s/%.2s/%s", s->root, digest_alg_name(d->alg), d->hex, d->hex);
	if (dir)
		snprintf(dir, dn, "%s/blobs/%s/%.2s", s->root, digest_alg_name(d->alg), d->hex);
}

static void upload_path(const struct store *s, const char *uuid, char *path, size_t n)
{
	snprintf(path, n, "%s/uploads/%s", s->root, uuid);
}

int store_blob_stat(struct store *s, const struct digest *d, uint64_t *size)
{
	char p[PATH_MAX];
	struct stat st;

	blob_path(s, d, p, sizeof(p), NULL, 0);
	if (stat(p, &st) < 0)
		return berth_from_errno(errno);
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

/* Opens path with flags and reports its size. */
static int open_sized(const char *path, int flags, int *fd, uint64_t *size)
{
	struct stat st;
	int f = open(path, flags | O_CLOEXEC);

	if (f < 0)
		return berth_from_errno(errno);
	if (fstat(f, &st) < 0) {
		int e = errno;
		close(f);
		return berth_from_errno(e);
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

int store_blob_open(struct store *s, const struct digest *d, int *fd, uint64_t *size)
{
	char p[PATH_MAX];

	blob_path(s, d, p, sizeof(p), NULL, 0);
	return open_sized(p, O_RDONLY, fd, size);
}

void store_write_behind(int fd, uint64_t off, uint64_t n)
{
	(void)sync_file_range(fd, (off64_t)off, (off64_t)n, SYNC_FILE_RANGE_WRITE);
}

int store_write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;
	int fe = fault_hit(FAULT_WRITE);

	if (fe)
		return berth_from_errno(fe);
	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return berth_from_errno(errno);
		if (w == 0)
			return -BERTH_EIO;
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Moves the fsynced file at from to blob d's path, making the two-hex folder durable first. */
static int install(struct store *s, const char *from, const struct digest *d)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int rc;

	blob_path(s, d, p, sizeof(p), dir, sizeof(dir));
	if (stat(dir, &st) < 0) {
		char parent[PATH_MAX];
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return berth_from_errno(errno);
		snprintf(parent, sizeof(parent), "%s/blobs/%s", s->root, digest_alg_name(d->alg));
		rc = dir_sync(parent);
		if (rc < 0)
			return rc;
	}
	if (stat(p, &st) == 0) {
		/* Already committed by someone else: identical bytes by construction; keep the old file. */
		unlink(from);
		return 0;
	}
	if (publish(from, p, 0) < 0)
		return berth_from_errno(errno);
	return dir_sync(dir);
}

int store_blob_put(struct store *s, const struct digest *d, const void *p, size_t n)
{
	char tmp[PATH_MAX], uuid[37];
	struct digest got;
	int fd = -1, rc;

	digest_of(d->alg, p, n, &got);
	if (!digest_eq(&got, d))
		return -BERTH_EDIGEST;
	if (store_blob_stat(s, d, NULL) == 0)
		return 0;
	rc = uuid_new(uuid);
	if (rc < 0)
		return rc;
	upload_path(s, uuid, tmp, sizeof(tmp));
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return berth_from_errno(errno);
	rc = store_write_all(fd, p, n, 0);
	if (rc == 0)
		rc = file_sync(fd);
	if (rc == 0)
		rc = install(s, tmp, d);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int store_blob_delete(struct store *s, const struct digest *d)
{
	char p[PATH_MAX];

	blob_path(s, d, p, sizeof(p), NULL, 0);
	if (unlink(p) < 0)
		return berth_from_errno(errno);
	return 0;
}

int store_blob_each(struct store *s, int (*fn)(const struct digest *d, uint64_t size, int64_t mtime_ms, void *ctx),
		    void *ctx)
{
	static const enum digest_alg algs[] = {DIGEST_SHA256, DIGEST_SHA512};
	char p[PATH_MAX], name[DIGEST_STR_MAX + 8];
	struct dirent *de, *fe;
	DIR *top = NULL, *sub = NULL;
	int rc = 0, stop = 0;

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]) && !stop; a++) {
		snprintf(p, sizeof(p), "%s/blobs/%s", s->root, digest_alg_name(algs[a]));
		top = opendir(p);
		if (!top) {
			if (errno == ENOENT)
				continue;
			return berth_from_errno(errno);
		}
		while (!stop && (de = readdir(top)) != NULL) {
			if (de->d_name[0] == '.' || strlen(de->d_name) != 2)
				continue;
			snprintf(p, sizeof(p), "%s/blobs/%s/%s", s->root, digest_alg_name(algs[a]), de->d_name);
			sub = opendir(p);
			if (!sub)
				continue; /* not a folder, or gone */
			while (!stop && (fe = readdir(sub)) != NULL) {
				struct digest d;
				struct stat st;
				if (fe->d_name[0] == '.' || strlen(fe->d_name) > DIGEST_HEX_MAX)
					continue;
				snprintf(name, sizeof(name), "%s:%.*s", digest_alg_name(algs[a]), DIGEST_HEX_MAX,
					 fe->d_name);
				if (digest_parse_cstr(name, &d) < 0 || strncmp(fe->d_name, de->d_name, 2) != 0)
					continue;
				if (fstatat(dirfd(sub), fe->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISREG(st.st_mode))
					continue;
				stop = fn(&d, (uint64_t)st.st_size,
					  (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000, ctx);
			}
			closedir(sub);
		}
		closedir(top);
	}
	return rc;
}

int store_upload_create(struct store *s, const char *uuid, int *fd)
{
	char p[PATH_MAX];
	int f;

	upload_path(s, uuid, p, sizeof(p));
	f = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f < 0)
		return berth_from_errno(errno);
	*fd = f;
	return 0;
}

int store_upload_open(struct store *s, const char *uuid, int *fd, uint64_t *size)
{
	char p[PATH_MAX];

	upload_path(s, uuid, p, sizeof(p));
	return open_sized(p, O_RDWR, fd, size);
}

int store_upload_link(struct store *s, const char *uuid, int fd, const struct digest *d)
{
	char from[PATH_MAX], p[PATH_MAX], dir[PATH_MAX];

	int rc;

	if (futimens(fd, NULL) < 0)
		return berth_from_errno(errno);
	rc = file_sync(fd);
	if (rc < 0)
		return rc;
	upload_path(s, uuid, from, sizeof(from));
	blob_path(s, d, p, sizeof(p), dir, sizeof(dir));
	if (publish(from, p, 1) < 0) {
		if (errno == ENOENT && mkdir(dir, 0755) == 0) {
			/* a fan-out folder that is not made up front (sha512): create it durably and retry */
			char parent[PATH_MAX];
			snprintf(parent, sizeof(parent), "%s/blobs/%s", s->root, digest_alg_name(d->alg));
			rc = dir_sync(parent);
			if (rc < 0)
				return rc;
			if (publish(from, p, 1) == 0)
				return dir_sync(dir);
		}
		if (errno != EEXIST)
			return berth_from_errno(errno);
		return 0; /* already committed by someone else; the old file is durable */
	}
	return dir_sync(dir);
}

int store_upload_unshare(struct store *s, const char *uuid, int *fd)
{
	char p[PATH_MAX], tmp[PATH_MAX + 8];
	struct stat st;
	off_t in = 0, out = 0;
	int nfd = -1, rc = 0;

	if (fstat(*fd, &st) < 0)
		return berth_from_errno(errno);
	upload_path(s, uuid, p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.copy", p);
	nfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (nfd < 0)
		return berth_from_errno(errno);
	while (rc == 0 && in < st.st_size) {
		ssize_t n = copy_file_range(*fd, &in, nfd, &out, (size_t)(st.st_size - in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? berth_from_errno(errno) : -BERTH_EIO;
	}
	if (rc == 0 && rename(tmp, p) < 0)
		rc = berth_from_errno(errno);
	if (rc < 0) {
		close(nfd);
		unlink(tmp);
		return rc;
	}
	close(*fd);
	*fd = nfd;
	return 0;
}

int store_upload_commit(struct store *s, const char *uuid, int fd, const struct digest *d)
{
	int rc = store_upload_link(s, uuid, fd, d);

	if (rc == 0)
		store_upload_remove(s, uuid);
	return rc;
}

int store_upload_stat(struct store *s, const char *uuid, uint64_t *size, int64_t *mtime_ms)
{
	char p[PATH_MAX];
	struct stat st;

	upload_path(s, uuid, p, sizeof(p));
	if (stat(p, &st) < 0)
		return berth_from_errno(errno);
	if (size)
		*size = (uint64_t)st.st_size;
	if (mtime_ms)
		*mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	return 0;
}

int store_upload_remove(struct store *s, const char *uuid)
{
	char p[PATH_MAX];

	upload_path(s, uuid, p, sizeof(p));
	if (unlink(p) < 0)
		return berth_from_errno(errno);
	return 0;
}

void store_set_reserve(struct store *s, int64_t reserve)
{
	s->reserve = reserve;
}

int store_space_check(struct store *s, uint64_t n)
{
	struct statvfs v;
	uint64_t avail, reserve;

	if (statvfs(s->root, &v) < 0)
		return 0; /* cannot tell: let the write itself report ENOSPC */
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (s->reserve >= 0) {
		reserve = (uint64_t)s->reserve;
	} else {
		reserve = (uint64_t)v.f_blocks * v.f_frsize / 20;
		if (reserve > (64u << 20))
			reserve = 64u << 20;
	}
	return avail >= reserve && avail - reserve >= n ? 0 : -BERTH_ENOSPC;
}

int store_upload_each(struct store *s, int (*fn)(const char *uuid, void *ctx), void *ctx)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(p, sizeof(p), "%s/uploads", s->root);
	d = opendir(p);
	if (!d)
		return berth_from_errno(errno);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fn(de->d_name, ctx))
			break;
	}
	closedir(d);
	return 0;
}
