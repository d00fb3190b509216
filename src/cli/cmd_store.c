/* Shared by the host-store commands (images, layers, rmi, mount, umount, rm, prune): their common
 * options (--root DIR, --driver NAME, --json, after the subcommand) and table formatting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli.h"
#include "graph/store.h"

static int parse(int argc, char **argv, struct store_cli *o, int allow_name, const char *usage)
{
	memset(o, 0, sizeof(*o));
	o->root = GRAPH_DEFAULT_ROOT;
	o->args = calloc((size_t)argc + 1, sizeof(char *));
	if (!o->args)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--root") || !strcmp(a, "--driver") || (allow_name && !strcmp(a, "--name"))) {
			if (i + 1 >= argc) {
				cli_fail("%s needs a value (usage: berth %s)", a, usage);
				return 2;
			}
			if (!strcmp(a, "--root"))
				o->root = argv[++i];
			else if (!strcmp(a, "--driver"))
				o->driver = argv[++i];
			else
				o->name = argv[++i];
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: berth %s\n", usage);
			return -1;
		} else if (a[0] == '-' && a[1]) {
			cli_fail("unknown option %s (usage: berth %s)", a, usage);
			return 2;
		} else {
			o->args[o->nargs++] = argv[i];
		}
	}
	return 0;
}

int store_cli_parse(int argc, char **argv, struct store_cli *o, int allow_name, const char *usage)
{
	int rc = parse(argc, argv, o, allow_name, usage);

	if (rc != 0) { /* the caller returns at once: nothing of o survives */
		free(o->args);
		o->args = NULL;
	}
	return rc;
}

void store_cli_release(struct store_cli *o)
{
	graph_store_close(o->store);
	free(o->args);
	o->store = NULL;
	o->args = NULL;
}

int store_cli_open(struct store_cli *o)
{
	char why[1024];

	if (graph_store_open(&o->store, o->root, o->driver, why, sizeof(why)) < 0)
		return cli_fail("%s", why);
	return 0;
}

void store_cli_size(unsigned long long n, char *out, size_t outn)
{
	const char *u[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, outn, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void store_cli_age(long long ms, char *out, size_t outn)
{
	int64_t s = (int64_t)time(NULL) - ms / 1000;

	if (s < 60)
		snprintf(out, outn, "%lld seconds ago", (long long)(s < 0 ? 0 : s));
	else if (s < 3600)
		snprintf(out, outn, "%lld minutes ago", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, outn, "%lld hours ago", (long long)(s / 3600));
	else
		snprintf(out, outn, "%lld days ago", (long long)(s / 86400));
}
