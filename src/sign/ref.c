/* ref: Docker reference grammar and normalisation (see ref.h). Written from the grammar in
 * distribution's reference package: name components of [a-z0-9] joined by ".", "_", "__" or dashes,
 * a domain of DNS-like components with an optional port, a tag of [\w][\w.-]{0,127}. */
#include "sign/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sign/internal.h"

#define REF_INPUT_MAX 1024

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* over s[0..n). */
static int valid_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]))
		return 0;
	for (;;) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == n || !is_lower_alnum(s[i]))
			return 0;
	}
}

/* Components separated by single slashes over s[0..n). */
static int valid_path(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!valid_component(s + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

static int valid_domain_component(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int sign_ref_valid_domain(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t host = colon ? (size_t)(colon - s) : n, start = 0;

	if (colon) {
		size_t port = n - host - 1;
		if (port == 0)
			return 0;
		for (size_t i = host + 1; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
	}
	for (size_t i = 0; i <= host; i++) {
		if (i == host || s[i] == '.') {
			if (!valid_domain_component(s + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

int sign_ref_valid_remap_prefix(const char *s)
{
	size_t n = strlen(s);
	const char *slash = memchr(s, '/', n);

	if (n == 0 || n > SIGN_REF_NAME_MAX)
		return 0;
	if (!slash)
		return sign_ref_valid_domain(s, n);
	return sign_ref_valid_domain(s, (size_t)(slash - s)) && valid_path(slash + 1, n - (size_t)(slash - s) - 1);
}

static int valid_tag(const char *s, size_t n)
{
	if (n == 0 || n > SIGN_REF_TAG_MAX || !is_word(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static int is_hex64(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* Parses "<domain>/<rest>" where the domain split was already decided. */
static int parse_full(const char *domain, size_t dn, const char *rest, struct sign_ref *r, char *why, size_t whyn)
{
	size_t rn = strlen(rest), pn = strcspn(rest, ":@");
	const char *p = rest + pn;
	struct digest d;

	memset(r, 0, sizeof(*r));
	if (!valid_path(rest, pn))
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "invalid reference format: repository path \"%.*s\" is not valid", (int)pn, rest);
	if (sign_ref_valid_domain(domain, dn)) {
		r->domain_len = dn;
	} else if (valid_component(domain, dn)) {
		r->domain_len = 0; /* the grammar reads a domain-less name here, like Docker's regexp */
	} else {
		return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format: domain \"%.*s\" is not valid",
				 (int)dn, domain);
	}
	if (dn + 1 + pn > SIGN_REF_NAME_MAX)
		return sign__why(why, whyn, -BERTH_EINVAL, "repository name must not be more than %d characters",
				 SIGN_REF_NAME_MAX);
	memcpy(r->name, domain, dn);
	r->name[dn] = '/';
	memcpy(r->name + dn + 1, rest, pn);
	r->name[dn + 1 + pn] = '\0';
	if (*p == ':') {
		size_t tn = strcspn(p + 1, "@");
		if (!valid_tag(p + 1, tn))
			return sign__why(why, whyn, -BERTH_EINVAL,
					 "invalid reference format: tag \"%.*s\" is not valid", (int)tn, p + 1);
		memcpy(r->tag, p + 1, tn);
		r->tag[tn] = '\0';
		p += 1 + tn;
	}
	if (*p == '@') {
		int rc = digest_parse_cstr(p + 1, &d);
		if (rc < 0)
			return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format: digest \"%s\" is not %s",
					 p + 1, rc == -BERTH_EUNSUPPORTED ? "a supported algorithm" : "valid");
		digest_str(&d, r->digest);
		p += strlen(p);
	}
	if (*p != '\0' || (size_t)(p - rest) != rn)
		return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format");
	return 0;
}

int sign_ref_parse(const char *s, struct sign_ref *r, char *why, size_t whyn)
{
	char buf[REF_INPUT_MAX + 32];
	const char *slash, *domain = "docker.io", *rest = s;
	size_t dn = 9, n;
	int explicit_domain = 0;

	memset(r, 0, sizeof(*r));
	if (!s || !*s)
		return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format: empty reference");
	n = strlen(s);
	if (n > REF_INPUT_MAX)
		return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format: reference longer than %d bytes",
				 REF_INPUT_MAX);
	if (is_hex64(s))
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);
	slash = strchr(s, '/');
	if (slash) {
		size_t fn = (size_t)(slash - s);
		if (memchr(s, '.', fn) || memchr(s, ':', fn) || (fn == 9 && memcmp(s, "localhost", 9) == 0)) {
			domain = s;
			dn = fn;
			rest = slash + 1;
			explicit_domain = 1;
		}
	}
	if (explicit_domain && dn == 15 && memcmp(domain, "index.docker.io", 15) == 0) {
		domain = "docker.io";
		dn = 9;
	}
	/* The remote name (up to the first ':') must be lower case. */
	for (const char *q = rest; *q && *q != ':'; q++)
		if (*q >= 'A' && *q <= 'Z')
			return sign__why(why, whyn, -BERTH_EINVAL,
					 "invalid reference format: repository name must be lowercase");
	if (dn == 9 && memcmp(domain, "docker.io", 9) == 0 && !strchr(rest, '/')) {
		if (snprintf(buf, sizeof(buf), "library/%s", rest) >= (int)sizeof(buf))
			return sign__why(why, whyn, -BERTH_EINVAL, "invalid reference format");
		rest = buf;
	}
	return parse_full(domain, dn, rest, r, why, whyn);
}

int sign_ref_parse_docker(const char *s, struct sign_ref *r, char *why, size_t whyn)
{
	int rc = sign_ref_parse(s, r, why, whyn);

	if (rc < 0)
		return rc;
	if (r->tag[0] && r->digest[0])
		return sign__why(why, whyn, -BERTH_EINVAL,
				 "Docker references with both a tag and digest are currently not supported");
	if (sign_ref_is_name_only(r))
		memcpy(r->tag, "latest", 7);
	return 0;
}

int sign_ref_parse_canonical(const char *s, struct sign_ref *r, char *why, size_t whyn)
{
	char str[SIGN_REF_STR_MAX];
	int rc = sign_ref_parse(s, r, why, whyn);

	if (rc < 0)
		return rc;
	if (strcmp(sign_ref_string(r, str), s) != 0)
		return sign__why(why, whyn, -BERTH_EINVAL, "repository name must be canonical (\"%s\", not \"%s\")",
				 str, s);
	return 0;
}

int sign_ref_is_name_only(const struct sign_ref *r)
{
	return !r->tag[0] && !r->digest[0];
}

const char *sign_ref_path(const struct sign_ref *r)
{
	return r->domain_len ? r->name + r->domain_len + 1 : r->name;
}

char *sign_ref_string(const struct sign_ref *r, char out[SIGN_REF_STR_MAX])
{
	snprintf(out, SIGN_REF_STR_MAX, "%s%s%s%s%s", r->name, r->tag[0] ? ":" : "", r->tag, r->digest[0] ? "@" : "",
		 r->digest);
	return out;
}

int sign_ref_scopes(const struct sign_ref *r, char ***out, size_t *n)
{
	size_t cap = 8, cnt = 0, len = strlen(r->name);
	char **v = xcalloc(cap, sizeof(*v));
	char tmp[SIGN_REF_NAME_MAX + 1];
	char ident[SIGN_REF_STR_MAX];
	const char *dot;

#define PUSH(s)                                            \
	do {                                               \
		if (cnt + 2 > cap) {                       \
			cap *= 2;                          \
			v = xrealloc(v, cap * sizeof(*v)); \
		}                                          \
		v[cnt++] = xstrdup(s);                     \
		v[cnt] = NULL;                             \
	} while (0)

	snprintf(ident, sizeof(ident), "%s%s%s%s%s", r->name, r->tag[0] ? ":" : "", r->tag,
		 (!r->tag[0] && r->digest[0]) ? "@" : "", r->tag[0] ? "" : r->digest);
	PUSH(ident);
	memcpy(tmp, r->name, len + 1);
	for (;;) {
		char *slash;
		PUSH(tmp);
		slash = strrchr(tmp, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	tmp[strcspn(tmp, ":")] = '\0'; /* the host without its port */
	dot = tmp;
	while ((dot = strchr(dot, '.')) != NULL) {
		char w[SIGN_REF_NAME_MAX + 3];
		dot++;
		snprintf(w, sizeof(w), "*.%s", dot);
		PUSH(w);
	}
#undef PUSH
	*out = v;
	*n = cnt;
	return 0;
}

void sign_ref_scopes_free(char **scopes)
{
	if (!scopes)
		return;
	for (char **p = scopes; *p; p++)
		free(*p);
	free(scopes);
}
