/* layer: walk the entries of a layer tar stream (already decompressed, e.g. by decomp) with libarchive.
 * Each entry comes out checked and normalized, so no caller deals with raw tar names:
 *   - path: relative, no leading "/" or "./", no empty or "." components, no trailing "/"; "" is the
 *     layer root ("./"). A ".." component anywhere fails the walk with -BERTH_EINVAL (a layer never
 *     needs one, and lexical cleaning would disagree with the file system once symlinks exist).
 *     Absolute names are taken relative to the layer root, as Docker and umoci do.
 *   - whiteouts are classified: ".wh.NAME" -> LAYER_WH_FILE with path = the deleted path,
 *     ".wh..wh..opq" -> LAYER_WH_OPAQUE with path = the directory; other ".wh..wh." names are
 *     aufs bookkeeping -> LAYER_WH_META (callers skip them).
 *   - hard link targets get the same normalization; symlink targets are verbatim (they are data).
 *   - absurd headers are refused: sizes over max_entry (-BERTH_ETOOBIG), paths over 4095 bytes or a
 *     component over 255, links over 4095, more than 1024 xattrs or any over 64 KiB (-BERTH_EINVAL),
 *     uid/gid that are negative or >= 2^32-1, unsupported types (sockets) (-BERTH_EINVAL).
 * The walker reads through a callback, so the caller keeps control of digests and bounds.
 *
 * A scanner that wants content only for a few files sets a filter: entries that match none of the
 * patterns (fnmatch with FNM_PATHNAME against the normalized path, so a "*" never crosses a "/") are skipped inside the walker,
 * except whiteouts, which always come out so deletions can be tracked.
 *
 *   struct layer_walker *w; const struct layer_entry *e;
 *   layer_walker_new(&w, decomp_read_cb, dc, NULL);
 *   while ((rc = layer_walker_next(w, &e)) > 0) { if (e->type == LAYER_REG) layer_walker_read(w, b, n); }
 *   layer_walker_free(w);
 */
#ifndef BERTH_IMAGE_LAYER_H
#define BERTH_IMAGE_LAYER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef ssize_t (*layer_read_fn)(void *ctx, void *buf, size_t n); /* count, 0 at end, or -BERTH_E* */

enum layer_type { LAYER_REG = 1, LAYER_DIR, LAYER_SYMLINK, LAYER_HARDLINK, LAYER_CHR, LAYER_BLK, LAYER_FIFO };
enum layer_wh { LAYER_WH_NONE = 0, LAYER_WH_FILE, LAYER_WH_OPAQUE, LAYER_WH_META };

struct layer_xattr {
	const char *name;
	const void *value;
	size_t size;
};

struct layer_entry {
	const char *path; /* normalized (see above); for whiteouts the path they delete / make opaque */
	const char *raw_path; /* the normalized tar name itself (".wh." names kept) */
	enum layer_type type;
	enum layer_wh wh;
	uint32_t mode; /* permission bits including setuid, setgid, sticky (07777) */
	uint32_t uid, gid;
	int64_t mtime_sec, atime_sec;
	long mtime_nsec, atime_nsec; /* atime is the mtime when the tar has none */
	uint64_t size; /* content bytes (regular files) */
	const char *link; /* symlink target (verbatim) or hard link target (normalized); else NULL */
	uint32_t devmajor, devminor;
	const struct layer_xattr *xattrs;
	size_t nxattrs;
};

struct layer_limits {
	uint64_t max_entry; /* largest entry size accepted; 0: 1 TiB */
};

struct layer_walker;

/* Starts a walk over fn/ctx (borrowed). lim may be NULL. 0 or -BERTH_ENOMEM. */
int layer_walker_new(struct layer_walker **out, layer_read_fn fn, void *ctx, const struct layer_limits *lim);

/* Only entries matching one of the NULL-terminated fnmatch patterns (copied) come out, plus all whiteouts.
 * NULL removes the filter. 0 or -BERTH_ENOMEM. */
int layer_walker_set_filter(struct layer_walker *w, const char *const *patterns);

/* Moves to the next entry: 1 and *e (valid until the next call), 0 at the end of the archive, or a
 * negative error (-BERTH_EINVAL malformed or hostile, -BERTH_ETOOBIG, or the read callback's error);
 * errors are sticky. Unread content of the previous entry is skipped. */
int layer_walker_next(struct layer_walker *w, const struct layer_entry **e);

/* Content of the current entry in blocks without copying: 1 and the block in p, n, off (its's offset in the
 * file; a jump means a hole), 0 after the last block, or a negative error. */
int layer_walker_block(struct layer_walker *w, const void **p, size_t *n, uint64_t *off);

/* Content of the current entry copied into buf (holes read as zeros): count, 0 at its end, or error. */
ssize_t layer_walker_read(struct layer_walker *w, void *buf, size_t n);

/* A one-line reason for the last error, naming the entry ("" when none). */
const char *layer_walker_why(const struct layer_walker *w);

/* Entries seen so far (filtered ones included). */
uint64_t layer_walker_count(const struct layer_walker *w);

void layer_walker_free(struct layer_walker *w); /* NULL is a no-op */

/* Normalizes a tar name into out (see above): 0, or -BERTH_EINVAL for ".." or over-long names.
 * out gets at most strlen(name)+1 bytes. */
int layer_path_normalize(const char *name, char *out, size_t outn);

#endif
