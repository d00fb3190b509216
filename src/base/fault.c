/* fault: named fault points (see fault.h). */
#include "base/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

atomic_int fault__armed;

static struct {
	_Atomic uint64_t nth; /* 0: not armed */
	_Atomic uint64_t calls;
	atomic_int fired;
	atomic_int err;
} points[FAULT_NPOINTS];

static const char *const names[FAULT_NPOINTS] = {"write", "fsync", "rename", "db"};

int fault__hit(enum fault_point p)
{
	uint64_t nth = atomic_load(&points[p].nth), c;

	if (nth == 0)
		return 0;
	c = atomic_fetch_add(&points[p].calls, 1) + 1;
	if (c != nth)
		return 0;
	atomic_store(&points[p].fired, 1);
	return atomic_load(&points[p].err);
}

/* Recomputes the global switch from the points. */
static void fault_rearm(void)
{
	int any = 0;

	for (int i = 0; i < FAULT_NPOINTS; i++)
		any |= atomic_load(&points[i].nth) != 0;
	atomic_store(&fault__armed, any);
}

void fault_set(enum fault_point p, uint64_t nth, int err)
{
	atomic_store(&points[p].nth, 0);
	atomic_store(&points[p].calls, 0);
	atomic_store(&points[p].fired, 0);
	atomic_store(&points[p].err, err ? err : EIO);
	atomic_store(&points[p].nth, nth);
	fault_rearm();
}

void fault_clear(void)
{
	for (int i = 0; i < FAULT_NPOINTS; i++)
		fault_set((enum fault_point)i, 0, 0);
}

uint64_t fault_calls(enum fault_point p)
{
	return atomic_load(&points[p].calls);
}

int fault_fired(enum fault_point p)
{
	return atomic_load(&points[p].fired);
}

const char *fault_name(enum fault_point p)
{
	return p < FAULT_NPOINTS ? names[p] : "?";
}

int fault_armed(void)
{
	return atomic_load(&fault__armed);
}

/* Parses one POINT:N[:ERR] of length n into its parts. */
static int fault_parse_one(const char *s, size_t n, enum fault_point *p, uint64_t *nth, int *err)
{
	char item[64], *colon, *end = NULL;
	int found = 0;

	if (n == 0 || n >= sizeof(item))
		return -BERTH_EINVAL;
	memcpy(item, s, n);
	item[n] = '\0';
	colon = strchr(item, ':');
	if (!colon)
		return -BERTH_EINVAL;
	*colon++ = '\0';
	for (int i = 0; i < FAULT_NPOINTS && !found; i++)
		if (strcmp(item, names[i]) == 0) {
			*p = (enum fault_point)i;
			found = 1;
		}
	if (!found || *colon < '1' || *colon > '9')
		return -BERTH_EINVAL;
	errno = 0;
	*nth = strtoull(colon, &end, 10);
	if (errno)
		return -BERTH_EINVAL;
	*err = EIO;
	if (*end == '\0')
		return 0;
	if (strcmp(end, ":eio") == 0)
		return 0;
	if (strcmp(end, ":enospc") == 0) {
		*err = ENOSPC;
		return 0;
	}
	return -BERTH_EINVAL;
}

int fault_parse(const char *spec)
{
	enum fault_point p[FAULT_NPOINTS * 4];
	uint64_t nth[FAULT_NPOINTS * 4];
	int err[FAULT_NPOINTS * 4], n = 0, rc;
	const char *s = spec;

	if (!spec || !*spec)
		return 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		if (n == FAULT_NPOINTS * 4)
			return -BERTH_EINVAL;
		rc = fault_parse_one(s, len, &p[n], &nth[n], &err[n]);
		if (rc < 0)
			return rc;
		n++;
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	for (int i = 0; i < n; i++)
		fault_set(p[i], nth[i], err[i]);
	return 0;
}
