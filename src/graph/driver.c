/* driver: picking a graph driver and checking this machine can run it. */
#include "graph/driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "graph/internal.h"

static const struct graph_driver_ops *const drivers[] = {&graph__overlay2_ops, &graph__vfs_ops, &graph__btrfs_ops,
							 NULL};

/* 1 when /proc/misc or /proc/devices lists device-mapper, or dm_mod is loaded. */
static int have_device_mapper(void)
{
	char *s = NULL;
	int yes = 0;

	if (access("/sys/module/dm_mod", F_OK) == 0 || access("/dev/mapper/control", F_OK) == 0)
		return 1;
	if (graph__read_file("/proc/devices", 1 << 16, &s) == 0)
		yes = strstr(s, "device-mapper") != NULL;
	free(s);
	return yes;
}

int graph__driver_open(struct graph_driver *d, const char *name, const char *root, char *why, size_t whyn)
{
	struct buf home;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!strcmp(name, "devicemapper")) {
		if (!have_device_mapper())
			snprintf(why, whyn,
				 "the devicemapper driver needs the kernel's device-mapper (dm_mod): this kernel has "
				 "no /dev/mapper/control, no dm_mod module and no device-mapper in /proc/devices; "
				 "use overlay2, vfs or btrfs");
		else
			snprintf(why, whyn,
				 "the devicemapper driver is not available in berth (it could not be tested on a "
				 "kernel with device-mapper); use overlay2, vfs or btrfs");
		return -BERTH_EUNSUPPORTED;
	}
	for (int i = 0; drivers[i]; i++) {
		if (strcmp(drivers[i]->name, name) != 0)
			continue;
		d->ops = drivers[i];
		buf_init(&home, BUF_UNLIMITED);
		if (buf_addf(&home, "%s/%s", root, name) < 0)
			return -BERTH_ENOMEM;
		d->home = buf_detach(&home, NULL);
		rc = d->ops->init(d, why, whyn);
		if (rc < 0)
			graph__driver_close(d);
		return rc;
	}
	snprintf(why, whyn, "unknown graph driver \"%s\" (overlay2, vfs, btrfs)", name);
	return -BERTH_EINVAL;
}

void graph__driver_close(struct graph_driver *d)
{
	free(d->home);
	memset(d, 0, sizeof(*d));
}

const char *graph__driver_default(const char *root)
{
	char *s = NULL;
	int overlay = 0;

	if (graph__read_file("/proc/filesystems", 1 << 16, &s) == 0)
		overlay = strstr(s, "\toverlay\n") != NULL;
	free(s);
	return overlay && geteuid() == 0 ? "overlay2" : "vfs";
}

int graph__stage_path(struct graph_driver *d, char **out, int mk)
{
	char id[37];
	struct buf p;
	int rc;

	*out = NULL;
	rc = uuid_new(id);
	if (rc < 0)
		return rc;
	buf_init(&p, BUF_UNLIMITED);
	if (buf_addf(&p, "%s/.staging/%s", d->home, id) < 0)
		return -BERTH_ENOMEM;
	if (mk && mkdir(p.ptr, 0700) < 0) {
		rc = berth_from_errno(errno);
		buf_release(&p);
		return rc;
	}
	*out = buf_detach(&p, NULL);
	return 0;
}
