/* import: reads files and directories, parses each file on its own (a malformed file is reported
 * and contributes nothing) and stores everything that parsed in one meta_errata_put() transaction,
 * so an import is all-or-nothing at the store and a crash mid-way leaves the previous state. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "errata/internal.h"

#define IMP_MAX_DEPTH 16
#define IMP_ZIP_TOTAL_MAX ((uint64_t)1 << 30) /* uncompressed bytes read from one archive */
#define IMP_ZIP_ENTRIES_MAX 2000000

void errata_import_init(struct errata_import *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void errata_import_release(struct errata_import *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->src[i].name);
		free(rep->src[i].errors);
	}
	free(rep->src);
	errata_import_init(rep);
}

/* Appends an empty source named name; NULL on allocation failure. */
static struct errata_import_source *imp_source_add(struct errata_import *rep, const char *name)
{
	struct errata_import_source *g = realloc(rep->src, (rep->n + 1) * sizeof(*g));

	if (!g)
		return NULL;
	rep->src = g;
	memset(&g[rep->n], 0, sizeof(*g));
	g[rep->n].name = strdup(name);
	if (!g[rep->n].name)
		return NULL;
	return &g[rep->n++];
}

/* Adds one line to a source's errors. */
static void imp_error(struct errata_import_source *src, const char *line)
{
	size_t old = src->errors ? strlen(src->errors) : 0, n = strlen(line);
	char *g = realloc(src->errors, old + n + 2);

	if (!g)
		return;
	if (old)
		g[old++] = '\n';
	memcpy(g + old, line, n + 1);
	src->errors = g;
}

/* Everything parsed so far, and which source each advisory came from. */
struct imp_batch {
	struct errata_set all;
	size_t *owner;
	size_t cap;
};

/* Moves a parsed file's advisories into the batch under source index si. */
static int imp_batch_take(struct imp_batch *b, struct errata_set *set, size_t si, struct errata_import_source *src)
{
	size_t need = b->all.n + set->n;
	int rc;

	if (need > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		size_t *g = NULL;
		while (nc < need)
			nc *= 2;
		g = realloc(b->owner, nc * sizeof(*g));
		if (!g)
			return -BERTH_ENOMEM;
		b->owner = g;
		b->cap = nc;
	}
	for (size_t i = b->all.n; i < need; i++)
		b->owner[i] = si;
	for (size_t i = 0; i < set->n; i++)
		src->no_severity += set->v[i].severity == META_SEV_UNKNOWN;
	src->advisories += set->n;
	src->skipped += set->skipped;
	src->warnings += set->warnings;
	if (set->warnings)
		imp_error(src, set->warning);
	rc = errata__set_append(&b->all, set);
	return rc;
}

/* Reads a whole file (at most ERRATA_INPUT_MAX bytes) into a malloc()ed buffer. */
static int imp_read_file(const char *path, char **out, size_t *n, char *why, size_t whyn)
{
	struct stat sb;
	char *p = NULL;
	size_t got = 0;
	int fd = -1, rc = 0;

	*out = NULL;
	*n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		rc = berth_from_errno(errno);
		snprintf(why, whyn, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = -BERTH_EINVAL;
		snprintf(why, whyn, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > ERRATA_INPUT_MAX) {
		rc = -BERTH_ETOOBIG;
		snprintf(why, whyn, "%s: larger than %zu MiB", path, ERRATA_INPUT_MAX >> 20);
		goto out;
	}
	p = malloc((size_t)sb.st_size + 1);
	if (!p) {
		rc = -BERTH_ENOMEM;
		snprintf(why, whyn, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, p + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? berth_from_errno(errno) : -BERTH_EIO;
			snprintf(why, whyn, "%s: %s", path, r < 0 ? strerror(errno) : "file shrank while read");
			goto out;
		}
		got += (size_t)r;
	}
	p[got] = '\0';
	*out = p;
	*n = got;
	p = NULL;
out:
	free(p);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int imp_parse_one(struct imp_batch *b, struct errata_import *rep, size_t si, const char *name, const char *p,
			 size_t n, enum errata_format fmt);
static int imp_wanted(const char *name);

/* 1 when p starts like a zip archive. */
static int imp_is_zip(const char *p, size_t n)
{
	return n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0;
}

/* Imports every *.json, *.yaml and *.yml member of a zip archive (OSV's all.zip downloads) as a file
 * of source si, named "ARCHIVE:MEMBER" in errors. A damaged archive fails as one file; a malformed
 * member fails alone. Uncompressed sizes are capped per member and in total (zip bombs). */
static int imp_zip(struct imp_batch *b, struct errata_import *rep, size_t si, const char *name, const char *p, size_t n,
		   enum errata_format fmt)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent = NULL;
	struct buf member, label;
	uint64_t total = 0;
	size_t entries = 0;
	char why[512];
	int rc = 0, ar;

	if (!a)
		return -BERTH_ENOMEM;
	buf_init(&member, ERRATA_INPUT_MAX);
	buf_init(&label, 8192);
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
		snprintf(why, sizeof(why), "%s: not a readable zip archive: %s", name, archive_error_string(a));
		goto bad;
	}
	while ((ar = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *mn = archive_entry_pathname(ent), *base = NULL;
		ssize_t got;
		char chunk[65536];
		if (++entries > IMP_ZIP_ENTRIES_MAX) {
			snprintf(why, sizeof(why), "%s: more than %d members", name, IMP_ZIP_ENTRIES_MAX);
			goto bad;
		}
		if (!mn || archive_entry_filetype(ent) != AE_IFREG)
			continue;
		base = strrchr(mn, '/') ? strrchr(mn, '/') + 1 : mn;
		if (!imp_wanted(base) || (strlen(base) > 4 && !strcmp(base + strlen(base) - 4, ".zip")))
			continue;
		buf_reset(&member);
		while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			total += (uint64_t)got;
			if (total > IMP_ZIP_TOTAL_MAX || buf_add(&member, chunk, (size_t)got) < 0) {
				snprintf(why, sizeof(why), "%s: %s: too large uncompressed", name, mn);
				goto bad;
			}
		}
		if (got < 0) {
			snprintf(why, sizeof(why), "%s: %s: %s", name, mn, archive_error_string(a));
			goto bad;
		}
		buf_reset(&label);
		buf_addf(&label, "%s:%s", name, mn);
		/* members are parsed, never unpacked again: a zip inside (or a zip quine) is just malformed */
		rc = imp_parse_one(b, rep, si, label.ptr, member.ptr, member.len, fmt);
		if (rc < 0)
			goto out;
	}
	if (ar != ARCHIVE_EOF) {
		snprintf(why, sizeof(why), "%s: damaged zip archive: %s", name, archive_error_string(a));
		goto bad;
	}
	goto out;
bad:
	rep->src[si].failed++;
	imp_error(&rep->src[si], why);
out:
	archive_read_free(a);
	buf_release(&member);
	buf_release(&label);
	return rc;
}

/* Parses buffer p as one file of source si into the batch; a malformed file counts as failed. */
static int imp_parse_one(struct imp_batch *b, struct errata_import *rep, size_t si, const char *name, const char *p,
			 size_t n, enum errata_format fmt)
{
	struct errata_import_source *src = &rep->src[si];
	struct errata_set set;
	char why[512];
	int rc;

	errata_set_init(&set);
	if (fmt == ERRATA_FORMAT_AUTO)
		fmt = errata_format_sniff(p, n);
	if (fmt != ERRATA_FORMAT_AUTO)
		src->format = fmt;
	rc = errata_parse(fmt, name, p, n, &set, why, sizeof(why));
	if (rc == -BERTH_ENOMEM)
		goto out;
	if (rc < 0) {
		src->failed++;
		imp_error(src, why);
		rc = 0;
		goto out;
	}
	src->files++;
	src->format = fmt;
	rc = imp_batch_take(b, &set, si, src);
out:
	errata_set_release(&set);
	return rc;
}

/* Imports one file's bytes: a zip archive member by member, anything else as one file. */
static int imp_buffer(struct imp_batch *b, struct errata_import *rep, size_t si, const char *name, const char *p,
		      size_t n, enum errata_format fmt)
{
	if (imp_is_zip(p, n))
		return imp_zip(b, rep, si, name, p, n, fmt);
	return imp_parse_one(b, rep, si, name, p, n, fmt);
}

/* Reads and parses one file. */
static int imp_file(struct imp_batch *b, struct errata_import *rep, size_t si, const char *path, enum errata_format fmt)
{
	char *p = NULL, why[512];
	size_t n = 0;
	int rc;

	rc = imp_read_file(path, &p, &n, why, sizeof(why));
	if (rc == -BERTH_ENOMEM)
		return rc;
	if (rc < 0) {
		rep->src[si].failed++;
		imp_error(&rep->src[si], why);
		return 0;
	}
	rc = imp_buffer(b, rep, si, path, p, n, fmt);
	free(p);
	return rc;
}

/* 1 for the file names a directory walk imports: *.json, *.yaml, *.yml, *.zip, "list", "*-list". */
static int imp_wanted(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	if ((n > 5 && strcmp(name + n - 5, ".json") == 0) || (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0) || (n > 4 && strcmp(name + n - 4, ".zip") == 0))
		return 1;
	return strcmp(name, "list") == 0 || (n > 5 && strcmp(name + n - 5, "-list") == 0);
}

/* Imports path: a file as given, a directory by walking it in name order. */
static int imp_path(struct imp_batch *b, struct errata_import *rep, size_t si, const char *path, enum errata_format fmt,
		    int depth, int explicit)
{
	struct dirent **ents = NULL;
	struct stat sb;
	struct buf child;
	char why[512];
	int n = 0, rc = 0;

	if (stat(path, &sb) < 0) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		rep->src[si].failed++;
		imp_error(&rep->src[si], why);
		return 0;
	}
	if (!S_ISDIR(sb.st_mode))
		return explicit || imp_wanted(strrchr(path, '/') ? strrchr(path, '/') + 1 : path)
			   ? imp_file(b, rep, si, path, fmt)
			   : 0;
	if (depth >= IMP_MAX_DEPTH) {
		snprintf(why, sizeof(why), "%s: directories nested too deeply", path);
		rep->src[si].failed++;
		imp_error(&rep->src[si], why);
		return 0;
	}
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		rep->src[si].failed++;
		imp_error(&rep->src[si], why);
		return 0;
	}
	buf_init(&child, 8192);
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (rc == 0 && strcmp(nm, ".") && strcmp(nm, "..") && nm[0] != '.') {
			buf_reset(&child);
			if (buf_addf(&child, "%s/%s", path, nm) == 0)
				rc = imp_path(b, rep, si, child.ptr, fmt, depth + 1, 0);
		}
		free(ents[i]);
	}
	free(ents);
	buf_release(&child);
	return rc;
}

/* Orders batch positions by advisory id, keeping file order among equal ids. */
struct imp_pos {
	const char *id;
	size_t i;
};

static int imp_cmp_pos(const void *a, const void *b)
{
	const struct imp_pos *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Collapses advisories that appear more than once in the batch (the same id in two files, as when
 * OSV dumps carry one copy per release): identical copies count once, different ones are merged
 * (their CVEs, references and affected entries united) so importing the same files again is
 * idempotent. uniq[k] gets the position of each surviving advisory, map[i] the index into uniq
 * of position i, or (size_t)-1 for a later copy. */
static int imp_dedup(struct imp_batch *b, size_t *uniq, size_t *nuniq, size_t *map)
{
	struct imp_pos *pos = NULL;
	size_t n = b->all.n, k = 0;
	int rc = 0;

	pos = malloc((n ? n : 1) * sizeof(*pos));
	if (!pos)
		return -BERTH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		pos[i].id = b->all.v[i].id;
		pos[i].i = i;
	}
	qsort(pos, n, sizeof(*pos), imp_cmp_pos);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i == 0 || strcmp(pos[i].id, pos[i - 1].id) != 0) {
			uniq[k++] = pos[i].i;
		} else {
			struct meta_erratum *first = &b->all.v[uniq[k - 1]], *dup = &b->all.v[pos[i].i];
			if (strcmp(first->hash, dup->hash) != 0)
				rc = errata__merge(first, dup);
		}
		map[pos[i].i] = uniq[k - 1] == pos[i].i ? k - 1 : (size_t)-1;
	}
	*nuniq = k;
	free(pos);
	return rc;
}

/* Stores the batch in one transaction and adds each result to its source's counts. */
static int imp_store(struct meta *m, struct imp_batch *b, struct errata_import *rep)
{
	enum meta_put_result *res = NULL;
	struct meta_erratum *v = NULL;
	size_t *uniq = NULL, *map = NULL, n = b->all.n, nuniq = 0;
	int rc = -BERTH_ENOMEM;

	res = calloc(n ? n : 1, sizeof(*res));
	uniq = calloc(n ? n : 1, sizeof(*uniq));
	map = calloc(n ? n : 1, sizeof(*map));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!res || !uniq || !map || !v)
		goto out;
	rc = imp_dedup(b, uniq, &nuniq, map);
	if (rc < 0)
		goto out;
	/* Shallow copies: the batch still owns every string. */
	for (size_t k = 0; k < nuniq; k++)
		v[k] = b->all.v[uniq[k]];
	rc = meta_errata_put(m, v, nuniq, res, &rep->generation);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct errata_import_source *src = &rep->src[b->owner[i]];
		if (map[i] == (size_t)-1) {
			src->duplicates++;
			continue;
		}
		switch (res[map[i]]) {
		case META_PUT_ADDED:
			src->added++;
			break;
		case META_PUT_UPDATED:
			src->updated++;
			break;
		case META_PUT_CONFLICT:
			src->conflicts++;
			break;
		default:
			src->unchanged++;
		}
	}
out:
	free(res);
	free(uniq);
	free(map);
	free(v);
	return rc;
}

static void imp_batch_release(struct imp_batch *b)
{
	errata_set_release(&b->all);
	free(b->owner);
}

int errata_import_paths(struct meta *m, const char *const *paths, size_t npaths, enum errata_format fmt,
			struct errata_import *rep)
{
	struct imp_batch b = {0};
	int rc = 0;

	if (!m || !rep || (npaths && !paths))
		return -BERTH_EINVAL;
	errata_set_init(&b.all);
	for (size_t i = 0; i < npaths && rc == 0; i++) {
		size_t si = rep->n;
		if (!imp_source_add(rep, paths[i])) {
			rc = -BERTH_ENOMEM;
			break;
		}
		rc = imp_path(&b, rep, si, paths[i], fmt, 0, 1);
	}
	if (rc == 0)
		rc = imp_store(m, &b, rep);
	imp_batch_release(&b);
	return rc;
}

int errata_import_buffer(struct meta *m, const char *name, const void *p, size_t n, enum errata_format fmt,
			 struct errata_import *rep)
{
	struct imp_batch b = {0};
	size_t si;
	int rc;

	if (!m || !rep || !name || (n && !p))
		return -BERTH_EINVAL;
	errata_set_init(&b.all);
	si = rep->n;
	if (!imp_source_add(rep, name))
		return -BERTH_ENOMEM;
	rc = imp_buffer(&b, rep, si, name, p, n, fmt);
	if (rc == 0 && rep->src[si].failed)
		rc = -BERTH_EINVAL;
	if (rc == 0)
		rc = imp_store(m, &b, rep);
	imp_batch_release(&b);
	return rc;
}
