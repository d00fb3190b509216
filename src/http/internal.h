/* http internals shared by the server and the handler files (not a public header).
 * One struct req per HTTP request: the router fills in the route, a handler either answers at once
 * (GET/HEAD/DELETE) or installs on_body/on_done to stream a request body, and the completion
 * callback logs the request and undoes anything a broken-off request left behind. */
#ifndef BERTH_HTTP_INTERNAL_H
#define BERTH_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdint.h>

#include "base/buf.h"
#include "registry/registry.h"

struct server;

struct req {
	struct server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char id[17];
	uint64_t start_ns;
	char *path; /* the decoded URL path, owned */
	char *route_buf; /* a copy of path the router cuts into name and arg, owned */
	int routed;
	char *name; /* repository name (points into route_buf), or NULL */
	char *arg; /* digest, tag or upload id after the resource word, or NULL */
	int is_head;
	int answered; /* a response has been queued */
	int status; /* for the log line */
	uint64_t bytes; /* response body bytes, for the log line */

	/* streaming body */
	int (*on_body)(struct req *q, const char *p, size_t n);
	void (*on_done)(struct req *q);
	void (*on_abort)(struct req *q); /* the request broke off before on_done */
	int failed; /* an error happened mid-body: the rest of the body is discarded */
	int batch; /* on_body wants the body in large pieces: server.c gathers it in stage */
	char *stage; /* up to BODY_STAGE bytes not yet given to on_body (batch only), owned */
	size_t stage_len;
	struct reg_err err;
	struct buf body;
	struct upload *upload;
	int monolithic; /* the upload session ends with this request */
	struct digest want;
	int chunk_ranged; /* a Content-Range was announced for this chunk */
	uint64_t chunk_start, chunk_len;
};

struct server {
	struct MHD_Daemon *daemon;
	struct registry *reg;
};

/* answer.c: writing responses. Every answer_* queues the response on q and records status/bytes. */
void answer_error(struct req *q, const struct reg_err *e);
void answer_errorf(struct req *q, enum reg_code code, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Queues r (adding the API version header) and destroys it. */
void answer(struct req *q, struct MHD_Response *r, int status);
/* A JSON body with Content-Type ctype (application/json when NULL); takes ownership of body (malloc). */
void answer_json(struct req *q, int status, char *body, size_t len, const char *ctype, struct MHD_Response **extra);
/* An empty body with the given status; the response is returned so headers can be added first when
 * hdrs is not NULL: call answer() yourself then. */
struct MHD_Response *response_empty(void);
/* A body-less response whose Content-Length is len (for HEAD). */
struct MHD_Response *response_head(uint64_t len);
void header_add(struct MHD_Response *r, const char *k, const char *v);
const char *req_header(struct req *q, const char *k);
const char *req_query(struct req *q, const char *k);

/* Paging for tags list and catalog: ?n= (>= 0) and ?last=. *limit is -1 when n is absent.
 * Answers 400 itself and returns -1 when n is malformed. */
int paging_parse(struct req *q, long *limit, const char **last);
/* Adds `Link: <path?last=L&n=N>; rel="next"` to r. */
void paging_link(struct MHD_Response *r, const char *path, const char *last, long limit);

/* Answers 200 with {"<key0>": <val0>, "<key>": [names...]} (key0 may be NULL) and a Link header for
 * the next page when more names follow (path is the endpoint's path). */
void answer_names(struct req *q, const char *key0, const char *val0, const char *key, const struct meta_names *names,
		  int more, const char *path, long limit);

/* metrics.c: counters for GET /metrics. request_done is called once per request when its answer is
 * queued (aborted 0; bytes is the body length announced), and again with aborted 1 when a request
 * breaks off before completing. */
void metrics_request_done(const char *method, int status, uint64_t bytes, uint64_t us, int aborted);
/* Appends the Prometheus text exposition; 0 or -1. */
int metrics_render(struct buf *b, int in_flight);
/* server.c: requests begun and not yet completed. */
int http__in_flight(void);

/* Handlers, one file per resource. */
void h_metrics(struct req *q);
void h_api_base(struct req *q);
void h_api_catalog(struct req *q);
void h_tags_list(struct req *q);
void h_blob(struct req *q);
void h_upload_start(struct req *q);
void h_upload(struct req *q);
void h_manifest(struct req *q);
void h_referrers(struct req *q);
/* /api/v1/errata and /api/v1/errata/<id>; rest is the path after "/api/v1/errata". */
void h_errata(struct req *q, const char *rest);
/* /extensions/v2/<name>/signatures/<digest> (q->name, q->arg set by the router). */
void h_signatures(struct req *q);
/* /api/v1/custody */
void h_custody(struct req *q);
/* /api/v1/repositories/<name>/manifests/<ref>/scan; rest is the path after "/api/v1/repositories". */
void h_scan(struct req *q, const char *rest);
/* /api/v1/grades (h_grades.c) */
void h_grades(struct req *q);
/* Appends the berth_images_by_grade gauges (current grade of every repository tag); 0 or an error. */
int h_grades_gauges(struct registry *reg, struct buf *b);
/* h_scan.c: the rules and day of a grading request (?unknown_severity=, ?at=); answers 400 itself and
 * returns -1 when either is malformed. */
struct grade_rules;
int h_grade_params(struct req *q, struct grade_rules *r, int32_t *day);

#endif
