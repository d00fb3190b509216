/* h_uploads: blob upload sessions.
 *   POST   /v2/<name>/blobs/uploads/                  start (202), ?digest= monolithic (201),
 *                                                     ?mount=&from= cross-repository mount (201, or 202)
 *   PATCH  /v2/<name>/blobs/uploads/<uuid>            a chunk (Content-Range) or a stream (202)
 *   PUT    /v2/<name>/blobs/uploads/<uuid>?digest=    optional last chunk, then commit (201)
 *   GET    /v2/<name>/blobs/uploads/<uuid>            status (204 with Range)
 *   DELETE /v2/<name>/blobs/uploads/<uuid>            cancel (204)
 * Bodies stream straight into the upload file; a request that breaks off is rolled back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/internal.h"

/* Content-Range of a chunk, exactly "<start>-<end>" as the spec writes it. 1 parsed, 0 absent,
 * -1 malformed. */
static int parse_content_range(const char *h, uint64_t *a, uint64_t *b)
{
	char *end = NULL;

	if (!h)
		return 0;
	if (*h < '0' || *h > '9')
		return -1;
	errno = 0;
	*a = strtoull(h, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	*b = strtoull(end + 1, &end, 10);
	/* an end that overflows (or is the largest value) would wrap the chunk length b - a + 1 */
	if (*end || errno == ERANGE || *b == UINT64_MAX)
		return -1;
	return *b >= *a ? 1 : -1;
}

static void add_range(struct MHD_Response *r, uint64_t size)
{
	char v[48];

	snprintf(v, sizeof(v), "0-%" PRIu64, size ? size - 1 : 0);
	header_add(r, "Range", v);
}

static void session_headers(struct req *q, struct MHD_Response *r, const char *uuid, uint64_t size)
{
	char loc[700];

	snprintf(loc, sizeof(loc), "/v2/%s/blobs/uploads/%s", q->name, uuid);
	header_add(r, "Location", loc);
	header_add(r, "Docker-Upload-UUID", uuid);
	add_range(r, size);
}

static void answer_created(struct req *q, const struct digest *d)
{
	struct MHD_Response *r = response_empty();
	char ds[DIGEST_STR_MAX], loc[700];

	digest_str(d, ds);
	snprintf(loc, sizeof(loc), "/v2/%s/blobs/%s", q->name, ds);
	header_add(r, "Location", loc);
	header_add(r, "Docker-Content-Digest", ds);
	answer(q, r, 201);
}

static int body_write(struct req *q, const char *p, size_t n)
{
	return registry_upload_write(q->upload, p, n, &q->err);
}

/* Undoes a request that broke off: a monolithic upload disappears, a chunk is rolled back. */
static void body_abort(struct req *q)
{
	if (!q->upload)
		return;
	if (q->monolithic) {
		registry_upload_abort(q->srv->reg, q->upload);
	} else {
		registry_upload_rollback(q->upload);
		registry_upload_release(q->srv->reg, q->upload);
	}
	q->upload = NULL;
}

/* When a Content-Range was announced, the body must have been exactly that long; otherwise the
 * chunk is rolled back and answered 416 with the session's real range. */
static int chunk_len_ok(struct req *q)
{
	struct MHD_Response *r;
	uint64_t size;

	if (!q->chunk_ranged || registry_upload_size(q->upload) - q->chunk_start == q->chunk_len)
		return 1;
	registry_upload_rollback(q->upload);
	size = registry_upload_size(q->upload);
	r = response_empty();
	session_headers(q, r, registry_upload_id(q->upload), size);
	registry_upload_release(q->srv->reg, q->upload);
	q->upload = NULL;
	q->err.code = REG_RANGE_INVALID;
	answer(q, r, 416);
	return 0;
}

static void monolithic_done(struct req *q)
{
	struct upload *u = q->upload;

	q->upload = NULL;
	if (registry_upload_finish(q->srv->reg, u, &q->want, &q->err) < 0) {
		/* finish keeps the session only for retryable storage errors; a monolithic one ends here */
		if (q->err.code == REG_STORAGE_FULL || q->err.code == REG_INTERNAL)
			registry_upload_abort(q->srv->reg, u);
		answer_error(q, &q->err);
		return;
	}
	answer_created(q, &q->want);
}

static void start_session(struct req *q, enum digest_alg alg, int monolithic)
{
	struct MHD_Response *r;
	char uuid[37];

	if (registry_upload_start(q->srv->reg, q->name, alg, monolithic, uuid, &q->upload, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	if (monolithic) {
		q->monolithic = 1;
		q->on_body = body_write;
		q->batch = 1;
		q->on_done = monolithic_done;
		q->on_abort = body_abort;
		return;
	}
	registry_upload_release(q->srv->reg, q->upload);
	q->upload = NULL;
	r = response_empty();
	session_headers(q, r, uuid, 0);
	answer(q, r, 202);
}

void h_upload_start(struct req *q)
{
	const char *dg = req_query(q, "digest"), *mount = req_query(q, "mount"), *from = req_query(q, "from");
	struct digest d;
	struct reg_err e;

	if (strcmp(q->method, "POST") != 0) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (mount) {
		if (digest_parse_cstr(mount, &d) < 0) {
			answer_errorf(q, REG_DIGEST_INVALID, 400, "invalid digest in mount");
			return;
		}
		if (from && registry_name_valid(from) && registry_blob_mount(q->srv->reg, q->name, from, &d, &e) == 0) {
			answer_created(q, &d);
			return;
		}
		start_session(q, d.alg, 0); /* cannot mount: an ordinary session, 202 */
		return;
	}
	if (dg) {
		if (digest_parse_cstr(dg, &d) < 0) {
			answer_errorf(q, REG_DIGEST_INVALID, 400, "invalid digest");
			return;
		}
		q->want = d;
		start_session(q, d.alg, 1);
		return;
	}
	start_session(q, DIGEST_SHA256, 0);
}

static void chunk_done(struct req *q)
{
	struct MHD_Response *r;
	uint64_t size;
	const char *uuid;

	if (!chunk_len_ok(q))
		return;
	size = registry_upload_size(q->upload);
	uuid = registry_upload_id(q->upload);
	r = response_empty();
	session_headers(q, r, uuid, size);
	registry_upload_release(q->srv->reg, q->upload);
	q->upload = NULL;
	answer(q, r, 202);
}

static void put_done(struct req *q)
{
	struct upload *u;

	if (!chunk_len_ok(q))
		return;
	u = q->upload;
	q->upload = NULL;
	if (registry_upload_finish(q->srv->reg, u, &q->want, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	answer_created(q, &q->want);
}

/* Takes the session and checks an announced Content-Range against its size; answers itself and
 * returns -1 on failure. */
static int begin_chunk(struct req *q)
{
	uint64_t a = 0, b = 0, size;
	int cr = parse_content_range(req_header(q, "Content-Range"), &a, &b);
	struct MHD_Response *r;

	if (registry_upload_acquire(q->srv->reg, q->name, q->arg, &q->upload, &q->err) < 0) {
		answer_error(q, &q->err);
		return -1;
	}
	size = registry_upload_size(q->upload);
	if (cr < 0 || (cr > 0 && a != size)) {
		r = response_empty();
		session_headers(q, r, q->arg, size);
		registry_upload_release(q->srv->reg, q->upload);
		q->upload = NULL;
		q->err.code = REG_RANGE_INVALID;
		answer(q, r, 416);
		return -1;
	}
	if (registry_upload_checkpoint(q->upload) < 0) {
		registry_upload_release(q->srv->reg, q->upload);
		q->upload = NULL;
		answer_errorf(q, REG_INTERNAL, 500, "out of memory");
		return -1;
	}
	q->chunk_ranged = cr > 0;
	q->chunk_start = size;
	q->chunk_len = cr > 0 ? b - a + 1 : 0;
	q->on_body = body_write;
	q->batch = 1;
	q->on_abort = body_abort;
	return 0;
}

void h_upload(struct req *q)
{
	struct MHD_Response *r;
	struct upload *u = NULL;

	if (strcmp(q->method, "PATCH") == 0) {
		if (begin_chunk(q) == 0)
			q->on_done = chunk_done;
		return;
	}
	if (strcmp(q->method, "PUT") == 0) {
		const char *dg = req_query(q, "digest");
		if (!dg || digest_parse_cstr(dg, &q->want) < 0) {
			answer_errorf(q, REG_DIGEST_INVALID, 400, "missing or invalid digest");
			return;
		}
		if (begin_chunk(q) == 0)
			q->on_done = put_done;
		return;
	}
	if (strcmp(q->method, "GET") == 0) {
		if (registry_upload_acquire(q->srv->reg, q->name, q->arg, &u, &q->err) < 0) {
			answer_error(q, &q->err);
			return;
		}
		r = response_empty();
		session_headers(q, r, q->arg, registry_upload_size(u));
		registry_upload_release(q->srv->reg, u);
		answer(q, r, 204);
		return;
	}
	if (strcmp(q->method, "DELETE") == 0) {
		if (registry_upload_cancel(q->srv->reg, q->name, q->arg, &q->err) < 0) {
			answer_error(q, &q->err);
			return;
		}
		answer(q, response_empty(), 204);
		return;
	}
	answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
}
