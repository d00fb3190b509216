/* local:NAME[:TAG]: the host image store (src/graph/store.h).
 *
 * A slot, not wired yet. How it maps onto the store's API:
 *   destination (`berth pull`, `copy ... local:`): open the store (graph_store_open) and a staging
 *   folder on its file system as im->spool_dir; caps CLIENT_CAP_NO_INDEX (the store takes one image
 *   manifest: the engine picks the platform first). blob_put links or copies the verified fd into
 *   the staging folder under the digest; blob_exists may answer 1 for a layer graph_layer_list()
 *   shows with the same compressed digest (the store then does not read it again); manifest_put
 *   keeps the manifest bytes. commit reads the staged config and calls graph_image_put(store,
 *   manifest, config, &source, {names = NAME:TAG}) with a graph_source whose open/read/close read
 *   the staged files (concurrently: one fd per stream). graph_image_put verifies again and commits
 *   in one step, so a failed pull leaves the store as it was; free() removes the staging folder.
 *   Unpacking progress: the store's parallel unpack does not report bytes yet.
 *   source (`berth push local:...`): needs the store to hand out an image's manifest, config and
 *   layer tars (re-tarred from the unpacked layers, with new digests); the store has no export yet.
 * Until then opening local: fails with one plain sentence instead of doing anything half-way. */
#include "base/err.h"
#include "client/transport.h"

int client__local_open(struct client_image *im, struct client_err *e)
{
	(void)im;
	return client_err_set(e, -BERTH_EUNSUPPORTED, "local: transport not available yet");
}
