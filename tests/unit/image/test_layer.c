/* Unit tests for image/decomp (streaming decompression + digests + bounds) and image/layer (tar walker). */
#include <stdlib.h>

#include "base/digest.h"
#include "base/err.h"
#include "image/decomp.h"
#include "image/layer.h"
#include "harness.h"
#include "tarmake.h"

static void sha(const void *p, size_t n, char out[DIGEST_STR_MAX])
{
	struct digest d;
	digest_of(DIGEST_SHA256, p, n, &d);
	digest_str(&d, out);
}

/* A tar with a few files of pseudo-random content; caller frees. */
static struct tm_buf sample_tar(size_t filesize)
{
	struct tm_buf b = {0};
	unsigned char *data = malloc(filesize);
	uint32_t x = 12345;

	for (size_t i = 0; i < filesize; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)((x >> 16) % 7 == 0 ? x >> 8 : 'a' + (x >> 20) % 4);
	}
	tm_add(&b, &(struct tm_ent){.name = "dir/", .type = '5'});
	tm_add(&b, &(struct tm_ent){.name = "dir/file", .data = data, .size = filesize});
	tm_add(&b, &(struct tm_ent){.name = "dir/small", .data = "hello\n", .size = 6});
	tm_end(&b);
	free(data);
	return b;
}

/* Decompresses everything; returns rc of finish and the output in *out. */
static int run_decomp(const void *in, size_t inn, size_t chunk, const struct decomp_opts *o, struct tm_buf *out,
		      struct decomp_result *res)
{
	struct tm_reader r = {in, inn, 0, chunk, 0};
	struct decomp *d;
	unsigned char buf[7000];
	ssize_t n;
	int rc;

	CHECK_EQ(decomp_new(&d, tm_read, &r, o), 0);
	while ((n = decomp_read(d, buf, sizeof(buf))) > 0)
		tmb_add(out, buf, (size_t)n);
	rc = n < 0 ? (int)n : decomp_finish(d, res);
	decomp_free(d);
	return rc;
}

static void check_roundtrip(const unsigned char *comp, size_t compn, const struct tm_buf *tar, enum decomp_format f,
			    enum decomp_engine eng, size_t chunk)
{
	struct decomp_opts o = {.engine = eng};
	struct tm_buf out = {0};
	struct decomp_result res;
	char a[DIGEST_STR_MAX], b[DIGEST_STR_MAX], want_in[DIGEST_STR_MAX], want_out[DIGEST_STR_MAX];

	CHECK_EQ(run_decomp(comp, compn, chunk, &o, &out, &res), 0);
	CHECK_EQ(res.format, f);
	CHECK_EQ(out.len, tar->len);
	CHECK_MEM(out.p, tar->p, tar->len);
	CHECK_EQ(res.in_bytes, compn);
	CHECK_EQ(res.out_bytes, tar->len);
	sha(comp, compn, want_in);
	sha(tar->p, tar->len, want_out);
	CHECK_STR(digest_str(&res.in_digest, a), want_in);
	CHECK_STR(digest_str(&res.out_digest, b), want_out);
	free(out.p);
}

TEST(decomp_tar_passthrough)
{
	struct tm_buf tar = sample_tar(300000);
	check_roundtrip(tar.p, tar.len, &tar, DECOMP_TAR, DECOMP_ENGINE_AUTO, 0);
	check_roundtrip(tar.p, tar.len, &tar, DECOMP_TAR, DECOMP_ENGINE_AUTO, 1000);
	free(tar.p);
}

TEST(decomp_gzip_both_engines_any_chunking)
{
	struct tm_buf tar = sample_tar(500000);
	size_t gzn;
	unsigned char *gz = tm_gzip(tar.p, tar.len, &gzn);

	check_roundtrip(gz, gzn, &tar, DECOMP_GZIP, DECOMP_ENGINE_ZLIB, 0);
	check_roundtrip(gz, gzn, &tar, DECOMP_GZIP, DECOMP_ENGINE_ZLIB, 1);
	if (decomp_engine_available(DECOMP_ENGINE_ISAL)) {
		check_roundtrip(gz, gzn, &tar, DECOMP_GZIP, DECOMP_ENGINE_ISAL, 0);
		check_roundtrip(gz, gzn, &tar, DECOMP_GZIP, DECOMP_ENGINE_ISAL, 1);
		check_roundtrip(gz, gzn, &tar, DECOMP_GZIP, DECOMP_ENGINE_ISAL, 4097);
	}
	free(gz);
	free(tar.p);
}

TEST(decomp_gzip_multi_member)
{
	struct tm_buf tar = sample_tar(100000), cat = {0};
	size_t n1, n2;
	unsigned char *g1 = tm_gzip(tar.p, 70000, &n1), *g2 = tm_gzip(tar.p + 70000, tar.len - 70000, &n2);

	tmb_add(&cat, g1, n1);
	tmb_add(&cat, g2, n2);
	check_roundtrip(cat.p, cat.len, &tar, DECOMP_GZIP, DECOMP_ENGINE_ZLIB, 0);
	check_roundtrip(cat.p, cat.len, &tar, DECOMP_GZIP, DECOMP_ENGINE_ZLIB, 333);
	if (decomp_engine_available(DECOMP_ENGINE_ISAL)) {
		check_roundtrip(cat.p, cat.len, &tar, DECOMP_GZIP, DECOMP_ENGINE_ISAL, 0);
		check_roundtrip(cat.p, cat.len, &tar, DECOMP_GZIP, DECOMP_ENGINE_ISAL, 333);
	}
	free(g1);
	free(g2);
	free(cat.p);
	free(tar.p);
}

TEST(decomp_zstd_multi_frame)
{
	struct tm_buf tar = sample_tar(200000), cat = {0};
	size_t n1, n2;
	unsigned char *z1 = tm_zstd(tar.p, 1000, &n1), *z2 = tm_zstd(tar.p + 1000, tar.len - 1000, &n2);

	tmb_add(&cat, z1, n1);
	tmb_add(&cat, z2, n2);
	check_roundtrip(cat.p, cat.len, &tar, DECOMP_ZSTD, DECOMP_ENGINE_AUTO, 0);
	check_roundtrip(cat.p, cat.len, &tar, DECOMP_ZSTD, DECOMP_ENGINE_AUTO, 5);
	free(z1);
	free(z2);
	free(cat.p);
	free(tar.p);
}

static void expect_fail(const unsigned char *p, size_t n, enum decomp_engine eng, int want, const char *why)
{
	struct decomp_opts o = {.engine = eng};
	struct tm_buf out = {0};
	struct decomp_result res;
	struct tm_reader r = {p, n, 0, 0, 0};
	struct decomp *d;
	unsigned char buf[65536];
	ssize_t k;
	int rc;

	CHECK_EQ(decomp_new(&d, tm_read, &r, &o), 0);
	while ((k = decomp_read(d, buf, sizeof(buf))) > 0)
		;
	rc = k < 0 ? (int)k : decomp_finish(d, &res);
	CHECK_EQ(rc, want);
	if (why && !strstr(decomp_why(d), why))
		FAIL_AT("why \"%s\" lacks \"%s\"", decomp_why(d), why);
	/* errors are sticky */
	CHECK_EQ(decomp_read(d, buf, sizeof(buf)), want);
	decomp_free(d);
	free(out.p);
}

TEST(decomp_truncated_and_corrupt_gzip)
{
	struct tm_buf tar = sample_tar(200000);
	size_t gzn;
	unsigned char *gz = tm_gzip(tar.p, tar.len, &gzn);
	enum decomp_engine engines[2] = {DECOMP_ENGINE_ZLIB, DECOMP_ENGINE_ISAL};

	for (int i = 0; i < 2; i++) {
		if (!decomp_engine_available(engines[i]))
			continue;
		expect_fail(gz, gzn / 2, engines[i], -BERTH_EINVAL, "truncated");
		expect_fail(gz, gzn - 4, engines[i], -BERTH_EINVAL, NULL); /* trailer cut: size missing */
		gz[gzn / 2] ^= 0x55;
		gz[gzn / 2 + 1] ^= 0xaa;
		expect_fail(gz, gzn, engines[i], -BERTH_EINVAL, "corrupt gzip");
		gz[gzn / 2] ^= 0x55;
		gz[gzn / 2 + 1] ^= 0xaa;
		gz[gzn - 6] ^= 1; /* CRC32 of the data */
		expect_fail(gz, gzn, engines[i], -BERTH_EINVAL, "corrupt gzip");
		gz[gzn - 6] ^= 1;
	}
	free(gz);
	free(tar.p);
}

TEST(decomp_trailing_garbage_after_gzip)
{
	struct tm_buf tar = sample_tar(1000), cat = {0};
	size_t gzn;
	unsigned char *gz = tm_gzip(tar.p, tar.len, &gzn);

	tmb_add(&cat, gz, gzn);
	tmb_add(&cat, "\0\0\0\0garbage", 11);
	expect_fail(cat.p, cat.len, DECOMP_ENGINE_ZLIB, -BERTH_EINVAL, "after the end");
	if (decomp_engine_available(DECOMP_ENGINE_ISAL))
		expect_fail(cat.p, cat.len, DECOMP_ENGINE_ISAL, -BERTH_EINVAL, "after the end");
	free(gz);
	free(cat.p);
	free(tar.p);
}

TEST(decomp_truncated_and_corrupt_zstd)
{
	struct tm_buf tar = sample_tar(200000);
	size_t zn;
	unsigned char *z = tm_zstd(tar.p, tar.len, &zn);

	expect_fail(z, zn / 2, DECOMP_ENGINE_AUTO, -BERTH_EINVAL, "truncated zstd");
	expect_fail(z, 6, DECOMP_ENGINE_AUTO, -BERTH_EINVAL, NULL);
	z[zn / 2] ^= 0xff;
	z[zn / 2 + 3] ^= 0xff;
	expect_fail(z, zn, DECOMP_ENGINE_AUTO, -BERTH_EINVAL, "corrupt zstd");
	free(z);
	free(tar.p);
}

/* 64 MiB of zeros compress to ~64 KiB; a 1 MiB bound must stop it without inflating it all. */
static void bomb(int zstd, enum decomp_engine eng)
{
	size_t big = 64u << 20, cn;
	unsigned char *zeros = calloc(1, big);
	unsigned char *c = zstd ? tm_zstd(zeros, big, &cn) : tm_gzip(zeros, big, &cn);
	struct decomp_opts o = {.max_out = 1u << 20, .engine = eng};
	struct tm_reader r = {c, cn, 0, 0, 0};
	struct decomp *d;
	unsigned char buf[65536];
	ssize_t k;
	uint64_t total = 0;

	free(zeros);
	CHECK(cn < big / 100);
	CHECK_EQ(decomp_new(&d, tm_read, &r, &o), 0);
	while ((k = decomp_read(d, buf, sizeof(buf))) > 0)
		total += (uint64_t)k;
	CHECK_EQ(k, -BERTH_ETOOBIG);
	CHECK(total <= (1u << 20));
	CHECK(strstr(decomp_why(d), "inflates to more than 1048576") != NULL);
	decomp_free(d);
	free(c);
}

TEST(decomp_bombs_stop_at_the_bound)
{
	bomb(0, DECOMP_ENGINE_ZLIB);
	if (decomp_engine_available(DECOMP_ENGINE_ISAL))
		bomb(0, DECOMP_ENGINE_ISAL);
	bomb(1, DECOMP_ENGINE_AUTO);
}

TEST(decomp_max_in_and_read_errors)
{
	struct tm_buf tar = sample_tar(10000);
	struct decomp_opts o = {.max_in = 5000};
	struct tm_reader r = {tar.p, tar.len, 0, 0, 0};
	struct decomp *d;
	unsigned char buf[65536];
	ssize_t k;

	CHECK_EQ(decomp_new(&d, tm_read, &r, &o), 0);
	while ((k = decomp_read(d, buf, 1000)) > 0)
		;
	CHECK_EQ(k, -BERTH_ETOOBIG);
	decomp_free(d);

	/* the callback's own error comes back unchanged */
	r = (struct tm_reader){tar.p, 3000, 0, 0, -BERTH_EIO};
	CHECK_EQ(decomp_new(&d, tm_read, &r, NULL), 0);
	while ((k = decomp_read(d, buf, sizeof(buf))) > 0)
		;
	CHECK_EQ(k, -BERTH_EIO);
	decomp_free(d);
	free(tar.p);
}

TEST(decomp_empty_input_is_an_empty_tar)
{
	struct tm_buf out = {0};
	struct decomp_result res;
	char a[DIGEST_STR_MAX];

	CHECK_EQ(run_decomp("", 0, 0, NULL, &out, &res), 0);
	CHECK_EQ(res.format, DECOMP_TAR);
	CHECK_EQ(res.out_bytes, 0);
	CHECK_STR(digest_str(&res.out_digest, a),
		  "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---- the walker ---- */

struct walk {
	struct tm_reader r;
	struct layer_walker *w;
};

static void walk_open(struct walk *wk, const struct tm_buf *b)
{
	wk->r = (struct tm_reader){b->p, b->len, 0, 0, 0};
	CHECK_EQ(layer_walker_new(&wk->w, tm_read, &wk->r, NULL), 0);
}

static const struct layer_entry *next_ok(struct walk *wk)
{
	const struct layer_entry *e = NULL;
	int rc = layer_walker_next(wk->w, &e);
	if (rc != 1)
		FAIL_AT("layer_walker_next: %d (%s)", rc, layer_walker_why(wk->w));
	return e;
}

TEST(layer_entries_all_types_and_metadata)
{
	struct tm_buf b = {0};
	struct walk wk;
	const struct layer_entry *e;
	char buf[64];

	tm_add(&b, &(struct tm_ent){.name = "./", .type = '5', .mode = 0755});
	tm_add(&b, &(struct tm_ent){.name = "./usr/", .type = '5', .mode = 01777, .uid = 5, .gid = 6});
	tm_add(&b, &(struct tm_ent){.name = "./usr/bin/su",
				    .mode = 04755,
				    .data = "ELF!",
				    .size = 4,
				    .mtime = 1234567890,
				    .pax = "SCHILY.xattr.user.note=hi there\nSCHILY.xattr.security.capability=xy\n"
					   "mtime=1234567890.5"});
	tm_add(&b, &(struct tm_ent){.name = "usr/bin/su2", .type = '1', .link = "./usr/bin/su"});
	tm_add(&b, &(struct tm_ent){.name = "usr/lnk", .type = '2', .link = "/etc/../../outside"});
	tm_add(&b, &(struct tm_ent){.name = "dev/null", .type = '3', .mode = 0666, .major = 1, .minor = 3});
	tm_add(&b, &(struct tm_ent){.name = "dev/sda", .type = '4', .mode = 0660, .major = 8, .minor = 0});
	tm_add(&b, &(struct tm_ent){.name = "run/fifo", .type = '6', .mode = 0600});
	tm_end(&b);
	walk_open(&wk, &b);

	e = next_ok(&wk);
	CHECK_STR(e->path, "");
	CHECK_EQ(e->type, LAYER_DIR);
	e = next_ok(&wk);
	CHECK_STR(e->path, "usr");
	CHECK_EQ(e->mode, 01777);
	CHECK_EQ(e->uid, 5);
	CHECK_EQ(e->gid, 6);
	e = next_ok(&wk);
	CHECK_STR(e->path, "usr/bin/su");
	CHECK_EQ(e->type, LAYER_REG);
	CHECK_EQ(e->mode, 04755);
	CHECK_EQ(e->size, 4);
	CHECK_EQ(e->mtime_sec, 1234567890);
	CHECK_EQ(e->mtime_nsec, 500000000);
	CHECK_EQ(e->nxattrs, 2);
	{
		int u = strcmp(e->xattrs[0].name, "user.note") == 0 ? 0 : 1;
		CHECK_STR(e->xattrs[u].name, "user.note");
		CHECK_EQ(e->xattrs[u].size, 8);
		CHECK_MEM(e->xattrs[u].value, "hi there", 8);
		CHECK_STR(e->xattrs[1 - u].name, "security.capability");
		CHECK_MEM(e->xattrs[1 - u].value, "xy", 2);
	}
	CHECK_EQ(layer_walker_read(wk.w, buf, sizeof(buf)), 4);
	CHECK_MEM(buf, "ELF!", 4);
	CHECK_EQ(layer_walker_read(wk.w, buf, sizeof(buf)), 0);
	e = next_ok(&wk);
	CHECK_EQ(e->type, LAYER_HARDLINK);
	CHECK_STR(e->link, "usr/bin/su");
	e = next_ok(&wk);
	CHECK_EQ(e->type, LAYER_SYMLINK);
	CHECK_STR(e->link, "/etc/../../outside"); /* symlink targets are data, kept verbatim */
	e = next_ok(&wk);
	CHECK_EQ(e->type, LAYER_CHR);
	CHECK_EQ(e->devmajor, 1);
	CHECK_EQ(e->devminor, 3);
	e = next_ok(&wk);
	CHECK_EQ(e->type, LAYER_BLK);
	CHECK_EQ(e->devmajor, 8);
	e = next_ok(&wk);
	CHECK_EQ(e->type, LAYER_FIFO);
	CHECK_STR(e->path, "run/fifo");
	CHECK_EQ(layer_walker_next(wk.w, &e), 0);
	CHECK_EQ(layer_walker_count(wk.w), 8);
	layer_walker_free(wk.w);
	free(b.p);
}

TEST(layer_path_normalization)
{
	char out[64];

	CHECK_EQ(layer_path_normalize("./a//b/./c/", out, sizeof(out)), 0);
	CHECK_STR(out, "a/b/c");
	CHECK_EQ(layer_path_normalize("/etc/passwd", out, sizeof(out)), 0);
	CHECK_STR(out, "etc/passwd");
	CHECK_EQ(layer_path_normalize("./", out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_EQ(layer_path_normalize("..", out, sizeof(out)), -BERTH_EINVAL);
	CHECK_EQ(layer_path_normalize("a/../b", out, sizeof(out)), -BERTH_EINVAL);
	CHECK_EQ(layer_path_normalize("../../etc/passwd", out, sizeof(out)), -BERTH_EINVAL);
	CHECK_EQ(layer_path_normalize("a/..", out, sizeof(out)), -BERTH_EINVAL);
	CHECK_EQ(layer_path_normalize("a/..b/c..", out, sizeof(out)), 0);
	CHECK_STR(out, "a/..b/c..");
	CHECK_EQ(layer_path_normalize("abcdefgh", out, 4), -BERTH_EINVAL);
}

static void expect_walk_error(const struct tm_buf *b, int want, const char *why)
{
	struct walk wk;
	const struct layer_entry *e;
	int rc;
	char buf[4096];

	walk_open(&wk, b);
	while ((rc = layer_walker_next(wk.w, &e)) > 0)
		while ((rc = (int)layer_walker_read(wk.w, buf, sizeof(buf))) > 0)
			;
	if (rc == 0)
		rc = layer_walker_next(wk.w, &e);
	CHECK_EQ(rc, want);
	if (why && !strstr(layer_walker_why(wk.w), why))
		FAIL_AT("why \"%s\" lacks \"%s\"", layer_walker_why(wk.w), why);
	layer_walker_free(wk.w);
}

TEST(layer_hostile_names_are_refused)
{
	const char *bad[] = {"../evil", "a/../../evil", "./..", "a/b/../c", NULL};

	for (int i = 0; bad[i]; i++) {
		struct tm_buf b = {0};
		tm_add(&b, &(struct tm_ent){.name = bad[i], .data = "x", .size = 1});
		tm_end(&b);
		expect_walk_error(&b, -BERTH_EINVAL, "path escapes the layer");
		free(b.p);
	}
	{
		struct tm_buf b = {0};
		tm_add(&b, &(struct tm_ent){.name = "ok", .data = "x", .size = 1});
		tm_add(&b, &(struct tm_ent){.name = "link", .type = '1', .link = "../../etc/shadow"});
		tm_end(&b);
		expect_walk_error(&b, -BERTH_EINVAL, "hard link target escapes");
		free(b.p);
	}
	{
		struct tm_buf b = {0};
		char longname[300];
		memset(longname, 'a', 299);
		longname[299] = 0;
		tm_add(&b, &(struct tm_ent){.name = longname, .data = "x", .size = 1}); /* one 299-byte component */
		tm_end(&b);
		expect_walk_error(&b, -BERTH_EINVAL, "too long");
		free(b.p);
	}
	{
		struct tm_buf b = {0};
		tm_add(&b, &(struct tm_ent){.name = ".", .type = '2', .link = "/"});
		tm_end(&b);
		expect_walk_error(&b, -BERTH_EINVAL, "root entry is not a directory");
		free(b.p);
	}
	{
		struct tm_buf b = {0};
		tm_add(&b, &(struct tm_ent){.name = "a/.wh.", .data = "", .size = 0});
		tm_end(&b);
		expect_walk_error(&b, -BERTH_EINVAL, "invalid whiteout");
		free(b.p);
	}
}

TEST(layer_absurd_headers_are_refused)
{
	struct tm_buf b = {0};

	/* a size of 2^50 bytes in base-256: refused before any content is read */
	tm_add(&b, &(struct tm_ent){.name = "huge", .data = "x", .size = 1, .fake_size = 1ull << 50});
	tm_end(&b);
	expect_walk_error(&b, -BERTH_ETOOBIG, "over the limit");
	free(b.p);

	memset(&b, 0, sizeof(b));
	tm_add(&b, &(struct tm_ent){.name = "f", .data = "x", .size = 1, .bad_checksum = 1});
	tm_end(&b);
	expect_walk_error(&b, -BERTH_EINVAL, "not a tar archive");
	free(b.p);

	memset(&b, 0, sizeof(b));
	tm_add(&b, &(struct tm_ent){.name = "ok", .data = "x", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = "f", .data = "x", .size = 1, .bad_checksum = 1});
	tm_end(&b);
	expect_walk_error(&b, -BERTH_EINVAL, "malformed tar after 1 entries");
	free(b.p);

	memset(&b, 0, sizeof(b));
	tm_add(&b, &(struct tm_ent){.name = "f", .data = "x", .size = 1, .pax = "uid=4294967295"});
	tm_end(&b);
	expect_walk_error(&b, -BERTH_EINVAL, "invalid owner");
	free(b.p);
}

TEST(layer_truncated_and_garbage_streams)
{
	struct tm_buf b = {0};
	char data[3000];

	memset(data, 'q', sizeof(data));
	tm_add(&b, &(struct tm_ent){.name = "f", .data = data, .size = sizeof(data)});
	b.len = 512 + 1000; /* the header promises 3000 bytes; the stream ends after 1000 */
	expect_walk_error(&b, -BERTH_EINVAL, "f:");
	free(b.p);

	memset(&b, 0, sizeof(b));
	tmb_add(&b, "this is not a tar archive at all, just some text that goes on", 62);
	expect_walk_error(&b, -BERTH_EINVAL, NULL);
	free(b.p);
}

TEST(layer_read_errors_pass_through)
{
	struct tm_buf b = {0};
	char data[3000] = {0};
	struct walk wk;
	const struct layer_entry *e;
	char buf[512];
	ssize_t k;

	tm_add(&b, &(struct tm_ent){.name = "f", .data = data, .size = sizeof(data)});
	wk.r = (struct tm_reader){b.p, 1024, 0, 0, -BERTH_EDIGEST};
	CHECK_EQ(layer_walker_new(&wk.w, tm_read, &wk.r, NULL), 0);
	CHECK_EQ(layer_walker_next(wk.w, &e), 1);
	while ((k = layer_walker_read(wk.w, buf, sizeof(buf))) > 0)
		;
	CHECK_EQ(k, -BERTH_EDIGEST);
	CHECK_EQ(layer_walker_next(wk.w, &e), -BERTH_EDIGEST);
	layer_walker_free(wk.w);
	free(b.p);
}

TEST(layer_whiteouts_are_classified)
{
	struct tm_buf b = {0};
	struct walk wk;
	const struct layer_entry *e;

	tm_add(&b, &(struct tm_ent){.name = "etc/.wh.passwd"});
	tm_add(&b, &(struct tm_ent){.name = "var/cache/.wh..wh..opq"});
	tm_add(&b, &(struct tm_ent){.name = ".wh..wh.plnk", .type = '5'});
	tm_add(&b, &(struct tm_ent){.name = ".wh.top"});
	tm_end(&b);
	walk_open(&wk, &b);
	e = next_ok(&wk);
	CHECK_EQ(e->wh, LAYER_WH_FILE);
	CHECK_STR(e->path, "etc/passwd");
	CHECK_STR(e->raw_path, "etc/.wh.passwd");
	e = next_ok(&wk);
	CHECK_EQ(e->wh, LAYER_WH_OPAQUE);
	CHECK_STR(e->path, "var/cache");
	e = next_ok(&wk);
	CHECK_EQ(e->wh, LAYER_WH_META);
	e = next_ok(&wk);
	CHECK_EQ(e->wh, LAYER_WH_FILE);
	CHECK_STR(e->path, "top");
	CHECK_EQ(layer_walker_next(wk.w, &e), 0);
	layer_walker_free(wk.w);
	free(b.p);
}

TEST(layer_filter_skips_unwanted_content)
{
	struct tm_buf b = {0};
	struct walk wk;
	const struct layer_entry *e;
	const char *want[] = {"var/lib/dpkg/status", "etc/*-release", NULL};
	char buf[64];

	tm_add(&b, &(struct tm_ent){.name = "usr/bin/big", .data = "0123456789", .size = 10});
	tm_add(&b, &(struct tm_ent){.name = "etc/os-release", .data = "ID=debian\n", .size = 10});
	tm_add(&b, &(struct tm_ent){.name = "etc/sub/x-release", .data = "no", .size = 2});
	tm_add(&b, &(struct tm_ent){.name = "var/lib/dpkg/.wh.status-old"});
	tm_add(&b, &(struct tm_ent){.name = "var/lib/dpkg/status", .data = "Package: a\n", .size = 11});
	tm_end(&b);
	walk_open(&wk, &b);
	CHECK_EQ(layer_walker_set_filter(wk.w, want), 0);
	e = next_ok(&wk);
	CHECK_STR(e->path, "etc/os-release");
	CHECK_EQ(layer_walker_read(wk.w, buf, sizeof(buf)), 10);
	CHECK_MEM(buf, "ID=debian\n", 10);
	e = next_ok(&wk);
	CHECK_EQ(e->wh, LAYER_WH_FILE);
	CHECK_STR(e->path, "var/lib/dpkg/status-old");
	e = next_ok(&wk);
	CHECK_STR(e->path, "var/lib/dpkg/status");
	CHECK_EQ(layer_walker_next(wk.w, &e), 0);
	CHECK_EQ(layer_walker_count(wk.w), 5);
	layer_walker_free(wk.w);
	free(b.p);
}

TEST(layer_long_names_and_utf8)
{
	struct tm_buf b = {0};
	struct walk wk;
	const struct layer_entry *e;
	char name[400];

	snprintf(name, sizeof(name), "%s/%s/%s", "a123456789a123456789a123456789a123456789a123456789",
		 "b123456789b123456789b123456789b123456789b123456789b123456789b123456789",
		 "c123456789c123456789c123456789c123456789c123456789.txt");
	tm_add(&b, &(struct tm_ent){.name = name, .data = "x", .size = 1});
	tm_add(&b, &(struct tm_ent){.name = "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac",
				    .data = "y",
				    .size = 1,
				    .pax = "path=caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"});
	tm_end(&b);
	walk_open(&wk, &b);
	e = next_ok(&wk);
	CHECK_STR(e->path, name);
	e = next_ok(&wk);
	CHECK_STR(e->path, "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
	layer_walker_free(wk.w);
	free(b.p);
}

TEST(layer_through_decomp_gzip)
{
	struct tm_buf tar = sample_tar(100000);
	size_t gzn;
	unsigned char *gz = tm_gzip(tar.p, tar.len, &gzn);
	struct tm_reader r = {gz, gzn, 0, 0, 0};
	struct decomp *d;
	struct layer_walker *w;
	const struct layer_entry *e;
	struct decomp_result res;
	char buf[4096], a[DIGEST_STR_MAX], want[DIGEST_STR_MAX];
	uint64_t total = 0;
	ssize_t k;

	CHECK_EQ(decomp_new(&d, tm_read, &r, NULL), 0);
	CHECK_EQ(layer_walker_new(&w, (layer_read_fn)decomp_read, d, NULL), 0);
	while (layer_walker_next(w, &e) > 0)
		while ((k = layer_walker_read(w, buf, sizeof(buf))) > 0)
			total += (uint64_t)k;
	CHECK_EQ(total, 100006);
	CHECK_EQ(decomp_finish(d, &res), 0);
	sha(tar.p, tar.len, want);
	CHECK_STR(digest_str(&res.out_digest, a), want);
	CHECK_EQ(res.out_bytes, tar.len);
	layer_walker_free(w);
	decomp_free(d);
	free(gz);
	free(tar.p);
}

static const struct test tests[] = {
    T(decomp_tar_passthrough),
    T(decomp_gzip_both_engines_any_chunking),
    T(decomp_gzip_multi_member),
    T(decomp_zstd_multi_frame),
    T(decomp_truncated_and_corrupt_gzip),
    T(decomp_trailing_garbage_after_gzip),
    T(decomp_truncated_and_corrupt_zstd),
    T(decomp_bombs_stop_at_the_bound),
    T(decomp_max_in_and_read_errors),
    T(decomp_empty_input_is_an_empty_tar),
    T(layer_entries_all_types_and_metadata),
    T(layer_path_normalization),
    T(layer_hostile_names_are_refused),
    T(layer_absurd_headers_are_refused),
    T(layer_truncated_and_garbage_streams),
    T(layer_read_errors_pass_through),
    T(layer_whiteouts_are_classified),
    T(layer_filter_skips_unwanted_content),
    T(layer_long_names_and_utf8),
    T(layer_through_decomp_gzip),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
