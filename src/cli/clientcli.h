/* clientcli: what the client commands (copy, push, pull, inspect, tags, delete, login, logout) share:
 * the common flags, the progress display and the mapping of errors to exit codes.
 *
 * Common flags (each command accepts those that make sense for it):
 *   --tls-verify[=BOOL]  --cert-dir DIR  --authfile FILE  --creds USER:PASS  --retries N
 * copy adds --src-/--dest- variants of the first four, like skopeo. */
#ifndef BERTH_CLI_CLIENTCLI_H
#define BERTH_CLI_CLIENTCLI_H

#include <getopt.h>

#include "client/client.h"
#include "client/copy.h"

/* Long-option codes shared by the client commands (above the ASCII range). */
enum {
	OPT_TLS_VERIFY = 1000,
	OPT_CERT_DIR,
	OPT_AUTHFILE,
	OPT_CREDS,
	OPT_RETRIES,
	OPT_SRC_TLS_VERIFY,
	OPT_DEST_TLS_VERIFY,
	OPT_SRC_CERT_DIR,
	OPT_DEST_CERT_DIR,
	OPT_SRC_CREDS,
	OPT_DEST_CREDS,
	OPT_PLATFORM,
	OPT_JSON,
	OPT_RAW,
	OPT_CONFIG,
	OPT_PASSWORD_STDIN,
	OPT_ROOT, /* --root DIR: the host store (local:) */
	OPT_DRIVER, /* --driver NAME */
};

#define CLIENT_COMMON_OPTIONS                                                                                         \
	{"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY}, {"cert-dir", required_argument, NULL, OPT_CERT_DIR}, \
	    {"authfile", required_argument, NULL, OPT_AUTHFILE}, {"creds", required_argument, NULL, OPT_CREDS},       \
	{                                                                                                             \
		"retries", required_argument, NULL, OPT_RETRIES                                                       \
	}

/* Applies a common flag c (with optarg arg) to o. Returns 1 when c was one, 0 when not, -1 (message
 * printed) when its value is invalid. */
int cli_client_flag(int c, const char *arg, struct client_opts *o);
/* "true"/"false" (and 1/0, yes/no); --tls-verify alone means true. -1 when neither. */
int cli_parse_bool(const char *s);
/* Prints "berth: <e->msg>" and returns the exit code for a client error (1). */
int cli_client_fail(const struct client_err *e);

/* Progress display on stderr: bars redrawn in place on a terminal, one line per finished blob
 * otherwise, nothing when quiet. */
struct cli_progress;
struct cli_progress *cli_progress_new(int quiet);
void cli_progress_event(void *ctx, const struct client_copy_event *ev); /* ctx: a struct cli_progress */
void cli_progress_free(struct cli_progress *p); /* finishes the display; NULL is a no-op */

/* "12.3 MiB" */
void cli_human_size(uint64_t n, char *out, size_t len);

#endif
