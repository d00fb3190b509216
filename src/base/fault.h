/* fault: named fault points, for proving that nothing acknowledged is lost when an I/O or database
 * call fails (after sqlite's *fault.test). Each point counts its calls once armed; the Nth call fails
 * with the chosen errno, once. Off (the normal case) a point costs one relaxed atomic load.
 *
 * Points: write (blob bytes written to an upload or blob file), fsync (of a file or a folder on the
 * blob data path), rename (a file renamed or linked into blobs/), db (each metadata statement step,
 * BEGIN and COMMIT included). Armed by the environment variable BERTH_FAULT, read once at start by
 * the berth binary: a comma-separated list of POINT:N[:ERR], ERR being eio (default) or enospc, e.g.
 * `fsync:3` (the 3rd fsync fails with EIO), `write:7:enospc`, `db:12`. Unit tests call fault_set().
 *
 *   int err = fault_hit(FAULT_FSYNC);
 *   if (err) return berth_from_errno(err);   // before the real fsync()
 */
#ifndef BERTH_BASE_FAULT_H
#define BERTH_BASE_FAULT_H

#include <stdatomic.h>
#include <stdint.h>

enum fault_point { FAULT_WRITE, FAULT_FSYNC, FAULT_RENAME, FAULT_DB, FAULT_NPOINTS };

extern atomic_int fault__armed; /* non-zero while any point is armed; private to fault.h */
int fault__hit(enum fault_point p);

/* 0 when the call at point p goes ahead; otherwise the errno value it must fail with. */
static inline int fault_hit(enum fault_point p)
{
	if (__builtin_expect(!atomic_load_explicit(&fault__armed, memory_order_relaxed), 1))
		return 0;
	return fault__hit(p);
}

/* Arms p: counting from now, its nth call fails with errno err (0: EIO). nth 0 disarms p. */
void fault_set(enum fault_point p, uint64_t nth, int err);
/* Disarms every point and forgets the counts. */
void fault_clear(void);
/* Calls counted at p since it was armed, and whether its fault has fired. */
uint64_t fault_calls(enum fault_point p);
int fault_fired(enum fault_point p);
/* "write", "fsync", "rename", "db". */
const char *fault_name(enum fault_point p);
/* Arms the points a BERTH_FAULT-style spec names (NULL or "": nothing). 0, or -BERTH_EINVAL with
 * nothing armed. */
int fault_parse(const char *spec);
/* 1 when any point is armed. */
int fault_armed(void);

#endif
