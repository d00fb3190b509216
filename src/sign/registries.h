/* registries: the containers-registries.d(5) signature storage configuration, so a podman/skopeo host's
 * /etc/containers/registries.d works for berth too. Every "*.yaml" file of the directory is read and
 * merged; a namespace (or default-docker) defined in two files is an error, as upstream.
 *
 *   default-docker:
 *     lookaside: https://sigs.example.com        # read, and write unless lookaside-staging is set
 *     lookaside-staging: file:///var/lib/sigs     # write only
 *   docker:
 *     registry.example.com/ns:
 *       use-sigstore-attachments: true
 *
 * ("sigstore" and "sigstore-staging" are the older names of lookaside and lookaside-staging.) For a
 * docker reference the most specific namespace wins, with the policy.json scope order (repo:tag, repo,
 * parents, host, *.domain), then default-docker. Unknown keys are ignored, as upstream does.
 *
 *   struct registries *r; registries_load_dir("/etc/containers/registries.d", &r, why, sizeof why);
 *   base = registries_lookaside(r, &ref, 0); registries_lookaside_url(base, &ref, &d, 0, &url);
 */
#ifndef BERTH_SIGN_REGISTRIES_H
#define BERTH_SIGN_REGISTRIES_H

#include <stddef.h>

#include "base/buf.h"
#include "base/digest.h"
#include "sign/ref.h"

#define REGISTRIES_DEFAULT_DIR "/etc/containers/registries.d"

struct registries_ns {
	char *name; /* NULL for default-docker */
	char *lookaside, *lookaside_staging, *sigstore, *sigstore_staging;
	int use_sigstore_attachments; /* -1 unset, 0, 1 */
	char *file; /* where it was defined */
};

struct registries {
	struct registries_ns *def; /* default-docker, or NULL */
	struct registries_ns *ns;
	size_t nns;
};

/* An empty configuration (no lookaside, no attachments). Free with registries_free(). */
struct registries *registries_new(void);
void registries_free(struct registries *r);

/* Merges one YAML document (file name used in messages) into r. -BERTH_EINVAL + why on bad YAML, wrong
 * shapes or a namespace defined twice. */
int registries_parse(struct registries *r, const void *yaml, size_t n, const char *file, char *why, size_t whyn);
/* Reads every *.yaml file of dir in name order into a new configuration. A missing dir gives an empty one. */
int registries_load_dir(const char *dir, struct registries **out, char *why, size_t whyn);

/* The configured lookaside base URL for ref (write: prefer the staging keys), or NULL when none is
 * configured (containers/image then falls back to file:///var/lib/containers/sigstore for root).
 * Borrowed from r. */
const char *registries_lookaside(const struct registries *r, const struct sign_ref *ref, int write);
/* 1 when sigstore attachments are enabled for ref, else 0. */
int registries_use_sigstore_attachments(const struct registries *r, const struct sign_ref *ref);

/* The URL of the index-th (0-based) simple signature of manifest d in a lookaside base:
 * "<base>/<repository path>@<alg>=<hex>/signature-<index+1>", appended to out. */
int registries_lookaside_url(const char *base, const struct sign_ref *ref, const struct digest *d, unsigned index,
			     struct buf *out);

#endif
