#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/err.h"

const struct config_key config_keys[] = {
    {"log.level", "info", "error, warn, info or debug"},
    {"http.addr", "127.0.0.1:5000", "listen address HOST:PORT"},
    {"http.threads", "0", "event-loop threads; 0 = one per core, at least 2"},
    {"http.tls.certificate", "", "PEM certificate chain file; with http.tls.key, serve HTTPS"},
    {"http.tls.key", "", "PEM private key file of the certificate"},
    {"storage.filesystem.rootdirectory", "./var", "data directory: blobs, uploads, berth.db"},
    {"storage.delete.enabled", "true", "allow DELETE of manifests, tags and blobs"},
    {"storage.uploads.ttl", "24h", "an upload session idle this long is removed; 0 = never"},
    {"storage.uploads.sweep_interval", "1h", "how often berth serve looks for expired uploads; 0 = only at start"},
    {"storage.gc.grace", "1h", "garbage collection keeps what was pushed or linked more recently"},
    {"storage.gc.interval", "0", "how often berth serve collects garbage; 0 = never (run berth gc)"},
    {"storage.gc.delete_untagged", "false", "collection also removes manifests no tag keeps"},
    {"storage.reserve_bytes", "", "free space kept for metadata; empty = 5% of the file system, at most 64 MiB"},
    {"meta.uri", "", "metadata store; empty = sqlite:<rootdirectory>/berth.db"},
    {"limits.manifest_bytes", "4194304", "largest manifest accepted"},
    {"limits.blob_bytes", "0", "largest blob accepted; 0 = no limit"},
    {"errata.feeds", "", "errata feeds: paths or http(s) URLs (a YAML list, or separated by spaces/newlines)"},
    {"errata.sync_interval", "6h", "how often serve syncs errata.feeds (30m, 6h, 1d)"},
    {"signatures.extension_api", "true",
     "announce the signature extension API on /v2/ (false: clients use their registries.d lookaside)"},
    {"custody.log_pulls", "false", "journal a pull event for every manifest GET (one write per pull)"},
    {"scan.workers", "2", "image scan threads (low priority); 0 = do not scan"},
    {"scan.max_layer_bytes", "17179869184",
     "bytes a layer may inflate to while it is indexed; past it the image fails"},
    {"scan.max_image_bytes", "68719476736", "bytes all of an image's layers may inflate to while indexed"},
    {"grade.critical_days", "7,30,90,365", "oldest age in days of a Critical erratum for grades B, C, D, E"},
    {"grade.important_days", "30,90,365,365", "oldest age in days of an Important erratum for grades B, C, D, E"},
    {"grade.unknown_severity", "important", "advisories of unknown severity grade as important, critical, or ignore"},
    {"grade.check_interval", "1d", "how often berth serve looks for grades that dropped (and after each re-match)"},
    {NULL, NULL, NULL},
};

void config_init(struct config *c)
{
	c->kv = NULL;
	c->n = 0;
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
	free(c->kv);
	config_init(c);
}

void config_set(struct config *c, const char *key, const char *value)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0) {
			free(c->kv[i].value);
			c->kv[i].value = xstrdup(value);
			return;
		}
	c->kv = xrealloc(c->kv, (c->n + 1) * sizeof(*c->kv));
	c->kv[c->n].key = xstrdup(key);
	c->kv[c->n].value = xstrdup(value);
	c->n++;
}

const char *config_get(const struct config *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0)
			return c->kv[i].value;
	for (const struct config_key *k = config_keys; k->key; k++)
		if (strcmp(k->key, key) == 0)
			return k->def;
	return NULL;
}

int64_t config_get_int(const struct config *c, const char *key, int64_t def, int *ok)
{
	const char *v = config_get(c, key);
	char *end = NULL;
	long long x;

	if (!v || !*v)
		return def;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || x < 0) {
		if (ok)
			*ok = 0;
		return def;
	}
	return x;
}

int config_get_bool(const struct config *c, const char *key, int def, int *ok)
{
	const char *v = config_get(c, key);

	if (!v || !*v)
		return def;
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on"))
		return 1;
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off"))
		return 0;
	if (ok)
		*ok = 0;
	return def;
}

void config_apply_env(struct config *c)
{
	for (const struct config_key *k = config_keys; k->key; k++) {
		char name[128] = "BERTH_";
		size_t n = 6;
		const char *v;

		for (const char *p = k->key; *p && n < sizeof(name) - 1; p++)
			name[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
		name[n] = '\0';
		v = getenv(name);
		if (v)
			config_set(c, k->key, v);
	}
}

/* Walks the YAML event stream keeping a stack of mapping keys; each scalar value is stored under
 * the dotted path of its keys. */
int config_load_file(struct config *c, const char *path, char *err, size_t errn)
{
	FILE *f = NULL;
	yaml_parser_t parser;
	yaml_event_t ev;
	char *stack[16] = {0};
	int depth = 0, expect_key[17] = {0}, done = 0, rc = 0, parser_ok = 0, in_seq = 0;
	struct buf seq;

	buf_init(&seq, 1 << 20);
	f = fopen(path, "r");
	if (!f) {
		buf_release(&seq);
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return berth_from_errno(errno);
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	parser_ok = 1;
	yaml_parser_set_input_file(&parser, f);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(err, errn, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML");
			rc = -BERTH_EINVAL;
			goto out;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			if (in_seq) {
				snprintf(err, errn, "%s:%zu: lists are only supported as a list of values", path,
					 ev.start_mark.line + 1);
				rc = -BERTH_EINVAL;
			} else if (depth >= 15) {
				snprintf(err, errn, "%s: nested too deeply", path);
				rc = -BERTH_EINVAL;
			} else {
				depth++;
				expect_key[depth] = 1;
			}
			break;
		case YAML_MAPPING_END_EVENT:
			free(stack[depth]);
			stack[depth] = NULL;
			depth--;
			if (depth > 0) {
				free(stack[depth]);
				stack[depth] = NULL;
				expect_key[depth] = 1;
			}
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0)
				break;
			if (in_seq) {
				if ((seq.len && buf_add(&seq, "\n", 1) < 0) ||
				    buf_adds(&seq, (const char *)ev.data.scalar.value) < 0) {
					snprintf(err, errn, "%s:%zu: list too long", path, ev.start_mark.line + 1);
					rc = -BERTH_EINVAL;
				}
				break;
			}
			if (expect_key[depth]) {
				free(stack[depth]);
				stack[depth] = xstrdup((const char *)ev.data.scalar.value);
				expect_key[depth] = 0;
			} else {
				struct buf key;
				buf_init(&key, 1024);
				for (int i = 1; i <= depth; i++)
					if (buf_addf(&key, "%s%s", i > 1 ? "." : "", stack[i]) < 0)
						break;
				config_set(c, key.ptr, (const char *)ev.data.scalar.value);
				buf_release(&key);
				free(stack[depth]);
				stack[depth] = NULL;
				expect_key[depth] = 1;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			/* A list of scalars as a key's value (errata.feeds) becomes one value, one item per line. */
			if (depth == 0 || expect_key[depth] || in_seq) {
				snprintf(err, errn, "%s:%zu: lists are only supported as a list of values", path,
					 ev.start_mark.line + 1);
				rc = -BERTH_EINVAL;
			} else {
				in_seq = 1;
				buf_reset(&seq);
			}
			break;
		case YAML_SEQUENCE_END_EVENT: {
			struct buf key;
			in_seq = 0;
			buf_init(&key, 1024);
			for (int i = 1; i <= depth; i++)
				if (buf_addf(&key, "%s%s", i > 1 ? "." : "", stack[i]) < 0)
					break;
			config_set(c, key.ptr, seq.ptr);
			buf_release(&key);
			free(stack[depth]);
			stack[depth] = NULL;
			expect_key[depth] = 1;
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
	}
out:
	for (int i = 0; i < 16; i++)
		free(stack[i]);
	buf_release(&seq);
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (f)
		fclose(f);
	return rc;
}

int config_duration_parse(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	int64_t v = 0;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -BERTH_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -BERTH_EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (*p == '\0') {
		if (v != 0)
			return -BERTH_EINVAL; /* a unit is required, so "30" cannot mean seconds to one reader and ms to another */
		*ms = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].unit) == 0) {
			if (v > INT64_MAX / units[i].ms)
				return -BERTH_EINVAL;
			*ms = v * units[i].ms;
			return 0;
		}
	return -BERTH_EINVAL;
}
