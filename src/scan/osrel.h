/* osrel: which distribution release an image is, as the key advisories are filed under.
 * scan_osrel_parse() reads os-release(5) text; scan_os_detect() combines it with the older release
 * files (/etc/debian_version, /etc/alpine-release, /etc/redhat-release) and with which package
 * databases the image has, and produces a release key: "debian:12", "ubuntu:22.04", "alpine:3.19",
 * "rhel:9", "almalinux:8", "amzn:2023", ... An image whose evidence contradicts itself (os-release
 * says Debian but only an apk database exists; VERSION_ID is garbage; os-release and
 * /etc/debian_version name different releases) is refused with the reason, never guessed at.
 *
 *   struct scan_os_files f = {.os_release = buf, .os_release_len = n, .dbs = SCAN_DB_DPKG};
 *   struct scan_os os; char why[256];
 *   rc = scan_os_detect(&f, &os, why, sizeof why); -> 0: os.release is the key
 */
#ifndef BERTH_SCAN_OSREL_H
#define BERTH_SCAN_OSREL_H

#include <stddef.h>

#include "scan/pkg.h"

/* The os-release fields berth uses; "" when absent. */
struct scan_osrel {
	char id[64];
	char id_like[256];
	char version_id[64];
	char version_codename[64];
	char pretty_name[256];
};

/* Largest os-release (and release file) accepted. */
#define SCAN_OSREL_MAX 65536

/* Parses os-release text: "KEY=VALUE" lines, '#' comments and blank lines; values unquoted or in
 * single or double quotes with shell escapes (\" \\ \$ \` inside double quotes, any \c outside),
 * adjacent pieces joined as a shell joins them. Later assignments win. -BERTH_EINVAL (why names
 * the line) on a line that is not an assignment, an unterminated quote, text after the value, a
 * NUL byte, or a used value longer than its field; -BERTH_ETOOBIG past SCAN_OSREL_MAX. */
int scan_osrel_parse(const char *buf, size_t len, struct scan_osrel *os, char *why, size_t whyn);

/* Package databases found in the image. */
#define SCAN_DB_DPKG 1u
#define SCAN_DB_APK 2u
#define SCAN_DB_RPM 4u

/* What the indexer found; a NULL pointer means the file is absent. os_release is /etc/os-release,
 * else /usr/lib/os-release. */
struct scan_os_files {
	const char *os_release;
	size_t os_release_len;
	const char *debian_version;
	size_t debian_version_len;
	const char *alpine_release;
	size_t alpine_release_len;
	const char *redhat_release;
	size_t redhat_release_len;
	unsigned dbs; /* SCAN_DB_* */
};

struct scan_os {
	char distro[64]; /* normalized ID: "debian", "ubuntu", "alpine", "rhel", "centos", ... */
	char release[96]; /* the release key, "" unless scan_os_detect returned 0 */
	enum scan_eco eco; /* the distribution's package ecosystem; SCAN_ECO_NONE when unsupported */
	char pretty[256]; /* PRETTY_NAME, or the release file's first line; for display */
};

/* Decides the release. Returns 0 with os->release set; -BERTH_EUNSUPPORTED for a distribution (or
 * Debian codename) berth has no advisories for (os->distro names it); -BERTH_EINVAL when the
 * evidence is malformed or contradicts itself; -BERTH_ENOENT when the image has neither a release
 * file nor a package database (scratch, static binaries). why gets one line for every failure. */
int scan_os_detect(const struct scan_os_files *f, struct scan_os *os, char *why, size_t whyn);

/* The package ecosystem of a release key's distribution ("debian:12" -> SCAN_ECO_DPKG);
 * SCAN_ECO_NONE for a key of a distribution berth does not support. */
enum scan_eco scan_release_eco(const char *release);

#endif
