/* berth umount NAME: stop presenting a container's root file system; the container stays. */
#include <stdio.h>

#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "umount NAME [--root DIR] [--driver NAME]"

int cmd_umount(int argc, char **argv)
{
	struct store_cli o;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1) {
		store_cli_release(&o);
		return cli_fail("umount needs one container name (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) == 0 && graph_container_umount(o.store, o.args[0]) < 0)
		rc = cli_fail("%s", graph_store_why(o.store));
	store_cli_release(&o);
	return rc;
}
