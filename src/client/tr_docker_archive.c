/* docker-archive:FILE[:NAME[:TAG]]: the tarball `docker save` writes.
 *
 *   manifest.json   [{"Config": "<hex>.json", "RepoTags": ["name:tag"], "Layers": ["<hex>.tar", ...]}]
 *   <hex>.json      the image config, unchanged
 *   <hex>.tar       each layer as an uncompressed tar, named by its digest (= the config's diff_id)
 *   <id>/           per layer, for readers older than manifest.json: VERSION ("1.0"), json
 *                   ({"id", "parent"}, the top one with the config's platform and run settings) and
 *                   layer.tar -> ../<hex>.tar; <id> is the layer's chain ID
 *   repositories    {"name": {"tag": "<top layer id>"}}
 *
 * Reading unpacks the tar into a temporary folder (regular files only; symlinks such as docker's
 * "<id>/layer.tar -> ../<id2>/layer.tar" are followed inside the archive and nowhere else) and
 * presents the chosen image as a Docker schema 2 manifest whose layers are the archive's files as
 * they are (so usually uncompressed). An archive names no blob digests, so on opening each layer is
 * held to the config's rootfs.diff_ids (an uncompressed layer's own digest must be its diff_id, a
 * compressed one is inflated and hashed): a damaged layer fails the open with one line. Writing needs uncompressed layers (CLIENT_CAP_UNCOMPRESSED):
 * the copy engine decompresses and checks each against the config's diff_ids first. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "client/transport.h"
#include "image/decomp.h"
#include "image/manifest.h"

#define ARCHIVE_MANIFEST_MAX (16 << 20)
#define CONFIG_MAX (16 << 20)
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

struct darchive {
	char *tmp; /* source: unpacked archive; destination: staging folder */
	json_t *links; /* source: symlinks and hard links of the archive */
	json_t *files; /* source: digest string -> path of the file */
	json_t *entries; /* source: manifest.json */
	struct buf manifest; /* source: the synthesized manifest */
	struct digest manifest_digest;
	struct image_doc doc; /* destination: the image put */
	int has_doc;
};

static char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xfmt(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, BUF_UNLIMITED);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

/* Normalizes a relative archive path (handles "." and ".."); NULL when it leaves the archive. */
static char *normalize(const char *p)
{
	char *copy = xstrdup(p), *save = NULL, **parts = NULL;
	size_t n = 0;
	struct buf out;

	for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (!strcmp(s, "."))
			continue;
		if (!strcmp(s, "..")) {
			if (n == 0) {
				free(parts);
				free(copy);
				return NULL;
			}
			n--;
			continue;
		}
		parts = xrealloc(parts, (n + 1) * sizeof(*parts));
		parts[n++] = s;
	}
	buf_init(&out, BUF_UNLIMITED);
	for (size_t i = 0; i < n; i++)
		buf_addf(&out, "%s%s", i ? "/" : "", parts[i]);
	free(parts);
	free(copy);
	if (!out.len) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}

/* The unpacked file an archive path names, following the archive's links (at most 16 hops). */
static char *resolve(struct darchive *a, const char *name)
{
	char *cur = normalize(name);

	for (int hop = 0; cur && hop < 16; hop++) {
		const char *t = json_string_value(json_object_get(a->links, cur));
		char *next, *slash;
		if (!t) {
			char *full = xfmt("%s/%s", a->tmp, cur);
			free(cur);
			return full;
		}
		if (t[0] == '/') {
			next = normalize(t + 1);
		} else {
			slash = strrchr(cur, '/');
			if (slash) {
				char *j = xfmt("%.*s/%s", (int)(slash - cur), cur, t);
				next = normalize(j);
				free(j);
			} else {
				next = normalize(t);
			}
		}
		free(cur);
		cur = next;
	}
	free(cur);
	return NULL;
}

/* sha256 and size of a file, and whether it starts with gzip's magic. */
static int hash_file(const char *path, struct digest *d, int64_t *size, int *gzip, struct client_err *e)
{
	struct hasher h;
	char *chunk;
	ssize_t n;
	int64_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return client_err_set(e, -BERTH_ENOENT, "cannot open %s: %s", path, strerror(errno));
	hasher_init(&h, DIGEST_SHA256);
	chunk = xmalloc(1 << 20);
	*gzip = 0;
	while ((n = read(fd, chunk, 1 << 20)) > 0) {
		if (total == 0 && n >= 2 && (unsigned char)chunk[0] == 0x1f && (unsigned char)chunk[1] == 0x8b)
			*gzip = 1;
		hasher_update(&h, chunk, (size_t)n);
		total += n;
	}
	if (n < 0)
		rc = client_err_set(e, -BERTH_EIO, "cannot read %s: %s", path, strerror(errno));
	hasher_final(&h, d);
	hasher_release(&h);
	free(chunk);
	close(fd);
	*size = total;
	return rc;
}

/* 1 when the entry's RepoTags hold tag, also in the docker.io-normalized spelling other tools
 * write ("docker.io/library/app:v1" for "app:v1"). */
static int entry_has_tag(json_t *ent, const char *tag)
{
	json_t *tags = json_object_get(ent, "RepoTags"), *t;
	size_t i;
	json_array_foreach(tags, i, t)
	{
		const char *v = json_string_value(t);
		if (!v)
			continue;
		if (!strcmp(v, tag))
			return 1;
		if (!strncmp(v, "docker.io/", 10) &&
		    (!strcmp(v + 10, tag) || (!strncmp(v + 10, "library/", 8) && !strcmp(v + 18, tag))))
			return 1;
	}
	return 0;
}

/* read callback over an fd, for decomp */
static ssize_t read_fd(void *ctx, void *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(*(int *)ctx, buf, n);
		if (k >= 0 || errno != EINTR)
			return k < 0 ? -BERTH_EIO : k;
	}
}

/* Checks a layer file against the config's diff_id: an archive names no blob digests of its own, so
 * the diff_ids are what its bytes can be held to. An uncompressed layer's own digest (already
 * computed) is its diff_id; a compressed one is inflated and hashed. */
static int layer_check(struct client_image *im, size_t i, const char *path, const struct digest *file_dg,
		       const struct digest *diff_id, struct client_err *e)
{
	struct decomp *d = NULL;
	struct decomp_result res;
	char ds[DIGEST_STR_MAX], want[DIGEST_STR_MAX];
	int fd, rc;

	if (digest_eq(file_dg, diff_id))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return client_err_set(e, -BERTH_EIO, "cannot open %s: %s", path, strerror(errno));
	rc = decomp_new(&d, read_fd, &fd, NULL);
	if (rc == 0)
		rc = decomp_finish(d, &res);
	if (rc < 0)
		client_err_set(e, -BERTH_EDIGEST, "%s: layer %zu (%s) is damaged: %s", im->name, i,
			       digest_str(file_dg, ds), d && decomp_why(d)[0] ? decomp_why(d) : berth_strerror(rc));
	else if (!digest_eq(&res.out_digest, diff_id) && res.format == DECOMP_TAR)
		rc = client_err_set(e, -BERTH_EDIGEST,
				    "%s: digest mismatch: layer %zu hashes to %s, the config's diff_id says %s",
				    im->name, i, digest_str(file_dg, ds), digest_str(diff_id, want));
	else if (!digest_eq(&res.out_digest, diff_id))
		rc = client_err_set(e, -BERTH_EDIGEST,
				    "%s: digest mismatch: layer %zu uncompresses to %s, the config's diff_id says %s",
				    im->name, i, digest_str(&res.out_digest, ds), digest_str(diff_id, want));
	decomp_free(d);
	close(fd);
	return rc;
}

/* The config's rootfs.diff_ids (config file at path), one per layer. */
static int read_diff_ids(struct client_image *im, const char *path, size_t nlayers, struct digest **out,
			 struct client_err *e)
{
	struct buf b;
	json_t *root = NULL, *arr, *v;
	size_t i;
	int rc;

	*out = NULL;
	buf_init(&b, CONFIG_MAX);
	rc = client__file_read(path, CONFIG_MAX, &b, e);
	if (rc < 0)
		goto out;
	root = json_loadb(b.ptr, b.len, 0, NULL);
	arr = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	if (!json_is_array(arr) || json_array_size(arr) != nlayers) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: the image config does not list one diff_id per layer",
				    im->name);
		goto out;
	}
	*out = xcalloc(nlayers + 1, sizeof(**out));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || digest_parse_cstr(json_string_value(v), &(*out)[i]) < 0) {
			rc = client_err_set(e, -BERTH_EINVAL, "%s: the image config has an invalid diff_id", im->name);
			free(*out);
			*out = NULL;
			goto out;
		}
	}
out:
	json_decref(root);
	buf_release(&b);
	return rc;
}

static int source_load(struct client_image *im, struct darchive *a, struct client_err *e)
{
	struct buf b;
	char *p = NULL, *want = NULL, ds[DIGEST_STR_MAX];
	json_t *ent = NULL, *layers, *l, *man = NULL, *jl;
	size_t i;
	int64_t size;
	int gz, rc;
	struct digest dg, *diff_ids = NULL;

	buf_init(&b, ARCHIVE_MANIFEST_MAX);
	p = xfmt("%s/manifest.json", a->tmp);
	rc = client__file_read(p, ARCHIVE_MANIFEST_MAX, &b, e);
	if (rc == -BERTH_ENOENT)
		rc = client_err_set(e, rc, "%s: no manifest.json in %s (not a docker-archive)", im->name, im->ref.path);
	if (rc < 0)
		goto out;
	a->entries = json_loadb(b.ptr, b.len, 0, NULL);
	if (!json_is_array(a->entries) || json_array_size(a->entries) == 0) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: manifest.json is not a non-empty array", im->name);
		goto out;
	}
	if (im->ref.repo) {
		want = xfmt("%s:%s", im->ref.repo, im->ref.tag ? im->ref.tag : "latest");
		json_array_foreach(a->entries, i, l)
		{
			if (entry_has_tag(l, want)) {
				ent = l;
				break;
			}
		}
		if (!ent) {
			rc = client_err_set(e, -BERTH_ENOENT, "%s: no image tagged %s in the archive", im->name, want);
			goto out;
		}
	} else if (json_array_size(a->entries) == 1) {
		ent = json_array_get(a->entries, 0);
	} else {
		rc = client_err_set(e, -BERTH_EINVAL, "%s holds %zu images; name one with docker-archive:%s:NAME:TAG",
				    im->ref.path, json_array_size(a->entries), im->ref.path);
		goto out;
	}
	if (!json_is_string(json_object_get(ent, "Config")) || !json_is_array(json_object_get(ent, "Layers"))) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: manifest.json entry has no Config or Layers", im->name);
		goto out;
	}
	a->files = json_object();
	man = json_pack("{s:i,s:s}", "schemaVersion", 2, "mediaType", MT_DOCKER_MANIFEST);
	free(p);
	p = resolve(a, json_string_value(json_object_get(ent, "Config")));
	if (!p) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: the config path leaves the archive", im->name);
		goto out;
	}
	rc = hash_file(p, &dg, &size, &gz, e);
	if (rc < 0)
		goto out;
	json_object_set_new(a->files, digest_str(&dg, ds), json_string(p));
	layers = json_object_get(ent, "Layers");
	rc = read_diff_ids(im, p, json_array_size(layers), &diff_ids, e);
	if (rc < 0)
		goto out;
	json_object_set_new(
	    man, "config",
	    json_pack("{s:s,s:I,s:s}", "mediaType", MT_DOCKER_CONFIG, "size", (json_int_t)size, "digest", ds));
	jl = json_array();
	json_object_set_new(man, "layers", jl);
	json_array_foreach(layers, i, l)
	{
		free(p);
		p = json_is_string(l) ? resolve(a, json_string_value(l)) : NULL;
		if (!p) {
			rc = client_err_set(e, -BERTH_EINVAL, "%s: layer %zu has no usable path", im->name, i);
			goto out;
		}
		rc = hash_file(p, &dg, &size, &gz, e);
		if (rc == 0)
			rc = layer_check(im, i, p, &dg, &diff_ids[i], e);
		if (rc < 0)
			goto out;
		json_object_set_new(a->files, digest_str(&dg, ds), json_string(p));
		json_array_append_new(jl, json_pack("{s:s,s:I,s:s}", "mediaType",
						    gz ? MT_DOCKER_LAYER_GZIP : MT_DOCKER_LAYER_TAR, "size",
						    (json_int_t)size, "digest", ds));
	}
	{
		char *text = json_dumps(man, JSON_COMPACT);
		buf_init(&a->manifest, BUF_UNLIMITED);
		buf_adds(&a->manifest, text);
		free(text);
		digest_of(DIGEST_SHA256, a->manifest.ptr, a->manifest.len, &a->manifest_digest);
	}
out:
	free(diff_ids);
	json_decref(man);
	free(want);
	free(p);
	buf_release(&b);
	return rc;
}

static int a_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			  struct digest *out, struct client_err *e)
{
	struct darchive *a = im->priv;
	char ds[DIGEST_STR_MAX];

	*media_type = NULL;
	if (dg && !digest_eq(dg, &a->manifest_digest))
		return client_err_set(e, -BERTH_ENOENT, "%s: no manifest %s", im->name, digest_str(dg, ds));
	buf_reset(body);
	if (buf_add(body, a->manifest.ptr, a->manifest.len) < 0)
		return client_err_set(e, -BERTH_ETOOBIG, "manifest too large");
	*media_type = xstrdup(MT_DOCKER_MANIFEST);
	*out = a->manifest_digest;
	return 0;
}

static int a_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
		       struct client_xfer *x, int *fd, int *temp, struct client_err *e)
{
	struct darchive *a = im->priv;
	char ds[DIGEST_STR_MAX];
	const char *path = json_string_value(json_object_get(a->files, digest_str(&d->digest, ds)));
	int f, rc;

	(void)spool_dir;
	*fd = -1;
	*temp = 0;
	if (!path)
		return client_err_set(e, -BERTH_ENOENT, "%s: no blob %s in the archive", im->name, ds);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return client_err_set(e, -BERTH_EIO, "cannot open %s: %s", path, strerror(errno));
	rc = client__fd_verify(f, d, "blob", x, e);
	if (rc < 0) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

static int a_tags(struct client_image *im, char ***tags, size_t *n, struct client_err *e)
{
	struct darchive *a = im->priv;
	json_t *ent, *t;
	size_t i, j, k = 0;
	char **v = NULL;

	(void)e;
	json_array_foreach(a->entries, i, ent){
	    json_array_foreach(json_object_get(ent, "RepoTags"), j, t){if (!json_is_string(t)) continue;
	v = xrealloc(v, (k + 1) * sizeof(*v));
	v[k++] = xstrdup(json_string_value(t));
}
}
*tags = v;
*n = k;
return 0;
}

/* ---------------------------------------------------------------- destination */

static int a_blob_exists(struct client_image *im, const struct image_desc *d, struct client_err *e)
{
	(void)im;
	(void)d;
	(void)e;
	return 0;
}

static int a_blob_put(struct client_image *im, const struct image_desc *d, int fd, int temp, struct client_xfer *x,
		      struct client_err *e)
{
	struct darchive *a = im->priv;
	char *path = xfmt("%s/blobs/%s", a->tmp, d->digest.hex);
	int rc = 0;

	if (!temp || client__fd_link(fd, path) < 0)
		rc = client__fd_copy_verified(fd, path, d, x, e);
	else if (x && x->progress)
		x->progress(x->ctx, (uint64_t)d->size, (uint64_t)d->size);
	free(path);
	return rc;
}

static int a_manifest_put(struct client_image *im, const void *body, size_t len, const char *media_type, int top,
			  struct client_err *e)
{
	struct darchive *a = im->priv;
	char why[256];
	int rc;

	if (!top)
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "docker-archive: holds one image, not an index (use --platform)");
	if (a->has_doc)
		image_doc_release(&a->doc);
	rc = image_doc_parse(body, len, media_type, &a->doc, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "docker-archive: %s", why);
	a->has_doc = 1;
	if (a->doc.is_index)
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "docker-archive: holds one image, not an index (use --platform)");
	return 0;
}

static int stage_rename(struct darchive *a, const struct digest *d, const char *name, struct client_err *e)
{
	char *from = xfmt("%s/blobs/%s", a->tmp, d->hex), *to = xfmt("%s/%s", a->tmp, name);
	int rc = 0;

	if (access(to, F_OK) == 0) {
		/* the same layer twice: one file serves both */
	} else if (rename(from, to) < 0) {
		rc = client_err_set(e, -BERTH_EIO, "cannot stage %s: %s", name, strerror(errno));
	}
	free(from);
	free(to);
	return rc;
}

/* Writes the per-layer legacy folders; top_id receives the top layer's id (or "" without layers). */
static int write_legacy_layers(struct darchive *a, const char *config_name, char top_id[DIGEST_HEX_MAX + 1],
			       struct client_err *e)
{
	static const char *const top_keys[] = {"architecture", "config",         "container", "container_config",
					       "created",      "docker_version", "os"};
	struct buf cfgb;
	json_t *cfg = NULL;
	struct digest chain;
	char *p = NULL;
	int rc;

	top_id[0] = '\0';
	buf_init(&cfgb, CONFIG_MAX);
	p = xfmt("%s/%s", a->tmp, config_name);
	rc = client__file_read(p, CONFIG_MAX, &cfgb, e);
	free(p);
	p = NULL;
	if (rc < 0)
		goto out;
	cfg = json_loadb(cfgb.ptr, cfgb.len, 0, NULL);
	for (size_t i = 0; i < a->doc.nlayers && rc == 0; i++) {
		const struct digest *diff = &a->doc.layers[i].digest;
		char cs[DIGEST_STR_MAX], ds[DIGEST_STR_MAX], *dir, *text, *target;
		json_t *j;

		if (i == 0) {
			chain = *diff;
		} else {
			char *both = xfmt("%s %s", digest_str(&chain, cs), digest_str(diff, ds));
			digest_of(DIGEST_SHA256, both, strlen(both), &chain);
			free(both);
		}
		j = json_pack("{s:s}", "id", chain.hex);
		if (top_id[0])
			json_object_set_new(j, "parent", json_string(top_id));
		if (i + 1 == a->doc.nlayers && json_is_object(cfg))
			for (size_t k = 0; k < sizeof(top_keys) / sizeof(top_keys[0]); k++)
				if (json_object_get(cfg, top_keys[k]))
					json_object_set(j, top_keys[k], json_object_get(cfg, top_keys[k]));
		dir = xfmt("%s/%s", a->tmp, chain.hex);
		text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rc = client_err_set(e, -BERTH_EIO, "cannot create %s: %s", dir, strerror(errno));
		} else {
			p = xfmt("%s/json", dir);
			rc = client__file_write_atomic(p, text, strlen(text), e);
			free(p);
			p = xfmt("%s/VERSION", dir);
			if (rc == 0)
				rc = client__file_write_atomic(p, "1.0", 3, e);
			free(p);
			p = xfmt("%s/layer.tar", dir);
			target = xfmt("../%s.tar", diff->hex);
			if (rc == 0 && symlink(target, p) < 0 && errno != EEXIST)
				rc = client_err_set(e, -BERTH_EIO, "cannot link %s: %s", p, strerror(errno));
			free(target);
			free(p);
			p = NULL;
		}
		free(text);
		free(dir);
		str_copy(top_id, DIGEST_HEX_MAX + 1, chain.hex);
	}
out:
	json_decref(cfg);
	buf_release(&cfgb);
	return rc;
}

static int a_commit(struct client_image *im, struct client_err *e)
{
	char top_id[DIGEST_HEX_MAX + 1];
	struct darchive *a = im->priv;
	json_t *ent = NULL, *layers, *all = NULL, *tags;
	char *name = NULL, *text = NULL, *p = NULL, *blobs = NULL;
	int rc = 0;

	if (!a->has_doc)
		return client_err_set(e, -BERTH_EINVAL, "%s: nothing to commit", im->name);
	name = xfmt("%s.json", a->doc.config.digest.hex);
	rc = stage_rename(a, &a->doc.config.digest, name, e);
	layers = json_array();
	for (size_t i = 0; i < a->doc.nlayers && rc == 0; i++) {
		char *ln = xfmt("%s.tar", a->doc.layers[i].digest.hex);
		rc = stage_rename(a, &a->doc.layers[i].digest, ln, e);
		json_array_append_new(layers, json_string(ln));
		free(ln);
	}
	tags = json_array();
	if (im->ref.repo) {
		char *t = xfmt("%s:%s", im->ref.repo, im->ref.tag ? im->ref.tag : "latest");
		json_array_append_new(tags, json_string(t));
		free(t);
	}
	ent = json_pack("{s:s,s:o,s:o}", "Config", name, "RepoTags", tags, "Layers", layers);
	all = json_pack("[o]", ent);
	if (rc < 0)
		goto out;
	text = json_dumps(all, JSON_COMPACT);
	p = xfmt("%s/manifest.json", a->tmp);
	rc = client__file_write_atomic(p, text, strlen(text), e);
	if (rc == 0)
		rc = write_legacy_layers(a, name, top_id, e);
	if (rc == 0 && im->ref.repo && top_id[0]) {
		json_t *repos = json_pack("{s:{s:s}}", im->ref.repo, im->ref.tag ? im->ref.tag : "latest", top_id);
		free(text);
		free(p);
		text = json_dumps(repos, JSON_COMPACT);
		p = xfmt("%s/repositories", a->tmp);
		json_decref(repos);
		rc = client__file_write_atomic(p, text, strlen(text), e);
	}
	if (rc < 0)
		goto out;
	blobs = xfmt("%s/blobs", a->tmp);
	client__rmtree(blobs);
	rc = client__tar_create(im->ref.path, a->tmp, e);
out:
	json_decref(all);
	free(blobs);
	free(text);
	free(p);
	free(name);
	return rc;
}

static void a_free(struct client_image *im)
{
	struct darchive *a = im->priv;

	if (!a)
		return;
	if (a->tmp)
		client__rmtree(a->tmp);
	free(a->tmp);
	json_decref(a->links);
	json_decref(a->files);
	json_decref(a->entries);
	buf_release(&a->manifest);
	if (a->has_doc)
		image_doc_release(&a->doc);
	free(a);
	im->priv = NULL;
}

static const struct client_image_ops darchive_ops = {
    .manifest_get = a_manifest_get,
    .blob_open = a_blob_open,
    .blob_exists = a_blob_exists,
    .blob_put = a_blob_put,
    .manifest_put = a_manifest_put,
    .commit = a_commit,
    .tags = a_tags,
    .free = a_free,
};

int client__docker_archive_open(struct client_image *im, struct client_err *e)
{
	struct darchive *a = xcalloc(1, sizeof(*a));
	int rc;

	buf_init(&a->manifest, BUF_UNLIMITED);
	im->ops = &darchive_ops;
	im->priv = a;
	if (im->mode & CLIENT_DST) {
		char *parent = xstrdup(im->ref.path), *slash = strrchr(parent, '/'), *blobs;
		struct stat st;
		if (slash)
			*slash = '\0';
		if (stat(im->ref.path, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(parent);
			return client_err_set(e, -BERTH_EEXIST, "%s: %s is a folder", im->name, im->ref.path);
		}
		a->tmp = xfmt("%s/.berth-docker-archive-XXXXXX", slash ? (slash == parent ? "" : parent) : ".");
		free(parent);
		if (!mkdtemp(a->tmp)) {
			rc = client_err_set(e, berth_from_errno(errno), "cannot create a folder beside %s: %s",
					    im->ref.path, strerror(errno));
			free(a->tmp);
			a->tmp = NULL;
			return rc;
		}
		chmod(a->tmp, 0755);
		blobs = xfmt("%s/blobs", a->tmp);
		rc = client__mkdirs(blobs, e);
		free(blobs);
		im->caps = CLIENT_CAP_UNCOMPRESSED | CLIENT_CAP_NO_INDEX;
		im->spool_dir = xstrdup(a->tmp);
		return rc;
	}
	a->tmp = xfmt("%s/berth-docker-archive-XXXXXX", client_tmp_dir(im->opts));
	if (!mkdtemp(a->tmp)) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot create a temporary folder %s: %s", a->tmp,
				    strerror(errno));
		free(a->tmp);
		a->tmp = NULL;
		return rc;
	}
	rc = client__tar_extract(im->ref.path, a->tmp, (void **)&a->links, e);
	if (rc == 0)
		rc = source_load(im, a, e);
	return rc;
}
