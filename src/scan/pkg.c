/* pkg: the package list shared by the three database readers. */
#include "scan/pkg.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

const char *scan_eco_name(enum scan_eco eco)
{
	switch (eco) {
	case SCAN_ECO_DPKG:
		return "dpkg";
	case SCAN_ECO_APK:
		return "apk";
	case SCAN_ECO_RPM:
		return "rpm";
	default:
		return "none";
	}
}

void scan_pkgs_init(struct scan_pkgs *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void scan_pkgs_truncate(struct scan_pkgs *l, size_t n)
{
	while (l->n > n)
		free(l->v[--l->n].mem_);
}

void scan_pkgs_release(struct scan_pkgs *l)
{
	scan_pkgs_truncate(l, 0);
	free(l->v);
	scan_pkgs_init(l);
}

/* Copies {s,n} to *at as a C string and advances *at. */
static const char *put(char **at, const char *s, size_t n)
{
	char *r = *at;

	if (n)
		memcpy(r, s, n);
	r[n] = '\0';
	*at += n + 1;
	return r;
}

int scan_pkgs_add(struct scan_pkgs *l, enum scan_eco eco, const char *name, size_t namelen, const char *version,
		  size_t verlen, const char *arch, size_t archlen, const char *source, size_t srclen,
		  const char *srcver, size_t srcverlen)
{
	struct scan_pkg *p;
	char *mem, *at;
	size_t total;

	if (l->n >= SCAN_PKGS_MAX)
		return -BERTH_ETOOBIG;
	if (!srclen)
		source = name, srclen = namelen;
	if (!srcverlen)
		srcver = version, srcverlen = verlen;
	/* each length is bounded by the buffer it came from; five of them cannot overflow size_t */
	total = namelen + verlen + archlen + srclen + srcverlen + 5;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct scan_pkg *v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -BERTH_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	mem = malloc(total);
	if (!mem)
		return -BERTH_ENOMEM;
	at = mem;
	p = &l->v[l->n];
	p->eco = eco;
	p->mem_ = mem;
	p->name = put(&at, name, namelen);
	p->version = put(&at, version, verlen);
	p->arch = put(&at, arch, archlen);
	p->source = put(&at, source, srclen);
	p->source_version = put(&at, srcver, srcverlen);
	l->n++;
	return 0;
}
