/* Unit tests for notify/: configuration, envelope, signature, and real deliveries to a loopback HTTP
 * receiver (libmicrohttpd) that fails on command: order, retries with backoff, at least once. */
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "harness.h"
#include "notify/notify.h"

/* --- an in-memory event source --------------------------------------------------------------- */

#define MAXEV 64

struct memsrc {
	pthread_mutex_t lock;
	struct notify_event ev[MAXEV];
	char digest[MAXEV][80];
	size_t n;
	int64_t cursor;
	int cursor_sets;
};

static int mem_fetch(void *ctx, int64_t after, size_t max, struct notify_event **out, size_t *n)
{
	struct memsrc *s = ctx;
	struct notify_event *v = calloc(MAXEV, sizeof(*v));
	size_t k = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n && k < max; i++)
		if (s->ev[i].seq > after)
			v[k++] = s->ev[i];
	pthread_mutex_unlock(&s->lock);
	*out = v;
	*n = k;
	return 0;
}

static void mem_release(void *ctx, struct notify_event *v, size_t n)
{
	free(v);
}

static int mem_cursor_get(void *ctx, const char *ep, int64_t *seq)
{
	struct memsrc *s = ctx;

	pthread_mutex_lock(&s->lock);
	*seq = s->cursor;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int mem_cursor_set(void *ctx, const char *ep, int64_t seq)
{
	struct memsrc *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->cursor = seq;
	s->cursor_sets++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void mem_add(struct memsrc *s, const char *action, const char *repo)
{
	struct notify_event *e;

	pthread_mutex_lock(&s->lock);
	e = &s->ev[s->n];
	e->seq = (int64_t)s->n + 1;
	e->time_ms = 1780000000000LL + e->seq;
	e->action = action;
	e->repo = repo;
	snprintf(s->digest[s->n], sizeof(s->digest[0]), "sha256:%064lld", (long long)e->seq);
	e->digest = s->digest[s->n];
	e->tag = "latest";
	e->detail_json = "{\"media_type\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":123}";
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

static int64_t mem_cursor(struct memsrc *s)
{
	int64_t c;

	mem_cursor_get(s, NULL, &c);
	return c;
}

/* --- a receiver that answers statuses[i] to the i-th POST and records what came --------------- */

struct receiver {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	int statuses[16];
	int nstatuses;
	int calls;
	char *bodies[16];
	char sig[16][80];
	char seq[16][32];
};

struct upload {
	struct buf body;
};

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **ctx)
{
	struct receiver *r = cls;
	struct upload *u = *ctx;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *h;
	int status = 200, i;

	if (!u) {
		u = calloc(1, sizeof(*u));
		buf_init(&u->body, BUF_UNLIMITED);
		*ctx = u;
		return MHD_YES;
	}
	if (*size) {
		buf_add(&u->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&r->lock);
	i = r->calls++;
	if (i < 16) {
		r->bodies[i] = buf_detach(&u->body, NULL);
		h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Berth-Signature-256");
		snprintf(r->sig[i], sizeof(r->sig[i]), "%s", h ? h : "");
		h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Berth-Event-Seq");
		snprintf(r->seq[i], sizeof(r->seq[i]), "%s", h ? h : "");
	}
	if (i < r->nstatuses)
		status = r->statuses[i];
	pthread_mutex_unlock(&r->lock);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *ctx;

	if (u) {
		buf_release(&u->body);
		free(u);
	}
}

static void receiver_start(struct receiver *r)
{
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&r->lock, NULL);
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_req, r, MHD_OPTION_NOTIFY_COMPLETED,
				on_done, r, MHD_OPTION_END);
	CHECK(r->d != NULL);
	info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = info->port;
}

static void receiver_stop(struct receiver *r)
{
	MHD_stop_daemon(r->d);
	for (int i = 0; i < 16 && i < r->calls; i++)
		free(r->bodies[i]);
}

static int receiver_calls(struct receiver *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->calls;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Polls cond for up to 5 s. */
#define WAIT_FOR(cond)                                      \
	do {                                                \
		for (int w_ = 0; w_ < 500 && !(cond); w_++) \
			usleep(10000);                      \
		CHECK(cond);                                \
	} while (0)

static struct notify_endpoint endpoint(struct receiver *r, char *url, size_t n)
{
	struct notify_endpoint e;

	snprintf(url, n, "http://127.0.0.1:%d/hook", r->port);
	memset(&e, 0, sizeof(e));
	e.name = "hook";
	e.url = url;
	e.secret = "s3cret";
	e.timeout_ms = 2000;
	e.backoff_ms = 50;
	e.backoff_max_ms = 200;
	e.batch = 32;
	return e;
}

static struct notify_source source(struct memsrc *s)
{
	struct notify_source src = {s, mem_fetch, mem_release, mem_cursor_get, mem_cursor_set};

	pthread_mutex_init(&s->lock, NULL);
	return src;
}

/* --- tests ------------------------------------------------------------------------------------ */

TEST(config_load)
{
	struct config c;
	struct notify_config nc;
	char err[256] = "";

	config_init(&c);
	config_set(&c, "notifications.endpoints.ci.url", "http://127.0.0.1:9/hook");
	config_set(&c, "notifications.endpoints.ci.secret", "abc");
	config_set(&c, "notifications.endpoints.ci.actions", "push, delete");
	config_set(&c, "notifications.endpoints.ci.backoff", "2s");
	config_set(&c, "notifications.endpoints.audit.url", "https://audit.example/x");
	config_set(&c, "http.addr", "127.0.0.1:5000");
	CHECK_EQ(notify_config_load(&c, &nc, err, sizeof(err)), 0);
	CHECK_EQ(nc.n, 2);
	CHECK_STR(nc.endpoints[0].name, "ci");
	CHECK_STR(nc.endpoints[0].secret, "abc");
	CHECK_STR(nc.endpoints[0].actions[0], "push");
	CHECK_STR(nc.endpoints[0].actions[1], "delete");
	CHECK(nc.endpoints[0].actions[2] == NULL);
	CHECK_EQ(nc.endpoints[0].backoff_ms, 2000);
	CHECK_EQ(nc.endpoints[0].timeout_ms, 5000);
	CHECK_EQ(notify_wants(&nc.endpoints[0], "push"), 1);
	CHECK_EQ(notify_wants(&nc.endpoints[0], "tag"), 0);
	CHECK_EQ(notify_wants(&nc.endpoints[1], "tag"), 1);
	CHECK(nc.endpoints[1].secret == NULL);
	notify_config_release(&nc);

	config_set(&c, "notifications.endpoints.ci.colour", "blue");
	CHECK_EQ(notify_config_load(&c, &nc, err, sizeof(err)), -BERTH_EINVAL);
	CHECK_STR(err, "notifications.endpoints.ci.colour: unknown setting (url, secret, actions, timeout, "
		       "backoff, backoff_max, batch)");
	CHECK_EQ(nc.n, 0);
	config_release(&c);

	config_init(&c);
	config_set(&c, "notifications.endpoints.x.url", "ftp://host/x");
	CHECK_EQ(notify_config_load(&c, &nc, err, sizeof(err)), -BERTH_EINVAL);
	CHECK_STR(err, "notifications.endpoints.x.url: an http:// or https:// address is required");
	config_set(&c, "notifications.endpoints.x.url", "http://h/x");
	config_set(&c, "notifications.endpoints.x.timeout", "soon");
	CHECK_EQ(notify_config_load(&c, &nc, err, sizeof(err)), -BERTH_EINVAL);
	CHECK_STR(err, "notifications.endpoints.x.timeout: a duration such as 500ms, 5s or 1m");
	config_release(&c);
}

TEST(envelope_shape)
{
	struct memsrc s = {0};
	struct notify_event *v = NULL;
	size_t n = 0;
	char *body = NULL;
	json_t *j, *e;

	source(&s);
	mem_add(&s, "push", "team/app");
	mem_fetch(&s, 0, 10, &v, &n);
	CHECK_EQ(notify_envelope(v, n, "berth-1", &body), 0);
	j = json_loads(body, 0, NULL);
	CHECK(j != NULL);
	e = json_array_get(json_object_get(j, "events"), 0);
	CHECK_STR(json_string_value(json_object_get(e, "id")), "1");
	CHECK_EQ(json_integer_value(json_object_get(e, "seq")), 1);
	CHECK_STR(json_string_value(json_object_get(e, "action")), "push");
	CHECK_STR(json_string_value(json_object_get(e, "timestamp")), "2026-05-28T20:26:40.001Z");
	CHECK_STR(json_string_value(json_object_get(json_object_get(e, "target"), "repository")), "team/app");
	CHECK_STR(json_string_value(json_object_get(json_object_get(e, "target"), "tag")), "latest");
	CHECK_STR(json_string_value(json_object_get(json_object_get(e, "target"), "mediaType")),
		  "application/vnd.oci.image.manifest.v1+json");
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(e, "target"), "size")), 123);
	CHECK_STR(json_string_value(json_object_get(json_object_get(e, "source"), "instance")), "berth-1");
	json_decref(j);
	free(body);
	mem_release(&s, v, n);
}

TEST(signature_is_hmac_sha256)
{
	char sig[80];

	/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" */
	notify_sign("Jefe", "what do ya want for nothing?", 28, sig, sizeof(sig));
	CHECK_STR(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(delivers_in_order_and_moves_cursor)
{
	struct receiver r = {0};
	struct memsrc s = {0};
	struct notify_source src = source(&s);
	char url[64], sig[80];
	struct notify_endpoint ep;
	struct notify_config cfg = {0};
	struct notify *n = NULL;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	receiver_start(&r);
	ep = endpoint(&r, url, sizeof(url));
	cfg.endpoints = &ep;
	cfg.n = 1;
	mem_add(&s, "push", "a");
	mem_add(&s, "tag", "a");
	CHECK_EQ(notify_start(&cfg, &src, &n), 0);
	WAIT_FOR(mem_cursor(&s) == 2);
	CHECK_EQ(receiver_calls(&r), 1);
	CHECK(strstr(r.bodies[0], "\"seq\":1") < strstr(r.bodies[0], "\"seq\":2"));
	notify_sign("s3cret", r.bodies[0], strlen(r.bodies[0]), sig, sizeof(sig));
	CHECK_STR(r.sig[0], sig);
	CHECK_STR(r.seq[0], "2");
	mem_add(&s, "delete", "a");
	notify_kick(n);
	WAIT_FOR(mem_cursor(&s) == 3);
	CHECK_EQ(receiver_calls(&r), 2);
	CHECK(strstr(r.bodies[1], "\"action\":\"delete\"") != NULL);
	CHECK(strstr(r.bodies[1], "\"seq\":2") == NULL);
	notify_stop(n);
	receiver_stop(&r);
	curl_global_cleanup();
}

TEST(retries_until_accepted)
{
	struct receiver r = {.statuses = {500, 503, 404}, .nstatuses = 3};
	struct memsrc s = {0};
	struct notify_source src = source(&s);
	char url[64];
	struct notify_endpoint ep;
	struct notify_config cfg = {0};
	struct notify *n = NULL;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	receiver_start(&r);
	ep = endpoint(&r, url, sizeof(url));
	cfg.endpoints = &ep;
	cfg.n = 1;
	mem_add(&s, "push", "a");
	CHECK_EQ(notify_start(&cfg, &src, &n), 0);
	WAIT_FOR(mem_cursor(&s) == 1);
	CHECK_EQ(receiver_calls(&r), 4); /* three refusals, then accepted */
	CHECK_STR(r.bodies[0], r.bodies[3]);
	CHECK_EQ(s.cursor_sets, 1);
	notify_stop(n);
	receiver_stop(&r);
	curl_global_cleanup();
}

TEST(unreachable_endpoint_keeps_events)
{
	struct receiver r = {0};
	struct memsrc s = {0};
	struct notify_source src = source(&s);
	char url[64];
	struct notify_endpoint ep;
	struct notify_config cfg = {0};
	struct notify *n = NULL;
	int port;

	/* a port that was just free: connection refused */
	receiver_start(&r);
	port = r.port;
	receiver_stop(&r);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	memset(&ep, 0, sizeof(ep));
	ep.name = "down";
	ep.url = url;
	ep.timeout_ms = 500;
	ep.backoff_ms = 20;
	ep.backoff_max_ms = 40;
	ep.batch = 8;
	cfg.endpoints = &ep;
	cfg.n = 1;
	mem_add(&s, "push", "a");
	CHECK_EQ(notify_start(&cfg, &src, &n), 0);
	usleep(300000);
	notify_stop(n); /* stops promptly while backing off */
	CHECK_EQ(mem_cursor(&s), 0);
	CHECK_EQ(s.cursor_sets, 0);
	curl_global_cleanup();
}

TEST(action_filter_skips_without_posting)
{
	struct receiver r = {0};
	struct memsrc s = {0};
	struct notify_source src = source(&s);
	char url[64];
	char *acts[] = {"delete", NULL};
	struct notify_endpoint ep;
	struct notify_config cfg = {0};
	struct notify *n = NULL;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	receiver_start(&r);
	ep = endpoint(&r, url, sizeof(url));
	ep.actions = acts;
	cfg.endpoints = &ep;
	cfg.n = 1;
	mem_add(&s, "push", "a");
	mem_add(&s, "tag", "a");
	CHECK_EQ(notify_start(&cfg, &src, &n), 0);
	WAIT_FOR(mem_cursor(&s) == 2);
	CHECK_EQ(receiver_calls(&r), 0);
	mem_add(&s, "delete", "a");
	notify_kick(n);
	WAIT_FOR(mem_cursor(&s) == 3);
	CHECK_EQ(receiver_calls(&r), 1);
	notify_stop(n);
	receiver_stop(&r);
	curl_global_cleanup();
}

static const struct test tests[] = {
    T(config_load),
    T(envelope_shape),
    T(signature_is_hmac_sha256),
    T(delivers_in_order_and_moves_cursor),
    T(retries_until_accepted),
    T(unreachable_endpoint_keeps_events),
    T(action_filter_skips_without_posting),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
