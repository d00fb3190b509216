/* imp_secdb: Alpine secdb (https://secdb.alpinelinux.org), YAML (the old git repository) or JSON
 * (the current site), one file per release and repository:
 *
 *   distroversion: v3.11
 *   reponame: main
 *   packages:
 *     - pkg:
 *         name: openssl
 *         secfixes:
 *           1.1.1d-r2:
 *             - CVE-2019-1547
 *           0:
 *             - CVE-2019-0000
 *
 * secdb has no advisories of its own: each (release, origin package, fixed version) becomes one
 * advisory with id "ALPINE-<distroversion>-<package>-<version>", the CVEs of that version, an
 * affected entry naming the origin (source) package, no date (issued is when berth first saw it)
 * and unknown severity. The version key "0" means "never affected": its advisory has a NOT_AFFECTED
 * entry. A CVE line may carry more than one identifier ("CVE-2018-8897 XSA-260"): CVE ids are kept
 * as CVEs, other well-formed ids (XSA-260) as references, and anything else (notes such as
 * "(VRRP)" or placeholders such as "CVE-????-?????") is ignored. "CVE_2019-2426" is read as the
 * CVE id it means.
 *
 * YAML is loaded with libyaml into the same jansson tree JSON gives (plain "", "~" and "null"
 * scalars become null, every other scalar a string), so one walker reads both. Errors name the
 * file and the package and version at fault; YAML syntax errors name the line.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/err.h"
#include "errata/internal.h"

#define SECDB_SOURCE "alpine-secdb"
#define SECDB_MAX_DEPTH 32
#define SECDB_MAX_NODES 1000000 /* bounds alias expansion ("billion laughs") */

struct secdb_ctx {
	const char *name;
	char *why;
	size_t whyn;
	size_t nodes;
};

static int secdb_fail(struct secdb_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int secdb_fail(struct secdb_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->whyn, "%s: %s", c->name, msg);
	return -BERTH_EINVAL;
}

/* Converts YAML node id of doc into a json_t (NULL with c->why set on error). */
static json_t *secdb_yaml_node(struct secdb_ctx *c, yaml_document_t *doc, int id, int depth)
{
	yaml_node_t *node = yaml_document_get_node(doc, id);
	json_t *j = NULL, *k = NULL, *v = NULL;

	if (!node) {
		secdb_fail(c, "broken YAML document");
		return NULL;
	}
	if (depth > SECDB_MAX_DEPTH || ++c->nodes > SECDB_MAX_NODES) {
		snprintf(c->why, c->whyn, "%s:%zu: YAML nested too deeply or too many nodes", c->name,
			 node->start_mark.line + 1);
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;
		size_t n = node->data.scalar.length;
		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (n == 0 || (n == 1 && s[0] == '~') ||
		     (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)))))
			return json_null();
		j = json_stringn(s, n);
		if (!j)
			snprintf(c->why, c->whyn, "%s:%zu: a scalar that is not UTF-8, or out of memory", c->name,
				 node->start_mark.line + 1);
		return j;
	}
	case YAML_SEQUENCE_NODE:
		j = json_array();
		for (yaml_node_item_t *it = node->data.sequence.items.start; j && it < node->data.sequence.items.top;
		     it++) {
			v = secdb_yaml_node(c, doc, *it, depth + 1);
			if (!v || json_array_append_new(j, v) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case YAML_MAPPING_NODE:
		j = json_object();
		for (yaml_node_pair_t *pr = node->data.mapping.pairs.start; j && pr < node->data.mapping.pairs.top;
		     pr++) {
			yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
			if (!kn || kn->type != YAML_SCALAR_NODE) {
				snprintf(c->why, c->whyn, "%s:%zu: a mapping key that is not a scalar", c->name,
					 node->start_mark.line + 1);
				json_decref(j);
				return NULL;
			}
			k = secdb_yaml_node(c, doc, pr->key, depth + 1);
			if (k && !json_is_string(k))
				snprintf(c->why, c->whyn, "%s:%zu: an empty mapping key", c->name,
					 kn->start_mark.line + 1);
			else if (k && json_object_getn(j, json_string_value(k), json_string_length(k)))
				snprintf(c->why, c->whyn, "%s:%zu: key \"%.64s\" appears twice", c->name,
					 kn->start_mark.line + 1, json_string_value(k));
			else if (k)
				v = secdb_yaml_node(c, doc, pr->value, depth + 1);
			/* json_object_setn_new takes v even when it fails */
			if (!v || json_object_setn_new(j, json_string_value(k), json_string_length(k), v) < 0) {
				if (v)
					secdb_fail(c, "out of memory");
				json_decref(k);
				json_decref(j);
				return NULL;
			}
			v = NULL;
			json_decref(k);
		}
		return j;
	default:
		secdb_fail(c, "empty YAML document");
		return NULL;
	}
}

/* The deepest flow-collection nesting ([ and {) in YAML text, with quoted scalars and comments
 * skipped: libyaml's parser spends time quadratic in that depth (60000 levels take most of a
 * minute), so deep documents are refused before it sees them. The scan is approximate (a plain
 * scalar containing '[' counts too), which only ever makes it stricter. */
static size_t secdb_flow_depth(const char *p, size_t n, size_t *line)
{
	size_t depth = 0, max = 0, ln = 1;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (ch == '\n') {
			ln++;
		} else if (ch == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t' || p[i - 1] == '\n')) {
			while (i + 1 < n && p[i + 1] != '\n')
				i++;
		} else if (ch == '"' || ch == '\'') {
			for (i++; i < n && p[i] != ch; i++) {
				if (ch == '"' && p[i] == '\\')
					i++;
				else if (i < n && p[i] == '\n')
					ln++;
			}
		} else if (ch == '[' || ch == '{') {
			if (++depth > max) {
				max = depth;
				*line = ln;
			}
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return max;
}

/* Loads YAML text into a json_t tree; NULL with c->why on error. */
static json_t *secdb_yaml_load(struct secdb_ctx *c, const char *p, size_t n)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *j = NULL;
	int have_doc = 0;

	c->why[0] = '\0';
	{
		size_t line = 0;
		if (secdb_flow_depth(p, n, &line) > SECDB_MAX_DEPTH) {
			snprintf(c->why, c->whyn, "%s:%zu: YAML nested too deeply", c->name, line);
			return NULL;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		secdb_fail(c, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)p, n);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(c->why, c->whyn, "%s:%zu: invalid YAML: %s", c->name, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "syntax error");
		goto out;
	}
	have_doc = 1;
	if (!yaml_document_get_root_node(&doc)) {
		secdb_fail(c, "empty YAML document");
		goto out;
	}
	j = secdb_yaml_node(c, &doc, 1, 0);
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return j;
}

/* Adds the identifiers of one secfixes line to e. */
static int secdb_line(const char *s, struct meta_erratum *e)
{
	char cve[32];
	int rc = 0;

	while (*s && rc == 0) {
		size_t n;
		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t");
		if (n == 0)
			break;
		if (errata__cve(s, n, cve))
			rc = errata__add_cve(e, cve);
		else if (errata__id_ok(s, n) && strchr(s, '-') && strchr(s, '-') < s + n)
			rc = errata__add_ref(e, s, n);
		s += n;
	}
	return rc;
}

/* One secfixes version of package pkg: builds its advisory and appends it to out. */
static int secdb_fix(struct secdb_ctx *c, const char *dv, const char *release, const char *pkg, const char *ver,
		     json_t *lines, struct errata_set *out)
{
	struct meta_erratum e = {0};
	char id[600], summary[600];
	json_t *l;
	size_t i;
	int na = strcmp(ver, "0") == 0, rc;

	if (!na && !errata__version_ok(ver, strlen(ver)))
		return secdb_fail(c, "package %s: malformed version \"%.64s\"", pkg, ver);
	snprintf(id, sizeof(id), "ALPINE-%s-%s-%s", dv, pkg, ver);
	if (!errata__id_ok(id, strlen(id)))
		return secdb_fail(c, "package %s version %.64s: cannot form an advisory id from it", pkg, ver);
	if (na)
		snprintf(summary, sizeof(summary), "%s: not affected in %s", pkg, dv);
	else
		snprintf(summary, sizeof(summary), "%s %s: security fixes", pkg, ver);
	e.id = strdup(id);
	e.source = strdup(SECDB_SOURCE);
	e.summary = strdup(summary);
	rc = e.id && e.source && e.summary ? 0 : -BERTH_ENOMEM;
	e.type = META_ERRATUM_SECURITY;
	e.severity = META_SEV_UNKNOWN;
	if (rc == 0 && lines && !json_is_null(lines)) {
		if (!json_is_array(lines)) {
			rc = secdb_fail(c, "package %s version %s: the fixes are not a list", pkg, ver);
			goto out;
		}
		json_array_foreach(lines, i, l)
		{
			if (!json_is_string(l)) {
				rc = secdb_fail(c, "package %s version %s: item %zu is not a string", pkg, ver, i + 1);
				goto out;
			}
			rc = secdb_line(json_string_value(l), &e);
			if (rc < 0)
				goto out;
		}
	}
	if (rc == 0)
		rc = errata__add_pkg(&e, release, pkg, 0, na ? META_PKG_NOT_AFFECTED : META_PKG_FIXED, NULL,
				     na ? NULL : ver, NULL);
	if (rc < 0)
		goto out;
	errata_finish(&e);
	rc = errata__set_push(out, &e);
out:
	meta_erratum_release(&e);
	return rc;
}

/* Walks the whole tree: distroversion, then every package's secfixes. */
static int secdb_walk(struct secdb_ctx *c, json_t *root, struct errata_set *out)
{
	json_t *pkgs = NULL, *item, *pkg, *fixes, *lines;
	const char *dv = NULL, *ver;
	char eco[96], release[96];
	size_t i;
	int binary = 0, rc = 0;

	if (!json_is_object(root))
		return secdb_fail(c, "the top level is not a mapping");
	dv = json_string_value(json_object_get(root, "distroversion"));
	if (!dv)
		return secdb_fail(c, "no distroversion");
	snprintf(eco, sizeof(eco), "Alpine:%.80s", dv);
	if (!errata__id_ok(dv, strlen(dv)) || errata_release_osv(eco, release, sizeof(release), &binary) < 0)
		return secdb_fail(c, "distroversion \"%.64s\" is not vX.Y or edge", dv);
	pkgs = json_object_get(root, "packages");
	if (!pkgs || json_is_null(pkgs))
		return 0;
	if (!json_is_array(pkgs))
		return secdb_fail(c, "packages is not a list");
	json_array_foreach(pkgs, i, item)
	{
		const char *name = NULL;
		pkg = json_is_object(item) ? json_object_get(item, "pkg") : NULL;
		if (!json_is_object(pkg))
			return secdb_fail(c, "packages[%zu] has no pkg mapping", i);
		name = json_string_value(json_object_get(pkg, "name"));
		if (!name || !errata__pkgname_ok(name, strlen(name)))
			return secdb_fail(c, "packages[%zu] has no valid name", i);
		fixes = json_object_get(pkg, "secfixes");
		if (!fixes || json_is_null(fixes))
			continue;
		if (!json_is_object(fixes))
			return secdb_fail(c, "package %s: secfixes is not a mapping", name);
		json_object_foreach(fixes, ver, lines)
		{
			rc = secdb_fix(c, dv, release, name, ver, lines, out);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int secdb_cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct meta_erratum *)a)->id, ((const struct meta_erratum *)b)->id);
}

int errata_parse_secdb(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn)
{
	struct secdb_ctx c = {name, why, whyn, 0};
	struct errata_set local;
	json_error_t je;
	json_t *root = NULL;
	size_t i = 0;
	int rc = 0;

	errata_set_init(&local);
	if (n > ERRATA_INPUT_MAX) {
		snprintf(why, whyn, "%s: larger than %zu MiB", name, ERRATA_INPUT_MAX >> 20);
		return -BERTH_ETOOBIG;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n && p[i] == '{') {
		root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
		if (!root) {
			snprintf(why, whyn, "%s:%d: invalid JSON: %s", name, je.line, je.text);
			return -BERTH_EINVAL;
		}
	} else {
		root = secdb_yaml_load(&c, p, n);
		if (!root)
			return -BERTH_EINVAL;
	}
	rc = secdb_walk(&c, root, &local);
	/* Two packages of one file with the same name and version would make one id twice. */
	if (rc == 0 && local.n > 1) {
		qsort(local.v, local.n, sizeof(*local.v), secdb_cmp_id);
		for (size_t k = 1; k < local.n && rc == 0; k++)
			if (strcmp(local.v[k].id, local.v[k - 1].id) == 0)
				rc = secdb_fail(&c, "%s is listed twice", local.v[k].id);
	}
	if (rc == 0)
		rc = errata__set_append(out, &local);
	if (rc == -BERTH_ENOMEM)
		snprintf(why, whyn, "%s: out of memory", name);
	errata_set_release(&local);
	json_decref(root);
	return rc;
}
