/* custody: verification, export and per-image history over meta's journal (see custody.h). */
#include "custody/custody.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define CUSTODY_PAGE 1000 /* rows read per transaction */

/* Sets r's failure for row seq with a formatted reason. */
static void custody_bad(struct custody_verify_result *r, int64_t seq, const char *fmt, const char *a)
{
	r->ok = 0;
	r->bad_seq = seq;
	snprintf(r->why, sizeof(r->why), fmt, (long long)seq, a ? a : "");
}

/* Checks one row against the previous row's seq and hash; 0 when fine, 1 after recording a failure. */
static int custody_check_row(const struct meta_event *ev, int64_t prev_seq, const char *prev_hash,
			     struct custody_verify_result *r)
{
	char *entry = NULL, hash[META_EVENT_HASH_MAX];
	int rc;

	if (ev->seq != prev_seq + 1) {
		r->ok = 0;
		r->bad_seq = ev->seq;
		snprintf(r->why, sizeof(r->why), "entry %lld follows entry %lld: entries are missing",
			 (long long)ev->seq, (long long)prev_seq);
		return 1;
	}
	if (prev_seq == 0 ? ev->prev != NULL : (!ev->prev || strcmp(ev->prev, prev_hash) != 0)) {
		custody_bad(r, ev->seq,
			    "entry %lld: prev does not match the hash of the entry before it (that entry or this "
			    "link was rewritten)%s",
			    NULL);
		return 1;
	}
	rc = meta_event_entry(ev, &entry);
	if (rc < 0 || strcmp(entry, ev->entry) != 0) {
		free(entry);
		custody_bad(r, ev->seq, "entry %lld: the columns do not match the entry text%s", NULL);
		return 1;
	}
	free(entry);
	meta_event_hash(ev->entry, hash);
	if (strcmp(hash, ev->hash) != 0) {
		custody_bad(r, ev->seq, "entry %lld: the hash does not match the entry text%s", NULL);
		return 1;
	}
	return 0;
}

int custody_verify(struct meta *m, const char *expect_head, struct custody_verify_result *r)
{
	struct meta_event *v = NULL;
	struct meta_event_filter f = {.after = 0, .limit = CUSTODY_PAGE};
	char prev_hash[META_EVENT_HASH_MAX] = "";
	int64_t prev_seq = 0;
	size_t n = 0;
	int more = 1, rc = 0, stop = 0;

	memset(r, 0, sizeof(*r));
	r->ok = 1;
	while (more && !stop) {
		rc = meta_events_list(m, &f, &v, &n, &more);
		if (rc < 0)
			goto out;
		for (size_t i = 0; i < n && !stop; i++) {
			const struct meta_event *ev = &v[i];
			r->count++;
			if (custody_check_row(ev, prev_seq, prev_hash, r)) {
				stop = 1;
				break;
			}
			if (expect_head && strcmp(ev->hash, expect_head) == 0)
				r->expect_found = 1;
			prev_seq = ev->seq;
			snprintf(prev_hash, sizeof(prev_hash), "%s", ev->hash);
		}
		if (n)
			f.after = v[n - 1].seq;
		meta_events_free(v, n);
		v = NULL;
		n = 0;
	}
	if (!stop) {
		r->head_seq = prev_seq;
		snprintf(r->head, sizeof(r->head), "%s", prev_hash);
		if (expect_head && !r->expect_found) {
			r->ok = 0;
			snprintf(r->why, sizeof(r->why),
				 "the recorded head %.80s is not in the log: it was rewritten or truncated after it",
				 expect_head);
		}
	}
out:
	meta_events_free(v, n);
	return rc;
}

/* json_string(s), or null. */
static json_t *custody_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

int custody_event_json(const struct meta_event *ev, struct buf *out)
{
	json_t *o = json_object(), *detail = NULL;
	char *s = NULL;
	int rc = 0;

	if (!o)
		return -BERTH_ENOMEM;
	detail = ev->detail ? json_loads(ev->detail, 0, NULL) : NULL;
	if (!detail)
		detail = json_null();
	if (json_object_set_new(o, "seq", json_integer(ev->seq)) < 0 ||
	    json_object_set_new(o, "time", json_integer(ev->time_ms)) < 0 ||
	    json_object_set_new(o, "action", custody_str(ev->action)) < 0 ||
	    json_object_set_new(o, "repo", custody_str(ev->repo)) < 0 ||
	    json_object_set_new(o, "digest", custody_str(ev->digest)) < 0 ||
	    json_object_set_new(o, "tag", custody_str(ev->tag)) < 0 || json_object_set_new(o, "detail", detail) < 0 ||
	    json_object_set_new(o, "prev", custody_str(ev->prev)) < 0 ||
	    json_object_set_new(o, "hash", custody_str(ev->hash)) < 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	rc = s ? buf_adds(out, s) : -BERTH_ENOMEM;
out:
	free(s);
	json_decref(o);
	return rc;
}

int custody_export(struct meta *m, const char *repo, int64_t after, long limit, struct buf *out, int64_t *last,
		   int *more)
{
	struct meta_event *v = NULL;
	struct meta_event_filter f = {.after = after, .repo = repo, .limit = limit};
	size_t n = 0;
	int rc;

	if (last)
		*last = after;
	rc = meta_events_list(m, &f, &v, &n, more);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = custody_event_json(&v[i], out);
		if (rc == 0)
			rc = buf_add(out, "\n", 1);
		if (rc == 0 && last)
			*last = v[i].seq;
	}
	meta_events_free(v, n);
	return rc;
}

/* 1 when ev's detail has "from" equal to ds. */
static int custody_from_is(const struct meta_event *ev, const char *ds)
{
	json_t *j = NULL, *from = NULL;
	int yes = 0;

	if (!ev->detail)
		return 0;
	j = json_loads(ev->detail, 0, NULL);
	from = j ? json_object_get(j, "from") : NULL;
	yes = from && json_is_string(from) && strcmp(json_string_value(from), ds) == 0;
	json_decref(j);
	return yes;
}

/* Adds name to the sorted unique list l. */
static int custody_names_add(struct meta_names *l, const char *name)
{
	size_t i = 0;
	char **g = NULL;

	while (i < l->n && strcmp(l->v[i], name) < 0)
		i++;
	if (i < l->n && strcmp(l->v[i], name) == 0)
		return 0;
	g = realloc(l->v, (l->n + 1) * sizeof(*g));
	if (!g)
		return -BERTH_ENOMEM;
	l->v = g;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*g));
	l->v[i] = strdup(name);
	l->n++;
	return l->v[i] ? 0 : -BERTH_ENOMEM;
}

int custody_history(struct meta *m, const char *repo, const struct digest *d, struct meta_event **out, size_t *n,
		    struct meta_names *tags)
{
	struct meta_event *v = NULL, *keep = NULL;
	struct meta_event_filter f = {.after = 0, .repo = repo, .limit = -1};
	char ds[DIGEST_STR_MAX];
	size_t nv = 0, nk = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (tags)
		memset(tags, 0, sizeof(*tags));
	digest_str(d, ds);
	rc = meta_events_list(m, &f, &v, &nv, NULL);
	if (rc < 0)
		goto out;
	keep = calloc(nv ? nv : 1, sizeof(*keep));
	if (!keep) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		int mine = v[i].digest && strcmp(v[i].digest, ds) == 0;
		if (!mine && !custody_from_is(&v[i], ds))
			continue;
		if (mine && tags && v[i].tag && (!strcmp(v[i].action, "push") || !strcmp(v[i].action, "tag"))) {
			rc = custody_names_add(tags, v[i].tag);
			if (rc < 0)
				goto out;
		}
		keep[nk++] = v[i];
		memset(&v[i], 0, sizeof(v[i]));
	}
	*out = keep;
	*n = nk;
	keep = NULL;
	nk = 0;
out:
	meta_events_free(keep, nk);
	meta_events_free(v, nv);
	if (rc < 0 && tags)
		meta_names_release(tags);
	return rc;
}

int custody_resolve_tag(struct meta *m, const char *repo, const char *tag, struct digest *d)
{
	struct meta_manifest mf = {0};
	struct meta_event *v = NULL;
	struct meta_event_filter f = {.after = 0, .repo = repo, .limit = -1};
	size_t nv = 0;
	int rc = meta_manifest_get_by_tag(m, repo, tag, 0, &mf);

	if (rc == 0) {
		*d = mf.digest;
		meta_manifest_release(&mf);
		return 0;
	}
	if (rc != -BERTH_ENOENT)
		return rc;
	rc = meta_events_list(m, &f, &v, &nv, NULL);
	if (rc < 0)
		return rc;
	rc = -BERTH_ENOENT;
	for (size_t i = nv; i-- > 0;) {
		const struct meta_event *ev = &v[i];
		if (ev->tag && ev->digest && strcmp(ev->tag, tag) == 0 &&
		    (!strcmp(ev->action, "push") || !strcmp(ev->action, "tag") || !strcmp(ev->action, "untag"))) {
			rc = digest_parse_cstr(ev->digest, d) < 0 ? -BERTH_EDB : 0;
			break;
		}
	}
	meta_events_free(v, nv);
	return rc;
}
