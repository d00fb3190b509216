/* Layer indexing (scan/index.h) and image assembly with attribution (scan/image.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/err.h"
#include "harness.h"
#include "scan/image.h"
#include "scan/index.h"
#include "tarmake.h"

static const char DEB12[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
			    "VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
static const char ALPINE311[] = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.6\n";
static const char ALMA9[] = "NAME=\"AlmaLinux\"\nVERSION=\"9.3\"\nID=\"almalinux\"\nVERSION_ID=\"9.3\"\n";

static char *dpkg_para(char *out, size_t n, const char *name, const char *ver, const char *src)
{
	size_t l = strlen(out);
	snprintf(out + l, n - l,
		 "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n%s%s%s\n", name, ver,
		 src ? "Source: " : "", src ? src : "", src ? "\n" : "");
	return out;
}

/* A tar (gzip'd when gz) of entries; the caller frees *out. */
static unsigned char *mk_layer(const struct tm_ent *ents, size_t n, int gz, size_t *outn)
{
	struct tm_buf b = {0};
	unsigned char *z;

	for (size_t i = 0; i < n; i++)
		tm_add(&b, &ents[i]);
	tm_end(&b);
	if (!gz) {
		*outn = b.len;
		return b.p;
	}
	z = tm_gzip(b.p, b.len, outn);
	free(b.p);
	return z;
}

#define FILE_ENT(nm, s)                                                   \
	{                                                                 \
		.name = (nm), .type = '0', .data = (s), .size = strlen(s) \
	}

static int index_mem(const unsigned char *p, size_t n, const struct scan_index_limits *lim, struct scan_layer *l,
		     char *why, size_t whyn)
{
	struct tm_reader r = {p, n, 0, 1000, 0};
	scan_layer_init(l);
	return scan_layer_index(tm_read, &r, lim, l, why, whyn);
}

static void index_ents(const struct tm_ent *ents, size_t n, struct scan_layer *l)
{
	size_t len;
	unsigned char *p = mk_layer(ents, n, 1, &len);
	char why[256] = "";
	int rc = index_mem(p, len, NULL, l, why, sizeof why);
	if (rc != 0)
		FAIL_AT("index: %d %s", rc, why);
	free(p);
}

static const struct scan_pkg *find(const struct scan_image *im, const char *name, uint32_t *layer)
{
	for (size_t i = 0; i < im->pkgs.n; i++)
		if (strcmp(im->pkgs.v[i].name, name) == 0) {
			if (layer)
				*layer = im->layer[i];
			return &im->pkgs.v[i];
		}
	return NULL;
}

static void build(struct scan_layer *ls, size_t n, struct scan_image *im)
{
	const struct scan_layer *p[16];
	for (size_t i = 0; i < n; i++)
		p[i] = &ls[i];
	scan_image_init(im);
	CHECK_EQ(scan_image_build(p, n, im), 0);
}

static void release_all(struct scan_layer *ls, size_t n, struct scan_image *im)
{
	for (size_t i = 0; i < n; i++)
		scan_layer_release(&ls[i]);
	scan_image_release(im);
}

TEST(watch_of)
{
	CHECK_EQ(scan_watch_of("etc/os-release"), SCAN_W_OS_RELEASE);
	CHECK_EQ(scan_watch_of("var/lib/dpkg/status"), SCAN_W_DPKG_STATUS);
	CHECK_EQ(scan_watch_of("var/lib/dpkg/status-old"), SCAN_W_NONE);
	CHECK_EQ(scan_watch_of("var/lib/dpkg/status.d/base"), SCAN_W_DPKG_STATUSD);
	CHECK_EQ(scan_watch_of("var/lib/dpkg/status.d/base.md5sums"), SCAN_W_NONE);
	CHECK_EQ(scan_watch_of("var/lib/dpkg/status.d/a/b"), SCAN_W_NONE);
	CHECK_EQ(scan_watch_of("usr/lib/sysimage/rpm/rpmdb.sqlite"), SCAN_W_RPM_SQLITE);
	CHECK_EQ(scan_watch_of("var/lib/rpm/Packages"), SCAN_W_RPM_BDB);
	CHECK_EQ(scan_watch_of("var/lib/rpm/Packages.db"), SCAN_W_RPM_NDB);
	CHECK_EQ(scan_watch_of("lib/apk/db/installed"), SCAN_W_APK);
	CHECK_EQ(scan_watch_of("etc/passwd"), SCAN_W_NONE);
}

/* A Debian layer as Debian ships it: /etc/os-release is a symlink to ../usr/lib/os-release. */
TEST(debian_one_layer)
{
	char st[2048] = "";
	struct scan_layer l[1];
	struct scan_image im;
	const struct scan_pkg *p;
	uint32_t layer = 99;

	dpkg_para(st, sizeof st, "libc6", "2.36-9+deb12u3", "glibc");
	dpkg_para(st, sizeof st, "bash", "5.2.15-2+b2", "bash (5.2.15-2)");
	snprintf(st + strlen(st), sizeof st - strlen(st),
		 "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n");
	{
		struct tm_ent e[] = {
		    {.name = "etc/", .type = '5'},
		    {.name = "etc/os-release", .type = '2', .link = "../usr/lib/os-release"},
		    {.name = "etc/passwd", .type = '0', .data = "root:x:0:0\n", .size = 11},
		    FILE_ENT("usr/lib/os-release", DEB12),
		    FILE_ENT("etc/debian_version", "12.4\n"),
		    FILE_ENT("var/lib/dpkg/status", st),
		    FILE_ENT("var/lib/dpkg/status-old", "garbage that is never read"),
		    FILE_ENT("usr/bin/bash", "ELF..."),
		};
		index_ents(e, sizeof e / sizeof e[0], &l[0]);
	}
	/* only the watched entries are kept, in tar order */
	CHECK_EQ(l[0].n, 4);
	CHECK_EQ(l[0].v[0].op, SCAN_LF_LINK);
	CHECK_STR(l[0].v[0].link, "../usr/lib/os-release");
	CHECK_STR(l[0].v[1].path, "usr/lib/os-release");
	CHECK_EQ(l[0].v[1].len, strlen(DEB12));
	CHECK_STR(l[0].v[3].path, "var/lib/dpkg/status");
	CHECK_EQ(l[0].entries, 8);
	build(l, 1, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_STR(im.os.release, "debian:12");
	CHECK_EQ(im.pkgs.n, 2);
	p = find(&im, "bash", &layer);
	CHECK(p != NULL);
	CHECK_STR(p->source, "bash");
	CHECK_STR(p->source_version, "5.2.15-2");
	CHECK_EQ(layer, 0);
	CHECK(find(&im, "gone", NULL) == NULL);
	release_all(l, 1, &im);
}

/* Attribution: a package keeps the lowest layer from which its final version stayed installed. */
TEST(attribution)
{
	char s0[1024] = "", s1[1024] = "", s3[1024] = "", s4[1024] = "";
	struct scan_layer l[5];
	struct scan_image im;
	uint32_t layer;

	dpkg_para(s0, sizeof s0, "a", "1.0", NULL);
	dpkg_para(s0, sizeof s0, "b", "1.0", NULL);
	dpkg_para(s1, sizeof s1, "a", "1.1", NULL); /* upgraded */
	dpkg_para(s1, sizeof s1, "b", "1.0", NULL);
	dpkg_para(s1, sizeof s1, "c", "1.0", NULL);
	dpkg_para(s3, sizeof s3, "a", "1.1", NULL); /* c removed */
	dpkg_para(s3, sizeof s3, "b", "1.0", NULL);
	dpkg_para(s4, sizeof s4, "a", "1.1", NULL); /* c back */
	dpkg_para(s4, sizeof s4, "b", "1.0", NULL);
	dpkg_para(s4, sizeof s4, "c", "1.0", NULL);
	{
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", DEB12), FILE_ENT("var/lib/dpkg/status", s0)};
		struct tm_ent e1[] = {FILE_ENT("var/lib/dpkg/status", s1)};
		struct tm_ent e2[] = {FILE_ENT("usr/bin/x", "x")};
		struct tm_ent e3[] = {FILE_ENT("var/lib/dpkg/status", s3)};
		struct tm_ent e4[] = {FILE_ENT("var/lib/dpkg/status", s4)};
		index_ents(e0, 2, &l[0]);
		index_ents(e1, 1, &l[1]);
		index_ents(e2, 1, &l[2]);
		index_ents(e3, 1, &l[3]);
		index_ents(e4, 1, &l[4]);
	}
	CHECK_EQ(l[2].n, 0);
	build(l, 5, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_EQ(im.pkgs.n, 3);
	CHECK_STR(find(&im, "a", &layer)->version, "1.1");
	CHECK_EQ(layer, 1);
	CHECK(find(&im, "b", &layer) != NULL);
	CHECK_EQ(layer, 0);
	CHECK(find(&im, "c", &layer) != NULL);
	CHECK_EQ(layer, 4);
	release_all(l, 5, &im);
}

/* A whiteout of the status file (or of a directory above it) removes every package. */
TEST(whiteout_status)
{
	char s0[512] = "";
	struct scan_layer l[3];
	struct scan_image im;

	dpkg_para(s0, sizeof s0, "a", "1.0", NULL);
	{
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", DEB12), FILE_ENT("var/lib/dpkg/status", s0)};
		struct tm_ent e1[] = {{.name = "var/lib/dpkg/.wh.status", .type = '0'},
				      {.name = "var/lib/.wh.other", .type = '0'}};
		struct tm_ent e2[] = {{.name = "var/.wh.lib", .type = '0'}};
		index_ents(e0, 2, &l[0]);
		index_ents(e1, 2, &l[1]);
		index_ents(e2, 1, &l[2]);
	}
	CHECK_EQ(l[1].n, 1); /* var/lib/other touches nothing watched */
	CHECK_EQ(l[1].v[0].op, SCAN_LF_DELETE);
	CHECK_STR(l[1].v[0].path, "var/lib/dpkg/status");
	CHECK_EQ(l[2].n, 1);
	build(l, 2, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_EQ(im.pkgs.n, 0);
	scan_image_release(&im);
	/* the status file back in a layer over a whole-directory whiteout */
	{
		struct scan_layer l2[3];
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", DEB12), FILE_ENT("var/lib/dpkg/status", s0)};
		struct tm_ent e1[] = {{.name = "var/.wh.lib", .type = '0'}, FILE_ENT("var/lib/dpkg/status", s0)};
		uint32_t layer;
		index_ents(e0, 2, &l2[0]);
		index_ents(e1, 2, &l2[1]);
		build(l2, 2, &im);
		CHECK_EQ(im.pkgs.n, 1);
		CHECK(find(&im, "a", &layer) != NULL);
		CHECK_EQ(layer, 0); /* same file, same version: continuously installed */
		release_all(l2, 2, &im);
	}
	release_all(l, 3, &im);
}

/* Distroless status.d: one file per package, md5sums ignored, an opaque directory hides lower ones. */
TEST(statusd_opaque)
{
	char a[256] = "", b[256] = "", c[256] = "";
	struct scan_layer l[2];
	struct scan_image im;
	uint32_t layer;

	snprintf(a, sizeof a, "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
	snprintf(b, sizeof b, "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n");
	snprintf(c, sizeof c, "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
	{
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", DEB12), FILE_ENT("var/lib/dpkg/status.d/base", a),
				      FILE_ENT("var/lib/dpkg/status.d/base.md5sums", "d41d8cd9  x\n"),
				      FILE_ENT("var/lib/dpkg/status.d/libssl3", b)};
		struct tm_ent e1[] = {{.name = "var/lib/dpkg/status.d/.wh..wh..opq", .type = '0'},
				      FILE_ENT("var/lib/dpkg/status.d/tzdata", c)};
		index_ents(e0, 4, &l[0]);
		index_ents(e1, 2, &l[1]);
	}
	CHECK_EQ(l[0].n, 3);
	CHECK_EQ(l[1].n, 2);
	CHECK_EQ(l[1].v[0].op, SCAN_LF_OPAQUE);
	{
		const struct scan_layer *one[] = {&l[0]};
		scan_image_init(&im);
		CHECK_EQ(scan_image_build(one, 1, &im), 0);
		CHECK_EQ(im.pkgs.n, 2);
		CHECK_STR(find(&im, "libssl3", NULL)->source, "openssl");
		scan_image_release(&im);
	}
	build(l, 2, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_EQ(im.pkgs.n, 1);
	CHECK(find(&im, "tzdata", &layer) != NULL);
	CHECK_EQ(layer, 1);
	release_all(l, 2, &im);
}

/* The apk database replaced in an upper layer: only the upper one counts; unchanged packages keep
 * the lower layer. */
TEST(apk_replaced)
{
	const char *db0 =
	    "P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\nP:libcrypto1.1\nV:1.1.1g-r0\nA:x86_64\no:openssl\n\n";
	const char *db1 =
	    "P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\nP:libcrypto1.1\nV:1.1.1k-r0\nA:x86_64\no:openssl\n\n"
	    "P:curl\nV:7.67.0-r0\nA:x86_64\n\n";
	struct scan_layer l[2];
	struct scan_image im;
	uint32_t layer;

	{
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", ALPINE311), FILE_ENT("etc/alpine-release", "3.11.6\n"),
				      FILE_ENT("lib/apk/db/installed", db0)};
		struct tm_ent e1[] = {FILE_ENT("lib/apk/db/installed", db1)};
		index_ents(e0, 3, &l[0]);
		index_ents(e1, 1, &l[1]);
	}
	build(l, 2, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_STR(im.os.release, "alpine:3.11");
	CHECK_EQ(im.pkgs.n, 3);
	CHECK_STR(find(&im, "libcrypto1.1", &layer)->version, "1.1.1k-r0");
	CHECK_EQ(layer, 1);
	CHECK_STR(find(&im, "libcrypto1.1", NULL)->source, "openssl");
	CHECK(find(&im, "musl", &layer) != NULL);
	CHECK_EQ(layer, 0);
	CHECK(find(&im, "curl", &layer) != NULL);
	CHECK_EQ(layer, 1);
	release_all(l, 2, &im);
}

/* A real rpmdb.sqlite made by rpm (tests/unit/scan/mkrpmdb.sh), inside a zstd layer. */
TEST(rpmdb_sqlite_layer)
{
	char dir[] = "/tmp/berth-scanidx-XXXXXX", cmd[512], path[256], why[256] = "";
	struct scan_layer l[1];
	struct scan_image im;
	struct tm_buf t = {0};
	unsigned char *z;
	size_t zn, dbn;
	char *db;
	FILE *f;
	uint32_t layer;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof cmd, "sh %s/mkrpmdb.sh %s >%s/log 2>&1", TEST_SRCDIR, dir, dir);
	if (system(cmd) != 0)
		FAIL_AT("mkrpmdb.sh failed (see %s/log)", dir);
	snprintf(path, sizeof path, "%s/root/var/lib/rpm/rpmdb.sqlite", dir);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	fseek(f, 0, SEEK_END);
	dbn = (size_t)ftell(f);
	rewind(f);
	db = malloc(dbn);
	CHECK_EQ(fread(db, 1, dbn, f), dbn);
	fclose(f);
	{
		struct tm_ent e[] = {FILE_ENT("etc/os-release", ALMA9),
				     FILE_ENT("etc/redhat-release", "AlmaLinux release 9.3 (Shamrock Pearl)\n"),
				     {.name = "var/lib/rpm/rpmdb.sqlite", .type = '0', .data = db, .size = dbn}};
		for (size_t i = 0; i < 3; i++)
			tm_add(&t, &e[i]);
		tm_end(&t);
	}
	z = tm_zstd(t.p, t.len, &zn);
	CHECK_EQ(index_mem(z, zn, NULL, &l[0], why, sizeof why), 0);
	CHECK_EQ(l[0].n, 3);
	CHECK(l[0].v[2].why == NULL);
	CHECK_EQ(l[0].v[2].pkgs.n, 4);
	CHECK(l[0].v[2].data == NULL); /* the database itself is not kept */
	build(l, 1, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_STR(im.os.release, "almalinux:9");
	CHECK_EQ(im.pkgs.n, 4);
	CHECK_STR(find(&im, "berth-a", &layer)->version, "2:1.2.3-4.el9");
	CHECK_EQ(layer, 0);
	CHECK_STR(find(&im, "berth-libs", NULL)->source, "berth-src");
	release_all(l, 1, &im);
	free(z);
	free(t.p);
	free(db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}

/* A malformed database in the final image fails it with the reason; one that a later layer
 * replaces does not. */
TEST(malformed_status)
{
	char good[256] = "";
	struct scan_layer l[2];
	struct scan_image im;

	dpkg_para(good, sizeof good, "a", "1.0", NULL);
	{
		struct tm_ent e0[] = {FILE_ENT("etc/os-release", DEB12),
				      FILE_ENT("var/lib/dpkg/status", "Package: a\nthis is not a field\n")};
		struct tm_ent e1[] = {FILE_ENT("var/lib/dpkg/status", good)};
		index_ents(e0, 2, &l[0]);
		index_ents(e1, 1, &l[1]);
	}
	{
		const struct scan_layer *one[] = {&l[0]};
		scan_image_init(&im);
		CHECK_EQ(scan_image_build(one, 1, &im), 0);
		CHECK_EQ(im.status, SCAN_FAILED);
		CHECK(strncmp(im.why, "var/lib/dpkg/status: ", 21) == 0);
		CHECK(strstr(im.why, "line 2") != NULL);
		scan_image_release(&im);
	}
	build(l, 2, &im);
	CHECK_EQ(im.status, SCAN_SCANNED);
	CHECK_EQ(im.pkgs.n, 1);
	release_all(l, 2, &im);
}

/* An rpm database that is garbage is recorded, not fatal to the layer; the image fails. */
TEST(malformed_rpmdb)
{
	struct scan_layer l[1];
	struct scan_image im;
	struct tm_ent e[] = {FILE_ENT("etc/os-release", ALMA9),
			     FILE_ENT("var/lib/rpm/rpmdb.sqlite", "SQLite format 3\0 not really")};

	index_ents(e, 2, &l[0]);
	CHECK_EQ(l[0].n, 2);
	CHECK(l[0].v[1].why != NULL);
	build(l, 1, &im);
	CHECK_EQ(im.status, SCAN_FAILED);
	CHECK(strncmp(im.why, "var/lib/rpm/rpmdb.sqlite: ", 26) == 0);
	release_all(l, 1, &im);
}

/* Releases that lie or are unknown. */
TEST(os_outcomes)
{
	struct scan_layer l[1];
	struct scan_image im;

	{ /* os-release says Debian, the only database is apk's */
		struct tm_ent e[] = {FILE_ENT("etc/os-release", DEB12),
				     FILE_ENT("lib/apk/db/installed", "P:a\nV:1-r0\n\n")};
		index_ents(e, 2, &l[0]);
		build(l, 1, &im);
		CHECK_EQ(im.status, SCAN_FAILED);
		CHECK(im.why[0] != '\0');
		release_all(l, 1, &im);
	}
	{ /* os-release and debian_version disagree */
		struct tm_ent e[] = {FILE_ENT("etc/os-release", DEB12), FILE_ENT("etc/debian_version", "11.6\n")};
		index_ents(e, 2, &l[0]);
		build(l, 1, &im);
		CHECK_EQ(im.status, SCAN_FAILED);
		release_all(l, 1, &im);
	}
	{ /* scratch */
		struct tm_ent e[] = {FILE_ENT("app", "x")};
		index_ents(e, 1, &l[0]);
		build(l, 1, &im);
		CHECK_EQ(im.status, SCAN_UNSUPPORTED);
		CHECK_STR(im.why, "no known package database and no release file");
		release_all(l, 1, &im);
	}
	{ /* arch linux */
		struct tm_ent e[] = {FILE_ENT("etc/os-release", "ID=arch\nNAME=\"Arch Linux\"\n")};
		index_ents(e, 1, &l[0]);
		build(l, 1, &im);
		CHECK_EQ(im.status, SCAN_UNSUPPORTED);
		CHECK_STR(im.os.distro, "arch");
		release_all(l, 1, &im);
	}
	{ /* only rpm's ndb */
		struct tm_ent e[] = {FILE_ENT("etc/os-release", "ID=opensuse-leap\nVERSION_ID=\"15.5\"\n"),
				     FILE_ENT("usr/lib/sysimage/rpm/Packages.db", "ndb")};
		index_ents(e, 2, &l[0]);
		build(l, 1, &im);
		CHECK_EQ(im.status, SCAN_UNSUPPORTED);
		CHECK_STR(im.why, "rpm ndb database (Packages.db) is not supported");
		release_all(l, 1, &im);
	}
}

/* Symlink loops and links out of the watched set are absent files, not crashes. */
TEST(link_loops)
{
	struct scan_layer l[1];
	struct scan_image im;
	struct tm_ent e[] = {{.name = "etc/os-release", .type = '2', .link = "../usr/lib/os-release"},
			     {.name = "usr/lib/os-release", .type = '2', .link = "/etc/os-release"},
			     {.name = "etc/debian_version", .type = '2', .link = "../../../../../../etc/passwd"}};

	index_ents(e, 3, &l[0]);
	CHECK_EQ(l[0].n, 3);
	build(l, 1, &im);
	CHECK_EQ(im.status, SCAN_UNSUPPORTED);
	release_all(l, 1, &im);
}

/* Corrupt, truncated and bomb layers fail with a reason and leave the result empty. */
TEST(hostile_layers)
{
	char big[4096], why[256];
	struct scan_layer l;
	size_t n;
	unsigned char *z;
	struct tm_ent e[] = {FILE_ENT("etc/os-release", DEB12),
			     {.name = "big", .type = '0', .data = big, .size = sizeof big}};
	int rc;

	memset(big, 'A', sizeof big);
	z = mk_layer(e, 2, 1, &n);
	/* truncated gzip */
	why[0] = '\0';
	rc = index_mem(z, n / 2, NULL, &l, why, sizeof why);
	CHECK_EQ(rc, -BERTH_EINVAL);
	CHECK(why[0] != '\0');
	CHECK_EQ(l.n, 0);
	/* corrupt gzip */
	z[n / 2] ^= 0xff;
	z[n / 2 + 1] ^= 0xff;
	rc = index_mem(z, n, NULL, &l, why, sizeof why);
	CHECK(rc < 0);
	CHECK_EQ(l.n, 0);
	z[n / 2] ^= 0xff;
	z[n / 2 + 1] ^= 0xff;
	/* bomb: inflating more than max_out */
	{
		struct scan_index_limits lim = {.max_out = 2048};
		rc = index_mem(z, n, &lim, &l, why, sizeof why);
		CHECK_EQ(rc, -BERTH_ETOOBIG);
		CHECK(why[0] != '\0');
		CHECK_EQ(l.n, 0);
	}
	/* a watched file over max_file: recorded as too big, not read; the image fails */
	{
		struct scan_index_limits lim = {.max_file = 16};
		struct scan_image im;
		const struct scan_layer *one[] = {&l};
		CHECK_EQ(index_mem(z, n, &lim, &l, why, sizeof why), 0);
		CHECK_EQ(l.n, 1);
		CHECK(l.v[0].why != NULL);
		scan_image_init(&im);
		CHECK_EQ(scan_image_build(one, 1, &im), 0);
		CHECK_EQ(im.status, SCAN_FAILED);
		CHECK(strstr(im.why, "over the 16-byte limit") != NULL);
		scan_image_release(&im);
		scan_layer_release(&l);
	}
	free(z);
	/* a tar header with an absurd size */
	{
		struct tm_ent h[] = {
		    {.name = "etc/os-release", .type = '0', .data = "x", .size = 1, .fake_size = 1ull << 60}};
		z = mk_layer(h, 1, 0, &n);
		rc = index_mem(z, n, NULL, &l, why, sizeof why);
		CHECK(rc == -BERTH_ETOOBIG || rc == -BERTH_EINVAL);
		CHECK_EQ(l.n, 0);
		free(z);
	}
	/* plain garbage */
	rc = index_mem((const unsigned char *)"not a tar at all, clearly", 25, NULL, &l, why, sizeof why);
	CHECK(rc < 0);
	CHECK_EQ(l.n, 0);
}

/* encode/decode round trip, and every truncation or flipped header byte is refused or decoded
 * without a crash. */
TEST(encode_roundtrip)
{
	char s0[512] = "";
	struct scan_layer l, d;
	struct buf b, b2;
	struct scan_image im;

	dpkg_para(s0, sizeof s0, "a", "1.0", "asrc (0.9)");
	{
		struct tm_ent e[] = {FILE_ENT("etc/os-release", DEB12),
				     FILE_ENT("var/lib/dpkg/status", s0),
				     {.name = "var/.wh.cache", .type = '0'},
				     {.name = "lib/apk/db/.wh.installed", .type = '0'},
				     {.name = "var/lib/rpm/Packages.db", .type = '2', .link = "x"}};
		index_ents(e, 5, &l);
	}
	CHECK_EQ(l.n, 4);
	buf_init(&b, BUF_UNLIMITED);
	buf_init(&b2, BUF_UNLIMITED);
	CHECK_EQ(scan_layer_encode(&l, &b), 0);
	CHECK_EQ(scan_layer_decode(b.ptr, b.len, &d), 0);
	CHECK_EQ(scan_layer_encode(&d, &b2), 0);
	CHECK_EQ(b.len, b2.len);
	CHECK_MEM(b.ptr, b2.ptr, b.len);
	CHECK_EQ(d.entries, l.entries);
	for (size_t k = 0; k < b.len; k++) {
		struct scan_layer x;
		CHECK_EQ(scan_layer_decode(b.ptr, k, &x), -BERTH_EINVAL);
		CHECK_EQ(x.n, 0);
	}
	for (size_t k = 0; k < b.len; k++) {
		struct scan_layer x;
		b.ptr[k] ^= 0x80;
		if (scan_layer_decode(b.ptr, b.len, &x) == 0)
			scan_layer_release(&x);
		b.ptr[k] ^= 0x80;
	}
	/* package lists */
	{
		const struct scan_layer *one[] = {&d};
		struct scan_pkgs pk;
		uint32_t *lv = NULL, layers[1] = {7};
		scan_image_init(&im);
		CHECK_EQ(scan_image_build(one, 1, &im), 0);
		CHECK_EQ(im.pkgs.n, 1);
		buf_reset(&b);
		CHECK_EQ(scan_pkgs_encode(&im.pkgs, layers, &b), 0);
		scan_pkgs_init(&pk);
		CHECK_EQ(scan_pkgs_decode(b.ptr, b.len, &pk, &lv), 0);
		CHECK_EQ(pk.n, 1);
		CHECK_STR(pk.v[0].source, "asrc");
		CHECK_STR(pk.v[0].source_version, "0.9");
		CHECK_EQ(lv[0], 7);
		free(lv);
		for (size_t k = 0; k < b.len; k++)
			CHECK_EQ(scan_pkgs_decode(b.ptr, k, &pk, NULL), -BERTH_EINVAL);
		CHECK_EQ(pk.n, 1);
		scan_pkgs_release(&pk);
		scan_image_release(&im);
	}
	buf_release(&b);
	buf_release(&b2);
	scan_layer_release(&l);
	scan_layer_release(&d);
}

static const struct test tests[] = {
    T(watch_of),           T(debian_one_layer),
    T(attribution),        T(whiteout_status),
    T(statusd_opaque),     T(apk_replaced),
    T(rpmdb_sqlite_layer), T(malformed_status),
    T(malformed_rpmdb),    T(os_outcomes),
    T(link_loops),         T(hostile_layers),
    T(encode_roundtrip),   {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
