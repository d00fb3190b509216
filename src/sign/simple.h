/* simple: the signed JSON payload of container signatures ("simple signing"), as containers/image's
 * containers-signature(5) defines it:
 *
 *   {"critical":{"identity":{"docker-reference":"host/repo:tag"},
 *                "image":{"docker-manifest-digest":"sha256:..."},
 *                "type":"atomic container signature"},
 *    "optional":{"creator":"berth 0.1.0","timestamp":1700000000}}
 *
 * OpenPGP simple signatures carry type "atomic container signature"; sigstore (cosign) signatures carry
 * the same document with type "cosign container image signature" (and cosign may write "optional": null).
 * Parsing is strict, as the format asks: duplicate members, a missing or unknown member anywhere in the
 * top level or in "critical", or a wrong type is refused; unknown members of "optional" are ignored.
 * Only parse a payload whose cryptographic signature was verified first.
 *
 *   struct sign_payload p; char why[256];
 *   if (sign_payload_parse(data, n, SIGN_PAYLOAD_ATOMIC, &p, why, sizeof why) < 0) -> reject: why
 *   ... p.docker_reference, p.manifest_digest ... sign_payload_release(&p);
 */
#ifndef BERTH_SIGN_SIMPLE_H
#define BERTH_SIGN_SIMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define SIGN_TYPE_ATOMIC "atomic container signature"
#define SIGN_TYPE_COSIGN "cosign container image signature"
#define SIGN_PAYLOAD_MAX (4u << 20) /* containers/image's limit on a signature body */

enum sign_payload_type { SIGN_PAYLOAD_ATOMIC, SIGN_PAYLOAD_COSIGN };

struct sign_payload {
	char *docker_reference; /* critical.identity.docker-reference, as written (not normalised) */
	char *manifest_digest; /* critical.image.docker-manifest-digest, as written (checked when matched) */
	char *creator; /* optional.creator, or NULL */
	int has_timestamp;
	int64_t timestamp; /* optional.timestamp (seconds since the epoch) when has_timestamp */
};

/* Writes the compact JSON payload for manifest_digest ("alg:hex") and docker_reference (written as
 * given; pass the fully expanded form) into out, with optional.creator = creator when not NULL and
 * optional.timestamp = timestamp when timestamp >= 0. Members are in sorted order like
 * containers/image's output. Returns 0, -BERTH_EINVAL for an empty reference or digest, or a buf error. */
int sign_payload_create(enum sign_payload_type type, const char *docker_reference, const char *manifest_digest,
			const char *creator, int64_t timestamp, struct buf *out);

/* Parses p[0..n) strictly as a payload of the given type. Returns 0 and fills out (release with
 * sign_payload_release), or -BERTH_EINVAL with a one-line reason in why. */
int sign_payload_parse(const void *p, size_t n, enum sign_payload_type type, struct sign_payload *out, char *why,
		       size_t whyn);
void sign_payload_release(struct sign_payload *p);

/* Standard base64 (with padding), as Go's encoding/base64.StdEncoding. encode appends to out;
 * decode is strict (no whitespace, correct padding) and returns -BERTH_EINVAL on bad input. */
int sign_b64_encode(const void *p, size_t n, struct buf *out);
int sign_b64_decode(const char *s, size_t n, struct buf *out);

#endif
