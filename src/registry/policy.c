/* registry/policy: signature requirements and immutable tags (see policy.h). */
#include "registry/policy.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/util.h"
#include "meta/meta.h"
#include "sign/gpg.h"
#include "sign/ref.h"
#include "sign/sigstore.h"
#include "sign/simple.h"
#include "store/store.h"

#define POLICY_KEY_MAX (1u << 20)
#define POLICY_SIG_BLOB_MAX (4u << 20)

struct pol_rule {
	char *name;
	char **globs; /* repositories */
	size_t nglobs;
	char **tags; /* immutable rules: tag globs */
	size_t ntags;
	int sigstore; /* 0: gpg */
	struct sign_gpg_keyring *kr;
	pthread_mutex_t kr_lock; /* one GPGME verification at a time per keyring */
	struct sign_key **keys;
	size_t nkeys;
};

struct registry_policy {
	struct pol_rule *sig;
	size_t nsig;
	struct pol_rule *imm;
	size_t nimm;
};

/* Splits a newline-separated config list into a new array of strings. */
static char **pol_split(const char *v, size_t *n)
{
	char **out = NULL;
	const char *p = v, *e;

	*n = 0;
	while (p && *p) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if (e > p) {
			out = xrealloc(out, (*n + 1) * sizeof(*out));
			out[(*n)++] = xstrndup(p, (size_t)(e - p));
		}
		p = *e ? e + 1 : e;
	}
	return out;
}

static void pol_strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void pol_rule_release(struct pol_rule *r)
{
	free(r->name);
	pol_strs_free(r->globs, r->nglobs);
	pol_strs_free(r->tags, r->ntags);
	if (r->kr) {
		sign_gpg_keyring_free(r->kr);
		pthread_mutex_destroy(&r->kr_lock);
	}
	for (size_t i = 0; i < r->nkeys; i++)
		sign_key_free(r->keys[i]);
	free(r->keys);
}

void registry_policy_free(struct registry_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsig; i++)
		pol_rule_release(&p->sig[i]);
	for (size_t i = 0; i < p->nimm; i++)
		pol_rule_release(&p->imm[i]);
	free(p->sig);
	free(p->imm);
	free(p);
}

/* The distinct rule names under prefix ("policy.signatures."), in configuration order. */
static char **pol_names(const struct config *c, const char *prefix, size_t *n)
{
	size_t pl = strlen(prefix);
	char **out = NULL;

	*n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const char *k = c->kv[i].key, *dot;
		int seen = 0;
		if (strncmp(k, prefix, pl) != 0)
			continue;
		dot = strchr(k + pl, '.');
		if (!dot || dot == k + pl)
			continue;
		for (size_t j = 0; j < *n; j++)
			if (strlen(out[j]) == (size_t)(dot - k - pl) &&
			    !strncmp(out[j], k + pl, (size_t)(dot - k - pl)))
				seen = 1;
		if (seen)
			continue;
		out = xrealloc(out, (*n + 1) * sizeof(*out));
		out[(*n)++] = xstrndup(k + pl, (size_t)(dot - k - pl));
	}
	return out;
}

/* config_get of "<prefix><name>.<leaf>". */
static const char *pol_get(const struct config *c, const char *prefix, const char *name, const char *leaf)
{
	char key[512];

	snprintf(key, sizeof(key), "%s%s.%s", prefix, name, leaf);
	return config_get(c, key);
}

/* Loads the keys of a signatures rule. */
static int pol_load_keys(struct pol_rule *r, const char *keys, char *why, size_t whyn)
{
	char **paths = NULL;
	size_t np = 0, nimp = 0;
	struct buf b;
	int rc = 0;

	buf_init(&b, BUF_UNLIMITED);
	paths = pol_split(keys, &np);
	if (np == 0) {
		snprintf(why, whyn, "policy.signatures.%s.keys: at least one key file is needed", r->name);
		rc = -BERTH_EINVAL;
		goto out;
	}
	if (!r->sigstore) {
		rc = sign_gpg_keyring_new(&r->kr, why, whyn);
		if (rc < 0)
			goto out;
		pthread_mutex_init(&r->kr_lock, NULL);
	}
	for (size_t i = 0; i < np; i++) {
		buf_reset(&b);
		rc = fs_read_file(paths[i], POLICY_KEY_MAX, &b);
		if (rc < 0) {
			snprintf(why, whyn, "policy.signatures.%s.keys: %s: %s", r->name, paths[i], berth_strerror(rc));
			goto out;
		}
		if (r->sigstore) {
			struct sign_key *k = NULL;
			char w[256];
			rc = sign_key_load_public(b.ptr, b.len, &k, w, sizeof(w));
			if (rc < 0) {
				snprintf(why, whyn, "policy.signatures.%s.keys: %s: %s", r->name, paths[i], w);
				goto out;
			}
			r->keys = xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
			r->keys[r->nkeys++] = k;
		} else {
			char w[256];
			nimp = 0;
			rc = sign_gpg_keyring_import(r->kr, b.ptr, b.len, &nimp, w, sizeof(w));
			if (rc == 0 && nimp == 0)
				rc = -BERTH_EINVAL, snprintf(w, sizeof(w), "no public key in the file");
			if (rc < 0) {
				snprintf(why, whyn, "policy.signatures.%s.keys: %s: %s", r->name, paths[i], w);
				goto out;
			}
		}
	}
out:
	pol_strs_free(paths, np);
	buf_release(&b);
	return rc;
}

int registry_policy_load(const struct config *c, struct registry_policy **out, char *why, size_t whyn)
{
	static const char sp[] = "policy.signatures.", ip[] = "policy.immutable_tags.";
	struct registry_policy *p = xcalloc(1, sizeof(*p));
	char **names = NULL;
	size_t nn = 0;
	int rc = 0;

	*out = NULL;
	names = pol_names(c, sp, &nn);
	p->sig = xcalloc(nn ? nn : 1, sizeof(*p->sig));
	for (size_t i = 0; i < nn && rc == 0; i++) {
		struct pol_rule *r = &p->sig[p->nsig++];
		const char *type = pol_get(c, sp, names[i], "type");
		r->name = xstrdup(names[i]);
		r->globs = pol_split(pol_get(c, sp, names[i], "repositories"), &r->nglobs);
		if (!r->nglobs) {
			snprintf(why, whyn, "policy.signatures.%s.repositories: a repository pattern is needed",
				 r->name);
			rc = -BERTH_EINVAL;
			break;
		}
		if (!type || !strcmp(type, "gpg"))
			r->sigstore = 0;
		else if (!strcmp(type, "sigstore"))
			r->sigstore = 1;
		else {
			snprintf(why, whyn, "policy.signatures.%s.type: '%s' is not gpg or sigstore", r->name, type);
			rc = -BERTH_EINVAL;
			break;
		}
		rc = pol_load_keys(r, pol_get(c, sp, names[i], "keys"), why, whyn);
	}
	pol_strs_free(names, nn);
	names = NULL;
	if (rc < 0)
		goto out;
	names = pol_names(c, ip, &nn);
	p->imm = xcalloc(nn ? nn : 1, sizeof(*p->imm));
	for (size_t i = 0; i < nn && rc == 0; i++) {
		struct pol_rule *r = &p->imm[p->nimm++];
		r->name = xstrdup(names[i]);
		r->globs = pol_split(pol_get(c, ip, names[i], "repositories"), &r->nglobs);
		r->tags = pol_split(pol_get(c, ip, names[i], "tags"), &r->ntags);
		if (!r->nglobs || !r->ntags) {
			snprintf(why, whyn, "policy.immutable_tags.%s: needs repositories and tags patterns", r->name);
			rc = -BERTH_EINVAL;
		}
	}
	pol_strs_free(names, nn);
	if (rc < 0)
		goto out;
	if (p->nsig || p->nimm) {
		*out = p;
		p = NULL;
	}
out:
	registry_policy_free(p);
	return rc;
}

/* 1 when s matches one of the globs. */
static int pol_match(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return 1;
	return 0;
}

const char *registry_policy_immutable(const struct registry_policy *p, const char *repo, const char *tag)
{
	if (!p || !tag)
		return NULL;
	for (size_t i = 0; i < p->nimm; i++)
		if (pol_match(p->imm[i].globs, p->imm[i].nglobs, repo) &&
		    pol_match(p->imm[i].tags, p->imm[i].ntags, tag))
			return p->imm[i].name;
	return NULL;
}

/* Whether a verified payload is about manifest d of repo: its digest and its identity's path. */
static int pol_payload_ok(const struct sign_payload *pl, const char *repo, const struct digest *d, char *why,
			  size_t whyn)
{
	struct digest pd;
	struct sign_ref ref;
	char w[256];

	if (digest_parse_cstr(pl->manifest_digest, &pd) < 0 || !digest_eq(&pd, d)) {
		snprintf(why, whyn, "a signature is for another manifest (%.80s)", pl->manifest_digest);
		return 0;
	}
	if (sign_ref_parse(pl->docker_reference, &ref, w, sizeof(w)) < 0 || strcmp(sign_ref_path(&ref), repo) != 0) {
		snprintf(why, whyn, "a signature is for another repository (%.120s)", pl->docker_reference);
		return 0;
	}
	return 1;
}

/* Simple signatures stored through the extension API, verified against r's keyring. */
static int pol_check_gpg(struct pol_rule *r, struct meta *m, const char *repo, const struct digest *d, char *why,
			 size_t whyn)
{
	struct meta_signature *v = NULL;
	size_t n = 0;
	struct buf contents;
	char fpr[SIGN_GPG_FPR_MAX], w[256];
	int rc, ok = 0;

	buf_init(&contents, SIGN_PAYLOAD_MAX);
	rc = meta_signatures_list(m, repo, d, &v, &n);
	if (rc < 0)
		goto out;
	snprintf(why, whyn, "no simple signature");
	for (size_t i = 0; i < n && !ok; i++) {
		struct sign_payload pl = {0};
		buf_reset(&contents);
		pthread_mutex_lock(&r->kr_lock);
		rc = sign_gpg_verify(r->kr, v[i].content, v[i].len, &contents, fpr, w, sizeof(w));
		pthread_mutex_unlock(&r->kr_lock);
		if (rc < 0) {
			snprintf(why, whyn, "%s", w);
			continue;
		}
		if (sign_payload_parse(contents.ptr, contents.len, SIGN_PAYLOAD_ATOMIC, &pl, w, sizeof(w)) < 0) {
			snprintf(why, whyn, "%s", w);
			continue;
		}
		ok = pol_payload_ok(&pl, repo, d, why, whyn);
		sign_payload_release(&pl);
	}
	rc = 0;
out:
	meta_signatures_free(v, n);
	buf_release(&contents);
	return rc < 0 ? rc : ok;
}

/* Reads blob d of the store into b (bounded). */
static int pol_read_blob(struct store *s, const struct digest *d, struct buf *b)
{
	uint64_t size = 0;
	int fd = -1, rc;
	ssize_t got;

	rc = store_blob_open(s, d, &fd, &size);
	if (rc < 0)
		return rc;
	if (size > POLICY_SIG_BLOB_MAX) {
		close(fd);
		return -BERTH_ETOOBIG;
	}
	rc = buf_grow(b, (size_t)size);
	while (rc == 0 && b->len < size) {
		got = read(fd, b->ptr + b->len, (size_t)size - b->len);
		if (got <= 0) {
			rc = -BERTH_EIO;
			break;
		}
		b->len += (size_t)got;
	}
	if (rc == 0)
		b->ptr[b->len] = '\0';
	close(fd);
	return rc;
}

/* sigstore signatures in the "sha256-<hex>.sig" attachment of repo, verified against r's keys. */
static int pol_check_sigstore(struct pol_rule *r, struct meta *m, struct store *s, const char *repo,
			      const struct digest *d, char *why, size_t whyn)
{
	struct meta_manifest mf = {0};
	struct sign_attachment a;
	struct buf blob;
	char tag[SIGSTORE_TAG_MAX], w[256];
	int rc, ok = 0;

	sign_attachment_init(&a);
	buf_init(&blob, POLICY_SIG_BLOB_MAX + 1);
	rc = meta_manifest_get_by_tag(m, repo, sign_sigstore_tag(d, tag), 1, &mf);
	if (rc == -BERTH_ENOENT) {
		snprintf(why, whyn, "no sigstore signature (%s)", tag);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (sign_attachment_parse(mf.body, (size_t)mf.size, &a, w, sizeof(w)) < 0) {
		snprintf(why, whyn, "%s: %.120s", tag, w);
		goto out;
	}
	snprintf(why, whyn, "no sigstore signature by the required keys");
	for (size_t i = 0; i < a.nlayers && !ok; i++) {
		struct sign_sigstore_sig sig = {0};
		buf_reset(&blob);
		if (pol_read_blob(s, &a.layers[i].digest, &blob) < 0 ||
		    sign_attachment_layer_sig(&a.layers[i], blob.ptr, blob.len, &sig) < 0) {
			sign_sigstore_sig_release(&sig);
			continue;
		}
		for (size_t k = 0; k < r->nkeys && !ok; k++) {
			struct sign_payload pl = {0};
			if (sign_sigstore_verify(r->keys[k], &sig, &pl, w, sizeof(w)) < 0) {
				snprintf(why, whyn, "%s", w);
				continue;
			}
			ok = pol_payload_ok(&pl, repo, d, why, whyn);
			sign_payload_release(&pl);
		}
		sign_sigstore_sig_release(&sig);
	}
out:
	meta_manifest_release(&mf);
	sign_attachment_release(&a);
	buf_release(&blob);
	return rc < 0 ? rc : ok;
}

int registry_policy_check(struct registry_policy *p, struct meta *m, struct store *s, const char *repo,
			  const struct digest *d, char *why, size_t whyn)
{
	char w[300];
	int rc;

	if (!p)
		return 0;
	for (size_t i = 0; i < p->nsig; i++) {
		struct pol_rule *r = &p->sig[i];
		if (!pol_match(r->globs, r->nglobs, repo))
			continue;
		w[0] = '\0';
		rc = r->sigstore ? pol_check_sigstore(r, m, s, repo, d, w, sizeof(w))
				 : pol_check_gpg(r, m, repo, d, w, sizeof(w));
		if (rc < 0)
			return rc;
		if (rc == 0) {
			snprintf(why, whyn, "policy %s requires a %s signature by its keys: %s", r->name,
				 r->sigstore ? "sigstore" : "GPG", w);
			return -BERTH_EDENIED;
		}
	}
	return 0;
}
