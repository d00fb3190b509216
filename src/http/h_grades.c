/* h_grades: repository scores.
 *
 *   GET /api/v1/grades[?repo=NAME][&at=YYYY-MM-DD][&unknown_severity=important|critical|ignore]
 *       {"date", "unknown_severity", "worst", "counts": {"A": n, ..., "F": n, "none": n},
 *        "repositories": [{"name", "worst", "counts", "tags": [{"tag", "digest", "status", "grade",
 *        "counted", "next_drop_date"}]}]}
 *   grade null (and counted 0) for a tag whose image is not graded (status queued, unsupported or
 *   failed); "none" counts those. worst is the worst letter (null when nothing is graded).
 *
 * Also the gauges of /metrics: berth_images_by_grade{grade="A".."F"|"none"}, one per repository tag,
 * computed on scrape through the grading cache (so a scrape re-reads findings only after a change). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "http/internal.h"
#include "registry/grading.h"

/* counts[0..5] A..F, counts[6] ungraded */
static json_t *counts_json(const uint64_t c[7])
{
	json_t *o = json_object();
	char k[2] = {0};

	for (int i = 0; i < 6; i++) {
		k[0] = (char)('A' + i);
		json_object_set_new(o, k, json_integer((json_int_t)c[i]));
	}
	json_object_set_new(o, "none", json_integer((json_int_t)c[6]));
	return o;
}

static json_t *worst_json(char w)
{
	return w ? json_stringn(&w, 1) : json_null();
}

/* One repository's score; adds to total[] and *tworst. NULL on a storage error. */
static json_t *repo_score(struct meta *m, const char *repo, const struct grade_rules *r, int32_t day, uint64_t total[7],
			  char *tworst)
{
	struct meta_names tags = {0};
	json_t *o = json_object(), *list = json_array();
	uint64_t c[7] = {0};
	char worst = 0;
	int more = 0;

	if (!o || !list || meta_tags_list(m, repo, NULL, -1, &tags, &more) < 0)
		goto fail;
	for (size_t i = 0; i < tags.n; i++) {
		struct meta_manifest mf = {0};
		json_t *t, *rep = NULL;
		char letter = 0, *report = NULL, ds[DIGEST_STR_MAX];
		const char *st = NULL;

		if (meta_manifest_get_by_tag(m, repo, tags.v[i], 0, &mf) < 0)
			continue; /* moved or deleted meanwhile */
		if (grading_image(r, m, repo, &mf.digest, day, NULL, 0, &letter, &st, &report) < 0) {
			meta_manifest_release(&mf);
			goto fail;
		}
		rep = report ? json_loads(report, 0, NULL) : NULL;
		free(report);
		t = json_object();
		json_object_set_new(t, "tag", json_string(tags.v[i]));
		json_object_set_new(t, "digest", json_string(digest_str(&mf.digest, ds)));
		json_object_set_new(t, "status", json_string(st));
		json_object_set_new(t, "grade", worst_json(letter));
		json_object_set(t, "counted", rep ? json_object_get(rep, "counted") : json_integer(0));
		json_object_set(t, "next_drop_date", rep ? json_object_get(rep, "next_drop_date") : json_null());
		json_array_append_new(list, t);
		json_decref(rep);
		meta_manifest_release(&mf);
		c[letter ? letter - 'A' : 6]++;
		total[letter ? letter - 'A' : 6]++;
		if (letter && letter > worst)
			worst = letter;
	}
	if (worst && worst > *tworst)
		*tworst = worst;
	json_object_set_new(o, "name", json_string(repo));
	json_object_set_new(o, "worst", worst_json(worst));
	json_object_set_new(o, "counts", counts_json(c));
	json_object_set_new(o, "tags", list);
	meta_names_release(&tags);
	return o;
fail:
	meta_names_release(&tags);
	json_decref(o);
	json_decref(list);
	return NULL;
}

void h_grades(struct req *q)
{
	struct meta *m = registry_meta(q->srv->reg);
	struct meta_names repos = {0};
	struct grade_rules rules;
	const char *repo = req_query(q, "repo");
	json_t *doc = NULL, *list = NULL;
	uint64_t total[7] = {0};
	char worst = 0, *body = NULL, date[16];
	int32_t day;
	int more = 0;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (h_grade_params(q, &rules, &day) < 0)
		return;
	if (repo) {
		if (!registry_name_valid(repo)) {
			answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
			return;
		}
		if (meta_repo_exists(m, repo) != 1) {
			answer_errorf(q, REG_NAME_UNKNOWN, 404, "repository name not known to registry");
			return;
		}
		repos.v = calloc(1, sizeof *repos.v);
		if (!repos.v || !(repos.v[0] = strdup(repo)))
			goto oom;
		repos.n = 1;
	} else if (meta_catalog(m, NULL, -1, &repos, &more) < 0) {
		answer_errorf(q, REG_INTERNAL, 500, "cannot list repositories");
		return;
	}
	doc = json_object();
	list = json_array();
	if (!doc || !list)
		goto oom;
	for (size_t i = 0; i < repos.n; i++) {
		json_t *one = repo_score(m, repos.v[i], &rules, day, total, &worst);
		if (!one) {
			answer_errorf(q, REG_INTERNAL, 500, "cannot read the grades of %.200s", repos.v[i]);
			goto out;
		}
		json_array_append_new(list, one);
	}
	grade_day_format(day, date, sizeof date);
	json_object_set_new(doc, "date", json_string(date));
	json_object_set_new(doc, "unknown_severity", json_string(grade_unknown_name(rules.unknown)));
	json_object_set_new(doc, "worst", worst_json(worst));
	json_object_set_new(doc, "counts", counts_json(total));
	json_object_set_new(doc, "repositories", list);
	list = NULL;
	body = json_dumps(doc, JSON_COMPACT);
	if (!body)
		goto oom;
	answer_json(q, 200, body, strlen(body), "application/json; charset=utf-8", NULL);
	goto out;
oom:
	answer_errorf(q, REG_INTERNAL, 500, "out of memory");
out:
	json_decref(list);
	json_decref(doc);
	meta_names_release(&repos);
}

int h_grades_gauges(struct registry *reg, struct buf *b)
{
	struct grading *g = registry_grading(reg);
	struct meta *m = registry_meta(reg);
	struct meta_names repos = {0};
	uint64_t c[7] = {0};
	int32_t day = grade_day_today();
	int more = 0, rc;

	if (!g)
		return 0;
	rc = meta_catalog(m, NULL, -1, &repos, &more);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < repos.n; i++) {
		struct meta_names tags = {0};
		if (meta_tags_list(m, repos.v[i], NULL, -1, &tags, &more) < 0)
			continue;
		for (size_t t = 0; t < tags.n; t++) {
			struct meta_manifest mf = {0};
			char letter = 0;
			if (meta_manifest_get_by_tag(m, repos.v[i], tags.v[t], 0, &mf) < 0)
				continue;
			if (grading_image_cached(g, m, repos.v[i], &mf.digest, day, &letter) == 0)
				c[letter ? letter - 'A' : 6]++;
			meta_manifest_release(&mf);
		}
		meta_names_release(&tags);
	}
	meta_names_release(&repos);
	buf_addf(
	    b, "# HELP berth_images_by_grade Repository tags by the current grade of their image (none: not graded).\n"
	       "# TYPE berth_images_by_grade gauge\n");
	for (int i = 0; i < 7; i++)
		buf_addf(b, "berth_images_by_grade{grade=\"%s\"} %llu\n",
			 i < 6 ? (const char[][2]){"A", "B", "C", "D", "E", "F"}[i] : "none", (unsigned long long)c[i]);
	return 0;
}
