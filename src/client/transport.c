#include "client/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "client/remote.h"

static void ref_copy(struct image_ref *dst, const struct image_ref *src)
{
	*dst = *src;
	dst->host = src->host ? xstrdup(src->host) : NULL;
	dst->repo = src->repo ? xstrdup(src->repo) : NULL;
	dst->tag = src->tag ? xstrdup(src->tag) : NULL;
	dst->path = src->path ? xstrdup(src->path) : NULL;
}

int client_image_open_ref(const struct image_ref *ref, enum client_mode mode, const struct client_opts *o,
			  struct client_image **out, struct client_err *e)
{
	struct client_image *im = xcalloc(1, sizeof(*im));
	int rc = -BERTH_EINVAL;

	*out = NULL;
	ref_copy(&im->ref, ref);
	im->opts = o;
	im->mode = mode;
	im->name = image_ref_format(ref);
	switch (ref->transport) {
	case REF_DOCKER:
		rc = client__docker_open(im, e);
		break;
	case REF_OCI:
		rc = client__oci_open(im, e);
		break;
	case REF_OCI_ARCHIVE:
		rc = client__oci_archive_open(im, e);
		break;
	case REF_DOCKER_ARCHIVE:
		rc = client__docker_archive_open(im, e);
		break;
	case REF_LOCAL:
		rc = client__local_open(im, e);
		break;
	}
	if (rc < 0) {
		client_image_free(im);
		return rc;
	}
	*out = im;
	return 0;
}

int client_image_open(const char *text, enum client_mode mode, const struct client_opts *o, struct client_image **out,
		      struct client_err *e)
{
	struct image_ref ref;
	char why[512];
	int rc;

	*out = NULL;
	rc = image_ref_parse(text, &ref, why, sizeof(why));
	if (rc < 0)
		return client_err_set(e, rc, "%s", why);
	rc = client_image_open_ref(&ref, mode, o, out, e);
	image_ref_release(&ref);
	return rc;
}

void client_image_free(struct client_image *im)
{
	if (!im)
		return;
	if (im->ops && im->ops->free)
		im->ops->free(im);
	image_ref_release(&im->ref);
	free(im->spool_dir);
	free(im->name);
	free(im);
}

static int unsupported(struct client_image *im, const char *what, struct client_err *e)
{
	return client_err_set(e, -BERTH_EUNSUPPORTED, "%s: transport cannot %s",
			      image_transport_name(im->ref.transport), what);
}

int client_image_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			      struct digest *out, struct client_err *e)
{
	if (!im->ops->manifest_get)
		return unsupported(im, "read manifests", e);
	return im->ops->manifest_get(im, dg, body, media_type, out, e);
}

int client_image_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
			   struct client_xfer *x, int *fd, int *temp, struct client_err *e)
{
	if (!im->ops->blob_open)
		return unsupported(im, "read blobs", e);
	return im->ops->blob_open(im, d, spool_dir, x, fd, temp, e);
}

int client_image_blob_stream(struct client_image *im, const struct image_desc *d, int fd, struct client_xfer *x,
			     struct client_err *e)
{
	int in = -1, temp = 0, rc;
	char *chunk;
	ssize_t n = 0;

	if (im->ops->blob_stream)
		return im->ops->blob_stream(im, d, fd, x, e);
	rc = client_image_blob_open(im, d, NULL, x, &in, &temp, e);
	if (rc < 0)
		return rc;
	chunk = xmalloc(1 << 20);
	while (rc == 0 && (n = read(in, chunk, 1 << 20)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = client_err_set(e, berth_from_errno(errno), "cannot read a blob: %s", strerror(errno));
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, chunk + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = client_err_set(e, -BERTH_EIO, "cannot pass a blob on: %s", strerror(errno));
				break;
			}
			done += w;
		}
		if (rc == 0 && x && x->cancel && atomic_load(x->cancel))
			rc = client_err_set(e, -BERTH_EIO, "cancelled");
	}
	free(chunk);
	close(in);
	return rc;
}

int client_image_blob_read(struct client_image *im, const struct image_desc *d, size_t max, struct buf *out,
			   struct client_err *e)
{
	int fd = -1, temp = 0, rc;
	char *chunk;
	ssize_t n;

	if ((uint64_t)d->size > max) {
		char ds[DIGEST_STR_MAX];
		return client_err_set(e, -BERTH_ETOOBIG, "blob %s is larger than %zu bytes", digest_str(&d->digest, ds),
				      max);
	}
	rc = client_image_blob_open(im, d, NULL, NULL, &fd, &temp, e);
	if (rc < 0)
		return rc;
	buf_reset(out);
	chunk = xmalloc(65536);
	while ((n = read(fd, chunk, 65536)) > 0) {
		if (buf_add(out, chunk, (size_t)n) < 0) {
			rc = client_err_set(e, -BERTH_ETOOBIG, "blob larger than %zu bytes", max);
			break;
		}
	}
	if (n < 0 && rc == 0)
		rc = client_err_set(e, -BERTH_EIO, "cannot read a blob");
	free(chunk);
	close(fd);
	return rc;
}

int client_image_commit(struct client_image *im, struct client_err *e)
{
	return im->ops->commit ? im->ops->commit(im, e) : 0;
}

int client_image_tags(struct client_image *im, char ***tags, size_t *n, struct client_err *e)
{
	if (!im->ops->tags)
		return unsupported(im, "list tags", e);
	return im->ops->tags(im, tags, n, e);
}

int client_image_remove(struct client_image *im, struct client_err *e)
{
	if (!im->ops->remove)
		return unsupported(im, "delete images", e);
	return im->ops->remove(im, e);
}

/* ---------------------------------------------------------------- picking an image */

int client_index_pick(const struct image_doc *idx, const struct image_platform *want, const char *name,
		      const char *hint, char *platform, size_t platn, struct client_err *e)
{
	struct image_platform host = {0};
	struct buf have;
	int k;

	if (!want) {
		image_platform_host(&host);
		want = &host;
	}
	k = image_doc_pick(idx, want);
	image_platform_format(want, platform, platn);
	if (k >= 0) {
		image_platform_release(&host);
		return k;
	}
	buf_init(&have, 4096);
	for (size_t i = 0; i < idx->nmanifests; i++) {
		char pf[96];
		image_platform_format(&idx->manifests[i].platform, pf, sizeof(pf));
		buf_addf(&have, "%s%s", i ? ", " : "", pf);
	}
	client_err_set(e, -BERTH_ENOENT, "%s has no image for %s (it has: %s)%s%s", name, platform, have.ptr,
		       hint ? "; " : "", hint ? hint : "");
	buf_release(&have);
	image_platform_release(&host);
	return -BERTH_ENOENT;
}

void client_image_manifest_release(struct client_image_manifest *m)
{
	buf_release(&m->body);
	free(m->media_type);
	m->media_type = NULL;
	image_doc_release(&m->doc);
}

int client_image_resolve(struct client_image *src, const struct image_platform *want, struct client_image_manifest *out,
			 struct client_err *e)
{
	char why[256];
	int rc, k;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body, CLIENT_MANIFEST_MAX);
	rc = client_image_manifest_get(src, NULL, &out->body, &out->media_type, &out->digest, e);
	if (rc < 0)
		goto out;
	rc = image_doc_parse(out->body.ptr, out->body.len, out->media_type, &out->doc, why, sizeof(why));
	if (rc < 0) {
		client_err_set(e, rc, "%s: manifest: %s", src->name, why);
		goto out;
	}
	if (!out->doc.is_index)
		goto out;
	k = client_index_pick(&out->doc, want, src->name, "use --platform", out->platform, sizeof(out->platform), e);
	if (k < 0) {
		rc = k;
		goto out;
	}
	{
		struct digest child = out->doc.manifests[k].digest;
		char *child_mt = out->doc.manifests[k].media_type ? xstrdup(out->doc.manifests[k].media_type) : NULL;

		image_doc_release(&out->doc);
		free(out->media_type);
		out->media_type = NULL;
		rc = client_image_manifest_get(src, &child, &out->body, &out->media_type, &out->digest, e);
		if (rc == 0 && child_mt) {
			free(out->media_type);
			out->media_type = child_mt;
			child_mt = NULL;
		}
		free(child_mt);
	}
	if (rc < 0)
		goto out;
	rc = image_doc_parse(out->body.ptr, out->body.len, out->media_type, &out->doc, why, sizeof(why));
	if (rc < 0) {
		client_err_set(e, rc, "%s: the %s image's manifest: %s", src->name, out->platform, why);
		goto out;
	}
	if (out->doc.is_index)
		rc = client_err_set(e, -BERTH_EUNSUPPORTED, "%s: the %s entry is an index again, not an image",
				    src->name, out->platform);
out:
	if (rc < 0)
		client_image_manifest_release(out);
	return rc;
}

/* ---------------------------------------------------------------- streaming a blob */

struct client_blob_reader {
	struct client_image *im;
	struct image_desc d;
	int wfd, rc;
	pthread_t th;
	struct client_err err;
};

static void *reader_fill(void *arg)
{
	struct client_blob_reader *r = arg;
	sigset_t set;

	/* a reader that stops early must give EPIPE here, not kill the process */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->rc = client_image_blob_stream(r->im, &r->d, r->wfd, NULL, &r->err);
	close(r->wfd);
	r->wfd = -1;
	return NULL;
}

int client_blob_reader_open(struct client_image *im, const struct image_desc *d, struct client_blob_reader **out,
			    int *fd, struct client_err *e)
{
	struct client_blob_reader *r;
	int fds[2], temp = 0, rc;

	*out = NULL;
	*fd = -1;
	if (!im->ops->blob_stream)
		return client_image_blob_open(im, d, NULL, NULL, fd, &temp, e);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return client_err_set(e, berth_from_errno(errno), "pipe: %s", strerror(errno));
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; the default works too */
	r = xcalloc(1, sizeof(*r));
	r->im = im;
	image_desc_copy(&r->d, d);
	r->wfd = fds[1];
	rc = pthread_create(&r->th, NULL, reader_fill, r);
	if (rc != 0) {
		close(fds[0]);
		close(fds[1]);
		image_desc_release(&r->d);
		free(r);
		return client_err_set(e, -BERTH_EIO, "cannot start a thread: %s", strerror(rc));
	}
	*out = r;
	*fd = fds[0];
	return 0;
}

int client_blob_reader_finish(struct client_blob_reader *r, struct client_err *e)
{
	int rc;

	if (!r)
		return 0;
	pthread_join(r->th, NULL);
	rc = r->rc;
	if (rc < 0 && e)
		*e = r->err;
	image_desc_release(&r->d);
	free(r);
	return rc;
}
