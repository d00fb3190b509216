/* h_scan: an image's scan report.
 *
 *   GET /api/v1/repositories/<name>/manifests/<digest-or-tag>/scan
 *       an image manifest: {"digest", "status", "reason", "os", "os_pretty", "layers", "packages",
 *       "findings", "errata_generation", "updated"}; status is queued, scanned, unsupported or
 *       failed. An index: {"digest", "media_type", "status", "manifests": [{"digest", "platform",
 *       "report": {...}}]}, one report per platform; its status is queued while any child is.
 *
 * Each image report carries "grade": the grade object of registry/grading.h for the day of ?at=
 * (YYYY-MM-DD, today by default) with ?unknown_severity= over the configured rule; null unless
 * scanned. An index also has "grade": its worst platform's letter (null while any is queued).
 *
 * Errors use the registry's error bodies: NAME_INVALID (400), NAME_UNKNOWN / MANIFEST_UNKNOWN (404),
 * UNSUPPORTED (405). Field names: docs/internals/scan.md. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/internal.h"
#include "image/manifest.h"
#include "registry/grading.h"
#include "registry/scanner.h"

/* The grading view of a request: the registry's rules, ?unknown_severity= over them, and the day of
 * ?at= (today when absent). Answers 400 itself and returns -1 when either is malformed. */
int h_grade_params(struct req *q, struct grade_rules *r, int32_t *day)
{
	struct grading *g = registry_grading(q->srv->reg);
	const char *at = req_query(q, "at"), *unk = req_query(q, "unknown_severity");

	if (g)
		*r = *grading_rules(g);
	else
		grade_rules_default(r);
	*day = grade_day_today();
	if (at && grade_day_parse(at, day) < 0) {
		answer_errorf(q, REG_UNSUPPORTED, 400, "at: expected a date YYYY-MM-DD");
		return -1;
	}
	if (unk && grade_unknown_parse(unk, &r->unknown) < 0) {
		answer_errorf(q, REG_UNSUPPORTED, 400, "unknown_severity: expected important, critical or ignore");
		return -1;
	}
	return 0;
}

/* The report of one image manifest digest as JSON (a new reference), or NULL. */
static json_t *image_report(struct meta *m, const struct digest *d, const struct grade_rules *r, int32_t day)
{
	struct meta_scan s;
	char ds[DIGEST_STR_MAX], *text;
	json_t *j;
	int rc = meta_scan_get(m, d, &s);

	if (rc == -BERTH_ENOENT) {
		j = json_object();
		json_object_set_new(j, "digest", json_string(digest_str(d, ds)));
		json_object_set_new(j, "status", json_string("queued"));
		return j;
	}
	if (rc < 0)
		return NULL;
	/* a manifest pushed again after a scan was stored is queued for a fresh one */
	text = scanner_report_json(&s);
	if (!text) {
		meta_scan_release(&s);
		return NULL;
	}
	j = json_loads(text, 0, NULL);
	free(text);
	text = NULL;
	if (j && s.status && strcmp(s.status, "scanned") == 0 &&
	    grading_report(r, s.findings, day, NULL, 0, &text, NULL) == 0)
		json_object_set_new(j, "grade", json_loads(text, 0, NULL));
	else if (j)
		json_object_set_new(j, "grade", json_null());
	free(text);
	meta_scan_release(&s);
	return j;
}

/* The per-platform report of an index. */
static json_t *index_report(struct meta *m, const struct meta_manifest *mf, const struct grade_rules *r, int32_t day)
{
	json_t *body = json_loadb(mf->body, mf->size, 0, NULL), *out = json_object(), *list = json_array();
	json_t *children = json_object_get(body, "manifests");
	char ds[DIGEST_STR_MAX];
	int queued = 0;
	char worst = 0;

	if (!body || !out || !list || !json_is_array(children)) {
		json_decref(body);
		json_decref(out);
		json_decref(list);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(children); i++) {
		json_t *c = json_array_get(children, i), *one = json_object(), *rep;
		const char *dtext = json_string_value(json_object_get(c, "digest"));
		struct digest d;

		if (!dtext || digest_parse_cstr(dtext, &d) < 0) {
			json_decref(one);
			continue;
		}
		rep = image_report(m, &d, r, day);
		if (!rep) {
			json_decref(one);
			json_decref(body);
			json_decref(out);
			json_decref(list);
			return NULL;
		}
		if (strcmp(json_string_value(json_object_get(rep, "status")), "queued") == 0)
			queued = 1;
		{
			const char *l = json_string_value(json_object_get(json_object_get(rep, "grade"), "grade"));
			if (l && (!worst || l[0] > worst))
				worst = l[0];
		}
		json_object_set_new(one, "digest", json_string(dtext));
		json_object_set(one, "platform",
				json_object_get(c, "platform") ? json_object_get(c, "platform") : json_null());
		json_object_set_new(one, "report", rep);
		json_array_append_new(list, one);
	}
	json_object_set_new(out, "digest", json_string(digest_str(&mf->digest, ds)));
	json_object_set_new(out, "media_type", json_string(mf->media_type));
	json_object_set_new(out, "status", json_string(queued ? "queued" : "scanned"));
	json_object_set_new(out, "grade", worst && !queued ? json_stringn(&worst, 1) : json_null());
	json_object_set_new(out, "manifests", list);
	json_decref(body);
	return out;
}

void h_scan(struct req *q, const char *rest)
{
	struct meta *m = registry_meta(q->srv->reg);
	struct meta_manifest mf = {0};
	struct reg_err e;
	char *name = NULL, *ref, *mark, *body;
	json_t *doc = NULL;
	struct grade_rules rules;
	int32_t day;
	size_t n;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	/* rest: "/<name>/manifests/<ref>/scan" */
	if (h_grade_params(q, &rules, &day) < 0)
		return;
	n = strlen(rest);
	if (n < 6 || rest[0] != '/' || strcmp(rest + n - 5, "/scan") != 0)
		goto notfound;
	name = strndup(rest + 1, n - 6);
	if (!name) {
		answer_errorf(q, REG_INTERNAL, 500, "out of memory");
		return;
	}
	mark = strstr(name, "/manifests/");
	for (char *next = mark; next; next = strstr(next + 1, "/manifests/"))
		mark = next;
	if (!mark)
		goto notfound;
	*mark = '\0';
	ref = mark + 11;
	if (!registry_name_valid(name)) {
		answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
		goto out;
	}
	if (meta_repo_exists(m, name) != 1) {
		answer_errorf(q, REG_NAME_UNKNOWN, 404, "repository name not known to registry");
		goto out;
	}
	if (registry_manifest_lookup(q->srv->reg, name, ref, 1, &mf, &e) < 0) {
		answer_error(q, &e);
		goto out;
	}
	if (strcmp(mf.media_type, MT_OCI_INDEX) == 0 || strcmp(mf.media_type, MT_DOCKER_LIST) == 0)
		doc = index_report(m, &mf, &rules, day);
	else
		doc = image_report(m, &mf.digest, &rules, day);
	body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!body) {
		answer_errorf(q, REG_INTERNAL, 500, "cannot build the scan report");
		goto out;
	}
	answer_json(q, 200, body, strlen(body), "application/json; charset=utf-8", NULL);
	goto out;
notfound:
	answer_errorf(q, REG_NAME_UNKNOWN, 404, "no such endpoint");
out:
	json_decref(doc);
	meta_manifest_release(&mf);
	free(name);
}
