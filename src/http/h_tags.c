/* h_tags: GET /v2/<name>/tags/list?n=&last= */
#include <string.h>

#include "http/internal.h"

void h_tags_list(struct req *q)
{
	struct meta_names names = {0};
	struct reg_err e;
	const char *last;
	long limit;
	int more = 0;
	char path[600];

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
	snprintf(path, sizeof(path), "/v2/%s/tags/list", q->name);
	answer_names(q, "name", q->name, "tags", &names, more, path, limit);
	meta_names_release(&names);
}
