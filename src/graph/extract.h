/* extract: unpack a layer (a layer_walker) onto a directory, safely.
 * Every path is resolved relative to the root directory fd one component at a time with O_NOFOLLOW;
 * symlinks met in the middle of a path are resolved by berth itself *inside* the root (an absolute
 * target or ".." never climbs above it: the root acts as "/"), so no entry, hard link or whiteout can
 * touch anything outside the root, whatever symlinks earlier entries or lower layers planted. The last
 * component is never followed: an existing entry there is removed (a directory recursively, unless
 * both are directories, which merge) and the new one created with O_EXCL.
 * Types, modes (setuid/setgid/sticky), owners, xattrs, timestamps (directories after their content),
 * hard links (only to paths inside the root), device nodes and fifos are reproduced.
 *
 * Whiteouts, two modes:
 *   GRAPH_WH_OVERLAY  the root holds one layer's diff for overlayfs: ".wh.x" becomes a character device
 *                     0/0 named x, ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory.
 *   GRAPH_WH_APPLY    the root is a full file system (vfs, btrfs): ".wh.x" deletes x, and an opaque
 *                     marker deletes what the directory held before this layer (entries this layer
 *                     wrote stay, as with Docker and umoci).
 * xattrs in the trusted.overlay. and user.overlay. namespaces are never taken from a layer (they
 * would steer overlayfs: redirects, metacopy).
 *
 *   int root = open(dir, O_RDONLY | O_DIRECTORY);
 *   rc = graph_extract(root, walker, GRAPH_WH_OVERLAY, &stats, why, sizeof why);
 */
#ifndef BERTH_GRAPH_EXTRACT_H
#define BERTH_GRAPH_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "image/layer.h"

enum graph_wh_mode { GRAPH_WH_OVERLAY = 1, GRAPH_WH_APPLY };

/* Deepest real path (in components) an extraction may create or walk: bounds the recursion of the
 * tree copy and removal that later handle the same tree. */
#define GRAPH_MAX_DEPTH 512

struct graph_extract_stats {
	uint64_t entries; /* tar entries processed */
	uint64_t files; /* regular files written */
	uint64_t bytes; /* content bytes written */
	uint64_t whiteouts;
};

/* Extracts every remaining entry of w under rootfd (borrowed, a directory opened O_RDONLY).
 * 0; -BERTH_EINVAL for a hostile or impossible entry (a hard link to a missing path or a directory, a
 * path through a non-directory, a path deeper than GRAPH_MAX_DEPTH); the walker's error; or the
 * mapped errno of a failed system call. why (may be NULL) gets one line naming the entry.
 * stats may be NULL. On failure the root holds a partial tree the caller discards. */
int graph_extract(int rootfd, struct layer_walker *w, enum graph_wh_mode mode, struct graph_extract_stats *stats,
		  char *why, size_t whyn);

#endif
