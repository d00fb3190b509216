/* vfs: every layer a full copy of its parent with the diff applied. Slow and large, works anywhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "graph/driver.h"
#include "graph/internal.h"

static int vfs_init(struct graph_driver *d, char *why, size_t whyn)
{
	char *dir = graph__pathf("%s/dir", d->home), *st = graph__pathf("%s/.staging", d->home);
	int rc = 0;

	if (!dir || !st)
		rc = -BERTH_ENOMEM;
	else if ((rc = fs_mkdirs(dir)) < 0 || (rc = fs_mkdirs(st)) < 0)
		snprintf(why, whyn, "cannot create %s: %s", d->home, berth_strerror(rc));
	free(dir);
	free(st);
	return rc;
}

static int vfs_stage(struct graph_driver *d, const char *parent_root, char **stage, char **root)
{
	int rc = graph__stage_path(d, stage, 1);

	*root = NULL;
	if (rc < 0)
		return rc;
	if (parent_root)
		rc = graph__copy_tree(parent_root, *stage);
	else if (chmod(*stage, 0755) < 0) /* a base layer's root, until the layer's own "./" says otherwise */
		rc = berth_from_errno(errno);
	if (rc == 0)
		*root = strdup(*stage);
	if (rc == 0 && !*root)
		rc = -BERTH_ENOMEM;
	if (rc < 0) {
		graph__rm_rf_at(AT_FDCWD, *stage);
		free(*stage);
		*stage = NULL;
	}
	return rc;
}

static int vfs_commit(struct graph_driver *d, const char *stage, const char *id, const char *parent_id)
{
	char *dst = graph__pathf("%s/dir/%s", d->home, id);
	int rc = 0;

	if (!dst)
		return -BERTH_ENOMEM;
	if (rename(stage, dst) < 0)
		rc = berth_from_errno(errno);
	free(dst);
	return rc;
}

static int vfs_abort(struct graph_driver *d, const char *stage)
{
	return graph__rm_rf_at(AT_FDCWD, stage);
}

static int vfs_remove(struct graph_driver *d, const char *id)
{
	char *dir = graph__pathf("%s/dir", d->home);
	int fd, rc;

	if (!dir)
		return -BERTH_ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return berth_from_errno(errno);
	rc = graph__rm_rf_at(fd, id);
	close(fd);
	return rc;
}

static char *vfs_layer_root(struct graph_driver *d, const char *id)
{
	return graph__pathf("%s/dir/%s", d->home, id);
}

const struct graph_driver_ops graph__vfs_ops = {
    .name = "vfs",
    .wh = GRAPH_WH_APPLY,
    .parallel = 0,
    .layers_dir = "dir",
    .init = vfs_init,
    .stage = vfs_stage,
    .commit = vfs_commit,
    .abort = vfs_abort,
    .remove = vfs_remove,
    .layer_root = vfs_layer_root,
};
