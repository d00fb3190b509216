/* Shared flag handling and the progress display of the client commands. */
#include "cli/clientcli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/util.h"
#include "cli/cli.h"

int cli_parse_bool(const char *s)
{
	if (!s || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes"))
		return 1;
	if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no"))
		return 0;
	return -1;
}

int cli_client_flag(int c, const char *arg, struct client_opts *o)
{
	int v;
	char *end;

	switch (c) {
	case OPT_TLS_VERIFY:
		v = cli_parse_bool(arg);
		if (v < 0) {
			cli_fail("--tls-verify takes true or false, not '%s'", arg);
			return -1;
		}
		o->tls_verify = v;
		return 1;
	case OPT_CERT_DIR:
		o->cert_dir = arg;
		return 1;
	case OPT_AUTHFILE:
		o->authfile = arg;
		return 1;
	case OPT_CREDS:
		if (!strchr(arg, ':')) {
			cli_fail("--creds takes USER:PASSWORD");
			return -1;
		}
		o->creds = arg;
		return 1;
	case OPT_RETRIES:
		v = (int)strtol(arg, &end, 10);
		if (*end || v < 0 || v > 100) {
			cli_fail("--retries takes a number from 0 to 100");
			return -1;
		}
		o->retries = v == 0 ? -1 : v;
		return 1;
	default:
		return 0;
	}
}

int cli_client_fail(const struct client_err *e)
{
	return cli_fail("%s", e->msg[0] ? e->msg : "failed");
}

void cli_human_size(uint64_t n, char *out, size_t len)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)n);
	else
		snprintf(out, len, "%.1f %s", v, units[u]);
}

/* ---------------------------------------------------------------- progress */

struct row {
	int started, finished, failed, is_config;
	enum client_copy_phase phase;
	enum client_blob_action action;
	uint64_t done, total, size;
	char label[24];
};

struct cli_progress {
	int tty, quiet;
	struct row *rows;
	size_t nrows;
	int drawn; /* lines drawn last time */
	uint64_t last_ns; /* when they were drawn */
};

struct cli_progress *cli_progress_new(int quiet)
{
	struct cli_progress *p = xcalloc(1, sizeof(*p));
	const char *term = getenv("TERM");

	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
	return p;
}

static const char *phase_name(const struct row *r)
{
	if (r->failed)
		return "failed";
	if (r->finished)
		return r->action == CLIENT_BLOB_SKIPPED   ? "exists"
		       : r->action == CLIENT_BLOB_MOUNTED ? "mounted"
							  : "done";
	switch (r->phase) {
	case CLIENT_PHASE_CHECK:
		return "checking";
	case CLIENT_PHASE_FETCH:
		return "reading";
	case CLIENT_PHASE_CONVERT:
		return "unpacking";
	case CLIENT_PHASE_WRITE:
		return "writing";
	default:
		return "";
	}
}

/* Columns of the terminal on stderr (80 when unknown). */
static int term_columns(void)
{
	struct winsize ws;
	return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

static void draw(struct cli_progress *p)
{
	struct buf b;
	int lines = 0, cols = term_columns();
	/* the line without the bar is about 60 columns; a line that wraps would break the redraw */
	int width = cols - 62 > 40 ? 40 : cols - 62;

	buf_init(&b, BUF_UNLIMITED);
	if (p->drawn)
		buf_addf(&b, "\033[%dA", p->drawn);
	for (size_t i = 0; i < p->nrows; i++) {
		struct row *r = &p->rows[i];
		char done[32], total[32], bar[48], line[256];
		int fill;

		if (!r->started)
			continue;
		fill = r->total ? (int)((double)r->done / (double)r->total * width) : (r->finished ? width : 0);
		if (r->finished && !r->failed)
			fill = width;
		if (fill > width)
			fill = width;
		for (int k = 0; k < width; k++)
			bar[k] = k < fill ? '=' : (k == fill ? '>' : ' ');
		bar[width > 0 ? width : 0] = '\0';
		cli_human_size(r->finished ? r->size : r->done, done, sizeof(done));
		cli_human_size(r->total ? r->total : r->size, total, sizeof(total));
		if (width >= 8)
			snprintf(line, sizeof(line), "%s %s [%s] %10s / %-10s %s", r->is_config ? "config" : "blob  ",
				 r->label, bar, done, total, phase_name(r));
		else
			snprintf(line, sizeof(line), "%s %s %s / %s %s", r->is_config ? "config" : "blob", r->label,
				 done, total, phase_name(r));
		if (cols > 1 && strlen(line) >= (size_t)cols)
			line[cols - 1] = '\0';
		buf_addf(&b, "\033[2K%s\n", line);
		lines++;
	}
	p->drawn = lines;
	fwrite(b.ptr, 1, b.len, stderr);
	fflush(stderr);
	buf_release(&b);
}

void cli_progress_event(void *ctx, const struct client_copy_event *ev)
{
	struct cli_progress *p = ctx;
	struct row *r;
	char ds[DIGEST_STR_MAX];
	uint64_t now;

	if (p->quiet)
		return;
	if (p->nrows < ev->nslots) {
		p->rows = xrealloc(p->rows, ev->nslots * sizeof(*p->rows));
		memset(p->rows + p->nrows, 0, (ev->nslots - p->nrows) * sizeof(*p->rows));
		p->nrows = ev->nslots;
	}
	r = &p->rows[ev->slot];
	if (!r->started) {
		r->started = 1;
		r->is_config = ev->is_config;
		r->size = (uint64_t)ev->desc->size;
		digest_str(&ev->desc->digest, ds);
		snprintf(r->label, sizeof(r->label), "%.19s", ds);
	}
	r->phase = ev->phase;
	r->done = ev->done;
	r->total = ev->total;
	if (ev->phase == CLIENT_PHASE_DONE) {
		r->finished = 1;
		r->action = ev->action;
	} else if (ev->phase == CLIENT_PHASE_FAILED) {
		r->finished = r->failed = 1;
	}
	if (!p->tty) {
		if (ev->phase == CLIENT_PHASE_DONE) {
			char size[32];
			cli_human_size((uint64_t)ev->desc->size, size, sizeof(size));
			fprintf(stderr, "%s %s (%s): %s\n", ev->is_config ? "config" : "blob",
				digest_str(&ev->desc->digest, ds), size,
				ev->action == CLIENT_BLOB_SKIPPED   ? "already there, skipped"
				: ev->action == CLIENT_BLOB_MOUNTED ? "mounted"
								    : "copied");
		}
		return;
	}
	now = time_mono_ns();
	if (ev->phase == CLIENT_PHASE_DONE || ev->phase == CLIENT_PHASE_FAILED || ev->phase == CLIENT_PHASE_CHECK ||
	    now - p->last_ns > 100000000u) {
		p->last_ns = now;
		draw(p);
	}
}

void cli_progress_free(struct cli_progress *p)
{
	if (!p)
		return;
	if (p->tty && !p->quiet && p->nrows)
		draw(p);
	free(p->rows);
	free(p);
}
