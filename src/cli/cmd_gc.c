/* berth gc: one online garbage collection of a data directory, safe while `berth serve` uses it.
 * Settings come like serve's (file, BERTH_* environment, flags); prints one summary line (or one JSON
 * line with --json) and, with --dry-run, one line per manifest and blob it would remove. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/config.h"
#include "base/err.h"
#include "cli/cli.h"
#include "registry/registry.h"

#define GC_USAGE "usage: berth gc [--data DIR] [--config FILE] [--dry-run] [--grace DUR] [--delete-untagged] [--json]\n"

struct gc_out {
	int json;
};

/* Prints one item a dry run would remove. */
static void gc_print_item(void *ctx, const struct registry_gc_item *it)
{
	struct gc_out *o = ctx;
	char ds[DIGEST_STR_MAX];
	char *line = NULL;

	if (o->json) {
		line = registry_gc_item_json(it);
		if (line)
			printf("%s\n", line);
		free(line);
		return;
	}
	if (it->is_manifest)
		printf("would remove manifest %s@%s (%llu bytes)\n", it->repo, digest_str(it->digest, ds),
		       (unsigned long long)it->size);
	else
		printf("would remove blob %s (%llu bytes)%s\n", digest_str(it->digest, ds),
		       (unsigned long long)it->size, it->orphan ? ", no metadata names it" : "");
}

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"grace", required_argument, NULL, 'g'},
	    {"delete-untagged", no_argument, NULL, 'u'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = getenv("BERTH_CONFIG"), *data = NULL, *grace = NULL, *v = NULL;
	struct config cfg;
	struct registry *reg = NULL;
	struct registry_opts ro = {0};
	struct registry_gc_opts go = {0};
	struct registry_gc_stats st;
	struct gc_out out = {0};
	struct stat sb;
	char why[512], *line = NULL;
	int c, ok = 1, untagged = 0, rc = 1, grc;

	config_init(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:ng:ujh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			go.dry_run = 1;
			break;
		case 'g':
			grace = optarg;
			break;
		case 'u':
			untagged = 1;
			break;
		case 'j':
			out.json = 1;
			break;
		case 'h':
			printf(GC_USAGE);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, GC_USAGE);
			rc = 2;
			goto out;
		}
	}
	if (optind < argc) {
		cli_fail("gc: unexpected argument '%s'", argv[optind]);
		rc = 2;
		goto out;
	}
	if (cli_config_load(&cfg, config_path, data))
		goto out;
	if (grace)
		config_set(&cfg, "storage.gc.grace", grace);
	v = config_get(&cfg, "storage.gc.grace");
	if (config_duration_parse(v ? v : "", &go.grace_ms) < 0) {
		cli_fail("gc: grace '%s' is not a duration such as 0, 30s, 15m or 24h", v ? v : "");
		rc = 2;
		goto out;
	}
	go.delete_untagged = untagged || config_get_bool(&cfg, "storage.gc.delete_untagged", 0, &ok);
	if (!ok) {
		cli_fail("config: storage.gc.delete_untagged is not a boolean");
		goto out;
	}
	if (go.dry_run) {
		go.report = gc_print_item;
		go.ctx = &out;
	}
	ro.data_dir = config_get(&cfg, "storage.filesystem.rootdirectory");
	/* a mistyped --data must not create (and "collect") an empty data directory */
	if (stat(ro.data_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		cli_fail("gc: %s is not a data directory", ro.data_dir);
		goto out;
	}
	ro.meta_uri = config_get(&cfg, "meta.uri");
	ro.delete_enabled = 1;
	ro.reserve_bytes = -1;
	ro.no_upload_sweep = 1; /* a running server owns uploads/ */
	if (registry_open(&ro, &reg, why, sizeof(why)) < 0) {
		cli_fail("%s", why);
		goto out;
	}
	grc = registry_gc(reg, &go, &st);
	if (out.json) {
		line = registry_gc_stats_json(&st, go.dry_run);
		if (line)
			printf("%s\n", line);
	} else {
		printf("gc%s: %s %llu manifests (%llu bytes), %llu blobs (%llu bytes, %llu orphans), %llu repository "
		       "links\n",
		       go.dry_run ? " (dry run)" : "", go.dry_run ? "would remove" : "removed",
		       (unsigned long long)st.manifests, (unsigned long long)st.manifest_bytes,
		       (unsigned long long)st.blobs, (unsigned long long)st.blob_bytes, (unsigned long long)st.orphans,
		       (unsigned long long)st.links);
	}
	fflush(stdout);
	if (grc < 0) {
		cli_fail("gc: %s (what is counted above was done; run again to finish)", berth_strerror(grc));
		goto out;
	}
	rc = 0;
out:
	free(line);
	registry_free(reg);
	config_release(&cfg);
	return rc;
}
