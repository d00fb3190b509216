#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"

static enum log_level current = LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
	current = lvl;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= current;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -BERTH_EINVAL;
}

void log_msg(enum log_level lvl, const char *reqid, const char *fmt, ...)
{
	char line[2048], ts[40];
	size_t n;
	int k;
	va_list ap;

	if (lvl > current)
		return;
	time_format_iso(time_now_ms(), ts, sizeof(ts));
	k = snprintf(line, sizeof(line), "time=%s level=%s%s%s ", ts, names[lvl], reqid ? " req=" : "",
		     reqid ? reqid : "");
	n = k < 0 ? 0 : (size_t)k;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n += k < 0 ? 0 : (size_t)k;
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}
