/* berth scan REF [--errata PATH]... [--platform OS/ARCH[/VARIANT]] [--json] [client flags]: an image's
 * packages and the advisories that hit them.
 * With --errata the feeds are read directly (no server, no database: a CI step) and REF is any image
 * the client reads: docker://, oci:, oci-archive:, docker-archive:, local:. Without --errata, REF
 * names an image in a berth registry (docker://HOST/REPO:TAG or @DIGEST) and the registry's stored
 * report is shown.
 * Exit status: 0 when the scan itself succeeded (whatever it found), 1 when it failed, 2 on usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "cli/scancli.h"
#include "registry/scanner.h"

#define SCAN_USAGE                                                                                         \
	"usage: berth scan REF [--errata PATH]... [--platform OS/ARCH[/VARIANT]] [--json]\n"               \
	"                  [--tls-verify=BOOL] [--cert-dir DIR] [--authfile FILE] [--creds USER:PASS]\n"   \
	"                  [--root DIR] [--driver NAME]   (local:, the host store)\n"                      \
	"  with --errata: REF is any image, docker://HOST/REPO[:TAG|@DIGEST], oci:DIR[:REF],\n"            \
	"    oci-archive:FILE[:REF], docker-archive:FILE[:NAME[:TAG]] or local:NAME[:TAG], scanned here\n" \
	"    against those feeds (no server, no database)\n"                                               \
	"  without: REF is docker://HOST/REPO[:TAG|@DIGEST] and that registry's stored report is shown\n"

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"errata", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"driver", required_argument, NULL, OPT_DRIVER},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char **errata = NULL, *ref;
	size_t nerrata = 0;
	char *report = NULL;
	struct client_opts co;
	struct image_platform plat = {0}, *want = NULL;
	int json = 0, c, rc = 2;

	client_opts_init(&co);
	errata = calloc((size_t)argc + 1, sizeof *errata);
	if (!errata)
		return cli_fail("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &co);
		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (c) {
		case 'e':
			errata[nerrata++] = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_ROOT:
			co.store_root = optarg;
			break;
		case OPT_DRIVER:
			co.store_driver = optarg;
			break;
		case OPT_PLATFORM:
			image_platform_release(&plat);
			if (image_platform_parse(optarg, &plat) < 0) {
				cli_fail("--platform takes OS/ARCH[/VARIANT], e.g. linux/arm64/v8");
				goto out;
			}
			want = &plat;
			break;
		case 'h':
			fputs(SCAN_USAGE, stdout);
			rc = 0;
			goto out;
		default:
			fputs(SCAN_USAGE, stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		fputs(SCAN_USAGE, stderr);
		goto out;
	}
	ref = argv[optind];
	if (!nerrata && !cli_ref_is_registry(ref)) {
		cli_fail("%s is a local image: scanning it needs --errata PATH (only a registry keeps errata)", ref);
		goto out;
	}
	if (!nerrata && want) {
		cli_fail(
		    "--platform picks an image to scan offline; without --errata the registry reports every platform");
		goto out;
	}
	rc = 1;
	if (nerrata ? cli_scan_offline(ref, want, &co, errata, nerrata, &report)
		    : cli_scan_report_get(ref, NULL, &co, &report))
		goto out;
	if (json) {
		printf("%s\n", report);
	} else {
		char *t = scanner_report_table(report);
		if (!t) {
			cli_fail("the report is not understood");
			goto out;
		}
		fputs(t, stdout);
		free(t);
	}
	rc = strstr(report, "\"status\":\"failed\"") ? 1 : 0;
out:
	free(report);
	free(errata);
	image_platform_release(&plat);
	return rc;
}
