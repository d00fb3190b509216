/* berth prune: remove layers no image uses, orphan layer directories and stale staging. */
#include <stdio.h>

#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "prune [--root DIR] [--driver NAME] [--json]"

int cmd_prune(int argc, char **argv)
{
	struct store_cli o;
	struct graph_prune_result r;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs) {
		store_cli_release(&o);
		return cli_fail("prune takes no arguments (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	if (graph_prune(o.store, &r) < 0) {
		rc = cli_fail("%s", graph_store_why(o.store));
		goto out;
	}
	if (o.json)
		printf("{\"layers\": %zu, \"orphans\": %zu, \"staging\": %zu, \"busy\": %s}\n", r.layers, r.orphans,
		       r.staging, r.busy ? "true" : "false");
	else
		printf("removed %zu unused layers, %zu orphan directories, %zu staging directories%s\n", r.layers,
		       r.orphans, r.staging, r.busy ? " (another process is unpacking: layers left for later)" : "");
out:
	store_cli_release(&o);
	return rc;
}
