/* imp_debian: Debian security-tracker advisory lists (data/DSA/list, data/DLA/list).
 *
 *   [29 Mar 2023] DSA-5380-1 xorg-server - security update
 *   	{CVE-2023-1393}
 *   	[bullseye] - xorg-server 2:1.20.11-1+deb11u6
 *   	NOTE: free text
 *
 * A header line starts an entry (date, id, then "packages - description" or a bare description);
 * indented lines belong to it: {CVE ...} lists, "[release] - source-package version (notes)" fix
 * lines, NOTE: lines (ignored). The version may be one of the markers <not-affected>, <unfixed> and
 * <end-of-life>, stored as that status with no fixed version. The lists carry no severity: every
 * advisory's severity is unknown. An entry whose description mentions a regression is a bugfix
 * (it repairs an earlier update); the others are security advisories. Anything else is malformed
 * and rejects the whole file with its line number.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "errata/internal.h"

#define DEB_SOURCE "debian-tracker"

struct deb_state {
	const char *name;
	struct errata_set set;
	struct meta_erratum cur;
	int have;
	size_t line, cur_line;
	size_t *lines; /* header line of each advisory in set, for duplicate reports */
	size_t nlines, caplines;
	char *why;
	size_t whyn;
};

/* Records a "NAME:LINE: what" error and returns -BERTH_EINVAL. */
static int deb_fail(struct deb_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int deb_fail(struct deb_state *st, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(st->why, st->whyn, "%s:%zu: %s", st->name, st->line, msg);
	return -BERTH_EINVAL;
}

/* Skips spaces and tabs. */
static const char *deb_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The end of the token at p (up to a space, tab or e). */
static const char *deb_tok(const char *p, const char *e)
{
	while (p < e && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* Finishes the entry being built and moves it into the set. */
static int deb_flush(struct deb_state *st)
{
	int rc;

	if (!st->have)
		return 0;
	st->have = 0;
	errata_finish(&st->cur);
	if (st->nlines == st->caplines) {
		size_t nc = st->caplines ? st->caplines * 2 : 1024;
		size_t *g = realloc(st->lines, nc * sizeof(*g));
		if (!g) {
			meta_erratum_release(&st->cur);
			return -BERTH_ENOMEM;
		}
		st->lines = g;
		st->caplines = nc;
	}
	st->lines[st->nlines++] = st->cur_line;
	rc = errata__set_push(&st->set, &st->cur);
	return rc;
}

/* "[DD Mon YYYY] ID rest": starts a new advisory. */
static int deb_header(struct deb_state *st, const char *p, const char *e)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct meta_erratum *a = &st->cur;
	struct tm tm = {0};
	const char *q = p + 1, *id, *idend, *mon;
	int day = 0, year = 0, m = -1, rc;

	while (q < e && isdigit((unsigned char)*q) && day < 100)
		day = day * 10 + (*q++ - '0');
	if (q == p + 1 || q >= e || *q++ != ' ' || e - q < 4)
		return deb_fail(st, "malformed date in entry header (want [DD Mon YYYY])");
	mon = q;
	for (int i = 0; i < 12; i++)
		if (strncmp(mon, months + 3 * i, 3) == 0)
			m = i;
	q += 3;
	if (m < 0 || *q++ != ' ')
		return deb_fail(st, "malformed month in entry header (want [DD Mon YYYY])");
	for (int i = 0; i < 4; i++, q++) {
		if (q >= e || !isdigit((unsigned char)*q))
			return deb_fail(st, "malformed year in entry header (want [DD Mon YYYY])");
		year = year * 10 + (*q - '0');
	}
	if (q >= e || *q++ != ']' || day < 1 || day > 31)
		return deb_fail(st, "malformed date in entry header (want [DD Mon YYYY])");
	tm.tm_year = year - 1900;
	tm.tm_mon = m;
	tm.tm_mday = day;
	id = deb_ws(q, e);
	if (id == q)
		return deb_fail(st, "no space after the date");
	idend = deb_tok(id, e);
	if (!errata__id_ok(id, (size_t)(idend - id)))
		return deb_fail(st, "malformed advisory id '%.*s'", (int)(idend - id > 64 ? 64 : idend - id), id);
	rc = deb_flush(st);
	if (rc < 0)
		return rc;
	memset(a, 0, sizeof(*a));
	st->have = 1;
	st->cur_line = st->line;
	a->id = strndup(id, (size_t)(idend - id));
	a->source = strdup(DEB_SOURCE);
	q = deb_ws(idend, e);
	while (e > q && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > q)
		a->summary = strndup(q, (size_t)(e - q));
	if (!a->id || !a->source || (e > q && !a->summary))
		return -BERTH_ENOMEM;
	a->type = META_ERRATUM_SECURITY;
	for (const char *r = q; r + 10 <= e; r++)
		if (strncasecmp(r, "regression", 10) == 0)
			a->type = META_ERRATUM_BUGFIX;
	a->severity = META_SEV_UNKNOWN;
	a->issued = (int64_t)timegm(&tm);
	a->issued_known = 1;
	return 0;
}

/* "{CVE-... CVE-...}": CVE ids; any other token is kept as a reference. */
static int deb_cves(struct deb_state *st, const char *p, const char *e)
{
	char cve[32];
	int rc = 0;

	if (e[-1] != '}')
		return deb_fail(st, "CVE list without its closing '}'");
	p++;
	e--;
	while (rc == 0) {
		const char *t;
		p = deb_ws(p, e);
		if (p >= e)
			break;
		t = deb_tok(p, e);
		if (errata__cve(p, (size_t)(t - p), cve))
			rc = errata__add_cve(&st->cur, cve);
		else if (errata__id_ok(p, (size_t)(t - p)))
			rc = errata__add_ref(&st->cur, p, (size_t)(t - p));
		else
			return deb_fail(st, "malformed identifier '%.*s' in CVE list", (int)(t - p > 64 ? 64 : t - p),
					p);
		p = t;
	}
	return rc;
}

/* "[release] - package version-or-marker [(notes)]". */
static int deb_fix(struct deb_state *st, const char *p, const char *e)
{
	static const struct {
		const char *marker;
		enum meta_pkg_status status;
	} markers[] = {
	    {"<not-affected>", META_PKG_NOT_AFFECTED},
	    {"<unfixed>", META_PKG_UNFIXED},
	    {"<end-of-life>", META_PKG_END_OF_LIFE},
	};
	char codename[32], release[64], pkg[256], ver[256];
	const char *q = p + 1, *t;
	enum meta_pkg_status status = META_PKG_FIXED;
	size_t n;
	int rc, known = -1;

	while (q < e && *q != ']')
		q++;
	n = (size_t)(q - p - 1);
	if (q >= e || n == 0 || n >= sizeof(codename))
		return deb_fail(st, "malformed release in fix line (want [codename] - package version)");
	memcpy(codename, p + 1, n);
	codename[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)codename[i]) && codename[i] != '-')
			return deb_fail(st, "malformed release '%s' in fix line", codename);
	q = deb_ws(q + 1, e);
	if (q >= e || *q != '-' || q + 1 >= e || (q[1] != ' ' && q[1] != '\t'))
		return deb_fail(st, "fix line without ' - ' after the release");
	q = deb_ws(q + 1, e);
	t = deb_tok(q, e);
	if (!errata__pkgname_ok(q, (size_t)(t - q)))
		return deb_fail(st, "malformed package name in fix line");
	snprintf(pkg, sizeof(pkg), "%.*s", (int)(t - q), q);
	q = deb_ws(t, e);
	t = deb_tok(q, e);
	if (t == q)
		return deb_fail(st, "fix line for %s without a version", pkg);
	if (*q == '<') {
		for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
			if (strlen(markers[i].marker) == (size_t)(t - q) &&
			    strncmp(markers[i].marker, q, (size_t)(t - q)) == 0)
				known = (int)i;
		if (known < 0)
			return deb_fail(st, "unknown marker '%.*s' in fix line", (int)(t - q > 64 ? 64 : t - q), q);
		status = markers[known].status;
	} else if (!errata__version_ok(q, (size_t)(t - q))) {
		return deb_fail(st, "malformed version in fix line for %s", pkg);
	}
	snprintf(ver, sizeof(ver), "%.*s", (int)(t - q), q);
	q = deb_ws(t, e);
	if (q < e && *q != '(')
		return deb_fail(st, "unexpected text after the version of %s (notes go in parentheses)", pkg);
	rc = errata_release_debian(codename, release, sizeof(release));
	if (rc == -BERTH_ENOENT) {
		/* A release newer than berth's table: kept under its codename so nothing is lost, but no
		 * image's os-release maps there until the table learns it. */
		snprintf(release, sizeof(release), "debian:%s", codename);
		if (!st->set.warnings)
			snprintf(st->set.warning, sizeof(st->set.warning), "%s:%zu: unknown Debian release '%s'",
				 st->name, st->line, codename);
		st->set.warnings++;
	} else if (rc < 0) {
		return rc;
	}
	return errata__add_pkg(&st->cur, release, pkg, 0, status, NULL, status == META_PKG_FIXED ? ver : NULL, NULL);
}

/* One line of the file, without its newline. */
static int deb_line(struct deb_state *st, const char *p, const char *e)
{
	const char *q;

	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (memchr(p, '\0', (size_t)(e - p)))
		return deb_fail(st, "NUL byte");
	if (e == p)
		return 0;
	if (*p == '[')
		return deb_header(st, p, e);
	if (*p != ' ' && *p != '\t')
		return deb_fail(st, "unexpected line (an entry starts with [DD Mon YYYY], its lines are indented)");
	if (!st->have)
		return deb_fail(st, "indented line before the first entry");
	q = deb_ws(p, e);
	if (*q == '{')
		return deb_cves(st, q, e);
	if (*q == '[')
		return deb_fix(st, q, e);
	if (e - q >= 5 && strncmp(q, "NOTE:", 5) == 0)
		return 0;
	return deb_fail(st, "unexpected line in entry %s (want {CVE...}, [release] - ..., or NOTE:)", st->cur.id);
}

struct deb_idline {
	const char *id;
	size_t line;
};

static int deb_cmp_idline(const void *a, const void *b)
{
	const struct deb_idline *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Rejects a list that names one advisory twice (the second would silently replace the first). */
static int deb_check_dups(struct deb_state *st)
{
	struct deb_idline *v = NULL;
	int rc = 0;

	if (st->set.n < 2)
		return 0;
	v = malloc(st->set.n * sizeof(*v));
	if (!v)
		return -BERTH_ENOMEM;
	for (size_t i = 0; i < st->set.n; i++) {
		v[i].id = st->set.v[i].id;
		v[i].line = st->lines[i];
	}
	qsort(v, st->set.n, sizeof(*v), deb_cmp_idline);
	for (size_t i = 1; i < st->set.n && rc == 0; i++)
		if (strcmp(v[i].id, v[i - 1].id) == 0) {
			st->line = v[i].line;
			rc = deb_fail(st, "entry %s appears twice (first at line %zu)", v[i].id, v[i - 1].line);
		}
	free(v);
	return rc;
}

int errata_parse_debian(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn)
{
	struct deb_state st = {0};
	const char *s = p, *end = p + n;
	int rc = 0;

	st.name = name;
	st.why = why;
	st.whyn = whyn;
	errata_set_init(&st.set);
	if (n > ERRATA_INPUT_MAX) {
		snprintf(why, whyn, "%s: larger than %zu MiB", name, ERRATA_INPUT_MAX >> 20);
		return -BERTH_ETOOBIG;
	}
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end && rc == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		st.line++;
		rc = deb_line(&st, s, le);
		s = nl ? nl + 1 : end;
	}
	if (rc == 0)
		rc = deb_flush(&st);
	if (rc == 0 && st.set.n == 0) {
		st.line = st.line ? st.line : 1;
		rc = deb_fail(&st, "no advisories");
	}
	if (rc == 0)
		rc = deb_check_dups(&st);
	if (rc == 0)
		rc = errata__set_append(out, &st.set);
	if (rc == -BERTH_ENOMEM)
		snprintf(why, whyn, "%s: out of memory", name);
	if (st.have)
		meta_erratum_release(&st.cur);
	errata_set_release(&st.set);
	free(st.lines);
	return rc;
}
