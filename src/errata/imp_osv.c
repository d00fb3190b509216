/* imp_osv: OSV JSON (https://ossf.github.io/osv-schema/): one advisory object, or an array of them.
 *
 * Read: id, summary, details, published (issued), modified, withdrawn, aliases/related/upstream
 * (CVE ids; other ids become references), references[].url, affected[] with package.ecosystem and
 * .name and ECOSYSTEM ranges. Each introduced/fixed pair of a range becomes one affected entry;
 * an introduced with no fixed is UNFIXED (from that version on), last_affected gives an UNFIXED
 * entry bounded above; "introduced": "0" means from the first version. Packages of ecosystems that
 * are not distributions berth maps (PyPI, npm, SUSE, ...) are left out, and an advisory left with no
 * distribution package at all is not stored but counted as skipped.
 *
 * Severity, first found wins: the Red Hat impact word that prefixes AlmaLinux/Rocky summaries
 * ("Important: ..."), database_specific.severity, an "Ubuntu" severity entry's priority word,
 * then the CVSS v3 base score (>= 9 Critical, >= 7 Important, >= 4 Moderate, > 0 Low).
 * Type: ids of the Red Hat family's bug-fix (xxBA-) and enhancement (xxEA-) advisories are bugfix
 * and enhancement; everything else is security.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "errata/internal.h"

#define OSV_SOURCE "osv"

struct osv_ctx {
	const char *name;
	const char *entry; /* the advisory id, once known */
	size_t index; /* position in an array input */
	char *why;
	size_t whyn;
};

static int osv_fail(struct osv_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records "NAME: entry ID: what" (or "entry #N" before the id is known); -BERTH_EINVAL. */
static int osv_fail(struct osv_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->entry)
		snprintf(c->why, c->whyn, "%s: entry %s: %s", c->name, c->entry, msg);
	else
		snprintf(c->why, c->whyn, "%s: entry #%zu: %s", c->name, c->index + 1, msg);
	return -BERTH_EINVAL;
}

/* The string member key of o: 0 with *out (NULL when absent or null), or an error when it has
 * another type. */
static int osv_str(struct osv_ctx *c, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return osv_fail(c, "\"%s\" is not a string", key);
	*out = json_string_value(v);
	return 0;
}

/* The array member key of o (NULL when absent or null). */
static int osv_arr(struct osv_ctx *c, json_t *o, const char *key, json_t **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return osv_fail(c, "\"%s\" is not an array", key);
	*out = v;
	return 0;
}

/* An optional RFC 3339 time member; *t stays 0 when absent. */
static int osv_time(struct osv_ctx *c, json_t *o, const char *key, int64_t *t)
{
	const char *s = NULL;
	int rc = osv_str(c, o, key, &s);

	*t = 0;
	if (rc < 0 || !s)
		return rc;
	if (errata__time_parse(s, t) < 0)
		return osv_fail(c, "\"%s\" is not an RFC 3339 time: %.40s", key, s);
	return 0;
}

/* aliases / related / upstream: CVE ids go to the CVE list, other well-formed ids to references. */
static int osv_ids(struct osv_ctx *c, json_t *o, const char *key, struct meta_erratum *e)
{
	json_t *a = NULL, *v;
	size_t i;
	char cve[32];
	int rc = osv_arr(c, o, key, &a);

	if (rc < 0 || !a)
		return rc;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);
		size_t n;
		if (!s)
			return osv_fail(c, "\"%s\"[%zu] is not a string", key, i);
		n = strlen(s);
		if (errata__cve(s, n, cve))
			rc = errata__add_cve(e, cve);
		else if (errata__id_ok(s, n))
			rc = errata__add_ref(e, s, n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* references[].url: kept when printable and at most 4 KiB (others are dropped, not fatal). */
static int osv_refs(struct osv_ctx *c, json_t *o, struct meta_erratum *e)
{
	json_t *a = NULL, *v;
	const char *url = NULL;
	size_t i;
	int rc = osv_arr(c, o, "references", &a);

	if (rc < 0 || !a)
		return rc;
	json_array_foreach(a, i, v)
	{
		int printable = 1;
		if (!json_is_object(v))
			return osv_fail(c, "references[%zu] is not an object", i);
		rc = osv_str(c, v, "url", &url);
		if (rc < 0)
			return rc;
		if (!url)
			continue;
		for (const char *p = url; *p; p++)
			printable &= (unsigned char)*p > 0x20 && *p != 0x7f;
		if (printable && *url && strlen(url) <= 4096) {
			rc = errata__add_ref(e, url, strlen(url));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* The severity, in the order the file header describes. */
static int osv_severity(struct osv_ctx *c, json_t *o, struct meta_erratum *e)
{
	const char *colon = NULL, *s = NULL;
	json_t *ds = json_object_get(o, "database_specific"), *a = NULL, *v;
	enum meta_severity cvss = META_SEV_UNKNOWN, word = META_SEV_UNKNOWN;
	size_t i;
	int rc;

	e->severity = META_SEV_UNKNOWN;
	if (e->summary) {
		colon = strchr(e->summary, ':');
		if (colon && colon - e->summary <= 12)
			e->severity = errata__severity_word(e->summary, (size_t)(colon - e->summary));
		if (e->severity != META_SEV_UNKNOWN)
			return 0;
	}
	if (json_is_object(ds)) {
		rc = osv_str(c, ds, "severity", &s);
		if (rc < 0)
			return rc;
		if (s)
			e->severity = errata__severity_word(s, strlen(s));
		if (e->severity != META_SEV_UNKNOWN)
			return 0;
	}
	rc = osv_arr(c, o, "severity", &a);
	if (rc < 0 || !a)
		return rc;
	json_array_foreach(a, i, v)
	{
		const char *type = NULL, *score = NULL;
		if (!json_is_object(v))
			return osv_fail(c, "severity[%zu] is not an object", i);
		rc = osv_str(c, v, "type", &type);
		if (rc == 0)
			rc = osv_str(c, v, "score", &score);
		if (rc < 0)
			return rc;
		if (!type || !score)
			continue;
		if (strcmp(type, "Ubuntu") == 0 && word == META_SEV_UNKNOWN) {
			word = errata__severity_word(score, strlen(score));
		} else if (strcmp(type, "CVSS_V3") == 0) {
			double sc = errata__cvss3_score(score);
			enum meta_severity sv = sc >= 9   ? META_SEV_CRITICAL
						: sc >= 7 ? META_SEV_IMPORTANT
						: sc >= 4 ? META_SEV_MODERATE
						: sc > 0  ? META_SEV_LOW
							  : META_SEV_UNKNOWN;
			if (sv > cvss)
				cvss = sv;
		}
	}
	e->severity = word != META_SEV_UNKNOWN ? word : cvss;
	return 0;
}

/* bugfix / enhancement for the Red Hat family's xxBA- / xxEA- ids (RHBA, ALBA, RLEA, ...). */
static enum meta_erratum_type osv_type(const char *id)
{
	const char *dash = strchr(id, '-');

	if (dash && dash - id == 4) {
		if (dash[-2] == 'B' && dash[-1] == 'A')
			return META_ERRATUM_BUGFIX;
		if (dash[-2] == 'E' && dash[-1] == 'A')
			return META_ERRATUM_ENHANCEMENT;
	}
	return META_ERRATUM_SECURITY;
}

/* Checks a version from an event; "0" as introduced means "from the first version" (NULL). */
static int osv_version(struct osv_ctx *c, const char *v, const char *what, size_t ai)
{
	if (!errata__version_ok(v, strlen(v)))
		return osv_fail(c, "affected[%zu]: malformed %s version", ai, what);
	return 0;
}

/* One ECOSYSTEM range's events, in order, as affected entries. */
static int osv_events(struct osv_ctx *c, json_t *events, size_t ai, const char *release, const char *pkg, int binary,
		      struct meta_erratum *e)
{
	const char *intro = NULL;
	json_t *ev;
	size_t i;
	int open = 0, rc = 0;

	json_array_foreach(events, i, ev)
	{
		const char *v = NULL;
		const char *kind = NULL;
		if (!json_is_object(ev) || json_object_size(ev) != 1)
			return osv_fail(c, "affected[%zu]: event %zu is not an object with one member", ai, i);
		kind = json_object_iter_key(json_object_iter(ev));
		v = json_string_value(json_object_iter_value(json_object_iter(ev)));
		if (!v)
			return osv_fail(c, "affected[%zu]: event %zu's version is not a string", ai, i);
		if (strcmp(kind, "introduced") == 0) {
			if (open)
				rc = errata__add_pkg(e, release, pkg, binary, META_PKG_UNFIXED, intro, NULL, NULL);
			if (rc < 0)
				return rc;
			if (strcmp(v, "0") != 0 && osv_version(c, v, "introduced", ai) < 0)
				return -BERTH_EINVAL;
			intro = strcmp(v, "0") == 0 ? NULL : v;
			open = 1;
		} else if (strcmp(kind, "fixed") == 0) {
			if (osv_version(c, v, "fixed", ai) < 0)
				return -BERTH_EINVAL;
			rc = errata__add_pkg(e, release, pkg, binary, META_PKG_FIXED, intro, v, NULL);
			intro = NULL;
			open = 0;
		} else if (strcmp(kind, "last_affected") == 0) {
			if (osv_version(c, v, "last_affected", ai) < 0)
				return -BERTH_EINVAL;
			rc = errata__add_pkg(e, release, pkg, binary, META_PKG_UNFIXED, intro, NULL, v);
			intro = NULL;
			open = 0;
		} else if (strcmp(kind, "limit") != 0) {
			return osv_fail(c, "affected[%zu]: unknown event \"%.32s\"", ai, kind);
		}
		if (rc < 0)
			return rc;
	}
	if (open)
		rc = errata__add_pkg(e, release, pkg, binary, META_PKG_UNFIXED, intro, NULL, NULL);
	return rc;
}

/* affected[ai]: its package, mapped to a release key, and its ECOSYSTEM ranges. */
static int osv_affected(struct osv_ctx *c, json_t *a, size_t ai, struct meta_erratum *e)
{
	json_t *pkg = NULL, *ranges = NULL, *r;
	const char *eco = NULL, *pname = NULL;
	char release[128];
	size_t i;
	int binary = 0, rc;

	if (!json_is_object(a))
		return osv_fail(c, "affected[%zu] is not an object", ai);
	pkg = json_object_get(a, "package");
	if (!json_is_object(pkg))
		return osv_fail(c, "affected[%zu] has no package object", ai);
	rc = osv_str(c, pkg, "ecosystem", &eco);
	if (rc == 0)
		rc = osv_str(c, pkg, "name", &pname);
	if (rc < 0)
		return rc;
	if (!eco || !pname)
		return osv_fail(c, "affected[%zu]: package needs ecosystem and name", ai);
	rc = errata_release_osv(eco, release, sizeof(release), &binary);
	if (rc == -BERTH_EUNSUPPORTED)
		return 0; /* a language ecosystem, or a distribution berth does not map */
	if (rc < 0)
		return osv_fail(c, "affected[%zu]: ecosystem \"%.64s\" too long", ai, eco);
	if (!errata__pkgname_ok(pname, strlen(pname)))
		return osv_fail(c, "affected[%zu]: malformed package name", ai);
	rc = osv_arr(c, a, "ranges", &ranges);
	if (rc < 0)
		return rc;
	json_array_foreach(ranges, i, r)
	{
		const char *type = NULL;
		json_t *events = NULL;
		if (!json_is_object(r))
			return osv_fail(c, "affected[%zu].ranges[%zu] is not an object", ai, i);
		rc = osv_str(c, r, "type", &type);
		if (rc == 0)
			rc = osv_arr(c, r, "events", &events);
		if (rc < 0)
			return rc;
		if (!type || strcmp(type, "ECOSYSTEM") != 0 || !events)
			continue; /* SEMVER and GIT ranges describe upstream code, not distribution packages */
		rc = osv_events(c, events, ai, release, pname, binary, e);
		if (rc < 0)
			return rc;
	}
	return 0; /* an entry with only a versions list, or no ECOSYSTEM range, adds nothing */
}

/* Builds one advisory from object o and appends it to out (or counts it skipped). */
static int osv_one(struct osv_ctx *c, json_t *o, struct errata_set *out)
{
	struct meta_erratum e = {0};
	const char *id = NULL, *summary = NULL, *details = NULL;
	json_t *aff = NULL, *a;
	char cve[32];
	size_t i;
	int rc;

	c->entry = NULL;
	if (!json_is_object(o)) {
		rc = osv_fail(c, "not a JSON object");
		goto out;
	}
	rc = osv_str(c, o, "id", &id);
	if (rc < 0)
		goto out;
	if (!id || !errata__id_ok(id, strlen(id))) {
		rc = osv_fail(c, id ? "malformed id" : "no id");
		goto out;
	}
	c->entry = id;
	rc = osv_str(c, o, "summary", &summary);
	if (rc == 0)
		rc = osv_str(c, o, "details", &details);
	if (rc < 0)
		goto out;
	e.id = strdup(id);
	e.source = strdup(OSV_SOURCE);
	e.summary = summary && *summary ? strdup(summary) : NULL;
	e.details = details && *details ? strdup(details) : NULL;
	if (!e.id || !e.source || (summary && *summary && !e.summary) || (details && *details && !e.details)) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	e.type = osv_type(id);
	rc = osv_time(c, o, "published", &e.issued);
	if (rc == 0)
		rc = osv_time(c, o, "modified", &e.modified);
	if (rc == 0)
		rc = osv_time(c, o, "withdrawn", &e.withdrawn);
	if (rc < 0)
		goto out;
	e.issued_known = json_object_get(o, "published") && !json_is_null(json_object_get(o, "published"));
	/* CVE-2023-1, and the per-CVE records of distributions: ALPINE-CVE-..., DEBIAN-CVE-..., UBUNTU-CVE-... */
	{
		const char *at = strstr(id, "CVE-");
		if (at && (at == id || at[-1] == '-') && errata__cve(at, strlen(at), cve))
			rc = errata__add_cve(&e, cve);
	}
	if (rc == 0)
		rc = osv_ids(c, o, "aliases", &e);
	if (rc == 0)
		rc = osv_ids(c, o, "related", &e);
	if (rc == 0)
		rc = osv_ids(c, o, "upstream", &e);
	if (rc == 0)
		rc = osv_refs(c, o, &e);
	if (rc == 0)
		rc = osv_severity(c, o, &e);
	if (rc == 0)
		rc = osv_arr(c, o, "affected", &aff);
	if (rc < 0)
		goto out;
	json_array_foreach(aff, i, a)
	{
		rc = osv_affected(c, a, i, &e);
		if (rc < 0)
			goto out;
	}
	if (aff && json_array_size(aff) && e.npkgs == 0) {
		out->skipped++;
		goto out;
	}
	errata_finish(&e);
	rc = errata__set_push(out, &e);
out:
	meta_erratum_release(&e);
	return rc;
}

int errata_parse_osv(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn)
{
	struct osv_ctx c = {name, NULL, 0, why, whyn};
	struct errata_set local;
	json_error_t je;
	json_t *root = NULL, *o;
	int rc = 0;

	errata_set_init(&local);
	if (n > ERRATA_INPUT_MAX) {
		snprintf(why, whyn, "%s: larger than %zu MiB", name, ERRATA_INPUT_MAX >> 20);
		return -BERTH_ETOOBIG;
	}
	root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(why, whyn, "%s:%d: invalid JSON: %s", name, je.line, je.text);
		return -BERTH_EINVAL;
	}
	if (json_is_array(root)) {
		json_array_foreach(root, c.index, o)
		{
			rc = osv_one(&c, o, &local);
			if (rc < 0)
				break;
		}
	} else {
		rc = osv_one(&c, root, &local);
	}
	if (rc == 0)
		rc = errata__set_append(out, &local);
	if (rc == -BERTH_ENOMEM)
		snprintf(why, whyn, "%s: out of memory", name);
	errata_set_release(&local);
	json_decref(root);
	return rc;
}
