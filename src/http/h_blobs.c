/* h_blobs: GET, HEAD and DELETE of /v2/<name>/blobs/<digest>; GET honours a single Range. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "http/internal.h"

/* Parses "bytes=A-B", "bytes=A-" or "bytes=-N" against size. 1 with [*from, *to] inclusive,
 * 0 when the header should be ignored (absent, malformed or several ranges), -1 when unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	const char *p;
	char *end = NULL;
	unsigned long long a, b;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	p = h + 6;
	if (*p == '-') {
		b = strtoull(p + 1, &end, 10);
		if (end == p + 1 || *end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	a = strtoull(p, &end, 10);
	if (*end != '-')
		return 0;
	p = end + 1;
	if (*p == '\0') {
		b = size ? size - 1 : 0;
	} else {
		if (*p < '0' || *p > '9')
			return 0;
		b = strtoull(p, &end, 10);
		if (*end)
			return 0;
		if (b < a)
			return 0;
		if (b >= size)
			b = size ? size - 1 : 0;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b;
	return 1;
}

static void blob_headers(struct MHD_Response *r, const char *ds)
{
	char etag[DIGEST_STR_MAX + 2];

	snprintf(etag, sizeof(etag), "\"%s\"", ds);
	header_add(r, "Docker-Content-Digest", ds);
	header_add(r, "ETag", etag);
	header_add(r, "Content-Type", "application/octet-stream");
	header_add(r, "Accept-Ranges", "bytes");
	header_add(r, "Cache-Control", "max-age=31536000");
}

void h_blob(struct req *q)
{
	struct digest d;
	struct reg_err e;
	struct MHD_Response *r;
	char ds[DIGEST_STR_MAX], cr[96];
	uint64_t size = 0, from = 0, to = 0;
	int fd = -1, rc, want_get = strcmp(q->method, "GET") == 0, ranged;

	rc = digest_parse_cstr(q->arg, &d);
	if (rc < 0) {
		answer_errorf(q, REG_DIGEST_INVALID, 400, "invalid digest");
		return;
	}
	digest_str(&d, ds);
	if (strcmp(q->method, "DELETE") == 0) {
		if (registry_blob_delete(q->srv->reg, q->name, &d, &e) < 0) {
			answer_error(q, &e);
			return;
		}
		r = response_empty();
		header_add(r, "Docker-Content-Digest", ds);
		answer(q, r, 202);
		return;
	}
	if (!want_get && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (q->is_head) {
		if (registry_blob_stat(q->srv->reg, q->name, &d, &size, &e) < 0) {
			answer_error(q, &e);
			return;
		}
		r = response_head(size);
		blob_headers(r, ds);
		answer(q, r, 200);
		return;
	}
	if (registry_blob_open(q->srv->reg, q->name, &d, &fd, &size, &e) < 0) {
		answer_error(q, &e);
		return;
	}
	ranged = parse_range(req_header(q, "Range"), size, &from, &to);
	if (ranged < 0) {
		close(fd);
		r = response_empty();
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		header_add(r, "Content-Range", cr);
		answer(q, r, 416);
		return;
	}
	if (ranged == 0) {
		from = 0;
		to = size ? size - 1 : 0;
	}
	r = MHD_create_response_from_fd_at_offset64(size ? to - from + 1 : 0, fd, (int64_t)from);
	if (!r) {
		close(fd);
		answer_errorf(q, REG_INTERNAL, 500, "cannot create response");
		return;
	}
	blob_headers(r, ds);
	q->bytes = size ? to - from + 1 : 0;
	if (ranged) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
		header_add(r, "Content-Range", cr);
		answer(q, r, 206);
		return;
	}
	answer(q, r, 200);
}
