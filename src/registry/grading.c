/* grading: grades of stored images, pull policies on grades, and their cache (see grading.h). */
#include "registry/grading.h"

#include <ctype.h>
#include <fnmatch.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "image/manifest.h"
#include "meta/meta.h"

#define GRADING_CACHE 1024 /* direct-mapped slots */

struct grading_rule {
	char *name;
	char **globs;
	size_t nglobs;
	char min_grade;
	int allow_unscanned;
	struct grading_exception *ex;
	size_t nex;
};

struct grading_slot {
	struct digest d;
	int32_t day;
	int rule; /* -1: the plain letter */
	uint64_t epoch;
	int used;
	int rc;
	char letter;
	char why[384];
};

struct grading {
	struct grade_rules rules;
	struct grading_rule *rule;
	size_t nrule;
	atomic_uint_fast64_t epoch;
	pthread_mutex_t lock;
	struct grading_slot *cache;
};

int grading_letter_valid(char c)
{
	return c >= 'A' && c <= 'F';
}

void grading_exception_release(struct grading_exception *e)
{
	free(e->id);
	free(e->reason);
	e->id = e->reason = NULL;
}

int grading_exception_parse(const char *s, struct grading_exception *out, char *why, size_t whyn)
{
	const char *p = s, *id, *u;
	size_t idn;
	char date[16];

	memset(out, 0, sizeof *out);
	while (*p == ' ' || *p == '\t')
		p++;
	id = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	idn = (size_t)(p - id);
	if (idn == 0 || idn > 128) {
		snprintf(why, whyn, "exception '%.80s': no advisory or CVE id", s);
		return -BERTH_EINVAL;
	}
	for (size_t i = 0; i < idn; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("-_.:", id[i])) {
			snprintf(why, whyn, "exception '%.80s': the id has a character that is not allowed", s);
			return -BERTH_EINVAL;
		}
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "until", 5) != 0 || (p[5] != ' ' && p[5] != '\t')) {
		snprintf(why, whyn, "exception '%.80s': expected 'ID until YYYY-MM-DD: reason'", s);
		return -BERTH_EINVAL;
	}
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	u = p;
	while (*p && *p != ':' && *p != ' ' && *p != '\t')
		p++;
	if ((size_t)(p - u) >= sizeof date) {
		snprintf(why, whyn, "exception '%.80s': bad expiry date", s);
		return -BERTH_EINVAL;
	}
	memcpy(date, u, (size_t)(p - u));
	date[p - u] = '\0';
	if (grade_day_parse(date, &out->until_day) < 0) {
		snprintf(why, whyn, "exception '%.80s': bad expiry date '%s' (YYYY-MM-DD)", s, date);
		return -BERTH_EINVAL;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != ':') {
		snprintf(why, whyn, "exception '%.80s': expected ':' before the reason", s);
		return -BERTH_EINVAL;
	}
	if (*p == ':')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	out->id = malloc(idn + 1);
	if (!out->id)
		return -BERTH_ENOMEM;
	memcpy(out->id, id, idn);
	out->id[idn] = '\0';
	out->reason = xstrdup(p);
	return 0;
}

/* ---- the grade of findings ---- */

struct adv {
	const char *id;
	json_t *first; /* the first finding of this advisory (borrowed from the array) */
	json_t *packages;
	struct grade_item item;
	int counted;
	char letter;
	int excepted; /* index + 1 of the exception that removed it */
};

static int adv_cmp(const void *a, const void *b)
{
	const struct adv *x = a, *y = b;

	if (x->letter != y->letter)
		return x->letter > y->letter ? -1 : 1;
	if (x->item.issued_day != y->item.issued_day)
		return x->item.issued_day < y->item.issued_day ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The exception (index + 1) in force on day that names advisory a (its id or one of its CVEs), or 0. */
static int adv_excepted(const struct adv *a, int32_t day, const struct grading_exception *ex, size_t nex)
{
	json_t *cves = json_object_get(a->first, "cves");

	for (size_t i = 0; i < nex; i++) {
		if (day > ex[i].until_day)
			continue;
		if (strcmp(ex[i].id, a->id) == 0)
			return (int)i + 1;
		for (size_t c = 0; c < json_array_size(cves); c++) {
			const char *cv = json_string_value(json_array_get(cves, c));
			if (cv && strcmp(cv, ex[i].id) == 0)
				return (int)i + 1;
		}
	}
	return 0;
}

static json_t *jday(int32_t day)
{
	char s[16];

	grade_day_format(day, s, sizeof s);
	return json_string(s);
}

int grading_report(const struct grade_rules *r, const char *findings, int32_t day, const struct grading_exception *ex,
		   size_t nex, char **out, char *letter)
{
	json_t *arr = NULL, *o = NULL, *errata = NULL, *unk = NULL, *exc = NULL, *fr = NULL;
	struct adv *v = NULL;
	struct grade_item *items = NULL;
	struct grade_result g = {0};
	size_t n = 0, ni = 0;
	int rc = -BERTH_ENOMEM;

	*out = NULL;
	arr = findings ? json_loads(findings, 0, NULL) : json_array();
	if (!json_is_array(arr)) {
		rc = -BERTH_EINVAL;
		goto out;
	}
	v = calloc(json_array_size(arr) + 1, sizeof *v);
	items = calloc(json_array_size(arr) + 1, sizeof *items);
	o = json_object();
	errata = json_array();
	unk = json_array();
	exc = json_array();
	fr = json_array();
	if (!v || !items || !o || !errata || !unk || !exc || !fr)
		goto out;
	/* one entry per advisory: findings come per advisory and package */
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *f = json_array_get(arr, i);
		const char *id = json_string_value(json_object_get(f, "advisory"));
		const char *pkg = json_string_value(json_object_get(f, "package"));
		const char *issued = json_string_value(json_object_get(f, "issued"));
		const char *type = json_string_value(json_object_get(f, "type"));
		char ds[11];
		size_t k;

		if (!id)
			continue;
		for (k = 0; k < n && strcmp(v[k].id, id) != 0; k++)
			;
		if (k == n) {
			v[n].id = id;
			v[n].first = f;
			v[n].packages = json_array();
			v[n].item.id = id;
			v[n].item.sev = grade_sev_parse(json_string_value(json_object_get(f, "severity")));
			v[n].item.security = type && strcmp(type, "security") == 0;
			v[n].item.issued_day = day; /* no date at all: counts from the grading day */
			if (issued && strlen(issued) >= 10) {
				memcpy(ds, issued, 10);
				ds[10] = '\0';
				if (grade_day_parse(ds, &v[n].item.issued_day) < 0)
					v[n].item.issued_day = day;
			}
			n++;
		}
		if (pkg && v[k].packages)
			json_array_append_new(v[k].packages, json_string(pkg));
	}
	for (size_t i = 0; i < n; i++) {
		v[i].excepted = adv_excepted(&v[i], day, ex, nex);
		v[i].letter = v[i].excepted ? 'A' : grade_item_letter(r, &v[i].item, day);
		v[i].counted = !v[i].excepted && v[i].letter != 'A';
		if (!v[i].excepted)
			items[ni++] = v[i].item;
	}
	if (grade_compute(r, items, ni, day, &g) < 0)
		goto out;
	qsort(v, n, sizeof *v, adv_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *e;
		if (v[i].excepted) {
			const struct grading_exception *x = &ex[v[i].excepted - 1];
			e = json_object();
			if (!e)
				goto out;
			json_object_set_new(e, "advisory", json_string(v[i].id));
			json_object_set_new(e, "id", json_string(x->id));
			json_object_set_new(e, "until", jday(x->until_day));
			json_object_set_new(e, "reason", json_string(x->reason ? x->reason : ""));
			json_array_append_new(exc, e);
			continue;
		}
		if (!v[i].counted)
			continue;
		e = json_object();
		if (!e)
			goto out;
		json_object_set_new(e, "advisory", json_string(v[i].id));
		json_object_set_new(e, "severity", json_string(grade_sev_name(v[i].item.sev)));
		json_object_set_new(e, "graded_as",
				    json_string(grade_sev_name(grade_item_effective_sev(r, &v[i].item))));
		json_object_set_new(e, "issued", jday(v[i].item.issued_day));
		json_object_set_new(e, "age_days", json_integer(day - v[i].item.issued_day));
		json_object_set_new(e, "grade", json_stringn(&v[i].letter, 1));
		{
			json_t *cv = json_object_get(v[i].first, "cves");
			json_object_set_new(e, "cves", json_is_array(cv) ? json_incref(cv) : json_array());
		}
		json_object_set(e, "packages", v[i].packages);
		json_array_append_new(errata, e);
		if (v[i].item.sev == GRADE_SEV_UNKNOWN)
			json_array_append_new(unk, json_string(v[i].id));
	}
	for (size_t i = 0; i < g.n_schedule; i++) {
		json_t *s = json_object();
		if (!s)
			goto out;
		json_object_set_new(s, "grade", json_stringn(&g.schedule[i].grade, 1));
		json_object_set_new(s, "start_date", jday(g.schedule[i].start_day));
		json_object_set_new(s, "end_date",
				    g.schedule[i].end_day < 0 ? json_null() : jday(g.schedule[i].end_day));
		json_array_append_new(fr, s);
	}
	json_object_set_new(o, "grade", json_stringn(&g.grade, 1));
	json_object_set_new(o, "date", jday(day));
	json_object_set_new(o, "counted", json_integer((json_int_t)g.counted));
	json_object_set_new(o, "unknown_severity", json_string(grade_unknown_name(r->unknown)));
	json_object_set_new(o, "graded_unknown", unk);
	unk = NULL;
	json_object_set_new(o, "errata", errata);
	errata = NULL;
	json_object_set_new(o, "excepted", exc);
	exc = NULL;
	json_object_set_new(o, "next_drop_date", g.next_drop_day < 0 ? json_null() : jday(g.next_drop_day));
	json_object_set_new(o, "freshness", fr);
	fr = NULL;
	*out = json_dumps(o, JSON_COMPACT);
	if (!*out)
		goto out;
	if (letter)
		*letter = g.grade;
	rc = 0;
out:
	for (size_t i = 0; v && i < n; i++)
		json_decref(v[i].packages);
	free(v);
	free(items);
	grade_result_release(&g);
	json_decref(arr);
	json_decref(o);
	json_decref(errata);
	json_decref(unk);
	json_decref(exc);
	json_decref(fr);
	return rc;
}

/* ---- configuration ---- */

static char **split_lines(const char *v, size_t *n)
{
	char **out = NULL;
	const char *p = v, *e;

	*n = 0;
	while (p && *p) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if (e > p) {
			char *s = malloc((size_t)(e - p) + 1);
			if (!s)
				abort();
			memcpy(s, p, (size_t)(e - p));
			s[e - p] = '\0';
			out = xrealloc(out, (*n + 1) * sizeof(*out));
			out[(*n)++] = s;
		}
		p = *e ? e + 1 : e;
	}
	return out;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rule_release(struct grading_rule *r)
{
	free(r->name);
	strs_free(r->globs, r->nglobs);
	for (size_t i = 0; i < r->nex; i++)
		grading_exception_release(&r->ex[i]);
	free(r->ex);
}

void grading_free(struct grading *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nrule; i++)
		rule_release(&g->rule[i]);
	free(g->rule);
	free(g->cache);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static const char *rule_get(const struct config *c, const char *name, const char *leaf)
{
	char key[512];

	snprintf(key, sizeof key, "policy.grades.%s.%s", name, leaf);
	return config_get(c, key);
}

int grading_load(const struct config *c, struct grading **out, char *why, size_t whyn)
{
	static const char prefix[] = "policy.grades.";
	struct grading *g = calloc(1, sizeof *g);
	const char *v;
	int rc = -BERTH_EINVAL;

	*out = NULL;
	if (!g)
		return -BERTH_ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	g->cache = calloc(GRADING_CACHE, sizeof *g->cache);
	if (!g->cache) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	grade_rules_default(&g->rules);
	v = config_get(c, "grade.critical_days");
	if (v && *v && grade_rules_parse_limits(v, g->rules.crit) < 0) {
		snprintf(why, whyn, "grade.critical_days '%.60s': four non-decreasing day counts, as \"7,30,90,365\"",
			 v);
		goto out;
	}
	v = config_get(c, "grade.important_days");
	if (v && *v && grade_rules_parse_limits(v, g->rules.imp) < 0) {
		snprintf(why, whyn,
			 "grade.important_days '%.60s': four non-decreasing day counts, as \"30,90,365,365\"", v);
		goto out;
	}
	v = config_get(c, "grade.unknown_severity");
	if (v && *v && grade_unknown_parse(v, &g->rules.unknown) < 0) {
		snprintf(why, whyn, "grade.unknown_severity '%.60s': important, critical or ignore", v);
		goto out;
	}
	for (size_t i = 0; i < c->n; i++) {
		const char *k = c->kv[i].key, *dot;
		struct grading_rule *r;
		char name[256];
		int seen = 0;

		if (strncmp(k, prefix, sizeof prefix - 1) != 0)
			continue;
		dot = strchr(k + sizeof prefix - 1, '.');
		if (!dot || dot == k + sizeof prefix - 1 || (size_t)(dot - k) - (sizeof prefix - 1) >= sizeof name) {
			snprintf(why, whyn, "%.200s: expected policy.grades.<rule>.<setting>", k);
			goto out;
		}
		snprintf(name, sizeof name, "%.*s", (int)((size_t)(dot - k) - (sizeof prefix - 1)),
			 k + sizeof prefix - 1);
		if (strcmp(dot + 1, "repositories") && strcmp(dot + 1, "min_grade") && strcmp(dot + 1, "exceptions") &&
		    strcmp(dot + 1, "unscanned")) {
			snprintf(why, whyn, "%.200s: unknown setting (repositories, min_grade, unscanned, exceptions)",
				 k);
			goto out;
		}
		for (size_t j = 0; j < g->nrule; j++)
			if (strcmp(g->rule[j].name, name) == 0)
				seen = 1;
		if (seen)
			continue;
		g->rule = xrealloc(g->rule, (g->nrule + 1) * sizeof *g->rule);
		r = &g->rule[g->nrule++];
		memset(r, 0, sizeof *r);
		r->name = xstrdup(name);
		v = rule_get(c, name, "repositories");
		r->globs = split_lines(v, &r->nglobs);
		if (!r->nglobs) {
			snprintf(why, whyn, "policy.grades.%s.repositories: missing", name);
			goto out;
		}
		v = rule_get(c, name, "min_grade");
		if (!v || strlen(v) != 1 || !grading_letter_valid((char)toupper((unsigned char)v[0]))) {
			snprintf(why, whyn, "policy.grades.%s.min_grade '%.20s': one letter A to F", name, v ? v : "");
			goto out;
		}
		r->min_grade = (char)toupper((unsigned char)v[0]);
		v = rule_get(c, name, "unscanned");
		if (v && strcmp(v, "allow") == 0) {
			r->allow_unscanned = 1;
		} else if (v && strcmp(v, "deny") != 0) {
			snprintf(why, whyn, "policy.grades.%s.unscanned '%.20s': deny or allow", name, v);
			goto out;
		}
		v = rule_get(c, name, "exceptions");
		{
			size_t nl = 0;
			char **lines = split_lines(v, &nl);
			char w[300];
			r->ex = calloc(nl + 1, sizeof *r->ex);
			if (!r->ex) {
				strs_free(lines, nl);
				rc = -BERTH_ENOMEM;
				goto out;
			}
			for (size_t j = 0; j < nl; j++) {
				if (grading_exception_parse(lines[j], &r->ex[r->nex], w, sizeof w) < 0) {
					snprintf(why, whyn, "policy.grades.%s.exceptions: %s", name, w);
					strs_free(lines, nl);
					goto out;
				}
				r->nex++;
			}
			strs_free(lines, nl);
		}
	}
	*out = g;
	g = NULL;
	rc = 0;
out:
	grading_free(g);
	return rc;
}

const struct grade_rules *grading_rules(const struct grading *g)
{
	return &g->rules;
}

size_t grading_rule_count(const struct grading *g)
{
	return g ? g->nrule : 0;
}

void grading_invalidate(struct grading *g)
{
	if (g)
		atomic_fetch_add(&g->epoch, 1);
}

/* ---- images ---- */

static int letter_worse(char a, char b)
{
	return a > b;
}

/* One image manifest: its letter and report. */
static int image_one(const struct grade_rules *r, struct meta *m, const struct digest *d, int32_t day,
		     const struct grading_exception *ex, size_t nex, char *letter, const char **status, char **report)
{
	struct meta_scan s;
	int rc = meta_scan_get(m, d, &s);

	*letter = 0;
	if (report)
		*report = NULL;
	if (rc == -BERTH_ENOENT || (rc == 0 && meta_scan_queued(m, d) == 1 && !s.findings)) {
		if (rc == 0)
			meta_scan_release(&s);
		*status = "queued";
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!s.status || strcmp(s.status, "scanned") != 0) {
		*status = s.status && strcmp(s.status, "unsupported") == 0 ? "unsupported" : "failed";
		meta_scan_release(&s);
		return 0;
	}
	if (s.generation < 0 && !s.findings) {
		*status = "queued";
		meta_scan_release(&s);
		return 0;
	}
	*status = "scanned";
	{
		char *text = NULL;
		rc = grading_report(r, s.findings, day, ex, nex, &text, letter);
		if (rc == 0 && report)
			*report = text;
		else
			free(text);
	}
	meta_scan_release(&s);
	return rc;
}

int grading_image(const struct grade_rules *r, struct meta *m, const char *repo, const struct digest *d, int32_t day,
		  const struct grading_exception *ex, size_t nex, char *letter, const char **status, char **report)
{
	struct meta_manifest mf = {0};
	json_t *body = NULL, *children;
	int rc, any_queued = 0, any_scanned = 0;

	*letter = 0;
	*status = "queued";
	if (report)
		*report = NULL;
	rc = meta_manifest_get(m, repo, d, 0, &mf);
	if (rc < 0)
		return rc;
	if (strcmp(mf.media_type, MT_OCI_INDEX) != 0 && strcmp(mf.media_type, MT_DOCKER_LIST) != 0) {
		meta_manifest_release(&mf);
		return image_one(r, m, d, day, ex, nex, letter, status, report);
	}
	meta_manifest_release(&mf);
	rc = meta_manifest_get(m, repo, d, 1, &mf);
	if (rc < 0)
		return rc;
	body = json_loadb(mf.body, mf.size, 0, NULL);
	children = json_object_get(body, "manifests");
	for (size_t i = 0; i < json_array_size(children); i++) {
		const char *dt = json_string_value(json_object_get(json_array_get(children, i), "digest"));
		struct digest cd;
		char l = 0, *rep = NULL;
		const char *st = NULL;

		if (!dt || digest_parse_cstr(dt, &cd) < 0)
			continue;
		rc = image_one(r, m, &cd, day, ex, nex, &l, &st, report ? &rep : NULL);
		if (rc < 0)
			goto out;
		if (strcmp(st, "queued") == 0)
			any_queued = 1;
		if (l) {
			any_scanned = 1;
			if (!*letter || letter_worse(l, *letter)) {
				*letter = l;
				if (report) {
					free(*report);
					*report = rep;
					rep = NULL;
				}
			}
		}
		free(rep);
	}
	/* an index grades as its worst platform; while any platform waits it has no grade yet */
	if (any_queued) {
		*letter = 0;
		*status = "queued";
		if (report) {
			free(*report);
			*report = NULL;
		}
	} else {
		*status = any_scanned ? "scanned" : "unsupported";
	}
	rc = 0;
out:
	json_decref(body);
	meta_manifest_release(&mf);
	return rc;
}

/* The cache slot of (d, day, rule). */
static struct grading_slot *slot_of(struct grading *g, const struct digest *d, int32_t day, int rule)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = d->hex; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ (uint64_t)(uint32_t)day) * 1099511628211ull;
	h = (h ^ (uint64_t)(uint32_t)rule) * 1099511628211ull;
	return &g->cache[h % GRADING_CACHE];
}

static int slot_hit(const struct grading_slot *s, const struct digest *d, int32_t day, int rule, uint64_t epoch)
{
	return s->used && s->day == day && s->rule == rule && s->epoch == epoch && s->d.alg == d->alg &&
	       strcmp(s->d.hex, d->hex) == 0;
}

int grading_image_cached(struct grading *g, struct meta *m, const char *repo, const struct digest *d, int32_t day,
			 char *letter)
{
	uint64_t epoch = atomic_load(&g->epoch);
	struct grading_slot *s = slot_of(g, d, day, -1);
	const char *st;
	int rc;

	pthread_mutex_lock(&g->lock);
	if (slot_hit(s, d, day, -1, epoch)) {
		*letter = s->letter;
		pthread_mutex_unlock(&g->lock);
		return 0;
	}
	pthread_mutex_unlock(&g->lock);
	rc = grading_image(&g->rules, m, repo, d, day, NULL, 0, letter, &st, NULL);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g->lock);
	*s = (struct grading_slot){.d = *d, .day = day, .rule = -1, .epoch = epoch, .used = 1, .letter = *letter};
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int rule_matches(const struct grading_rule *r, const char *repo)
{
	for (size_t i = 0; i < r->nglobs; i++)
		if (fnmatch(r->globs[i], repo, 0) == 0)
			return 1;
	return 0;
}

/* Evaluates rule ri for d uncached: 0 or -BERTH_EDENIED with why. */
static int rule_check(struct grading *g, int ri, struct meta *m, const char *repo, const struct digest *d, int32_t day,
		      char *why, size_t whyn)
{
	const struct grading_rule *r = &g->rule[ri];
	char letter = 0, *report = NULL;
	const char *st = NULL;
	json_t *j = NULL, *errata;
	struct buf b;
	int rc;

	rc = grading_image(&g->rules, m, repo, d, day, r->ex, r->nex, &letter, &st, &report);
	if (rc < 0)
		return rc;
	if (!letter) {
		free(report);
		if (r->allow_unscanned || strcmp(st, "unsupported") == 0)
			return 0;
		snprintf(why, whyn, "policy grades.%s requires grade %c or better: the image is %s", r->name,
			 r->min_grade, strcmp(st, "queued") == 0 ? "not scanned yet" : "failed to scan");
		return -BERTH_EDENIED;
	}
	if (!letter_worse(letter, r->min_grade)) {
		free(report);
		return 0;
	}
	j = json_loads(report, 0, NULL);
	free(report);
	errata = json_object_get(j, "errata");
	buf_init(&b, whyn);
	/* name the errata that earn the failing letters, worst and oldest first (the report's order) */
	for (size_t i = 0, shown = 0; i < json_array_size(errata) && shown < 5; i++) {
		json_t *e = json_array_get(errata, i);
		const char *el = json_string_value(json_object_get(e, "grade"));
		if (!el || !letter_worse(el[0], r->min_grade))
			continue;
		buf_addf(&b, "%s%s (%s, issued %s, %" JSON_INTEGER_FORMAT " days)", shown ? ", " : "",
			 json_string_value(json_object_get(e, "advisory")),
			 json_string_value(json_object_get(e, "graded_as")),
			 json_string_value(json_object_get(e, "issued")),
			 json_integer_value(json_object_get(e, "age_days")));
		shown++;
	}
	snprintf(why, whyn, "policy grades.%s requires grade %c or better: the image grades %c because of %s", r->name,
		 r->min_grade, letter, b.len ? b.ptr : "its errata");
	buf_release(&b);
	json_decref(j);
	return -BERTH_EDENIED;
}

int grading_pull_check(struct grading *g, struct meta *m, const char *repo, const struct digest *d, int32_t day,
		       char *why, size_t whyn)
{
	if (!g)
		return 0;
	for (size_t i = 0; i < g->nrule; i++) {
		uint64_t epoch;
		struct grading_slot *s;
		int rc;

		if (!rule_matches(&g->rule[i], repo))
			continue;
		epoch = atomic_load(&g->epoch);
		s = slot_of(g, d, day, (int)i);
		pthread_mutex_lock(&g->lock);
		if (slot_hit(s, d, day, (int)i, epoch)) {
			rc = s->rc;
			if (rc < 0)
				snprintf(why, whyn, "%s", s->why);
			pthread_mutex_unlock(&g->lock);
		} else {
			pthread_mutex_unlock(&g->lock);
			rc = rule_check(g, (int)i, m, repo, d, day, why, whyn);
			if (rc < 0 && rc != -BERTH_EDENIED)
				return rc;
			pthread_mutex_lock(&g->lock);
			*s = (struct grading_slot){
			    .d = *d, .day = day, .rule = (int)i, .epoch = epoch, .used = 1, .rc = rc};
			if (rc < 0)
				snprintf(s->why, sizeof s->why, "%s", why);
			pthread_mutex_unlock(&g->lock);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- text for a terminal (berth grade) ---- */

char *grading_table(const char *grade_json)
{
	json_t *g = json_loads(grade_json, 0, NULL), *errata, *fr, *exc;
	struct buf b;

	if (!json_is_object(g) || !json_string_value(json_object_get(g, "grade"))) {
		json_decref(g);
		return NULL;
	}
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "grade %s on %s (%" JSON_INTEGER_FORMAT " errata counted; unknown severity graded as %s)\n",
		 json_string_value(json_object_get(g, "grade")), json_string_value(json_object_get(g, "date")),
		 json_integer_value(json_object_get(g, "counted")),
		 json_string_value(json_object_get(g, "unknown_severity")));
	errata = json_object_get(g, "errata");
	if (json_array_size(errata))
		buf_addf(&b, "\n%-22s %-10s %-10s %-10s %5s  %s\n", "ADVISORY", "SEVERITY", "GRADED AS", "ISSUED",
			 "AGE", "GRADE");
	for (size_t i = 0; i < json_array_size(errata); i++) {
		json_t *e = json_array_get(errata, i);
		buf_addf(
		    &b, "%-22s %-10s %-10s %-10s %5" JSON_INTEGER_FORMAT "  %s\n",
		    json_string_value(json_object_get(e, "advisory")),
		    json_string_value(json_object_get(e, "severity")),
		    json_string_value(json_object_get(e, "graded_as")), json_string_value(json_object_get(e, "issued")),
		    json_integer_value(json_object_get(e, "age_days")), json_string_value(json_object_get(e, "grade")));
	}
	exc = json_object_get(g, "excepted");
	for (size_t i = 0; i < json_array_size(exc); i++) {
		json_t *e = json_array_get(exc, i);
		buf_addf(&b, "excepted %s (by %s until %s: %s)\n", json_string_value(json_object_get(e, "advisory")),
			 json_string_value(json_object_get(e, "id")), json_string_value(json_object_get(e, "until")),
			 json_string_value(json_object_get(e, "reason")));
	}
	fr = json_object_get(g, "freshness");
	buf_addf(&b, "\nfreshness:\n");
	for (size_t i = 0; i < json_array_size(fr); i++) {
		json_t *s = json_array_get(fr, i);
		const char *end = json_string_value(json_object_get(s, "end_date"));
		buf_addf(&b, "  %s  %s .. %s\n", json_string_value(json_object_get(s, "grade")),
			 json_string_value(json_object_get(s, "start_date")), end ? end : "");
	}
	json_decref(g);
	return buf_detach(&b, NULL);
}

struct score_row {
	const char *repo, *tag, *grade, *drop, *digest, *status;
};

static int row_by_name(const void *a, const void *b)
{
	const struct score_row *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

static int row_by_grade(const void *a, const void *b)
{
	const struct score_row *x = a, *y = b;
	char gx = x->grade ? x->grade[0] : 'Z', gy = y->grade ? y->grade[0] : 'Z';

	/* worst first; ungraded last */
	if (gx != gy)
		return gx == 'Z' ? 1 : gy == 'Z' ? -1 : (gx > gy ? -1 : 1);
	return row_by_name(a, b);
}

char *grading_scores_table(const char *doc_json, int sort_by_grade)
{
	json_t *d = json_loads(doc_json, 0, NULL), *repos = json_object_get(d, "repositories");
	struct score_row *rows = NULL;
	size_t n = 0;
	struct buf b;

	if (!json_is_array(repos)) {
		json_decref(d);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(repos); i++) {
		json_t *r = json_array_get(repos, i), *tags = json_object_get(r, "tags");
		for (size_t t = 0; t < json_array_size(tags); t++) {
			json_t *x = json_array_get(tags, t);
			rows = xrealloc(rows, (n + 1) * sizeof *rows);
			rows[n++] = (struct score_row){json_string_value(json_object_get(r, "name")),
						       json_string_value(json_object_get(x, "tag")),
						       json_string_value(json_object_get(x, "grade")),
						       json_string_value(json_object_get(x, "next_drop_date")),
						       json_string_value(json_object_get(x, "digest")),
						       json_string_value(json_object_get(x, "status"))};
			if (!rows[n - 1].repo || !rows[n - 1].tag || !rows[n - 1].digest || !rows[n - 1].status)
				n--;
		}
	}
	if (n)
		qsort(rows, n, sizeof *rows, sort_by_grade ? row_by_grade : row_by_name);
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%-40s %-20s %-6s %-11s %s\n", "REPOSITORY", "TAG", "GRADE", "NEXT DROP", "DIGEST");
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%-40s %-20s %-6s %-11s %.19s\n", rows[i].repo, rows[i].tag,
			 rows[i].grade ? rows[i].grade : rows[i].status, rows[i].drop ? rows[i].drop : "-",
			 rows[i].digest);
	buf_addf(&b, "%zu tags on %s, worst %s\n", n, json_string_value(json_object_get(d, "date")),
		 json_string_value(json_object_get(d, "worst")) ? json_string_value(json_object_get(d, "worst")) : "-");
	free(rows);
	json_decref(d);
	return buf_detach(&b, NULL);
}

int grading_report_of_scan(const struct grade_rules *r, const char *scan_json, int32_t day, char **out, char *letter)
{
	json_t *s = json_loads(scan_json, 0, NULL), *f = json_object_get(s, "findings");
	char *text;
	int rc;

	*out = NULL;
	if (!json_is_array(f)) {
		json_decref(s);
		return -BERTH_EINVAL;
	}
	text = json_dumps(f, JSON_COMPACT);
	json_decref(s);
	if (!text)
		return -BERTH_ENOMEM;
	rc = grading_report(r, text, day, NULL, 0, out, letter);
	free(text);
	return rc;
}

int grading_report_extract(const char *scan_json, char **out)
{
	json_t *s = json_loads(scan_json, 0, NULL), *g = json_object_get(s, "grade");

	*out = NULL;
	if (!json_is_object(g)) {
		json_decref(s);
		return -BERTH_ENOENT;
	}
	*out = json_dumps(g, JSON_COMPACT);
	json_decref(s);
	return *out ? 0 : -BERTH_ENOMEM;
}
