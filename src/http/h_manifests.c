/* h_manifests: GET, HEAD, PUT and DELETE of /v2/<name>/manifests/<reference>.
 * Manifests are served as the exact bytes pushed, with the media type they were pushed with. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/internal.h"

static void manifest_get(struct req *q)
{
	struct meta_manifest mf = {0};
	struct MHD_Response *r;
	char ds[DIGEST_STR_MAX], etag[DIGEST_STR_MAX + 2];

	if (registry_manifest_get(q->srv->reg, q->name, q->arg, !q->is_head, &mf, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	if (q->is_head) {
		r = response_head(mf.size);
	} else {
		r = MHD_create_response_from_buffer((size_t)mf.size, mf.body, MHD_RESPMEM_MUST_FREE);
		mf.body = NULL;
		q->bytes = mf.size;
	}
	digest_str(&mf.digest, ds);
	snprintf(etag, sizeof(etag), "\"%s\"", ds);
	header_add(r, "Content-Type", mf.media_type);
	header_add(r, "Docker-Content-Digest", ds);
	header_add(r, "ETag", etag);
	meta_manifest_release(&mf);
	answer(q, r, 200);
}

static int manifest_body(struct req *q, const char *p, size_t n)
{
	int rc = buf_add(&q->body, p, n);

	if (rc == -BERTH_ETOOBIG) {
		q->err = (struct reg_err){.code = REG_SIZE_INVALID, .status = 413};
		snprintf(q->err.msg, sizeof(q->err.msg), "manifest is larger than %" PRIu64 " bytes",
			 registry_manifest_limit(q->srv->reg));
		return -1;
	}
	if (rc < 0) {
		q->err = (struct reg_err){.code = REG_INTERNAL, .status = 500};
		snprintf(q->err.msg, sizeof(q->err.msg), "out of memory");
		return -1;
	}
	return 0;
}

static void manifest_put_done(struct req *q)
{
	struct digest d, subject;
	struct MHD_Response *r;
	char ds[DIGEST_STR_MAX], sub[DIGEST_STR_MAX], loc[700];
	int has_subject = 0;

	if (registry_manifest_put(q->srv->reg, q->name, q->arg, req_header(q, "Content-Type"), q->body.ptr, q->body.len,
				  &d, &subject, &has_subject, &q->err) < 0) {
		answer_error(q, &q->err);
		return;
	}
	digest_str(&d, ds);
	snprintf(loc, sizeof(loc), "/v2/%s/manifests/%s", q->name, ds);
	r = response_empty();
	header_add(r, "Location", loc);
	header_add(r, "Docker-Content-Digest", ds);
	if (has_subject)
		header_add(r, "OCI-Subject", digest_str(&subject, sub));
	answer(q, r, 201);
}

void h_manifest(struct req *q)
{
	uint64_t limit = registry_manifest_limit(q->srv->reg);
	const char *cl;

	if (strcmp(q->method, "GET") == 0 || q->is_head) {
		manifest_get(q);
		return;
	}
	if (strcmp(q->method, "PUT") == 0) {
		/* An oversized body is read and dropped so the client sees the 413, unless it is absurd. */
		cl = req_header(q, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > limit + (64u << 20)) {
			answer_errorf(q, REG_SIZE_INVALID, 413, "manifest is larger than %" PRIu64 " bytes", limit);
			return;
		}
		buf_init(&q->body, (size_t)limit);
		q->on_body = manifest_body;
		q->on_done = manifest_put_done;
		return;
	}
	if (strcmp(q->method, "DELETE") == 0) {
		if (registry_manifest_delete(q->srv->reg, q->name, q->arg, &q->err) < 0) {
			answer_error(q, &q->err);
			return;
		}
		answer(q, response_empty(), 202);
		return;
	}
	answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
}
