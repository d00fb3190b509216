#include "image/desc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/buf.h"
#include "base/err.h"
#include "image/manifest.h"

#define DESC_MAX 100000 /* descriptors in one manifest */

int image_media_type_is_index(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

void image_platform_release(struct image_platform *p)
{
	free(p->os);
	free(p->arch);
	free(p->variant);
	memset(p, 0, sizeof(*p));
}

void image_desc_release(struct image_desc *d)
{
	free(d->media_type);
	free(d->ref_name);
	image_platform_release(&d->platform);
	memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void image_desc_copy(struct image_desc *dst, const struct image_desc *src)
{
	*dst = *src;
	dst->media_type = dup_or_null(src->media_type);
	dst->ref_name = dup_or_null(src->ref_name);
	dst->platform.os = dup_or_null(src->platform.os);
	dst->platform.arch = dup_or_null(src->platform.arch);
	dst->platform.variant = dup_or_null(src->platform.variant);
}

void image_doc_release(struct image_doc *d)
{
	free(d->media_type);
	image_desc_release(&d->config);
	for (size_t i = 0; i < d->nlayers; i++)
		image_desc_release(&d->layers[i]);
	for (size_t i = 0; i < d->nmanifests; i++)
		image_desc_release(&d->manifests[i]);
	free(d->layers);
	free(d->manifests);
	memset(d, 0, sizeof(*d));
}

static char *string_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) && json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int desc_read(json_t *o, const char *what, struct image_desc *d, char *why, size_t whyn)
{
	json_t *dg = json_object_get(o, "digest"), *sz = json_object_get(o, "size"), *urls, *plat, *ann;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o)) {
		snprintf(why, whyn, "%s is not a descriptor object", what);
		return -BERTH_EINVAL;
	}
	if (!json_is_string(dg)) {
		snprintf(why, whyn, "%s has no digest", what);
		return -BERTH_EINVAL;
	}
	rc = digest_parse(json_string_value(dg), json_string_length(dg), &d->digest);
	if (rc < 0) {
		snprintf(why, whyn, "%s has an %s digest '%s'", what,
			 rc == -BERTH_EUNSUPPORTED ? "unsupported" : "invalid", json_string_value(dg));
		return rc;
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		snprintf(why, whyn, "%s has no valid size", what);
		return -BERTH_EINVAL;
	}
	d->size = json_integer_value(sz);
	d->media_type = string_field(o, "mediaType");
	urls = json_object_get(o, "urls");
	d->foreign = json_is_array(urls) && json_array_size(urls) > 0;
	plat = json_object_get(o, "platform");
	if (json_is_object(plat)) {
		d->platform.os = string_field(plat, "os");
		d->platform.arch = string_field(plat, "architecture");
		d->platform.variant = string_field(plat, "variant");
	}
	ann = json_object_get(o, "annotations");
	if (json_is_object(ann))
		d->ref_name = string_field(ann, ANNOTATION_REF_NAME);
	return 0;
}

static int desc_array(json_t *arr, const char *what, struct image_desc **out, size_t *n, char *why, size_t whyn)
{
	size_t i, k = json_array_size(arr);
	json_t *v;
	char name[64];
	int rc;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr)) {
		snprintf(why, whyn, "\"%s\" is not an array", what);
		return -BERTH_EINVAL;
	}
	if (k > DESC_MAX) {
		snprintf(why, whyn, "more than %d %s", DESC_MAX, what);
		return -BERTH_ETOOBIG;
	}
	if (k == 0)
		return 0;
	*out = xcalloc(k, sizeof(**out));
	json_array_foreach(arr, i, v)
	{
		snprintf(name, sizeof(name), "%s[%zu]", what, i);
		rc = desc_read(v, name, &(*out)[i], why, whyn);
		*n = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int image_doc_parse(const void *body, size_t len, const char *media_type, struct image_doc *d, char *why, size_t whyn)
{
	json_error_t jerr;
	json_t *root = NULL, *mans, *layers;
	const char *mt = media_type;
	int rc = -BERTH_EINVAL;

	memset(d, 0, sizeof(*d));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		snprintf(why, whyn, "manifest is not a JSON object%s%s", root ? "" : ": ", root ? "" : jerr.text);
		goto out;
	}
	if (json_integer_value(json_object_get(root, "schemaVersion")) == 1) {
		snprintf(why, whyn, "Docker schema 1 manifests are not supported");
		rc = -BERTH_EUNSUPPORTED;
		goto out;
	}
	if (!mt || !*mt)
		mt = json_string_value(json_object_get(root, "mediaType"));
	mans = json_object_get(root, "manifests");
	layers = json_object_get(root, "layers");
	if (!mt || !*mt)
		mt = mans ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	d->media_type = xstrdup(mt);
	if (image_media_type_is_index(mt) || (!layers && mans)) {
		d->is_index = 1;
		rc = desc_array(mans, "manifests", &d->manifests, &d->nmanifests, why, whyn);
	} else {
		json_t *cfg = json_object_get(root, "config");
		if (!cfg) {
			snprintf(why, whyn, "image manifest has no config");
			goto out;
		}
		rc = desc_read(cfg, "config", &d->config, why, whyn);
		if (rc == 0)
			rc = layers ? desc_array(layers, "layers", &d->layers, &d->nlayers, why, whyn) : 0;
	}
out:
	json_decref(root);
	if (rc < 0)
		image_doc_release(d);
	return rc;
}

int image_platform_parse(const char *s, struct image_platform *p)
{
	const char *a, *b;

	memset(p, 0, sizeof(*p));
	if (!s || !(a = strchr(s, '/')) || a == s || !a[1] || a[1] == '/')
		return -BERTH_EINVAL;
	b = strchr(a + 1, '/');
	if (b && (!b[1] || strchr(b + 1, '/')))
		return -BERTH_EINVAL;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '/' || *q == '_' || *q == '-' ||
		      *q == '.'))
			return -BERTH_EINVAL;
	p->os = xstrndup(s, (size_t)(a - s));
	p->arch = b ? xstrndup(a + 1, (size_t)(b - a - 1)) : xstrdup(a + 1);
	p->variant = b ? xstrdup(b + 1) : NULL;
	return 0;
}

void image_platform_host(struct image_platform *p)
{
	struct utsname u;
	const char *m = "amd64", *v = NULL;

	memset(p, 0, sizeof(*p));
	if (uname(&u) == 0) {
		if (!strcmp(u.machine, "x86_64"))
			m = "amd64";
		else if (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64"))
			m = "arm64", v = "v8";
		else if (!strncmp(u.machine, "armv7", 5))
			m = "arm", v = "v7";
		else if (!strncmp(u.machine, "armv6", 5))
			m = "arm", v = "v6";
		else if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
			m = "386";
		else if (!strcmp(u.machine, "ppc64le"))
			m = "ppc64le";
		else if (!strcmp(u.machine, "s390x"))
			m = "s390x";
		else if (!strcmp(u.machine, "riscv64"))
			m = "riscv64";
		else
			m = u.machine;
	}
	p->os = xstrdup("linux");
	p->arch = xstrdup(m);
	p->variant = v ? xstrdup(v) : NULL;
}

void image_platform_format(const struct image_platform *p, char *out, size_t n)
{
	snprintf(out, n, "%s/%s%s%s", p->os ? p->os : "?", p->arch ? p->arch : "?", p->variant ? "/" : "",
		 p->variant ? p->variant : "");
}

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

int image_doc_pick(const struct image_doc *d, const struct image_platform *want)
{
	int first = -1, plain = -1;

	for (size_t i = 0; i < d->nmanifests; i++) {
		const struct image_platform *p = &d->manifests[i].platform;
		if (!streq(p->os, want->os) || !streq(p->arch, want->arch))
			continue;
		if (want->variant && p->variant && streq(p->variant, want->variant))
			return (int)i;
		if (first < 0)
			first = (int)i;
		if (!p->variant && plain < 0)
			plain = (int)i;
	}
	/* arm64's only variant is v8: a child without variant fits a v8 request */
	if (plain >= 0 && (!want->variant || !strcmp(want->arch, "arm64")))
		return plain;
	if (!want->variant && first >= 0)
		return first;
	return -BERTH_ENOENT;
}
