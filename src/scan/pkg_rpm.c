/* pkg_rpm: rpm header blobs and the SQLite rpm database (rpmdb.sqlite) that stores them.
 *
 * A header blob, as rpmdb stores it: be32 index count il, be32 data length dl, il entries of four
 * be32 {tag, type, offset, count}, then dl bytes of data. An entry's value lives at data + offset;
 * strings are NUL-terminated, INT32 values are big-endian and 4-aligned. */
#include "scan/pkg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "base/buf.h"
#include "base/err.h"

enum {
	TAG_NAME = 1000,
	TAG_VERSION = 1001,
	TAG_RELEASE = 1002,
	TAG_EPOCH = 1003,
	TAG_ARCH = 1022,
	TAG_SOURCERPM = 1044
};
enum { TYPE_INT32 = 4, TYPE_STRING = 6 };

/* rpm's own ceilings: at most 0xffff index entries per header */
#define MAX_ENTRIES 0xffff

static int fail(char *why, size_t whyn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whyn, const char *fmt, ...)
{
	va_list ap;

	if (why && whyn) {
		va_start(ap, fmt);
		vsnprintf(why, whyn, fmt, ap);
		va_end(ap);
	}
	return -BERTH_EINVAL;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct hstr {
	const char *p;
	size_t n;
	int seen;
};

/* Reads the STRING at off in the data store: it must end (NUL) inside the store. */
static int get_string(const unsigned char *data, uint32_t dl, uint32_t type, uint32_t off, uint32_t count,
		      struct hstr *s)
{
	const unsigned char *nul;

	if (type != TYPE_STRING || count != 1 || off >= dl)
		return -1;
	nul = memchr(data + off, '\0', dl - off);
	if (!nul || (size_t)(nul - (data + off)) > SCAN_FIELD_MAX)
		return -1;
	s->p = (const char *)data + off;
	s->n = (size_t)(nul - (data + off));
	s->seen = 1;
	return 0;
}

/* "bash-5.1.8-6.el9.src.rpm" -> "bash": drops ".src.rpm"/".nosrc.rpm", then "-release" and
 * "-version". 0, or -1 when the name does not have that shape. */
static int srpm_name(const struct hstr *s, const char **name, size_t *n)
{
	size_t len = s->n;
	int dashes = 0;

	if (len > 8 && memcmp(s->p + len - 8, ".src.rpm", 8) == 0)
		len -= 8;
	else if (len > 10 && memcmp(s->p + len - 10, ".nosrc.rpm", 10) == 0)
		len -= 10;
	else
		return -1;
	while (len && dashes < 2) {
		if (s->p[--len] == '-')
			dashes++;
	}
	if (dashes < 2 || !len)
		return -1;
	*name = s->p;
	*n = len;
	return 0;
}

int scan_rpm_header_parse(const void *blob, size_t len, struct scan_pkgs *out, char *why, size_t whyn)
{
	const unsigned char *b = blob, *data;
	struct hstr name = {0}, ver = {0}, rel = {0}, arch = {0}, srpm = {0};
	uint32_t il, dl, epoch = 0;
	int has_epoch = 0, rc;
	const char *sname = NULL;
	size_t snlen = 0;
	struct buf evr;

	if (len < 8)
		return fail(why, whyn, "header of %zu bytes is too short", len);
	if (len > SCAN_RPM_HEADER_MAX)
		return fail(why, whyn, "header of %zu bytes is too large", len);
	il = be32(b);
	dl = be32(b + 4);
	if (il < 1 || il > MAX_ENTRIES)
		return fail(why, whyn, "header has %u index entries", il);
	if ((uint64_t)8 + (uint64_t)il * 16 + dl != len)
		return fail(why, whyn, "header sizes (%u entries, %u data bytes) do not add up to its %zu bytes", il,
			    dl, len);
	data = b + 8 + (size_t)il * 16;
	for (uint32_t i = 0; i < il; i++) {
		const unsigned char *e = b + 8 + (size_t)i * 16;
		uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), count = be32(e + 12);
		struct hstr *s = NULL;

		switch (tag) {
		case TAG_NAME:
			s = &name;
			break;
		case TAG_VERSION:
			s = &ver;
			break;
		case TAG_RELEASE:
			s = &rel;
			break;
		case TAG_ARCH:
			s = &arch;
			break;
		case TAG_SOURCERPM:
			s = &srpm;
			break;
		case TAG_EPOCH:
			if (has_epoch || type != TYPE_INT32 || count != 1 || off % 4 || off > dl || dl - off < 4)
				return fail(why, whyn, "header entry %u: bad EPOCH", i);
			epoch = be32(data + off);
			has_epoch = 1;
			continue;
		default:
			continue;
		}
		if (s->seen || get_string(data, dl, type, off, count, s) < 0)
			return fail(why, whyn, "header entry %u: bad string for tag %u", i, tag);
	}
	if (!name.seen || !ver.seen || !rel.seen)
		return fail(why, whyn, "header lacks %s", !name.seen ? "NAME" : !ver.seen ? "VERSION" : "RELEASE");
	if (!name.n || !ver.n || !rel.n || memchr(ver.p, '-', ver.n) || memchr(rel.p, '-', rel.n))
		return fail(why, whyn, "header has an empty or hyphenated name, version or release");
	if (name.n == 10 && memcmp(name.p, "gpg-pubkey", 10) == 0)
		return 0; /* an imported signing key, not software */
	if (srpm.seen && srpm_name(&srpm, &sname, &snlen) < 0)
		sname = NULL, snlen = 0;
	buf_init(&evr, 2 * SCAN_FIELD_MAX + 16);
	if (has_epoch)
		rc = buf_addf(&evr, "%u:%.*s-%.*s", epoch, (int)ver.n, ver.p, (int)rel.n, rel.p);
	else
		rc = buf_addf(&evr, "%.*s-%.*s", (int)ver.n, ver.p, (int)rel.n, rel.p);
	if (rc == 0)
		rc = scan_pkgs_add(out, SCAN_ECO_RPM, name.p, name.n, evr.ptr, evr.len, arch.p, arch.n, sname, snlen,
				   NULL, 0);
	buf_release(&evr);
	if (rc == -BERTH_ETOOBIG)
		fail(why, whyn, "more than %d packages", SCAN_PKGS_MAX);
	return rc;
}

/* ---- rpmdb.sqlite ---- */

/* Virtual-machine steps allowed per database (checked every 1000): far above what reading a few
 * thousand rows takes, far below looping forever. */
#define SQL_STEP_BUDGET 200000

static int progress(void *arg)
{
	long *left = arg;

	return --*left < 0;
}

/* Settings for a database file from an untrusted image (SQLite's "defense against the dark arts"). */
static void harden(sqlite3 *db, long *budget)
{
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)SCAN_RPM_HEADER_MAX);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	*budget = SQL_STEP_BUDGET;
	sqlite3_progress_handler(db, 1000, progress, budget);
}

/* Maps an SQLite failure to an error and a reason. */
static int sql_fail(sqlite3 *db, int src, char *why, size_t whyn)
{
	if (src == SQLITE_NOMEM)
		return -BERTH_ENOMEM;
	if (src == SQLITE_INTERRUPT)
		return fail(why, whyn, "rpm database: reading it took too long");
	if (src == SQLITE_CANTOPEN || (src & 0xff) == SQLITE_IOERR) {
		fail(why, whyn, "rpm database: cannot read: %s", sqlite3_errmsg(db));
		return -BERTH_EIO;
	}
	return fail(why, whyn, "rpm database: %s", sqlite3_errmsg(db));
}

static int read_packages(sqlite3 *db, struct scan_pkgs *out, char *why, size_t whyn)
{
	sqlite3_stmt *st = NULL;
	size_t n0 = out->n;
	long budget;
	int rc = 0, src;

	harden(db, &budget);
	src = sqlite3_prepare_v2(db, "SELECT type FROM sqlite_master WHERE name = 'Packages'", -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = sql_fail(db, src, why, whyn);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? fail(why, whyn, "rpm database: no Packages table")
					: sql_fail(db, src, why, whyn);
		goto out;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_TEXT || strcmp((const char *)sqlite3_column_text(st, 0), "table")) {
		rc = fail(why, whyn, "rpm database: Packages is not a table");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	src = sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages", -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = sql_fail(db, src, why, whyn);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		char reason[200];
		sqlite3_int64 hnum = sqlite3_column_int64(st, 0);

		if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
			rc = fail(why, whyn, "rpm database: package %lld: not a header blob", (long long)hnum);
			goto out;
		}
		rc = scan_rpm_header_parse(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), out, reason,
					   sizeof reason);
		if (rc < 0) {
			fail(why, whyn, "rpm database: package %lld: %s", (long long)hnum, reason);
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = sql_fail(db, src, why, whyn);
out:
	sqlite3_finalize(st);
	if (rc < 0)
		scan_pkgs_truncate(out, n0);
	return rc;
}

int scan_rpmdb_sqlite_read_file(const char *path, struct scan_pkgs *out, char *why, size_t whyn)
{
	struct buf uri;
	struct stat sb;
	sqlite3 *db = NULL;
	int rc, src;

	buf_init(&uri, 3 * 4096 + 64);
	if (stat(path, &sb) < 0) {
		fail(why, whyn, "rpm database: cannot stat %s", path);
		return -BERTH_EIO;
	}
	if ((uint64_t)sb.st_size > SCAN_RPMDB_MAX) {
		fail(why, whyn, "rpm database of %lld bytes is over the limit", (long long)sb.st_size);
		return -BERTH_ETOOBIG;
	}
	/* a URI so that immutable=1 can be said: no locks, no -wal/-shm/-journal read or created */
	rc = buf_adds(&uri, "file:");
	while (path[0] == '/' && path[1] == '/') /* "file://x" would name a host; "//x" is "/x" */
		path++;
	for (const char *p = path; rc == 0 && *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			rc = buf_addf(&uri, "%%%02X", (unsigned char)*p);
		else
			rc = buf_add(&uri, p, 1);
	}
	if (rc == 0)
		rc = buf_adds(&uri, "?immutable=1");
	if (rc < 0) {
		fail(why, whyn, "rpm database: path too long");
		goto out;
	}
	src = sqlite3_open_v2(uri.ptr, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (src != SQLITE_OK) {
		rc = db ? sql_fail(db, src, why, whyn) : -BERTH_ENOMEM;
		goto out;
	}
	rc = read_packages(db, out, why, whyn);
out:
	sqlite3_close(db);
	buf_release(&uri);
	return rc;
}

int scan_rpmdb_sqlite_read_mem(const void *bytes, size_t len, struct scan_pkgs *out, char *why, size_t whyn)
{
	sqlite3 *db = NULL;
	unsigned char *copy;
	int rc, src;

	if (len > SCAN_RPMDB_MAX) {
		fail(why, whyn, "rpm database of %zu bytes is over the limit", len);
		return -BERTH_ETOOBIG;
	}
	if (len < 100 || memcmp(bytes, "SQLite format 3", 16) != 0)
		return fail(why, whyn, "rpm database: not an SQLite database");
	src = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL);
	if (src != SQLITE_OK) {
		rc = db ? sql_fail(db, src, why, whyn) : -BERTH_ENOMEM;
		goto out;
	}
	copy = sqlite3_malloc64(len);
	if (!copy) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	memcpy(copy, bytes, len);
	/* rpm leaves its database in WAL mode (header bytes 18-19 = 2); an in-memory file cannot have a
	 * WAL, and with no WAL file the legacy mode reads the same pages */
	if (copy[18] == 2 && copy[19] == 2)
		copy[18] = copy[19] = 1;
	src = sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
				  SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
	if (src != SQLITE_OK) {
		rc = sql_fail(db, src, why, whyn);
		goto out;
	}
	rc = read_packages(db, out, why, whyn);
out:
	sqlite3_close(db);
	return rc;
}
