/* berth grade REF [--at DATE] [--unknown-severity important|critical|ignore] [--errata PATH]... [--json]
 * berth grade --all docker://HOST[/REPO] [--at DATE] [--unknown-severity S] [--sort grade|name] [--json]
 *
 * An image's Container Health Index grade on a day (today by default), the errata behind it and its
 * freshness schedule. With --errata the image is a local OCI layout graded offline (as berth scan
 * --errata does); otherwise REF is docker://HOST/REPO[:TAG|@DIGEST] and the registry grades it.
 * --all lists every repository tag of a registry with its grade. Exit status 0, 1 on failure or an
 * image with no grade (not scanned yet, unsupported, failed), 2 on usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "registry/grading.h"
#include "registry/scanner.h"

#define GRADE_USAGE                                                                                               \
	"usage: berth grade REF [--at YYYY-MM-DD] [--unknown-severity important|critical|ignore] [--errata PATH]... " \
	"[--json] [--tls-verify=false]\n"                                                                         \
	"       berth grade --all docker://HOST[/REPO] [--at DATE] [--unknown-severity S] [--sort grade|name] [--json]\n"

int cmd_grade(int argc, char **argv)
{
	static const struct option opts[] = {
		{"errata", required_argument, NULL, 'e'}, {"json", no_argument, NULL, 'j'},
		{"at", required_argument, NULL, 'a'},     {"unknown-severity", required_argument, NULL, 'u'},
		{"all", no_argument, NULL, 'A'},          {"sort", required_argument, NULL, 's'},
		{"tls-verify", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char **errata = NULL, *ref, *at = NULL, *unk = NULL;
	size_t nerrata = 0, nlayers = 0;
	char **layers = NULL, *report = NULL, *grade = NULL, *dir = NULL, *text = NULL, *allref = NULL;
	char why[1024] = "", query[160];
	int json = 0, all = 0, by_grade = 0, tls_verify = 1, c, rc = 1;
	struct grade_rules rules;
	int32_t day = grade_day_today();

	grade_rules_default(&rules);
	errata = calloc((size_t)argc + 1, sizeof *errata);
	if (!errata)
		return cli_fail("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': errata[nerrata++] = optarg; break;
		case 'j': json = 1; break;
		case 'a': at = optarg; break;
		case 'u': unk = optarg; break;
		case 'A': all = 1; break;
		case 't': tls_verify = strcmp(optarg, "false") != 0; break;
		case 's':
			if (strcmp(optarg, "grade") && strcmp(optarg, "name")) {
				cli_fail("--sort: grade or name");
				rc = 2;
				goto out;
			}
			by_grade = strcmp(optarg, "grade") == 0;
			break;
		case 'h': fputs(GRADE_USAGE, stdout); rc = 0; goto out;
		default: fputs(GRADE_USAGE, stderr); rc = 2; goto out;
		}
	}
	if (optind != argc - 1 || (all && nerrata)) {
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
		snprintf(query, sizeof query, "?at=%s%s%s", ds, unk ? "&unknown_severity=" : "", unk ? unk : "");
	}
	if (all) {
		if (strncmp(ref, "docker://", 9) != 0) {
			cli_fail("--all needs a registry, docker://HOST[/REPO]; '%s' is not", ref);
			goto out;
		}
		if (!strchr(ref + 9, '/')) {
			allref = malloc(strlen(ref) + 2);
			if (!allref)
				goto out;
			snprintf(allref, strlen(ref) + 2, "%s/", ref);
			ref = allref;
		}
		memmove(query + 6, query, strlen(query) + 1);
		memcpy(query, "grades", 6);
		if (cli_registry_report(ref, query, tls_verify, &report, why, sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
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
		const char *tag = NULL;
		struct scanner_opts so = {0};
		char *colon;

		if (strncmp(ref, "oci:", 4) != 0) {
			cli_fail("with --errata, REF must be a local image (oci:DIR[:TAG]); '%s' is not", ref);
			goto out;
		}
		dir = strdup(ref + 4);
		if (!dir)
			goto out;
		colon = strrchr(dir, ':');
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
		if (scanner_oci_layout_layers(dir, tag, &layers, &nlayers, why, sizeof why) < 0 ||
		    scanner_scan_offline((const char *const *)layers, nlayers, errata, nerrata, &so, &report, why,
					 sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
		if (strstr(report, "\"status\":\"scanned\"") == NULL ||
		    grading_report_of_scan(&rules, report, day, &grade, NULL) < 0) {
			cli_fail("%s: no grade: the image was not scanned (%s)", ref,
				 strstr(report, "\"status\":\"unsupported\"") ? "unsupported" : "failed");
			goto out;
		}
	} else {
		if (cli_registry_report(ref, query, tls_verify, &report, why, sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
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
	for (size_t i = 0; layers && i < nlayers; i++)
		free(layers[i]);
	free(layers);
	free(report);
	free(grade);
	free(text);
	free(dir);
	free(allref);
	free(errata);
	return rc;
}
