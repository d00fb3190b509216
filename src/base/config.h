/* config: berth's settings from a YAML file (shaped like Distribution's config.yml), then
 * environment overrides, then command-line flags. Every scalar in the file becomes a dotted key
 * ("http.addr", "storage.filesystem.rootdirectory"); the environment variable BERTH_<KEY>, with dots
 * as underscores and upper case (BERTH_HTTP_ADDR), overrides it.
 *
 *   struct config c; config_init(&c);
 *   if (config_load_file(&c, path, err, sizeof err) < 0) ...
 *   config_apply_env(&c);  ... config_release(&c);
 */
#ifndef BERTH_BASE_CONFIG_H
#define BERTH_BASE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config_kv {
	char *key, *value;
};

struct config {
	struct config_kv *kv;
	size_t n;
};

/* Known keys and their defaults, for documentation and for `config_get` fall-backs. */
struct config_key {
	const char *key, *def, *help;
};
extern const struct config_key config_keys[];

void config_init(struct config *c);
void config_release(struct config *c);
/* Parses a YAML file of nested mappings. A key's value may be a list of scalars, stored as one value
 * with the items separated by newlines; other sequences are rejected. On error returns a negative
 * code and writes one line naming the file and position into err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errn);
/* Applies BERTH_* overrides for every known key. */
void config_apply_env(struct config *c);
/* Sets key to value (copying both). */
void config_set(struct config *c, const char *key, const char *value);
/* The value of key: set value, or the known default, or NULL. Borrowed. */
const char *config_get(const struct config *c, const char *key);
/* Integer and boolean views; return def when unset; -BERTH_EINVAL via *ok = 0 when malformed. */
int64_t config_get_int(const struct config *c, const char *key, int64_t def, int *ok);
int config_get_bool(const struct config *c, const char *key, int def, int *ok);

#endif
