/* store: the blob store. Content-addressed bytes under <root>/blobs/<alg>/<2 hex>/<hex>, and upload
 * files under <root>/uploads/<uuid> while a push is in progress.
 *
 * Invariants: a committed blob is complete and hashes to its name: bytes are fsynced, linked into
 * place and the directory fsynced before store_upload_link() returns, and a committed file is never
 * rewritten (an upload that goes on after being linked gets a copy: store_upload_unshare()). An upload
 * file is private to one session until committed or removed.
 *
 *   struct store *s; store_open("var", &s);
 *   store_upload_create(s, uuid, &fd); write(fd, ...); store_upload_commit(s, uuid, fd, &d);
 *   store_free(s);
 */
#ifndef BERTH_STORE_STORE_H
#define BERTH_STORE_STORE_H

#include <stdint.h>

#include "base/digest.h"

struct store;

/* Opens the store rooted at root, creating blobs/ and uploads/ as needed. 0 or a negative error. */
int store_open(const char *root, struct store **out);
void store_free(struct store *s); /* NULL is a no-op */
const char *store_root(const struct store *s);

/* Size of a committed blob: 0 or -BERTH_ENOENT. */
int store_blob_stat(struct store *s, const struct digest *d, uint64_t *size);
/* Opens a committed blob read-only; the caller close()s *fd. 0 or -BERTH_ENOENT. */
int store_blob_open(struct store *s, const struct digest *d, int *fd, uint64_t *size);
/* Writes a small blob in one call (verify, temp file, fsync, rename). 0, -BERTH_EDIGEST or an I/O error. */
int store_blob_put(struct store *s, const struct digest *d, const void *p, size_t n);
/* Removes a committed blob's file. 0 or -BERTH_ENOENT. Only garbage collection calls it, under the
 * rule in meta_blob_forget(). */
int store_blob_delete(struct store *s, const struct digest *d);
/* Calls fn for every committed blob file with its size and mtime (ms since the epoch); names that are
 * not a digest are skipped. Stops early when fn returns non-zero. 0 or an I/O error. */
int store_blob_each(struct store *s, int (*fn)(const struct digest *d, uint64_t size, int64_t mtime_ms, void *ctx),
		    void *ctx);

/* Creates an empty upload file; *fd is opened read-write (the caller closes it). */
int store_upload_create(struct store *s, const char *uuid, int *fd);
/* Opens an existing upload file read-write; *size is its length. 0 or -BERTH_ENOENT. */
int store_upload_open(struct store *s, const char *uuid, int *fd, uint64_t *size);
/* Makes the upload visible as blob d while keeping the upload file: sets its mtime to now (the blob's
 * age starts at its commit), fsyncs fd, hard-links the file into place (an existing blob is kept:
 * same bytes by construction) and fsyncs the directory. Because the upload file stays, the caller can
 * link again if the blob is removed before metadata points at it, then removes the upload itself.
 * fd stays open and owned by the caller. The content must already have been verified against d.
 * 0 or a negative error. */
int store_upload_link(struct store *s, const char *uuid, int fd, const struct digest *d);
/* Gives the upload a file of its own again after store_upload_link() published it (the two names
 * share one inode, and a committed blob is never rewritten): copies the bytes into a new file that
 * takes the upload's name, and replaces *fd (the old one is closed). For a session that goes on after
 * a commit that failed half-way. 0 or a negative error (-BERTH_ENOSPC; *fd unchanged). */
int store_upload_unshare(struct store *s, const char *uuid, int *fd);
/* store_upload_link() then store_upload_remove(): for callers with no metadata to tie in. */
int store_upload_commit(struct store *s, const char *uuid, int fd, const struct digest *d);
/* Size and last modification (ms since the epoch) of an upload file; either pointer may be NULL.
 * 0 or -BERTH_ENOENT. */
int store_upload_stat(struct store *s, const char *uuid, uint64_t *size, int64_t *mtime_ms);
/* Removes an upload file; 0 or -BERTH_ENOENT. */
int store_upload_remove(struct store *s, const char *uuid);

/* Calls fn for the id of every upload file; stops early when fn returns non-zero. 0 or an I/O error. */
int store_upload_each(struct store *s, int (*fn)(const char *uuid, void *ctx), void *ctx);

/* Keeps `reserve` bytes of the file system free for metadata: 0 when n more bytes of blob data fit
 * above the reserve, else -BERTH_ENOSPC. reserve < 0 picks the default: 5% of the file system, at most
 * 64 MiB. */
void store_set_reserve(struct store *s, int64_t reserve);
int store_space_check(struct store *s, uint64_t n);

/* Writes all of p at offset off of fd, retrying short writes. 0 or a negative error (-BERTH_ENOSPC). */
int store_write_all(int fd, const void *p, size_t n, uint64_t off);
/* Starts writing bytes [off, off + n) of fd to the disk without waiting (sync_file_range WRITE),
 * so the fsync at commit finds little left to flush and dirty pages do not pile up while a large
 * upload streams in. Durability still comes only from that fsync. Errors are ignored. */
void store_write_behind(int fd, uint64_t off, uint64_t n);

#endif
