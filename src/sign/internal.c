/* internal: helpers shared by src/sign (see internal.h). */
#include "sign/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

int sign__why(char *why, size_t whyn, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && whyn) {
		va_start(ap, fmt);
		vsnprintf(why, whyn, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int sign__read_file(const char *path, size_t max, struct buf *out, char *why, size_t whyn)
{
	char chunk[65536];
	size_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return sign__why(why, whyn, berth_from_errno(errno), "open %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sign__why(why, whyn, berth_from_errno(errno), "read %s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		total += (size_t)r;
		if (total > max) {
			rc = sign__why(why, whyn, -BERTH_ETOOBIG, "%s is larger than %zu bytes", path, max);
			break;
		}
		rc = buf_add(out, chunk, (size_t)r);
		if (rc < 0)
			break;
	}
	close(fd);
	return rc;
}
