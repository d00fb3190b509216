/* pkg_dpkg: the dpkg database, /var/lib/dpkg/status and the one-file-per-package status.d/.
 * Both are deb822: paragraphs of "Field: value" lines separated by blank lines, with continuation
 * lines starting with a blank. Only the five fields a scanner needs are read; the rest are
 * checked for shape and skipped. */
#include "scan/pkg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "scan/ver.h"

enum { F_PACKAGE, F_VERSION, F_ARCH, F_SOURCE, F_STATUS, F_COUNT };
static const char *const field_names[F_COUNT] = {"Package", "Version", "Architecture", "Source", "Status"};

struct field {
	const char *p;
	size_t n;
	int line; /* 0: not seen in this paragraph */
};

struct para {
	struct field f[F_COUNT];
	int line; /* first line of the paragraph */
	int current; /* the field continuation lines belong to: F_COUNT for a skipped one, -1 none */
};

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

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dpkg's package-name rule: an alphanumeric, then alphanumerics or "-+._". */
static int name_ok(const char *p, size_t n)
{
	if (!n || !is_alnum((unsigned char)p[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum((unsigned char)p[i]) && !strchr("-+._", p[i]))
			return 0;
	return 1;
}

static int has_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_blank(p[i]))
			return 1;
	return 0;
}

/* The version must be one dpkg would load (warnings allowed: dpkg loads those too). */
static int version_ok(const char *p, size_t n, char *why, size_t whyn)
{
	char v[SCAN_FIELD_MAX + 1], reason[80];

	memcpy(v, p, n);
	v[n] = '\0';
	return scan_ver_dpkg_check(v, reason, sizeof reason) < 0 ? fail(why, whyn, "%s", reason) : 0;
}

/* Splits "want flag status" and decides whether the package's files are on disk: 1 yes, 0 no,
 * -BERTH_EINVAL for words dpkg does not write. */
static int status_installed(const struct field *f)
{
	static const char *const wants[] = {"unknown", "install", "hold", "deinstall", "purge"};
	static const char *const states[] = {"not-installed",   "config-files",     "half-installed",   "unpacked",
					     "half-configured", "triggers-awaited", "triggers-pending", "installed"};
	const char *w[3], *p = f->p, *end = f->p + f->n;
	size_t wn[3];
	int nw = 0, want_ok = 0, state = -1;

	while (p < end) {
		const char *s;

		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		if (nw == 3)
			return -BERTH_EINVAL;
		for (s = p; p < end && !is_blank(*p); p++)
			;
		w[nw] = s;
		wn[nw++] = (size_t)(p - s);
	}
	if (nw != 3)
		return -BERTH_EINVAL;
	for (size_t i = 0; i < sizeof wants / sizeof *wants; i++)
		if (strlen(wants[i]) == wn[0] && memcmp(wants[i], w[0], wn[0]) == 0)
			want_ok = 1;
	for (size_t i = 0; i < sizeof states / sizeof *states; i++)
		if (strlen(states[i]) == wn[2] && memcmp(states[i], w[2], wn[2]) == 0)
			state = (int)i;
	if (!want_ok || state < 0)
		return -BERTH_EINVAL;
	if (wn[1] == 2 && memcmp(w[1], "ok", 2) == 0)
		return state >= 5; /* triggers-awaited, triggers-pending, installed */
	if (wn[1] == 9 && memcmp(w[1], "reinstreq", 9) == 0)
		return 0;
	return -BERTH_EINVAL;
}

/* Ends a paragraph: checks it and appends the package when it is installed. */
static int finish(struct para *pp, unsigned flags, struct scan_pkgs *out, char *why, size_t whyn)
{
	const struct field *pkg = &pp->f[F_PACKAGE], *ver = &pp->f[F_VERSION], *src = &pp->f[F_SOURCE];
	const char *sname = NULL, *sver = NULL;
	size_t snlen = 0, svlen = 0;
	char reason[100];
	int inst;

	if (!pkg->line)
		return fail(why, whyn, "line %d: paragraph has no Package field", pp->line);
	if (!name_ok(pkg->p, pkg->n))
		return fail(why, whyn, "line %d: invalid package name \"%.*s\"", pkg->line, (int)pkg->n, pkg->p);
	if (pp->f[F_STATUS].line) {
		inst = status_installed(&pp->f[F_STATUS]);
		if (inst < 0)
			return fail(why, whyn, "line %d: invalid Status \"%.*s\"", pp->f[F_STATUS].line,
				    (int)pp->f[F_STATUS].n, pp->f[F_STATUS].p);
	} else if (flags & SCAN_DPKG_STATUS_D) {
		inst = 1;
	} else {
		return fail(why, whyn, "line %d: package %.*s has no Status field", pp->line, (int)pkg->n, pkg->p);
	}
	if (!inst)
		return 0;
	if (!ver->line)
		return fail(why, whyn, "line %d: package %.*s has no Version field", pp->line, (int)pkg->n, pkg->p);
	if (version_ok(ver->p, ver->n, reason, sizeof reason) < 0)
		return fail(why, whyn, "line %d: package %.*s: version \"%.*s\": %s", ver->line, (int)pkg->n, pkg->p,
			    (int)ver->n, ver->p, reason);
	if (has_blank(pp->f[F_ARCH].p, pp->f[F_ARCH].n))
		return fail(why, whyn, "line %d: invalid Architecture", pp->f[F_ARCH].line);
	if (src->line) {
		/* "name" or "name (version)" */
		const char *p = src->p, *end = src->p + src->n, *open;

		sname = p;
		while (p < end && !is_blank(*p) && *p != '(')
			p++;
		snlen = (size_t)(p - sname);
		while (p < end && is_blank(*p))
			p++;
		if (p < end) {
			open = p;
			if (*open != '(' || end[-1] != ')' || end - open < 3)
				return fail(why, whyn, "line %d: invalid Source \"%.*s\"", src->line, (int)src->n,
					    src->p);
			sver = open + 1;
			svlen = (size_t)(end - 1 - sver);
			while (svlen && is_blank(*sver))
				sver++, svlen--;
			while (svlen && is_blank(sver[svlen - 1]))
				svlen--;
			if (!svlen || version_ok(sver, svlen, reason, sizeof reason) < 0)
				return fail(why, whyn, "line %d: invalid Source version \"%.*s\"", src->line,
					    (int)src->n, src->p);
		}
		if (!name_ok(sname, snlen))
			return fail(why, whyn, "line %d: invalid Source \"%.*s\"", src->line, (int)src->n, src->p);
	}
	inst = scan_pkgs_add(out, SCAN_ECO_DPKG, pkg->p, pkg->n, ver->p, ver->n, pp->f[F_ARCH].p, pp->f[F_ARCH].n,
			     sname, snlen, sver, svlen);
	if (inst == -BERTH_ETOOBIG)
		fail(why, whyn, "more than %d packages", SCAN_PKGS_MAX);
	return inst;
}

static void para_reset(struct para *pp, int line)
{
	memset(pp, 0, sizeof *pp);
	pp->line = line;
	pp->current = -1;
}

int scan_dpkg_parse(const char *buf, size_t len, unsigned flags, struct scan_pkgs *out, char *why, size_t whyn)
{
	const char *p = buf, *end = buf + len;
	size_t n0 = out->n;
	struct para pp;
	int line = 0, open = 0, rc = 0;

	if (len > SCAN_TEXT_MAX) {
		fail(why, whyn, "status file over %zu bytes", SCAN_TEXT_MAX);
		return -BERTH_ETOOBIG;
	}
	if (memchr(buf, '\0', len)) {
		rc = fail(why, whyn, "NUL byte at offset %zu", (size_t)((const char *)memchr(buf, '\0', len) - buf));
		goto out;
	}
	para_reset(&pp, 1);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *q, *colon, *v, *ve;

		if (!e)
			e = end;
		line++;
		for (q = p; q < e && is_blank(*q); q++)
			;
		if (q == e) { /* blank: the paragraph, if any, ends */
			if (open) {
				rc = finish(&pp, flags, out, why, whyn);
				if (rc < 0)
					goto out;
			}
			open = 0;
		} else if (q > p) { /* continuation */
			if (!open || pp.current < 0) {
				rc = fail(why, whyn, "line %d: continuation line outside a field", line);
				goto out;
			}
			if (pp.current < F_COUNT) {
				rc = fail(why, whyn, "line %d: %s must be one line", line, field_names[pp.current]);
				goto out;
			}
		} else {
			int k;

			if (!open)
				para_reset(&pp, line);
			open = 1;
			colon = memchr(p, ':', (size_t)(e - p));
			if (!colon || colon == p || *p == '#' || *p == '-') {
				rc = fail(why, whyn, "line %d: not a \"Field: value\" line", line);
				goto out;
			}
			for (q = p; q < colon; q++) {
				if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
					rc = fail(why, whyn, "line %d: invalid field name", line);
					goto out;
				}
			}
			for (v = colon + 1; v < e && is_blank(*v); v++)
				;
			for (ve = e; ve > v && is_blank(ve[-1]); ve--)
				;
			pp.current = F_COUNT;
			for (k = 0; k < F_COUNT; k++) {
				if (strlen(field_names[k]) == (size_t)(colon - p) &&
				    strncasecmp(field_names[k], p, (size_t)(colon - p)) == 0)
					break;
			}
			if (k < F_COUNT) {
				if (pp.f[k].line) {
					rc = fail(why, whyn, "line %d: duplicate %s field", line, field_names[k]);
					goto out;
				}
				if ((size_t)(ve - v) > SCAN_FIELD_MAX || ve == v) {
					rc = fail(why, whyn, "line %d: %s is %s", line, field_names[k],
						  ve == v ? "empty" : "too long");
					goto out;
				}
				pp.f[k] = (struct field){v, (size_t)(ve - v), line};
				pp.current = k;
			}
		}
		p = e < end ? e + 1 : end;
	}
	if (open)
		rc = finish(&pp, flags, out, why, whyn);
out:
	if (rc < 0)
		scan_pkgs_truncate(out, n0);
	return rc;
}

int scan_dpkg_statusd_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || name[0] == '.')
		return 0;
	return !(n >= 8 && strcmp(name + n - 8, ".md5sums") == 0);
}
