/* berth rm NAME...: unmount and delete containers with their writable layers. */
#include <stdio.h>

#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "rm NAME... [--root DIR] [--driver NAME]"

int cmd_rm(int argc, char **argv)
{
	struct store_cli o;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.nargs) {
		store_cli_release(&o);
		return cli_fail("rm needs a container name (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	for (size_t i = 0; i < o.nargs; i++) {
		if (graph_container_remove(o.store, o.args[i]) < 0)
			rc = cli_fail("%s", graph_store_why(o.store));
		else
			printf("%s\n", o.args[i]);
	}
out:
	store_cli_release(&o);
	return rc;
}
