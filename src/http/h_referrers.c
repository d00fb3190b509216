/* h_referrers: GET /v2/<name>/referrers/<digest>[?artifactType=]: an image index listing the
 * manifests whose subject is <digest> (distribution-spec v1.1 "Listing Referrers"). */
#include <jansson.h>
#include <string.h>

#include "http/internal.h"

void h_referrers(struct req *q)
{
	const char *at = req_query(q, "artifactType");
	struct meta_desc *v = NULL;
	struct MHD_Response *r;
	struct digest d;
	size_t n = 0;
	json_t *root, *list;
	char *body, ds[DIGEST_STR_MAX];

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (digest_parse_cstr(q->arg, &d) < 0) {
		answer_errorf(q, REG_DIGEST_INVALID, 400, "invalid digest");
		return;
	}
	if (at && !*at)
		at = NULL;
	if (registry_referrers(q->srv->reg, q->name, &d, at, &v, &n, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	root = json_object();
	list = json_array();
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string("application/vnd.oci.image.index.v1+json"));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "mediaType", json_string(v[i].media_type));
		json_object_set_new(o, "digest", json_string(digest_str(&v[i].digest, ds)));
		json_object_set_new(o, "size", json_integer((json_int_t)v[i].size));
		if (v[i].artifact_type)
			json_object_set_new(o, "artifactType", json_string(v[i].artifact_type));
		if (v[i].annotations_json) {
			json_t *a = json_loads(v[i].annotations_json, 0, NULL);
			if (a)
				json_object_set_new(o, "annotations", a);
		}
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "manifests", list);
	meta_descs_free(v, n);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	answer_json(q, 200, body, strlen(body), "application/vnd.oci.image.index.v1+json", &r);
	if (at)
		header_add(r, "OCI-Filters-Applied", "artifactType");
	answer(q, r, 200);
}
