/* Unit tests for sign/: reference normalisation and scopes, the signature payload (strict parsing,
 * hostile documents), base64, sigstore keys and signatures (tampering, wrong keys, wrong passphrases),
 * attachment manifests, policy parsing (hostile documents), every identity rule as a truth table,
 * scope precedence, policy evaluation, registries.d, and GPG sign/verify with a key made in a temporary
 * GNUPGHOME. */
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "base/err.h"
#include "harness.h"
#include "image/manifest.h"
#include "base/util.h"
#include "sign/collect.h"
#include "sign/extension.h"
#include "sign/gpg.h"
#include "sign/policy.h"
#include "sign/ref.h"
#include "sign/registries.h"
#include "sign/sigstore.h"
#include "sign/simple.h"

#define D1 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------------ helpers */

static struct sign_ref dref(const char *s)
{
	struct sign_ref r;
	char why[256];

	if (sign_ref_parse_docker(s, &r, why, sizeof(why)) < 0)
		FAIL_AT("bad test docker reference %s: %s", s, why);
	return r;
}

static const char *norm(const char *s)
{
	static char out[SIGN_REF_STR_MAX];
	struct sign_ref r;

	if (sign_ref_parse(s, &r, NULL, 0) < 0)
		return "ERR";
	return sign_ref_string(&r, out);
}

static int payload_rc(const char *json, enum sign_payload_type t)
{
	struct sign_payload p;
	char why[256];
	int rc = sign_payload_parse(json, strlen(json), t, &p, why, sizeof(why));

	if (rc == 0)
		sign_payload_release(&p);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n)
		FAIL_AT("cannot write %s", path);
	fclose(f);
}

static char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/berth-signtest-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d)
		FAIL_AT("mkdtemp");
	return xstrdup(d);
}

/* ------------------------------------------------------------------ references */

TEST(ref_normalisation)
{
	CHECK_STR(norm("busybox"), "docker.io/library/busybox");
	CHECK_STR(norm("busybox:1.36"), "docker.io/library/busybox:1.36");
	CHECK_STR(norm("library/busybox"), "docker.io/library/busybox");
	CHECK_STR(norm("index.docker.io/busybox"), "docker.io/library/busybox");
	CHECK_STR(norm("foo/bar"), "docker.io/foo/bar");
	CHECK_STR(norm("localhost/app:1"), "localhost/app:1");
	CHECK_STR(norm("localhost:5000/a/b/c:v"), "localhost:5000/a/b/c:v");
	CHECK_STR(norm("example.com/ns/app@" D1), "example.com/ns/app@" D1);
	CHECK_STR(norm("example.com/ns/app:t@" D1), "example.com/ns/app:t@" D1);
	CHECK_STR(norm("Example.COM/ns/app"), "Example.COM/ns/app"); /* domains keep their case */
	CHECK_STR(norm("a.b/c__d.e-f---g:T_1.x-y"), "a.b/c__d.e-f---g:T_1.x-y");
	/* hostile or malformed */
	CHECK_STR(norm(""), "ERR");
	CHECK_STR(norm("Busybox"), "ERR");
	CHECK_STR(norm("example.com/Ns/app"), "ERR");
	CHECK_STR(norm("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), "ERR");
	CHECK_STR(norm("example.com/ns/app:"), "ERR");
	CHECK_STR(norm("example.com/ns/app:-x"), "ERR");
	CHECK_STR(norm("example.com/ns//app"), "ERR");
	CHECK_STR(norm("example.com/ns/app/"), "ERR");
	CHECK_STR(norm("example.com/a..b"), "ERR");
	CHECK_STR(norm("example.com/a___b"), "ERR");
	CHECK_STR(norm("example.com/_a"), "ERR");
	CHECK_STR(norm("example.com:/a"), "ERR");
	CHECK_STR(norm("-example.com/a"), "ERR");
	CHECK_STR(norm("example.com/app@sha256:abc"), "ERR");
	CHECK_STR(norm("example.com/app@md5:0123456789abcdef0123456789abcdef"), "ERR");
	CHECK_STR(norm("example.com/app@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
		  "ERR");
	CHECK_STR(norm("example.com/app:t:u"), "ERR");
	CHECK_STR(norm("example.com/app with space"), "ERR");
	{
		char longtag[200], longname[300];
		memset(longtag, 'a', sizeof(longtag));
		memcpy(longtag, "x.io/a:", 7);
		longtag[7 + 129] = '\0'; /* 129-character tag */
		CHECK_STR(norm(longtag), "ERR");
		longtag[7 + 128] = '\0';
		CHECK(strcmp(norm(longtag), "ERR") != 0);
		memset(longname, 'a', sizeof(longname));
		memcpy(longname, "x.io/", 5);
		longname[256] = '\0'; /* 256-character name */
		CHECK_STR(norm(longname), "ERR");
		longname[255] = '\0';
		CHECK(strcmp(norm(longname), "ERR") != 0);
	}
}

TEST(ref_docker_transport_and_canonical)
{
	struct sign_ref r;
	char s[SIGN_REF_STR_MAX];

	r = dref("busybox");
	CHECK_STR(sign_ref_string(&r, s), "docker.io/library/busybox:latest");
	CHECK_EQ(sign_ref_parse_docker("example.com/a:t@" D1, &r, NULL, 0), -BERTH_EINVAL);
	CHECK_EQ(sign_ref_parse_canonical("busybox:1", &r, NULL, 0), -BERTH_EINVAL);
	CHECK_EQ(sign_ref_parse_canonical("docker.io/library/busybox:1", &r, NULL, 0), 0);
	CHECK_STR(sign_ref_path(&r), "library/busybox");
	CHECK_EQ(sign_ref_valid_remap_prefix("example.com"), 1);
	CHECK_EQ(sign_ref_valid_remap_prefix("example.com:5000/ns/repo"), 1);
	CHECK_EQ(sign_ref_valid_remap_prefix("example.com/ns/repo:tag"), 0);
	CHECK_EQ(sign_ref_valid_remap_prefix("example.com/"), 0);
	CHECK_EQ(sign_ref_valid_remap_prefix(""), 0);
	CHECK_EQ(sign_ref_valid_remap_prefix("ns/Repo"), 0);
}

TEST(ref_scopes_order)
{
	struct sign_ref r = dref("reg.example.com:5000/ns/sub/app:v1");
	char **s = NULL;
	size_t n = 0;

	CHECK_EQ(sign_ref_scopes(&r, &s, &n), 0);
	CHECK_EQ(n, 7);
	CHECK_STR(s[0], "reg.example.com:5000/ns/sub/app:v1");
	CHECK_STR(s[1], "reg.example.com:5000/ns/sub/app");
	CHECK_STR(s[2], "reg.example.com:5000/ns/sub");
	CHECK_STR(s[3], "reg.example.com:5000/ns");
	CHECK_STR(s[4], "reg.example.com:5000");
	CHECK_STR(s[5], "*.example.com");
	CHECK_STR(s[6], "*.com");
	CHECK(s[7] == NULL);
	sign_ref_scopes_free(s);
	r = dref("localhost/app@" D1);
	CHECK_EQ(sign_ref_scopes(&r, &s, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_STR(s[0], "localhost/app@" D1);
	CHECK_STR(s[2], "localhost");
	sign_ref_scopes_free(s);
}

/* ------------------------------------------------------------------ payload */

TEST(payload_create_exact_bytes)
{
	struct buf b;

	buf_init(&b, 4096);
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "example.com/app:1", D1, "berth 0.1.0", 1700000000, &b), 0);
	CHECK_STR(b.ptr,
		  "{\"critical\":{\"identity\":{\"docker-reference\":\"example.com/app:1\"},\"image\":{\"docker-"
		  "manifest-digest\":\"" D1 "\"},\"type\":\"atomic container signature\"},\"optional\":{\"creator\":"
		  "\"berth 0.1.0\",\"timestamp\":1700000000}}");
	buf_reset(&b);
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_COSIGN, "example.com/app:1", D1, NULL, -1, &b), 0);
	CHECK_STR(b.ptr,
		  "{\"critical\":{\"identity\":{\"docker-reference\":\"example.com/app:1\"},\"image\":{\"docker-"
		  "manifest-digest\":\"" D1 "\"},\"type\":\"cosign container image signature\"},\"optional\":{}}");
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "", D1, NULL, -1, &b), -BERTH_EINVAL);
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "x", NULL, NULL, -1, &b), -BERTH_EINVAL);
	buf_release(&b);
}

TEST(payload_parse_roundtrip)
{
	struct buf b;
	struct sign_payload p;
	char why[256];

	buf_init(&b, 4096);
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "example.com/app:1", D1, "c", 42, &b), 0);
	CHECK_EQ(sign_payload_parse(b.ptr, b.len, SIGN_PAYLOAD_ATOMIC, &p, why, sizeof(why)), 0);
	CHECK_STR(p.docker_reference, "example.com/app:1");
	CHECK_STR(p.manifest_digest, D1);
	CHECK_STR(p.creator, "c");
	CHECK_EQ(p.has_timestamp, 1);
	CHECK_EQ(p.timestamp, 42);
	sign_payload_release(&p);
	/* the other type is refused, both ways */
	CHECK_EQ(sign_payload_parse(b.ptr, b.len, SIGN_PAYLOAD_COSIGN, &p, why, sizeof(why)), -BERTH_EINVAL);
	CHECK(strstr(why, "unrecognized signature type") != NULL);
	buf_release(&b);
}

#define CRIT_OK                                                                                             \
	"\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"" D1 \
	"\"},\"identity\":{\"docker-reference\":\"a.io/b:c\"}}"

TEST(payload_hostile)
{
	const enum sign_payload_type A = SIGN_PAYLOAD_ATOMIC, C = SIGN_PAYLOAD_COSIGN;
	struct sign_payload p;
	char why[256];

	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{}}", A), 0);
	/* unknown members of optional are accepted */
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{\"x\":[1,{}],\"creator\":\"c\"}}", A), 0);
	/* missing or unknown top-level members */
	CHECK_EQ(payload_rc("{" CRIT_OK "}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{\"optional\":{}}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{},\"extra\":1}", A), -BERTH_EINVAL);
	/* duplicate members */
	CHECK_EQ(payload_rc("{" CRIT_OK "," CRIT_OK ",\"optional\":{}}", A), -BERTH_EINVAL);
	/* unknown critical members, at every level */
	CHECK_EQ(
	    payload_rc(
		"{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"" D1
		"\"},\"identity\":{\"docker-reference\":\"a.io/b:c\"},\"x\":1},\"optional\":{}}",
		A),
	    -BERTH_EINVAL);
	CHECK_EQ(
	    payload_rc(
		"{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"" D1
		"\",\"x\":1},\"identity\":{\"docker-reference\":\"a.io/b:c\"}},\"optional\":{}}",
		A),
	    -BERTH_EINVAL);
	CHECK_EQ(
	    payload_rc(
		"{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"" D1
		"\"},\"identity\":{\"docker-reference\":\"a.io/b:c\",\"x\":1}},\"optional\":{}}",
		A),
	    -BERTH_EINVAL);
	/* missing critical members */
	CHECK_EQ(payload_rc("{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" D1
			    "\"},\"identity\":{\"docker-reference\":\"a.io/b:c\"}},\"optional\":{}}",
			    A),
		 -BERTH_EINVAL);
	CHECK_EQ(
	    payload_rc("{\"critical\":{\"type\":\"atomic container signature\",\"image\":{},\"identity\":{\"docker-"
		       "reference\":\"a.io/b:c\"}},\"optional\":{}}",
		       A),
	    -BERTH_EINVAL);
	/* wrong types */
	CHECK_EQ(payload_rc("{\"critical\":{\"type\":1,\"image\":{\"docker-manifest-digest\":\"" D1
			    "\"},\"identity\":{\"docker-reference\":\"a.io/b:c\"}},\"optional\":{}}",
			    A),
		 -BERTH_EINVAL);
	CHECK_EQ(payload_rc(
		     "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":5},"
		     "\"identity\":{\"docker-reference\":\"a.io/b:c\"}},\"optional\":{}}",
		     A),
		 -BERTH_EINVAL);
	CHECK_EQ(
	    payload_rc("{\"critical\":{\"type\":\"atomic container signature\",\"image\":[],\"identity\":{\"docker-"
		       "reference\":\"a.io/b:c\"}},\"optional\":{}}",
		       A),
	    -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{\"creator\":7}}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{\"timestamp\":\"1\"}}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{\"timestamp\":1.5}}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{\"timestamp\":2.0}}", A), 0);
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":[]}", A), -BERTH_EINVAL);
	/* optional: null is cosign's, accepted only for that type */
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":null}", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("{\"critical\":{\"type\":\"cosign container image signature\",\"image\":{\"docker-manifest-"
			    "digest\":\"" D1 "\"},\"identity\":{\"docker-reference\":\"a.io/b\"}},\"optional\":null}",
			    C),
		 0);
	/* the type string must be exact */
	CHECK_EQ(
	    payload_rc("{\"critical\":{\"type\":\"atomic container signature \",\"image\":{\"docker-manifest-digest\":"
		       "\"" D1 "\"},\"identity\":{\"docker-reference\":\"a.io/b:c\"}},\"optional\":{}}",
		       A),
	    -BERTH_EINVAL);
	/* not JSON, trailing garbage, not an object */
	CHECK_EQ(payload_rc("{" CRIT_OK ",\"optional\":{}} x", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("[]", A), -BERTH_EINVAL);
	CHECK_EQ(payload_rc("", A), -BERTH_EINVAL);
	CHECK_EQ(sign_payload_parse("{\"a\":\"\\u0000\"}", 15, A, &p, why, sizeof(why)), -BERTH_EINVAL);
}

TEST(base64_strict)
{
	struct buf b;

	buf_init(&b, 1024);
	CHECK_EQ(sign_b64_encode("foobar", 6, &b), 0);
	CHECK_STR(b.ptr, "Zm9vYmFy");
	buf_reset(&b);
	CHECK_EQ(sign_b64_encode("fo", 2, &b), 0);
	CHECK_STR(b.ptr, "Zm8=");
	buf_reset(&b);
	CHECK_EQ(sign_b64_decode("Zm8=", 4, &b), 0);
	CHECK_EQ(b.len, 2);
	CHECK_MEM(b.ptr, "fo", 2);
	buf_reset(&b);
	CHECK_EQ(sign_b64_decode("Zm9v\nYmFy", 9, &b), 0);
	CHECK_EQ(b.len, 6);
	CHECK_EQ(sign_b64_decode("Zm8", 3, &b), -BERTH_EINVAL);
	CHECK_EQ(sign_b64_decode("Zm8==", 5, &b), -BERTH_EINVAL);
	CHECK_EQ(sign_b64_decode("Z===", 4, &b), -BERTH_EINVAL);
	CHECK_EQ(sign_b64_decode("Zm=8", 4, &b), -BERTH_EINVAL);
	CHECK_EQ(sign_b64_decode("Zm8*", 4, &b), -BERTH_EINVAL);
	buf_release(&b);
}

/* ------------------------------------------------------------------ sigstore */

static struct sign_key *pub_of(const struct sign_key *k)
{
	struct buf pem;
	struct sign_key *pub = NULL;
	char why[256];

	buf_init(&pem, 8192);
	CHECK_EQ(sign_key_public_pem(k, &pem), 0);
	CHECK(strncmp(pem.ptr, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	CHECK_EQ(sign_key_load_public(pem.ptr, pem.len, &pub, why, sizeof(why)), 0);
	CHECK_EQ(sign_key_is_private(pub), 0);
	buf_release(&pem);
	return pub;
}

static struct digest dg(const char *s)
{
	struct digest d;

	if (digest_parse_cstr(s, &d) < 0)
		FAIL_AT("bad digest %s", s);
	return d;
}

TEST(sigstore_sign_verify_tamper)
{
	struct sign_key *k = NULL, *other = NULL, *pub, *opub;
	struct sign_sigstore_sig s;
	struct sign_payload p;
	struct digest d = dg(D1);
	char why[256];

	CHECK_EQ(sign_key_generate(&k), 0);
	CHECK_EQ(sign_key_generate(&other), 0);
	pub = pub_of(k);
	opub = pub_of(other);
	CHECK_EQ(sign_sigstore_create(k, "example.com/app:1", &d, 1700000000, "berth test", &s), 0);
	CHECK_STR(s.media_type, SIGSTORE_SIG_MEDIA_TYPE);
	CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), 0);
	CHECK_STR(p.docker_reference, "example.com/app:1");
	CHECK_STR(p.manifest_digest, D1);
	sign_payload_release(&p);
	/* the private key verifies too (it holds the public half) */
	CHECK_EQ(sign_sigstore_verify(k, &s, &p, why, sizeof(why)), 0);
	sign_payload_release(&p);
	/* another key */
	CHECK_EQ(sign_sigstore_verify(opub, &s, &p, why, sizeof(why)), -BERTH_EDENIED);
	CHECK_STR(why, "cryptographic signature verification failed");
	/* one payload byte changed: the digest in the payload */
	{
		char *hit = strstr((char *)s.payload, "0123");
		CHECK(hit != NULL);
		hit[0] = '1';
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), -BERTH_EDENIED);
		hit[0] = '0';
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), 0);
		sign_payload_release(&p);
	}
	/* the signature changed, missing, or not base64 */
	{
		char *b = s.signature_b64, c = b[10];
		b[10] = c == 'A' ? 'B' : 'A';
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), -BERTH_EDENIED);
		b[10] = '*';
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), -BERTH_EDENIED);
		b[10] = c;
		s.signature_b64 = NULL;
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), -BERTH_EDENIED);
		CHECK_STR(why, "missing dev.cosignproject.cosign/signature annotation");
		s.signature_b64 = b;
	}
	/* not a signature attachment */
	{
		char *mt = s.media_type;
		s.media_type = (char *)"application/vnd.dev.cosign.attestation.v1+json";
		CHECK_EQ(sign_sigstore_verify(pub, &s, &p, why, sizeof(why)), -BERTH_EINVAL);
		s.media_type = mt;
	}
	sign_sigstore_sig_release(&s);
	sign_key_free(k);
	sign_key_free(other);
	sign_key_free(pub);
	sign_key_free(opub);
}

TEST(sigstore_private_key_file)
{
	struct sign_key *k = NULL, *back = NULL, *pub;
	struct buf pem, sig;
	char why[256];
	const char *pass = "correct horse";

	buf_init(&pem, 16384);
	buf_init(&sig, 1024);
	CHECK_EQ(sign_key_generate(&k), 0);
	CHECK_EQ(sign_key_private_pem(k, pass, strlen(pass), &pem), 0);
	CHECK(strncmp(pem.ptr, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n", 45) == 0);
	CHECK(strstr(pem.ptr, "-----END ENCRYPTED COSIGN PRIVATE KEY-----\n") != NULL);
	/* wrong passphrase, empty passphrase */
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "wrong", 5, &back, why, sizeof(why)), -BERTH_EDENIED);
	CHECK(back == NULL);
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "", 0, &back, why, sizeof(why)), -BERTH_EDENIED);
	/* the right one; the loaded key signs what the original verifies */
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, pass, strlen(pass), &back, why, sizeof(why)), 0);
	CHECK_EQ(sign_key_is_private(back), 1);
	CHECK_EQ(sign_key_sign(back, "abc", 3, &sig), 0);
	pub = pub_of(k);
	CHECK_EQ(sign_key_verify(pub, "abc", 3, sig.ptr, sig.len), 0);
	CHECK_EQ(sign_key_verify(pub, "abd", 3, sig.ptr, sig.len), -BERTH_EDENIED);
	sign_key_free(back);
	back = NULL;
	/* the newer SIGSTORE label reads the same */
	{
		struct buf alt;
		char *p;
		buf_init(&alt, 16384);
		buf_add(&alt, pem.ptr, pem.len);
		while ((p = strstr(alt.ptr, "COSIGN")) != NULL)
			memcpy(p, "SIGSTO", 6), memmove(p + 8, p + 6, strlen(p + 6) + 1), memcpy(p + 6, "RE", 2);
		CHECK(strstr(alt.ptr, "ENCRYPTED SIGSTORE PRIVATE KEY") != NULL);
		CHECK_EQ(sign_key_load_private(alt.ptr, strlen(alt.ptr), pass, strlen(pass), &back, why, sizeof(why)),
			 0);
		sign_key_free(back);
		back = NULL;
		buf_release(&alt);
	}
	/* another label, garbage, a public key */
	CHECK_EQ(sign_key_load_private("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 58, pass,
				       strlen(pass), &back, why, sizeof(why)),
		 -BERTH_EINVAL);
	CHECK_STR(why, "unsupported pem type: PRIVATE KEY");
	CHECK_EQ(sign_key_load_private("garbage", 7, pass, strlen(pass), &back, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(sign_key_load_public(pem.ptr, pem.len, &back, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(sign_key_load_public("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 56, &back, why,
				      sizeof(why)),
		 -BERTH_EINVAL);
	sign_key_free(pub);
	sign_key_free(k);
	buf_release(&pem);
	buf_release(&sig);
}

/* An encrypted key document with chosen KDF parameters, as a PEM. */
static void kdf_pem(const char *params, struct buf *out)
{
	char doc[1024];

	snprintf(
	    doc, sizeof(doc),
	    "{\"kdf\":{\"name\":\"scrypt\",\"params\":%s,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
	    "\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
	    "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    params);
	buf_adds(out, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n");
	sign_b64_encode(doc, strlen(doc), out);
	buf_adds(out, "\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n");
}

TEST(sigstore_private_key_hostile_kdf)
{
	struct sign_key *k = NULL;
	struct buf pem;
	char why[256];

	buf_init(&pem, 16384);
	kdf_pem("{\"N\":1073741824,\"r\":8,\"p\":1}", &pem); /* would need 1 TiB */
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "x", 1, &k, why, sizeof(why)), -BERTH_EUNSUPPORTED);
	buf_reset(&pem);
	kdf_pem("{\"N\":32768,\"r\":8,\"p\":16}", &pem);
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "x", 1, &k, why, sizeof(why)), -BERTH_EUNSUPPORTED);
	buf_reset(&pem);
	kdf_pem("{\"N\":32768,\"r\":8}", &pem);
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "x", 1, &k, why, sizeof(why)), -BERTH_EINVAL);
	buf_reset(&pem);
	kdf_pem("{\"N\":32768,\"r\":8,\"p\":1}", &pem); /* valid shape, but the box does not open */
	CHECK_EQ(sign_key_load_private(pem.ptr, pem.len, "x", 1, &k, why, sizeof(why)), -BERTH_EDENIED);
	CHECK(k == NULL);
	buf_release(&pem);
}

TEST(attachment_manifest_build_parse_append)
{
	struct sign_key *k = NULL;
	struct sign_sigstore_sig s1, s2, back;
	struct sign_attachment a, b;
	struct buf cfg, man;
	struct digest d = dg(D1), cd;
	char why[256], tag[SIGSTORE_TAG_MAX];

	CHECK_STR(sign_sigstore_tag(&d, tag),
		  "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig");
	buf_init(&cfg, 65536);
	buf_init(&man, 65536);
	CHECK_EQ(sign_key_generate(&k), 0);
	CHECK_EQ(sign_sigstore_create(k, "example.com/app:1", &d, 1, NULL, &s1), 0);
	CHECK_EQ(sign_sigstore_create(k, "example.com/app:2", &d, 2, NULL, &s2), 0);
	sign_attachment_init(&a);
	CHECK_EQ(sign_attachment_add(&a, &s1), 1);
	CHECK_EQ(sign_attachment_add(&a, &s1), 0); /* duplicate */
	CHECK_EQ(sign_attachment_config(&a, &cfg), 0);
	digest_of(DIGEST_SHA256, cfg.ptr, cfg.len, &cd);
	CHECK_EQ(sign_attachment_manifest(&a, &cd, (int64_t)cfg.len, &man), 0);
	CHECK(strncmp(man.ptr,
		      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
		      "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"",
		      130) == 0);
	/* parse it back and append a second signature: layers keep their order */
	CHECK_EQ(sign_attachment_parse(man.ptr, man.len, &b, why, sizeof(why)), 0);
	CHECK_EQ(b.nlayers, 1);
	CHECK_STR(b.layers[0].media_type, SIGSTORE_SIG_MEDIA_TYPE);
	CHECK_EQ(b.layers[0].size, (int64_t)s1.payload_len);
	CHECK_EQ(sign_attachment_add(&b, &s1), 0);
	CHECK_EQ(sign_attachment_add(&b, &s2), 1);
	CHECK_EQ(b.nlayers, 2);
	/* a layer's blob gives back the signature; a wrong blob is refused */
	CHECK_EQ(sign_attachment_layer_sig(&b.layers[1], s2.payload, s2.payload_len, &back), 0);
	CHECK_STR(back.signature_b64, s2.signature_b64);
	CHECK_EQ(back.payload_len, s2.payload_len);
	sign_sigstore_sig_release(&back);
	CHECK_EQ(sign_attachment_layer_sig(&b.layers[1], s1.payload, s1.payload_len, &back), -BERTH_EDIGEST);
	buf_reset(&cfg);
	CHECK_EQ(sign_attachment_config(&b, &cfg), 0);
	CHECK(strstr(cfg.ptr, "\"rootfs\":{\"diff_ids\":[\"sha256:") != NULL);
	sign_attachment_release(&b);
	/* hostile manifests */
	CHECK_EQ(sign_attachment_parse("{}", 2, &b, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(sign_attachment_parse("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
				       "\"config\":{},\"layers\":[]}",
				       93, &b, why, sizeof(why)),
		 -BERTH_EINVAL);
	{
		const char *bad =
		    "{\"schemaVersion\":2,\"config\":{},\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:00\","
		    "\"size\":1}]}";
		CHECK_EQ(sign_attachment_parse(bad, strlen(bad), &b, why, sizeof(why)), -BERTH_EINVAL);
		bad = "{\"schemaVersion\":2,\"config\":{},\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" D1
		      "\",\"size\":-1}]}";
		CHECK_EQ(sign_attachment_parse(bad, strlen(bad), &b, why, sizeof(why)), -BERTH_EINVAL);
		bad = "{\"schemaVersion\":2,\"config\":{},\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" D1
		      "\",\"size\":1,\"annotations\":{\"a\":1}}]}";
		CHECK_EQ(sign_attachment_parse(bad, strlen(bad), &b, why, sizeof(why)), -BERTH_EINVAL);
	}
	sign_attachment_release(&a);
	sign_sigstore_sig_release(&s1);
	sign_sigstore_sig_release(&s2);
	sign_key_free(k);
	buf_release(&cfg);
	buf_release(&man);
}

TEST(referrer_signature_artifact)
{
	struct sign_key *k = NULL, *pub;
	struct sign_sigstore_sig s, back;
	struct sign_attachment a;
	struct sign_payload pl;
	struct manifest m;
	struct buf out;
	struct digest d = dg(D1);
	char why[256];

	buf_init(&out, 65536);
	CHECK_EQ(sign_key_generate(&k), 0);
	pub = pub_of(k);
	CHECK_EQ(sign_sigstore_create(k, "h.io/app:1", &d, 1, NULL, &s), 0);
	CHECK_EQ(sign_referrer_manifest(&s, MT_OCI_MANIFEST, &d, 1234, &out), 0);
	/* the registry's own manifest parser accepts it, with its subject and artifact type */
	CHECK_EQ(manifest_parse(out.ptr, out.len, MT_OCI_MANIFEST, &m, why, sizeof(why)), 0);
	CHECK_EQ(m.has_subject, 1);
	CHECK(digest_eq(&m.subject, &d));
	CHECK_STR(m.artifact_type, SIGSTORE_ARTIFACT_TYPE);
	CHECK_EQ(m.nblobs, 2); /* the empty config and the payload */
	manifest_release(&m);
	CHECK(strstr(out.ptr,
		     "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:"
		     "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2}") != NULL);
	/* and it reads back as a one-layer attachment whose signature verifies */
	CHECK_EQ(sign_attachment_parse(out.ptr, out.len, &a, why, sizeof(why)), 0);
	CHECK_EQ(a.nlayers, 1);
	CHECK_EQ(sign_attachment_layer_sig(&a.layers[0], s.payload, s.payload_len, &back), 0);
	CHECK_EQ(sign_sigstore_verify(pub, &back, &pl, why, sizeof(why)), 0);
	CHECK_STR(pl.docker_reference, "h.io/app:1");
	sign_payload_release(&pl);
	sign_sigstore_sig_release(&back);
	sign_attachment_release(&a);
	s.signature_b64[0] ^= 1;
	{
		char *save = s.signature_b64;
		s.signature_b64 = NULL;
		CHECK_EQ(sign_referrer_manifest(&s, MT_OCI_MANIFEST, &d, 1, &out), -BERTH_EINVAL);
		s.signature_b64 = save;
	}
	sign_sigstore_sig_release(&s);
	sign_key_free(k);
	sign_key_free(pub);
	buf_release(&out);
}

/* ------------------------------------------------------------------ policy parsing */

static int policy_rc(const char *json, char *why, size_t whyn)
{
	struct policy *p = NULL;
	int rc = policy_parse(json, strlen(json), &p, why, whyn);

	policy_free(p);
	return rc;
}

#define POL_OK(s) CHECK_EQ(policy_rc(s, why, sizeof(why)), 0)
#define POL_BAD(s, text)                                                  \
	do {                                                              \
		CHECK_EQ(policy_rc(s, why, sizeof(why)), -BERTH_EINVAL);  \
		if (!strstr(why, text))                                   \
			FAIL_AT("reason \"%s\" lacks \"%s\"", why, text); \
	} while (0)

TEST(policy_parse_valid)
{
	struct policy *p = NULL;
	char why[512];
	const char *doc =
	    "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
	    "\"example.com/a\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPaths\":[\"/k1\",\"/k2\"],"
	    "\"signedIdentity\":{\"type\":\"remapIdentity\",\"prefix\":\"example.com\",\"signedPrefix\":\"vendor.io/"
	    "x\"}}],"
	    "\"*.example.org\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"aGVsbG8=\"}],"
	    "\"\":[{\"type\":\"insecureAcceptAnything\"}]},"
	    "\"atomic\":{\"h/ns\":[{\"type\":\"signedBaseLayer\",\"baseLayerIdentity\":{\"type\":\"matchExact\"}}]},"
	    "\"dir\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}";

	CHECK_EQ(policy_parse(doc, strlen(doc), &p, why, sizeof(why)), 0);
	CHECK_EQ(p->def.n, 1);
	CHECK_EQ(p->def.v[0].type, POLICY_REQ_REJECT);
	CHECK_EQ(p->ntransports, 3);
	CHECK_STR(p->transports[0].name, "docker");
	CHECK_EQ(p->transports[0].nscopes, 3);
	CHECK_EQ(p->transports[0].scopes[0].reqs.v[0].type, POLICY_REQ_SIGNED_BY);
	CHECK_EQ(p->transports[0].scopes[0].reqs.v[0].nkey_paths, 2);
	CHECK_STR(p->transports[0].scopes[0].reqs.v[0].key_paths[1], "/k2");
	CHECK_EQ(p->transports[0].scopes[0].reqs.v[0].identity.type, POLICY_ID_REMAP_IDENTITY);
	CHECK_EQ(p->transports[0].scopes[1].reqs.v[0].type, POLICY_REQ_SIGSTORE_SIGNED);
	CHECK_EQ(p->transports[0].scopes[1].reqs.v[0].key_data_len, 5);
	CHECK_MEM(p->transports[0].scopes[1].reqs.v[0].key_data, "hello", 5);
	/* signedIdentity defaults to matchRepoDigestOrExact */
	CHECK_EQ(p->transports[0].scopes[1].reqs.v[0].identity.type, POLICY_ID_MATCH_REPO_DIGEST_OR_EXACT);
	policy_free(p);
	POL_OK("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
	POL_OK("{\"default\":[{\"type\":\"insecureAcceptAnything\"}],\"transports\":{}}");
}

TEST(policy_parse_hostile)
{
	char why[512];

	POL_BAD("", "invalid JSON");
	POL_BAD("[]", "must be a JSON object");
	POL_BAD("{}", "default policy is missing");
	POL_BAD("{\"default\":[]}", "must not be empty");
	POL_BAD("{\"default\":{}}", "must be a JSON array");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"extra\":1}", "unknown key \"extra\"");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"default\":[{\"type\":\"reject\"}]}", "invalid JSON");
	POL_BAD("{\"default\":[{\"type\":\"acceptEverything\"}]}",
		"unknown policy requirement type \"acceptEverything\"");
	POL_BAD("{\"default\":[{}]}", "\"type\" missing");
	POL_BAD("{\"default\":[{\"type\":\"reject\",\"keyPath\":\"/k\"}]}", "unknown key \"keyPath\"");
	POL_BAD("{\"default\":[{\"type\":\"signedBy\",\"keyPath\":\"/k\"}]}", "needs \"keyType\"");
	POL_BAD("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"PGP\",\"keyPath\":\"/k\"}]}",
		"unrecognized keyType value \"PGP\"");
	POL_BAD("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\"}]}", "none of them present");
	POL_BAD(
	    "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\",\"keyData\":\"AA==\"}]}",
	    "more than one present");
	POL_BAD("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\",\"keyPaths\":[]}]}",
		"more than one present");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"keyData\":\"AA==\"}]}",
		"exactly one of keyPath and keyData");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\"}]}", "none of them present");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[\"/k\"]}]}", "unknown key \"keyPaths\"");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"not base64!\"}]}",
		"keyData must be a base64");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"\"}]}", "keyPath must not be empty");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":7}]}", "must be a string");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/"
		"k\",\"signedIdentity\":{\"type\":\"matchAll\"}}]}",
		"unknown policy reference match type \"matchAll\"");
	POL_BAD(
	    "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"signedIdentity\":{\"type\":\"matchExact\","
	    "\"x\":1}}]}",
	    "unknown key \"x\"");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"signedIdentity\":{\"type\":"
		"\"exactReference\",\"dockerReference\":\"example.com/app\"}}]}",
		"neither a tag nor digest");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"signedIdentity\":{\"type\":"
		"\"exactRepository\",\"dockerRepository\":\"Example/App\"}}]}",
		"invalid format of dockerRepository");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"signedIdentity\":{\"type\":"
		"\"remapIdentity\",\"prefix\":\"example.com/a:tag\",\"signedPrefix\":\"x.io\"}}]}",
		"prefix \"example.com/a:tag\" is not valid");
	POL_BAD("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\",\"signedIdentity\":{\"type\":"
		"\"remapIdentity\",\"prefix\":\"example.com\"}}]}",
		"\"signedPrefix\" must be a string");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"h.io/a\":[]}}}",
		"transports.docker[\"h.io/a\"]: list of verification policy requirements must not be empty");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":[]}}", "must be a JSON object");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"example*.*.com\":[{\"type\":"
		"\"reject\"}]}}}",
		"invalid scope");
	POL_BAD("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"*.example.com/ns\":[{\"type\":"
		"\"reject\"}]}}}",
		"invalid scope");
	POL_BAD("{\"default\":[{\"type\":\"signedBaseLayer\"}]}", "baseLayerIdentity not specified");
}

/* ------------------------------------------------------------------ identity truth tables */

struct id_case {
	const char *image, *sig;
	int want;
};

static void id_table(const char *rule, const struct id_case *cases)
{
	struct policy_identity id;
	char why[256];

	if (policy_identity_parse(rule, &id, why, sizeof(why)) < 0)
		FAIL_AT("bad rule %s: %s", rule, why);
	for (const struct id_case *c = cases; c->sig; c++) {
		struct sign_ref img;
		int got;
		if (c->image)
			img = dref(c->image);
		got = policy_identity_matches(&id, c->image ? &img : NULL, c->sig);
		if (got != c->want)
			FAIL_AT("%s: image %s, signature %s: got %d, want %d", rule, c->image ? c->image : "(none)",
				c->sig, got, c->want);
	}
	policy_identity_release(&id);
}

TEST(identity_match_exact)
{
	static const struct id_case t[] = {
	    {"h.io/a:1", "h.io/a:1", 1},
	    {"h.io/a:1", "h.io/a:2", 0},
	    {"h.io/a:1", "h.io/a", 0},
	    {"h.io/a:1", "h.io/b:1", 0},
	    {"h.io/a@" D1, "h.io/a@" D1, 1},
	    {"h.io/a@" D1, "h.io/a:1", 0},
	    {"busybox", "docker.io/library/busybox:latest", 1},
	    {"docker.io/library/busybox:latest", "busybox", 0},
	    {"docker.io/library/busybox:latest", "busybox:latest", 1},
	    {"h.io/a:1", "H.IO/a:1", 0},
	    {"h.io/a:1", "not a reference", 0},
	    {NULL, "h.io/a:1", 0},
	    {NULL, NULL, 0},
	};
	id_table("{\"type\":\"matchExact\"}", t);
}

TEST(identity_match_repo_digest_or_exact)
{
	static const struct id_case t[] = {
	    {"h.io/a:1", "h.io/a:1", 1},     {"h.io/a:1", "h.io/a:2", 0},
	    {"h.io/a:1", "h.io/a", 0},       {"h.io/a@" D1, "h.io/a:anything", 1},
	    {"h.io/a@" D1, "h.io/a@" D1, 1}, {"h.io/a@" D1, "h.io/a", 0},
	    {"h.io/a@" D1, "h.io/b:1", 0},   {"h.io/a:1", "h.io/a:1@" D1, 0},
	    {NULL, "h.io/a:1", 0},           {NULL, NULL, 0},
	};
	id_table("{\"type\":\"matchRepoDigestOrExact\"}", t);
}

TEST(identity_match_repository)
{
	static const struct id_case t[] = {
	    {"h.io/a:1", "h.io/a:2", 1},   {"h.io/a:1", "h.io/a", 1},
	    {"h.io/a@" D1, "h.io/a:x", 1}, {"h.io/a:1", "h.io/ab:1", 0},
	    {"h.io/a/b:1", "h.io/a:1", 0}, {"busybox:1", "docker.io/library/busybox", 1},
	    {NULL, "h.io/a", 0},           {NULL, NULL, 0},
	};
	id_table("{\"type\":\"matchRepository\"}", t);
}

TEST(identity_exact_reference)
{
	static const struct id_case t[] = {
	    {"h.io/a:1", "vendor.io/p:2", 1},
	    {"other.io/x:9", "vendor.io/p:2", 1}, /* the image's own name does not matter */
	    {NULL, "vendor.io/p:2", 1},
	    {"h.io/a:1", "vendor.io/p:1", 0},
	    {"h.io/a:1", "vendor.io/p", 0},
	    {"h.io/a:1", "h.io/a:1", 0},
	    {NULL, NULL, 0},
	};
	id_table("{\"type\":\"exactReference\",\"dockerReference\":\"vendor.io/p:2\"}", t);
}

TEST(identity_exact_repository)
{
	static const struct id_case t[] = {
	    {"h.io/a:1", "vendor.io/p:2", 1},   {"h.io/a:1", "vendor.io/p", 1},    {NULL, "vendor.io/p@" D1, 1},
	    {"h.io/a:1", "vendor.io/p/q:1", 0}, {"h.io/a:1", "vendor.io/pq:1", 0}, {NULL, NULL, 0},
	};
	id_table("{\"type\":\"exactRepository\",\"dockerRepository\":\"vendor.io/p\"}", t);
}

TEST(identity_remap)
{
	static const struct id_case t[] = {
	    /* under the prefix: remapped, then matchRepoDigestOrExact */
	    {"mirror.io:5000/vendor/prod/img:1", "vendor.example.com/prod/img:1", 1},
	    {"mirror.io:5000/vendor/prod/img:1", "vendor.example.com/prod/img:2", 0},
	    {"mirror.io:5000/vendor/prod/img:1", "mirror.io:5000/vendor/prod/img:1", 0},
	    {"mirror.io:5000/vendor/prod/img@" D1, "vendor.example.com/prod/img:any", 1},
	    {"mirror.io:5000/vendor@" D1, "vendor.example.com:x", 0},
	    /* a name that only shares characters with the prefix is not remapped */
	    {"mirror.io:5000/vendorx/img:1", "vendor.example.comx/img:1", 0},
	    {"mirror.io:5000/vendorx/img:1", "mirror.io:5000/vendorx/img:1", 1},
	    /* outside the prefix: used unchanged */
	    {"other.io/a:1", "other.io/a:1", 1},
	    {"other.io/a:1", "vendor.example.com/a:1", 0},
	    {NULL, "vendor.example.com/prod/img:1", 0},
	    {NULL, NULL, 0},
	};
	static const struct id_case noncanon[] = {
	    /* remapping to docker.io/<one component> is not canonical: never matches */
	    {"mirror.io/lib/busybox:1", "docker.io/library/busybox:1", 0},
	    {"mirror.io/lib/busybox:1", "docker.io/busybox:1", 0},
	    {NULL, NULL, 0},
	};
	id_table(
	    "{\"type\":\"remapIdentity\",\"prefix\":\"mirror.io:5000/vendor\",\"signedPrefix\":\"vendor.example.com\"}",
	    t);
	id_table("{\"type\":\"remapIdentity\",\"prefix\":\"mirror.io/lib\",\"signedPrefix\":\"docker.io\"}", noncanon);
}

TEST(scope_precedence)
{
	struct policy *p = NULL;
	char why[512];
	const char *scope;
	const char *doc = "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
			  "\"reg.example.com:5000/ns/app:v1\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"reg.example.com:5000/ns/app\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"reg.example.com:5000/ns\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"reg.example.com:5000\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"reg.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"*.example.com\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"*.com\":[{\"type\":\"insecureAcceptAnything\"}],"
			  "\"\":[{\"type\":\"insecureAcceptAnything\"}]},"
			  "\"oci\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}";
	struct {
		const char *ref, *scope;
	} t[] = {
	    {"reg.example.com:5000/ns/app:v1", "reg.example.com:5000/ns/app:v1"},
	    {"reg.example.com:5000/ns/app:v2", "reg.example.com:5000/ns/app"},
	    {"reg.example.com:5000/ns/app@" D1, "reg.example.com:5000/ns/app"},
	    {"reg.example.com:5000/ns/other:v1", "reg.example.com:5000/ns"},
	    {"reg.example.com:5000/ns2/app:v1", "reg.example.com:5000"},
	    {"reg.example.com/ns/app:v1", "reg.example.com"},
	    {"reg.example.com:6000/ns/app:v1", "*.example.com"},
	    {"a.b.example.com/x:1", "*.example.com"},
	    {"other.com/x:1", "*.com"},
	    {"example.org/x:1", ""},
	    {"busybox", ""},
	    {NULL, NULL},
	};

	CHECK_EQ(policy_parse(doc, strlen(doc), &p, why, sizeof(why)), 0);
	for (int i = 0; t[i].ref; i++) {
		struct sign_ref r = dref(t[i].ref);
		policy_reqs_for(p, "docker", &r, &scope);
		if (!scope || strcmp(scope, t[i].scope) != 0)
			FAIL_AT("%s: scope %s, want %s", t[i].ref, scope ? scope : "(default)", t[i].scope);
	}
	/* a transport with no section uses the global default */
	CHECK(policy_reqs_for(p, "dir", NULL, &scope) == &p->def);
	CHECK(scope == NULL);
	CHECK(policy_reqs_for(p, "oci", NULL, &scope) != &p->def);
	CHECK_STR(scope, "");
	policy_free(p);
}

/* ------------------------------------------------------------------ policy evaluation (sigstore) */

static const char manifest_bytes[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";

struct eval_fixture {
	char *dir, pubpath[512], otherpath[512];
	struct sign_key *k, *other;
	struct digest md;
};

static void fixture_init(struct eval_fixture *f)
{
	struct buf pem;

	memset(f, 0, sizeof(*f));
	f->dir = tmpdir_new();
	CHECK_EQ(sign_key_generate(&f->k), 0);
	CHECK_EQ(sign_key_generate(&f->other), 0);
	snprintf(f->pubpath, sizeof(f->pubpath), "%s/k.pub", f->dir);
	snprintf(f->otherpath, sizeof(f->otherpath), "%s/other.pub", f->dir);
	buf_init(&pem, 8192);
	CHECK_EQ(sign_key_public_pem(f->k, &pem), 0);
	write_file(f->pubpath, pem.ptr, pem.len);
	buf_reset(&pem);
	CHECK_EQ(sign_key_public_pem(f->other, &pem), 0);
	write_file(f->otherpath, pem.ptr, pem.len);
	buf_release(&pem);
	digest_of(DIGEST_SHA256, manifest_bytes, strlen(manifest_bytes), &f->md);
}

static void fixture_release(struct eval_fixture *f)
{
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	sign_key_free(f->k);
	sign_key_free(f->other);
}

/* Evaluates policy text for image ref with the given sigstore signatures; returns rc, reason in out. */
static int eval_sigs(const char *policy_text, const char *image_ref, const struct sign_sigstore_sig *sigs, size_t n,
		     const char *manifest, char *out, size_t outn)
{
	struct policy *p = NULL;
	struct sign_ref r = dref(image_ref);
	struct buf reason;
	char why[512];
	struct policy_image img = {
	    .ref = &r, .manifest = manifest, .manifest_len = strlen(manifest), .sigstore = sigs, .nsigstore = n};
	int rc;

	if (policy_parse(policy_text, strlen(policy_text), &p, why, sizeof(why)) < 0)
		FAIL_AT("bad test policy: %s", why);
	buf_init(&reason, 65536);
	rc = policy_eval(p, &img, &reason);
	snprintf(out, outn, "%s", reason.ptr);
	buf_release(&reason);
	policy_free(p);
	return rc;
}

TEST(policy_eval_sigstore)
{
	struct eval_fixture f;
	struct sign_sigstore_sig good, other_key, wrong_digest, wrong_repo, att;
	struct digest bad = dg(D1);
	char pol[2048], out[4096];

	fixture_init(&f);
	snprintf(pol, sizeof(pol),
		 "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"h.io/app\":[{\"type\":"
		 "\"sigstoreSigned\",\"keyPath\":\"%s\"}]}}}",
		 f.pubpath);
	CHECK_EQ(sign_sigstore_create(f.k, "h.io/app:1", &f.md, 1, NULL, &good), 0);
	CHECK_EQ(sign_sigstore_create(f.other, "h.io/app:1", &f.md, 1, NULL, &other_key), 0);
	CHECK_EQ(sign_sigstore_create(f.k, "h.io/app:1", &bad, 1, NULL, &wrong_digest), 0);
	CHECK_EQ(sign_sigstore_create(f.k, "h.io/other:1", &f.md, 1, NULL, &wrong_repo), 0);
	memset(&att, 0, sizeof(att));
	att.media_type = xstrdup("application/vnd.dev.cosign.attestation.v1+json");
	att.payload = (unsigned char *)xstrdup("{}");
	att.payload_len = 2;

	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &good, 1, manifest_bytes, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	/* unsigned */
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", NULL, 0, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, "requirement 1 of 1 (sigstoreSigned keyPath ") != NULL);
	CHECK(strstr(out, "in docker scope \"h.io/app\": A signature was required, but no signature exists") != NULL);
	/* attachments that are not signatures are counted, not accepted */
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &att, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, "(0 non-sigstore signatures, 1 sigstore non-signature attachments)") != NULL);
	/* another key, another digest, another repository, a tag moved after signing */
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &other_key, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, ": cryptographic signature verification failed") != NULL);
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &wrong_digest, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, ": Signature for digest " D1 " does not match") != NULL);
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &wrong_repo, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, ": Signature for identity h.io/other:1 is not accepted") != NULL);
	CHECK_EQ(eval_sigs(pol, "h.io/app:2", &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, ": Signature for identity h.io/app:1 is not accepted") != NULL);
	/* a swapped manifest (the signature was for the old one) */
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &good, 1, "{\"schemaVersion\":2}", out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, "does not match") != NULL);
	/* by digest: the repository is enough (matchRepoDigestOrExact); the digest must match the manifest */
	{
		char r[256], ds[DIGEST_STR_MAX];
		snprintf(r, sizeof(r), "h.io/app@%s", digest_str(&f.md, ds));
		CHECK_EQ(eval_sigs(pol, r, &good, 1, manifest_bytes, out, sizeof(out)), 0);
		CHECK_EQ(eval_sigs(pol, "h.io/app@" D1, &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
		CHECK(strstr(out, "the manifest does not match the digest") != NULL);
	}
	/* several signatures: one good one is enough; all bad lists every reason */
	{
		struct sign_sigstore_sig two[2] = {other_key, good};
		struct sign_sigstore_sig bad2[2] = {other_key, wrong_repo};
		CHECK_EQ(eval_sigs(pol, "h.io/app:1", two, 2, manifest_bytes, out, sizeof(out)), 0);
		CHECK_EQ(eval_sigs(pol, "h.io/app:1", bad2, 2, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
		CHECK(strstr(out, "None of the signatures were accepted, reasons: cryptographic signature verification "
				  "failed; Signature for identity h.io/other:1 is not accepted") != NULL);
	}
	/* outside the scope: the default rejects */
	CHECK_EQ(eval_sigs(pol, "h.io/else:1", &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK_STR(out,
		  "requirement 1 of 1 (reject) in the default policy: Running image docker://h.io/else:1 is rejected "
		  "by policy.");
	/* the other key's file: rejected; a missing key file: rejected with the path */
	snprintf(pol, sizeof(pol), "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}", f.otherpath);
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	snprintf(pol, sizeof(pol), "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s/none.pub\"}]}", f.dir);
	CHECK_EQ(eval_sigs(pol, "h.io/app:1", &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
	CHECK(strstr(out, "none.pub") != NULL);
	/* keyData holds the PEM in base64; all requirements must pass */
	{
		struct buf pem, b64;
		buf_init(&pem, 8192);
		buf_init(&b64, 16384);
		sign_key_public_pem(f.k, &pem);
		sign_b64_encode(pem.ptr, pem.len, &b64);
		snprintf(pol, sizeof(pol),
			 "{\"default\":[{\"type\":\"insecureAcceptAnything\"},{\"type\":\"sigstoreSigned\",\"keyData\":"
			 "\"%s\","
			 "\"signedIdentity\":{\"type\":\"matchRepository\"}}]}",
			 b64.ptr);
		CHECK_EQ(eval_sigs(pol, "h.io/app:9", &good, 1, manifest_bytes, out, sizeof(out)), 0);
		snprintf(pol, sizeof(pol),
			 "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"},{\"type\":\"reject\"}]}",
			 b64.ptr);
		CHECK_EQ(eval_sigs(pol, "h.io/app:1", &good, 1, manifest_bytes, out, sizeof(out)), -BERTH_EDENIED);
		CHECK(strncmp(out, "requirement 2 of 2 (reject)", 27) == 0);
		buf_release(&pem);
		buf_release(&b64);
	}
	sign_sigstore_sig_release(&good);
	sign_sigstore_sig_release(&other_key);
	sign_sigstore_sig_release(&wrong_digest);
	sign_sigstore_sig_release(&wrong_repo);
	sign_sigstore_sig_release(&att);
	fixture_release(&f);
}

TEST(policy_eval_signed_base_layer_and_key_types)
{
	char out[2048];

	CHECK_EQ(
	    eval_sigs("{\"default\":[{\"type\":\"signedBaseLayer\",\"baseLayerIdentity\":{\"type\":\"matchExact\"}}]}",
		      "h.io/a:1", NULL, 0, manifest_bytes, out, sizeof(out)),
	    -BERTH_EDENIED);
	CHECK(strstr(out, "signedBaseLayer is not implemented") != NULL);
	CHECK_EQ(
	    eval_sigs("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"X509Certificates\",\"keyPath\":\"/x\"}]}",
		      "h.io/a:1", NULL, 0, manifest_bytes, out, sizeof(out)),
	    -BERTH_EDENIED);
	CHECK(strstr(out, "Unimplemented \"keyType\" value \"X509Certificates\"") != NULL);
	CHECK_EQ(eval_sigs("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}", "h.io/a:1", NULL, 0, manifest_bytes,
			   out, sizeof(out)),
		 0);
}

/* ------------------------------------------------------------------ registries.d */

TEST(registries_lookups)
{
	struct registries *r = NULL;
	char why[512];
	char *dir = tmpdir_new(), path[600];
	const char *a =
	    "default-docker:\n  lookaside: https://sigs.example.com/base\n"
	    "docker:\n  reg.io/ns:\n    lookaside: file:///srv/ns\n    lookaside-staging: file:///stage/ns\n"
	    "    use-sigstore-attachments: true\n  reg.io/ns/off:\n    use-sigstore-attachments: false\n"
	    "  reg.io:\n    sigstore: https://old.example.com\n    sigstore-staging: file:///old-stage\n"
	    "    unknown-key: ignored\n";
	const char *b = "docker:\n  '*.example.org':\n    use-sigstore-attachments: yes\n";
	struct sign_ref x;
	struct buf url;
	struct digest d = dg(D1);

	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	write_file(path, a, strlen(a));
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	write_file(path, b, strlen(b));
	snprintf(path, sizeof(path), "%s/ignored.yml", dir);
	write_file(path, "not: [valid", 11);
	CHECK_EQ(registries_load_dir(dir, &r, why, sizeof(why)), 0);
	x = dref("reg.io/ns/app:1");
	CHECK_STR(registries_lookaside(r, &x, 0), "file:///srv/ns");
	CHECK_STR(registries_lookaside(r, &x, 1), "file:///stage/ns");
	CHECK_EQ(registries_use_sigstore_attachments(r, &x), 1);
	x = dref("reg.io/ns/off:1");
	CHECK_EQ(registries_use_sigstore_attachments(r, &x), 0);
	CHECK_STR(registries_lookaside(r, &x, 0), "file:///srv/ns"); /* off/ has no lookaside: the parent's */
	x = dref("reg.io/other:1");
	CHECK_STR(registries_lookaside(r, &x, 0), "https://old.example.com");
	CHECK_STR(registries_lookaside(r, &x, 1), "file:///old-stage");
	CHECK_EQ(registries_use_sigstore_attachments(r, &x), 0);
	x = dref("a.b.example.org/x:1");
	CHECK_EQ(registries_use_sigstore_attachments(r, &x), 1);
	CHECK_STR(registries_lookaside(r, &x, 0), "https://sigs.example.com/base");
	buf_init(&url, 4096);
	x = dref("reg.io:5000/ns/app:1");
	CHECK_EQ(registries_lookaside_url("file:///srv/sigs", &x, &d, 0, &url), 0);
	CHECK_STR(url.ptr,
		  "file:///srv/sigs/ns/app@sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/"
		  "signature-1");
	buf_release(&url);
	/* the same namespace in two files; default-docker twice; bad shapes */
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	write_file(path, "docker:\n  reg.io/ns:\n    lookaside: x\n", 38);
	registries_free(r);
	CHECK_EQ(registries_load_dir(dir, &r, why, sizeof(why)), -BERTH_EINVAL);
	CHECK(strstr(why, "\"docker\" namespace \"reg.io/ns\" defined both in") != NULL);
	r = registries_new();
	CHECK_EQ(registries_parse(r, "default-docker: {}\n", 19, "x", why, sizeof(why)), 0);
	CHECK_EQ(registries_parse(r, "default-docker: {}\n", 19, "y", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(registries_parse(r, "docker: [1]\n", 12, "z", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(
	    registries_parse(r, "docker:\n  h.io:\n    use-sigstore-attachments: maybe\n", 50, "z", why, sizeof(why)),
	    -BERTH_EINVAL);
	CHECK_EQ(registries_parse(r, "key: [unclosed\n", 15, "w", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(registries_parse(r, "", 0, "empty", why, sizeof(why)), 0);
	registries_free(r);
	/* a missing directory is an empty configuration */
	CHECK_EQ(registries_load_dir("/nonexistent/registries.d", &r, why, sizeof(why)), 0);
	x = dref("reg.io/a:1");
	CHECK(registries_lookaside(r, &x, 0) == NULL);
	registries_free(r);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* ------------------------------------------------------------------ signature extension API */

TEST(extension_bodies)
{
	struct digest d = dg(D1), other = dg("sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	struct sign_ext_sig s;
	struct sign_ext_list l;
	struct buf b;
	char why[256];

	buf_init(&b, 65536);
	CHECK_EQ(sign_ext_path("ns/app", &d, &b), 0);
	CHECK_STR(b.ptr, "/extensions/v2/ns/app/signatures/" D1);
	buf_reset(&b);
	CHECK_EQ(sign_ext_sig_create(&d, "\x88\x01sig", 5, &b), 0);
	{
		const char *want = "{\"schemaVersion\":2,\"name\":\"" D1 "@";
		CHECK(strncmp(b.ptr, want, strlen(want)) == 0);
		CHECK(strstr(b.ptr, "\",\"type\":\"atomic\",\"content\":\"iAFzaWc=\"}") != NULL);
	}
	CHECK_EQ(sign_ext_sig_parse(b.ptr, b.len, &d, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.content_len, 5);
	CHECK_MEM(s.content, "\x88\x01sig", 5);
	CHECK_EQ(strlen(s.name), strlen(D1) + 1 + 32);
	sign_ext_sig_release(&s);
	/* the same body for another digest is refused */
	CHECK_EQ(sign_ext_sig_parse(b.ptr, b.len, &other, &s, why, sizeof(why)), -BERTH_EINVAL);
	CHECK(strstr(why, "name must be") != NULL);
	/* a list round trip, and readers' filtering */
	{
		struct sign_ext_sig v[2];
		struct sign_ext_sig *first = &v[0];
		CHECK_EQ(sign_ext_sig_parse(b.ptr, b.len, &d, first, why, sizeof(why)), 0);
		v[1] = *first;
		v[1].type = (char *)"other";
		buf_reset(&b);
		CHECK_EQ(sign_ext_list_create(v, 2, &b), 0);
		sign_ext_sig_release(first);
	}
	CHECK_EQ(sign_ext_list_parse(b.ptr, b.len, &l, why, sizeof(why)), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(sign_ext_sig_is_atomic(&l.v[0]), 1);
	CHECK_EQ(sign_ext_sig_is_atomic(&l.v[1]), 0);
	sign_ext_list_release(&l);
	/* hostile bodies */
	CHECK_EQ(sign_ext_list_parse("{\"signatures\":null}", 19, &l, why, sizeof(why)), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(sign_ext_list_parse("{\"signatures\":{}}", 17, &l, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(sign_ext_list_parse("{\"signatures\":[{\"schemaVersion\":\"2\"}]}", 38, &l, why, sizeof(why)),
		 -BERTH_EINVAL);
	CHECK_EQ(sign_ext_list_parse("{\"signatures\":[{\"content\":\"!!\"}]}", 33, &l, why, sizeof(why)),
		 -BERTH_EINVAL);
	CHECK_EQ(sign_ext_list_parse("[]", 2, &l, why, sizeof(why)), -BERTH_EINVAL);
	{
		const char *bad[] = {
		    "{\"schemaVersion\":1,\"name\":\"" D1 "@x\",\"type\":\"atomic\",\"content\":\"AA==\"}",
		    "{\"schemaVersion\":2,\"name\":\"" D1 "@x\",\"type\":\"Atomic\",\"content\":\"AA==\"}",
		    "{\"schemaVersion\":2,\"name\":\"" D1 "@\",\"type\":\"atomic\",\"content\":\"AA==\"}",
		    "{\"schemaVersion\":2,\"name\":\"" D1 "\",\"type\":\"atomic\",\"content\":\"AA==\"}",
		    "{\"schemaVersion\":2,\"name\":\"" D1 "@x\",\"type\":\"atomic\",\"content\":\"\"}",
		    "{\"schemaVersion\":2,\"name\":\"" D1 "@x\",\"type\":\"atomic\"}",
		    "{\"schemaVersion\":2,\"schemaVersion\":2,\"name\":\"" D1
		    "@x\",\"type\":\"atomic\",\"content\":\"AA==\"}",
		    NULL,
		};
		for (int i = 0; bad[i]; i++)
			if (sign_ext_sig_parse(bad[i], strlen(bad[i]), &d, &s, why, sizeof(why)) != -BERTH_EINVAL)
				FAIL_AT("bad PUT body %d accepted", i);
		CHECK_EQ(sign_ext_sig_parse("{\"schemaVersion\":2,\"name\":\"" D1
					    "@x\",\"type\":\"atomic\",\"content\":\"AA==\"}",
					    strlen("{\"schemaVersion\":2,\"name\":\"" D1
						   "@x\",\"type\":\"atomic\",\"content\":\"AA==\"}"),
					    &d, &s, why, sizeof(why)),
			 0);
		sign_ext_sig_release(&s);
	}
	buf_release(&b);
}

/* ------------------------------------------------------------------ collecting signatures */

/* An in-memory registry for sign_collect's fetchers. */
struct fake_registry {
	const char *tag, *tag_body, *tag_mt; /* one manifest by tag */
	const void *blob[4];
	size_t blob_len[4];
	struct digest blob_digest[4];
	int nblobs;
	const char *url_prefix; /* URLs under it answer "url-sig", others 404 */
	int url_calls;
	const char *ext_body;
};

static int fake_manifest(void *ctx, const struct sign_ref *ref, const char *tag, struct buf *out, char *mt, size_t mtn)
{
	struct fake_registry *f = ctx;

	if (!f->tag || strcmp(tag, f->tag) != 0)
		return -BERTH_ENOENT;
	str_copy(mt, mtn, f->tag_mt);
	return buf_adds(out, f->tag_body);
}

static int fake_blob(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out)
{
	struct fake_registry *f = ctx;

	for (int i = 0; i < f->nblobs; i++)
		if (digest_eq(&f->blob_digest[i], d))
			return buf_add(out, f->blob[i], f->blob_len[i]);
	return -BERTH_ENOENT;
}

static int fake_url(void *ctx, const char *url, struct buf *out)
{
	struct fake_registry *f = ctx;

	f->url_calls++;
	if (f->url_prefix && strncmp(url, f->url_prefix, strlen(f->url_prefix)) == 0 && strstr(url, "/signature-1"))
		return buf_adds(out, "url-sig");
	return -BERTH_ENOENT;
}

static int fake_ext(void *ctx, const struct sign_ref *ref, const struct digest *d, struct buf *out)
{
	struct fake_registry *f = ctx;

	return f->ext_body ? buf_adds(out, f->ext_body) : -BERTH_ENOENT;
}

TEST(collect_signatures)
{
	struct fake_registry fr;
	struct sign_fetch fetch = {
	    .ctx = &fr, .manifest = fake_manifest, .blob = fake_blob, .url = fake_url, .extension = fake_ext};
	struct sign_collected c;
	struct registries *regs = NULL;
	struct sign_key *k = NULL;
	struct sign_sigstore_sig s;
	struct sign_attachment a;
	struct buf cfg, man, yaml;
	struct digest md, cd;
	struct sign_ref r = dref("reg.io/ns/app:1");
	char *dir = tmpdir_new(), path[700], why[512], tag[SIGSTORE_TAG_MAX];

	memset(&fr, 0, sizeof(fr));
	buf_init(&cfg, 65536);
	buf_init(&man, 65536);
	buf_init(&yaml, 65536);
	digest_of(DIGEST_SHA256, manifest_bytes, strlen(manifest_bytes), &md);
	/* a file lookaside with two signatures, and attachments on */
	snprintf(path, sizeof(path), "%s/ns/app@sha256=%s", dir, md.hex);
	CHECK_EQ(fs_mkdirs(path), 0);
	snprintf(path, sizeof(path), "%s/ns/app@sha256=%s/signature-1", dir, md.hex);
	write_file(path, "one", 3);
	snprintf(path, sizeof(path), "%s/ns/app@sha256=%s/signature-2", dir, md.hex);
	write_file(path, "two", 3);
	snprintf(path, sizeof(path), "%s/ns/app@sha256=%s/signature-4", dir, md.hex); /* after a gap: not read */
	write_file(path, "four", 4);
	buf_addf(&yaml,
		 "docker:\n  reg.io/ns:\n    lookaside: file://%s\n    use-sigstore-attachments: true\n"
		 "  reg.io/web:\n    lookaside: https://sigs.example.com/x\n",
		 dir);
	regs = registries_new();
	CHECK_EQ(registries_parse(regs, yaml.ptr, yaml.len, "t.yaml", why, sizeof(why)), 0);
	/* the .sig attachment with one signature */
	CHECK_EQ(sign_key_generate(&k), 0);
	CHECK_EQ(sign_sigstore_create(k, "reg.io/ns/app:1", &md, 1, NULL, &s), 0);
	sign_attachment_init(&a);
	CHECK_EQ(sign_attachment_add(&a, &s), 1);
	CHECK_EQ(sign_attachment_config(&a, &cfg), 0);
	digest_of(DIGEST_SHA256, cfg.ptr, cfg.len, &cd);
	CHECK_EQ(sign_attachment_manifest(&a, &cd, (int64_t)cfg.len, &man), 0);
	fr.tag = sign_sigstore_tag(&md, tag);
	fr.tag_body = man.ptr;
	fr.tag_mt = MT_OCI_MANIFEST;
	fr.blob[0] = s.payload;
	fr.blob_len[0] = s.payload_len;
	fr.blob_digest[0] = a.layers[0].digest;
	fr.nblobs = 1;

	CHECK_EQ(sign_collect(regs, &r, &md, 0, &fetch, &c, why, sizeof(why)), 0);
	CHECK_EQ(c.nsimple, 2);
	CHECK_EQ(c.simple[0].len, 3);
	CHECK_MEM(c.simple[0].ptr, "one", 3);
	CHECK_MEM(c.simple[1].ptr, "two", 3);
	CHECK_EQ(c.nsigstore, 1);
	CHECK_STR(c.sigstore[0].signature_b64, s.signature_b64);
	/* into a policy evaluation */
	{
		struct policy *p = NULL;
		struct buf pem, b64, reason;
		struct policy_blob blobs[2];
		struct policy_image img;
		char pol[4096];
		buf_init(&pem, 8192);
		buf_init(&b64, 16384);
		buf_init(&reason, 8192);
		sign_key_public_pem(k, &pem);
		sign_b64_encode(pem.ptr, pem.len, &b64);
		snprintf(pol, sizeof(pol), "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}", b64.ptr);
		CHECK_EQ(policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
		sign_collected_image(&c, &r, manifest_bytes, strlen(manifest_bytes), blobs, &img);
		CHECK_EQ(img.nsimple, 2);
		CHECK_EQ(policy_eval(p, &img, &reason), 0);
		policy_free(p);
		buf_release(&pem);
		buf_release(&b64);
		buf_release(&reason);
	}
	sign_collected_release(&c);

	/* the extension API replaces the lookaside: only atomic entries */
	fr.ext_body = "{\"signatures\":[{\"schemaVersion\":2,\"type\":\"atomic\",\"content\":\"ZXh0\"},"
		      "{\"schemaVersion\":1,\"type\":\"atomic\",\"content\":\"b2xk\"}]}";
	CHECK_EQ(sign_collect(regs, &r, &md, 1, &fetch, &c, why, sizeof(why)), 0);
	CHECK_EQ(c.nsimple, 1);
	CHECK_MEM(c.simple[0].ptr, "ext", 3);
	CHECK_EQ(c.nsigstore, 1);
	sign_collected_release(&c);

	/* a corrupt attachment blob, an attachment of the wrong media type: errors */
	fr.blob[0] = "tampered";
	fr.blob_len[0] = 8;
	CHECK_EQ(sign_collect(regs, &r, &md, 0, &fetch, &c, why, sizeof(why)), -BERTH_EDIGEST);
	CHECK(strstr(why, "does not match its digest") != NULL);
	CHECK_EQ(c.nsimple, 0);
	fr.tag_mt = MT_DOCKER_MANIFEST;
	CHECK_EQ(sign_collect(regs, &r, &md, 0, &fetch, &c, why, sizeof(why)), -BERTH_EINVAL);
	CHECK(strstr(why, "unexpected MIME type") != NULL);

	/* an https lookaside goes through the url fetcher, up to the first 404; without one it is an error */
	r = dref("reg.io/web/app:1");
	fr.url_prefix = "https://sigs.example.com/x/web/app@sha256=";
	CHECK_EQ(sign_collect(regs, &r, &md, 0, &fetch, &c, why, sizeof(why)), 0);
	CHECK_EQ(c.nsimple, 1);
	CHECK_MEM(c.simple[0].ptr, "url-sig", 7);
	CHECK_EQ(c.nsigstore, 0); /* attachments are off outside reg.io/ns */
	CHECK_EQ(fr.url_calls, 2);
	sign_collected_release(&c);
	fetch.url = NULL;
	CHECK_EQ(sign_collect(regs, &r, &md, 0, &fetch, &c, why, sizeof(why)), -BERTH_EUNSUPPORTED);

	sign_attachment_release(&a);
	sign_sigstore_sig_release(&s);
	sign_key_free(k);
	registries_free(regs);
	buf_release(&cfg);
	buf_release(&man);
	buf_release(&yaml);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* ------------------------------------------------------------------ GPG */

struct gpg_home {
	char *dir, fpr[SIGN_GPG_FPR_MAX], pubpath[600];
};

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A GnuPG home with one fresh ed25519 signing key (no passphrase) and its exported public key. */
static void gpg_home_init(struct gpg_home *g, const char *uid)
{
	char line[4096];
	FILE *f;

	memset(g, 0, sizeof(*g));
	g->dir = tmpdir_new();
	snprintf(line, sizeof(line), "%s/gpg.conf", g->dir);
	write_file(line, "compress-algo none\n", 19);
	if (run("gpg --homedir %s --batch --quiet --passphrase '' --quick-gen-key '%s' ed25519 sign never 2>/dev/null",
		g->dir, uid) != 0)
		FAIL_AT("gpg --quick-gen-key failed");
	snprintf(line, sizeof(line), "gpg --homedir %s --batch --with-colons --list-secret-keys 2>/dev/null", g->dir);
	f = popen(line, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "fpr:", 4) == 0 && !g->fpr[0]) {
			char *s = line + 4;
			while (*s == ':')
				s++;
			s[strcspn(s, ":\n")] = '\0';
			str_copy(g->fpr, sizeof(g->fpr), s);
		}
	if (f)
		pclose(f);
	CHECK_EQ(strlen(g->fpr), 40);
	snprintf(g->pubpath, sizeof(g->pubpath), "%s/pub.gpg", g->dir);
	if (run("gpg --homedir %s --batch --export %s > %s 2>/dev/null", g->dir, g->fpr, g->pubpath) != 0)
		FAIL_AT("gpg --export failed");
}

static void gpg_home_release(struct gpg_home *g)
{
	run("gpgconf --homedir %s --kill all 2>/dev/null", g->dir);
	nftw(g->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(g->dir);
}

static void read_all(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!f)
		FAIL_AT("cannot read %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
}

TEST(gpg_sign_verify)
{
	struct gpg_home a, b;
	struct sign_gpg_keyring *kr = NULL, *krb = NULL;
	struct buf payload, sig, pub, contents;
	char why[512], fpr[SIGN_GPG_FPR_MAX];
	size_t nimp = 0;

	gpg_home_init(&a, "Signer A <a@example.com>");
	gpg_home_init(&b, "Signer B <b@example.com>");
	buf_init(&payload, 4096);
	buf_init(&sig, 65536);
	buf_init(&pub, 65536);
	buf_init(&contents, 65536);
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "h.io/app:1", D1, "berth test", 1, &payload), 0);
	CHECK_EQ(sign_gpg_sign(a.dir, a.fpr, NULL, payload.ptr, payload.len, &sig, why, sizeof(why)), 0);
	CHECK(sig.len > 50);
	CHECK_EQ(sign_gpg_sign(a.dir, b.fpr, NULL, payload.ptr, payload.len, &sig, why, sizeof(why)), -BERTH_ENOENT);

	read_all(a.pubpath, &pub);
	CHECK_EQ(sign_gpg_keyring_new(&kr, why, sizeof(why)), 0);
	CHECK_EQ(sign_gpg_keyring_import(kr, pub.ptr, pub.len, &nimp, why, sizeof(why)), 0);
	CHECK_EQ(nimp, 1);
	CHECK_EQ(sign_gpg_keyring_count(kr), 1);
	CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), 0);
	CHECK_STR(fpr, a.fpr);
	CHECK_EQ(contents.len, payload.len);
	CHECK_MEM(contents.ptr, payload.ptr, payload.len);

	/* B's keyring does not accept A's signature */
	buf_reset(&pub);
	read_all(b.pubpath, &pub);
	CHECK_EQ(sign_gpg_keyring_new(&krb, why, sizeof(why)), 0);
	CHECK_EQ(sign_gpg_keyring_import(krb, pub.ptr, pub.len, NULL, why, sizeof(why)), 0);
	buf_reset(&contents);
	CHECK_EQ(sign_gpg_verify(krb, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
	CHECK_EQ(contents.len, 0);

	/* a flipped byte in the signed literal data (the test home writes it uncompressed), or in the
	 * signature value at the end of the message */
	{
		char *hit = memmem(sig.ptr, sig.len, "h.io/app:1", 10);
		CHECK(hit != NULL);
		hit[5] = 'b';
		buf_reset(&contents);
		CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
		hit[5] = 'a';
		sig.ptr[sig.len - 3] ^= 0x01;
		CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
		sig.ptr[sig.len - 3] ^= 0x01;
		buf_reset(&contents);
		CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), 0);
	}
	/* not a signature at all; truncated */
	CHECK_EQ(sign_gpg_verify(kr, payload.ptr, payload.len, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
	CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len / 2, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
	/* an ASCII-armored export imports the same key */
	{
		struct sign_gpg_keyring *kra = NULL;
		char apath[700];
		struct buf arm;
		snprintf(apath, sizeof(apath), "%s/pub.asc", a.dir);
		if (run("gpg --homedir %s --batch --armor --export %s > %s 2>/dev/null", a.dir, a.fpr, apath) != 0)
			FAIL_AT("gpg --armor --export failed");
		buf_init(&arm, 65536);
		read_all(apath, &arm);
		CHECK(strncmp(arm.ptr, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) == 0);
		CHECK_EQ(sign_gpg_keyring_new(&kra, why, sizeof(why)), 0);
		CHECK_EQ(sign_gpg_keyring_import(kra, arm.ptr, arm.len, &nimp, why, sizeof(why)), 0);
		CHECK_EQ(nimp, 1);
		buf_reset(&contents);
		CHECK_EQ(sign_gpg_verify(kra, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), 0);
		CHECK_STR(fpr, a.fpr);
		sign_gpg_keyring_free(kra);
		buf_release(&arm);
	}
	/* importing garbage imports nothing */
	CHECK_EQ(sign_gpg_keyring_import(krb, "garbage", 7, &nimp, why, sizeof(why)), 0);
	CHECK_EQ(nimp, 0);

	/* through the policy: signedBy with keyPath accepts A's signature, rejects with B's key */
	{
		struct policy *p = NULL;
		struct sign_ref r = dref("h.io/app:1");
		struct policy_blob blob = {sig.ptr, sig.len};
		struct digest md;
		struct buf reason, pl2, sig2;
		char pol[2048], ds[DIGEST_STR_MAX];
		struct policy_image img = {.ref = &r,
					   .manifest = manifest_bytes,
					   .manifest_len = strlen(manifest_bytes),
					   .simple = &blob,
					   .nsimple = 1};

		buf_init(&reason, 65536);
		buf_init(&pl2, 4096);
		buf_init(&sig2, 65536);
		/* sign the real manifest digest this time */
		digest_of(DIGEST_SHA256, manifest_bytes, strlen(manifest_bytes), &md);
		CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "h.io/app:1", digest_str(&md, ds), NULL, -1, &pl2),
			 0);
		CHECK_EQ(sign_gpg_sign(a.dir, a.fpr, NULL, pl2.ptr, pl2.len, &sig2, why, sizeof(why)), 0);
		/* the first signature claims the wrong digest */
		snprintf(pol, sizeof(pol),
			 "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}",
			 a.pubpath);
		CHECK_EQ(policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
		CHECK_EQ(policy_eval(p, &img, &reason), -BERTH_EDENIED);
		CHECK(strstr(reason.ptr, "Signature for digest " D1 " does not match") != NULL);
		blob.ptr = sig2.ptr;
		blob.len = sig2.len;
		buf_reset(&reason);
		CHECK_EQ(policy_eval(p, &img, &reason), 0);
		policy_free(p);
		snprintf(pol, sizeof(pol),
			 "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPaths\":[\"%s\"]}]}",
			 b.pubpath);
		CHECK_EQ(policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
		buf_reset(&reason);
		CHECK_EQ(policy_eval(p, &img, &reason), -BERTH_EDENIED);
		CHECK(strstr(reason.ptr, "requirement 1 of 1 (signedBy keyPaths (1 files)) in the default policy: ") !=
		      NULL);
		policy_free(p);
		/* a keyring file without keys */
		snprintf(pol, sizeof(pol),
			 "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"AAAA\"}]}");
		CHECK_EQ(policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
		buf_reset(&reason);
		CHECK_EQ(policy_eval(p, &img, &reason), -BERTH_EDENIED);
		CHECK(strstr(reason.ptr, "No public keys imported") != NULL);
		policy_free(p);
		buf_release(&reason);
		buf_release(&pl2);
		buf_release(&sig2);
	}
	sign_gpg_keyring_free(kr);
	sign_gpg_keyring_free(krb);
	buf_release(&payload);
	buf_release(&sig);
	buf_release(&pub);
	buf_release(&contents);
	gpg_home_release(&a);
	gpg_home_release(&b);
}

TEST(gpg_expired_key_and_passphrase)
{
	char *dir = tmpdir_new(), path[700], line[4096], fpr[SIGN_GPG_FPR_MAX], why[512];
	struct sign_gpg_keyring *kr = NULL;
	struct buf payload, sig, pub, contents;
	FILE *f;

	buf_init(&payload, 4096);
	buf_init(&sig, 65536);
	buf_init(&pub, 65536);
	buf_init(&contents, 65536);
	/* a key that expired in 2020, signing while the clock said 2020 */
	snprintf(path, sizeof(path), "%s/gpg.conf", dir);
	write_file(path, "faked-system-time 20200101T000000\n", 34);
	if (run("gpg --homedir %s --batch --quiet --passphrase '' --quick-gen-key 'Old <old@example.com>' ed25519 sign "
		"1d "
		"2>/dev/null",
		dir) != 0)
		FAIL_AT("gpg --quick-gen-key failed");
	CHECK_EQ(sign_payload_create(SIGN_PAYLOAD_ATOMIC, "h.io/app:1", D1, NULL, -1, &payload), 0);
	snprintf(path, sizeof(path), "%s/payload", dir);
	write_file(path, payload.ptr, payload.len);
	if (run("gpg --homedir %s --batch --quiet --sign -o %s/payload.sig %s 2>/dev/null", dir, dir, path) != 0 ||
	    run("gpg --homedir %s --batch --export > %s/old.gpg 2>/dev/null", dir, dir) != 0)
		FAIL_AT("gpg --sign/--export failed");
	snprintf(path, sizeof(path), "%s/payload.sig", dir);
	read_all(path, &sig);
	snprintf(path, sizeof(path), "%s/old.gpg", dir);
	read_all(path, &pub);
	CHECK_EQ(sign_gpg_keyring_new(&kr, why, sizeof(why)), 0);
	CHECK_EQ(sign_gpg_keyring_import(kr, pub.ptr, pub.len, NULL, why, sizeof(why)), 0);
	CHECK_EQ(sign_gpg_keyring_count(kr), 1);
	CHECK_EQ(sign_gpg_verify(kr, sig.ptr, sig.len, &contents, fpr, why, sizeof(why)), -BERTH_EDENIED);
	CHECK(strstr(why, "Invalid GPG signature") != NULL);
	CHECK_EQ(contents.len, 0);
	sign_gpg_keyring_free(kr);
	run("gpgconf --homedir %s --kill all 2>/dev/null", dir);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);

	/* a key with a passphrase: signing through loopback pinentry with the right one only */
	dir = tmpdir_new();
	snprintf(path, sizeof(path), "%s/gpg-agent.conf", dir);
	write_file(path, "s2k-count 65536\n", 16); /* no passphrase-hashing calibration: keeps the test fast */
	if (run("gpg --homedir %s --batch --quiet --pinentry-mode loopback --passphrase 'pw 1' --quick-gen-key "
		"'Locked <l@example.com>' ed25519 sign never 2>/dev/null",
		dir) != 0)
		FAIL_AT("gpg --quick-gen-key with a passphrase failed");
	snprintf(line, sizeof(line), "gpg --homedir %s --batch --with-colons --list-secret-keys 2>/dev/null", dir);
	fpr[0] = '\0';
	f = popen(line, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "fpr:", 4) == 0 && !fpr[0]) {
			char *p = line + 4;
			while (*p == ':')
				p++;
			p[strcspn(p, ":\n")] = '\0';
			str_copy(fpr, sizeof(fpr), p);
		}
	if (f)
		pclose(f);
	CHECK_EQ(strlen(fpr), 40);
	buf_reset(&sig);
	CHECK_EQ(sign_gpg_sign(dir, fpr, "wrong", payload.ptr, payload.len, &sig, why, sizeof(why)), -BERTH_EIO);
	CHECK_EQ(sig.len, 0);
	CHECK_EQ(sign_gpg_sign(dir, fpr, "pw 1", payload.ptr, payload.len, &sig, why, sizeof(why)), 0);
	CHECK(sig.len > 50);
	run("gpgconf --homedir %s --kill all 2>/dev/null", dir);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	buf_release(&payload);
	buf_release(&sig);
	buf_release(&pub);
	buf_release(&contents);
}

static const struct test tests[] = {
    T(ref_normalisation),
    T(ref_docker_transport_and_canonical),
    T(ref_scopes_order),
    T(payload_create_exact_bytes),
    T(payload_parse_roundtrip),
    T(payload_hostile),
    T(base64_strict),
    T(sigstore_sign_verify_tamper),
    T(sigstore_private_key_file),
    T(sigstore_private_key_hostile_kdf),
    T(attachment_manifest_build_parse_append),
    T(referrer_signature_artifact),
    T(policy_parse_valid),
    T(policy_parse_hostile),
    T(identity_match_exact),
    T(identity_match_repo_digest_or_exact),
    T(identity_match_repository),
    T(identity_exact_reference),
    T(identity_exact_repository),
    T(identity_remap),
    T(scope_precedence),
    T(policy_eval_sigstore),
    T(policy_eval_signed_base_layer_and_key_types),
    T(registries_lookups),
    T(extension_bodies),
    T(collect_signatures),
    T(gpg_sign_verify),
    T(gpg_expired_key_and_passphrase),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
