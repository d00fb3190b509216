#include "image/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

#define REF_MAX 4096 /* longest reference text accepted */

static const struct {
	const char *prefix;
	enum image_transport t;
} transports[] = {
    {"docker://", REF_DOCKER}, {"oci-archive:", REF_OCI_ARCHIVE},
    {"oci:", REF_OCI},         {"docker-archive:", REF_DOCKER_ARCHIVE},
    {"local:", REF_LOCAL},
};

const char *image_transport_name(enum image_transport t)
{
	switch (t) {
	case REF_DOCKER:
		return "docker";
	case REF_OCI:
		return "oci";
	case REF_OCI_ARCHIVE:
		return "oci-archive";
	case REF_DOCKER_ARCHIVE:
		return "docker-archive";
	case REF_LOCAL:
		return "local";
	}
	return "?";
}

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* component ("/" component)*, component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*, at most 255 bytes. */
int image_ref_name_valid(const char *name)
{
	size_t n = strlen(name), i = 0;

	if (n == 0 || n > 255)
		return 0;
	for (;;) {
		if (!is_lower_alnum(name[i]))
			return 0;
		while (is_lower_alnum(name[i]))
			i++;
		if (name[i] == '\0')
			return 1;
		if (name[i] == '/') {
			i++;
			continue;
		}
		if (name[i] == '.') {
			i++;
		} else if (name[i] == '_') {
			i++;
			if (name[i] == '_')
				i++;
		} else if (name[i] == '-') {
			while (name[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (!is_lower_alnum(name[i]))
			return 0;
	}
}

int image_ref_tag_valid(const char *tag)
{
	size_t n = strlen(tag);

	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = tag[i];
		if (!(is_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

/* An OCI layout reference name, as containers/image accepts it: alphanumeric runs joined by one of
 * - . _ : @ + (or "--"), at most 255 bytes. */
static int oci_ref_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (is_alnum(s[i]))
			continue;
		if (!strchr("-._:@+", s[i]))
			return 0;
		if (!is_alnum(s[i + 1]) && !(s[i] == '-' && s[i + 1] == '-' && is_alnum(s[i + 2])))
			return 0;
		if (s[i] == '-' && s[i + 1] == '-')
			i++;
	}
	return 1;
}

/* host := (label ("." label)* | "[" ipv6 "]") [":" port]; label := [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
int image_ref_host_valid(const char *host)
{
	const char *p = host, *colon;
	size_t n = strlen(host);

	if (n == 0 || n > 255)
		return 0;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end || end == p + 1)
			return 0;
		for (const char *q = p + 1; q < end; q++)
			if (!(is_alnum(*q) || *q == ':' || *q == '.'))
				return 0;
		p = end + 1;
		if (*p && *p != ':')
			return 0;
	} else {
		for (;;) {
			if (!is_alnum(*p))
				return 0;
			while (is_alnum(*p) || *p == '-')
				p++;
			if (p[-1] == '-')
				return 0;
			if (*p != '.')
				break;
			p++;
		}
		if (*p && *p != ':')
			return 0;
	}
	colon = p;
	if (*colon == ':') {
		long port = 0;
		const char *q = colon + 1;
		if (!*q || strlen(q) > 5)
			return 0;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return 0;
			port = port * 10 + (*q - '0');
		}
		if (port < 1 || port > 65535 || colon[1] == '0')
			return 0;
	}
	return 1;
}

/* A first path component names a registry host when it has a dot or a port, is "localhost" or an
 * IPv6 literal (the rule docker and containers/image use). */
static int looks_like_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
	       (n > 0 && s[0] == '[');
}

/* Splits "name[:tag][@digest]" (name may begin with a host[:port]/) into r->repo, r->tag and r->digest.
 * host_mode: 1 = the first component must be a host (into r->host); 0 = an optional host stays in repo. */
static int parse_named(const char *s, struct image_ref *r, int host_mode, int allow_digest, char *why, size_t whyn)
{
	const char *at = strchr(s, '@'), *end = at ? at : s + strlen(s);
	const char *slash = NULL, *colon = NULL, *name = s, *p;
	char *tmp = NULL;
	int rc = -BERTH_EINVAL;

	if (at) {
		if (!allow_digest) {
			snprintf(why, whyn, "a digest is not allowed here");
			goto out;
		}
		rc = digest_parse_cstr(at + 1, &r->digest);
		if (rc < 0) {
			snprintf(why, whyn, "invalid digest '%s'", at + 1);
			goto out;
		}
		r->has_digest = 1;
		rc = -BERTH_EINVAL;
	}
	/* the tag is after the last ':' that follows the last '/' */
	for (p = s; p < end; p++)
		if (*p == '/')
			slash = p;
	for (p = slash ? slash : s; p < end; p++)
		if (*p == ':')
			colon = p;
	if (host_mode) {
		const char *first = strchr(s, '/');
		if (!first || first >= end) {
			snprintf(why, whyn, "'%s' has no repository after the registry host", s);
			goto out;
		}
		r->host = xstrndup(s, (size_t)(first - s));
		if (!image_ref_host_valid(r->host)) {
			snprintf(why, whyn, "invalid registry host '%s'", r->host);
			goto out;
		}
		if (!looks_like_host(s, (size_t)(first - s))) {
			snprintf(
			    why, whyn,
			    "'%s' is not a registry host; write HOST[:PORT]/REPOSITORY (berth has no default registry)",
			    r->host);
			goto out;
		}
		name = first + 1;
		if (colon && colon < first)
			colon = NULL;
	}
	tmp = xstrndup(name, (size_t)((colon ? colon : end) - name));
	if (colon) {
		r->tag = xstrndup(colon + 1, (size_t)(end - colon - 1));
		if (!image_ref_tag_valid(r->tag)) {
			snprintf(why, whyn, "invalid tag '%s'", r->tag);
			goto out;
		}
	}
	if (!host_mode) {
		/* an optional host in front stays part of the name but is checked as a host */
		char *first = strchr(tmp, '/');
		if (first && looks_like_host(tmp, (size_t)(first - tmp))) {
			char save = *first;
			*first = '\0';
			if (!image_ref_host_valid(tmp)) {
				snprintf(why, whyn, "invalid registry host '%s'", tmp);
				goto out;
			}
			*first = save;
			if (!image_ref_name_valid(first + 1)) {
				snprintf(why, whyn, "invalid repository name '%s'", first + 1);
				goto out;
			}
		} else if (!image_ref_name_valid(tmp)) {
			snprintf(why, whyn, "invalid repository name '%s'", tmp);
			goto out;
		}
	} else if (!image_ref_name_valid(tmp)) {
		snprintf(why, whyn, "invalid repository name '%s' (lower-case letters, digits and . _ - / only)", tmp);
		goto out;
	}
	r->repo = tmp;
	tmp = NULL;
	if (!r->tag && !r->has_digest) {
		r->tag = xstrdup("latest");
		r->tag_default = 1;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

/* "PATH[:REST]": the path ends at the first ':' (skopeo's rule). */
static int split_path(const char *s, struct image_ref *r, const char **rest, char *why, size_t whyn)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (n == 0) {
		snprintf(why, whyn, "%s: needs a path", image_transport_name(r->transport));
		return -BERTH_EINVAL;
	}
	r->path = xstrndup(s, n);
	*rest = colon ? colon + 1 : NULL;
	return 0;
}

int image_ref_parse(const char *s, struct image_ref *r, char *why, size_t whyn)
{
	const char *body = NULL, *rest = NULL;
	int rc = -BERTH_EINVAL;

	memset(r, 0, sizeof(*r));
	if (!s || !*s) {
		snprintf(why, whyn, "empty image reference");
		return -BERTH_EINVAL;
	}
	if (strlen(s) > REF_MAX) {
		snprintf(why, whyn, "image reference longer than %d bytes", REF_MAX);
		return -BERTH_EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(why, whyn, "image reference contains a space or control character");
			return -BERTH_EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		size_t n = strlen(transports[i].prefix);
		if (strncmp(s, transports[i].prefix, n) == 0) {
			r->transport = transports[i].t;
			body = s + n;
			break;
		}
	}
	if (!body) {
		snprintf(why, whyn,
			 "'%s': unknown transport; use docker://, oci:, oci-archive:, docker-archive: or local:", s);
		return -BERTH_EINVAL;
	}
	switch (r->transport) {
	case REF_DOCKER:
		rc = parse_named(body, r, 1, 1, why, whyn);
		break;
	case REF_LOCAL:
		rc = parse_named(body, r, 0, 1, why, whyn);
		break;
	case REF_OCI:
	case REF_OCI_ARCHIVE:
		rc = split_path(body, r, &rest, why, whyn);
		if (rc == 0 && rest) {
			if (!oci_ref_valid(rest)) {
				snprintf(why, whyn, "invalid %s reference name '%s'",
					 image_transport_name(r->transport), rest);
				rc = -BERTH_EINVAL;
			} else {
				r->tag = xstrdup(rest);
			}
		}
		break;
	case REF_DOCKER_ARCHIVE:
		rc = split_path(body, r, &rest, why, whyn);
		if (rc == 0 && rest) {
			if (!*rest) {
				snprintf(why, whyn, "docker-archive: empty name after the path");
				rc = -BERTH_EINVAL;
			} else {
				rc = parse_named(rest, r, 0, 0, why, whyn);
			}
		}
		break;
	}
	if (rc < 0)
		image_ref_release(r);
	return rc;
}

void image_ref_release(struct image_ref *r)
{
	free(r->host);
	free(r->repo);
	free(r->tag);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

char *image_ref_format(const struct image_ref *r)
{
	struct buf b;
	char ds[DIGEST_STR_MAX];

	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, image_transport_name(r->transport));
	buf_adds(&b, r->transport == REF_DOCKER ? "://" : ":");
	if (r->path)
		buf_adds(&b, r->path);
	if (r->host)
		buf_addf(&b, "%s/", r->host);
	if (r->repo)
		buf_addf(&b, "%s%s", r->path ? ":" : "", r->repo);
	if (r->tag && !(r->tag_default && r->has_digest))
		buf_addf(&b, ":%s", r->tag);
	if (r->has_digest)
		buf_addf(&b, "@%s", digest_str(&r->digest, ds));
	return buf_detach(&b, NULL);
}
