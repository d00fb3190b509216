/* store: the host's local image store (default root /var/lib/berth) over one graph driver.
 * Layers are identified by chain ID (from the config's rootfs.diff_ids), shared between images and
 * stored once; images by their config digest, with names ("repo:tag") and the manifest digest they
 * came in by; containers by name, each a writable layer on top of an image, presented by the driver
 * (an overlay mount for overlay2, the layer directory for vfs and btrfs).
 *
 * Invariants:
 *   - graph_image_put verifies every byte before anything is committed: the config against the
 *     manifest's descriptor, each layer's compressed bytes against its digest and size, the inflated
 *     tar against the config's diff_id. A layer is unpacked into a staging directory and moved into
 *     place only after both digests match; a failed put leaves the store as it was.
 *   - Metadata lives in SQLite (ROOT/graph.db) and changes in one transaction per operation, after the
 *     layer directories it points at are durable (syncfs, rename, fsync of the parent).
 *   - Processes share a store safely: ROOT/lock (flock) serializes commits and removals,
 *     ROOT/staging.lock (shared while a put or mount stages layers) keeps removals of unreferenced
 *     layers and staging litter away from work in progress.
 *   - The store keeps each image's manifest and config bytes and each layer's compressed blob
 *     (ROOT/blobs/<alg>/<hex>), saved from the same stream while unpacking and renamed in under the
 *     same commit, so an image can be read back with every digest unchanged (graph_blob_open). A blob
 *     goes when no image's manifest, config or layer record names it any more (rmi, prune).
 *   - Needs root: owners, device nodes, overlay mounts and xattrs are reproduced as the layer says.
 * docs/internals/graph.md has the layout on disk and the safety argument.
 *
 *   struct graph_store *s; char why[512];
 *   if (graph_store_open(&s, "/var/lib/berth", NULL, why, sizeof why) < 0) -> why
 *   rc = graph_image_put(s, manifest, mlen, config, clen, &source, &opts, &res);
 *   graph_container_mount(s, "app:v1", "web", &path, NULL);  ... graph_store_close(s);
 */
#ifndef BERTH_GRAPH_STORE_H
#define BERTH_GRAPH_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/digest.h"

#define GRAPH_DEFAULT_ROOT "/var/lib/berth"
#define GRAPH_DEFAULT_MAX_LAYER (64ull << 30) /* inflated bytes per layer */

struct graph_store;

/* Opens (creating when missing) the store at root with the driver named driver, or, when driver is
 * NULL, the one the store was created with (overlay2 where the kernel has it, else vfs, for a new
 * store). A store keeps one driver: naming another fails with -BERTH_EINVAL. -BERTH_EUNSUPPORTED when
 * this machine cannot run the driver (devicemapper always; why names the missing kernel support).
 * why (whyn bytes) gets one line on failure. graph_store_close frees. */
int graph_store_open(struct graph_store **out, const char *root, const char *driver, char *why, size_t whyn);
void graph_store_close(struct graph_store *s); /* NULL is a no-op */

const char *graph_store_driver(const struct graph_store *s);
const char *graph_store_root(const struct graph_store *s);
/* One line about the last failure of a call on s ("" when none); valid until the next call. */
const char *graph_store_why(const struct graph_store *s);

/* Where layer blobs come from: a registry client's HTTP streams, files of an OCI layout, ...
 * open() starts reading the blob with digest d (its descriptor says size bytes) and sets *stream;
 * read() returns a count, 0 at the end, or a negative BERTH_E*; close() ends it (always called after
 * a successful open). On overlay2, several layers are read at once from different threads: the
 * callbacks must allow concurrent streams. */
struct graph_source {
	void *ctx;
	int (*open)(void *ctx, const struct digest *d, uint64_t size, void **stream);
	ssize_t (*read)(void *stream, void *buf, size_t n);
	void (*close)(void *stream);
};

struct graph_put_opts {
	const char *const *names; /* "repo:tag" names to give the image (moved from any image holding them) */
	size_t nnames;
	uint64_t max_layer_bytes; /* inflated bytes per layer (bombs); 0: GRAPH_DEFAULT_MAX_LAYER */
	int parallel; /* layers unpacked at once where the driver allows; 0: online CPUs (max 8) */
};

struct graph_put_result {
	struct digest image_id; /* the config digest */
	struct digest manifest; /* sha256 of the manifest bytes */
	size_t layers_total, layers_new;
	uint64_t bytes_in; /* compressed bytes read */
	uint64_t bytes_unpacked; /* inflated tar bytes of the new layers */
};

/* Puts an image: manifest is an OCI image manifest or a Docker schema 2 manifest (not an index: pick
 * the platform first), config the config blob it names (both borrowed, already fetched). Layers
 * already present (same chain ID) are not read again; the others are read from src, verified and
 * unpacked (in parallel on overlay2), then committed with the image record in one step.
 * Returns 0; -BERTH_EINVAL (a malformed manifest or config, a hostile layer), -BERTH_EDIGEST (config,
 * layer or diff_id does not match, or a blob's size differs from its descriptor), -BERTH_ETOOBIG (a
 * layer inflates past max_layer_bytes), -BERTH_EUNSUPPORTED (a layer media type berth cannot unpack),
 * the source's own error, or an I/O error. graph_store_why() names the layer and what differed.
 * res may be NULL. */
int graph_image_put(struct graph_store *s, const void *manifest, size_t mlen, const void *config, size_t clen,
		    const struct graph_source *src, const struct graph_put_opts *opts, struct graph_put_result *res);

/* Opens the kept blob d (a manifest, a config or a layer's compressed bytes, as they were verified by
 * the put that stored them) read-only: 0 and *fd (the caller closes it). -BERTH_ENOENT when the store
 * does not keep it (an image put by a berth that did not keep blobs), why saying which. Readers that
 * hand the bytes on should hash them again (the file system is not trusted to keep them). */
int graph_blob_open(struct graph_store *s, const struct digest *d, int *fd);

/* ---- listing ---- */

struct graph_image_info {
	char id[DIGEST_STR_MAX]; /* config digest */
	char manifest[DIGEST_STR_MAX]; /* manifest digest */
	char **names; /* sorted */
	size_t nnames;
	size_t nlayers;
	uint64_t size; /* sum of the layers' inflated tar sizes */
	int64_t created_ms; /* when it was put */
	char top_layer[65]; /* chain ID hex of the top layer, "" for an image without layers */
	size_t containers; /* containers using it */
};

struct graph_layer_info {
	char id[65]; /* chain ID hex */
	char parent[65]; /* "" for a base layer */
	char diff_id[DIGEST_STR_MAX];
	char digest[DIGEST_STR_MAX]; /* compressed blob digest it was unpacked from */
	uint64_t compressed_size, size;
	int64_t created_ms;
	size_t refs; /* images whose chain includes it */
};

struct graph_container_info {
	char name[129];
	char id[65];
	char image[DIGEST_STR_MAX];
	char *path; /* where its root file system is presented */
	int mounted;
	int64_t created_ms;
};

/* Lists, newest first. The arrays are freed with the matching _free. 0 or -BERTH_EDB. */
int graph_image_list(struct graph_store *s, struct graph_image_info **out, size_t *n);
void graph_image_list_free(struct graph_image_info *v, size_t n);
int graph_layer_list(struct graph_store *s, struct graph_layer_info **out, size_t *n);
void graph_layer_list_free(struct graph_layer_info *v, size_t n);
int graph_container_list(struct graph_store *s, struct graph_container_info **out, size_t *n);
void graph_container_list_free(struct graph_container_info *v, size_t n);

/* Finds an image by name ("repo:tag", or "repo" meaning "repo:latest"), id ("sha256:<hex>", or a
 * unique hex prefix of at least 4), or manifest digest. 0 and *out, -BERTH_ENOENT, -BERTH_EINVAL when
 * a prefix is ambiguous. */
int graph_image_find(struct graph_store *s, const char *ref, struct graph_image_info *out);
void graph_image_info_release(struct graph_image_info *i);

/* ---- removal ---- */

struct graph_rmi_result {
	int untagged; /* only the name went: the image has other names */
	int deleted; /* the image record went */
	size_t layers_removed;
	size_t blobs_removed; /* kept blobs (manifests, configs, layers) no image needs any more */
};

/* Removes ref: given a name while the image has other names, only the name; otherwise the image and
 * every layer no other image uses. -BERTH_EBUSY when a container uses the image (why names it),
 * -BERTH_ENOENT when nothing matches. Layers are deleted at once unless another process is
 * staging layers; prune removes them then. res may be NULL. */
int graph_image_remove(struct graph_store *s, const char *ref, struct graph_rmi_result *res);

struct graph_prune_result {
	size_t layers; /* unreferenced layers removed */
	size_t orphans; /* directories without a record (an interrupted commit) */
	size_t staging; /* staging directories of dead processes */
	size_t blobs; /* kept blobs no image needs (left by a rmi while another process was staging) */
	int busy; /* another process was staging: layers and staging left alone */
};

/* Removes what nothing references: layers of no image, orphan directories, stale staging, kept blobs
 * no image needs and staged blobs of dead processes. */
int graph_prune(struct graph_store *s, struct graph_prune_result *res);

/* ---- containers ---- */

/* Creates container name (NULL: a generated name) from image ref, a fresh writable layer on top of the
 * image's layers, and presents its root file system; *path (malloc'd) says where and *name_out
 * (malloc'd, may be NULL) its name. An existing container of that name from the same image is only
 * presented again; from another image: -BERTH_EEXIST. */
int graph_container_mount(struct graph_store *s, const char *ref, const char *name, char **path, char **name_out);

/* Stops presenting the container's root file system (unmounts the overlay); its layer stays. */
int graph_container_umount(struct graph_store *s, const char *name);

/* Unmounts and deletes the container and its writable layer. -BERTH_ENOENT when there is none. */
int graph_container_remove(struct graph_store *s, const char *name);

/* ---- JSON (the CLI's --json) ---- */
struct buf;
int graph_images_json(const struct graph_image_info *v, size_t n, struct buf *out);
int graph_layers_json(const struct graph_layer_info *v, size_t n, struct buf *out);
int graph_containers_json(const struct graph_container_info *v, size_t n, struct buf *out);

#endif
