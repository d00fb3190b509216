/* berth scan REF [--errata PATH]... [--json]: an image's packages and the advisories that hit them.
 * With --errata the feeds are read directly (no server, no database: a CI step); REF is then a local
 * image, oci:DIR[:TAG]. Without --errata, REF names an image in a berth registry
 * (docker://HOST/REPO:TAG or @DIGEST) and the registry's stored report is shown.
 * Exit status: 0 when the scan itself succeeded (whatever it found), 1 when it failed, 2 on usage. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "registry/scanner.h"

#define SCAN_USAGE "usage: berth scan REF [--errata PATH]... [--json] [--tls-verify=false]\n" \
	"  REF: oci:DIR[:TAG] (with --errata), or docker://HOST/REPO[:TAG|@DIGEST] (asks that registry)\n"

struct body {
	char *p;
	size_t n;
};

static size_t scan_body_write(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t k = size * nmemb;
	char *np;

	if (b->n + k > (64u << 20))
		return 0;
	np = realloc(b->p, b->n + k + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, ptr, k);
	b->p = np;
	b->n += k;
	b->p[b->n] = '\0';
	return k;
}

/* Asks a berth registry for its stored report of docker://HOST/REPO[:TAG|@DIGEST]. A temporary
 * stand-in until the client module's transports (auth, retries) are used here: plain HTTP for
 * loopback hosts, HTTPS otherwise. */
int cli_registry_report(const char *ref, const char *query, int tls_verify, char **report, char *why, size_t whyn)
{
	const char *host, *slash, *at, *colon;
	char url[2048], repo[512], tagref[256];
	struct body b = {0};
	CURL *h = NULL;
	long status = 0;
	int rc = -BERTH_EINVAL, loop;

	if (strncmp(ref, "docker://", 9) != 0) {
		snprintf(why, whyn, "without --errata, REF must be docker://HOST/REPO[:TAG]; '%s' is not", ref);
		return rc;
	}
	host = ref + 9;
	slash = strchr(host, '/');
	if (!slash || slash == host) {
		snprintf(why, whyn, "%s: no repository", ref);
		return rc;
	}
	at = strchr(slash, '@');
	colon = strrchr(slash, ':');
	if (at) {
		snprintf(repo, sizeof repo, "%.*s", (int)(at - slash - 1), slash + 1);
		snprintf(tagref, sizeof tagref, "%s", at + 1);
	} else if (colon) {
		snprintf(repo, sizeof repo, "%.*s", (int)(colon - slash - 1), slash + 1);
		snprintf(tagref, sizeof tagref, "%s", colon + 1);
	} else {
		snprintf(repo, sizeof repo, "%s", slash + 1);
		snprintf(tagref, sizeof tagref, "latest");
	}
	loop = !strncmp(host, "127.", 4) || !strncmp(host, "localhost", 9) || !strncmp(host, "[::1]", 5);
	if (query && strncmp(query, "grades?", 7) == 0)
		snprintf(url, sizeof url, "%s://%.*s/api/v1/grades?%s%s%s%s", loop ? "http" : "https", (int)(slash - host),
			 host, slash[1] ? "repo=" : "", slash + 1, slash[1] ? "&" : "", query + 7);
	else
		snprintf(url, sizeof url, "%s://%.*s/api/v1/repositories/%s/manifests/%s/scan%s", loop ? "http" : "https",
			 (int)(slash - host), host, repo, tagref, query ? query : "");
	h = curl_easy_init();
	if (!h)
		return -BERTH_ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, scan_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!tls_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_easy_perform(h) != CURLE_OK) {
		snprintf(why, whyn, "%.600s: cannot reach the registry", url);
		rc = -BERTH_EIO;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(why, whyn, "%.600s: HTTP %ld: %.300s", url, status, b.p ? b.p : "");
		rc = status == 404 ? -BERTH_ENOENT : -BERTH_EIO;
		goto out;
	}
	*report = b.p;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	curl_easy_cleanup(h);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{"errata", required_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{"tls-verify", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char **errata = NULL, *ref;
	size_t nerrata = 0, nlayers = 0;
	char **layers = NULL, *report = NULL, *dir = NULL, why[1024] = "";
	int json = 0, tls_verify = 1, c, rc = 1;

	errata = calloc((size_t)argc + 1, sizeof *errata);
	if (!errata)
		return cli_fail("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			errata[nerrata++] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 't':
			tls_verify = strcmp(optarg, "false") != 0;
			break;
		case 'h':
			fputs(SCAN_USAGE, stdout);
			free(errata);
			return 0;
		default:
			fputs(SCAN_USAGE, stderr);
			free(errata);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(SCAN_USAGE, stderr);
		free(errata);
		return 2;
	}
	ref = argv[optind];
	if (nerrata) {
		const char *tag = NULL;
		struct scanner_opts so = {0};

		if (strncmp(ref, "oci:", 4) != 0) {
			cli_fail("with --errata, REF must be a local image (oci:DIR[:TAG]); '%s' is not", ref);
			goto out;
		}
		dir = strdup(ref + 4);
		if (!dir)
			goto out;
		{
			char *colon = strrchr(dir, ':');
			if (colon && !strchr(colon, '/')) {
				*colon = '\0';
				tag = colon + 1;
			}
		}
		if (scanner_oci_layout_layers(dir, tag, &layers, &nlayers, why, sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
		if (scanner_scan_offline((const char *const *)layers, nlayers, errata, nerrata, &so, &report, why,
					 sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
	} else {
		if (cli_registry_report(ref, NULL, tls_verify, &report, why, sizeof why) < 0) {
			cli_fail("%s", why);
			goto out;
		}
	}
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
	for (size_t i = 0; layers && i < nlayers; i++)
		free(layers[i]);
	free(layers);
	free(report);
	free(dir);
	free(errata);
	return rc;
}
