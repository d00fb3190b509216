"""GET /metrics: Prometheus text with request counters that move with real requests."""

import re

import lib

SHARED_SERVER = False  # no other test's requests between the two readings


def _value(text, name, labels):
    """The sample value of name{labels} in the exposition, or None."""
    want = "%s{%s}" % (name, labels) if labels else name
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        if key == want:
            return float(val)
    return None


@lib.berth_only("/metrics is berth's")
def test_metrics_counts_requests(reg):
    before = reg.get("/metrics").body.decode()
    base = {k: _value(before, *k) or 0.0 for k in [
        ("berth_http_requests_total", 'method="GET",code="200"'),
        ("berth_http_requests_total", 'method="GET",code="404"'),
        ("berth_http_request_duration_seconds_count", 'method="GET"'),
        ("berth_http_request_duration_seconds_bucket", 'method="GET",le="+Inf"')]}
    for _ in range(3):
        lib.status(reg.get("/v2/"), 200)
    lib.status(reg.get("/v2/nope/manifests/latest"), 404)
    # a request is counted when its answer is queued: the first /metrics read (a GET 200) is in
    r = reg.get("/metrics")
    lib.status(r, 200)
    lib.header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8")
    text = r.body.decode()
    for k, delta in zip(base, [4.0, 1.0, 5.0, 5.0]):
        lib.eq((_value(text, *k) or 0.0) - base[k], delta, "%s{%s} increase" % k)
    lib.eq(_value(text, "berth_http_in_flight", None), 1.0, "in flight (this request)")
    lib.ok(re.search(r"^# TYPE berth_http_request_duration_seconds histogram$", text, re.M),
           "histogram TYPE line")
    buckets = [float(v) for v in re.findall(
        r'^berth_http_request_duration_seconds_bucket\{method="GET",le="[^"]+"\} (\d+)$', text, re.M)]
    lib.eq(buckets, sorted(buckets), "cumulative buckets never decrease")


@lib.berth_only("/metrics is berth's")
def test_metrics_method_not_allowed(reg):
    r = reg.request("POST", "/metrics", body=b"x")
    lib.error(r, 405, ["UNSUPPORTED"])
