/* sigstore: cosign-compatible keys and signatures, and the "sha256-<hex>.sig" attachment manifest that
 * cosign, skopeo and podman store beside an image.
 *
 * Keys: an ECDSA P-256 pair. The public key is a PKIX "PUBLIC KEY" PEM. The private key is cosign's
 * "ENCRYPTED COSIGN PRIVATE KEY" PEM: base64 of a JSON document
 *   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<b64 32 bytes>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},"ciphertext":"<b64>"}
 * whose ciphertext is NaCl secretbox (XSalsa20-Poly1305) of the PKCS#8 DER key under
 * scrypt(passphrase, salt, N, r, p, 32). Reading also accepts the newer "ENCRYPTED SIGSTORE PRIVATE KEY"
 * label; writing uses the older one because containers/image before 5.25 (skopeo 1.9) reads only that.
 *
 * Signatures: the payload is the simple-signing JSON (type "cosign container image signature"); the
 * signature is ECDSA over SHA-256 of the payload bytes, ASN.1 DER, base64 in the layer annotation
 * "dev.cosignproject.cosign/signature". Verification also accepts RSA (PKCS#1 v1.5, SHA-256) and
 * Ed25519 public keys, as containers/image does.
 *
 *   struct sign_key *k; sign_key_generate(&k);
 *   sign_sigstore_create(k, "host/repo:tag", &manifest_digest, time(NULL), NULL, &sig);
 *   sign_sigstore_verify(pub, &sig, &payload, why, sizeof why);
 */
#ifndef BERTH_SIGN_SIGSTORE_H
#define BERTH_SIGN_SIGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/digest.h"
#include "sign/simple.h"

#define SIGSTORE_SIG_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIGSTORE_SIG_ANNOTATION "dev.cosignproject.cosign/signature"
#define SIGSTORE_PEM_COSIGN "ENCRYPTED COSIGN PRIVATE KEY"
#define SIGSTORE_PEM_SIGSTORE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define SIGSTORE_TAG_MAX (7 + DIGEST_HEX_MAX + 5) /* "sha512-" + hex + ".sig" + NUL */

struct sign_key; /* an OpenSSL key, private or public only */

/* A fresh ECDSA P-256 key pair. 0 or -BERTH_ENOMEM/-BERTH_EIO. Free with sign_key_free(). */
int sign_key_generate(struct sign_key **out);
void sign_key_free(struct sign_key *k);
int sign_key_is_private(const struct sign_key *k);

/* PEM texts appended to out. private_pem encrypts with pass[0..passlen) (may be empty) and needs a
 * private key (-BERTH_EINVAL otherwise). */
int sign_key_public_pem(const struct sign_key *k, struct buf *out);
int sign_key_private_pem(const struct sign_key *k, const char *pass, size_t passlen, struct buf *out);

/* Loads a public key from a PKIX "PUBLIC KEY" PEM (EC, RSA or Ed25519). -BERTH_EINVAL + why. */
int sign_key_load_public(const void *pem, size_t n, struct sign_key **out, char *why, size_t whyn);
/* Loads an encrypted cosign private key. -BERTH_EINVAL + why for a bad file or label, -BERTH_EDENIED
 * when the passphrase does not open it, -BERTH_EUNSUPPORTED for KDF parameters other than scrypt
 * N in {2^15, 2^16, 2^17}, r 8, p 1 (bounded so a hostile file cannot demand gigabytes). */
int sign_key_load_private(const void *pem, size_t n, const char *pass, size_t passlen, struct sign_key **out, char *why,
			  size_t whyn);

/* Signs data (SHA-256, DER signature appended to sig). Needs a private key. */
int sign_key_sign(const struct sign_key *k, const void *data, size_t n, struct buf *sig);
/* 0 when sig is a valid signature of data by k, -BERTH_EDENIED when not. */
int sign_key_verify(const struct sign_key *k, const void *data, size_t n, const void *sig, size_t siglen);

/* One sigstore signature as carried by an attachment layer: its media type, the payload blob and the
 * value of the signature annotation (NULL when the layer had none). */
struct sign_sigstore_sig {
	char *media_type;
	unsigned char *payload;
	size_t payload_len;
	char *signature_b64;
};
void sign_sigstore_sig_release(struct sign_sigstore_sig *s);

/* Signs manifest_digest as docker_reference (written as given: use the fully expanded form) with a
 * private key. timestamp < 0 leaves optional.timestamp out; creator NULL writes "berth <version>". */
int sign_sigstore_create(const struct sign_key *k, const char *docker_reference, const struct digest *manifest_digest,
			 int64_t timestamp, const char *creator, struct sign_sigstore_sig *out);

/* Checks s against public key k like containers/image: the media type, the annotation, the
 * cryptographic signature over the exact payload bytes, and only then parses the payload strictly.
 * Returns 0 with *payload filled (release it), -BERTH_EDENIED with a reason when the signature is not
 * valid for k, -BERTH_EINVAL when the payload is malformed. Identity and digest are the caller's
 * (the policy's) to match. */
int sign_sigstore_verify(const struct sign_key *k, const struct sign_sigstore_sig *s, struct sign_payload *payload,
			 char *why, size_t whyn);

/* The attachment tag of a manifest digest: "sha256-<hex>.sig". Returns out. */
char *sign_sigstore_tag(const struct digest *manifest_digest, char out[SIGSTORE_TAG_MAX]);

/* An attachment manifest: an OCI image manifest whose layers are signature payloads. */
struct sign_attachment_layer {
	char *media_type;
	struct digest digest;
	int64_t size;
	char **annotations; /* key, value, key, value, ..., NULL */
};
struct sign_attachment {
	struct sign_attachment_layer *layers;
	size_t nlayers;
};
void sign_attachment_init(struct sign_attachment *a);
void sign_attachment_release(struct sign_attachment *a);

/* Parses an existing attachment manifest (an OCI image manifest; other media types are refused with
 * -BERTH_EINVAL + why). Layers keep their order. */
int sign_attachment_parse(const void *manifest, size_t n, struct sign_attachment *a, char *why, size_t whyn);

/* The sigstore signature a layer holds, given the layer's blob (checked against the layer digest and
 * size: -BERTH_EDIGEST when they differ). */
int sign_attachment_layer_sig(const struct sign_attachment_layer *l, const void *blob, size_t n,
			      struct sign_sigstore_sig *out);

/* Appends s as a layer unless an identical one (media type, payload digest and size, annotations) is
 * there already. Returns 1 when added, 0 when it was a duplicate, or a negative error. The payload blob
 * itself must be uploaded by the caller (its digest is the layer's). */
int sign_attachment_add(struct sign_attachment *a, const struct sign_sigstore_sig *s);

/* The config blob for a, {"architecture":"","config":{},"os":"","rootfs":{"diff_ids":[...],"type":"layers"}}
 * (diff_ids are the layer digests, as containers/image writes them), appended to out. */
int sign_attachment_config(const struct sign_attachment *a, struct buf *out);

/* The manifest for a with the given config blob descriptor, appended to out
 * (media type application/vnd.oci.image.manifest.v1+json). */
int sign_attachment_manifest(const struct sign_attachment *a, const struct digest *config_digest, int64_t config_size,
			     struct buf *out);

/* OCI 1.1 referrers: a signature as its own artifact whose subject is the image (cosign's
 * registry-referrers mode): an OCI image manifest with artifactType
 * application/vnd.dev.cosign.artifact.sig.v1+json, the empty config ("{}",
 * application/vnd.oci.empty.v1+json, which the caller uploads like the payload blob), one signature
 * layer, and the subject descriptor. Such a manifest parses with sign_attachment_parse(). */
#define SIGSTORE_ARTIFACT_TYPE "application/vnd.dev.cosign.artifact.sig.v1+json"
int sign_referrer_manifest(const struct sign_sigstore_sig *s, const char *subject_media_type,
			   const struct digest *subject, int64_t subject_size, struct buf *out);

#endif
