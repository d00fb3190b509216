/* sign_tool: the signing library on files, for the integration tests (never installed), until the
 * real `berth sign` / `berth verify` commands exist.
 *
 *   sign_tool sign-sigstore --key K --passphrase-file F --ref R --manifest M --payload-out P --sig-out S [--creator C]
 *   sign_tool attachment [--existing M --blobs DIR] --payload P --sig S [...] --out DIR
 *       writes DIR/manifest.json, DIR/config.json and DIR/<hex> for each new payload blob
 *   sign_tool sign-gpg --home H --key ID --ref R --manifest M --out S
 *   sign_tool verify-gpg --keyring K --sig S          prints the signer fingerprint and the payload
 *   sign_tool policy-eval --policy P --ref R --manifest M [--attachment M2 --blobs DIR] [--simple S]...
 *       exit 0 and "accepted", or exit 1 and the reason
 *   sign_tool referrer --payload P --sig S --manifest M --out DIR
 *       an OCI 1.1 referrer signature artifact for image manifest M: DIR/manifest.json, DIR/<hex> payload
 *   sign_tool lookaside --registries-d DIR --ref R [--write] [--manifest M --index N]
 *   sign_tool verify --ref HOST:PORT/REPO:TAG --policy P [--registries-d DIR]
 *       what `berth verify` will do, over plain HTTP to a loopback registry: fetch the manifest,
 *       sign_collect() its signatures (lookaside, .sig attachment), policy_eval(); exit 0 "accepted"
 *       prints the lookaside base (or "none"), use-sigstore-attachments, and the signature URL
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/err.h"
#include "image/manifest.h"
#include "sign/collect.h"
#include "sign/gpg.h"
#include "sign/policy.h"
#include "sign/registries.h"
#include "sign/sigstore.h"
#include "sign/simple.h"

#define FILE_MAX (64u << 20)

static int die(const char *fmt, const char *a)
{
	fprintf(stderr, "sign_tool: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

static int slurp(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		return -BERTH_ENOENT;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(out, chunk, n) < 0) {
			fclose(f);
			return -BERTH_ETOOBIG;
		}
	fclose(f);
	return 0;
}

static int spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, n, f) == n;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -BERTH_EIO;
}

/* Options shared by every subcommand; each uses what it needs. */
struct opts {
	const char *key, *passfile, *ref, *manifest, *payload_out, *sig_out, *existing, *blobs, *out, *home, *keyid,
	    *keyring, *sig, *policy, *attachment, *regd, *creator;
	const char *payloads[16], *sigs[16], *simple[16];
	int npayloads, nsigs, nsimple, write, index;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"passphrase-file", required_argument, NULL, 'f'},
	    {"ref", required_argument, NULL, 'r'},
	    {"manifest", required_argument, NULL, 'm'},
	    {"payload-out", required_argument, NULL, 'P'},
	    {"sig-out", required_argument, NULL, 'S'},
	    {"existing", required_argument, NULL, 'e'},
	    {"blobs", required_argument, NULL, 'b'},
	    {"out", required_argument, NULL, 'o'},
	    {"home", required_argument, NULL, 'H'},
	    {"keyring", required_argument, NULL, 'K'},
	    {"sig", required_argument, NULL, 's'},
	    {"payload", required_argument, NULL, 'p'},
	    {"policy", required_argument, NULL, 'y'},
	    {"attachment", required_argument, NULL, 'a'},
	    {"simple", required_argument, NULL, 'g'},
	    {"registries-d", required_argument, NULL, 'd'},
	    {"write", no_argument, NULL, 'w'},
	    {"index", required_argument, NULL, 'i'},
	    {"creator", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->key = optarg, o->keyid = optarg;
			break;
		case 'f':
			o->passfile = optarg;
			break;
		case 'r':
			o->ref = optarg;
			break;
		case 'm':
			o->manifest = optarg;
			break;
		case 'P':
			o->payload_out = optarg;
			break;
		case 'S':
			o->sig_out = optarg;
			break;
		case 'e':
			o->existing = optarg;
			break;
		case 'b':
			o->blobs = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'H':
			o->home = optarg;
			break;
		case 'K':
			o->keyring = optarg;
			break;
		case 's':
			o->sig = optarg;
			if (o->nsigs < 16)
				o->sigs[o->nsigs++] = optarg;
			break;
		case 'p':
			if (o->npayloads < 16)
				o->payloads[o->npayloads++] = optarg;
			break;
		case 'y':
			o->policy = optarg;
			break;
		case 'a':
			o->attachment = optarg;
			break;
		case 'g':
			if (o->nsimple < 16)
				o->simple[o->nsimple++] = optarg;
			break;
		case 'd':
			o->regd = optarg;
			break;
		case 'w':
			o->write = 1;
			break;
		case 'i':
			o->index = atoi(optarg);
			break;
		case 'c':
			o->creator = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int manifest_digest(const char *path, struct digest *d, struct buf *body)
{
	if (slurp(path, body) < 0)
		return -1;
	digest_of(DIGEST_SHA256, body->ptr, body->len, d);
	return 0;
}

static int cmd_sign_sigstore(struct opts *o)
{
	struct buf pem, pass, man;
	struct sign_key *k = NULL;
	struct sign_sigstore_sig s;
	struct digest d;
	char why[512];
	int rc = 1;

	buf_init(&pem, FILE_MAX);
	buf_init(&pass, FILE_MAX);
	buf_init(&man, FILE_MAX);
	memset(&s, 0, sizeof(s));
	if (!o->key || !o->ref || !o->manifest || !o->payload_out || !o->sig_out)
		return die("%s", "sign-sigstore needs --key --ref --manifest --payload-out --sig-out");
	if (slurp(o->key, &pem) < 0 || (o->passfile && slurp(o->passfile, &pass) < 0) ||
	    manifest_digest(o->manifest, &d, &man) < 0) {
		die("%s", "cannot read the inputs");
		goto out;
	}
	while (pass.len && (pass.ptr[pass.len - 1] == '\n' || pass.ptr[pass.len - 1] == '\r'))
		pass.ptr[--pass.len] = '\0';
	if (sign_key_load_private(pem.ptr, pem.len, pass.ptr, pass.len, &k, why, sizeof(why)) < 0) {
		die("loading the key: %s", why);
		goto out;
	}
	if (sign_sigstore_create(k, o->ref, &d, (int64_t)time(NULL), o->creator ? o->creator : "berth sign_tool", &s) <
		0 ||
	    spill(o->payload_out, s.payload, s.payload_len) < 0 ||
	    spill(o->sig_out, s.signature_b64, strlen(s.signature_b64)) < 0) {
		die("%s", "signing failed");
		goto out;
	}
	rc = 0;
out:
	sign_sigstore_sig_release(&s);
	sign_key_free(k);
	buf_release(&pem);
	buf_release(&pass);
	buf_release(&man);
	return rc;
}

static int cmd_attachment(struct opts *o)
{
	struct sign_attachment a;
	struct buf body, cfg, man, path;
	struct digest cd;
	char why[512];
	int rc = 1;

	buf_init(&body, FILE_MAX);
	buf_init(&cfg, FILE_MAX);
	buf_init(&man, FILE_MAX);
	buf_init(&path, 8192);
	sign_attachment_init(&a);
	if (!o->out || o->npayloads != o->nsigs)
		return die("%s", "attachment needs --out and as many --payload as --sig");
	if (o->existing) {
		if (slurp(o->existing, &body) < 0 ||
		    sign_attachment_parse(body.ptr, body.len, &a, why, sizeof(why)) < 0) {
			die("existing attachment: %s", why);
			goto out;
		}
	}
	for (int i = 0; i < o->npayloads; i++) {
		struct sign_sigstore_sig s;
		struct buf p, sg;
		buf_init(&p, FILE_MAX);
		buf_init(&sg, FILE_MAX);
		if (slurp(o->payloads[i], &p) < 0 || slurp(o->sigs[i], &sg) < 0) {
			buf_release(&p);
			buf_release(&sg);
			die("%s", "cannot read a payload or signature");
			goto out;
		}
		s.media_type = (char *)SIGSTORE_SIG_MEDIA_TYPE;
		s.payload = (unsigned char *)p.ptr;
		s.payload_len = p.len;
		s.signature_b64 = sg.ptr;
		if (sign_attachment_add(&a, &s) == 1) {
			buf_reset(&path);
			buf_addf(&path, "%s/%s", o->out, a.layers[a.nlayers - 1].digest.hex);
			spill(path.ptr, p.ptr, p.len);
		}
		buf_release(&p);
		buf_release(&sg);
	}
	if (sign_attachment_config(&a, &cfg) < 0)
		goto out;
	digest_of(DIGEST_SHA256, cfg.ptr, cfg.len, &cd);
	if (sign_attachment_manifest(&a, &cd, (int64_t)cfg.len, &man) < 0)
		goto out;
	buf_reset(&path);
	buf_addf(&path, "%s/config.json", o->out);
	spill(path.ptr, cfg.ptr, cfg.len);
	buf_reset(&path);
	buf_addf(&path, "%s/manifest.json", o->out);
	spill(path.ptr, man.ptr, man.len);
	rc = 0;
out:
	sign_attachment_release(&a);
	buf_release(&body);
	buf_release(&cfg);
	buf_release(&man);
	buf_release(&path);
	return rc;
}

static int cmd_sign_gpg(struct opts *o)
{
	struct buf man, payload, sig;
	struct digest d;
	char ds[DIGEST_STR_MAX], why[512];
	int rc = 1;

	buf_init(&man, FILE_MAX);
	buf_init(&payload, FILE_MAX);
	buf_init(&sig, FILE_MAX);
	if (!o->keyid || !o->ref || !o->manifest || !o->out)
		return die("%s", "sign-gpg needs --key --ref --manifest --out");
	if (manifest_digest(o->manifest, &d, &man) < 0)
		goto out;
	if (sign_payload_create(SIGN_PAYLOAD_ATOMIC, o->ref, digest_str(&d, ds), "berth sign_tool", (int64_t)time(NULL),
				&payload) < 0 ||
	    sign_gpg_sign(o->home, o->keyid, NULL, payload.ptr, payload.len, &sig, why, sizeof(why)) < 0) {
		die("signing: %s", why);
		goto out;
	}
	rc = spill(o->out, sig.ptr, sig.len) < 0;
out:
	buf_release(&man);
	buf_release(&payload);
	buf_release(&sig);
	return rc;
}

static int cmd_verify_gpg(struct opts *o)
{
	struct sign_gpg_keyring *kr = NULL;
	struct buf keys, sig, contents;
	char why[512], fpr[SIGN_GPG_FPR_MAX];
	int rc = 1;

	buf_init(&keys, FILE_MAX);
	buf_init(&sig, FILE_MAX);
	buf_init(&contents, FILE_MAX);
	if (!o->keyring || !o->sig || slurp(o->keyring, &keys) < 0 || slurp(o->sig, &sig) < 0)
		return die("%s", "verify-gpg needs a readable --keyring and --sig");
	if (sign_gpg_keyring_new(&kr, why, sizeof(why)) < 0 ||
	    sign_gpg_keyring_import(kr, keys.ptr, keys.len, NULL, why, sizeof(why)) < 0 ||
	    sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)) < 0) {
		printf("rejected: %s\n", why);
		goto out;
	}
	printf("%s\n%s\n", fpr, contents.ptr);
	rc = 0;
out:
	sign_gpg_keyring_free(kr);
	buf_release(&keys);
	buf_release(&sig);
	buf_release(&contents);
	return rc;
}

static int cmd_policy_eval(struct opts *o)
{
	struct policy *p = NULL;
	struct sign_ref r;
	struct buf man, att, reason, simple[16];
	struct policy_blob blobs[16];
	struct sign_sigstore_sig sigs[64];
	struct sign_attachment a;
	size_t nsigs = 0;
	char why[1024];
	int rc = 1;

	buf_init(&man, FILE_MAX);
	buf_init(&att, FILE_MAX);
	buf_init(&reason, FILE_MAX);
	sign_attachment_init(&a);
	for (int i = 0; i < 16; i++)
		buf_init(&simple[i], FILE_MAX);
	if (!o->policy || !o->ref || !o->manifest)
		return die("%s", "policy-eval needs --policy --ref --manifest");
	if (policy_load_file(o->policy, &p, why, sizeof(why)) < 0) {
		printf("invalid policy: %s\n", why);
		goto out;
	}
	if (sign_ref_parse_docker(o->ref, &r, why, sizeof(why)) < 0 || slurp(o->manifest, &man) < 0) {
		printf("bad reference or manifest: %s\n", why);
		goto out;
	}
	if (o->attachment) {
		if (slurp(o->attachment, &att) < 0 ||
		    sign_attachment_parse(att.ptr, att.len, &a, why, sizeof(why)) < 0) {
			printf("bad attachment manifest: %s\n", why);
			goto out;
		}
		for (size_t i = 0; i < a.nlayers && nsigs < 64; i++) {
			struct buf blob, path;
			buf_init(&blob, FILE_MAX);
			buf_init(&path, 8192);
			buf_addf(&path, "%s/%s", o->blobs ? o->blobs : ".", a.layers[i].digest.hex);
			if (slurp(path.ptr, &blob) == 0 &&
			    sign_attachment_layer_sig(&a.layers[i], blob.ptr, blob.len, &sigs[nsigs]) == 0)
				nsigs++;
			buf_release(&blob);
			buf_release(&path);
		}
	}
	for (int i = 0; i < o->nsimple; i++) {
		if (slurp(o->simple[i], &simple[i]) < 0) {
			printf("cannot read %s\n", o->simple[i]);
			goto out;
		}
		blobs[i].ptr = simple[i].ptr;
		blobs[i].len = simple[i].len;
	}
	{
		struct policy_image img = {.ref = &r,
					   .manifest = man.ptr,
					   .manifest_len = man.len,
					   .simple = blobs,
					   .nsimple = (size_t)o->nsimple,
					   .sigstore = sigs,
					   .nsigstore = nsigs};
		if (policy_eval(p, &img, &reason) == 0) {
			printf("accepted\n");
			rc = 0;
		} else {
			printf("%s\n", reason.ptr);
		}
	}
out:
	for (size_t i = 0; i < nsigs; i++)
		sign_sigstore_sig_release(&sigs[i]);
	for (int i = 0; i < 16; i++)
		buf_release(&simple[i]);
	sign_attachment_release(&a);
	policy_free(p);
	buf_release(&man);
	buf_release(&att);
	buf_release(&reason);
	return rc;
}

static int cmd_referrer(struct opts *o)
{
	struct buf p, sg, man, out, path;
	struct sign_sigstore_sig s;
	struct digest md, pd;
	int rc = 1;

	buf_init(&p, FILE_MAX);
	buf_init(&sg, FILE_MAX);
	buf_init(&man, FILE_MAX);
	buf_init(&out, FILE_MAX);
	buf_init(&path, 8192);
	if (o->npayloads != 1 || o->nsigs != 1 || !o->manifest || !o->out)
		return die("%s", "referrer needs --payload --sig --manifest --out");
	if (slurp(o->payloads[0], &p) < 0 || slurp(o->sigs[0], &sg) < 0 || manifest_digest(o->manifest, &md, &man) < 0)
		goto out;
	s.media_type = (char *)SIGSTORE_SIG_MEDIA_TYPE;
	s.payload = (unsigned char *)p.ptr;
	s.payload_len = p.len;
	s.signature_b64 = sg.ptr;
	if (sign_referrer_manifest(&s, MT_OCI_MANIFEST, &md, (int64_t)man.len, &out) < 0)
		goto out;
	digest_of(DIGEST_SHA256, p.ptr, p.len, &pd);
	buf_addf(&path, "%s/%s", o->out, pd.hex);
	spill(path.ptr, p.ptr, p.len);
	buf_reset(&path);
	buf_addf(&path, "%s/manifest.json", o->out);
	rc = spill(path.ptr, out.ptr, out.len) < 0;
out:
	buf_release(&p);
	buf_release(&sg);
	buf_release(&man);
	buf_release(&out);
	buf_release(&path);
	return rc;
}

static int cmd_lookaside(struct opts *o)
{
	struct registries *rg = NULL;
	struct sign_ref r;
	struct buf man, url;
	struct digest d;
	const char *base;
	char why[512];
	int rc = 1;

	buf_init(&man, FILE_MAX);
	buf_init(&url, 8192);
	if (!o->regd || !o->ref)
		return die("%s", "lookaside needs --registries-d --ref");
	if (registries_load_dir(o->regd, &rg, why, sizeof(why)) < 0 ||
	    sign_ref_parse_docker(o->ref, &r, why, sizeof(why)) < 0) {
		printf("error: %s\n", why);
		goto out;
	}
	base = registries_lookaside(rg, &r, o->write);
	printf("%s\n%s\n", base ? base : "none",
	       registries_use_sigstore_attachments(rg, &r) ? "attachments" : "no-attachments");
	if (base && o->manifest && manifest_digest(o->manifest, &d, &man) == 0 &&
	    registries_lookaside_url(base, &r, &d, (unsigned)o->index, &url) == 0)
		printf("%s\n", url.ptr);
	rc = 0;
out:
	registries_free(rg);
	buf_release(&man);
	buf_release(&url);
	return rc;
}

/* A one-shot HTTP/1.1 GET to host:port (loopback, no TLS). Returns the status (or -1) and fills body and
 * the Content-Type; enough for the test registry, which always sends Content-Length. */
static int http_get(const char *hostport, const char *path, const char *accept, struct buf *body, char *ct, size_t ctn)
{
	char host[256], req[8192], chunk[65536];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_in sa;
	struct buf raw;
	int fd, status = -1;
	char *hdr_end, *p;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\nConnection: close\r\n\r\n", path,
		 hostport, accept ? accept : "*/*");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	buf_init(&raw, FILE_MAX);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n <= 0 || buf_add(&raw, chunk, (size_t)n) < 0)
			break;
	}
	close(fd);
	hdr_end = raw.ptr ? strstr(raw.ptr, "\r\n\r\n") : NULL;
	if (hdr_end && sscanf(raw.ptr, "HTTP/1.%*d %d", &status) == 1) {
		*hdr_end = '\0';
		if (ct && ctn) {
			ct[0] = '\0';
			p = strcasestr(raw.ptr, "\r\nContent-Type:");
			if (p) {
				p += 15;
				while (*p == ' ')
					p++;
				snprintf(ct, ctn, "%.*s", (int)strcspn(p, "\r;"), p);
			}
		}
		buf_add(body, hdr_end + 4, raw.len - (size_t)(hdr_end + 4 - raw.ptr));
	}
	buf_release(&raw);
	return status;
}

static int status_rc(int status)
{
	return status == 200 ? 0 : status == 404 ? -BERTH_ENOENT : -BERTH_EIO;
}

static int fetch_manifest(void *ctx, const struct sign_ref *ref, const char *tag, struct buf *out, char *mt, size_t mtn)
{
	char path[1024];

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", sign_ref_path(ref), tag);
	return status_rc(http_get(ctx, path, MT_OCI_MANIFEST, out, mt, mtn));
}

static int fetch_blob(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out)
{
	char path[1024], ds[DIGEST_STR_MAX];

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", sign_ref_path(ref), digest_str(d, ds));
	return status_rc(http_get(ctx, path, NULL, out, NULL, 0));
}

static int cmd_verify(struct opts *o)
{
	struct registries *rg = NULL;
	struct policy *p = NULL;
	struct sign_ref r;
	struct sign_collected c;
	struct buf man, reason;
	struct policy_blob *blobs = NULL;
	struct policy_image img;
	struct digest d;
	char why[1024], path[1024], mt[256], hostport[256];
	struct sign_fetch f = {.manifest = fetch_manifest, .blob = fetch_blob};
	int rc = 1;

	buf_init(&man, FILE_MAX);
	buf_init(&reason, FILE_MAX);
	memset(&c, 0, sizeof(c));
	if (!o->ref || !o->policy)
		return die("%s", "verify needs --ref --policy");
	if (sign_ref_parse_docker(o->ref, &r, why, sizeof(why)) < 0 || r.domain_len == 0 ||
	    r.domain_len >= sizeof(hostport)) {
		printf("bad reference: %s\n", why);
		goto out;
	}
	memcpy(hostport, r.name, r.domain_len);
	hostport[r.domain_len] = '\0';
	f.ctx = hostport;
	if (policy_load_file(o->policy, &p, why, sizeof(why)) < 0) {
		printf("invalid policy: %s\n", why);
		goto out;
	}
	if (o->regd ? registries_load_dir(o->regd, &rg, why, sizeof(why)) < 0 : (rg = registries_new()) == NULL) {
		printf("registries.d: %s\n", why);
		goto out;
	}
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", sign_ref_path(&r), r.tag[0] ? r.tag : r.digest);
	if (http_get(hostport, path, MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST,
		     &man, mt, sizeof(mt)) != 200) {
		printf("cannot fetch the manifest %s\n", path);
		goto out;
	}
	digest_of(DIGEST_SHA256, man.ptr, man.len, &d);
	if (sign_collect(rg, &r, &d, 0, &f, &c, why, sizeof(why)) < 0) {
		printf("collecting signatures: %s\n", why);
		goto out;
	}
	blobs = calloc(c.nsimple + 1, sizeof(*blobs));
	sign_collected_image(&c, &r, man.ptr, man.len, blobs, &img);
	if (policy_eval(p, &img, &reason) == 0) {
		printf("accepted (%zu simple, %zu sigstore)\n", c.nsimple, c.nsigstore);
		rc = 0;
	} else {
		printf("%s\n", reason.ptr);
	}
out:
	free(blobs);
	sign_collected_release(&c);
	registries_free(rg);
	policy_free(p);
	buf_release(&man);
	buf_release(&reason);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (argc < 2 || parse_opts(argc - 1, argv + 1, &o) < 0)
		return die("%s", "usage: sign_tool COMMAND [options] (see the comment at the top of sign_tool.c)");
	if (!strcmp(argv[1], "sign-sigstore"))
		return cmd_sign_sigstore(&o);
	if (!strcmp(argv[1], "attachment"))
		return cmd_attachment(&o);
	if (!strcmp(argv[1], "sign-gpg"))
		return cmd_sign_gpg(&o);
	if (!strcmp(argv[1], "verify-gpg"))
		return cmd_verify_gpg(&o);
	if (!strcmp(argv[1], "policy-eval"))
		return cmd_policy_eval(&o);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(&o);
	if (!strcmp(argv[1], "referrer"))
		return cmd_referrer(&o);
	if (!strcmp(argv[1], "lookaside"))
		return cmd_lookaside(&o);
	return die("unknown command %s", argv[1]);
}
