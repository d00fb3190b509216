/* oci:DIR[:REF] and oci-archive:FILE[:REF]: an OCI image layout (image-spec image-layout.md), as a
 * folder or as a tar of one.
 *
 * Writing stages everything in a hidden folder first (inside DIR when it exists, else beside it) and
 * only commit makes it visible: a new DIR appears with one rename; in an existing DIR the staged
 * blobs are renamed into blobs/ and then index.json is replaced atomically. An archive is the staged
 * layout tarred into FILE.tmp-* and renamed over FILE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "client/remote.h"
#include "client/transport.h"
#include "image/manifest.h"

#define INDEX_MAX (16 << 20)

struct oci {
	char *dir; /* the layout folder (for an archive: the unpacked or staged one) */
	struct image_doc index; /* source: index.json's descriptors */
	char *staging; /* destination: the hidden folder written first */
	int dir_existed; /* destination: DIR existed before */
	struct image_desc top; /* destination: the descriptor index.json gets at commit */
	int has_top, committed;
	char *archive_tmp; /* oci-archive: our temporary folder */
	char *archive_file; /* oci-archive destination: FILE */
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

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads DIR/oci-layout and DIR/index.json into o->index. */
static int layout_load(struct client_image *im, struct oci *o, struct client_err *e)
{
	struct buf b;
	char *p = xfmt("%s/oci-layout", o->dir), why[512];
	json_t *root = NULL;
	int rc;

	buf_init(&b, INDEX_MAX);
	rc = client__file_read(p, 1 << 16, &b, e);
	if (rc == -BERTH_ENOENT) {
		rc = client_err_set(e, -BERTH_ENOENT, "%s: %s is not an OCI image layout (no oci-layout file)",
				    im->name, o->dir);
		goto out;
	}
	if (rc < 0)
		goto out;
	root = json_loadb(b.ptr, b.len, 0, NULL);
	if (!json_is_string(json_object_get(root, "imageLayoutVersion"))) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: %s has no imageLayoutVersion", im->name, p);
		goto out;
	}
	free(p);
	p = xfmt("%s/index.json", o->dir);
	rc = client__file_read(p, INDEX_MAX, &b, e);
	if (rc < 0)
		goto out;
	rc = image_doc_parse(b.ptr, b.len, MT_OCI_INDEX, &o->index, why, sizeof(why));
	if (rc < 0)
		client_err_set(e, rc, "%s: index.json: %s", im->name, why);
out:
	json_decref(root);
	free(p);
	buf_release(&b);
	return rc;
}

/* The index.json entry the reference names. */
static int own_desc(struct client_image *im, struct oci *o, const struct image_desc **out, struct client_err *e)
{
	const char *tag = im->ref.tag;

	*out = NULL;
	if (tag) {
		for (size_t i = 0; i < o->index.nmanifests; i++)
			if (o->index.manifests[i].ref_name && !strcmp(o->index.manifests[i].ref_name, tag)) {
				*out = &o->index.manifests[i];
				return 0;
			}
		return client_err_set(e, -BERTH_ENOENT, "%s: no image named '%s' in %s", im->name, tag, o->dir);
	}
	if (o->index.nmanifests == 1) {
		*out = &o->index.manifests[0];
		return 0;
	}
	if (o->index.nmanifests == 0)
		return client_err_set(e, -BERTH_ENOENT, "%s: the layout %s holds no image", im->name, o->dir);
	return client_err_set(e, -BERTH_EINVAL, "%s holds %zu images; name one with %s:%s:NAME", o->dir,
			      o->index.nmanifests, image_transport_name(im->ref.transport), im->ref.path);
}

static int o_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			  struct digest *out, struct client_err *e)
{
	struct oci *o = im->priv;
	const struct image_desc *d = NULL;
	char *path, ds[DIGEST_STR_MAX];
	int rc;

	*media_type = NULL;
	if (!dg) {
		rc = own_desc(im, o, &d, e);
		if (rc < 0)
			return rc;
		if (d->size > CLIENT_MANIFEST_MAX)
			return client_err_set(e, -BERTH_ETOOBIG, "%s: manifest larger than %d bytes", im->name,
					      CLIENT_MANIFEST_MAX);
		dg = &d->digest;
	}
	path = client__blob_path(o->dir, dg);
	digest_str(dg, ds);
	rc = client__file_read(path, CLIENT_MANIFEST_MAX, body, e);
	free(path);
	if (rc == -BERTH_ENOENT)
		return client_err_set(e, rc, "%s: manifest %s is missing from %s", im->name, digest_str(dg, ds),
				      o->dir);
	if (rc < 0)
		return rc;
	digest_of(dg->alg, body->ptr, body->len, out);
	if (!digest_eq(out, dg) || (d && (int64_t)body->len != d->size))
		return client_err_set(e, -BERTH_EDIGEST,
				      "digest mismatch: %s: manifest file %s does not hold its bytes", im->name,
				      digest_str(dg, ds));
	if (d && d->media_type) {
		*media_type = xstrdup(d->media_type);
	} else {
		struct image_doc doc;
		char why[256];
		rc = image_doc_parse(body->ptr, body->len, NULL, &doc, why, sizeof(why));
		if (rc < 0)
			return client_err_set(e, rc, "%s: manifest %s: %s", im->name, ds, why);
		*media_type = xstrdup(doc.media_type);
		image_doc_release(&doc);
	}
	return 0;
}

static int o_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
		       struct client_xfer *x, int *fd, int *temp, struct client_err *e)
{
	struct oci *o = im->priv;
	char *path = client__blob_path(o->dir, &d->digest), ds[DIGEST_STR_MAX];
	int f, rc;

	(void)spool_dir;
	*fd = -1;
	*temp = 0;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		rc = client_err_set(e, errno == ENOENT ? -BERTH_ENOENT : -BERTH_EIO, "%s: blob %s is missing from %s",
				    im->name, digest_str(&d->digest, ds), o->dir);
		free(path);
		return rc;
	}
	free(path);
	rc = client__fd_verify(f, d, "blob", x, e);
	if (rc < 0) {
		client_err_wrap(e, "%s", im->name);
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

static int o_blob_exists(struct client_image *im, const struct image_desc *d, struct client_err *e)
{
	struct oci *o = im->priv;
	struct stat st;
	char *path;
	int found;

	(void)e;
	if (!o->dir_existed)
		return 0;
	path = client__blob_path(o->dir, &d->digest);
	found = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == d->size;
	free(path);
	return found;
}

static int o_blob_put(struct client_image *im, const struct image_desc *d, int fd, int temp, struct client_xfer *x,
		      struct client_err *e)
{
	struct oci *o = im->priv;
	char *dir = xfmt("%s/blobs/%s", o->staging, digest_alg_name(d->digest.alg));
	char *path = client__blob_path(o->staging, &d->digest);
	int rc = client__mkdirs(dir, e);

	if (rc == 0) {
		if (!temp || client__fd_link(fd, path) < 0)
			rc = client__fd_copy_verified(fd, path, d, x, e);
		else if (x && x->progress)
			x->progress(x->ctx, (uint64_t)d->size, (uint64_t)d->size);
	}
	free(dir);
	free(path);
	return rc;
}

static int o_manifest_put(struct client_image *im, const void *body, size_t len, const char *media_type, int top,
			  struct client_err *e)
{
	struct oci *o = im->priv;
	struct digest dg;
	char *dir = xfmt("%s/blobs/sha256", o->staging), *path;
	int rc;

	digest_of(DIGEST_SHA256, body, len, &dg);
	path = client__blob_path(o->staging, &dg);
	rc = client__mkdirs(dir, e);
	if (rc == 0)
		rc = client__file_write_atomic(path, body, len, e);
	if (rc == 0 && top) {
		image_desc_release(&o->top);
		o->top.digest = dg;
		o->top.size = (int64_t)len;
		o->top.media_type = xstrdup(media_type);
		o->top.ref_name = im->ref.tag ? xstrdup(im->ref.tag) : NULL;
		o->has_top = 1;
	}
	free(dir);
	free(path);
	return rc;
}

static json_t *desc_json(const struct image_desc *d)
{
	char ds[DIGEST_STR_MAX];
	json_t *o = json_pack("{s:s,s:s,s:I}", "mediaType", d->media_type ? d->media_type : MT_OCI_MANIFEST, "digest",
			      digest_str(&d->digest, ds), "size", (json_int_t)d->size);
	if (d->ref_name)
		json_object_set_new(o, "annotations", json_pack("{s:s}", ANNOTATION_REF_NAME, d->ref_name));
	return o;
}

/* index.json text with top added (replacing the entries of the same name, or the same unnamed digest). */
static char *index_with(json_t *root, const struct image_desc *top)
{
	json_t *mans = json_object_get(root, "manifests"), *v;
	size_t i;
	char ds[DIGEST_STR_MAX];

	if (!json_is_array(mans)) {
		mans = json_array();
		json_object_set_new(root, "manifests", mans);
	}
	digest_str(&top->digest, ds);
	for (i = json_array_size(mans); i-- > 0;) {
		const char *name, *dg;
		v = json_array_get(mans, i);
		name = json_string_value(json_object_get(json_object_get(v, "annotations"), ANNOTATION_REF_NAME));
		dg = json_string_value(json_object_get(v, "digest"));
		if ((top->ref_name && name && !strcmp(name, top->ref_name)) ||
		    (!top->ref_name && !name && dg && !strcmp(dg, ds)))
			json_array_remove(mans, i);
	}
	json_array_append_new(mans, desc_json(top));
	return json_dumps(root, JSON_COMPACT);
}

static const char oci_layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

/* Moves every staged blob into DIR/blobs. */
static int move_blobs(struct oci *o, struct client_err *e)
{
	char *from_root = xfmt("%s/blobs", o->staging);
	DIR *algs = opendir(from_root);
	struct dirent *a;
	int rc = 0;

	if (!algs) {
		free(from_root);
		return 0;
	}
	while (rc == 0 && (a = readdir(algs)) != NULL) {
		char *from_dir, *to_dir;
		DIR *files;
		struct dirent *f;
		if (a->d_name[0] == '.')
			continue;
		from_dir = xfmt("%s/%s", from_root, a->d_name);
		to_dir = xfmt("%s/blobs/%s", o->dir, a->d_name);
		rc = client__mkdirs(to_dir, e);
		files = rc == 0 ? opendir(from_dir) : NULL;
		while (files && rc == 0 && (f = readdir(files)) != NULL) {
			char *src, *dst;
			if (f->d_name[0] == '.' || strstr(f->d_name, ".tmp-"))
				continue;
			src = xfmt("%s/%s", from_dir, f->d_name);
			dst = xfmt("%s/%s", to_dir, f->d_name);
			if (rename(src, dst) < 0)
				rc = client_err_set(e, berth_from_errno(errno), "cannot move %s into %s: %s", src, dst,
						    strerror(errno));
			free(src);
			free(dst);
		}
		if (files)
			closedir(files);
		if (rc == 0)
			fs_sync_dir(to_dir);
		free(from_dir);
		free(to_dir);
	}
	closedir(algs);
	free(from_root);
	return rc;
}

static int o_commit_layout(struct client_image *im, struct oci *o, struct client_err *e)
{
	char *p = NULL, *text = NULL;
	json_t *root = NULL;
	int rc = 0;

	if (!o->has_top)
		return client_err_set(e, -BERTH_EINVAL, "%s: nothing to commit", im->name);
	if (!o->dir_existed) {
		root = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests");
		text = index_with(root, &o->top);
		p = xfmt("%s/oci-layout", o->staging);
		rc = client__file_write_atomic(p, oci_layout_text, strlen(oci_layout_text), e);
		free(p);
		p = xfmt("%s/index.json", o->staging);
		if (rc == 0)
			rc = client__file_write_atomic(p, text, strlen(text), e);
		if (rc == 0 && rename(o->staging, o->dir) < 0) {
			if (errno == EEXIST || errno == ENOTEMPTY)
				rc = client_err_set(e, -BERTH_EEXIST, "%s: %s appeared while copying; nothing written",
						    im->name, o->dir);
			else
				rc = client_err_set(e, berth_from_errno(errno), "cannot rename %s to %s: %s",
						    o->staging, o->dir, strerror(errno));
		}
		if (rc == 0) {
			char *parent = xstrdup(o->dir), *slash = strrchr(parent, '/');
			if (slash)
				*slash = '\0';
			fs_sync_dir(slash ? (slash == parent ? "/" : parent) : ".");
			free(parent);
			free(o->staging);
			o->staging = NULL;
		}
		goto out;
	}
	rc = move_blobs(o, e);
	if (rc < 0)
		goto out;
	{
		struct buf b;
		buf_init(&b, INDEX_MAX);
		p = xfmt("%s/index.json", o->dir);
		rc = client__file_read(p, INDEX_MAX, &b, e);
		if (rc == 0)
			root = json_loadb(b.ptr, b.len, 0, NULL);
		else if (rc == -BERTH_ENOENT)
			root = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests"),
			rc = 0;
		buf_release(&b);
	}
	if (rc < 0)
		goto out;
	if (!json_is_object(root)) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: index.json is not a JSON object", im->name);
		goto out;
	}
	text = index_with(root, &o->top);
	rc = client__file_write_atomic(p, text, strlen(text), e);
	free(p);
	p = xfmt("%s/oci-layout", o->dir);
	if (rc == 0 && access(p, F_OK) < 0)
		rc = client__file_write_atomic(p, oci_layout_text, strlen(oci_layout_text), e);
out:
	if (rc == 0)
		o->committed = 1;
	json_decref(root);
	free(text);
	free(p);
	return rc;
}

static int o_commit(struct client_image *im, struct client_err *e)
{
	struct oci *o = im->priv;
	int rc = o_commit_layout(im, o, e);

	if (rc == 0 && o->archive_file)
		rc = client__tar_create(o->archive_file, o->dir, e);
	return rc;
}

static int o_tags(struct client_image *im, char ***tags, size_t *n, struct client_err *e)
{
	struct oci *o = im->priv;
	char **v = NULL;
	size_t k = 0;

	(void)e;
	for (size_t i = 0; i < o->index.nmanifests; i++) {
		if (!o->index.manifests[i].ref_name)
			continue;
		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k++] = xstrdup(o->index.manifests[i].ref_name);
	}
	*tags = v;
	*n = k;
	return 0;
}

/* Adds d's blob and, for manifests, everything it references to the reachable set (a JSON object
 * used as a set of digest strings). Fails when a manifest cannot be read, so nothing is collected. */
static int mark(struct oci *o, const struct image_desc *d, json_t *seen, int depth, struct client_err *e)
{
	char ds[DIGEST_STR_MAX], why[256], *path;
	struct buf b;
	struct image_doc doc;
	int rc = 0;

	digest_str(&d->digest, ds);
	if (json_object_get(seen, ds))
		return 0;
	json_object_set_new(seen, ds, json_true());
	if (!d->media_type || (!manifest_media_type_known(d->media_type)) || depth > 8)
		return 0;
	buf_init(&b, CLIENT_MANIFEST_MAX);
	path = client__blob_path(o->dir, &d->digest);
	rc = client__file_read(path, CLIENT_MANIFEST_MAX, &b, e);
	free(path);
	if (rc == 0)
		rc = image_doc_parse(b.ptr, b.len, d->media_type, &doc, why, sizeof(why));
	buf_release(&b);
	if (rc < 0)
		return client_err_set(e, rc, "manifest %s cannot be read", ds);
	if (doc.is_index) {
		for (size_t i = 0; i < doc.nmanifests && rc == 0; i++)
			rc = mark(o, &doc.manifests[i], seen, depth + 1, e);
	} else {
		mark(o, &doc.config, seen, depth + 1, e);
		for (size_t i = 0; i < doc.nlayers; i++)
			mark(o, &doc.layers[i], seen, depth + 1, e);
	}
	image_doc_release(&doc);
	return rc;
}

/* Deletes the blobs no remaining index entry reaches. */
static void collect_garbage(struct oci *o, json_t *mans)
{
	json_t *seen = json_object(), *v;
	struct client_err ignored;
	size_t i;
	char *root = xfmt("%s/blobs", o->dir), why[256];
	DIR *algs;
	struct dirent *a;

	json_array_foreach(mans, i, v)
	{
		struct image_desc d;
		char *txt = json_dumps(v, JSON_COMPACT);
		struct buf b;
		/* parse the entry through a one-element index */
		buf_init(&b, BUF_UNLIMITED);
		buf_addf(&b, "{\"manifests\":[%s]}", txt);
		free(txt);
		{
			struct image_doc one;
			if (image_doc_parse(b.ptr, b.len, MT_OCI_INDEX, &one, why, sizeof(why)) < 0 ||
			    one.nmanifests != 1) {
				buf_release(&b);
				goto out; /* unreadable entry: keep everything */
			}
			image_desc_copy(&d, &one.manifests[0]);
			image_doc_release(&one);
		}
		buf_release(&b);
		if (mark(o, &d, seen, 0, &ignored) < 0) {
			image_desc_release(&d);
			goto out;
		}
		image_desc_release(&d);
	}
	algs = opendir(root);
	while (algs && (a = readdir(algs)) != NULL) {
		char *dir;
		DIR *files;
		struct dirent *f;
		if (a->d_name[0] == '.')
			continue;
		dir = xfmt("%s/%s", root, a->d_name);
		files = opendir(dir);
		while (files && (f = readdir(files)) != NULL) {
			char *name = xfmt("%s:%s", a->d_name, f->d_name), *p;
			struct digest dg;
			if (f->d_name[0] != '.' && digest_parse_cstr(name, &dg) == 0 && !json_object_get(seen, name)) {
				p = xfmt("%s/%s", dir, f->d_name);
				unlink(p);
				free(p);
			}
			free(name);
		}
		if (files)
			closedir(files);
		free(dir);
	}
	if (algs)
		closedir(algs);
out:
	json_decref(seen);
	free(root);
}

static int o_remove(struct client_image *im, struct client_err *e)
{
	struct oci *o = im->priv;
	struct buf b;
	char *p = xfmt("%s/index.json", o->dir), *text = NULL;
	json_t *root = NULL, *mans, *v;
	size_t i, removed = 0;
	const struct image_desc *own;
	char ds[DIGEST_STR_MAX];
	int rc;

	buf_init(&b, INDEX_MAX);
	if (o->archive_tmp) {
		rc = client_err_set(e, -BERTH_EUNSUPPORTED, "%s: cannot delete inside an archive", im->name);
		goto out;
	}
	rc = own_desc(im, o, &own, e);
	if (rc < 0)
		goto out;
	digest_str(&own->digest, ds);
	rc = client__file_read(p, INDEX_MAX, &b, e);
	if (rc < 0)
		goto out;
	root = json_loadb(b.ptr, b.len, 0, NULL);
	mans = json_object_get(root, "manifests");
	for (i = json_array_size(mans); i-- > 0;) {
		const char *name, *dg;
		v = json_array_get(mans, i);
		name = json_string_value(json_object_get(json_object_get(v, "annotations"), ANNOTATION_REF_NAME));
		dg = json_string_value(json_object_get(v, "digest"));
		if ((im->ref.tag && name && !strcmp(name, im->ref.tag)) || (!im->ref.tag && dg && !strcmp(dg, ds))) {
			json_array_remove(mans, i);
			removed++;
		}
	}
	if (!removed) {
		rc = client_err_set(e, -BERTH_ENOENT, "%s: no such image", im->name);
		goto out;
	}
	text = json_dumps(root, JSON_COMPACT);
	rc = client__file_write_atomic(p, text, strlen(text), e);
	if (rc == 0)
		collect_garbage(o, mans);
out:
	json_decref(root);
	free(text);
	free(p);
	buf_release(&b);
	return rc;
}

static void o_free(struct client_image *im)
{
	struct oci *o = im->priv;

	if (!o)
		return;
	if (o->staging)
		client__rmtree(o->staging);
	if (o->archive_tmp)
		client__rmtree(o->archive_tmp);
	image_doc_release(&o->index);
	image_desc_release(&o->top);
	free(o->staging);
	free(o->archive_tmp);
	free(o->archive_file);
	free(o->dir);
	free(o);
	im->priv = NULL;
}

static const struct client_image_ops oci_ops = {
    .manifest_get = o_manifest_get,
    .blob_open = o_blob_open,
    .blob_exists = o_blob_exists,
    .blob_put = o_blob_put,
    .manifest_put = o_manifest_put,
    .commit = o_commit,
    .tags = o_tags,
    .remove = o_remove,
    .free = o_free,
};

/* Prepares the staging folder of a destination layout in o->dir. */
static int dest_prepare(struct client_image *im, struct oci *o, struct client_err *e)
{
	char *tmpl, *layout;
	int rc;

	if (access(o->dir, F_OK) == 0) {
		DIR *d;
		struct dirent *de;
		int empty = 1;
		if (!is_dir(o->dir))
			return client_err_set(e, -BERTH_EEXIST, "%s: %s exists and is not a folder", im->name, o->dir);
		layout = xfmt("%s/oci-layout", o->dir);
		if (access(layout, F_OK) < 0) {
			d = opendir(o->dir);
			while (d && (de = readdir(d)) != NULL)
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					empty = 0;
			if (d)
				closedir(d);
			if (!empty) {
				free(layout);
				return client_err_set(e, -BERTH_EEXIST,
						      "%s: %s exists, is not empty and is not an OCI image layout",
						      im->name, o->dir);
			}
		}
		free(layout);
		o->dir_existed = 1;
		tmpl = xfmt("%s/.berth-staging-XXXXXX", o->dir);
	} else {
		char *parent = xstrdup(o->dir), *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			rc = client__mkdirs(parent, e);
			if (rc < 0) {
				free(parent);
				return rc;
			}
		}
		free(parent);
		tmpl = xfmt("%s.berth-staging-XXXXXX", o->dir);
	}
	if (!mkdtemp(tmpl)) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot create a staging folder %s: %s", tmpl,
				    strerror(errno));
		free(tmpl);
		return rc;
	}
	chmod(tmpl, 0755);
	o->staging = tmpl;
	im->caps |= CLIENT_CAP_OCI_TYPES;
	im->spool_dir = xstrdup(tmpl);
	return 0;
}

int client__oci_open(struct client_image *im, struct client_err *e)
{
	struct oci *o = xcalloc(1, sizeof(*o));

	im->ops = &oci_ops;
	im->priv = o;
	o->dir = xstrdup(im->ref.path);
	if (im->mode & CLIENT_DST)
		return dest_prepare(im, o, e);
	return layout_load(im, o, e);
}

int client__oci_archive_open(struct client_image *im, struct client_err *e)
{
	struct oci *o = xcalloc(1, sizeof(*o));
	int rc;

	im->ops = &oci_ops;
	im->priv = o;
	if (im->mode & CLIENT_DST) {
		char *parent = xstrdup(im->ref.path), *slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		o->archive_tmp = xfmt("%s/.berth-oci-archive-XXXXXX", slash ? (slash == parent ? "" : parent) : ".");
		free(parent);
		if (is_dir(im->ref.path))
			return client_err_set(e, -BERTH_EEXIST, "%s: %s is a folder", im->name, im->ref.path);
		if (!mkdtemp(o->archive_tmp)) {
			rc = client_err_set(e, berth_from_errno(errno), "cannot create a folder beside %s: %s",
					    im->ref.path, strerror(errno));
			free(o->archive_tmp);
			o->archive_tmp = NULL;
			return rc;
		}
		o->archive_file = xstrdup(im->ref.path);
		o->dir = xfmt("%s/layout", o->archive_tmp);
		return dest_prepare(im, o, e);
	}
	o->archive_tmp = xfmt("%s/berth-oci-archive-XXXXXX", client_tmp_dir(im->opts));
	if (!mkdtemp(o->archive_tmp)) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot create a temporary folder %s: %s",
				    o->archive_tmp, strerror(errno));
		free(o->archive_tmp);
		o->archive_tmp = NULL;
		return rc;
	}
	rc = client__tar_extract(im->ref.path, o->archive_tmp, NULL, e);
	if (rc < 0)
		return rc;
	o->dir = xstrdup(o->archive_tmp);
	return layout_load(im, o, e);
}
