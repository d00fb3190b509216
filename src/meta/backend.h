/* meta/backend: the table of operations a metadata backend implements, private to src/meta.
 * meta.c validates arguments and dispatches; a backend receives only non-NULL, non-empty names and
 * digests, and its opaque state `be`. Each operation has the meaning of the meta_* call of the same
 * name in meta.h.
 *
 *   const struct meta_ops *ops; void *be;
 *   if (meta_sqlite_open("var/berth.db", &ops, &be) == 0) ops->free(be);
 */
#ifndef BERTH_META_BACKEND_H
#define BERTH_META_BACKEND_H

#include "meta/meta.h"

struct meta_ops {
	const char *name;
	void (*free)(void *be);
	int (*repo_exists)(void *be, const char *repo);
	int (*blob_link)(void *be, const char *repo, const struct digest *d, uint64_t size);
	int (*blob_commit)(void *be, const char *repo, const struct digest *d, uint64_t size, const char *uuid,
			   const struct meta_hook *present);
	int (*blob_mount)(void *be, const char *repo, const char *from, const struct digest *d);
	int (*blob_get)(void *be, const char *repo, const struct digest *d, uint64_t *size);
	int (*blob_unlink)(void *be, const char *repo, const struct digest *d);
	int (*blob_referenced)(void *be, const struct digest *d);
	int (*gc_plan)(void *be, int64_t cutoff, int delete_untagged, struct meta_gc_plan *out);
	int (*gc_manifests_prune)(void *be, const char *repo, int64_t cutoff, struct meta_gc_item **out, size_t *n);
	int (*gc_blob_unlink)(void *be, const struct digest *d, int64_t cutoff);
	int (*blob_forget)(void *be, const struct digest *d, const struct meta_hook *drop);
	int (*manifest_put)(void *be, const struct meta_manifest_in *in, struct digest *missing,
			    int *missing_is_manifest);
	int (*manifest_get_by_tag)(void *be, const char *repo, const char *tag, int want_body,
				   struct meta_manifest *out);
	int (*manifest_get)(void *be, const char *repo, const struct digest *d, int want_body,
			    struct meta_manifest *out);
	int (*manifest_delete)(void *be, const char *repo, const struct digest *d);
	int (*tag_delete)(void *be, const char *repo, const char *tag);
	int (*tags_list)(void *be, const char *repo, const char *last, long limit, struct meta_names *out, int *more);
	int (*catalog)(void *be, const char *last, long limit, struct meta_names *out, int *more);
	int (*referrers)(void *be, const char *repo, const struct digest *subject, const char *artifact_type,
			 struct meta_desc **out, size_t *n);
	int (*upload_put)(void *be, const char *uuid, const char *repo);
	int (*upload_get)(void *be, const char *uuid, char *repo, size_t n);
	int (*upload_delete)(void *be, const char *uuid);
	/* errata: v[] is validated (ids, sources, hashes, enum ranges) before the backend sees it. */
	int (*errata_put)(void *be, const struct meta_erratum *v, size_t n, enum meta_put_result *res,
			  int64_t *generation);
	int (*errata_generation)(void *be, int64_t *generation);
	int (*errata_get)(void *be, const char *id, struct meta_erratum *out);
	int (*errata_list)(void *be, const struct meta_errata_filter *f, struct meta_erratum **out, size_t *n,
			   int *more);
	int (*errata_affecting)(void *be, const char *release, const char *const *pkgs, size_t npkgs,
				struct meta_errata_hit **out, size_t *n);
	int (*errata_changed_since)(void *be, int64_t since, struct meta_names *out);
	int (*feed_get)(void *be, const char *feed, struct meta_feed_state *out);
	int (*feed_put)(void *be, const char *feed, const struct meta_feed_state *st);
	int (*upload_list)(void *be, int64_t created_max, struct meta_names *out);
	/* journal: detail is already canonical (meta__json_canon) or NULL; digest is "alg:hex" or NULL. */
	int (*event_append)(void *be, const char *action, const char *repo, const char *digest, const char *tag,
			    const char *detail, int64_t *seq);
	int (*events_list)(void *be, const struct meta_event_filter *f, struct meta_event **out, size_t *n, int *more);
	int (*event_head)(void *be, int64_t *seq, char hash[META_EVENT_HASH_MAX]);
	int (*cursor_get)(void *be, const char *endpoint, int64_t *seq);
	int (*cursor_set)(void *be, const char *endpoint, int64_t seq);
	int (*signature_put)(void *be, const char *repo, const struct digest *d, const char *name, const void *content,
			     size_t len, int *added);
	int (*signatures_list)(void *be, const char *repo, const struct digest *d, struct meta_signature **out,
			       size_t *n);
	int (*signature_delete)(void *be, const char *repo, const struct digest *d, const char *name);
	int (*scan_claim)(void *be, struct meta_scan_job *job);
	int (*scan_requeue)(void *be);
	int (*scan_enqueue)(void *be, const char *repo, const struct digest *d);
	int (*scan_queued)(void *be, const struct digest *d);
	int (*scan_layer_get)(void *be, const struct digest *d, void **blob, size_t *n, char **why);
	int (*scan_layer_put)(void *be, const struct digest *d, const void *blob, size_t n, const char *why);
	int (*scan_layer_count)(void *be, int64_t *n);
	int (*scan_put)(void *be, const struct meta_scan *s);
	int (*scan_get)(void *be, const struct digest *d, struct meta_scan *out);
	int (*scan_each_stale)(void *be, int64_t gen, int (*fn)(void *ctx, const struct meta_scan *s), void *ctx);
	int (*scan_findings_put)(void *be, const struct meta_scan *v, size_t n);
	int (*grade_state_get)(void *be, const struct digest *d, char *grade, int32_t *day);
	int (*grade_state_set)(void *be, const struct digest *d, char grade, int32_t day);
};

/* The compact, key-sorted text of the JSON object in s (malloc()ed into *out). -BERTH_EINVAL when s
 * is not one JSON object, -BERTH_ENOMEM. Shared by the backends so detail columns are canonical. */
int meta__json_canon(const char *s, char **out);

/* The SQLite backend: opens (creating and migrating) the database file at path.
 * 0 with *ops and *be set, or -BERTH_EDB / -BERTH_ENOMEM. */
int meta_sqlite_open(const char *path, const struct meta_ops **ops, void **be);

#endif
