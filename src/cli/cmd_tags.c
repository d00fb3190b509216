/* berth tags REPO: the tags of a registry repository (every page), or the names in an OCI layout or
 * archive. One per line, or --json {"repository": ..., "tags": [...]}. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/remote.h"
#include "client/transport.h"

static const char usage[] = "usage: berth tags [--json] [--tls-verify=BOOL] [--cert-dir DIR] [--authfile FILE] "
			    "[--creds USER:PASS] docker://HOST/REPO | oci:DIR | oci-archive:FILE | docker-archive:FILE";

int cmd_tags(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct client_opts o;
	struct client_image *im = NULL;
	struct client_err e = {0};
	char **tags = NULL;
	size_t n = 0;
	int c, json = 0, rc = 2;

	client_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &o);
		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (c == OPT_JSON) {
			json = 1;
		} else if (c == 'h') {
			printf("%s\n", usage);
			return 0;
		} else {
			fprintf(stderr, "%s\n", usage);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	rc = 1;
	if (client_image_open(argv[optind], CLIENT_ADMIN, &o, &im, &e) < 0 ||
	    client_image_tags(im, &tags, &n, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (json) {
		json_t *arr = json_array(), *root;
		char *text;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_string(tags[i]));
		root = json_pack("{s:s,s:o}", "repository", im->name, "tags", arr);
		text = json_dumps(root, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
		json_decref(root);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", tags[i]);
	}
	rc = 0;
out:
	client_strv_free(tags, n);
	client_image_free(im);
	return rc;
}
