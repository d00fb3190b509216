/* h_signatures: the signature extension API containers/image uses for simple (OpenPGP) signatures
 * when /v2/ answers X-Registry-Supports-Signatures: 1.
 *
 *   GET    /extensions/v2/<name>/signatures/<digest>    200 {"signatures":[...]}; 404 MANIFEST_UNKNOWN
 *   PUT    /extensions/v2/<name>/signatures/<digest>    one signature object (or a list) -> 201
 *   DELETE /extensions/v2/<name>/signatures/<digest>?name=<digest>@<id>   -> 202
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/internal.h"
#include "sign/extension.h"

static int sig_body(struct req *q, const char *p, size_t n)
{
	if (buf_add(&q->body, p, n) < 0) {
		q->err = (struct reg_err){.code = REG_SIZE_INVALID, .status = 413};
		snprintf(q->err.msg, sizeof(q->err.msg), "signature body is larger than %u bytes", SIGN_EXT_LIST_MAX);
		return -1;
	}
	return 0;
}

static void sig_put_done(struct req *q)
{
	int added = 0;

	if (registry_signature_put(q->srv->reg, q->name, &q->want, q->body.ptr, q->body.len, &added, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	answer(q, response_empty(), 201);
}

void h_signatures(struct req *q)
{
	struct buf b;
	struct MHD_Response *r;
	const char *name;
	char *body;
	size_t len;

	if (digest_parse_cstr(q->arg, &q->want) < 0) {
		answer_errorf(q, REG_DIGEST_INVALID, 400, "invalid digest %.80s", q->arg);
		return;
	}
	if (strcmp(q->method, "GET") == 0 || q->is_head) {
		buf_init(&b, BUF_UNLIMITED);
		if (registry_signatures_get(q->srv->reg, q->name, &q->want, &b, &q->err) < 0) {
			buf_release(&b);
			answer_error(q, &q->err);
			return;
		}
		body = buf_detach(&b, &len);
		answer_json(q, 200, body, len, NULL, &r);
		answer(q, r, 200);
		return;
	}
	if (strcmp(q->method, "PUT") == 0) {
		buf_init(&q->body, SIGN_EXT_LIST_MAX);
		q->on_body = sig_body;
		q->on_done = sig_put_done;
		return;
	}
	if (strcmp(q->method, "DELETE") == 0) {
		name = req_query(q, "name");
		if (!name || !*name) {
			answer_errorf(q, REG_UNSUPPORTED, 400, "DELETE needs ?name=<digest>@<id>");
			return;
		}
		if (registry_signature_delete(q->srv->reg, q->name, &q->want, name, &q->err) < 0) {
			answer_error(q, &q->err);
			return;
		}
		answer(q, response_empty(), 202);
		return;
	}
	answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
}
