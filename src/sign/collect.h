/* collect: gathers every signature of an image the way containers/image's docker source does, so
 * `berth verify`, pull and copy only supply the transport:
 * - simple signatures from the signature extension API when the registry announces it
 *   (X-Registry-Supports-Signatures), otherwise from the registries.d lookaside
 *   (<base>/<repo>@<alg>=<hex>/signature-1, -2, ... up to the first missing one, at most 128;
 *   file:// bases are read here, http(s) ones through the url callback);
 * - sigstore signatures from the "sha256-<hex>.sig" attachment when registries.d enables
 *   use-sigstore-attachments for the repository (each layer's blob checked against its digest).
 * The result plugs into policy_eval() through sign_collected_image().
 *
 *   struct sign_fetch f = {.ctx = client, .manifest = get_manifest, .blob = get_blob, .url = get_url};
 *   struct sign_collected c;
 *   if (sign_collect(regs, &ref, &digest, 1, &f, &c, why, sizeof why) == 0) {
 *       struct policy_image img; sign_collected_image(&c, &ref, manifest, n, &img);
 *       policy_eval(policy, &img, &reason); sign_collected_release(&c);
 *   }
 */
#ifndef BERTH_SIGN_COLLECT_H
#define BERTH_SIGN_COLLECT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/digest.h"
#include "sign/policy.h"
#include "sign/ref.h"
#include "sign/registries.h"
#include "sign/sigstore.h"

#define SIGN_LOOKASIDE_MAX 128 /* signatures read from one lookaside location */
#define SIGN_SIGNATURE_MAX (4u << 20) /* bytes of one signature or attachment blob */

/* The transport, supplied by the caller. Each callback appends the body to out (a buf the library
 * created with a cap) and returns 0, -BERTH_ENOENT when the object does not exist (HTTP 404), or another
 * negative error, which stops the collection. */
struct sign_fetch {
	void *ctx;
	/* A manifest of ref's repository by tag; media_type (mtn bytes) gets its Content-Type. */
	int (*manifest)(void *ctx, const struct sign_ref *ref, const char *tag, struct buf *out, char *media_type,
			size_t mtn);
	/* A blob of ref's repository. */
	int (*blob)(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out);
	/* An http:// or https:// lookaside URL; NULL when the caller cannot fetch URLs (such bases are
	 * then an error). */
	int (*url)(void *ctx, const char *url, struct buf *out);
	/* The signature extension list for manifest d (GET /extensions/v2/<name>/signatures/<d>); only
	 * called when sign_collect() is told the registry supports the extension. */
	int (*extension)(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out);
};

struct sign_collected {
	struct buf *simple; /* simple signature blobs */
	size_t nsimple;
	struct sign_sigstore_sig *sigstore; /* attachment layers (signatures or other attachments) */
	size_t nsigstore;
};

/* Collects the signatures of manifest d of ref. registries may be NULL (no lookaside, no attachments).
 * supports_extension says whether /v2/ answered X-Registry-Supports-Signatures: 1. Returns 0 with out
 * filled (release it), or a negative error with a reason in why. */
int sign_collect(const struct registries *registries, const struct sign_ref *ref, const struct digest *d,
		 int supports_extension, const struct sign_fetch *f, struct sign_collected *out, char *why,
		 size_t whyn);
void sign_collected_release(struct sign_collected *c);

/* Fills img (docker transport) for policy_eval from c, ref and the manifest bytes; img borrows from all
 * three and from blobs, an array of c->nsimple policy_blob the caller provides. */
void sign_collected_image(const struct sign_collected *c, const struct sign_ref *ref, const void *manifest, size_t n,
			  struct policy_blob *blobs, struct policy_image *img);

#endif
