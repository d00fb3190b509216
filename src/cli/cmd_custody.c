/* berth custody: the custody log of the data directory's metadata.
 *
 *   berth custody log REF [--data DIR] [--config FILE] [--json]
 *       REF is repo:tag or repo@digest. Prints the image's history: every journal row about the
 *       manifest, and the tag moves that took its tags elsewhere, oldest first.
 *   berth custody verify [--data DIR] [--config FILE] [--expect-head HASH]
 *       recomputes the hash chain; prints "ok: N entries, head SEQ HASH" (exit 0), or names the first
 *       bad entry (exit 1). --expect-head checks that a head recorded earlier is still in the chain.
 * Exit status: 0, 1 on failure or a broken chain, 2 on a usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "custody/custody.h"
#include "meta/meta.h"
#include "registry/registry.h"

static const char usage_text[] = "usage: berth custody log REF [--data DIR] [--config FILE] [--json]\n"
				 "       berth custody verify [--data DIR] [--config FILE] [--expect-head HASH]\n";

/* Opens the metadata store as serve would: meta.uri, else <data>/berth.db (which must exist). */
static int cc_open(const char *config_path, const char *data, struct meta **m)
{
	struct config cfg;
	struct buf b;
	const char *uri, *configured;
	int rc = 1;

	config_init(&cfg);
	buf_init(&b, 8192);
	if (cli_config_load(&cfg, config_path, data))
		goto out;
	configured = config_get(&cfg, "meta.uri");
	if (configured && *configured) {
		uri = configured;
	} else {
		buf_addf(&b, "%s/berth.db", config_get(&cfg, "storage.filesystem.rootdirectory"));
		if (access(b.ptr, F_OK) != 0) {
			cli_fail("no metadata store at %s", b.ptr);
			goto out;
		}
		buf_reset(&b);
		buf_addf(&b, "sqlite:%s/berth.db", config_get(&cfg, "storage.filesystem.rootdirectory"));
		uri = b.ptr ? b.ptr : "";
	}
	rc = meta_open(uri, m);
	if (rc < 0) {
		cli_fail("cannot open metadata store %s: %s", uri, berth_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	buf_release(&b);
	config_release(&cfg);
	return rc;
}

/* "2026-11-26T18:44:07.111Z" for a time in ms. */
static void cc_time(int64_t ms, char *out, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int cc_log(struct meta *m, const char *ref, int json)
{
	struct meta_event *v = NULL;
	struct meta_names tags = {0};
	struct digest d;
	struct buf b;
	char repo[512], ts[80], ds[DIGEST_STR_MAX];
	const char *at = strchr(ref, '@'), *colon = NULL;
	size_t n = 0;
	int rc;

	buf_init(&b, BUF_UNLIMITED);
	if (at) {
		snprintf(repo, sizeof(repo), "%.*s", (int)(at - ref), ref);
		if (digest_parse_cstr(at + 1, &d) < 0)
			return cli_fail("custody log: invalid digest in %s", ref);
	} else {
		colon = strrchr(ref, ':');
		if (!colon || strchr(colon, '/'))
			return cli_fail("custody log: REF must be repo:tag or repo@digest");
		snprintf(repo, sizeof(repo), "%.*s", (int)(colon - ref), ref);
	}
	if (!registry_name_valid(repo))
		return cli_fail("custody log: invalid repository name '%s'", repo);
	if (!at) {
		rc = custody_resolve_tag(m, repo, colon + 1, &d);
		if (rc == -BERTH_ENOENT)
			return cli_fail("custody log: %s: no such tag, now or in the log", ref);
		if (rc < 0)
			return cli_fail("custody log: %s", berth_strerror(rc));
	}
	rc = custody_history(m, repo, &d, &v, &n, &tags);
	if (rc < 0)
		return cli_fail("custody log: %s", berth_strerror(rc));
	if (!json) {
		printf("image %s@%s\n", repo, digest_str(&d, ds));
		printf("tags ");
		for (size_t i = 0; i < tags.n; i++)
			printf("%s%s", i ? "," : "", tags.v[i]);
		printf("%s\n", tags.n ? "" : "(none)");
	}
	for (size_t i = 0; i < n; i++) {
		if (json) {
			buf_reset(&b);
			if (custody_event_json(&v[i], &b) == 0)
				printf("%s\n", b.ptr);
			continue;
		}
		cc_time(v[i].time_ms, ts, sizeof(ts));
		printf("%-8lld %s %-10s %-12s %s\n", (long long)v[i].seq, ts, v[i].action, v[i].tag ? v[i].tag : "-",
		       v[i].detail ? v[i].detail : "");
	}
	meta_events_free(v, n);
	meta_names_release(&tags);
	buf_release(&b);
	return 0;
}

static int cc_verify(struct meta *m, const char *expect)
{
	struct custody_verify_result r;
	int rc = custody_verify(m, expect, &r);

	if (rc < 0)
		return cli_fail("custody verify: %s", berth_strerror(rc));
	if (!r.ok) {
		printf("broken: %s\n", r.why);
		if (r.bad_seq)
			printf("first bad entry: %lld\n", (long long)r.bad_seq);
		return 1;
	}
	printf("ok: %lld entries, head %lld %s\n", (long long)r.count, (long long)r.head_seq,
	       r.head[0] ? r.head : "(empty)");
	if (expect)
		printf("recorded head %s is in the chain\n", expect);
	return 0;
}

int cmd_custody(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},       {"expect-head", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const char *data = NULL, *config_path = getenv("BERTH_CONFIG"), *expect = NULL, *sub;
	struct meta *m = NULL;
	int c, json = 0, rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:c:je:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'e':
			expect = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (strcmp(sub, "log") == 0) {
		if (optind + 1 != argc || expect) {
			fputs(usage_text, stderr);
			return 2;
		}
	} else if (strcmp(sub, "verify") == 0) {
		if (optind != argc || json) {
			fputs(usage_text, stderr);
			return 2;
		}
	} else {
		cli_fail("custody: unknown subcommand '%s'", sub);
		return 2;
	}
	if (cc_open(config_path, data, &m))
		return 1;
	rc = strcmp(sub, "log") == 0 ? cc_log(m, argv[optind], json) : cc_verify(m, expect);
	meta_free(m);
	return rc;
}
