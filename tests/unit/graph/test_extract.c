/* Unit tests for graph/extract: hostile layers stay inside the root; metadata is reproduced; whiteouts
 * in overlay and apply modes. Each test works in a fresh temp dir T with T/root (the extraction root)
 * and T/outside (what a hostile layer aims at), and checks T/outside is byte-for-byte unchanged. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base/buf.h"
#include "base/err.h"
#include "graph/extract.h"
#include "graph/internal.h"
#include "image/layer.h"
#include "harness.h"
#include "tarmake.h"

static char T[256], ROOT[300], OUT[300];

static void setup(void)
{
	char path[400];
	int fd;

	snprintf(T, sizeof(T), "/tmp/berth-xt-XXXXXX");
	CHECK(mkdtemp(T) != NULL);
	snprintf(ROOT, sizeof(ROOT), "%s/root", T);
	snprintf(OUT, sizeof(OUT), "%s/outside", T);
	CHECK_EQ(mkdir(ROOT, 0755), 0);
	CHECK_EQ(mkdir(OUT, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", OUT);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "TOPSECRET", 9), 9);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", OUT);
	CHECK_EQ(mkdir(path, 0700), 0);
}

static void teardown(void)
{
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	graph__rm_rf_at(fd, T + 5);
	close(fd);
}

/* A listing of T/outside: names, modes, sizes, link counts, contents. */
static struct buf snap;
static int snap_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	buf_addf(&snap, "%s %o %lld %lu|", p, st->st_mode, (long long)st->st_size, (unsigned long)st->st_nlink);
	if (S_ISREG(st->st_mode)) {
		char b[64] = {0};
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, b, sizeof(b) - 1);
			buf_add(&snap, b, n > 0 ? (size_t)n : 0);
			close(fd);
		}
	}
	return 0;
}
static char *outside_state(void)
{
	buf_init(&snap, BUF_UNLIMITED);
	nftw(OUT, snap_cb, 16, FTW_PHYS);
	return buf_detach(&snap, NULL);
}

static int extract(const struct tm_buf *b, enum graph_wh_mode mode, char *why)
{
	struct tm_reader r = {b->p, b->len, 0, 0, 0};
	struct layer_walker *w;
	int fd = open(ROOT, O_RDONLY | O_DIRECTORY), rc;

	CHECK(fd >= 0);
	CHECK_EQ(layer_walker_new(&w, tm_read, &r, NULL), 0);
	rc = graph_extract(fd, w, mode, NULL, why, 512);
	layer_walker_free(w);
	close(fd);
	return rc;
}

static void rootpath(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", ROOT, rel);
}

static int lstat_rel(const char *rel, struct stat *st)
{
	char p[1024];
	rootpath(p, sizeof(p), rel);
	return lstat(p, st);
}

static char *read_rel(const char *rel)
{
	char p[1024], *s = NULL;
	rootpath(p, sizeof(p), rel);
	if (graph__read_file(p, 1 << 20, &s) < 0)
		return NULL;
	return s;
}

/* Runs one hostile tar in both modes; expects rc; T/outside must not change. */
static void hostile(struct tm_buf *b, int want_overlay, int want_apply, const char *why_has)
{
	int modes[2] = {GRAPH_WH_OVERLAY, GRAPH_WH_APPLY}, want[2] = {want_overlay, want_apply};

	for (int i = 0; i < 2; i++) {
		char why[512] = "", *before, *after;
		int rc;
		setup();
		before = outside_state();
		rc = extract(b, modes[i], why);
		after = outside_state();
		if (rc != want[i])
			FAIL_AT("mode %d: rc %d (%s), want %d", modes[i], rc, why, want[i]);
		if (why_has && rc < 0 && !strstr(why, why_has))
			FAIL_AT("mode %d: why \"%s\" lacks \"%s\"", modes[i], why, why_has);
		CHECK_STR(after, before);
		free(before);
		free(after);
		teardown();
	}
}

static char *outp(const char *suffix)
{
	static char bufs[4][512];
	static int k;
	char *p = bufs[k++ % 4];
	snprintf(p, 512, "%s%s", OUT, suffix);
	return p;
}

TEST(hostile_dotdot_name)
{
	struct tm_buf b = {0};
	tm_add(&b, &(struct tm_ent){.name = "../outside/secret", .data = "PWNED", .size = 5});
	tm_end(&b);
	hostile(&b, -BERTH_EINVAL, -BERTH_EINVAL, "escapes");
	free(b.p);
}

/* Every hostile tar below names T/outside by absolute path; T differs per setup(), so the tests build
 * the tar after setup() and run one mode per setup. */
static void hostile_built(void (*build)(struct tm_buf *), int want_overlay, int want_apply, const char *why_has,
			  void (*after_check)(int mode))
{
	for (int m = GRAPH_WH_OVERLAY; m <= GRAPH_WH_APPLY; m++) {
		struct tm_buf b = {0};
		char why[512] = "", *before, *after;
		int rc, want = m == GRAPH_WH_OVERLAY ? want_overlay : want_apply;

		setup();
		build(&b);
		tm_end(&b);
		before = outside_state();
		rc = extract(&b, m, why);
		after = outside_state();
		if (rc != want)
			FAIL_AT("mode %d: rc %d (%s), want %d", m, rc, why, want);
		if (why_has && rc < 0 && !strstr(why, why_has))
			FAIL_AT("mode %d: why \"%s\" lacks \"%s\"", m, why, why_has);
		CHECK_STR(after, before);
		if (after_check)
			after_check(m);
		free(before);
		free(after);
		free(b.p);
		teardown();
	}
}

static void b_absolute(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = outp("/secret"), .data = "PWNED", .size = 5});
}
static void c_absolute(int m)
{
	char *s = read_rel(outp("/secret") + 1);
	CHECK_STR(s, "PWNED");
	free(s);
}
TEST(hostile_absolute_name_lands_inside)
{
	hostile_built(b_absolute, 0, 0, NULL, c_absolute);
}

static void b_symlink_abs_then_write(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "link", .type = '2', .link = OUT});
	tm_add(b, &(struct tm_ent){.name = "link/secret", .data = "PWNED", .size = 5});
	tm_add(b, &(struct tm_ent){.name = "link/sub/new", .data = "PWNED", .size = 5});
}
static void c_symlink_abs_then_write(int m)
{
	char rel[600], *s;
	snprintf(rel, sizeof(rel), "%s/secret", OUT + 1);
	s = read_rel(rel); /* resolved inside the root: ROOT/T/outside/secret */
	CHECK_STR(s, "PWNED");
	free(s);
}
TEST(hostile_symlink_to_outside_then_write_through_it)
{
	hostile_built(b_symlink_abs_then_write, 0, 0, NULL, c_symlink_abs_then_write);
}

static void b_symlink_climb(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "a/b/up", .type = '2', .link = "../../../../../../../.."});
	tm_add(b, &(struct tm_ent){.name = "a/b/up/escaped", .data = "PWNED", .size = 5});
	tm_add(b, &(struct tm_ent){.name = "a/b/up/outside/secret", .data = "PWNED", .size = 5});
}
static void c_symlink_climb(int m)
{
	char *s = read_rel("escaped");
	char p[600];
	struct stat st;
	CHECK_STR(s, "PWNED");
	free(s);
	snprintf(p, sizeof(p), "%s/escaped", T);
	CHECK(lstat(p, &st) < 0);
}
TEST(hostile_relative_symlink_climbing_above_the_root)
{
	hostile_built(b_symlink_climb, 0, 0, NULL, c_symlink_climb);
}

static void b_symlink_replaces_dir(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "dir/", .type = '5'});
	tm_add(b, &(struct tm_ent){.name = "dir/a", .data = "a", .size = 1});
	tm_add(b, &(struct tm_ent){.name = "dir", .type = '2', .link = OUT});
	tm_add(b, &(struct tm_ent){.name = "dir/secret", .data = "PWNED", .size = 5});
	tm_add(b, &(struct tm_ent){.name = "dir/sub/", .type = '5', .mode = 0777});
}
static void c_symlink_replaces_dir(int m)
{
	struct stat st;
	char rel[600];
	CHECK_EQ(lstat_rel("dir", &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	snprintf(rel, sizeof(rel), "%s/sub", OUT + 1);
	CHECK_EQ(lstat_rel(rel, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0777);
}
TEST(hostile_symlink_replacing_a_directory_mid_archive)
{
	hostile_built(b_symlink_replaces_dir, 0, 0, NULL, c_symlink_replaces_dir);
}

static void b_hardlink_outside_abs(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "hl", .type = '1', .link = outp("/secret")});
}
TEST(hostile_hardlink_to_an_absolute_outside_path)
{
	hostile_built(b_hardlink_outside_abs, -BERTH_EINVAL, -BERTH_EINVAL, "hard link target", NULL);
}

static void b_hardlink_through_symlink(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "s", .type = '2', .link = OUT});
	tm_add(b, &(struct tm_ent){.name = "hl", .type = '1', .link = "s/secret"});
}
TEST(hostile_hardlink_through_a_symlink_to_outside)
{
	hostile_built(b_hardlink_through_symlink, -BERTH_EINVAL, -BERTH_EINVAL, "hard link target", NULL);
}

static void b_hardlink_dotdot(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "hl", .type = '1', .link = "../outside/secret"});
}
TEST(hostile_hardlink_with_dotdot)
{
	hostile_built(b_hardlink_dotdot, -BERTH_EINVAL, -BERTH_EINVAL, "escapes", NULL);
}

static void b_hardlink_to_symlink(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "s", .type = '2', .link = outp("/secret")});
	tm_add(b, &(struct tm_ent){.name = "hl", .type = '1', .link = "s"});
	tm_add(b, &(struct tm_ent){.name = "hl", .data = "PWNED", .size = 5}); /* replaces the link, not its target */
}
static void c_hardlink_to_symlink(int m)
{
	struct stat st;
	char *s = read_rel("hl");
	CHECK_STR(s, "PWNED");
	free(s);
	CHECK_EQ(lstat_rel("s", &st), 0);
	CHECK(S_ISLNK(st.st_mode));
}
TEST(hostile_hardlink_to_a_symlink_links_the_symlink)
{
	hostile_built(b_hardlink_to_symlink, 0, 0, NULL, c_hardlink_to_symlink);
}

static void b_file_over_symlink(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "f", .type = '2', .link = outp("/secret")});
	tm_add(b, &(struct tm_ent){.name = "f", .data = "PWNED", .size = 5});
	tm_add(b, &(struct tm_ent){.name = "d", .type = '2', .link = outp("/sub")});
	tm_add(b, &(struct tm_ent){.name = "d/", .type = '5', .mode = 0777});
	tm_add(b, &(struct tm_ent){.name = "dev", .type = '2', .link = outp("/secret")});
	tm_add(b, &(struct tm_ent){.name = "dev", .type = '6'});
}
static void c_file_over_symlink(int m)
{
	struct stat st;
	CHECK_EQ(lstat_rel("f", &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(lstat_rel("d", &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0777);
	CHECK_EQ(lstat_rel("dev", &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
}
TEST(hostile_entries_replace_symlinks_never_follow_them)
{
	hostile_built(b_file_over_symlink, 0, 0, NULL, c_file_over_symlink);
}

static void b_whiteout_through_symlink(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "s", .type = '2', .link = OUT});
	tm_add(b, &(struct tm_ent){.name = "s/.wh.secret"});
	tm_add(b, &(struct tm_ent){.name = "s/.wh..wh..opq"});
	tm_add(b, &(struct tm_ent){.name = "s2", .type = '2', .link = "../outside"});
	tm_add(b, &(struct tm_ent){.name = "s2/.wh.secret"});
	tm_add(b, &(struct tm_ent){.name = "s2/sub/.wh..wh..opq"});
}
TEST(hostile_whiteouts_through_symlinks_stay_inside)
{
	hostile_built(b_whiteout_through_symlink, 0, 0, NULL, NULL);
}

static void b_loop(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "a", .type = '2', .link = "b"});
	tm_add(b, &(struct tm_ent){.name = "b", .type = '2', .link = "a"});
	tm_add(b, &(struct tm_ent){.name = "a/x", .data = "x", .size = 1});
}
TEST(hostile_symlink_loop)
{
	hostile_built(b_loop, -BERTH_EINVAL, -BERTH_EINVAL, "a/x", NULL);
}

static void b_through_file(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "f", .data = "x", .size = 1});
	tm_add(b, &(struct tm_ent){.name = "f/x", .data = "x", .size = 1});
}
TEST(hostile_path_through_a_regular_file)
{
	hostile_built(b_through_file, -BERTH_EINVAL, -BERTH_EINVAL, "f/x", NULL);
}

static void b_hardlink_dir(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "d/", .type = '5'});
	tm_add(b, &(struct tm_ent){.name = "hl", .type = '1', .link = "d"});
}
TEST(hostile_hardlink_to_a_directory)
{
	hostile_built(b_hardlink_dir, -BERTH_EINVAL, -BERTH_EINVAL, "missing or a directory", NULL);
}

static void b_overlay_xattrs(struct tm_buf *b)
{
	tm_add(b, &(struct tm_ent){.name = "d/",
				   .type = '5',
				   .pax = "SCHILY.xattr.trusted.overlay.redirect=/etc\n"
					  "SCHILY.xattr.trusted.overlay.opaque=y\nSCHILY.xattr.user.ok=1"});
}
static void c_overlay_xattrs(int m)
{
	char p[600], v[16];
	rootpath(p, sizeof(p), "d");
	CHECK(getxattr(p, "trusted.overlay.redirect", v, sizeof(v)) < 0);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0);
	CHECK_EQ(getxattr(p, "user.ok", v, sizeof(v)), 1);
}
TEST(hostile_overlay_xattrs_are_dropped)
{
	hostile_built(b_overlay_xattrs, 0, 0, NULL, c_overlay_xattrs);
}

static void b_deep(struct tm_buf *b)
{
	/* a 300-level directory holding a relative symlink to another 300 levels: real depth 600 */
	static char deep[1200];
	char name[1300];
	size_t n = 0;
	for (int i = 0; i < 300; i++) {
		deep[n++] = 'a';
		deep[n++] = '/';
	}
	deep[n - 1] = 0;
	tm_add(b, &(struct tm_ent){.name = deep, .type = '5'});
	snprintf(name, sizeof(name), "%s/t", deep);
	tm_add(b, &(struct tm_ent){.name = name, .type = '2', .link = deep});
	snprintf(name, sizeof(name), "%s/t/x", deep);
	tm_add(b, &(struct tm_ent){.name = name, .data = "x", .size = 1});
}
TEST(hostile_depth_is_bounded)
{
	hostile_built(b_deep, -BERTH_ETOOBIG, -BERTH_ETOOBIG, NULL, NULL);
}

/* ---- reproduction ---- */

TEST(metadata_is_reproduced)
{
	struct tm_buf b = {0};
	struct stat st, st2;
	char p[600], v[64];
	char big[70000];

	setup();
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	tm_add(&b, &(struct tm_ent){.name = "./", .type = '5', .mode = 0751, .mtime = 1111111111});
	tm_add(&b,
	       &(struct tm_ent){.name = "usr/", .type = '5', .mode = 0750, .uid = 7, .gid = 8, .mtime = 1000000000});
	tm_add(&b, &(struct tm_ent){.name = "usr/su",
				    .mode = 04755,
				    .uid = 0,
				    .gid = 0,
				    .data = "su",
				    .size = 2,
				    .mtime = 1234567890,
				    .pax = "SCHILY.xattr.user.k=v\nmtime=1234567890.25"});
	tm_add(&b, &(struct tm_ent){
		       .name = "usr/sg", .mode = 02711, .uid = 1000, .gid = 50, .data = big, .size = sizeof(big)});
	tm_add(&b, &(struct tm_ent){.name = "usr/hl", .type = '1', .link = "usr/sg"});
	tm_add(&b, &(struct tm_ent){.name = "tmp/", .type = '5', .mode = 01777});
	tm_add(&b, &(struct tm_ent){.name = "usr/lnk", .type = '2', .link = "su", .uid = 3, .gid = 4, .mtime = 999});
	tm_add(&b, &(struct tm_ent){.name = "dev/null", .type = '3', .mode = 0666, .major = 1, .minor = 3});
	tm_add(&b, &(struct tm_ent){.name = "dev/sda", .type = '4', .mode = 0660, .major = 8, .minor = 1, .gid = 6});
	tm_add(&b, &(struct tm_ent){.name = "dev/fifo", .type = '6', .mode = 0620});
	tm_end(&b);
	CHECK_EQ(extract(&b, GRAPH_WH_OVERLAY, p), 0);

	CHECK_EQ(lstat(ROOT, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0751);
	CHECK_EQ(st.st_mtime, 1111111111);
	CHECK_EQ(lstat_rel("usr", &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0750);
	CHECK_EQ(st.st_uid, 7);
	CHECK_EQ(st.st_gid, 8);
	CHECK_EQ(st.st_mtime, 1000000000); /* set after su, sg, hl, lnk were created inside */
	CHECK_EQ(lstat_rel("usr/su", &st), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 04755);
	CHECK_EQ(st.st_mtime, 1234567890);
	CHECK_EQ(st.st_mtim.tv_nsec, 250000000);
	rootpath(p, sizeof(p), "usr/su");
	CHECK_EQ(getxattr(p, "user.k", v, sizeof(v)), 1);
	CHECK_EQ(lstat_rel("usr/sg", &st), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 02711);
	CHECK_EQ(st.st_uid, 1000);
	CHECK_EQ(st.st_gid, 50);
	CHECK_EQ(st.st_size, sizeof(big));
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(lstat_rel("usr/hl", &st2), 0);
	CHECK_EQ(st2.st_ino, st.st_ino);
	{
		char *s = read_rel("usr/hl");
		CHECK(s != NULL);
		CHECK_MEM(s, big, sizeof(big));
		free(s);
	}
	CHECK_EQ(lstat_rel("tmp", &st), 0);
	CHECK_EQ(st.st_mode & 07777, 01777);
	CHECK_EQ(lstat_rel("usr/lnk", &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_uid, 3);
	CHECK_EQ(st.st_gid, 4);
	CHECK_EQ(st.st_mtime, 999);
	CHECK_EQ(lstat_rel("dev/null", &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0666);
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 3);
	CHECK_EQ(lstat_rel("dev/sda", &st), 0);
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(minor(st.st_rdev), 1);
	CHECK_EQ(st.st_gid, 6);
	CHECK_EQ(lstat_rel("dev/fifo", &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0620);
	free(b.p);
	teardown();
}

TEST(overlay_whiteouts_become_devices_and_xattrs)
{
	struct tm_buf b = {0};
	struct stat st;
	char p[600], v[8];

	setup();
	tm_add(&b, &(struct tm_ent){.name = "etc/", .type = '5'});
	tm_add(&b, &(struct tm_ent){.name = "etc/.wh.passwd"});
	tm_add(&b, &(struct tm_ent){.name = "var/cache/.wh..wh..opq"});
	tm_add(&b, &(struct tm_ent){.name = "var/cache/kept", .data = "k", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = ".wh..wh.plnk/123", .data = "k", .size = 1});
	tm_end(&b);
	CHECK_EQ(extract(&b, GRAPH_WH_OVERLAY, p), 0);
	CHECK_EQ(lstat_rel("etc/passwd", &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_rdev, makedev(0, 0));
	CHECK(lstat_rel("etc/.wh.passwd", &st) < 0);
	rootpath(p, sizeof(p), "var/cache");
	CHECK_EQ(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	CHECK_EQ(v[0], 'y');
	CHECK_EQ(lstat_rel("var/cache/kept", &st), 0);
	free(b.p);
	teardown();
}

TEST(apply_whiteouts_delete_and_opaque_keeps_this_layer)
{
	struct tm_buf l1 = {0}, l2 = {0};
	struct stat st;
	char why[512];

	setup();
	tm_add(&l1, &(struct tm_ent){.name = "etc/", .type = '5'});
	tm_add(&l1, &(struct tm_ent){.name = "etc/passwd", .data = "root", .size = 4});
	tm_add(&l1, &(struct tm_ent){.name = "etc/group", .data = "root", .size = 4});
	tm_add(&l1, &(struct tm_ent){.name = "var/cache/old/deep", .data = "o", .size = 1});
	tm_add(&l1, &(struct tm_ent){.name = "var/cache/keepdir/lowerfile", .data = "o", .size = 1});
	tm_add(&l1, &(struct tm_ent){.name = "var/other", .data = "o", .size = 1});
	tm_end(&l1);
	tm_add(&l2, &(struct tm_ent){.name = "etc/.wh.passwd"});
	tm_add(&l2, &(struct tm_ent){.name = "etc/.wh.nothere"});
	tm_add(&l2, &(struct tm_ent){.name = "var/cache/new", .data = "n", .size = 1});
	tm_add(&l2, &(struct tm_ent){.name = "var/cache/keepdir/", .type = '5'});
	tm_add(&l2, &(struct tm_ent){.name = "var/cache/.wh..wh..opq"});
	tm_add(&l2, &(struct tm_ent){.name = "var/cache/after", .data = "a", .size = 1});
	tm_end(&l2);
	CHECK_EQ(extract(&l1, GRAPH_WH_APPLY, why), 0);
	CHECK_EQ(extract(&l2, GRAPH_WH_APPLY, why), 0);
	CHECK(lstat_rel("etc/passwd", &st) < 0);
	CHECK_EQ(lstat_rel("etc/group", &st), 0);
	CHECK(lstat_rel("var/cache/old", &st) < 0);
	CHECK_EQ(lstat_rel("var/cache/new", &st), 0);
	CHECK_EQ(lstat_rel("var/cache/after", &st), 0);
	CHECK_EQ(lstat_rel("var/cache/keepdir", &st), 0);
	CHECK(lstat_rel("var/cache/keepdir/lowerfile", &st) < 0);
	CHECK_EQ(lstat_rel("var/other", &st), 0);
	free(l1.p);
	free(l2.p);
	teardown();
}

TEST(replacing_a_directory_with_a_file_and_back)
{
	struct tm_buf b = {0};
	struct stat st;
	char why[512];
	char *s;

	setup();
	tm_add(&b, &(struct tm_ent){.name = "x/", .type = '5'});
	tm_add(&b, &(struct tm_ent){.name = "x/y/z", .data = "z", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = "x", .data = "file", .size = 4});
	tm_add(&b, &(struct tm_ent){.name = "f", .data = "1", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = "f/", .type = '5', .mode = 0700});
	tm_add(&b, &(struct tm_ent){.name = "f/g", .data = "2", .size = 1});
	tm_end(&b);
	CHECK_EQ(extract(&b, GRAPH_WH_APPLY, why), 0);
	s = read_rel("x");
	CHECK_STR(s, "file");
	free(s);
	CHECK_EQ(lstat_rel("f", &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(lstat_rel("f/g", &st), 0);
	free(b.p);
	teardown();
}

TEST(walker_errors_stop_extraction)
{
	struct tm_buf b = {0};
	char why[512] = "";

	setup();
	tm_add(&b, &(struct tm_ent){.name = "ok", .data = "x", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = "huge", .data = "x", .size = 1, .fake_size = 1ull << 50});
	tm_end(&b);
	CHECK_EQ(extract(&b, GRAPH_WH_OVERLAY, why), -BERTH_ETOOBIG);
	CHECK(strstr(why, "huge") != NULL);
	free(b.p);
	teardown();
}

static const struct test tests[] = {
    T(hostile_dotdot_name),
    T(hostile_absolute_name_lands_inside),
    T(hostile_symlink_to_outside_then_write_through_it),
    T(hostile_relative_symlink_climbing_above_the_root),
    T(hostile_symlink_replacing_a_directory_mid_archive),
    T(hostile_hardlink_to_an_absolute_outside_path),
    T(hostile_hardlink_through_a_symlink_to_outside),
    T(hostile_hardlink_with_dotdot),
    T(hostile_hardlink_to_a_symlink_links_the_symlink),
    T(hostile_entries_replace_symlinks_never_follow_them),
    T(hostile_whiteouts_through_symlinks_stay_inside),
    T(hostile_symlink_loop),
    T(hostile_path_through_a_regular_file),
    T(hostile_hardlink_to_a_directory),
    T(hostile_overlay_xattrs_are_dropped),
    T(hostile_depth_is_bounded),
    T(metadata_is_reproduced),
    T(overlay_whiteouts_become_devices_and_xattrs),
    T(apply_whiteouts_delete_and_opaque_keeps_this_layer),
    T(replacing_a_directory_with_a_file_and_back),
    T(walker_errors_stop_extraction),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
