/* http server: berth's HTTP front end on libmicrohttpd (epoll, a thread pool, sendfile for blobs,
 * request bodies streamed to the registry as they arrive), plain HTTP or HTTPS (GnuTLS inside
 * libmicrohttpd; blobs are then copied instead of sent with sendfile). One log line per request.
 *
 *   struct server *s; server_start(&opts, &s, why, sizeof why);
 *   ... wait for SIGTERM ...; server_stop(s, 30);
 */
#ifndef BERTH_HTTP_SERVER_H
#define BERTH_HTTP_SERVER_H

#include <stdint.h>

struct registry;
struct server;

struct server_opts {
	const char *addr; /* "HOST:PORT"; port 0 picks a free one */
	int threads; /* 0: one per core, at least 2 */
	struct registry *reg;
	const char *tls_cert_pem; /* PEM text of the certificate chain; NULL serves plain HTTP */
	const char *tls_key_pem; /* PEM text of its private key (required with tls_cert_pem) */
};

/* Binds and starts serving. On failure writes one line into why and returns a negative error. */
int server_start(const struct server_opts *o, struct server **out, char *why, size_t whyn);
/* The port actually bound. */
int server_port(struct server *s);
/* Stops accepting, lets in-flight requests finish (at most timeout_s seconds), then stops and frees. */
void server_stop(struct server *s, int timeout_s);

#endif
