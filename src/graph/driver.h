/* driver: the graph driver interface (internal to src/graph; the store is the public face).
 * A driver keeps layers under its home directory (ROOT/<driver name>) by id (a chain ID's hex, or a
 * container's id) and knows how to stage a new layer, move it into place, remove it and present a
 * container's root file system.
 *
 *   overlay2  home/<id>/{diff/,link,lower,work/,merged/}, home/l/<short> -> ../<id>/diff (Docker's
 *             layout); layers are independent diffs (whiteouts as overlay devices/xattrs), so they can
 *             be unpacked in parallel; a container is an overlay mount of its chain.
 *   vfs       home/dir/<id>: a full copy of the parent with the diff applied; works anywhere.
 *   btrfs     home/subvolumes/<id>: a subvolume snapshot of the parent with the diff applied.
 *   devicemapper is refused with a message naming the missing kernel support (see driver.c).
 */
#ifndef BERTH_GRAPH_DRIVER_H
#define BERTH_GRAPH_DRIVER_H

#include <stddef.h>

#include "graph/extract.h"

struct graph_driver;

struct graph_driver_ops {
	const char *name;
	enum graph_wh_mode wh;
	int parallel; /* layers do not need their parent to unpack */
	const char *layers_dir; /* where ids live, relative to home ("" for home itself) */
	/* Checks kernel and file-system support and creates the home layout. */
	int (*init)(struct graph_driver *d, char *why, size_t whyn);
	/* A new staging layer, starting as a copy (vfs) or snapshot (btrfs) of parent_root when given.
	 * *stage (to commit or abort) and *root (extract here) are malloc'd. */
	int (*stage)(struct graph_driver *d, const char *parent_root, char **stage, char **root);
	/* Moves the staged layer into place as id; parent_id (or NULL) links it to its parent. */
	int (*commit)(struct graph_driver *d, const char *stage, const char *id, const char *parent_id);
	int (*abort)(struct graph_driver *d, const char *stage);
	/* Removes layer id (missing: 0). */
	int (*remove)(struct graph_driver *d, const char *id);
	/* The directory holding id's files: the diff for overlay2, the whole tree otherwise (malloc'd). */
	char *(*layer_root)(struct graph_driver *d, const char *id);
	/* Presents container layer id as a root file system; *path (malloc'd) is where. NULL: the layer's
	 * own tree is the root file system (layer_root; vfs, btrfs) and umount has nothing to do. */
	int (*mount)(struct graph_driver *d, const char *id, char **path, char *why, size_t whyn);
	int (*umount)(struct graph_driver *d, const char *id); /* NULL: nothing to undo */
	/* Removes driver litter that belongs to no id (overlay2: links whose layer is gone). NULL: none. */
	int (*sweep)(struct graph_driver *d);
};

struct graph_driver {
	const struct graph_driver_ops *ops;
	char *home;
};

/* Finds the driver called name and checks this machine can run it. -BERTH_EINVAL for an unknown name,
 * -BERTH_EUNSUPPORTED (why says what is missing) when the kernel or file system cannot. */
int graph__driver_open(struct graph_driver *d, const char *name, const char *root, char *why, size_t whyn);
void graph__driver_close(struct graph_driver *d);
/* The driver a new store gets when none is named: overlay2 where it works, else vfs. */
const char *graph__driver_default(const char *root);

/* Shared by the drivers: a fresh staging directory home/.staging/<uuid> (created when mk). */
int graph__stage_path(struct graph_driver *d, char **out, int mk);

extern const struct graph_driver_ops graph__overlay2_ops, graph__vfs_ops, graph__btrfs_ops;

#endif
