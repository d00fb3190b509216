/* h_tags: GET /v2/<name>/tags/list?n=&last= */
#include <jansson.h>
#include <string.h>

#include "http/internal.h"

void h_tags_list(struct req *q)
{
	struct meta_names names = {0};
	struct reg_err e;
	struct MHD_Response *r;
	const char *last;
	long limit;
	int more = 0;
	json_t *root, *list;
	char *body, path[600];

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (paging_parse(q, &limit, &last) < 0)
		return;
	if (registry_tags(q->srv->reg, q->name, last, limit, &names, &more, &e) < 0) {
		answer_error(q, &e);
		return;
	}
	root = json_object();
	list = json_array();
	for (size_t i = 0; i < names.n; i++)
		json_array_append_new(list, json_string(names.v[i]));
	json_object_set_new(root, "name", json_string(q->name));
	json_object_set_new(root, "tags", list);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	answer_json(q, 200, body, strlen(body), NULL, &r);
	if (more && names.n) {
		snprintf(path, sizeof(path), "/v2/%s/tags/list", q->name);
		paging_link(r, path, names.v[names.n - 1], limit);
	}
	answer(q, r, 200);
	meta_names_release(&names);
}
