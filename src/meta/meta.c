/* meta: picks a backend from the URI and dispatches every call through its struct meta_ops.
 * Argument checks live here so each backend only sees well-formed input. */
#include "meta/meta.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"
#include "meta/backend.h"

struct meta {
	const struct meta_ops *ops;
	void *be;
};

/* 1 when s is a usable name (repository, tag, uuid): non-NULL and non-empty. */
static int meta_name_ok(const char *s)
{
	return s && s[0] != '\0';
}

/* 1 when uri starts with a URI scheme ("word:" or "word://") that is not "sqlite:", so it names a
 * backend we do not have. A bare path containing ':' later on ("var/a:b.db") is still a path. */
static int meta_uri_is_foreign(const char *uri)
{
	size_t i = 0;

	while ((uri[i] >= 'a' && uri[i] <= 'z') || (uri[i] >= 'A' && uri[i] <= 'Z') ||
	       (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' || uri[i] == '-' || uri[i] == '.')))
		i++;
	if (i == 0 || uri[i] != ':')
		return 0;
	/* "postgres://", "postgresql:", "mysql://": a scheme we recognise as a non-SQLite backend. */
	return strncmp(uri + i, "://", 3) == 0 || strncmp(uri, "postgres:", 9) == 0 ||
	       strncmp(uri, "postgresql:", 11) == 0;
}

/* Opens the backend uri names: "sqlite:PATH" or a bare PATH use SQLite; any other scheme
 * ("postgres://...") is -BERTH_EUNSUPPORTED until that backend exists. */
int meta_open(const char *uri, struct meta **out)
{
	struct meta *m = NULL;
	const char *path = NULL;
	int rc = 0;

	if (!out || !uri) {
		rc = -BERTH_EINVAL;
		goto out;
	}
	*out = NULL;
	if (strncmp(uri, "sqlite:", 7) == 0)
		path = uri + 7;
	else if (meta_uri_is_foreign(uri)) {
		rc = -BERTH_EUNSUPPORTED;
		goto out;
	} else
		path = uri;
	if (path[0] == '\0') {
		rc = -BERTH_EINVAL;
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	rc = meta_sqlite_open(path, &m->ops, &m->be);
	if (rc < 0)
		goto out;
	*out = m;
	m = NULL;
out:
	free(m);
	return rc;
}

/* Closes the backend (all its per-thread connections) and frees m. */
void meta_free(struct meta *m)
{
	if (!m)
		return;
	m->ops->free(m->be);
	free(m);
}

/* Whether repo exists; 1, 0 or a negative error. */
int meta_repo_exists(struct meta *m, const char *repo)
{
	if (!m || !meta_name_ok(repo))
		return -BERTH_EINVAL;
	return m->ops->repo_exists(m->be, repo);
}

/* Records that repo may serve blob d (sizes beyond INT64_MAX cannot be stored). */
int meta_blob_link(struct meta *m, const char *repo, const struct digest *d, uint64_t size)
{
	if (!m || !meta_name_ok(repo) || !d || size > INT64_MAX)
		return -BERTH_EINVAL;
	return m->ops->blob_link(m->be, repo, d, size);
}

/* Links a committed blob and ends its upload session in one transaction. */
int meta_blob_commit(struct meta *m, const char *repo, const struct digest *d, uint64_t size, const char *uuid,
		     const struct meta_hook *present)
{
	if (!m || !meta_name_ok(repo) || !d || size > INT64_MAX || (present && !present->fn))
		return -BERTH_EINVAL;
	return m->ops->blob_commit(m->be, repo, d, size, uuid, present);
}

/* Links d into repo when from links it. */
int meta_blob_mount(struct meta *m, const char *repo, const char *from, const struct digest *d)
{
	if (!m || !meta_name_ok(repo) || !meta_name_ok(from) || !d)
		return -BERTH_EINVAL;
	return m->ops->blob_mount(m->be, repo, from, d);
}

/* The size of blob d as linked in repo. */
int meta_blob_get(struct meta *m, const char *repo, const struct digest *d, uint64_t *size)
{
	if (!m || !meta_name_ok(repo) || !d || !size)
		return -BERTH_EINVAL;
	return m->ops->blob_get(m->be, repo, d, size);
}

/* Removes repo's link to blob d. */
int meta_blob_unlink(struct meta *m, const char *repo, const struct digest *d)
{
	if (!m || !meta_name_ok(repo) || !d)
		return -BERTH_EINVAL;
	return m->ops->blob_unlink(m->be, repo, d);
}

/* Whether garbage collection must keep d. */
int meta_blob_referenced(struct meta *m, const struct digest *d)
{
	if (!m || !d)
		return -BERTH_EINVAL;
	return m->ops->blob_referenced(m->be, d);
}

/* What a collection would remove now; *out starts empty. */
int meta_gc_plan(struct meta *m, int64_t cutoff, int delete_untagged, struct meta_gc_plan *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !out)
		return -BERTH_EINVAL;
	return m->ops->gc_plan(m->be, cutoff, delete_untagged ? 1 : 0, out);
}

/* Frees the three lists; p is empty afterwards. */
void meta_gc_plan_release(struct meta_gc_plan *p)
{
	if (!p)
		return;
	meta_gc_items_free(p->manifests, p->nmanifests);
	meta_gc_items_free(p->links, p->nlinks);
	meta_gc_items_free(p->blobs, p->nblobs);
	memset(p, 0, sizeof(*p));
}

/* Frees a list of items and their repository names. */
void meta_gc_items_free(struct meta_gc_item *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].repo);
	free(v);
}

/* Deletes repo's manifests that are not live. */
int meta_gc_manifests_prune(struct meta *m, const char *repo, int64_t cutoff, struct meta_gc_item **out, size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!m || !meta_name_ok(repo) || !out || !n)
		return -BERTH_EINVAL;
	return m->ops->gc_manifests_prune(m->be, repo, cutoff, out, n);
}

/* Deletes d's garbage links. */
int meta_gc_blob_unlink(struct meta *m, const struct digest *d, int64_t cutoff)
{
	if (!m || !d)
		return -BERTH_EINVAL;
	return m->ops->gc_blob_unlink(m->be, d, cutoff);
}

/* Runs drop when nothing names d. */
int meta_blob_forget(struct meta *m, const struct digest *d, const struct meta_hook *drop)
{
	if (!m || !d || !drop || !drop->fn)
		return -BERTH_EINVAL;
	return m->ops->blob_forget(m->be, d, drop);
}

/* Checks the shape of a manifest to store before the backend sees it. */
static int meta_manifest_in_ok(const struct meta_manifest_in *in)
{
	struct meta_manifest probe;

	if (!in || !meta_name_ok(in->repo) || !in->digest || !in->media_type || !in->body)
		return 0;
	if (strlen(in->media_type) >= sizeof(probe.media_type))
		return 0;
	if ((in->nblobs && !in->blobs) || (in->nmanifests && !in->manifests))
		return 0;
	if (in->tag && in->tag[0] == '\0')
		return 0;
	return 1;
}

/* Stores a manifest after checking its shape; see meta.h for the transaction rules. */
int meta_manifest_put(struct meta *m, const struct meta_manifest_in *in, struct digest *missing,
		      int *missing_is_manifest)
{
	if (!m || !meta_manifest_in_ok(in))
		return -BERTH_EINVAL;
	return m->ops->manifest_put(m->be, in, missing, missing_is_manifest);
}

/* Resolves tag in repo; *out is zeroed first so release is always safe. */
int meta_manifest_get_by_tag(struct meta *m, const char *repo, const char *tag, int want_body,
			     struct meta_manifest *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !meta_name_ok(repo) || !meta_name_ok(tag) || !out)
		return -BERTH_EINVAL;
	return m->ops->manifest_get_by_tag(m->be, repo, tag, want_body, out);
}

/* Looks up manifest d in repo; *out is zeroed first so release is always safe. */
int meta_manifest_get(struct meta *m, const char *repo, const struct digest *d, int want_body,
		      struct meta_manifest *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !meta_name_ok(repo) || !d || !out)
		return -BERTH_EINVAL;
	return m->ops->manifest_get(m->be, repo, d, want_body, out);
}

/* Frees the body a get returned; mf stays usable (body NULL). */
void meta_manifest_release(struct meta_manifest *mf)
{
	if (!mf)
		return;
	free(mf->body);
	mf->body = NULL;
}

/* Removes manifest d and its tags from repo. */
int meta_manifest_delete(struct meta *m, const char *repo, const struct digest *d)
{
	if (!m || !meta_name_ok(repo) || !d)
		return -BERTH_EINVAL;
	return m->ops->manifest_delete(m->be, repo, d);
}

/* Removes one tag of repo. */
int meta_tag_delete(struct meta *m, const char *repo, const char *tag)
{
	if (!m || !meta_name_ok(repo) || !meta_name_ok(tag))
		return -BERTH_EINVAL;
	return m->ops->tag_delete(m->be, repo, tag);
}

/* Frees every name and the array; l is empty afterwards. */
void meta_names_release(struct meta_names *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* One page of repo's tags; *out and *more start empty so every path leaves them defined. */
int meta_tags_list(struct meta *m, const char *repo, const char *last, long limit, struct meta_names *out, int *more)
{
	if (out) {
		out->v = NULL;
		out->n = 0;
	}
	if (more)
		*more = 0;
	if (!m || !meta_name_ok(repo) || !out || !more)
		return -BERTH_EINVAL;
	return m->ops->tags_list(m->be, repo, last, limit, out, more);
}

/* One page of repository names; *out and *more start empty. */
int meta_catalog(struct meta *m, const char *last, long limit, struct meta_names *out, int *more)
{
	if (out) {
		out->v = NULL;
		out->n = 0;
	}
	if (more)
		*more = 0;
	if (!m || !out || !more)
		return -BERTH_EINVAL;
	return m->ops->catalog(m->be, last, limit, out, more);
}

/* The referrers of subject in repo; *out and *n start empty. */
int meta_referrers(struct meta *m, const char *repo, const struct digest *subject, const char *artifact_type,
		   struct meta_desc **out, size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!m || !meta_name_ok(repo) || !subject || !out || !n)
		return -BERTH_EINVAL;
	return m->ops->referrers(m->be, repo, subject, artifact_type, out, n);
}

/* Frees a referrers list and every string in it. */
void meta_descs_free(struct meta_desc *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].media_type);
		free(v[i].artifact_type);
		free(v[i].annotations_json);
	}
	free(v);
}

/* Remembers which repository upload uuid belongs to. */
int meta_upload_put(struct meta *m, const char *uuid, const char *repo)
{
	if (!m || !meta_name_ok(uuid) || !meta_name_ok(repo))
		return -BERTH_EINVAL;
	return m->ops->upload_put(m->be, uuid, repo);
}

/* Copies upload uuid's repository into repo[n]; repo is "" when there is no such upload. */
int meta_upload_get(struct meta *m, const char *uuid, char *repo, size_t n)
{
	if (!m || !meta_name_ok(uuid) || !repo || n == 0)
		return -BERTH_EINVAL;
	repo[0] = '\0';
	return m->ops->upload_get(m->be, uuid, repo, n);
}

/* Forgets upload uuid. */
int meta_upload_delete(struct meta *m, const char *uuid)
{
	if (!m || !meta_name_ok(uuid))
		return -BERTH_EINVAL;
	return m->ops->upload_delete(m->be, uuid);
}

/* Sessions recorded at or before created_max; *out starts empty. */
int meta_upload_list(struct meta *m, int64_t created_max, struct meta_names *out)
{
	if (out) {
		out->v = NULL;
		out->n = 0;
	}
	if (!m || !out)
		return -BERTH_EINVAL;
	return m->ops->upload_list(m->be, created_max, out);
}

/* --- errata ---------------------------------------------------------------------------------- */

static const char *const meta_type_names[] = {"security", "bugfix", "enhancement"};
static const char *const meta_sev_names[] = {"unknown", "Low", "Moderate", "Important", "Critical"};
static const char *const meta_status_names[] = {"fixed", "unfixed", "not-affected", "end-of-life"};
#define META_NAMES_N(a) (sizeof(a) / sizeof((a)[0]))

const char *meta_erratum_type_name(enum meta_erratum_type t)
{
	return (unsigned)t < META_NAMES_N(meta_type_names) ? meta_type_names[t] : "unknown";
}

const char *meta_severity_name(enum meta_severity s)
{
	return (unsigned)s < META_NAMES_N(meta_sev_names) ? meta_sev_names[s] : "unknown";
}

const char *meta_pkg_status_name(enum meta_pkg_status s)
{
	return (unsigned)s < META_NAMES_N(meta_status_names) ? meta_status_names[s] : "unknown";
}

/* Finds s among names (case-insensitively when fold): its index, or -1. */
static int meta_name_index(const char *const *names, size_t n, const char *s, int fold)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fold ? strcasecmp(names[i], s) == 0 : strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int meta_erratum_type_parse(const char *s, enum meta_erratum_type *out)
{
	int i = meta_name_index(meta_type_names, META_NAMES_N(meta_type_names), s, 1);

	if (i < 0 || !out)
		return -BERTH_EINVAL;
	*out = (enum meta_erratum_type)i;
	return 0;
}

int meta_severity_parse(const char *s, enum meta_severity *out)
{
	int i = meta_name_index(meta_sev_names, META_NAMES_N(meta_sev_names), s, 1);

	if (i < 0 || !out)
		return -BERTH_EINVAL;
	*out = (enum meta_severity)i;
	return 0;
}

int meta_pkg_status_parse(const char *s, enum meta_pkg_status *out)
{
	int i = meta_name_index(meta_status_names, META_NAMES_N(meta_status_names), s, 0);

	if (i < 0 || !out)
		return -BERTH_EINVAL;
	*out = (enum meta_pkg_status)i;
	return 0;
}

/* Frees everything e owns and zeroes it. */
void meta_erratum_release(struct meta_erratum *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->source);
	free(e->summary);
	free(e->details);
	for (size_t i = 0; i < e->ncves; i++)
		free(e->cves[i]);
	free(e->cves);
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	for (size_t i = 0; i < e->npkgs; i++) {
		free(e->pkgs[i].release);
		free(e->pkgs[i].package);
		free(e->pkgs[i].introduced);
		free(e->pkgs[i].fixed);
		free(e->pkgs[i].last_affected);
	}
	free(e->pkgs);
	memset(e, 0, sizeof(*e));
}

void meta_errata_free(struct meta_erratum *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		meta_erratum_release(&v[i]);
	free(v);
}

void meta_errata_hits_free(struct meta_errata_hit *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].pkg.release);
		free(v[i].pkg.package);
		free(v[i].pkg.introduced);
		free(v[i].pkg.fixed);
		free(v[i].pkg.last_affected);
	}
	free(v);
}

void meta_feed_state_release(struct meta_feed_state *st)
{
	if (!st)
		return;
	free(st->etag);
	free(st->last_modified);
	free(st->content_hash);
	memset(st, 0, sizeof(*st));
}

/* 1 when s is a usable stored string: non-NULL, non-empty, at most max bytes, no control characters
 * (so ids, names and versions print on one line). */
static int meta_text_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	return n <= max;
}

/* 1 when h is 64 lower-case hex digits. */
static int meta_hash_ok(const char *h)
{
	size_t i = 0;

	for (; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return i == 64;
}

/* Checks one erratum before any backend stores it. */
static int meta_erratum_ok(const struct meta_erratum *e)
{
	if (!meta_text_ok(e->id, 255) || !meta_text_ok(e->source, 64) || !meta_hash_ok(e->hash))
		return 0;
	if ((unsigned)e->type > META_ERRATUM_ENHANCEMENT || (unsigned)e->severity > META_SEV_CRITICAL)
		return 0;
	if ((e->ncves && !e->cves) || (e->nrefs && !e->refs) || (e->npkgs && !e->pkgs))
		return 0;
	for (size_t i = 0; i < e->ncves; i++)
		if (!meta_text_ok(e->cves[i], 64))
			return 0;
	for (size_t i = 0; i < e->nrefs; i++)
		if (!meta_text_ok(e->refs[i], 4096))
			return 0;
	for (size_t i = 0; i < e->npkgs; i++) {
		const struct meta_erratum_pkg *p = &e->pkgs[i];
		if (!meta_text_ok(p->release, 128) || !meta_text_ok(p->package, 255))
			return 0;
		if ((unsigned)p->status > META_PKG_END_OF_LIFE || (p->status == META_PKG_FIXED) != (p->fixed != NULL))
			return 0;
		if ((p->introduced && !meta_text_ok(p->introduced, 255)) ||
		    (p->fixed && !meta_text_ok(p->fixed, 255)) ||
		    (p->last_affected && !meta_text_ok(p->last_affected, 255)))
			return 0;
	}
	return 1;
}

/* Validates every erratum, then stores them all in one backend transaction. */
int meta_errata_put(struct meta *m, const struct meta_erratum *v, size_t n, enum meta_put_result *res,
		    int64_t *generation)
{
	if (!m || (n && !v))
		return -BERTH_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!meta_erratum_ok(&v[i]))
			return -BERTH_EINVAL;
	return m->ops->errata_put(m->be, v, n, res, generation);
}

int meta_errata_generation(struct meta *m, int64_t *generation)
{
	if (!m || !generation)
		return -BERTH_EINVAL;
	*generation = 0;
	return m->ops->errata_generation(m->be, generation);
}

int meta_errata_get(struct meta *m, const char *id, struct meta_erratum *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !meta_name_ok(id) || !out)
		return -BERTH_EINVAL;
	return m->ops->errata_get(m->be, id, out);
}

int meta_errata_list(struct meta *m, const struct meta_errata_filter *f, struct meta_erratum **out, size_t *n,
		     int *more)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (more)
		*more = 0;
	if (!m || !f || !out || !n || !more)
		return -BERTH_EINVAL;
	if (f->severity > META_SEV_CRITICAL || f->severity < -1 || f->type > META_ERRATUM_ENHANCEMENT || f->type < -1)
		return -BERTH_EINVAL;
	return m->ops->errata_list(m->be, f, out, n, more);
}

int meta_errata_affecting(struct meta *m, const char *release, const char *const *pkgs, size_t npkgs,
			  struct meta_errata_hit **out, size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!m || !meta_name_ok(release) || (npkgs && !pkgs) || !out || !n)
		return -BERTH_EINVAL;
	for (size_t i = 0; i < npkgs; i++)
		if (!meta_name_ok(pkgs[i]))
			return -BERTH_EINVAL;
	return m->ops->errata_affecting(m->be, release, pkgs, npkgs, out, n);
}

int meta_errata_changed_since(struct meta *m, int64_t since, struct meta_names *out)
{
	if (out) {
		out->v = NULL;
		out->n = 0;
	}
	if (!m || !out)
		return -BERTH_EINVAL;
	return m->ops->errata_changed_since(m->be, since, out);
}

int meta_feed_get(struct meta *m, const char *feed, struct meta_feed_state *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !meta_name_ok(feed) || !out)
		return -BERTH_EINVAL;
	return m->ops->feed_get(m->be, feed, out);
}

int meta_feed_put(struct meta *m, const char *feed, const struct meta_feed_state *st)
{
	if (!m || !meta_name_ok(feed) || !st)
		return -BERTH_EINVAL;
	return m->ops->feed_put(m->be, feed, st);
}

/* --- journal ------------------------------------------------------------------------------------ */

/* Canonical text: compact separators, keys sorted at every depth (jansson's JSON_SORT_KEYS), so
 * the same event always gives the same bytes. */
#define META_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

int meta__json_canon(const char *s, char **out)
{
	json_t *j = NULL;
	int rc = 0;

	*out = NULL;
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	if (!j || !json_is_object(j)) {
		rc = -BERTH_EINVAL;
		goto out;
	}
	*out = json_dumps(j, META_JSON_FLAGS);
	if (!*out)
		rc = -BERTH_ENOMEM;
out:
	json_decref(j);
	return rc;
}

/* json_string of s, or JSON null when s is NULL. */
static json_t *meta_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

int meta_event_entry(const struct meta_event *ev, char **out)
{
	json_t *o = NULL, *detail = NULL;
	int rc = 0;

	*out = NULL;
	if (!ev || !ev->action || !ev->repo)
		return -BERTH_EINVAL;
	if (ev->detail) {
		detail = json_loads(ev->detail, JSON_REJECT_DUPLICATES, NULL);
		if (!detail || !json_is_object(detail)) {
			rc = -BERTH_EINVAL;
			goto out;
		}
	} else {
		detail = json_null();
	}
	o = json_object();
	if (!o || json_object_set_new(o, "seq", json_integer(ev->seq)) < 0 ||
	    json_object_set_new(o, "time", json_integer(ev->time_ms)) < 0 ||
	    json_object_set_new(o, "action", meta_json_str(ev->action)) < 0 ||
	    json_object_set_new(o, "repo", meta_json_str(ev->repo)) < 0 ||
	    json_object_set_new(o, "digest", meta_json_str(ev->digest)) < 0 ||
	    json_object_set_new(o, "tag", meta_json_str(ev->tag)) < 0 || json_object_set(o, "detail", detail) < 0 ||
	    json_object_set_new(o, "prev", meta_json_str(ev->prev)) < 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	*out = json_dumps(o, META_JSON_FLAGS);
	if (!*out)
		rc = -BERTH_ENOMEM;
out:
	json_decref(detail);
	json_decref(o);
	return rc;
}

void meta_event_hash(const char *entry, char out[META_EVENT_HASH_MAX])
{
	struct digest d;

	digest_of(DIGEST_SHA256, entry, strlen(entry), &d);
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, d.hex, 64);
	out[71] = '\0';
}

void meta_event_release(struct meta_event *ev)
{
	if (!ev)
		return;
	free(ev->action);
	free(ev->repo);
	free(ev->digest);
	free(ev->tag);
	free(ev->detail);
	free(ev->prev);
	free(ev->entry);
	free(ev->hash);
	memset(ev, 0, sizeof(*ev));
}

void meta_events_free(struct meta_event *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		meta_event_release(&v[i]);
	free(v);
}

int meta_event_append(struct meta *m, const char *action, const char *repo, const struct digest *digest,
		      const char *tag, const char *detail_json, int64_t *seq)
{
	char ds[DIGEST_STR_MAX], *detail = NULL;
	int rc;

	if (seq)
		*seq = 0;
	if (!m || !meta_name_ok(action) || !meta_name_ok(repo) || (tag && !tag[0]))
		return -BERTH_EINVAL;
	if (detail_json) {
		rc = meta__json_canon(detail_json, &detail);
		if (rc < 0)
			return rc;
	}
	rc = m->ops->event_append(m->be, action, repo, digest ? digest_str(digest, ds) : NULL, tag, detail, seq);
	free(detail);
	return rc;
}

int meta_events_list(struct meta *m, const struct meta_event_filter *f, struct meta_event **out, size_t *n, int *more)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (more)
		*more = 0;
	if (!m || !f || !out || !n)
		return -BERTH_EINVAL;
	return m->ops->events_list(m->be, f, out, n, more);
}

int meta_event_head(struct meta *m, int64_t *seq, char hash[META_EVENT_HASH_MAX])
{
	if (!m || !seq || !hash)
		return -BERTH_EINVAL;
	*seq = 0;
	hash[0] = '\0';
	return m->ops->event_head(m->be, seq, hash);
}

int meta_notify_cursor_get(struct meta *m, const char *endpoint, int64_t *seq)
{
	if (!m || !meta_name_ok(endpoint) || !seq)
		return -BERTH_EINVAL;
	*seq = 0;
	return m->ops->cursor_get(m->be, endpoint, seq);
}

int meta_notify_cursor_set(struct meta *m, const char *endpoint, int64_t seq)
{
	if (!m || !meta_name_ok(endpoint) || seq < 0)
		return -BERTH_EINVAL;
	return m->ops->cursor_set(m->be, endpoint, seq);
}

int meta_grade_state_get(struct meta *m, const struct digest *d, char *grade, int32_t *day)
{
	if (!m || !d || !grade || !day)
		return -BERTH_EINVAL;
	*grade = 0;
	*day = 0;
	return m->ops->grade_state_get(m->be, d, grade, day);
}

int meta_grade_state_set(struct meta *m, const struct digest *d, char grade, int32_t day)
{
	if (!m || !d || grade < 'A' || grade > 'F')
		return -BERTH_EINVAL;
	return m->ops->grade_state_set(m->be, d, grade, day);
}

/* --- simple signatures ---------------------------------------------------------------------------- */

void meta_signatures_free(struct meta_signature *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].content);
	}
	free(v);
}

int meta_signature_put(struct meta *m, const char *repo, const struct digest *d, const char *name, const void *content,
		       size_t len, int *added)
{
	if (added)
		*added = 0;
	if (!m || !meta_name_ok(repo) || !d || !meta_name_ok(name) || !content || len == 0 || len > INT32_MAX)
		return -BERTH_EINVAL;
	return m->ops->signature_put(m->be, repo, d, name, content, len, added);
}

int meta_signatures_list(struct meta *m, const char *repo, const struct digest *d, struct meta_signature **out,
			 size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!m || !meta_name_ok(repo) || !d || !out || !n)
		return -BERTH_EINVAL;
	return m->ops->signatures_list(m->be, repo, d, out, n);
}

int meta_signature_delete(struct meta *m, const char *repo, const struct digest *d, const char *name)
{
	if (!m || !meta_name_ok(repo) || !d || !meta_name_ok(name))
		return -BERTH_EINVAL;
	return m->ops->signature_delete(m->be, repo, d, name);
}

/* ---- scans ---- */

void meta_scan_release(struct meta_scan *s)
{
	if (!s)
		return;
	free(s->status);
	free(s->why);
	free(s->os);
	free(s->pretty);
	free(s->layers);
	free(s->packages);
	free(s->findings);
	memset(s, 0, sizeof(*s));
}

int meta_scan_claim(struct meta *m, struct meta_scan_job *job)
{
	if (!m || !job)
		return -BERTH_EINVAL;
	memset(job, 0, sizeof(*job));
	return m->ops->scan_claim(m->be, job);
}

int meta_scan_requeue(struct meta *m)
{
	return m ? m->ops->scan_requeue(m->be) : -BERTH_EINVAL;
}

int meta_scan_enqueue(struct meta *m, const char *repo, const struct digest *d)
{
	if (!m || !meta_name_ok(repo) || !d)
		return -BERTH_EINVAL;
	return m->ops->scan_enqueue(m->be, repo, d);
}

int meta_scan_queued(struct meta *m, const struct digest *d)
{
	if (!m || !d)
		return -BERTH_EINVAL;
	return m->ops->scan_queued(m->be, d);
}

int meta_scan_layer_get(struct meta *m, const struct digest *d, void **blob, size_t *n, char **why)
{
	if (blob)
		*blob = NULL;
	if (n)
		*n = 0;
	if (why)
		*why = NULL;
	if (!m || !d || !blob || !n || !why)
		return -BERTH_EINVAL;
	return m->ops->scan_layer_get(m->be, d, blob, n, why);
}

int meta_scan_layer_put(struct meta *m, const struct digest *d, const void *blob, size_t n, const char *why)
{
	if (!m || !d || (!blob && !why) || n > INT32_MAX)
		return -BERTH_EINVAL;
	return m->ops->scan_layer_put(m->be, d, blob, n, why);
}

int meta_scan_layer_count(struct meta *m, int64_t *n)
{
	if (!m || !n)
		return -BERTH_EINVAL;
	*n = 0;
	return m->ops->scan_layer_count(m->be, n);
}

int meta_scan_put(struct meta *m, const struct meta_scan *s)
{
	if (!m || !s || !s->status || !s->layers || s->packages_len > INT32_MAX)
		return -BERTH_EINVAL;
	return m->ops->scan_put(m->be, s);
}

int meta_scan_get(struct meta *m, const struct digest *d, struct meta_scan *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !d || !out)
		return -BERTH_EINVAL;
	return m->ops->scan_get(m->be, d, out);
}

int meta_scan_each_stale(struct meta *m, int64_t gen, int (*fn)(void *ctx, const struct meta_scan *s), void *ctx)
{
	if (!m || !fn)
		return -BERTH_EINVAL;
	return m->ops->scan_each_stale(m->be, gen, fn, ctx);
}

int meta_scan_findings_put(struct meta *m, const struct meta_scan *v, size_t n)
{
	if (!m || (n && !v))
		return -BERTH_EINVAL;
	return n ? m->ops->scan_findings_put(m->be, v, n) : 0;
}
