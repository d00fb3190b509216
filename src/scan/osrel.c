/* osrel: os-release parsing and the distribution release key. */
#include "scan/osrel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

static int fail(int rc, char *why, size_t whyn, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *why, size_t whyn, const char *fmt, ...)
{
	va_list ap;

	if (why && whyn) {
		va_start(ap, fmt);
		vsnprintf(why, whyn, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int key_char(int c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && is_digit(c));
}

/* Appends c to a value buffer of size n; -1 when full. */
static int vput(char *v, size_t n, size_t *len, char c)
{
	if (*len + 1 >= n)
		return -1;
	v[(*len)++] = c;
	v[*len] = '\0';
	return 0;
}

/* Reads the shell word in [p, e) into v. 0, -1 when too long, -2 on an unterminated quote, -3 on
 * text after the word. */
static int read_value(const char *p, const char *e, char *v, size_t n)
{
	size_t len = 0;

	v[0] = '\0';
	while (p < e && !is_blank(*p)) {
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < e && strchr("\"\\$`", p[1]))
					p++;
				if (vput(v, n, &len, *p) < 0)
					return -1;
			}
			if (p == e)
				return -2;
			p++;
		} else if (*p == '\'') {
			for (p++; p < e && *p != '\''; p++)
				if (vput(v, n, &len, *p) < 0)
					return -1;
			if (p == e)
				return -2;
			p++;
		} else {
			if (*p == '\\') {
				if (++p == e)
					return -2;
			}
			if (vput(v, n, &len, *p) < 0)
				return -1;
			p++;
		}
	}
	while (p < e && is_blank(*p))
		p++;
	return p == e || *p == '#' ? 0 : -3;
}

int scan_osrel_parse(const char *buf, size_t len, struct scan_osrel *os, char *why, size_t whyn)
{
	const char *p = buf, *end = buf + len;
	int line = 0;

	memset(os, 0, sizeof *os);
	if (len > SCAN_OSREL_MAX)
		return fail(-BERTH_ETOOBIG, why, whyn, "os-release is over %d bytes", SCAN_OSREL_MAX);
	if (memchr(buf, '\0', len))
		return fail(-BERTH_EINVAL, why, whyn, "os-release has a NUL byte");
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *k, *q;
		char scratch[1024], *dst = scratch;
		size_t dn = sizeof scratch;
		int rc;

		if (!e)
			e = end;
		line++;
		for (k = p; k < e && is_blank(*k); k++)
			;
		if (k == e || *k == '#')
			goto next;
		for (q = k; q < e && key_char((unsigned char)*q, q == k); q++)
			;
		if (q == k || q == e || *q != '=')
			return fail(-BERTH_EINVAL, why, whyn, "os-release line %d: not a KEY=VALUE assignment", line);
#define KEY(name, field)                                                                     \
	if ((size_t)(q - k) == sizeof(name) - 1 && memcmp(k, name, sizeof(name) - 1) == 0) { \
		dst = os->field;                                                             \
		dn = sizeof os->field;                                                       \
	}
		KEY("ID", id)
		KEY("ID_LIKE", id_like)
		KEY("VERSION_ID", version_id)
		KEY("VERSION_CODENAME", version_codename)
		KEY("PRETTY_NAME", pretty_name)
#undef KEY
		rc = read_value(q + 1, e, dst, dn);
		if (rc == -1 && dst == scratch)
			rc = 0; /* a long value of a key berth does not use */
		if (rc == -1)
			return fail(-BERTH_EINVAL, why, whyn, "os-release line %d: %.*s is too long", line,
				    (int)(q - k), k);
		if (rc == -2)
			return fail(-BERTH_EINVAL, why, whyn, "os-release line %d: unterminated quote or escape", line);
		if (rc == -3)
			return fail(-BERTH_EINVAL, why, whyn, "os-release line %d: text after the value", line);
	next:
		p = e < end ? e + 1 : end;
	}
	return 0;
}

/* ---- release keys ---- */

/* "12", "3.19.1", "9.2": digits and dots, starting and ending with a digit, no empty component. */
static int dotted(const char *s)
{
	if (!is_digit((unsigned char)*s))
		return 0;
	for (; *s; s++) {
		if (*s == '.' && (!is_digit((unsigned char)s[1])))
			return 0;
		if (*s != '.' && !is_digit((unsigned char)*s))
			return 0;
	}
	return 1;
}

/* Copies the first n dot-separated components of a dotted version into out. */
static void components(const char *s, int n, char *out, size_t outn)
{
	size_t i = 0;

	for (; s[i] && i + 1 < outn; i++) {
		if (s[i] == '.' && --n == 0)
			break;
		out[i] = s[i];
	}
	out[i] = '\0';
}

static const struct {
	const char *name;
	int num;
} debian_codenames[] = {
    {"squeeze", 6},   {"wheezy", 7},    {"jessie", 8},  {"stretch", 9}, {"buster", 10},
    {"bullseye", 11}, {"bookworm", 12}, {"trixie", 13}, {"forky", 14},  {"duke", 15},
};

/* The first line of a release file, trimmed, into out (truncated to fit). */
static void first_line(const char *p, size_t n, char *out, size_t outn)
{
	size_t i = 0, j = 0;

	while (i < n && (is_blank(p[i]) || p[i] == '\r'))
		i++;
	while (i < n && p[i] != '\n' && p[i] != '\0' && j + 1 < outn)
		out[j++] = p[i++];
	while (j && (is_blank(out[j - 1]) || out[j - 1] == '\r'))
		j--;
	out[j] = '\0';
}

enum rule { R_DEBIAN, R_UBUNTU, R_ALPINE, R_MAJOR, R_AS_IS };

static const struct distro {
	const char *id;
	enum scan_eco eco;
	enum rule rule;
	unsigned db;
} distros[] = {
    {"debian", SCAN_ECO_DPKG, R_DEBIAN, SCAN_DB_DPKG}, {"ubuntu", SCAN_ECO_DPKG, R_UBUNTU, SCAN_DB_DPKG},
    {"alpine", SCAN_ECO_APK, R_ALPINE, SCAN_DB_APK},   {"rhel", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},
    {"centos", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},    {"almalinux", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},
    {"rocky", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},     {"ol", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},
    {"fedora", SCAN_ECO_RPM, R_MAJOR, SCAN_DB_RPM},    {"amzn", SCAN_ECO_RPM, R_AS_IS, SCAN_DB_RPM},
};

/* /etc/redhat-release's product names, longest first where one is a prefix of another. */
static const struct {
	const char *prefix, *id;
} redhat_names[] = {
    {"Red Hat Enterprise Linux", "rhel"},
    {"CentOS", "centos"},
    {"AlmaLinux", "almalinux"},
    {"Rocky Linux", "rocky"},
    {"Oracle Linux", "ol"},
    {"Fedora", "fedora"},
};

/* "CentOS Linux release 7.9.2009 (Core)" -> id "centos", version "7.9.2009". -1 when unrecognized. */
static int redhat_parse(const char *line, const char **id, char *ver, size_t vern)
{
	const char *r = strstr(line, " release ");
	size_t i = 0;

	*id = NULL;
	for (size_t k = 0; k < sizeof redhat_names / sizeof *redhat_names; k++)
		if (strncmp(line, redhat_names[k].prefix, strlen(redhat_names[k].prefix)) == 0)
			*id = redhat_names[k].id;
	if (!*id || !r)
		return -1;
	for (r += 9; r[i] && !is_blank(r[i]) && i + 1 < vern; i++)
		ver[i] = r[i];
	ver[i] = '\0';
	return dotted(ver) ? 0 : -1;
}

static const char *db_names(unsigned dbs, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s", dbs & SCAN_DB_DPKG ? "dpkg" : "",
		 (dbs & SCAN_DB_DPKG) && (dbs & (SCAN_DB_APK | SCAN_DB_RPM)) ? " and " : "",
		 dbs & SCAN_DB_APK ? "apk" : "", (dbs & SCAN_DB_APK) && (dbs & SCAN_DB_RPM) ? " and " : "",
		 dbs & SCAN_DB_RPM ? "rpm" : "");
	return out;
}

/* Debian's key from VERSION_ID, else the codename, else /etc/debian_version; cross-checked with
 * /etc/debian_version when both name a numbered release. */
static int debian_key(const struct scan_osrel *o, const char *dv, char *key, size_t keyn, char *why, size_t whyn)
{
	char major[16] = "", fmajor[16] = "", code[64] = "";

	if (dv) {
		if (dotted(dv)) {
			components(dv, 1, fmajor, sizeof fmajor);
		} else {
			/* "bookworm/sid": testing or unstable before release; the codename names it */
			components(dv, 1, code, sizeof code);
			code[strcspn(code, "/")] = '\0';
		}
	}
	if (o->version_id[0]) {
		if (!dotted(o->version_id))
			return fail(-BERTH_EINVAL, why, whyn,
				    "os-release VERSION_ID \"%s\" is not a Debian release number", o->version_id);
		components(o->version_id, 1, major, sizeof major);
	} else if (o->version_codename[0]) {
		snprintf(code, sizeof code, "%s", o->version_codename);
	}
	for (const char *c = code; *c; c++)
		if (*c < 'a' || *c > 'z')
			return fail(-BERTH_EINVAL, why, whyn, "\"%s\" is not a Debian release name", code);
	if (!major[0] && code[0]) {
		if (strcmp(code, "sid") == 0 || strcmp(code, "unstable") == 0) {
			snprintf(key, keyn, "debian:sid");
			return 0;
		}
		for (size_t i = 0; i < sizeof debian_codenames / sizeof *debian_codenames; i++)
			if (strcmp(code, debian_codenames[i].name) == 0)
				snprintf(major, sizeof major, "%d", debian_codenames[i].num);
		if (!major[0])
			return fail(-BERTH_EUNSUPPORTED, why, whyn, "Debian release \"%s\" is not known", code);
	}
	if (!major[0])
		snprintf(major, sizeof major, "%s", fmajor);
	if (!major[0])
		return fail(-BERTH_EINVAL, why, whyn, "no Debian release number in os-release or /etc/debian_version");
	if (fmajor[0] && strcmp(fmajor, major) != 0)
		return fail(-BERTH_EINVAL, why, whyn, "os-release says Debian %s but /etc/debian_version says %s",
			    major, dv);
	snprintf(key, keyn, "debian:%s", major);
	return 0;
}

/* Alpine: "3.19.1" -> "3.19"; a development snapshot ("3.20.0_alpha20240329") is "edge". */
static int alpine_key(const char *v, char *key, size_t keyn)
{
	char base[64], mm[32];
	const char *us = strchr(v, '_');

	snprintf(base, sizeof base, "%.*s", us ? (int)(us - v) : (int)strlen(v), v);
	if (!dotted(base) || !strchr(base, '.'))
		return -1;
	if (us) {
		if (strncmp(us, "_alpha", 6) != 0)
			return -1;
		snprintf(key, keyn, "alpine:edge");
		return 0;
	}
	components(base, 2, mm, sizeof mm);
	snprintf(key, keyn, "alpine:%s", mm);
	return 0;
}

static int rule_key(const struct distro *d, const char *v, char *key, size_t keyn)
{
	char part[64];

	switch (d->rule) {
	case R_UBUNTU: /* "22.04" */
		if (strlen(v) != 5 || !is_digit((unsigned char)v[0]) || !is_digit((unsigned char)v[1]) || v[2] != '.' ||
		    !is_digit((unsigned char)v[3]) || !is_digit((unsigned char)v[4]))
			return -1;
		snprintf(key, keyn, "ubuntu:%s", v);
		return 0;
	case R_ALPINE:
		return alpine_key(v, key, keyn);
	case R_MAJOR:
		if (!dotted(v))
			return -1;
		components(v, 1, part, sizeof part);
		snprintf(key, keyn, "%s:%s", d->id, part);
		return 0;
	case R_AS_IS:
		if (!dotted(v) || strlen(v) > 16)
			return -1;
		snprintf(key, keyn, "%s:%s", d->id, v);
		return 0;
	default:
		return -1;
	}
}

int scan_os_detect(const struct scan_os_files *f, struct scan_os *os, char *why, size_t whyn)
{
	struct scan_osrel o;
	const struct distro *d = NULL;
	char dv[128] = "", ar[128] = "", rr[256] = "", fver[64] = "", dbs[32];
	const char *rid = NULL, *ver, *fallback = "";
	int rc;

	memset(os, 0, sizeof *os);
	memset(&o, 0, sizeof o);
	if (f->os_release) {
		rc = scan_osrel_parse(f->os_release, f->os_release_len, &o, why, whyn);
		if (rc < 0)
			return rc;
		for (char *c = o.id; *c; c++) {
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
			if (!((*c >= 'a' && *c <= 'z') || is_digit((unsigned char)*c) || strchr("._-", *c)))
				return fail(-BERTH_EINVAL, why, whyn, "os-release ID \"%s\" is not a distribution id",
					    o.id);
		}
	}
	if (f->debian_version)
		first_line(f->debian_version, f->debian_version_len, dv, sizeof dv);
	if (f->alpine_release)
		first_line(f->alpine_release, f->alpine_release_len, ar, sizeof ar);
	if (f->redhat_release) {
		first_line(f->redhat_release, f->redhat_release_len, rr, sizeof rr);
		if (redhat_parse(rr, &rid, fver, sizeof fver) < 0 && !o.id[0])
			return fail(-BERTH_EINVAL, why, whyn, "/etc/redhat-release \"%s\" names no known release", rr);
	}
	/* without an os-release ID, the release files say which distribution this is */
	if (!o.id[0]) {
		if (f->debian_version)
			snprintf(o.id, sizeof o.id, "debian");
		else if (f->alpine_release)
			snprintf(o.id, sizeof o.id, "alpine"), fallback = ar;
		else if (rid)
			snprintf(o.id, sizeof o.id, "%s", rid), fallback = fver;
		else if (f->dbs)
			return fail(-BERTH_EINVAL, why, whyn, "a %s database but no os-release or release file",
				    db_names(f->dbs, dbs, sizeof dbs));
		else
			return fail(-BERTH_ENOENT, why, whyn, "no os-release, release file or package database");
	}
	snprintf(os->distro, sizeof os->distro, "%s", o.id);
	snprintf(os->pretty, sizeof os->pretty, "%s", o.pretty_name[0] ? o.pretty_name : dv[0] ? dv : ar[0] ? ar : rr);
	for (size_t i = 0; i < sizeof distros / sizeof *distros; i++)
		if (strcmp(o.id, distros[i].id) == 0)
			d = &distros[i];
	if (!d)
		return fail(-BERTH_EUNSUPPORTED, why, whyn, "distribution \"%s\" is not supported", o.id);
	if (f->dbs && !(f->dbs & d->db))
		return fail(-BERTH_EINVAL, why, whyn, "os-release says %s, but the image has no %s database, only %s",
			    d->id, scan_eco_name(d->eco), db_names(f->dbs, dbs, sizeof dbs));
	if (d->rule == R_DEBIAN) {
		rc = debian_key(&o, f->debian_version ? dv : NULL, os->release, sizeof os->release, why, whyn);
		if (rc < 0) {
			os->release[0] = '\0';
			return rc;
		}
		os->eco = d->eco;
		return 0;
	}
	ver = o.version_id[0] ? o.version_id : fallback;
	if (!ver[0])
		return fail(-BERTH_EINVAL, why, whyn, "os-release for %s has no VERSION_ID", d->id);
	if (rule_key(d, ver, os->release, sizeof os->release) < 0) {
		os->release[0] = '\0';
		return fail(-BERTH_EINVAL, why, whyn, "%s \"%s\" is not a %s release",
			    o.version_id[0] ? "os-release VERSION_ID" : "release file version", ver, d->id);
	}
	/* the distribution's own release file must name the same release (redhat-release by its
	 * number only: rebuilds may keep Red Hat's product name in it) */
	if (d->rule == R_ALPINE && f->alpine_release && f->os_release) {
		char k2[96];

		if (alpine_key(ar, k2, sizeof k2) < 0 || strcmp(k2, os->release) != 0) {
			fail(-BERTH_EINVAL, why, whyn, "os-release says %s but /etc/alpine-release says %s",
			     os->release, ar);
			os->release[0] = '\0';
			return -BERTH_EINVAL;
		}
	}
	if (d->rule == R_MAJOR && rid && f->os_release) {
		char k2[96];

		if (rule_key(d, fver, k2, sizeof k2) < 0 || strcmp(k2, os->release) != 0) {
			fail(-BERTH_EINVAL, why, whyn, "os-release says %s but /etc/redhat-release says \"%s\"",
			     os->release, rr);
			os->release[0] = '\0';
			return -BERTH_EINVAL;
		}
	}
	os->eco = d->eco;
	return 0;
}

enum scan_eco scan_release_eco(const char *release)
{
	const char *colon = strchr(release, ':');

	for (size_t i = 0; colon && i < sizeof distros / sizeof *distros; i++)
		if (strlen(distros[i].id) == (size_t)(colon - release) &&
		    memcmp(release, distros[i].id, strlen(distros[i].id)) == 0)
			return distros[i].eco;
	return SCAN_ECO_NONE;
}
