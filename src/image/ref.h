/* ref: image references with a transport prefix, as skopeo spells them.
 *
 *   docker://HOST[:PORT]/REPO[:TAG][@DIGEST]   a registry; HOST is required (no default registry)
 *   oci:DIR[:REF]                              an OCI image layout directory
 *   oci-archive:FILE[:REF]                     a tar of an OCI image layout
 *   docker-archive:FILE[:NAME[:TAG]]           what `docker save` writes
 *   local:NAME[:TAG]                           the host image store
 *
 * For the path transports the path ends at the first ':' (as skopeo does), so a path cannot hold one.
 * docker:// and local: without tag or digest mean tag "latest"; oci: without REF means "the only
 * image in the layout" when reading and "no name" when writing.
 *
 *   struct image_ref r; char why[256];
 *   if (image_ref_parse("docker://127.0.0.1:5000/app:v1", &r, why, sizeof why) < 0) -> why
 *   ... image_ref_release(&r);
 */
#ifndef BERTH_IMAGE_REF_H
#define BERTH_IMAGE_REF_H

#include <stddef.h>

#include "base/digest.h"

enum image_transport { REF_DOCKER, REF_OCI, REF_OCI_ARCHIVE, REF_DOCKER_ARCHIVE, REF_LOCAL };

struct image_ref {
	enum image_transport transport;
	char *host; /* docker: "host[:port]" (IPv6 as "[::1]:5000"); NULL otherwise */
	char *repo; /* docker, local: the repository; docker-archive: the optional NAME; else NULL */
	char *tag; /* the tag (docker, local: "latest" when none given) or oci's REF; may be NULL */
	char *path; /* oci, oci-archive, docker-archive: the directory or file; else NULL */
	int has_digest; /* docker: an @DIGEST was given */
	int tag_default; /* the tag is the implied "latest" */
	struct digest digest;
};

/* Parses s. Returns 0, or -BERTH_EINVAL with a one-line reason in why (unknown transport, missing
 * host, repository or path, invalid name, tag or digest); -BERTH_EUNSUPPORTED for a digest algorithm
 * berth does not know. r is zeroed on failure and needs no release then. */
int image_ref_parse(const char *s, struct image_ref *r, char *why, size_t whyn);
void image_ref_release(struct image_ref *r);

/* The reference written back in its transport's syntax; caller free()s the result. */
char *image_ref_format(const struct image_ref *r);

/* The transport's prefix without the colon ("docker", "oci", ...). */
const char *image_transport_name(enum image_transport t);

/* Grammar checks of the distribution spec: a repository name (component ("/" component)*, at most
 * 255 bytes), a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}), and a registry host with optional port.
 * Each returns 1 when valid, else 0. */
int image_ref_name_valid(const char *name);
int image_ref_tag_valid(const char *tag);
int image_ref_host_valid(const char *host);

#endif
