/* image: an image's final release and package list, from its layers' index results (scan/index.h)
 * applied in order with their whiteouts, as a container runtime would stack them. Pure: no I/O.
 *
 * Attribution: each final package (same ecosystem, name, arch and version) is attributed to the
 * lowest layer from which it has been continuously installed up to the top: a package upgraded in
 * layer 3 is layer 3's even if layer 0 had an older version; one removed in layer 2 and installed
 * again in layer 4 is layer 4's.
 *
 * Status: SCANNED (release known, databases read), UNSUPPORTED (a distribution berth has no
 * advisories for, only an rpm ndb database, or no package database and no release file at all),
 * FAILED (a malformed database or release file that is in the final image, or evidence that
 * contradicts itself), with a one-line reason.
 *
 *   struct scan_image im; scan_image_init(&im);
 *   scan_image_build(layers, n, &im);  -> im.status, im.os.release, im.pkgs, im.layer[i]
 *   scan_image_release(&im);
 */
#ifndef BERTH_SCAN_IMAGE_H
#define BERTH_SCAN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "scan/index.h"
#include "scan/osrel.h"
#include "scan/pkg.h"

enum scan_status { SCAN_QUEUED = 0, SCAN_SCANNED, SCAN_UNSUPPORTED, SCAN_FAILED };

/* "queued", "scanned", "unsupported", "failed"; parse answers 0 or -BERTH_EINVAL. */
const char *scan_status_name(enum scan_status s);
int scan_status_parse(const char *s, enum scan_status *out);

struct scan_image {
	enum scan_status status;
	char why[512]; /* reason for UNSUPPORTED or FAILED, else "" */
	struct scan_os os; /* os.release set when SCANNED (may be "" for an image with no release file
	                     * only when UNSUPPORTED) */
	struct scan_pkgs pkgs; /* final packages, sorted by ecosystem, name, arch, version */
	uint32_t *layer; /* layer[i]: index (0 = bottom) of the layer that introduced pkgs.v[i] */
};

void scan_image_init(struct scan_image *im);
void scan_image_release(struct scan_image *im); /* im is empty and reusable */

/* Stacks layers[0..n) (bottom first) into im. 0 (whatever the status), or -BERTH_ENOMEM. */
int scan_image_build(const struct scan_layer *const *layers, size_t n, struct scan_image *im);

#endif
