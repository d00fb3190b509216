/* registries: registries.d parsing and lookups (see registries.h). */
#include "sign/registries.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/err.h"
#include "sign/internal.h"

#define REG_FILE_MAX (1u << 20)

struct registries *registries_new(void)
{
	return xcalloc(1, sizeof(struct registries));
}

static void ns_release(struct registries_ns *ns)
{
	free(ns->name);
	free(ns->lookaside);
	free(ns->lookaside_staging);
	free(ns->sigstore);
	free(ns->sigstore_staging);
	free(ns->file);
}

void registries_free(struct registries *r)
{
	if (!r)
		return;
	if (r->def) {
		ns_release(r->def);
		free(r->def);
	}
	for (size_t i = 0; i < r->nns; i++)
		ns_release(&r->ns[i]);
	free(r->ns);
	free(r);
}

static int is_null_scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* YAML 1.1 booleans, as the Go YAML decoder upstream uses them. */
static int parse_bool(const char *v, int *out)
{
	static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y", NULL};
	static const char *const f[] = {"false", "False", "FALSE", "no", "No", "NO",
					"off",   "Off",   "OFF",   "n",  "N",  NULL};

	for (int i = 0; t[i]; i++)
		if (!strcmp(v, t[i])) {
			*out = 1;
			return 0;
		}
	for (int i = 0; f[i]; i++)
		if (!strcmp(v, f[i])) {
			*out = 0;
			return 0;
		}
	return -1;
}

static int ns_from_node(yaml_document_t *doc, yaml_node_t *m, const char *where, const char *file,
			struct registries_ns *ns, char *why, size_t whyn)
{
	ns->use_sigstore_attachments = -1;
	ns->file = xstrdup(file);
	if (m->type == YAML_SCALAR_NODE && is_null_scalar(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return sign__why(why, whyn, -BERTH_EINVAL, "%s: %s must be a mapping", file, where);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
		const char *key, *val;
		char **dst = NULL;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: %s: keys must be strings", file, where);
		key = (const char *)k->data.scalar.value;
		if (v->type != YAML_SCALAR_NODE)
			return sign__why(why, whyn, -BERTH_EINVAL, "%s: %s.%s must be a scalar", file, where, key);
		val = (const char *)v->data.scalar.value;
		if (!strcmp(key, "lookaside"))
			dst = &ns->lookaside;
		else if (!strcmp(key, "lookaside-staging"))
			dst = &ns->lookaside_staging;
		else if (!strcmp(key, "sigstore"))
			dst = &ns->sigstore;
		else if (!strcmp(key, "sigstore-staging"))
			dst = &ns->sigstore_staging;
		else if (!strcmp(key, "use-sigstore-attachments")) {
			if (is_null_scalar(v))
				continue;
			if (parse_bool(val, &ns->use_sigstore_attachments) < 0)
				return sign__why(why, whyn, -BERTH_EINVAL,
						 "%s: %s.use-sigstore-attachments is not a boolean", file, where);
			continue;
		} else {
			continue; /* upstream ignores unknown keys */
		}
		if (is_null_scalar(v))
			continue;
		free(*dst);
		*dst = xstrdup(val);
	}
	return 0;
}

int registries_parse(struct registries *r, const void *yaml, size_t n, const char *file, char *why, size_t whyn)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0, have_doc = 0;

	if (!yaml_parser_initialize(&parser))
		return -BERTH_ENOMEM;
	yaml_parser_set_input_string(&parser, yaml, n);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "parsing %s:%zu: %s", file, parser.problem_mark.line + 1,
			       parser.problem ? parser.problem : "invalid YAML");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || (root->type == YAML_SCALAR_NODE && is_null_scalar(root)))
		goto out; /* an empty file */
	if (root->type != YAML_MAPPING_NODE) {
		rc = sign__why(why, whyn, -BERTH_EINVAL, "parsing %s: the top level must be a mapping", file);
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; rc == 0 && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
		const char *key = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";

		if (!v)
			continue;
		if (!strcmp(key, "default-docker")) {
			if (v->type == YAML_SCALAR_NODE && is_null_scalar(v))
				continue;
			if (r->def) {
				rc = sign__why(why, whyn, -BERTH_EINVAL,
					       "\"default-docker\" defined both in \"%s\" and \"%s\"", r->def->file,
					       file);
				break;
			}
			r->def = xcalloc(1, sizeof(*r->def));
			rc = ns_from_node(&doc, v, "default-docker", file, r->def, why, whyn);
		} else if (!strcmp(key, "docker")) {
			if (v->type == YAML_SCALAR_NODE && is_null_scalar(v))
				continue;
			if (v->type != YAML_MAPPING_NODE) {
				rc = sign__why(why, whyn, -BERTH_EINVAL, "parsing %s: docker must be a mapping", file);
				break;
			}
			for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
			     rc == 0 && q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *nk = yaml_document_get_node(&doc, q->key),
					    *nv = yaml_document_get_node(&doc, q->value);
				const char *name;
				struct registries_ns *ns;
				if (!nk || !nv || nk->type != YAML_SCALAR_NODE) {
					rc = sign__why(why, whyn, -BERTH_EINVAL,
						       "parsing %s: docker namespaces must be strings", file);
					break;
				}
				name = (const char *)nk->data.scalar.value;
				for (size_t i = 0; i < r->nns; i++)
					if (!strcmp(r->ns[i].name, name))
						rc = sign__why(
						    why, whyn, -BERTH_EINVAL,
						    "\"docker\" namespace \"%s\" defined both in \"%s\" and \"%s\"",
						    name, r->ns[i].file, file);
				if (rc < 0)
					break;
				r->ns = xrealloc(r->ns, (r->nns + 1) * sizeof(*r->ns));
				ns = &r->ns[r->nns++];
				memset(ns, 0, sizeof(*ns));
				ns->name = xstrdup(name);
				rc = ns_from_node(&doc, nv, name, file, ns, why, whyn);
			}
		}
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int registries_load_dir(const char *dir, struct registries **out, char *why, size_t whyn)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	struct registries *r = registries_new();
	int rc = 0;

	*out = NULL;
	if (!d) {
		if (errno == ENOENT) {
			*out = r;
			return 0;
		}
		rc = sign__why(why, whyn, berth_from_errno(errno), "opening %s: %s", dir, strerror(errno));
		registries_free(r);
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct buf path, body;
		buf_init(&path, 8192);
		buf_init(&body, REG_FILE_MAX + 1);
		rc = buf_addf(&path, "%s/%s", dir, names[i]);
		if (rc == 0)
			rc = sign__read_file(path.ptr, REG_FILE_MAX, &body, why, whyn);
		if (rc == 0)
			rc = registries_parse(r, body.ptr, body.len, path.ptr, why, whyn);
		buf_release(&path);
		buf_release(&body);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		registries_free(r);
	else
		*out = r;
	return rc;
}

static const char *ns_top_level(const struct registries_ns *ns, int write)
{
	if (write && ns->lookaside_staging && *ns->lookaside_staging)
		return ns->lookaside_staging;
	if (write && ns->sigstore_staging && *ns->sigstore_staging)
		return ns->sigstore_staging;
	if (ns->lookaside && *ns->lookaside)
		return ns->lookaside;
	if (ns->sigstore && *ns->sigstore)
		return ns->sigstore;
	return NULL;
}

static const struct registries_ns *ns_find(const struct registries *r, const char *name)
{
	for (size_t i = 0; i < r->nns; i++)
		if (!strcmp(r->ns[i].name, name))
			return &r->ns[i];
	return NULL;
}

const char *registries_lookaside(const struct registries *r, const struct sign_ref *ref, int write)
{
	char **scopes = NULL;
	size_t n = 0;
	const char *url = NULL;

	sign_ref_scopes(ref, &scopes, &n);
	for (size_t i = 0; !url && i < n; i++) {
		const struct registries_ns *ns = ns_find(r, scopes[i]);
		if (ns)
			url = ns_top_level(ns, write);
	}
	sign_ref_scopes_free(scopes);
	if (!url && r->def)
		url = ns_top_level(r->def, write);
	return url;
}

int registries_use_sigstore_attachments(const struct registries *r, const struct sign_ref *ref)
{
	char **scopes = NULL;
	size_t n = 0;
	int v = -1;

	sign_ref_scopes(ref, &scopes, &n);
	for (size_t i = 0; v < 0 && i < n; i++) {
		const struct registries_ns *ns = ns_find(r, scopes[i]);
		if (ns)
			v = ns->use_sigstore_attachments;
	}
	sign_ref_scopes_free(scopes);
	if (v < 0 && r->def)
		v = r->def->use_sigstore_attachments;
	return v > 0;
}

int registries_lookaside_url(const char *base, const struct sign_ref *ref, const struct digest *d, unsigned index,
			     struct buf *out)
{
	return buf_addf(out, "%s/%s@%s=%s/signature-%u", base, sign_ref_path(ref), digest_alg_name(d->alg), d->hex,
			index + 1);
}
