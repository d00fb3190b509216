/* index: what one layer contributes to an image's scan, read once per layer digest and streamed.
 * scan_layer_index() decompresses a layer blob (gzip, zstd or plain, through image/decomp), walks
 * its tar (image/layer, with a filter so unwatched entries are skipped without copying) and keeps
 * only the watched files: the release files (os-release and the distributions' own), the dpkg
 * database (status and status.d/), the apk database and the rpm databases. Text files are kept as
 * bytes (bounded); an rpm database is parsed right away (spooled to a temporary file, never held
 * in memory) and only its package list is kept. Whiteouts and opaque directories that touch a
 * watched path are kept too, so scan_image_build() (scan/image.h) can apply the layers in order.
 * A layer is never held whole in memory or written to disk whole.
 *
 * The result is plain data that scan_layer_encode()/scan_layer_decode() turn into bytes for the
 * metadata store, so an image's scan can be rebuilt without reading layers again.
 *
 *   struct scan_layer l; char why[256];
 *   scan_layer_init(&l);
 *   if (scan_layer_index(read_fd, &fd, &lim, &l, why, sizeof why) < 0) -> layer failed: why
 *   scan_layer_release(&l);
 */
#ifndef BERTH_SCAN_INDEX_H
#define BERTH_SCAN_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "scan/pkg.h"

/* Which watched file a path is. */
enum scan_watch {
	SCAN_W_NONE = 0,
	SCAN_W_OS_RELEASE, /* etc/os-release */
	SCAN_W_OS_RELEASE_USR, /* usr/lib/os-release */
	SCAN_W_DEBIAN_VERSION, /* etc/debian_version */
	SCAN_W_ALPINE_RELEASE, /* etc/alpine-release */
	SCAN_W_REDHAT_RELEASE, /* etc/redhat-release */
	SCAN_W_DPKG_STATUS, /* var/lib/dpkg/status */
	SCAN_W_DPKG_STATUSD, /* var/lib/dpkg/status.d/NAME */
	SCAN_W_APK, /* lib/apk/db/installed */
	SCAN_W_RPM_SQLITE, /* {var/lib/rpm,usr/lib/sysimage/rpm}/rpmdb.sqlite */
	SCAN_W_RPM_BDB, /* .../Packages (Berkeley DB) */
	SCAN_W_RPM_NDB, /* .../Packages.db (rpm's ndb: no reader, seen only) */
};

/* The watched kind of a normalized layer path (no leading "/"), or SCAN_W_NONE. */
enum scan_watch scan_watch_of(const char *path);

/* The fnmatch patterns (NULL-terminated) that select every watched path. */
extern const char *const scan_watch_patterns[];

enum scan_lf_op {
	SCAN_LF_PUT = 1, /* the layer writes a regular file at path */
	SCAN_LF_LINK, /* a symlink (link = target, verbatim) or hard link (link = normalized target, hard = 1) */
	SCAN_LF_DELETE, /* a whiteout deletes path (and everything under it) in lower layers */
	SCAN_LF_OPAQUE, /* path is an opaque directory: lower layers' content under it is hidden */
};

/* One thing a layer does to a watched path (or to a directory above one). */
struct scan_lf {
	enum scan_lf_op op;
	char *path;
	enum scan_watch kind;
	/* PUT of a text file: its bytes (data[len] is a NUL). */
	char *data;
	size_t len;
	/* PUT of an rpm database: its packages, or why it could not be read (why != NULL). */
	struct scan_pkgs pkgs;
	char *why;
	/* LINK */
	char *link;
	int hard;
};

struct scan_layer {
	struct scan_lf *v;
	size_t n, cap;
	uint64_t in_bytes, out_bytes; /* compressed bytes read, tar bytes inflated */
	uint64_t entries; /* tar entries walked */
};

struct scan_index_limits {
	uint64_t max_out; /* bytes inflated for this layer; 0: 16 GiB */
	uint64_t max_file; /* one kept text file; 0: SCAN_TEXT_MAX (64 MiB) */
	uint64_t max_kept; /* all text kept for this layer; 0: 256 MiB */
	const char *tmpdir; /* where rpm databases are spooled; NULL: $TMPDIR, else /tmp */
};

void scan_layer_init(struct scan_layer *l);
void scan_layer_release(struct scan_layer *l); /* l is empty and reusable afterwards */

/* Indexes one layer blob read through fn/ctx (borrowed). On success l holds the layer's watched
 * files and whiteouts in tar order, and 0 is returned. On failure l is empty, why has one line and
 * the result is -BERTH_EINVAL (corrupt or truncated compression, a malformed or hostile tar),
 * -BERTH_ETOOBIG (a bound of lim, a tar header with an absurd size), -BERTH_EIO (the spool), or the
 * read callback's error. A malformed rpm database does not fail the layer: it is recorded (why set)
 * and fails the image only if it is still there in the final image. */
int scan_layer_index(ssize_t (*fn)(void *ctx, void *buf, size_t n), void *ctx, const struct scan_index_limits *lim,
		     struct scan_layer *l, char *why, size_t whyn);

/* Serializes l into b (appending; a versioned binary format). 0 or b's error. */
int scan_layer_encode(const struct scan_layer *l, struct buf *b);
/* Reads what scan_layer_encode wrote into an empty l. 0, or -BERTH_EINVAL (l empty) when p is not
 * such an encoding, -BERTH_ENOMEM. */
int scan_layer_decode(const void *p, size_t n, struct scan_layer *l);

/* Package lists as bytes (the same record format), for storing an image's final list: each
 * package with a 32-bit layer index (layers may be NULL: all 0). */
int scan_pkgs_encode(const struct scan_pkgs *pk, const uint32_t *layers, struct buf *b);
/* Appends the packages of an encoding to pk and their layer indexes to *layers (malloc()ed, may be
 * NULL when not wanted). 0, -BERTH_EINVAL (nothing appended) or -BERTH_ENOMEM. */
int scan_pkgs_decode(const void *p, size_t n, struct scan_pkgs *pk, uint32_t **layers);

#endif
