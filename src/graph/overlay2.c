/* overlay2: Docker's overlay2 layout; each layer its own diff, a container an overlay mount. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "graph/driver.h"
#include "graph/internal.h"

#define OVERLAYFS_MAGIC 0x794c7630
#define SHORT_LEN 26

#define pathf graph__pathf

static int ov_init(struct graph_driver *d, char *why, size_t whyn)
{
	char *s = NULL, *l = NULL, *st = NULL;
	struct statfs sf;
	int rc = 0, have = 0;

	if (graph__read_file("/proc/filesystems", 1 << 16, &s) == 0)
		have = strstr(s, "\toverlay\n") != NULL;
	free(s);
	if (!have) {
		snprintf(why, whyn,
			 "the overlay2 driver needs overlayfs, which this kernel does not list in "
			 "/proc/filesystems (load the overlay module, or use --driver vfs)");
		return -BERTH_EUNSUPPORTED;
	}
	l = pathf("%s/l", d->home);
	st = pathf("%s/.staging", d->home);
	if (!l || !st) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if ((rc = fs_mkdirs(l)) < 0 || (rc = fs_mkdirs(st)) < 0) {
		snprintf(why, whyn, "cannot create %s: %s", d->home, berth_strerror(rc));
		goto out;
	}
	if (statfs(d->home, &sf) == 0 && sf.f_type == OVERLAYFS_MAGIC) {
		snprintf(why, whyn, "the overlay2 driver cannot keep its layers on overlayfs (%s); use --driver vfs",
			 d->home);
		rc = -BERTH_EUNSUPPORTED;
	}
out:
	free(l);
	free(st);
	return rc;
}

static int ov_stage(struct graph_driver *d, const char *parent_root, char **stage, char **root)
{
	int rc = graph__stage_path(d, stage, 1);

	*root = NULL;
	if (rc < 0)
		return rc;
	*root = pathf("%s/diff", *stage);
	if (!*root || mkdir(*root, 0755) < 0) {
		rc = *root ? berth_from_errno(errno) : -BERTH_ENOMEM;
		graph__rm_rf_at(AT_FDCWD, *stage);
		free(*stage);
		free(*root);
		*stage = *root = NULL;
	}
	return rc;
}

static int write_str(const char *path, const char *s)
{
	return graph__write_file(path, s, strlen(s));
}

static int short_id(char out[SHORT_LEN + 1])
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[SHORT_LEN];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -BERTH_EIO;
	for (int i = 0; i < SHORT_LEN; i++)
		out[i] = al[r[i] % 36];
	out[SHORT_LEN] = 0;
	return 0;
}

/* "l/<short>" of layer id followed by its own lower chain: the lower file of a child. */
static int lower_of_child(struct graph_driver *d, const char *parent_id, char **out)
{
	char *p = pathf("%s/%s/link", d->home, parent_id), *link = NULL, *lower = NULL;
	struct buf b;
	int rc;

	*out = NULL;
	if (!p)
		return -BERTH_ENOMEM;
	rc = graph__read_file(p, 256, &link);
	free(p);
	if (rc < 0)
		return rc;
	p = pathf("%s/%s/lower", d->home, parent_id);
	if (!p) {
		free(link);
		return -BERTH_ENOMEM;
	}
	if (graph__read_file(p, 1 << 16, &lower) < 0)
		lower = NULL;
	free(p);
	buf_init(&b, BUF_UNLIMITED);
	rc = buf_addf(&b, "l/%s%s%s", link, lower ? ":" : "", lower ? lower : "");
	free(link);
	free(lower);
	if (rc < 0)
		return rc;
	*out = buf_detach(&b, NULL);
	return 0;
}

static int ov_commit(struct graph_driver *d, const char *stage, const char *id, const char *parent_id)
{
	char sid[SHORT_LEN + 1], *p = NULL, *lower = NULL, *dst = NULL, *ln = NULL, *target = NULL;
	int rc;

	if ((rc = short_id(sid)) < 0)
		return rc;
	p = pathf("%s/link", stage);
	if (!p)
		return -BERTH_ENOMEM;
	rc = write_str(p, sid);
	free(p);
	if (rc < 0)
		return rc;
	if (parent_id) {
		rc = lower_of_child(d, parent_id, &lower);
		if (rc < 0)
			return rc;
		p = pathf("%s/lower", stage);
		rc = p ? write_str(p, lower) : -BERTH_ENOMEM;
		free(p);
		free(lower);
		if (rc < 0)
			return rc;
		p = pathf("%s/work", stage);
		rc = !p ? -BERTH_ENOMEM : mkdir(p, 0700) < 0 && errno != EEXIST ? berth_from_errno(errno) : 0;
		free(p);
		if (rc < 0)
			return rc;
	}
	dst = pathf("%s/%s", d->home, id);
	ln = pathf("%s/l/%s", d->home, sid);
	target = pathf("../%s/diff", id);
	if (!dst || !ln || !target) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if (rename(stage, dst) < 0 || symlink(target, ln) < 0)
		rc = berth_from_errno(errno);
out:
	free(dst);
	free(ln);
	free(target);
	return rc;
}

static int ov_abort(struct graph_driver *d, const char *stage)
{
	return graph__rm_rf_at(AT_FDCWD, stage);
}

static int ov_umount(struct graph_driver *d, const char *id)
{
	char *m = pathf("%s/%s/merged", d->home, id);
	int rc = 0;

	if (!m)
		return -BERTH_ENOMEM;
	if (umount2(m, 0) < 0 && errno != EINVAL && errno != ENOENT)
		rc = errno == EBUSY ? -BERTH_EBUSY : berth_from_errno(errno);
	free(m);
	return rc;
}

static int ov_remove(struct graph_driver *d, const char *id)
{
	char *p = pathf("%s/%s/link", d->home, id), *link = NULL, *dir = NULL;
	int rc;

	if (!p)
		return -BERTH_ENOMEM;
	if (graph__read_file(p, 256, &link) == 0 && strlen(link) == SHORT_LEN && !strchr(link, '/')) {
		char *ln = pathf("%s/l/%s", d->home, link);
		if (ln)
			unlink(ln);
		free(ln);
	}
	free(link);
	free(p);
	ov_umount(d, id);
	dir = pathf("%s", d->home);
	if (!dir)
		return -BERTH_ENOMEM;
	{
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = fd < 0 ? berth_from_errno(errno) : graph__rm_rf_at(fd, id);
		if (fd >= 0)
			close(fd);
	}
	free(dir);
	return rc;
}

static char *ov_layer_root(struct graph_driver *d, const char *id)
{
	return pathf("%s/%s/diff", d->home, id);
}

static int is_mountpoint(const char *path)
{
	struct stat a, b;
	char *up = pathf("%s/..", path);
	int yes = 0;

	if (up && stat(path, &a) == 0 && stat(up, &b) == 0)
		yes = a.st_dev != b.st_dev;
	free(up);
	return yes;
}

static int ov_mount(struct graph_driver *d, const char *id, char **path, char *why, size_t whyn)
{
	char *merged = pathf("%s/%s/merged", d->home, id), *lowerf = pathf("%s/%s/lower", d->home, id);
	char *lower = NULL, *opts = NULL, *rel = NULL;
	int rc = 0, status = 0;
	pid_t pid;

	*path = NULL;
	if (!merged || !lowerf) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if (mkdir(merged, 0755) < 0 && errno != EEXIST) {
		rc = berth_from_errno(errno);
		goto out;
	}
	if (is_mountpoint(merged))
		goto done;
	if (graph__read_file(lowerf, 1 << 16, &lower) < 0) {
		/* an image without layers: overlayfs still wants a lower directory */
		char *empty = pathf("%s/%s/empty", d->home, id);
		if (!empty || (mkdir(empty, 0755) < 0 && errno != EEXIST)) {
			free(empty);
			rc = -BERTH_EIO;
			goto out;
		}
		free(empty);
		lower = pathf("%s/empty", id);
	}
	/* relative paths from the driver home keep the option string short, as Docker does */
	opts = pathf("lowerdir=%s,upperdir=%s/diff,workdir=%s/work", lower ? lower : "", id, id);
	rel = pathf("%s/merged", id);
	if (!opts || !rel || !lower) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if (strlen(opts) >= 4096) {
		snprintf(why, whyn, "too many layers for one overlay mount (%zu bytes of options)", strlen(opts));
		rc = -BERTH_ETOOBIG;
		goto out;
	}
	/* mount(2) from a child that changed into the home directory: the caller's cwd stays */
	pid = fork();
	if (pid < 0) {
		rc = berth_from_errno(errno);
		goto out;
	}
	if (pid == 0) {
		if (chdir(d->home) < 0)
			_exit(1);
		_exit(mount("overlay", rel, "overlay", 0, opts) < 0 ? (errno & 0x7f) : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int e = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
		snprintf(why, whyn, "mounting overlayfs on %s failed: %s", merged, strerror(e));
		rc = berth_from_errno(e);
		goto out;
	}
done:
	*path = merged;
	merged = NULL;
out:
	free(merged);
	free(lowerf);
	free(lower);
	free(opts);
	free(rel);
	return rc;
}

/* Links in l/ whose layer is gone. */
static int ov_sweep(struct graph_driver *d)
{
	char *l = pathf("%s/l", d->home);
	DIR *dir;
	struct dirent *de;
	int fd;

	if (!l)
		return -BERTH_ENOMEM;
	dir = opendir(l);
	free(l);
	if (!dir)
		return 0;
	fd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, 0) < 0 && errno == ENOENT)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dir);
	return 0;
}

const struct graph_driver_ops graph__overlay2_ops = {
    .name = "overlay2",
    .wh = GRAPH_WH_OVERLAY,
    .parallel = 1,
    .layers_dir = "",
    .init = ov_init,
    .stage = ov_stage,
    .commit = ov_commit,
    .abort = ov_abort,
    .remove = ov_remove,
    .layer_root = ov_layer_root,
    .mount = ov_mount,
    .umount = ov_umount,
    .sweep = ov_sweep,
};
