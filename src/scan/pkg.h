/* pkg: installed-package records and the readers of the three package databases an image may carry:
 * dpkg (/var/lib/dpkg/status and status.d/), apk (/lib/apk/db/installed) and rpm (rpmdb.sqlite; the
 * Berkeley DB "Packages" file of older rpm). Readers take the file's bytes (or, for SQLite, a path),
 * never walk a tar, never print, and append to a package list. A reader that fails leaves the list
 * as it found it and puts a one-line reason naming the line or record in why.
 *
 *   struct scan_pkgs l; char why[256];
 *   scan_pkgs_init(&l);
 *   if (scan_dpkg_parse(buf, len, 0, &l, why, sizeof why) < 0) -> image failed: why
 *   for (size_t i = 0; i < l.n; i++) use(l.v[i].name, l.v[i].version);
 *   scan_pkgs_release(&l);
 */
#ifndef BERTH_SCAN_PKG_H
#define BERTH_SCAN_PKG_H

#include <stddef.h>

enum scan_eco { SCAN_ECO_NONE = 0, SCAN_ECO_DPKG, SCAN_ECO_APK, SCAN_ECO_RPM };

/* "dpkg", "apk", "rpm" or "none". */
const char *scan_eco_name(enum scan_eco eco);

/* One installed binary package. All strings are non-NULL and NUL-terminated; "" when the database
 * has no value (arch of a dpkg entry without Architecture). */
struct scan_pkg {
	enum scan_eco eco;
	const char *name; /* binary package name */
	const char *version; /* dpkg "[epoch:]upstream[-revision]"; apk "1.2.3-r4";
	                             * rpm "[epoch:]version-release" (epoch only when the header has one) */
	const char *arch; /* "amd64", "x86_64", "noarch", ... */
	const char *source; /* dpkg Source: name (else the package name); rpm name parsed from
	                             * SOURCERPM (else the package name); apk origin o: (else the name) */
	const char *source_version; /* dpkg Source: "(version)" (else the version); rpm and apk: version */
	char *mem_; /* private: the one allocation holding the strings above */
};

struct scan_pkgs {
	struct scan_pkg *v;
	size_t n, cap;
};

/* Limits on what a reader accepts: packages per list, bytes of one kept field value, bytes of a
 * text database (dpkg status, apk installed); past them a reader fails with -BERTH_ETOOBIG. */
#define SCAN_PKGS_MAX 1000000
#define SCAN_FIELD_MAX 4096
#define SCAN_TEXT_MAX ((size_t)64 << 20)

void scan_pkgs_init(struct scan_pkgs *l);
void scan_pkgs_release(struct scan_pkgs *l); /* frees every record; l is empty and reusable */

/* Appends a record built from {ptr,len} strings (copied). source/source_version may have len 0,
 * meaning "same as name/version". 0, -BERTH_ENOMEM, or -BERTH_ETOOBIG past SCAN_PKGS_MAX. */
int scan_pkgs_add(struct scan_pkgs *l, enum scan_eco eco, const char *name, size_t namelen, const char *version,
		  size_t verlen, const char *arch, size_t archlen, const char *source, size_t srclen,
		  const char *srcver, size_t srcverlen);

/* Frees records from index n on (n <= l->n): how a failed reader rolls the list back. */
void scan_pkgs_truncate(struct scan_pkgs *l, size_t n);

/* dpkg status (deb822 paragraphs). Only packages whose Status is "<want> ok installed" (any want:
 * install, hold, deinstall, purge) or "<want> ok triggers-pending/-awaited" are added. With
 * SCAN_DPKG_STATUS_D (a file of /var/lib/dpkg/status.d/, as distroless images write them) a
 * paragraph without a Status field counts as installed. Fails with -BERTH_EINVAL on a malformed
 * file: a line that is neither "Field: value", a continuation nor blank; a duplicate field; a
 * paragraph without Package; an installed package without Version or with a version dpkg would
 * reject; a bad Status or Source; a NUL byte. -BERTH_ETOOBIG past SCAN_TEXT_MAX or SCAN_PKGS_MAX,
 * -BERTH_ENOMEM. */
#define SCAN_DPKG_STATUS_D 1u
int scan_dpkg_parse(const char *buf, size_t len, unsigned flags, struct scan_pkgs *out, char *why, size_t whyn);

/* 1 when a file of status.d/ named `name` holds package paragraphs (distroless also puts
 * "<pkg>.md5sums" there), else 0. */
int scan_dpkg_statusd_name_ok(const char *name);

/* apk installed database: blank-line separated records of "K:value" lines; P: name, V: version,
 * A: arch, o: origin are kept, other keys skipped. -BERTH_EINVAL on a line that is not "K:value",
 * a record without P: or V:, a duplicate P:/V:/A:/o: in one record, or a version that fails
 * scan_ver_apk_check. -BERTH_ETOOBIG and -BERTH_ENOMEM as for dpkg. */
int scan_apk_parse(const char *buf, size_t len, struct scan_pkgs *out, char *why, size_t whyn);

/* One rpm header blob as rpmdb stores it (no lead, no magic: big-endian index count, data length,
 * 16-byte index entries, data store). Reads NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM with every
 * offset, count and string bounds-checked; appends one package, or nothing for the "gpg-pubkey"
 * pseudo-packages rpm keeps for imported keys. -BERTH_EINVAL with the reason on any violation;
 * -BERTH_ETOOBIG past SCAN_PKGS_MAX; -BERTH_ENOMEM. */
int scan_rpm_header_parse(const void *blob, size_t len, struct scan_pkgs *out, char *why, size_t whyn);

/* Largest rpm database file the readers accept, and largest single header blob. */
#define SCAN_RPMDB_MAX ((size_t)1 << 30)
#define SCAN_RPM_HEADER_MAX ((size_t)256 << 20)

/* rpmdb.sqlite: every header blob of the Packages table. The file is opened read-only and
 * immutable (no locks, no WAL or journal files read or written) with SQLite's defensive settings
 * (no triggers, views or untrusted schema functions, a bounded amount of work), so a hostile file
 * can fail the read but not run anything. -BERTH_EINVAL when it is not an rpm SQLite database or a
 * header is malformed, -BERTH_ETOOBIG past SCAN_RPMDB_MAX, -BERTH_EIO when it cannot be read. */
int scan_rpmdb_sqlite_read_file(const char *path, struct scan_pkgs *out, char *why, size_t whyn);

/* The same from bytes in memory (copied into SQLite's in-memory file; db is not modified). */
int scan_rpmdb_sqlite_read_mem(const void *db, size_t len, struct scan_pkgs *out, char *why, size_t whyn);

/* Berkeley DB "Packages" (hash access method, as rpm before 4.16 wrote it, either byte order):
 * every header blob stored as a record value, inline or in overflow pages. Page numbers, item
 * offsets and overflow chains are bounds- and loop-checked. -BERTH_EINVAL on a file that is not a
 * Berkeley DB hash database or is malformed, -BERTH_EUNSUPPORTED for an encrypted or partitioned
 * one or an unknown hash version, -BERTH_ETOOBIG past SCAN_RPMDB_MAX. Debian's rpm cannot write
 * this format; see docs/internals/scan.md for how it is tested. */
int scan_rpmdb_bdb_read_mem(const void *db, size_t len, struct scan_pkgs *out, char *why, size_t whyn);

#endif
