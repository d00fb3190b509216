#include "client/inspect.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "client/remote.h"

#define CONFIG_MAX (16 << 20)

static char *str_or_null(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void read_config(struct client_inspect *in)
{
	json_t *root = json_loadb(in->config.ptr, in->config.len, 0, NULL), *hist, *h;
	size_t i;

	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	in->config_json = root;
	in->created = str_or_null(root, "created");
	in->author = str_or_null(root, "author");
	{
		struct image_platform p = {str_or_null(root, "os"), str_or_null(root, "architecture"),
					   str_or_null(root, "variant")};
		if (p.os && p.arch)
			image_platform_format(&p, in->platform, sizeof(in->platform));
		image_platform_release(&p);
	}
	hist = json_object_get(root, "history");
	if (!json_is_array(hist) || json_array_size(hist) == 0)
		return;
	in->history = xcalloc(json_array_size(hist), sizeof(*in->history));
	json_array_foreach(hist, i, h)
	{
		struct client_history *c = &in->history[in->nhistory++];
		c->created = str_or_null(h, "created");
		c->created_by = str_or_null(h, "created_by");
		c->comment = str_or_null(h, "comment");
		c->empty_layer = json_is_true(json_object_get(h, "empty_layer"));
	}
}

int client_inspect(struct client_image *src, const struct image_platform *want, int raw_only, struct client_inspect *in,
		   struct client_err *e)
{
	struct image_platform host = {0};
	struct buf child;
	char *child_mt = NULL, why[256];
	const struct image_doc *img;
	int rc;

	memset(in, 0, sizeof(*in));
	buf_init(&in->raw, CLIENT_MANIFEST_MAX);
	buf_init(&in->config, CONFIG_MAX);
	buf_init(&child, CLIENT_MANIFEST_MAX);
	rc = client_image_manifest_get(src, NULL, &in->raw, &in->media_type, &in->digest, e);
	if (rc < 0 || raw_only)
		goto out;
	rc = image_doc_parse(in->raw.ptr, in->raw.len, in->media_type, &in->top, why, sizeof(why));
	if (rc < 0) {
		client_err_set(e, rc, "%s: manifest: %s", src->name, why);
		goto out;
	}
	if (in->top.is_index) {
		int k;
		if (!want) {
			image_platform_host(&host);
			want = &host;
		}
		k = image_doc_pick(&in->top, want);
		if (k < 0)
			goto out; /* no image for this platform: show the index alone */
		rc = client_image_manifest_get(src, &in->top.manifests[k].digest, &child, &child_mt, &in->image_digest,
					       e);
		if (rc < 0)
			goto out;
		rc = image_doc_parse(child.ptr, child.len,
				     in->top.manifests[k].media_type ? in->top.manifests[k].media_type : child_mt,
				     &in->image, why, sizeof(why));
		if (rc < 0) {
			client_err_set(e, rc, "%s: child manifest: %s", src->name, why);
			goto out;
		}
		if (in->image.is_index) {
			image_doc_release(&in->image);
			goto out;
		}
	} else {
		in->image_digest = in->digest;
		rc = image_doc_parse(in->raw.ptr, in->raw.len, in->media_type, &in->image, why, sizeof(why));
		if (rc < 0)
			goto out;
	}
	in->has_image = 1;
	img = &in->image;
	rc = client_image_blob_read(src, &img->config, CONFIG_MAX, &in->config, e);
	if (rc < 0)
		goto out;
	read_config(in);
out:
	image_platform_release(&host);
	free(child_mt);
	buf_release(&child);
	if (rc < 0)
		client_inspect_release(in);
	return rc;
}

void client_inspect_release(struct client_inspect *in)
{
	buf_release(&in->raw);
	buf_release(&in->config);
	free(in->media_type);
	image_doc_release(&in->top);
	image_doc_release(&in->image);
	free(in->created);
	free(in->author);
	for (size_t i = 0; i < in->nhistory; i++) {
		free(in->history[i].created);
		free(in->history[i].created_by);
		free(in->history[i].comment);
	}
	free(in->history);
	json_decref((json_t *)in->config_json);
	memset(in, 0, sizeof(*in));
}

int64_t client_inspect_size(const struct client_inspect *in)
{
	int64_t n = 0;
	for (size_t i = 0; i < in->image.nlayers; i++)
		n += in->image.layers[i].size;
	return n;
}

static json_t *desc_obj(const struct image_desc *d)
{
	char ds[DIGEST_STR_MAX];
	return json_pack("{s:s,s:I,s:s?}", "digest", digest_str(&d->digest, ds), "size", (json_int_t)d->size,
			 "mediaType", d->media_type);
}

char *client_inspect_json(const struct client_inspect *in, const char *name)
{
	json_t *root, *img;
	char ds[DIGEST_STR_MAX], *text;

	root = json_pack("{s:s,s:s,s:s?}", "name", name, "digest", digest_str(&in->digest, ds), "mediaType",
			 in->media_type);
	if (in->top.is_index) {
		json_t *pl = json_array();
		for (size_t i = 0; i < in->top.nmanifests; i++) {
			const struct image_desc *d = &in->top.manifests[i];
			json_t *o = desc_obj(d);
			char pf[96] = "";
			if (d->platform.os || d->platform.arch) {
				image_platform_format(&d->platform, pf, sizeof(pf));
				json_object_set_new(o, "platform", json_string(pf));
			}
			json_array_append_new(pl, o);
		}
		json_object_set_new(root, "platforms", pl);
	}
	if (in->has_image) {
		json_t *layers = json_array(), *hist = json_array(), *cfg = in->config_json,
		       *cc = json_object_get(cfg, "config");
		for (size_t i = 0; i < in->image.nlayers; i++)
			json_array_append_new(layers, desc_obj(&in->image.layers[i]));
		for (size_t i = 0; i < in->nhistory; i++) {
			const struct client_history *h = &in->history[i];
			json_array_append_new(hist, json_pack("{s:s?,s:s?,s:s?,s:b}", "created", h->created,
							      "createdBy", h->created_by, "comment", h->comment,
							      "emptyLayer", h->empty_layer));
		}
		img = json_pack("{s:s,s:s?,s:o,s:o,s:I,s:o}", "digest", digest_str(&in->image_digest, ds), "mediaType",
				in->image.media_type, "config", desc_obj(&in->image.config), "layers", layers, "size",
				(json_int_t)client_inspect_size(in), "history", hist);
		if (in->platform[0])
			json_object_set_new(img, "platform", json_string(in->platform));
		if (in->created)
			json_object_set_new(img, "created", json_string(in->created));
		if (in->author)
			json_object_set_new(img, "author", json_string(in->author));
		if (json_is_object(cc)) {
			const char *keys[] = {"Env",  "Entrypoint", "Cmd",         "WorkingDir",
					      "User", "Labels",     "ExposedPorts"};
			const char *out[] = {"env",  "entrypoint", "cmd",         "workingDir",
					     "user", "labels",     "exposedPorts"};
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				json_t *v = json_object_get(cc, keys[i]);
				if (v && !json_is_null(v))
					json_object_set(img, out[i], v);
			}
		}
		json_object_set_new(root, "image", img);
	}
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}
