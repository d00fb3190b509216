/* berth copy SRC DEST, berth push SRC REF, berth pull REF: one image from one transport to another.
 * Progress goes to stderr; stdout gets the destination manifest's digest (or, with --json, the
 * whole result: digests, sizes and what happened to each blob). */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/copy.h"
#include "client/sigs.h"
#include "client/transport.h"
#include "image/ref.h"
#include "sign/policy.h"
#include "sign/registries.h"

enum copy_kind { KIND_COPY, KIND_PUSH, KIND_PULL };

enum { OPT_COPY_POLICY = 1200, OPT_COPY_INSECURE, OPT_COPY_REGD, OPT_COPY_NOSIGS };

/* Signature handling of a copy: what the policy check collected, and what to carry. */
struct copy_sigs {
	const char *policy_path, *regd;
	int insecure, remove;
	struct policy *policy;
	struct registries *regs;
	struct client_sigs sigs;
	struct digest dg; /* the source manifest that was checked / whose signatures were collected */
	int have_dg;
};

/* Before any blob moves: evaluates the trust policy against src's signatures (then pins src to the
 * checked manifest), and collects the signatures that will be carried to dst. */
static int copy_sigs_before(struct copy_sigs *cs, struct client_image *src, struct client_image *dst,
			    struct client_err *e)
{
	int rc;

	if (cli_sig_config_load(cs->insecure ? NULL : cs->policy_path, 0, cs->regd, &cs->policy, &cs->regs))
		return client_err_set(e, -BERTH_EINVAL, "invalid signature configuration (see above)");
	if (cs->insecure) {
		policy_free(cs->policy);
		cs->policy = NULL;
	}
	if (cs->policy) {
		rc = client_sigs_check(src, cs->policy, cs->regs, &cs->sigs, &cs->dg, e);
		if (rc < 0)
			return rc;
		cs->have_dg = 1;
		client_sigs_pin(src, &cs->dg);
	} else if (!cs->remove && src->ref.transport == REF_DOCKER) {
		struct buf man;
		char *mt = NULL;
		buf_init(&man, 4 << 20);
		rc = client_image_manifest_get(src, NULL, &man, &mt, &cs->dg, e);
		free(mt);
		buf_release(&man);
		if (rc == 0)
			rc = client_sigs_collect(src, cs->regs, &cs->dg, &cs->sigs, e);
		if (rc < 0)
			return rc;
		cs->have_dg = 1;
		client_sigs_pin(src, &cs->dg);
	}
	if (cs->remove)
		return 0;
	return client_sigs_can_carry(dst, cs->regs, &cs->sigs, e);
}

/* After the image is committed: its signatures, unless --remove-signatures. */
static int copy_sigs_after(struct copy_sigs *cs, struct client_image *dst, const struct digest *written,
			   struct client_err *e)
{
	if (cs->remove || !client_sigs_count(&cs->sigs))
		return 0;
	if (cs->have_dg && !digest_eq(&cs->dg, written))
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "the image was written with a new manifest digest, which its signatures do not "
				      "cover; copy with --remove-signatures");
	return client_sigs_carry(dst, cs->regs, &cs->sigs, written, e);
}

static void copy_sigs_release(struct copy_sigs *cs)
{
	client_sigs_release(&cs->sigs);
	policy_free(cs->policy);
	registries_free(cs->regs);
}

/* Ctrl-C or SIGTERM: the copy stops, fails with "cancelled" and rolls its destination back. */
static atomic_int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&interrupted, 1);
}

static const char *usage_of(enum copy_kind k)
{
	switch (k) {
	case KIND_PUSH:
		return "usage: berth push [options] SRC [docker://]HOST/REPO[:TAG]";
	case KIND_PULL:
		return "usage: berth pull [options] [docker://]HOST/REPO[:TAG|@DIGEST]";
	default:
		return "usage: berth copy [options] SRC DEST";
	}
}

static void help(enum copy_kind k)
{
	printf("%s\n\n"
	       "transports: docker://HOST[:PORT]/REPO[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:FILE[:REF],\n"
	       "            docker-archive:FILE[:NAME[:TAG]], local:NAME[:TAG]\n"
	       "options:\n"
	       "  -j, --jobs N              blobs moved in parallel (default 4)\n"
	       "  -a, --all                 copy every image of an index, and the index\n"
	       "      --platform OS/ARCH[/VARIANT]  the image to take from an index (default: this host's)\n"
	       "  -q, --quiet               no progress display\n"
	       "      --json                print the result as JSON (digests, sizes, skipped/mounted blobs)\n"
	       "      --tls-verify=BOOL     HTTPS with verified certificates (default true); false allows HTTP\n"
	       "      --src-tls-verify=BOOL, --dest-tls-verify=BOOL   the same for one side\n"
	       "      --cert-dir DIR        CA (*.crt) and client certificate (*.cert, *.key) for registries\n"
	       "      --authfile FILE       credentials file (default: REGISTRY_AUTH_FILE, then the containers\n"
	       "                            auth.json, then ~/.docker/config.json)\n"
	       "      --creds USER:PASS, --src-creds, --dest-creds   credentials for this command\n"
	       "      --retries N           how often a broken download resumes (default 5)\n"
	       "      --root DIR            local: the host store's root (default /var/lib/berth)\n"
	       "      --driver NAME         local: its graph driver (overlay2, vfs, btrfs; default: the store's)\n"
	       "      --policy FILE         trust policy checked before any blob moves (default\n"
	       "                            /etc/containers/policy.json when it exists)\n"
	       "      --insecure-policy     do not check a trust policy\n"
	       "      --registries-d DIR    signature storage configuration (default /etc/containers/registries.d)\n"
	       "      --remove-signatures   do not copy the image's signatures\n",
	       usage_of(k));
}

/* "HOST/REPO:TAG" without a transport means docker://. */
static char *with_docker(const char *s)
{
	struct buf b;

	if (strstr(s, "://") || !strncmp(s, "oci:", 4) || !strncmp(s, "oci-archive:", 12) ||
	    !strncmp(s, "docker-archive:", 15) || !strncmp(s, "local:", 6))
		return xstrdup(s);
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "docker://%s", s);
	return buf_detach(&b, NULL);
}

/* local:REPO:TAG for a pulled docker reference. */
static char *local_for(const char *docker_ref, struct client_err *e)
{
	struct image_ref r;
	struct buf b;
	char why[256];

	if (image_ref_parse(docker_ref, &r, why, sizeof(why)) < 0) {
		client_err_set(e, -BERTH_EINVAL, "%s", why);
		return NULL;
	}
	if (r.transport != REF_DOCKER) {
		image_ref_release(&r);
		client_err_set(e, -BERTH_EINVAL, "pull takes a registry reference (docker://HOST/REPO[:TAG])");
		return NULL;
	}
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "local:%s/%s:%s", r.host, r.repo, r.tag ? r.tag : "latest");
	image_ref_release(&r);
	return buf_detach(&b, NULL);
}

static int run(int argc, char **argv, enum copy_kind kind)
{
	static const struct option opts[] = {
	    {"jobs", required_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"src-tls-verify", optional_argument, NULL, OPT_SRC_TLS_VERIFY},
	    {"dest-tls-verify", optional_argument, NULL, OPT_DEST_TLS_VERIFY},
	    {"src-cert-dir", required_argument, NULL, OPT_SRC_CERT_DIR},
	    {"dest-cert-dir", required_argument, NULL, OPT_DEST_CERT_DIR},
	    {"src-creds", required_argument, NULL, OPT_SRC_CREDS},
	    {"dest-creds", required_argument, NULL, OPT_DEST_CREDS},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"driver", required_argument, NULL, OPT_DRIVER},
	    {"policy", required_argument, NULL, OPT_COPY_POLICY},
	    {"insecure-policy", no_argument, NULL, OPT_COPY_INSECURE},
	    {"registries-d", required_argument, NULL, OPT_COPY_REGD},
	    {"remove-signatures", no_argument, NULL, OPT_COPY_NOSIGS},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct client_opts so, dopt;
	struct client_copy_opts co = {0};
	struct client_copy_result res;
	struct client_image *src = NULL, *dst = NULL;
	struct client_err e = {0};
	struct image_platform plat = {0};
	struct cli_progress *prog = NULL;
	struct copy_sigs cs;
	char *src_name = NULL, *dst_name = NULL, *end;
	int c, quiet = 0, json = 0, rc = 2, have_res = 0, v;

	client_opts_init(&so);
	client_opts_init(&dopt);
	memset(&cs, 0, sizeof(cs));
	cs.remove = kind == KIND_PULL; /* the host store keeps no signatures */
	co.jobs = 4;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:aqh", opts, NULL)) != -1) {
		int r1 = cli_client_flag(c, optarg, &so), r2;
		if (r1 < 0)
			goto out;
		r2 = cli_client_flag(c, optarg, &dopt);
		if (r1 == 1 && r2 == 1)
			continue;
		switch (c) {
		case 'j':
			co.jobs = (int)strtol(optarg, &end, 10);
			if (*end || co.jobs < 1 || co.jobs > 64) {
				cli_fail("--jobs takes a number from 1 to 64");
				goto out;
			}
			break;
		case 'a':
			co.all = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			help(kind);
			rc = 0;
			goto out;
		case OPT_PLATFORM:
			image_platform_release(&plat);
			if (image_platform_parse(optarg, &plat) < 0) {
				cli_fail("--platform takes OS/ARCH[/VARIANT], e.g. linux/arm64/v8");
				goto out;
			}
			co.platform = &plat;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_COPY_POLICY:
			cs.policy_path = optarg;
			break;
		case OPT_COPY_INSECURE:
			cs.insecure = 1;
			break;
		case OPT_COPY_REGD:
			cs.regd = optarg;
			break;
		case OPT_COPY_NOSIGS:
			cs.remove = 1;
			break;
		case OPT_SRC_TLS_VERIFY:
		case OPT_DEST_TLS_VERIFY:
			v = cli_parse_bool(optarg);
			if (v < 0) {
				cli_fail("--%s-tls-verify takes true or false",
					 c == OPT_SRC_TLS_VERIFY ? "src" : "dest");
				goto out;
			}
			(c == OPT_SRC_TLS_VERIFY ? &so : &dopt)->tls_verify = v;
			break;
		case OPT_ROOT:
			so.store_root = dopt.store_root = optarg;
			break;
		case OPT_DRIVER:
			so.store_driver = dopt.store_driver = optarg;
			break;
		case OPT_SRC_CERT_DIR:
			so.cert_dir = optarg;
			break;
		case OPT_DEST_CERT_DIR:
			dopt.cert_dir = optarg;
			break;
		case OPT_SRC_CREDS:
		case OPT_DEST_CREDS:
			if (!strchr(optarg, ':')) {
				cli_fail("--%s-creds takes USER:PASSWORD", c == OPT_SRC_CREDS ? "src" : "dest");
				goto out;
			}
			(c == OPT_SRC_CREDS ? &so : &dopt)->creds = optarg;
			break;
		default:
			fprintf(stderr, "%s\n", usage_of(kind));
			goto out;
		}
	}
	if (co.all && co.platform) {
		cli_fail("--all and --platform exclude each other");
		goto out;
	}
	if (argc - optind != (kind == KIND_PULL ? 1 : 2)) {
		fprintf(stderr, "%s\n", usage_of(kind));
		goto out;
	}
	rc = 1;
	switch (kind) {
	case KIND_COPY:
		src_name = xstrdup(argv[optind]);
		dst_name = xstrdup(argv[optind + 1]);
		break;
	case KIND_PUSH:
		src_name = xstrdup(argv[optind]);
		dst_name = with_docker(argv[optind + 1]);
		break;
	case KIND_PULL:
		src_name = with_docker(argv[optind]);
		dst_name = local_for(src_name, &e);
		if (!dst_name) {
			rc = cli_client_fail(&e);
			goto out;
		}
		break;
	}
	if (client_image_open(src_name, CLIENT_SRC, &so, &src, &e) < 0 ||
	    client_image_open(dst_name, CLIENT_DST, &dopt, &dst, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (cs.insecure && cs.policy_path) {
		cli_fail("--policy and --insecure-policy exclude each other");
		rc = 2;
		goto out;
	}
	if (copy_sigs_before(&cs, src, dst, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	prog = cli_progress_new(quiet || json);
	co.on_event = cli_progress_event;
	co.ctx = prog;
	co.cancel = &interrupted;
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	if (client_copy(src, dst, &co, &res, &e) < 0) {
		cli_progress_free(prog);
		prog = NULL;
		rc = cli_client_fail(&e);
		goto out;
	}
	have_res = 1;
	cli_progress_free(prog);
	prog = NULL;
	if (copy_sigs_after(&cs, dst, &res.digest, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (json) {
		char *text = client_copy_result_json(&res, src->name, dst->name);
		printf("%s\n", text);
		free(text);
	} else {
		char ds[DIGEST_STR_MAX];
		printf("%s\n", digest_str(&res.digest, ds));
	}
	rc = 0;
out:
	if (have_res)
		client_copy_result_release(&res);
	cli_progress_free(prog);
	copy_sigs_release(&cs);
	client_image_free(dst);
	client_image_free(src);
	image_platform_release(&plat);
	free(src_name);
	free(dst_name);
	return rc;
}

int cmd_copy(int argc, char **argv)
{
	return run(argc, argv, KIND_COPY);
}

int cmd_push(int argc, char **argv)
{
	return run(argc, argv, KIND_PUSH);
}

int cmd_pull(int argc, char **argv)
{
	return run(argc, argv, KIND_PULL);
}
