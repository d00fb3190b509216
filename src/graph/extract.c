#include "graph/extract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "graph/internal.h"

#define MAX_SYMLINKS 40

/* The resolver: turns a normalized path into an open directory inside the root. The last directory
 * resolved is cached (tar entries come grouped by directory); anything that removes an entry
 * invalidates the cache, since a removal may change what a path resolves to. */
struct resolver {
	int root;
	int fd; /* cached directory, -1 when none */
	struct buf key; /* the path asked for */
	struct buf real; /* what it resolved to: components joined by '/', "" for the root */
	struct graph__strset *created; /* apply mode: implicit directories join the layer's paths */
};

struct dirtime {
	char *real;
	struct timespec ts[2];
};

struct xt {
	int root;
	enum graph_wh_mode mode;
	struct layer_walker *w;
	struct resolver r;
	struct graph__strset paths; /* apply mode: real paths this layer wrote */
	struct dirtime *dirs;
	size_t ndirs, dcap;
	struct graph_extract_stats st;
	char *why;
	size_t whyn;
	const struct layer_entry *e;
};

static int xfail(struct xt *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int xfail(struct xt *x, int err, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->why && x->whyn)
		snprintf(x->why, x->whyn, "%.1000s: %s", x->e ? x->e->raw_path : "layer", msg);
	return err;
}

static int sysfail(struct xt *x, const char *what)
{
	int e = errno;
	return xfail(x, berth_from_errno(e), "%s: %s", what, strerror(e));
}

/* ---- resolver ---- */

static void res_invalidate(struct resolver *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_reset(&r->key);
}

static int open_dir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static size_t depth_of(const char *real)
{
	size_t d = *real ? 1 : 0;
	for (; *real; real++)
		d += *real == '/';
	return d;
}

/* Opens the directory at the real path (no symlinks in it) from the root. */
static int reopen_real(struct resolver *r, const char *real)
{
	char comp[256];
	int fd = open_dir(r->root, "."), nfd;
	const char *p = real;

	while (fd >= 0 && *p) {
		const char *s = strchr(p, '/');
		size_t l = s ? (size_t)(s - p) : strlen(p);
		if (l >= sizeof(comp)) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, l);
		comp[l] = 0;
		nfd = open_dir(fd, comp);
		close(fd);
		fd = nfd;
		p += l + (s ? 1 : 0);
	}
	return fd;
}

/* Walks rem (a path, maybe from a symlink) from the directory fd whose real path is in real.
 * Takes ownership of fd; on success *out is the final directory and real its path.
 * create: missing components become 0755 root directories. */
static int res_walk(struct resolver *r, int fd, struct buf *real, const char *path, int create, int *out)
{
	struct buf rem;
	size_t pos = 0;
	int links = 0, rc = 0;
	char comp[256];

	buf_init(&rem, BUF_UNLIMITED);
	if (buf_adds(&rem, path) < 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	while (pos < rem.len) {
		const char *p = rem.ptr + pos, *s = strchr(p, '/');
		size_t l = s ? (size_t)(s - p) : strlen(p);
		struct stat st;
		int nfd;

		pos += l + (s ? 1 : 0);
		if (l == 0 || (l == 1 && p[0] == '.'))
			continue;
		if (l >= sizeof(comp)) {
			rc = -BERTH_EINVAL;
			goto out;
		}
		memcpy(comp, p, l);
		comp[l] = 0;
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(real->ptr, '/');
			if (real->len == 0)
				continue; /* the root is its own parent */
			real->len = slash ? (size_t)(slash - real->ptr) : 0;
			real->ptr[real->len] = 0;
			close(fd);
			fd = reopen_real(r, real->ptr);
			if (fd < 0) {
				rc = berth_from_errno(errno);
				goto out;
			}
			continue;
		}
		nfd = open_dir(fd, comp);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				rc = berth_from_errno(errno);
				goto out;
			}
			nfd = open_dir(fd, comp);
			if (nfd >= 0 && r->created) {
				size_t old = real->len;
				if ((real->len && buf_add(real, "/", 1) < 0) || buf_adds(real, comp) < 0 ||
				    graph__strset_add(r->created, real->ptr, real->len) < 0) {
					close(nfd);
					rc = -BERTH_ENOMEM;
					goto out;
				}
				real->len = old;
				real->ptr[old] = 0;
			}
		}
		if (nfd < 0) {
			int e = errno;
			if (e == ENOENT) {
				rc = -BERTH_ENOENT;
				goto out;
			}
			if (e != ENOTDIR && e != ELOOP) {
				rc = berth_from_errno(e);
				goto out;
			}
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = berth_from_errno(errno);
				goto out;
			}
			if (!S_ISLNK(st.st_mode)) {
				rc = -BERTH_EINVAL; /* a path through a regular file, device, ... */
				goto out;
			}
			if (++links > MAX_SYMLINKS || st.st_size <= 0 || st.st_size > 4095) {
				rc = -BERTH_EINVAL;
				goto out;
			}
			{
				char target[4096];
				ssize_t tl = readlinkat(fd, comp, target, sizeof(target) - 1);
				struct buf nrem;
				if (tl <= 0) {
					rc = tl < 0 ? berth_from_errno(errno) : -BERTH_EINVAL;
					goto out;
				}
				target[tl] = 0;
				buf_init(&nrem, BUF_UNLIMITED);
				if (buf_adds(&nrem, target) < 0 || buf_add(&nrem, "/", 1) < 0 ||
				    buf_adds(&nrem, rem.ptr + pos) < 0) {
					buf_release(&nrem);
					rc = -BERTH_ENOMEM;
					goto out;
				}
				buf_release(&rem);
				rem = nrem;
				pos = 0;
				if (target[0] == '/') {
					close(fd);
					fd = open_dir(r->root, ".");
					buf_reset(real);
					if (fd < 0) {
						rc = berth_from_errno(errno);
						goto out;
					}
				}
			}
			continue;
		}
		close(fd);
		fd = nfd;
		if ((real->len && buf_add(real, "/", 1) < 0) || buf_adds(real, comp) < 0) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
		if (depth_of(real->ptr) > GRAPH_MAX_DEPTH) {
			rc = -BERTH_ETOOBIG;
			goto out;
		}
	}
out:
	buf_release(&rem);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Resolves the directory `path` (length n) inside the root. *fd is borrowed (valid until the next call
 * or invalidation); *real its real path. */
static int res_dir(struct resolver *r, const char *path, size_t n, int create, int *fd, const char **real)
{
	int start, nfd, rc;
	struct buf p;
	const char *rest;

	if (r->fd >= 0 && r->key.len == n && memcmp(r->key.ptr, path, n) == 0) {
		*fd = r->fd;
		*real = r->real.ptr;
		return 0;
	}
	buf_init(&p, BUF_UNLIMITED);
	if (buf_add(&p, path, n) < 0)
		return -BERTH_ENOMEM;
	/* continue from the cached directory when the new path lies below it */
	if (r->fd >= 0 && n > r->key.len &&
	    (r->key.len == 0 || (memcmp(r->key.ptr, path, r->key.len) == 0 && path[r->key.len] == '/'))) {
		start = dup(r->fd);
		rest = p.ptr + r->key.len;
	} else {
		start = open_dir(r->root, ".");
		buf_reset(&r->real);
		rest = p.ptr;
	}
	if (start < 0) {
		buf_release(&p);
		return berth_from_errno(errno);
	}
	if (r->fd >= 0 && rest == p.ptr) {
		close(r->fd);
		r->fd = -1;
	}
	rc = res_walk(r, start, &r->real, rest, create, &nfd);
	if (rc < 0) {
		res_invalidate(r);
		buf_reset(&r->real);
		buf_release(&p);
		return rc;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = nfd;
	buf_reset(&r->key);
	if (buf_add(&r->key, path, n) < 0) {
		buf_release(&p);
		res_invalidate(r);
		return -BERTH_ENOMEM;
	}
	buf_release(&p);
	*fd = r->fd;
	*real = r->real.ptr;
	return 0;
}

/* Splits path into its parent (length) and last component. */
static const char *split_base(const char *path, size_t *parent_len)
{
	const char *s = strrchr(path, '/');
	*parent_len = s ? (size_t)(s - path) : 0;
	return s ? s + 1 : path;
}

/* ---- metadata ---- */

static int xattr_allowed(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) != 0 && strncmp(name, "user.overlay.", 13) != 0;
}

/* Sets the entry's xattrs on fd, or (fd < 0) on the entry at parent/name without following it. */
static int set_xattrs(struct xt *x, int fd, int parent, const char *name)
{
	const struct layer_entry *e = x->e;
	char proc[64];
	struct buf path;
	int rc = 0;

	if (e->nxattrs == 0)
		return 0;
	buf_init(&path, BUF_UNLIMITED);
	if (fd < 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", parent);
		if (buf_adds(&path, proc) < 0 || buf_adds(&path, name) < 0) {
			buf_release(&path);
			return -BERTH_ENOMEM;
		}
	}
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct layer_xattr *a = &e->xattrs[i];
		int r;
		if (!xattr_allowed(a->name))
			continue;
		r = fd >= 0 ? fsetxattr(fd, a->name, a->value, a->size, 0)
			    : lsetxattr(path.ptr, a->name, a->value, a->size, 0);
		if (r < 0 && errno != ENOTSUP) {
			rc = xfail(x, berth_from_errno(errno), "setting xattr %s: %s", a->name, strerror(errno));
			break;
		}
	}
	buf_release(&path);
	return rc;
}

/* Owner, then mode (chown clears setuid bits), then xattrs (chown clears capabilities) on an open fd. */
static int meta_fd(struct xt *x, int fd)
{
	const struct layer_entry *e = x->e;

	if (fchown(fd, e->uid, e->gid) < 0)
		return sysfail(x, "chown");
	if (fchmod(fd, e->mode) < 0)
		return sysfail(x, "chmod");
	return set_xattrs(x, fd, -1, NULL);
}

static void entry_times(const struct layer_entry *e, struct timespec ts[2])
{
	ts[0].tv_sec = e->atime_sec;
	ts[0].tv_nsec = e->atime_nsec;
	ts[1].tv_sec = e->mtime_sec;
	ts[1].tv_nsec = e->mtime_nsec;
}

static int defer_dir_time(struct xt *x, const char *real)
{
	if (x->ndirs == x->dcap) {
		size_t nc = x->dcap ? x->dcap * 2 : 64;
		struct dirtime *d = realloc(x->dirs, nc * sizeof(*d));
		if (!d)
			return -BERTH_ENOMEM;
		x->dirs = d;
		x->dcap = nc;
	}
	x->dirs[x->ndirs].real = strdup(real);
	if (!x->dirs[x->ndirs].real)
		return -BERTH_ENOMEM;
	entry_times(x->e, x->dirs[x->ndirs].ts);
	x->ndirs++;
	return 0;
}

static int join_real(struct buf *b, const char *parent, const char *name)
{
	buf_reset(b);
	if (*parent && (buf_adds(b, parent) < 0 || buf_add(b, "/", 1) < 0))
		return -BERTH_ENOMEM;
	return buf_adds(b, name);
}

/* ---- entries ---- */

/* Removes parent/name if present; keeps a directory when keep_dir. *kept says whether a directory stayed.
 * The resolver's cache stays valid: parent is the cached directory and only its child goes. */
static int clear_slot(struct xt *x, int parent, const char *name, int keep_dir, int *kept)
{
	struct stat st;
	int rc;

	*kept = 0;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sysfail(x, "stat");
	}
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir) {
			*kept = 1;
			return 0;
		}
		rc = graph__rm_rf_at(parent, name);
		if (rc < 0)
			return xfail(x, rc, "removing the directory it replaces: %s", berth_strerror(rc));
		return 0;
	}
	if (unlinkat(parent, name, 0) < 0)
		return sysfail(x, "unlink");
	return 0;
}

static int write_content(struct xt *x, int fd)
{
	const void *p;
	size_t n;
	uint64_t off, end = 0;
	int r;

	while ((r = layer_walker_block(x->w, &p, &n, &off)) > 0) {
		const char *c = p;
		while (n > 0) {
			ssize_t k = pwrite(fd, c, n, (off_t)off);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return sysfail(x, "write");
			}
			c += k;
			n -= (size_t)k;
			off += (uint64_t)k;
			x->st.bytes += (uint64_t)k;
		}
		if (off > end)
			end = off;
	}
	if (r < 0)
		return xfail(x, r, "%s", layer_walker_why(x->w));
	if (end < x->e->size && ftruncate(fd, (off_t)x->e->size) < 0)
		return sysfail(x, "truncate");
	return 0;
}

static int do_whiteout(struct xt *x)
{
	const struct layer_entry *e = x->e;
	size_t plen;
	const char *name = split_base(e->path, &plen), *real;
	int parent, rc, kept;

	x->st.whiteouts++;
	if (x->mode == GRAPH_WH_APPLY) {
		rc = res_dir(&x->r, e->path, plen, 0, &parent, &real);
		if (rc == -BERTH_ENOENT || rc == -BERTH_EINVAL)
			return 0; /* nothing there to delete */
		if (rc < 0)
			return xfail(x, rc, "resolving the parent: %s", berth_strerror(rc));
		return clear_slot(x, parent, name, 0, &kept);
	}
	rc = res_dir(&x->r, e->path, plen, 1, &parent, &real);
	if (rc < 0)
		return xfail(x, rc, "resolving the parent: %s", berth_strerror(rc));
	rc = clear_slot(x, parent, name, 0, &kept);
	if (rc < 0)
		return rc;
	if (mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return sysfail(x, "creating the whiteout device");
	if (fchownat(parent, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return sysfail(x, "chown");
	return 0;
}

/* Apply mode: deletes everything under the directory fd (real path `real`) this layer did not write. */
static int clear_lower(struct xt *x, int fd, const char *real)
{
	DIR *d;
	struct dirent *de;
	struct buf child;
	int dfd = dup(fd), rc = 0;

	if (dfd < 0)
		return sysfail(x, "dup");
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return sysfail(x, "opendir");
	}
	buf_init(&child, BUF_UNLIMITED);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (join_real(&child, real, de->d_name) < 0) {
			rc = -BERTH_ENOMEM;
			break;
		}
		if (!graph__strset_has(&x->paths, child.ptr, child.len)) {
			rc = graph__rm_rf_at(fd, de->d_name);
			if (rc < 0) {
				rc = xfail(x, rc, "clearing the opaque directory: %s", berth_strerror(rc));
				break;
			}
			continue;
		}
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			int cfd = open_dir(fd, de->d_name);
			if (cfd < 0) {
				rc = sysfail(x, "open");
				break;
			}
			rc = clear_lower(x, cfd, child.ptr);
			close(cfd);
			if (rc < 0)
				break;
		}
	}
	closedir(d);
	buf_release(&child);
	return rc;
}

static int do_opaque(struct xt *x)
{
	const struct layer_entry *e = x->e;
	const char *real;
	int fd, rc;

	rc = res_dir(&x->r, e->path, strlen(e->path), 1, &fd, &real);
	if (rc < 0)
		return xfail(x, rc, "resolving the opaque directory: %s", berth_strerror(rc));
	x->st.whiteouts++;
	if (x->mode == GRAPH_WH_OVERLAY) {
		if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return sysfail(x, "setting trusted.overlay.opaque");
		return 0;
	}
	{
		char *r = strdup(real);
		if (!r)
			return -BERTH_ENOMEM;
		res_invalidate(&x->r);
		rc = res_dir(&x->r, r, strlen(r), 0, &fd, &real);
		if (rc == 0)
			rc = clear_lower(x, fd, r);
		res_invalidate(&x->r);
		free(r);
	}
	return rc;
}

static int do_entry(struct xt *x)
{
	const struct layer_entry *e = x->e;
	size_t plen;
	const char *name = split_base(e->path, &plen), *real;
	struct buf me;
	struct timespec ts[2];
	int parent, rc, kept, fd = -1;

	buf_init(&me, BUF_UNLIMITED);
	if (!e->path[0]) { /* the layer root itself */
		rc = meta_fd(x, x->root);
		if (rc == 0)
			rc = defer_dir_time(x, "");
		goto out;
	}
	if (e->type == LAYER_HARDLINK) {
		/* resolve the target first: it must exist inside the root and not be a directory */
		size_t tplen;
		const char *tname = split_base(e->link, &tplen), *treal;
		int tparent, tfd;
		struct stat st;

		if (!strcmp(e->link, e->path)) {
			rc = 0;
			goto out;
		}
		rc = res_dir(&x->r, e->link, tplen, 0, &tparent, &treal);
		if (rc < 0) {
			rc = xfail(x, -BERTH_EINVAL, "hard link target %s is not inside the layer", e->link);
			goto out;
		}
		if (fstatat(tparent, tname, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode)) {
			rc = xfail(x, -BERTH_EINVAL, "hard link target %s is missing or a directory", e->link);
			goto out;
		}
		tfd = dup(tparent);
		if (tfd < 0) {
			rc = sysfail(x, "dup");
			goto out;
		}
		rc = res_dir(&x->r, e->path, plen, 1, &parent, &real);
		if (rc < 0)
			rc = xfail(x, rc, "resolving the parent: %s", berth_strerror(rc));
		if (rc == 0)
			rc = clear_slot(x, parent, name, 0, &kept);
		if (rc == 0 && linkat(tfd, tname, parent, name, 0) < 0)
			rc = sysfail(x, "link");
		close(tfd);
		if (rc == 0 && x->mode == GRAPH_WH_APPLY) {
			rc = join_real(&me, real, name);
			if (rc == 0)
				rc = graph__strset_add(&x->paths, me.ptr, me.len);
		}
		goto out;
	}

	rc = res_dir(&x->r, e->path, plen, 1, &parent, &real);
	if (rc < 0) {
		rc = xfail(x, rc, "resolving the parent: %s", berth_strerror(rc));
		goto out;
	}
	rc = clear_slot(x, parent, name, e->type == LAYER_DIR, &kept);
	if (rc < 0)
		goto out;
	if (join_real(&me, real, name) < 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	entry_times(e, ts);
	switch (e->type) {
	case LAYER_REG:
		fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = sysfail(x, "create");
			break;
		}
		rc = write_content(x, fd);
		if (rc == 0)
			rc = meta_fd(x, fd);
		if (rc == 0 && futimens(fd, ts) < 0)
			rc = sysfail(x, "utimens");
		x->st.files++;
		break;
	case LAYER_DIR:
		if (!kept && mkdirat(parent, name, 0700) < 0) {
			rc = sysfail(x, "mkdir");
			break;
		}
		fd = open_dir(parent, name);
		if (fd < 0) {
			rc = sysfail(x, "open");
			break;
		}
		rc = meta_fd(x, fd);
		if (rc == 0)
			rc = defer_dir_time(x, me.ptr);
		break;
	case LAYER_SYMLINK:
		if (symlinkat(e->link, parent, name) < 0) {
			rc = sysfail(x, "symlink");
			break;
		}
		goto nonfd;
	case LAYER_CHR:
	case LAYER_BLK:
	case LAYER_FIFO: {
		mode_t t = e->type == LAYER_CHR ? S_IFCHR : e->type == LAYER_BLK ? S_IFBLK : S_IFIFO;
		if (mknodat(parent, name, t | 0600, makedev(e->devmajor, e->devminor)) < 0) {
			rc = sysfail(x, "mknod");
			break;
		}
		goto nonfd;
	}
	default:
		rc = xfail(x, -BERTH_EINVAL, "unknown entry type");
		break;
	}
	goto done;
nonfd:
	if (fchownat(parent, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = sysfail(x, "chown");
		goto done;
	}
	if (e->type != LAYER_SYMLINK && fchmodat(parent, name, e->mode, 0) < 0) {
		rc = sysfail(x, "chmod");
		goto done;
	}
	rc = set_xattrs(x, -1, parent, name);
	if (rc == 0 && utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		rc = sysfail(x, "utimens");
done:
	if (rc == 0 && x->mode == GRAPH_WH_APPLY)
		rc = graph__strset_add(&x->paths, me.ptr, me.len);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&me);
	return rc;
}

/* Directory times last, once nothing will be created inside them any more. */
static int restore_dir_times(struct xt *x)
{
	for (size_t i = 0; i < x->ndirs; i++) {
		const char *real = x->dirs[i].real, *name, *pr;
		size_t plen;
		int parent, rc;

		if (!*real) {
			if (futimens(x->root, x->dirs[i].ts) < 0)
				return sysfail(x, "utimens of the root");
			continue;
		}
		name = split_base(real, &plen);
		rc = res_dir(&x->r, real, plen, 0, &parent, &pr);
		if (rc < 0)
			continue; /* removed or replaced later in the layer */
		if (utimensat(parent, name, x->dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
			return sysfail(x, "utimens");
	}
	return 0;
}

int graph_extract(int rootfd, struct layer_walker *w, enum graph_wh_mode mode, struct graph_extract_stats *stats,
		  char *why, size_t whyn)
{
	struct xt x;
	const struct layer_entry *e;
	int rc;

	memset(&x, 0, sizeof(x));
	x.root = rootfd;
	x.mode = mode;
	x.w = w;
	x.why = why;
	x.whyn = whyn;
	if (why && whyn)
		why[0] = 0;
	x.r.root = rootfd;
	x.r.fd = -1;
	buf_init(&x.r.key, BUF_UNLIMITED);
	buf_init(&x.r.real, BUF_UNLIMITED);
	graph__strset_init(&x.paths);
	if (mode == GRAPH_WH_APPLY)
		x.r.created = &x.paths;

	while ((rc = layer_walker_next(w, &e)) > 0) {
		x.e = e;
		x.st.entries++;
		if (e->wh == LAYER_WH_META)
			continue;
		if (e->wh == LAYER_WH_FILE)
			rc = do_whiteout(&x);
		else if (e->wh == LAYER_WH_OPAQUE)
			rc = do_opaque(&x);
		else
			rc = do_entry(&x);
		if (rc < 0)
			goto out;
	}
	x.e = NULL;
	if (rc < 0) {
		if (why && whyn)
			snprintf(why, whyn, "%s", layer_walker_why(w));
		goto out;
	}
	rc = restore_dir_times(&x);
out:
	if (rc < 0 && why && whyn && !why[0])
		snprintf(why, whyn, "%s: %s", x.e ? x.e->raw_path : "layer", berth_strerror(rc));
	if (stats)
		*stats = x.st;
	res_invalidate(&x.r);
	buf_release(&x.r.key);
	buf_release(&x.r.real);
	graph__strset_release(&x.paths);
	for (size_t i = 0; i < x.ndirs; i++)
		free(x.dirs[i].real);
	free(x.dirs);
	return rc;
}
