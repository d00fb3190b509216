/* errata internals shared by the importers (not a public header). */
#ifndef BERTH_ERRATA_INTERNAL_H
#define BERTH_ERRATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "errata/errata.h"

/* Builders: each copies its strings; 0 or -BERTH_ENOMEM. */
int errata__add_cve(struct meta_erratum *e, const char *cve);
int errata__add_ref(struct meta_erratum *e, const char *ref, size_t n);
int errata__add_pkg(struct meta_erratum *e, const char *release, const char *package, int binary,
		    enum meta_pkg_status status, const char *introduced, const char *fixed, const char *last_affected);
/* Moves e into s (e is zeroed); 0 or -BERTH_ENOMEM (then e is released). */
int errata__set_push(struct errata_set *s, struct meta_erratum *e);
/* Moves every advisory of src to the end of dst (src ends empty, its counters added to dst). */
int errata__set_append(struct errata_set *dst, struct errata_set *src);

/* Merges src's CVEs, references and affected entries into dst (the same advisory read from two
 * files, one per release) and recomputes dst's hash; src keeps only what it owned besides. */
int errata__merge(struct meta_erratum *dst, struct meta_erratum *src);
/* Writes "CVE-YYYY-N" for s[0..n) into out (>= 32 bytes) when s is a CVE id ("CVE-2019-1234", any
 * case, '_' accepted for the first '-'); 1 when it is, 0 when not. */
int errata__cve(const char *s, size_t n, char out[32]);
/* 1 when s[0..n) is a usable advisory id: 1..128 of [A-Za-z0-9._:+~-]. */
int errata__id_ok(const char *s, size_t n);
/* 1 when s[0..n) is 1..255 characters of a package version (printable, no spaces, no '<' or '>'). */
int errata__version_ok(const char *s, size_t n);
/* 1 when s[0..n) is 1..255 characters of a package name ([A-Za-z0-9._+~-]). */
int errata__pkgname_ok(const char *s, size_t n);
/* The severity a free-text word names: critical; important or high; moderate or medium; low or
 * negligible (case-insensitive); else META_SEV_UNKNOWN. */
enum meta_severity errata__severity_word(const char *s, size_t n);
/* The CVSS v3.x base score (0.0..10.0) of a vector "CVSS:3.1/AV:N/..."; -1 when malformed. */
double errata__cvss3_score(const char *vector);
/* Parses an RFC 3339 time ("2024-01-02T00:00:00Z", fractions and offsets allowed, or a bare
 * "2024-01-02") into seconds since the epoch. 0 or -BERTH_EINVAL. */
int errata__time_parse(const char *s, int64_t *out);
/* Formats seconds since the epoch as "2024-01-02T00:00:00Z" (out >= 21 bytes). */
void errata__time_format(int64_t t, char *out, size_t n);

#endif
