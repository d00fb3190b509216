/* h_custody: the custody log as JSON lines.
 *
 *   GET /api/v1/custody?repo=&after=&n=
 *       application/x-ndjson, one journal row per line (custody_event_json), seq > after (default 0),
 *       of repo when given, n per page (default 1000, at most 10000), with
 *       `Link: </api/v1/custody?after=LAST&n=N[&repo=R]>; rel="next"` while more follow, and
 *       `Berth-Custody-Head: <seq> <hash>` naming the journal's head when the page was read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "custody/custody.h"
#include "http/internal.h"

#define CUSTODY_PAGE_DEFAULT 1000
#define CUSTODY_PAGE_MAX 10000

/* Parses a non-negative decimal; -1 when malformed. */
static long long hc_num(const char *s)
{
	char *end = NULL;
	long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	return v;
}

void h_custody(struct req *q)
{
	struct meta *m = registry_meta(q->srv->reg);
	const char *repo = req_query(q, "repo"), *sa = req_query(q, "after"), *sn = req_query(q, "n");
	long long after = sa ? hc_num(sa) : 0, n = sn ? hc_num(sn) : CUSTODY_PAGE_DEFAULT;
	struct buf b, link;
	struct MHD_Response *r;
	int64_t last = 0, hseq = 0;
	char head[META_EVENT_HASH_MAX], hv[120], *body;
	size_t len;
	int more = 0, rc;

	if (strcmp(q->method, "GET") && !q->is_head) {
		answer_errorf(q, REG_UNSUPPORTED, 405, "method not allowed");
		return;
	}
	if (after < 0 || n < 0) {
		answer_errorf(q, REG_UNSUPPORTED, 400, "after and n must be non-negative integers");
		return;
	}
	if (repo && (!*repo || !registry_name_valid(repo))) {
		answer_errorf(q, REG_NAME_INVALID, 400, "invalid repository name");
		return;
	}
	if (n > CUSTODY_PAGE_MAX)
		n = CUSTODY_PAGE_MAX;
	buf_init(&b, BUF_UNLIMITED);
	buf_init(&link, 1024);
	rc = meta_event_head(m, &hseq, head);
	if (rc == 0)
		rc = custody_export(m, repo, after, (long)n, &b, &last, &more);
	if (rc < 0) {
		buf_release(&b);
		buf_release(&link);
		answer_errorf(q, REG_INTERNAL, 500, "custody log: %s", berth_strerror(rc));
		return;
	}
	body = buf_detach(&b, &len);
	answer_json(q, 200, body, len, "application/x-ndjson", &r);
	snprintf(hv, sizeof(hv), "%lld %s", (long long)hseq, head);
	header_add(r, "Berth-Custody-Head", hv);
	if (more) {
		buf_addf(&link, "</api/v1/custody?after=%lld&n=%lld%s%s>; rel=\"next\"", (long long)last, n,
			 repo ? "&repo=" : "", repo ? repo : "");
		header_add(r, "Link", link.ptr);
	}
	buf_release(&link);
	answer(q, r, 200);
}
