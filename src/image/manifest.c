#include "image/manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

int manifest_media_type_known(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_MANIFEST) ||
		      !strcmp(mt, MT_DOCKER_LIST));
}

void manifest_release(struct manifest *m)
{
	free(m->media_type);
	free(m->artifact_type);
	free(m->annotations_json);
	free(m->blobs);
	free(m->manifests);
	memset(m, 0, sizeof(*m));
}

/* Checks one descriptor object (mediaType, digest, size) and returns its digest in *d. */
static int parse_descriptor(json_t *o, const char *what, struct digest *d, char *why, size_t whyn)
{
	json_t *mt = json_object_get(o, "mediaType");
	json_t *dg = json_object_get(o, "digest");
	json_t *sz = json_object_get(o, "size");
	int rc;

	if (!json_is_object(o)) {
		snprintf(why, whyn, "%s is not a descriptor object", what);
		return -BERTH_EINVAL;
	}
	if (!json_is_string(mt) || json_string_length(mt) == 0) {
		snprintf(why, whyn, "%s has no mediaType", what);
		return -BERTH_EINVAL;
	}
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		snprintf(why, whyn, "%s has no valid size", what);
		return -BERTH_EINVAL;
	}
	if (!json_is_string(dg)) {
		snprintf(why, whyn, "%s has no digest", what);
		return -BERTH_EINVAL;
	}
	rc = digest_parse(json_string_value(dg), json_string_length(dg), d);
	if (rc < 0)
		snprintf(why, whyn, "%s has an invalid digest", what);
	return rc;
}

static int is_foreign_layer(json_t *o)
{
	json_t *urls = json_object_get(o, "urls");
	const char *mt = json_string_value(json_object_get(o, "mediaType"));

	if (json_is_array(urls) && json_array_size(urls) > 0)
		return 1;
	return mt && strstr(mt, "foreign") != NULL;
}

static char *dup_string_field(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);
	return json_is_string(v) && json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
}

int manifest_parse(const void *body, size_t len, const char *content_type, struct manifest *m, char *why, size_t whyn)
{
	json_error_t jerr;
	json_t *root = NULL, *sv, *mt, *subject, *ann;
	const char *media_type;
	char *ct = NULL;
	size_t ctlen;
	int rc = -BERTH_EINVAL;

	memset(m, 0, sizeof(*m));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(why, whyn, "invalid JSON: %s at line %d", jerr.text, jerr.line);
		goto out;
	}
	if (!json_is_object(root)) {
		snprintf(why, whyn, "manifest is not a JSON object");
		goto out;
	}
	sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		snprintf(why, whyn, "schemaVersion must be 2");
		goto out;
	}
	mt = json_object_get(root, "mediaType");
	if (mt && !json_is_string(mt)) {
		snprintf(why, whyn, "mediaType is not a string");
		goto out;
	}
	if (!content_type || !*content_type) {
		snprintf(why, whyn, "no Content-Type: it must be the manifest's media type");
		goto out;
	}
	ctlen = strcspn(content_type, "; \t");
	media_type = mt ? json_string_value(mt) : NULL;
	if (!media_type) {
		ct = xstrndup(content_type, ctlen);
		media_type = ct;
	}
	if (mt && (strlen(media_type) != ctlen || strncmp(media_type, content_type, ctlen) != 0)) {
		snprintf(why, whyn, "mediaType %s does not match Content-Type %s", json_string_value(mt), content_type);
		goto out;
	}
	if (!manifest_media_type_known(media_type)) {
		snprintf(why, whyn, "unsupported manifest media type %s", media_type);
		goto out;
	}
	m->media_type = xstrdup(media_type);

	if (!strcmp(media_type, MT_OCI_INDEX) || !strcmp(media_type, MT_DOCKER_LIST)) {
		json_t *list = json_object_get(root, "manifests");
		size_t i;
		json_t *it;

		m->kind = MANIFEST_INDEX;
		if (!json_is_array(list)) {
			snprintf(why, whyn, "index has no manifests array");
			goto out;
		}
		m->manifests = xcalloc(json_array_size(list), sizeof(struct digest));
		json_array_foreach(list, i, it)
		{
			rc = parse_descriptor(it, "manifests[]", &m->manifests[m->nmanifests], why, whyn);
			if (rc < 0)
				goto out;
			m->nmanifests++;
		}
		m->artifact_type = dup_string_field(root, "artifactType");
	} else {
		json_t *cfg = json_object_get(root, "config"), *layers = json_object_get(root, "layers"), *it;
		size_t i;

		m->kind = MANIFEST_IMAGE;
		if (!cfg) {
			snprintf(why, whyn, "image manifest has no config");
			rc = -BERTH_EINVAL;
			goto out;
		}
		if (!json_is_array(layers)) {
			snprintf(why, whyn, "image manifest has no layers array");
			rc = -BERTH_EINVAL;
			goto out;
		}
		m->blobs = xcalloc(json_array_size(layers) + 1, sizeof(struct digest));
		rc = parse_descriptor(cfg, "config", &m->blobs[0], why, whyn);
		if (rc < 0)
			goto out;
		m->nblobs = 1;
		json_array_foreach(layers, i, it)
		{
			struct digest d;
			rc = parse_descriptor(it, "layers[]", &d, why, whyn);
			if (rc < 0)
				goto out;
			if (!is_foreign_layer(it))
				m->blobs[m->nblobs++] = d;
		}
		m->artifact_type = dup_string_field(root, "artifactType");
		if (!m->artifact_type)
			m->artifact_type = dup_string_field(cfg, "mediaType");
	}

	subject = json_object_get(root, "subject");
	if (subject) {
		rc = parse_descriptor(subject, "subject", &m->subject, why, whyn);
		if (rc < 0)
			goto out;
		m->has_subject = 1;
	}
	ann = json_object_get(root, "annotations");
	if (ann) {
		if (!json_is_object(ann)) {
			snprintf(why, whyn, "annotations is not an object");
			rc = -BERTH_EINVAL;
			goto out;
		}
		m->annotations_json = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
	}
	rc = 0;
out:
	free(ct);
	if (root)
		json_decref(root);
	if (rc < 0)
		manifest_release(m);
	return rc;
}
