/* notify: webhook delivery of registry events, at least once, in order, per endpoint.
 *
 * Events come from a source with a persistent sequence number (the metadata journal): each endpoint
 * keeps a cursor, the seq of the last event it acknowledged with a 2xx answer. A delivery thread per
 * endpoint reads events after its cursor, POSTs them as one JSON envelope, and moves the cursor only
 * after the answer. A crash between POST and cursor update sends the batch again after the restart:
 * at least once, never lost. A failing endpoint is retried with exponential backoff and holds back
 * only its own queue.
 *
 * Every POST carries X-Berth-Signature-256: sha256=<hex HMAC-SHA256(secret, body)> when the endpoint
 * has a secret, X-Berth-Delivery (a fresh UUID per attempt) and X-Berth-Event-Seq (the last seq).
 *
 *   struct notify *n; notify_start(&cfg, &src, &n);   // threads start
 *   notify_kick(n);                                    // after appending events
 *   notify_stop(n);                                    // joins the threads
 */
#ifndef BERTH_NOTIFY_NOTIFY_H
#define BERTH_NOTIFY_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* One event as the source hands it over; strings are owned by the source's batch. */
struct notify_event {
	int64_t seq;
	int64_t time_ms;
	const char *action; /* "push", "tag", "untag", "delete", ... */
	const char *repo;
	const char *digest; /* NULL when none */
	const char *tag; /* NULL when none */
	const char *detail_json; /* a JSON object's text, or NULL */
};

/* Where events and cursors live. fetch fills up to max events with seq > after, in seq order, into
 * a batch the source owns until release(ctx) is called; 0 or a negative BERTH_E*. */
struct notify_source {
	void *ctx;
	int (*fetch)(void *ctx, int64_t after, size_t max, struct notify_event **out, size_t *n);
	void (*release)(void *ctx, struct notify_event *v, size_t n);
	int (*cursor_get)(void *ctx, const char *endpoint, int64_t *seq); /* 0 with 0 when never set */
	int (*cursor_set)(void *ctx, const char *endpoint, int64_t seq);
};

struct notify_endpoint {
	char *name;
	char *url;
	char *secret; /* NULL: unsigned */
	char **actions; /* NULL-terminated; NULL = every action */
	int64_t timeout_ms; /* per POST, default 5000 */
	int64_t backoff_ms; /* first retry delay, default 1000; doubles up to backoff_max_ms */
	int64_t backoff_max_ms;
	size_t batch; /* events per POST, default 32 */
};

/* What happened to one POST, for the caller's log. */
struct notify_report {
	const char *endpoint;
	int64_t first_seq, last_seq;
	int status; /* HTTP status, or 0 when the request failed */
	const char *error; /* NULL on success */
	int attempt;
	int64_t retry_in_ms; /* 0 on success */
};

struct notify_config {
	struct notify_endpoint *endpoints;
	size_t n;
	const char *instance; /* source.instance of every event */
	void (*on_report)(void *arg, const struct notify_report *r);
	void *report_arg;
};

struct config;

/* Reads notifications.endpoints.<name>.{url,secret,actions,timeout,backoff,backoff_max,batch} from c
 * into out (zeroed first). 0, or -BERTH_EINVAL with one line in err naming the key. An endpoint needs
 * an http:// or https:// url. Free with notify_config_release(). */
int notify_config_load(const struct config *c, struct notify_config *out, char *err, size_t errn);
void notify_config_release(struct notify_config *cfg);

/* Builds the envelope {"events":[...]} for v[0..n) into a malloc()ed string (*out); 0 or -BERTH_ENOMEM.
 * Events whose detail_json does not parse are sent without detail. */
int notify_envelope(const struct notify_event *v, size_t n, const char *instance, char **out);

/* "sha256=<hex>" of HMAC-SHA256(secret, body) into out (>= 72 bytes). */
void notify_sign(const char *secret, const char *body, size_t len, char *out, size_t n);

/* 1 when endpoint e wants events of this action. */
int notify_wants(const struct notify_endpoint *e, const char *action);

struct notify;

/* Starts one delivery thread per endpoint. cfg and src must outlive the notify object. 0 or a
 * negative error; with no endpoints, *out is a valid object with no threads. */
int notify_start(const struct notify_config *cfg, const struct notify_source *src, struct notify **out);
/* Wakes the threads: new events may be there. Safe from any thread; NULL is a no-op. */
void notify_kick(struct notify *n);
/* Stops and joins the threads (an in-flight POST finishes or times out first) and frees n. */
void notify_stop(struct notify *n);

#endif
