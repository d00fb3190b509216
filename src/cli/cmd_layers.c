/* berth layers: the layers in the host store by chain ID, with how many images share each. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "layers [--root DIR] [--driver NAME] [--json]"

int cmd_layers(int argc, char **argv)
{
	struct store_cli o;
	struct graph_layer_info *v = NULL;
	size_t n = 0;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs) {
		store_cli_release(&o);
		return cli_fail("layers takes no arguments (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	if (graph_layer_list(o.store, &v, &n) < 0) {
		rc = cli_fail("%s", graph_store_why(o.store));
		goto out;
	}
	if (o.json) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		graph_layers_json(v, n, &b);
		fputs(b.ptr, stdout);
		buf_release(&b);
		goto out;
	}
	printf("%-14s %-14s %-21s %-10s %s\n", "CHAIN ID", "PARENT", "DIFF ID", "SIZE", "IMAGES");
	for (size_t i = 0; i < n; i++) {
		char size[32];
		store_cli_size(v[i].size, size, sizeof(size));
		printf("%-14.12s %-14.12s %-21.19s %-10s %zu\n", v[i].id, v[i].parent[0] ? v[i].parent : "-",
		       v[i].diff_id, size, v[i].refs);
	}
out:
	graph_layer_list_free(v, n);
	store_cli_release(&o);
	return rc;
}
