/* File helpers shared by the path transports: verified copies, linking spooled downloads into
 * place, atomic writes, and tar extraction/creation with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "client/transport.h"

#define IO_CHUNK (1 << 20)

static int errno_fail(struct client_err *e, const char *what, const char *path)
{
	int saved = errno;
	return client_err_set(e, berth_from_errno(saved), "%s %s: %s", what, path, strerror(saved));
}

char *client__blob_path(const char *dir, const struct digest *d)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s/blobs/%s/%s", dir, digest_alg_name(d->alg), d->hex);
	return buf_detach(&b, NULL);
}

/* Hashes fd from offset 0 into h, optionally copying to out_fd; returns the byte count in *n. */
static int hash_fd(int fd, int out_fd, struct hasher *h, uint64_t limit, uint64_t *n, struct client_xfer *x,
		   uint64_t total, struct client_err *e)
{
	char *buf = xmalloc(IO_CHUNK);
	uint64_t off = 0;
	int rc = 0;

	for (;;) {
		ssize_t got = pread(fd, buf, IO_CHUNK, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = client_err_set(e, berth_from_errno(errno), "read: %s", strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if (x && x->cancel && atomic_load(x->cancel)) {
			rc = client_err_set(e, -BERTH_EIO, "cancelled");
			break;
		}
		if (off + (uint64_t)got > limit) {
			rc = client_err_set(e, -BERTH_ETOOBIG, "more bytes than the %llu expected",
					    (unsigned long long)limit);
			break;
		}
		hasher_update(h, buf, (size_t)got);
		if (out_fd >= 0) {
			for (ssize_t done = 0; done < got;) {
				ssize_t w = write(out_fd, buf + done, (size_t)(got - done));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					rc = client_err_set(e, berth_from_errno(errno), "write: %s", strerror(errno));
					goto out;
				}
				done += w;
			}
		}
		off += (uint64_t)got;
		if (x && x->progress)
			x->progress(x->ctx, off, total);
	}
out:
	free(buf);
	*n = off;
	return rc;
}

static int check_digest(const struct image_desc *d, struct hasher *h, uint64_t n, const char *what,
			struct client_err *e)
{
	struct digest got;
	char ds[DIGEST_STR_MAX], gs[DIGEST_STR_MAX];

	hasher_final(h, &got);
	digest_str(&d->digest, ds);
	if (n != (uint64_t)d->size)
		return client_err_set(e, -BERTH_EDIGEST,
				      "size mismatch: %s %s has %llu bytes, its descriptor says %lld", what, ds,
				      (unsigned long long)n, (long long)d->size);
	if (!digest_eq(&got, &d->digest))
		return client_err_set(e, -BERTH_EDIGEST, "digest mismatch: %s %s hashes to %s", what, ds,
				      digest_str(&got, gs));
	return 0;
}

int client__fd_verify(int fd, const struct image_desc *d, const char *what, struct client_xfer *x, struct client_err *e)
{
	struct hasher h;
	uint64_t n = 0;
	int rc = hasher_init(&h, d->digest.alg);

	if (rc < 0)
		return client_err_set(e, rc, "out of memory");
	rc = hash_fd(fd, -1, &h, (uint64_t)d->size, &n, x, (uint64_t)d->size, e);
	if (rc == -BERTH_ETOOBIG) {
		char ds[DIGEST_STR_MAX];
		rc =
		    client_err_set(e, -BERTH_EDIGEST, "size mismatch: %s %s is larger than its descriptor's %lld bytes",
				   what, digest_str(&d->digest, ds), (long long)d->size);
	} else if (rc == 0) {
		rc = check_digest(d, &h, n, what, e);
	}
	hasher_release(&h);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = client_err_set(e, -BERTH_EIO, "seek: %s", strerror(errno));
	return rc;
}

int client__fd_copy_verified(int fd, const char *path, const struct image_desc *d, struct client_xfer *x,
			     struct client_err *e)
{
	struct hasher h = {0};
	struct buf tmp;
	uint64_t n = 0;
	int out = -1, rc;

	buf_init(&tmp, BUF_UNLIMITED);
	buf_addf(&tmp, "%s.tmp-XXXXXX", path);
	out = mkostemp(tmp.ptr, O_CLOEXEC);
	if (out < 0) {
		rc = errno_fail(e, "cannot create", tmp.ptr);
		goto out;
	}
	rc = hasher_init(&h, d->digest.alg);
	if (rc == 0)
		rc = hash_fd(fd, out, &h, (uint64_t)d->size, &n, x, (uint64_t)d->size, e);
	if (rc == 0)
		rc = check_digest(d, &h, n, "blob", e);
	if (rc == 0 && (fchmod(out, 0644) < 0 || fsync(out) < 0))
		rc = errno_fail(e, "cannot write", tmp.ptr);
	if (rc == 0 && rename(tmp.ptr, path) < 0)
		rc = errno_fail(e, "cannot rename into", path);
	if (rc < 0)
		unlink(tmp.ptr);
out:
	hasher_release(&h);
	if (out >= 0)
		close(out);
	buf_release(&tmp);
	return rc;
}

int client__fd_link(int fd, const char *path)
{
	char proc[64];

	if (fsync(fd) < 0)
		return -BERTH_EIO;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return 0; /* content-addressed: the same bytes are there already */
	return -BERTH_EUNSUPPORTED;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void client__rmtree(const char *path)
{
	if (path && *path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int client__mkdirs(const char *path, struct client_err *e)
{
	int rc = fs_mkdirs(path);
	if (rc < 0)
		return client_err_set(e, rc, "cannot create folder %s: %s", path, strerror(errno));
	return 0;
}

int client__file_read(const char *path, size_t max, struct buf *out, struct client_err *e)
{
	char *chunk;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return client_err_set(e, -BERTH_ENOENT, "%s does not exist", path);
		return errno_fail(e, "cannot read", path);
	}
	chunk = xmalloc(65536);
	buf_reset(out);
	out->max = max;
	while ((n = read(fd, chunk, 65536)) > 0) {
		if (buf_add(out, chunk, (size_t)n) < 0) {
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s is larger than %zu bytes", path, max);
			break;
		}
	}
	if (n < 0 && rc == 0)
		rc = errno_fail(e, "cannot read", path);
	free(chunk);
	close(fd);
	return rc;
}

int client__file_write_atomic(const char *path, const void *data, size_t len, struct client_err *e)
{
	struct buf tmp;
	char *dir, *slash;
	int fd = -1, rc = 0;
	size_t done = 0;

	buf_init(&tmp, BUF_UNLIMITED);
	buf_addf(&tmp, "%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp.ptr, O_CLOEXEC);
	if (fd < 0) {
		rc = errno_fail(e, "cannot create", tmp.ptr);
		goto out;
	}
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = errno_fail(e, "cannot write", tmp.ptr);
			break;
		}
		done += (size_t)w;
	}
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = errno_fail(e, "cannot write", tmp.ptr);
	if (rc == 0 && rename(tmp.ptr, path) < 0)
		rc = errno_fail(e, "cannot rename into", path);
	if (rc < 0) {
		unlink(tmp.ptr);
		goto out;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		fs_sync_dir(slash == dir ? "/" : dir);
	} else {
		fs_sync_dir(".");
	}
	free(dir);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&tmp);
	return rc;
}

/* ---------------------------------------------------------------- tar */

/* A safe relative name: no leading '/', no "..", no empty components (a leading "./" is dropped);
 * writes it into out without a trailing '/'. 0 or -BERTH_EINVAL. */
static int clean_name(const char *in, struct buf *out)
{
	const char *p = in;

	buf_reset(out);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (*p == '/' || !*p)
		return -BERTH_EINVAL;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (end ? 1 : 0);
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -BERTH_EINVAL;
		if (out->len)
			buf_add(out, "/", 1);
		buf_add(out, p, n);
		p += n + (end ? 1 : 0);
	}
	return out->len ? 0 : -BERTH_EINVAL;
}

/* Creates the folders of name's parents under dirfd. */
static int make_parents(int dirfd, const char *name)
{
	char *copy = xstrdup(name);
	int rc = 0;

	for (char *p = copy; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdirat(dirfd, copy, 0755) < 0 && errno != EEXIST)
			rc = -BERTH_EIO;
		*p = '/';
	}
	free(copy);
	return rc;
}

int client__tar_extract(const char *tar, const char *dir, void **links_out, struct client_err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	json_t *links = json_object();
	struct buf name;
	int dirfd = -1, rc = 0, r;

	buf_init(&name, 4096);
	if (links_out)
		*links_out = NULL;
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a); /* no filter_all: some of those run external programs */
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = errno_fail(e, "cannot open", dir);
		goto out;
	}
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		rc = client_err_set(e, errno == ENOENT ? -BERTH_ENOENT : -BERTH_EINVAL, "cannot read %s: %s", tar,
				    archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *pn = archive_entry_pathname(ent), *hl = archive_entry_hardlink(ent);
		mode_t type = archive_entry_filetype(ent);
		int fd;

		if (!pn || clean_name(pn, &name) < 0) {
			rc = client_err_set(e, -BERTH_EINVAL, "%s: unsafe entry name '%s'", tar, pn ? pn : "");
			goto out;
		}
		if (hl) {
			struct buf target;
			buf_init(&target, 4096);
			if (clean_name(hl, &target) < 0) {
				buf_release(&target);
				rc = client_err_set(e, -BERTH_EINVAL, "%s: unsafe hard link '%s'", tar, hl);
				goto out;
			}
			/* a hard link names another entry from the archive's root */
			{
				struct buf abs;
				buf_init(&abs, 4200);
				buf_addf(&abs, "/%s", target.ptr);
				json_object_set_new(links, name.ptr, json_string(abs.ptr));
				buf_release(&abs);
			}
			buf_release(&target);
			continue;
		}
		if (type == AE_IFDIR) {
			if (make_parents(dirfd, name.ptr) < 0 ||
			    (mkdirat(dirfd, name.ptr, 0755) < 0 && errno != EEXIST)) {
				rc = client_err_set(e, -BERTH_EIO, "%s: cannot create folder %s", tar, name.ptr);
				goto out;
			}
			continue;
		}
		if (type == AE_IFLNK) {
			const char *t = archive_entry_symlink(ent);
			if (t && strlen(t) < 4096)
				json_object_set_new(links, name.ptr, json_string(t));
			continue;
		}
		if (type != AE_IFREG)
			continue; /* devices, fifos: not part of an image archive */
		if (make_parents(dirfd, name.ptr) < 0) {
			rc = client_err_set(e, -BERTH_EIO, "%s: cannot create the folders of %s", tar, name.ptr);
			goto out;
		}
		unlinkat(dirfd, name.ptr, 0);
		fd = openat(dirfd, name.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = client_err_set(e, -BERTH_EIO, "%s: cannot create %s: %s", tar, name.ptr, strerror(errno));
			goto out;
		}
		for (;;) {
			const void *blk;
			size_t sz;
			la_int64_t off;
			r = archive_read_data_block(a, &blk, &sz, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK) {
				rc = client_err_set(e, -BERTH_EINVAL, "%s: %s", tar, archive_error_string(a));
				break;
			}
			if (pwrite(fd, blk, sz, (off_t)off) != (ssize_t)sz) {
				rc = client_err_set(e, berth_from_errno(errno), "%s: cannot write %s: %s", tar,
						    name.ptr, strerror(errno));
				break;
			}
		}
		if (rc == 0 && ftruncate(fd, archive_entry_size(ent)) < 0)
			rc = client_err_set(e, -BERTH_EIO, "%s: cannot write %s", tar, name.ptr);
		close(fd);
		if (rc < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: not a readable tar: %s", tar, archive_error_string(a));
		goto out;
	}
	if (links_out) {
		*links_out = links;
		links = NULL;
	}
out:
	json_decref(links);
	archive_read_free(a);
	if (dirfd >= 0)
		close(dirfd);
	buf_release(&name);
	return rc;
}

static int add_tree(struct archive *a, const char *root, const char *rel, struct client_err *e)
{
	struct dirent **list = NULL;
	struct buf full;
	int n, rc = 0;

	buf_init(&full, BUF_UNLIMITED);
	buf_addf(&full, "%s%s%s", root, *rel ? "/" : "", rel);
	n = scandir(full.ptr, &list, NULL, alphasort);
	if (n < 0) {
		rc = errno_fail(e, "cannot list", full.ptr);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		struct buf child, path;
		struct stat st;
		struct archive_entry *ent;

		if (rc < 0 || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		buf_init(&child, BUF_UNLIMITED);
		buf_init(&path, BUF_UNLIMITED);
		buf_addf(&child, "%s%s%s", rel, *rel ? "/" : "", nm);
		buf_addf(&path, "%s/%s", root, child.ptr);
		if (lstat(path.ptr, &st) < 0) {
			rc = errno_fail(e, "cannot stat", path.ptr);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t tn = readlink(path.ptr, target, sizeof(target) - 1);
			if (tn < 0) {
				rc = errno_fail(e, "cannot read link", path.ptr);
			} else {
				target[tn] = '\0';
				ent = archive_entry_new();
				archive_entry_set_pathname(ent, child.ptr);
				archive_entry_set_filetype(ent, AE_IFLNK);
				archive_entry_set_symlink(ent, target);
				archive_entry_set_perm(ent, 0777);
				archive_entry_set_uid(ent, 0);
				archive_entry_set_gid(ent, 0);
				archive_entry_set_mtime(ent, 0, 0);
				if (archive_write_header(a, ent) != ARCHIVE_OK)
					rc = client_err_set(e, -BERTH_EIO, "tar: %s", archive_error_string(a));
				archive_entry_free(ent);
			}
		} else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
			ent = archive_entry_new();
			archive_entry_set_pathname(ent, child.ptr);
			archive_entry_set_filetype(ent, S_ISDIR(st.st_mode) ? AE_IFDIR : AE_IFREG);
			archive_entry_set_perm(ent, S_ISDIR(st.st_mode) ? 0755 : 0644);
			archive_entry_set_size(ent, S_ISDIR(st.st_mode) ? 0 : st.st_size);
			archive_entry_set_uid(ent, 0);
			archive_entry_set_gid(ent, 0);
			archive_entry_set_mtime(ent, 0, 0);
			if (archive_write_header(a, ent) != ARCHIVE_OK) {
				rc = client_err_set(e, -BERTH_EIO, "tar: %s", archive_error_string(a));
			} else if (S_ISREG(st.st_mode)) {
				int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
				char *chunk = xmalloc(IO_CHUNK);
				ssize_t got;
				if (fd < 0)
					rc = errno_fail(e, "cannot read", path.ptr);
				while (rc == 0 && (got = read(fd, chunk, IO_CHUNK)) > 0)
					if (archive_write_data(a, chunk, (size_t)got) != got)
						rc = client_err_set(e, -BERTH_EIO, "tar: %s", archive_error_string(a));
				if (fd >= 0)
					close(fd);
				free(chunk);
			}
			archive_entry_free(ent);
			if (rc == 0 && S_ISDIR(st.st_mode))
				rc = add_tree(a, root, child.ptr, e);
		}
		buf_release(&child);
		buf_release(&path);
	}
out:
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	buf_release(&full);
	return rc;
}

int client__tar_create(const char *path, const char *dir, struct client_err *e)
{
	struct archive *a = archive_write_new();
	struct buf tmp;
	int fd = -1, rc = 0;

	buf_init(&tmp, BUF_UNLIMITED);
	buf_addf(&tmp, "%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp.ptr, O_CLOEXEC);
	if (fd < 0) {
		rc = errno_fail(e, "cannot create", tmp.ptr);
		goto out;
	}
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = client_err_set(e, -BERTH_EIO, "tar: %s", archive_error_string(a));
		goto out;
	}
	rc = add_tree(a, dir, "", e);
	if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
		rc = client_err_set(e, -BERTH_EIO, "tar: %s", archive_error_string(a));
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = errno_fail(e, "cannot write", tmp.ptr);
	if (rc == 0 && rename(tmp.ptr, path) < 0)
		rc = errno_fail(e, "cannot rename into", path);
out:
	if (rc < 0 && fd >= 0)
		unlink(tmp.ptr);
	archive_write_free(a);
	if (fd >= 0)
		close(fd);
	buf_release(&tmp);
	return rc;
}
