/* transport: an image reference opened for reading (source) or writing (destination), whatever it
 * names: a registry (docker://), an OCI layout (oci:), a tar of one (oci-archive:), a `docker save`
 * tarball (docker-archive:) or the host store (local:, see tr_local.c).
 *
 * Sources hand out manifests and blobs, always verified: client_image_blob_open() returns an fd whose
 * bytes hashed to the descriptor's digest and size before it returned. Destinations take blobs and
 * manifests, but make nothing visible before client_image_commit(): a copy that fails half-way
 * leaves the destination as it was (for a registry: unreferenced blobs at most, no manifest, no tag).
 *
 *   struct client_image *src, *dst;
 *   client_image_open("oci:/tmp/lay:v1", CLIENT_SRC, &opts, &src, &e);
 *   client_image_open("docker://127.0.0.1:5000/app:v1", CLIENT_DST, &opts, &dst, &e);
 *   client_copy(src, dst, &copts, &result, &e);  (copy.h)
 *   client_image_free(dst); client_image_free(src);
 */
#ifndef BERTH_CLIENT_TRANSPORT_H
#define BERTH_CLIENT_TRANSPORT_H

#include <stddef.h>

#include "base/buf.h"
#include "client/client.h"
#include "image/desc.h"
#include "image/ref.h"

enum client_mode { CLIENT_SRC = 1, CLIENT_DST = 2, CLIENT_ADMIN = 4 /* tags, delete */ };

/* What a destination can hold. */
#define CLIENT_CAP_UNCOMPRESSED 1u /* layers must be uncompressed tars (docker-archive) */
#define CLIENT_CAP_NO_INDEX 2u /* one image manifest only, no index (docker-archive) */
#define CLIENT_CAP_OCI_TYPES 4u /* OCI media types only: Docker schema 2 is converted (oci:, as skopeo) */

struct client_image;

/* What the copy engine hands a destination that takes a whole image at once (image_put, local:):
 * the manifest and config (already read and verified), and how to report and stop. */
struct client_image_put {
	const void *manifest;
	size_t mlen;
	const char *media_type;
	const void *config;
	size_t clen;
	int jobs; /* layers read at once where the destination can; <= 0: its default */
	/* Bytes of layer i (its place in the manifest) consumed so far, from the threads reading the
	 * layers; called once with done = 0 when a layer starts, and only for layers the destination
	 * reads (a layer it already has is never reported). May be NULL. */
	void (*progress)(void *ctx, size_t layer, uint64_t done, uint64_t total);
	void *ctx;
	atomic_int *cancel; /* nonzero: stop soon, fail with "cancelled", change nothing */
};

struct client_image_ops {
	/* source: the manifest dg (NULL: the one the reference names), verified; *media_type is
	 * caller-freed; *out its digest. */
	int (*manifest_get)(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			    struct digest *out, struct client_err *e);
	/* source: a read-only fd at offset 0 holding d's verified bytes. *temp = 1 when the fd is a
	 * private temporary file (made in spool_dir when given) the destination may link instead of copy. */
	int (*blob_open)(struct client_image *im, const struct image_desc *d, const char *spool_dir,
			 struct client_xfer *x, int *fd, int *temp, struct client_err *e);
	/* source: writes d's bytes in order into fd (a pipe another thread reads as they come), checking
	 * digest and size only at the end: the reader must not commit anything before this returned 0.
	 * NULL: client_image_blob_stream() copies from blob_open() instead. */
	int (*blob_stream)(struct client_image *im, const struct image_desc *d, int fd, struct client_xfer *x,
			   struct client_err *e);
	/* destination: takes one image manifest (never an index) and reads the layers it lacks from src
	 * itself, as it needs them, committing everything in one step (local:, streaming into the host
	 * store). When set, the copy engine calls it instead of blob_put/manifest_put; commit follows. */
	int (*image_put)(struct client_image *im, struct client_image *src, const struct client_image_put *p,
			 struct client_err *e);
	/* destination: 1 when d is already there, 0 when not. */
	int (*blob_exists)(struct client_image *im, const struct image_desc *d, struct client_err *e);
	/* destination: 1 when d could be taken from src without moving bytes (cross-repository mount),
	 * 0 when not. NULL when the transport cannot. */
	int (*blob_mount)(struct client_image *im, const struct image_desc *d, struct client_image *src,
			  struct client_err *e);
	/* destination: stores d's bytes read from fd (offset 0). */
	int (*blob_put)(struct client_image *im, const struct image_desc *d, int fd, int temp, struct client_xfer *x,
			struct client_err *e);
	/* destination: stores a manifest; top = 1 for the one the reference names (it gets the tag),
	 * 0 for an index's children (stored by digest). */
	int (*manifest_put)(struct client_image *im, const void *body, size_t len, const char *media_type, int top,
			    struct client_err *e);
	/* destination: makes everything put so far visible. */
	int (*commit)(struct client_image *im, struct client_err *e);
	int (*tags)(struct client_image *im, char ***tags, size_t *n, struct client_err *e);
	int (*remove)(struct client_image *im, struct client_err *e);
	void (*free)(struct client_image *im);
};

struct client_image {
	const struct client_image_ops *ops;
	struct image_ref ref; /* owned copy of the parsed reference */
	const struct client_opts *opts; /* borrowed */
	enum client_mode mode;
	unsigned caps; /* CLIENT_CAP_* */
	char *spool_dir; /* destination: where downloads should land to be linked; may be NULL */
	char *name; /* the reference as text, for messages */
	void *priv;
};

/* Parses text and opens it. Fails with e set: bad reference, unreachable registry, missing layout,
 * a store without the image, ... */
int client_image_open(const char *text, enum client_mode mode, const struct client_opts *o, struct client_image **out,
		      struct client_err *e);
/* Opens an already parsed reference (copied). */
int client_image_open_ref(const struct image_ref *ref, enum client_mode mode, const struct client_opts *o,
			  struct client_image **out, struct client_err *e);
/* Releases im; a destination not committed is rolled back. NULL is a no-op. */
void client_image_free(struct client_image *im);

/* Thin wrappers that fail with -BERTH_EUNSUPPORTED ("oci: cannot list tags") where the transport
 * lacks the operation. */
int client_image_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			      struct digest *out, struct client_err *e);
int client_image_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
			   struct client_xfer *x, int *fd, int *temp, struct client_err *e);
/* Writes d's bytes into fd (a pipe) in order, through the source's blob_stream when it has one,
 * else by copying what blob_open() gives. The bytes are verified only when this returns 0. A reader
 * that stops early makes it fail with -BERTH_EIO (SIGPIPE must be blocked or ignored in the calling
 * thread). */
int client_image_blob_stream(struct client_image *im, const struct image_desc *d, int fd, struct client_xfer *x,
			     struct client_err *e);
/* Reads a small blob (a config) into out, verified; -BERTH_ETOOBIG past max bytes. */
int client_image_blob_read(struct client_image *im, const struct image_desc *d, size_t max, struct buf *out,
			   struct client_err *e);
int client_image_commit(struct client_image *im, struct client_err *e);
int client_image_tags(struct client_image *im, char ***tags, size_t *n, struct client_err *e);
int client_image_remove(struct client_image *im, struct client_err *e);

/* The child of index idx for want (NULL: this host's platform), as client_copy picks it. Returns
 * its position, with the platform asked for written into platform ("os/arch[/variant]"); or
 * -BERTH_ENOENT with e naming the platforms the index has ("NAME has no image for linux/s390x (it
 * has: linux/amd64, linux/arm64); HINT"). name is the source's name; hint may be NULL. */
int client_index_pick(const struct image_doc *idx, const struct image_platform *want, const char *name,
		      const char *hint, char *platform, size_t platn, struct client_err *e);

/* One image manifest of a source: the one its reference names, or that index's child for a platform. */
struct client_image_manifest {
	struct buf body; /* the manifest's exact bytes */
	char *media_type; /* owned */
	struct digest digest;
	struct image_doc doc; /* body parsed: config and layers */
	char platform[96]; /* the platform picked from an index, "" when the reference named an image */
};
/* Reads src's manifest, verified; for an index, the child for want (NULL: this host's platform,
 * client_index_pick). An index whose child is an index again, or a manifest that does not parse,
 * fails -BERTH_EINVAL / -BERTH_EUNSUPPORTED. On success release out with
 * client_image_manifest_release(); on failure it needs none. */
int client_image_resolve(struct client_image *src, const struct image_platform *want, struct client_image_manifest *out,
			 struct client_err *e);
void client_image_manifest_release(struct client_image_manifest *m);

/* A blob read as it comes, never held whole in memory or (from a registry) in a temporary file:
 * *fd is readable at once. For a source with blob_stream (a registry) it is a pipe a thread fills
 * as the download goes, checked only at the end; otherwise the verified fd of blob_open(). The
 * reader reads *fd (to its end, or as far as it likes), closes it, and then calls
 * client_blob_reader_finish(), which says whether the bytes were d's: only then may anything made
 * of them be trusted. */
struct client_blob_reader;
int client_blob_reader_open(struct client_image *im, const struct image_desc *d, struct client_blob_reader **out,
			    int *fd, struct client_err *e);
/* Waits for the feeding thread and frees r: 0 when every byte was d's, else the source's error in e
 * (digest or size mismatch, a broken download, or -BERTH_EIO when the reader closed *fd before the
 * end). Call it only after closing *fd. NULL is 0. */
int client_blob_reader_finish(struct client_blob_reader *r, struct client_err *e);

/* Per-transport openers (tr_*.c); each fills im->ops, im->priv, im->caps. */
int client__docker_open(struct client_image *im, struct client_err *e);
int client__oci_open(struct client_image *im, struct client_err *e);
int client__oci_archive_open(struct client_image *im, struct client_err *e);
int client__docker_archive_open(struct client_image *im, struct client_err *e);
int client__local_open(struct client_image *im, struct client_err *e);
/* The registry connection of an opened docker:// image, NULL for other transports (sigs.c). */
struct client_remote *client__docker_remote(struct client_image *im);

/* Helpers shared by the transports (fsutil.c). */
/* Hashes fd from offset 0 to its end, checks d's size and digest, seeks back to 0. */
int client__fd_verify(int fd, const struct image_desc *d, const char *what, struct client_xfer *x,
		      struct client_err *e);
/* Copies fd (from offset 0) into a new file at path, hashing; verifies against d; fsyncs. */
int client__fd_copy_verified(int fd, const char *path, const struct image_desc *d, struct client_xfer *x,
			     struct client_err *e);
/* Gives an O_TMPFILE fd the name path (same file system); 0, or -BERTH_EUNSUPPORTED when it cannot. */
int client__fd_link(int fd, const char *path);
/* rm -r of a folder this process made; errors are ignored. */
void client__rmtree(const char *path);
/* mkdir -p; 0 or a negative error with e set. */
int client__mkdirs(const char *path, struct client_err *e);
/* Reads a whole file of at most max bytes. -BERTH_ENOENT when absent. */
int client__file_read(const char *path, size_t max, struct buf *out, struct client_err *e);
/* Writes data to path atomically (temp file in the same folder, fsync, rename, fsync folder). */
int client__file_write_atomic(const char *path, const void *data, size_t len, struct client_err *e);
/* Extracts a tar into dir: regular files and folders only; symlinks are recorded in links (a JSON
 * object name -> target, caller json_decref()s; may be NULL); absolute names, "..", devices and
 * hard links outside are refused. */
int client__tar_extract(const char *tar, const char *dir, void **links, struct client_err *e);
/* Writes everything under dir (folders, regular files, symlinks; names sorted, owner 0, time 0) into
 * a new tar at path, atomically. */
int client__tar_create(const char *path, const char *dir, struct client_err *e);
/* A path name for a blob: "<dir>/blobs/<alg>/<hex>". Caller free()s. */
char *client__blob_path(const char *dir, const struct digest *d);

#endif
