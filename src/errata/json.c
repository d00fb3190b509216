/* json: one advisory as the JSON object the CLI's --json and /api/v1/errata print. The field names
 * are documented in docs/internals/errata.md; changing one is an API change. */
#include <jansson.h>

#include "errata/internal.h"

/* A time as RFC 3339 text, or JSON null for 0 (absent). */
static json_t *ej_time(int64_t t)
{
	char s[32];

	if (!t)
		return json_null();
	errata__time_format(t, s, sizeof(s));
	return json_string(s);
}

/* A string or JSON null. */
static json_t *ej_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* An array of strings. */
static json_t *ej_strv(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void *errata_json(const struct meta_erratum *e, int full)
{
	json_t *o = json_object(), *aff = json_array();

	if (!o || !aff) {
		json_decref(o);
		json_decref(aff);
		return NULL;
	}
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "source", ej_str(e->source));
	json_object_set_new(o, "type", json_string(meta_erratum_type_name(e->type)));
	json_object_set_new(o, "severity", json_string(meta_severity_name(e->severity)));
	json_object_set_new(o, "issued", ej_time(e->issued));
	json_object_set_new(o, "issued_known", json_boolean(e->issued_known));
	json_object_set_new(o, "modified", ej_time(e->modified));
	json_object_set_new(o, "withdrawn", ej_time(e->withdrawn));
	json_object_set_new(o, "summary", ej_str(e->summary));
	if (full)
		json_object_set_new(o, "details", ej_str(e->details));
	json_object_set_new(o, "cves", ej_strv(e->cves, e->ncves));
	json_object_set_new(o, "references", ej_strv(e->refs, e->nrefs));
	for (size_t i = 0; i < e->npkgs; i++) {
		const struct meta_erratum_pkg *p = &e->pkgs[i];
		json_t *a = json_object();
		json_object_set_new(a, "release", json_string(p->release));
		json_object_set_new(a, "package", json_string(p->package));
		json_object_set_new(a, "package_kind", json_string(p->binary ? "binary" : "source"));
		json_object_set_new(a, "status", json_string(meta_pkg_status_name(p->status)));
		json_object_set_new(a, "introduced", ej_str(p->introduced));
		json_object_set_new(a, "fixed", ej_str(p->fixed));
		json_object_set_new(a, "last_affected", ej_str(p->last_affected));
		json_array_append_new(aff, a);
	}
	json_object_set_new(o, "affected", aff);
	json_object_set_new(o, "first_seen", ej_time(e->first_seen));
	json_object_set_new(o, "updated", ej_time(e->updated));
	json_object_set_new(o, "generation", json_integer(e->generation));
	return o;
}
