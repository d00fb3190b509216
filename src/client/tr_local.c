/* local:NAME[:TAG]: the host image store (src/graph/store.h), at opts->store_root with
 * opts->store_driver.
 *
 * Destination (`berth pull`, `berth copy ... local:`): the transport takes whole images (image_put)
 * instead of blobs. The copy engine picks the platform, reads and verifies the config and hands over
 * the manifest; graph_image_put then asks for the layers it lacks through a graph_source whose streams
 * are pipes fed by one thread each, which reads the source (client_image_blob_stream: for a registry
 * the HTTP body itself). So each layer is downloaded, decompressed, hashed twice (blob digest and
 * diff_id) and extracted in one pass, several layers at once on overlay2, and nothing is written to
 * disk twice. graph_image_put commits only when every digest matched, in one step: a failed or
 * cancelled pull leaves the store as it was. The manifest is stored byte for byte (its digest is the
 * source's).
 *
 * Source (`berth copy local:NAME oci:...`, `berth push local:NAME ...`): the store keeps every image's
 * manifest and config bytes and each layer's compressed blob, saved from the same stream while it
 * unpacked (graph_blob_open). The manifest is served byte for byte and the blobs by digest, each
 * hashed again against its descriptor before it is handed over, so every digest survives a round
 * trip registry -> local -> anywhere. An image stored by a berth that did not keep blobs fails to open
 * with one line (pulling it again fetches the missing blobs). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "client/remote.h"
#include "client/transport.h"
#include "graph/store.h"
#include "image/manifest.h"

#define PIPE_BYTES (1 << 20)
#define PROGRESS_STEP (1u << 20)

struct local {
	struct graph_store *store;
	struct digest manifest; /* source: the image's manifest digest */
};

/* The graph_source context of one image_put. */
struct feed {
	struct client_image *src;
	const struct client_image_put *p;
	const struct image_doc *doc;
	pthread_mutex_t mu;
	int rc; /* the first source error, reported instead of the store's view of it */
	struct client_err err;
};

/* One layer being read: a pipe, and the thread that fills it from the source. */
struct stream {
	struct feed *f;
	struct image_desc d;
	size_t layer;
	int rfd, wfd;
	pthread_t th;
	int started, joined, rc;
	struct client_err err;
	uint64_t done, reported;
};

static void feed_fail(struct feed *f, int rc, const struct client_err *e)
{
	pthread_mutex_lock(&f->mu);
	if (f->rc == 0) {
		f->rc = rc;
		f->err = *e;
	}
	pthread_mutex_unlock(&f->mu);
}

static void *filler(void *arg)
{
	struct stream *s = arg;
	struct client_xfer x = {NULL, NULL, s->f->p->cancel};
	sigset_t set;

	/* a reader that stops early must give EPIPE here, not kill the process */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	s->rc = client_image_blob_stream(s->f->src, &s->d, s->wfd, &x, &s->err);
	close(s->wfd);
	s->wfd = -1;
	return NULL;
}

static int stream_join(struct stream *s)
{
	if (s->started && !s->joined) {
		pthread_join(s->th, NULL);
		s->joined = 1;
	}
	return s->rc;
}

static int src_open(void *ctx, const struct digest *d, uint64_t size, void **out)
{
	struct feed *f = ctx;
	struct stream *s;
	struct client_err e = {0};
	int fds[2], rc;
	size_t i;

	(void)size;
	for (i = 0; i < f->doc->nlayers; i++)
		if (digest_eq(&f->doc->layers[i].digest, d))
			break;
	if (i == f->doc->nlayers) {
		client_err_set(&e, -BERTH_EINVAL, "the store asked for a blob the manifest does not name");
		feed_fail(f, e.code, &e);
		return e.code;
	}
	if (f->p->cancel && atomic_load(f->p->cancel)) {
		client_err_set(&e, -BERTH_EIO, "cancelled");
		feed_fail(f, e.code, &e);
		return e.code;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = client_err_set(&e, berth_from_errno(errno), "pipe: %s", strerror(errno));
		feed_fail(f, rc, &e);
		return rc;
	}
	(void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES); /* fewer wake-ups; the default works too */
	s = xcalloc(1, sizeof(*s));
	s->f = f;
	s->layer = i;
	s->rfd = fds[0];
	s->wfd = fds[1];
	image_desc_copy(&s->d, &f->doc->layers[i]);
	if (f->p->progress)
		f->p->progress(f->p->ctx, i, 0, (uint64_t)s->d.size);
	if (pthread_create(&s->th, NULL, filler, s) != 0) {
		rc = client_err_set(&e, -BERTH_ENOMEM, "cannot start a download thread");
		feed_fail(f, rc, &e);
		close(s->rfd);
		close(s->wfd);
		image_desc_release(&s->d);
		free(s);
		return rc;
	}
	s->started = 1;
	*out = s;
	return 0;
}

static ssize_t src_read(void *stream, void *buf, size_t n)
{
	struct stream *s = stream;
	struct feed *f = s->f;
	ssize_t k;

	if (f->p->cancel && atomic_load(f->p->cancel)) {
		struct client_err e = {0};
		client_err_set(&e, -BERTH_EIO, "cancelled");
		feed_fail(f, e.code, &e);
		return e.code;
	}
	do
		k = read(s->rfd, buf, n);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return berth_from_errno(errno);
	if (k == 0) {
		/* the end: only now is it known whether the source's bytes were right */
		if (stream_join(s) < 0) {
			feed_fail(f, s->rc, &s->err);
			return s->rc;
		}
	}
	s->done += (uint64_t)k;
	if (f->p->progress && (s->done - s->reported >= PROGRESS_STEP || k == 0)) {
		s->reported = s->done;
		f->p->progress(f->p->ctx, s->layer, s->done, (uint64_t)s->d.size);
	}
	return k;
}

static void src_close(void *stream)
{
	struct stream *s = stream;

	close(s->rfd); /* a filler still writing gets EPIPE and ends */
	stream_join(s);
	if (s->f->p->progress && s->done != s->reported)
		s->f->p->progress(s->f->p->ctx, s->layer, s->done, (uint64_t)s->d.size);
	image_desc_release(&s->d);
	free(s);
}

/* "NAME:TAG" as the store records it. */
static char *store_name(const struct image_ref *r)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s:%s", r->repo, r->tag ? r->tag : "latest");
	return buf_detach(&b, NULL);
}

static int l_image_put(struct client_image *im, struct client_image *src, const struct client_image_put *p,
		       struct client_err *e)
{
	struct local *l = im->priv;
	struct image_doc doc = {0};
	struct feed f = {.src = src, .p = p, .doc = &doc};
	struct graph_source gs = {&f, src_open, src_read, src_close};
	struct graph_put_opts po = {0};
	char *name = NULL, why[256];
	const char *names[1];
	int rc;

	rc = image_doc_parse(p->manifest, p->mlen, p->media_type, &doc, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "%s: manifest: %s", src->name, why);
	if (doc.is_index) {
		image_doc_release(&doc);
		return client_err_set(e, -BERTH_EUNSUPPORTED, "%s holds one image, not an index", im->name);
	}
	if (!im->ref.has_digest || !im->ref.tag_default) {
		name = store_name(&im->ref);
		names[0] = name;
		po.names = names;
		po.nnames = 1;
	}
	if (im->ref.has_digest) {
		struct digest got;
		char gs1[DIGEST_STR_MAX], ws[DIGEST_STR_MAX];
		digest_of(im->ref.digest.alg, p->manifest, p->mlen, &got);
		if (!digest_eq(&got, &im->ref.digest)) {
			rc = client_err_set(e, -BERTH_EDIGEST,
					    "the manifest has digest %s, not the %s the destination names",
					    digest_str(&got, gs1), digest_str(&im->ref.digest, ws));
			goto out;
		}
	}
	po.parallel = p->jobs > 0 ? p->jobs : 0;
	pthread_mutex_init(&f.mu, NULL);
	rc = graph_image_put(l->store, p->manifest, p->mlen, p->config, p->clen, &gs, &po, NULL);
	if (rc < 0) {
		if (f.rc < 0) {
			*e = f.err;
			rc = f.rc;
			client_err_wrap(e, "%s", im->name);
		} else {
			client_err_set(e, rc, "%s: %s", im->name, graph_store_why(l->store));
		}
	}
	pthread_mutex_destroy(&f.mu);
out:
	image_doc_release(&doc);
	free(name);
	return rc;
}

static void l_free(struct client_image *im)
{
	struct local *l = im->priv;

	if (!l)
		return;
	graph_store_close(l->store);
	free(l);
	im->priv = NULL;
}

static const struct client_image_ops local_dst_ops = {
    .image_put = l_image_put,
    .free = l_free,
};

/* ---- source ---- */

static int missing_blobs(struct client_image *im, const char *name, struct client_err *e)
{
	return client_err_set(e, -BERTH_ENOENT, "image %s was stored without its blobs; pull it again", name);
}

static int read_fd(int fd, size_t max, struct buf *out)
{
	char tmp[65536];
	ssize_t k;

	for (;;) {
		k = read(fd, tmp, sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return berth_from_errno(errno);
		if (k == 0)
			return 0;
		if (out->len + (size_t)k > max)
			return -BERTH_ETOOBIG;
		if (buf_add(out, tmp, (size_t)k) < 0)
			return -BERTH_ENOMEM;
	}
}

static int l_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			  struct digest *out, struct client_err *e)
{
	struct local *l = im->priv;
	struct image_doc doc;
	char ds[DIGEST_STR_MAX], why[256];
	int fd, rc;

	*media_type = NULL;
	if (dg && !digest_eq(dg, &l->manifest))
		return client_err_set(e, -BERTH_ENOENT, "%s: the store holds manifest %s, not %s", im->name,
				      digest_str(&l->manifest, ds), digest_str(dg, why));
	digest_str(&l->manifest, ds);
	if (graph_blob_open(l->store, &l->manifest, &fd) < 0)
		return missing_blobs(im, im->name, e);
	buf_reset(body);
	rc = read_fd(fd, CLIENT_MANIFEST_MAX, body);
	close(fd);
	if (rc < 0)
		return client_err_set(e, rc, "%s: reading manifest %s: %s", im->name, ds, berth_strerror(rc));
	digest_of(l->manifest.alg, body->ptr, body->len, out);
	if (!digest_eq(out, &l->manifest))
		return client_err_set(e, -BERTH_EDIGEST, "digest mismatch: %s: the store's copy of manifest %s changed",
				      im->name, ds);
	rc = image_doc_parse(body->ptr, body->len, NULL, &doc, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "%s: manifest %s: %s", im->name, ds, why);
	*media_type = xstrdup(doc.media_type);
	image_doc_release(&doc);
	return 0;
}

static int l_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
		       struct client_xfer *x, int *fd, int *temp, struct client_err *e)
{
	struct local *l = im->priv;
	int rc;

	(void)spool_dir;
	*fd = -1;
	*temp = 0;
	if (graph_blob_open(l->store, &d->digest, fd) < 0)
		return missing_blobs(im, im->name, e);
	rc = client__fd_verify(*fd, d, "blob", x, e);
	if (rc < 0) {
		close(*fd);
		*fd = -1;
		return client_err_wrap(e, "%s (the store's copy)", im->name);
	}
	return 0;
}

static const struct client_image_ops local_src_ops = {
    .manifest_get = l_manifest_get,
    .blob_open = l_blob_open,
    .free = l_free,
};

/* Finds the image the source reference names and checks the store kept all its blobs. */
static int src_prepare(struct client_image *im, struct local *l, struct client_err *e)
{
	struct graph_image_info info;
	struct image_doc doc = {0};
	struct buf body;
	struct digest got;
	char *name, *mt = NULL, ds[DIGEST_STR_MAX], why[256];
	int rc, fd;

	name = im->ref.has_digest ? xstrdup(digest_str(&im->ref.digest, ds)) : store_name(&im->ref);
	rc = graph_image_find(l->store, name, &info);
	if (rc == 0 && im->ref.has_digest && strcmp(info.manifest, name) != 0)
		rc = -BERTH_ENOENT; /* a config digest names the image, not a manifest */
	if (rc < 0) {
		rc = client_err_set(e, rc, "%s: no image %s in the store %s", im->name, name,
				    graph_store_root(l->store));
		goto out;
	}
	if (digest_parse_cstr(info.manifest, &l->manifest) < 0) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: the store records a bad manifest digest", im->name);
		goto out;
	}
	/* every blob must be there, else one clear line now rather than half a copy later */
	buf_init(&body, CLIENT_MANIFEST_MAX);
	rc = l_manifest_get(im, NULL, &body, &mt, &got, e);
	if (rc == 0 && (rc = image_doc_parse(body.ptr, body.len, mt, &doc, why, sizeof(why))) < 0)
		client_err_set(e, rc, "%s: manifest: %s", im->name, why);
	buf_release(&body);
	for (size_t i = 0; rc == 0 && i <= doc.nlayers; i++) {
		const struct digest *d = i < doc.nlayers ? &doc.layers[i].digest : &doc.config.digest;
		if (graph_blob_open(l->store, d, &fd) < 0)
			rc = missing_blobs(im, name, e);
		else
			close(fd);
	}
out:
	image_doc_release(&doc);
	graph_image_info_release(&info);
	free(mt);
	free(name);
	return rc;
}

int client__local_open(struct client_image *im, struct client_err *e)
{
	struct local *l;
	const char *root = im->opts && im->opts->store_root ? im->opts->store_root : GRAPH_DEFAULT_ROOT;
	char why[1024];
	int rc;

	if (im->mode != CLIENT_DST && im->mode != CLIENT_SRC)
		return client_err_set(e, -BERTH_EUNSUPPORTED,
				      "local: has no tags and cannot be deleted here (berth images, berth rmi)");
	l = xcalloc(1, sizeof(*l));
	im->priv = l;
	im->ops = im->mode == CLIENT_DST ? &local_dst_ops : &local_src_ops;
	im->caps = CLIENT_CAP_NO_INDEX;
	rc = graph_store_open(&l->store, root, im->opts ? im->opts->store_driver : NULL, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "%s", why);
	if (im->mode == CLIENT_SRC)
		return src_prepare(im, l, e);
	return 0;
}
