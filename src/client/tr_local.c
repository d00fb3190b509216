/* local:NAME[:TAG]: the host image store.
 *
 * The slot for the graph module's store (src/graph, graph_image_put() and friends). When that API
 * lands, this file fills `struct client_image_ops` the way tr_oci.c does: manifest_get/blob_open
 * read a stored image (source: `berth push local:app docker://...`), blob_exists/blob_put/
 * manifest_put stage a pull and commit() hands the verified blobs and manifest to the store in one
 * step (`berth pull` = copy into local:), so a failed pull leaves the store as it was. Until then
 * opening local: fails with one plain sentence instead of doing anything half-way. */
#include "base/err.h"
#include "client/transport.h"

int client__local_open(struct client_image *im, struct client_err *e)
{
	(void)im;
	return client_err_set(e, -BERTH_EUNSUPPORTED, "local: transport not available yet");
}
