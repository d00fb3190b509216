/* match: which installed packages an advisory's affected entries hit, with no database involved.
 * The errata side fills struct scan_affected from its advisory model (kept minimal here so that
 * scan does not depend on errata); scan_match() pairs them with a package list for one release.
 *
 * An entry hits a package when the release keys are equal, the names match (a source entry by the
 * package's source name, so Debian's binary packages are found through their Source: field; a
 * binary entry by the package name, and by arch when the entry names one, as rpm advisories do), and
 * introduced <= installed < fixed in the ecosystem's version order (and installed <= last_affected when
 * the entry gives one, as OSV ranges may). A source entry compares the
 * package's source version (dpkg's Source: "(version)", which binNMU'd and differently-versioned
 * binaries carry), a binary entry the package version.
 *
 *   struct scan_findings f; scan_findings_init(&f);
 *   if (scan_match(&pkgs, "debian:12", aff, naff, &f) == 0)
 *       for (i...) report(pkgs.v[f.v[i].pkg], aff[f.v[i].affected].ref);
 *   scan_findings_release(&f);
 */
#ifndef BERTH_SCAN_MATCH_H
#define BERTH_SCAN_MATCH_H

#include <stddef.h>

#include "scan/pkg.h"

enum scan_kind { SCAN_KIND_BINARY = 0, SCAN_KIND_SOURCE = 1 };

/* One "this package, in this release, is affected below this version" statement. Borrowed strings. */
struct scan_affected {
	const char *release; /* release key, as scan_os_detect() makes it: "debian:12" */
	const char *package; /* a source name (Debian, Ubuntu, Alpine's origin) or a binary one (rpm) */
	enum scan_kind kind;
	const char *arch; /* NULL or "": any arch; else the package's arch must equal it */
	const char *introduced; /* NULL or "": affected since the first version */
	const char *fixed; /* NULL or "": no fix yet, every version from introduced on is affected */
	const void *ref; /* the caller's (the advisory); scan never looks at it */
	const char *last_affected; /* NULL or "": no upper bound but fixed; else installed <= it (OSV) */
};

/* A hit: indexes into the package list and the affected array given to scan_match(). */
struct scan_finding {
	size_t pkg;
	size_t affected;
};

struct scan_findings {
	struct scan_finding *v;
	size_t n, cap;
};

void scan_findings_init(struct scan_findings *f);
void scan_findings_release(struct scan_findings *f); /* f is empty and reusable afterwards */

/* Appends to out every (package, entry) hit for the image's release, ordered by package index,
 * then entry index. Entries of other releases are ignored, and so are packages of another
 * ecosystem than the release's (an rpm database left in a Debian image is not matched against
 * Debian advisories). 0, or -BERTH_ENOMEM (out is then as it was). Runs in
 * O((packages + entries) log entries). */
int scan_match(const struct scan_pkgs *pkgs, const char *release, const struct scan_affected *aff, size_t naff,
	       struct scan_findings *out);

/* The entries of one release sorted for lookup, built once and reused for many package lists (a
 * re-match of every stored image matches thousands of lists against the same entries). aff is
 * borrowed and must stay unchanged while the index is used. */
struct scan_match_index {
	const struct scan_affected *aff;
	size_t naff;
	char *release;
	size_t *idx; /* entry indexes of release, sorted by (kind, package, index) */
	size_t n;
};

/* Builds ix for release over aff[0..naff). 0, or -BERTH_ENOMEM (ix is then empty). */
int scan_match_index_build(const char *release, const struct scan_affected *aff, size_t naff,
			   struct scan_match_index *ix);
void scan_match_index_release(struct scan_match_index *ix); /* NULL-safe; ix is empty afterwards */
/* scan_match(pkgs, ix->release, ix->aff, ix->naff, out), without sorting the entries again:
 * the same findings in the same order. */
int scan_match_indexed(const struct scan_pkgs *pkgs, const struct scan_match_index *ix, struct scan_findings *out);

#endif
