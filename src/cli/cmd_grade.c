/* berth grade REF [--at DATE] [--unknown-severity important|critical|ignore] [--errata PATH]... [--json]
 * berth grade --all docker://HOST[/REPO] [--at DATE] [--unknown-severity S] [--sort grade|name] [--json]
 *
 * An image's Container Health Index grade on a day (today by default), the errata behind it and its
 * freshness schedule. With --errata the image, from any transport (docker://, oci:, oci-archive:,
 * docker-archive:, local:), is graded offline as berth scan --errata scans it; otherwise REF is
 * docker://HOST/REPO[:TAG|@DIGEST] and the registry grades it.
 * --all lists every repository tag of a registry with its grade. Exit status 0, 1 on failure or an
 * image with no grade (not scanned yet, unsupported, failed), 2 on usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "cli/scancli.h"
#include "registry/grading.h"
#include "registry/scanner.h"

#define GRADE_USAGE                                                                                                   \
	"usage: berth grade REF [--at YYYY-MM-DD] [--unknown-severity important|critical|ignore] [--errata PATH]... " \
	"[--platform OS/ARCH[/VARIANT]] [--json]\n"                                                                   \
	"       berth grade --all docker://HOST[/REPO] [--at DATE] [--unknown-severity S] [--sort grade|name] "       \
	"[--json]\n"                                                                                                  \
	"  client flags: --tls-verify=BOOL --cert-dir DIR --authfile FILE --creds USER:PASS --root DIR --driver "     \
	"NAME\n"                                                                                                      \
	"  with --errata REF is any image (docker://, oci:, oci-archive:, docker-archive:, local:), graded here;\n"   \
	"  without, REF is docker://HOST/REPO[:TAG|@DIGEST] and that registry grades it\n"

int cmd_grade(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"errata", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"at", required_argument, NULL, 'a'},
	    {"unknown-severity", required_argument, NULL, 'u'},
	    {"all", no_argument, NULL, 'A'},
	    {"sort", required_argument, NULL, 's'},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"help", no_argument, NULL, 'h'},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"driver", required_argument, NULL, OPT_DRIVER},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char **errata = NULL, *ref, *at = NULL, *unk = NULL;
	size_t nerrata = 0;
	char *report = NULL, *grade = NULL, *text = NULL, query[160];
	int json = 0, all = 0, by_grade = 0, c, rc = 1;
	struct client_opts co;
	struct image_platform plat = {0}, *want = NULL;
	struct grade_rules rules;
	int32_t day = grade_day_today();

	grade_rules_default(&rules);
	client_opts_init(&co);
	errata = calloc((size_t)argc + 1, sizeof *errata);
	if (!errata)
		return cli_fail("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &co);
		if (r < 0) {
			rc = 2;
			goto out;
		}
		if (r == 1)
			continue;
		switch (c) {
		case 'e':
			errata[nerrata++] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'a':
			at = optarg;
			break;
		case 'u':
			unk = optarg;
			break;
		case 'A':
			all = 1;
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
				rc = 2;
				goto out;
			}
			want = &plat;
			break;
		case 's':
			if (strcmp(optarg, "grade") && strcmp(optarg, "name")) {
				cli_fail("--sort: grade or name");
				rc = 2;
				goto out;
			}
			by_grade = strcmp(optarg, "grade") == 0;
			break;
		case 'h':
			fputs(GRADE_USAGE, stdout);
			rc = 0;
			goto out;
		default:
			fputs(GRADE_USAGE, stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind != argc - 1 || (all && (nerrata || want))) {
		fputs(GRADE_USAGE, stderr);
		rc = 2;
		goto out;
	}
	if (at && grade_day_parse(at, &day) < 0) {
		cli_fail("--at '%s': expected a date YYYY-MM-DD", at);
		rc = 2;
		goto out;
	}
	if (unk && grade_unknown_parse(unk, &rules.unknown) < 0) {
		cli_fail("--unknown-severity '%s': important, critical or ignore", unk);
		rc = 2;
		goto out;
	}
	ref = argv[optind];
	{
		char ds[16];
		grade_day_format(day, ds, sizeof ds);
		snprintf(query, sizeof query, "at=%s%s%s", ds, unk ? "&unknown_severity=" : "", unk ? unk : "");
	}
	if (!all && !nerrata && !cli_ref_is_registry(ref)) {
		cli_fail("%s is a local image: grading it needs --errata PATH (only a registry keeps errata)", ref);
		rc = 2;
		goto out;
	}
	if (!nerrata && want) {
		cli_fail(
		    "--platform picks an image to grade offline; without --errata the registry grades what REF names");
		rc = 2;
		goto out;
	}
	if (all) {
		if (cli_grades_get(ref, query, &co, &report))
			goto out;
		if (json) {
			printf("%s\n", report);
		} else {
			text = grading_scores_table(report, by_grade);
			if (!text) {
				cli_fail("the registry's answer is not understood");
				goto out;
			}
			fputs(text, stdout);
		}
		rc = 0;
		goto out;
	}
	if (nerrata) {
		if (cli_scan_offline(ref, want, &co, errata, nerrata, &report))
			goto out;
		if (strstr(report, "\"status\":\"scanned\"") == NULL ||
		    grading_report_of_scan(&rules, report, day, &grade, NULL) < 0) {
			cli_fail("%s: no grade: the image was not scanned (%s)", ref,
				 strstr(report, "\"status\":\"unsupported\"") ? "unsupported" : "failed");
			goto out;
		}
	} else {
		char q[170];

		snprintf(q, sizeof q, "?%s", query);
		if (cli_scan_report_get(ref, q, &co, &report))
			goto out;
		if (grading_report_extract(report, &grade) < 0) {
			cli_fail("%s: no grade yet (the registry has not scanned it, or cannot)", ref);
			goto out;
		}
	}
	if (json) {
		printf("%s\n", grade);
	} else {
		text = grading_table(grade);
		if (!text) {
			cli_fail("the grade is not understood");
			goto out;
		}
		fputs(text, stdout);
	}
	rc = 0;
out:
	free(report);
	free(grade);
	free(text);
	free(errata);
	image_platform_release(&plat);
	return rc;
}
