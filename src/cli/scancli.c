/* The two ways `berth scan` and `berth grade` read an image (see scancli.h). */
#include "cli/scancli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/remote.h"
#include "client/transport.h"
#include "image/ref.h"
#include "registry/scanner.h"

#define REPORT_MAX ((size_t)64 << 20) /* a scan report lists every package: bigger than a manifest */

int cli_ref_is_registry(const char *ref)
{
	return strncmp(ref, "docker://", 9) == 0;
}

/* ---------------------------------------------------------------- offline */

/* The scanner's layer source over a client transport: one layer open at a time. */
struct layer_src {
	struct client_image *im;
	const struct image_doc *doc;
	struct client_blob_reader *reader;
};

static int layer_open(void *ctx, size_t i, int *fd, char *why, size_t whyn)
{
	struct layer_src *s = ctx;
	struct client_err e = {0};
	int rc = client_blob_reader_open(s->im, &s->doc->layers[i], &s->reader, fd, &e);

	if (rc < 0)
		snprintf(why, whyn, "%s", e.msg[0] ? e.msg : berth_strerror(rc));
	return rc;
}

static int layer_done(void *ctx, size_t i, char *why, size_t whyn)
{
	struct layer_src *s = ctx;
	struct client_err e = {0};
	int rc = client_blob_reader_finish(s->reader, &e);

	(void)i;
	s->reader = NULL;
	if (rc < 0)
		snprintf(why, whyn, "%s", e.msg[0] ? e.msg : berth_strerror(rc));
	return rc;
}

int cli_scan_offline(const char *ref, const struct image_platform *want, const struct client_opts *o,
		     const char *const *errata, size_t nerrata, char **report)
{
	struct client_image *im = NULL;
	struct client_image_manifest man;
	struct client_err e = {0};
	struct scanner_opts so = {0};
	struct scanner_layers sl = {0};
	struct layer_src src = {0};
	char **digests = NULL, why[1024] = "";
	int have_man = 0, rc = 1;

	*report = NULL;
	if (client_image_open(ref, CLIENT_SRC, o, &im, &e) < 0 || client_image_resolve(im, want, &man, &e) < 0) {
		cli_client_fail(&e);
		goto out;
	}
	have_man = 1;
	digests = xcalloc(man.doc.nlayers + 1, sizeof(*digests));
	for (size_t i = 0; i < man.doc.nlayers; i++) {
		digests[i] = xmalloc(DIGEST_STR_MAX);
		digest_str(&man.doc.layers[i].digest, digests[i]);
	}
	src.im = im;
	src.doc = &man.doc;
	sl.n = man.doc.nlayers;
	sl.digests = (const char *const *)digests;
	sl.open = layer_open;
	sl.done = layer_done;
	sl.ctx = &src;
	so.tmpdir = client_tmp_dir(o);
	/* a registry stream's thread blocks SIGPIPE itself; this keeps a closed pipe an error elsewhere too */
	signal(SIGPIPE, SIG_IGN);
	if (scanner_scan_offline(&sl, errata, nerrata, &so, report, why, sizeof(why)) < 0) {
		cli_fail("%s", why); /* the transports' messages name the image */
		goto out;
	}
	rc = 0;
out:
	/* a layer whose reading stopped half-way: its thread ends once the pipe's reader is gone */
	client_blob_reader_finish(src.reader, NULL);
	for (size_t i = 0; digests && have_man && i < man.doc.nlayers; i++)
		free(digests[i]);
	free(digests);
	if (have_man)
		client_image_manifest_release(&man);
	client_image_free(im);
	return rc;
}

/* ---------------------------------------------------------------- from a registry */

/* GETs path from host with repo's pull authorisation (repo may be NULL). 0 with *out, or 1. */
static int api_get(const char *host, const char *repo, const char *path, const char *what, const struct client_opts *o,
		   char **out)
{
	struct client_remote *r = NULL;
	struct client_err e = {0};
	struct buf body;
	long status = 0;
	int rc = 1;

	buf_init(&body, REPORT_MAX);
	if (client_remote_open(host, o, &r, &e) < 0 ||
	    client_remote_get(r, repo, path, "application/json", REPORT_MAX, &body, &status, NULL, &e) < 0) {
		cli_client_fail(&e);
		goto out;
	}
	if (status == 404) {
		cli_fail("%s: not found (no such repository or manifest, or %s is not a berth registry)", what, host);
		goto out;
	}
	*out = buf_detach(&body, NULL);
	rc = 0;
out:
	buf_release(&body);
	client_remote_free(r);
	return rc;
}

int cli_scan_report_get(const char *ref, const char *query, const struct client_opts *o, char **report)
{
	struct image_ref r;
	char why[512], ds[DIGEST_STR_MAX];
	struct buf path;
	int rc;

	*report = NULL;
	if (image_ref_parse(ref, &r, why, sizeof(why)) < 0)
		return cli_fail("%s", why);
	if (r.transport != REF_DOCKER) {
		image_ref_release(&r);
		return cli_fail("%s is a local image: scanning it needs --errata PATH (only a registry keeps errata)",
				ref);
	}
	buf_init(&path, BUF_UNLIMITED);
	buf_addf(&path, "/api/v1/repositories/%s/manifests/%s/scan%s", r.repo,
		 r.has_digest ? digest_str(&r.digest, ds) : r.tag, query ? query : "");
	rc = api_get(r.host, r.repo, path.ptr, ref, o, report);
	buf_release(&path);
	image_ref_release(&r);
	return rc;
}

int cli_grades_get(const char *target, const char *params, const struct client_opts *o, char **report)
{
	char *host = NULL, *slash;
	const char *repo = NULL;
	struct buf path;
	int rc;

	*report = NULL;
	if (!cli_ref_is_registry(target))
		return cli_fail("--all needs a registry, docker://HOST[/REPO]; '%s' is not", target);
	host = xstrdup(target + 9);
	slash = strchr(host, '/');
	if (slash) {
		*slash = '\0';
		if (slash[1])
			repo = slash + 1;
	}
	if (!image_ref_host_valid(host) || (repo && !image_ref_name_valid(repo))) {
		free(host);
		return cli_fail("--all needs a registry, docker://HOST[/REPO]; '%s' is not", target);
	}
	buf_init(&path, BUF_UNLIMITED);
	buf_adds(&path, "/api/v1/grades");
	if (repo)
		buf_addf(&path, "?repo=%s", repo);
	if (params && *params)
		buf_addf(&path, "%s%s", repo ? "&" : "?", params);
	rc = api_get(host, repo, path.ptr, target, o, report);
	buf_release(&path);
	free(host);
	return rc;
}
