/* buf: growable bytes, always NUL-terminated; ptr is never NULL after buf_init().
 * Growing past `max` fails with -BERTH_ETOOBIG, so a size from the network cannot exhaust memory.
 * slice: a borrowed {ptr,len} view.
 *
 *   struct buf b; buf_init(&b, 1 << 20);
 *   if (buf_addf(&b, "%d", n) < 0) goto out;
 *   ... buf_release(&b);
 */
#ifndef BERTH_BASE_BUF_H
#define BERTH_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
	const char *ptr;
	size_t len;
} slice;

#define SLICE_LIT(s) ((slice){(s), sizeof(s) - 1})
slice slice_cstr(const char *s);
int slice_eq(slice a, const char *s); /* 1 when a equals the C string s */
int slice_has_prefix(slice a, const char *s); /* 1 when a starts with s */

struct buf {
	char *ptr;
	size_t len, cap, max;
};

#define BUF_UNLIMITED ((size_t)-1)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b); /* b is empty and reusable afterwards */
void buf_reset(struct buf *b); /* len = 0, keeps memory */
int buf_grow(struct buf *b, size_t extra); /* room for extra more bytes; 0 or -BERTH_ETOOBIG/-BERTH_ENOMEM */
int buf_add(struct buf *b, const void *p, size_t n); /* 0 or -BERTH_ETOOBIG */
int buf_adds(struct buf *b, const char *s); /* adds a C string */
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
char *buf_detach(struct buf *b, size_t *len); /* caller free()s the result; b is empty afterwards */

/* Aborting allocators for small internal sizes; never for sizes read from the network. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Copies src into dst of size n, always NUL-terminated; returns -BERTH_ETOOBIG when truncated. */
int str_copy(char *dst, size_t n, const char *src);

#endif
