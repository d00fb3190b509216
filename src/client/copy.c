#include "client/copy.h"

#include <archive.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "client/remote.h"
#include "image/manifest.h"

#define CONFIG_MAX (16 << 20)
#define JOBS_MAX 64
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

/* A manifest the destination got in another form (Docker schema 2 -> OCI). */
struct remap {
	struct digest from, to;
	int64_t size;
	const char *media_type;
};

/* One blob to move. */
struct job {
	struct image_desc src; /* the source's descriptor */
	int is_config, convert; /* convert: decompress for the destination */
	int has_diff;
	struct digest diff_id; /* what the config says the uncompressed layer hashes to */
	struct image_desc out; /* as written */
	enum client_blob_action action;
};

/* One image manifest of the plan. */
struct pimage {
	struct buf body;
	char *media_type;
	struct digest digest;
	struct image_doc doc;
	int convert;
	size_t config_job, *layer_jobs;
};

struct engine {
	struct client_image *src, *dst;
	const struct client_copy_opts *o;
	struct job *jobs;
	size_t njobs, next;
	pthread_mutex_t mu, ev_mu;
	atomic_int own_cancel;
	atomic_int *cancel; /* opts->cancel or &own_cancel */
	int rc;
	struct client_err err;
	struct remap *remaps; /* manifests rewritten for the destination: old digest -> new */
	size_t nremaps;
};

/* ---------------------------------------------------------------- events */

struct xctx {
	struct engine *g;
	size_t slot;
	enum client_copy_phase phase;
};

static void emit(struct engine *g, size_t slot, enum client_copy_phase ph, uint64_t done, uint64_t total,
		 enum client_blob_action action)
{
	struct client_copy_event ev;

	if (!g->o->on_event)
		return;
	ev.slot = slot;
	ev.nslots = g->njobs;
	ev.desc = &g->jobs[slot].src;
	ev.is_config = g->jobs[slot].is_config;
	ev.phase = ph;
	ev.done = done;
	ev.total = total;
	ev.action = action;
	pthread_mutex_lock(&g->ev_mu);
	g->o->on_event(g->o->ctx, &ev);
	pthread_mutex_unlock(&g->ev_mu);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct xctx *c = ctx;
	emit(c->g, c->slot, c->phase, done, total, CLIENT_BLOB_COPIED);
}

/* ---------------------------------------------------------------- decompression */

static int is_compressed(int fd)
{
	unsigned char m[6] = {0};
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n < 4)
		return 0;
	return (m[0] == 0x1f && m[1] == 0x8b) || /* gzip */
	       (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) || /* zstd */
	       (n >= 6 && m[0] == 0xfd && !memcmp(m + 1, "7zXZ", 4) && m[5] == 0) || /* xz */
	       (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h'); /* bzip2 */
}

/* Decompresses in (a verified layer) into a new temporary file in dir; *out_fd, its digest and size
 * in out. */
static int decompress(int in, const char *dir, struct image_desc *out, int *out_fd, struct client_xfer *x,
		      struct client_err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct hasher h;
	uint64_t total = 0;
	char *chunk = xmalloc(1 << 20);
	int fd = client_tmpfile(dir, e), rc = 0;

	*out_fd = -1;
	hasher_init(&h, DIGEST_SHA256);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, in, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		rc = client_err_set(e, -BERTH_EINVAL, "cannot decompress a layer: %s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, chunk, 1 << 20);
		if (n == 0)
			break;
		if (n < 0) {
			rc = client_err_set(e, -BERTH_EINVAL, "cannot decompress a layer: %s", archive_error_string(a));
			goto out;
		}
		if (x && x->cancel && atomic_load(x->cancel)) {
			rc = client_err_set(e, -BERTH_EIO, "cancelled");
			goto out;
		}
		hasher_update(&h, chunk, (size_t)n);
		if (write(fd, chunk, (size_t)n) != n) {
			rc = client_err_set(e, berth_from_errno(errno), "cannot write a decompressed layer: %s",
					    strerror(errno));
			goto out;
		}
		total += (uint64_t)n;
		if (x && x->progress)
			x->progress(x->ctx, total, 0);
	}
	hasher_final(&h, &out->digest);
	out->size = (int64_t)total;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = client_err_set(e, -BERTH_EIO, "seek failed");
		goto out;
	}
	*out_fd = fd;
	fd = -1;
out:
	hasher_release(&h);
	if (fd >= 0)
		close(fd);
	archive_read_free(a);
	free(chunk);
	return rc;
}

/* ---------------------------------------------------------------- one blob */

static int move_blob(struct engine *g, size_t slot, struct client_err *e)
{
	struct job *j = &g->jobs[slot];
	struct xctx xc = {g, slot, CLIENT_PHASE_FETCH};
	struct client_xfer x = {on_progress, &xc, g->cancel};
	int fd = -1, temp = 0, rc;

	image_desc_copy(&j->out, &j->src);
	if (j->src.foreign) {
		j->action = CLIENT_BLOB_SKIPPED; /* non-distributable: the manifest keeps its urls */
		return 0;
	}
	emit(g, slot, CLIENT_PHASE_CHECK, 0, (uint64_t)j->src.size, CLIENT_BLOB_COPIED);
	if (!j->convert) {
		rc = g->dst->ops->blob_exists(g->dst, &j->src, e);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			j->action = CLIENT_BLOB_SKIPPED;
			return 0;
		}
		if (g->dst->ops->blob_mount) {
			rc = g->dst->ops->blob_mount(g->dst, &j->src, g->src, e);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				j->action = CLIENT_BLOB_MOUNTED;
				return 0;
			}
		}
	}
	rc = client_image_blob_open(g->src, &j->src, g->dst->spool_dir, &x, &fd, &temp, e);
	if (rc < 0)
		return rc;
	if (j->convert) {
		char ds[DIGEST_STR_MAX], ws[DIGEST_STR_MAX];
		if (is_compressed(fd)) {
			int nfd = -1;
			xc.phase = CLIENT_PHASE_CONVERT;
			rc = decompress(fd, g->dst->spool_dir ? g->dst->spool_dir : client_tmp_dir(g->src->opts),
					&j->out, &nfd, &x, e);
			close(fd);
			fd = nfd;
			temp = 1;
			if (rc < 0)
				goto out;
		}
		free(j->out.media_type);
		j->out.media_type = xstrdup(MT_DOCKER_LAYER_TAR);
		if (j->has_diff && !digest_eq(&j->out.digest, &j->diff_id)) {
			rc =
			    client_err_set(e, -BERTH_EDIGEST,
					   "digest mismatch: layer %s uncompresses to %s, the config's diff_id says %s",
					   digest_str(&j->src.digest, ds), digest_str(&j->out.digest, ws),
					   digest_str(&j->diff_id, ds));
			goto out;
		}
	}
	xc.phase = CLIENT_PHASE_WRITE;
	rc = g->dst->ops->blob_put(g->dst, &j->out, fd, temp, &x, e);
	j->action = CLIENT_BLOB_COPIED;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static void *worker(void *arg)
{
	struct engine *g = arg;
	struct client_err e = {0};

	for (;;) {
		size_t slot;
		int rc;

		pthread_mutex_lock(&g->mu);
		slot = g->next++;
		pthread_mutex_unlock(&g->mu);
		if (slot >= g->njobs || atomic_load(g->cancel))
			break;
		rc = move_blob(g, slot, &e);
		if (rc < 0) {
			emit(g, slot, CLIENT_PHASE_FAILED, 0, 0, CLIENT_BLOB_COPIED);
			pthread_mutex_lock(&g->mu);
			/* the first real error wins over the "cancelled" of the others */
			if (g->rc == 0) {
				g->rc = rc;
				g->err = e;
			}
			pthread_mutex_unlock(&g->mu);
			atomic_store(g->cancel, 1);
			break;
		}
		emit(g, slot, CLIENT_PHASE_DONE, (uint64_t)g->jobs[slot].out.size, (uint64_t)g->jobs[slot].out.size,
		     g->jobs[slot].action);
	}
	return NULL;
}

static int run_jobs(struct engine *g, struct client_err *e)
{
	pthread_t th[JOBS_MAX];
	size_t n = g->o->jobs > 0 ? (size_t)g->o->jobs : 4, started = 0;

	if (n > JOBS_MAX)
		n = JOBS_MAX;
	if (n > g->njobs)
		n = g->njobs;
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, worker, g) != 0)
			break;
		started++;
	}
	if (started == 0 && g->njobs > 0)
		worker(g);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (g->rc < 0) {
		*e = g->err;
		return g->rc;
	}
	if (atomic_load(g->cancel))
		return client_err_set(e, -BERTH_EIO, "cancelled");
	return 0;
}

/* ---------------------------------------------------------------- planning */

static size_t job_add(struct engine *g, const struct image_desc *d, int is_config, int convert,
		      const struct digest *diff)
{
	for (size_t i = 0; i < g->njobs; i++)
		if (digest_eq(&g->jobs[i].src.digest, &d->digest) && g->jobs[i].convert == convert)
			return i;
	g->jobs = xrealloc(g->jobs, (g->njobs + 1) * sizeof(*g->jobs));
	memset(&g->jobs[g->njobs], 0, sizeof(*g->jobs));
	image_desc_copy(&g->jobs[g->njobs].src, d);
	g->jobs[g->njobs].is_config = is_config;
	g->jobs[g->njobs].convert = convert;
	if (diff) {
		g->jobs[g->njobs].has_diff = 1;
		g->jobs[g->njobs].diff_id = *diff;
	}
	return g->njobs++;
}

static void pimage_release(struct pimage *p)
{
	buf_release(&p->body);
	free(p->media_type);
	image_doc_release(&p->doc);
	free(p->layer_jobs);
	memset(p, 0, sizeof(*p));
}

/* The config's rootfs.diff_ids, for checking decompressed layers. */
static int read_diff_ids(struct engine *g, struct pimage *p, struct digest **ids, size_t *n, struct client_err *e)
{
	struct buf cfg;
	json_t *root = NULL, *arr, *v;
	size_t i;
	int rc;

	*ids = NULL;
	*n = 0;
	buf_init(&cfg, CONFIG_MAX);
	rc = client_image_blob_read(g->src, &p->doc.config, CONFIG_MAX, &cfg, e);
	if (rc < 0)
		goto out;
	root = json_loadb(cfg.ptr, cfg.len, 0, NULL);
	arr = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	if (!json_is_array(arr) || json_array_size(arr) != p->doc.nlayers) {
		rc = client_err_set(e, -BERTH_EINVAL, "the image config does not list one diff_id per layer");
		goto out;
	}
	*ids = xcalloc(p->doc.nlayers + 1, sizeof(**ids));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || digest_parse_cstr(json_string_value(v), &(*ids)[i]) < 0) {
			rc = client_err_set(e, -BERTH_EINVAL, "the image config has an invalid diff_id");
			free(*ids);
			*ids = NULL;
			goto out;
		}
	}
	*n = p->doc.nlayers;
out:
	json_decref(root);
	buf_release(&cfg);
	return rc;
}

static int plan_image(struct engine *g, struct pimage *p, struct client_err *e)
{
	struct digest *diffs = NULL;
	size_t ndiff = 0;
	char why[256];
	int rc;

	rc = image_doc_parse(p->body.ptr, p->body.len, p->media_type, &p->doc, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "%s: manifest: %s", g->src->name, why);
	if (p->doc.is_index)
		return client_err_set(e, -BERTH_EUNSUPPORTED, "%s: an index inside an index is not supported",
				      g->src->name);
	p->convert = (g->dst->caps & CLIENT_CAP_UNCOMPRESSED) != 0;
	if (p->convert) {
		for (size_t i = 0; i < p->doc.nlayers; i++)
			if (p->doc.layers[i].foreign)
				return client_err_set(e, -BERTH_EUNSUPPORTED,
						      "%s: a foreign layer cannot be written to %s", g->src->name,
						      image_transport_name(g->dst->ref.transport));
		rc = read_diff_ids(g, p, &diffs, &ndiff, e);
		if (rc < 0)
			return rc;
	}
	p->config_job = job_add(g, &p->doc.config, 1, 0, NULL);
	p->layer_jobs = xcalloc(p->doc.nlayers + 1, sizeof(size_t));
	for (size_t i = 0; i < p->doc.nlayers; i++)
		p->layer_jobs[i] = job_add(g, &p->doc.layers[i], 0, p->convert, diffs ? &diffs[i] : NULL);
	free(diffs);
	return 0;
}

/* The Docker schema 2 manifest naming the written (decompressed) layers. */
static char *converted_manifest(struct engine *g, struct pimage *p, size_t *len)
{
	json_t *m, *layers;
	char ds[DIGEST_STR_MAX], *text;
	const struct job *cj = &g->jobs[p->config_job];

	m = json_pack("{s:i,s:s,s:{s:s,s:I,s:s}}", "schemaVersion", 2, "mediaType", MT_DOCKER_MANIFEST, "config",
		      "mediaType", MT_DOCKER_CONFIG, "size", (json_int_t)cj->out.size, "digest",
		      digest_str(&cj->out.digest, ds));
	layers = json_array();
	for (size_t i = 0; i < p->doc.nlayers; i++) {
		const struct job *lj = &g->jobs[p->layer_jobs[i]];
		json_array_append_new(layers,
				      json_pack("{s:s,s:I,s:s}", "mediaType", MT_DOCKER_LAYER_TAR, "size",
						(json_int_t)lj->out.size, "digest", digest_str(&lj->out.digest, ds)));
	}
	json_object_set_new(m, "layers", layers);
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	*len = strlen(text);
	return text;
}

static void result_add_manifest(struct client_copy_result *res, const struct digest *d)
{
	res->manifests = xrealloc(res->manifests, (res->nmanifests + 1) * sizeof(*res->manifests));
	res->manifests[res->nmanifests++] = *d;
}

static const char *oci_layer_type(const char *mt)
{
	if (!mt)
		return NULL;
	if (!strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (!strcmp(mt, MT_DOCKER_LAYER_TAR))
		return "application/vnd.oci.image.layer.v1.tar";
	if (!strcmp(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"))
		return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
	return NULL;
}

/* A Docker schema 2 manifest in OCI media types (same blobs, as skopeo writes to OCI layouts);
 * caller free()s; NULL when body does not parse. */
static char *to_oci_manifest(const void *body, size_t len, size_t *outlen)
{
	json_t *root = json_loadb(body, len, 0, NULL), *cfg, *layers, *l;
	size_t i;
	char *text;

	if (!json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	json_object_set_new(root, "mediaType", json_string(MT_OCI_MANIFEST));
	cfg = json_object_get(root, "config");
	if (json_is_object(cfg) && json_is_string(json_object_get(cfg, "mediaType")) &&
	    !strcmp(json_string_value(json_object_get(cfg, "mediaType")), MT_DOCKER_CONFIG))
		json_object_set_new(cfg, "mediaType", json_string("application/vnd.oci.image.config.v1+json"));
	layers = json_object_get(root, "layers");
	json_array_foreach(layers, i, l)
	{
		const char *m = oci_layer_type(json_string_value(json_object_get(l, "mediaType")));
		if (m)
			json_object_set_new(l, "mediaType", json_string(m));
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	*outlen = text ? strlen(text) : 0;
	return text;
}

/* The index with its children's descriptors changed as the remaps say, in OCI media types when it
 * was a Docker manifest list; NULL when nothing changed. */
static char *index_remapped(struct engine *g, const void *body, size_t len, const char *mt, size_t *outlen)
{
	json_t *root = json_loadb(body, len, 0, NULL), *mans, *m;
	size_t i;
	int changed = 0;
	char *text = NULL;

	if (!json_is_object(root))
		goto out;
	mans = json_object_get(root, "manifests");
	json_array_foreach(mans, i, m)
	{
		struct digest d;
		const char *ds = json_string_value(json_object_get(m, "digest"));
		if (!ds || digest_parse_cstr(ds, &d) < 0)
			continue;
		for (size_t k = 0; k < g->nremaps; k++) {
			char ns[DIGEST_STR_MAX];
			if (!digest_eq(&g->remaps[k].from, &d))
				continue;
			json_object_set_new(m, "mediaType", json_string(g->remaps[k].media_type));
			json_object_set_new(m, "digest", json_string(digest_str(&g->remaps[k].to, ns)));
			json_object_set_new(m, "size", json_integer(g->remaps[k].size));
			changed = 1;
		}
	}
	if (mt && !strcmp(mt, MT_DOCKER_LIST) && (g->dst->caps & CLIENT_CAP_OCI_TYPES)) {
		json_object_set_new(root, "mediaType", json_string(MT_OCI_INDEX));
		changed = 1;
	}
	if (changed) {
		text = json_dumps(root, JSON_COMPACT);
		*outlen = text ? strlen(text) : 0;
	}
out:
	json_decref(root);
	return text;
}

/* Writes one image's manifest; top: the destination's named manifest. */
static int put_image(struct engine *g, struct pimage *p, int top, struct client_copy_result *res,
		     struct digest *written, char **written_mt, struct client_err *e)
{
	char *conv = NULL;
	const void *body = p->body.ptr;
	size_t len = p->body.len;
	const char *mt = p->media_type;
	int rc;

	if (p->convert) {
		conv = converted_manifest(g, p, &len);
		body = conv;
		mt = MT_DOCKER_MANIFEST;
	} else if ((g->dst->caps & CLIENT_CAP_OCI_TYPES) && mt && !strcmp(mt, MT_DOCKER_MANIFEST)) {
		conv = to_oci_manifest(p->body.ptr, p->body.len, &len);
		if (!conv)
			return client_err_set(e, -BERTH_EINVAL, "cannot convert manifest to OCI");
		body = conv;
		mt = MT_OCI_MANIFEST;
	}
	if (conv) {
		struct remap *r;
		g->remaps = xrealloc(g->remaps, (g->nremaps + 1) * sizeof(*g->remaps));
		r = &g->remaps[g->nremaps++];
		r->from = p->digest;
		digest_of(DIGEST_SHA256, body, len, &r->to);
		r->size = (int64_t)len;
		r->media_type = mt;
	}
	rc = g->dst->ops->manifest_put(g->dst, body, len, mt, top, e);
	if (rc == 0) {
		digest_of(DIGEST_SHA256, body, len, written);
		result_add_manifest(res, written);
		if (written_mt)
			*written_mt = xstrdup(mt);
	}
	free(conv);
	return rc;
}

/* ---------------------------------------------------------------- whole-image destinations (local:) */

struct direct {
	struct engine *g;
	struct pimage *p;
};

static void direct_progress(void *ctx, size_t layer, uint64_t done, uint64_t total)
{
	struct direct *d = ctx;
	size_t slot = d->p->layer_jobs[layer];

	d->g->jobs[slot].action = CLIENT_BLOB_COPIED;
	/* read, decompressed, verified and unpacked in one pass: one phase, "unpacking" */
	emit(d->g, slot, CLIENT_PHASE_CONVERT, done, total, CLIENT_BLOB_COPIED);
}

/* A destination with image_put gets the one image manifest and its config, and reads the layers it
 * lacks from src itself (streaming them); then commits. Layers it never asked for were already there. */
static int copy_direct(struct engine *g, struct pimage *p, struct client_copy_result *res, struct client_err *e)
{
	struct job *cj = &g->jobs[p->config_job];
	struct direct d = {g, p};
	struct client_image_put ip = {0};
	struct buf cfg;
	int rc;

	buf_init(&cfg, CONFIG_MAX);
	for (size_t i = 0; i < g->njobs; i++) {
		image_desc_copy(&g->jobs[i].out, &g->jobs[i].src);
		g->jobs[i].action = CLIENT_BLOB_SKIPPED;
	}
	emit(g, p->config_job, CLIENT_PHASE_FETCH, 0, (uint64_t)cj->src.size, CLIENT_BLOB_COPIED);
	rc = client_image_blob_read(g->src, &cj->src, CONFIG_MAX, &cfg, e);
	if (rc < 0) {
		emit(g, p->config_job, CLIENT_PHASE_FAILED, 0, 0, CLIENT_BLOB_COPIED);
		goto out;
	}
	cj->action = CLIENT_BLOB_COPIED;
	emit(g, p->config_job, CLIENT_PHASE_DONE, cfg.len, cfg.len, CLIENT_BLOB_COPIED);
	ip.manifest = p->body.ptr;
	ip.mlen = p->body.len;
	ip.media_type = p->media_type;
	ip.config = cfg.ptr;
	ip.clen = cfg.len;
	ip.jobs = g->o->jobs;
	ip.progress = direct_progress;
	ip.ctx = &d;
	ip.cancel = g->cancel;
	rc = g->dst->ops->image_put(g->dst, g->src, &ip, e);
	for (size_t i = 0; i < p->doc.nlayers; i++) {
		size_t slot = p->layer_jobs[i];
		if (rc < 0 && g->jobs[slot].action == CLIENT_BLOB_COPIED)
			emit(g, slot, CLIENT_PHASE_FAILED, 0, 0, CLIENT_BLOB_COPIED);
		else if (rc == 0)
			emit(g, slot, CLIENT_PHASE_DONE, (uint64_t)g->jobs[slot].out.size,
			     (uint64_t)g->jobs[slot].out.size, g->jobs[slot].action);
	}
	if (rc < 0)
		goto out;
	res->digest = p->digest;
	res->media_type = xstrdup(p->media_type ? p->media_type : "");
	result_add_manifest(res, &p->digest);
	rc = client_image_commit(g->dst, e);
out:
	buf_release(&cfg);
	return rc;
}

int client_copy(struct client_image *src, struct client_image *dst, const struct client_copy_opts *o,
		struct client_copy_result *res, struct client_err *e)
{
	struct engine g = {.src = src, .dst = dst, .o = o};
	struct buf top;
	char *top_mt = NULL, why[256];
	struct digest top_dg;
	struct image_doc topdoc = {0};
	struct pimage *imgs = NULL;
	size_t nimgs = 0;
	int copy_index = 0, rc;

	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&g.mu, NULL);
	pthread_mutex_init(&g.ev_mu, NULL);
	atomic_init(&g.own_cancel, 0);
	g.cancel = o->cancel ? o->cancel : &g.own_cancel;
	buf_init(&top, CLIENT_MANIFEST_MAX);
	if (!dst->ops->image_put && (!dst->ops->blob_put || !dst->ops->manifest_put)) {
		rc = client_err_set(e, -BERTH_EUNSUPPORTED, "%s cannot be written to", dst->name);
		goto out;
	}
	rc = client_image_manifest_get(src, NULL, &top, &top_mt, &top_dg, e);
	if (rc < 0)
		goto out;
	rc = image_doc_parse(top.ptr, top.len, top_mt, &topdoc, why, sizeof(why));
	if (rc < 0) {
		client_err_set(e, rc, "%s: manifest: %s", src->name, why);
		goto out;
	}
	if (topdoc.is_index && o->all) {
		if (dst->caps & CLIENT_CAP_NO_INDEX) {
			rc = client_err_set(e, -BERTH_EUNSUPPORTED,
					    "%s holds one image; pick one with --platform instead of --all", dst->name);
			goto out;
		}
		copy_index = 1;
		imgs = xcalloc(topdoc.nmanifests + 1, sizeof(*imgs));
		for (size_t i = 0; i < topdoc.nmanifests; i++) {
			struct pimage *p = &imgs[nimgs++];
			buf_init(&p->body, CLIENT_MANIFEST_MAX);
			rc = client_image_manifest_get(src, &topdoc.manifests[i].digest, &p->body, &p->media_type,
						       &p->digest, e);
			if (rc < 0)
				goto out;
			if (topdoc.manifests[i].media_type) {
				free(p->media_type);
				p->media_type = xstrdup(topdoc.manifests[i].media_type);
			}
			rc = plan_image(&g, p, e);
			if (rc < 0)
				goto out;
		}
	} else if (topdoc.is_index) {
		int k = client_index_pick(&topdoc, o->platform, src->name, "use --platform or --all", res->platform,
					  sizeof(res->platform), e);
		struct pimage *p;

		if (k < 0) {
			rc = k;
			goto out;
		}
		imgs = xcalloc(1, sizeof(*imgs));
		p = &imgs[nimgs++];
		buf_init(&p->body, CLIENT_MANIFEST_MAX);
		rc = client_image_manifest_get(src, &topdoc.manifests[k].digest, &p->body, &p->media_type, &p->digest,
					       e);
		if (rc < 0)
			goto out;
		if (topdoc.manifests[k].media_type) {
			free(p->media_type);
			p->media_type = xstrdup(topdoc.manifests[k].media_type);
		}
		rc = plan_image(&g, p, e);
		if (rc < 0)
			goto out;
	} else {
		struct pimage *p;
		imgs = xcalloc(1, sizeof(*imgs));
		p = &imgs[nimgs++];
		buf_init(&p->body, CLIENT_MANIFEST_MAX);
		buf_add(&p->body, top.ptr, top.len);
		p->media_type = xstrdup(top_mt);
		p->digest = top_dg;
		rc = plan_image(&g, p, e);
		if (rc < 0)
			goto out;
	}

	if (dst->ops->image_put) {
		if (nimgs != 1) {
			rc = client_err_set(e, -BERTH_EUNSUPPORTED, "%s takes one image at a time", dst->name);
			goto out;
		}
		rc = copy_direct(&g, &imgs[0], res, e);
		if (rc < 0)
			goto out;
		goto committed;
	}
	rc = run_jobs(&g, e);
	if (rc < 0)
		goto out;

	/* manifests: children (by digest) first, the named one last */
	for (size_t i = 0; i < nimgs; i++) {
		int is_top = !copy_index && i == nimgs - 1;
		rc = put_image(&g, &imgs[i], is_top, res, &res->digest, is_top ? &res->media_type : NULL, e);
		if (rc < 0)
			goto out;
	}
	if (copy_index) {
		size_t nlen = 0;
		char *nidx = (dst->caps & CLIENT_CAP_OCI_TYPES) || g.nremaps
				 ? index_remapped(&g, top.ptr, top.len, top_mt, &nlen)
				 : NULL;
		const char *imt = nidx && !strcmp(top_mt, MT_DOCKER_LIST) && (dst->caps & CLIENT_CAP_OCI_TYPES)
				      ? MT_OCI_INDEX
				      : top_mt;
		if (nidx) {
			buf_reset(&top);
			buf_add(&top, nidx, nlen);
			digest_of(DIGEST_SHA256, top.ptr, top.len, &top_dg);
			free(nidx);
		}
		rc = dst->ops->manifest_put(dst, top.ptr, top.len, imt, 1, e);
		if (rc < 0)
			goto out;
		res->digest = top_dg;
		res->media_type = xstrdup(imt);
		result_add_manifest(res, &top_dg);
	}
	rc = client_image_commit(dst, e);
	if (rc < 0)
		goto out;
committed:
	res->blobs = xcalloc(g.njobs + 1, sizeof(*res->blobs));
	for (size_t i = 0; i < g.njobs; i++) {
		struct client_copy_blob *b = &res->blobs[res->nblobs++];
		image_desc_copy(&b->desc, &g.jobs[i].out);
		b->source = g.jobs[i].src.digest;
		b->action = g.jobs[i].action;
		b->is_config = g.jobs[i].is_config;
	}
out:
	if (rc < 0)
		client_copy_result_release(res);
	for (size_t i = 0; i < nimgs; i++)
		pimage_release(&imgs[i]);
	free(imgs);
	for (size_t i = 0; i < g.njobs; i++) {
		image_desc_release(&g.jobs[i].src);
		image_desc_release(&g.jobs[i].out);
	}
	free(g.jobs);
	free(g.remaps);
	image_doc_release(&topdoc);
	free(top_mt);
	buf_release(&top);
	pthread_mutex_destroy(&g.mu);
	pthread_mutex_destroy(&g.ev_mu);
	return rc;
}

void client_copy_result_release(struct client_copy_result *r)
{
	for (size_t i = 0; i < r->nblobs; i++)
		image_desc_release(&r->blobs[i].desc);
	free(r->blobs);
	free(r->manifests);
	free(r->media_type);
	memset(r, 0, sizeof(*r));
}

static const char *action_name(enum client_blob_action a)
{
	switch (a) {
	case CLIENT_BLOB_SKIPPED:
		return "skipped";
	case CLIENT_BLOB_MOUNTED:
		return "mounted";
	default:
		return "copied";
	}
}

char *client_copy_result_json(const struct client_copy_result *r, const char *src, const char *dst)
{
	json_t *root, *blobs = json_array(), *mans = json_array();
	char ds[DIGEST_STR_MAX], *text;
	json_int_t counts[3] = {0, 0, 0}, bytes = 0;

	for (size_t i = 0; i < r->nblobs; i++) {
		const struct client_copy_blob *b = &r->blobs[i];
		json_t *o =
		    json_pack("{s:s,s:I,s:s,s:s,s:b}", "digest", digest_str(&b->desc.digest, ds), "size",
			      (json_int_t)b->desc.size, "mediaType", b->desc.media_type ? b->desc.media_type : "",
			      "action", action_name(b->action), "config", b->is_config);
		if (!digest_eq(&b->source, &b->desc.digest))
			json_object_set_new(o, "sourceDigest", json_string(digest_str(&b->source, ds)));
		json_array_append_new(blobs, o);
		counts[b->action]++;
		if (b->action == CLIENT_BLOB_COPIED)
			bytes += b->desc.size;
	}
	for (size_t i = 0; i < r->nmanifests; i++)
		json_array_append_new(mans, json_string(digest_str(&r->manifests[i], ds)));
	root = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:I}", "source", src, "destination", dst, "digest",
			 digest_str(&r->digest, ds), "mediaType", r->media_type ? r->media_type : "", "manifests", mans,
			 "blobs", blobs, "copied", counts[CLIENT_BLOB_COPIED], "skipped", counts[CLIENT_BLOB_SKIPPED],
			 "mounted", counts[CLIENT_BLOB_MOUNTED], "bytesCopied", bytes);
	if (r->platform[0])
		json_object_set_new(root, "platform", json_string(r->platform));
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}
