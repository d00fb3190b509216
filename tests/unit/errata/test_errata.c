/* Unit tests for errata: the three shipped formats and generic OSV on hand-written and hostile
 * input, the real advisory data beside the repository (../shared/data/advisories; a missing folder
 * fails the tests), release keys, the content hash, and the errata store in meta (idempotent
 * puts, generation, affecting queries, lists, feed state). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "errata/errata.h"
#include "errata/internal.h"
#include "harness.h"
#include "meta/meta.h"

/* ---------------------------------------------------------------- helpers */

/* The advisory data: $BERTH_ADVISORY_DATA, else shared/data/advisories beside the repository (its
 * parent, or the parent's parent for a worktree under wt/), else the copy in tests/data/advisories.
 * Fails the test when absent. */
static const char *data_dir(void)
{
	static char path[4096];
	const char *env = getenv("BERTH_ADVISORY_DATA");
	const char *cands[] = {BERTH_SOURCE_ROOT "/../shared/data/advisories",
			       BERTH_SOURCE_ROOT "/../../shared/data/advisories",
			       BERTH_SOURCE_ROOT "/tests/data/advisories"};
	struct stat sb;

	if (env) {
		CHECK(stat(env, &sb) == 0 && S_ISDIR(sb.st_mode));
		return env;
	}
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (stat(cands[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			snprintf(path, sizeof(path), "%s", cands[i]);
			return path;
		}
	FAIL_AT("advisory data not found beside the repository (%s); set BERTH_ADVISORY_DATA", cands[0]);
	return NULL;
}

/* Reads a whole file; aborts the test when it cannot. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long len;

	if (!f)
		FAIL_AT("cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	CHECK(p != NULL);
	CHECK_EQ(fread(p, 1, (size_t)len, f), len);
	p[len] = '\0';
	fclose(f);
	*n = (size_t)len;
	return p;
}

/* Parses a C string with the given parser; returns its result, the error in why. */
typedef int (*parse_fn)(const char *, const char *, size_t, struct errata_set *, char *, size_t);
static int parse_str(parse_fn fn, const char *text, struct errata_set *s, char *why, size_t whyn)
{
	why[0] = '\0';
	return fn("t.txt", text, strlen(text), s, why, whyn);
}

/* The advisory with id in s (fails the test when absent). */
static const struct meta_erratum *find(const struct errata_set *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	FAIL_AT("advisory %s not in the set", id);
	return NULL;
}

/* Compares one affected entry with expected values (NULL strings mean "absent"). */
static void check_pkg(const struct meta_erratum_pkg *p, const char *release, const char *package, int binary,
		      enum meta_pkg_status status, const char *introduced, const char *fixed, const char *last)
{
	CHECK_STR(p->release, release);
	CHECK_STR(p->package, package);
	CHECK_EQ(p->binary, binary);
	CHECK_EQ(p->status, status);
	if (introduced)
		CHECK_STR(p->introduced, introduced);
	else
		CHECK(p->introduced == NULL);
	if (fixed)
		CHECK_STR(p->fixed, fixed);
	else
		CHECK(p->fixed == NULL);
	if (last)
		CHECK_STR(p->last_affected, last);
	else
		CHECK(p->last_affected == NULL);
}

/* A temp directory with a database. */
struct tdb {
	char dir[64];
	char uri[128];
};

static struct meta *tdb_open(struct tdb *t)
{
	struct meta *m = NULL;

	snprintf(t->dir, sizeof(t->dir), "/tmp/berth-errata-XXXXXX");
	CHECK(mkdtemp(t->dir) != NULL);
	snprintf(t->uri, sizeof(t->uri), "sqlite:%s/berth.db", t->dir);
	CHECK_EQ(meta_open(t->uri, &m), 0);
	return m;
}

static void tdb_close(struct tdb *t, struct meta *m)
{
	char cmd[160];

	meta_free(m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	CHECK_EQ(system(cmd), 0);
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* ---------------------------------------------------------------- Debian lists */

static const char deb_sample[] = "[31 Dec 2022] DSA-5310-1 ruby-image-processing - security update\n"
				 "\t{CVE-2022-24720}\n"
				 "\t[bullseye] - ruby-image-processing 1.10.3-1+deb11u1\n"
				 "[13 Mar 2022] DSA-5085-2 expat - regression update\n"
				 "\t[buster] - expat 2.2.6-2+deb10u4\n"
				 "\t[bullseye] - expat 2.2.10-2+deb11u3\n"
				 "[02 Jul 2002] DSA-100-1 mailman - several\n"
				 "        {CVE-2002-0001  CVE-2002-0002 DTSA-12-1}\n"
				 "\t[woody] - mailman <not-affected> (Vulnerable code not present)\n"
				 "\t[sarge] - mailman 2.1.5-8sarge1 (bug #123; medium)\n"
				 "\t[etch] - mailman <unfixed>\n"
				 "\t[lenny] - mailman <end-of-life>\n"
				 "\tNOTE: a note that is ignored\n"
				 "\n"
				 "[18 Apr 2018] DSA-4205-1 jessie end-of-life\n"
				 "        NOTE: end of security support for jessie\n";

TEST(debian_sample_entries)
{
	struct errata_set s;
	const struct meta_erratum *e;
	char why[512];

	errata_set_init(&s);
	CHECK_EQ(parse_str(errata_parse_debian, deb_sample, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 4);
	e = find(&s, "DSA-5310-1");
	CHECK_STR(e->source, "debian-tracker");
	CHECK_STR(e->summary, "ruby-image-processing - security update");
	CHECK_EQ(e->type, META_ERRATUM_SECURITY);
	CHECK_EQ(e->severity, META_SEV_UNKNOWN);
	CHECK_EQ(e->issued_known, 1);
	CHECK_EQ(e->issued, 1672444800); /* 2022-12-31T00:00:00Z */
	CHECK_EQ(e->ncves, 1);
	CHECK_STR(e->cves[0], "CVE-2022-24720");
	CHECK_EQ(e->npkgs, 1);
	check_pkg(&e->pkgs[0], "debian:11", "ruby-image-processing", 0, META_PKG_FIXED, NULL, "1.10.3-1+deb11u1", NULL);
	CHECK_EQ(strlen(e->hash), 64);

	e = find(&s, "DSA-5085-2");
	CHECK_EQ(e->type, META_ERRATUM_BUGFIX);
	CHECK_EQ(e->ncves, 0);
	CHECK_EQ(e->npkgs, 2);
	check_pkg(&e->pkgs[0], "debian:10", "expat", 0, META_PKG_FIXED, NULL, "2.2.6-2+deb10u4", NULL);
	check_pkg(&e->pkgs[1], "debian:11", "expat", 0, META_PKG_FIXED, NULL, "2.2.10-2+deb11u3", NULL);

	e = find(&s, "DSA-100-1");
	CHECK_EQ(e->ncves, 2);
	CHECK_STR(e->cves[0], "CVE-2002-0001");
	CHECK_STR(e->cves[1], "CVE-2002-0002");
	CHECK_EQ(e->nrefs, 1);
	CHECK_STR(e->refs[0], "DTSA-12-1");
	CHECK_EQ(e->npkgs, 4);
	/* sorted by release key: debian:3.0, debian:3.1, debian:4, debian:5 */
	check_pkg(&e->pkgs[0], "debian:3.0", "mailman", 0, META_PKG_NOT_AFFECTED, NULL, NULL, NULL);
	check_pkg(&e->pkgs[1], "debian:3.1", "mailman", 0, META_PKG_FIXED, NULL, "2.1.5-8sarge1", NULL);
	check_pkg(&e->pkgs[2], "debian:4", "mailman", 0, META_PKG_UNFIXED, NULL, NULL, NULL);
	check_pkg(&e->pkgs[3], "debian:5", "mailman", 0, META_PKG_END_OF_LIFE, NULL, NULL, NULL);

	e = find(&s, "DSA-4205-1");
	CHECK_STR(e->summary, "jessie end-of-life");
	CHECK_EQ(e->npkgs, 0);
	CHECK_EQ(s.warnings, 0);
	errata_set_release(&s);
}

TEST(debian_unknown_codename_is_kept_with_a_warning)
{
	struct errata_set s;
	char why[512];

	errata_set_init(&s);
	CHECK_EQ(parse_str(errata_parse_debian,
			   "[01 Jan 2030] DSA-9999-1 foo - security update\n\t[zebra] - foo 1.0-1\n", &s, why,
			   sizeof(why)),
		 0);
	CHECK_EQ(s.n, 1);
	CHECK_STR(s.v[0].pkgs[0].release, "debian:zebra");
	CHECK_EQ(s.warnings, 1);
	CHECK_STR(s.warning, "t.txt:2: unknown Debian release 'zebra'");
	errata_set_release(&s);
}

/* Each malformed input, the line the error must name, and the set must stay empty. */
TEST(debian_malformed_inputs_name_the_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"garbage\n", "t.txt:1: unexpected line"},
	    {"\t[bullseye] - foo 1.0\n", "t.txt:1: indented line before the first entry"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] - foo\n", "t.txt:2: fix line for foo without a version"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] foo 1.0\n", "t.txt:2: fix line without ' - '"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] - foo <fixed-later>\n", "t.txt:2: unknown marker"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[Bullseye] - foo 1.0\n", "t.txt:2: malformed release 'Bullseye'"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] - foo 1.0 extra\n", "t.txt:2: unexpected text after"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t{CVE-2022-1\n", "t.txt:2: CVE list without its closing"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t{CVE-2022-1234 $$$}\n", "t.txt:2: malformed identifier '$$$'"},
	    {"[31 Dek 2022] DSA-1-1 foo - x\n", "t.txt:1: malformed month"},
	    {"[31 Dec 22] DSA-1-1 foo - x\n", "t.txt:1: malformed year"},
	    {"[31 Dec 2022]DSA-1-1 foo\n", "t.txt:1: no space after the date"},
	    {"[31 Dec 2022] DSA/1 foo\n", "t.txt:1: malformed advisory id"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\tsomething else\n", "t.txt:2: unexpected line in entry DSA-1-1"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n[30 Dec 2022] DSA-1-1 foo - y\n",
	     "t.txt:2: entry DSA-1-1 appears twice (first at line 1)"},
	    {"\n\n", "t.txt:2: no advisories"},
	    {"[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] - f$o 1.0\n", "t.txt:2: malformed package name"},
	};
	char why[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errata_set s;
		errata_set_init(&s);
		CHECK_EQ(parse_str(errata_parse_debian, cases[i].text, &s, why, sizeof(why)), -BERTH_EINVAL);
		if (strncmp(why, cases[i].want, strlen(cases[i].want)) != 0)
			FAIL_AT("case %zu: error \"%s\" does not start with \"%s\"", i, why, cases[i].want);
		CHECK_EQ(s.n, 0);
		errata_set_release(&s);
	}
}

TEST(debian_nul_byte_rejected)
{
	const char text[] = "[31 Dec 2022] DSA-1-1 foo - x\n\t[bullseye] - foo 1.0\0x\n";
	struct errata_set s;
	char why[256];

	errata_set_init(&s);
	CHECK_EQ(errata_parse_debian("n", text, sizeof(text) - 1, &s, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_STR(why, "n:2: NUL byte");
	CHECK_EQ(s.n, 0);
}

/* The shipped DSA and DLA lists: every entry, with the counts their README gives. */
TEST(debian_shipped_lists)
{
	char path[4200], why[512];
	struct errata_set s;
	size_t n, bullseye = 0, markers[4] = {0}, no_cves = 0;
	char *p;

	snprintf(path, sizeof(path), "%s/debian-security-tracker/DSA-list", data_dir());
	p = slurp(path, &n);
	errata_set_init(&s);
	CHECK_EQ(errata_parse_debian(path, p, n, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 5335);
	CHECK_EQ(s.warnings, 0);
	for (size_t i = 0; i < s.n; i++) {
		CHECK_EQ(s.v[i].severity, META_SEV_UNKNOWN);
		no_cves += s.v[i].ncves == 0;
		for (size_t k = 0; k < s.v[i].npkgs; k++) {
			bullseye += strcmp(s.v[i].pkgs[k].release, "debian:11") == 0;
			markers[s.v[i].pkgs[k].status]++;
		}
	}
	CHECK_EQ(bullseye, 339); /* README: 339 bullseye fix lines */
	CHECK_EQ(markers[META_PKG_END_OF_LIFE], 4);
	CHECK(markers[META_PKG_NOT_AFFECTED] > 40);
	CHECK(no_cves > 0);
	/* newest and oldest entries */
	CHECK_STR(find(&s, "DSA-5310-1")->pkgs[0].fixed, "1.10.3-1+deb11u1");
	CHECK_EQ(find(&s, "DSA-5310-1")->issued, 1672444800);
	errata_set_release(&s);
	free(p);

	snprintf(path, sizeof(path), "%s/debian-security-tracker/DLA-list", data_dir());
	p = slurp(path, &n);
	CHECK_EQ(errata_parse_debian(path, p, n, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 3408);
	check_pkg(&find(&s, "DLA-3259-1")->pkgs[0], "debian:10", "libjettison-java", 0, META_PKG_FIXED, NULL,
		  "1.5.3-1~deb10u1", NULL);
	errata_set_release(&s);
	free(p);
}

/* ---------------------------------------------------------------- OSV */

static const char osv_alma[] =
    "{\"id\": \"ALSA-2024:0003\", \"summary\": \"Important: thunderbird security update\","
    " \"details\": \"text\", \"published\": \"2024-01-02T00:00:00Z\", \"modified\": \"2024-01-04T14:33:51Z\","
    " \"related\": [\"CVE-2023-6856\", \"CVE-2023-50761\", \"CVE-2023-6856\"],"
    " \"references\": [{\"url\": \"https://access.redhat.com/errata/RHSA-2024:0003\", \"type\": \"ADVISORY\"}],"
    " \"affected\": [{\"package\": {\"ecosystem\": \"AlmaLinux:8\", \"name\": \"thunderbird\"},"
    "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": "
    "\"115.6.0-1.el8_9.alma\"}]}]}]}";

TEST(osv_almalinux_advisory)
{
	struct errata_set s;
	const struct meta_erratum *e;
	char why[512];

	errata_set_init(&s);
	CHECK_EQ(parse_str(errata_parse_osv, osv_alma, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 1);
	e = &s.v[0];
	CHECK_STR(e->id, "ALSA-2024:0003");
	CHECK_STR(e->source, "osv");
	CHECK_EQ(e->type, META_ERRATUM_SECURITY);
	CHECK_EQ(e->severity, META_SEV_IMPORTANT);
	CHECK_EQ(e->issued_known, 1);
	CHECK_EQ(e->issued, 1704153600);
	CHECK_EQ(e->modified, 1704378831);
	CHECK_EQ(e->ncves, 2); /* sorted, duplicate dropped */
	CHECK_STR(e->cves[0], "CVE-2023-50761");
	CHECK_STR(e->cves[1], "CVE-2023-6856");
	CHECK_EQ(e->nrefs, 1);
	CHECK_STR(e->refs[0], "https://access.redhat.com/errata/RHSA-2024:0003");
	CHECK_STR(e->details, "text");
	CHECK_EQ(e->npkgs, 1);
	check_pkg(&e->pkgs[0], "almalinux:8", "thunderbird", 1, META_PKG_FIXED, NULL, "115.6.0-1.el8_9.alma", NULL);
	errata_set_release(&s);
}

TEST(osv_generic_ranges_types_and_ecosystems)
{
	const char *text =
	    "[{\"id\": \"DSA-5000-1\", \"published\": \"2021-11-01T10:00:00+02:00\", \"upstream\": [\"CVE-2021-1111\"],"
	    "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"foo\"},"
	    "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"1.0\"}, {\"fixed\": \"1.2\"},"
	    "     {\"introduced\": \"2.0\"}, {\"last_affected\": \"2.3\"}, {\"introduced\": \"3.0\"}]}]},"
	    "   {\"package\": {\"ecosystem\": \"PyPI\", \"name\": \"foo\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\","
	    "     \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"9\"}]}]},"
	    "   {\"package\": {\"ecosystem\": \"Ubuntu:22.04:LTS\", \"name\": \"foo\"}, \"ranges\": [{\"type\": "
	    "\"GIT\","
	    "     \"repo\": \"x\", \"events\": [{\"introduced\": \"0\"}]}]}]},"
	    " {\"id\": \"DEBIAN-CVE-2023-4567\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
	    "\"z\"},"
	    "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}]}]}]},"
	    " {\"id\": \"PYSEC-2021-1\", \"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", \"name\": \"x\"}}]},"
	    " {\"id\": \"RHBA-2024:1\", \"summary\": \"bug fix\", \"severity\": [{\"type\": \"CVSS_V3\","
	    "   \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}]},"
	    " {\"id\": \"RLEA-2024:2\", \"severity\": [{\"type\": \"Ubuntu\", \"score\": \"medium\"},"
	    "   {\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
	    "  \"withdrawn\": \"2024-02-01T00:00:00Z\", \"database_specific\": {\"x\": 1}},"
	    " {\"id\": \"USN-1-1\", \"aliases\": [\"GHSA-aaaa-bbbb-cccc\"], \"database_specific\": {\"severity\": "
	    "\"HIGH\"},"
	    "  \"affected\": [{\"package\": {\"ecosystem\": \"Ubuntu:Pro:18.04:LTS\", \"name\": \"bar\"},"
	    "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": "
	    "\"1:2.0-1\"}]}]},"
	    "   {\"package\": {\"ecosystem\": \"Alpine:v3.16\", \"name\": \"bar\"},"
	    "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": "
	    "\"2.0-r1\"}]}]}]}]";
	struct errata_set s;
	const struct meta_erratum *e;
	char why[512];

	errata_set_init(&s);
	CHECK_EQ(parse_str(errata_parse_osv, text, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 5);
	CHECK_EQ(s.skipped, 1); /* PYSEC: nothing for a distribution */
	e = find(&s, "DEBIAN-CVE-2023-4567");
	CHECK_EQ(e->ncves, 1);
	CHECK_STR(e->cves[0], "CVE-2023-4567");
	check_pkg(&e->pkgs[0], "debian:12", "z", 0, META_PKG_UNFIXED, NULL, NULL, NULL);
	e = find(&s, "DSA-5000-1");
	CHECK_EQ(e->issued, 1635753600); /* 10:00+02:00 is 08:00Z */
	CHECK_EQ(e->severity, META_SEV_UNKNOWN);
	CHECK_EQ(e->ncves, 1);
	CHECK_EQ(e->npkgs, 3);
	check_pkg(&e->pkgs[0], "debian:11", "foo", 0, META_PKG_FIXED, "1.0", "1.2", NULL);
	check_pkg(&e->pkgs[1], "debian:11", "foo", 0, META_PKG_UNFIXED, "2.0", NULL, "2.3");
	check_pkg(&e->pkgs[2], "debian:11", "foo", 0, META_PKG_UNFIXED, "3.0", NULL, NULL);
	e = find(&s, "RHBA-2024:1");
	CHECK_EQ(e->type, META_ERRATUM_BUGFIX);
	CHECK_EQ(e->severity, META_SEV_CRITICAL); /* CVSS 9.8 */
	CHECK_EQ(e->issued_known, 0);
	CHECK_EQ(e->npkgs, 0);
	e = find(&s, "RLEA-2024:2");
	CHECK_EQ(e->type, META_ERRATUM_ENHANCEMENT);
	CHECK_EQ(e->severity, META_SEV_MODERATE); /* the Ubuntu word beats CVSS */
	CHECK_EQ(e->withdrawn, 1706745600);
	e = find(&s, "USN-1-1");
	CHECK_EQ(e->severity, META_SEV_IMPORTANT);
	CHECK_EQ(e->nrefs, 1);
	CHECK_STR(e->refs[0], "GHSA-aaaa-bbbb-cccc");
	CHECK_EQ(e->npkgs, 2);
	check_pkg(&e->pkgs[0], "alpine:3.16", "bar", 0, META_PKG_FIXED, NULL, "2.0-r1", NULL);
	check_pkg(&e->pkgs[1], "ubuntu-pro:18.04", "bar", 0, META_PKG_FIXED, NULL, "1:2.0-1", NULL);
	errata_set_release(&s);
}

TEST(osv_malformed_inputs_name_the_entry)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"{\"id\": \"X-1\",\n \"summary\": }", "t.txt:2: invalid JSON"},
	    {"{\"summary\": \"x\"}", "t.txt: entry #1: no id"},
	    {"[{\"id\": \"A-1\"}, {\"id\": 7}]", "t.txt: entry #2: \"id\" is not a string"},
	    {"{\"id\": \"A B\"}", "t.txt: entry #1: malformed id"},
	    {"{\"id\": \"A-1\", \"published\": \"yesterday\"}", "t.txt: entry A-1: \"published\" is not an RFC 3339"},
	    {"{\"id\": \"A-1\", \"published\": \"2024-02-30T00:00:00Z\"}", "t.txt: entry A-1: \"published\""},
	    {"{\"id\": \"A-1\", \"affected\": {}}", "t.txt: entry A-1: \"affected\" is not an array"},
	    {"{\"id\": \"A-1\", \"affected\": [{\"ranges\": []}]}", "t.txt: entry A-1: affected[0] has no package"},
	    {"{\"id\": \"A-1\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"a b\"}}]}",
	     "t.txt: entry A-1: affected[0]: malformed package name"},
	    {"{\"id\": \"A-1\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"a\"},"
	     " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\", \"fixed\": \"1\"}]}]}]}",
	     "t.txt: entry A-1: affected[0]: event 0 is not an object with one member"},
	    {"{\"id\": \"A-1\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"a\"},"
	     " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"fixed\": \"1 2\"}]}]}]}",
	     "t.txt: entry A-1: affected[0]: malformed fixed version"},
	    {"{\"id\": \"A-1\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"a\"},"
	     " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"broken\": \"1\"}]}]}]}",
	     "t.txt: entry A-1: affected[0]: unknown event"},
	    {"{\"id\": \"A-1\", \"id\": \"A-2\"}", "t.txt:1: invalid JSON: duplicate object key"},
	    {"[{\"id\": \"A-1\"}, 5]", "t.txt: entry #2: not a JSON object"},
	};
	char why[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errata_set s;
		errata_set_init(&s);
		CHECK_EQ(parse_str(errata_parse_osv, cases[i].text, &s, why, sizeof(why)), -BERTH_EINVAL);
		if (strncmp(why, cases[i].want, strlen(cases[i].want)) != 0)
			FAIL_AT("case %zu: error \"%s\" does not start with \"%s\"", i, why, cases[i].want);
		CHECK_EQ(s.n, 0);
		errata_set_release(&s);
	}
}

/* Every shipped AlmaLinux file parses, with the README's severity counts. */
TEST(osv_shipped_almalinux)
{
	static const struct {
		const char *dir;
		size_t n, sev[5];
	} want[] = {
	    {"almalinux8", 363, {0, 16, 189, 157, 1}},
	    {"almalinux9", 427, {0, 20, 235, 171, 1}},
	};
	char dir[4200], path[4800], why[512];

	for (size_t w = 0; w < 2; w++) {
		struct errata_set s;
		size_t sev[5] = {0}, files = 0;
		FILE *ls;
		char line[512], cmd[4400];

		snprintf(dir, sizeof(dir), "%s/almalinux-osv/%s", data_dir(), want[w].dir);
		snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
		ls = popen(cmd, "r");
		CHECK(ls != NULL);
		errata_set_init(&s);
		while (fgets(line, sizeof(line), ls)) {
			size_t n;
			char *p;
			line[strcspn(line, "\n")] = '\0';
			if (!strstr(line, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, line);
			p = slurp(path, &n);
			if (errata_parse_osv(path, p, n, &s, why, sizeof(why)) != 0)
				FAIL_AT("%s", why);
			free(p);
			files++;
		}
		pclose(ls);
		CHECK_EQ(files, want[w].n);
		CHECK_EQ(s.n, want[w].n);
		for (size_t i = 0; i < s.n; i++) {
			sev[s.v[i].severity]++;
			CHECK(s.v[i].npkgs > 0);
			CHECK_EQ(s.v[i].pkgs[0].binary, 1);
			CHECK_EQ(s.v[i].issued_known, 1);
		}
		for (int k = 0; k < 5; k++)
			CHECK_EQ(sev[k], want[w].sev[k]);
		errata_set_release(&s);
	}
}

/* ---------------------------------------------------------------- secdb */

static const char secdb_yaml[] = "---\n"
				 "distroversion: v3.11\n"
				 "reponame: main\n"
				 "archs:\n  - x86_64\n"
				 "packages:\n"
				 "  - pkg:\n"
				 "      name: xen\n"
				 "      secfixes:\n"
				 "        4.13.0-r1:\n"
				 "          - CVE-2018-8897 XSA-260\n"
				 "          - CVE_2019-2426\n"
				 "          - CVE-?\?\?\?-?\?\?\?\?  XSA-295\n"
				 "          - CVE-2019-15167 (VRRP)\n"
				 "        0:\n"
				 "          - CVE-2017-0001\n"
				 "  - pkg:\n"
				 "      name: nofix\n";

static const char secdb_json[] =
    "{\"distroversion\": \"v3.11\", \"reponame\": \"main\", \"packages\": [{\"pkg\": {\"name\": \"xen\","
    " \"secfixes\": {\"4.13.0-r1\": [\"CVE-2018-8897 XSA-260\", \"CVE_2019-2426\", \"CVE-?\?\?\?-?\?\?\?\?  XSA-295\","
    " \"CVE-2019-15167 (VRRP)\"], \"0\": [\"CVE-2017-0001\"]}}}, {\"pkg\": {\"name\": \"nofix\"}}]}";

TEST(secdb_yaml_and_json_agree)
{
	struct errata_set y, j;
	const struct meta_erratum *e;
	char why[512];

	errata_set_init(&y);
	errata_set_init(&j);
	CHECK_EQ(parse_str(errata_parse_secdb, secdb_yaml, &y, why, sizeof(why)), 0);
	CHECK_EQ(parse_str(errata_parse_secdb, secdb_json, &j, why, sizeof(why)), 0);
	CHECK_EQ(y.n, 2);
	CHECK_EQ(j.n, 2);
	e = find(&y, "ALPINE-v3.11-xen-4.13.0-r1");
	CHECK_STR(e->source, "alpine-secdb");
	CHECK_EQ(e->issued_known, 0);
	CHECK_EQ(e->severity, META_SEV_UNKNOWN);
	CHECK_EQ(e->ncves, 3);
	CHECK_STR(e->cves[0], "CVE-2018-8897");
	CHECK_STR(e->cves[1], "CVE-2019-15167");
	CHECK_STR(e->cves[2], "CVE-2019-2426");
	CHECK_EQ(e->nrefs, 2);
	CHECK_STR(e->refs[0], "XSA-260");
	CHECK_STR(e->refs[1], "XSA-295");
	check_pkg(&e->pkgs[0], "alpine:3.11", "xen", 0, META_PKG_FIXED, NULL, "4.13.0-r1", NULL);
	CHECK_STR(e->hash, find(&j, "ALPINE-v3.11-xen-4.13.0-r1")->hash);
	e = find(&y, "ALPINE-v3.11-xen-0");
	check_pkg(&e->pkgs[0], "alpine:3.11", "xen", 0, META_PKG_NOT_AFFECTED, NULL, NULL, NULL);
	CHECK_STR(e->hash, find(&j, "ALPINE-v3.11-xen-0")->hash);
	errata_set_release(&y);
	errata_set_release(&j);
}

TEST(secdb_malformed_inputs)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"distroversion: v3.11\npackages:\n  - pkg:\n    name: [\n", "t.txt:5: invalid YAML"},
	    {"reponame: main\n", "t.txt: no distroversion"},
	    {"distroversion: 3.11\n", "t.txt: distroversion \"3.11\" is not vX.Y or edge"},
	    {"distroversion: v3.11\npackages: 5\n", "t.txt: packages is not a list"},
	    {"distroversion: v3.11\npackages:\n  - name: x\n", "t.txt: packages[0] has no pkg mapping"},
	    {"distroversion: v3.11\npackages:\n  - pkg:\n      name: a b\n", "t.txt: packages[0] has no valid name"},
	    {"distroversion: v3.11\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1 2: []\n",
	     "t.txt: package a: malformed version"},
	    {"distroversion: v3.11\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: x\n",
	     "t.txt: package a version 1.0-r0: the fixes are not a list"},
	    {"distroversion: v3.11\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0:\n          - "
	     "[x]\n",
	     "t.txt: package a version 1.0-r0: item 1 is not a string"},
	    {"distroversion: v3.11\ndistroversion: v3.12\n", "t.txt:2: key \"distroversion\" appears twice"},
	    {"distroversion: v3.11\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: []\n"
	     "  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: []\n",
	     "t.txt: ALPINE-v3.11-a-1.0-r0 is listed twice"},
	    {"- a\n- b\n", "t.txt: the top level is not a mapping"},
	    {"{\"distroversion\": \"v3.11\", \"packages\": [}", "t.txt:1: invalid JSON"},
	    /* flow nesting is refused before libyaml, whose parser is quadratic in it */
	    {"distroversion: v3.11\npackages: "
	     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]\n",
	     "t.txt:2: YAML nested too deeply"},
	    /* alias expansion: each level doubles; bounded, not exponential */
	    {"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
	     "t.txt:"},
	};
	char why[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errata_set s;
		errata_set_init(&s);
		CHECK_EQ(parse_str(errata_parse_secdb, cases[i].text, &s, why, sizeof(why)), -BERTH_EINVAL);
		if (strncmp(why, cases[i].want, strlen(cases[i].want)) != 0)
			FAIL_AT("case %zu: error \"%s\" does not start with \"%s\"", i, why, cases[i].want);
		CHECK_EQ(s.n, 0);
		errata_set_release(&s);
	}
}

TEST(secdb_shipped_files)
{
	static const struct {
		const char *file;
		size_t fixes;
	} want[] = {
	    {"v3.10/main.yaml", 460},
	    {"v3.10/community.yaml", 203},
	    {"v3.11/main.yaml", 502},
	    {"v3.11/community.yaml", 239},
	};
	char path[4200], why[512];

	for (size_t w = 0; w < 4; w++) {
		struct errata_set s;
		size_t n;
		char *p;
		snprintf(path, sizeof(path), "%s/alpine-secdb/%s", data_dir(), want[w].file);
		p = slurp(path, &n);
		errata_set_init(&s);
		if (errata_parse_secdb(path, p, n, &s, why, sizeof(why)) != 0)
			FAIL_AT("%s", why);
		CHECK_EQ(s.n, want[w].fixes);
		CHECK_STR(s.v[0].pkgs[0].release, w < 2 ? "alpine:3.10" : "alpine:3.11");
		errata_set_release(&s);
		free(p);
	}
}

/* ---------------------------------------------------------------- model */

TEST(format_sniffing)
{
	CHECK_EQ(errata_format_sniff("[31 Dec 2022] DSA-1-1 x\n", 24), ERRATA_FORMAT_DEBIAN);
	CHECK_EQ(errata_format_sniff("  {\"id\": \"x\"}", 14), ERRATA_FORMAT_OSV);
	CHECK_EQ(errata_format_sniff("[{\"id\": 1}]", 11), ERRATA_FORMAT_OSV);
	CHECK_EQ(errata_format_sniff("{\"distroversion\": \"v3.1\"}", 25), ERRATA_FORMAT_SECDB);
	CHECK_EQ(errata_format_sniff("---\ndistroversion: v3", 21), ERRATA_FORMAT_SECDB);
	CHECK_EQ(errata_format_sniff("distroversion: v3.11", 20), ERRATA_FORMAT_SECDB);
	CHECK_EQ(errata_format_sniff("hello", 5), ERRATA_FORMAT_AUTO);
	CHECK_EQ(errata_format_sniff("", 0), ERRATA_FORMAT_AUTO);
}

TEST(release_keys)
{
	static const struct {
		const char *in, *want;
	} deb[] = {{"woody", "debian:3.0"}, {"sarge", "debian:3.1"},   {"etch", "debian:4"},
		   {"squeeze", "debian:6"}, {"bullseye", "debian:11"}, {"bookworm", "debian:12"},
		   {"trixie", "debian:13"}};
	static const struct {
		const char *in, *want;
		int binary;
	} osv[] = {{"Debian:11", "debian:11", 0},
		   {"Debian:3.1", "debian:3.1", 0},
		   {"Ubuntu:22.04:LTS", "ubuntu:22.04", 0},
		   {"Ubuntu:24.10", "ubuntu:24.10", 0},
		   {"Ubuntu:Pro:18.04:LTS", "ubuntu-pro:18.04", 0},
		   {"Alpine:v3.16", "alpine:3.16", 0},
		   {"Alpine:edge", "alpine:edge", 0},
		   {"AlmaLinux:8", "almalinux:8", 1},
		   {"AlmaLinux:9.4", "almalinux:9", 1},
		   {"Rocky Linux:9", "rocky:9", 1}};
	static const char *const unsupported[] = {"PyPI",
						  "npm",
						  "Debian",
						  "Debian:",
						  "SUSE:Linux Enterprise 15",
						  "Red Hat:enterprise_linux:8::appstream",
						  "Alpine:3.16",
						  "Go",
						  "Ubuntu:Pro",
						  "Ubuntu:Pro:",
						  "Ubuntu:Pro:LTS"};
	static const struct {
		const char *id, *ver, *want;
	} os[] = {{"debian", "11", "debian:11"},       {"debian", "3.1", "debian:3.1"},
		  {"almalinux", "8.9", "almalinux:8"}, {"alpine", "3.11.6", "alpine:3.11"},
		  {"ubuntu", "22.04", "ubuntu:22.04"}, {"rocky", "9.3", "rocky:9"},
		  {"Fedora", "39", "fedora:39"}};
	char out[64];
	int binary = -1;

	for (size_t i = 0; i < sizeof(deb) / sizeof(deb[0]); i++) {
		CHECK_EQ(errata_release_debian(deb[i].in, out, sizeof(out)), 0);
		CHECK_STR(out, deb[i].want);
	}
	CHECK_EQ(errata_release_debian("sid", out, sizeof(out)), -BERTH_ENOENT);
	CHECK_EQ(errata_release_debian("bullseye", out, 5), -BERTH_ETOOBIG);
	for (size_t i = 0; i < sizeof(osv) / sizeof(osv[0]); i++) {
		if (errata_release_osv(osv[i].in, out, sizeof(out), &binary) != 0)
			FAIL_AT("ecosystem %s not mapped", osv[i].in);
		CHECK_STR(out, osv[i].want);
		CHECK_EQ(binary, osv[i].binary);
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (errata_release_osv(unsupported[i], out, sizeof(out), &binary) != -BERTH_EUNSUPPORTED)
			FAIL_AT("ecosystem %s should be unsupported", unsupported[i]);
	for (size_t i = 0; i < sizeof(os) / sizeof(os[0]); i++) {
		CHECK_EQ(errata_release_os(os[i].id, os[i].ver, out, sizeof(out)), 0);
		CHECK_STR(out, os[i].want);
	}
	CHECK_EQ(errata_release_os("debian", "", out, sizeof(out)), -BERTH_EINVAL);
}

TEST(cve_ids_dates_cvss)
{
	char cve[32];
	int64_t t = 0;

	CHECK_EQ(errata__cve("CVE-2021-44228", 14, cve), 1);
	CHECK_STR(cve, "CVE-2021-44228");
	CHECK_EQ(errata__cve("cve_2019-2426", 13, cve), 1);
	CHECK_STR(cve, "CVE-2019-2426");
	CHECK_EQ(errata__cve("CVE-?\?\?\?-?\?\?\?\?", 14, cve), 0);
	CHECK_EQ(errata__cve("CVE-2019-123", 12, cve), 0);
	CHECK_EQ(errata__cve("CVE-2019-1234x", 14, cve), 0);
	CHECK_EQ(errata__time_parse("2024-01-02T00:00:00Z", &t), 0);
	CHECK_EQ(t, 1704153600);
	CHECK_EQ(errata__time_parse("2024-01-02T03:04:05.123456Z", &t), 0);
	CHECK_EQ(t, 1704164645);
	CHECK_EQ(errata__time_parse("2024-01-02", &t), 0);
	CHECK_EQ(t, 1704153600);
	CHECK_EQ(errata__time_parse("2024-01-02T00:00:00-01:30", &t), 0);
	CHECK_EQ(t, 1704153600 + 5400);
	CHECK_EQ(errata__time_parse("2024-13-02", &t), -BERTH_EINVAL);
	CHECK_EQ(errata__time_parse("2023-02-29", &t), -BERTH_EINVAL);
	CHECK_EQ(errata__time_parse("2024-01-02T00:00:00", &t), -BERTH_EINVAL);
	CHECK_EQ(errata__time_parse("2024-01-02T00:00:00Zjunk", &t), -BERTH_EINVAL);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") * 10 + 0.5), 98);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") * 10 + 0.5), 100);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N") * 10 + 0.5), 55);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N") * 10 + 0.5), 31);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N") * 10 + 0.5), 64);
	CHECK(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N") > 9.0);
	CHECK(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H") < 0);
	CHECK(errata__cvss3_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") < 0);
	CHECK(errata__cvss3_score("CVSS:2.0/AV:N") < 0);
	CHECK_EQ((int)(errata__cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N") * 10), 0);
}

/* The hash ignores the order a source lists things in and sees every fact. */
TEST(hash_is_canonical)
{
	struct meta_erratum a = {0}, b = {0};
	char h[65];

	a.id = strdup("X-1");
	a.source = strdup("osv");
	CHECK_EQ(errata__add_cve(&a, "CVE-2020-0002"), 0);
	CHECK_EQ(errata__add_cve(&a, "CVE-2020-0001"), 0);
	CHECK_EQ(errata__add_pkg(&a, "debian:11", "b", 0, META_PKG_FIXED, NULL, "2", NULL), 0);
	CHECK_EQ(errata__add_pkg(&a, "debian:10", "a", 0, META_PKG_FIXED, NULL, "1", NULL), 0);
	b.id = strdup("X-1");
	b.source = strdup("osv");
	CHECK_EQ(errata__add_cve(&b, "CVE-2020-0001"), 0);
	CHECK_EQ(errata__add_cve(&b, "CVE-2020-0002"), 0);
	CHECK_EQ(errata__add_cve(&b, "CVE-2020-0001"), 0);
	CHECK_EQ(errata__add_pkg(&b, "debian:10", "a", 0, META_PKG_FIXED, NULL, "1", NULL), 0);
	CHECK_EQ(errata__add_pkg(&b, "debian:11", "b", 0, META_PKG_FIXED, NULL, "2", NULL), 0);
	CHECK_EQ(errata__add_pkg(&b, "debian:11", "b", 0, META_PKG_FIXED, NULL, "2", NULL), 0);
	errata_finish(&a);
	errata_finish(&b);
	CHECK_STR(a.hash, b.hash);
	CHECK_EQ(b.npkgs, 2);
	CHECK_EQ(b.ncves, 2);
	CHECK_STR(a.pkgs[0].release, "debian:10");
	memcpy(h, a.hash, sizeof(h));
	free(b.pkgs[1].fixed);
	b.pkgs[1].fixed = strdup("2.1");
	errata_finish(&b);
	CHECK(strcmp(h, b.hash) != 0);
	free(b.pkgs[1].fixed);
	b.pkgs[1].fixed = strdup("2");
	b.severity = META_SEV_LOW;
	errata_finish(&b);
	CHECK(strcmp(h, b.hash) != 0);
	b.severity = META_SEV_UNKNOWN;
	errata_finish(&b);
	CHECK_STR(h, b.hash);
	meta_erratum_release(&a);
	meta_erratum_release(&b);
}

TEST(feeds_setting_split)
{
	size_t n = 0;
	char **v = errata_feeds_split(" /a/b.json,https://x/y  \n\n/c\t", &n);

	CHECK(v != NULL);
	CHECK_EQ(n, 3);
	CHECK_STR(v[0], "/a/b.json");
	CHECK_STR(v[1], "https://x/y");
	CHECK_STR(v[2], "/c");
	CHECK(v[3] == NULL);
	errata_feeds_free(v);
	v = errata_feeds_split(NULL, &n);
	CHECK(v != NULL && v[0] == NULL);
	CHECK_EQ(n, 0);
	errata_feeds_free(v);
}

TEST(config_feeds_list)
{
	char dir[] = "/tmp/berth-cfg-XXXXXX", path[64], err[256];
	struct config c;

	CHECK(mkdtemp(dir) != NULL);
	write_file(dir, "c.yml",
		   "errata:\n  feeds:\n    - /data/DSA-list\n    - https://example.org/x.json\n"
		   "  sync_interval: 30m\nhttp:\n  addr: 1.2.3.4:5\n");
	snprintf(path, sizeof(path), "%s/c.yml", dir);
	config_init(&c);
	CHECK_EQ(config_load_file(&c, path, err, sizeof(err)), 0);
	CHECK_STR(config_get(&c, "errata.feeds"), "/data/DSA-list\nhttps://example.org/x.json");
	CHECK_STR(config_get(&c, "errata.sync_interval"), "30m");
	CHECK_STR(config_get(&c, "http.addr"), "1.2.3.4:5");
	config_release(&c);
	write_file(dir, "c.yml", "errata:\n  feeds:\n    - a: b\n");
	config_init(&c);
	CHECK_EQ(config_load_file(&c, path, err, sizeof(err)), -BERTH_EINVAL);
	CHECK(strstr(err, ":3: lists are only supported as a list of values") != NULL);
	config_release(&c);
	write_file(dir, "c.yml", "- a\n");
	config_init(&c);
	CHECK_EQ(config_load_file(&c, path, err, sizeof(err)), -BERTH_EINVAL);
	config_release(&c);
	unlink(path);
	rmdir(dir);
}

/* ---------------------------------------------------------------- the store */

/* A small advisory for store tests. */
static void mk(struct meta_erratum *e, const char *id, const char *source, const char *fixed, int64_t issued)
{
	memset(e, 0, sizeof(*e));
	e->id = strdup(id);
	e->source = strdup(source);
	e->summary = strdup("summary");
	e->issued = issued;
	e->issued_known = issued != 0;
	e->severity = META_SEV_IMPORTANT;
	CHECK_EQ(errata__add_cve(e, "CVE-2024-0001"), 0);
	CHECK_EQ(errata__add_ref(e, "https://x/1", 11), 0);
	CHECK_EQ(errata__add_ref(e, "XSA-1", 5), 0);
	CHECK_EQ(errata__add_pkg(e, "debian:11", "openssl", 0, META_PKG_FIXED, NULL, fixed, NULL), 0);
	CHECK_EQ(errata__add_pkg(e, "debian:12", "openssl", 0, META_PKG_UNFIXED, "3.0", NULL, "3.0.9"), 0);
	errata_finish(e);
}

TEST(store_put_is_idempotent_and_bumps_generation_on_change)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct meta_erratum v[2], got;
	enum meta_put_result res[2];
	int64_t gen = -1, first_seen;

	CHECK_EQ(meta_errata_generation(m, &gen), 0);
	CHECK_EQ(gen, 0);
	mk(&v[0], "DSA-1-1", "debian-tracker", "1.1", 1700000000);
	mk(&v[1], "ALPINE-x", "alpine-secdb", "2.0", 0);
	CHECK_EQ(meta_errata_put(m, v, 2, res, &gen), 0);
	CHECK_EQ(res[0], META_PUT_ADDED);
	CHECK_EQ(res[1], META_PUT_ADDED);
	CHECK_EQ(gen, 1);
	CHECK_EQ(meta_errata_put(m, v, 2, res, &gen), 0);
	CHECK_EQ(res[0], META_PUT_UNCHANGED);
	CHECK_EQ(res[1], META_PUT_UNCHANGED);
	CHECK_EQ(gen, 1);

	CHECK_EQ(meta_errata_get(m, "ALPINE-x", &got), 0);
	CHECK_EQ(got.issued_known, 0);
	CHECK(got.issued >= got.first_seen && got.issued == got.first_seen);
	CHECK_EQ(got.generation, 1);
	first_seen = got.first_seen;
	CHECK_STR(got.hash, v[1].hash);
	CHECK_EQ(got.npkgs, 2);
	check_pkg(&got.pkgs[1], "debian:12", "openssl", 0, META_PKG_UNFIXED, "3.0", NULL, "3.0.9");
	CHECK_EQ(got.nrefs, 2);
	CHECK_STR(got.refs[0], "https://x/1");
	CHECK_STR(got.refs[1], "XSA-1");
	meta_erratum_release(&got);

	/* a changed advisory is updated, first_seen kept; the generation goes up once */
	sleep(1);
	meta_erratum_release(&v[1]);
	mk(&v[1], "ALPINE-x", "alpine-secdb", "2.1", 0);
	CHECK_EQ(meta_errata_put(m, v, 2, res, &gen), 0);
	CHECK_EQ(res[0], META_PUT_UNCHANGED);
	CHECK_EQ(res[1], META_PUT_UPDATED);
	CHECK_EQ(gen, 2);
	CHECK_EQ(meta_errata_get(m, "ALPINE-x", &got), 0);
	CHECK_EQ(got.first_seen, first_seen);
	CHECK_EQ(got.issued, first_seen);
	CHECK(got.updated > first_seen);
	CHECK_EQ(got.generation, 2);
	CHECK_STR(got.pkgs[0].fixed, "2.1");
	CHECK_EQ(got.npkgs, 2);
	meta_erratum_release(&got);

	/* the same id from another source is left alone */
	meta_erratum_release(&v[0]);
	mk(&v[0], "DSA-1-1", "osv", "9.9", 1700000000);
	CHECK_EQ(meta_errata_put(m, v, 1, res, &gen), 0);
	CHECK_EQ(res[0], META_PUT_CONFLICT);
	CHECK_EQ(gen, 2);
	CHECK_EQ(meta_errata_get(m, "DSA-1-1", &got), 0);
	CHECK_STR(got.source, "debian-tracker");
	CHECK_STR(got.pkgs[0].fixed, "1.1");
	meta_erratum_release(&got);
	CHECK_EQ(meta_errata_get(m, "nope", &got), -BERTH_ENOENT);

	meta_erratum_release(&v[0]);
	meta_erratum_release(&v[1]);
	tdb_close(&t, m);
}

TEST(store_rejects_bad_errata_whole)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct meta_erratum v[2];
	struct meta_names names = {0};
	int64_t gen = -1;

	mk(&v[0], "A-1", "osv", "1", 1);
	mk(&v[1], "A-2", "osv", "1", 1);
	v[1].hash[3] = 'X'; /* not lower-case hex */
	CHECK_EQ(meta_errata_put(m, v, 2, NULL, &gen), -BERTH_EINVAL);
	errata_finish(&v[1]);
	free(v[1].pkgs[0].fixed);
	v[1].pkgs[0].fixed = NULL; /* FIXED without a version */
	CHECK_EQ(meta_errata_put(m, v, 2, NULL, &gen), -BERTH_EINVAL);
	v[1].pkgs[0].fixed = strdup("1\n2");
	CHECK_EQ(meta_errata_put(m, v, 2, NULL, &gen), -BERTH_EINVAL);
	CHECK_EQ(meta_errata_changed_since(m, 0, &names), 0);
	CHECK_EQ(names.n, 0);
	CHECK_EQ(meta_errata_generation(m, &gen), 0);
	CHECK_EQ(gen, 0);
	CHECK_EQ(meta_errata_put(NULL, v, 1, NULL, NULL), -BERTH_EINVAL);
	meta_erratum_release(&v[0]);
	meta_erratum_release(&v[1]);
	tdb_close(&t, m);
}

TEST(store_affecting_lists_and_changes)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct meta_erratum v[4], *list = NULL;
	struct meta_errata_hit *hits = NULL;
	struct meta_names names = {0};
	struct meta_errata_filter f = {NULL, NULL, NULL, -1, -1, NULL, -1};
	const char *pkgs[] = {"openssl", "zlib", "nothere"};
	size_t n = 0;
	int more = 0;
	int64_t gen = 0;

	mk(&v[0], "DSA-1-1", "debian-tracker", "1.1", 1700000000);
	mk(&v[1], "DSA-2-1", "debian-tracker", "1.2", 1700000100);
	mk(&v[2], "DSA-3-1", "debian-tracker", "1.3", 1700000100);
	mk(&v[3], "DSA-4-1", "debian-tracker", "1.4", 1600000000);
	free(v[3].pkgs[0].package);
	v[3].pkgs[0].package = strdup("zlib");
	v[3].severity = META_SEV_LOW;
	v[2].withdrawn = 1700000200;
	errata_finish(&v[3]);
	errata_finish(&v[2]);
	CHECK_EQ(meta_errata_put(m, v, 4, NULL, &gen), 0);

	CHECK_EQ(meta_errata_affecting(m, "debian:11", pkgs, 3, &hits, &n), 0);
	CHECK_EQ(n, 3); /* DSA-1, DSA-2 for openssl (DSA-3 withdrawn), DSA-4 for zlib */
	CHECK_STR(hits[0].id, "DSA-1-1");
	CHECK_STR(hits[0].pkg.fixed, "1.1");
	CHECK_EQ(hits[0].severity, META_SEV_IMPORTANT);
	CHECK_EQ(hits[0].issued, 1700000000);
	CHECK_STR(hits[1].id, "DSA-2-1");
	CHECK_STR(hits[2].id, "DSA-4-1");
	CHECK_STR(hits[2].pkg.package, "zlib");
	CHECK_EQ(hits[2].severity, META_SEV_LOW);
	meta_errata_hits_free(hits, n);
	CHECK_EQ(meta_errata_affecting(m, "debian:12", pkgs, 1, &hits, &n), 0);
	CHECK_EQ(n, 3); /* DSA-4 still names openssl for debian:12 */
	CHECK_EQ(hits[0].pkg.status, META_PKG_UNFIXED);
	CHECK_STR(hits[0].pkg.last_affected, "3.0.9");
	meta_errata_hits_free(hits, n);
	CHECK_EQ(meta_errata_affecting(m, "debian:9", pkgs, 3, &hits, &n), 0);
	CHECK_EQ(n, 0);
	CHECK(hits == NULL);

	/* newest first, ties by id; paging with last */
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 4);
	CHECK_STR(list[0].id, "DSA-2-1");
	CHECK_STR(list[1].id, "DSA-3-1");
	CHECK_STR(list[2].id, "DSA-1-1");
	CHECK_STR(list[3].id, "DSA-4-1");
	CHECK(list[0].details == NULL);
	CHECK_EQ(list[0].npkgs, 2);
	CHECK_EQ(list[0].ncves, 1);
	meta_errata_free(list, n);
	f.limit = 2;
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(more, 1);
	meta_errata_free(list, n);
	f.last = "DSA-3-1";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(more, 0);
	CHECK_STR(list[0].id, "DSA-1-1");
	CHECK_STR(list[1].id, "DSA-4-1");
	meta_errata_free(list, n);
	f.last = "NOPE";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), -BERTH_ENOENT);
	CHECK_EQ(n, 0);
	f.last = NULL;
	f.limit = -1;
	f.package = "zlib";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 1);
	CHECK_STR(list[0].id, "DSA-4-1");
	meta_errata_free(list, n);
	f.package = "zlib";
	f.release = "debian:12";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 0); /* zlib is only named for debian:11 */
	f.package = NULL;
	f.severity = META_SEV_LOW;
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 1);
	meta_errata_free(list, n);
	f.release = NULL;
	f.severity = -1;
	f.cve = "CVE-2024-0001";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 4);
	meta_errata_free(list, n);
	f.cve = "CVE-1999-0001";
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 0);
	f.cve = NULL;
	f.type = META_ERRATUM_BUGFIX;
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), 0);
	CHECK_EQ(n, 0);
	f.type = 7;
	CHECK_EQ(meta_errata_list(m, &f, &list, &n, &more), -BERTH_EINVAL);

	/* changed_since: the second import changes one advisory */
	CHECK_EQ(meta_errata_changed_since(m, 0, &names), 0);
	CHECK_EQ(names.n, 4);
	meta_names_release(&names);
	meta_erratum_release(&v[1]);
	mk(&v[1], "DSA-2-1", "debian-tracker", "1.25", 1700000100);
	CHECK_EQ(meta_errata_put(m, v, 4, NULL, &gen), 0);
	CHECK_EQ(gen, 2);
	CHECK_EQ(meta_errata_changed_since(m, 1, &names), 0);
	CHECK_EQ(names.n, 1);
	CHECK_STR(names.v[0], "DSA-2-1");
	meta_names_release(&names);
	for (int i = 0; i < 4; i++)
		meta_erratum_release(&v[i]);
	tdb_close(&t, m);
}

TEST(store_feed_state_roundtrip)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct meta_feed_state in = {0}, out;

	CHECK_EQ(meta_feed_get(m, "https://x/feed.json", &out), -BERTH_ENOENT);
	in.etag = "\"abc\"";
	in.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
	in.content_hash = "00";
	in.checked = 5;
	in.changed = 4;
	CHECK_EQ(meta_feed_put(m, "https://x/feed.json", &in), 0);
	CHECK_EQ(meta_feed_get(m, "https://x/feed.json", &out), 0);
	CHECK_STR(out.etag, "\"abc\"");
	CHECK_STR(out.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
	CHECK_STR(out.content_hash, "00");
	CHECK_EQ(out.checked, 5);
	CHECK_EQ(out.changed, 4);
	meta_feed_state_release(&out);
	in.etag = NULL;
	CHECK_EQ(meta_feed_put(m, "https://x/feed.json", &in), 0);
	CHECK_EQ(meta_feed_get(m, "https://x/feed.json", &out), 0);
	CHECK(out.etag == NULL);
	meta_feed_state_release(&out);
	tdb_close(&t, m);
}

/* ---------------------------------------------------------------- import and feeds */

TEST(import_directory_with_a_bad_file)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct errata_import rep;
	char dir[128];
	const char *paths[1];

	snprintf(dir, sizeof(dir), "%s/feed", t.dir);
	CHECK_EQ(mkdir(dir, 0755), 0);
	write_file(dir, "a.json", osv_alma);
	write_file(dir, "b.json", "{\"id\": \"BROKEN-1\", \"affected\": 7}");
	write_file(dir, "c.yaml", secdb_yaml);
	write_file(dir, "README.md", "not imported");
	paths[0] = dir;
	errata_import_init(&rep);
	CHECK_EQ(errata_import_paths(m, paths, 1, ERRATA_FORMAT_AUTO, &rep), 0);
	CHECK_EQ(rep.n, 1);
	CHECK_EQ(rep.src[0].files, 2);
	CHECK_EQ(rep.src[0].failed, 1);
	CHECK(strstr(rep.src[0].errors, "b.json: entry BROKEN-1: \"affected\" is not an array") != NULL);
	CHECK_EQ(rep.src[0].added, 3);
	CHECK_EQ(rep.src[0].advisories, 3);
	CHECK_EQ(rep.src[0].no_severity, 2); /* the two secdb ones */
	CHECK_EQ(rep.generation, 1);
	errata_import_release(&rep);

	errata_import_init(&rep);
	CHECK_EQ(errata_import_paths(m, paths, 1, ERRATA_FORMAT_AUTO, &rep), 0);
	CHECK_EQ(rep.src[0].added, 0);
	CHECK_EQ(rep.src[0].unchanged, 3);
	CHECK_EQ(rep.generation, 1);
	errata_import_release(&rep);

	/* a missing path is a failed source, not a failed import */
	paths[0] = "/nonexistent/berth/errata";
	errata_import_init(&rep);
	CHECK_EQ(errata_import_paths(m, paths, 1, ERRATA_FORMAT_AUTO, &rep), 0);
	CHECK_EQ(rep.src[0].failed, 1);
	CHECK(strstr(rep.src[0].errors, "No such file") != NULL);
	errata_import_release(&rep);
	tdb_close(&t, m);
}

/* One advisory in two files with different releases is merged, so importing both stays idempotent. */
TEST(import_merges_one_advisory_from_two_files)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct errata_import rep;
	struct meta_erratum got;
	char a[128], b[128], *alma9 = NULL, *p;
	const char *paths[2] = {a, b};

	snprintf(a, sizeof(a), "%s/a.json", t.dir);
	snprintf(b, sizeof(b), "%s/b.json", t.dir);
	write_file(t.dir, "a.json", osv_alma);
	alma9 = strdup(osv_alma);
	p = strstr(alma9, "AlmaLinux:8");
	p[10] = '9';
	p = strstr(alma9, "el8_9");
	p[2] = '9';
	write_file(t.dir, "b.json", alma9);
	for (int round = 0; round < 2; round++) {
		errata_import_init(&rep);
		CHECK_EQ(errata_import_paths(m, paths, 2, ERRATA_FORMAT_AUTO, &rep), 0);
		CHECK_EQ(rep.src[0].added + rep.src[0].unchanged, 1);
		CHECK_EQ(rep.src[0].added, round == 0);
		CHECK_EQ(rep.src[1].duplicates, 1);
		CHECK_EQ(rep.generation, 1);
		errata_import_release(&rep);
	}
	CHECK_EQ(meta_errata_get(m, "ALSA-2024:0003", &got), 0);
	CHECK_EQ(got.npkgs, 2);
	CHECK_STR(got.pkgs[0].release, "almalinux:8");
	CHECK_STR(got.pkgs[1].release, "almalinux:9");
	CHECK_STR(got.pkgs[1].fixed, "115.6.0-1.el9_9.alma");
	meta_erratum_release(&got);
	free(alma9);
	tdb_close(&t, m);
}

TEST(feed_sync_local_file)
{
	struct tdb t;
	struct meta *m = tdb_open(&t);
	struct errata_sync s;
	char path[128];
	const char *feeds[1] = {path};

	snprintf(path, sizeof(path), "%s/osv.json", t.dir);
	write_file(t.dir, "osv.json", osv_alma);
	CHECK_EQ(errata_feeds_sync(m, feeds, 1, &s), 0);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.v[0].fetched, 1);
	CHECK_EQ(s.v[0].added, 1);
	CHECK_EQ(s.generation, 1);
	errata_sync_release(&s);
	CHECK_EQ(errata_feeds_sync(m, feeds, 1, &s), 0);
	CHECK_EQ(s.v[0].fetched, 0);
	CHECK_EQ(s.v[0].not_modified, 1);
	CHECK_EQ(s.v[0].added, 0);
	errata_sync_release(&s);
	write_file(t.dir, "osv.json", "{\"id\": ");
	CHECK_EQ(errata_feeds_sync(m, feeds, 1, &s), 0);
	CHECK_EQ(s.v[0].failed, 1);
	CHECK(strstr(s.v[0].error, "invalid JSON") != NULL);
	CHECK_EQ(s.generation, 1);
	errata_sync_release(&s);
	write_file(t.dir, "osv.json", secdb_json);
	CHECK_EQ(errata_feeds_sync(m, feeds, 1, &s), 0);
	CHECK_EQ(s.v[0].fetched, 1);
	CHECK_EQ(s.v[0].added, 2);
	CHECK_EQ(s.generation, 2);
	errata_sync_release(&s);
	path[0] = 'X';
	CHECK_EQ(errata_feeds_sync(m, feeds, 1, &s), 0);
	CHECK_EQ(s.v[0].failed, 1);
	errata_sync_release(&s);
	tdb_close(&t, m);
}

/* ---------------------------------------------------------------- */

static const struct test tests[] = {
    T(debian_sample_entries),
    T(debian_unknown_codename_is_kept_with_a_warning),
    T(debian_malformed_inputs_name_the_line),
    T(debian_nul_byte_rejected),
    T(debian_shipped_lists),
    T(osv_almalinux_advisory),
    T(osv_generic_ranges_types_and_ecosystems),
    T(osv_malformed_inputs_name_the_entry),
    T(osv_shipped_almalinux),
    T(secdb_yaml_and_json_agree),
    T(secdb_malformed_inputs),
    T(secdb_shipped_files),
    T(format_sniffing),
    T(release_keys),
    T(cve_ids_dates_cvss),
    T(hash_is_canonical),
    T(feeds_setting_split),
    T(config_feeds_list),
    T(store_put_is_idempotent_and_bumps_generation_on_change),
    T(store_rejects_bad_errata_whole),
    T(store_affecting_lists_and_changes),
    T(store_feed_state_roundtrip),
    T(import_directory_with_a_bad_file),
    T(import_merges_one_advisory_from_two_files),
    T(feed_sync_local_file),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
