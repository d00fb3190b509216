/* pkg_apk: the apk installed database, /lib/apk/db/installed: one record per package, records
 * separated by blank lines, each line "K:value" with a one-character key (P name, V version,
 * A arch, o origin; C, T, U, L, R, Z, ... are skipped). */
#include "scan/pkg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "scan/ver.h"

enum { K_NAME, K_VERSION, K_ARCH, K_ORIGIN, K_COUNT };
static const char keys[K_COUNT] = {'P', 'V', 'A', 'o'};

struct val {
	const char *p;
	size_t n;
	int line; /* 0: not seen in this record */
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

/* apk package names: letters, digits and "+-._", not starting with '-' or '.'. */
static int name_ok(const char *p, size_t n)
{
	if (!n || p[0] == '-' || p[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("+-._", c)))
			return 0;
	}
	return 1;
}

static int finish(struct val *v, int first, struct scan_pkgs *out, char *why, size_t whyn)
{
	char ver[SCAN_FIELD_MAX + 1];
	int rc;

	if (!v[K_NAME].line)
		return fail(why, whyn, "line %d: record has no P: (name)", first);
	if (!name_ok(v[K_NAME].p, v[K_NAME].n))
		return fail(why, whyn, "line %d: invalid package name \"%.*s\"", v[K_NAME].line, (int)v[K_NAME].n,
			    v[K_NAME].p);
	if (!v[K_VERSION].line)
		return fail(why, whyn, "line %d: package %.*s has no V: (version)", first, (int)v[K_NAME].n,
			    v[K_NAME].p);
	memcpy(ver, v[K_VERSION].p, v[K_VERSION].n);
	ver[v[K_VERSION].n] = '\0';
	if (scan_ver_apk_check(ver) < 0)
		return fail(why, whyn, "line %d: package %.*s: invalid version \"%s\"", v[K_VERSION].line,
			    (int)v[K_NAME].n, v[K_NAME].p, ver);
	if (v[K_ORIGIN].line && !name_ok(v[K_ORIGIN].p, v[K_ORIGIN].n))
		return fail(why, whyn, "line %d: invalid origin \"%.*s\"", v[K_ORIGIN].line, (int)v[K_ORIGIN].n,
			    v[K_ORIGIN].p);
	for (size_t i = 0; i < v[K_ARCH].n; i++)
		if ((unsigned char)v[K_ARCH].p[i] <= ' ')
			return fail(why, whyn, "line %d: invalid arch", v[K_ARCH].line);
	rc = scan_pkgs_add(out, SCAN_ECO_APK, v[K_NAME].p, v[K_NAME].n, v[K_VERSION].p, v[K_VERSION].n, v[K_ARCH].p,
			   v[K_ARCH].n, v[K_ORIGIN].p, v[K_ORIGIN].n, NULL, 0);
	if (rc == -BERTH_ETOOBIG)
		fail(why, whyn, "more than %d packages", SCAN_PKGS_MAX);
	return rc;
}

int scan_apk_parse(const char *buf, size_t len, struct scan_pkgs *out, char *why, size_t whyn)
{
	const char *p = buf, *end = buf + len;
	struct val v[K_COUNT];
	size_t n0 = out->n;
	int line = 0, first = 0, rc = 0;

	if (len > SCAN_TEXT_MAX) {
		fail(why, whyn, "installed database over %zu bytes", SCAN_TEXT_MAX);
		return -BERTH_ETOOBIG;
	}
	if (memchr(buf, '\0', len)) {
		rc = fail(why, whyn, "NUL byte at offset %zu", (size_t)((const char *)memchr(buf, '\0', len) - buf));
		goto out;
	}
	memset(v, 0, sizeof v);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		int k;

		if (!e)
			e = end;
		n = (size_t)(e - p);
		line++;
		if (n == 0) {
			if (first) {
				rc = finish(v, first, out, why, whyn);
				if (rc < 0)
					goto out;
			}
			memset(v, 0, sizeof v);
			first = 0;
		} else {
			if (n < 2 || p[1] != ':' || (unsigned char)p[0] <= ' ' || (unsigned char)p[0] >= 0x7f) {
				rc = fail(why, whyn, "line %d: not a \"K:value\" line", line);
				goto out;
			}
			if (!first)
				first = line;
			for (k = 0; k < K_COUNT && keys[k] != p[0]; k++)
				;
			if (k < K_COUNT) {
				if (v[k].line) {
					rc = fail(why, whyn, "line %d: duplicate %c: in one record", line, p[0]);
					goto out;
				}
				if (n - 2 > SCAN_FIELD_MAX || n == 2) {
					rc = fail(why, whyn, "line %d: %c: is %s", line, p[0],
						  n == 2 ? "empty" : "too long");
					goto out;
				}
				v[k] = (struct val){p + 2, n - 2, line};
			}
		}
		p = e < end ? e + 1 : end;
	}
	if (first)
		rc = finish(v, first, out, why, whyn);
out:
	if (rc < 0)
		scan_pkgs_truncate(out, n0);
	return rc;
}
