#include "client/remote.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "client/auth.h"
#include "image/manifest.h"

#define ERRBODY_MAX (64 << 10) /* error bodies and small JSON answers */
#define TOKEN_BODY_MAX (1 << 20) /* a token server's answer */
#define MONOLITHIC_MAX (32 << 20) /* blobs up to this size go in one PUT */
#define CHUNK_SIZE (64 << 20) /* PATCH chunk size for bigger blobs */
#define POOL_MAX 16
#define TAG_PAGES_MAX 10000
#define CA_PEM_MAX (8 << 20)

struct token {
	char *scope, *value;
	int64_t expires_ms;
};

struct client_remote {
	char *host;
	char base[320]; /* "https://host" or "http://host" */
	const struct client_opts *o;
	char *user, *pass; /* NULL when no credentials are known */
	int verify;
	pthread_mutex_t pool_mu; /* guards the handle pool */
	CURL *idle[POOL_MAX];
	size_t nidle;
	pthread_mutex_t mu; /* guards the auth state below; held during a token fetch */
	enum client_auth_scheme scheme;
	char *realm, *service;
	struct token *tokens;
	size_t ntokens;
	struct buf ca_pem; /* extra CA certificates (certs.d or --cert-dir) */
	char *cert_file, *key_file; /* client certificate */
	int supports_signatures; /* /v2/ answered X-Registry-Supports-Signatures: 1 */
};

/* One HTTP answer. */
struct resp {
	long status;
	struct buf body; /* capped: small bodies and error bodies */
	char *location, *content_type, *digest, *content_range, *link;
	struct buf www; /* WWW-Authenticate values, joined with ", " */
	int sigs; /* X-Registry-Supports-Signatures: 1 */
};

/* One request. Bodies come from mem or from fd; downloads of 2xx bodies may go to sink_fd. */
struct req {
	const char *method;
	char *url;
	const char *scope; /* space-separated scopes for a Bearer token; NULL: none */
	const char *accept, *content_type, *range, *content_range;
	const void *mem;
	size_t mem_len;
	int fd; /* -1: no fd body */
	uint64_t fd_off, fd_len;
	int follow;
	size_t body_max;
	/* download into a file */
	int sink_fd;
	int sink_stream; /* sink_fd is a pipe: write() in order, never truncate (see blob_stream) */
	uint64_t *sink_off, sink_max;
	struct hasher *sink_hash;
	/* upload progress and cancellation */
	struct client_xfer *x;
	uint64_t x_base, x_total;
};

/* Per-perform state shared by the callbacks. */
struct perform {
	struct req *q;
	struct resp *s;
	uint64_t read_pos;
	int sink_started, overflow, bad_range, io_error;
	uint64_t skip; /* stream sink: bytes of a 200 answer already delivered by an earlier try */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void resp_init(struct resp *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->body, max ? max : ERRBODY_MAX);
	buf_init(&s->www, 16 << 10);
}

static void resp_clear_headers(struct resp *s)
{
	free(s->location);
	free(s->content_type);
	free(s->digest);
	free(s->content_range);
	free(s->link);
	s->location = s->content_type = s->digest = s->content_range = s->link = NULL;
	buf_reset(&s->www);
	s->sigs = 0;
}

static void resp_release(struct resp *s)
{
	resp_clear_headers(s);
	buf_release(&s->body);
	buf_release(&s->www);
}

static void req_init(struct req *q, const char *method)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->fd = -1;
	q->sink_fd = -1;
}

static void req_release(struct req *q)
{
	free(q->url);
	q->url = NULL;
}

/* ---------------------------------------------------------------- small helpers */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, BUF_UNLIMITED);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

static char *trim_dup(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

/* A URL for path (absolute "http(s)://..." kept, "/v2/..." joined to the base). */
static char *url_for(const struct client_remote *r, const char *path)
{
	if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8))
		return xstrdup(path);
	return xasprintf("%s%s%s", r->base, path[0] == '/' ? "" : "/", path);
}

static int transient_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static int transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* "CODE: message" of a spec error body, or the start of the body as text; "" when empty. */
static void error_body_text(const struct resp *s, char *out, size_t n)
{
	json_t *root = s->body.len ? json_loadb(s->body.ptr, s->body.len, 0, NULL) : NULL;
	json_t *first = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(first, "code"));
	const char *msg = json_string_value(json_object_get(first, "message"));

	out[0] = '\0';
	if (code) {
		snprintf(out, n, "%s%s%s", code, msg && *msg ? ": " : "", msg ? msg : "");
	} else if (s->body.len) {
		size_t k = 0;
		for (size_t i = 0; i < s->body.len && k + 1 < n && k < 200; i++) {
			char c = s->body.ptr[i];
			out[k++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
		}
		out[k] = '\0';
	}
	json_decref(root);
}

static int has_error_code(const struct resp *s, const char *code)
{
	json_t *root = s->body.len ? json_loadb(s->body.ptr, s->body.len, 0, NULL) : NULL;
	json_t *errs = json_object_get(root, "errors"), *v;
	size_t i;
	int found = 0;

	json_array_foreach(errs, i, v)
	{
		const char *c = json_string_value(json_object_get(v, "code"));
		if (c && !strcmp(c, code))
			found = 1;
	}
	json_decref(root);
	return found;
}

/* A failure for an unexpected status: "what: HTTP 404 (MANIFEST_UNKNOWN: ...)". */
static int status_error(const struct client_remote *r, const struct resp *s, const char *what, struct client_err *e)
{
	char detail[512];
	int code = -BERTH_EIO;

	error_body_text(s, detail, sizeof(detail));
	if (s->status == 404)
		code = -BERTH_ENOENT;
	else if (s->status == 401 || s->status == 403)
		code = -BERTH_EDENIED;
	else if (s->status == 400 && has_error_code(s, "DIGEST_INVALID"))
		code = -BERTH_EDIGEST;
	else if (s->status == 400 || s->status == 405 || s->status == 413 || s->status == 416)
		code = s->status == 413 ? -BERTH_ETOOBIG : -BERTH_EINVAL;
	else if (s->status == 507)
		code = -BERTH_ENOSPC;
	if (s->status == 401)
		return client_err_set(e, code, "%s: authentication required by %s (log in with: berth login %s)", what,
				      r->host, r->host);
	if (s->status == 403)
		return client_err_set(e, code, "%s: access denied by %s%s%s", what, r->host, detail[0] ? ": " : "",
				      detail);
	return client_err_set(e, code, "%s: %s answered HTTP %ld%s%s%s", what, r->host, s->status,
			      detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
}

/* ---------------------------------------------------------------- TLS material */

/* Appends every .crt file of dir to ca_pem and remembers the first .cert/.key pair. */
static int load_cert_dir(struct client_remote *r, const char *dir, struct client_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : client_err_set(e, -BERTH_EIO, "cannot read %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *path;
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (n > 4 && !strcmp(de->d_name + n - 4, ".crt")) {
			FILE *f = fopen(path, "r");
			char tmp[8192];
			size_t k;
			if (!f) {
				rc = client_err_set(e, -BERTH_EIO, "cannot read %s: %s", path, strerror(errno));
				free(path);
				break;
			}
			while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
				if (buf_add(&r->ca_pem, tmp, k) < 0)
					rc = client_err_set(e, -BERTH_ETOOBIG, "%s: too many CA certificates", dir);
			buf_adds(&r->ca_pem, "\n");
			fclose(f);
		} else if (n > 5 && !strcmp(de->d_name + n - 5, ".cert") && !r->cert_file) {
			char *key = xasprintf("%.*s.key", (int)(n - 5), de->d_name);
			char *keypath = xasprintf("%s/%s", dir, key);
			free(key);
			if (access(keypath, R_OK) == 0) {
				r->cert_file = path;
				r->key_file = keypath;
				path = NULL;
			} else {
				rc = client_err_set(e, -BERTH_EINVAL, "%s has no matching key %s", path, keypath);
				free(keypath);
			}
		}
		free(path);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

/* The per-registry certificate folder: --cert-dir, else HOST:PORT (or HOST) under each certs.d root
 * ($BERTH_CERTS_D, a ':'-separated list, default /etc/containers/certs.d:/etc/docker/certs.d). */
static int load_tls_material(struct client_remote *r, struct client_err *e)
{
	const char *roots = getenv("BERTH_CERTS_D");
	char *list, *save = NULL, *root;
	int rc = 0;

	if (r->o->cert_dir && *r->o->cert_dir) {
		struct stat st;
		if (stat(r->o->cert_dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return client_err_set(e, -BERTH_EINVAL, "--cert-dir %s is not a directory", r->o->cert_dir);
		return load_cert_dir(r, r->o->cert_dir, e);
	}
	list = xstrdup(roots && *roots ? roots : "/etc/containers/certs.d:/etc/docker/certs.d");
	for (root = strtok_r(list, ":", &save); root && rc == 0; root = strtok_r(NULL, ":", &save)) {
		char *dir = xasprintf("%s/%s", root, r->host);
		rc = load_cert_dir(r, dir, e);
		free(dir);
	}
	free(list);
	return rc;
}

/* libcurl hands us OpenSSL's context before the handshake: add the extra CAs to its store, so they
 * count next to the system's. */
static CURLcode ssl_ctx_cb(CURL *h, void *sslctx, void *ud)
{
	struct client_remote *r = ud;
	X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
	BIO *bio;
	X509 *x;

	(void)h;
	if (!r->ca_pem.len)
		return CURLE_OK;
	bio = BIO_new_mem_buf(r->ca_pem.ptr, (int)r->ca_pem.len);
	if (!bio)
		return CURLE_OUT_OF_MEMORY;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(store, x); /* a duplicate is harmless */
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	return CURLE_OK;
}

/* ---------------------------------------------------------------- curl callbacks */

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct perform *pf = ud;
	struct resp *s = pf->s;
	size_t n = sz * nm;
	const char *colon;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', n);
		resp_clear_headers(s);
		s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	colon = memchr(p, ':', n);
	if (!colon)
		return n;
#define HDR(name) ((size_t)(colon - p) == strlen(name) && !strncasecmp(p, name, strlen(name)))
	if (HDR("location")) {
		free(s->location);
		s->location = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
	} else if (HDR("content-type")) {
		free(s->content_type);
		s->content_type = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
	} else if (HDR("docker-content-digest")) {
		free(s->digest);
		s->digest = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
	} else if (HDR("content-range")) {
		free(s->content_range);
		s->content_range = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
	} else if (HDR("link")) {
		free(s->link);
		s->link = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
	} else if (HDR("x-registry-supports-signatures")) {
		char *v = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
		s->sigs = !strcmp(v, "1");
		free(v);
	} else if (HDR("www-authenticate")) {
		char *v = trim_dup(colon + 1, n - (size_t)(colon + 1 - p));
		if (s->www.len)
			buf_adds(&s->www, ", ");
		buf_adds(&s->www, v);
		free(v);
	}
#undef HDR
	return n;
}

/* "bytes START-END/TOTAL" -> START; -1 when malformed. */
static int64_t content_range_start(const char *v)
{
	char *end;
	long long a;

	if (!v)
		return -1;
	if (!strncasecmp(v, "bytes", 5))
		v += 5;
	while (*v == ' ' || *v == '=')
		v++;
	if (*v < '0' || *v > '9')
		return -1;
	a = strtoll(v, &end, 10);
	return *end == '-' ? a : -1;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct perform *pf = ud;
	struct req *q = pf->q;
	size_t n = sz * nm, whole = n;

	if (q->sink_fd >= 0 && pf->s->status >= 200 && pf->s->status < 300) {
		if (!pf->sink_started) {
			pf->sink_started = 1;
			if (pf->s->status == 206) {
				if (content_range_start(pf->s->content_range) != (int64_t)*q->sink_off) {
					pf->bad_range = 1;
					return 0;
				}
			} else if (*q->sink_off > 0 && q->sink_stream) {
				/* the server ignored our Range: what a pipe already got is not sent again */
				pf->skip = *q->sink_off;
			} else if (*q->sink_off > 0) {
				/* the server ignored our Range: start over */
				if (ftruncate(q->sink_fd, 0) < 0) {
					pf->io_error = errno;
					return 0;
				}
				*q->sink_off = 0;
				hasher_release(q->sink_hash);
				hasher_init(q->sink_hash, q->sink_hash->alg);
			}
		}
		if (pf->skip) {
			size_t k = n < pf->skip ? n : (size_t)pf->skip;
			pf->skip -= k;
			if (k == n)
				return n;
			p += k;
			n -= k;
		}
		if (n > q->sink_max - *q->sink_off) {
			pf->overflow = 1;
			return 0;
		}
		for (size_t done = 0; done < n;) {
			ssize_t w = q->sink_stream
					? write(q->sink_fd, p + done, n - done)
					: pwrite(q->sink_fd, p + done, n - done, (off_t)(*q->sink_off + done));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				pf->io_error = errno;
				return 0;
			}
			done += (size_t)w;
		}
		hasher_update(q->sink_hash, p, n);
		*q->sink_off += n;
		if (q->x && q->x->progress)
			q->x->progress(q->x->ctx, q->x_base + *q->sink_off, q->x_total);
		return whole;
	}
	if (buf_add(&pf->s->body, p, n) < 0) {
		pf->overflow = 1;
		return 0;
	}
	return n;
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
	struct perform *pf = ud;
	struct req *q = pf->q;
	size_t n = sz * nm, left;

	if (q->fd >= 0) {
		ssize_t got;
		left = (size_t)(q->fd_len - pf->read_pos);
		if (n > left)
			n = left;
		if (n == 0)
			return 0;
		do
			got = pread(q->fd, p, n, (off_t)(q->fd_off + pf->read_pos));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			pf->io_error = got < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		pf->read_pos += (uint64_t)got;
		if (q->x && q->x->progress)
			q->x->progress(q->x->ctx, q->x_base + pf->read_pos, q->x_total);
		return (size_t)got;
	}
	left = q->mem_len - (size_t)pf->read_pos;
	if (n > left)
		n = left;
	if (n == 0)
		return 0;
	memcpy(p, (const char *)q->mem + pf->read_pos, n);
	pf->read_pos += n;
	return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct perform *pf = ud;
	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	pf->read_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static int on_xferinfo(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct perform *pf = ud;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return pf->q->x && pf->q->x->cancel && atomic_load(pf->q->x->cancel) ? 1 : 0;
}

/* ---------------------------------------------------------------- one exchange */

static CURL *handle_take(struct client_remote *r)
{
	CURL *h = NULL;

	pthread_mutex_lock(&r->pool_mu);
	if (r->nidle)
		h = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->pool_mu);
	if (!h)
		h = curl_easy_init();
	else
		curl_easy_reset(h);
	return h;
}

static void handle_give(struct client_remote *r, CURL *h)
{
	pthread_mutex_lock(&r->pool_mu);
	if (r->nidle < POOL_MAX) {
		r->idle[r->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&r->pool_mu);
	if (h)
		curl_easy_cleanup(h);
}

static long stall_seconds(void)
{
	const char *s = getenv("BERTH_CLIENT_STALL_SECONDS");
	long v = s ? strtol(s, NULL, 10) : 0;
	return v > 0 ? v : 60;
}

/* Performs q once with the given Authorization header value (or none). Returns 0 when an HTTP answer
 * came (any status, in s), else a negative code with e set and *cc the curl code. */
static int perform_once(struct client_remote *r, struct req *q, struct resp *s, const char *authz, CURLcode *cc,
			struct client_err *e)
{
	struct curl_slist *hl = NULL;
	struct perform pf = {.q = q, .s = s};
	char errbuf[CURL_ERROR_SIZE] = "", line[8192];
	CURL *h = handle_take(r);
	CURLcode c;
	int rc = 0;

	*cc = CURLE_OK;
	if (!h)
		return client_err_set(e, -BERTH_ENOMEM, "cannot create an HTTP handle");
	resp_clear_headers(s);
	buf_reset(&s->body);
	s->status = 0;
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_seconds());
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, r->o->user_agent ? r->o->user_agent : "berth/0.1.0");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, r);
	if (r->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->key_file);
	}
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &pf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &pf);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &pf);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

	hl = curl_slist_append(hl, "Expect:");
	if (q->accept) {
		snprintf(line, sizeof(line), "Accept: %s", q->accept);
		hl = curl_slist_append(hl, line);
	}
	if (q->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->content_type);
		hl = curl_slist_append(hl, line);
	}
	if (q->range) {
		snprintf(line, sizeof(line), "Range: %s", q->range);
		hl = curl_slist_append(hl, line);
	}
	if (q->content_range) {
		snprintf(line, sizeof(line), "Content-Range: %s", q->content_range);
		hl = curl_slist_append(hl, line);
	}
	if (authz) {
		char *a = xasprintf("Authorization: %s", authz); /* tokens may be longer than line */
		hl = curl_slist_append(hl, a);
		free(a);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);

	if (q->fd >= 0 || q->mem) {
		curl_off_t len = q->fd >= 0 ? (curl_off_t)q->fd_len : (curl_off_t)q->mem_len;
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &pf);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &pf);
		if (!strcmp(q->method, "POST")) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, len);
		} else {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, len);
			if (strcmp(q->method, "PUT"))
				curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
		}
	} else if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (!strcmp(q->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &pf);
	} else if (strcmp(q->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}

	c = curl_easy_perform(h);
	*cc = c;
	if (c != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);
		if (pf.overflow && q->sink_fd >= 0)
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s %s: more bytes than the %llu announced", q->method,
					    q->url, (unsigned long long)q->sink_max);
		else if (pf.overflow)
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s %s: answer larger than %zu bytes", q->method, q->url,
					    s->body.max);
		else if (pf.bad_range)
			rc =
			    client_err_set(e, -BERTH_ERANGE, "%s %s: the server resumed at the wrong offset (%s)",
					   q->method, q->url, s->content_range ? s->content_range : "no Content-Range");
		else if (pf.io_error)
			rc = client_err_set(e, berth_from_errno(pf.io_error), "%s %s: %s", q->method, q->url,
					    strerror(pf.io_error));
		else if (c == CURLE_ABORTED_BY_CALLBACK)
			rc = client_err_set(e, -BERTH_EIO, "cancelled");
		else if (c == CURLE_PEER_FAILED_VERIFICATION)
			rc = client_err_set(
			    e, -BERTH_EDENIED,
			    "TLS: the certificate of %s is not trusted (%s); put its CA in certs.d "
			    "(/etc/containers/certs.d/%s/ca.crt) or --cert-dir, or use --tls-verify=false",
			    r->host, why, r->host);
		else if (c == CURLE_SSL_CONNECT_ERROR)
			rc = client_err_set(
			    e, -BERTH_EIO,
			    "TLS handshake with %s failed (%s); if it serves plain HTTP use --tls-verify=false",
			    r->host, why);
		else if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST)
			rc = client_err_set(e, -BERTH_EIO, "cannot connect to %s: %s", r->host, why);
		else
			rc = client_err_set(e, -BERTH_EIO, "%s %s: %s", q->method, q->url, why);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
	handle_give(r, h);
	return rc;
}

/* ---------------------------------------------------------------- authentication */

static void token_drop(struct client_remote *r, const char *scope)
{
	for (size_t i = 0; i < r->ntokens; i++) {
		if (!strcmp(r->tokens[i].scope, scope)) {
			free(r->tokens[i].scope);
			free(r->tokens[i].value);
			r->tokens[i] = r->tokens[--r->ntokens];
			return;
		}
	}
}

/* Appends "&scope=<s>" for each space-separated scope of list. */
static void add_scopes(struct buf *u, CURL *esc, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		char *v = curl_easy_escape(esc, s, 0);
		buf_addf(u, "&scope=%s", v ? v : "");
		curl_free(v);
	}
	free(copy);
}

/* Fetches a token for scope from the realm (with Basic credentials when known). Caller holds r->mu. */
static int token_fetch(struct client_remote *r, const char *scope, char **out, int64_t *expires, struct client_err *e)
{
	struct req q;
	struct resp s;
	struct buf u;
	json_t *root = NULL;
	const char *tok;
	char *basic = NULL, *authz = NULL;
	CURL *esc = curl_easy_init();
	CURLcode cc;
	int rc;

	*out = NULL;
	req_init(&q, "GET");
	resp_init(&s, TOKEN_BODY_MAX);
	buf_init(&u, 64 << 10);
	buf_adds(&u, r->realm);
	buf_adds(&u, strchr(r->realm, '?') ? "&" : "?");
	if (r->service) {
		char *v = curl_easy_escape(esc, r->service, 0);
		buf_addf(&u, "service=%s", v ? v : "");
		curl_free(v);
	}
	if (scope && *scope)
		add_scopes(&u, esc, scope);
	q.url = buf_detach(&u, NULL);
	q.follow = 1;
	if (r->user) {
		basic = client_basic_encode(r->user, r->pass);
		authz = xasprintf("Basic %s", basic);
	}
	rc = perform_once(r, &q, &s, authz, &cc, e);
	if (rc < 0) {
		client_err_wrap(e, "token request to %s", r->realm);
		goto out;
	}
	if (s.status == 401 || s.status == 403) {
		rc = r->user ? client_err_set(e, -BERTH_EDENIED, "%s: the token server refused the credentials for %s",
					      r->host, r->user)
			     : client_err_set(e, -BERTH_EDENIED,
					      "authentication required by %s (log in with: berth login %s)", r->host,
					      r->host);
		goto out;
	}
	if (s.status != 200) {
		rc = client_err_set(e, -BERTH_EIO, "token request to %s answered HTTP %ld", r->realm, s.status);
		goto out;
	}
	root = json_loadb(s.body.ptr, s.body.len, 0, NULL);
	tok = json_string_value(json_object_get(root, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok || strlen(tok) > 16000 || strpbrk(tok, "\r\n")) {
		rc = client_err_set(e, -BERTH_EINVAL, "token server %s sent no usable token", r->realm);
		goto out;
	}
	{
		json_t *ex = json_object_get(root, "expires_in");
		int64_t secs = json_is_integer(ex) && json_integer_value(ex) > 0 ? json_integer_value(ex) : 60;
		/* renew a little early; never trust a token for less than 10 s of use */
		*expires = time_now_ms() + (secs > 30 ? secs - 10 : secs) * 1000;
	}
	*out = xstrdup(tok);
	rc = 0;
out:
	json_decref(root);
	free(authz);
	if (basic) {
		memset(basic, 0, strlen(basic));
		free(basic);
	}
	curl_easy_cleanup(esc);
	req_release(&q);
	resp_release(&s);
	return rc;
}

/* The Authorization value for scope under the current scheme, or NULL (none needed/known).
 * Caller frees *authz. */
static int authz_for(struct client_remote *r, const char *scope, char **authz, struct client_err *e)
{
	int rc = 0;

	*authz = NULL;
	pthread_mutex_lock(&r->mu);
	if (r->scheme == AUTH_BASIC && r->user) {
		char *b = client_basic_encode(r->user, r->pass);
		*authz = xasprintf("Basic %s", b);
		free(b);
	} else if (r->scheme == AUTH_BEARER) {
		const char *key = scope ? scope : "";
		struct token *t = NULL;
		for (size_t i = 0; i < r->ntokens; i++)
			if (!strcmp(r->tokens[i].scope, key))
				t = &r->tokens[i];
		if (t && t->expires_ms <= time_now_ms()) {
			token_drop(r, key);
			t = NULL;
		}
		if (!t) {
			char *v = NULL;
			int64_t exp = 0;
			rc = token_fetch(r, key, &v, &exp, e);
			if (rc == 0) {
				r->tokens = xrealloc(r->tokens, (r->ntokens + 1) * sizeof(*r->tokens));
				r->tokens[r->ntokens] = (struct token){xstrdup(key), v, exp};
				t = &r->tokens[r->ntokens++];
			}
		}
		if (t)
			*authz = xasprintf("Bearer %s", t->value);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* Learns the challenge of a 401 answer. Returns 0 when a retry can help. */
static int learn_challenge(struct client_remote *r, const struct resp *s, const char *scope, struct client_err *e)
{
	struct client_challenge c;
	int rc = 0;

	if (client_challenge_parse(s->www.ptr, &c) < 0)
		return client_err_set(e, -BERTH_EDENIED, "%s answered 401 without a usable WWW-Authenticate challenge",
				      r->host);
	pthread_mutex_lock(&r->mu);
	r->scheme = c.scheme;
	if (c.scheme == AUTH_BEARER) {
		free(r->realm);
		free(r->service);
		r->realm = c.realm;
		r->service = c.service;
		c.realm = c.service = NULL;
		token_drop(r, scope ? scope : "");
	} else if (!r->user) {
		rc = client_err_set(e, -BERTH_EDENIED, "authentication required by %s (log in with: berth login %s)",
				    r->host, r->host);
	}
	pthread_mutex_unlock(&r->mu);
	client_challenge_release(&c);
	return rc;
}

/* Performs q with authentication: a token or Basic credentials up front when the scheme is known, one
 * more try after a 401 with what its challenge says. 0 when an HTTP answer came (status in s). */
static int do_request(struct client_remote *r, struct req *q, struct resp *s, CURLcode *cc, struct client_err *e)
{
	char *authz = NULL;
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = authz_for(r, q->scope, &authz, e);
		if (rc < 0)
			return rc;
		rc = perform_once(r, q, s, authz, cc, e);
		free(authz);
		authz = NULL;
		if (rc < 0 || s->status != 401 || attempt > 0)
			return rc;
		rc = learn_challenge(r, s, q->scope, e);
		if (rc < 0)
			return rc;
	}
}

static int request(struct client_remote *r, struct req *q, struct resp *s, struct client_err *e)
{
	CURLcode cc;
	return do_request(r, q, s, &cc, e);
}

/* ---------------------------------------------------------------- open / ping */

static int ping(struct client_remote *r, struct client_err *e)
{
	struct req q;
	struct resp s;
	CURLcode cc;
	int rc;

	req_init(&q, "GET");
	resp_init(&s, 0);
	snprintf(r->base, sizeof(r->base), "https://%s", r->host);
	q.url = url_for(r, "/v2/");
	rc = perform_once(r, &q, &s, NULL, &cc, e);
	if (rc < 0 && !r->verify && cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST) {
		/* --tls-verify=false: a registry that speaks plain HTTP. If that is no registry either,
		 * the HTTPS failure is the better explanation. */
		struct client_err https_err = *e;
		int https_rc = rc;
		snprintf(r->base, sizeof(r->base), "http://%s", r->host);
		req_release(&q);
		q.url = url_for(r, "/v2/");
		rc = perform_once(r, &q, &s, NULL, &cc, e);
		if (rc < 0 || (s.status != 200 && s.status != 401)) {
			*e = https_err;
			rc = https_rc;
		}
	}
	if (rc < 0)
		goto out;
	r->supports_signatures = s.sigs;
	if (s.status == 401) {
		struct client_challenge c;
		if (client_challenge_parse(s.www.ptr, &c) == 0) {
			r->scheme = c.scheme;
			r->realm = c.realm;
			r->service = c.service;
			c.realm = c.service = NULL;
			client_challenge_release(&c);
		}
	} else if (s.status != 200) {
		rc = client_err_set(e, -BERTH_EIO, "%s does not answer like a registry (GET /v2/ gave HTTP %ld)",
				    r->host, s.status);
	}
out:
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_open(const char *host, const struct client_opts *o, struct client_remote **out, struct client_err *e)
{
	struct client_remote *r = xcalloc(1, sizeof(*r));
	int rc;

	pthread_once(&curl_once, curl_init_once);
	*out = NULL;
	r->host = xstrdup(host);
	r->o = o;
	r->verify = o->tls_verify;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->pool_mu, NULL);
	buf_init(&r->ca_pem, CA_PEM_MAX);
	rc = client_creds_lookup(o, host, NULL, &r->user, &r->pass, e);
	if (rc < 0 && rc != -BERTH_ENOENT)
		goto fail;
	rc = load_tls_material(r, e);
	if (rc < 0)
		goto fail;
	rc = ping(r, e);
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	client_remote_free(r);
	return rc;
}

void client_remote_free(struct client_remote *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nidle; i++)
		curl_easy_cleanup(r->idle[i]);
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].scope);
		free(r->tokens[i].value);
	}
	free(r->tokens);
	free(r->realm);
	free(r->service);
	if (r->pass)
		memset(r->pass, 0, strlen(r->pass));
	free(r->user);
	free(r->pass);
	free(r->cert_file);
	free(r->key_file);
	buf_release(&r->ca_pem);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->pool_mu);
	free(r->host);
	free(r);
}

const char *client_remote_host(const struct client_remote *r)
{
	return r->host;
}

const char *client_remote_scheme(const struct client_remote *r)
{
	return strncmp(r->base, "https", 5) ? "http" : "https";
}

int client_remote_login_check(struct client_remote *r, struct client_err *e)
{
	struct req q;
	struct resp s;
	int rc;

	if (!r->user)
		return client_err_set(e, -BERTH_EINVAL, "no credentials given");
	if (r->scheme == AUTH_NONE)
		return 0; /* the registry asks for none */
	req_init(&q, "GET");
	resp_init(&s, 0);
	q.url = url_for(r, "/v2/");
	rc = request(r, &q, &s, e);
	if (rc == 0 && s.status != 200)
		rc = s.status == 401
			 ? client_err_set(e, -BERTH_EDENIED, "%s refused the credentials for %s", r->host, r->user)
			 : status_error(r, &s, "GET /v2/", e);
	req_release(&q);
	resp_release(&s);
	return rc;
}

/* ---------------------------------------------------------------- manifests */

static const char *accept_manifests = MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

static char *scope_of(const char *repo, const char *actions)
{
	return xasprintf("repository:%s:%s", repo, actions);
}

/* The media type without parameters; NULL for empty or generic types. */
static char *media_type_clean(const char *ct)
{
	size_t n;

	if (!ct)
		return NULL;
	n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 0 || (n == 24 && !strncasecmp(ct, "application/octet-stream", 24)) ||
	    (n == 10 && !strncasecmp(ct, "text/plain", 10)) || (n == 16 && !strncasecmp(ct, "application/json", 16)))
		return NULL;
	return xstrndup(ct, n);
}

int client_remote_manifest_get(struct client_remote *r, const char *repo, const char *ref, struct buf *body,
			       char **media_type, struct digest *dg, struct client_err *e)
{
	struct req q;
	struct resp s;
	struct digest want, announced;
	int by_digest = strchr(ref, ':') != NULL, rc;
	char *scope = scope_of(repo, "pull"), *mt = NULL;

	*media_type = NULL;
	req_init(&q, "GET");
	resp_init(&s, CLIENT_MANIFEST_MAX);
	if (by_digest && digest_parse_cstr(ref, &want) < 0) {
		rc = client_err_set(e, -BERTH_EINVAL, "invalid digest %s", ref);
		goto out;
	}
	q.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
	q.scope = scope;
	q.accept = accept_manifests;
	q.follow = 1;
	rc = request(r, &q, &s, e);
	if (rc == -BERTH_ETOOBIG) {
		client_err_set(e, rc, "manifest %s/%s:%s is larger than %d bytes", r->host, repo, ref,
			       CLIENT_MANIFEST_MAX);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (s.status == 404 &&
	    (has_error_code(&s, "MANIFEST_UNKNOWN") || has_error_code(&s, "NAME_UNKNOWN") || !s.body.len)) {
		rc = client_err_set(e, -BERTH_ENOENT, "manifest unknown: %s/%s%s%s", r->host, repo,
				    by_digest ? "@" : ":", ref);
		goto out;
	}
	if (s.status != 200) {
		char what[512];
		snprintf(what, sizeof(what), "GET manifest %s/%s%s%s", r->host, repo, by_digest ? "@" : ":", ref);
		rc = status_error(r, &s, what, e);
		goto out;
	}
	if (by_digest) {
		digest_of(want.alg, s.body.ptr, s.body.len, dg);
		if (!digest_eq(dg, &want)) {
			char got[DIGEST_STR_MAX];
			rc = client_err_set(e, -BERTH_EDIGEST, "digest mismatch: manifest %s/%s@%s has digest %s",
					    r->host, repo, ref, digest_str(dg, got));
			goto out;
		}
	} else {
		digest_of(DIGEST_SHA256, s.body.ptr, s.body.len, dg);
		if (s.digest && digest_parse_cstr(s.digest, &announced) == 0) {
			struct digest mine;
			digest_of(announced.alg, s.body.ptr, s.body.len, &mine);
			if (!digest_eq(&mine, &announced)) {
				rc = client_err_set(
				    e, -BERTH_EDIGEST,
				    "digest mismatch: manifest %s/%s:%s is not the %s the registry announced", r->host,
				    repo, ref, s.digest);
				goto out;
			}
		}
	}
	mt = media_type_clean(s.content_type);
	if (!mt) {
		json_t *root = json_loadb(s.body.ptr, s.body.len, 0, NULL);
		const char *m = json_string_value(json_object_get(root, "mediaType"));
		if (m)
			mt = xstrdup(m);
		else if (json_is_array(json_object_get(root, "manifests")))
			mt = xstrdup(MT_OCI_INDEX);
		else if (json_is_object(json_object_get(root, "config")))
			mt = xstrdup(MT_OCI_MANIFEST);
		json_decref(root);
	}
	if (!mt) {
		rc = client_err_set(e, -BERTH_EUNSUPPORTED, "manifest %s/%s:%s has no media type", r->host, repo, ref);
		goto out;
	}
	buf_reset(body);
	rc = buf_add(body, s.body.ptr, s.body.len);
	if (rc < 0) {
		client_err_set(e, rc, "manifest too large");
		goto out;
	}
	*media_type = mt;
	mt = NULL;
out:
	free(mt);
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_manifest_digest(struct client_remote *r, const char *repo, const char *ref, struct digest *dg,
				  struct client_err *e)
{
	struct req q;
	struct resp s;
	struct buf body;
	char *scope = scope_of(repo, "pull"), *mt = NULL;
	int rc;

	if (strchr(ref, ':'))
		return digest_parse_cstr(ref, dg) < 0 ? client_err_set(e, -BERTH_EINVAL, "invalid digest %s", ref) : 0;
	req_init(&q, "HEAD");
	resp_init(&s, 0);
	q.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
	q.scope = scope;
	q.accept = accept_manifests;
	q.follow = 1;
	rc = request(r, &q, &s, e);
	if (rc == 0 && s.status == 404) {
		rc = client_err_set(e, -BERTH_ENOENT, "manifest unknown: %s/%s:%s", r->host, repo, ref);
	} else if (rc == 0 && s.status == 200 && s.digest && digest_parse_cstr(s.digest, dg) == 0) {
		rc = 0;
	} else if (rc == 0) {
		/* no usable header: the digest of the bytes */
		buf_init(&body, CLIENT_MANIFEST_MAX);
		rc = client_remote_manifest_get(r, repo, ref, &body, &mt, dg, e);
		buf_release(&body);
		free(mt);
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_manifest_put(struct client_remote *r, const char *repo, const char *ref, const void *body, size_t len,
			       const char *media_type, struct client_err *e)
{
	struct req q;
	struct resp s;
	struct digest mine, theirs;
	char *scope = scope_of(repo, "pull,push");
	int rc;

	req_init(&q, "PUT");
	resp_init(&s, 0);
	q.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
	q.scope = scope;
	q.content_type = media_type;
	q.mem = body;
	q.mem_len = len;
	rc = request(r, &q, &s, e);
	if (rc < 0)
		goto out;
	if (s.status != 201 && s.status != 200 && s.status != 202) {
		char what[512];
		snprintf(what, sizeof(what), "PUT manifest %s/%s:%s", r->host, repo, ref);
		rc = status_error(r, &s, what, e);
		goto out;
	}
	if (s.digest && digest_parse_cstr(s.digest, &theirs) == 0) {
		digest_of(theirs.alg, body, len, &mine);
		if (!digest_eq(&mine, &theirs))
			rc = client_err_set(e, -BERTH_EDIGEST,
					    "%s stored the manifest for %s/%s:%s as %s, not as its bytes' digest",
					    r->host, r->host, repo, ref, s.digest);
	}
out:
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_manifest_delete(struct client_remote *r, const char *repo, const struct digest *dg,
				  struct client_err *e)
{
	struct req q;
	struct resp s;
	char ds[DIGEST_STR_MAX], *scope = scope_of(repo, "delete");
	int rc;

	req_init(&q, "DELETE");
	resp_init(&s, 0);
	q.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, digest_str(dg, ds));
	q.scope = scope;
	rc = request(r, &q, &s, e);
	if (rc == 0 && s.status == 404)
		rc = client_err_set(e, -BERTH_ENOENT, "manifest unknown: %s/%s@%s", r->host, repo, ds);
	else if (rc == 0 && s.status == 405)
		rc = client_err_set(e, -BERTH_EUNSUPPORTED, "%s does not allow deleting manifests (HTTP 405)", r->host);
	else if (rc == 0 && s.status != 202 && s.status != 200 && s.status != 204) {
		char what[512];
		snprintf(what, sizeof(what), "DELETE manifest %s/%s@%s", r->host, repo, ds);
		rc = status_error(r, &s, what, e);
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

/* ---------------------------------------------------------------- blobs */

int client_remote_blob_exists(struct client_remote *r, const char *repo, const struct image_desc *d,
			      struct client_err *e)
{
	struct req q;
	struct resp s;
	char ds[DIGEST_STR_MAX], *scope = scope_of(repo, "pull,push");
	int rc;

	req_init(&q, "HEAD");
	resp_init(&s, 0);
	q.url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, digest_str(&d->digest, ds));
	q.scope = scope;
	q.follow = 1;
	rc = request(r, &q, &s, e);
	if (rc == 0) {
		if (s.status == 200)
			rc = 1;
		else if (s.status == 404)
			rc = 0;
		else if (s.status == 401 || s.status == 403)
			rc = 0; /* a push may still be allowed; let the upload say */
		else
			rc = status_error(r, &s, "HEAD blob", e);
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

static int blob_get(struct client_remote *r, const char *repo, const struct image_desc *d, int fd, int stream,
		    struct client_xfer *x, struct client_err *e)
{
	struct req q;
	struct resp s;
	struct hasher h = {0};
	struct digest got;
	char ds[DIGEST_STR_MAX], gs[DIGEST_STR_MAX], range[64], *scope = scope_of(repo, "pull");
	uint64_t off = 0, size = (uint64_t)d->size;
	int retries = r->o->retries < 0 ? 0 : r->o->retries == 0 ? 5 : r->o->retries, broken = 0, rc;
	CURLcode cc;

	digest_str(&d->digest, ds);
	req_init(&q, "GET");
	resp_init(&s, 0);
	if (!stream && ftruncate(fd, 0) < 0) {
		rc = client_err_set(e, berth_from_errno(errno), "cannot truncate the download file: %s",
				    strerror(errno));
		goto out;
	}
	rc = hasher_init(&h, d->digest.alg);
	if (rc < 0)
		goto out;
	q.url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, ds);
	q.scope = scope;
	q.follow = 1;
	q.sink_fd = fd;
	q.sink_stream = stream;
	q.sink_off = &off;
	q.sink_max = size;
	q.sink_hash = &h;
	q.x = x;
	q.x_total = size;
	for (int norange = 0;;) {
		q.range = NULL;
		if (off > 0 && !norange) {
			snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)off);
			q.range = range;
		}
		if (off == size && size > 0)
			break;
		rc = do_request(r, &q, &s, &cc, e);
		if (rc == 0 && (s.status == 200 || s.status == 206)) {
			if (off == size)
				break;
			/* the body ended early without a transport error: resume like a broken connection */
			cc = CURLE_PARTIAL_FILE;
			rc = client_err_set(e, -BERTH_EIO, "blob %s ended after %llu of %llu bytes", ds,
					    (unsigned long long)off, (unsigned long long)size);
		} else if (rc == 0 && s.status == 404) {
			rc = client_err_set(e, -BERTH_ENOENT, "blob unknown: %s/%s@%s", r->host, repo, ds);
			goto out;
		} else if (rc == 0 && !transient_status(s.status)) {
			char what[512];
			snprintf(what, sizeof(what), "GET blob %s", ds);
			rc = status_error(r, &s, what, e);
			goto out;
		} else if (rc == 0) {
			rc = client_err_set(e, -BERTH_EIO, "GET blob %s: HTTP %ld", ds, s.status);
			cc = CURLE_RECV_ERROR;
		}
		if (rc == -BERTH_ETOOBIG) {
			client_err_set(e, -BERTH_ETOOBIG, "blob %s: the registry sent more than its %llu bytes", ds,
				       (unsigned long long)size);
			goto out;
		}
		if (rc == -BERTH_ERANGE && stream) {
			/* resumed at another offset than asked: ask for the whole blob, drop what the pipe has */
			norange = 1;
			cc = CURLE_RECV_ERROR;
		} else if (rc == -BERTH_ERANGE) {
			/* resumed at another offset than asked: start over from byte 0 */
			if (ftruncate(fd, 0) < 0) {
				rc = client_err_set(e, berth_from_errno(errno), "cannot truncate the download file");
				goto out;
			}
			off = 0;
			hasher_release(&h);
			hasher_init(&h, d->digest.alg);
			cc = CURLE_RECV_ERROR;
		}
		if (!transient_curl(cc) || (x && x->cancel && atomic_load(x->cancel)))
			goto out;
		if (++broken > retries) {
			client_err_wrap(e, "download of %s broke off %d times", ds, broken);
			goto out;
		}
		sleep_ms(100L * broken * broken);
	}
	hasher_final(&h, &got);
	if (off != size) {
		rc = client_err_set(e, -BERTH_EIO, "blob %s: got %llu bytes, expected %llu", ds,
				    (unsigned long long)off, (unsigned long long)size);
	} else if (!digest_eq(&got, &d->digest)) {
		rc = client_err_set(e, -BERTH_EDIGEST, "digest mismatch: blob %s from %s/%s has digest %s", ds, r->host,
				    repo, digest_str(&got, gs));
	} else {
		rc = 0;
	}
out:
	hasher_release(&h);
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_blob_fetch(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			     struct client_xfer *x, struct client_err *e)
{
	return blob_get(r, repo, d, fd, 0, x, e);
}

int client_remote_blob_stream(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			      struct client_xfer *x, struct client_err *e)
{
	return blob_get(r, repo, d, fd, 1, x, e);
}

/* Appends ?digest= or &digest= to a Location. */
static char *with_digest(struct client_remote *r, const char *loc, const char *ds)
{
	char *u = url_for(r, loc), *out = xasprintf("%s%sdigest=%s", u, strchr(u, '?') ? "&" : "?", ds);
	free(u);
	return out;
}

static void upload_cancel(struct client_remote *r, const char *loc, const char *scope)
{
	struct req q;
	struct resp s;
	struct client_err ignored;

	req_init(&q, "DELETE");
	resp_init(&s, 0);
	q.url = url_for(r, loc);
	q.scope = scope;
	request(r, &q, &s, &ignored);
	req_release(&q);
	resp_release(&s);
}

int client_remote_blob_mount(struct client_remote *r, const char *repo, const char *from, const struct image_desc *d,
			     struct client_err *e)
{
	struct req q;
	struct resp s;
	char ds[DIGEST_STR_MAX], *scope;
	int rc;

	digest_str(&d->digest, ds);
	scope = xasprintf("repository:%s:pull,push repository:%s:pull", repo, from);
	resp_init(&s, 0);
	req_init(&q, "POST");
	q.scope = scope;
	q.url = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", r->base, repo, ds, from);
	rc = request(r, &q, &s, e);
	if (rc == 0) {
		if (s.status == 201) {
			rc = 1;
		} else {
			if (s.status == 202 && s.location)
				upload_cancel(r, s.location, scope);
			rc = 0;
		}
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_blob_upload(struct client_remote *r, const char *repo, const struct image_desc *d, int fd,
			      struct client_xfer *x, struct client_err *e)
{
	struct req q;
	struct resp s;
	char ds[DIGEST_STR_MAX], what[256], *scope, *loc = NULL;
	uint64_t size = (uint64_t)d->size;
	int rc;

	digest_str(&d->digest, ds);
	snprintf(what, sizeof(what), "upload of %s to %s/%s", ds, r->host, repo);
	scope = scope_of(repo, "pull,push");
	resp_init(&s, 0);
	req_init(&q, "POST");
	q.scope = scope;
	q.url = xasprintf("%s/v2/%s/blobs/uploads/", r->base, repo);
	rc = request(r, &q, &s, e);
	if (rc < 0)
		goto out;
	if (s.status != 202 || !s.location) {
		rc = status_error(r, &s, what, e);
		goto out;
	}
	loc = xstrdup(s.location);
	if (size > MONOLITHIC_MAX) {
		/* PATCH chunks, each answered with the session's next Location */
		for (uint64_t off = 0; off < size;) {
			uint64_t n = size - off < CHUNK_SIZE ? size - off : CHUNK_SIZE;
			char cr[64];
			req_release(&q);
			req_init(&q, "PATCH");
			q.scope = scope;
			q.url = url_for(r, loc);
			q.content_type = "application/octet-stream";
			snprintf(cr, sizeof(cr), "%llu-%llu", (unsigned long long)off,
				 (unsigned long long)(off + n - 1));
			q.content_range = cr;
			q.fd = fd;
			q.fd_off = off;
			q.fd_len = n;
			q.x = x;
			q.x_base = off;
			q.x_total = size;
			rc = request(r, &q, &s, e);
			if (rc < 0)
				goto cancel;
			if (s.status != 202) {
				rc = status_error(r, &s, what, e);
				goto cancel;
			}
			if (s.location) {
				free(loc);
				loc = xstrdup(s.location);
			}
			off += n;
		}
	}
	req_release(&q);
	req_init(&q, "PUT");
	q.scope = scope;
	q.url = with_digest(r, loc, ds);
	q.content_type = "application/octet-stream";
	if (size <= MONOLITHIC_MAX && size > 0) {
		q.fd = fd;
		q.fd_off = 0;
		q.fd_len = size;
		q.x = x;
		q.x_total = size;
	}
	rc = request(r, &q, &s, e);
	if (rc < 0)
		goto cancel;
	if (s.status != 201 && s.status != 204 && s.status != 200) {
		rc = status_error(r, &s, what, e);
		goto cancel;
	}
	goto out;
cancel:
	if (loc)
		upload_cancel(r, loc, scope);
out:
	free(loc);
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

/* The target of a Link header's rel="next", or NULL. */
static char *link_next(const char *link)
{
	const char *lt, *gt;

	if (!link || !strstr(link, "rel=\"next\"") || !(lt = strchr(link, '<')) || !(gt = strchr(lt, '>')))
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

int client_remote_tags_list(struct client_remote *r, const char *repo, char ***tags, size_t *n, struct client_err *e)
{
	struct req q;
	struct resp s;
	char *scope = scope_of(repo, "pull"), *next = NULL;
	char **v = NULL;
	size_t k = 0;
	int rc = 0;

	*tags = NULL;
	*n = 0;
	resp_init(&s, 16 << 20);
	req_init(&q, "GET");
	q.scope = scope;
	q.follow = 1;
	q.url = xasprintf("%s/v2/%s/tags/list", r->base, repo);
	for (int page = 0; page < TAG_PAGES_MAX; page++) {
		json_t *root, *arr, *t;
		size_t i;

		rc = request(r, &q, &s, e);
		if (rc < 0)
			break;
		if (s.status == 404) {
			rc = client_err_set(e, -BERTH_ENOENT, "repository unknown: %s/%s", r->host, repo);
			break;
		}
		if (s.status != 200) {
			rc = status_error(r, &s, "GET tags", e);
			break;
		}
		root = json_loadb(s.body.ptr, s.body.len, 0, NULL);
		arr = json_object_get(root, "tags");
		if (!root || (arr && !json_is_array(arr) && !json_is_null(arr))) {
			json_decref(root);
			rc = client_err_set(e, -BERTH_EINVAL, "%s sent a tag list that is not JSON", r->host);
			break;
		}
		json_array_foreach(arr, i, t)
		{
			if (!json_is_string(t))
				continue;
			v = xrealloc(v, (k + 1) * sizeof(*v));
			v[k++] = xstrdup(json_string_value(t));
		}
		json_decref(root);
		next = link_next(s.link);
		if (!next)
			break;
		req_release(&q);
		q.url = url_for(r, next);
		free(next);
		next = NULL;
	}
	if (rc < 0) {
		client_strv_free(v, k);
	} else {
		*tags = v;
		*n = k;
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

void client_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---------------------------------------------------------------- small requests (signatures, berth's API) */

int client_remote_supports_signatures(const struct client_remote *r)
{
	return r->supports_signatures;
}

int client_remote_get(struct client_remote *r, const char *repo, const char *path, const char *accept, size_t max,
		      struct buf *body, long *status, char **content_type, struct client_err *e)
{
	struct req q;
	struct resp s;
	char *scope = repo ? scope_of(repo, "pull") : NULL;
	int rc;

	*status = 0;
	if (content_type)
		*content_type = NULL;
	req_init(&q, "GET");
	resp_init(&s, max);
	q.url = url_for(r, path);
	q.scope = scope;
	q.accept = accept;
	q.follow = 1;
	rc = request(r, &q, &s, e);
	if (rc == -BERTH_ETOOBIG)
		client_err_set(e, rc, "%s%s is larger than %zu bytes", r->host, path, max);
	if (rc == 0) {
		*status = s.status;
		buf_reset(body);
		if (s.status == 200 && buf_add(body, s.body.ptr, s.body.len) < 0)
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s%s is too large", r->host, path);
		if (content_type)
			*content_type = media_type_clean(s.content_type);
		if (rc == 0 && s.status != 200 && s.status != 404) {
			char what[512];
			snprintf(what, sizeof(what), "GET %s", path);
			rc = status_error(r, &s, what, e);
		}
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_remote_put(struct client_remote *r, const char *repo, const char *path, const char *content_type,
		      const void *body, size_t len, long *status, struct client_err *e)
{
	struct req q;
	struct resp s;
	char *scope = scope_of(repo, "pull,push");
	int rc;

	*status = 0;
	req_init(&q, "PUT");
	resp_init(&s, 0);
	q.url = url_for(r, path);
	q.scope = scope;
	q.content_type = content_type;
	q.mem = body;
	q.mem_len = len;
	rc = request(r, &q, &s, e);
	if (rc == 0) {
		*status = s.status;
		if (s.status < 200 || s.status > 299) {
			char what[512];
			snprintf(what, sizeof(what), "PUT %s", path);
			rc = status_error(r, &s, what, e);
		}
	}
	free(scope);
	req_release(&q);
	resp_release(&s);
	return rc;
}

int client_url_get(const struct client_opts *o, const char *url, size_t max, struct buf *out, long *status,
		   struct client_err *e)
{
	struct client_remote *r;
	struct req q;
	struct resp s;
	const char *h;
	CURLcode cc;
	int rc;

	*status = 0;
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		return client_err_set(e, -BERTH_EINVAL, "%s is not an http(s) URL", url);
	pthread_once(&curl_once, curl_init_once);
	h = strstr(url, "://") + 3;
	r = xcalloc(1, sizeof(*r));
	r->host = xstrndup(h, strcspn(h, "/?#"));
	r->o = o;
	r->verify = o->tls_verify;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->pool_mu, NULL);
	buf_init(&r->ca_pem, CA_PEM_MAX);
	req_init(&q, "GET");
	resp_init(&s, max);
	q.url = xstrdup(url);
	q.follow = 1;
	rc = load_tls_material(r, e);
	if (rc == 0)
		rc = perform_once(r, &q, &s, NULL, &cc, e);
	if (rc == 0) {
		*status = s.status;
		buf_reset(out);
		if (s.status == 200 && buf_add(out, s.body.ptr, s.body.len) < 0)
			rc = client_err_set(e, -BERTH_ETOOBIG, "%s is too large", url);
		else if (s.status != 200 && s.status != 404)
			rc = client_err_set(e, -BERTH_EIO, "GET %s: HTTP %ld", url, s.status);
	}
	req_release(&q);
	resp_release(&s);
	client_remote_free(r);
	return rc;
}
