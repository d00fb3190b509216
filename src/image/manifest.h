/* manifest: parse and validate the four manifest kinds a registry accepts
 * (OCI image manifest and index, Docker schema 2 manifest and manifest list), and pull out what the
 * registry must check and index: referenced blobs, child manifests, subject, artifactType, annotations.
 *
 *   struct manifest m; char why[256];
 *   if (manifest_parse(body, len, content_type, &m, why, sizeof why) < 0) -> MANIFEST_INVALID: why
 *   ... manifest_release(&m);
 */
#ifndef BERTH_IMAGE_MANIFEST_H
#define BERTH_IMAGE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct manifest {
	enum manifest_kind kind;
	char *media_type; /* the effective media type */
	char *artifact_type; /* artifactType, or the config's media type for an image manifest; may be NULL */
	char *annotations_json; /* compact JSON text of "annotations", or NULL */
	int has_subject;
	struct digest subject;
	struct digest *blobs; /* config then layers that must exist (foreign layers with urls excluded) */
	size_t nblobs;
	struct digest *manifests; /* an index's children */
	size_t nmanifests;
};

/* Parses body. content_type is the request's Content-Type, which must be given and equal the body's
 * mediaType when the body has one (parameters after ';' are ignored). Fails with
 * -BERTH_EINVAL and a one-line reason in why when the JSON, the media type or a descriptor is
 * invalid; -BERTH_EUNSUPPORTED when a descriptor uses an unsupported digest algorithm. */
int manifest_parse(const void *body, size_t len, const char *content_type, struct manifest *m, char *why, size_t whyn);
void manifest_release(struct manifest *m);

/* 1 when mt is one of the four manifest media types berth stores. */
int manifest_media_type_known(const char *mt);

#endif
