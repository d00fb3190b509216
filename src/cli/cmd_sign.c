/* berth sign REF (--key FILE | --gpg KEYID): signs an image in a registry (sigstore .sig attachment or
 * OCI 1.1 referrer; simple signing through the signature extension API or a lookaside).
 * berth verify REF [--policy FILE]: collects an image's signatures and evaluates the trust policy;
 * exit 0 only when it is met, else one line naming the failed requirement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/sigs.h"
#include "client/transport.h"
#include "sign/policy.h"
#include "sign/registries.h"
#include "sign/sigstore.h"

#define KEY_FILE_MAX (1u << 20)

enum {
	OPT_KEY = 1100,
	OPT_GPG,
	OPT_PASSFILE,
	OPT_IDENTITY,
	OPT_ATTACH,
	OPT_REGD,
	OPT_POLICY,
	OPT_GNUPGHOME,
};

/* "HOST/REPO:TAG" without a transport means docker://. */
static char *docker_name(const char *s)
{
	struct buf b;

	if (strstr(s, "://"))
		return xstrdup(s);
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "docker://%s", s);
	return buf_detach(&b, NULL);
}

int cli_sig_config_load(const char *policy_path, int policy_required, const char *regd, struct policy **policy,
			struct registries **regs)
{
	char why[1024];
	struct stat st;

	*policy = NULL;
	*regs = NULL;
	if (policy_path || policy_required || stat(POLICY_DEFAULT_PATH, &st) == 0) {
		const char *p = policy_path ? policy_path : POLICY_DEFAULT_PATH;
		if (policy_load_file(p, policy, why, sizeof(why)) < 0)
			return cli_fail("%s", why);
	}
	if (registries_load_dir(regd ? regd : REGISTRIES_DEFAULT_DIR, regs, why, sizeof(why)) < 0) {
		policy_free(*policy);
		*policy = NULL;
		return cli_fail("%s", why);
	}
	return 0;
}

static int read_first_line(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (!f)
		return cli_fail("cannot read %s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	buf_adds(out, line);
	return 0;
}

static void sign_help(void)
{
	printf("usage: berth sign [options] [docker://]HOST/REPO[:TAG|@DIGEST] (--key FILE | --gpg KEYID)\n\n"
	       "options:\n"
	       "      --key FILE              sign with a cosign private key (sigstore signature)\n"
	       "      --passphrase-file F     the key's passphrase (first line; else COSIGN_PASSWORD, else empty)\n"
	       "      --attach sigstore|referrer  store a sigstore signature in the sha256-<hex>.sig tag\n"
	       "                              (default) or as an OCI 1.1 referrer\n"
	       "      --gpg KEYID             sign with a GnuPG key (simple signing)\n"
	       "      --gnupg-home DIR        the GnuPG home to sign from (default $GNUPGHOME, ~/.gnupg)\n"
	       "      --sign-identity REF     the identity claimed (default: the image's reference)\n"
	       "      --registries-d DIR      lookaside configuration (default /etc/containers/registries.d)\n"
	       "      --tls-verify=BOOL, --cert-dir DIR, --authfile FILE, --creds USER:PASS\n");
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, OPT_KEY},
	    {"gpg", required_argument, NULL, OPT_GPG},
	    {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
	    {"sign-identity", required_argument, NULL, OPT_IDENTITY},
	    {"attach", required_argument, NULL, OPT_ATTACH},
	    {"registries-d", required_argument, NULL, OPT_REGD},
	    {"gnupg-home", required_argument, NULL, OPT_GNUPGHOME},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *key = NULL, *gpg = NULL, *passfile = NULL, *identity = NULL, *regd = NULL, *home = NULL;
	enum client_sig_attach attach = CLIENT_ATTACH_SIGSTORE;
	struct client_opts o;
	struct client_err e = {0};
	struct client_image *im = NULL;
	struct registries *regs = NULL;
	struct policy *unused = NULL;
	struct sign_key *k = NULL;
	struct buf pem, pass;
	struct digest dg;
	char *name = NULL, *where = NULL, why[512], ds[DIGEST_STR_MAX];
	int c, rc = 2;

	client_opts_init(&o);
	buf_init(&pem, KEY_FILE_MAX);
	buf_init(&pass, 4096);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &o);
		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (c) {
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_GPG:
			gpg = optarg;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		case OPT_IDENTITY:
			identity = optarg;
			break;
		case OPT_REGD:
			regd = optarg;
			break;
		case OPT_GNUPGHOME:
			home = optarg;
			break;
		case OPT_ATTACH:
			if (!strcmp(optarg, "sigstore")) {
				attach = CLIENT_ATTACH_SIGSTORE;
			} else if (!strcmp(optarg, "referrer")) {
				attach = CLIENT_ATTACH_REFERRER;
			} else {
				cli_fail("--attach takes sigstore or referrer");
				goto out;
			}
			break;
		case 'h':
			sign_help();
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "usage: berth sign [options] REF (--key FILE | --gpg KEYID)\n");
			goto out;
		}
	}
	if (argc - optind != 1 || !key == !gpg) {
		cli_fail("sign takes one image and exactly one of --key FILE and --gpg KEYID");
		goto out;
	}
	rc = 1;
	if (key) {
		if (client__file_read(key, KEY_FILE_MAX, &pem, &e) < 0) {
			rc = cli_fail("cannot read key %s", key);
			goto out;
		}
		if (passfile) {
			if (read_first_line(passfile, &pass))
				goto out;
		} else if (getenv("COSIGN_PASSWORD")) {
			buf_adds(&pass, getenv("COSIGN_PASSWORD"));
		}
		if (sign_key_load_private(pem.ptr, pem.len, pass.ptr, pass.len, &k, why, sizeof(why)) < 0) {
			rc = cli_fail("%s: %s", key, why);
			goto out;
		}
	} else {
		if (passfile && read_first_line(passfile, &pass))
			goto out;
		if (cli_sig_config_load(NULL, 0, regd, &unused, &regs))
			goto out;
	}
	name = docker_name(argv[optind]);
	if (client_image_open(name, CLIENT_SRC, &o, &im, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (key)
		rc = client_sigs_sign_sigstore(im, k, identity, attach, &dg, &e);
	else
		rc = client_sigs_sign_gpg(im, regs, home, gpg, passfile ? pass.ptr : NULL, identity, &dg, &where, &e);
	if (rc < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	printf("signed %s %s (%s)\n", im->name, digest_str(&dg, ds),
	       key ? (attach == CLIENT_ATTACH_REFERRER ? "sigstore, OCI 1.1 referrer" : "sigstore, .sig attachment")
		   : where);
	rc = 0;
out:
	if (pass.len)
		memset(pass.ptr, 0, pass.len);
	buf_release(&pass);
	buf_release(&pem);
	sign_key_free(k);
	client_image_free(im);
	registries_free(regs);
	policy_free(unused);
	free(name);
	free(where);
	return rc;
}

static void verify_help(void)
{
	printf("usage: berth verify [options] [docker://]HOST/REPO[:TAG|@DIGEST]\n\n"
	       "Collects the image's signatures (signature extension API, lookaside, sigstore attachments,\n"
	       "OCI 1.1 referrers) and evaluates the trust policy. Exit 0 only when the policy is met.\n\n"
	       "options:\n"
	       "      --policy FILE           containers-policy.json(5) (default " POLICY_DEFAULT_PATH ")\n"
	       "      --registries-d DIR      lookaside configuration (default " REGISTRIES_DEFAULT_DIR ")\n"
	       "      --json                  print the verdict as JSON\n"
	       "      --tls-verify=BOOL, --cert-dir DIR, --authfile FILE, --creds USER:PASS\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"registries-d", required_argument, NULL, OPT_REGD},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *regd = NULL;
	struct client_opts o;
	struct client_err e = {0};
	struct client_image *im = NULL;
	struct registries *regs = NULL;
	struct policy *pol = NULL;
	struct client_sigs sigs;
	struct digest dg;
	char *name = NULL, ds[DIGEST_STR_MAX];
	int c, rc = 2, json = 0, checked;

	memset(&sigs, 0, sizeof(sigs));
	client_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_client_flag(c, optarg, &o);
		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (c) {
		case OPT_POLICY:
			policy_path = optarg;
			break;
		case OPT_REGD:
			regd = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			verify_help();
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "usage: berth verify [--policy FILE] [--registries-d DIR] [--json] REF\n");
			goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: berth verify [--policy FILE] [--registries-d DIR] [--json] REF\n");
		goto out;
	}
	rc = 1;
	if (cli_sig_config_load(policy_path, 1, regd, &pol, &regs))
		goto out;
	name = docker_name(argv[optind]);
	if (client_image_open(name, CLIENT_SRC, &o, &im, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	checked = client_sigs_check(im, pol, regs, &sigs, &dg, &e);
	if (checked < 0 && checked != -BERTH_EDENIED) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I}", "image", im->name, "digest", digest_str(&dg, ds),
				      "accepted", checked == 0, "simpleSignatures", (json_int_t)sigs.c.nsimple,
				      "sigstoreSignatures", (json_int_t)sigs.c.nsigstore);
		char *text;
		if (checked < 0)
			json_object_set_new(j, "reason", json_string(e.msg));
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(j);
	} else if (checked == 0) {
		printf("accepted: %s %s (%zu simple, %zu sigstore signatures)\n", im->name, digest_str(&dg, ds),
		       sigs.c.nsimple, sigs.c.nsigstore);
	}
	if (checked < 0 && !json)
		cli_client_fail(&e);
	rc = checked == 0 ? 0 : 1;
out:
	client_sigs_release(&sigs);
	client_image_free(im);
	registries_free(regs);
	policy_free(pol);
	free(name);
	return rc;
}
