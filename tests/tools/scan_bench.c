/* scan_bench: figures for the scan pipeline (bench/scan.sh runs it).
 *   scan_bench index FILE            index one layer blob, print bytes and seconds
 *   scan_bench rematch DIR N DSA...  N synthetic stored scans (Debian 11, 200 packages each, some
 *                                    with vulnerable openssl) in DIR, errata imported from DSA...,
 *                                    then time one scanner_rematch_all pass */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/digest.h"
#include "errata/errata.h"
#include "registry/scanner.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ssize_t rd(void *ctx, void *buf, size_t n)
{
	return read(*(int *)ctx, buf, n);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "index")) {
		int fd = open(argv[2], O_RDONLY);
		struct scan_layer l;
		char why[256] = "";
		double t0 = now();
		int rc;

		scan_layer_init(&l);
		rc = scan_layer_index(rd, &fd, NULL, &l, why, sizeof why);
		printf("rc=%d in=%llu out=%llu entries=%llu kept=%zu seconds=%.3f %s\n", rc,
		       (unsigned long long)l.in_bytes, (unsigned long long)l.out_bytes, (unsigned long long)l.entries,
		       l.n, now() - t0, why);
		scan_layer_release(&l);
		return rc ? 1 : 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "rematch")) {
		char uri[4096];
		struct meta *m;
		long n = atol(argv[3]);
		struct errata_import rep;
		uint64_t count = 0;
		int64_t gen = 0;
		double t0;

		snprintf(uri, sizeof uri, "sqlite:%s/bench.db", argv[2]);
		if (meta_open(uri, &m) < 0)
			return 1;
		errata_import_init(&rep);
		if (errata_import_paths(m, (const char *const *)argv + 4, (size_t)(argc - 4), ERRATA_FORMAT_AUTO,
					&rep) < 0)
			return 1;
		errata_import_release(&rep);
		t0 = now();
		for (long i = 0; i < n; i++) {
			struct scan_pkgs pk;
			struct buf b;
			struct meta_scan ms = {0};
			char name[64], d[80];

			scan_pkgs_init(&pk);
			for (int k = 0; k < 200; k++) {
				snprintf(name, sizeof name, "pkg%d", k);
				scan_pkgs_add(&pk, SCAN_ECO_DPKG, name, strlen(name), "1.0-1", 5, "amd64", 5, "", 0, "",
					      0);
			}
			scan_pkgs_add(&pk, SCAN_ECO_DPKG, "libssl1.1", 9, "1.1.1k-1+deb11u1", 16, "amd64", 5, "openssl",
				      7, "", 0);
			buf_init(&b, BUF_UNLIMITED);
			scan_pkgs_encode(&pk, NULL, &b);
			snprintf(d, sizeof d, "sha256:%064lx", i);
			digest_parse_cstr(d, &ms.digest);
			ms.status = (char *)"scanned";
			ms.os = (char *)"debian:11";
			ms.layers =
			    (char *)"[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]";
			ms.packages = b.ptr;
			ms.packages_len = b.len;
			ms.generation = -1;
			if (meta_scan_put(m, &ms) < 0)
				return 1;
			buf_release(&b);
			scan_pkgs_release(&pk);
		}
		printf("stored %ld synthetic scans in %.2f s\n", n, now() - t0);
		meta_errata_generation(m, &gen);
		t0 = now();
		if (scanner_rematch_all(m, gen, &count) < 0)
			return 1;
		printf("rematch: %llu images in %.3f s\n", (unsigned long long)count, now() - t0);
		meta_free(m);
		return 0;
	}
	fprintf(stderr, "usage: scan_bench index FILE | rematch DIR N ERRATA...\n");
	return 2;
}
