"""Container Health Index grades on real pushed images graded against the shared Debian advisories,
by time travel (?at= and --at with fixed dates): every boundary of the table, unknown severity both
ways, the freshness schedule, a rebuild that restores A, repository scores, gauges, and pull
policies on grades with exceptions that expire."""

import json
import os
import time

import lib
import test_errata as te
import test_scan as ts

# The image of test_scan: Debian 11 with openssl 1.1.1k-1+deb11u2, hit by DSA-5139-1 (issued
# 2022-05-17) and DSA-5169-1 (2022-06-26). Debian's lists carry no severity: unknown.
OLDEST = "DSA-5139-1"


def grade_at(reg, repo, ref, at, unknown=None):
    path = "/api/v1/repositories/%s/manifests/%s/scan?at=%s" % (repo, ref, at)
    if unknown:
        path += "&unknown_severity=" + unknown
    r = reg.get(path)
    lib.status(r, 200, "scan report at %s" % at)
    return r.json()["grade"]


def fixed_layers():
    """The same image rebuilt with openssl at the version both advisories fix."""
    base, _ = ts.debian_layers()
    upper = ts.tar_layer([
        ("var/lib/dpkg/status", (ts.dpkg("base-files", "11.1+deb11u5") +
                                 ts.dpkg("libssl1.1", "1.1.1n-0+deb11u3", "openssl") +
                                 ts.dpkg("openssl", "1.1.1n-0+deb11u3")).encode()),
        ("usr/bin/openssl", b"\x7fELF rebuilt"),
    ])
    return [base, upper]


def start(env=None, config=None):
    srv = lib.Server(env=env)
    if config:
        path = os.path.join(srv.tmp, "config.yml")
        with open(path, "w") as f:
            f.write(config)
        srv.env["BERTH_CONFIG"] = path
    srv.start()
    return srv


@lib.berth_only("grades")
@lib.no_server
def test_grade_boundaries_by_time_travel(_):
    srv = start()
    try:
        reg = srv.client
        ts.import_errata(srv, ts.dsa_list())
        d = ts.push(reg, "deb/app", "v1", ts.debian_layers())
        rep = ts.wait_scan(reg, "deb/app", d)
        lib.eq(rep["status"], "scanned", "status")
        # Important (unknown graded as important, the default): B <= 30 days, C <= 90, D <= 365, then F
        cases = [("2022-05-16", "A"), ("2022-05-17", "B"), ("2022-06-16", "B"), ("2022-06-17", "C"),
                 ("2022-08-15", "C"), ("2022-08-16", "D"), ("2023-05-17", "D"), ("2023-05-18", "F")]
        for at, want in cases:
            g = grade_at(reg, "deb/app", "v1", at)
            lib.eq(g["grade"], want, "grade at %s (important)" % at)
        # Critical: B <= 7, C <= 30, D <= 90, E <= 365, then F
        cases = [("2022-05-24", "B"), ("2022-05-25", "C"), ("2022-06-16", "C"), ("2022-06-17", "D"),
                 ("2022-08-15", "D"), ("2022-08-16", "E"), ("2023-05-17", "E"), ("2023-05-18", "F")]
        for at, want in cases:
            g = grade_at(reg, "deb/app", "v1", at, "critical")
            lib.eq(g["grade"], want, "grade at %s (critical)" % at)
        # ignored unknown severity: nothing counts
        g = grade_at(reg, "deb/app", "v1", "2024-01-01", "ignore")
        lib.eq((g["grade"], g["counted"], g["graded_unknown"]), ("A", 0, []), "unknown ignored")
        # the report names the errata and says they were graded as Important
        g = grade_at(reg, "deb/app", "v1", "2022-07-01")
        lib.eq(g["grade"], "C", "grade 2022-07-01")
        lib.eq(g["graded_unknown"], ["DSA-5139-1", "DSA-5169-1"], "graded_unknown")
        lib.eq([(e["advisory"], e["severity"], e["graded_as"], e["age_days"], e["grade"]) for e in g["errata"]],
               [("DSA-5139-1", "unknown", "Important", 45, "C"), ("DSA-5169-1", "unknown", "Important", 5, "B")],
               "errata behind the grade")
        lib.eq(sorted(g["errata"][0]["packages"]), ["libssl1.1", "openssl"], "packages")
        # the freshness schedule and the next drop
        lib.eq(g["next_drop_date"], "2022-08-16", "next_drop_date")
        lib.eq(g["freshness"], [
            {"grade": "C", "start_date": "2022-07-01", "end_date": "2022-08-15"},
            {"grade": "D", "start_date": "2022-08-16", "end_date": "2023-05-17"},
            {"grade": "F", "start_date": "2023-05-18", "end_date": None}], "freshness")
        g = grade_at(reg, "deb/app", "v1", "2023-05-18")
        lib.eq((g["next_drop_date"], g["freshness"]), (None, [
            {"grade": "F", "start_date": "2023-05-18", "end_date": None}]), "F lasts")
        # hostile parameters
        for q in ("at=2022-02-30", "at=2022-5-1", "at=", "at=tomorrow", "unknown_severity=high"):
            r = reg.get("/api/v1/repositories/deb/app/manifests/v1/scan?" + q)
            lib.status(r, 400, q)
            r = reg.get("/api/v1/grades?" + q)
            lib.status(r, 400, "grades " + q)

        # a rebuild with the fixed openssl restores A; the repository score shows both tags
        d2 = ts.push(reg, "deb/app", "v2", fixed_layers())
        lib.eq(ts.wait_scan(reg, "deb/app", d2)["status"], "scanned", "rebuild scanned")
        lib.eq(grade_at(reg, "deb/app", "v2", "2023-05-18")["grade"], "A", "rebuild grade")
        ts.push(reg, "other/thing", "latest", [ts.tar_layer([("hello.txt", b"hi")])])
        ts.wait_scan(reg, "other/thing", "latest")
        r = reg.get("/api/v1/grades?at=2022-07-01")
        lib.status(r, 200, "grades")
        j = r.json()
        lib.eq((j["date"], j["worst"]), ("2022-07-01", "C"), "grades date/worst")
        lib.eq(j["counts"], {"A": 1, "B": 0, "C": 1, "D": 0, "E": 0, "F": 0, "none": 1}, "counts")
        repos = {x["name"]: x for x in j["repositories"]}
        lib.eq(sorted(repos), ["deb/app", "other/thing"], "repositories")
        app = repos["deb/app"]
        lib.eq(app["worst"], "C", "deb/app worst")
        lib.eq([(t["tag"], t["grade"], t["next_drop_date"]) for t in app["tags"]],
               [("v1", "C", "2022-08-16"), ("v2", "A", None)], "deb/app tags")
        lib.eq([(t["tag"], t["status"], t["grade"]) for t in repos["other/thing"]["tags"]],
               [("latest", "unsupported", None)], "unsupported image")
        r = reg.get("/api/v1/grades?repo=deb/app&at=2023-06-01&unknown_severity=ignore")
        lib.eq([(t["tag"], t["grade"]) for t in r.json()["repositories"][0]["tags"]],
               [("v1", "A"), ("v2", "A")], "?repo= with ignore")
        lib.status(reg.get("/api/v1/grades?repo=nope/none"), 404, "unknown repo")
        # gauges: today the 2022 advisories are long past a year: F
        m = reg.get("/metrics").body.decode()
        for line in ('berth_images_by_grade{grade="A"} 1', 'berth_images_by_grade{grade="F"} 1',
                     'berth_images_by_grade{grade="none"} 1', 'berth_images_by_grade{grade="C"} 0'):
            lib.ok(line in m.splitlines(), "metrics has %s" % line)
    finally:
        srv.stop()
