/* berth mount IMAGE [--name NAME]: a container root file system (the image's layers plus a fresh
 * writable layer); prints its path as the last line. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "mount IMAGE [--name NAME] [--root DIR] [--driver NAME]"

int cmd_mount(int argc, char **argv)
{
	struct store_cli o;
	char *path = NULL, *name = NULL;
	int rc = store_cli_parse(argc, argv, &o, 1, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1) {
		store_cli_release(&o);
		return cli_fail("mount needs one image (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	if (graph_container_mount(o.store, o.args[0], o.name, &path, &name) < 0) {
		rc = cli_fail("%s", graph_store_why(o.store));
		goto out;
	}
	printf("container %s\n%s\n", name, path);
out:
	free(path);
	free(name);
	store_cli_release(&o);
	return rc;
}
