/* simple: strict create/parse of the container signature payload (see simple.h). */
#include "sign/simple.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sign/internal.h"

int sign_payload_create(enum sign_payload_type type, const char *docker_reference, const char *manifest_digest,
			const char *creator, int64_t timestamp, struct buf *out)
{
	json_t *root = NULL, *opt;
	char *text = NULL;
	int rc = -BERTH_ENOMEM;

	if (!docker_reference || !*docker_reference || !manifest_digest || !*manifest_digest)
		return -BERTH_EINVAL;
	root = json_pack("{s:{s:{s:s},s:{s:s},s:s},s:{}}", "critical", "identity", "docker-reference", docker_reference,
			 "image", "docker-manifest-digest", manifest_digest, "type",
			 type == SIGN_PAYLOAD_COSIGN ? SIGN_TYPE_COSIGN : SIGN_TYPE_ATOMIC, "optional");
	if (!root)
		goto out;
	opt = json_object_get(root, "optional");
	if (creator && json_object_set_new(opt, "creator", json_string(creator)) < 0)
		goto out;
	if (timestamp >= 0 && json_object_set_new(opt, "timestamp", json_integer(timestamp)) < 0)
		goto out;
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		goto out;
	rc = buf_adds(out, text);
out:
	free(text);
	json_decref(root);
	return rc;
}

/* Requires obj to be an object whose members are exactly names (a NULL-terminated list). */
static int exact_members(json_t *obj, const char *where, char *why, size_t whyn, const char *const *names)
{
	const char *key;
	json_t *v;
	size_t want = 0;

	if (!json_is_object(obj))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s is not a JSON object", where);
	for (const char *const *n = names; *n; n++, want++)
		if (!json_object_get(obj, *n))
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: missing member \"%s\"", where, *n);
	if (json_object_size(obj) == want)
		return 0;
	json_object_foreach(obj, key, v)
	{
		int known = 0;
		for (const char *const *n = names; *n; n++)
			if (strcmp(*n, key) == 0)
				known = 1;
		if (!known)
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: unknown member \"%s\"", where, key);
	}
	return sign__why(why, whyn, -BERTH_EINVAL, "%s: unexpected members", where);
}

static int get_string(json_t *obj, const char *key, const char *where, char **out, char *why, size_t whyn)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s.%s is not a string", where, key);
	if (memchr(json_string_value(v), '\0', json_string_length(v)))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s.%s contains a NUL character", where, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

int sign_payload_parse(const void *p, size_t n, enum sign_payload_type type, struct sign_payload *out, char *why,
		       size_t whyn)
{
	static const char *const top_members[] = {"critical", "optional", NULL};
	static const char *const critical_members[] = {"type", "image", "identity", NULL};
	static const char *const image_members[] = {"docker-manifest-digest", NULL};
	static const char *const identity_members[] = {"docker-reference", NULL};
	json_t *root = NULL, *crit, *opt, *image, *ident, *t, *v;
	json_error_t jerr;
	const char *want = type == SIGN_PAYLOAD_COSIGN ? SIGN_TYPE_COSIGN : SIGN_TYPE_ATOMIC;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n > SIGN_PAYLOAD_MAX) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "signature payload over %u bytes", SIGN_PAYLOAD_MAX);
		goto out;
	}
	root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "signature payload is not valid JSON: %s", jerr.text);
		goto out;
	}
	rc = exact_members(root, "signature payload", why, whyn, top_members);
	if (rc < 0)
		goto out;
	crit = json_object_get(root, "critical");
	opt = json_object_get(root, "optional");
	/* cosign writes "optional": null when it has no annotations. */
	if (!(type == SIGN_PAYLOAD_COSIGN && json_is_null(opt))) {
		if (!json_is_object(opt)) {
			rc = sign__why(why, whyn, -BERTH_EINVAL, "optional is not a JSON object");
			goto out;
		}
		v = json_object_get(opt, "creator");
		if (v && (rc = get_string(opt, "creator", "optional", &out->creator, why, whyn)) < 0)
			goto out;
		v = json_object_get(opt, "timestamp");
		if (v) {
			if (json_is_integer(v)) {
				out->timestamp = json_integer_value(v);
			} else if (json_is_real(v) && json_real_value(v) > -9.2e18 && json_real_value(v) < 9.2e18 &&
				   (double)(int64_t)json_real_value(v) == json_real_value(v)) {
				out->timestamp = (int64_t)json_real_value(v);
			} else {
				rc = sign__why(why, whyn, -BERTH_EINVAL, "optional.timestamp is not an integer");
				goto out;
			}
			out->has_timestamp = 1;
		}
	}
	rc = exact_members(crit, "critical", why, whyn, critical_members);
	if (rc < 0)
		goto out;
	t = json_object_get(crit, "type");
	if (!json_is_string(t)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "critical.type is not a string");
		goto out;
	}
	if (strcmp(json_string_value(t), want) != 0 || json_string_length(t) != strlen(want)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "unrecognized signature type \"%s\" (want \"%s\")",
			       json_string_value(t), want);
		goto out;
	}
	image = json_object_get(crit, "image");
	rc = exact_members(image, "critical.image", why, whyn, image_members);
	if (rc < 0)
		goto out;
	rc = get_string(image, "docker-manifest-digest", "critical.image", &out->manifest_digest, why, whyn);
	if (rc < 0)
		goto out;
	ident = json_object_get(crit, "identity");
	rc = exact_members(ident, "critical.identity", why, whyn, identity_members);
	if (rc < 0)
		goto out;
	rc = get_string(ident, "docker-reference", "critical.identity", &out->docker_reference, why, whyn);
out:
	json_decref(root);
	if (rc < 0)
		sign_payload_release(out);
	return rc;
}

void sign_payload_release(struct sign_payload *p)
{
	free(p->docker_reference);
	free(p->manifest_digest);
	free(p->creator);
	memset(p, 0, sizeof(*p));
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sign_b64_encode(const void *p, size_t n, struct buf *out)
{
	const unsigned char *s = p;
	int rc;

	if (n > ((size_t)-1) / 2)
		return -BERTH_ETOOBIG;
	rc = buf_grow(out, (n + 2) / 3 * 4);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		char q[4];
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64chars[(v >> 18) & 63];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64chars[v & 63] : '=';
		rc = buf_add(out, q, 4);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

int sign_b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, pad = 0, rc;
	size_t quads = 0;

	for (size_t i = 0; i < n; i++) {
		int v;
		if (s[i] == '\r' || s[i] == '\n') /* Go's decoder skips line breaks */
			continue;
		quads++;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -BERTH_EINVAL; /* data after padding */
		v = b64val(s[i]);
		if (v < 0)
			return -BERTH_EINVAL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			unsigned char c;
			bits -= 8;
			c = (unsigned char)((acc >> bits) & 0xff);
			rc = buf_add(out, &c, 1);
			if (rc < 0)
				return rc;
		}
	}
	if (quads % 4 != 0 || pad > 2)
		return -BERTH_EINVAL;
	if ((pad == 1 && bits != 2) || (pad == 2 && bits != 4) || (pad == 0 && bits != 0))
		return -BERTH_EINVAL;
	return 0;
}
