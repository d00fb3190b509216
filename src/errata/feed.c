/* feed: errata feeds (errata.feeds): local paths and http(s) URLs, synced once or on a schedule.
 *
 * A URL is fetched with libcurl, sending If-None-Match / If-Modified-Since from the validators the
 * last successful sync stored; 304 means nothing to do. A 200 body (or a file's content) whose
 * sha256 equals the stored content hash is not parsed again either. New content is imported like
 * `berth errata import` (one transaction); only when that succeeds are the new validators and hash
 * stored, so a failed sync is retried in full next time. A directory feed is imported every time
 * (the import itself is idempotent). Redirects are followed (at most 5) within http and https. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/err.h"
#include "errata/internal.h"

#define FEED_CONNECT_TIMEOUT_S 30L
#define FEED_TIMEOUT_S 600L

static pthread_once_t feed_curl_once = PTHREAD_ONCE_INIT;
static int feed_curl_ok;

/* curl_global_init is not thread-safe: run it once, whichever thread gets here first. */
static void feed_curl_init(void)
{
	feed_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void errata_sync_release(struct errata_sync *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].feed);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

char **errata_feeds_split(const char *setting, size_t *n)
{
	char **v = NULL;
	size_t k = 0;
	const char *p = setting ? setting : "";

	*n = 0;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	while (*p) {
		size_t len;
		char **g = NULL;
		p += strspn(p, " \t\r\n,");
		len = strcspn(p, " \t\r\n,");
		if (!len)
			break;
		g = realloc(v, (k + 2) * sizeof(*v));
		if (!g)
			goto fail;
		v = g;
		v[k] = strndup(p, len);
		if (!v[k])
			goto fail;
		v[++k] = NULL;
		p += len;
	}
	*n = k;
	return v;
fail:
	v[k] = NULL;
	errata_feeds_free(v);
	return NULL;
}

void errata_feeds_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* One transfer's state: the body (capped) and the validators of the final response. */
struct feed_xfer {
	struct buf body;
	char etag[512];
	char last_modified[128];
	const atomic_int *stop;
};

static size_t feed_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct feed_xfer *x = arg;

	if (buf_add(&x->body, p, size * nmemb) < 0)
		return 0; /* over ERRATA_INPUT_MAX: curl aborts with CURLE_WRITE_ERROR */
	return size * nmemb;
}

/* Copies a header's value (trimmed) into out when line is "name: value". */
static void feed_header_value(const char *line, size_t n, const char *name, char *out, size_t outn)
{
	size_t nl = strlen(name);

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	n -= nl + 1;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	if (n < outn) {
		memcpy(out, line, n);
		out[n] = '\0';
	}
}

static size_t feed_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct feed_xfer *x = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect): only the final one's validators count */
		x->etag[0] = '\0';
		x->last_modified[0] = '\0';
	}
	feed_header_value(p, n, "ETag", x->etag, sizeof(x->etag));
	feed_header_value(p, n, "Last-Modified", x->last_modified, sizeof(x->last_modified));
	return n;
}

static int feed_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct feed_xfer *x = arg;

	return x->stop && atomic_load(x->stop) ? 1 : 0;
}

/* GETs url with the stored validators. 0 with *status (200 with x->body, or 304), or a negative
 * error with why set. */
static int feed_fetch(const char *url, const struct meta_feed_state *st, struct feed_xfer *x, long *status, char *why,
		      size_t whyn)
{
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	char line[700], err[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int rc = 0;

	pthread_once(&feed_curl_once, feed_curl_init);
	if (!feed_curl_ok) {
		snprintf(why, whyn, "libcurl failed to initialise");
		return -BERTH_EIO;
	}
	h = curl_easy_init();
	if (!h) {
		snprintf(why, whyn, "out of memory");
		return -BERTH_ENOMEM;
	}
	if (st->etag && strlen(st->etag) < 512) {
		snprintf(line, sizeof(line), "If-None-Match: %s", st->etag);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (st->last_modified && strlen(st->last_modified) < 128) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", st->last_modified);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, FEED_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, FEED_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth-errata/0.1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, feed_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, feed_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, feed_on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR)
			snprintf(why, whyn, "body larger than %zu MiB", ERRATA_INPUT_MAX >> 20);
		else
			snprintf(why, whyn, "%s", err[0] ? err : curl_easy_strerror(cc));
		rc = cc == CURLE_WRITE_ERROR ? -BERTH_ETOOBIG : -BERTH_EIO;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (*status != 200 && *status != 304) {
		snprintf(why, whyn, "HTTP status %ld", *status);
		rc = -BERTH_EIO;
	}
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc;
}

/* 1 when feed is an http(s) URL. */
static int feed_is_url(const char *feed)
{
	return strncasecmp(feed, "http://", 7) == 0 || strncasecmp(feed, "https://", 8) == 0;
}

/* Reads a local file feed into x->body. */
static int feed_read(const char *path, struct feed_xfer *x, char *why, size_t whyn)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f) {
		snprintf(why, whyn, "%s", strerror(errno));
		return berth_from_errno(errno);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&x->body, chunk, n) < 0) {
			snprintf(why, whyn, "larger than %zu MiB", ERRATA_INPUT_MAX >> 20);
			rc = -BERTH_ETOOBIG;
			break;
		}
	if (rc == 0 && ferror(f)) {
		snprintf(why, whyn, "read error");
		rc = -BERTH_EIO;
	}
	fclose(f);
	return rc;
}

/* Copies the counts of one import into a feed result. */
static void feed_counts(struct errata_feed_result *r, const struct errata_import *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		r->added += rep->src[i].added;
		r->updated += rep->src[i].updated;
		r->unchanged += rep->src[i].unchanged;
		r->conflicts += rep->src[i].conflicts;
		r->skipped += rep->src[i].skipped;
	}
}

/* Replaces *dst with a copy of s ("" and NULL store NULL). */
static int feed_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s && *s ? strdup(s) : NULL;
	return s && *s && !*dst ? -BERTH_ENOMEM : 0;
}

/* Syncs one feed into r. Returns a negative error only when the store failed. */
static int feed_one(struct meta *m, const char *feed, struct errata_feed_result *r, const atomic_int *stop)
{
	struct meta_feed_state st = {0};
	struct feed_xfer x = {0};
	struct errata_import rep;
	struct digest d;
	struct stat sb;
	const char *path = feed;
	long status = 200;
	int rc, url = feed_is_url(feed);

	errata_import_init(&rep);
	buf_init(&x.body, ERRATA_INPUT_MAX);
	x.stop = stop;
	rc = meta_feed_get(m, feed, &st);
	if (rc < 0 && rc != -BERTH_ENOENT)
		goto out;
	rc = 0;
	st.checked = (int64_t)time(NULL);
	if (!url && strncmp(feed, "file://", 7) == 0)
		path = feed + 7;
	if (!url && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		rc = errata_import_paths(m, &path, 1, ERRATA_FORMAT_AUTO, &rep);
		if (rc < 0)
			goto out;
		feed_counts(r, &rep);
		if (rep.n && rep.src[0].failed) {
			r->failed = 1;
			snprintf(r->error, sizeof(r->error), "%s", rep.src[0].errors ? rep.src[0].errors : "failed");
		} else {
			r->fetched = 1;
		}
		goto save;
	}
	rc = url ? feed_fetch(feed, &st, &x, &status, r->error, sizeof(r->error))
		 : feed_read(path, &x, r->error, sizeof(r->error));
	if (rc < 0) {
		r->failed = 1;
		rc = 0;
		goto save;
	}
	if (status == 304) {
		r->not_modified = 1;
		goto save;
	}
	digest_of(DIGEST_SHA256, x.body.ptr, x.body.len, &d);
	if (st.content_hash && strcmp(st.content_hash, d.hex) == 0) {
		r->not_modified = 1;
	} else {
		rc = errata_import_buffer(m, feed, x.body.ptr, x.body.len, ERRATA_FORMAT_AUTO, &rep);
		if (rc == -BERTH_EINVAL) {
			r->failed = 1;
			snprintf(r->error, sizeof(r->error), "%s",
				 rep.n && rep.src[0].errors ? rep.src[0].errors : "malformed content");
			rc = 0;
			goto save;
		}
		if (rc < 0)
			goto out;
		feed_counts(r, &rep);
		r->fetched = 1;
		st.changed = st.checked;
		rc = feed_set(&st.content_hash, d.hex);
	}
	/* Validators change only with content that imported (or a 200 equal to what is stored). */
	if (rc == 0 && url)
		rc = feed_set(&st.etag, x.etag);
	if (rc == 0 && url)
		rc = feed_set(&st.last_modified, x.last_modified);
	if (rc < 0)
		goto out;
save:
	rc = meta_feed_put(m, feed, &st);
out:
	meta_feed_state_release(&st);
	errata_import_release(&rep);
	buf_release(&x.body);
	return rc;
}

/* errata_feeds_sync with a stop flag the syncer thread can raise to abort a transfer. */
static int feed_sync(struct meta *m, const char *const *feeds, size_t n, struct errata_sync *out,
		     const atomic_int *stop)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!m || (n && !feeds))
		return -BERTH_EINVAL;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return -BERTH_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		out->v[i].feed = strdup(feeds[i]);
		if (!out->v[i].feed) {
			rc = -BERTH_ENOMEM;
			break;
		}
		out->n = i + 1;
		rc = feed_one(m, feeds[i], &out->v[i], stop);
	}
	if (rc == 0)
		rc = meta_errata_generation(m, &out->generation);
	return rc;
}

int errata_feeds_sync(struct meta *m, const char *const *feeds, size_t n, struct errata_sync *out)
{
	return feed_sync(m, feeds, n, out, NULL);
}

/* --- the background syncer --------------------------------------------------------------------- */

struct errata_syncer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop;
	struct meta *m;
	char **feeds;
	size_t n;
	int64_t interval_s;
	void (*report)(const struct errata_sync *s, int rc, void *arg);
	void *arg;
};

static void *feed_syncer_main(void *arg)
{
	struct errata_syncer *s = arg;
	struct errata_sync res;
	struct timespec until;

	while (!atomic_load(&s->stop)) {
		int rc = feed_sync(s->m, (const char *const *)s->feeds, s->n, &res, &s->stop);
		if (s->report && !atomic_load(&s->stop))
			s->report(&res, rc, s->arg);
		errata_sync_release(&res);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)s->interval_s;
		pthread_mutex_lock(&s->mu);
		while (!atomic_load(&s->stop) && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

int errata_syncer_start(struct meta *m, const char *const *feeds, size_t n, int64_t interval_s,
			void (*report)(const struct errata_sync *s, int rc, void *arg), void *arg,
			struct errata_syncer **out)
{
	struct errata_syncer *s = NULL;
	pthread_condattr_t ca;
	int rc = 0;

	*out = NULL;
	if (!m || (n && !feeds) || interval_s <= 0)
		return -BERTH_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -BERTH_ENOMEM;
	s->feeds = calloc(n + 1, sizeof(*s->feeds));
	if (!s->feeds) {
		free(s);
		return -BERTH_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		s->feeds[i] = strdup(feeds[i]);
		if (!s->feeds[i]) {
			errata_feeds_free(s->feeds);
			free(s);
			return -BERTH_ENOMEM;
		}
	}
	s->n = n;
	s->m = m;
	s->interval_s = interval_s;
	s->report = report;
	s->arg = arg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_once(&feed_curl_once, feed_curl_init);
	if (pthread_create(&s->th, NULL, feed_syncer_main, s) != 0) {
		rc = -BERTH_ENOMEM;
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		errata_feeds_free(s->feeds);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void errata_syncer_stop(struct errata_syncer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	errata_feeds_free(s->feeds);
	free(s);
}
