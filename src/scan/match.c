/* match: affected entries against a package list, by sorted lookup. */
#include "scan/match.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "scan/osrel.h"
#include "scan/ver.h"

void scan_findings_init(struct scan_findings *f)
{
	f->v = NULL;
	f->n = f->cap = 0;
}

void scan_findings_release(struct scan_findings *f)
{
	free(f->v);
	scan_findings_init(f);
}

static int add(struct scan_findings *f, size_t pkg, size_t affected)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct scan_finding *v = realloc(f->v, cap * sizeof *v);

		if (!v)
			return -BERTH_ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = (struct scan_finding){pkg, affected};
	return 0;
}

/* Entry indexes sorted by (kind, package, index). */
static int by_name(const void *x, const void *y, void *arg)
{
	const struct scan_affected *aff = arg, *a = &aff[*(const size_t *)x], *b = &aff[*(const size_t *)y];
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->package, b->package);
	if (c)
		return c;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* First position in idx[0..n) whose entry is (kind, name) or after it. */
static size_t lower_bound(const size_t *idx, size_t n, const struct scan_affected *aff, enum scan_kind kind,
			  const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct scan_affected *a = &aff[idx[mid]];
		int c = a->kind != kind ? (a->kind < kind ? -1 : 1) : strcmp(a->package, name);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int by_affected(const void *x, const void *y)
{
	const struct scan_finding *a = x, *b = y;

	return a->affected < b->affected ? -1 : a->affected > b->affected;
}

static int set(const char *s)
{
	return s && *s;
}

int scan_match_index_build(const char *release, const struct scan_affected *aff, size_t naff,
			   struct scan_match_index *ix)
{
	memset(ix, 0, sizeof *ix);
	ix->aff = aff;
	ix->naff = naff;
	ix->release = strdup(release ? release : "");
	if (!ix->release)
		return -BERTH_ENOMEM;
	if (naff) {
		ix->idx = malloc(naff * sizeof *ix->idx);
		if (!ix->idx) {
			scan_match_index_release(ix);
			return -BERTH_ENOMEM;
		}
	}
	for (size_t i = 0; i < naff; i++)
		if (aff[i].release && aff[i].package && strcmp(aff[i].release, ix->release) == 0)
			ix->idx[ix->n++] = i;
	if (ix->n > 1)
		qsort_r(ix->idx, ix->n, sizeof *ix->idx, by_name, (void *)aff);
	return 0;
}

void scan_match_index_release(struct scan_match_index *ix)
{
	if (!ix)
		return;
	free(ix->idx);
	free(ix->release);
	memset(ix, 0, sizeof *ix);
}

int scan_match_indexed(const struct scan_pkgs *pkgs, const struct scan_match_index *ix, struct scan_findings *out)
{
	const struct scan_affected *aff = ix->aff;
	const size_t *idx = ix->idx, n = ix->n;
	enum scan_eco eco = scan_release_eco(ix->release);
	size_t n0 = out->n;
	int rc = 0;

	for (size_t p = 0; p < pkgs->n && rc == 0 && n; p++) {
		const struct scan_pkg *pk = &pkgs->v[p];
		size_t first = out->n;

		if (pk->eco != eco)
			continue;
		for (int kind = SCAN_KIND_BINARY; kind <= SCAN_KIND_SOURCE && rc == 0; kind++) {
			const char *name = kind == SCAN_KIND_SOURCE ? pk->source : pk->name;
			const char *ver = kind == SCAN_KIND_SOURCE ? pk->source_version : pk->version;

			for (size_t k = lower_bound(idx, n, aff, (enum scan_kind)kind, name); k < n && rc == 0; k++) {
				const struct scan_affected *a = &aff[idx[k]];

				if ((int)a->kind != kind || strcmp(a->package, name) != 0)
					break;
				if (set(a->arch) && strcmp(a->arch, pk->arch) != 0)
					continue;
				if (set(a->introduced) && scan_ver_cmp(eco, ver, a->introduced) < 0)
					continue;
				if (set(a->fixed) && scan_ver_cmp(eco, ver, a->fixed) >= 0)
					continue;
				if (set(a->last_affected) && scan_ver_cmp(eco, ver, a->last_affected) > 0)
					continue;
				rc = add(out, p, idx[k]);
			}
		}
		if (out->n - first > 1)
			qsort(out->v + first, out->n - first, sizeof *out->v, by_affected);
	}
	if (rc < 0)
		out->n = n0;
	return rc;
}

int scan_match(const struct scan_pkgs *pkgs, const char *release, const struct scan_affected *aff, size_t naff,
	       struct scan_findings *out)
{
	struct scan_match_index ix;
	int rc = scan_match_index_build(release, aff, naff, &ix);

	if (rc == 0)
		rc = scan_match_indexed(pkgs, &ix, out);
	scan_match_index_release(&ix);
	return rc;
}
