/* berth inspect REF: the manifest, platforms, config, layers and history of an image.
 * --raw prints the manifest's exact bytes, --config the config's, --json one JSON document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/inspect.h"
#include "client/transport.h"

static const char usage[] = "usage: berth inspect [--raw|--config|--json] [--platform OS/ARCH[/VARIANT]] "
			    "[--tls-verify=BOOL] [--cert-dir DIR] [--authfile FILE] [--creds USER:PASS] REF";

static void print_summary(const struct client_inspect *in, const char *name)
{
	char ds[DIGEST_STR_MAX], size[32];

	printf("Name:        %s\n", name);
	printf("Digest:      %s\n", digest_str(&in->digest, ds));
	printf("Media type:  %s\n", in->media_type ? in->media_type : "");
	if (in->top.is_index) {
		printf("Platforms:\n");
		for (size_t i = 0; i < in->top.nmanifests; i++) {
			char pf[96];
			const struct image_desc *d = &in->top.manifests[i];
			image_platform_format(&d->platform, pf, sizeof(pf));
			printf("  %-20s %s\n", d->platform.os ? pf : "(none)", digest_str(&d->digest, ds));
		}
		if (!in->has_image) {
			printf("(no image for this platform; choose one with --platform)\n");
			return;
		}
		printf("Image:       %s\n", digest_str(&in->image_digest, ds));
	}
	if (in->platform[0])
		printf("Platform:    %s\n", in->platform);
	if (in->created)
		printf("Created:     %s\n", in->created);
	if (in->author)
		printf("Author:      %s\n", in->author);
	printf("Config:      %s\n", digest_str(&in->image.config.digest, ds));
	cli_human_size((uint64_t)client_inspect_size(in), size, sizeof(size));
	printf("Layers:      %zu, %s\n", in->image.nlayers, size);
	for (size_t i = 0; i < in->image.nlayers; i++) {
		const struct image_desc *l = &in->image.layers[i];
		cli_human_size((uint64_t)l->size, size, sizeof(size));
		printf("  %s  %10s  %s\n", digest_str(&l->digest, ds), size, l->media_type ? l->media_type : "");
	}
	if (in->nhistory) {
		printf("History:\n");
		for (size_t i = 0; i < in->nhistory; i++) {
			const struct client_history *h = &in->history[i];
			const char *what = h->created_by ? h->created_by : (h->comment ? h->comment : "");
			printf("  %-20.20s %s%.*s%s\n", h->created ? h->created : "", h->empty_layer ? "(empty) " : "",
			       100, what, strlen(what) > 100 ? "..." : "");
		}
	}
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"config", no_argument, NULL, OPT_CONFIG},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct client_opts o;
	struct client_image *src = NULL;
	struct client_inspect in;
	struct client_err e = {0};
	struct image_platform plat = {0}, *want = NULL;
	int c, raw = 0, config = 0, json = 0, rc = 2, have = 0;

	client_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &o);
		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (c) {
		case OPT_RAW:
			raw = 1;
			break;
		case OPT_CONFIG:
			config = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_PLATFORM:
			image_platform_release(&plat);
			if (image_platform_parse(optarg, &plat) < 0) {
				cli_fail("--platform takes OS/ARCH[/VARIANT]");
				goto out;
			}
			want = &plat;
			break;
		case 'h':
			printf("%s\n", usage);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "%s\n", usage);
			goto out;
		}
	}
	if (argc - optind != 1 || raw + config + json > 1) {
		fprintf(stderr, "%s\n", usage);
		goto out;
	}
	rc = 1;
	if (client_image_open(argv[optind], CLIENT_SRC, &o, &src, &e) < 0 ||
	    client_inspect(src, want, raw, &in, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	have = 1;
	if (raw) {
		fwrite(in.raw.ptr, 1, in.raw.len, stdout);
	} else if (config) {
		if (!in.has_image) {
			rc = cli_fail("%s: no image for this platform; choose one with --platform", src->name);
			goto out;
		}
		fwrite(in.config.ptr, 1, in.config.len, stdout);
	} else if (json) {
		char *text = client_inspect_json(&in, src->name);
		printf("%s\n", text);
		free(text);
	} else {
		print_summary(&in, src->name);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	if (have)
		client_inspect_release(&in);
	client_image_free(src);
	image_platform_release(&plat);
	return rc;
}
