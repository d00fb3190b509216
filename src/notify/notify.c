/* notify: webhook delivery threads (see notify.h). */
#include "notify/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/util.h"

#define NOTIFY_PREFIX "notifications.endpoints."
#define NOTIFY_POLL_MS 1000 /* how often an idle thread looks for events appended by other processes */

/* Splits "push, delete" into a NULL-terminated array of trimmed words (NULL for an empty list). */
static char **split_actions(const char *s)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = s;

	while (*p) {
		const char *start, *end;

		while (*p == ' ' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && end[-1] == ' ')
			end--;
		if (end > start) {
			v = xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = xstrndup(start, (size_t)(end - start));
			v[n] = NULL;
		}
	}
	return v;
}

/* The endpoint called name (name is the text between the prefix and the next dot), added if new. */
static struct notify_endpoint *endpoint_for(struct notify_config *cfg, const char *name, size_t len)
{
	struct notify_endpoint *e;

	for (size_t i = 0; i < cfg->n; i++)
		if (strlen(cfg->endpoints[i].name) == len && memcmp(cfg->endpoints[i].name, name, len) == 0)
			return &cfg->endpoints[i];
	cfg->endpoints = xrealloc(cfg->endpoints, (cfg->n + 1) * sizeof(*cfg->endpoints));
	e = &cfg->endpoints[cfg->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrndup(name, len);
	e->timeout_ms = 5000;
	e->backoff_ms = 1000;
	e->backoff_max_ms = 300000;
	e->batch = 32;
	return e;
}

int notify_config_load(const struct config *c, struct notify_config *out, char *err, size_t errn)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const char *key = c->kv[i].key, *val = c->kv[i].value, *name, *dot;
		struct notify_endpoint *e;
		int64_t ms = 0;

		if (strncmp(key, NOTIFY_PREFIX, strlen(NOTIFY_PREFIX)) != 0)
			continue;
		name = key + strlen(NOTIFY_PREFIX);
		dot = strchr(name, '.');
		if (!dot || dot == name) {
			snprintf(err, errn, "%s: expected %s<name>.<setting>", key, NOTIFY_PREFIX);
			rc = -BERTH_EINVAL;
			break;
		}
		e = endpoint_for(out, name, (size_t)(dot - name));
		dot++;
		if (strcmp(dot, "url") == 0) {
			free(e->url);
			e->url = xstrdup(val);
		} else if (strcmp(dot, "secret") == 0) {
			free(e->secret);
			e->secret = val[0] ? xstrdup(val) : NULL;
		} else if (strcmp(dot, "actions") == 0) {
			for (char **a = e->actions; a && *a; a++)
				free(*a);
			free(e->actions);
			e->actions = split_actions(val);
		} else if (strcmp(dot, "batch") == 0) {
			char *end = NULL;
			long b = strtol(val, &end, 10);

			if (*val == '\0' || *end || b < 1 || b > 1000) {
				snprintf(err, errn, "%s: a number of events from 1 to 1000", key);
				rc = -BERTH_EINVAL;
			} else
				e->batch = (size_t)b;
		} else if (strcmp(dot, "timeout") == 0 || strcmp(dot, "backoff") == 0 ||
			   strcmp(dot, "backoff_max") == 0) {
			if (config_duration_parse(val, &ms) < 0 || ms <= 0) {
				snprintf(err, errn, "%s: a duration such as 500ms, 5s or 1m", key);
				rc = -BERTH_EINVAL;
			} else if (strcmp(dot, "timeout") == 0)
				e->timeout_ms = ms;
			else if (strcmp(dot, "backoff") == 0)
				e->backoff_ms = ms;
			else
				e->backoff_max_ms = ms;
		} else {
			snprintf(err, errn,
				 "%s: unknown setting (url, secret, actions, timeout, backoff, backoff_max, batch)",
				 key);
			rc = -BERTH_EINVAL;
		}
	}
	for (size_t i = 0; i < out->n && rc == 0; i++) {
		const char *u = out->endpoints[i].url;

		if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)) {
			snprintf(err, errn, "%s%s.url: an http:// or https:// address is required", NOTIFY_PREFIX,
				 out->endpoints[i].name);
			rc = -BERTH_EINVAL;
		}
	}
	if (rc < 0)
		notify_config_release(out);
	return rc;
}

void notify_config_release(struct notify_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		struct notify_endpoint *e = &cfg->endpoints[i];

		free(e->name);
		free(e->url);
		free(e->secret);
		for (char **a = e->actions; a && *a; a++)
			free(*a);
		free(e->actions);
	}
	free(cfg->endpoints);
	cfg->endpoints = NULL;
	cfg->n = 0;
}

int notify_wants(const struct notify_endpoint *e, const char *action)
{
	if (!e->actions)
		return 1;
	for (char **a = e->actions; *a; a++)
		if (strcmp(*a, action) == 0)
			return 1;
	return 0;
}

/* One event as JSON: id (stable across redeliveries, so receivers can drop duplicates), seq,
 * timestamp, action, target {repository, digest, tag, mediaType, size}, detail, source. */
static json_t *event_json(const struct notify_event *ev, const char *instance)
{
	json_t *o = json_object(), *target = json_object(), *detail = NULL, *v;
	char id[32], ts[40];

	snprintf(id, sizeof(id), "%lld", (long long)ev->seq);
	time_format_iso(ev->time_ms, ts, sizeof(ts));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "seq", json_integer(ev->seq));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "action", json_string(ev->action));
	json_object_set_new(target, "repository", json_string(ev->repo));
	if (ev->digest)
		json_object_set_new(target, "digest", json_string(ev->digest));
	if (ev->tag)
		json_object_set_new(target, "tag", json_string(ev->tag));
	if (ev->detail_json)
		detail = json_loads(ev->detail_json, 0, NULL);
	if (detail && !json_is_object(detail)) {
		json_decref(detail);
		detail = NULL;
	}
	if (detail) {
		v = json_object_get(detail, "media_type");
		if (json_is_string(v))
			json_object_set(target, "mediaType", v);
		v = json_object_get(detail, "size");
		if (json_is_integer(v))
			json_object_set(target, "size", v);
	}
	json_object_set_new(o, "target", target);
	if (detail)
		json_object_set_new(o, "detail", detail);
	if (instance)
		json_object_set_new(o, "source", json_pack("{s:s}", "instance", instance));
	return o;
}

int notify_envelope(const struct notify_event *v, size_t n, const char *instance, char **out)
{
	json_t *env = json_object(), *arr = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, event_json(&v[i], instance));
	json_object_set_new(env, "events", arr);
	*out = json_dumps(env, JSON_COMPACT);
	if (!*out)
		rc = -BERTH_ENOMEM;
	json_decref(env);
	return rc;
}

void notify_sign(const char *secret, const char *body, size_t len, char *out, size_t n)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &maclen);
	buf_adds(&b, "sha256=");
	for (unsigned int i = 0; i < maclen; i++)
		buf_addf(&b, "%02x", mac[i]);
	str_copy(out, n, b.ptr);
	buf_release(&b);
}

/* --- delivery threads ------------------------------------------------------------------------ */

struct notify_worker {
	struct notify *owner;
	const struct notify_endpoint *ep;
	pthread_t thread;
	int started;
};

struct notify {
	const struct notify_config *cfg;
	const struct notify_source *src;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t kicks; /* bumped by notify_kick() */
	int stop;
	struct notify_worker *w;
	size_t nw;
};

static size_t discard_body(void *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* POSTs body to the endpoint; returns the HTTP status, or 0 with errbuf filled when no answer came. */
static long post_once(const struct notify_endpoint *ep, const char *body, int64_t last_seq, char *errbuf)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char line[160], uuid[37], sig[80];
	long status = 0;
	CURLcode cc;

	errbuf[0] = '\0';
	if (!h) {
		str_copy(errbuf, CURL_ERROR_SIZE, "out of memory");
		return 0;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/vnd.docker.distribution.events.v1+json");
	if (uuid_new(uuid) == 0) {
		snprintf(line, sizeof(line), "X-Berth-Delivery: %s", uuid);
		hdr = curl_slist_append(hdr, line);
	}
	snprintf(line, sizeof(line), "X-Berth-Event-Seq: %lld", (long long)last_seq);
	hdr = curl_slist_append(hdr, line);
	if (ep->secret) {
		notify_sign(ep->secret, body, strlen(body), sig, sizeof(sig));
		snprintf(line, sizeof(line), "X-Berth-Signature-256: %s", sig);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, ep->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ep->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth-notify");
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else if (!errbuf[0])
		str_copy(errbuf, CURL_ERROR_SIZE, curl_easy_strerror(cc));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return status;
}

/* Sleeps up to ms or until stop (and, when wake_on_kick, until a kick newer than *seen). Returns
 * 1 when stopping. */
static int worker_wait(struct notify *n, int64_t ms, int wake_on_kick, uint64_t *seen)
{
	struct timespec until;
	int stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->lock);
	while (!n->stop && !(wake_on_kick && n->kicks != *seen))
		if (pthread_cond_timedwait(&n->cond, &n->lock, &until) == ETIMEDOUT)
			break;
	*seen = n->kicks;
	stop = n->stop;
	pthread_mutex_unlock(&n->lock);
	return stop;
}

static void report(struct notify *n, const struct notify_report *r)
{
	if (n->cfg->on_report)
		n->cfg->on_report(n->cfg->report_arg, r);
}

/* One endpoint's loop: fetch after the cursor, POST the wanted events, advance on 2xx. */
static void *worker_main(void *arg)
{
	struct notify_worker *w = arg;
	struct notify *n = w->owner;
	const struct notify_source *src = n->src;
	const struct notify_endpoint *ep = w->ep;
	uint64_t seen = 0;
	int attempt = 0;

	for (;;) {
		struct notify_event *v = NULL, *want = NULL;
		size_t nv = 0, nwant = 0;
		int64_t cursor = 0, last;
		char *body = NULL;
		char errbuf[CURL_ERROR_SIZE];
		long status;
		struct notify_report r;

		pthread_mutex_lock(&n->lock);
		seen = n->kicks;
		pthread_mutex_unlock(&n->lock);
		if (src->cursor_get(src->ctx, ep->name, &cursor) < 0 ||
		    src->fetch(src->ctx, cursor, ep->batch, &v, &nv) < 0 || nv == 0) {
			if (v)
				src->release(src->ctx, v, nv);
			if (worker_wait(n, NOTIFY_POLL_MS, 1, &seen))
				break;
			continue;
		}
		last = v[nv - 1].seq;
		want = xcalloc(nv, sizeof(*want));
		for (size_t i = 0; i < nv; i++)
			if (notify_wants(ep, v[i].action))
				want[nwant++] = v[i];
		if (nwant == 0) {
			src->cursor_set(src->ctx, ep->name, last);
			goto next;
		}
		if (notify_envelope(want, nwant, n->cfg->instance, &body) < 0)
			goto next;
		status = post_once(ep, body, last, errbuf);
		memset(&r, 0, sizeof(r));
		r.endpoint = ep->name;
		r.first_seq = want[0].seq;
		r.last_seq = last;
		r.status = (int)status;
		r.attempt = ++attempt;
		if (status >= 200 && status < 300) {
			src->cursor_set(src->ctx, ep->name, last);
			attempt = 0;
			report(n, &r);
		} else {
			int64_t delay = ep->backoff_ms;

			for (int i = 1; i < r.attempt && delay < ep->backoff_max_ms; i++)
				delay *= 2;
			if (delay > ep->backoff_max_ms)
				delay = ep->backoff_max_ms;
			r.error = status ? "endpoint answered with a non-2xx status" : errbuf;
			r.retry_in_ms = delay;
			report(n, &r);
			free(body);
			free(want);
			src->release(src->ctx, v, nv);
			if (worker_wait(n, delay, 0, &seen))
				break;
			continue;
		}
	next:
		free(body);
		free(want);
		src->release(src->ctx, v, nv);
		pthread_mutex_lock(&n->lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		pthread_mutex_unlock(&n->lock);
	}
	return NULL;
}

int notify_start(const struct notify_config *cfg, const struct notify_source *src, struct notify **out)
{
	struct notify *n = xcalloc(1, sizeof(*n));
	int rc = 0;

	*out = NULL;
	n->cfg = cfg;
	n->src = src;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->w = xcalloc(cfg->n ? cfg->n : 1, sizeof(*n->w));
	n->nw = cfg->n;
	for (size_t i = 0; i < cfg->n; i++) {
		n->w[i].owner = n;
		n->w[i].ep = &cfg->endpoints[i];
		if (pthread_create(&n->w[i].thread, NULL, worker_main, &n->w[i]) != 0) {
			rc = -BERTH_ENOMEM;
			break;
		}
		n->w[i].started = 1;
	}
	if (rc < 0) {
		notify_stop(n);
		return rc;
	}
	*out = n;
	return 0;
}

void notify_kick(struct notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->kicks++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

void notify_stop(struct notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = 1;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	for (size_t i = 0; i < n->nw; i++)
		if (n->w[i].started)
			pthread_join(n->w[i].thread, NULL);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
	free(n->w);
	free(n);
}
