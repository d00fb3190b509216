/* fsutil: tree removal and copy without following symlinks, a string set, atomic small files. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "graph/extract.h"
#include "graph/internal.h"

/* Trees come from extraction, which caps their depth; a little room for the store's own levels. */
#define TREE_DEPTH_MAX (GRAPH_MAX_DEPTH + 16)

static int open_dir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int clear_fd(int fd, dev_t dev, int depth);

static int rm_rf(int dirfd, const char *name, dev_t dev, int depth, int check_dev)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berth_from_errno(errno);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return berth_from_errno(errno);
		return 0;
	}
	if (check_dev && st.st_dev != dev)
		return -BERTH_EBUSY; /* a mount point: never delete through it */
	if (depth > TREE_DEPTH_MAX)
		return -BERTH_ETOOBIG;
	fd = open_dir(dirfd, name);
	if (fd < 0)
		return berth_from_errno(errno);
	rc = clear_fd(fd, st.st_dev, depth + 1);
	close(fd);
	if (rc < 0)
		return rc;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berth_from_errno(errno);
	return 0;
}

static int clear_fd(int fd, dev_t dev, int depth)
{
	int dfd = dup(fd), rc = 0;
	DIR *d;
	struct dirent *de;

	if (dfd < 0)
		return berth_from_errno(errno);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return berth_from_errno(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
				rc = berth_from_errno(errno);
				break;
			}
			continue;
		}
		rc = rm_rf(fd, de->d_name, dev, depth, 1);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

int graph__rm_rf_at(int dirfd, const char *name)
{
	return rm_rf(dirfd, name, 0, 0, 0);
}

int graph__clear_dir(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return berth_from_errno(errno);
	return clear_fd(fd, st.st_dev, 0);
}

/* ---- copy ---- */

struct hl_slot {
	dev_t dev;
	ino_t ino;
	char *rel; /* NULL: empty slot */
};

struct cp {
	int dst_root;
	struct hl_slot *hl;
	size_t hlcap, hln;
	struct buf rel;
};

static size_t hl_hash(dev_t d, ino_t i, size_t cap)
{
	uint64_t h = ((uint64_t)d * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)i * 0xff51afd7ed558ccdull);
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static const char *hl_find(struct cp *c, dev_t d, ino_t i)
{
	if (!c->hlcap)
		return NULL;
	for (size_t k = hl_hash(d, i, c->hlcap);; k = (k + 1) & (c->hlcap - 1)) {
		if (!c->hl[k].rel)
			return NULL;
		if (c->hl[k].dev == d && c->hl[k].ino == i)
			return c->hl[k].rel;
	}
}

static int hl_add(struct cp *c, dev_t d, ino_t i, const char *rel)
{
	if ((c->hln + 1) * 2 > c->hlcap) {
		size_t nc = c->hlcap ? c->hlcap * 2 : 64;
		struct hl_slot *n = calloc(nc, sizeof(*n));
		if (!n)
			return -BERTH_ENOMEM;
		for (size_t k = 0; k < c->hlcap; k++) {
			if (!c->hl[k].rel)
				continue;
			size_t j = hl_hash(c->hl[k].dev, c->hl[k].ino, nc);
			while (n[j].rel)
				j = (j + 1) & (nc - 1);
			n[j] = c->hl[k];
		}
		free(c->hl);
		c->hl = n;
		c->hlcap = nc;
	}
	size_t j = hl_hash(d, i, c->hlcap);
	while (c->hl[j].rel)
		j = (j + 1) & (c->hlcap - 1);
	c->hl[j].rel = strdup(rel);
	if (!c->hl[j].rel)
		return -BERTH_ENOMEM;
	c->hl[j].dev = d;
	c->hl[j].ino = i;
	c->hln++;
	return 0;
}

/* Copies xattrs from (sfd or sparent/name) to (dfd or dparent/name). */
static int copy_xattrs(int sfd, int sparent, int dfd, int dparent, const char *name)
{
	char sp[4352], dp[4352], list[65536];
	ssize_t n;
	int rc = 0;

	if (sfd < 0) {
		if (!name)
			return -BERTH_EINVAL;
		if ((size_t)snprintf(sp, sizeof(sp), "/proc/self/fd/%d/%s", sparent, name) >= sizeof(sp) ||
		    (size_t)snprintf(dp, sizeof(dp), "/proc/self/fd/%d/%s", dparent, name) >= sizeof(dp))
			return -BERTH_EINVAL;
	}
	n = sfd >= 0 ? flistxattr(sfd, list, sizeof(list)) : llistxattr(sp, list, sizeof(list));
	if (n < 0)
		return errno == ENOTSUP ? 0 : berth_from_errno(errno);
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		char *val = malloc(65536);
		ssize_t vl;
		if (!val)
			return -BERTH_ENOMEM;
		vl = sfd >= 0 ? fgetxattr(sfd, k, val, 65536) : lgetxattr(sp, k, val, 65536);
		if (vl >= 0 &&
		    (dfd >= 0 ? fsetxattr(dfd, k, val, (size_t)vl, 0) : lsetxattr(dp, k, val, (size_t)vl, 0)) < 0 &&
		    errno != ENOTSUP)
			rc = berth_from_errno(errno);
		free(val);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int copy_data(int in, int out)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return berth_from_errno(errno);
		break;
	}
	{
		char *b = malloc(1 << 20);
		ssize_t n;
		if (!b)
			return -BERTH_ENOMEM;
		while ((n = read(in, b, 1 << 20)) > 0) {
			char *p = b;
			while (n > 0) {
				ssize_t k = write(out, p, (size_t)n);
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0) {
					free(b);
					return berth_from_errno(errno);
				}
				p += k;
				n -= k;
			}
		}
		free(b);
		return n < 0 ? berth_from_errno(errno) : 0;
	}
}

static int copy_dir(struct cp *c, int sfd, int dfd, int depth);

static int copy_one(struct cp *c, int sfd, int dfd, const char *name, int depth)
{
	struct stat st;
	struct timespec ts[2];
	size_t mark = c->rel.len;
	int rc = 0, in = -1, out = -1;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_from_errno(errno);
	if ((c->rel.len && buf_add(&c->rel, "/", 1) < 0) || buf_adds(&c->rel, name) < 0)
		return -BERTH_ENOMEM;
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (S_ISDIR(st.st_mode)) {
		if (depth > TREE_DEPTH_MAX) {
			rc = -BERTH_ETOOBIG;
			goto out;
		}
		if (mkdirat(dfd, name, 0700) < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
		in = open_dir(sfd, name);
		out = open_dir(dfd, name);
		if (in < 0 || out < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
		rc = copy_dir(c, in, out, depth + 1);
		if (rc == 0 && (fchown(out, st.st_uid, st.st_gid) < 0 || fchmod(out, st.st_mode & 07777) < 0))
			rc = berth_from_errno(errno);
		if (rc == 0)
			rc = copy_xattrs(in, -1, out, -1, NULL);
		if (rc == 0 && futimens(out, ts) < 0)
			rc = berth_from_errno(errno);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		if (st.st_nlink > 1) {
			const char *first = hl_find(c, st.st_dev, st.st_ino);
			if (first) {
				if (linkat(c->dst_root, first, dfd, name, 0) == 0)
					goto out;
				if (errno != ENAMETOOLONG) {
					rc = berth_from_errno(errno);
					goto out;
				}
			} else if ((rc = hl_add(c, st.st_dev, st.st_ino, c->rel.ptr)) < 0) {
				goto out;
			}
		}
		in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (in < 0 || out < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
		rc = copy_data(in, out);
		if (rc == 0 && (fchown(out, st.st_uid, st.st_gid) < 0 || fchmod(out, st.st_mode & 07777) < 0))
			rc = berth_from_errno(errno);
		if (rc == 0)
			rc = copy_xattrs(in, -1, out, -1, NULL);
		if (rc == 0 && futimens(out, ts) < 0)
			rc = berth_from_errno(errno);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
		target[n] = 0;
		if (symlinkat(target, dfd, name) < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
	} else if (mknodat(dfd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0) {
		rc = berth_from_errno(errno);
		goto out;
	}
	if (fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (!S_ISLNK(st.st_mode) && fchmodat(dfd, name, st.st_mode & 07777, 0) < 0)) {
		rc = berth_from_errno(errno);
		goto out;
	}
	rc = copy_xattrs(-1, sfd, -1, dfd, name);
	if (rc == 0 && utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		rc = berth_from_errno(errno);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	c->rel.len = mark;
	c->rel.ptr[mark] = 0;
	return rc;
}

static int copy_dir(struct cp *c, int sfd, int dfd, int depth)
{
	int d2 = dup(sfd), rc = 0;
	DIR *d;
	struct dirent *de;

	if (d2 < 0)
		return berth_from_errno(errno);
	d = fdopendir(d2);
	if (!d) {
		close(d2);
		return berth_from_errno(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = copy_one(c, sfd, dfd, de->d_name, depth);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

int graph__copy_tree(const char *src, const char *dst)
{
	struct cp c;
	struct stat st;
	struct timespec ts[2];
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	memset(&c, 0, sizeof(c));
	buf_init(&c.rel, BUF_UNLIMITED);
	if (sfd < 0 || dfd < 0) {
		rc = berth_from_errno(errno);
		goto out;
	}
	c.dst_root = dfd;
	rc = copy_dir(&c, sfd, dfd, 0);
	if (rc == 0 && fstat(sfd, &st) == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
		if (fchown(dfd, st.st_uid, st.st_gid) < 0 || fchmod(dfd, st.st_mode & 07777) < 0 ||
		    futimens(dfd, ts) < 0)
			rc = berth_from_errno(errno);
		if (rc == 0)
			rc = copy_xattrs(sfd, -1, dfd, -1, NULL);
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	for (size_t k = 0; k < c.hlcap; k++)
		free(c.hl[k].rel);
	free(c.hl);
	buf_release(&c.rel);
	return rc;
}

static uint64_t du_fd(int fd, int depth)
{
	int d2 = dup(fd);
	DIR *d;
	struct dirent *de;
	uint64_t total = 0;

	if (d2 < 0)
		return 0;
	d = fdopendir(d2);
	if (!d) {
		close(d2);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		total += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode) && depth < TREE_DEPTH_MAX) {
			int c = open_dir(fd, de->d_name);
			if (c >= 0) {
				total += du_fd(c, depth + 1);
				close(c);
			}
		}
	}
	closedir(d);
	return total;
}

uint64_t graph__du(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t t;

	if (fd < 0)
		return 0;
	t = du_fd(fd, 0);
	close(fd);
	return t;
}

/* ---- string set ---- */

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

void graph__strset_init(struct graph__strset *s)
{
	memset(s, 0, sizeof(*s));
}

void graph__strset_release(struct graph__strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

int graph__strset_has(const struct graph__strset *s, const char *key, size_t len)
{
	if (!s->cap)
		return 0;
	for (size_t i = fnv(key, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i])
			return 0;
		if (strlen(s->slots[i]) == len && memcmp(s->slots[i], key, len) == 0)
			return 1;
	}
}

int graph__strset_add(struct graph__strset *s, const char *key, size_t len)
{
	size_t i;

	if (graph__strset_has(s, key, len))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		char **n = calloc(nc, sizeof(char *));
		if (!n)
			return -BERTH_ENOMEM;
		for (size_t k = 0; k < s->cap; k++) {
			if (!s->slots[k])
				continue;
			size_t j = fnv(s->slots[k], strlen(s->slots[k])) & (nc - 1);
			while (n[j])
				j = (j + 1) & (nc - 1);
			n[j] = s->slots[k];
		}
		free(s->slots);
		s->slots = n;
		s->cap = nc;
	}
	i = fnv(key, len) & (s->cap - 1);
	while (s->slots[i])
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = strndup(key, len);
	if (!s->slots[i])
		return -BERTH_ENOMEM;
	s->n++;
	return 0;
}

/* ---- small files ---- */

int graph__write_file(const char *path, const void *p, size_t len)
{
	struct buf tmp;
	int fd = -1, rc = 0;
	const char *c = p;

	buf_init(&tmp, BUF_UNLIMITED);
	if (buf_addf(&tmp, "%s.tmp", path) < 0)
		return -BERTH_ENOMEM;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = berth_from_errno(errno);
		goto out;
	}
	while (len > 0) {
		ssize_t k = write(fd, c, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = berth_from_errno(errno);
			goto out;
		}
		c += k;
		len -= (size_t)k;
	}
	if (fsync(fd) < 0 || rename(tmp.ptr, path) < 0)
		rc = berth_from_errno(errno);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp.ptr);
	buf_release(&tmp);
	return rc;
}

int graph__read_file(const char *path, size_t max, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b;
	char tmp[4096];
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return berth_from_errno(errno);
	buf_init(&b, max);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		if (buf_add(&b, tmp, (size_t)n) < 0) {
			close(fd);
			buf_release(&b);
			return -BERTH_ETOOBIG;
		}
	}
	close(fd);
	if (n < 0) {
		buf_release(&b);
		return berth_from_errno(errno);
	}
	*out = buf_detach(&b, NULL);
	return 0;
}

char *graph__pathf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, BUF_UNLIMITED);
	va_start(ap, fmt);
	rc = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}
