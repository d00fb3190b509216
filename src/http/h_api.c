/* h_api: the API base (/v2/) and the catalog (/v2/_catalog). */
#include <string.h>

#include "http/internal.h"

/* GET /v2/: the version check every client starts with. */
void h_api_base(struct req *q)
{
	struct MHD_Response *r;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	answer_json(q, 200, strdup("{}"), 2, NULL, &r);
	/* containers/image then reads and writes simple signatures through /extensions/v2/ */
	if (registry_signatures_announced(q->srv->reg))
		header_add(r, "X-Registry-Supports-Signatures", "1");
	answer(q, r, 200);
}

/* GET /v2/_catalog?n=&last=: repository names, paged with a Link header. */
void h_api_catalog(struct req *q)
{
	struct meta_names names = {0};
	struct reg_err e;
	const char *last;
	long limit;
	int more = 0;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (paging_parse(q, &limit, &last) < 0)
		return;
	if (registry_catalog(q->srv->reg, last, limit, &names, &more, &e) < 0) {
		answer_error(q, &e);
		return;
	}
	answer_names(q, NULL, NULL, "repositories", &names, more, "/v2/_catalog", limit);
	meta_names_release(&names);
}
