/* model: the advisory set, builders shared by the importers, canonical order and content hash,
 * release keys, and the small grammars (CVE ids, versions, dates, severities) every importer uses. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/err.h"
#include "errata/internal.h"

void errata_set_init(struct errata_set *s)
{
	memset(s, 0, sizeof(*s));
}

void errata_set_release(struct errata_set *s)
{
	if (!s)
		return;
	meta_errata_free(s->v, s->n);
	errata_set_init(s);
}

int errata__set_push(struct errata_set *s, struct meta_erratum *e)
{
	struct meta_erratum *g = NULL;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		g = realloc(s->v, nc * sizeof(*g));
		if (!g) {
			meta_erratum_release(e);
			return -BERTH_ENOMEM;
		}
		s->v = g;
		s->cap = nc;
	}
	s->v[s->n++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

int errata__set_append(struct errata_set *dst, struct errata_set *src)
{
	struct meta_erratum *g = NULL;

	/* Reserve first so the move cannot fail half-way. */
	if (dst->n + src->n > dst->cap) {
		size_t nc = dst->cap ? dst->cap : 64;
		while (nc < dst->n + src->n)
			nc *= 2;
		g = realloc(dst->v, nc * sizeof(*g));
		if (!g)
			return -BERTH_ENOMEM;
		dst->v = g;
		dst->cap = nc;
	}
	if (src->n)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	dst->skipped += src->skipped;
	if (!dst->warnings && src->warnings)
		str_copy(dst->warning, sizeof(dst->warning), src->warning);
	dst->warnings += src->warnings;
	free(src->v);
	errata_set_init(src);
	return 0;
}

/* Grows a string array by one copy of s[0..n). */
static int errata_strv_add(char ***v, size_t *nv, const char *s, size_t n)
{
	char **g = NULL, *c = strndup(s, n);

	if (!c)
		return -BERTH_ENOMEM;
	g = realloc(*v, (*nv + 1) * sizeof(*g));
	if (!g) {
		free(c);
		return -BERTH_ENOMEM;
	}
	g[(*nv)++] = c;
	*v = g;
	return 0;
}

int errata__add_cve(struct meta_erratum *e, const char *cve)
{
	return errata_strv_add(&e->cves, &e->ncves, cve, strlen(cve));
}

int errata__add_ref(struct meta_erratum *e, const char *ref, size_t n)
{
	for (size_t i = 0; i < e->nrefs; i++)
		if (strlen(e->refs[i]) == n && memcmp(e->refs[i], ref, n) == 0)
			return 0;
	return errata_strv_add(&e->refs, &e->nrefs, ref, n);
}

/* strdup that keeps NULL; sets *fail on allocation failure. */
static char *errata_dup(const char *s, int *fail)
{
	char *c = NULL;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		*fail = 1;
	return c;
}

int errata__add_pkg(struct meta_erratum *e, const char *release, const char *package, int binary,
		    enum meta_pkg_status status, const char *introduced, const char *fixed, const char *last_affected)
{
	struct meta_erratum_pkg *g = NULL, p = {0};
	int fail = 0;

	p.release = errata_dup(release, &fail);
	p.package = errata_dup(package, &fail);
	p.binary = binary;
	p.status = status;
	p.introduced = errata_dup(introduced, &fail);
	p.fixed = errata_dup(fixed, &fail);
	p.last_affected = errata_dup(last_affected, &fail);
	if (!fail)
		g = realloc(e->pkgs, (e->npkgs + 1) * sizeof(*g));
	if (!g) {
		free(p.release);
		free(p.package);
		free(p.introduced);
		free(p.fixed);
		free(p.last_affected);
		return -BERTH_ENOMEM;
	}
	g[e->npkgs++] = p;
	e->pkgs = g;
	return 0;
}

/* Moves src's n-element array onto the end of dst's; 0 or -BERTH_ENOMEM (src untouched). */
static int errata_move_arr(void **dst, size_t *dn, void **src, size_t *sn, size_t sz)
{
	void *g = NULL;

	if (!*sn)
		return 0;
	g = realloc(*dst, (*dn + *sn) * sz);
	if (!g)
		return -BERTH_ENOMEM;
	memcpy((char *)g + *dn * sz, *src, *sn * sz);
	*dst = g;
	*dn += *sn;
	free(*src);
	*src = NULL;
	*sn = 0;
	return 0;
}

int errata__merge(struct meta_erratum *dst, struct meta_erratum *src)
{
	int rc;

	rc = errata_move_arr((void **)&dst->cves, &dst->ncves, (void **)&src->cves, &src->ncves, sizeof(char *));
	if (rc == 0) {
		for (size_t i = 0; i < src->nrefs && rc == 0; i++)
			rc = errata__add_ref(dst, src->refs[i], strlen(src->refs[i]));
	}
	if (rc == 0)
		rc = errata_move_arr((void **)&dst->pkgs, &dst->npkgs, (void **)&src->pkgs, &src->npkgs,
				     sizeof(*src->pkgs));
	if (rc == 0)
		errata_finish(dst);
	return rc;
}

/* --- canonical order and hash ------------------------------------------------------------------ */

/* strcmp with NULL sorting first. */
static int errata_cmp_opt(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int errata_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int errata_cmp_pkg(const void *pa, const void *pb)
{
	const struct meta_erratum_pkg *a = pa, *b = pb;
	int c;

	c = strcmp(a->release, b->release);
	if (c == 0)
		c = strcmp(a->package, b->package);
	if (c == 0)
		c = a->binary - b->binary;
	if (c == 0)
		c = (int)a->status - (int)b->status;
	if (c == 0)
		c = errata_cmp_opt(a->introduced, b->introduced);
	if (c == 0)
		c = errata_cmp_opt(a->fixed, b->fixed);
	if (c == 0)
		c = errata_cmp_opt(a->last_affected, b->last_affected);
	return c;
}

/* Feeds one optional string into h, length-prefixed so field boundaries cannot shift. */
static void errata_hash_str(struct hasher *h, const char *s)
{
	char len[32];

	if (!s) {
		hasher_update(h, "-;", 2);
		return;
	}
	snprintf(len, sizeof(len), "%zu:", strlen(s));
	hasher_update(h, len, strlen(len));
	hasher_update(h, s, strlen(s));
}

static void errata_hash_int(struct hasher *h, int64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld;", (long long)v);
	hasher_update(h, s, strlen(s));
}

void errata_finish(struct meta_erratum *e)
{
	struct hasher h;
	struct digest d;
	size_t k = 0;

	if (e->ncves) {
		qsort(e->cves, e->ncves, sizeof(*e->cves), errata_cmp_str);
		k = 1;
		for (size_t i = 1; i < e->ncves; i++) {
			if (strcmp(e->cves[i], e->cves[k - 1]) == 0)
				free(e->cves[i]);
			else
				e->cves[k++] = e->cves[i];
		}
		e->ncves = k;
	}
	if (e->npkgs) {
		qsort(e->pkgs, e->npkgs, sizeof(*e->pkgs), errata_cmp_pkg);
		k = 1;
		for (size_t i = 1; i < e->npkgs; i++) {
			struct meta_erratum_pkg *p = &e->pkgs[i];
			if (errata_cmp_pkg(p, &e->pkgs[k - 1]) == 0) {
				free(p->release);
				free(p->package);
				free(p->introduced);
				free(p->fixed);
				free(p->last_affected);
			} else {
				e->pkgs[k++] = *p;
			}
		}
		e->npkgs = k;
	}
	/* hasher_init fails only when OpenSSL cannot allocate; the zero hash then never equals a stored
	 * one, so the advisory is rewritten rather than wrongly kept. */
	memset(e->hash, '0', 64);
	e->hash[64] = '\0';
	if (hasher_init(&h, DIGEST_SHA256) < 0)
		return;
	hasher_update(&h, "berth-erratum-v1;", 17);
	errata_hash_str(&h, e->id);
	errata_hash_str(&h, e->source);
	errata_hash_int(&h, e->type);
	errata_hash_int(&h, e->severity);
	errata_hash_int(&h, e->issued_known ? e->issued : -1);
	errata_hash_int(&h, e->modified);
	errata_hash_int(&h, e->withdrawn);
	errata_hash_str(&h, e->summary);
	errata_hash_str(&h, e->details);
	errata_hash_int(&h, (int64_t)e->ncves);
	for (size_t i = 0; i < e->ncves; i++)
		errata_hash_str(&h, e->cves[i]);
	errata_hash_int(&h, (int64_t)e->nrefs);
	for (size_t i = 0; i < e->nrefs; i++)
		errata_hash_str(&h, e->refs[i]);
	errata_hash_int(&h, (int64_t)e->npkgs);
	for (size_t i = 0; i < e->npkgs; i++) {
		const struct meta_erratum_pkg *p = &e->pkgs[i];
		errata_hash_str(&h, p->release);
		errata_hash_str(&h, p->package);
		errata_hash_int(&h, p->binary);
		errata_hash_int(&h, p->status);
		errata_hash_str(&h, p->introduced);
		errata_hash_str(&h, p->fixed);
		errata_hash_str(&h, p->last_affected);
	}
	hasher_final(&h, &d);
	hasher_release(&h);
	str_copy(e->hash, sizeof(e->hash), d.hex);
}

/* --- release keys ------------------------------------------------------------------------------ */

/* Debian codenames and the release each names. 1.1 to 3.1 keep their minor number (the point
 * releases of those days were distinct releases); from etch (4.0) on os-release's VERSION_ID is the
 * major number alone, and so is the key. */
static const struct {
	const char *codename, *version;
} errata_debian_releases[] = {
    {"buzz", "1.1"},    {"rex", "1.2"},     {"bo", "1.3"},    {"hamm", "2.0"},  {"slink", "2.1"},
    {"potato", "2.2"},  {"woody", "3.0"},   {"sarge", "3.1"}, {"etch", "4"},    {"lenny", "5"},
    {"squeeze", "6"},   {"wheezy", "7"},    {"jessie", "8"},  {"stretch", "9"}, {"buster", "10"},
    {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"},  {"duke", "15"},
};

int errata_release_debian(const char *codename, char *out, size_t n)
{
	for (size_t i = 0; i < sizeof(errata_debian_releases) / sizeof(errata_debian_releases[0]); i++)
		if (codename && strcmp(codename, errata_debian_releases[i].codename) == 0)
			return snprintf(out, n, "debian:%s", errata_debian_releases[i].version) < (int)n
				   ? 0
				   : -BERTH_ETOOBIG;
	return -BERTH_ENOENT;
}

/* Writes "<prefix>:<v>" where v is the first `parts` dot-separated fields of version (all of it when
 * it has fewer). */
static int errata_key_fields(const char *prefix, const char *version, int parts, char *out, size_t n)
{
	size_t len = 0;
	int seen = 0;

	while (version[len] && !(version[len] == '.' && ++seen >= parts))
		len++;
	if (len == 0)
		return -BERTH_EINVAL;
	return snprintf(out, n, "%s:%.*s", prefix, (int)len, version) < (int)n ? 0 : -BERTH_ETOOBIG;
}

/* Debian's key for a version number: "3.0"/"3.1" keep their minor number, later ones do not. */
static int errata_debian_key(const char *version, char *out, size_t n)
{
	if (version[0] >= '1' && version[0] <= '3' && version[1] == '.')
		return errata_key_fields("debian", version, 2, out, n);
	return errata_key_fields("debian", version, 1, out, n);
}

int errata_release_osv(const char *eco, char *out, size_t n, int *binary)
{
	const char *v = NULL;
	char ver[64];
	size_t len;

	if (!eco || !out || !binary)
		return -BERTH_EINVAL;
	v = strchr(eco, ':');
	if (!v || !v[1])
		return -BERTH_EUNSUPPORTED;
	v++;
	len = strcspn(v, ":");
	if (len == 0 || len >= sizeof(ver))
		return -BERTH_EUNSUPPORTED;
	memcpy(ver, v, len);
	ver[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)ver[i]) && ver[i] != '.')
			return -BERTH_EUNSUPPORTED;
	if (strncmp(eco, "Debian:", 7) == 0) {
		*binary = 0;
		return isdigit((unsigned char)ver[0]) ? errata_debian_key(ver, out, n) : -BERTH_EUNSUPPORTED;
	}
	if (strncmp(eco, "Ubuntu:", 7) == 0) {
		*binary = 0;
		/* "Ubuntu:Pro:18.04:LTS" is Ubuntu Pro's ESM archive, which plain images do not have: its own key. */
		if (strcmp(ver, "Pro") == 0) {
			const char *pv;
			size_t pl;

			if (v[len] != ':') /* "Ubuntu:Pro" with nothing after it */
				return -BERTH_EUNSUPPORTED;
			pv = v + len + 1;
			pl = strcspn(pv, ":");
			if (pl == 0 || !isdigit((unsigned char)pv[0]))
				return -BERTH_EUNSUPPORTED;
			return snprintf(out, n, "ubuntu-pro:%.*s", (int)pl, pv) < (int)n ? 0 : -BERTH_ETOOBIG;
		}
		return isdigit((unsigned char)ver[0]) ? errata_key_fields("ubuntu", ver, 2, out, n)
						      : -BERTH_EUNSUPPORTED;
	}
	if (strncmp(eco, "Alpine:", 7) == 0) {
		*binary = 0;
		if (strcmp(ver, "edge") == 0)
			return snprintf(out, n, "alpine:edge") < (int)n ? 0 : -BERTH_ETOOBIG;
		if (ver[0] == 'v')
			return errata_key_fields("alpine", ver + 1, 2, out, n);
		return -BERTH_EUNSUPPORTED;
	}
	if (strncmp(eco, "AlmaLinux:", 10) == 0) {
		*binary = 1;
		return errata_key_fields("almalinux", ver, 1, out, n);
	}
	if (strncmp(eco, "Rocky Linux:", 12) == 0) {
		*binary = 1;
		return errata_key_fields("rocky", ver, 1, out, n);
	}
	return -BERTH_EUNSUPPORTED;
}

int errata_release_os(const char *id, const char *version_id, char *out, size_t n)
{
	char lid[64];
	size_t i = 0;

	if (!id || !*id || !version_id || !*version_id || !out)
		return -BERTH_EINVAL;
	for (; i < sizeof(lid) - 1 && id[i]; i++)
		lid[i] = (char)tolower((unsigned char)id[i]);
	lid[i] = '\0';
	if (strcmp(lid, "debian") == 0)
		return errata_debian_key(version_id, out, n);
	if (strcmp(lid, "ubuntu") == 0 || strcmp(lid, "alpine") == 0)
		return errata_key_fields(lid, version_id, 2, out, n);
	if (strcmp(lid, "almalinux") == 0 || strcmp(lid, "rocky") == 0 || strcmp(lid, "rhel") == 0 ||
	    strcmp(lid, "centos") == 0 || strcmp(lid, "ol") == 0)
		return errata_key_fields(lid, version_id, 1, out, n);
	return snprintf(out, n, "%s:%s", lid, version_id) < (int)n ? 0 : -BERTH_ETOOBIG;
}

/* --- small grammars ---------------------------------------------------------------------------- */

int errata__cve(const char *s, size_t n, char out[32])
{
	size_t i = 4, y, d;

	if (n < 13 || strncasecmp(s, "CVE", 3) != 0 || (s[3] != '-' && s[3] != '_'))
		return 0;
	for (y = 0; i < n && isdigit((unsigned char)s[i]); i++, y++)
		;
	if (y != 4 || i >= n || s[i] != '-')
		return 0;
	i++;
	for (d = 0; i < n && isdigit((unsigned char)s[i]); i++, d++)
		;
	if (d < 4 || d > 12 || i != n)
		return 0;
	snprintf(out, 32, "CVE-%.*s", (int)(n - 4), s + 4);
	return 1;
}

int errata__id_ok(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || (!isalnum((unsigned char)s[i]) && !strchr("._:+~-", s[i])))
			return 0;
	return 1;
}

int errata__version_ok(const char *s, size_t n)
{
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
			return 0;
	return 1;
}

int errata__pkgname_ok(const char *s, size_t n)
{
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || (!isalnum((unsigned char)s[i]) && !strchr("._+~-", s[i])))
			return 0;
	return 1;
}

enum meta_severity errata__severity_word(const char *s, size_t n)
{
	static const struct {
		const char *w;
		enum meta_severity s;
	} words[] = {
	    {"critical", META_SEV_CRITICAL}, {"important", META_SEV_IMPORTANT}, {"high", META_SEV_IMPORTANT},
	    {"moderate", META_SEV_MODERATE}, {"medium", META_SEV_MODERATE},     {"low", META_SEV_LOW},
	    {"negligible", META_SEV_LOW},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].w) == n && strncasecmp(words[i].w, s, n) == 0)
			return words[i].s;
	return META_SEV_UNKNOWN;
}

/* Rounds up to one decimal as CVSS v3.1 specifies (working in integers to avoid float error). */
static double errata_cvss_roundup(double x)
{
	long long i = (long long)(x * 100000.0 + 0.5);

	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

/* The weight of metric value v for metric m in a CVSS v3 vector; -1 when unknown. */
static double errata_cvss_weight(const char *m, char v, int scope_changed)
{
	if (!strcmp(m, "AV"))
		return v == 'N' ? 0.85 : v == 'A' ? 0.62 : v == 'L' ? 0.55 : v == 'P' ? 0.2 : -1;
	if (!strcmp(m, "AC"))
		return v == 'L' ? 0.77 : v == 'H' ? 0.44 : -1;
	if (!strcmp(m, "PR"))
		return v == 'N'   ? 0.85
		       : v == 'L' ? (scope_changed ? 0.68 : 0.62)
		       : v == 'H' ? (scope_changed ? 0.5 : 0.27)
				  : -1;
	if (!strcmp(m, "UI"))
		return v == 'N' ? 0.85 : v == 'R' ? 0.62 : -1;
	if (!strcmp(m, "C") || !strcmp(m, "I") || !strcmp(m, "A"))
		return v == 'H' ? 0.56 : v == 'L' ? 0.22 : v == 'N' ? 0 : -1;
	return -1;
}

double errata__cvss3_score(const char *vec)
{
	static const char *const base[] = {"AV", "AC", "PR", "UI", "S", "C", "I", "A"};
	char val[8] = {0};
	const char *p = vec;
	double w[8], iss, impact, expl;
	int changed;

	if (!vec || (strncmp(vec, "CVSS:3.0/", 9) != 0 && strncmp(vec, "CVSS:3.1/", 9) != 0))
		return -1;
	p += 9;
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t ml;
		if (!colon)
			return -1;
		ml = (size_t)(colon - p);
		for (int i = 0; i < 8; i++)
			if (strlen(base[i]) == ml && strncmp(p, base[i], ml) == 0) {
				if (val[i])
					return -1;
				val[i] = colon[1];
			}
		p = strchr(colon, '/');
		if (!p)
			break;
		p++;
	}
	for (int i = 0; i < 8; i++)
		if (!val[i])
			return -1;
	if (val[4] != 'U' && val[4] != 'C')
		return -1;
	changed = val[4] == 'C';
	for (int i = 0; i < 8; i++) {
		if (i == 4)
			continue;
		w[i] = errata_cvss_weight(base[i], val[i], changed);
		if (w[i] < 0)
			return -1;
	}
	iss = 1 - (1 - w[5]) * (1 - w[6]) * (1 - w[7]);
	if (changed) {
		double t = iss - 0.02, t15 = 1;
		for (int i = 0; i < 15; i++)
			t15 *= t;
		impact = 7.52 * (iss - 0.029) - 3.25 * t15;
	} else {
		impact = 6.42 * iss;
	}
	expl = 8.22 * w[0] * w[1] * w[2] * w[3];
	if (impact <= 0)
		return 0;
	if (changed)
		return errata_cvss_roundup(1.08 * (impact + expl) > 10 ? 10 : 1.08 * (impact + expl));
	return errata_cvss_roundup(impact + expl > 10 ? 10 : impact + expl);
}

/* Reads exactly `digits` decimal digits at *p into *v, advancing *p. */
static int errata_digits(const char **p, int digits, int *v)
{
	*v = 0;
	for (int i = 0; i < digits; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += digits;
	return 0;
}

int errata__time_parse(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	time_t t;

	if (!s || errata_digits(&p, 4, &y) < 0 || *p++ != '-' || errata_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    errata_digits(&p, 2, &d) < 0)
		return -BERTH_EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (errata_digits(&p, 2, &h) < 0 || *p++ != ':' || errata_digits(&p, 2, &mi) < 0 || *p++ != ':' ||
		    errata_digits(&p, 2, &se) < 0)
			return -BERTH_EINVAL;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -BERTH_EINVAL;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om;
			p++;
			if (errata_digits(&p, 2, &oh) < 0 || *p++ != ':' || errata_digits(&p, 2, &om) < 0 || oh > 23 ||
			    om > 59)
				return -BERTH_EINVAL;
			off = sign * (oh * 3600 + om * 60);
		} else {
			return -BERTH_EINVAL;
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -BERTH_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (tm.tm_mday != d) /* timegm normalised an impossible day such as 31 April */
		return -BERTH_EINVAL;
	*out = (int64_t)t - off;
	return 0;
}

void errata__time_format(int64_t t, char *out, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, n, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- formats ----------------------------------------------------------------------------------- */

const char *errata_format_name(enum errata_format f)
{
	switch (f) {
	case ERRATA_FORMAT_DEBIAN:
		return "debian";
	case ERRATA_FORMAT_OSV:
		return "osv";
	case ERRATA_FORMAT_SECDB:
		return "secdb";
	default:
		return "auto";
	}
}

int errata_format_parse(const char *s, enum errata_format *out)
{
	static const enum errata_format all[] = {ERRATA_FORMAT_AUTO, ERRATA_FORMAT_DEBIAN, ERRATA_FORMAT_OSV,
						 ERRATA_FORMAT_SECDB};

	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, errata_format_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -BERTH_EINVAL;
}

/* 1 when the first kilobytes of p mention key as a JSON object key ("key"). */
static int errata_mentions(const char *p, size_t n, const char *key)
{
	size_t kl = strlen(key), lim = n < 65536 ? n : 65536;

	for (size_t i = 0; i + kl + 2 <= lim; i++)
		if (p[i] == '"' && memcmp(p + i + 1, key, kl) == 0 && p[i + 1 + kl] == '"')
			return 1;
	return 0;
}

enum errata_format errata_format_sniff(const void *data, size_t n)
{
	const char *p = data;
	size_t i = 0;

	if (!p)
		return ERRATA_FORMAT_AUTO;
	if (n >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
		i = 3;
	while (i < n && isspace((unsigned char)p[i]))
		i++;
	if (i >= n)
		return ERRATA_FORMAT_AUTO;
	if (p[i] == '{' || p[i] == '[') {
		if (p[i] == '[' && i + 1 < n && isdigit((unsigned char)p[i + 1]))
			return ERRATA_FORMAT_DEBIAN; /* "[31 Dec 2022] DSA-..." */
		return errata_mentions(p + i, n - i, "distroversion") ? ERRATA_FORMAT_SECDB : ERRATA_FORMAT_OSV;
	}
	if ((n - i >= 3 && memcmp(p + i, "---", 3) == 0) || (n - i >= 14 && memcmp(p + i, "distroversion:", 14) == 0))
		return ERRATA_FORMAT_SECDB;
	return ERRATA_FORMAT_AUTO;
}

int errata_parse(enum errata_format fmt, const char *name, const void *p, size_t n, struct errata_set *out, char *why,
		 size_t whyn)
{
	if (fmt == ERRATA_FORMAT_AUTO)
		fmt = errata_format_sniff(p, n);
	switch (fmt) {
	case ERRATA_FORMAT_DEBIAN:
		return errata_parse_debian(name, p, n, out, why, whyn);
	case ERRATA_FORMAT_OSV:
		return errata_parse_osv(name, p, n, out, why, whyn);
	case ERRATA_FORMAT_SECDB:
		return errata_parse_secdb(name, p, n, out, why, whyn);
	default:
		snprintf(why, whyn, "%s: not a Debian DSA/DLA list, OSV JSON or Alpine secdb file", name);
		return -BERTH_EINVAL;
	}
}
