/* berth delete REF: deletes the manifest REF names. On a registry that is the manifest by digest
 * (a tag is first resolved, as skopeo does), which removes every tag pointing at it; in an OCI
 * layout, the named entry of index.json and the blobs nothing else uses. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/transport.h"

static const char usage[] = "usage: berth delete [--tls-verify=BOOL] [--cert-dir DIR] [--authfile FILE] "
			    "[--creds USER:PASS] docker://HOST/REPO[:TAG|@DIGEST] | oci:DIR:REF";

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct client_opts o;
	struct client_image *im = NULL;
	struct client_err e = {0};
	int c, rc = 1;

	client_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &o);
		if (r < 0)
			return 2;
		if (r == 1)
			continue;
		if (c == 'h') {
			printf("%s\n", usage);
			return 0;
		}
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	if (client_image_open(argv[optind], CLIENT_ADMIN, &o, &im, &e) < 0 || client_image_remove(im, &e) < 0)
		rc = cli_client_fail(&e);
	else
		rc = 0;
	client_image_free(im);
	return rc;
}
