/* scanner: the scan worker pool, the re-match thread and the report JSON (see scanner.h). */
#include "registry/scanner.h"
#include "registry/grading.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "errata/errata.h"
#include "image/manifest.h"
#include "registry/events.h"
#include "registry/grading.h"
#include "registry/registry.h"

#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

struct scanner {
	struct registry *reg;
	struct meta *meta;
	struct scanner_opts o;
	pthread_t *threads;
	int nthreads;
	pthread_t rematch;
	int rematch_ok;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	unsigned wakes;
	atomic_uint_fast64_t layers_indexed, images_scanned, rematched, grade_events, events_failed;
	_Atomic int64_t last_wake_ms; /* when a manifest was last pushed (scanner_wake) */
	atomic_int_fast64_t generation;
	int64_t grade_checked_ms; /* last grade check (re-match thread only) */
};

/* The grading rules of the registry (its configuration), or the defaults when it has none. */
static const struct grade_rules *rules_of(struct scanner *s, struct grade_rules *tmp)
{
	struct grading *g = registry_grading(s->reg);

	if (g)
		return grading_rules(g);
	grade_rules_default(tmp);
	return tmp;
}

/* ---- matching ---- */

int scanner_errata_build(struct meta_erratum *v, size_t n, const char *release, struct scanner_errata *out)
{
	size_t k = 0, total = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++)
		total += v[i].npkgs;
	out->v = v;
	out->n = n;
	if (total == 0)
		return 0;
	out->aff = calloc(total, sizeof *out->aff);
	if (!out->aff) {
		meta_errata_free(v, n);
		memset(out, 0, sizeof *out);
		return -BERTH_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct meta_erratum *e = &v[i];
		if (e->withdrawn)
			continue;
		for (size_t j = 0; j < e->npkgs; j++) {
			const struct meta_erratum_pkg *p = &e->pkgs[j];
			struct scan_affected *a = &out->aff[k];
			if (strcmp(p->release, release) != 0 || p->status == META_PKG_NOT_AFFECTED)
				continue;
			a->release = p->release;
			a->package = p->package;
			a->kind = p->binary ? SCAN_KIND_BINARY : SCAN_KIND_SOURCE;
			a->arch = NULL;
			a->introduced = p->introduced;
			a->fixed = p->status == META_PKG_FIXED ? p->fixed : NULL;
			a->last_affected = p->last_affected;
			a->ref = e;
			k++;
		}
	}
	out->naff = k;
	if (scan_match_index_build(release, out->aff, out->naff, &out->ix) < 0) {
		scanner_errata_release(out);
		return -BERTH_ENOMEM;
	}
	return 0;
}

void scanner_errata_release(struct scanner_errata *e)
{
	meta_errata_free(e->v, e->n);
	free(e->aff);
	scan_match_index_release(&e->ix);
	memset(e, 0, sizeof *e);
}

/* A JSON string from bytes that may not be UTF-8 (a package database is outside input): invalid
 * bytes become '?'. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *c;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *jdate(int64_t t)
{
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return json_null();
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int scanner_findings_make(const struct scan_pkgs *pkgs, const uint32_t *layer, const char *release,
			  const struct scanner_errata *e, const char *const *layer_digests, size_t nlayers,
			  char **findings, char **ids)
{
	struct scan_findings f;
	json_t *arr = json_array(), *idarr = ids ? json_array() : NULL;
	const char **idv = NULL;
	size_t last_pkg = (size_t)-1, nid = 0;
	const void *last_ref = NULL;
	int rc = -BERTH_ENOMEM;

	*findings = NULL;
	if (ids)
		*ids = NULL;
	scan_findings_init(&f);
	if (!arr || (ids && !idarr))
		goto out;
	if (release && release[0] && e && e->naff) {
		/* the index built with the errata when it is for this release; a fresh sort otherwise */
		if (e->ix.release && strcmp(e->ix.release, release) == 0
			? scan_match_indexed(pkgs, &e->ix, &f) < 0
			: scan_match(pkgs, release, e->aff, e->naff, &f) < 0)
			goto out;
	}
	if (ids && f.n && !(idv = malloc(f.n * sizeof *idv)))
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		const struct scan_pkg *p = &pkgs->v[f.v[i].pkg];
		const struct scan_affected *a = &e->aff[f.v[i].affected];
		const struct meta_erratum *er = a->ref;
		json_t *o, *cves;
		uint32_t li = layer ? layer[f.v[i].pkg] : 0;

		/* one finding per advisory and package, even when several of its entries hit */
		if (f.v[i].pkg == last_pkg && er == last_ref)
			continue;
		last_pkg = f.v[i].pkg;
		last_ref = er;
		if (idv)
			idv[nid++] = er->id;
		o = json_object();
		cves = json_array();
		if (!o || !cves) {
			json_decref(o);
			json_decref(cves);
			goto out;
		}
		for (size_t c = 0; c < er->ncves; c++)
			json_array_append_new(cves, json_string(er->cves[c]));
		json_object_set_new(o, "advisory", json_string(er->id));
		json_object_set_new(o, "type", json_string(meta_erratum_type_name(er->type)));
		json_object_set_new(o, "severity", json_string(meta_severity_name(er->severity)));
		json_object_set_new(o, "issued", jdate(er->issued ? er->issued : er->first_seen));
		json_object_set_new(o, "issued_known", json_boolean(er->issued_known));
		json_object_set_new(o, "cves", cves);
		json_object_set_new(o, "package", jstr(p->name));
		json_object_set_new(o, "version", jstr(p->version));
		json_object_set_new(o, "source", jstr(p->source));
		json_object_set_new(o, "source_version", jstr(p->source_version));
		json_object_set_new(o, "fixed", a->fixed && a->fixed[0] ? json_string(a->fixed) : json_null());
		json_object_set_new(o, "layer",
				    layer_digests && li < nlayers ? json_string(layer_digests[li]) : json_null());
		json_object_set_new(o, "layer_index", json_integer(li));
		if (json_array_append_new(arr, o) < 0)
			goto out;
	}
	if (ids) {
		if (nid > 1)
			qsort(idv, nid, sizeof *idv, id_cmp);
		for (size_t i = 0; i < nid; i++)
			if ((i == 0 || strcmp(idv[i], idv[i - 1]) != 0) &&
			    json_array_append_new(idarr, json_string(idv[i])) < 0)
				goto out;
		*ids = json_dumps(idarr, JSON_COMPACT);
		if (!*ids)
			goto out;
	}
	*findings = json_dumps(arr, JSON_COMPACT);
	if (!*findings)
		goto out;
	rc = 0;
out:
	if (rc < 0 && ids) {
		free(*ids);
		*ids = NULL;
	}
	free(idv);
	scan_findings_release(&f);
	json_decref(arr);
	json_decref(idarr);
	return rc;
}

char *scanner_findings_json(const struct scan_pkgs *pkgs, const uint32_t *layer, const char *release,
			    const struct scanner_errata *e, const char *const *layer_digests, size_t nlayers)
{
	char *out = NULL;

	(void)scanner_findings_make(pkgs, layer, release, e, layer_digests, nlayers, &out, NULL);
	return out;
}

/* Loads the errata of release from the store. */
static int errata_load(struct meta *m, const char *release, struct scanner_errata *out)
{
	struct meta_errata_filter f = {.release = release, .severity = -1, .type = -1, .limit = -1};
	struct meta_erratum *v = NULL;
	size_t n = 0;
	int more = 0, rc;

	memset(out, 0, sizeof *out);
	rc = meta_errata_list(m, &f, &v, &n, &more);
	if (rc < 0)
		return rc;
	return scanner_errata_build(v, n, release, out);
}

/* ---- indexing ---- */

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	int fd = *(int *)ctx;

	for (;;) {
		ssize_t k = read(fd, buf, n);
		if (k >= 0)
			return k;
		if (errno != EINTR)
			return berth_from_errno(errno);
	}
}

/* Reads what is left of a pipe or socket and drops it: a streaming source checks its bytes only
 * after the last one was taken (the indexer stops at the tar's end, or early on a bad layer). A
 * regular file needs nothing of the kind. */
static void drain_fd(int fd)
{
	struct stat st;
	char chunk[65536];

	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode))
		return;
	for (;;) {
		ssize_t k = read(fd, chunk, sizeof chunk);
		if (k == 0 || (k < 0 && errno != EINTR))
			return;
	}
}

/* Indexes one layer read from fd (read to its end and closed here) within the image budget *left. */
static int index_fd(int fd, const struct scanner_opts *o, uint64_t *left, struct scan_layer *l, char *why, size_t whyn)
{
	struct scan_index_limits lim = {0};
	uint64_t per = o->max_layer_bytes ? o->max_layer_bytes : (uint64_t)16 << 30;
	int rc;

	lim.max_out = per < *left ? per : *left;
	if (lim.max_out == 0)
		lim.max_out = 1;
	lim.tmpdir = o->tmpdir;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = scan_layer_index(fd_read, &fd, &lim, l, why, whyn);
	drain_fd(fd);
	close(fd);
	return rc;
}

int scanner_image_local(const struct scanner_layers *l, const struct scanner_opts *o, struct scan_image *im, char *why,
			size_t whyn)
{
	size_t nlayers = l->n;
	struct scan_layer *ls = calloc(nlayers ? nlayers : 1, sizeof *ls);
	const struct scan_layer **pl = calloc(nlayers ? nlayers : 1, sizeof *pl);
	uint64_t left = o->max_image_bytes ? o->max_image_bytes : (uint64_t)64 << 30;
	char iwhy[400];
	int rc = 0;

	scan_image_init(im);
	if (!ls || !pl) {
		rc = -BERTH_ENOMEM;
		snprintf(why, whyn, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nlayers; i++) {
		int fd = -1, irc;

		iwhy[0] = '\0';
		why[0] = '\0';
		rc = l->open(l->ctx, i, &fd, why, whyn);
		if (rc < 0) {
			if (!why[0])
				snprintf(why, whyn, "layer %zu: %s", i, berth_strerror(rc));
			goto out;
		}
		irc = index_fd(fd, o, &left, &ls[i], iwhy, sizeof iwhy);
		/* the source's verdict on its bytes comes before anything the indexer made of them */
		rc = l->done ? l->done(l->ctx, i, why, whyn) : 0;
		if (rc < 0) {
			if (!why[0])
				snprintf(why, whyn, "layer %zu: %s", i, berth_strerror(rc));
			goto out;
		}
		if (irc == -BERTH_ENOMEM) {
			rc = irc;
			snprintf(why, whyn, "out of memory");
			goto out;
		}
		if (irc < 0) {
			im->status = SCAN_FAILED;
			snprintf(im->why, sizeof im->why, "layer %zu: %s", i, iwhy[0] ? iwhy : berth_strerror(irc));
			goto out;
		}
		left -= ls[i].out_bytes < left ? ls[i].out_bytes : left;
		pl[i] = &ls[i];
	}
	rc = scan_image_build(pl, nlayers, im);
	if (rc < 0)
		snprintf(why, whyn, "%s", berth_strerror(rc));
out:
	for (size_t i = 0; ls && i < nlayers; i++)
		scan_layer_release(&ls[i]);
	free(ls);
	free(pl);
	if (rc < 0) {
		scan_image_release(im);
		scan_image_init(im);
	}
	return rc;
}

/* ---- the worker ---- */

/* Stores a scan that ended without packages (unsupported or failed before stacking). */
static int store_simple(struct scanner *s, const struct digest *d, const char *status, const char *why)
{
	struct meta_scan ms = {0};
	int rc;

	ms.digest = *d;
	ms.status = (char *)status;
	ms.why = (char *)why;
	ms.layers = (char *)"[]";
	ms.generation = -1;
	atomic_fetch_add(&s->images_scanned, 1);
	rc = meta_scan_put(s->meta, &ms);
	grading_invalidate(registry_grading(s->reg));
	return rc;
}

/* Gets layer d's index from the store, indexing the blob when it was never indexed. A failed layer
 * gives -BERTH_EINVAL with why. */
static int layer_get(struct scanner *s, const char *repo, const struct digest *d, uint64_t *left, struct scan_layer *l,
		     char *why, size_t whyn)
{
	void *blob = NULL;
	size_t n = 0;
	char *stored_why = NULL, dstr[DIGEST_STR_MAX];
	struct buf b;
	struct reg_err e;
	int fd = -1, rc;

	scan_layer_init(l);
	rc = meta_scan_layer_get(s->meta, d, &blob, &n, &stored_why);
	if (rc == 0) {
		if (stored_why) {
			snprintf(why, whyn, "layer %s: %s", digest_str(d, dstr), stored_why);
			rc = -BERTH_EINVAL;
		} else {
			rc = scan_layer_decode(blob, n, l);
			if (rc == -BERTH_EINVAL)
				snprintf(why, whyn, "layer %s: stored index is damaged", digest_str(d, dstr));
		}
		free(blob);
		free(stored_why);
		if (rc == 0)
			*left -= l->out_bytes < *left ? l->out_bytes : *left;
		return rc;
	}
	if (rc != -BERTH_ENOENT)
		return rc;
	{
		uint64_t size = 0;
		rc = registry_blob_open(s->reg, repo, d, &fd, &size, &e);
	}
	if (rc < 0) {
		snprintf(why, whyn, "layer %s: %s", digest_str(d, dstr), e.msg);
		return -BERTH_EINVAL; /* not stored: the blob may come back */
	}
	{
		char iwhy[400] = "";
		rc = index_fd(fd, &s->o, left, l, iwhy, sizeof iwhy);
		atomic_fetch_add(&s->layers_indexed, 1);
		if (rc == -BERTH_ENOMEM)
			return rc;
		if (rc < 0) {
			snprintf(why, whyn, "layer %s: %s", digest_str(d, dstr), iwhy[0] ? iwhy : berth_strerror(rc));
			/* bad content is a property of the digest: remember it (not an I/O error though) */
			if (rc != -BERTH_EIO)
				meta_scan_layer_put(s->meta, d, NULL, 0, iwhy[0] ? iwhy : berth_strerror(rc));
			return -BERTH_EINVAL;
		}
	}
	*left -= l->out_bytes < *left ? l->out_bytes : *left;
	buf_init(&b, BUF_UNLIMITED);
	rc = scan_layer_encode(l, &b);
	if (rc == 0)
		rc = meta_scan_layer_put(s->meta, d, b.ptr, b.len, NULL);
	buf_release(&b);
	return rc;
}

/* Scans one queued manifest and stores the result. */
static int scan_job(struct scanner *s, const struct meta_scan_job *job)
{
	struct meta_manifest mf = {0};
	struct manifest m = {0};
	struct scan_layer *ls = NULL;
	const struct scan_layer **pl = NULL;
	struct scan_image im;
	struct scanner_errata er = {0};
	struct meta_scan ms = {0};
	struct buf pk;
	json_t *ldig = NULL;
	char why[512] = "", **dstrs = NULL, *old_ids = NULL;
	size_t nl = 0;
	uint64_t left = s->o.max_image_bytes ? s->o.max_image_bytes : (uint64_t)64 << 30;
	int64_t gen = 0;
	int rc, parsed = 0;

	scan_image_init(&im);
	buf_init(&pk, BUF_UNLIMITED);
	rc = meta_manifest_get(s->meta, job->repo, &job->digest, 1, &mf);
	if (rc == -BERTH_ENOENT) { /* deleted before it was scanned */
		rc = store_simple(s, &job->digest, "failed", "manifest deleted before it was scanned");
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = manifest_parse(mf.body, mf.size, mf.media_type, &m, why, sizeof why);
	if (rc < 0) {
		rc = store_simple(s, &job->digest, "failed", why);
		goto out;
	}
	parsed = 1;
	if (m.kind == MANIFEST_INDEX) {
		/* an index is reported through its children, which are queued on their own */
		rc = store_simple(s, &job->digest, "scanned", NULL);
		goto out;
	}
	if (!m.artifact_type || (strcmp(m.artifact_type, MT_OCI_CONFIG) && strcmp(m.artifact_type, MT_DOCKER_CONFIG))) {
		snprintf(why, sizeof why, "not a container image (%s)",
			 m.artifact_type ? m.artifact_type : "no config");
		rc = store_simple(s, &job->digest, "unsupported", why);
		goto out;
	}
	nl = m.nblobs ? m.nblobs - 1 : 0;
	ls = calloc(nl + 1, sizeof *ls);
	pl = calloc(nl + 1, sizeof *pl);
	dstrs = calloc(nl + 1, sizeof *dstrs);
	ldig = json_array();
	if (!ls || !pl || !dstrs || !ldig) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nl; i++) {
		char d[DIGEST_STR_MAX];
		dstrs[i] = strdup(digest_str(&m.blobs[i + 1], d));
		if (!dstrs[i]) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
		json_array_append_new(ldig, json_string(dstrs[i]));
	}
	for (size_t i = 0; i < nl; i++) {
		rc = layer_get(s, job->repo, &m.blobs[i + 1], &left, &ls[i], why, sizeof why);
		if (rc == -BERTH_EINVAL) {
			im.status = SCAN_FAILED;
			snprintf(im.why, sizeof im.why, "%s", why);
			break;
		}
		if (rc < 0)
			goto out;
		if (left == 0) {
			im.status = SCAN_FAILED;
			snprintf(im.why, sizeof im.why, "the image inflates to more than scan.max_image_bytes (%llu)",
				 (unsigned long long)s->o.max_image_bytes);
			break;
		}
		pl[i] = &ls[i];
	}
	if (im.status != SCAN_FAILED) {
		rc = scan_image_build(pl, nl, &im);
		if (rc < 0)
			goto out;
	}
	ms.digest = job->digest;
	ms.status = (char *)scan_status_name(im.status);
	ms.why = im.why[0] ? im.why : NULL;
	ms.os = im.os.release[0] ? im.os.release : (im.os.distro[0] ? im.os.distro : NULL);
	ms.pretty = im.os.pretty[0] ? im.os.pretty : NULL;
	ms.layers = json_dumps(ldig, JSON_COMPACT);
	ms.generation = -1;
	if (!ms.layers) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	rc = scan_pkgs_encode(&im.pkgs, im.layer, &pk);
	if (rc < 0)
		goto out;
	ms.packages = pk.ptr;
	ms.packages_len = pk.len;
	if (im.status == SCAN_SCANNED) {
		rc = meta_errata_generation(s->meta, &gen);
		if (rc == 0)
			rc = errata_load(s->meta, im.os.release, &er);
		if (rc < 0)
			goto out;
		ms.findings =
		    scanner_findings_json(&im.pkgs, im.layer, im.os.release, &er, (const char *const *)dstrs, nl);
		if (!ms.findings) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
		ms.generation = gen;
	}
	{
		struct meta_scan old = {0};
		if (meta_scan_get(s->meta, &job->digest, &old) == 0 && old.findings)
			(void)events_advisory_ids(old.findings, &old_ids); /* a damaged old row counts as none */
		meta_scan_release(&old);
	}
	rc = meta_scan_put(s->meta, &ms);
	if (rc == 0) {
		struct grade_rules tmp;
		atomic_fetch_add(&s->images_scanned, 1);
		grading_invalidate(registry_grading(s->reg));
		/* after the commit, as documented for such rows; a failure to journal does not undo the scan */
		if (events_scan_append(s->meta, job->repo, &job->digest, NULL, ms.status, ms.os, old_ids, ms.findings,
				       NULL) < 0)
			atomic_fetch_add(&s->events_failed, 1);
		if (events_grade_one(rules_of(s, &tmp), s->meta, job->repo, &job->digest, NULL, grade_day_today(),
				     NULL) < 0)
			atomic_fetch_add(&s->events_failed, 1);
	}
out:
	free(old_ids);
	free(ms.layers);
	free(ms.findings);
	scanner_errata_release(&er);
	buf_release(&pk);
	for (size_t i = 0; i < nl; i++) {
		if (ls)
			scan_layer_release(&ls[i]);
		if (dstrs)
			free(dstrs[i]);
	}
	free(ls);
	free(pl);
	free(dstrs);
	json_decref(ldig);
	scan_image_release(&im);
	if (parsed)
		manifest_release(&m);
	meta_manifest_release(&mf);
	return rc;
}

/* Lowers the calling thread's priority: scans must not slow pushes and pulls. */
static void thread_background(void)
{
	struct sched_param sp = {0};
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)sched_setscheduler(tid, SCHED_BATCH, &sp);
	(void)setpriority(PRIO_PROCESS, (id_t)tid, 10);
}

/* Waits until woken, stopped, or poll_ms passed. Returns 1 when stopping. */
static int nap(struct scanner *s, unsigned *seen)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += s->o.poll_ms / 1000;
	ts.tv_nsec += (long)(s->o.poll_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->stop && s->wakes == *seen)
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	*seen = s->wakes;
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static int stopping(struct scanner *s)
{
	int stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Scans yield to pushes: while manifests keep arriving (one less than SCAN_QUIET_MS ago) a worker
 * waits, so a burst of pushes does not share the CPU and the database's write lock with indexing;
 * after SCAN_MAX_DEFER_MS of waiting it scans anyway, so steady traffic cannot starve the queue. */
#define SCAN_QUIET_MS 200
#define SCAN_MAX_DEFER_MS 5000

static void *worker(void *arg)
{
	struct scanner *s = arg;
	unsigned seen = 0;
	int64_t deferring_since = 0;

	thread_background();
	while (!stopping(s)) {
		struct meta_scan_job job;
		int64_t now = time_now_ms();
		int rc;

		if (now - atomic_load(&s->last_wake_ms) < SCAN_QUIET_MS) {
			if (!deferring_since)
				deferring_since = now;
			if (now - deferring_since < SCAN_MAX_DEFER_MS) {
				struct timespec ts = {0, 50 * 1000000L};

				nanosleep(&ts, NULL);
				continue;
			}
		}
		deferring_since = 0;
		rc = meta_scan_claim(s->meta, &job);

		if (rc == 0) {
			rc = scan_job(s, &job);
			if (rc < 0) {
				char why[160];
				snprintf(why, sizeof why, "scan failed: %s", berth_strerror(rc));
				store_simple(s, &job.digest, "failed", why);
			}
			continue;
		}
		if (nap(s, &seen))
			break;
	}
	return NULL;
}

/* ---- re-matching ---- */

/* The rows a re-match works on. Per row: the findings stored before (to tell whether anything
 * changed without parsing them) and, after matching, the new findings' advisory ids. */
struct stale_row {
	struct meta_scan s;
	char *old_findings;
	char *new_ids;
};

struct stale {
	struct stale_row *v;
	size_t n, cap;
};

static void stale_row_release(struct stale_row *r)
{
	meta_scan_release(&r->s);
	free(r->old_findings);
	free(r->new_ids);
	memset(r, 0, sizeof *r);
}

static int stale_collect(void *ctx, const struct meta_scan *ms)
{
	struct stale *st = ctx;
	struct stale_row *r;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		struct stale_row *v = realloc(st->v, cap * sizeof *v);
		if (!v)
			return -BERTH_ENOMEM;
		st->v = v;
		st->cap = cap;
	}
	r = &st->v[st->n++];
	memset(r, 0, sizeof *r);
	r->s.digest = ms->digest;
	r->s.os = ms->os ? strdup(ms->os) : NULL;
	r->s.layers = ms->layers ? strdup(ms->layers) : NULL;
	r->old_findings = ms->findings ? strdup(ms->findings) : NULL;
	if (ms->packages_len) {
		r->s.packages = malloc(ms->packages_len);
		if (r->s.packages)
			memcpy(r->s.packages, ms->packages, ms->packages_len);
		r->s.packages_len = ms->packages_len;
	}
	if ((ms->os && !r->s.os) || (ms->layers && !r->s.layers) || (ms->findings && !r->old_findings) ||
	    (ms->packages_len && !r->s.packages))
		return -BERTH_ENOMEM;
	return 0;
}

static int row_os_cmp(const void *a, const void *b)
{
	const struct stale_row *x = a, *y = b;
	return strcmp(x->s.os ? x->s.os : "", y->s.os ? y->s.os : "");
}

/* Journals "scan" for the rows of st whose advisory ids changed (after their findings are stored).
 * A row whose findings text is the same as before has the same ids: only the others are compared. */
static int stale_journal(struct meta *m, struct stale *st)
{
	struct events_change *v = calloc(st->n + 1, sizeof *v);
	char **old = calloc(st->n + 1, sizeof *old);
	size_t k = 0;
	int rc;

	if (!v || !old) {
		free(v);
		free(old);
		return -BERTH_ENOMEM;
	}
	for (size_t i = 0; i < st->n; i++) {
		struct stale_row *r = &st->v[i];

		if (!r->new_ids || (r->old_findings && strcmp(r->old_findings, r->s.findings) == 0))
			continue;
		if (r->old_findings)
			(void)events_advisory_ids(r->old_findings, &old[k]); /* damaged: as none */
		/* only manifests whose id set changed go to the tag walk */
		if (strcmp(r->new_ids, old[k] ? old[k] : "[]") != 0) {
			digest_str(&r->s.digest, v[k].digest);
			v[k].old_ids = old[k];
			v[k].os = r->s.os;
			v[k].findings = r->s.findings;
			k++;
		} else {
			free(old[k]);
			old[k] = NULL;
		}
	}
	rc = events_rematch_journal(m, v, k, NULL);
	for (size_t i = 0; i < k; i++)
		free(old[i]);
	free(old);
	free(v);
	return rc;
}

/* Layer digests of a stored scan's layers JSON. */
static char **layer_list(const char *text, size_t *n)
{
	json_t *j = json_loads(text ? text : "[]", 0, NULL);
	char **v = NULL;

	*n = 0;
	if (!json_is_array(j))
		goto out;
	v = calloc(json_array_size(j) + 1, sizeof *v);
	if (!v)
		goto out;
	for (size_t i = 0; i < json_array_size(j); i++) {
		const char *s = json_string_value(json_array_get(j, i));
		v[i] = strdup(s ? s : "");
		if (!v[i])
			break;
		(*n)++;
	}
out:
	json_decref(j);
	return v;
}

/* One thread's share of a re-match: findings for v[0..n), which are sorted by release so the errata
 * of one release are loaded (and indexed) once per run of equal releases. */
struct rematch_part {
	struct meta *m;
	struct stale_row *v;
	size_t n;
	int64_t gen;
	int rc;
	pthread_t thread;
};

static void *rematch_part_run(void *arg)
{
	struct rematch_part *p = arg;
	struct scanner_errata er = {0};
	const char *er_release = NULL;

	p->rc = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct stale_row *r = &p->v[i];
		struct meta_scan *ms = &r->s;
		struct scan_pkgs pk;
		uint32_t *lv = NULL;
		char **ld;
		size_t nld = 0;

		if (!ms->os)
			continue;
		if (!er_release || strcmp(er_release, ms->os) != 0) {
			scanner_errata_release(&er);
			p->rc = errata_load(p->m, ms->os, &er);
			if (p->rc < 0)
				break;
			er_release = ms->os;
		}
		scan_pkgs_init(&pk);
		if (ms->packages && scan_pkgs_decode(ms->packages, ms->packages_len, &pk, &lv) < 0) {
			scan_pkgs_release(&pk);
			continue; /* a damaged row keeps its old findings */
		}
		ld = layer_list(ms->layers, &nld);
		p->rc = scanner_findings_make(&pk, lv, ms->os, &er, (const char *const *)ld, nld, &ms->findings,
					      &r->new_ids);
		ms->generation = p->gen;
		for (size_t k = 0; ld && k < nld; k++)
			free(ld[k]);
		free(ld);
		free(lv);
		scan_pkgs_release(&pk);
		if (p->rc < 0)
			break;
	}
	scanner_errata_release(&er);
	return NULL;
}

#define REMATCH_MAX_THREADS 4
#define REMATCH_MIN_PER_THREAD 256

int scanner_rematch_all(struct meta *m, int64_t gen, uint64_t *count)
{
	struct stale st = {0};
	struct rematch_part parts[REMATCH_MAX_THREADS];
	struct meta_scan *put = NULL;
	size_t nparts = 1, started = 0, k = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	*count = 0;
	rc = meta_scan_each_stale(m, gen, stale_collect, &st);
	if (rc < 0)
		goto out;
	if (st.n > 1)
		qsort(st.v, st.n, sizeof *st.v, row_os_cmp);
	/* Matching is CPU work on rows already in memory: split it across the cores (each part loads the
	 * errata of its own releases), then write everything back in one transaction. */
	while (nparts < REMATCH_MAX_THREADS && (long)nparts < ncpu && st.n / (nparts + 1) >= REMATCH_MIN_PER_THREAD)
		nparts++;
	for (size_t i = 0; i < nparts; i++) {
		size_t from = st.n * i / nparts, to = st.n * (i + 1) / nparts;

		parts[i] = (struct rematch_part){m, st.v + from, to - from, gen, 0, 0};
	}
	for (size_t i = 1; i < nparts; i++) {
		if (pthread_create(&parts[i].thread, NULL, rematch_part_run, &parts[i]) != 0)
			break;
		started = i;
	}
	rematch_part_run(&parts[0]);
	for (size_t i = started + 1; i < nparts; i++)
		rematch_part_run(&parts[i]); /* a thread that could not start: its share runs here */
	for (size_t i = 1; i <= started; i++)
		pthread_join(parts[i].thread, NULL);
	for (size_t i = 0; i < nparts && rc == 0; i++)
		rc = parts[i].rc;
	if (rc < 0)
		goto out;
	/* one transaction for all of them: a reader sees the old findings or the new, never a mix */
	put = calloc(st.n + 1, sizeof *put);
	if (!put) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < st.n; i++)
		if (st.v[i].s.findings)
			put[k++] = st.v[i].s; /* shallow: the rows still own their strings */
	rc = meta_scan_findings_put(m, put, k);
	if (rc == 0) {
		*count = k;
		/* after the commit; a failure to journal does not undo the re-match */
		if (stale_journal(m, &st) < 0)
			rc = 1; /* stored, but not every row journaled: the caller counts it */
	}
out:
	free(put);
	for (size_t i = 0; i < st.n; i++)
		stale_row_release(&st.v[i]);
	free(st.v);
	return rc;
}

static void *rematcher(void *arg)
{
	struct scanner *s = arg;
	unsigned seen = 0;

	thread_background();
	do {
		int64_t gen = 0;
		uint64_t n = 0;

		int check = 0;

		int rrc = -1;

		if (meta_errata_generation(s->meta, &gen) == 0 && gen != atomic_load(&s->generation))
			rrc = scanner_rematch_all(s->meta, gen, &n);
		if (rrc > 0)
			atomic_fetch_add(&s->events_failed, 1);
		if (rrc >= 0) {
			atomic_fetch_add(&s->rematched, n);
			atomic_store(&s->generation, gen);
			grading_invalidate(registry_grading(s->reg));
			check = 1;
		}
		/* grades also drop with time alone: every grade_check_ms (and once at start) */
		if (s->o.grade_check_ms >= 0 && time_now_ms() - s->grade_checked_ms >= s->o.grade_check_ms)
			check = 1;
		if (check) {
			struct grade_rules tmp;
			uint64_t j = 0;
			s->grade_checked_ms = time_now_ms();
			if (events_grade_check(rules_of(s, &tmp), s->meta, grade_day_today(), &j) < 0)
				atomic_fetch_add(&s->events_failed, 1);
			atomic_fetch_add(&s->grade_events, j);
		}
	} while (!nap(s, &seen));
	return NULL;
}

/* ---- lifecycle ---- */

int scanner_start(struct registry *r, const struct scanner_opts *o, struct scanner **out)
{
	struct scanner *s = calloc(1, sizeof *s);
	int rc = 0;

	*out = NULL;
	if (!s)
		return -BERTH_ENOMEM;
	s->reg = r;
	s->meta = registry_meta(r);
	if (o)
		s->o = *o;
	if (s->o.workers <= 0)
		s->o.workers = 2;
	if (s->o.poll_ms <= 0)
		s->o.poll_ms = 500;
	atomic_store(&s->generation, -1);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	rc = meta_scan_requeue(s->meta);
	if (rc < 0)
		goto fail;
	s->threads = calloc((size_t)s->o.workers, sizeof *s->threads);
	if (!s->threads) {
		rc = -BERTH_ENOMEM;
		goto fail;
	}
	for (int i = 0; i < s->o.workers; i++) {
		if (pthread_create(&s->threads[i], NULL, worker, s) != 0) {
			rc = -BERTH_ENOMEM;
			goto fail;
		}
		s->nthreads++;
	}
	if (pthread_create(&s->rematch, NULL, rematcher, s) != 0) {
		rc = -BERTH_ENOMEM;
		goto fail;
	}
	s->rematch_ok = 1;
	*out = s;
	return 0;
fail:
	scanner_stop(s);
	return rc;
}

void scanner_stop(struct scanner *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	if (s->rematch_ok)
		pthread_join(s->rematch, NULL);
	free(s->threads);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void scanner_wake(struct scanner *s)
{
	if (!s)
		return;
	atomic_store(&s->last_wake_ms, time_now_ms());
	pthread_mutex_lock(&s->lock);
	s->wakes++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void scanner_stats_get(struct scanner *s, struct scanner_stats *st)
{
	memset(st, 0, sizeof *st);
	if (!s)
		return;
	st->layers_indexed = atomic_load(&s->layers_indexed);
	st->images_scanned = atomic_load(&s->images_scanned);
	st->rematched = atomic_load(&s->rematched);
	st->grade_events = atomic_load(&s->grade_events);
	st->events_failed = atomic_load(&s->events_failed);
	st->generation = atomic_load(&s->generation);
}

/* ---- report ---- */

char *scanner_report_json(const struct meta_scan *s)
{
	json_t *o = json_object(), *pkgs = json_array(), *fnd = NULL, *layers = NULL;
	struct scan_pkgs pk;
	uint32_t *lv = NULL;
	char d[DIGEST_STR_MAX], *out = NULL;
	size_t nld = 0;

	scan_pkgs_init(&pk);
	if (!o || !pkgs)
		goto out;
	layers = json_loads(s->layers ? s->layers : "[]", 0, NULL);
	if (!json_is_array(layers))
		goto out;
	nld = json_array_size(layers);
	if (s->packages && scan_pkgs_decode(s->packages, s->packages_len, &pk, &lv) < 0)
		goto out;
	for (size_t i = 0; i < pk.n; i++) {
		json_t *p = json_object();
		uint32_t li = lv ? lv[i] : 0;
		if (!p)
			goto out;
		json_object_set_new(p, "name", jstr(pk.v[i].name));
		json_object_set_new(p, "version", jstr(pk.v[i].version));
		json_object_set_new(p, "arch", jstr(pk.v[i].arch));
		json_object_set_new(p, "source", jstr(pk.v[i].source));
		json_object_set_new(p, "source_version", jstr(pk.v[i].source_version));
		json_object_set_new(p, "ecosystem", json_string(scan_eco_name(pk.v[i].eco)));
		json_object_set_new(p, "layer", li < nld ? json_incref(json_array_get(layers, li)) : json_null());
		json_object_set_new(p, "layer_index", json_integer(li));
		json_array_append_new(pkgs, p);
	}
	fnd = s->findings ? json_loads(s->findings, 0, NULL) : json_array();
	if (!fnd)
		goto out;
	json_object_set_new(o, "digest", json_string(digest_str(&s->digest, d)));
	json_object_set_new(o, "status", json_string(s->status ? s->status : "failed"));
	json_object_set_new(o, "reason", s->why ? jstr(s->why) : json_null());
	json_object_set_new(o, "os", s->os ? jstr(s->os) : json_null());
	json_object_set_new(o, "os_pretty", s->pretty ? jstr(s->pretty) : json_null());
	json_object_set_new(o, "layers", json_incref(layers));
	json_object_set_new(o, "packages", pkgs);
	pkgs = NULL;
	json_object_set_new(o, "findings", fnd);
	fnd = NULL;
	json_object_set_new(o, "errata_generation", s->generation >= 0 ? json_integer(s->generation) : json_null());
	json_object_set_new(o, "updated", jdate(s->updated));
	out = json_dumps(o, JSON_COMPACT);
out:
	json_decref(o);
	json_decref(pkgs);
	json_decref(fnd);
	json_decref(layers);
	free(lv);
	scan_pkgs_release(&pk);
	return out;
}

/* ---- offline scans ---- */

/* Imports errata files into m; any file that does not parse fails the scan (a CI step must not
 * pass on half its advisories). */
static int scanner__import(struct meta *m, const char *const *paths, size_t n, char *why, size_t whyn)
{
	struct errata_import rep;
	int rc;

	errata_import_init(&rep);
	rc = errata_import_paths(m, paths, n, ERRATA_FORMAT_AUTO, &rep);
	if (rc < 0)
		snprintf(why, whyn, "importing errata: %s", berth_strerror(rc));
	for (size_t i = 0; rc == 0 && i < rep.n; i++)
		if (rep.src[i].failed || rep.src[i].files == 0) {
			snprintf(why, whyn, "%s: %s", rep.src[i].name,
				 rep.src[i].errors ? rep.src[i].errors : "no advisory file could be read");
			why[strcspn(why, "\n")] = '\0';
			rc = -BERTH_EINVAL;
		}
	errata_import_release(&rep);
	return rc;
}

int scanner_scan_offline(const struct scanner_layers *l, const char *const *errata, size_t nerrata,
			 const struct scanner_opts *o, char **report, char *why, size_t whyn)
{
	char tmpl[4096], dbpath[4200];
	const char *tmpdir = o && o->tmpdir ? o->tmpdir : getenv("TMPDIR");
	struct meta *m = NULL;
	struct scan_image im;
	struct scanner_errata er = {0};
	struct meta_scan ms = {0};
	struct buf pk;
	json_t *ldig = json_array();
	int rc, have_dir = 0;

	*report = NULL;
	scan_image_init(&im);
	buf_init(&pk, BUF_UNLIMITED);
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	snprintf(tmpl, sizeof tmpl, "%s/berth-scan-XXXXXX", tmpdir);
	if (!mkdtemp(tmpl)) {
		rc = berth_from_errno(errno);
		snprintf(why, whyn, "cannot create a temporary directory in %s: %s", tmpdir, strerror(errno));
		goto out;
	}
	have_dir = 1;
	snprintf(dbpath, sizeof dbpath, "sqlite:%s/errata.db", tmpl);
	rc = meta_open(dbpath, &m);
	if (rc < 0) {
		snprintf(why, whyn, "temporary errata store: %s", berth_strerror(rc));
		goto out;
	}
	rc = scanner__import(m, errata, nerrata, why, whyn);
	if (rc < 0)
		goto out;
	rc = scanner_image_local(l, o ? o : &(struct scanner_opts){0}, &im, why, whyn);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(ldig, json_string(l->digests && l->digests[i] ? l->digests[i] : ""));
	ms.status = (char *)scan_status_name(im.status);
	ms.why = im.why[0] ? im.why : NULL;
	ms.os = im.os.release[0] ? im.os.release : (im.os.distro[0] ? im.os.distro : NULL);
	ms.pretty = im.os.pretty[0] ? im.os.pretty : NULL;
	ms.layers = json_dumps(ldig, JSON_COMPACT);
	ms.generation = -1;
	ms.updated = (int64_t)time(NULL);
	rc = ms.layers ? scan_pkgs_encode(&im.pkgs, im.layer, &pk) : -BERTH_ENOMEM;
	if (rc < 0)
		goto out;
	ms.packages = pk.ptr;
	ms.packages_len = pk.len;
	if (im.status == SCAN_SCANNED) {
		char **ld;
		size_t nld = 0;
		rc = meta_errata_generation(m, &ms.generation);
		if (rc == 0)
			rc = errata_load(m, im.os.release, &er);
		if (rc < 0)
			goto out;
		ld = layer_list(ms.layers, &nld);
		ms.findings =
		    scanner_findings_json(&im.pkgs, im.layer, im.os.release, &er, (const char *const *)ld, nld);
		for (size_t k = 0; ld && k < nld; k++)
			free(ld[k]);
		free(ld);
		if (!ms.findings) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
	}
	*report = scanner_report_json(&ms);
	rc = *report ? 0 : -BERTH_ENOMEM;
out:
	free(ms.layers);
	free(ms.findings);
	json_decref(ldig);
	buf_release(&pk);
	scanner_errata_release(&er);
	scan_image_release(&im);
	meta_free(m);
	if (have_dir) {
		char p[4300];
		const char *sfx[] = {"errata.db", "errata.db-wal", "errata.db-shm", "errata.db-journal"};
		for (size_t i = 0; i < 4; i++) {
			snprintf(p, sizeof p, "%s/%s", tmpl, sfx[i]);
			unlink(p);
		}
		rmdir(tmpl);
	}
	return rc;
}

char *scanner_report_table(const char *report_json)
{
	json_t *j = json_loads(report_json, 0, NULL), *f;
	struct buf b;
	size_t i;
	char *out = NULL;

	if (!json_is_object(j))
		goto done;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "status:   %s\n", json_string_value(json_object_get(j, "status")));
	if (json_string_value(json_object_get(j, "reason")))
		buf_addf(&b, "reason:   %s\n", json_string_value(json_object_get(j, "reason")));
	if (json_string_value(json_object_get(j, "os")))
		buf_addf(&b, "os:       %s\n", json_string_value(json_object_get(j, "os")));
	buf_addf(&b, "packages: %zu\n", json_array_size(json_object_get(j, "packages")));
	buf_addf(&b, "findings: %zu\n", json_array_size(json_object_get(j, "findings")));
	if (json_array_size(json_object_get(j, "findings"))) {
		buf_addf(&b, "\n%-18s %-10s %-28s %-28s %-28s %s\n", "ADVISORY", "SEVERITY", "PACKAGE", "INSTALLED",
			 "FIXED", "LAYER");
		json_array_foreach(json_object_get(j, "findings"), i, f)
		{
			const char *fixed = json_string_value(json_object_get(f, "fixed"));
			buf_addf(&b, "%-18s %-10s %-28s %-28s %-28s %lld\n",
				 json_string_value(json_object_get(f, "advisory")),
				 json_string_value(json_object_get(f, "severity")),
				 json_string_value(json_object_get(f, "package")),
				 json_string_value(json_object_get(f, "version")), fixed ? fixed : "(none)",
				 (long long)json_integer_value(json_object_get(f, "layer_index")));
		}
	}
	out = buf_detach(&b, NULL);
done:
	json_decref(j);
	return out;
}
