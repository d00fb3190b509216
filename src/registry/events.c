/* events: "scan" and "grade" journal rows of stored images (see events.h). */
#include "registry/events.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "meta/meta.h"
#include "registry/grading.h"

static pthread_mutex_t grade_lock = PTHREAD_MUTEX_INITIALIZER;

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted distinct advisory ids of findings as a JSON array (new reference), or NULL with *rc. */
static json_t *ids_of(const char *findings, int *rc)
{
	json_t *f = NULL, *out = NULL;
	const char **v = NULL;
	size_t n = 0;

	*rc = 0;
	if (!findings || !findings[0])
		return json_array();
	f = json_loads(findings, 0, NULL);
	if (!json_is_array(f)) {
		*rc = -BERTH_EINVAL;
		goto out;
	}
	v = calloc(json_array_size(f) + 1, sizeof *v);
	out = json_array();
	if (!v || !out) {
		*rc = -BERTH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(f); i++) {
		json_t *e = json_array_get(f, i);
		const char *id = json_string_value(json_is_object(e) ? json_object_get(e, "advisory") : e);
		if (id)
			v[n++] = id;
	}
	qsort(v, n, sizeof *v, str_cmp);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || strcmp(v[i], v[i - 1]) != 0) && json_array_append_new(out, json_string(v[i])) < 0) {
			*rc = -BERTH_ENOMEM;
			goto out;
		}
out:
	if (*rc < 0) {
		json_decref(out);
		out = NULL;
	}
	free(v);
	json_decref(f);
	return out;
}

int events_advisory_ids(const char *findings, char **out)
{
	int rc;
	json_t *ids = ids_of(findings, &rc);

	*out = NULL;
	if (!ids)
		return rc;
	*out = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	return *out ? 0 : -BERTH_ENOMEM;
}

int events_scan_append(struct meta *m, const char *repo, const struct digest *d, const char *tag, const char *status,
		       const char *os, const char *old_ids, const char *findings, int *appended)
{
	json_t *now = NULL, *old = NULL, *fresh = NULL, *detail = NULL, *f = NULL;
	char *text = NULL;
	size_t nfind = 0, j = 0;
	int rc;

	if (appended)
		*appended = 0;
	now = ids_of(findings, &rc);
	if (!now)
		goto out;
	old = ids_of(old_ids, &rc); /* an ids array is a findings-shaped array of strings */
	if (!old)
		goto out;
	if (json_equal(now, old)) {
		rc = 0;
		goto out;
	}
	if (findings && findings[0]) {
		f = json_loads(findings, 0, NULL);
		nfind = json_array_size(f);
	}
	fresh = json_array();
	detail = json_object();
	if (!fresh || !detail) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	/* both sorted: a merge walk finds the ids not in old */
	for (size_t i = 0; i < json_array_size(now); i++) {
		const char *id = json_string_value(json_array_get(now, i));
		int c = 1;
		while (j < json_array_size(old) && (c = strcmp(json_string_value(json_array_get(old, j)), id)) < 0)
			j++;
		if (c != 0)
			json_array_append_new(fresh, json_string(id));
	}
	json_object_set_new(detail, "status", status ? json_string(status) : json_null());
	json_object_set_new(detail, "os", os ? json_string(os) : json_null());
	json_object_set_new(detail, "findings", json_integer((json_int_t)nfind));
	json_object_set_new(detail, "advisories", json_integer((json_int_t)json_array_size(now)));
	json_object_set(detail, "new", fresh);
	text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	rc = meta_event_append(m, "scan", repo, d, tag, text, NULL);
	if (rc == 0 && appended)
		*appended = 1;
out:
	free(text);
	json_decref(f);
	json_decref(detail);
	json_decref(fresh);
	json_decref(old);
	json_decref(now);
	return rc;
}

/* The "grade" detail: from, to, date, next_drop_date and the errata earning the new letter. */
static char *grade_detail(char from, char to, int32_t day, const char *report)
{
	json_t *rep = report ? json_loads(report, 0, NULL) : NULL, *d = json_object(), *ids = json_array();
	json_t *errata = json_object_get(rep, "errata"), *next = json_object_get(rep, "next_drop_date");
	char f[2] = {from, 0}, t[2] = {to, 0}, date[16], *out = NULL;

	if (!d || !ids)
		goto out;
	grade_day_format(day, date, sizeof date);
	for (size_t i = 0; i < json_array_size(errata); i++) {
		json_t *e = json_array_get(errata, i);
		const char *g = json_string_value(json_object_get(e, "grade"));
		json_t *id = json_object_get(e, "advisory");
		if (g && g[0] == to && json_is_string(id))
			json_array_append(ids, id);
	}
	json_object_set_new(d, "from", json_string(f));
	json_object_set_new(d, "to", json_string(t));
	json_object_set_new(d, "date", json_string(date));
	json_object_set(d, "next_drop_date", json_is_string(next) ? next : json_null());
	json_object_set(d, "errata", ids);
	out = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(ids);
	json_decref(d);
	json_decref(rep);
	return out;
}

int events_grade_one(const struct grade_rules *r, struct meta *m, const char *repo, const struct digest *d,
		     const char *tag, int32_t day, int *journaled)
{
	const char *status = NULL;
	char letter = 0, prev = 0, *report = NULL, *detail = NULL;
	int32_t prev_day = 0;
	int rc;

	if (journaled)
		*journaled = 0;
	if (!r || !m || !repo || !d)
		return -BERTH_EINVAL;
	pthread_mutex_lock(&grade_lock);
	rc = grading_image(r, m, repo, d, day, NULL, 0, &letter, &status, &report);
	if (rc < 0 || !letter)
		goto out;
	rc = meta_grade_state_get(m, d, &prev, &prev_day);
	if (rc == -BERTH_ENOENT) {
		rc = meta_grade_state_set(m, d, letter, day);
		goto out;
	}
	if (rc < 0 || prev == letter)
		goto out;
	detail = grade_detail(prev, letter, day, report);
	if (!detail) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	/* journal first: a crash before the state is written journals the change again, never loses it */
	rc = meta_event_append(m, "grade", repo, d, tag, detail, NULL);
	if (rc == 0)
		rc = meta_grade_state_set(m, d, letter, day);
	if (rc == 0 && journaled)
		*journaled = 1;
out:
	pthread_mutex_unlock(&grade_lock);
	free(detail);
	free(report);
	return rc;
}

/* Calls fn(ctx, repo, tag, digest) for every tag of every repository, in name order. */
static int tags_walk(struct meta *m, int (*fn)(void *ctx, const char *repo, const char *tag, const struct digest *d),
		     void *ctx)
{
	struct meta_names repos = {0};
	int more = 0, rc = meta_catalog(m, NULL, -1, &repos, &more);

	for (size_t i = 0; rc == 0 && i < repos.n; i++) {
		struct meta_names tags = {0};
		int trc = meta_tags_list(m, repos.v[i], NULL, -1, &tags, &more);
		if (trc == -BERTH_ENOENT)
			continue; /* deleted meanwhile */
		rc = trc;
		for (size_t t = 0; rc == 0 && t < tags.n; t++) {
			struct meta_manifest mf = {0};
			int grc = meta_manifest_get_by_tag(m, repos.v[i], tags.v[t], 0, &mf);
			if (grc == 0)
				rc = fn(ctx, repos.v[i], tags.v[t], &mf.digest);
			else if (grc != -BERTH_ENOENT)
				rc = grc;
			meta_manifest_release(&mf);
		}
		meta_names_release(&tags);
	}
	meta_names_release(&repos);
	return rc;
}

/* Digests already handled in one walk: a sorted array searched, appended in order of first sight. */
struct seen {
	char (*v)[DIGEST_STR_MAX];
	size_t n, cap;
};

static int seen_add(struct seen *s, const struct digest *d)
{
	char k[DIGEST_STR_MAX];
	size_t lo = 0, hi = s->n;

	digest_str(d, k);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->v[mid], k);
		if (c == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *v = realloc(s->v, cap * sizeof *s->v);
		if (!v)
			return -BERTH_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof *s->v);
	memcpy(s->v[lo], k, sizeof k);
	s->n++;
	return 1;
}

struct check_ctx {
	const struct grade_rules *r;
	int32_t day;
	uint64_t journaled;
	struct seen seen;
	struct meta *m;
};

static int check_one(void *ctx, const char *repo, const char *tag, const struct digest *d)
{
	struct check_ctx *c = ctx;
	int j = 0, rc = seen_add(&c->seen, d);

	if (rc <= 0)
		return rc;
	rc = events_grade_one(c->r, c->m, repo, d, tag, c->day, &j);
	c->journaled += (uint64_t)j;
	return rc;
}

int events_grade_check(const struct grade_rules *r, struct meta *m, int32_t day, uint64_t *journaled)
{
	struct check_ctx c = {r, day, 0, {0}, m};
	int rc;

	if (journaled)
		*journaled = 0;
	if (!r || !m)
		return -BERTH_EINVAL;
	rc = tags_walk(m, check_one, &c);
	free(c.seen.v);
	if (journaled)
		*journaled = c.journaled;
	return rc;
}

struct rematch_ctx {
	struct meta *m;
	struct events_change *v;
	size_t n;
	unsigned char *done;
	uint64_t journaled;
};

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const struct events_change *)a)->digest, ((const struct events_change *)b)->digest);
}

static int rematch_one(void *ctx, const char *repo, const char *tag, const struct digest *d)
{
	struct rematch_ctx *c = ctx;
	struct events_change key = {0};
	struct events_change *hit;
	int a = 0, rc;

	digest_str(d, key.digest);
	hit = bsearch(&key, c->v, c->n, sizeof *c->v, change_cmp);
	if (!hit || c->done[hit - c->v])
		return 0;
	c->done[hit - c->v] = 1;
	rc = events_scan_append(c->m, repo, d, tag, "scanned", hit->os, hit->old_ids, hit->findings, &a);
	c->journaled += (uint64_t)a;
	return rc;
}

int events_rematch_journal(struct meta *m, struct events_change *v, size_t n, uint64_t *journaled)
{
	struct rematch_ctx c = {m, v, n, NULL, 0};
	int rc;

	if (journaled)
		*journaled = 0;
	if (n == 0)
		return 0;
	c.done = calloc(n, 1);
	if (!c.done)
		return -BERTH_ENOMEM;
	qsort(v, n, sizeof *v, change_cmp);
	rc = tags_walk(m, rematch_one, &c);
	free(c.done);
	if (journaled)
		*journaled = c.journaled;
	return rc;
}
