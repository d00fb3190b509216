#include "client/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"

#define CHALLENGE_VALUE_MAX 4096
#define AUTHFILE_MAX (4 << 20)

/* ---------------------------------------------------------------- challenges */

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static size_t read_token(const char **p)
{
	const char *s = *p;
	while (is_tchar(**p))
		(*p)++;
	return (size_t)(*p - s);
}

/* A token or quoted-string value into out; 0 or -BERTH_EINVAL. */
static int read_value(const char **p, struct buf *out)
{
	const char *s = *p;

	buf_reset(out);
	if (*s != '"') {
		size_t n = read_token(p);
		if (n == 0)
			return -BERTH_EINVAL;
		return buf_add(out, s, n);
	}
	s++;
	while (*s && *s != '"') {
		if (*s == '\\') {
			s++;
			if (!*s)
				return -BERTH_EINVAL;
		}
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return -BERTH_EINVAL;
		if (buf_add(out, s, 1) < 0)
			return -BERTH_ETOOBIG;
		s++;
	}
	if (*s != '"')
		return -BERTH_EINVAL;
	*p = s + 1;
	return 0;
}

void client_challenge_release(struct client_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

int client_challenge_parse(const char *hdr, struct client_challenge *c)
{
	struct client_challenge bearer = {0}, basic = {0}, cur = {0};
	struct buf v;
	const char *p = hdr;
	int rc = -BERTH_EINVAL;

	memset(c, 0, sizeof(*c));
	buf_init(&v, CHALLENGE_VALUE_MAX);
	if (!hdr)
		goto out;
	for (;;) {
		const char *scheme;
		size_t sn;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		scheme = p;
		sn = read_token(&p);
		if (sn == 0)
			goto out;
		memset(&cur, 0, sizeof(cur));
		if (sn == 6 && !strncasecmp(scheme, "bearer", 6))
			cur.scheme = AUTH_BEARER;
		else if (sn == 5 && !strncasecmp(scheme, "basic", 5))
			cur.scheme = AUTH_BASIC;
		if (*p && *p != ' ' && *p != '\t' && *p != ',')
			goto out;
		for (;;) {
			const char *save = p, *name;
			size_t nn;
			char **slot = NULL;

			skip_ws(&p);
			if (*p == ',') {
				p++;
				skip_ws(&p);
			}
			name = p;
			nn = read_token(&p);
			if (nn == 0) {
				if (*p && *p != ',')
					goto out;
				break;
			}
			skip_ws(&p);
			if (*p != '=') {
				p = save; /* the next challenge's scheme */
				break;
			}
			p++;
			skip_ws(&p);
			if (read_value(&p, &v) < 0)
				goto out;
			if (nn == 5 && !strncasecmp(name, "realm", 5))
				slot = &cur.realm;
			else if (nn == 7 && !strncasecmp(name, "service", 7))
				slot = &cur.service;
			else if (nn == 5 && !strncasecmp(name, "scope", 5))
				slot = &cur.scope;
			else if (nn == 5 && !strncasecmp(name, "error", 5))
				slot = &cur.error;
			if (slot) {
				free(*slot);
				*slot = xstrndup(v.ptr, v.len);
			}
			skip_ws(&p);
			if (*p && *p != ',')
				goto out;
		}
		if (cur.scheme == AUTH_BEARER && !bearer.scheme)
			bearer = cur;
		else if (cur.scheme == AUTH_BASIC && !basic.scheme)
			basic = cur;
		else
			client_challenge_release(&cur);
		memset(&cur, 0, sizeof(cur));
	}
	if (bearer.scheme) {
		if (!bearer.realm || !*bearer.realm)
			goto out;
		*c = bearer;
		memset(&bearer, 0, sizeof(bearer));
		rc = 0;
	} else if (basic.scheme) {
		*c = basic;
		memset(&basic, 0, sizeof(basic));
		rc = 0;
	}
out:
	client_challenge_release(&cur);
	client_challenge_release(&bearer);
	client_challenge_release(&basic);
	buf_release(&v);
	return rc;
}

/* ---------------------------------------------------------------- base64 credentials */

char *client_basic_encode(const char *user, const char *pass)
{
	size_t n;
	char *plain, *out;

	if (!user || !pass)
		return NULL;
	n = strlen(user) + 1 + strlen(pass);
	plain = xmalloc(n + 1);
	snprintf(plain, n + 1, "%s:%s", user, pass);
	out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)n);
	OPENSSL_cleanse(plain, n);
	free(plain);
	return out;
}

int client_basic_decode(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64), pad = 0;
	unsigned char *plain;
	char *colon;
	int len;

	*user = *pass = NULL;
	if (n == 0 || n % 4 != 0 || n > 65536)
		return -BERTH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = b64[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			 c == '/' || (c == '=' && i >= n - 2);
		if (!ok || (pad && c != '='))
			return -BERTH_EINVAL;
		if (c == '=')
			pad++;
	}
	plain = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(plain);
		return -BERTH_EINVAL;
	}
	len -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	plain[len] = '\0';
	colon = memchr(plain, ':', (size_t)len);
	if (!colon || memchr(plain, '\0', (size_t)len)) {
		OPENSSL_cleanse(plain, (size_t)len);
		free(plain);
		return -BERTH_EINVAL;
	}
	*user = xstrndup((char *)plain, (size_t)(colon - (char *)plain));
	*pass = xstrdup(colon + 1);
	OPENSSL_cleanse(plain, (size_t)len);
	free(plain);
	return 0;
}

/* ---------------------------------------------------------------- the auth file */

static char *path_join(const char *a, const char *b)
{
	struct buf p;
	buf_init(&p, BUF_UNLIMITED);
	buf_addf(&p, "%s/%s", a, b);
	return buf_detach(&p, NULL);
}

char *client_authfile_default(const char *flag)
{
	const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");

	if (flag && *flag)
		return xstrdup(flag);
	if (env && *env)
		return xstrdup(env);
	if (xdg && *xdg)
		return path_join(xdg, "containers/auth.json");
	if (home && *home)
		return path_join(home, ".config/containers/auth.json");
	return NULL;
}

/* Reads a whole small file; -BERTH_ENOENT when it does not exist. */
static int read_small_file(const char *path, struct buf *out, struct client_err *e)
{
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return -BERTH_ENOENT;
		return client_err_set(e, berth_from_errno(errno), "cannot read %s: %s", path, strerror(errno));
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		if (buf_add(out, tmp, (size_t)n) < 0) {
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s is larger than %d bytes", path, AUTHFILE_MAX);
			break;
		}
	}
	if (n < 0 && rc == 0)
		rc = client_err_set(e, -BERTH_EIO, "cannot read %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int client_authfile_load(const char *path, struct client_authfile *af, struct client_err *e)
{
	struct buf b;
	json_t *root = NULL, *auths;
	json_error_t jerr;
	int rc;

	memset(af, 0, sizeof(*af));
	buf_init(&b, AUTHFILE_MAX);
	rc = read_small_file(path, &b, e);
	if (rc == -BERTH_ENOENT || (rc == 0 && b.len == 0)) {
		root = json_object();
		rc = 0;
	} else if (rc == 0) {
		root = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, &jerr);
		if (!root || !json_is_object(root)) {
			rc = client_err_set(e, -BERTH_EINVAL, "%s is not a JSON object%s%s", path, root ? "" : ": ",
					    root ? "" : jerr.text);
			goto out;
		}
	} else {
		goto out;
	}
	auths = json_object_get(root, "auths");
	if (auths && !json_is_object(auths)) {
		rc = client_err_set(e, -BERTH_EINVAL, "%s: \"auths\" is not an object", path);
		goto out;
	}
	af->path = xstrdup(path);
	af->root = root;
	root = NULL;
out:
	json_decref(root);
	buf_release(&b);
	return rc;
}

void client_authfile_release(struct client_authfile *af)
{
	free(af->path);
	json_decref((json_t *)af->root);
	memset(af, 0, sizeof(*af));
}

/* The host[/path] part of an auths key: without "http://" or "https://" and without a trailing '/'. */
static void key_normalize(const char *key, char *out, size_t n)
{
	size_t len;

	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	str_copy(out, n, key);
	len = strlen(out);
	while (len > 0 && out[len - 1] == '/')
		out[--len] = '\0';
	/* docker's legacy key for its hub: "index.docker.io/v1" */
	if (len > 3 && !strcmp(out + len - 3, "/v1"))
		out[len - 3] = '\0';
}

/* 1 when key names host or a namespace of host/repo; *spec is the length of the matched key. */
static int key_matches(const char *key, const char *host, const char *repo, size_t *spec)
{
	char k[1024];
	size_t hn = strlen(host), kn;

	key_normalize(key, k, sizeof(k));
	kn = strlen(k);
	if (strncmp(k, host, hn) != 0)
		return 0;
	if (k[hn] == '\0') {
		*spec = kn;
		return 1;
	}
	if (k[hn] != '/' || !repo)
		return 0;
	/* "host/ns" matches repo "ns" and "ns/..." */
	{
		const char *ns = k + hn + 1;
		size_t nn = strlen(ns);
		if (strncmp(repo, ns, nn) == 0 && (repo[nn] == '\0' || repo[nn] == '/')) {
			*spec = kn;
			return 1;
		}
	}
	return 0;
}

int client_authfile_get(const struct client_authfile *af, const char *host, const char *repo, char **user, char **pass)
{
	json_t *auths = json_object_get((json_t *)af->root, "auths"), *v, *best = NULL;
	const char *key;
	size_t best_spec = 0, spec;
	const char *auth;

	*user = *pass = NULL;
	json_object_foreach(auths, key, v)
	{
		if (key_matches(key, host, repo, &spec) && (!best || spec > best_spec)) {
			best = v;
			best_spec = spec;
		}
	}
	if (!best)
		return -BERTH_ENOENT;
	auth = json_string_value(json_object_get(best, "auth"));
	if (!auth) {
		/* some writers store username/password instead of auth */
		const char *u = json_string_value(json_object_get(best, "username"));
		const char *p = json_string_value(json_object_get(best, "password"));
		if (u && p) {
			*user = xstrdup(u);
			*pass = xstrdup(p);
			return 0;
		}
		return json_is_object(best) ? -BERTH_ENOENT : -BERTH_EINVAL;
	}
	if (!*auth)
		return -BERTH_ENOENT;
	return client_basic_decode(auth, user, pass);
}

/* Removes keys naming exactly host (any scheme, no namespace); returns how many. */
static int remove_host_keys(json_t *auths, const char *host)
{
	const char *key;
	json_t *v;
	void *tmp;
	int n = 0;
	char k[1024];

	json_object_foreach_safe(auths, tmp, key, v)
	{
		key_normalize(key, k, sizeof(k));
		if (!strcmp(k, host)) {
			json_object_del(auths, key);
			n++;
		}
	}
	return n;
}

int client_authfile_set(struct client_authfile *af, const char *host, const char *user, const char *pass)
{
	json_t *root = af->root, *auths = json_object_get(root, "auths");
	char *b64 = client_basic_encode(user, pass);

	if (!b64)
		return -BERTH_EINVAL;
	if (!auths) {
		auths = json_object();
		json_object_set_new(root, "auths", auths);
	}
	remove_host_keys(auths, host);
	json_object_set_new(auths, host, json_pack("{s:s}", "auth", b64));
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	return 0;
}

int client_authfile_remove(struct client_authfile *af, const char *host)
{
	json_t *auths = json_object_get(af->root, "auths");
	return auths && remove_host_keys(auths, host) > 0 ? 0 : -BERTH_ENOENT;
}

void client_authfile_clear(struct client_authfile *af)
{
	json_t *auths = json_object_get(af->root, "auths");
	if (auths)
		json_object_clear(auths);
}

int client_authfile_save(const struct client_authfile *af, struct client_err *e)
{
	char *text = NULL, *dir = NULL, *slash, tmp[4096];
	int fd = -1, rc = 0;
	size_t n;

	text = json_dumps(af->root, JSON_INDENT(4));
	if (!text)
		return client_err_set(e, -BERTH_ENOMEM, "cannot encode %s", af->path);
	n = strlen(text);
	dir = xstrdup(af->path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST && fs_mkdirs(dir) < 0) {
			rc = client_err_set(e, -BERTH_EIO, "cannot create %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", af->path) >= (int)sizeof(tmp)) {
		rc = client_err_set(e, -BERTH_EINVAL, "path too long: %s", af->path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot write %s: %s", af->path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot write %s: %s", af->path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, af->path) < 0) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot write %s: %s", af->path, strerror(errno));
		unlink(tmp);
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (text) {
		OPENSSL_cleanse(text, n);
		free(text);
	}
	free(dir);
	return rc;
}

int client_creds_lookup(const struct client_opts *o, const char *host, const char *repo, char **user, char **pass,
			struct client_err *e)
{
	const char *explicit_path = o && o->authfile && *o->authfile ? o->authfile : getenv("REGISTRY_AUTH_FILE");
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	char *paths[3] = {NULL, NULL, NULL};
	int rc = -BERTH_ENOENT;

	*user = *pass = NULL;
	if (o && o->creds) {
		const char *colon = strchr(o->creds, ':');
		if (!colon)
			return client_err_set(e, -BERTH_EINVAL, "--creds must be USER:PASSWORD");
		*user = xstrndup(o->creds, (size_t)(colon - o->creds));
		*pass = xstrdup(colon + 1);
		return 0;
	}
	if (explicit_path && *explicit_path) {
		paths[0] = xstrdup(explicit_path);
	} else {
		if (xdg && *xdg)
			paths[0] = path_join(xdg, "containers/auth.json");
		if (home && *home) {
			paths[1] = path_join(home, ".config/containers/auth.json");
			paths[2] = path_join(home, ".docker/config.json");
		}
	}
	for (int i = 0; i < 3 && rc == -BERTH_ENOENT; i++) {
		struct client_authfile af;
		if (!paths[i])
			continue;
		rc = client_authfile_load(paths[i], &af, e);
		if (rc < 0)
			break;
		rc = client_authfile_get(&af, host, repo, user, pass);
		if (rc == -BERTH_EINVAL)
			client_err_set(e, rc, "%s: the entry for %s is not valid base64 of user:password", paths[i],
				       host);
		client_authfile_release(&af);
	}
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	return rc;
}
