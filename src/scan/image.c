/* image: stack layer index results into an image's release and attributed package list (image.h). */
#include "scan/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const char *const status_names[] = {"queued", "scanned", "unsupported", "failed"};

const char *scan_status_name(enum scan_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "unknown";
}

int scan_status_parse(const char *s, enum scan_status *out)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, status_names[i]) == 0) {
			*out = (enum scan_status)i;
			return 0;
		}
	return -BERTH_EINVAL;
}

void scan_image_init(struct scan_image *im)
{
	memset(im, 0, sizeof *im);
	scan_pkgs_init(&im->pkgs);
}

void scan_image_release(struct scan_image *im)
{
	scan_pkgs_release(&im->pkgs);
	free(im->layer);
	scan_image_init(im);
}

/* The merged file system view of the watched paths: which layer record each path now has. */
struct slot {
	const struct scan_lf *f;
	size_t layer;
};

struct view {
	struct slot *v;
	size_t n, cap;
};

static int under(const char *path, const char *dir)
{
	size_t dl = strlen(dir);

	if (dl == 0)
		return 1;
	return strncmp(path, dir, dl) == 0 && path[dl] == '/';
}

static void view_drop(struct view *w, const char *path, int self)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->v[i].f->path;
		if ((self && strcmp(p, path) == 0) || under(p, path))
			continue;
		w->v[k++] = w->v[i];
	}
	w->n = k;
}

static int view_set(struct view *w, const struct scan_lf *f, size_t layer)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].f->path, f->path) == 0) {
			w->v[i].f = f;
			w->v[i].layer = layer;
			return 0;
		}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct slot *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return -BERTH_ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].f = f;
	w->v[w->n].layer = layer;
	w->n++;
	return 0;
}

static const struct scan_lf *view_get(const struct view *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].f->path, path) == 0)
			return w->v[i].f;
	return NULL;
}

/* Lexically resolves target against the directory of from into out ("a/b/../c" -> "a/c"; ".." above the
 * root stays at the root, as in a chroot). 0 or -BERTH_ETOOBIG. */
static int resolve_path(const char *from, const char *target, int hard, char *out, size_t outn)
{
	char tmp[8192];
	size_t len = 0;
	const char *s;

	if (hard || target[0] == '/') {
		if (snprintf(tmp, sizeof tmp, "%s", target) >= (int)sizeof tmp)
			return -BERTH_ETOOBIG;
	} else {
		const char *slash = strrchr(from, '/');
		int dl = slash ? (int)(slash - from) : 0;
		if (snprintf(tmp, sizeof tmp, "%.*s/%s", dl, from, target) >= (int)sizeof tmp)
			return -BERTH_ETOOBIG;
	}
	out[0] = '\0';
	s = tmp;
	while (*s) {
		const char *e;
		size_t cl;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		cl = e ? (size_t)(e - s) : strlen(s);
		if (cl == 1 && s[0] == '.') {
			/* nothing */
		} else if (cl == 2 && s[0] == '.' && s[1] == '.') {
			char *last = strrchr(out, '/');
			len = last ? (size_t)(last - out) : 0;
			out[len] = '\0';
		} else {
			if (len + cl + 2 > outn)
				return -BERTH_ETOOBIG;
			if (len)
				out[len++] = '/';
			memcpy(out + len, s, cl);
			len += cl;
			out[len] = '\0';
		}
		s += cl;
	}
	return 0;
}

/* The regular file that path is in the view, following up to 16 links; NULL when absent. */
static const struct scan_lf *view_file(const struct view *w, const char *path)
{
	char cur[4096], next[4096];
	const struct scan_lf *f;

	if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
		return NULL;
	for (int hops = 0; hops < 16; hops++) {
		f = view_get(w, cur);
		if (!f || f->op == SCAN_LF_PUT)
			return f;
		if (f->op != SCAN_LF_LINK || resolve_path(cur, f->link, f->hard, next, sizeof next) < 0)
			return NULL;
		memcpy(cur, next, sizeof cur);
	}
	return NULL;
}

static const char *const rpm_paths[] = {
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages",
};

/* Reads the package databases present in the view into out. On a malformed database the failure
 * is returned (-BERTH_EINVAL / -BERTH_ETOOBIG) with why; out then holds what else was read. */
static int view_pkgs(const struct view *w, struct scan_pkgs *out, unsigned *dbs, int *ndb, char *why, size_t whyn)
{
	const struct scan_lf *f;
	char r[384];
	int rc, bad = 0;

	*dbs = 0;
	*ndb = 0;
	f = view_file(w, "var/lib/dpkg/status");
	if (f) {
		*dbs |= SCAN_DB_DPKG;
		if (f->why) {
			snprintf(why, whyn, "%s", f->why);
			bad = -BERTH_ETOOBIG;
		} else if ((rc = scan_dpkg_parse(f->data, f->len, 0, out, r, sizeof r)) < 0) {
			if (rc == -BERTH_ENOMEM)
				return rc;
			snprintf(why, whyn, "var/lib/dpkg/status: %s", r);
			bad = rc;
		}
	}
	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->v[i].f->path;
		if (w->v[i].f->kind != SCAN_W_DPKG_STATUSD)
			continue;
		f = view_file(w, p);
		if (!f)
			continue;
		*dbs |= SCAN_DB_DPKG;
		if (f->why) {
			snprintf(why, whyn, "%s", f->why);
			bad = -BERTH_ETOOBIG;
		} else if ((rc = scan_dpkg_parse(f->data, f->len, SCAN_DPKG_STATUS_D, out, r, sizeof r)) < 0) {
			if (rc == -BERTH_ENOMEM)
				return rc;
			snprintf(why, whyn, "%s: %s", p, r);
			bad = rc;
		}
	}
	f = view_file(w, "lib/apk/db/installed");
	if (f) {
		*dbs |= SCAN_DB_APK;
		if (f->why) {
			snprintf(why, whyn, "%s", f->why);
			bad = -BERTH_ETOOBIG;
		} else if ((rc = scan_apk_parse(f->data, f->len, out, r, sizeof r)) < 0) {
			if (rc == -BERTH_ENOMEM)
				return rc;
			snprintf(why, whyn, "lib/apk/db/installed: %s", r);
			bad = rc;
		}
	}
	for (size_t i = 0; i < sizeof rpm_paths / sizeof rpm_paths[0]; i++) {
		f = view_file(w, rpm_paths[i]);
		if (!f)
			continue;
		*dbs |= SCAN_DB_RPM;
		if (f->why) {
			snprintf(why, whyn, "%s", f->why);
			bad = -BERTH_EINVAL;
		} else {
			for (size_t j = 0; j < f->pkgs.n; j++) {
				const struct scan_pkg *p = &f->pkgs.v[j];
				rc = scan_pkgs_add(out, p->eco, p->name, strlen(p->name), p->version,
						   strlen(p->version), p->arch, strlen(p->arch), p->source,
						   strlen(p->source), p->source_version, strlen(p->source_version));
				if (rc < 0)
					return rc;
			}
		}
		break; /* the first database found is rpm's; a stale older one beside it is not read */
	}
	if (!(*dbs & SCAN_DB_RPM) &&
	    (view_file(w, "var/lib/rpm/Packages.db") || view_file(w, "usr/lib/sysimage/rpm/Packages.db")))
		*ndb = 1;
	return bad;
}

static int pkg_cmp(const struct scan_pkg *a, const struct scan_pkg *b)
{
	int c;

	if (a->eco != b->eco)
		return a->eco < b->eco ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c == 0)
		c = strcmp(a->arch, b->arch);
	if (c == 0)
		c = strcmp(a->version, b->version);
	return c;
}

static int pkg_qcmp(const void *a, const void *b)
{
	return pkg_cmp(a, b);
}

/* Sorts l and drops exact duplicates (the same package listed by status and status.d). */
static void pkgs_sort_unique(struct scan_pkgs *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof l->v[0], pkg_qcmp);
	for (size_t i = 1; i < l->n; i++) {
		if (pkg_cmp(&l->v[k], &l->v[i]) == 0) {
			free(l->v[i].mem_);
			continue;
		}
		l->v[++k] = l->v[i];
	}
	l->n = k + 1;
}

int scan_image_build(const struct scan_layer *const *layers, size_t n, struct scan_image *im)
{
	struct view w = {0};
	struct scan_pkgs prev, cur;
	uint32_t *since_prev = NULL, *since_cur = NULL;
	char dbwhy[512] = "", r[512];
	unsigned dbs = 0;
	int ndb = 0, dbrc = 0, rc = 0;
	struct scan_os_files of = {0};
	const struct scan_lf *f;

	scan_image_release(im);
	scan_pkgs_init(&prev);
	scan_pkgs_init(&cur);
	for (size_t i = 0; i < n; i++) {
		const struct scan_layer *l = layers[i];

		if (l->n == 0)
			continue;
		/* whiteouts hide lower layers only, so they go first */
		for (size_t j = 0; j < l->n; j++)
			if (l->v[j].op == SCAN_LF_DELETE || l->v[j].op == SCAN_LF_OPAQUE)
				view_drop(&w, l->v[j].path, l->v[j].op == SCAN_LF_DELETE);
		for (size_t j = 0; j < l->n; j++)
			if (l->v[j].op == SCAN_LF_PUT || l->v[j].op == SCAN_LF_LINK) {
				rc = view_set(&w, &l->v[j], i);
				if (rc < 0)
					goto out;
			}
		dbwhy[0] = '\0';
		dbrc = view_pkgs(&w, &cur, &dbs, &ndb, dbwhy, sizeof dbwhy);
		if (dbrc == -BERTH_ENOMEM) {
			rc = dbrc;
			goto out;
		}
		pkgs_sort_unique(&cur);
		since_cur = cur.n ? malloc(cur.n * sizeof *since_cur) : NULL;
		if (cur.n && !since_cur) {
			rc = -BERTH_ENOMEM;
			goto out;
		}
		/* a package keeps its layer while it stays installed with the same version */
		for (size_t a = 0, b = 0; a < cur.n; a++) {
			int c = 1;
			while (b < prev.n && (c = pkg_cmp(&prev.v[b], &cur.v[a])) < 0)
				b++;
			since_cur[a] = (b < prev.n && c == 0) ? since_prev[b] : (uint32_t)i;
		}
		scan_pkgs_release(&prev);
		free(since_prev);
		prev = cur;
		since_prev = since_cur;
		since_cur = NULL;
		scan_pkgs_init(&cur);
	}

	if (dbrc < 0) {
		im->status = SCAN_FAILED;
		snprintf(im->why, sizeof im->why, "%s", dbwhy);
		goto out;
	}
	if (ndb && !dbs) {
		im->status = SCAN_UNSUPPORTED;
		snprintf(im->why, sizeof im->why, "rpm ndb database (Packages.db) is not supported");
		goto out;
	}
	f = view_file(&w, "etc/os-release");
	if (!f)
		f = view_file(&w, "usr/lib/os-release");
	if (f) {
		of.os_release = f->data;
		of.os_release_len = f->len;
	}
	{
		static const char *const rel[] = {"etc/debian_version", "etc/alpine-release", "etc/redhat-release"};
		const char **ptr[] = {&of.debian_version, &of.alpine_release, &of.redhat_release};
		size_t *len[] = {&of.debian_version_len, &of.alpine_release_len, &of.redhat_release_len};
		const struct scan_lf *chk[4] = {f, NULL, NULL, NULL};

		for (int k = 0; k < 3; k++) {
			const struct scan_lf *g = view_file(&w, rel[k]);
			chk[k + 1] = g;
			if (g) {
				*ptr[k] = g->data;
				*len[k] = g->len;
			}
		}
		for (int k = 0; k < 4; k++)
			if (chk[k] && chk[k]->why) {
				im->status = SCAN_FAILED;
				snprintf(im->why, sizeof im->why, "%s", chk[k]->why);
				goto out;
			}
	}
	of.dbs = dbs;
	r[0] = '\0';
	rc = scan_os_detect(&of, &im->os, r, sizeof r);
	if (rc == 0) {
		im->status = SCAN_SCANNED;
	} else if (rc == -BERTH_EUNSUPPORTED) {
		im->status = SCAN_UNSUPPORTED;
		snprintf(im->why, sizeof im->why, "%s", r);
	} else if (rc == -BERTH_ENOENT) {
		im->status = SCAN_UNSUPPORTED;
		snprintf(im->why, sizeof im->why, "no known package database and no release file");
	} else if (rc == -BERTH_ENOMEM) {
		goto out;
	} else {
		im->status = SCAN_FAILED;
		snprintf(im->why, sizeof im->why, "%s", r);
	}
	rc = 0;
out:
	if (rc == 0) {
		im->pkgs = prev;
		im->layer = since_prev;
	} else {
		scan_pkgs_release(&prev);
		free(since_prev);
	}
	scan_pkgs_release(&cur);
	free(since_cur);
	free(w.v);
	return rc;
}
