/* berth images: the images in the host store, one row per name (a table, or --json). */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "graph/store.h"

#define USAGE "images [--root DIR] [--driver NAME] [--json]"

int cmd_images(int argc, char **argv)
{
	struct store_cli o;
	struct graph_image_info *v = NULL;
	size_t n = 0;
	int rc = store_cli_parse(argc, argv, &o, 0, USAGE);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs) {
		store_cli_release(&o);
		return cli_fail("images takes no arguments (usage: berth %s)", USAGE), 2;
	}
	if ((rc = store_cli_open(&o)) != 0)
		goto out;
	if (graph_image_list(o.store, &v, &n) < 0) {
		rc = cli_fail("%s", graph_store_why(o.store));
		goto out;
	}
	if (o.json) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		graph_images_json(v, n, &b);
		fputs(b.ptr, stdout);
		buf_release(&b);
		goto out;
	}
	printf("%-40s %-14s %-8s %-10s %s\n", "NAME", "IMAGE ID", "LAYERS", "SIZE", "CREATED");
	for (size_t i = 0; i < n; i++) {
		char size[32], age[48];
		store_cli_size(v[i].size, size, sizeof(size));
		store_cli_age(v[i].created_ms, age, sizeof(age));
		for (size_t k = 0; k < (v[i].nnames ? v[i].nnames : 1); k++)
			printf("%-40s %-14.12s %-8zu %-10s %s\n", v[i].nnames ? v[i].names[k] : "<none>", v[i].id + 7,
			       v[i].nlayers, size, age);
	}
out:
	graph_image_list_free(v, n);
	store_cli_release(&o);
	return rc;
}
