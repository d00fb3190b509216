/* h_scan: an image's scan report.
 *
 *   GET /api/v1/repositories/<name>/manifests/<digest-or-tag>/scan
 *       an image manifest: {"digest", "status", "reason", "os", "os_pretty", "layers", "packages",
 *       "findings", "errata_generation", "updated"}; status is queued, scanned, unsupported or
 *       failed. An index: {"digest", "media_type", "status", "manifests": [{"digest", "platform",
 *       "report": {...}}]}, one report per platform; its status is queued while any child is.
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
#include "registry/scanner.h"

/* The report of one image manifest digest as JSON (a new reference), or NULL. */
static json_t *image_report(struct meta *m, const struct digest *d)
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
	meta_scan_release(&s);
	if (!text)
		return NULL;
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

/* The per-platform report of an index. */
static json_t *index_report(struct meta *m, const struct meta_manifest *mf)
{
	json_t *body = json_loadb(mf->body, mf->size, 0, NULL), *out = json_object(), *list = json_array();
	json_t *children = json_object_get(body, "manifests");
	char ds[DIGEST_STR_MAX];
	int queued = 0;

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
		rep = image_report(m, &d);
		if (!rep) {
			json_decref(one);
			json_decref(body);
			json_decref(out);
			json_decref(list);
			return NULL;
		}
		if (strcmp(json_string_value(json_object_get(rep, "status")), "queued") == 0)
			queued = 1;
		json_object_set_new(one, "digest", json_string(dtext));
		json_object_set(one, "platform", json_object_get(c, "platform") ? json_object_get(c, "platform") : json_null());
		json_object_set_new(one, "report", rep);
		json_array_append_new(list, one);
	}
	json_object_set_new(out, "digest", json_string(digest_str(&mf->digest, ds)));
	json_object_set_new(out, "media_type", json_string(mf->media_type));
	json_object_set_new(out, "status", json_string(queued ? "queued" : "scanned"));
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
	size_t n;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	/* rest: "/<name>/manifests/<ref>/scan" */
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
	if (registry_manifest_get(q->srv->reg, name, ref, 1, &mf, &e) < 0) {
		answer_error(q, &e);
		goto out;
	}
	if (strcmp(mf.media_type, MT_OCI_INDEX) == 0 || strcmp(mf.media_type, MT_DOCKER_LIST) == 0)
		doc = index_report(m, &mf);
	else
		doc = image_report(m, &mf.digest);
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
