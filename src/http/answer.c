/* answer: response helpers shared by the handlers. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "http/internal.h"

void header_add(struct MHD_Response *r, const char *k, const char *v)
{
	MHD_add_response_header(r, k, v);
}

const char *req_header(struct req *q, const char *k)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, k);
}

const char *req_query(struct req *q, const char *k)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, k);
}

void answer(struct req *q, struct MHD_Response *r, int status)
{
	if (q->answered) {
		MHD_destroy_response(r);
		return;
	}
	header_add(r, "Docker-Distribution-API-Version", "registry/2.0");
	MHD_queue_response(q->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	q->answered = 1;
	q->status = status;
	/* Counted when queued, so a client that reads /metrics after its previous answer sees it. */
	metrics_request_done(q->method, status, q->bytes, (time_mono_ns() - q->start_ns) / 1000, 0);
}

struct MHD_Response *response_empty(void)
{
	return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

/* A reader that is never called: HEAD responses carry no body. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

struct MHD_Response *response_head(uint64_t len)
{
	return MHD_create_response_from_callback(len, 4096, no_body, NULL, NULL);
}

void answer_json(struct req *q, int status, char *body, size_t len, const char *ctype, struct MHD_Response **extra)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	header_add(r, "Content-Type", ctype ? ctype : "application/json");
	q->bytes = len;
	if (extra) {
		*extra = r;
		q->status = status;
		return;
	}
	answer(q, r, status);
}

void answer_error(struct req *q, const struct reg_err *e)
{
	json_t *root = json_object(), *list = json_array(), *one = json_object();
	struct MHD_Response *r;
	char *body;

	json_object_set_new(one, "code", json_string(reg_code_name(e->code)));
	json_object_set_new(one, "message", json_string(e->msg));
	if (e->detail[0])
		json_object_set_new(one, "detail", json_string(e->detail));
	else
		json_object_set_new(one, "detail", json_null());
	json_array_append_new(list, one);
	json_object_set_new(root, "errors", list);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!body) {
		answer(q, response_empty(), 500);
		return;
	}
	q->err = *e;
	answer_json(q, e->status, body, strlen(body), "application/json; charset=utf-8", &r);
	if (e->code == REG_UNAUTHORIZED)
		header_add(r, "WWW-Authenticate", "Basic realm=\"berth\"");
	answer(q, r, e->status);
}

void answer_errorf(struct req *q, enum reg_code code, int status, const char *fmt, ...)
{
	struct reg_err e = {.code = code, .status = status};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	answer_error(q, &e);
}

int paging_parse(struct req *q, long *limit, const char **last)
{
	const char *n = req_query(q, "n");
	char *end = NULL;
	long v;

	*last = req_query(q, "last");
	if (*last && !**last)
		*last = NULL;
	*limit = -1;
	if (!n)
		return 0;
	v = strtol(n, &end, 10);
	if (!*n || *end || v < 0) {
		answer_errorf(q, REG_UNSUPPORTED, 400, "invalid page size n=%.20s", n);
		return -1;
	}
	*limit = v > 100000 ? 100000 : v;
	return 0;
}

/* Percent-encodes s for a query value. */
static void query_escape(struct buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~' || c == '/')
			buf_add(b, s, 1);
		else
			buf_addf(b, "%%%c%c", hx[c >> 4], hx[c & 15]);
	}
}

void paging_link(struct MHD_Response *r, const char *path, const char *last, long limit)
{
	struct buf b;

	buf_init(&b, 8192);
	buf_addf(&b, "<%s?last=", path);
	query_escape(&b, last);
	buf_addf(&b, "&n=%ld>; rel=\"next\"", limit);
	header_add(r, "Link", b.ptr);
	buf_release(&b);
}

void answer_names(struct req *q, const char *key0, const char *val0, const char *key, const struct meta_names *names,
		  int more, const char *path, long limit)
{
	json_t *root = json_object(), *list = json_array();
	struct MHD_Response *r;
	char *body;

	for (size_t i = 0; i < names->n; i++)
		json_array_append_new(list, json_string(names->v[i]));
	if (key0)
		json_object_set_new(root, key0, json_string(val0));
	json_object_set_new(root, key, list);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!body) {
		answer_errorf(q, REG_INTERNAL, 500, "out of memory");
		return;
	}
	answer_json(q, 200, body, strlen(body), NULL, &r);
	if (more && names->n)
		paging_link(r, path, names->v[names->n - 1], limit);
	answer(q, r, 200);
}
