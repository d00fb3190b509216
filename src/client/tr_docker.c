/* docker://HOST/REPO[:TAG|@DIGEST]: a registry over the Distribution API (client/remote.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "client/remote.h"
#include "client/transport.h"

struct docker {
	struct client_remote *remote;
};

static struct client_remote *remote_of(struct client_image *im)
{
	return ((struct docker *)im->priv)->remote;
}

struct client_remote *client__docker_remote(struct client_image *im)
{
	return im && im->ref.transport == REF_DOCKER && im->priv ? remote_of(im) : NULL;
}

/* The reference's own manifest: by digest when one was given, else by tag. */
static const char *own_ref(struct client_image *im, char buf[DIGEST_STR_MAX])
{
	return im->ref.has_digest ? digest_str(&im->ref.digest, buf) : im->ref.tag;
}

static int d_manifest_get(struct client_image *im, const struct digest *dg, struct buf *body, char **media_type,
			  struct digest *out, struct client_err *e)
{
	char ds[DIGEST_STR_MAX];
	const char *ref = dg ? digest_str(dg, ds) : own_ref(im, ds);
	return client_remote_manifest_get(remote_of(im), im->ref.repo, ref, body, media_type, out, e);
}

static int d_blob_open(struct client_image *im, const struct image_desc *d, const char *spool_dir,
		       struct client_xfer *x, int *fd, int *temp, struct client_err *e)
{
	int f = client_tmpfile(spool_dir ? spool_dir : client_tmp_dir(im->opts), e), rc;

	*fd = -1;
	*temp = 0;
	if (f < 0)
		return f;
	rc = client_remote_blob_fetch(remote_of(im), im->ref.repo, d, f, x, e);
	if (rc == 0 && lseek(f, 0, SEEK_SET) < 0)
		rc = client_err_set(e, -BERTH_EIO, "seek in a download file failed");
	if (rc < 0) {
		close(f);
		return rc;
	}
	*fd = f;
	*temp = 1;
	return 0;
}

static int d_blob_stream(struct client_image *im, const struct image_desc *d, int fd, struct client_xfer *x,
			 struct client_err *e)
{
	return client_remote_blob_stream(remote_of(im), im->ref.repo, d, fd, x, e);
}

static int d_blob_exists(struct client_image *im, const struct image_desc *d, struct client_err *e)
{
	return client_remote_blob_exists(remote_of(im), im->ref.repo, d, e);
}

static int d_blob_mount(struct client_image *im, const struct image_desc *d, struct client_image *src,
			struct client_err *e)
{
	if (src->ref.transport != REF_DOCKER || strcmp(src->ref.host, im->ref.host) != 0 ||
	    !strcmp(src->ref.repo, im->ref.repo))
		return 0;
	return client_remote_blob_mount(remote_of(im), im->ref.repo, src->ref.repo, d, e);
}

static int d_blob_put(struct client_image *im, const struct image_desc *d, int fd, int temp, struct client_xfer *x,
		      struct client_err *e)
{
	(void)temp;
	return client_remote_blob_upload(remote_of(im), im->ref.repo, d, fd, x, e);
}

static int d_manifest_put(struct client_image *im, const void *body, size_t len, const char *media_type, int top,
			  struct client_err *e)
{
	struct digest dg;
	char ds[DIGEST_STR_MAX];
	const char *ref;

	if (top && im->ref.has_digest) {
		digest_of(im->ref.digest.alg, body, len, &dg);
		if (!digest_eq(&dg, &im->ref.digest)) {
			char want[DIGEST_STR_MAX];
			return client_err_set(e, -BERTH_EDIGEST,
					      "the manifest written has digest %s, not the %s the destination names",
					      digest_str(&dg, ds), digest_str(&im->ref.digest, want));
		}
	}
	if (top && im->ref.tag && !(im->ref.tag_default && im->ref.has_digest)) {
		ref = im->ref.tag;
	} else {
		digest_of(DIGEST_SHA256, body, len, &dg);
		ref = digest_str(&dg, ds);
	}
	return client_remote_manifest_put(remote_of(im), im->ref.repo, ref, body, len, media_type, e);
}

static int d_tags(struct client_image *im, char ***tags, size_t *n, struct client_err *e)
{
	return client_remote_tags_list(remote_of(im), im->ref.repo, tags, n, e);
}

static int d_remove(struct client_image *im, struct client_err *e)
{
	struct digest dg;
	char ds[DIGEST_STR_MAX];
	int rc = client_remote_manifest_digest(remote_of(im), im->ref.repo, own_ref(im, ds), &dg, e);

	if (rc < 0)
		return rc;
	return client_remote_manifest_delete(remote_of(im), im->ref.repo, &dg, e);
}

static void d_free(struct client_image *im)
{
	struct docker *d = im->priv;
	if (!d)
		return;
	client_remote_free(d->remote);
	free(d);
	im->priv = NULL;
}

static const struct client_image_ops docker_ops = {
    .manifest_get = d_manifest_get,
    .blob_open = d_blob_open,
    .blob_stream = d_blob_stream,
    .blob_exists = d_blob_exists,
    .blob_mount = d_blob_mount,
    .blob_put = d_blob_put,
    .manifest_put = d_manifest_put,
    .tags = d_tags,
    .remove = d_remove,
    .free = d_free,
};

int client__docker_open(struct client_image *im, struct client_err *e)
{
	struct docker *d = xcalloc(1, sizeof(*d));

	im->ops = &docker_ops;
	im->priv = d;
	return client_remote_open(im->ref.host, im->opts, &d->remote, e);
}
