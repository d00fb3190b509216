/* inspect: what an image reference names: the manifest's digest and media type, an index's
 * platforms, and for the image (the index child of the wanted platform) its config: created, author,
 * platform, layers with sizes and history. Every byte is verified as in a copy.
 *
 *   struct client_inspect in;
 *   if (client_inspect(src, NULL, &in, &e) == 0) { ... in.layers ...; client_inspect_release(&in); }
 */
#ifndef BERTH_CLIENT_INSPECT_H
#define BERTH_CLIENT_INSPECT_H

#include <stddef.h>

#include "client/transport.h"

struct client_history {
	char *created, *created_by, *comment; /* owned; may be NULL */
	int empty_layer;
};

struct client_inspect {
	struct buf raw; /* the named manifest's exact bytes */
	char *media_type;
	struct digest digest;
	struct image_doc top; /* the named manifest parsed; an index lists its platforms */
	int has_image; /* an image was found (always for a plain manifest) */
	struct digest image_digest;
	struct image_doc image;
	char platform[96]; /* the image's platform "os/arch[/variant]", from its config */
	struct buf config; /* the config's bytes */
	char *created, *author;
	struct client_history *history;
	size_t nhistory;
	void *config_json; /* the config parsed (json_t *), or NULL when it is not JSON */
};

/* Reads src's manifest, and unless raw_only the image and its config (an index's child for want, or
 * this host's platform when want is NULL; none found is not an error: has_image = 0). */
int client_inspect(struct client_image *src, const struct image_platform *want, int raw_only,
		   struct client_inspect *out, struct client_err *e);
void client_inspect_release(struct client_inspect *in);

/* The inspection as one JSON document; caller free()s. */
char *client_inspect_json(const struct client_inspect *in, const char *name);

/* Sum of the image's layer sizes. */
int64_t client_inspect_size(const struct client_inspect *in);

#endif
