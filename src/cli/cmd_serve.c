/* berth serve: loads the configuration (file, then BERTH_* environment, then flags), opens the
 * registry under the data directory and serves until SIGTERM or SIGINT, then drains. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "errata/errata.h"
#include "http/server.h"
#include "registry/registry.h"

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

/* Logs one background errata sync: a line per feed. */
static void serve_errata_report(const struct errata_sync *s, int rc, void *arg)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct errata_feed_result *r = &s->v[i];
		if (r->failed)
			log_msg(LOG_WARN, NULL, "msg=\"errata sync failed\" feed=\"%s\" error=\"%s\"", r->feed, r->error);
		else
			log_msg(LOG_INFO, NULL,
				"msg=\"errata sync\" feed=\"%s\" status=%s added=%zu updated=%zu unchanged=%zu generation=%lld",
				r->feed, r->not_modified ? "not-modified" : "imported", r->added, r->updated, r->unchanged,
				(long long)s->generation);
	}
	if (rc < 0)
		log_msg(LOG_ERROR, NULL, "msg=\"errata sync failed\" error=\"%s\"", berth_strerror(rc));
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
	struct buf tls_cert, tls_key;
	struct errata_syncer *syncer = NULL;
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
	if (config_path && config_load_file(&cfg, config_path, why, sizeof(why)) < 0) {
		cli_fail("config: %s", why);
		goto out;
	}
	config_apply_env(&cfg);
	if (addr)
		config_set(&cfg, "http.addr", addr);
	if (data)
		config_set(&cfg, "storage.filesystem.rootdirectory", data);
	if (log_parse_level(config_get(&cfg, "log.level"), &lvl) < 0) {
		cli_fail("config: log.level '%s' is not error, warn, info or debug", config_get(&cfg, "log.level"));
		goto out;
	}
	log_set_level(lvl);

	ro.data_dir = config_get(&cfg, "storage.filesystem.rootdirectory");
	ro.meta_uri = config_get(&cfg, "meta.uri");
	ro.manifest_max = (uint64_t)config_get_int(&cfg, "limits.manifest_bytes", 4 << 20, &ok);
	ro.blob_max = (uint64_t)config_get_int(&cfg, "limits.blob_bytes", 0, &ok);
	ro.reserve_bytes = config_get_int(&cfg, "storage.reserve_bytes", -1, &ok);
	ro.delete_enabled = config_get_bool(&cfg, "storage.delete.enabled", 1, &ok);
	so.threads = (int)config_get_int(&cfg, "http.threads", 0, &ok);
	so.addr = config_get(&cfg, "http.addr");
	if (!ok) {
		cli_fail("config: a number or boolean setting is malformed");
		goto out;
	}
	if (load_tls(&cfg, &tls_cert, &tls_key) < 0)
		goto out;
	if (tls_cert.len) {
		so.tls_cert_pem = tls_cert.ptr;
		so.tls_key_pem = tls_key.ptr;
	}
	feeds = errata_feeds_split(config_get(&cfg, "errata.feeds"), &nfeeds);
	if (!feeds || cli_duration_parse(config_get(&cfg, "errata.sync_interval"), &interval) < 0) {
		cli_fail("config: errata.sync_interval '%s' is not a duration (90, 30m, 6h, 1d)",
			 config_get(&cfg, "errata.sync_interval"));
		goto out;
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
	registry_free(reg);
	config_release(&cfg);
	buf_release(&tls_cert);
	buf_release(&tls_key);
	return rc;
}
