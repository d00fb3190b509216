/* berth errata: import, list, show and sync security advisories in the data directory's metadata
 * store (the one `berth serve` uses; both may run at once).
 *
 *   berth errata import [--format F] PATH...     files or directories of DSA/DLA lists, OSV, secdb
 *   berth errata list [--release R] [--package P] [--severity S] [--type T] [--cve C] [-n N] [--json]
 *   berth errata show ID [--json]
 *   berth errata sync [FEED...]                  errata.feeds from the configuration when none given
 *
 * Every subcommand takes --config FILE and --data DIR like serve. Exit status: 0, 1 on failure
 * (including any file that did not import), 2 on usage errors. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "errata/errata.h"
#include "meta/meta.h"

int cli_duration_parse(const char *s, int64_t *secs)
{
	int64_t ms = 0;

	if (config_duration_parse(s, &ms) < 0 || ms < 1000)
		return -BERTH_EINVAL;
	*secs = ms / 1000;
	return 0;
}

/* Options every subcommand shares, and the store they open. */
struct ecli {
	const char *config_path;
	const char *data;
	int json;
	struct config cfg;
	struct meta *meta;
};

/* Loads the configuration and opens the metadata store: meta.uri, else <data>/berth.db. */
static int ecli_open(struct ecli *e)
{
	const char *uri = NULL, *data = NULL;
	struct buf b;
	int rc;

	if (cli_config_load(&e->cfg, e->config_path, e->data))
		return 1;
	data = config_get(&e->cfg, "storage.filesystem.rootdirectory");
	uri = config_get(&e->cfg, "meta.uri");
	buf_init(&b, 8192);
	if (!uri || !*uri) {
		if (fs_mkdirs(data) < 0) {
			buf_release(&b);
			return cli_fail("cannot create data directory %s", data);
		}
		buf_addf(&b, "sqlite:%s/berth.db", data);
		uri = b.ptr;
	}
	rc = meta_open(uri, &e->meta);
	if (rc < 0)
		cli_fail("cannot open metadata store %s: %s", uri, berth_strerror(rc));
	buf_release(&b);
	return rc < 0 ? 1 : 0;
}

static void ecli_close(struct ecli *e)
{
	meta_free(e->meta);
	config_release(&e->cfg);
}

/* Prints s with control characters replaced by spaces, cut to at most w characters (0: no limit). */
static void ecli_print_clean(const char *s, size_t w)
{
	size_t n = 0;

	for (; s && *s && (!w || n < w); s++, n++)
		putchar((unsigned char)*s < 0x20 ? ' ' : *s);
	if (s && *s && w)
		fputs("...", stdout);
}

/* "2024-01-02" for a time (0: "-"). */
static void ecli_date(int64_t t, char out[16])
{
	char iso[32];

	if (!t) {
		snprintf(out, 16, "-");
		return;
	}
	time_format_iso(t * 1000, iso, sizeof(iso));
	snprintf(out, 16, "%.10s", iso);
}

/* Prints a json_t (from errata_json) and frees it. */
static int ecli_print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (!s)
		return cli_fail("out of memory");
	puts(s);
	free(s);
	return 0;
}

/* The option table shared by the subcommands; each accepts the subset it documents. */
static const struct option ecli_opts[] = {
    {"config", required_argument, NULL, 'c'},   {"data", required_argument, NULL, 'd'},
    {"json", no_argument, NULL, 'j'},           {"format", required_argument, NULL, 'f'},
    {"release", required_argument, NULL, 'r'},  {"package", required_argument, NULL, 'p'},
    {"severity", required_argument, NULL, 's'}, {"type", required_argument, NULL, 't'},
    {"cve", required_argument, NULL, 'C'},      {"last", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
};

static const char ecli_usage[] =
    "usage: berth errata import [--format auto|debian|osv|secdb] PATH...\n"
    "       berth errata list [--release R] [--package P] [--severity S] [--type T] [--cve C] [-n N] [--last ID]\n"
    "                         [--json]\n"
    "       berth errata show ID [--json]\n"
    "       berth errata sync [FEED...]\n"
    "every subcommand also takes --config FILE and --data DIR\n";

/* berth errata import: one line per source, then the total. */
static int ecli_import(struct ecli *e, enum errata_format fmt, char **paths, int npaths)
{
	struct errata_import rep;
	size_t added = 0, updated = 0, unchanged = 0, failed = 0;
	uint64_t t0 = time_mono_ns();
	int rc;

	if (npaths == 0) {
		fputs(ecli_usage, stderr);
		return 2;
	}
	errata_import_init(&rep);
	rc = errata_import_paths(e->meta, (const char *const *)paths, (size_t)npaths, fmt, &rep);
	if (rc < 0) {
		errata_import_release(&rep);
		return cli_fail("import failed, nothing stored: %s", berth_strerror(rc));
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct errata_import_source *s = &rep.src[i];
		if (s->errors) {
			for (const char *p = s->errors; *p;) {
				size_t len = strcspn(p, "\n");
				fprintf(stderr, "berth: %s: %.*s\n", s->failed && !s->warnings ? "error" : "note",
					(int)len, p);
				p += len + (p[len] == '\n');
			}
		}
		printf("%s (%s, %zu file%s): %zu added, %zu updated, %zu unchanged", s->name,
		       errata_format_name(s->format), s->files, s->files == 1 ? "" : "s", s->added, s->updated,
		       s->unchanged);
		if (s->duplicates)
			printf(", %zu repeated (merged)", s->duplicates);
		if (s->conflicts)
			printf(", %zu kept from another source", s->conflicts);
		if (s->skipped)
			printf(", %zu skipped (no distribution package)", s->skipped);
		if (s->failed)
			printf(", %zu file%s failed", s->failed, s->failed == 1 ? "" : "s");
		if (s->advisories && s->no_severity == s->advisories)
			printf("; severity unknown: this source gives none");
		else if (s->no_severity)
			printf("; severity unknown for %zu: the source gives none for them", s->no_severity);
		putchar('\n');
		added += s->added;
		updated += s->updated;
		unchanged += s->unchanged;
		failed += s->failed;
	}
	printf("total: %zu added, %zu updated, %zu unchanged in %.2f s; errata generation %lld\n", added, updated,
	       unchanged, (double)(time_mono_ns() - t0) / 1e9, (long long)rep.generation);
	errata_import_release(&rep);
	return failed ? 1 : 0;
}

/* berth errata list: a table, or a JSON array with --json. */
static int ecli_list(struct ecli *e, const struct meta_errata_filter *f)
{
	struct meta_erratum *v = NULL;
	size_t n = 0, unknown_dates = 0;
	int more = 0, rc, idw = 14;
	json_t *arr = NULL;

	rc = meta_errata_list(e->meta, f, &v, &n, &more);
	if (rc < 0)
		return cli_fail("list: %s", berth_strerror(rc));
	if (e->json) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, errata_json(&v[i], 0));
		meta_errata_free(v, n);
		return ecli_print_json(arr);
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].id) > (size_t)idw)
			idw = (int)strlen(v[i].id);
	if (n)
		printf("%-*s %-10s %-11s %-11s %-32s %s\n", idw, "ID", "SEVERITY", "ISSUED", "TYPE", "AFFECTED",
		       "SUMMARY");
	for (size_t i = 0; i < n; i++) {
		char date[16], aff[128] = "-";
		ecli_date(v[i].issued, date);
		if (!v[i].issued_known) {
			size_t l = strlen(date);
			if (l < sizeof(date) - 1) {
				date[l] = '*';
				date[l + 1] = '\0';
			}
			unknown_dates++;
		}
		/* show the entry the filters asked about, else the first */
		size_t k = 0;
		for (size_t j = 0; j < v[i].npkgs; j++)
			if ((!f->release || !strcmp(v[i].pkgs[j].release, f->release)) &&
			    (!f->package || !strcmp(v[i].pkgs[j].package, f->package))) {
				k = j;
				break;
			}
		if (v[i].npkgs)
			snprintf(aff, sizeof(aff), "%s %s%s", v[i].pkgs[k].release, v[i].pkgs[k].package,
				 v[i].npkgs > 1 ? " +" : "");
		if (v[i].npkgs > 1) {
			size_t l = strlen(aff);
			snprintf(aff + l, sizeof(aff) - l, "%zu", v[i].npkgs - 1);
		}
		printf("%-*s %-10s %-11s %-11s %-32s ", idw, v[i].id, meta_severity_name(v[i].severity), date,
		       meta_erratum_type_name(v[i].type), aff);
		ecli_print_clean(v[i].summary ? v[i].summary : "", 60);
		putchar('\n');
	}
	if (unknown_dates)
		printf("* the source gives no date: first seen by berth\n");
	if (more)
		printf("(more: add --last %s)\n", v[n - 1].id);
	meta_errata_free(v, n);
	return 0;
}

/* berth errata show ID. */
static int ecli_show(struct ecli *e, const char *id)
{
	struct meta_erratum a;
	char date[16];
	int rc;

	rc = meta_errata_get(e->meta, id, &a);
	if (rc == -BERTH_ENOENT)
		return cli_fail("no erratum %s", id);
	if (rc < 0)
		return cli_fail("show: %s", berth_strerror(rc));
	if (e->json) {
		rc = ecli_print_json(errata_json(&a, 1));
		meta_erratum_release(&a);
		return rc;
	}
	printf("%s  %s %s (source %s)\n", a.id, meta_severity_name(a.severity), meta_erratum_type_name(a.type),
	       a.source);
	printf("Summary:   ");
	ecli_print_clean(a.summary ? a.summary : "-", 0);
	ecli_date(a.issued, date);
	printf("\nIssued:    %s%s\n", date, a.issued_known ? "" : " (first seen by berth: the source gives no date)");
	if (a.modified) {
		ecli_date(a.modified, date);
		printf("Modified:  %s\n", date);
	}
	if (a.withdrawn) {
		ecli_date(a.withdrawn, date);
		printf("Withdrawn: %s\n", date);
	}
	printf("CVEs:      ");
	for (size_t i = 0; i < a.ncves; i++)
		printf("%s%s", i ? " " : "", a.cves[i]);
	printf("%s\nAffected:\n", a.ncves ? "" : "-");
	for (size_t i = 0; i < a.npkgs; i++) {
		const struct meta_erratum_pkg *p = &a.pkgs[i];
		printf("  %-14s %s (%s): %s", p->release, p->package, p->binary ? "binary" : "source",
		       meta_pkg_status_name(p->status));
		if (p->fixed)
			printf(" in %s", p->fixed);
		if (p->introduced)
			printf(", introduced in %s", p->introduced);
		if (p->last_affected)
			printf(", last affected %s", p->last_affected);
		putchar('\n');
	}
	if (a.nrefs) {
		printf("References:\n");
		for (size_t i = 0; i < a.nrefs; i++)
			printf("  %s\n", a.refs[i]);
	}
	if (a.details) {
		printf("Details:\n");
		ecli_print_clean(a.details, 0);
		putchar('\n');
	}
	meta_erratum_release(&a);
	return 0;
}

/* berth errata sync: the given feeds, or errata.feeds. */
static int ecli_sync(struct ecli *e, char **feeds, int nfeeds)
{
	struct errata_sync res;
	char **cfg_feeds = NULL;
	size_t n = (size_t)nfeeds;
	int rc, failed = 0;

	if (nfeeds == 0) {
		cfg_feeds = errata_feeds_split(config_get(&e->cfg, "errata.feeds"), &n);
		if (!cfg_feeds)
			return cli_fail("out of memory");
		feeds = cfg_feeds;
		if (n == 0) {
			errata_feeds_free(cfg_feeds);
			return cli_fail("sync: no feeds (set errata.feeds or name them)");
		}
	}
	rc = errata_feeds_sync(e->meta, (const char *const *)feeds, n, &res);
	for (size_t i = 0; i < res.n; i++) {
		const struct errata_feed_result *r = &res.v[i];
		if (r->failed) {
			failed++;
			printf("%s: failed: %s\n", r->feed, r->error);
		} else if (r->not_modified) {
			printf("%s: not modified\n", r->feed);
		} else {
			printf("%s: %zu added, %zu updated, %zu unchanged", r->feed, r->added, r->updated,
			       r->unchanged);
			if (r->conflicts)
				printf(", %zu kept from another source", r->conflicts);
			if (r->skipped)
				printf(", %zu skipped", r->skipped);
			putchar('\n');
		}
	}
	if (rc == 0)
		printf("errata generation %lld\n", (long long)res.generation);
	errata_sync_release(&res);
	errata_feeds_free(cfg_feeds);
	if (rc < 0)
		return cli_fail("sync: %s", berth_strerror(rc));
	return failed ? 1 : 0;
}

int cmd_errata(int argc, char **argv)
{
	struct ecli e = {0};
	struct meta_errata_filter f = {NULL, NULL, NULL, -1, -1, NULL, -1};
	enum errata_format fmt = ERRATA_FORMAT_AUTO;
	enum meta_severity sev;
	enum meta_erratum_type type;
	const char *sub = NULL;
	char *end = NULL;
	int c, rc = 2;

	config_init(&e.cfg);
	e.config_path = getenv("BERTH_CONFIG");
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(ecli_usage, argc < 2 ? stderr : stdout);
		rc = argc < 2 ? 2 : 0;
		goto out;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:jf:r:p:s:t:C:n:l:h", ecli_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			e.config_path = optarg;
			break;
		case 'd':
			e.data = optarg;
			break;
		case 'j':
			e.json = 1;
			break;
		case 'f':
			if (errata_format_parse(optarg, &fmt) < 0) {
				cli_fail("unknown format '%s' (auto, debian, osv, secdb)", optarg);
				goto out;
			}
			break;
		case 'r':
			f.release = optarg;
			break;
		case 'p':
			f.package = optarg;
			break;
		case 's':
			if (meta_severity_parse(optarg, &sev) < 0) {
				cli_fail("unknown severity '%s' (Critical, Important, Moderate, Low, unknown)", optarg);
				goto out;
			}
			f.severity = (int)sev;
			break;
		case 't':
			if (meta_erratum_type_parse(optarg, &type) < 0) {
				cli_fail("unknown type '%s' (security, bugfix, enhancement)", optarg);
				goto out;
			}
			f.type = (int)type;
			break;
		case 'C':
			f.cve = optarg;
			break;
		case 'n':
			f.limit = strtol(optarg, &end, 10);
			if (!*optarg || *end || f.limit < 0) {
				cli_fail("-n wants a number, not '%s'", optarg);
				goto out;
			}
			break;
		case 'l':
			f.last = optarg;
			break;
		case 'h':
			fputs(ecli_usage, stdout);
			rc = 0;
			goto out;
		default:
			goto out;
		}
	}
	if (strcmp(sub, "import") && strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "sync")) {
		cli_fail("errata: unknown subcommand '%s'", sub);
		fputs(ecli_usage, stderr);
		goto out;
	}
	if ((!strcmp(sub, "show") && argc - optind != 1) || (!strcmp(sub, "list") && argc > optind)) {
		fputs(ecli_usage, stderr);
		goto out;
	}
	rc = ecli_open(&e);
	if (rc)
		goto out;
	if (!strcmp(sub, "import"))
		rc = ecli_import(&e, fmt, argv + optind, argc - optind);
	else if (!strcmp(sub, "list"))
		rc = ecli_list(&e, &f);
	else if (!strcmp(sub, "show"))
		rc = ecli_show(&e, argv[optind]);
	else
		rc = ecli_sync(&e, argv + optind, argc - optind);
out:
	ecli_close(&e);
	return rc;
}
