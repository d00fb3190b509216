/* graph_import: TEST-ONLY tool (not installed, not a berth subcommand). Reads an OCI image layout
 * directory and puts one of its images into a berth host store with graph_image_put, so integration
 * tests and benchmarks can fill a store before `berth copy oci:... local:` exists.
 *
 *   graph_import --root DIR [--driver NAME] [--parallel N] [--max-layer BYTES] LAYOUT[:REF] [NAME...]
 *
 * REF selects the index.json entry whose org.opencontainers.image.ref.name is REF (default: the only
 * entry). A nested index picks its first linux/amd64 manifest. Prints one line of figures. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/digest.h"
#include "base/err.h"
#include "base/util.h"
#include "graph/store.h"

static const char *layout;

static int read_blob(const char *digest, struct buf *out)
{
	struct digest d;
	char path[4096];
	char tmp[65536];
	ssize_t n;
	int fd;

	if (digest_parse_cstr(digest, &d) < 0)
		return -BERTH_EINVAL;
	snprintf(path, sizeof(path), "%s/blobs/%s/%s", layout, digest_alg_name(d.alg), d.hex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_from_errno(errno);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(out, tmp, (size_t)n) < 0)
			break;
	close(fd);
	return n < 0 ? -BERTH_EIO : 0;
}

static int src_open(void *ctx, const struct digest *d, uint64_t size, void **stream)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/blobs/%s/%s", layout, digest_alg_name(d->alg), d->hex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_from_errno(errno);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*stream = (void *)(intptr_t)(fd + 1);
	return 0;
}

static ssize_t src_read(void *stream, void *buf, size_t n)
{
	ssize_t k;
	do
		k = read((int)(intptr_t)stream - 1, buf, n);
	while (k < 0 && errno == EINTR);
	return k < 0 ? berth_from_errno(errno) : k;
}

static void src_close(void *stream)
{
	close((int)(intptr_t)stream - 1);
}

/* The manifest digest for ref from an index (recursing into a nested index). */
static const char *pick(json_t *index, const char *ref)
{
	json_t *ms = json_object_get(index, "manifests"), *m;
	size_t i;

	json_array_foreach(ms, i, m)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
		json_t *plat = json_object_get(m, "platform");
		if (ref && (!name || strcmp(name, ref) != 0))
			continue;
		if (!ref && plat &&
		    (strcmp(json_string_value(json_object_get(plat, "architecture")) ?: "", "amd64") != 0))
			continue;
		return json_string_value(json_object_get(m, "digest"));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *root = NULL, *driver = NULL, *ref = NULL;
	struct graph_put_opts o = {0};
	struct graph_put_result res;
	struct graph_store *s = NULL;
	struct buf idx, man, cfg;
	json_t *j = NULL, *mj = NULL;
	json_error_t je;
	char why[1024], *lay, *colon, a[DIGEST_STR_MAX];
	const char *mdig;
	int i, rc;
	uint64_t t0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (!strcmp(argv[i], "--driver") && i + 1 < argc)
			driver = argv[++i];
		else if (!strcmp(argv[i], "--parallel") && i + 1 < argc)
			o.parallel = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max-layer") && i + 1 < argc)
			o.max_layer_bytes = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "graph_import: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!root || i >= argc) {
		fprintf(stderr, "usage: graph_import --root DIR [--driver NAME] [--parallel N] [--max-layer B] "
				"LAYOUT[:REF] [NAME...]\n");
		return 2;
	}
	lay = strdup(argv[i++]);
	colon = strrchr(lay, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = 0;
		ref = colon + 1;
	}
	layout = lay;
	o.names = (const char *const *)(argv + i);
	o.nnames = (size_t)(argc - i);
	buf_init(&idx, 1 << 24);
	buf_init(&man, 1 << 24);
	buf_init(&cfg, 1 << 24);
	{
		char p[4096];
		int fd;
		ssize_t n;
		char tmp[65536];
		snprintf(p, sizeof(p), "%s/index.json", layout);
		fd = open(p, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "graph_import: %s: %s\n", p, strerror(errno));
			return 1;
		}
		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			buf_add(&idx, tmp, (size_t)n);
		close(fd);
	}
	j = json_loadb(idx.ptr, idx.len, 0, &je);
	mdig = j ? pick(j, ref) : NULL;
	if (!mdig) {
		fprintf(stderr, "graph_import: no manifest%s%s in %s\n", ref ? " for " : "", ref ? ref : "", layout);
		return 1;
	}
	for (;;) {
		buf_reset(&man);
		if (read_blob(mdig, &man) < 0) {
			fprintf(stderr, "graph_import: cannot read manifest %s\n", mdig);
			return 1;
		}
		json_decref(mj);
		mj = json_loadb(man.ptr, man.len, 0, &je);
		if (mj && json_object_get(mj, "manifests")) { /* a nested index */
			mdig = pick(mj, NULL);
			if (!mdig) {
				fprintf(stderr, "graph_import: no linux/amd64 manifest in the index\n");
				return 1;
			}
			continue;
		}
		break;
	}
	if (!mj ||
	    read_blob(json_string_value(json_object_get(json_object_get(mj, "config"), "digest")) ?: "", &cfg) < 0) {
		fprintf(stderr, "graph_import: cannot read the config\n");
		return 1;
	}
	rc = graph_store_open(&s, root, driver, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "graph_import: %s\n", why);
		return 1;
	}
	t0 = time_mono_ns();
	rc = graph_image_put(s, man.ptr, man.len, cfg.ptr, cfg.len,
			     &(struct graph_source){NULL, src_open, src_read, src_close}, &o, &res);
	if (rc < 0) {
		fprintf(stderr, "graph_import: %s (%s)\n", graph_store_why(s), berth_strerror(rc));
		goto out;
	}
	printf("imported %s layers=%zu new=%zu bytes_in=%llu bytes_unpacked=%llu seconds=%.3f\n",
	       digest_str(&res.image_id, a), res.layers_total, res.layers_new, (unsigned long long)res.bytes_in,
	       (unsigned long long)res.bytes_unpacked, (double)(time_mono_ns() - t0) / 1e9);
out:
	graph_store_close(s);
	json_decref(j);
	json_decref(mj);
	buf_release(&idx);
	buf_release(&man);
	buf_release(&cfg);
	free(lay);
	return rc < 0 ? 1 : 0;
}
