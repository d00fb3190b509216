/* gpg: OpenPGP simple signing through GPGME, as containers/image does it.
 * A simple signature is an OpenPGP "signed message" (binary, not detached) whose literal data is the
 * simple-signing JSON payload. Signing uses a key from a GnuPG home (the user's, or one given);
 * verification never touches the user's keyring: the trusted public keys (binary or armored keyrings,
 * from policy keyPath/keyPaths/keyData) are imported into a temporary GnuPG home that is deleted when the
 * keyring is freed, and only a signature by one of those keys (or one of their subkeys) is accepted.
 *
 *   struct sign_gpg_keyring *kr; char why[256], fpr[SIGN_GPG_FPR_MAX];
 *   sign_gpg_keyring_new(&kr, why, sizeof why); sign_gpg_keyring_import(kr, keyring_bytes, n, NULL, why, sizeof why);
 *   if (sign_gpg_verify(kr, sig, sign, &payload, fpr, why, sizeof why) == 0) -> payload is authentic
 *   sign_gpg_keyring_free(kr);
 */
#ifndef BERTH_SIGN_GPG_H
#define BERTH_SIGN_GPG_H

#include <stddef.h>

#include "base/buf.h"

#define SIGN_GPG_FPR_MAX 129

/* Signs payload with the secret key key_id (fingerprint, key id or user id) of the GnuPG home
 * gnupg_home (NULL: $GNUPGHOME or ~/.gnupg). passphrase may be NULL (the agent asks, or the key has
 * none); when given it is passed through loopback pinentry. The binary signed message is appended to
 * sig. Returns 0, or -BERTH_ENOENT (no such secret key) / -BERTH_EIO with a reason in why. */
int sign_gpg_sign(const char *gnupg_home, const char *key_id, const char *passphrase, const void *payload, size_t n,
		  struct buf *sig, char *why, size_t whyn);

struct sign_gpg_keyring;

/* A new empty keyring in a fresh temporary GnuPG home (under $TMPDIR or /tmp). */
int sign_gpg_keyring_new(struct sign_gpg_keyring **out, char *why, size_t whyn);
/* Imports the public keys in data (binary or ASCII-armored). *nimported (may be NULL) gets how many
 * keys were imported; importing nothing is not an error here (the policy reports it). */
int sign_gpg_keyring_import(struct sign_gpg_keyring *kr, const void *data, size_t n, size_t *nimported, char *why,
			    size_t whyn);
/* Number of trusted keys imported so far. */
size_t sign_gpg_keyring_count(const struct sign_gpg_keyring *kr);
/* Removes the temporary home. NULL is a no-op. */
void sign_gpg_keyring_free(struct sign_gpg_keyring *kr);

/* Verifies the signed message sig[0..n): exactly one signature, cryptographically valid, not expired,
 * by a key imported into kr. On success the signed contents are appended to contents, the signing key's
 * fingerprint is written to fpr and 0 is returned; otherwise -BERTH_EDENIED with a reason
 * ("Signature by key X is not accepted", "Invalid GPG signature: ..."). */
int sign_gpg_verify(struct sign_gpg_keyring *kr, const void *sig, size_t n, struct buf *contents,
		    char fpr[SIGN_GPG_FPR_MAX], char *why, size_t whyn);

#endif
