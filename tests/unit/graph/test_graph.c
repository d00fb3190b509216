/* Unit tests for graph/store: verified puts, failed puts leave the store unchanged, chain IDs, names,
 * containers, rmi/prune, driver errors. Uses vfs (works anywhere) and overlay2 where the kernel has it,
 * in temp dirs, with blobs served from memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/err.h"
#include "graph/internal.h"
#include "graph/store.h"
#include "harness.h"
#include "tarmake.h"

#define MAXB 32

struct blob {
	struct digest d;
	unsigned char *p;
	size_t n;
};

struct src {
	struct blob b[MAXB];
	int nb;
	int fail_open; /* index+1 of a blob whose open fails */
};

struct stream {
	const struct blob *b;
	size_t pos;
};

static int s_open(void *ctx, const struct digest *d, uint64_t size, void **out)
{
	struct src *s = ctx;
	for (int i = s->nb - 1; i >= 0; i--) { /* the newest copy of a blob wins */
		if (!digest_eq(&s->b[i].d, d))
			continue;
		if (s->fail_open == i + 1)
			return -BERTH_EIO;
		struct stream *st = calloc(1, sizeof(*st));
		st->b = &s->b[i];
		*out = st;
		return 0;
	}
	return -BERTH_ENOENT;
}

static ssize_t s_read(void *stream, void *buf, size_t n)
{
	struct stream *st = stream;
	size_t k = st->b->n - st->pos;
	if (k > n)
		k = n;
	memcpy(buf, st->b->p + st->pos, k);
	st->pos += k;
	return (ssize_t)k;
}

static void s_close(void *stream)
{
	free(stream);
}

static int add_blob(struct src *s, const void *p, size_t n)
{
	struct blob *b = &s->b[s->nb];
	b->p = malloc(n ? n : 1);
	memcpy(b->p, p, n);
	b->n = n;
	digest_of(DIGEST_SHA256, p, n, &b->d);
	return s->nb++;
}

static void src_free(struct src *s)
{
	for (int i = 0; i < s->nb; i++)
		free(s->b[i].p);
}

/* An image of the given tars (gzip when gz[i]); diff_override replaces diff_id k when set. */
struct img {
	struct buf man, cfg;
};

static void make_image(struct src *s, struct img *im, struct tm_buf *tars, int n, const int *gz, int bad_diff,
		       long size_delta)
{
	char d[DIGEST_STR_MAX], diffs[2048] = "", layers[4096] = "";
	struct digest cd;

	buf_init(&im->man, BUF_UNLIMITED);
	buf_init(&im->cfg, BUF_UNLIMITED);
	for (int i = 0; i < n; i++) {
		struct digest dd;
		size_t cn = tars[i].len;
		unsigned char *c = gz && gz[i] ? tm_gzip(tars[i].p, tars[i].len, &cn) : NULL;
		int k = add_blob(s, c ? c : tars[i].p, cn);
		free(c);
		digest_of(DIGEST_SHA256, tars[i].p, tars[i].len, &dd);
		if (bad_diff == i + 1)
			dd.hex[0] = dd.hex[0] == '0' ? '1' : '0';
		snprintf(diffs + strlen(diffs), sizeof(diffs) - strlen(diffs), "%s\"%s\"", i ? "," : "",
			 digest_str(&dd, d));
		snprintf(
		    layers + strlen(layers), sizeof(layers) - strlen(layers),
		    "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar%s\",\"digest\":\"%s\",\"size\":%ld}",
		    i ? "," : "", gz && gz[i] ? "+gzip" : "", digest_str(&s->b[k].d, d),
		    (long)s->b[k].n + (i == n - 1 ? size_delta : 0));
	}
	buf_addf(&im->cfg,
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
		 diffs);
	digest_of(DIGEST_SHA256, im->cfg.ptr, im->cfg.len, &cd);
	buf_addf(
	    &im->man,
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
	    "\"layers\":[%s]}",
	    digest_str(&cd, d), im->cfg.len, layers);
}

static void img_release(struct img *im)
{
	buf_release(&im->man);
	buf_release(&im->cfg);
}

static char T[64];

static struct graph_store *open_store(const char *driver)
{
	struct graph_store *s = NULL;
	char why[512], root[128];

	snprintf(T, sizeof(T), "/tmp/berth-gs-XXXXXX");
	CHECK(mkdtemp(T) != NULL);
	snprintf(root, sizeof(root), "%s/store", T);
	if (graph_store_open(&s, root, driver, why, sizeof(why)) < 0)
		FAIL_AT("graph_store_open: %s", why);
	return s;
}

static void cleanup(struct graph_store *s)
{
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	graph_store_close(s);
	graph__rm_rf_at(fd, T + 5);
	close(fd);
}

static int count_dir(const char *fmt)
{
	char p[256];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(p, sizeof(p), fmt, T);
	d = opendir(p);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void two_tars(struct tm_buf t[2])
{
	memset(t, 0, 2 * sizeof(*t));
	tm_add(&t[0], &(struct tm_ent){.name = "etc/", .type = '5'});
	tm_add(&t[0], &(struct tm_ent){.name = "etc/os-release", .data = "ID=test\n", .size = 8});
	tm_add(&t[0], &(struct tm_ent){.name = "etc/gone", .data = "x", .size = 1});
	tm_end(&t[0]);
	tm_add(&t[1], &(struct tm_ent){.name = "etc/.wh.gone"});
	tm_add(&t[1], &(struct tm_ent){.name = "bin/app", .mode = 0755, .data = "app", .size = 3});
	tm_end(&t[1]);
}

static int put(struct graph_store *s, struct src *src, struct img *im, const char *name)
{
	const char *names[1] = {name};
	struct graph_put_opts o = {.names = names, .nnames = name ? 1 : 0};
	return graph_image_put(s, im->man.ptr, im->man.len, im->cfg.ptr, im->cfg.len,
			       &(struct graph_source){src, s_open, s_read, s_close}, &o, NULL);
}

TEST(put_lists_chain_ids_and_mounts_vfs)
{
	struct graph_store *s = open_store("vfs");
	struct src src = {0};
	struct img im;
	struct tm_buf t[2];
	int gz[2] = {0, 1};
	struct graph_layer_info *l;
	struct graph_image_info *v;
	size_t n;
	char *path = NULL, *name = NULL, p[512], *content = NULL;
	struct digest d0, c1;
	char buf[256], a[DIGEST_STR_MAX];

	two_tars(t);
	make_image(&src, &im, t, 2, gz, 0, 0);
	CHECK_EQ(put(s, &src, &im, "test:1"), 0);
	/* chain IDs: the base layer's is its diff_id; the next hashes "<chain> <diff_id>" */
	digest_of(DIGEST_SHA256, t[0].p, t[0].len, &d0);
	digest_of(DIGEST_SHA256, t[1].p, t[1].len, &c1);
	snprintf(buf, sizeof(buf), "sha256:%s %s", d0.hex, digest_str(&c1, a));
	digest_of(DIGEST_SHA256, buf, strlen(buf), &c1);
	CHECK_EQ(graph_layer_list(s, &l, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_STR(l[0].parent[0] ? l[0].id : l[1].id, c1.hex);
	CHECK_STR(l[0].parent[0] ? l[0].parent : l[1].parent, d0.hex);
	CHECK_EQ(l[0].refs, 1);
	graph_layer_list_free(l, n);
	CHECK_EQ(graph_image_list(s, &v, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(v[0].nnames, 1);
	CHECK_STR(v[0].names[0], "test:1");
	CHECK_EQ(v[0].size, t[0].len + t[1].len);
	CHECK_STR(v[0].top_layer, c1.hex);
	graph_image_list_free(v, n);

	CHECK_EQ(graph_container_mount(s, "test:1", "c1", &path, &name), 0);
	CHECK_STR(name, "c1");
	snprintf(p, sizeof(p), "%s/etc/os-release", path);
	CHECK_EQ(graph__read_file(p, 100, &content), 0);
	CHECK_STR(content, "ID=test\n");
	snprintf(p, sizeof(p), "%s/etc/gone", path);
	CHECK(access(p, F_OK) < 0);
	CHECK_EQ(graph_image_remove(s, "test:1", NULL), -BERTH_EBUSY);
	CHECK(strstr(graph_store_why(s), "in use by container c1") != NULL);
	CHECK_EQ(graph_container_remove(s, "c1"), 0);
	CHECK(access(path, F_OK) < 0);
	CHECK_EQ(graph_container_remove(s, "c1"), -BERTH_ENOENT);
	{
		struct graph_rmi_result r;
		CHECK_EQ(graph_image_remove(s, "test", &r), -BERTH_ENOENT); /* "test" means "test:latest" */
		CHECK_EQ(graph_image_remove(s, "test:1", &r), 0);
		CHECK_EQ(r.deleted, 1);
		CHECK_EQ(r.layers_removed, 2);
		CHECK_EQ(count_dir("%s/store/vfs/dir"), 0);
	}
	free(content);
	free(path);
	free(name);
	img_release(&im);
	src_free(&src);
	free(t[0].p);
	free(t[1].p);
	cleanup(s);
}

/* What a failed put must leave alone: records and the driver's directories. */
static void expect_unchanged_after(struct graph_store *s, int rc, int want, const char *why_has, int nlayers)
{
	struct graph_layer_info *l;
	size_t n;

	CHECK_EQ(rc, want);
	if (!strstr(graph_store_why(s), why_has))
		FAIL_AT("why \"%s\" lacks \"%s\"", graph_store_why(s), why_has);
	CHECK_EQ(graph_layer_list(s, &l, &n), 0);
	CHECK_EQ(n, nlayers);
	graph_layer_list_free(l, n);
	CHECK_EQ(count_dir("%s/store/vfs/dir"), nlayers);
	CHECK_EQ(count_dir("%s/store/vfs/.staging"), 0);
	/* kept blobs: the one image's manifest, config and layers, nothing staged */
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), nlayers + 2);
	CHECK_EQ(count_dir("%s/store/blobs/.staging"), 0);
}

/* The bytes of the kept blob d, or NULL (with *rc) when graph_blob_open fails. */
static unsigned char *kept(struct graph_store *s, const struct digest *d, size_t *n, int *rc)
{
	int fd;
	unsigned char *p = malloc(1 << 20);
	ssize_t k;

	*n = 0;
	*rc = graph_blob_open(s, d, &fd);
	if (*rc < 0) {
		free(p);
		return NULL;
	}
	while ((k = read(fd, p + *n, (1 << 20) - *n)) > 0)
		*n += (size_t)k;
	close(fd);
	return p;
}

static void expect_kept(struct graph_store *s, const void *want, size_t wn)
{
	struct digest d;
	size_t n;
	int rc;
	unsigned char *got;

	digest_of(DIGEST_SHA256, want, wn, &d);
	got = kept(s, &d, &n, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(n, wn);
	CHECK(got && memcmp(got, want, wn) == 0);
	free(got);
}

TEST(kept_blobs_read_back_and_go_with_the_last_image)
{
	struct graph_store *s = open_store("vfs");
	struct src src = {0};
	struct img a, b;
	struct tm_buf t[2];
	int gz[2] = {1, 0};
	struct graph_rmi_result r;
	struct digest l1;
	char p[512];
	size_t n;
	int rc;

	two_tars(t);
	make_image(&src, &a, t, 2, gz, 0, 0); /* blobs 0 (gzip) and 1 (plain tar) */
	make_image(&src, &b, t, 1, gz, 0, 0); /* blob 2: the same gzip layer as blob 0 */
	CHECK_EQ(put(s, &src, &a, "a:1"), 0);
	expect_kept(s, a.man.ptr, a.man.len);
	expect_kept(s, a.cfg.ptr, a.cfg.len);
	expect_kept(s, src.b[0].p, src.b[0].n); /* the compressed bytes as served, not a re-tar */
	expect_kept(s, src.b[1].p, src.b[1].n);
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 4);
	CHECK_EQ(count_dir("%s/store/blobs/.staging"), 0);
	l1 = src.b[1].d;
	{
		struct digest none;
		digest_of(DIGEST_SHA256, "x", 1, &none);
		CHECK(kept(s, &none, &n, &rc) == NULL);
		CHECK_EQ(rc, -BERTH_ENOENT);
		CHECK(strstr(graph_store_why(s), "not kept by the store") != NULL);
	}

	/* b shares layer 0: present, so not unpacked again; but a lost blob is fetched alone */
	snprintf(p, sizeof(p), "%s/store/blobs/sha256/%s", T, src.b[0].d.hex);
	CHECK_EQ(unlink(p), 0);
	src.fail_open = 3; /* the blob-only fetch fails: nothing is kept, b is not put */
	CHECK_EQ(put(s, &src, &b, "b:1"), -BERTH_EIO);
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 3);
	CHECK_EQ(count_dir("%s/store/blobs/.staging"), 0);
	src.fail_open = 0;
	CHECK_EQ(put(s, &src, &b, "b:1"), 0);
	expect_kept(s, src.b[0].p, src.b[0].n);
	expect_kept(s, b.man.ptr, b.man.len);
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 6); /* a: man, cfg, 2 layers; b: man, cfg */

	/* a goes: its manifest, config and layer 1 go; the shared layer stays for b */
	CHECK_EQ(graph_image_remove(s, "a:1", &r), 0);
	CHECK_EQ(r.deleted, 1);
	CHECK_EQ(r.layers_removed, 1);
	CHECK_EQ(r.blobs_removed, 3);
	CHECK(kept(s, &l1, &n, &rc) == NULL);
	CHECK_EQ(rc, -BERTH_ENOENT);
	expect_kept(s, src.b[0].p, src.b[0].n);
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 3);
	CHECK_EQ(graph_image_remove(s, "b:1", &r), 0);
	CHECK_EQ(r.blobs_removed, 3);
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 0);

	/* prune: a stray blob (a commit interrupted after its renames) and staged litter go */
	snprintf(p, sizeof(p), "%s/store/blobs/sha256/%064d", T, 0);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	snprintf(p, sizeof(p), "%s/store/blobs/.staging/left", T);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	{
		struct graph_prune_result pr;
		CHECK_EQ(graph_prune(s, &pr), 0);
		CHECK_EQ(pr.blobs, 1);
	}
	CHECK_EQ(count_dir("%s/store/blobs/sha256"), 0);
	CHECK_EQ(count_dir("%s/store/blobs/.staging"), 0);

	img_release(&a);
	img_release(&b);
	src_free(&src);
	free(t[0].p);
	free(t[1].p);
	cleanup(s);
}

TEST(failed_puts_leave_the_store_unchanged)
{
	struct graph_store *s = open_store("vfs");
	struct src src = {0};
	struct img good, im;
	struct tm_buf t[2];
	int gz[2] = {1, 1};

	two_tars(t);
	make_image(&src, &good, t, 1, gz, 0, 0);
	CHECK_EQ(put(s, &src, &good, "base:1"), 0);

	make_image(&src, &im, t, 2, gz, 2, 0);
	expect_unchanged_after(s, put(s, &src, &im, "bad:diff"), -BERTH_EDIGEST, "the config's diff_id is", 1);
	img_release(&im);

	make_image(&src, &im, t, 2, gz, 0, -1);
	expect_unchanged_after(s, put(s, &src, &im, "bad:size"), -BERTH_EDIGEST, "longer than its descriptor", 1);
	img_release(&im);

	make_image(&src, &im, t, 2, gz, 0, 5);
	expect_unchanged_after(s, put(s, &src, &im, "bad:short"), -BERTH_EDIGEST, "its descriptor says", 1);
	img_release(&im);

	make_image(&src, &im, t, 2, gz, 0, 0);
	src.b[src.nb - 1].p[src.b[src.nb - 1].n / 2] ^= 0x40; /* the served bytes no longer match */
	expect_unchanged_after(s, put(s, &src, &im, "bad:bytes"), -BERTH_EINVAL, "corrupt gzip data", 1);
	img_release(&im);

	make_image(&src, &im, t, 2, gz, 0, 0);
	src.fail_open = src.nb;
	expect_unchanged_after(s, put(s, &src, &im, "bad:open"), -BERTH_EIO, "cannot open the blob", 1);
	src.fail_open = 0;
	/* the config must be the manifest's */
	im.cfg.ptr[im.cfg.len - 2] = ' ';
	expect_unchanged_after(s, put(s, &src, &im, "bad:cfg"), -BERTH_EDIGEST, "config does not match", 1);
	img_release(&im);

	{
		struct graph_image_info *v;
		size_t n;
		CHECK_EQ(graph_image_list(s, &v, &n), 0);
		CHECK_EQ(n, 1);
		CHECK_STR(v[0].names[0], "base:1");
		graph_image_list_free(v, n);
	}
	img_release(&good);
	src_free(&src);
	free(t[0].p);
	free(t[1].p);
	cleanup(s);
}

TEST(manifests_berth_cannot_unpack_are_refused)
{
	struct graph_store *s = open_store("vfs");
	const char *idx =
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}";
	const char *cfg = "{}";
	struct buf man;
	struct digest cd;
	char d[DIGEST_STR_MAX];
	struct src src = {0};
	struct graph_source gs = {&src, s_open, s_read, s_close};

	CHECK_EQ(graph_image_put(s, idx, strlen(idx), cfg, 2, &gs, NULL, NULL), -BERTH_EINVAL);
	CHECK(strstr(graph_store_why(s), "pick a platform") != NULL);
	digest_of(DIGEST_SHA256, cfg, 2, &cd);
	buf_init(&man, BUF_UNLIMITED);
	buf_addf(&man,
		 "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"%s\",\"size\":2},\"layers\":["
		 "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+encrypted\",\"digest\":\"%s\",\"size\":2}]}",
		 digest_str(&cd, d), d);
	CHECK_EQ(graph_image_put(s, man.ptr, man.len, cfg, 2, &gs, NULL, NULL), -BERTH_EUNSUPPORTED);
	CHECK(strstr(graph_store_why(s), "+encrypted") != NULL);
	buf_release(&man);
	{
		const char *names[] = {"bad name"};
		struct graph_put_opts o = {.names = names, .nnames = 1};
		CHECK_EQ(graph_image_put(s, idx, strlen(idx), cfg, 2, &gs, &o, NULL), -BERTH_EINVAL);
		CHECK(strstr(graph_store_why(s), "invalid image name") != NULL);
	}
	cleanup(s);
}

TEST(devicemapper_and_unknown_drivers)
{
	struct graph_store *s = NULL;
	char why[512];

	snprintf(T, sizeof(T), "/tmp/berth-gs-XXXXXX");
	CHECK(mkdtemp(T) != NULL);
	CHECK_EQ(graph_store_open(&s, T, "devicemapper", why, sizeof(why)), -BERTH_EUNSUPPORTED);
	CHECK(strstr(why, "devicemapper") != NULL);
	if (access("/sys/module/dm_mod", F_OK) < 0 && access("/dev/mapper/control", F_OK) < 0)
		CHECK(strstr(why, "device-mapper (dm_mod)") != NULL);
	CHECK(s == NULL);
	CHECK_EQ(graph_store_open(&s, T, "aufs", why, sizeof(why)), -BERTH_EINVAL);
	CHECK(strstr(why, "unknown graph driver") != NULL);
	CHECK_EQ(graph_store_open(&s, T, "btrfs", why, sizeof(why)) == 0 ? 1 : 0, 0); /* /tmp is not btrfs here */
	cleanup(NULL);
}

TEST(overlay2_parallel_put_failure_cleans_staging)
{
	struct graph_store *s;
	struct src src = {0};
	struct img im;
	struct tm_buf t[2];
	int gz[2] = {1, 0};
	char *path = NULL;

	if (geteuid() != 0)
		SKIP("overlay2 needs root");
	if (access("/proc/filesystems", F_OK) < 0)
		SKIP("no /proc/filesystems: cannot tell whether the kernel has overlayfs");
	s = open_store("overlay2");
	two_tars(t);
	make_image(&src, &im, t, 2, gz, 0, 0);
	src.fail_open = 1;
	CHECK_EQ(put(s, &src, &im, "x:1"), -BERTH_EIO);
	CHECK_EQ(count_dir("%s/store/overlay2/.staging"), 0);
	CHECK_EQ(count_dir("%s/store/overlay2/l"), 0);
	src.fail_open = 0;
	CHECK_EQ(put(s, &src, &im, "x:1"), 0);
	CHECK_EQ(count_dir("%s/store/overlay2/l"), 2);
	CHECK_EQ(graph_container_mount(s, "x:1", NULL, &path, NULL), 0);
	{
		char p[512];
		struct stat st;
		snprintf(p, sizeof(p), "%s/bin/app", path);
		CHECK_EQ(stat(p, &st), 0);
		CHECK_EQ(st.st_mode & 07777, 0755);
		snprintf(p, sizeof(p), "%s/etc/gone", path);
		CHECK(stat(p, &st) < 0);
	}
	{
		struct graph_container_info *c;
		size_t n;
		CHECK_EQ(graph_container_list(s, &c, &n), 0);
		CHECK_EQ(n, 1);
		CHECK_EQ(graph_container_remove(s, c[0].name), 0);
		graph_container_list_free(c, n);
	}
	free(path);
	img_release(&im);
	src_free(&src);
	free(t[0].p);
	free(t[1].p);
	cleanup(s);
}

static const struct test tests[] = {
    T(put_lists_chain_ids_and_mounts_vfs),
    T(failed_puts_leave_the_store_unchanged),
    T(kept_blobs_read_back_and_go_with_the_last_image),
    T(manifests_berth_cannot_unpack_are_refused),
    T(devicemapper_and_unknown_drivers),
    T(overlay2_parallel_put_failure_cleans_staging),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
