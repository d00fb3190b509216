#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"

int client_err_set(struct client_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int client_err_wrap(struct client_err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	va_list ap;
	int n;

	str_copy(old, sizeof(old), e->msg);
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %.*s", (int)(sizeof(e->msg) - (size_t)n), old);
	return e->code;
}

void client_opts_init(struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls_verify = 1;
	o->retries = 5;
}

const char *client_tmp_dir(const struct client_opts *o)
{
	const char *t = o && o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
	return t && *t ? t : "/var/tmp";
}

int client_tmpfile(const char *dir, struct client_err *e)
{
	char path[4096];
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	if (snprintf(path, sizeof(path), "%s/.berth-tmp-XXXXXX", dir) >= (int)sizeof(path))
		return client_err_set(e, -BERTH_EINVAL, "temporary directory path too long: %s", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return client_err_set(e, berth_from_errno(errno), "cannot create a temporary file in %s: %s", dir,
				      strerror(errno));
	unlink(path);
	return fd;
}
