/* extension: signature extension API bodies (see extension.h). */
#include "sign/extension.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sign/internal.h"
#include "sign/simple.h"

void sign_ext_sig_release(struct sign_ext_sig *s)
{
	free(s->name);
	free(s->type);
	free(s->content);
	memset(s, 0, sizeof(*s));
}

void sign_ext_list_release(struct sign_ext_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		sign_ext_sig_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int sign_ext_sig_is_atomic(const struct sign_ext_sig *s)
{
	return s->version == SIGN_EXT_SCHEMA_VERSION && s->type && strcmp(s->type, SIGN_EXT_TYPE_ATOMIC) == 0 &&
	       s->content;
}

/* One signature object into out; members of the wrong type fail. */
static int sig_from_json(json_t *o, const char *where, struct sign_ext_sig *out, char *why, size_t whyn)
{
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s is not a JSON object", where);
	v = json_object_get(o, "schemaVersion");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v))
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: schemaVersion is not an integer", where);
		out->version = json_integer_value(v);
	}
	v = json_object_get(o, "name");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: name is not a string", where);
		out->name = xstrdup(json_string_value(v));
	}
	v = json_object_get(o, "type");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			sign_ext_sig_release(out);
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: type is not a string", where);
		}
		out->type = xstrdup(json_string_value(v));
	}
	v = json_object_get(o, "content");
	if (v && !json_is_null(v)) {
		struct buf b;
		buf_init(&b, SIGN_EXT_LIST_MAX);
		if (!json_is_string(v) || sign_b64_decode(json_string_value(v), json_string_length(v), &b) < 0) {
			buf_release(&b);
			sign_ext_sig_release(out);
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: content is not base64", where);
		}
		out->content_len = b.len;
		out->content = (unsigned char *)buf_detach(&b, NULL);
	}
	return 0;
}

int sign_ext_list_parse(const void *body, size_t n, struct sign_ext_list *out, char *why, size_t whyn)
{
	json_t *root = NULL, *sigs, *o;
	json_error_t jerr;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (n > SIGN_EXT_LIST_MAX)
		return sign__why(why, whyn, -BERTH_ETOOBIG, "signature list over %u bytes", SIGN_EXT_LIST_MAX);
	root = json_loadb(body, n, 0, &jerr);
	if (!root || !json_is_object(root)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "decoding signature list: %s",
			       root ? "not an object" : jerr.text);
		goto out;
	}
	sigs = json_object_get(root, "signatures");
	if (!sigs || json_is_null(sigs))
		goto out;
	if (!json_is_array(sigs)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "decoding signature list: signatures is not an array");
		goto out;
	}
	out->v = xcalloc(json_array_size(sigs) + 1, sizeof(*out->v));
	json_array_foreach(sigs, i, o)
	{
		char where[64];
		snprintf(where, sizeof(where), "signatures[%zu]", i);
		rc = sig_from_json(o, where, &out->v[i], why, whyn);
		if (rc < 0)
			goto out;
		out->n++;
	}
out:
	json_decref(root);
	if (rc < 0)
		sign_ext_list_release(out);
	return rc;
}

int sign_ext_sig_parse(const void *body, size_t n, const struct digest *d, struct sign_ext_sig *out, char *why,
		       size_t whyn)
{
	json_t *root = NULL;
	json_error_t jerr;
	char ds[DIGEST_STR_MAX];
	size_t dl;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n > SIGN_EXT_LIST_MAX)
		return sign__why(why, whyn, -BERTH_ETOOBIG, "signature over %u bytes", SIGN_EXT_LIST_MAX);
	root = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return sign__why(why, whyn, -BERTH_EINVAL, "signature is not JSON: %s", jerr.text);
	rc = sig_from_json(root, "signature", out, why, whyn);
	json_decref(root);
	if (rc < 0)
		return rc;
	digest_str(d, ds);
	dl = strlen(ds);
	if (out->version != SIGN_EXT_SCHEMA_VERSION)
		rc = sign__why(why, whyn, -BERTH_EINVAL, "schemaVersion must be %d", SIGN_EXT_SCHEMA_VERSION);
	else if (!out->type || strcmp(out->type, SIGN_EXT_TYPE_ATOMIC) != 0)
		rc = sign__why(why, whyn, -BERTH_EINVAL, "type must be \"%s\"", SIGN_EXT_TYPE_ATOMIC);
	else if (!out->name || strncmp(out->name, ds, dl) != 0 || out->name[dl] != '@' || !out->name[dl + 1])
		rc = sign__why(why, whyn, -BERTH_EINVAL, "name must be \"%s@<name>\"", ds);
	else if (!out->content || out->content_len == 0)
		rc = sign__why(why, whyn, -BERTH_EINVAL, "content is missing or empty");
	if (rc < 0)
		sign_ext_sig_release(out);
	return rc;
}

static json_t *sig_to_json(long long version, const char *name, const char *type, const void *content, size_t n)
{
	struct buf b64;
	json_t *o = NULL;

	buf_init(&b64, BUF_UNLIMITED);
	if (sign_b64_encode(content, n, &b64) == 0)
		o = json_pack("{s:I,s:s,s:s,s:s}", "schemaVersion", (json_int_t)version, "name", name ? name : "",
			      "type", type ? type : "", "content", b64.ptr);
	buf_release(&b64);
	return o;
}

static int dump(json_t *o, struct buf *out)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc = text ? buf_adds(out, text) : -BERTH_ENOMEM;

	free(text);
	json_decref(o);
	return rc;
}

int sign_ext_sig_create(const struct digest *d, const void *sig, size_t n, struct buf *out)
{
	unsigned char rnd[16];
	char name[DIGEST_STR_MAX + 40], ds[DIGEST_STR_MAX];
	size_t off;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -BERTH_EIO;
	off = (size_t)snprintf(name, sizeof(name), "%s@", digest_str(d, ds));
	for (size_t i = 0; i < sizeof(rnd); i++)
		off += (size_t)snprintf(name + off, sizeof(name) - off, "%02x", rnd[i]);
	return dump(sig_to_json(SIGN_EXT_SCHEMA_VERSION, name, SIGN_EXT_TYPE_ATOMIC, sig, n), out);
}

int sign_ext_list_create(const struct sign_ext_sig *v, size_t n, struct buf *out)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr,
				      sig_to_json(v[i].version, v[i].name, v[i].type, v[i].content, v[i].content_len));
	return dump(json_pack("{s:o}", "signatures", arr), out);
}

int sign_ext_path(const char *repository_path, const struct digest *d, struct buf *out)
{
	char ds[DIGEST_STR_MAX];

	return buf_addf(out, "/extensions/v2/%s/signatures/%s", repository_path, digest_str(d, ds));
}
