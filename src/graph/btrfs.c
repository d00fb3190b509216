/* btrfs: every layer a subvolume; a child starts as a snapshot of its parent (ioctls, no CLI). */
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "graph/driver.h"
#include "graph/internal.h"

#define BTRFS_MAGIC 0x9123683E

/* Splits path into an open parent directory and its last component. */
static int open_parent(const char *path, const char **name)
{
	const char *s = strrchr(path, '/');
	char *dir;
	int fd;

	if (!s)
		return -1;
	*name = s + 1;
	dir = strndup(path, (size_t)(s - path));
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

static int subvol_create(const char *path)
{
	struct btrfs_ioctl_vol_args a;
	const char *name;
	int fd = open_parent(path, &name), rc = 0;

	if (fd < 0)
		return berth_from_errno(errno);
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (ioctl(fd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0)
		rc = berth_from_errno(errno);
	close(fd);
	return rc;
}

static int subvol_snapshot(const char *src, const char *dst)
{
	struct btrfs_ioctl_vol_args_v2 a;
	const char *name;
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd, rc = 0;

	if (sfd < 0)
		return berth_from_errno(errno);
	dfd = open_parent(dst, &name);
	if (dfd < 0) {
		rc = berth_from_errno(errno);
		close(sfd);
		return rc;
	}
	memset(&a, 0, sizeof(a));
	a.fd = sfd;
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (ioctl(dfd, BTRFS_IOC_SNAP_CREATE_V2, &a) < 0)
		rc = berth_from_errno(errno);
	close(sfd);
	close(dfd);
	return rc;
}

static int subvol_destroy(const char *path)
{
	struct btrfs_ioctl_vol_args a;
	struct stat st;
	const char *name;
	int fd, rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berth_from_errno(errno);
	if (st.st_ino != 256) /* not a subvolume root: a plain directory (a failed create) */
		return graph__rm_rf_at(AT_FDCWD, path);
	fd = open_parent(path, &name);
	if (fd < 0)
		return berth_from_errno(errno);
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (ioctl(fd, BTRFS_IOC_SNAP_DESTROY, &a) < 0 && errno != ENOENT)
		rc = berth_from_errno(errno);
	close(fd);
	return rc;
}

static int bt_init(struct graph_driver *d, char *why, size_t whyn)
{
	char *sv = graph__pathf("%s/subvolumes", d->home), *st = graph__pathf("%s/.staging", d->home);
	struct statfs sf;
	int rc = 0;

	if (!sv || !st) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if ((rc = fs_mkdirs(sv)) < 0 || (rc = fs_mkdirs(st)) < 0) {
		snprintf(why, whyn, "cannot create %s: %s", d->home, berth_strerror(rc));
		goto out;
	}
	if (statfs(d->home, &sf) < 0 || sf.f_type != BTRFS_MAGIC) {
		snprintf(why, whyn,
			 "the btrfs driver needs its root on a btrfs file system; %s is not (file system "
			 "magic 0x%lx)",
			 d->home, (unsigned long)sf.f_type);
		rc = -BERTH_EUNSUPPORTED;
	}
out:
	free(sv);
	free(st);
	return rc;
}

static int bt_stage(struct graph_driver *d, const char *parent_root, char **stage, char **root)
{
	int rc = graph__stage_path(d, stage, 0);

	*root = NULL;
	if (rc < 0)
		return rc;
	rc = parent_root ? subvol_snapshot(parent_root, *stage) : subvol_create(*stage);
	if (rc == 0 && !(*root = strdup(*stage)))
		rc = -BERTH_ENOMEM;
	if (rc < 0) {
		subvol_destroy(*stage);
		free(*stage);
		*stage = NULL;
	}
	return rc;
}

static int bt_commit(struct graph_driver *d, const char *stage, const char *id, const char *parent_id)
{
	char *dst = graph__pathf("%s/subvolumes/%s", d->home, id);
	int rc = 0;

	if (!dst)
		return -BERTH_ENOMEM;
	if (rename(stage, dst) < 0)
		rc = berth_from_errno(errno);
	free(dst);
	return rc;
}

static int bt_abort(struct graph_driver *d, const char *stage)
{
	return subvol_destroy(stage);
}

static char *bt_layer_root(struct graph_driver *d, const char *id)
{
	return graph__pathf("%s/subvolumes/%s", d->home, id);
}

static int bt_remove(struct graph_driver *d, const char *id)
{
	char *p = bt_layer_root(d, id);
	int rc;

	if (!p)
		return -BERTH_ENOMEM;
	rc = subvol_destroy(p);
	free(p);
	return rc;
}

const struct graph_driver_ops graph__btrfs_ops = {
    .name = "btrfs",
    .wh = GRAPH_WH_APPLY,
    .parallel = 0,
    .layers_dir = "subvolumes",
    .init = bt_init,
    .stage = bt_stage,
    .commit = bt_commit,
    .abort = bt_abort,
    .remove = bt_remove,
    .layer_root = bt_layer_root,
};
