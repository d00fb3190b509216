/* sigstore: cosign key files, signatures and attachment manifests (see sigstore.h).
 * Crypto: OpenSSL for keys, ECDSA and scrypt; libsodium for NaCl secretbox (XSalsa20-Poly1305), which
 * OpenSSL lacks. */
#include "sign/sigstore.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sign/internal.h"
#include "image/manifest.h"

struct sign_key {
	EVP_PKEY *pkey;
	int is_private;
};

#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_N_WRITE 32768
#define SALT_LEN 32
#define KEY_FILE_MAX (64 * 1024)
#define ATTACHMENT_LAYERS_MAX 10000

static int sodium_ready(void)
{
	return sodium_init() >= 0 ? 0 : -BERTH_EIO;
}

int sign_key_generate(struct sign_key **out)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	*out = NULL;
	if (!pk)
		return -BERTH_EIO;
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pk;
	(*out)->is_private = 1;
	return 0;
}

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int sign_key_is_private(const struct sign_key *k)
{
	return k && k->is_private;
}

static int bio_to_buf(BIO *b, struct buf *out)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	return n < 0 ? -BERTH_EIO : buf_add(out, p, (size_t)n);
}

int sign_key_public_pem(const struct sign_key *k, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = -BERTH_EIO;

	if (b && PEM_write_bio_PUBKEY(b, k->pkey) == 1)
		rc = bio_to_buf(b, out);
	BIO_free(b);
	return rc;
}

/* Writes label and DER bytes as a PEM block with 64-column lines. */
static int pem_encode(const char *label, const void *der, size_t n, struct buf *out)
{
	struct buf b64;
	int rc;

	buf_init(&b64, BUF_UNLIMITED);
	rc = sign_b64_encode(der, n, &b64);
	if (rc == 0)
		rc = buf_addf(out, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; rc == 0 && i < b64.len; i += 64) {
		rc = buf_add(out, b64.ptr + i, b64.len - i < 64 ? b64.len - i : 64);
		if (rc == 0)
			rc = buf_add(out, "\n", 1);
	}
	if (rc == 0)
		rc = buf_addf(out, "-----END %s-----\n", label);
	buf_release(&b64);
	return rc;
}

/* Finds the first PEM block in p[0..n); its label goes to label (NUL-terminated) and its decoded bytes
 * to der. Header lines ("Key: value") are skipped. */
static int pem_decode(const char *p, size_t n, char *label, size_t labeln, struct buf *der)
{
	static const char begin[] = "-----BEGIN ";
	const char *s = NULL, *e, *end = p + n, *body, *stop;
	char endmark[128];
	size_t ln;
	struct buf b64;
	int rc;

	for (const char *q = p; q + sizeof(begin) - 1 <= end; q++)
		if (memcmp(q, begin, sizeof(begin) - 1) == 0) {
			s = q + sizeof(begin) - 1;
			break;
		}
	if (!s)
		return -BERTH_EINVAL;
	e = memchr(s, '-', (size_t)(end - s));
	if (!e || end - e < 5 || memcmp(e, "-----", 5) != 0)
		return -BERTH_EINVAL;
	ln = (size_t)(e - s);
	if (ln == 0 || ln + 1 > labeln || ln > 80)
		return -BERTH_EINVAL;
	memcpy(label, s, ln);
	label[ln] = '\0';
	body = e + 5;
	snprintf(endmark, sizeof(endmark), "-----END %s-----", label);
	stop = NULL;
	for (const char *q = body; q + strlen(endmark) <= end; q++)
		if (memcmp(q, endmark, strlen(endmark)) == 0) {
			stop = q;
			break;
		}
	if (!stop)
		return -BERTH_EINVAL;
	buf_init(&b64, KEY_FILE_MAX);
	rc = 0;
	for (const char *line = body; rc == 0 && line < stop;) {
		const char *nl = memchr(line, '\n', (size_t)(stop - line));
		const char *le = nl ? nl : stop;
		if (!memchr(line, ':', (size_t)(le - line))) {
			for (const char *c = line; rc == 0 && c < le; c++)
				if (*c != '\r' && *c != ' ' && *c != '\t')
					rc = buf_add(&b64, c, 1);
		}
		line = le + (nl ? 1 : 0);
	}
	if (rc == 0)
		rc = sign_b64_decode(b64.ptr, b64.len, der) < 0 ? -BERTH_EINVAL : 0;
	buf_release(&b64);
	return rc;
}

static int json_b64(json_t *obj, const char *key, struct buf *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return -BERTH_EINVAL;
	return sign_b64_decode(json_string_value(v), json_string_length(v), out) < 0 ? -BERTH_EINVAL : 0;
}

int sign_key_private_pem(const struct sign_key *k, const char *pass, size_t passlen, struct buf *out)
{
	unsigned char salt[SALT_LEN], nonce[crypto_secretbox_NONCEBYTES], key[crypto_secretbox_KEYBYTES];
	unsigned char *der = NULL, *ct = NULL;
	int dern = -1, rc;
	struct buf bs, bn, bc;
	json_t *doc = NULL;
	char *text = NULL;

	buf_init(&bs, BUF_UNLIMITED);
	buf_init(&bn, BUF_UNLIMITED);
	buf_init(&bc, BUF_UNLIMITED);
	if (!k->is_private)
		return -BERTH_EINVAL;
	rc = sodium_ready();
	if (rc < 0)
		goto out;
	rc = -BERTH_EIO;
	dern = -1;
	{
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k->pkey);
		if (!p8)
			goto out;
		dern = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	if (dern <= 0)
		goto out;
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	if (EVP_PBE_scrypt(pass ? pass : "", passlen, salt, sizeof(salt), SCRYPT_N_WRITE, SCRYPT_R, SCRYPT_P,
			   256u << 20, key, sizeof(key)) != 1)
		goto out;
	ct = xmalloc((size_t)dern + crypto_secretbox_MACBYTES);
	if (crypto_secretbox_easy(ct, der, (size_t)dern, nonce, key) != 0)
		goto out;
	if (sign_b64_encode(salt, sizeof(salt), &bs) < 0 || sign_b64_encode(nonce, sizeof(nonce), &bn) < 0 ||
	    sign_b64_encode(ct, (size_t)dern + crypto_secretbox_MACBYTES, &bc) < 0)
		goto out;
	doc = json_pack("{s:{s:s,s:{s:i,s:i,s:i},s:s},s:{s:s,s:s},s:s}", "kdf", "name", "scrypt", "params", "N",
			SCRYPT_N_WRITE, "r", SCRYPT_R, "p", SCRYPT_P, "salt", bs.ptr, "cipher", "name",
			"nacl/secretbox", "nonce", bn.ptr, "ciphertext", bc.ptr);
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text)
		goto out;
	rc = pem_encode(SIGSTORE_PEM_COSIGN, text, strlen(text), out);
out:
	sodium_memzero(key, sizeof(key));
	if (der) {
		sodium_memzero(der, (size_t)(dern > 0 ? dern : 0));
		OPENSSL_free(der);
	}
	free(ct);
	free(text);
	json_decref(doc);
	buf_release(&bs);
	buf_release(&bn);
	buf_release(&bc);
	return rc;
}

int sign_key_load_public(const void *pem, size_t n, struct sign_key **out, char *why, size_t whyn)
{
	BIO *b = NULL;
	EVP_PKEY *pk = NULL;
	char label[96];
	struct buf der;
	int rc, id;

	*out = NULL;
	buf_init(&der, KEY_FILE_MAX);
	if (n > KEY_FILE_MAX) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "public key file over %d bytes", KEY_FILE_MAX);
		goto out;
	}
	if (pem_decode(pem, n, label, sizeof(label), &der) < 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "no PEM block in the public key data");
		goto out;
	}
	if (strcmp(label, "PUBLIC KEY") != 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL,
			       "unsupported PEM type \"%s\" for a public key (want PUBLIC KEY)", label);
		goto out;
	}
	{
		const unsigned char *p = (const unsigned char *)der.ptr;
		pk = d2i_PUBKEY(NULL, &p, (long)der.len);
		if (!pk || p != (const unsigned char *)der.ptr + der.len) {
			rc = sign__why(why, whyn, -BERTH_EINVAL, "the PUBLIC KEY block is not a valid PKIX public key");
			goto out;
		}
	}
	id = EVP_PKEY_get_base_id(pk);
	if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED, "unsupported public key algorithm");
		goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pk;
	pk = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	BIO_free(b);
	buf_release(&der);
	return rc;
}

int sign_key_load_private(const void *pem, size_t n, const char *pass, size_t passlen, struct sign_key **out, char *why,
			  size_t whyn)
{
	char label[96];
	struct buf der, salt, nonce, ct;
	json_t *doc = NULL, *kdf, *params, *cipher, *name;
	json_error_t jerr;
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char *plain = NULL;
	size_t plainn = 0;
	EVP_PKEY *pk = NULL;
	json_int_t N, r, p;
	int rc;

	*out = NULL;
	buf_init(&der, KEY_FILE_MAX);
	buf_init(&salt, 1024);
	buf_init(&nonce, 1024);
	buf_init(&ct, KEY_FILE_MAX);
	rc = sodium_ready();
	if (rc < 0)
		goto out;
	if (n > KEY_FILE_MAX) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "private key file over %d bytes", KEY_FILE_MAX);
		goto out;
	}
	if (pem_decode(pem, n, label, sizeof(label), &der) < 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "invalid pem block");
		goto out;
	}
	if (strcmp(label, SIGSTORE_PEM_COSIGN) != 0 && strcmp(label, SIGSTORE_PEM_SIGSTORE) != 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "unsupported pem type: %s", label);
		goto out;
	}
	doc = json_loadb(der.ptr, der.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "encrypted key is not JSON: %s", jerr.text);
		goto out;
	}
	kdf = json_object_get(doc, "kdf");
	cipher = json_object_get(doc, "cipher");
	params = json_object_get(kdf, "params");
	name = json_object_get(kdf, "name");
	if (!json_is_string(name) || strcmp(json_string_value(name), "scrypt") != 0) {
		rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED, "encrypted: unknown kdf name");
		goto out;
	}
	name = json_object_get(cipher, "name");
	if (!json_is_string(name) || strcmp(json_string_value(name), "nacl/secretbox") != 0) {
		rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED, "encrypted: unknown cipher name");
		goto out;
	}
	if (!json_is_integer(json_object_get(params, "N")) || !json_is_integer(json_object_get(params, "r")) ||
	    !json_is_integer(json_object_get(params, "p"))) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "encrypted: kdf params missing");
		goto out;
	}
	N = json_integer_value(json_object_get(params, "N"));
	r = json_integer_value(json_object_get(params, "r"));
	p = json_integer_value(json_object_get(params, "p"));
	if ((N != 32768 && N != 65536 && N != 131072) || r != SCRYPT_R || p != SCRYPT_P) {
		rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED, "encrypted: unexpected kdf parameters");
		goto out;
	}
	if (json_b64(kdf, "salt", &salt) < 0 || json_b64(cipher, "nonce", &nonce) < 0 ||
	    json_b64(doc, "ciphertext", &ct) < 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "encrypted: salt, nonce or ciphertext missing or not base64");
		goto out;
	}
	if (nonce.len != crypto_secretbox_NONCEBYTES || ct.len < crypto_secretbox_MACBYTES) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "encrypted: incorrect nonce or ciphertext size");
		goto out;
	}
	if (EVP_PBE_scrypt(pass ? pass : "", passlen, (unsigned char *)salt.ptr, salt.len, (uint64_t)N, (uint64_t)r,
			   (uint64_t)p, 256u << 20, key, sizeof(key)) != 1) {
		rc = sign__why(why, whyn, -BERTH_EIO, "scrypt failed");
		goto out;
	}
	plainn = ct.len - crypto_secretbox_MACBYTES;
	plain = xmalloc(plainn + 1);
	if (crypto_secretbox_open_easy(plain, (unsigned char *)ct.ptr, ct.len, (unsigned char *)nonce.ptr, key) != 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "decrypt: encrypted: decryption failed (wrong passphrase?)");
		goto out;
	}
	{
		const unsigned char *q = plain;
		PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)plainn);
		if (p8)
			pk = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	if (!pk) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "parsing private key: not a PKCS#8 key");
		goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->pkey = pk;
	(*out)->is_private = 1;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	if (plain) {
		sodium_memzero(plain, plainn);
		free(plain);
	}
	json_decref(doc);
	buf_release(&der);
	buf_release(&salt);
	buf_release(&nonce);
	buf_release(&ct);
	return rc;
}

static const EVP_MD *key_md(const struct sign_key *k)
{
	return EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

int sign_key_sign(const struct sign_key *k, const void *data, size_t n, struct buf *sig)
{
	EVP_MD_CTX *ctx = NULL;
	size_t len = 0;
	int rc = -BERTH_EIO;

	if (!k->is_private)
		return -BERTH_EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &len, data, n) != 1)
		goto out;
	rc = buf_grow(sig, len);
	if (rc < 0)
		goto out;
	rc = -BERTH_EIO;
	if (EVP_DigestSign(ctx, (unsigned char *)sig->ptr + sig->len, &len, data, n) != 1)
		goto out;
	sig->len += len;
	sig->ptr[sig->len] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int sign_key_verify(const struct sign_key *k, const void *data, size_t n, const void *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -BERTH_EDENIED;

	if (ctx && EVP_DigestVerifyInit(ctx, NULL, key_md(k), NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, data, n) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

void sign_sigstore_sig_release(struct sign_sigstore_sig *s)
{
	free(s->media_type);
	free(s->payload);
	free(s->signature_b64);
	memset(s, 0, sizeof(*s));
}

int sign_sigstore_create(const struct sign_key *k, const char *docker_reference, const struct digest *manifest_digest,
			 int64_t timestamp, const char *creator, struct sign_sigstore_sig *out)
{
	char ds[DIGEST_STR_MAX];
	struct buf payload, sig, b64;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&payload, SIGN_PAYLOAD_MAX);
	buf_init(&sig, 4096);
	buf_init(&b64, 8192);
	rc = sign_payload_create(SIGN_PAYLOAD_COSIGN, docker_reference, digest_str(manifest_digest, ds),
				 creator ? creator : "berth", timestamp, &payload);
	if (rc == 0)
		rc = sign_key_sign(k, payload.ptr, payload.len, &sig);
	if (rc == 0)
		rc = sign_b64_encode(sig.ptr, sig.len, &b64);
	if (rc == 0) {
		out->media_type = xstrdup(SIGSTORE_SIG_MEDIA_TYPE);
		out->payload_len = payload.len;
		out->payload = (unsigned char *)buf_detach(&payload, NULL);
		out->signature_b64 = buf_detach(&b64, NULL);
	}
	buf_release(&payload);
	buf_release(&sig);
	buf_release(&b64);
	return rc;
}

int sign_sigstore_verify(const struct sign_key *k, const struct sign_sigstore_sig *s, struct sign_payload *payload,
			 char *why, size_t whyn)
{
	struct buf sig;
	int rc;

	memset(payload, 0, sizeof(*payload));
	if (!s->media_type || strcmp(s->media_type, SIGSTORE_SIG_MEDIA_TYPE) != 0)
		return sign__why(why, whyn, -BERTH_EINVAL, "attachment of type \"%s\" is not a sigstore signature",
				 s->media_type ? s->media_type : "");
	if (!s->signature_b64)
		return sign__why(why, whyn, -BERTH_EDENIED, "missing %s annotation", SIGSTORE_SIG_ANNOTATION);
	buf_init(&sig, 64 * 1024);
	if (sign_b64_decode(s->signature_b64, strlen(s->signature_b64), &sig) < 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "base64 decoding of the signature annotation failed");
		goto out;
	}
	if (sign_key_verify(k, s->payload, s->payload_len, sig.ptr, sig.len) < 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "cryptographic signature verification failed");
		goto out;
	}
	rc = sign_payload_parse(s->payload, s->payload_len, SIGN_PAYLOAD_COSIGN, payload, why, whyn);
out:
	buf_release(&sig);
	return rc;
}

char *sign_sigstore_tag(const struct digest *d, char out[SIGSTORE_TAG_MAX])
{
	snprintf(out, SIGSTORE_TAG_MAX, "%s-%s.sig", digest_alg_name(d->alg), d->hex);
	return out;
}

void sign_attachment_init(struct sign_attachment *a)
{
	memset(a, 0, sizeof(*a));
}

static void layer_release(struct sign_attachment_layer *l)
{
	free(l->media_type);
	if (l->annotations)
		for (char **p = l->annotations; *p; p++)
			free(*p);
	free(l->annotations);
}

void sign_attachment_release(struct sign_attachment *a)
{
	for (size_t i = 0; i < a->nlayers; i++)
		layer_release(&a->layers[i]);
	free(a->layers);
	memset(a, 0, sizeof(*a));
}

int sign_attachment_parse(const void *manifest, size_t n, struct sign_attachment *a, char *why, size_t whyn)
{
	json_t *root = NULL, *layers, *mt, *l, *cfg;
	json_error_t jerr;
	size_t i;
	int rc;

	sign_attachment_init(a);
	root = json_loadb(manifest, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment manifest is not a JSON object%s%s",
			       root ? "" : ": ", root ? "" : jerr.text);
		goto out;
	}
	mt = json_object_get(root, "mediaType");
	if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), MT_OCI_MANIFEST) != 0)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment manifest media type is not %s", MT_OCI_MANIFEST);
		goto out;
	}
	if (json_integer_value(json_object_get(root, "schemaVersion")) != 2 ||
	    !json_is_integer(json_object_get(root, "schemaVersion"))) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment manifest schemaVersion is not 2");
		goto out;
	}
	cfg = json_object_get(root, "config");
	if (!json_is_object(cfg)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment manifest has no config");
		goto out;
	}
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers) || json_array_size(layers) > ATTACHMENT_LAYERS_MAX) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment manifest layers missing or over %d",
			       ATTACHMENT_LAYERS_MAX);
		goto out;
	}
	a->layers = xcalloc(json_array_size(layers) + 1, sizeof(*a->layers));
	json_array_foreach(layers, i, l)
	{
		struct sign_attachment_layer *dst = &a->layers[a->nlayers];
		json_t *lmt = json_object_get(l, "mediaType"), *ld = json_object_get(l, "digest"),
		       *ls = json_object_get(l, "size"), *ann = json_object_get(l, "annotations"), *v;
		const char *key;
		size_t k = 0;

		if (!json_is_string(lmt) || !json_is_string(ld) || !json_is_integer(ls) || json_integer_value(ls) < 0 ||
		    (ann && !json_is_object(ann))) {
			rc = sign__why(why, whyn, -BERTH_EINVAL, "attachment layer %zu is not a valid descriptor", i);
			goto out;
		}
		rc = digest_parse(json_string_value(ld), json_string_length(ld), &dst->digest);
		if (rc < 0) {
			rc = sign__why(why, whyn, rc, "attachment layer %zu has an invalid digest", i);
			goto out;
		}
		dst->media_type = xstrdup(json_string_value(lmt));
		dst->size = json_integer_value(ls);
		dst->annotations = xcalloc(2 * (ann ? json_object_size(ann) : 0) + 1, sizeof(char *));
		a->nlayers++;
		if (ann) {
			json_object_foreach(ann, key, v)
			{
				if (!json_is_string(v)) {
					rc = sign__why(why, whyn, -BERTH_EINVAL,
						       "attachment layer %zu: annotation \"%s\" is not a string", i,
						       key);
					goto out;
				}
				dst->annotations[k++] = xstrdup(key);
				dst->annotations[k++] = xstrdup(json_string_value(v));
			}
		}
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		sign_attachment_release(a);
	return rc;
}

static const char *layer_annotation(const struct sign_attachment_layer *l, const char *key)
{
	for (char **p = l->annotations; p && *p; p += 2)
		if (strcmp(p[0], key) == 0)
			return p[1];
	return NULL;
}

int sign_attachment_layer_sig(const struct sign_attachment_layer *l, const void *blob, size_t n,
			      struct sign_sigstore_sig *out)
{
	struct digest d;
	const char *sig;

	memset(out, 0, sizeof(*out));
	digest_of(l->digest.alg, blob, n, &d);
	if ((int64_t)n != l->size || !digest_eq(&d, &l->digest))
		return -BERTH_EDIGEST;
	out->media_type = xstrdup(l->media_type);
	out->payload = xmalloc(n + 1);
	memcpy(out->payload, blob, n);
	out->payload_len = n;
	sig = layer_annotation(l, SIGSTORE_SIG_ANNOTATION);
	out->signature_b64 = sig ? xstrdup(sig) : NULL;
	return 0;
}

int sign_attachment_add(struct sign_attachment *a, const struct sign_sigstore_sig *s)
{
	struct sign_attachment_layer *l;
	struct digest d;
	size_t nann = s->signature_b64 ? 1 : 0;

	digest_of(DIGEST_SHA256, s->payload, s->payload_len, &d);
	for (size_t i = 0; i < a->nlayers; i++) {
		const struct sign_attachment_layer *o = &a->layers[i];
		size_t on = 0;
		const char *ov = layer_annotation(o, SIGSTORE_SIG_ANNOTATION);
		for (char **p = o->annotations; p && *p; p += 2)
			on++;
		if (strcmp(o->media_type, s->media_type) == 0 && o->size == (int64_t)s->payload_len &&
		    digest_eq(&o->digest, &d) && on == nann && (nann == 0 || (ov && strcmp(ov, s->signature_b64) == 0)))
			return 0;
	}
	if (a->nlayers >= ATTACHMENT_LAYERS_MAX)
		return -BERTH_ETOOBIG;
	a->layers = xrealloc(a->layers, (a->nlayers + 1) * sizeof(*a->layers));
	l = &a->layers[a->nlayers++];
	memset(l, 0, sizeof(*l));
	l->media_type = xstrdup(s->media_type);
	l->digest = d;
	l->size = (int64_t)s->payload_len;
	l->annotations = xcalloc(3, sizeof(char *));
	if (s->signature_b64) {
		l->annotations[0] = xstrdup(SIGSTORE_SIG_ANNOTATION);
		l->annotations[1] = xstrdup(s->signature_b64);
	}
	return 1;
}

static int dump_to(json_t *doc, struct buf *out)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc = text ? buf_adds(out, text) : -BERTH_ENOMEM;

	free(text);
	json_decref(doc);
	return rc;
}

int sign_attachment_config(const struct sign_attachment *a, struct buf *out)
{
	json_t *ids = json_array();
	char ds[DIGEST_STR_MAX];

	for (size_t i = 0; ids && i < a->nlayers; i++)
		json_array_append_new(ids, json_string(digest_str(&a->layers[i].digest, ds)));
	return dump_to(json_pack("{s:s,s:{},s:s,s:{s:o,s:s}}", "architecture", "", "config", "os", "", "rootfs",
				 "diff_ids", ids, "type", "layers"),
		       out);
}

int sign_attachment_manifest(const struct sign_attachment *a, const struct digest *config_digest, int64_t config_size,
			     struct buf *out)
{
	json_t *layers = json_array();
	char ds[DIGEST_STR_MAX];

	for (size_t i = 0; layers && i < a->nlayers; i++) {
		const struct sign_attachment_layer *l = &a->layers[i];
		json_t *d = json_pack("{s:s,s:s,s:I}", "mediaType", l->media_type, "digest", digest_str(&l->digest, ds),
				      "size", (json_int_t)l->size);
		if (d && l->annotations && l->annotations[0]) {
			json_t *ann = json_object();
			for (char **p = l->annotations; *p; p += 2)
				json_object_set_new(ann, p[0], json_string(p[1]));
			json_object_set_new(d, "annotations", ann);
		}
		json_array_append_new(layers, d);
	}
	return dump_to(json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
				 "config", "mediaType", "application/vnd.oci.image.config.v1+json", "digest",
				 digest_str(config_digest, ds), "size", (json_int_t)config_size, "layers", layers),
		       out);
}

int sign_referrer_manifest(const struct sign_sigstore_sig *s, const char *subject_media_type,
			   const struct digest *subject, int64_t subject_size, struct buf *out)
{
	struct digest pd, ed;
	char ps[DIGEST_STR_MAX], es[DIGEST_STR_MAX], ss[DIGEST_STR_MAX];
	json_t *layer;

	if (!s->media_type || !s->signature_b64 || !subject_media_type)
		return -BERTH_EINVAL;
	digest_of(DIGEST_SHA256, s->payload, s->payload_len, &pd);
	digest_of(DIGEST_SHA256, "{}", 2, &ed);
	layer = json_pack("{s:s,s:s,s:I,s:{s:s}}", "mediaType", s->media_type, "digest", digest_str(&pd, ps), "size",
			  (json_int_t)s->payload_len, "annotations", SIGSTORE_SIG_ANNOTATION, s->signature_b64);
	if (!layer)
		return -BERTH_ENOMEM;
	return dump_to(json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:i},s:[o],s:{s:s,s:s,s:I}}", "schemaVersion", 2, "mediaType",
				 MT_OCI_MANIFEST, "artifactType", SIGSTORE_ARTIFACT_TYPE, "config", "mediaType",
				 MT_OCI_EMPTY, "digest", digest_str(&ed, es), "size", 2, "layers", layer, "subject",
				 "mediaType", subject_media_type, "digest", digest_str(subject, ss), "size",
				 (json_int_t)subject_size),
		       out);
}
