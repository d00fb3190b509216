/* berth serve: loads the configuration (file, then BERTH_* environment, then flags), opens the
 * registry under the data directory and serves until SIGTERM or SIGINT, then drains. A maintenance
 * thread expires abandoned upload sessions every storage.uploads.sweep_interval and, when
 * storage.gc.interval is set, collects garbage on that schedule. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "errata/errata.h"
#include "registry/scanner.h"
#include "http/server.h"
#include "meta/meta.h"
#include "notify/notify.h"
#include "registry/policy.h"
#include "registry/grading.h"
#include "registry/registry.h"

/* The maintenance thread: periodic jobs on the registry, stopped by maint_stop(). */
struct maint {
	struct registry *reg;
	int64_t sweep_ms; /* 0: no periodic upload sweep */
	int64_t gc_ms; /* 0: no scheduled garbage collection */
	struct registry_gc_opts gc;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	atomic_int stopping; /* ends a collection early */
	pthread_t thread;
	int started;
};

/* One upload sweep, logged when it removed something or failed. */
static void maint_sweep(struct maint *m)
{
	struct registry_sweep_stats st;
	int rc = registry_upload_sweep(m->reg, &st);

	if (rc < 0)
		log_msg(LOG_WARN, NULL, "msg=\"upload sweep failed\" error=\"%s\"", berth_strerror(rc));
	if (st.sessions || st.orphans)
		log_msg(LOG_INFO, NULL, "msg=\"upload sweep\" sessions=%llu orphans=%llu bytes=%llu",
			(unsigned long long)st.sessions, (unsigned long long)st.orphans, (unsigned long long)st.bytes);
}

/* One garbage collection, logged with what it removed. */
static void maint_gc(struct maint *m)
{
	struct registry_gc_stats st;
	int rc = registry_gc(m->reg, &m->gc, &st);

	log_msg(rc < 0 ? LOG_WARN : LOG_INFO, NULL,
		"msg=\"garbage collection\" manifests=%llu manifest_bytes=%llu blobs=%llu blob_bytes=%llu orphans=%llu "
		"links=%llu%s%s%s",
		(unsigned long long)st.manifests, (unsigned long long)st.manifest_bytes, (unsigned long long)st.blobs,
		(unsigned long long)st.blob_bytes, (unsigned long long)st.orphans, (unsigned long long)st.links,
		rc < 0 ? " error=\"" : "", rc < 0 ? berth_strerror(rc) : "", rc < 0 ? "\"" : "");
}

/* Adds ms to a CLOCK_MONOTONIC time. */
static struct timespec ts_after(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* 1 when a is later than b. */
static int ts_after_than(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec : a->tv_nsec > b->tv_nsec;
}

/* Far enough away to mean never. */
static struct timespec ts_never(void)
{
	return ts_after((int64_t)365 * 86400 * 1000);
}

static void *maint_main(void *arg)
{
	struct maint *m = arg;
	struct timespec next_sweep = m->sweep_ms > 0 ? ts_after(m->sweep_ms) : ts_never();
	struct timespec next_gc = m->gc_ms > 0 ? ts_after(m->gc_ms) : ts_never(), now;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		const struct timespec *next = ts_after_than(&next_sweep, &next_gc) ? &next_gc : &next_sweep;
		pthread_cond_timedwait(&m->cond, &m->lock, next);
		if (m->stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_unlock(&m->lock);
		if (!ts_after_than(&next_sweep, &now)) {
			maint_sweep(m);
			next_sweep = ts_after(m->sweep_ms);
		}
		if (!ts_after_than(&next_gc, &now)) {
			maint_gc(m);
			next_gc = ts_after(m->gc_ms);
		}
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Starts the thread when there is a periodic job; 0 or -1. */
static int maint_start(struct maint *m)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (m->sweep_ms <= 0 && m->gc_ms <= 0)
		return 0;
	if (pthread_create(&m->thread, NULL, maint_main, m) != 0)
		return -1;
	m->started = 1;
	return 0;
}

/* Wakes the thread, waits for the job it may be running, and frees the synchronisation. */
static void maint_stop(struct maint *m)
{
	if (m->started) {
		pthread_mutex_lock(&m->lock);
		m->stop = 1;
		atomic_store(&m->stopping, 1);
		pthread_cond_signal(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
		m->started = 0;
	}
}

/* Reads duration key into *ms; 0, or -1 after saying which key is malformed. */
static int config_duration(const struct config *cfg, const char *key, int64_t *ms)
{
	const char *v = config_get(cfg, key);

	if (config_duration_parse(v ? v : "", ms) < 0) {
		cli_fail("config: %s '%s' is not a duration such as 30s, 15m or 24h", key, v ? v : "");
		return -1;
	}
	return 0;
}

/* Reads http.tls.certificate and http.tls.key (PEM files) when set; both or neither. 0, or -1 after
 * printing one line. */
static int load_tls(const struct config *cfg, struct buf *cert, struct buf *key)
{
	const char *cp = config_get(cfg, "http.tls.certificate"), *kp = config_get(cfg, "http.tls.key");
	int rc;

	if ((!cp || !*cp) && (!kp || !*kp))
		return 0;
	if (!cp || !*cp || !kp || !*kp) {
		cli_fail("config: http.tls.certificate and http.tls.key go together");
		return -1;
	}
	rc = fs_read_file(cp, 1 << 20, cert);
	if (rc < 0) {
		cli_fail("config: http.tls.certificate %s: %s", cp, berth_strerror(rc));
		return -1;
	}
	rc = fs_read_file(kp, 1 << 20, key);
	if (rc < 0) {
		cli_fail("config: http.tls.key %s: %s", kp, berth_strerror(rc));
		return -1;
	}
	return 0;
}

/* The registry's manifest hook: a push wakes the scan workers. */
static void serve_scan_wake(void *ctx)
{
	scanner_wake(ctx);
}

/* Logs one background errata sync: a line per feed. */
static void serve_errata_report(const struct errata_sync *s, int rc, void *arg)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct errata_feed_result *r = &s->v[i];
		if (r->failed)
			log_msg(LOG_WARN, NULL, "msg=\"errata sync failed\" feed=\"%s\" error=\"%s\"", r->feed,
				r->error);
		else
			log_msg(LOG_INFO, NULL,
				"msg=\"errata sync\" feed=\"%s\" status=%s added=%zu updated=%zu unchanged=%zu "
				"generation=%lld",
				r->feed, r->not_modified ? "not-modified" : "imported", r->added, r->updated,
				r->unchanged, (long long)s->generation);
	}
	if (rc < 0)
		log_msg(LOG_ERROR, NULL, "msg=\"errata sync failed\" error=\"%s\"", berth_strerror(rc));
}

/* --- webhooks: the journal as notify's event source ------------------------------------------ */

static int src_fetch(void *ctx, int64_t after, size_t max, struct notify_event **out, size_t *n)
{
	struct meta_event_filter f = {.after = after, .limit = (long)max};
	struct meta_event *v = NULL;
	size_t nv = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = meta_events_list(ctx, &f, &v, &nv, NULL);
	if (rc < 0 || nv == 0) {
		meta_events_free(v, nv);
		return rc;
	}
	/* the batch keeps the rows alive: their array sits right after the events */
	*out = xcalloc(1, nv * sizeof(**out) + sizeof(struct meta_event *) + sizeof(size_t));
	for (size_t i = 0; i < nv; i++)
		(*out)[i] = (struct notify_event){v[i].seq,    v[i].time_ms, v[i].action, v[i].repo,
						  v[i].digest, v[i].tag,     v[i].detail};
	memcpy((char *)*out + nv * sizeof(**out), &v, sizeof(v));
	*n = nv;
	return 0;
}

static void src_release(void *ctx, struct notify_event *v, size_t n)
{
	struct meta_event *rows = NULL;

	(void)ctx;
	if (!v)
		return;
	memcpy(&rows, (char *)v + n * sizeof(*v), sizeof(rows));
	meta_events_free(rows, n);
	free(v);
}

static int src_cursor_get(void *ctx, const char *endpoint, int64_t *seq)
{
	return meta_notify_cursor_get(ctx, endpoint, seq);
}

static int src_cursor_set(void *ctx, const char *endpoint, int64_t seq)
{
	return meta_notify_cursor_set(ctx, endpoint, seq);
}

/* One webhook POST, logged. */
static void serve_notify_report(void *arg, const struct notify_report *r)
{
	(void)arg;
	if (r->error || r->status < 200 || r->status >= 300)
		log_msg(LOG_WARN, NULL,
			"msg=\"webhook delivery failed\" endpoint=%s first_seq=%lld last_seq=%lld status=%d attempt=%d "
			"retry_in_ms=%lld error=\"%s\"",
			r->endpoint, (long long)r->first_seq, (long long)r->last_seq, r->status, r->attempt,
			(long long)r->retry_in_ms, r->error ? r->error : "");
	else
		log_msg(LOG_INFO, NULL, "msg=\"webhook delivered\" endpoint=%s first_seq=%lld last_seq=%lld status=%d",
			r->endpoint, (long long)r->first_seq, (long long)r->last_seq, r->status);
}

static void serve_kick(void *arg)
{
	notify_kick(arg);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"addr", required_argument, NULL, 'a'},
	    {"data", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = getenv("BERTH_CONFIG"), *addr = NULL, *data = NULL;
	struct config cfg;
	struct registry *reg = NULL;
	struct server *srv = NULL;
	struct registry_opts ro = {0};
	struct server_opts so = {0};
	struct maint maint = {0};
	int maint_init = 0;
	struct buf tls_cert, tls_key;
	struct errata_syncer *syncer = NULL;
	struct registry_policy *policy = NULL;
	struct grading *grading = NULL;
	struct notify_config ncfg = {0};
	struct notify_source nsrc = {0};
	struct notify *notifier = NULL;
	struct scanner *scanner = NULL;
	struct scanner_opts sco = {0};
	char **feeds = NULL;
	size_t nfeeds = 0;
	int64_t interval = 0;
	enum log_level lvl;
	sigset_t set;
	char why[512];
	int c, sig = 0, ok = 1, rc = 1;

	config_init(&cfg);
	buf_init(&tls_cert, BUF_UNLIMITED);
	buf_init(&tls_key, BUF_UNLIMITED);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:a:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'h':
			printf("usage: berth serve [--config FILE] [--addr HOST:PORT] [--data DIR]\n");
			rc = 0;
			goto out;
		default:
			rc = 2;
			goto out;
		}
	}
	if (optind < argc) {
		cli_fail("serve: unexpected argument '%s'", argv[optind]);
		rc = 2;
		goto out;
	}
	if (cli_config_load(&cfg, config_path, data))
		goto out;
	if (addr)
		config_set(&cfg, "http.addr", addr);
	if (log_parse_level(config_get(&cfg, "log.level"), &lvl) < 0) {
		cli_fail("config: log.level '%s' is not error, warn, info or debug", config_get(&cfg, "log.level"));
		goto out;
	}
	log_set_level(lvl);
	if (fault_armed())
		log_msg(LOG_WARN, NULL, "msg=\"fault injection armed (BERTH_FAULT=%s): for tests only\"",
			getenv("BERTH_FAULT") ? getenv("BERTH_FAULT") : "");

	ro.data_dir = config_get(&cfg, "storage.filesystem.rootdirectory");
	ro.meta_uri = config_get(&cfg, "meta.uri");
	ro.manifest_max = (uint64_t)config_get_int(&cfg, "limits.manifest_bytes", 4 << 20, &ok);
	ro.blob_max = (uint64_t)config_get_int(&cfg, "limits.blob_bytes", 0, &ok);
	ro.reserve_bytes = config_get_int(&cfg, "storage.reserve_bytes", -1, &ok);
	ro.delete_enabled = config_get_bool(&cfg, "storage.delete.enabled", 1, &ok);
	so.threads = (int)config_get_int(&cfg, "http.threads", 0, &ok);
	sco.workers = (int)config_get_int(&cfg, "scan.workers", 2, &ok);
	sco.max_layer_bytes = (uint64_t)config_get_int(&cfg, "scan.max_layer_bytes", 0, &ok);
	sco.max_image_bytes = (uint64_t)config_get_int(&cfg, "scan.max_image_bytes", 0, &ok);
	so.addr = config_get(&cfg, "http.addr");
	if (config_duration(&cfg, "storage.uploads.ttl", &ro.upload_ttl_ms) < 0 ||
	    config_duration(&cfg, "storage.uploads.sweep_interval", &maint.sweep_ms) < 0 ||
	    config_duration(&cfg, "storage.gc.interval", &maint.gc_ms) < 0 ||
	    config_duration(&cfg, "storage.gc.grace", &maint.gc.grace_ms) < 0)
		goto out;
	maint.gc.delete_untagged = config_get_bool(&cfg, "storage.gc.delete_untagged", 0, &ok);
	ro.log_pulls = config_get_bool(&cfg, "custody.log_pulls", 0, &ok);
	ro.no_sig_extension = !config_get_bool(&cfg, "signatures.extension_api", 1, &ok);
	maint.gc.stop = &maint.stopping;
	if (!ok) {
		cli_fail("config: a number or boolean setting is malformed");
		goto out;
	}
	if (load_tls(&cfg, &tls_cert, &tls_key) < 0)
		goto out;
	if (registry_policy_load(&cfg, &policy, why, sizeof(why)) < 0) {
		cli_fail("config: %s", why);
		goto out;
	}
	if (grading_load(&cfg, &grading, why, sizeof(why)) < 0) {
		cli_fail("config: %s", why);
		goto out;
	}
	if (notify_config_load(&cfg, &ncfg, why, sizeof(why)) < 0) {
		cli_fail("config: %s", why);
		goto out;
	}
	if (tls_cert.len) {
		so.tls_cert_pem = tls_cert.ptr;
		so.tls_key_pem = tls_key.ptr;
	}
	feeds = errata_feeds_split(config_get(&cfg, "errata.feeds"), &nfeeds);
	if (!feeds || cli_duration_parse(config_get(&cfg, "errata.sync_interval"), &interval) < 0) {
		cli_fail("config: errata.sync_interval '%s' is not a duration (90s, 30m, 6h, 1d)",
			 config_get(&cfg, "errata.sync_interval"));
		goto out;
	}
	{
		int64_t secs = 0;
		if (cli_duration_parse(config_get(&cfg, "grade.check_interval"), &secs) < 0) {
			cli_fail("config: grade.check_interval '%s' is not a duration (1s, 30m, 6h, 1d)",
				 config_get(&cfg, "grade.check_interval"));
			goto out;
		}
		sco.grade_check_ms = secs * 1000;
	}

	/* Block the stop signals before any thread starts, so only sigwait() below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (registry_open(&ro, &reg, why, sizeof(why)) < 0) {
		cli_fail("%s", why);
		goto out;
	}
	registry_set_policy(reg, policy);
	policy = NULL;
	registry_set_grading(reg, grading);
	grading = NULL;
	/* webhooks read the journal after each endpoint's cursor; the registry wakes them after writes */
	nsrc = (struct notify_source){registry_meta(reg), src_fetch, src_release, src_cursor_get, src_cursor_set};
	ncfg.instance = config_get(&cfg, "http.addr");
	ncfg.on_report = serve_notify_report;
	if (notify_start(&ncfg, &nsrc, &notifier) < 0) {
		cli_fail("cannot start webhook delivery");
		goto out;
	}
	registry_set_event_hook(reg, serve_kick, notifier);
	maint.reg = reg;
	if (ro.upload_ttl_ms == 0)
		maint.sweep_ms = 0; /* nothing ever expires */
	if (maint_start(&maint) < 0) {
		cli_fail("cannot start the maintenance thread");
		goto out;
	}
	maint_init = 1;
	if (sco.workers > 0) {
		if (scanner_start(reg, &sco, &scanner) < 0) {
			cli_fail("cannot start the scan workers");
			goto out;
		}
		registry_set_manifest_hook(reg, serve_scan_wake, scanner);
	}
	so.reg = reg;
	if (server_start(&so, &srv, why, sizeof(why)) < 0) {
		cli_fail("%s", why);
		goto out;
	}
	log_msg(LOG_INFO, NULL, "msg=\"berth %s serving\" addr=%s port=%d data=%s", BERTH_VERSION, so.addr,
		server_port(srv), ro.data_dir);
	if (nfeeds && errata_syncer_start(registry_meta(reg), (const char *const *)feeds, nfeeds, interval,
					  serve_errata_report, NULL, &syncer) < 0) {
		cli_fail("cannot start the errata sync thread");
		goto out;
	}
	sigwait(&set, &sig);
	log_msg(LOG_INFO, NULL, "msg=\"stopping\" signal=%d", sig);
	errata_syncer_stop(syncer);
	syncer = NULL;
	server_stop(srv, 30);
	srv = NULL;
	log_msg(LOG_INFO, NULL, "msg=\"stopped\"");
	rc = 0;
out:
	errata_syncer_stop(syncer);
	errata_feeds_free(feeds);
	server_stop(srv, 0);
	scanner_stop(scanner);
	if (maint_init) {
		maint_stop(&maint);
		pthread_cond_destroy(&maint.cond);
		pthread_mutex_destroy(&maint.lock);
	}
	/* after everything that can kick it: requests and scheduled collections */
	notify_stop(notifier);
	registry_free(reg);
	registry_policy_free(policy);
	grading_free(grading);
	notify_config_release(&ncfg);
	config_release(&cfg);
	buf_release(&tls_cert);
	buf_release(&tls_key);
	return rc;
}
