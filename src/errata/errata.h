/* errata: security advisories from real feeds, in one model (struct meta_erratum, meta.h).
 *
 * Importers read three shipped formats and one generic one: Debian's security-tracker DSA/DLA
 * lists, Alpine secdb (YAML or its JSON twin), and OSV JSON (AlmaLinux's errata, and the OSV
 * records of Debian, Ubuntu, Alpine and Rocky Linux). Each parser either appends every advisory of
 * its input to a set or, on malformed input, appends nothing and names the file and line (or
 * entry). Distribution releases are normalized to one key ("debian:11", "almalinux:8",
 * "alpine:3.11") that errata_release_os() also derives from an image's os-release, so both sides
 * meet; the mapping is in docs/internals/errata.md.
 *
 * Importing is idempotent: every advisory carries a content hash and meta_errata_put() only writes
 * what changed, all of one import in one transaction.
 *
 *   struct errata_import rep; errata_import_init(&rep);
 *   errata_import_paths(m, paths, npaths, ERRATA_FORMAT_AUTO, &rep);
 *   ... rep.src[i].added ...; errata_import_release(&rep);
 */
#ifndef BERTH_ERRATA_ERRATA_H
#define BERTH_ERRATA_ERRATA_H

#include <stddef.h>
#include <stdint.h>

#include "meta/meta.h"

/* Largest input one parser accepts (a file, or a feed's body): the whole Debian DSA list is ~1 MiB. */
#define ERRATA_INPUT_MAX ((size_t)256 << 20)

/* A growing list of parsed advisories. `skipped` counts advisories an importer left out on purpose
 * (an OSV advisory with nothing for any distribution berth maps, only PyPI or npm packages, say);
 * `warnings` counts entries kept with a caveat (a Debian codename berth does not know), and
 * `warning` holds the first one's text. */
struct errata_set {
	struct meta_erratum *v;
	size_t n, cap;
	size_t skipped;
	size_t warnings;
	char warning[256];
};
void errata_set_init(struct errata_set *s);
void errata_set_release(struct errata_set *s); /* frees every advisory; s is empty and reusable */

enum errata_format {
	ERRATA_FORMAT_AUTO = 0, /* decided from the content (errata_format_sniff) */
	ERRATA_FORMAT_DEBIAN, /* security-tracker data/DSA/list, data/DLA/list */
	ERRATA_FORMAT_OSV, /* one OSV object, or a JSON array of them */
	ERRATA_FORMAT_SECDB, /* Alpine secdb, YAML or JSON */
};
/* "auto", "debian", "osv", "secdb"; parse answers 0 or -BERTH_EINVAL. */
const char *errata_format_name(enum errata_format f);
int errata_format_parse(const char *s, enum errata_format *out);
/* The format p[0..n) looks like, or ERRATA_FORMAT_AUTO when it looks like none. */
enum errata_format errata_format_sniff(const void *p, size_t n);

/* Parsers. name is the file name (or URL) used in error messages. On success every advisory of the
 * input is appended to out (with its hash set) and 0 is returned. On malformed input nothing is
 * appended, why holds one line "NAME:LINE: what" (or "NAME: entry ID: what") and the result is
 * -BERTH_EINVAL; -BERTH_ETOOBIG past ERRATA_INPUT_MAX; -BERTH_ENOMEM. */
int errata_parse_debian(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn);
int errata_parse_osv(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn);
int errata_parse_secdb(const char *name, const char *p, size_t n, struct errata_set *out, char *why, size_t whyn);
/* Dispatches on fmt (sniffing when AUTO; input that looks like no format is -BERTH_EINVAL). */
int errata_parse(enum errata_format fmt, const char *name, const void *p, size_t n, struct errata_set *out, char *why,
		 size_t whyn);

/* Puts e in canonical order (CVEs sorted and unique, affected entries sorted and unique) and sets
 * e->hash over everything the source said (not the store's first_seen/updated/generation). */
void errata_finish(struct meta_erratum *e);

/* Release keys. Each writes the key into out (n bytes) and answers 0; -BERTH_ETOOBIG when it does
 * not fit.
 * - errata_release_debian: a Debian codename ("woody".."duke") -> "debian:3.0".."debian:15";
 *   -BERTH_ENOENT for a codename not in the table.
 * - errata_release_osv: an OSV ecosystem ("Debian:11", "Ubuntu:22.04:LTS", "Alpine:v3.16",
 *   "AlmaLinux:8", "Rocky Linux:9") -> its key, with *binary 1 when the ecosystem names binary
 *   packages (rpm distributions) and 0 when it names source packages; -BERTH_EUNSUPPORTED for any
 *   other ecosystem (language ecosystems, distributions berth does not map).
 * - errata_release_os: os-release ID and VERSION_ID ("debian" "11", "almalinux" "8.9", "alpine"
 *   "3.11.6") -> "debian:11", "almalinux:8", "alpine:3.11"; -BERTH_EINVAL when either is empty. */
int errata_release_debian(const char *codename, char *out, size_t n);
int errata_release_osv(const char *ecosystem, char *out, size_t n, int *binary);
int errata_release_os(const char *id, const char *version_id, char *out, size_t n);

/* What one import source (a path given on the command line, or one feed) produced. */
struct errata_import_source {
	char *name; /* the path or URL */
	enum errata_format format; /* of the last file read (AUTO when none could be read) */
	size_t files; /* files read (a directory counts each) */
	size_t failed; /* files rejected as malformed or unreadable: nothing of them stored */
	size_t advisories, added, updated, unchanged, conflicts, skipped, warnings;
	size_t duplicates; /* further copies of an advisory already read in this import (merged) */
	size_t no_severity; /* advisories read whose source gives no severity (stored as unknown) */
	char *errors; /* one line per failed file, NULL when none */
};
struct errata_import {
	struct errata_import_source *src;
	size_t n;
	int64_t generation; /* the errata generation after the import */
};
void errata_import_init(struct errata_import *rep);
void errata_import_release(struct errata_import *rep);

/* Reads every path (a file, or a directory walked recursively for *.json, *.yaml, *.yml, *.zip and
 * files named "list" or "*-list"; a zip archive, such as OSV's all.zip, is read member by member),
 * parses each file on its own and stores every advisory of the files that parsed in one
 * meta_errata_put() transaction. Malformed files are reported in rep and skipped. Returns
 * 0 when everything stored (even if some files failed: see rep->src[i].failed), or the store's error. */
int errata_import_paths(struct meta *m, const char *const *paths, size_t npaths, enum errata_format fmt,
			struct errata_import *rep);
/* Parses and stores one buffer (a feed's body) as source `name`, appending a source to rep. -BERTH_EINVAL
 * when it is malformed (nothing stored; the reason is in the source's errors). */
int errata_import_buffer(struct meta *m, const char *name, const void *p, size_t n, enum errata_format fmt,
			 struct errata_import *rep);

/* Lists and lookups with JSON rendering for the CLI and the API; the JSON field names are documented
 * in docs/internals/errata.md. The result is a jansson json_t * (void * here so the header needs no
 * jansson); the caller json_decref()s it. full adds details. NULL on allocation failure. */
void *errata_json(const struct meta_erratum *e, int full);

/* Feeds: paths or http(s) URLs from the configuration, fetched with conditional requests. */
struct errata_feed_result {
	char *feed;
	int fetched; /* 1 when new content was read and imported */
	int not_modified; /* the server answered 304, or the content hash was the one stored */
	int failed; /* fetching or parsing failed: see error */
	size_t added, updated, unchanged, conflicts, skipped;
	char error[512];
};
struct errata_sync {
	struct errata_feed_result *v;
	size_t n;
	int64_t generation;
};
void errata_sync_release(struct errata_sync *s);
/* Splits a feeds setting (one feed per line, or separated by spaces or commas) into a NULL-terminated
 * malloc()ed array of malloc()ed strings (free with errata_feeds_free); *n gets the count. */
char **errata_feeds_split(const char *setting, size_t *n);
void errata_feeds_free(char **v);
/* Syncs every feed once: a URL is fetched with If-None-Match / If-Modified-Since from the state stored
 * by the last success (304: nothing to do); a path is read; content whose hash equals the stored one
 * is not parsed again. New content is imported like errata_import_buffer. Per-feed failures are in
 * out->v[i]; the return is 0 unless the store itself failed. */
int errata_feeds_sync(struct meta *m, const char *const *feeds, size_t n, struct errata_sync *out);

/* A background thread that syncs the feeds every interval_s seconds (the first sync at once) and
 * hands each result, with errata_feeds_sync's return code, to report (called on that thread; may be
 * NULL). feeds are copied. 0, or -BERTH_EINVAL / -BERTH_ENOMEM. */
struct errata_syncer;
int errata_syncer_start(struct meta *m, const char *const *feeds, size_t n, int64_t interval_s,
			void (*report)(const struct errata_sync *s, int rc, void *arg), void *arg,
			struct errata_syncer **out);
/* Stops the thread (waiting for a sync in progress to end) and frees it; NULL is a no-op. */
void errata_syncer_stop(struct errata_syncer *s);

#endif
