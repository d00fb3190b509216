/* log: one-line structured log records on stderr (logfmt: time=... level=... req=... msg).
 * Only http/ and cli/ log; library modules return error codes instead.
 *
 *   log_set_level(LOG_INFO);
 *   log_msg(LOG_INFO, reqid, "method=%s path=%s status=%d", m, p, s);
 */
#ifndef BERTH_BASE_LOG_H
#define BERTH_BASE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
int log_enabled(enum log_level lvl);
/* "error", "warn", "info", "debug" -> 0 and *out; else -BERTH_EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
/* Writes one line; reqid may be NULL. Safe from any thread (one write(2) per record). */
void log_msg(enum log_level lvl, const char *reqid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
