/* berth: one binary. `berth serve` runs the registry; every other subcommand is a client or host tool. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/fault.h"
#include "cli/cli.h"
#include <stdlib.h>

static const struct command commands[] = {
    {"serve", cmd_serve, "serve [--config FILE] [--addr HOST:PORT] [--data DIR]",
     "run the registry (OCI Distribution API v1.1)"},
    {"copy", cmd_copy, "copy [options] SRC DEST", "copy an image between transports (docker://, oci:, ...)"},
    {"push", cmd_push, "push [options] SRC [docker://]HOST/REPO[:TAG]", "copy an image to a registry"},
    {"pull", cmd_pull, "pull [options] [docker://]HOST/REPO[:TAG|@DIGEST]", "copy an image into the host store"},
    {"inspect", cmd_inspect, "inspect [--raw|--config|--json] REF", "show an image's manifest, config and layers"},
    {"tags", cmd_tags, "tags [--json] docker://HOST/REPO", "list a repository's tags"},
    {"delete", cmd_delete, "delete REF", "delete an image's manifest"},
    {"login", cmd_login, "login [-u USER] [--password-stdin] HOST", "check and save registry credentials"},
    {"logout", cmd_logout, "logout HOST | --all", "forget registry credentials"},
    {"errata", cmd_errata, "errata import|list|show|sync [options]",
     "import, list and show security errata; sync the configured feeds"},
    {"images", cmd_images, "images [--root DIR] [--driver NAME] [--json]", "list images in the host store"},
    {"layers", cmd_layers, "layers [--root DIR] [--driver NAME] [--json]", "list layers in the host store"},
    {"rmi", cmd_rmi, "rmi IMAGE... [--root DIR] [--driver NAME]", "remove images from the host store"},
    {"mount", cmd_mount, "mount IMAGE [--name NAME] [--root DIR] [--driver NAME]",
     "create and mount a container root file system; prints its path"},
    {"umount", cmd_umount, "umount NAME [--root DIR] [--driver NAME]", "unmount a container's root file system"},
    {"rm", cmd_rm, "rm NAME... [--root DIR] [--driver NAME]", "delete containers and their writable layers"},
    {"prune", cmd_prune, "prune [--root DIR] [--driver NAME] [--json]", "remove layers no image uses"},
    {"gc", cmd_gc, "gc [--data DIR] [--dry-run] [--grace DUR] [--delete-untagged]",
     "remove unreferenced blobs (online: safe while serve runs)"},
    {"keygen", cmd_keygen, "keygen [--output-prefix P] [--passphrase-file F]",
     "write a sigstore (cosign) key pair P.key and P.pub"},
    {"sign", cmd_sign, "sign [options] REF (--key FILE | --gpg KEYID)",
     "sign an image in a registry (sigstore or simple signing)"},
    {"verify", cmd_verify, "verify [--policy FILE] [--registries-d DIR] [--json] REF",
     "check an image's signatures against the trust policy"},
    {"custody", cmd_custody, "custody log REF | verify [--expect-head H] [--data DIR] [--json]",
     "show an image's custody log; verify the log's hash chain"},
    {"scan", cmd_scan, "scan REF [--errata PATH]... [--platform OS/ARCH] [--json] [--tls-verify=false]",
     "an image's packages and the advisories that hit them (offline, any transport, with --errata)"},
    {"grade", cmd_grade,
     "grade REF|--all [--at DATE] [--unknown-severity S] [--errata PATH]... [--sort grade|name] [--json]",
     "an image's Container Health Index grade and when it will drop; --all: every repository and tag"},
    {"version", cmd_version, "version", "print the version"},
    {NULL, NULL, NULL, NULL},
};

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("berth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_config_load(struct config *cfg, const char *path, const char *data)
{
	char why[512];

	if (path && config_load_file(cfg, path, why, sizeof(why)) < 0)
		return cli_fail("config: %s", why);
	config_apply_env(cfg);
	if (data)
		config_set(cfg, "storage.filesystem.rootdirectory", data);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: berth <command> [options]\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-60s %s\n", c->usage, c->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* fault injection for tests (base/fault.h): counts from here */
	if (fault_parse(getenv("BERTH_FAULT")) < 0) {
		cli_fail("BERTH_FAULT '%s' is not POINT:N[:eio|enospc],... (points: write, fsync, rename, db)",
			 getenv("BERTH_FAULT"));
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	cli_fail("unknown command '%s' (see berth --help)", argv[1]);
	return 2;
}
