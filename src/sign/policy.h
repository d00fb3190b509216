/* policy: trust policies in the containers-policy.json(5) format, parsed strictly and evaluated with
 * containers/image's semantics, so a podman/skopeo host's /etc/containers/policy.json means the same
 * thing to berth.
 *
 * A policy has a global "default" requirement list and per-transport scopes. For the docker transport
 * the most specific scope wins: "host:port/ns/repo:tag" (or "@digest"), then "host:port/ns/repo",
 * "host:port/ns", "host:port", then "*.example.com", "*.com" wildcards, then the transport's "" scope,
 * then "default". Every requirement of the chosen list must be met: insecureAcceptAnything, reject,
 * signedBy (GPG keys from keyPath/keyPaths/keyData; simple signatures), sigstoreSigned (a public key from
 * keyPath/keyData; sigstore attachments) and signedBaseLayer (parsed; always rejects, as upstream).
 * signedBy and sigstoreSigned accept when any one signature verifies, its payload parses, its manifest
 * digest matches the manifest and its identity passes signedIdentity (matchRepoDigestOrExact when absent).
 * Key files are read when a policy is evaluated, not when it is parsed, as upstream.
 *
 *   struct policy *p; char why[512]; struct buf reason;
 *   if (policy_load_file("/etc/containers/policy.json", &p, why, sizeof why) < 0) -> invalid: why
 *   struct policy_image img = {.ref = &ref, .manifest = m, .manifest_len = n, .sigstore = sigs, .nsigstore = k};
 *   if (policy_eval(p, &img, &reason) == -BERTH_EDENIED) -> "requirement 1 of 1 (sigstoreSigned ...): ..."
 *   policy_free(p);
 */
#ifndef BERTH_SIGN_POLICY_H
#define BERTH_SIGN_POLICY_H

#include <stddef.h>

#include "base/buf.h"
#include "sign/ref.h"
#include "sign/sigstore.h"

#define POLICY_DEFAULT_PATH "/etc/containers/policy.json"
#define POLICY_FILE_MAX (4u << 20)

enum policy_identity_type {
	POLICY_ID_MATCH_REPO_DIGEST_OR_EXACT = 0, /* the default */
	POLICY_ID_MATCH_EXACT,
	POLICY_ID_MATCH_REPOSITORY,
	POLICY_ID_EXACT_REFERENCE,
	POLICY_ID_EXACT_REPOSITORY,
	POLICY_ID_REMAP_IDENTITY,
};

/* A signedIdentity rule. */
struct policy_identity {
	enum policy_identity_type type;
	char *reference; /* exactReference's dockerReference or exactRepository's dockerRepository */
	char *prefix; /* remapIdentity */
	char *signed_prefix; /* remapIdentity */
};

enum policy_req_type {
	POLICY_REQ_INSECURE_ACCEPT_ANYTHING,
	POLICY_REQ_REJECT,
	POLICY_REQ_SIGNED_BY,
	POLICY_REQ_SIGSTORE_SIGNED,
	POLICY_REQ_SIGNED_BASE_LAYER,
};

struct policy_req {
	enum policy_req_type type;
	char *key_type; /* signedBy: GPGKeys (the only one evaluated); signedByGPGKeys,
				    X509Certificates, signedByX509CAs parse but reject */
	char *key_path; /* or NULL */
	char **key_paths; /* signedBy only; NULL-terminated, or NULL */
	size_t nkey_paths;
	unsigned char *key_data; /* decoded keyData, or NULL */
	size_t key_data_len;
	int has_key_data;
	struct policy_identity identity; /* signedIdentity, or baseLayerIdentity for signedBaseLayer */
};

struct policy_reqs {
	struct policy_req *v;
	size_t n;
};

struct policy_scope {
	char *name; /* "" is the transport default */
	struct policy_reqs reqs;
};

struct policy_transport {
	char *name;
	struct policy_scope *scopes;
	size_t nscopes;
};

struct policy {
	struct policy_reqs def;
	struct policy_transport *transports;
	size_t ntransports;
};

/* Parses a policy document. Unknown, duplicated or mistyped members anywhere, an empty requirement
 * list, an unknown requirement or identity type, a wrong mix of keyPath/keyPaths/keyData, an invalid
 * reference or remapping prefix, or a malformed wildcard scope fail with -BERTH_EINVAL and a reason naming
 * where ("transports.docker[\"example.com\"][0]: ..."). Free the result with policy_free(). */
int policy_parse(const void *json, size_t n, struct policy **out, char *why, size_t whyn);
/* policy_parse of a file; the reason names the file. */
int policy_load_file(const char *path, struct policy **out, char *why, size_t whyn);
void policy_free(struct policy *p);

/* The requirement list that applies to ref under transport (NULL: "docker"); *scope (may be NULL) gets
 * the scope that was chosen ("" for the transport default, NULL for the global default). Borrowed. */
const struct policy_reqs *policy_reqs_for(const struct policy *p, const char *transport, const struct sign_ref *ref,
					  const char **scope);

/* Parses one signedIdentity object (JSON text) on its own, for tools and tests. */
int policy_identity_parse(const char *json, struct policy_identity *out, char *why, size_t whyn);
void policy_identity_release(struct policy_identity *id);

/* 1 when a signature claiming sig_reference is acceptable for an image known as image (NULL when the
 * image has no docker identity) under rule id; 0 otherwise (including an unparseable sig_reference). */
int policy_identity_matches(const struct policy_identity *id, const struct sign_ref *image, const char *sig_reference);

/* A simple (OpenPGP) signature blob. */
struct policy_blob {
	const void *ptr;
	size_t len;
};

/* What is known about the image being checked. */
struct policy_image {
	const char *transport; /* NULL means "docker" */
	const struct sign_ref *ref; /* the reference the image was fetched by (tag xor digest); NULL if none */
	const void *manifest; /* the exact manifest bytes */
	size_t manifest_len;
	const struct policy_blob *simple; /* simple signatures (signature extension API or lookaside) */
	size_t nsimple;
	const struct sign_sigstore_sig *sigstore; /* sigstore attachment layers (signatures or not) */
	size_t nsigstore;
};

/* Evaluates the requirements that apply to img. Returns 0 when all are met. Otherwise
 * -BERTH_EDENIED, and reason (appended) names the failed requirement, its position and scope, and why
 * ("requirement 1 of 1 (signedBy keyPath /k.gpg) in docker scope \"example.com/app\": Signature for
 * identity example.com/other:1 is not accepted"). */
int policy_eval(const struct policy *p, const struct policy_image *img, struct buf *reason);

#endif
