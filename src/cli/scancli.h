/* scancli: what `berth scan` and `berth grade` share. Both read an image one of two ways:
 *   offline (--errata PATH...): REF is any client transport (docker://, oci:, oci-archive:,
 *     docker-archive:, local:); the manifest (an index's child for the platform) and the layers are
 *     read through the transport, verified, and streamed into the scanner with the feeds imported
 *     into a temporary store. No server, no database: a CI step.
 *   from a registry: REF is docker://HOST/REPO[:TAG|@DIGEST] and berth's API answers with its stored
 *     report or grades, asked through the client's registry connection (TLS settings, certs.d,
 *     stored credentials, as for `berth pull`).
 * Each function prints nothing on success; on failure it prints one line ("berth: ...") and returns
 * the exit status (1). */
#ifndef BERTH_CLI_SCANCLI_H
#define BERTH_CLI_SCANCLI_H

#include <stddef.h>

#include "client/client.h"
#include "image/desc.h"

/* Scans ref offline against errata[0..nerrata) for the platform want (NULL: this host's). 0 with
 * *report (the report JSON text, caller free()s), or 1 after printing why: a missing image, an index
 * without that platform, a layer whose bytes are not its digest's, unreadable feeds. */
int cli_scan_offline(const char *ref, const struct image_platform *want, const struct client_opts *o,
		     const char *const *errata, size_t nerrata, char **report);

/* The registry's stored scan report of ref (docker:// only), with query ("?at=...", or "") appended
 * to GET /api/v1/repositories/<repo>/manifests/<tag|digest>/scan. 0 with *report (caller free()s), or
 * 1 after printing why. */
int cli_scan_report_get(const char *ref, const char *query, const struct client_opts *o, char **report);

/* GET /api/v1/grades of the registry docker://HOST[/REPO] (repo= when REPO is given) with params
 * ("at=...&unknown_severity=...", may be empty) appended. 0 with *report, or 1 after printing why. */
int cli_grades_get(const char *target, const char *params, const struct client_opts *o, char **report);

/* 1 when ref names a registry image (docker://); the others are local images. */
int cli_ref_is_registry(const char *ref);

#endif
