/* server: libmicrohttpd daemon, router and request lifecycle (see server.h and internal.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "http/internal.h"

static atomic_int in_flight; /* requests begun and not yet completed */

int http__in_flight(void)
{
	return atomic_load(&in_flight);
}

/* Splits "/v2/<name>/<resource>/<arg>" and calls the handler; answers 404 for anything else. */
static void route(struct req *q)
{
	char *p = q->route_buf, *last, *prev;
	size_t n = strlen(p);

	if (strcmp(p, "/metrics") == 0) {
		h_metrics(q);
		return;
	}
	if (strcmp(p, "/v2") == 0 || strcmp(p, "/v2/") == 0) {
		h_api_base(q);
		return;
	}
	if (strncmp(p, "/api/v1/errata", 14) == 0 && (p[14] == '\0' || p[14] == '/')) {
		h_errata(q, p + 14);
		return;
	}
	if (strcmp(p, "/api/v1/grades") == 0) {
		h_grades(q);
		return;
	}
	if (strcmp(p, "/api/v1/custody") == 0) {
		h_custody(q);
		return;
	}
	if (strncmp(p, "/extensions/v2/", 15) == 0) {
		char *sig = NULL, *at = p + 15;
		/* the last "/signatures/": a digest has no slash, a repository name may hold the word */
		while ((at = strstr(at, "/signatures/")) != NULL)
			sig = at++;
		if (!sig || sig == p + 15)
			goto notfound;
		*sig = '\0';
		q->name = p + 15;
		q->arg = sig + 12;
		if (!registry_name_valid(q->name)) {
			answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
			return;
		}
		h_signatures(q);
		return;
	}
	if (strncmp(p, "/api/v1/repositories/", 21) == 0) {
		h_scan(q, p + 20);
		return;
	}
	if (strncmp(p, "/v2/", 4) != 0)
		goto notfound;
	if (strcmp(p, "/v2/_catalog") == 0) {
		h_api_catalog(q);
		return;
	}
	p += 4;
	n -= 4;
	if (n > 10 && strcmp(p + n - 10, "/tags/list") == 0) {
		p[n - 10] = '\0';
		q->name = p;
		if (!registry_name_valid(q->name)) {
			answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
			return;
		}
		h_tags_list(q);
		return;
	}
	last = strrchr(p, '/');
	if (!last || last == p)
		goto notfound;
	*last = '\0';
	q->arg = last + 1;
	prev = strrchr(p, '/');
	if (!prev)
		goto notfound;
	*prev = '\0';
	q->name = p;
	prev++;
	if (strcmp(prev, "uploads") == 0) {
		char *blobs = strrchr(p, '/');
		if (!blobs || strcmp(blobs, "/blobs") != 0)
			goto notfound;
		*blobs = '\0';
	}
	if (!registry_name_valid(q->name)) {
		answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
		return;
	}
	if (strcmp(prev, "manifests") == 0) {
		h_manifest(q);
	} else if (strcmp(prev, "referrers") == 0) {
		h_referrers(q);
	} else if (strcmp(prev, "uploads") == 0) {
		if (q->arg[0] == '\0')
			h_upload_start(q);
		else
			h_upload(q);
	} else if (strcmp(prev, "blobs") == 0) {
		if (strcmp(q->arg, "uploads") == 0) {
			q->arg = last + 1 + 7; /* "" */
			h_upload_start(q);
		} else {
			h_blob(q);
		}
	} else {
		goto notfound;
	}
	return;
notfound:
	if (q->name && !registry_name_valid(q->name)) {
		answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
		return;
	}
	answer_errorf(q, REG_NAME_UNKNOWN, 404, "no such endpoint");
}

static void req_id(char out[17])
{
	unsigned char b[8];
	static const char hx[] = "0123456789abcdef";

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[16] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Called by libmicrohttpd with the raw request URI before anything else: the request object starts
 * here, with the path percent-decoded except for an encoded slash ("%2F" stays as it is, so that a
 * name or tag carrying one fails the grammar instead of turning into two path segments). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *q = xcalloc(1, sizeof(*q));
	size_t n = strcspn(uri, "?#"), o = 0;
	char *p = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (uri[i] == '%' && i + 2 < n && (hi = hexval(uri[i + 1])) >= 0 && (lo = hexval(uri[i + 2])) >= 0 &&
		    !(hi == 2 && lo == 15) && (hi << 4 | lo) != 0) {
			p[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			p[o++] = uri[i];
		}
	}
	p[o] = '\0';
	q->path = p;
	q->route_buf = xstrdup(p);
	q->start_ns = time_mono_ns();
	req_id(q->id);
	atomic_fetch_add(&in_flight, 1);
	return q;
}

/* 1 when the request announces a body (Content-Length > 0 or chunked transfer coding). */
static int has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");

	if (te && strcasestr(te, "chunked"))
		return 1;
	return cl && strtoull(cl, NULL, 10) > 0;
}

/* Bodies of batch handlers (blob uploads) reach them in pieces of up to this size rather than as
 * libmicrohttpd reads them (a few KiB each with the small connection pool below), so a 512 MiB
 * upload costs 2,048 file writes instead of ~60,000. A request that breaks off drops the staged
 * bytes with the rest of it. */
#define BODY_STAGE (256u << 10)

static int body_flush(struct req *q)
{
	size_t n = q->stage_len;

	q->stage_len = 0;
	return n ? q->on_body(q, q->stage, n) : 0;
}

static int body_feed(struct req *q, const char *p, size_t n)
{
	if (!q->batch)
		return q->on_body(q, p, n);
	if (q->stage_len + n > BODY_STAGE && body_flush(q) < 0)
		return -1;
	if (n >= BODY_STAGE)
		return q->on_body(q, p, n);
	if (!q->stage) {
		q->stage = malloc(BODY_STAGE);
		if (!q->stage)
			return q->on_body(q, p, n);
	}
	memcpy(q->stage + q->stage_len, p, n);
	q->stage_len += n;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct server *s = cls;
	struct req *q = *con_cls;

	if (!q->conn) {
		q->srv = s;
		q->conn = conn;
		q->method = method;
		q->is_head = strcmp(method, "HEAD") == 0;
		buf_init(&q->body, 0);
		/* Requests that carry a body are routed now so the body can stream to its handler; the rest
		 * are answered on the next call, since a response queued before the request is fully read
		 * makes libmicrohttpd close the connection. */
		if (has_body(conn)) {
			q->routed = 1;
			route(q);
		}
		return MHD_YES;
	}
	if (!q->routed) {
		q->routed = 1;
		route(q);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (q->on_body && !q->failed && !q->answered && body_feed(q, upload_data, n) < 0)
			q->failed = 1;
		return MHD_YES;
	}
	if (q->on_body && !q->failed && !q->answered && body_flush(q) < 0)
		q->failed = 1;
	if (!q->answered) {
		if (q->failed)
			answer_error(q, &q->err);
		else if (q->on_done)
			q->on_done(q);
		else
			answer_errorf(q, REG_UNSUPPORTED, 500, "request had no handler");
	}
	return MHD_YES;
}

/* Logs the request and undoes what a broken-off request left behind. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;
	const char *ua;
	uint64_t us;

	if (!q)
		return;
	if (!q->method)
		q->method = "-"; /* the request broke off before its headers were read */
	if (q->on_abort)
		q->on_abort(q);
	us = (time_mono_ns() - q->start_ns) / 1000;
	ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		metrics_request_done(q->method, q->status, q->bytes, us, 1);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		if (q->status >= 500)
			log_msg(LOG_ERROR, q->id,
				"method=%s path=\"%s\" status=%d bytes=%llu duration_us=%llu error=\"%s\"", q->method,
				q->path, q->status, (unsigned long long)q->bytes, (unsigned long long)us, q->err.msg);
		else
			log_msg(LOG_INFO, q->id,
				"method=%s path=\"%s\" status=%d bytes=%llu duration_us=%llu ua=\"%.60s\"", q->method,
				q->path, q->status, (unsigned long long)q->bytes, (unsigned long long)us, ua ? ua : "");
	} else {
		log_msg(LOG_WARN, q->id, "method=%s path=\"%s\" status=%d duration_us=%llu aborted=%d", q->method,
			q->path, q->answered ? q->status : 0, (unsigned long long)us, (int)toe);
	}
	buf_release(&q->body);
	free(q->stage);
	free(q->path);
	free(q->route_buf);
	free(q);
	*con_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_msg(LOG_DEBUG, NULL, "mhd=\"%s\"", line);
}

/* Parses "HOST:PORT" (HOST an IPv4 address, "localhost" or empty for all) into sa. */
static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	char *end = NULL;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -BERTH_EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return -BERTH_EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -BERTH_EINVAL;
	return 0;
}

/* libmicrohttpd's per-connection memory (headers, read and write buffers). It zeroes the whole pool
 * after every request of a kept-alive connection: with 64 KiB that memset alone was ~9% of the CPU
 * of a manifest GET load, and 16 KiB serves 25-35% more GETs/s here. Headers still get ~12 KiB. */
#define CONN_POOL (16u << 10)

int server_start(const struct server_opts *o, struct server **out, char *why, size_t whyn)
{
	struct sockaddr_in sa;
	struct server *s;
	int threads = o->threads;
	unsigned int flags;
	struct MHD_OptionItem tls[3] = {
	    {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	if (parse_addr(o->addr, &sa) < 0) {
		snprintf(why, whyn, "invalid listen address %s (want HOST:PORT)", o->addr);
		return -BERTH_EINVAL;
	}
	if (threads <= 0)
		threads = ncpu > 2 ? (int)ncpu : 2;
	if (!o->tls_cert_pem != !o->tls_key_pem) {
		snprintf(why, whyn, "TLS needs both a certificate and a key");
		return -BERTH_EINVAL;
	}
	if (o->tls_cert_pem && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(why, whyn, "this libmicrohttpd was built without TLS");
		return -BERTH_EUNSUPPORTED;
	}
	s = xcalloc(1, sizeof(*s));
	s->reg = o->reg;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (o->tls_cert_pem)
		flags |= MHD_USE_TLS;
	if (o->tls_cert_pem) {
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem};
	}
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, tls, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
				     MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				     s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL,
				     MHD_OPTION_CONNECTION_TIMEOUT, 300u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(why, whyn, "cannot listen on %s: %s", o->addr,
			 o->tls_cert_pem ? "failed (is the TLS certificate and key pair valid PEM?)"
			 : errno         ? strerror(errno)
					 : "failed");
		free(s);
		return -BERTH_EIO;
	}
	*out = s;
	return 0;
}

int server_port(struct server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : 0;
}

void server_stop(struct server *s, int timeout_s)
{
	MHD_socket ls;
	uint64_t deadline;

	if (!s)
		return;
	ls = MHD_quiesce_daemon(s->daemon);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	deadline = time_mono_ns() + (uint64_t)timeout_s * 1000000000u;
	while (atomic_load(&in_flight) > 0 && time_mono_ns() < deadline)
		usleep(20000);
	MHD_stop_daemon(s->daemon);
	free(s);
}
