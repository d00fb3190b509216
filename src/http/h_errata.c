/* h_errata: berth's errata API.
 *
 *   GET /api/v1/errata?release=&package=&severity=&type=&cve=&n=&last=
 *       {"generation": G, "errata": [erratum...]}, newest first, n per page (default 100, at most
 *       10000) with `Link: <...&last=ID>; rel="next"` while more follow
 *   GET /api/v1/errata/<id>
 *       one erratum with its details, or 404
 *
 * Both carry `Berth-Errata-Generation: G`. Errors use the registry's error body shape
 * ({"errors":[{"code","message","detail"}]}) with berth's own codes: ERRATUM_UNKNOWN (404),
 * PARAMETER_INVALID (400), UNSUPPORTED (405), INTERNAL (500). Field names: docs/internals/errata.md. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "errata/errata.h"
#include "http/internal.h"

#define ERRATA_PAGE_DEFAULT 100
#define ERRATA_PAGE_MAX 10000

/* Answers an error with one of the API's own codes. */
static void he_error(struct req *q, int status, const char *code, const char *msg, const char *detail)
{
	json_t *root = json_object(), *list = json_array(), *one = json_object();
	char *body = NULL;

	json_object_set_new(one, "code", json_string(code));
	json_object_set_new(one, "message", json_string(msg));
	json_object_set_new(one, "detail", detail ? json_string(detail) : json_null());
	json_array_append_new(list, one);
	json_object_set_new(root, "errors", list);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (status >= 500)
		snprintf(q->err.msg, sizeof(q->err.msg), "%s", msg);
	if (!body) {
		answer(q, response_empty(), 500);
		return;
	}
	answer_json(q, status, body, strlen(body), "application/json; charset=utf-8", NULL);
}

/* Adds the generation header and queues a JSON document (taking it). */
static void he_answer(struct req *q, json_t *doc, int64_t gen, const char *link)
{
	struct MHD_Response *r;
	char g[32], *body = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	if (!body) {
		he_error(q, 500, "INTERNAL", "out of memory", NULL);
		return;
	}
	answer_json(q, 200, body, strlen(body), "application/json; charset=utf-8", &r);
	snprintf(g, sizeof(g), "%lld", (long long)gen);
	header_add(r, "Berth-Errata-Generation", g);
	if (link)
		header_add(r, "Link", link);
	answer(q, r, 200);
}

/* Percent-encodes s as a query value into b. */
static void he_escape(struct buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c))
			buf_add(b, s, 1);
		else
			buf_addf(b, "%%%c%c", hx[c >> 4], hx[c & 15]);
	}
}

/* The next page's Link value: the same filters, last = the page's last id. */
static void he_link(struct buf *b, struct req *q, const char *last, long n)
{
	static const char *const keep[] = {"release", "package", "severity", "type", "cve"};

	buf_adds(b, "</api/v1/errata?");
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *v = req_query(q, keep[i]);
		if (v && *v) {
			buf_addf(b, "%s=", keep[i]);
			he_escape(b, v);
			buf_add(b, "&", 1);
		}
	}
	buf_adds(b, "last=");
	he_escape(b, last);
	buf_addf(b, "&n=%ld>; rel=\"next\"", n);
}

/* An optional non-empty query parameter. */
static const char *he_param(struct req *q, const char *k)
{
	const char *v = req_query(q, k);

	return v && *v ? v : NULL;
}

/* GET /api/v1/errata */
static void he_list(struct req *q, struct meta *m)
{
	struct meta_errata_filter f = {NULL, NULL, NULL, -1, -1, NULL, ERRATA_PAGE_DEFAULT};
	struct meta_erratum *v = NULL;
	enum meta_severity sev;
	enum meta_erratum_type type;
	const char *s = NULL;
	char *end = NULL;
	struct buf link;
	int64_t gen = 0;
	size_t n = 0;
	int more = 0, rc;
	json_t *doc = NULL, *arr = NULL;

	f.release = he_param(q, "release");
	f.package = he_param(q, "package");
	f.cve = he_param(q, "cve");
	f.last = he_param(q, "last");
	s = he_param(q, "severity");
	if (s) {
		if (meta_severity_parse(s, &sev) < 0) {
			he_error(q, 400, "PARAMETER_INVALID",
				 "severity is Critical, Important, Moderate, Low or unknown", s);
			return;
		}
		f.severity = (int)sev;
	}
	s = he_param(q, "type");
	if (s) {
		if (meta_erratum_type_parse(s, &type) < 0) {
			he_error(q, 400, "PARAMETER_INVALID", "type is security, bugfix or enhancement", s);
			return;
		}
		f.type = (int)type;
	}
	s = req_query(q, "n");
	if (s) {
		f.limit = strtol(s, &end, 10);
		if (!*s || *end || f.limit < 0) {
			he_error(q, 400, "PARAMETER_INVALID", "n is a page size (a number >= 0)", s);
			return;
		}
		if (f.limit > ERRATA_PAGE_MAX)
			f.limit = ERRATA_PAGE_MAX;
	}
	rc = meta_errata_generation(m, &gen);
	if (rc == 0)
		rc = meta_errata_list(m, &f, &v, &n, &more);
	if (rc == -BERTH_ENOENT) {
		he_error(q, 400, "PARAMETER_INVALID", "last names no stored erratum", f.last);
		return;
	}
	if (rc < 0) {
		he_error(q, 500, "INTERNAL", berth_strerror(rc), NULL);
		return;
	}
	doc = json_object();
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, errata_json(&v[i], 0));
	json_object_set_new(doc, "generation", json_integer(gen));
	json_object_set_new(doc, "errata", arr);
	buf_init(&link, 1 << 16);
	if (more && n)
		he_link(&link, q, v[n - 1].id, f.limit);
	he_answer(q, doc, gen, link.len ? link.ptr : NULL);
	buf_release(&link);
	meta_errata_free(v, n);
}

/* GET /api/v1/errata/<id> */
static void he_get(struct req *q, struct meta *m, const char *id)
{
	struct meta_erratum e;
	int64_t gen = 0;
	int rc;

	rc = meta_errata_generation(m, &gen);
	if (rc == 0)
		rc = meta_errata_get(m, id, &e);
	if (rc == -BERTH_ENOENT) {
		he_error(q, 404, "ERRATUM_UNKNOWN", "no such erratum", id);
		return;
	}
	if (rc < 0) {
		he_error(q, 500, "INTERNAL", berth_strerror(rc), NULL);
		return;
	}
	he_answer(q, errata_json(&e, 1), gen, NULL);
	meta_erratum_release(&e);
}

void h_errata(struct req *q, const char *rest)
{
	struct meta *m = registry_meta(q->srv->reg);

	if (strcmp(q->method, "GET") && !q->is_head) {
		he_error(q, 405, "UNSUPPORTED", "method not allowed", q->method);
		return;
	}
	if (rest[0] == '\0' || strcmp(rest, "/") == 0)
		he_list(q, m);
	else if (rest[0] == '/' && !strchr(rest + 1, '/'))
		he_get(q, m, rest + 1);
	else
		he_error(q, 404, "ERRATUM_UNKNOWN", "no such erratum", rest);
}
