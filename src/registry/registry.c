/* registry: Distribution API semantics over store/ and meta/ (see registry.h). */
#include "registry/registry.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "registry/policy.h"
#include "registry/grading.h"
#include "sign/extension.h"
#include "sign/simple.h"
#include "store/store.h"

/* An upload session held in memory; rebuilt from meta/ and the upload file after a restart. */
struct upload {
	struct upload *next;
	char uuid[37];
	char *repo;
	int fd;
	uint64_t size;
	struct hasher h;
	uint64_t ckpt_size;
	struct hasher ckpt;
	int busy;
	int swept; /* being removed by the upload sweep: requests answer BLOB_UPLOAD_UNKNOWN */
	int64_t last_ms; /* when a request last took or gave back the session */
	int ephemeral; /* not recorded in meta/: ends with its one request */
	int maybe_shared; /* a commit linked (or tried to link) the file into blobs/: unshare before writing */
	uint64_t max; /* largest blob allowed; 0: no limit */
	uint64_t space_ahead; /* bytes the last free-space check found room for beyond size */
	uint64_t behind;      /* bytes from 0 whose writeback has been started (store_write_behind) */
	struct store *store;
};

/* Free space is asked of the file system (statvfs) for this much at a time, not per write. */
#define UPLOAD_SPACE_STEP (8u << 20)
/* Writeback of an upload's file is started every this many bytes, so the fsync at commit is short. */
#define UPLOAD_BEHIND_STEP (8u << 20)

struct registry {
	struct store *store;
	struct meta *meta;
	uint64_t manifest_max, blob_max;
	int delete_enabled;
	int64_t upload_ttl_ms;
	pthread_mutex_t lock; /* guards the uploads list, each session's busy/swept/last_ms, sweep_gen */
	struct upload *uploads;
	uint64_t sweep_gen; /* bumped each time the sweep removes a session */
	struct registry_policy *policy; /* signature requirements, immutable tags; NULL: none */
	struct grading *grading; /* grade rules and pull rules on grades; NULL: defaults, no rules */
	int log_pulls;
	int no_sig_extension;
	void (*on_event)(void *arg); /* after a write that journaled (notify's kick) */
	void *on_event_arg;
	void (*manifest_hook)(void *ctx);
	void *manifest_hook_ctx;
};

void registry_set_manifest_hook(struct registry *r, void (*fn)(void *ctx), void *ctx)
{
	r->manifest_hook = fn;
	r->manifest_hook_ctx = ctx;
}

/* Upload files no session owns are removed by a running server only once they are this old, so a
 * file that a starting session has created but not yet published is never mistaken for one. */
#define ORPHAN_MIN_AGE_MS 60000

static const char *const code_names[] = {
    [REG_OK] = "",
    [REG_BLOB_UNKNOWN] = "BLOB_UNKNOWN",
    [REG_BLOB_UPLOAD_INVALID] = "BLOB_UPLOAD_INVALID",
    [REG_BLOB_UPLOAD_UNKNOWN] = "BLOB_UPLOAD_UNKNOWN",
    [REG_DIGEST_INVALID] = "DIGEST_INVALID",
    [REG_MANIFEST_BLOB_UNKNOWN] = "MANIFEST_BLOB_UNKNOWN",
    [REG_MANIFEST_INVALID] = "MANIFEST_INVALID",
    [REG_MANIFEST_UNKNOWN] = "MANIFEST_UNKNOWN",
    [REG_NAME_INVALID] = "NAME_INVALID",
    [REG_NAME_UNKNOWN] = "NAME_UNKNOWN",
    [REG_SIZE_INVALID] = "SIZE_INVALID",
    [REG_UNAUTHORIZED] = "UNAUTHORIZED",
    [REG_DENIED] = "DENIED",
    [REG_UNSUPPORTED] = "UNSUPPORTED",
    [REG_TOOMANYREQUESTS] = "TOOMANYREQUESTS",
    [REG_RANGE_INVALID] = "BLOB_UPLOAD_INVALID",
    [REG_STORAGE_FULL] = "BLOB_UPLOAD_INVALID",
    [REG_INTERNAL] = "UNKNOWN",
};

const char *reg_code_name(enum reg_code c)
{
	return code_names[c];
}

/* Fills e and returns rc, so failures read `return fail(e, ...)`. */
__attribute__((format(printf, 5, 6))) static int fail(struct reg_err *e, int rc, enum reg_code code, int status,
						      const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->status = status;
	e->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* Maps an I/O or database failure to the error a client should see. */
static int fail_io(struct reg_err *e, int rc, const char *what)
{
	if (rc == -BERTH_ENOSPC)
		return fail(e, rc, REG_STORAGE_FULL, 507, "%s: storage is full", what);
	return fail(e, rc, REG_INTERNAL, 500, "%s: %s", what, berth_strerror(rc));
}

static int upload_sweep(struct registry *r, int at_open, struct registry_sweep_stats *st);

int registry_open(const struct registry_opts *o, struct registry **out, char *why, size_t whyn)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	char uri[PATH_MAX + 16];
	int rc;

	*out = NULL;
	rc = store_open(o->data_dir, &r->store);
	if (rc < 0) {
		snprintf(why, whyn, "data directory %s: %s", o->data_dir, berth_strerror(rc));
		goto out;
	}
	if (o->meta_uri && *o->meta_uri)
		snprintf(uri, sizeof(uri), "%s", o->meta_uri);
	else
		snprintf(uri, sizeof(uri), "sqlite:%s/berth.db", o->data_dir);
	rc = meta_open(uri, &r->meta);
	if (rc < 0) {
		snprintf(why, whyn, "metadata %s: %s", uri, berth_strerror(rc));
		goto out;
	}
	store_set_reserve(r->store, o->reserve_bytes);
	r->manifest_max = o->manifest_max ? o->manifest_max : 4u << 20;
	r->blob_max = o->blob_max;
	r->delete_enabled = o->delete_enabled;
	r->upload_ttl_ms = o->upload_ttl_ms > 0 ? o->upload_ttl_ms : 0;
	r->log_pulls = o->log_pulls;
	r->no_sig_extension = o->no_sig_extension;
	pthread_mutex_init(&r->lock, NULL);
	if (!o->no_upload_sweep)
		upload_sweep(r, 1, NULL);
	*out = r;
	r = NULL;
out:
	if (r) {
		meta_free(r->meta);
		store_free(r->store);
		free(r);
	}
	return rc;
}

static void upload_free(struct upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	hasher_release(&u->h);
	hasher_release(&u->ckpt);
	free(u->repo);
	free(u);
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	while (r->uploads) {
		struct upload *u = r->uploads;
		r->uploads = u->next;
		upload_free(u);
	}
	pthread_mutex_destroy(&r->lock);
	registry_policy_free(r->policy);
	grading_free(r->grading);
	meta_free(r->meta);
	store_free(r->store);
	free(r);
}

void registry_set_grading(struct registry *r, struct grading *g)
{
	grading_free(r->grading);
	r->grading = g;
}

struct grading *registry_grading(struct registry *r)
{
	return r->grading;
}

void registry_set_policy(struct registry *r, struct registry_policy *p)
{
	registry_policy_free(r->policy);
	r->policy = p;
}

void registry_set_event_hook(struct registry *r, void (*fn)(void *arg), void *arg)
{
	r->on_event = fn;
	r->on_event_arg = arg;
}

/* Tells the hook that the journal may have grown. */
static void journaled(struct registry *r)
{
	if (r->on_event)
		r->on_event(r->on_event_arg);
}

struct meta *registry_meta(struct registry *r)
{
	return r->meta;
}

uint64_t registry_manifest_limit(const struct registry *r)
{
	return r->manifest_max;
}

/* The grammars live in image/ref.c, shared with the client's references. */
int registry_name_valid(const char *name)
{
	return image_ref_name_valid(name);
}

int registry_tag_valid(const char *tag)
{
	return image_ref_tag_valid(tag);
}

int registry_blob_stat(struct registry *r, const char *repo, const struct digest *d, uint64_t *size, struct reg_err *e)
{
	int rc = meta_blob_get(r->meta, repo, d, size);

	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_BLOB_UNKNOWN, 404, "blob unknown to registry");
	if (rc < 0)
		return fail_io(e, rc, "blob lookup");
	return 0;
}

int registry_blob_open(struct registry *r, const char *repo, const struct digest *d, int *fd, uint64_t *size,
		       struct reg_err *e)
{
	uint64_t linked;
	int rc = registry_blob_stat(r, repo, d, &linked, e);

	if (rc < 0)
		return rc;
	rc = store_blob_open(r->store, d, fd, size);
	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_BLOB_UNKNOWN, 404, "blob unknown to registry");
	if (rc < 0)
		return fail_io(e, rc, "blob open");
	return 0;
}

int registry_blob_delete(struct registry *r, const char *repo, const struct digest *d, struct reg_err *e)
{
	int rc;

	if (!r->delete_enabled)
		return fail(e, -BERTH_EDENIED, REG_UNSUPPORTED, 405, "deletion is disabled");
	rc = meta_blob_unlink(r->meta, repo, d);
	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_BLOB_UNKNOWN, 404, "blob unknown to registry");
	if (rc < 0)
		return fail_io(e, rc, "blob delete");
	return 0;
}

int registry_blob_mount(struct registry *r, const char *repo, const char *from, const struct digest *d,
			struct reg_err *e)
{
	/* One transaction: a collector cannot remove the source link (and then the file) between reading
	 * it and copying it, and while a link exists its file does. */
	int rc = meta_blob_mount(r->meta, repo, from, d);

	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_BLOB_UNKNOWN, 404, "blob not in the source repository");
	if (rc < 0)
		return fail_io(e, rc, "blob mount");
	return 0;
}

/* ---- upload sessions ---- */

static struct upload *find_locked(struct registry *r, const char *uuid)
{
	for (struct upload *u = r->uploads; u; u = u->next)
		if (strcmp(u->uuid, uuid) == 0)
			return u;
	return NULL;
}

static void unlink_locked(struct registry *r, struct upload *u)
{
	for (struct upload **p = &r->uploads; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			return;
		}
}

int registry_upload_start(struct registry *r, const char *repo, enum digest_alg alg, int ephemeral, char uuid[37],
			  struct upload **out, struct reg_err *e)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	int rc;

	u->fd = -1;
	*out = NULL;
	rc = uuid_new(u->uuid);
	if (rc < 0) {
		fail_io(e, rc, "upload id");
		goto out;
	}
	rc = hasher_init(&u->h, alg);
	if (rc < 0) {
		fail_io(e, rc, "upload hash");
		goto out;
	}
	rc = store_upload_create(r->store, u->uuid, &u->fd);
	if (rc < 0) {
		fail_io(e, rc, "upload create");
		goto out;
	}
	u->ephemeral = ephemeral;
	rc = ephemeral ? 0 : meta_upload_put(r->meta, u->uuid, repo);
	if (rc < 0) {
		store_upload_remove(r->store, u->uuid);
		fail_io(e, rc, "upload record");
		goto out;
	}
	u->repo = xstrdup(repo);
	u->max = r->blob_max;
	u->store = r->store;
	u->busy = 1;
	u->last_ms = time_now_ms();
	memcpy(uuid, u->uuid, 37);
	pthread_mutex_lock(&r->lock);
	u->next = r->uploads;
	r->uploads = u;
	pthread_mutex_unlock(&r->lock);
	*out = u;
	u = NULL;
out:
	if (u)
		upload_free(u);
	return rc;
}

/* Rebuilds a session that is in meta/ but not in memory (the server restarted): reopens its file and
 * re-hashes the bytes received so far. */
static int upload_revive(struct registry *r, const char *repo, const char *uuid, struct upload **out, struct reg_err *e)
{
	char owner[512];
	struct upload *u = NULL;
	int rc;

	*out = NULL;
	rc = meta_upload_get(r->meta, uuid, owner, sizeof(owner));
	if (rc == 0 && strcmp(owner, repo) != 0)
		rc = -BERTH_ENOENT;
	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_BLOB_UPLOAD_UNKNOWN, 404, "upload unknown to registry");
	if (rc < 0)
		return fail_io(e, rc, "upload lookup");
	u = xcalloc(1, sizeof(*u));
	u->fd = -1;
	memcpy(u->uuid, uuid, 37);
	u->repo = xstrdup(repo);
	u->max = r->blob_max;
	u->store = r->store;
	rc = store_upload_open(r->store, uuid, &u->fd, &u->size);
	if (rc == -BERTH_ENOENT) {
		meta_upload_delete(r->meta, uuid);
		fail(e, rc, REG_BLOB_UPLOAD_UNKNOWN, 404, "upload unknown to registry");
		goto out;
	}
	u->maybe_shared = 1; /* a commit before the restart may have linked it */
	if (rc == 0)
		rc = hasher_init(&u->h, DIGEST_SHA256);
	if (rc == 0)
		rc = hasher_update_fd(&u->h, u->fd, NULL);
	if (rc < 0) {
		fail_io(e, rc, "upload reopen");
		goto out;
	}
	*out = u;
	u = NULL;
out:
	if (u)
		upload_free(u);
	return rc;
}

/* Takes the in-memory session u (found under r->lock, which the caller holds) for one request: 0, or
 * the error a request on it gets. */
static int take_locked(struct upload *u, const char *repo, struct reg_err *e)
{
	if (u->swept || strcmp(u->repo, repo) != 0)
		return fail(e, -BERTH_ENOENT, REG_BLOB_UPLOAD_UNKNOWN, 404, "upload unknown to registry");
	if (u->busy)
		return fail(e, -BERTH_EBUSY, REG_BLOB_UPLOAD_INVALID, 409, "upload is in use by another request");
	u->busy = 1;
	u->last_ms = time_now_ms();
	return 0;
}

int registry_upload_acquire(struct registry *r, const char *repo, const char *uuid, struct upload **out,
			    struct reg_err *e)
{
	struct upload *u, *fresh = NULL;
	uint64_t gen;
	int rc;

	*out = NULL;
	if (!uuid_valid(uuid))
		return fail(e, -BERTH_ENOENT, REG_BLOB_UPLOAD_UNKNOWN, 404, "upload unknown to registry");
	for (int attempt = 0; attempt < 8; attempt++) {
		pthread_mutex_lock(&r->lock);
		u = find_locked(r, uuid);
		rc = u ? take_locked(u, repo, e) : 0;
		if (u && rc == 0)
			*out = u;
		gen = r->sweep_gen;
		pthread_mutex_unlock(&r->lock);
		if (u)
			return rc;

		/* Not in memory: revive outside the lock (it may re-hash a large file), then publish unless
		 * a sweep removed a session meanwhile (it may have been this one: look again). */
		rc = upload_revive(r, repo, uuid, &fresh, e);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&r->lock);
		u = find_locked(r, uuid);
		if (u) {
			rc = take_locked(u, repo, e);
			if (rc == 0)
				*out = u;
		} else if (r->sweep_gen == gen) {
			fresh->busy = 1;
			fresh->last_ms = time_now_ms();
			fresh->next = r->uploads;
			r->uploads = fresh;
			*out = fresh;
			fresh = NULL;
			rc = 0;
		} else {
			rc = 1;
		}
		pthread_mutex_unlock(&r->lock);
		if (fresh)
			upload_free(fresh);
		fresh = NULL;
		if (rc <= 0)
			return rc;
	}
	return fail(e, -BERTH_EBUSY, REG_BLOB_UPLOAD_INVALID, 409, "upload is in use by another request");
}

uint64_t registry_upload_size(const struct upload *u)
{
	return u->size;
}

const char *registry_upload_id(const struct upload *u)
{
	return u->uuid;
}

int registry_upload_checkpoint(struct upload *u)
{
	hasher_release(&u->ckpt);
	u->ckpt_size = u->size;
	return hasher_copy(&u->ckpt, &u->h);
}

void registry_upload_rollback(struct upload *u)
{
	if (!u->ckpt.ctx || u->size == u->ckpt_size)
		return;
	if (ftruncate(u->fd, (off_t)u->ckpt_size) < 0) {
		/* The file keeps extra bytes past size; the next write overwrites them at size. */
	}
	u->size = u->ckpt_size;
	hasher_release(&u->h);
	if (hasher_copy(&u->h, &u->ckpt) < 0)
		u->h.ctx = NULL; /* re-hashed from the file at finish */
}

/* Before a session writes again after a commit that linked its file into blobs/ and then failed:
 * the blob's name shares the inode, so the session takes a copy (rare: a retried commit does not
 * write). */
static int upload_unshare(struct upload *u)
{
	struct stat st;
	int rc = 0;

	if (fstat(u->fd, &st) < 0)
		return berth_from_errno(errno);
	if (st.st_nlink > 1)
		rc = store_upload_unshare(u->store, u->uuid, &u->fd);
	if (rc == 0)
		u->maybe_shared = 0;
	return rc;
}

int registry_upload_write(struct upload *u, const void *p, size_t n, struct reg_err *e)
{
	int rc;

	if (u->maybe_shared) {
		rc = upload_unshare(u);
		if (rc < 0)
			return fail_io(e, rc, "upload write");
	}
	if (u->max && (n > u->max || u->size > u->max - n)) {
		registry_upload_rollback(u);
		return fail(e, -BERTH_ETOOBIG, REG_SIZE_INVALID, 413, "blob is larger than the %llu bytes allowed",
			    (unsigned long long)u->max);
	}
	rc = 0;
	if (n > u->space_ahead) {
		/* room for the next step (so the next writes need no check), else for this write alone */
		rc = store_space_check(u->store, n + UPLOAD_SPACE_STEP);
		u->space_ahead = n + UPLOAD_SPACE_STEP;
		if (rc < 0) {
			rc = store_space_check(u->store, n);
			u->space_ahead = n;
		}
	}
	if (rc == 0) {
		u->space_ahead -= n;
		rc = store_write_all(u->fd, p, n, u->size);
	}
	if (rc < 0) {
		if (ftruncate(u->fd, (off_t)u->size) < 0) {
			/* bytes past size are overwritten by the next write and never hashed */
		}
		registry_upload_rollback(u);
		return fail_io(e, rc, "upload write");
	}
	if (u->h.ctx)
		hasher_update(&u->h, p, n);
	u->size += n;
	if (u->size < u->behind)
		u->behind = 0; /* rolled back below it: start again from the beginning */
	if (u->size - u->behind >= UPLOAD_BEHIND_STEP) {
		store_write_behind(u->fd, u->behind, u->size - u->behind);
		u->behind = u->size;
	}
	return 0;
}

struct present_ctx {
	struct store *store;
	const struct digest *d;
};

/* meta_hook: the blob's file is in place (run while meta/ excludes the collector). */
static int blob_present(void *arg)
{
	struct present_ctx *c = arg;

	return store_blob_stat(c->store, c->d, NULL);
}

/* Links the verified upload as blob d and records it, so that no link ever points at a missing file
 * even with a collector running (docs/internals/registry.md, GC): the file is hard-linked into place,
 * then the metadata transaction checks, under the write lock, that it is still there. If a collector
 * removed it in between (it was garbage a moment ago), link it again from the upload file, which stays
 * until the metadata is written. */
static int blob_commit(struct registry *r, struct upload *u, const struct digest *d)
{
	struct present_ctx pc = {r->store, d};
	struct meta_hook present = {blob_present, &pc};
	int rc;

	u->maybe_shared = 1; /* from here on, the upload file may also be the blob's */
	for (int attempt = 0;; attempt++) {
		rc = store_upload_link(r->store, u->uuid, u->fd, d);
		if (rc == 0)
			rc = meta_blob_commit(r->meta, u->repo, d, u->size, u->ephemeral ? NULL : u->uuid, &present);
		if (rc != -BERTH_ENOENT || attempt == 4)
			break;
	}
	if (rc == -BERTH_ENOENT)
		rc = -BERTH_EIO; /* collected five times in a row: give up rather than spin */
	if (rc == 0)
		store_upload_remove(r->store, u->uuid); /* left behind, it is an orphan the upload sweep removes */
	return rc;
}

int registry_upload_finish(struct registry *r, struct upload *u, const struct digest *d, struct reg_err *e)
{
	struct digest got;
	struct hasher h = {0};
	int rc;

	if (u->h.ctx && u->h.alg == d->alg) {
		rc = hasher_copy(&h, &u->h);
	} else {
		rc = hasher_init(&h, d->alg);
		if (rc == 0 && lseek(u->fd, 0, SEEK_SET) < 0)
			rc = berth_from_errno(errno);
		if (rc == 0) {
			uint64_t n = 0;
			rc = hasher_update_fd(&h, u->fd, &n);
			if (rc == 0 && n != u->size)
				rc = -BERTH_EIO;
		}
	}
	if (rc < 0) {
		hasher_release(&h);
		fail_io(e, rc, "upload hash");
		registry_upload_release(r, u);
		return rc;
	}
	hasher_final(&h, &got);
	hasher_release(&h);
	if (!digest_eq(&got, d)) {
		char want[DIGEST_STR_MAX];
		fail(e, -BERTH_EDIGEST, REG_DIGEST_INVALID, 400, "provided digest did not match uploaded content");
		snprintf(e->detail, sizeof(e->detail), "%s", digest_str(d, want));
		registry_upload_abort(r, u);
		return -BERTH_EDIGEST;
	}
	rc = blob_commit(r, u, d);
	if (rc < 0) {
		fail_io(e, rc, "blob commit");
		registry_upload_release(r, u);
		return rc;
	}
	pthread_mutex_lock(&r->lock);
	unlink_locked(r, u);
	pthread_mutex_unlock(&r->lock);
	upload_free(u);
	return 0;
}

void registry_upload_release(struct registry *r, struct upload *u)
{
	pthread_mutex_lock(&r->lock);
	u->busy = 0;
	u->last_ms = time_now_ms();
	hasher_release(&u->ckpt);
	pthread_mutex_unlock(&r->lock);
}

void registry_upload_abort(struct registry *r, struct upload *u)
{
	pthread_mutex_lock(&r->lock);
	unlink_locked(r, u);
	pthread_mutex_unlock(&r->lock);
	store_upload_remove(r->store, u->uuid);
	if (!u->ephemeral)
		meta_upload_delete(r->meta, u->uuid);
	upload_free(u);
}

int registry_upload_cancel(struct registry *r, const char *repo, const char *uuid, struct reg_err *e)
{
	struct upload *u = NULL;
	int rc = registry_upload_acquire(r, repo, uuid, &u, e);

	if (rc < 0)
		return rc;
	registry_upload_abort(r, u);
	return 0;
}

/* ---- upload expiry ---- */

/* Removes session uuid when it has been idle for the TTL: 1 removed (its file's size added to
 * *bytes), 0 kept, or a negative error. While it is being removed the session stays in memory
 * marked swept (a tombstone when it was not in memory), so a request looking it up answers
 * BLOB_UPLOAD_UNKNOWN instead of reviving it from a half-removed state. */
static int sweep_session(struct registry *r, const char *uuid, int64_t now, uint64_t *bytes)
{
	struct upload *u = NULL;
	uint64_t size = 0;
	int64_t mtime = 0;
	int rc, have_file, tomb = 0;

	have_file = store_upload_stat(r->store, uuid, &size, &mtime) == 0;
	pthread_mutex_lock(&r->lock);
	u = find_locked(r, uuid);
	if (u) {
		if (u->busy || u->swept || now - u->last_ms < r->upload_ttl_ms) {
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
	} else {
		if (have_file && now - mtime < r->upload_ttl_ms) {
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		u = xcalloc(1, sizeof(*u));
		u->fd = -1;
		memcpy(u->uuid, uuid, 37);
		u->repo = xstrdup("");
		u->next = r->uploads;
		r->uploads = u;
		tomb = 1;
	}
	u->swept = 1;
	u->busy = 1;
	pthread_mutex_unlock(&r->lock);

	rc = meta_upload_delete(r->meta, uuid);
	if (rc < 0 && rc != -BERTH_ENOENT) {
		/* nothing removed: the session stays as it was (a tombstone simply goes) */
		pthread_mutex_lock(&r->lock);
		if (!tomb) {
			u->swept = 0;
			u->busy = 0;
			u = NULL;
		} else {
			unlink_locked(r, u);
		}
		pthread_mutex_unlock(&r->lock);
		if (u)
			upload_free(u);
		return rc;
	}
	rc = store_upload_remove(r->store, uuid);
	if (rc == 0)
		*bytes += size;
	pthread_mutex_lock(&r->lock);
	unlink_locked(r, u);
	r->sweep_gen++;
	pthread_mutex_unlock(&r->lock);
	upload_free(u);
	/* a file that would not go is an orphan now: a later sweep retries it */
	return rc < 0 && rc != -BERTH_ENOENT ? rc : 1;
}

struct orphan_ctx {
	struct registry *r;
	int64_t now;
	int at_open;
	struct registry_sweep_stats *st;
	int rc;
};

/* store_upload_each() callback: removes an upload file no session owns (no meta row, not in memory)
 * once it is old enough; at open, when no request can be starting one, any such file. */
static int sweep_orphan(const char *uuid, void *arg)
{
	struct orphan_ctx *c = arg;
	struct registry *r = c->r;
	uint64_t size = 0;
	int64_t mtime = 0, min_age;
	char repo[512];
	int rc, owned;

	if (store_upload_stat(r->store, uuid, &size, &mtime) < 0)
		return 0;
	if (!c->at_open) {
		min_age = r->upload_ttl_ms > ORPHAN_MIN_AGE_MS ? r->upload_ttl_ms : ORPHAN_MIN_AGE_MS;
		if (r->upload_ttl_ms == 0 || c->now - mtime < min_age)
			return 0;
	}
	if (uuid_valid(uuid)) {
		pthread_mutex_lock(&r->lock);
		owned = find_locked(r, uuid) != NULL;
		pthread_mutex_unlock(&r->lock);
		if (owned)
			return 0;
		rc = meta_upload_get(r->meta, uuid, repo, sizeof(repo));
		if (rc != -BERTH_ENOENT) {
			if (rc < 0 && c->rc == 0)
				c->rc = rc;
			return 0;
		}
	}
	rc = store_upload_remove(r->store, uuid);
	if (rc == 0) {
		c->st->orphans++;
		c->st->bytes += size;
	} else if (rc != -BERTH_ENOENT && c->rc == 0) {
		c->rc = rc;
	}
	return 0;
}

/* Both passes: sessions recorded in meta/ that have been idle for the TTL, then files with no
 * session. at_open: the registry is just opening, so orphan files go whatever their age. */
static int upload_sweep(struct registry *r, int at_open, struct registry_sweep_stats *st)
{
	struct registry_sweep_stats local = {0};
	struct orphan_ctx oc = {r, time_now_ms(), at_open, st ? st : &local, 0};
	struct meta_names cand = {0};
	int rc = 0, one;

	if (r->upload_ttl_ms > 0) {
		/* a session created after this second cannot have been idle for the whole TTL */
		rc = meta_upload_list(r->meta, (oc.now - r->upload_ttl_ms) / 1000, &cand);
		for (size_t i = 0; i < cand.n; i++) {
			if (!uuid_valid(cand.v[i]))
				continue;
			one = sweep_session(r, cand.v[i], oc.now, &oc.st->bytes);
			if (one > 0)
				oc.st->sessions++;
			else if (one < 0 && rc == 0)
				rc = one;
		}
		meta_names_release(&cand);
	}
	one = store_upload_each(r->store, sweep_orphan, &oc);
	if (rc == 0)
		rc = one < 0 ? one : oc.rc;
	return rc;
}

int registry_upload_sweep(struct registry *r, struct registry_sweep_stats *st)
{
	if (st)
		memset(st, 0, sizeof(*st));
	return upload_sweep(r, 0, st);
}

/* ---- garbage collection ---- */

struct drop_ctx {
	struct store *store;
	const struct digest *d;
	uint64_t size;
	int had_file;
};

/* meta_hook for meta_blob_forget(): removes the file (run while meta/ excludes commits and mounts).
 * A file already gone is fine: a retried transaction, or a crash between row and file earlier on. */
static int drop_file(void *arg)
{
	struct drop_ctx *c = arg;
	int rc;

	c->had_file = 0;
	c->size = 0;
	if (store_blob_stat(c->store, c->d, &c->size) < 0)
		return 0;
	rc = store_blob_delete(c->store, c->d);
	if (rc == -BERTH_ENOENT)
		return 0;
	if (rc == 0)
		c->had_file = 1;
	return rc;
}

/* Removes blob d's file if nothing names it now: 1 removed (*size its bytes), 0 kept, or an error. */
static int gc_forget(struct registry *r, const struct digest *d, uint64_t *size)
{
	struct drop_ctx dc = {r->store, d, 0, 0};
	struct meta_hook drop = {drop_file, &dc};
	int rc = meta_blob_forget(r->meta, d, &drop);

	*size = dc.size;
	return rc > 0 && dc.had_file ? 1 : rc < 0 ? rc : 0;
}

struct gc_file {
	struct digest d;
	uint64_t size;
};

struct gc_files {
	struct gc_file *v;
	size_t n, cap;
	int64_t cutoff; /* seconds; files modified at or after it are young */
};

/* store_blob_each() callback: collects the files old enough to be collected. */
static int gc_file_add(const struct digest *d, uint64_t size, int64_t mtime_ms, void *arg)
{
	struct gc_files *f = arg;

	if (f->cutoff != INT64_MAX && mtime_ms / 1000 >= f->cutoff)
		return 0;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n].d = *d;
	f->v[f->n].size = size;
	f->n++;
	return 0;
}

static int gc_item_cmp(const void *a, const void *b)
{
	const struct meta_gc_item *x = a, *y = b;
	char xs[DIGEST_STR_MAX], ys[DIGEST_STR_MAX];

	return strcmp(digest_str(&x->digest, xs), digest_str(&y->digest, ys));
}

/* 1 when d is in the digest-sorted list v. */
static int gc_items_have(const struct meta_gc_item *v, size_t n, const struct digest *d)
{
	struct meta_gc_item key = {0};

	key.digest = *d;
	return n && bsearch(&key, v, n, sizeof(*v), gc_item_cmp) != NULL;
}

static void gc_report(const struct registry_gc_opts *o, int is_manifest, int orphan, const char *repo,
		      const struct digest *d, uint64_t size)
{
	struct registry_gc_item it = {is_manifest, orphan, repo, d, size};

	if (o->report)
		o->report(o->ctx, &it);
}

static int gc_stopped(const struct registry_gc_opts *o)
{
	return o->stop && atomic_load(o->stop);
}

/* Keeps the first error. */
static void gc_err(int *rc, int one)
{
	if (one < 0 && *rc == 0)
		*rc = one;
}

/* The dry run: the plan as it stands, and the orphan files. */
static int gc_dry(struct registry *r, const struct registry_gc_opts *o, const struct meta_gc_plan *p,
		  struct gc_files *files, struct registry_gc_stats *st)
{
	int rc = 0, one;

	for (size_t i = 0; i < p->nmanifests; i++) {
		st->manifests++;
		st->manifest_bytes += p->manifests[i].size;
		gc_report(o, 1, 0, p->manifests[i].repo, &p->manifests[i].digest, p->manifests[i].size);
	}
	st->links = p->nlinks;
	for (size_t i = 0; i < p->nblobs; i++) {
		uint64_t size = p->blobs[i].size;
		if (store_blob_stat(r->store, &p->blobs[i].digest, &size) < 0)
			continue; /* no file to remove */
		st->blobs++;
		st->blob_bytes += size;
		gc_report(o, 0, 0, NULL, &p->blobs[i].digest, size);
	}
	for (size_t i = 0; i < files->n && !gc_stopped(o); i++) {
		struct gc_file *f = &files->v[i];
		if (gc_items_have(p->blobs, p->nblobs, &f->d))
			continue;
		one = meta_blob_referenced(r->meta, &f->d);
		gc_err(&rc, one);
		if (one != 0)
			continue;
		st->blobs++;
		st->orphans++;
		st->blob_bytes += f->size;
		gc_report(o, 0, 1, NULL, &f->d, f->size);
	}
	return rc;
}

/* The real thing: manifests (per repository, one transaction each), then each candidate blob's links
 * (one transaction) and file (another), then the orphan files. */
static int gc_run(struct registry *r, const struct registry_gc_opts *o, int64_t cutoff, const struct meta_gc_plan *p,
		  struct gc_files *files, struct registry_gc_stats *st)
{
	int rc = 0, one;
	uint64_t size;

	for (size_t i = 0; i < p->nmanifests && !gc_stopped(o); i++) {
		struct meta_gc_item *del = NULL;
		size_t n = 0;
		if (i > 0 && strcmp(p->manifests[i].repo, p->manifests[i - 1].repo) == 0)
			continue; /* the list is sorted by repository: one prune per repository */
		one = meta_gc_manifests_prune(r->meta, p->manifests[i].repo, cutoff, &del, &n);
		gc_err(&rc, one);
		for (size_t j = 0; j < n; j++) {
			st->manifests++;
			st->manifest_bytes += del[j].size;
			gc_report(o, 1, 0, del[j].repo, &del[j].digest, del[j].size);
		}
		meta_gc_items_free(del, n);
	}
	/* links are sorted by digest here: one transaction per blob for all its links */
	for (size_t i = 0; i < p->nlinks && !gc_stopped(o); i++) {
		const struct digest *d = &p->links[i].digest;
		if (i > 0 && digest_eq(&p->links[i - 1].digest, d))
			continue;
		one = meta_gc_blob_unlink(r->meta, d, cutoff);
		gc_err(&rc, one);
		if (one < 0)
			continue;
		st->links += (uint64_t)one;
		one = gc_forget(r, d, &size);
		gc_err(&rc, one);
		if (one > 0) {
			st->blobs++;
			st->blob_bytes += size;
			gc_report(o, 0, 0, NULL, d, size);
		}
	}
	for (size_t i = 0; i < files->n && !gc_stopped(o); i++) {
		struct gc_file *f = &files->v[i];
		/* a cheap read first: most files are referenced, and forget takes the write lock */
		one = meta_blob_referenced(r->meta, &f->d);
		gc_err(&rc, one);
		if (one != 0)
			continue;
		one = gc_forget(r, &f->d, &size);
		gc_err(&rc, one);
		if (one > 0) {
			st->blobs++;
			st->orphans++;
			st->blob_bytes += size;
			gc_report(o, 0, 1, NULL, &f->d, size);
		}
	}
	return rc;
}

int registry_gc(struct registry *r, const struct registry_gc_opts *o, struct registry_gc_stats *st)
{
	struct meta_gc_plan plan = {0};
	struct gc_files files = {0};
	int64_t now = time_now_ms(), cutoff;
	int rc;

	memset(st, 0, sizeof(*st));
	/* A row or file counts as old when its time (whole seconds) is below cutoff, which makes it
	 * older than the grace period, never younger. No grace: everything is old. */
	if (o->grace_ms <= 0)
		cutoff = INT64_MAX;
	else
		cutoff = now > o->grace_ms ? (now - o->grace_ms) / 1000 : 0;
	/* The lists only choose candidates: every removal re-checks the rule in its own transaction. */
	files.cutoff = cutoff;
	rc = store_blob_each(r->store, gc_file_add, &files);
	if (rc == 0)
		rc = meta_gc_plan(r->meta, cutoff, o->delete_untagged, &plan);
	if (rc < 0)
		goto out;
	if (plan.nblobs)
		qsort(plan.blobs, plan.nblobs, sizeof(*plan.blobs), gc_item_cmp);
	if (!o->dry_run && plan.nlinks)
		qsort(plan.links, plan.nlinks, sizeof(*plan.links), gc_item_cmp);
	rc = o->dry_run ? gc_dry(r, o, &plan, &files, st) : gc_run(r, o, cutoff, &plan, &files, st);
	if (st->manifests)
		journaled(r);
out:
	meta_gc_plan_release(&plan);
	free(files.v);
	return rc;
}

char *registry_gc_stats_json(const struct registry_gc_stats *st, int dry_run)
{
	json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "dry_run", dry_run, "manifests",
			      (json_int_t)st->manifests, "manifest_bytes", (json_int_t)st->manifest_bytes, "links",
			      (json_int_t)st->links, "blobs", (json_int_t)st->blobs, "blob_bytes",
			      (json_int_t)st->blob_bytes, "orphans", (json_int_t)st->orphans);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return s;
}

char *registry_gc_item_json(const struct registry_gc_item *it)
{
	char ds[DIGEST_STR_MAX];
	json_t *o = json_pack("{s:s, s:s, s:I}", "kind",
			      it->is_manifest ? "manifest"
			      : it->orphan    ? "orphan"
					      : "blob",
			      "digest", digest_str(it->digest, ds), "size", (json_int_t)it->size);
	char *s = NULL;

	if (o && it->repo)
		json_object_set_new(o, "repository", json_string(it->repo));
	s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

/* ---- manifests ---- */

/* Splits a reference into a digest (when it has a colon) or a validated tag. 1 digest, 0 tag, <0 error. */
static int parse_ref(const char *ref, struct digest *d, struct reg_err *e, int for_get)
{
	int rc;

	if (strchr(ref, ':')) {
		rc = digest_parse_cstr(ref, d);
		if (rc < 0)
			return fail(e, -BERTH_EINVAL, REG_DIGEST_INVALID, 400, "invalid digest %.80s", ref);
		return 1;
	}
	if (!registry_tag_valid(ref)) {
		if (for_get)
			return fail(e, -BERTH_ENOENT, REG_MANIFEST_UNKNOWN, 404, "manifest unknown");
		return fail(e, -BERTH_EINVAL, REG_MANIFEST_INVALID, 400, "invalid tag %.80s", ref);
	}
	return 0;
}

int registry_manifest_put(struct registry *r, const char *repo, const char *ref, const char *content_type,
			  const void *body, size_t len, struct digest *digest, struct digest *subject, int *has_subject,
			  struct reg_err *e)
{
	struct manifest m = {0};
	struct meta_manifest_in in = {0};
	struct digest want, missing;
	int by_digest, missing_is_manifest = 0, rc;
	const char *immutable = NULL;
	char why[200];

	*has_subject = 0;
	if (len > r->manifest_max)
		return fail(e, -BERTH_ETOOBIG, REG_SIZE_INVALID, 413, "manifest is larger than %llu bytes",
			    (unsigned long long)r->manifest_max);
	by_digest = parse_ref(ref, &want, e, 0);
	if (by_digest < 0)
		return by_digest;
	digest_of(by_digest ? want.alg : DIGEST_SHA256, body, len, digest);
	if (by_digest && !digest_eq(digest, &want)) {
		fail(e, -BERTH_EDIGEST, REG_DIGEST_INVALID, 400,
		     "manifest content does not match the digest in the URL");
		snprintf(e->detail, sizeof(e->detail), "%s", ref);
		return -BERTH_EDIGEST;
	}
	rc = manifest_parse(body, len, content_type, &m, why, sizeof(why));
	if (rc == -BERTH_EUNSUPPORTED)
		return fail(e, rc, REG_DIGEST_INVALID, 400, "%s: unsupported digest algorithm", why);
	if (rc < 0)
		return fail(e, rc, REG_MANIFEST_INVALID, 400, "%s", why);

	in.repo = repo;
	in.digest = digest;
	in.media_type = m.media_type;
	in.artifact_type = m.artifact_type;
	in.annotations_json = m.annotations_json;
	in.body = body;
	in.len = len;
	in.subject = m.has_subject ? &m.subject : NULL;
	in.blobs = m.blobs;
	in.nblobs = m.nblobs;
	in.manifests = m.manifests;
	in.nmanifests = m.nmanifests;
	in.tag = by_digest ? NULL : ref;
	immutable = registry_policy_immutable(r->policy, repo, in.tag);
	in.tag_protected = immutable != NULL;
	rc = meta_manifest_put(r->meta, &in, &missing, &missing_is_manifest);
	if (rc == -BERTH_EDENIED) {
		fail(e, rc, REG_DENIED, 403,
		     "tag %s of %s is immutable (policy immutable_tags.%s): it already points at another manifest", ref,
		     repo, immutable);
		goto out;
	}
	if (rc == -BERTH_ENOENT) {
		char ds[DIGEST_STR_MAX];
		fail(e, rc, REG_MANIFEST_BLOB_UNKNOWN, 400, "%s %s unknown to registry",
		     missing_is_manifest ? "manifest" : "blob", digest_str(&missing, ds));
		snprintf(e->detail, sizeof(e->detail), "%s", ds);
		goto out;
	}
	if (rc < 0) {
		fail_io(e, rc, "manifest put");
		if (e->code == REG_STORAGE_FULL)
			e->code = REG_MANIFEST_INVALID;
		goto out;
	}
	journaled(r);
	if (m.has_subject) {
		*subject = m.subject;
		*has_subject = 1;
	}
	if (r->manifest_hook)
		r->manifest_hook(r->manifest_hook_ctx);
out:
	manifest_release(&m);
	return rc;
}

/* The error for a manifest that is not there: NAME_UNKNOWN when the repository itself is unknown. */
static int manifest_unknown(struct registry *r, const char *repo, struct reg_err *e)
{
	if (!meta_repo_exists(r->meta, repo))
		return fail(e, -BERTH_ENOENT, REG_NAME_UNKNOWN, 404, "repository name not known to registry");
	return fail(e, -BERTH_ENOENT, REG_MANIFEST_UNKNOWN, 404, "manifest unknown");
}

int registry_manifest_lookup(struct registry *r, const char *repo, const char *ref, int want_body,
			     struct meta_manifest *out, struct reg_err *e)
{
	struct digest d;
	int by_digest = parse_ref(ref, &d, e, 1), rc;

	if (by_digest < 0)
		return by_digest;
	if (by_digest)
		rc = meta_manifest_get(r->meta, repo, &d, want_body, out);
	else
		rc = meta_manifest_get_by_tag(r->meta, repo, ref, want_body, out);
	if (rc == -BERTH_ENOENT)
		return manifest_unknown(r, repo, e);
	if (rc < 0)
		return fail_io(e, rc, "manifest get");
	return by_digest;
}

int registry_manifest_get(struct registry *r, const char *repo, const char *ref, int want_body,
			  struct meta_manifest *out, struct reg_err *e)
{
	int by_digest = registry_manifest_lookup(r, repo, ref, want_body, out, e), rc;
	char why[400];

	if (by_digest < 0)
		return by_digest;
	rc = registry_policy_check(r->policy, r->meta, r->store, repo, &out->digest, why, sizeof(why));
	if (rc < 0) {
		meta_manifest_release(out);
		if (rc == -BERTH_EDENIED)
			return fail(e, rc, REG_DENIED, 403, "%s", why);
		return fail_io(e, rc, "signature check");
	}
	rc = grading_pull_check(r->grading, r->meta, repo, &out->digest, grade_day_today(), why, sizeof(why));
	if (rc < 0) {
		meta_manifest_release(out);
		if (rc == -BERTH_EDENIED)
			return fail(e, rc, REG_DENIED, 403, "%s", why);
		return fail_io(e, rc, "grade check");
	}
	if (r->log_pulls && want_body) {
		/* best effort, after the read: a failed journal write does not fail the pull */
		if (meta_event_append(r->meta, "pull", repo, &out->digest, by_digest ? NULL : ref, NULL, NULL) == 0)
			journaled(r);
	}
	return 0;
}

int registry_manifest_delete(struct registry *r, const char *repo, const char *ref, struct reg_err *e)
{
	struct digest d;
	int by_digest, rc;

	if (!r->delete_enabled)
		return fail(e, -BERTH_EDENIED, REG_UNSUPPORTED, 405, "deletion is disabled");
	by_digest = parse_ref(ref, &d, e, 1);
	if (by_digest < 0)
		return by_digest;
	rc = by_digest ? meta_manifest_delete(r->meta, repo, &d) : meta_tag_delete(r->meta, repo, ref);
	if (rc == -BERTH_ENOENT)
		return manifest_unknown(r, repo, e);
	if (rc < 0)
		return fail_io(e, rc, "manifest delete");
	journaled(r);
	return 0;
}

int registry_tags(struct registry *r, const char *repo, const char *last, long limit, struct meta_names *out, int *more,
		  struct reg_err *e)
{
	int rc = meta_tags_list(r->meta, repo, last, limit, out, more);

	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_NAME_UNKNOWN, 404, "repository name not known to registry");
	if (rc < 0)
		return fail_io(e, rc, "tags list");
	return 0;
}

int registry_catalog(struct registry *r, const char *last, long limit, struct meta_names *out, int *more,
		     struct reg_err *e)
{
	int rc = meta_catalog(r->meta, last, limit, out, more);

	if (rc < 0)
		return fail_io(e, rc, "catalog");
	return 0;
}

int registry_referrers(struct registry *r, const char *repo, const struct digest *d, const char *artifact_type,
		       struct meta_desc **out, size_t *n, struct reg_err *e)
{
	int rc = meta_referrers(r->meta, repo, d, artifact_type, out, n);

	if (rc < 0)
		return fail_io(e, rc, "referrers");
	return 0;
}

/* ---- signature extension API ---- */

int registry_signatures_announced(const struct registry *r)
{
	return !r->no_sig_extension;
}

/* A signature's content must look like an OpenPGP message: its first byte a packet tag (bit 7 set)
 * of a type a signed message starts with (compressed data 8, one-pass signature 4, signature 2,
 * literal data 11, old or new format). Anything else is refused without running gpg. */
static int sig_looks_openpgp(const unsigned char *p, size_t n)
{
	int tag;

	if (n < 2 || !(p[0] & 0x80))
		return 0;
	tag = (p[0] & 0x40) ? (p[0] & 0x3f) : ((p[0] >> 2) & 0x0f);
	return tag == 8 || tag == 4 || tag == 2 || tag == 11;
}

int registry_signatures_get(struct registry *r, const char *repo, const struct digest *d, struct buf *out,
			    struct reg_err *e)
{
	struct meta_signature *v = NULL;
	struct sign_ext_sig *x = NULL;
	size_t n = 0;
	int rc = meta_signatures_list(r->meta, repo, d, &v, &n);

	if (rc == -BERTH_ENOENT)
		return manifest_unknown(r, repo, e);
	if (rc < 0)
		return fail_io(e, rc, "signatures get");
	x = xcalloc(n ? n : 1, sizeof(*x));
	for (size_t i = 0; i < n; i++) {
		x[i].version = SIGN_EXT_SCHEMA_VERSION;
		x[i].name = v[i].name;
		x[i].type = (char *)SIGN_EXT_TYPE_ATOMIC;
		x[i].content = v[i].content;
		x[i].content_len = v[i].len;
	}
	rc = sign_ext_list_create(x, n, out);
	free(x);
	meta_signatures_free(v, n);
	if (rc < 0)
		return fail_io(e, rc, "signatures list");
	return 0;
}

/* Stores one parsed signature; *added counts the new ones. */
static int sig_store(struct registry *r, const char *repo, const struct digest *d, const struct sign_ext_sig *s,
		     int *added, struct reg_err *e)
{
	int one = 0, rc;

	if (!s->content || s->content_len == 0 || s->content_len > REGISTRY_SIGNATURE_MAX)
		return fail(e, -BERTH_EINVAL, REG_MANIFEST_INVALID, 400,
			    "signature content is empty or larger than %u bytes", REGISTRY_SIGNATURE_MAX);
	if (!sig_looks_openpgp(s->content, s->content_len))
		return fail(e, -BERTH_EINVAL, REG_MANIFEST_INVALID, 400, "signature content is not an OpenPGP message");
	rc = meta_signature_put(r->meta, repo, d, s->name, s->content, s->content_len, &one);
	if (rc == -BERTH_ENOENT)
		return manifest_unknown(r, repo, e);
	if (rc == -BERTH_ETOOBIG)
		return fail(e, rc, REG_DENIED, 403, "manifest already has %d signatures", META_SIGNATURES_MAX);
	if (rc < 0)
		return fail_io(e, rc, "signature put");
	*added += one;
	return 0;
}

int registry_signature_put(struct registry *r, const char *repo, const struct digest *d, const void *body, size_t len,
			   int *added, struct reg_err *e)
{
	struct sign_ext_sig one = {0};
	struct sign_ext_list list = {0};
	char why[256];
	int rc;

	*added = 0;
	if (len > SIGN_EXT_LIST_MAX)
		return fail(e, -BERTH_ETOOBIG, REG_SIZE_INVALID, 413, "signature body is larger than %u bytes",
			    SIGN_EXT_LIST_MAX);
	/* containers/image PUTs one object per signature; a {"signatures": [...]} list is accepted too */
	if (len > 14 && memmem(body, len < 64 ? len : 64, "\"signatures\"", 12)) {
		rc = sign_ext_list_parse(body, len, &list, why, sizeof(why));
		if (rc < 0)
			return fail(e, rc, REG_MANIFEST_INVALID, 400, "%s", why);
		for (size_t i = 0; i < list.n && rc == 0; i++) {
			struct sign_ext_sig *s = &list.v[i];
			char ds[DIGEST_STR_MAX], pre[DIGEST_STR_MAX + 1];
			snprintf(pre, sizeof(pre), "%s@", digest_str(d, ds));
			if (!sign_ext_sig_is_atomic(s) || !s->name || strncmp(s->name, pre, strlen(pre)) != 0 ||
			    !s->name[strlen(pre)]) {
				rc = fail(e, -BERTH_EINVAL, REG_MANIFEST_INVALID, 400,
					  "signature %zu: want schemaVersion 2, type atomic and name <digest>@<id>", i);
				break;
			}
			rc = sig_store(r, repo, d, s, added, e);
		}
		sign_ext_list_release(&list);
	} else {
		rc = sign_ext_sig_parse(body, len, d, &one, why, sizeof(why));
		if (rc < 0)
			return fail(e, rc, REG_MANIFEST_INVALID, 400, "%s", why);
		rc = sig_store(r, repo, d, &one, added, e);
		sign_ext_sig_release(&one);
	}
	if (*added)
		journaled(r);
	return rc;
}

int registry_signature_delete(struct registry *r, const char *repo, const struct digest *d, const char *name,
			      struct reg_err *e)
{
	int rc;

	if (!r->delete_enabled)
		return fail(e, -BERTH_EDENIED, REG_UNSUPPORTED, 405, "deletion is disabled");
	rc = meta_signature_delete(r->meta, repo, d, name);
	if (rc == -BERTH_ENOENT)
		return fail(e, rc, REG_MANIFEST_UNKNOWN, 404, "no signature %.100s", name);
	if (rc < 0)
		return fail_io(e, rc, "signature delete");
	journaled(r);
	return 0;
}
