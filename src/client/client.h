/* client: types shared by berth's client side (registry HTTP client, transports, copy).
 *
 * Every client function takes a `struct client_err *` and, on failure, returns a negative BERTH_E*
 * code and leaves one human sentence in e->msg ("manifest unknown: 127.0.0.1:5000/app:v1"), which the
 * CLI prints after "berth: ". Nothing here prints.
 *
 *   struct client_err e = {0};
 *   if (client_remote_open("127.0.0.1:5000", &opts, &r, &e) < 0) fprintf(stderr, "berth: %s\n", e.msg);
 */
#ifndef BERTH_CLIENT_CLIENT_H
#define BERTH_CLIENT_CLIENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/digest.h"
#include "image/desc.h"

struct client_err {
	int code; /* the negative BERTH_E* last set, or 0 */
	char msg[1024];
};

/* Sets e (when not NULL) to code and the formatted message; returns code, which must be negative. */
int client_err_set(struct client_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes e->msg with the formatted text and ": " (context from an outer layer); returns e->code. */
int client_err_wrap(struct client_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options of one command, borrowed by everything opened with them. */
struct client_opts {
	int tls_verify; /* 1 (default): HTTPS with certificate checks; 0: plain HTTP or unverified HTTPS */
	const char *cert_dir; /* --cert-dir: CA files (.crt) and client pairs (.cert + .key), instead of certs.d */
	const char *authfile; /* --authfile; NULL: REGISTRY_AUTH_FILE, then the default files */
	const char *creds; /* --creds USER:PASSWORD, overriding the auth file; may be NULL */
	int retries; /* how often a broken blob download is resumed; 0: the default (5), < 0: never */
	const char *tmp_dir; /* where downloads are spooled; NULL: $TMPDIR, else /var/tmp */
	const char *user_agent;
	const char *store_root; /* local: the host store's root; NULL: /var/lib/berth */
	const char *store_driver; /* local: its graph driver; NULL: the store's own (or the default) */
};

void client_opts_init(struct client_opts *o);

/* What a running transfer reports and obeys. progress is called with bytes done so far of total (from
 * a worker thread; may be NULL). cancel, when set nonzero by another thread, stops the transfer soon
 * with -BERTH_EIO "cancelled". */
struct client_xfer {
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
	atomic_int *cancel;
};

/* The spool directory for downloads: opts->tmp_dir, $TMPDIR or /var/tmp. Borrowed. */
const char *client_tmp_dir(const struct client_opts *o);
/* An anonymous read-write temporary file in dir (O_TMPFILE where supported); returns the fd or a
 * negative error with e set. */
int client_tmpfile(const char *dir, struct client_err *e);

#endif
