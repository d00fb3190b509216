/* libFuzzer target: a layer blob through decomp (format by magic, small bounds) and the tar walker,
 * reading every entry's content. Must never crash, hang or leak, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/decomp.h"
#include "image/layer.h"

struct mem {
	const uint8_t *p;
	size_t n, pos;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	size_t k = m->n - m->pos;

	if (k > n)
		k = n;
	if (k > 4096) /* small reads exercise the buffer refills */
		k = 4096;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

static ssize_t dc_read(void *ctx, void *buf, size_t n)
{
	return decomp_read(ctx, buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {data, size, 0};
	struct decomp_opts o = {.max_out = 16u << 20};
	struct layer_limits lim = {.max_entry = 8u << 20};
	struct decomp *d = NULL;
	struct layer_walker *w = NULL;
	const struct layer_entry *e;
	struct decomp_result r;
	char buf[8192];

	if (decomp_new(&d, mem_read, &m, &o) < 0)
		return 0;
	if (layer_walker_new(&w, dc_read, d, &lim) == 0) {
		while (layer_walker_next(w, &e) > 0)
			while (layer_walker_read(w, buf, sizeof(buf)) > 0)
				;
		layer_walker_free(w);
	}
	decomp_finish(d, &r);
	decomp_free(d);
	return 0;
}
