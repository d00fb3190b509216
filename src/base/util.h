/* util: time, random ids and small file-system helpers shared by every module. */
#ifndef BERTH_BASE_UTIL_H
#define BERTH_BASE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the epoch, and a monotonic clock in nanoseconds. */
int64_t time_now_ms(void);
uint64_t time_mono_ns(void);
/* Formats ms since the epoch as "2026-11-26T18:30:00.123Z" into out. */
void time_format_iso(int64_t ms, char *out, size_t n);

/* A random version-4 UUID in its 36-character text form (out has >= 37 bytes). 0 or -BERTH_EIO. */
int uuid_new(char out[37]);
/* 1 when s is a lower-case 36-character UUID text, else 0. */
int uuid_valid(const char *s);

/* mkdir -p with mode 0755; 0 or a negative error. */
int fs_mkdirs(const char *path);
/* fsync of a directory, so a rename or create in it is durable. */
int fs_sync_dir(const char *path);
/* Reads the whole file at path into b (appending; b's own max also applies). 0, -BERTH_ENOENT,
 * -BERTH_ETOOBIG when the file is larger than max bytes, or another negative error. */
struct buf;
int fs_read_file(const char *path, size_t max, struct buf *b);

#endif
