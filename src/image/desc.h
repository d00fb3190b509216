/* desc: what a client needs from a manifest or index: its descriptors, read leniently enough for
 * every image found in the wild (OCI and Docker schema 2), strictly enough that each digest and size
 * can be trusted for verification; and platforms ("linux/arm64/v8") for picking an index's child.
 *
 *   struct image_doc d; char why[256];
 *   if (image_doc_parse(body, len, media_type, &d, why, sizeof why) < 0) -> why
 *   for (size_t i = 0; i < d.nlayers; i++) ... d.layers[i].digest ...
 *   image_doc_release(&d);
 */
#ifndef BERTH_IMAGE_DESC_H
#define BERTH_IMAGE_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

struct image_platform {
	char *os, *arch, *variant; /* owned; variant may be NULL */
};

struct image_desc {
	struct digest digest;
	int64_t size;
	char *media_type; /* owned; may be NULL */
	struct image_platform platform; /* an index child's platform; fields NULL when absent */
	char *ref_name; /* the org.opencontainers.image.ref.name annotation, or NULL */
	int foreign; /* has "urls": a non-distributable layer the registry does not hold */
};

struct image_doc {
	int is_index;
	char *media_type; /* the manifest's media type (given, or from the body) */
	struct image_desc config; /* image manifests only */
	struct image_desc *layers; /* image manifests only */
	size_t nlayers;
	struct image_desc *manifests; /* indexes only */
	size_t nmanifests;
};

/* Parses a manifest or index. media_type may be NULL (then the body's mediaType, or the shape of the
 * body, decides). Every descriptor must have a valid digest and a non-negative size. Returns 0 or
 * -BERTH_EINVAL / -BERTH_EUNSUPPORTED (e.g. schema 1) with a reason in why. */
int image_doc_parse(const void *body, size_t len, const char *media_type, struct image_doc *d, char *why, size_t whyn);
void image_doc_release(struct image_doc *d);

void image_desc_release(struct image_desc *d);
void image_desc_copy(struct image_desc *dst, const struct image_desc *src);

/* 1 when mt is an index media type (OCI index or Docker manifest list). */
int image_media_type_is_index(const char *mt);

/* "os/arch[/variant]" -> p. -BERTH_EINVAL when malformed. Release with image_platform_release(). */
int image_platform_parse(const char *s, struct image_platform *p);
void image_platform_release(struct image_platform *p);
/* The platform of this machine (linux and the uname machine in Go's names: amd64, arm64/v8, ...). */
void image_platform_host(struct image_platform *p);
/* "os/arch[/variant]" into out. */
void image_platform_format(const struct image_platform *p, char *out, size_t n);
/* The child of index d that fits want: os and arch equal; want's variant equal when given, else
 * the child without variant, or the first. Returns its position, or -BERTH_ENOENT. */
int image_doc_pick(const struct image_doc *d, const struct image_platform *want);

#endif
