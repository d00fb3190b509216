/* collect: finds an image's signatures through caller-supplied fetchers (see collect.h). */
#include "sign/collect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "image/manifest.h"
#include "sign/extension.h"
#include "sign/internal.h"

static void add_simple(struct sign_collected *c, struct buf *b)
{
	c->simple = xrealloc(c->simple, (c->nsimple + 1) * sizeof(*c->simple));
	c->simple[c->nsimple++] = *b;
	buf_init(b, SIGN_SIGNATURE_MAX);
}

static int from_extension(const struct sign_ref *ref, const struct digest *d, const struct sign_fetch *f,
			  struct sign_collected *c, char *why, size_t whyn)
{
	struct buf body, one;
	struct sign_ext_list l;
	int rc;

	if (!f->extension)
		return sign__why(why, whyn, -BERTH_EINVAL, "the registry has the signature extension but no fetcher");
	buf_init(&body, SIGN_EXT_LIST_MAX);
	buf_init(&one, SIGN_SIGNATURE_MAX);
	rc = f->extension(f->ctx, ref, d, &body);
	if (rc == -BERTH_ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		sign__why(why, whyn, rc, "downloading the signature list for %s: %s", ref->name, berth_strerror(rc));
		goto out;
	}
	rc = sign_ext_list_parse(body.ptr, body.len, &l, why, whyn);
	if (rc < 0)
		goto out;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (!sign_ext_sig_is_atomic(&l.v[i]))
			continue;
		rc = buf_add(&one, l.v[i].content, l.v[i].content_len);
		if (rc == 0)
			add_simple(c, &one);
	}
	sign_ext_list_release(&l);
out:
	buf_release(&body);
	buf_release(&one);
	return rc;
}

/* containers/image's built-in lookaside when registries.d names none. */
static const char *default_lookaside(char *tmp, size_t n)
{
	const char *home = getenv("HOME");

	if (geteuid() == 0 || !home || !*home)
		return "file:///var/lib/containers/sigstore";
	snprintf(tmp, n, "file://%s/.local/share/containers/sigstore", home);
	return tmp;
}

static int from_lookaside(const struct registries *regs, const struct sign_ref *ref, const struct digest *d,
			  const struct sign_fetch *f, struct sign_collected *c, char *why, size_t whyn)
{
	char tmp[4096];
	const char *base = regs ? registries_lookaside(regs, ref, 0) : NULL;
	struct buf url, sig;
	int rc = 0;

	if (!base)
		base = default_lookaside(tmp, sizeof(tmp));
	buf_init(&url, 8192);
	buf_init(&sig, SIGN_SIGNATURE_MAX);
	for (unsigned i = 0; rc == 0 && i < SIGN_LOOKASIDE_MAX; i++) {
		buf_reset(&url);
		buf_reset(&sig);
		rc = registries_lookaside_url(base, ref, d, i, &url);
		if (rc < 0)
			break;
		if (strncmp(url.ptr, "file://", 7) == 0) {
			rc = sign__read_file(url.ptr + 7, SIGN_SIGNATURE_MAX, &sig, why, whyn);
		} else if (strncmp(url.ptr, "http://", 7) == 0 || strncmp(url.ptr, "https://", 8) == 0) {
			if (!f || !f->url) {
				rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED, "cannot read the lookaside %s", url.ptr);
				break;
			}
			rc = f->url(f->ctx, url.ptr, &sig);
			if (rc < 0 && rc != -BERTH_ENOENT)
				sign__why(why, whyn, rc, "reading signature from %s: %s", url.ptr, berth_strerror(rc));
		} else {
			rc = sign__why(why, whyn, -BERTH_EUNSUPPORTED,
				       "unsupported scheme when reading signature from %s", url.ptr);
			break;
		}
		if (rc == -BERTH_ENOENT) {
			rc = 0;
			break;
		}
		if (rc == 0)
			add_simple(c, &sig);
	}
	buf_release(&url);
	buf_release(&sig);
	return rc;
}

static int from_attachment(const struct sign_ref *ref, const struct digest *d, const struct sign_fetch *f,
			   struct sign_collected *c, char *why, size_t whyn)
{
	char tag[SIGSTORE_TAG_MAX], mt[256] = "";
	struct buf body, blob;
	struct sign_attachment a;
	int rc;

	if (!f || !f->manifest || !f->blob)
		return sign__why(why, whyn, -BERTH_EINVAL, "sigstore attachments are enabled but there is no fetcher");
	sign_attachment_init(&a);
	buf_init(&body, SIGN_SIGNATURE_MAX);
	buf_init(&blob, SIGN_SIGNATURE_MAX);
	sign_sigstore_tag(d, tag);
	rc = f->manifest(f->ctx, ref, tag, &body, mt, sizeof(mt));
	if (rc == -BERTH_ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		sign__why(why, whyn, rc, "fetching the sigstore attachment %s:%s: %s", ref->name, tag,
			  berth_strerror(rc));
		goto out;
	}
	if (strcmp(mt, MT_OCI_MANIFEST) != 0) {
		rc = sign__why(why, whyn, -BERTH_EINVAL,
			       "unexpected MIME type for sigstore attachment manifest %s:%s: \"%s\"", ref->name, tag,
			       mt);
		goto out;
	}
	rc = sign_attachment_parse(body.ptr, body.len, &a, why, whyn);
	if (rc < 0)
		goto out;
	c->sigstore = xcalloc(a.nlayers + 1, sizeof(*c->sigstore));
	for (size_t i = 0; i < a.nlayers; i++) {
		buf_reset(&blob);
		if (a.layers[i].size > (int64_t)SIGN_SIGNATURE_MAX) {
			rc = sign__why(why, whyn, -BERTH_ETOOBIG, "sigstore attachment layer %zu is over %u bytes", i,
				       SIGN_SIGNATURE_MAX);
			goto out;
		}
		rc = f->blob(f->ctx, ref, &a.layers[i].digest, &blob);
		if (rc == 0)
			rc = sign_attachment_layer_sig(&a.layers[i], blob.ptr, blob.len, &c->sigstore[c->nsigstore]);
		if (rc < 0) {
			sign__why(why, whyn, rc, "reading sigstore attachment layer %zu: %s", i,
				  rc == -BERTH_EDIGEST ? "the blob does not match its digest" : berth_strerror(rc));
			goto out;
		}
		c->nsigstore++;
	}
out:
	sign_attachment_release(&a);
	buf_release(&body);
	buf_release(&blob);
	return rc;
}

int sign_collect(const struct registries *registries, const struct sign_ref *ref, const struct digest *d,
		 int supports_extension, const struct sign_fetch *f, struct sign_collected *out, char *why, size_t whyn)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (supports_extension)
		rc = f ? from_extension(ref, d, f, out, why, whyn)
		       : sign__why(why, whyn, -BERTH_EINVAL, "the registry has the signature extension but no fetcher");
	else
		rc = from_lookaside(registries, ref, d, f, out, why, whyn);
	if (rc == 0 && registries && registries_use_sigstore_attachments(registries, ref))
		rc = from_attachment(ref, d, f, out, why, whyn);
	if (rc < 0)
		sign_collected_release(out);
	return rc;
}

void sign_collected_release(struct sign_collected *c)
{
	for (size_t i = 0; i < c->nsimple; i++)
		buf_release(&c->simple[i]);
	free(c->simple);
	for (size_t i = 0; i < c->nsigstore; i++)
		sign_sigstore_sig_release(&c->sigstore[i]);
	free(c->sigstore);
	memset(c, 0, sizeof(*c));
}

void sign_collected_image(const struct sign_collected *c, const struct sign_ref *ref, const void *manifest, size_t n,
			  struct policy_blob *blobs, struct policy_image *img)
{
	for (size_t i = 0; i < c->nsimple; i++) {
		blobs[i].ptr = c->simple[i].ptr;
		blobs[i].len = c->simple[i].len;
	}
	memset(img, 0, sizeof(*img));
	img->transport = "docker";
	img->ref = ref;
	img->manifest = manifest;
	img->manifest_len = n;
	img->simple = blobs;
	img->nsimple = c->nsimple;
	img->sigstore = c->sigstore;
	img->nsigstore = c->nsigstore;
}
