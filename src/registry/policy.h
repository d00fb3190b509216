/* registry/policy: what the registry enforces per repository, from the configuration:
 *
 *   policy:
 *     signatures:
 *       team:                       # a rule's name, used in messages
 *         repositories: "team/?*"   # glob (fnmatch; a star also crosses a slash); a list of globs is allowed
 *         type: gpg                 # gpg (simple signatures, extension API) or sigstore (.sig attachment)
 *         keys: [/etc/berth/team.gpg]   # public keys: GPG keyrings, or sigstore PEM public keys
 *     immutable_tags:
 *       releases:
 *         repositories: "*"
 *         tags: ["v*"]
 *
 * A manifest of a repository matching a signatures rule is served (GET and HEAD) only when a
 * signature by one of the rule's keys verifies, names the manifest's digest and claims an identity
 * whose repository path is the repository (the host part is not compared: a registry does not know
 * every name it is reached by). Every matching rule must be satisfied. A tag matching an immutable
 * rule is never moved once it exists (re-pushing the same digest is fine); deleting it is allowed
 * (the journal records it). Verification never touches the server user's keyring.
 *
 *   struct registry_policy *p; registry_policy_load(&cfg, &p, why, sizeof why);
 *   registry_set_policy(r, p);   // the registry owns p from then on
 */
#ifndef BERTH_REGISTRY_POLICY_H
#define BERTH_REGISTRY_POLICY_H

#include <stddef.h>

#include "base/buf.h"
#include "base/digest.h"

struct config;
struct meta;
struct store;
struct registry_policy;

/* Reads policy.signatures.* and policy.immutable_tags.* from c, loading every key file now (so a bad
 * key fails at start-up, not on the first pull). *out is NULL when nothing is configured. 0, or
 * -BERTH_EINVAL with one line in why naming the key or file. Free with registry_policy_free(). */
int registry_policy_load(const struct config *c, struct registry_policy **out, char *why, size_t whyn);
void registry_policy_free(struct registry_policy *p);

/* The first immutable rule protecting tag in repo, or NULL. Borrowed. */
const char *registry_policy_immutable(const struct registry_policy *p, const char *repo, const char *tag);

/* Checks the signature requirements for manifest d of repo, reading signatures from m and sigstore
 * attachment blobs from s. 0 when served; -BERTH_EDENIED with the reason in why; another negative
 * error when the signatures cannot be read. */
int registry_policy_check(struct registry_policy *p, struct meta *m, struct store *s, const char *repo,
			  const struct digest *d, char *why, size_t whyn);

#endif
