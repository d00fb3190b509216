/* metrics: request counters for GET /metrics (Prometheus text format 0.0.4).
 * Every completed request adds to lock-free counters: requests by method and status, a latency
 * histogram by method, and response bytes. Reading them is a snapshot of relaxed loads. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static const char *const mx_methods[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "other"};
#define MX_METHODS (sizeof(mx_methods) / sizeof(mx_methods[0]))
/* Status codes the registry answers; anything else counts under its class ("2xx" ... "5xx"). */
static const int mx_codes[] = {200, 201, 202, 204, 206, 307, 400, 401, 403,
			       404, 405, 409, 413, 416, 429, 500, 503, 507};
#define MX_CODES (sizeof(mx_codes) / sizeof(mx_codes[0]))
#define MX_SLOTS (MX_CODES + 5) /* + one per class 1xx..5xx */
/* Latency bucket bounds in microseconds; the last bucket is +Inf. */
static const uint64_t mx_bounds_us[] = {500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
#define MX_BOUNDS (sizeof(mx_bounds_us) / sizeof(mx_bounds_us[0]))

static atomic_ullong mx_requests[MX_METHODS][MX_SLOTS];
static atomic_ullong mx_latency[MX_METHODS][MX_BOUNDS + 1];
static atomic_ullong mx_latency_sum_us[MX_METHODS];
static atomic_ullong mx_bytes_out;
static atomic_ullong mx_aborted;

static size_t mx_method(const char *m)
{
	for (size_t i = 0; i + 1 < MX_METHODS; i++)
		if (m && strcmp(m, mx_methods[i]) == 0)
			return i;
	return MX_METHODS - 1;
}

static size_t mx_slot(int status)
{
	for (size_t i = 0; i < MX_CODES; i++)
		if (mx_codes[i] == status)
			return i;
	if (status >= 100 && status < 600)
		return MX_CODES + (size_t)(status / 100 - 1);
	return MX_CODES + 4; /* nonsense counts as 5xx */
}

void metrics_request_done(const char *method, int status, uint64_t bytes, uint64_t us, int aborted)
{
	size_t m = mx_method(method), b = 0;

	if (aborted) {
		atomic_fetch_add_explicit(&mx_aborted, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&mx_requests[m][mx_slot(status)], 1, memory_order_relaxed);
	while (b < MX_BOUNDS && us > mx_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&mx_latency[m][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mx_latency_sum_us[m], us, memory_order_relaxed);
	atomic_fetch_add_explicit(&mx_bytes_out, bytes, memory_order_relaxed);
}

static unsigned long long mx_get(atomic_ullong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

int metrics_render(struct buf *b, int in_flight)
{
	int rc = 0;

	rc |= buf_adds(b, "# HELP berth_http_requests_total Completed HTTP requests by method and status.\n"
			  "# TYPE berth_http_requests_total counter\n");
	for (size_t m = 0; m < MX_METHODS; m++)
		for (size_t s = 0; s < MX_SLOTS; s++) {
			unsigned long long v = mx_get(&mx_requests[m][s]);
			char code[8];

			if (!v)
				continue;
			if (s < MX_CODES)
				snprintf(code, sizeof(code), "%d", mx_codes[s]);
			else
				snprintf(code, sizeof(code), "%dxx", (int)(s - MX_CODES + 1));
			rc |= buf_addf(b, "berth_http_requests_total{method=\"%s\",code=\"%s\"} %llu\n", mx_methods[m],
				       code, v);
		}
	rc |= buf_adds(b, "# HELP berth_http_request_duration_seconds Time from request line to response.\n"
			  "# TYPE berth_http_request_duration_seconds histogram\n");
	for (size_t m = 0; m < MX_METHODS; m++) {
		unsigned long long cum = 0;

		for (size_t i = 0; i <= MX_BOUNDS; i++)
			cum += mx_get(&mx_latency[m][i]);
		if (!cum)
			continue;
		cum = 0;
		for (size_t i = 0; i <= MX_BOUNDS; i++) {
			cum += mx_get(&mx_latency[m][i]);
			if (i < MX_BOUNDS)
				rc |= buf_addf(
				    b, "berth_http_request_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %llu\n",
				    mx_methods[m], (double)mx_bounds_us[i] / 1e6, cum);
			else
				rc |= buf_addf(
				    b, "berth_http_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n",
				    mx_methods[m], cum);
		}
		rc |= buf_addf(b, "berth_http_request_duration_seconds_sum{method=\"%s\"} %.6f\n", mx_methods[m],
			       (double)mx_get(&mx_latency_sum_us[m]) / 1e6);
		rc |=
		    buf_addf(b, "berth_http_request_duration_seconds_count{method=\"%s\"} %llu\n", mx_methods[m], cum);
	}
	rc |= buf_addf(b,
		       "# HELP berth_http_response_bytes_total Response body bytes sent.\n"
		       "# TYPE berth_http_response_bytes_total counter\n"
		       "berth_http_response_bytes_total %llu\n",
		       mx_get(&mx_bytes_out));
	rc |= buf_addf(b,
		       "# HELP berth_http_requests_aborted_total Requests that broke off before completing.\n"
		       "# TYPE berth_http_requests_aborted_total counter\n"
		       "berth_http_requests_aborted_total %llu\n",
		       mx_get(&mx_aborted));
	rc |= buf_addf(b,
		       "# HELP berth_http_in_flight Requests begun and not yet completed.\n"
		       "# TYPE berth_http_in_flight gauge\n"
		       "berth_http_in_flight %d\n",
		       in_flight);
	return rc ? -1 : 0;
}

/* GET /metrics: the counters above in Prometheus text format. */
void h_metrics(struct req *q)
{
	struct MHD_Response *r = NULL;
	struct buf b;
	size_t len = 0;
	char *text;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	buf_init(&b, BUF_UNLIMITED);
	metrics_render(&b, http__in_flight());
	h_grades_gauges(q->srv->reg, &b);
	text = buf_detach(&b, &len);
	answer_json(q, 200, text, len, "text/plain; version=0.0.4; charset=utf-8", &r);
	answer(q, r, 200);
}
