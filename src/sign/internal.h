/* internal: helpers shared by the files of src/sign, not part of its public interface. */
#ifndef BERTH_SIGN_INTERNAL_H
#define BERTH_SIGN_INTERNAL_H

#include <stddef.h>

#include "base/buf.h"

/* Formats a one-line reason into why (when why and whyn are set) and returns rc. */
int sign__why(char *why, size_t whyn, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reads the whole file at path into out (capped at max bytes: -BERTH_ETOOBIG). 0 or a negative error
 * with a reason naming the file in why. */
int sign__read_file(const char *path, size_t max, struct buf *out, char *why, size_t whyn);

#endif
