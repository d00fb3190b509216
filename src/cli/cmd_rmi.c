/* berth rmi IMAGE...: remove images (or just a name when the image has others) from the host store. */
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "rmi IMAGE... [--root DIR] [--driver NAME]"

int cmd_rmi(int argc, char **argv)
{
	struct store_cli o;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.nargs) {
		store_cli_release(&o);
		return cli_fail("rmi needs an image (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	for (size_t i = 0; i < o.nargs; i++) {
		struct graph_rmi_result r;
		struct graph_image_info img;
		int have = graph_image_find(o.store, o.args[i], &img) == 0;
		if (graph_image_remove(o.store, o.args[i], &r) < 0) {
			rc = cli_fail("%s", graph_store_why(o.store));
			if (have)
				graph_image_info_release(&img);
			continue;
		}
		if (r.untagged)
			printf("Untagged: %s\n", o.args[i]);
		if (r.deleted)
			printf("Deleted: %s (%zu layers removed)\n", have ? img.id : o.args[i], r.layers_removed);
		if (have)
			graph_image_info_release(&img);
	}
out:
	store_cli_release(&o);
	return rc;
}
