/* events: advisory id sets, "scan" rows only when the id set changes, the grade_state table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/err.h"
#include "harness.h"
#include "meta/meta.h"
#include "registry/events.h"
#include "registry/scanner.h"

struct tdb {
	char dir[64], path[128], uri[160];
};

static struct meta *tdb_open(struct tdb *t)
{
	struct meta *m = NULL;

	snprintf(t->dir, sizeof(t->dir), "/tmp/berth-events-XXXXXX");
	CHECK(mkdtemp(t->dir) != NULL);
	snprintf(t->path, sizeof(t->path), "%s/meta.db", t->dir);
	snprintf(t->uri, sizeof(t->uri), "sqlite:%s", t->path);
	CHECK_EQ(meta_open(t->uri, &m), 0);
	return m;
}

static void tdb_close(struct tdb *t, struct meta *m)
{
	char p[192];
	const char *sfx[] = {"", "-wal", "-shm"};

	meta_free(m);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static struct digest dg(char c)
{
	char s[80];
	struct digest d;

	snprintf(s, sizeof s, "sha256:");
	memset(s + 7, c, 64);
	s[71] = 0;
	CHECK_EQ(digest_parse_cstr(s, &d), 0);
	return d;
}

static size_t rows(struct meta *m, struct meta_event **v)
{
	struct meta_event_filter f = {0, NULL, NULL, -1};
	size_t n = 0;

	CHECK_EQ(meta_events_list(m, &f, v, &n, NULL), 0);
	return n;
}

TEST(advisory_ids_sorted_distinct)
{
	char *s = NULL;

	CHECK_EQ(events_advisory_ids("[{\"advisory\":\"DSA-2\",\"package\":\"a\"},{\"advisory\":\"DSA-1\"},"
				     "{\"advisory\":\"DSA-2\",\"package\":\"b\"},{\"package\":\"no id\"},7]",
				     &s),
		 0);
	CHECK_STR(s, "[\"DSA-1\",\"DSA-2\"]");
	free(s);
	CHECK_EQ(events_advisory_ids(NULL, &s), 0);
	CHECK_STR(s, "[]");
	free(s);
	CHECK_EQ(events_advisory_ids("", &s), 0);
	CHECK_STR(s, "[]");
	free(s);
	CHECK_EQ(events_advisory_ids("{\"advisory\":\"DSA-1\"}", &s), -BERTH_EINVAL);
	CHECK(s == NULL);
	CHECK_EQ(events_advisory_ids("[{\"advisory\":", &s), -BERTH_EINVAL);
	CHECK(s == NULL);
}

static void erratum_fill(struct meta_erratum *e, const char *id, const char *pkg, const char *fixed)
{
	memset(e, 0, sizeof *e);
	e->id = strdup(id);
	e->pkgs = calloc(1, sizeof *e->pkgs);
	CHECK(e->id && e->pkgs);
	e->npkgs = 1;
	e->pkgs[0].release = strdup("debian:12");
	e->pkgs[0].package = strdup(pkg);
	e->pkgs[0].status = META_PKG_FIXED;
	e->pkgs[0].fixed = strdup(fixed);
}

/* The ids the matcher hands out are the text events_advisory_ids() makes of its findings. */
TEST(findings_ids_equal_parsed_ids)
{
	struct meta_erratum *v = calloc(3, sizeof *v);
	struct scanner_errata er;
	struct scan_pkgs pk;
	char *f = NULL, *ids = NULL, *parsed = NULL;

	CHECK(v != NULL);
	erratum_fill(&v[0], "DSA-9", "openssl", "3.0.15-1");
	erratum_fill(&v[1], "DSA-2", "openssl", "3.0.14-1");
	erratum_fill(&v[2], "DSA-5", "zlib", "1:1.2.0");
	CHECK_EQ(scanner_errata_build(v, 3, "debian:12", &er), 0);
	scan_pkgs_init(&pk);
	CHECK_EQ(scan_pkgs_add(&pk, SCAN_ECO_DPKG, "libssl3", 7, "3.0.11-1", 8, "amd64", 5, "openssl", 7, "", 0), 0);
	CHECK_EQ(scan_pkgs_add(&pk, SCAN_ECO_DPKG, "openssl", 7, "3.0.11-1", 8, "amd64", 5, "openssl", 7, "", 0), 0);
	CHECK_EQ(scan_pkgs_add(&pk, SCAN_ECO_DPKG, "zlib1g", 6, "1:1.3-1", 7, "amd64", 5, "zlib", 4, "", 0), 0);
	CHECK_EQ(scanner_findings_make(&pk, NULL, "debian:12", &er, NULL, 0, &f, &ids), 0);
	CHECK_STR(ids, "[\"DSA-2\",\"DSA-9\"]");
	CHECK_EQ(events_advisory_ids(f, &parsed), 0);
	CHECK_STR(parsed, ids);
	free(f);
	free(ids);
	free(parsed);
	/* no hits: an empty set, in the same text */
	CHECK_EQ(scanner_findings_make(&pk, NULL, "debian:11", &er, NULL, 0, &f, &ids), 0);
	CHECK_STR(f, "[]");
	CHECK_STR(ids, "[]");
	free(f);
	free(ids);
	scan_pkgs_release(&pk);
	scanner_errata_release(&er);
}

TEST(scan_row_only_when_ids_change)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct digest d = dg('a');
	struct meta_event *v = NULL;
	const char *f1 = "[{\"advisory\":\"DSA-1\",\"package\":\"a\"},{\"advisory\":\"DSA-1\",\"package\":\"b\"}]";
	const char *f2 = "[{\"advisory\":\"DSA-1\",\"package\":\"a\"},{\"advisory\":\"DSA-3\",\"package\":\"a\"},"
			 "{\"advisory\":\"DSA-0\",\"package\":\"c\"}]";
	int a = -1;

	/* nothing before, nothing now: no row */
	CHECK_EQ(events_scan_append(m, "r", &d, NULL, "scanned", "debian:12", NULL, "[]", &a), 0);
	CHECK_EQ(a, 0);
	/* first findings: every id is new */
	CHECK_EQ(events_scan_append(m, "r", &d, "v1", "scanned", "debian:12", NULL, f1, &a), 0);
	CHECK_EQ(a, 1);
	/* same id set with other packages: no row */
	CHECK_EQ(events_scan_append(m, "r", &d, "v1", "scanned", "debian:12", "[\"DSA-1\"]",
				    "[{\"advisory\":\"DSA-1\",\"package\":\"z\"}]", &a),
		 0);
	CHECK_EQ(a, 0);
	/* grown: only the ids not seen before are new */
	CHECK_EQ(events_scan_append(m, "r", &d, NULL, "scanned", NULL, "[\"DSA-1\",\"DSA-2\"]", f2, &a), 0);
	CHECK_EQ(a, 1);
	/* shrunk to nothing (a fix): a row with no new ids */
	CHECK_EQ(
	    events_scan_append(m, "r", &d, NULL, "scanned", "debian:12", "[\"DSA-0\",\"DSA-1\",\"DSA-3\"]", NULL, &a),
	    0);
	CHECK_EQ(a, 1);
	/* hostile: findings that are not an array, old ids that are not JSON; nothing written */
	CHECK_EQ(events_scan_append(m, "r", &d, NULL, "scanned", NULL, NULL, "{\"advisory\":\"X\"}", &a),
		 -BERTH_EINVAL);
	CHECK_EQ(a, 0);
	CHECK_EQ(events_scan_append(m, "r", &d, NULL, "scanned", NULL, "[", f1, &a), -BERTH_EINVAL);
	CHECK_EQ(a, 0);

	size_t n = rows(m, &v);
	CHECK_EQ(n, 3);
	CHECK_STR(v[0].action, "scan");
	CHECK_STR(v[0].tag, "v1");
	CHECK_STR(v[0].detail, "{\"advisories\":1,\"findings\":2,\"new\":[\"DSA-1\"],\"os\":\"debian:12\","
			       "\"status\":\"scanned\"}");
	CHECK(v[1].tag == NULL);
	CHECK_STR(v[1].detail, "{\"advisories\":3,\"findings\":3,\"new\":[\"DSA-0\",\"DSA-3\"],\"os\":null,"
			       "\"status\":\"scanned\"}");
	CHECK_STR(v[2].detail, "{\"advisories\":0,\"findings\":0,\"new\":[],\"os\":\"debian:12\","
			       "\"status\":\"scanned\"}");
	meta_events_free(v, n);
	tdb_close(&t, m);
}

TEST(grade_state_round_trip)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct digest d = dg('b'), e = dg('c');
	char g = 'x';
	int32_t day = -1;

	CHECK_EQ(meta_grade_state_get(m, &d, &g, &day), -BERTH_ENOENT);
	CHECK_EQ(meta_grade_state_set(m, &d, 'G', 1), -BERTH_EINVAL);
	CHECK_EQ(meta_grade_state_set(m, &d, 0, 1), -BERTH_EINVAL);
	CHECK_EQ(meta_grade_state_set(m, &d, 'B', 19144), 0);
	CHECK_EQ(meta_grade_state_get(m, &d, &g, &day), 0);
	CHECK_EQ(g, 'B');
	CHECK_EQ(day, 19144);
	CHECK_EQ(meta_grade_state_set(m, &d, 'F', 19200), 0);
	CHECK_EQ(meta_grade_state_get(m, &d, &g, &day), 0);
	CHECK_EQ(g, 'F');
	CHECK_EQ(day, 19200);
	CHECK_EQ(meta_grade_state_get(m, &e, &g, &day), -BERTH_ENOENT);
	tdb_close(&t, m);
}

TEST(grade_check_of_empty_registry)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct grade_rules r;
	uint64_t j = 99;

	grade_rules_default(&r);
	CHECK_EQ(events_grade_check(&r, m, 19144, &j), 0);
	CHECK_EQ(j, 0);
	CHECK_EQ(events_grade_check(NULL, m, 19144, &j), -BERTH_EINVAL);
	tdb_close(&t, m);
}

static const struct test tests[] = {
    T(advisory_ids_sorted_distinct), T(findings_ids_equal_parsed_ids), T(scan_row_only_when_ids_change),
    T(grade_state_round_trip),       T(grade_check_of_empty_registry), {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
