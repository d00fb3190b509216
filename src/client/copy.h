/* copy: moves an image from one transport to another.
 *
 * Order: read the source's manifest (verified); for an index pick the platform (host by default,
 * opts->platform, or every child with opts->all); plan every blob once; move blobs with opts->jobs
 * workers: a blob the destination has is skipped (HEAD), one on the same registry is mounted across
 * repositories, any other is read from the source (verified against digest and size before the
 * destination sees a byte) and written; then the manifests (children first, the named one last,
 * with its tag); then commit. Any failure stops the workers, and nothing is committed.
 *
 * A destination that needs uncompressed layers (docker-archive) gets each layer decompressed and
 * checked against the config's rootfs.diff_ids, and a Docker schema 2 manifest naming them; the
 * config is unchanged, the manifest digest is new (as skopeo does).
 *
 *   struct client_copy_opts co = {.jobs = 4};
 *   struct client_copy_result res;
 *   if (client_copy(src, dst, &co, &res, &e) == 0) { ... res.digest ...; client_copy_result_release(&res); }
 */
#ifndef BERTH_CLIENT_COPY_H
#define BERTH_CLIENT_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "client/transport.h"

enum client_blob_action { CLIENT_BLOB_COPIED, CLIENT_BLOB_SKIPPED, CLIENT_BLOB_MOUNTED };

enum client_copy_phase {
	CLIENT_PHASE_CHECK, /* asking the destination whether it has the blob */
	CLIENT_PHASE_FETCH, /* reading and verifying from the source */
	CLIENT_PHASE_CONVERT, /* decompressing for the destination */
	CLIENT_PHASE_WRITE, /* writing to the destination */
	CLIENT_PHASE_DONE,
	CLIENT_PHASE_FAILED,
};

struct client_copy_event {
	size_t slot, nslots; /* the blob's place in the plan, and the plan's size */
	const struct image_desc *desc; /* the source's descriptor */
	int is_config;
	enum client_copy_phase phase;
	uint64_t done, total; /* bytes of the current phase */
	enum client_blob_action action; /* with CLIENT_PHASE_DONE */
};

struct client_copy_opts {
	int jobs; /* parallel blob transfers; <= 0 means 4 */
	int all; /* copy every child of an index, and the index */
	const struct image_platform *platform; /* NULL: this host's platform */
	/* Called from worker threads, never two at once; may be NULL. */
	void (*on_event)(void *ctx, const struct client_copy_event *ev);
	void *ctx;
	/* When set nonzero by anyone (a signal handler), the copy stops soon and fails with
	 * "cancelled"; the copy also sets it on its first failure. NULL: an internal flag. */
	atomic_int *cancel;
};

struct client_copy_blob {
	struct image_desc desc; /* as the destination holds it */
	struct digest source; /* the source's digest (differs after decompression) */
	enum client_blob_action action;
	int is_config;
};

struct client_copy_result {
	struct digest digest; /* the manifest the destination reference now names */
	char *media_type;
	char platform[96]; /* the platform picked from an index, or "" */
	struct client_copy_blob *blobs;
	size_t nblobs;
	struct digest *manifests; /* every manifest written, the named one last */
	size_t nmanifests;
};

/* Copies src's image to dst and commits dst. On failure returns a negative code with e set and
 * dst uncommitted (client_image_free() rolls it back); res needs no release then. */
int client_copy(struct client_image *src, struct client_image *dst, const struct client_copy_opts *o,
		struct client_copy_result *res, struct client_err *e);
void client_copy_result_release(struct client_copy_result *r);

/* The result as one JSON object (digest, mediaType, platform, manifests, blobs with their action,
 * counts); caller free()s. */
char *client_copy_result_json(const struct client_copy_result *r, const char *src, const char *dst);

#endif
