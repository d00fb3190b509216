#include "client/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

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

int client_image_open(const char *text, enum client_mode mode, const struct client_opts *o,
		      struct client_image **out, struct client_err *e)
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
	return client_err_set(e, -BERTH_EUNSUPPORTED, "%s: transport cannot %s", image_transport_name(im->ref.transport),
			      what);
}

int client_image_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body,
			      char **media_type, struct digest *out, struct client_err *e)
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
