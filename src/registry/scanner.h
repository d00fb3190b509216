/* scanner: server-side image scanning. A pool of low-priority worker threads takes manifests from
 * the durable scan queue (meta_scan_claim), indexes each layer once per layer digest (scan/index.h,
 * reading the blob from the store by fd), stacks the layers (scan/image.h), matches the package list
 * against the stored errata and stores the scan. A re-match thread watches the errata generation:
 * when an import or feed sync changes it, every stored scan is matched again from its stored package
 * list, in memory, without reading layers. Pushes and pulls never wait for any of this.
 *
 * The matching and report helpers are shared with `berth scan` (offline, errata read from files).
 *
 *   struct scanner *s; scanner_start(reg, &opts, &s);   ... scanner_wake(s) after a push ...
 *   scanner_stop(s);
 */
#ifndef BERTH_REGISTRY_SCANNER_H
#define BERTH_REGISTRY_SCANNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "meta/meta.h"
#include "scan/image.h"
#include "scan/index.h"
#include "scan/match.h"

struct registry;

struct scanner_opts {
	int workers; /* scan.workers: threads; 0: 2 */
	uint64_t max_layer_bytes; /* scan.max_layer_bytes: inflated bytes per layer; 0: 16 GiB */
	uint64_t max_image_bytes; /* scan.max_image_bytes: inflated bytes per image; 0: 64 GiB */
	int64_t poll_ms; /* how often idle workers and the re-match thread look; 0: 500 */
	const char *tmpdir; /* rpm database spool; NULL: $TMPDIR or /tmp */
	int64_t grade_check_ms; /* grade.check_interval: how often every tagged image's grade is compared
				   * with the recorded one ("grade" events); also after each re-match and at
				   * start; 0: every poll; < 0: only after re-matches */
};

struct scanner_stats {
	uint64_t layers_indexed; /* layer blobs read and indexed */
	uint64_t images_scanned; /* scans stored */
	uint64_t rematched; /* scans matched again after an errata change */
	uint64_t grade_events; /* "grade" rows journaled by the periodic grade checks */
	uint64_t events_failed; /* "scan"/"grade" rows or grade records that could not be written */
	int64_t generation; /* errata generation the stored scans were last brought up to */
};

struct scanner;

/* Starts the workers and the re-match thread over r (borrowed; stop the scanner before freeing r).
 * Claimed jobs left by a previous process are queued again first. 0, or -BERTH_ENOMEM. */
int scanner_start(struct registry *r, const struct scanner_opts *o, struct scanner **out);
/* Stops every thread (a layer being indexed is finished first) and frees s. NULL is a no-op. */
void scanner_stop(struct scanner *s);
/* Tells idle workers a job may be waiting (after a manifest put). NULL is a no-op. */
void scanner_wake(struct scanner *s);
void scanner_stats_get(struct scanner *s, struct scanner_stats *st);

/* Matches again, from their stored package lists, every stored scan matched at a generation below
 * gen, loading each release's errata once, and stores all new findings in one transaction (the
 * re-match thread's pass; public for tests and the benchmark). Then journals "scan" for each tagged
 * manifest whose set of advisory ids changed (registry/events.h). 0 with *count; 1 when the findings
 * were stored but some rows could not be journaled; or a negative error. */
int scanner_rematch_all(struct meta *m, int64_t gen, uint64_t *count);

/* ---- matching, shared with the CLI ---- */

/* Advisory entries of one release, ready for scan_match(): aff[i].ref points at the erratum. */
struct scanner_errata {
	struct meta_erratum *v; /* owned */
	size_t n;
	struct scan_affected *aff;
	size_t naff;
	struct scan_match_index ix; /* aff sorted for lookup, built once per release */
};
/* Takes ownership of v[0..n) and builds the entries of release (withdrawn errata and NOT_AFFECTED
 * entries left out; UNFIXED and END_OF_LIFE are affected with no fix). 0 or -BERTH_ENOMEM (v freed). */
int scanner_errata_build(struct meta_erratum *v, size_t n, const char *release, struct scanner_errata *out);
void scanner_errata_release(struct scanner_errata *e);

/* Matches pkgs (layer[i] = layer index of pkgs.v[i]) and returns the findings as compact JSON array
 * text (malloc()ed), one object per advisory and package: advisory, type, severity, issued, cves,
 * package, version, source, fixed, layer (the digest from layer_digests[] when given), layer_index.
 * NULL when out of memory. */
char *scanner_findings_json(const struct scan_pkgs *pkgs, const uint32_t *layer, const char *release,
			    const struct scanner_errata *e, const char *const *layer_digests, size_t nlayers);
/* scanner_findings_json(), also giving *ids: the advisory ids of the findings, sorted and unique, as
 * a compact JSON array (the text events_advisory_ids() makes of the findings, without parsing them).
 * 0 or -BERTH_ENOMEM (both NULL). */
int scanner_findings_make(const struct scan_pkgs *pkgs, const uint32_t *layer, const char *release,
			  const struct scanner_errata *e, const char *const *layer_digests, size_t nlayers,
			  char **findings, char **ids);

/* Where an image's layers come from when there is no registry store (berth scan --errata): any
 * client transport, a file, a pipe fed by a download. */
struct scanner_layers {
	size_t n;
	const char *const *digests; /* layer i's digest as text ("sha256:..."), for the report */
	/* Gives layer i (bottom first) as a readable fd, which the scanner reads to its end and closes.
	 * 0, or a negative error with why filled: the scan stops with it. */
	int (*open)(void *ctx, size_t i, int *fd, char *why, size_t whyn);
	/* Called after layer i's fd was read to its end and closed: 0 when its bytes were right, or a
	 * negative error with why: the scan stops with it (a source that can check its bytes only once
	 * they all went by, like a download streamed through a pipe). May be NULL. */
	int (*done)(void *ctx, size_t i, char *why, size_t whyn);
	void *ctx;
};

/* Indexes and stacks the layers of l with no database. Limits as in scanner_opts. Each fd is read to
 * its end even when indexing stops early, so a streaming source can check what it sent. 0 with *im
 * filled (any status; a layer the indexer refuses makes it FAILED with the reason), or a negative
 * error with why: -BERTH_ENOMEM, or the error of l->open / l->done (then *im is released). */
int scanner_image_local(const struct scanner_layers *l, const struct scanner_opts *o, struct scan_image *im, char *why,
			size_t whyn);

/* The report of one stored scan as a JSON object's text (malloc()ed): status, reason, os, packages
 * (name, version, arch, source, source_version, layer, layer_index), findings, errata_generation.
 * NULL when out of memory or the stored row is damaged. */
char *scanner_report_json(const struct meta_scan *s);

/* ---- offline scans (berth scan --errata) ---- */

/* Scans the layers of l against the errata files and directories errata[0..nerrata) with no server:
 * the feeds are imported into a temporary metadata store under o->tmpdir (else $TMPDIR, else /tmp;
 * removed afterwards). *report gets the report JSON text (scanner_report_json's shape, malloc()ed).
 * 0 (whatever the image's status), or an error with why (feeds unreadable, a layer source failing). */
int scanner_scan_offline(const struct scanner_layers *l, const char *const *errata, size_t nerrata,
			 const struct scanner_opts *o, char **report, char *why, size_t whyn);

/* A report's JSON text as a table for a terminal (malloc()ed), or NULL when it is not a report. */
char *scanner_report_table(const char *report_json);

#endif
