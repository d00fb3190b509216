/* internal: helpers shared inside src/graph (not a public interface). */
#ifndef BERTH_GRAPH_INTERNAL_H
#define BERTH_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Removes dirfd/name and everything under it without following symlinks. A directory on another
 * device below it (a mount point) stops the removal with -BERTH_EBUSY. Missing name: 0. */
int graph__rm_rf_at(int dirfd, const char *name);

/* Removes every entry inside the directory fd (the directory itself stays). Same rules as above. */
int graph__clear_dir(int fd);

/* Copies the tree at src (a directory) into the existing empty directory dst: types, modes, owners,
 * xattrs, timestamps, hard links (within the tree), devices, fifos. File data goes through
 * copy_file_range, which shares extents on file systems that can (btrfs, xfs). 0 or an error. */
int graph__copy_tree(const char *src, const char *dst);

/* Sum of st_blocks*512 of the tree at path (best effort, 0 on error). */
uint64_t graph__du(const char *path);

/* A set of strings (open addressing, copies its keys). */
struct graph__strset {
	char **slots;
	size_t cap, n;
};
void graph__strset_init(struct graph__strset *s);
void graph__strset_release(struct graph__strset *s);
int graph__strset_add(struct graph__strset *s, const char *key, size_t len); /* 0 or -BERTH_ENOMEM */
int graph__strset_has(const struct graph__strset *s, const char *key, size_t len);

/* A formatted, malloc'd path (NULL when out of memory). */
char *graph__pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes len bytes to path atomically (tmp file, fsync, rename). 0 or an error. */
int graph__write_file(const char *path, const void *p, size_t len);
/* Reads a small file (at most max bytes) into a NUL-terminated malloc'd string. */
int graph__read_file(const char *path, size_t max, char **out);

#endif
