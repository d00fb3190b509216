/* policy: containers-policy.json(5) parsing and evaluation (see policy.h). */
#include "sign/policy.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sign/gpg.h"
#include "sign/internal.h"
#include "sign/simple.h"

#define KEY_FILE_MAX (16u << 20)
#define WHY_MAX 1024

/* ------------------------------------------------------------------ parsing */

/* Rejects members of obj other than the NULL-terminated names. */
static int only_members(json_t *obj, const char *where, char *why, size_t whyn, const char *const *names)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		int known = 0;
		for (const char *const *n = names; *n; n++)
			if (strcmp(*n, key) == 0)
				known = 1;
		if (!known)
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: unknown key \"%s\"", where, key);
	}
	return 0;
}

static int need_string(json_t *obj, const char *key, const char *where, char **out, char *why, size_t whyn)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: \"%s\" must be a string", where, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

void policy_identity_release(struct policy_identity *id)
{
	free(id->reference);
	free(id->prefix);
	free(id->signed_prefix);
	memset(id, 0, sizeof(*id));
}

static int identity_from_json(json_t *o, const char *where, struct policy_identity *id, char *why, size_t whyn)
{
	static const char *const only_type[] = {"type", NULL};
	static const char *const exact_ref[] = {"type", "dockerReference", NULL};
	static const char *const exact_repo[] = {"type", "dockerRepository", NULL};
	static const char *const remap[] = {"type", "prefix", "signedPrefix", NULL};
	struct sign_ref r;
	char rwhy[256];
	const char *t;
	int rc;

	memset(id, 0, sizeof(*id));
	if (!json_is_object(o))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: signedIdentity must be a JSON object", where);
	if (!json_is_string(json_object_get(o, "type")))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: identity \"type\" missing or not a string", where);
	t = json_string_value(json_object_get(o, "type"));
	if (strcmp(t, "matchExact") == 0) {
		id->type = POLICY_ID_MATCH_EXACT;
		rc = only_members(o, where, why, whyn, only_type);
	} else if (strcmp(t, "matchRepoDigestOrExact") == 0) {
		id->type = POLICY_ID_MATCH_REPO_DIGEST_OR_EXACT;
		rc = only_members(o, where, why, whyn, only_type);
	} else if (strcmp(t, "matchRepository") == 0) {
		id->type = POLICY_ID_MATCH_REPOSITORY;
		rc = only_members(o, where, why, whyn, only_type);
	} else if (strcmp(t, "exactReference") == 0) {
		id->type = POLICY_ID_EXACT_REFERENCE;
		rc = only_members(o, where, why, whyn, exact_ref);
		if (rc == 0)
			rc = need_string(o, "dockerReference", where, &id->reference, why, whyn);
		if (rc == 0 && sign_ref_parse(id->reference, &r, rwhy, sizeof(rwhy)) < 0)
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: invalid format of dockerReference %s: %s", where,
				       id->reference, rwhy);
		else if (rc == 0 && sign_ref_is_name_only(&r))
			rc =
			    sign__why(why, whyn, -BERTH_EINVAL,
				      "%s: dockerReference %s contains neither a tag nor digest", where, id->reference);
	} else if (strcmp(t, "exactRepository") == 0) {
		id->type = POLICY_ID_EXACT_REPOSITORY;
		rc = only_members(o, where, why, whyn, exact_repo);
		if (rc == 0)
			rc = need_string(o, "dockerRepository", where, &id->reference, why, whyn);
		if (rc == 0 && sign_ref_parse(id->reference, &r, rwhy, sizeof(rwhy)) < 0)
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: invalid format of dockerRepository %s: %s", where,
				       id->reference, rwhy);
	} else if (strcmp(t, "remapIdentity") == 0) {
		id->type = POLICY_ID_REMAP_IDENTITY;
		rc = only_members(o, where, why, whyn, remap);
		if (rc == 0)
			rc = need_string(o, "prefix", where, &id->prefix, why, whyn);
		if (rc == 0)
			rc = need_string(o, "signedPrefix", where, &id->signed_prefix, why, whyn);
		if (rc == 0 && !sign_ref_valid_remap_prefix(id->prefix))
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: prefix \"%s\" is not valid", where, id->prefix);
		if (rc == 0 && !sign_ref_valid_remap_prefix(id->signed_prefix))
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: signedPrefix \"%s\" is not valid", where,
				       id->signed_prefix);
	} else {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: unknown policy reference match type \"%s\"", where, t);
	}
	if (rc < 0)
		policy_identity_release(id);
	return rc;
}

int policy_identity_parse(const char *json, struct policy_identity *out, char *why, size_t whyn)
{
	json_error_t jerr;
	json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o)
		return sign__why(why, whyn, -BERTH_EINVAL, "signedIdentity is not JSON: %s", jerr.text);
	rc = identity_from_json(o, "signedIdentity", out, why, whyn);
	json_decref(o);
	return rc;
}

static void req_release(struct policy_req *r)
{
	free(r->key_type);
	free(r->key_path);
	if (r->key_paths)
		for (size_t i = 0; i < r->nkey_paths; i++)
			free(r->key_paths[i]);
	free(r->key_paths);
	free(r->key_data);
	policy_identity_release(&r->identity);
	memset(r, 0, sizeof(*r));
}

static void reqs_release(struct policy_reqs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		req_release(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static int key_type_valid(const char *s)
{
	return strcmp(s, "GPGKeys") == 0 || strcmp(s, "signedByGPGKeys") == 0 || strcmp(s, "X509Certificates") == 0 ||
	       strcmp(s, "signedByX509CAs") == 0;
}

/* keyPath / keyPaths / keyData of o into r; allow_paths is 0 for sigstoreSigned. */
static int keys_from_json(json_t *o, const char *where, struct policy_req *r, int allow_paths, char *why, size_t whyn)
{
	json_t *kp = json_object_get(o, "keyPath"), *kps = allow_paths ? json_object_get(o, "keyPaths") : NULL,
	       *kd = json_object_get(o, "keyData");
	int n = (kp != NULL) + (kps != NULL) + (kd != NULL), rc;
	const char *names = allow_paths ? "keyPath, keyPaths and keyData" : "keyPath and keyData";

	if (n == 0)
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "%s: exactly one of %s must be specified, none of them present", where, names);
	if (n > 1)
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "%s: exactly one of %s must be specified, more than one present", where, names);
	if (kp) {
		rc = need_string(o, "keyPath", where, &r->key_path, why, whyn);
		if (rc == 0 && !*r->key_path)
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: keyPath must not be empty", where);
		return rc;
	}
	if (kps) {
		size_t i;
		json_t *v;
		if (!json_is_array(kps))
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: keyPaths must be an array of strings", where);
		r->key_paths = xcalloc(json_array_size(kps) + 1, sizeof(char *));
		json_array_foreach(kps, i, v)
		{
			if (!json_is_string(v) || !*json_string_value(v))
				return sign__why(why, whyn, -BERTH_EINVAL,
						 "%s: keyPaths[%zu] must be a non-empty string", where, i);
			r->key_paths[r->nkey_paths++] = xstrdup(json_string_value(v));
		}
		return 0;
	}
	{
		struct buf b;
		buf_init(&b, POLICY_FILE_MAX);
		if (!json_is_string(kd) || sign_b64_decode(json_string_value(kd), json_string_length(kd), &b) < 0) {
			buf_release(&b);
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: keyData must be a base64 string", where);
		}
		r->key_data_len = b.len;
		r->key_data = (unsigned char *)buf_detach(&b, NULL);
		r->has_key_data = 1;
	}
	return 0;
}

static int req_from_json(json_t *o, const char *where, struct policy_req *r, char *why, size_t whyn)
{
	static const char *const only_type[] = {"type", NULL};
	static const char *const signed_by[] = {"type",    "keyType",        "keyPath", "keyPaths",
						"keyData", "signedIdentity", NULL};
	static const char *const sigstore[] = {"type", "keyPath", "keyData", "signedIdentity", NULL};
	static const char *const base_layer[] = {"type", "baseLayerIdentity", NULL};
	const char *t;
	json_t *si;
	char sub[720];
	int rc;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: a requirement must be a JSON object", where);
	if (!json_is_string(json_object_get(o, "type")))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: requirement \"type\" missing or not a string", where);
	t = json_string_value(json_object_get(o, "type"));
	snprintf(sub, sizeof(sub), "%s.signedIdentity", where);
	si = json_object_get(o, "signedIdentity");
	if (strcmp(t, "insecureAcceptAnything") == 0) {
		r->type = POLICY_REQ_INSECURE_ACCEPT_ANYTHING;
		rc = only_members(o, where, why, whyn, only_type);
	} else if (strcmp(t, "reject") == 0) {
		r->type = POLICY_REQ_REJECT;
		rc = only_members(o, where, why, whyn, only_type);
	} else if (strcmp(t, "signedBy") == 0) {
		r->type = POLICY_REQ_SIGNED_BY;
		rc = only_members(o, where, why, whyn, signed_by);
		if (rc == 0 && !json_object_get(o, "keyType"))
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: signedBy needs \"keyType\"", where);
		if (rc == 0)
			rc = need_string(o, "keyType", where, &r->key_type, why, whyn);
		if (rc == 0 && !key_type_valid(r->key_type))
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: unrecognized keyType value \"%s\"", where,
				       r->key_type);
		if (rc == 0)
			rc = keys_from_json(o, where, r, 1, why, whyn);
		if (rc == 0 && si)
			rc = identity_from_json(si, sub, &r->identity, why, whyn);
	} else if (strcmp(t, "sigstoreSigned") == 0) {
		r->type = POLICY_REQ_SIGSTORE_SIGNED;
		rc = only_members(o, where, why, whyn, sigstore);
		if (rc == 0)
			rc = keys_from_json(o, where, r, 0, why, whyn);
		if (rc == 0 && si)
			rc = identity_from_json(si, sub, &r->identity, why, whyn);
	} else if (strcmp(t, "signedBaseLayer") == 0) {
		r->type = POLICY_REQ_SIGNED_BASE_LAYER;
		rc = only_members(o, where, why, whyn, base_layer);
		snprintf(sub, sizeof(sub), "%s.baseLayerIdentity", where);
		if (rc == 0 && !json_object_get(o, "baseLayerIdentity"))
			rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: baseLayerIdentity not specified", where);
		if (rc == 0)
			rc = identity_from_json(json_object_get(o, "baseLayerIdentity"), sub, &r->identity, why, whyn);
	} else {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "%s: unknown policy requirement type \"%s\"", where, t);
	}
	if (rc < 0)
		req_release(r);
	return rc;
}

static int reqs_from_json(json_t *a, const char *where, struct policy_reqs *rs, char *why, size_t whyn)
{
	size_t i;
	json_t *o;
	char sub[640];

	memset(rs, 0, sizeof(*rs));
	if (!json_is_array(a))
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: requirements must be a JSON array", where);
	if (json_array_size(a) == 0)
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "%s: list of verification policy requirements must not be empty", where);
	rs->v = xcalloc(json_array_size(a), sizeof(*rs->v));
	json_array_foreach(a, i, o)
	{
		int rc;
		snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
		rc = req_from_json(o, sub, &rs->v[i], why, whyn);
		if (rc < 0) {
			reqs_release(rs);
			return rc;
		}
		rs->n++;
	}
	return 0;
}

/* docker scopes: a "*." wildcard must be followed by a plain domain (no port, path, tag or digest). */
static int docker_scope_valid(const char *s)
{
	if (!strchr(s, '*'))
		return 1;
	return strncmp(s, "*.", 2) == 0 && !strchr(s + 2, ':') && sign_ref_valid_domain(s + 2, strlen(s + 2));
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	reqs_release(&p->def);
	for (size_t i = 0; i < p->ntransports; i++) {
		struct policy_transport *t = &p->transports[i];
		for (size_t j = 0; j < t->nscopes; j++) {
			free(t->scopes[j].name);
			reqs_release(&t->scopes[j].reqs);
		}
		free(t->scopes);
		free(t->name);
	}
	free(p->transports);
	free(p);
}

int policy_parse(const void *json, size_t n, struct policy **out, char *why, size_t whyn)
{
	static const char *const top[] = {"default", "transports", NULL};
	json_t *root = NULL, *tr, *scopes, *reqs;
	json_error_t jerr;
	struct policy *p = xcalloc(1, sizeof(*p));
	const char *tname, *sname;
	char where[600];
	int rc;

	*out = NULL;
	if (n > POLICY_FILE_MAX) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "policy larger than %u bytes", POLICY_FILE_MAX);
		goto out;
	}
	root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "invalid JSON at line %d: %s", jerr.line, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "the policy must be a JSON object");
		goto out;
	}
	rc = only_members(root, "policy", why, whyn, top);
	if (rc < 0)
		goto out;
	if (!json_object_get(root, "default")) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "default policy is missing");
		goto out;
	}
	rc = reqs_from_json(json_object_get(root, "default"), "default", &p->def, why, whyn);
	if (rc < 0)
		goto out;
	tr = json_object_get(root, "transports");
	if (!tr)
		goto out;
	if (!json_is_object(tr)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "transports must be a JSON object");
		goto out;
	}
	p->transports = xcalloc(json_object_size(tr) + 1, sizeof(*p->transports));
	json_object_foreach(tr, tname, scopes)
	{
		struct policy_transport *t = &p->transports[p->ntransports++];
		t->name = xstrdup(tname);
		if (!json_is_object(scopes)) {
			rc = sign__why(why, whyn, -BERTH_EINVAL, "transports.%s must be a JSON object", tname);
			goto out;
		}
		t->scopes = xcalloc(json_object_size(scopes) + 1, sizeof(*t->scopes));
		json_object_foreach(scopes, sname, reqs)
		{
			struct policy_scope *sc = &t->scopes[t->nscopes];
			snprintf(where, sizeof(where), "transports.%s[\"%s\"]", tname, sname);
			if (strcmp(tname, "docker") == 0 && *sname && !docker_scope_valid(sname)) {
				rc = sign__why(why, whyn, -BERTH_EINVAL,
					       "%s: invalid scope (a wildcard must be \"*.\" followed by a domain)",
					       where);
				goto out;
			}
			rc = reqs_from_json(reqs, where, &sc->reqs, why, whyn);
			if (rc < 0)
				goto out;
			sc->name = xstrdup(sname);
			t->nscopes++;
		}
	}
out:
	json_decref(root);
	if (rc < 0)
		policy_free(p);
	else
		*out = p;
	return rc;
}

int policy_load_file(const char *path, struct policy **out, char *why, size_t whyn)
{
	struct buf b;
	char sub[WHY_MAX];
	int rc;

	*out = NULL;
	buf_init(&b, POLICY_FILE_MAX + 1);
	rc = sign__read_file(path, POLICY_FILE_MAX, &b, why, whyn);
	if (rc == 0) {
		rc = policy_parse(b.ptr, b.len, out, sub, sizeof(sub));
		if (rc < 0)
			sign__why(why, whyn, rc, "invalid policy in \"%s\": %s", path, sub);
	}
	buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ lookup */

static const struct policy_reqs *scope_get(const struct policy_transport *t, const char *name, const char **scope)
{
	for (size_t i = 0; i < t->nscopes; i++)
		if (strcmp(t->scopes[i].name, name) == 0) {
			if (scope)
				*scope = t->scopes[i].name;
			return &t->scopes[i].reqs;
		}
	return NULL;
}

const struct policy_reqs *policy_reqs_for(const struct policy *p, const char *transport, const struct sign_ref *ref,
					  const char **scope)
{
	const struct policy_reqs *r = NULL;

	if (!transport)
		transport = "docker";
	if (scope)
		*scope = NULL;
	for (size_t i = 0; i < p->ntransports; i++) {
		const struct policy_transport *t = &p->transports[i];
		if (strcmp(t->name, transport) != 0)
			continue;
		if (ref && strcmp(transport, "docker") == 0) {
			char **scopes = NULL;
			size_t n = 0;
			sign_ref_scopes(ref, &scopes, &n);
			for (size_t j = 0; !r && j < n; j++)
				r = scope_get(t, scopes[j], scope);
			sign_ref_scopes_free(scopes);
		}
		if (!r)
			r = scope_get(t, "", scope);
		if (r)
			return r;
	}
	return &p->def;
}

/* ------------------------------------------------------------------ identity rules */

static int ref_eq_string(const struct sign_ref *a, const struct sign_ref *b)
{
	char sa[SIGN_REF_STR_MAX], sb[SIGN_REF_STR_MAX];

	return strcmp(sign_ref_string(a, sa), sign_ref_string(b, sb)) == 0;
}

/* containers/image's matchRepoDigestOrExactReferenceValues. */
static int repo_digest_or_exact(const struct sign_ref *intended, const struct sign_ref *sig)
{
	if (sign_ref_is_name_only(sig))
		return 0;
	if (intended->tag[0])
		return ref_eq_string(intended, sig);
	if (intended->digest[0])
		return strcmp(intended->name, sig->name) == 0;
	return 0;
}

/* remapIdentity: replaces prefix by signed_prefix when the image name is prefix or below it. */
static int remap(const struct policy_identity *id, const struct sign_ref *in, struct sign_ref *out)
{
	size_t pn = strlen(id->prefix), nn = strlen(in->name);
	char s[SIGN_REF_STR_MAX], t[SIGN_REF_STR_MAX + SIGN_REF_NAME_MAX];

	*out = *in;
	if (nn < pn || memcmp(in->name, id->prefix, pn) != 0 || (nn > pn && in->name[pn] != '/'))
		return 0;
	sign_ref_string(in, s);
	snprintf(t, sizeof(t), "%s%s", id->signed_prefix, s + pn);
	return sign_ref_parse_canonical(t, out, NULL, 0);
}

int policy_identity_matches(const struct policy_identity *id, const struct sign_ref *image, const char *sig_reference)
{
	struct sign_ref sig, fixed, remapped;

	if (!sig_reference || sign_ref_parse(sig_reference, &sig, NULL, 0) < 0)
		return 0;
	switch (id->type) {
	case POLICY_ID_MATCH_EXACT:
		return image && !sign_ref_is_name_only(image) && !sign_ref_is_name_only(&sig) &&
		       ref_eq_string(image, &sig);
	case POLICY_ID_MATCH_REPO_DIGEST_OR_EXACT:
		return image && repo_digest_or_exact(image, &sig);
	case POLICY_ID_MATCH_REPOSITORY:
		return image && strcmp(image->name, sig.name) == 0;
	case POLICY_ID_EXACT_REFERENCE:
		if (sign_ref_parse(id->reference, &fixed, NULL, 0) < 0)
			return 0;
		return !sign_ref_is_name_only(&fixed) && !sign_ref_is_name_only(&sig) && ref_eq_string(&fixed, &sig);
	case POLICY_ID_EXACT_REPOSITORY:
		if (sign_ref_parse(id->reference, &fixed, NULL, 0) < 0)
			return 0;
		return strcmp(fixed.name, sig.name) == 0;
	case POLICY_ID_REMAP_IDENTITY:
		if (!image || remap(id, image, &remapped) < 0)
			return 0;
		return repo_digest_or_exact(&remapped, &sig);
	}
	return 0;
}

/* ------------------------------------------------------------------ evaluation */

/* containers/image's manifest.MatchesDigest for the manifests berth handles (no schema1). */
static int manifest_matches(const struct policy_image *img, const char *digest_s, char *why, size_t whyn)
{
	struct digest want, got;
	int rc = digest_parse_cstr(digest_s, &want);

	if (rc < 0)
		return sign__why(why, whyn, -BERTH_EDENIED, "Signature digest %s is %s", digest_s,
				 rc == -BERTH_EUNSUPPORTED ? "of an unsupported algorithm" : "invalid");
	digest_of(want.alg, img->manifest, img->manifest_len, &got);
	if (!digest_eq(&want, &got))
		return sign__why(why, whyn, -BERTH_EDENIED, "Signature for digest %s does not match", digest_s);
	return 0;
}

static int check_payload(const struct policy_req *r, const struct policy_image *img, const struct sign_payload *pl,
			 char *why, size_t whyn)
{
	int rc = manifest_matches(img, pl->manifest_digest, why, whyn);

	if (rc < 0)
		return rc;
	if (!policy_identity_matches(&r->identity, img->ref, pl->docker_reference))
		return sign__why(why, whyn, -BERTH_EDENIED, "Signature for identity %s is not accepted",
				 pl->docker_reference);
	return 0;
}

/* Collects per-signature rejections into the upstream summary text. */
struct rejections {
	struct buf text;
	size_t n;
	char first[WHY_MAX];
};

static void rej_add(struct rejections *rj, const char *msg)
{
	if (rj->n == 0)
		snprintf(rj->first, sizeof(rj->first), "%s", msg);
	if (rj->n)
		buf_adds(&rj->text, "; ");
	buf_adds(&rj->text, msg);
	rj->n++;
}

static int rej_summary(struct rejections *rj, const char *none, char *why, size_t whyn)
{
	if (rj->n == 0)
		return sign__why(why, whyn, -BERTH_EDENIED, "%s", none);
	if (rj->n == 1)
		return sign__why(why, whyn, -BERTH_EDENIED, "%s", rj->first);
	return sign__why(why, whyn, -BERTH_EDENIED, "None of the signatures were accepted, reasons: %s", rj->text.ptr);
}

static int eval_signed_by(const struct policy_req *r, const struct policy_image *img, char *why, size_t whyn)
{
	struct sign_gpg_keyring *kr = NULL;
	struct rejections rj;
	struct buf key, contents;
	char sw[WHY_MAX], fpr[SIGN_GPG_FPR_MAX];
	int rc;

	buf_init(&rj.text, 64 * 1024);
	rj.n = 0;
	buf_init(&key, KEY_FILE_MAX + 1);
	buf_init(&contents, SIGN_PAYLOAD_MAX);
	if (strcmp(r->key_type, "GPGKeys") != 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "Unimplemented \"keyType\" value \"%s\"", r->key_type);
		goto out;
	}
	rc = sign_gpg_keyring_new(&kr, why, whyn);
	if (rc < 0) {
		rc = -BERTH_EDENIED;
		goto out;
	}
	if (r->has_key_data) {
		rc = sign_gpg_keyring_import(kr, r->key_data, r->key_data_len, NULL, why, whyn);
	} else {
		const char *one[2] = {r->key_path, NULL};
		const char *const *paths = r->key_path ? one : (const char *const *)r->key_paths;
		rc = 0;
		for (size_t i = 0; rc == 0 && paths && paths[i]; i++) {
			buf_reset(&key);
			rc = sign__read_file(paths[i], KEY_FILE_MAX, &key, why, whyn);
			if (rc == 0)
				rc = sign_gpg_keyring_import(kr, key.ptr, key.len, NULL, why, whyn);
		}
	}
	if (rc < 0) {
		rc = -BERTH_EDENIED;
		goto out;
	}
	if (sign_gpg_keyring_count(kr) == 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "No public keys imported");
		goto out;
	}
	for (size_t i = 0; i < img->nsimple; i++) {
		struct sign_payload pl;
		buf_reset(&contents);
		if (sign_gpg_verify(kr, img->simple[i].ptr, img->simple[i].len, &contents, fpr, sw, sizeof(sw)) < 0) {
			rej_add(&rj, sw);
			continue;
		}
		if (sign_payload_parse(contents.ptr, contents.len, SIGN_PAYLOAD_ATOMIC, &pl, sw, sizeof(sw)) < 0) {
			rej_add(&rj, sw);
			continue;
		}
		rc = check_payload(r, img, &pl, sw, sizeof(sw));
		sign_payload_release(&pl);
		if (rc == 0)
			goto out;
		rej_add(&rj, sw);
	}
	rc = rej_summary(&rj, "A signature was required, but no signature exists", why, whyn);
out:
	sign_gpg_keyring_free(kr);
	buf_release(&rj.text);
	buf_release(&key);
	buf_release(&contents);
	return rc;
}

static int eval_sigstore(const struct policy_req *r, const struct policy_image *img, char *why, size_t whyn)
{
	struct sign_key *k = NULL;
	struct rejections rj;
	struct buf pem;
	char sw[WHY_MAX];
	size_t others = 0;
	int rc;

	buf_init(&rj.text, 64 * 1024);
	rj.n = 0;
	buf_init(&pem, KEY_FILE_MAX + 1);
	if (r->has_key_data)
		rc = buf_add(&pem, r->key_data, r->key_data_len);
	else
		rc = sign__read_file(r->key_path, KEY_FILE_MAX, &pem, why, whyn);
	if (rc < 0) {
		rc = -BERTH_EDENIED;
		goto out;
	}
	if (sign_key_load_public(pem.ptr, pem.len, &k, sw, sizeof(sw)) < 0) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "parsing public key: %s", sw);
		goto out;
	}
	for (size_t i = 0; i < img->nsigstore; i++) {
		const struct sign_sigstore_sig *s = &img->sigstore[i];
		struct sign_payload pl;
		if (!s->media_type || strcmp(s->media_type, SIGSTORE_SIG_MEDIA_TYPE) != 0) {
			others++;
			continue;
		}
		if (sign_sigstore_verify(k, s, &pl, sw, sizeof(sw)) < 0) {
			rej_add(&rj, sw);
			continue;
		}
		rc = check_payload(r, img, &pl, sw, sizeof(sw));
		sign_payload_release(&pl);
		if (rc == 0)
			goto out;
		rej_add(&rj, sw);
	}
	if (rj.n == 0 && (img->nsimple || others)) {
		snprintf(sw, sizeof(sw),
			 "A signature was required, but no signature exists (%zu non-sigstore signatures, %zu sigstore "
			 "non-signature attachments)",
			 img->nsimple, others);
		rc = rej_summary(&rj, sw, why, whyn);
	} else {
		rc = rej_summary(&rj, "A signature was required, but no signature exists", why, whyn);
	}
out:
	sign_key_free(k);
	buf_release(&rj.text);
	buf_release(&pem);
	return rc;
}

static const char *req_name(enum policy_req_type t)
{
	switch (t) {
	case POLICY_REQ_INSECURE_ACCEPT_ANYTHING:
		return "insecureAcceptAnything";
	case POLICY_REQ_REJECT:
		return "reject";
	case POLICY_REQ_SIGNED_BY:
		return "signedBy";
	case POLICY_REQ_SIGSTORE_SIGNED:
		return "sigstoreSigned";
	case POLICY_REQ_SIGNED_BASE_LAYER:
		return "signedBaseLayer";
	}
	return "?";
}

int policy_eval(const struct policy *p, const struct policy_image *img, struct buf *reason)
{
	const char *transport = img->transport ? img->transport : "docker", *scope = NULL;
	const struct policy_reqs *rs = policy_reqs_for(p, transport, img->ref, &scope);
	char why[WHY_MAX], scope_desc[SIGN_REF_STR_MAX + 64];

	if (scope)
		snprintf(scope_desc, sizeof(scope_desc), "%s scope \"%s\"", transport, scope);
	else
		snprintf(scope_desc, sizeof(scope_desc), "the default policy");
	if (img->ref && img->ref->digest[0] && img->manifest) {
		struct digest want, got;
		if (digest_parse_cstr(img->ref->digest, &want) == 0) {
			digest_of(want.alg, img->manifest, img->manifest_len, &got);
			if (!digest_eq(&want, &got)) {
				buf_addf(reason, "the manifest does not match the digest %s of the reference",
					 img->ref->digest);
				return -BERTH_EDENIED;
			}
		}
	}
	if (rs->n == 0) {
		buf_adds(reason, "List of verification policy requirements must not be empty");
		return -BERTH_EDENIED;
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct policy_req *r = &rs->v[i];
		int rc = 0;
		char keydesc[600] = "";

		switch (r->type) {
		case POLICY_REQ_INSECURE_ACCEPT_ANYTHING:
			break;
		case POLICY_REQ_REJECT: {
			char s[SIGN_REF_STR_MAX];
			rc = sign__why(why, sizeof(why), -BERTH_EDENIED, "Running image %s://%s is rejected by policy.",
				       transport, img->ref ? sign_ref_string(img->ref, s) : "");
			break;
		}
		case POLICY_REQ_SIGNED_BY:
			rc = eval_signed_by(r, img, why, sizeof(why));
			break;
		case POLICY_REQ_SIGSTORE_SIGNED:
			rc = eval_sigstore(r, img, why, sizeof(why));
			break;
		case POLICY_REQ_SIGNED_BASE_LAYER:
			rc = sign__why(why, sizeof(why), -BERTH_EDENIED, "signedBaseLayer is not implemented");
			break;
		}
		if (rc == 0)
			continue;
		if (r->key_path)
			snprintf(keydesc, sizeof(keydesc), " keyPath %s", r->key_path);
		else if (r->key_paths)
			snprintf(keydesc, sizeof(keydesc), " keyPaths (%zu files)", r->nkey_paths);
		else if (r->has_key_data)
			snprintf(keydesc, sizeof(keydesc), " keyData");
		buf_addf(reason, "requirement %zu of %zu (%s%s) in %s: %s", i + 1, rs->n, req_name(r->type), keydesc,
			 scope_desc, why);
		return -BERTH_EDENIED;
	}
	return 0;
}
