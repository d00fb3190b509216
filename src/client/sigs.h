/* sigs: image signatures on the client side — what `berth verify`, `berth sign` and the signature
 * part of `berth copy`/`pull` do with the signing library (src/sign) over the client's transports.
 *
 * Collecting (docker:// images only; other transports have no signatures): simple signatures from the
 * registry's signature extension API when /v2/ announced it, else from the registries.d lookaside
 * (file:// read directly, http(s):// fetched); sigstore signatures from the "sha256-<hex>.sig"
 * attachment when registries.d enables use-sigstore-attachments; and OCI 1.1 referrers of artifact type
 * application/vnd.dev.cosign.artifact.sig.v1+json (always asked for; a registry without the referrers
 * API answers 404 and contributes none).
 *
 * Checking: the image's exact manifest bytes, its reference and what was collected go through
 * policy_eval(); a refusal is -BERTH_EDENIED with e->msg naming the failed requirement.
 *
 *   struct client_sigs s; struct digest dg;
 *   if (client_sigs_check(src, policy, regs, &s, &dg, &e) < 0) -> e.msg
 *   client_sigs_pin(src, &dg);    // the copy then reads exactly the manifest that was checked
 *   ... client_copy ...; client_sigs_carry(dst, regs, &s, &result.digest, &e); client_sigs_release(&s);
 */
#ifndef BERTH_CLIENT_SIGS_H
#define BERTH_CLIENT_SIGS_H

#include <stddef.h>

#include "client/transport.h"
#include "sign/collect.h"
#include "sign/policy.h"
#include "sign/registries.h"
#include "sign/sigstore.h"

struct client_sigs {
	struct sign_collected c; /* simple signatures, then sigstore layers */
	size_t nattached; /* c.sigstore[0..nattached) came from the .sig attachment, the rest are referrers */
};

void client_sigs_release(struct client_sigs *s);
/* Total number of signatures (simple + sigstore) held. */
size_t client_sigs_count(const struct client_sigs *s);

/* The signing-library reference of a docker:// image ("host:port/repo:tag" or "...@digest").
 * -BERTH_EINVAL with e set for other transports or names the docker grammar refuses. */
int client_sigs_ref(const struct client_image *im, struct sign_ref *out, struct client_err *e);

/* Collects the signatures of manifest dg of im (a source; docker:// only, others give none).
 * registries may be NULL. Fails with e set when a configured place cannot be read. */
int client_sigs_collect(struct client_image *im, const struct registries *registries, const struct digest *dg,
			struct client_sigs *out, struct client_err *e);

/* Reads im's manifest, collects its signatures and evaluates policy p against them. Returns 0
 * (accepted) with *sigs filled and *dg the manifest digest that was checked; -BERTH_EDENIED with e
 * saying "<image> rejected by policy: requirement N of M (...): why"; another error when the image or
 * its signatures could not be read. *sigs needs client_sigs_release() in every case. */
int client_sigs_check(struct client_image *im, const struct policy *p, const struct registries *registries,
		      struct client_sigs *sigs, struct digest *dg, struct client_err *e);

/* Makes a docker:// source read manifest dg from now on instead of its tag (so what is copied is
 * what was checked even if the tag moves meanwhile). No-op for other transports. */
void client_sigs_pin(struct client_image *im, const struct digest *dg);

/* Where berth sign puts a sigstore signature. */
enum client_sig_attach { CLIENT_ATTACH_SIGSTORE, CLIENT_ATTACH_REFERRER };

/* Signs im's manifest (a docker:// image) with the cosign private key k, as identity (NULL: the
 * image's own reference, which must then carry a tag), and stores the signature in the .sig
 * attachment (appended; an identical layer is not added twice) or as an OCI 1.1 referrer.
 * *dg (may be NULL) gets the signed manifest digest. */
int client_sigs_sign_sigstore(struct client_image *im, const struct sign_key *k, const char *identity,
			      enum client_sig_attach attach, struct digest *dg, struct client_err *e);

/* Signs im's manifest with GnuPG key key_id (gnupg_home NULL: $GNUPGHOME or ~/.gnupg; passphrase may
 * be NULL) as identity (NULL: the image's reference) and stores the simple signature: through the
 * signature extension API when the registry announces it, else in the registries.d lookaside-staging
 * (or lookaside) location, which must be a file:// URL. *where (may be NULL; caller free()s) gets a
 * description of where it went. */
int client_sigs_sign_gpg(struct client_image *im, const struct registries *registries, const char *gnupg_home,
			 const char *key_id, const char *passphrase, const char *identity, struct digest *dg,
			 char **where, struct client_err *e);

/* Stores simple signature sig[0..n) of manifest dg of im (see client_sigs_sign_gpg for where). */
int client_sigs_put_simple(struct client_image *im, const struct registries *registries, const struct digest *dg,
			   const void *sig, size_t n, char **where, struct client_err *e);

/* 0 when dst can hold the signatures of s (nothing to carry; or a docker:// destination that takes
 * simple signatures through the extension API or a registries.d lookaside when s has any), else
 * -BERTH_EUNSUPPORTED with e set naming --remove-signatures. Call before copying. */
int client_sigs_can_carry(struct client_image *dst, const struct registries *registries, const struct client_sigs *s,
			  struct client_err *e);

/* Writes every signature of s to dst (docker://) for manifest dg: simple ones as
 * client_sigs_put_simple does, attached sigstore ones into dst's .sig attachment, referrers as
 * referrers of dg. */
int client_sigs_carry(struct client_image *dst, const struct registries *registries, const struct client_sigs *s,
		      const struct digest *dg, struct client_err *e);

#endif
