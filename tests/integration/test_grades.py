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


POLICY = """policy:
  grades:
    prod:
      repositories: ["deb/*"]
      min_grade: E
%s"""


def manifest_get(srv, repo, ref, method="GET"):
    return srv.client.request(method, "/v2/%s/manifests/%s" % (repo, ref),
                              headers={"Accept": lib.OCI_MANIFEST})


@lib.berth_only("grade policies")
@lib.no_server
def test_pull_policy_blocks_until_exception_or_newer_image(_):
    srv = start(config=POLICY % "")
    try:
        reg = srv.client
        ts.import_errata(srv, ts.dsa_list())
        d = ts.push(reg, "deb/app", "v1", ts.debian_layers())
        ts.wait_scan(reg, "deb/app", d)
        ts.push(reg, "misc/app", "v1", ts.debian_layers())  # no rule matches misc/*
        # today the 2022 advisories are more than a year old: F, below the rule's E
        for method in ("GET", "HEAD"):
            r = manifest_get(srv, "deb/app", "v1", method)
            lib.status(r, 403, "%s below min grade" % method)
        r = manifest_get(srv, "deb/app", d)
        lib.error(r, 403, ["DENIED"], "by digest")
        msg = json.loads(r.body)["errors"][0]["message"]
        lib.ok("grades.prod requires grade E or better" in msg and "grades F because of DSA-5139-1 (Important, "
               "issued 2022-05-17" in msg and "DSA-5169-1" in msg, "message names grade and errata: " + msg)
        lib.status(manifest_get(srv, "misc/app", "v1"), 200, "unmatched repository")
        # the same answer again comes from the cache
        lib.status(manifest_get(srv, "deb/app", "v1"), 403, "cached denial")
    finally:
        srv.stop()
    # exceptions: an expired one does not help; with both advisories excepted (one by CVE) it passes
    cfg = POLICY % ("      exceptions:\n"
                    "        - \"DSA-5139-1 until 2023-01-01: expired long ago\"\n"
                    "        - \"CVE-2022-2068 until 2099-12-31: fix pending\"\n")
    with open(srv.env["BERTH_CONFIG"], "w") as f:
        f.write(cfg)
    srv.start()
    try:
        r = manifest_get(srv, "deb/app", "v1")
        lib.error(r, 403, ["DENIED"], "expired exception")
        msg = json.loads(r.body)["errors"][0]["message"]
        lib.ok("DSA-5139-1" in msg and "DSA-5169-1" not in msg, "only the unexcepted advisory named: " + msg)
    finally:
        srv.stop()
    with open(srv.env["BERTH_CONFIG"], "w") as f:
        f.write(cfg.replace("2023-01-01", "2099-01-01"))
    srv.start()
    try:
        lib.status(manifest_get(srv, "deb/app", "v1"), 200, "both excepted")
    finally:
        srv.stop()
    # without exceptions, a newer image under the same tag makes the pull pass
    with open(srv.env["BERTH_CONFIG"], "w") as f:
        f.write(POLICY % "")
    srv.start()
    try:
        reg = srv.client
        lib.status(manifest_get(srv, "deb/app", "v1"), 403, "denied again")
        d2 = ts.push(reg, "deb/app", "v1", fixed_layers())
        ts.wait_scan(reg, "deb/app", d2)
        lib.status(manifest_get(srv, "deb/app", "v1"), 200, "rebuilt image passes")
        lib.status(manifest_get(srv, "deb/app", d), 403, "the old digest is still refused")
    finally:
        srv.cleanup()


@lib.berth_only("grade policies")
@lib.no_server
def test_pull_policy_unscanned_and_bad_config(_):
    srv = start(env={"BERTH_SCAN_WORKERS": "0"}, config=POLICY % "")
    try:
        reg = srv.client
        ts.push(reg, "deb/app", "v1", ts.debian_layers())
        r = manifest_get(srv, "deb/app", "v1")
        lib.error(r, 403, ["DENIED"], "not scanned")
        lib.ok("not scanned yet" in json.loads(r.body)["errors"][0]["message"], "says not scanned yet")
    finally:
        srv.stop()
    with open(srv.env["BERTH_CONFIG"], "w") as f:
        f.write(POLICY % "      unscanned: allow\n")
    srv.start()
    try:
        lib.status(manifest_get(srv, "deb/app", "v1"), 200, "unscanned: allow")
    finally:
        srv.stop()
    for bad in ("      min_grade: G\n", "      exceptions: [\"DSA-1 until 2027-02-30: x\"]\n"):
        with open(srv.env["BERTH_CONFIG"], "w") as f:
            f.write(POLICY.replace("      min_grade: E\n", "") % bad if "min_grade" in bad else POLICY % bad)
        try:
            srv.start()
            lib.fail("server started with a bad policy: %r" % bad)
        except lib.TestFailure as e:
            lib.ok("policy.grades.prod" in str(e), "start-up names the setting: %s" % str(e)[-300:])
    srv.cleanup()


@lib.berth_only("berth grade")
@lib.no_server
def test_grade_cli_online_all_and_offline(_):
    srv = start()
    try:
        reg = srv.client
        ts.import_errata(srv, ts.dsa_list())
        d = ts.push(reg, "deb/app", "v1", ts.debian_layers())
        ts.wait_scan(reg, "deb/app", d)
        d2 = ts.push(reg, "deb/app", "v2", fixed_layers())
        ts.wait_scan(reg, "deb/app", d2)
        base = "docker://127.0.0.1:%d" % srv.port
        g = json.loads(te.berth_ok("grade", "--tls-verify=false", base + "/deb/app:v1", "--at", "2022-08-16", "--json"))
        lib.eq((g["grade"], g["date"], g["next_drop_date"]), ("D", "2022-08-16", "2023-05-18"), "grade --at")
        g = json.loads(te.berth_ok("grade", "--tls-verify=false", base + "/deb/app:v1", "--at", "2022-08-16", "--unknown-severity",
                                   "critical", "--json"))
        lib.eq(g["grade"], "E", "grade --unknown-severity critical")
        out = te.berth_ok("grade", "--tls-verify=false", base + "/deb/app@" + d, "--at", "2022-07-01")
        lib.ok(out.startswith("grade C on 2022-07-01 (2 errata counted") and "DSA-5139-1" in out, "table: " + out)
        rc, out, err = te.berth("grade", "--tls-verify=false", base + "/deb/app:v1", "--at", "2022-13-01")
        lib.eq(rc, 2, "bad --at exit status")
        rc, out, err = te.berth("grade", "--tls-verify=false", base + "/deb/app:v1", "--unknown-severity", "high")
        lib.eq(rc, 2, "bad --unknown-severity exit status")
        doc = json.loads(te.berth_ok("grade", "--tls-verify=false", "--all", base, "--at", "2022-07-01", "--json"))
        lib.eq((doc["date"], doc["worst"], doc["counts"]["C"], doc["counts"]["A"]), ("2022-07-01", "C", 1, 1), "--all")
        out = te.berth_ok("grade", "--tls-verify=false", "--all", base, "--at", "2022-07-01", "--sort", "grade")
        rows = [l.split()[:3] for l in out.splitlines()[1:-1]]
        lib.eq(rows, [["deb/app", "v1", "C"], ["deb/app", "v2", "A"]], "--all --sort grade")
        out = te.berth_ok("grade", "--tls-verify=false", "--all", base + "/deb/app", "--at", "2022-07-01", "--sort", "name")
        lib.eq([l.split()[:3] for l in out.splitlines()[1:-1]], [["deb/app", "v1", "C"], ["deb/app", "v2", "A"]],
               "--all REPO --sort name")
    finally:
        srv.stop()


@lib.berth_only("berth grade --errata")
@lib.no_server
def test_grade_cli_offline_oci_layout(_):
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="berth-grade-")
    try:
        layers = ts.debian_layers()
        cfg = lib.make_config()
        body = lib.image_manifest(cfg, layers)
        os.makedirs(os.path.join(tmp, "img", "blobs", "sha256"))
        for b in [cfg, body] + layers:
            with open(os.path.join(tmp, "img", "blobs", "sha256", lib.sha256(b).split(":")[1]), "wb") as f:
                f.write(b)
        with open(os.path.join(tmp, "img", "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        with open(os.path.join(tmp, "img", "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [lib.descriptor(lib.OCI_MANIFEST, body)]}, f)
        ref = "oci:%s" % os.path.join(tmp, "img")
        for at, unk, want in (("2022-06-16", None, "B"), ("2022-06-17", None, "C"), ("2023-05-18", None, "F"),
                              ("2023-05-18", "ignore", "A"), ("2022-05-25", "critical", "C")):
            args = ["grade", ref, "--errata", ts.dsa_list(), "--at", at, "--json"]
            if unk:
                args += ["--unknown-severity", unk]
            g = json.loads(te.berth_ok(*args))
            lib.eq(g["grade"], want, "offline grade at %s (%s)" % (at, unk))
        # the same image (with the diff_ids a docker save tarball needs) as an OCI archive and a
        # docker-archive grades the same
        ts._debian_layout(os.path.join(tmp, "img2"))
        ref = "oci:%s:v1" % os.path.join(tmp, "img2")
        want = json.loads(te.berth_ok("grade", ref, "--errata", ts.dsa_list(), "--at", "2022-06-17", "--json"))
        lib.eq(want["grade"], "C", "offline grade of the second layout")
        for other in ("oci-archive:%s" % os.path.join(tmp, "img.tar"),
                      "docker-archive:%s:deb/app:v1" % os.path.join(tmp, "img-docker.tar")):
            te.berth_ok("copy", "-q", ref, other)
            g = json.loads(te.berth_ok("grade", other, "--errata", ts.dsa_list(), "--at", "2022-06-17", "--json"))
            lib.eq(g, want, "offline grade of %s" % other.split(":")[0])
        rc, out, err = te.berth("grade", "oci-archive:%s" % os.path.join(tmp, "img.tar"), "--at", "2022-06-17")
        lib.eq((rc, out), (2, ""), "a local image without --errata")
        lib.ok(err.startswith("berth: ") and "needs --errata" in err and err.count("\n") == 1, err)
        rc, out, err = te.berth("grade", "oci-archive:%s" % os.path.join(tmp, "none.tar"), "--errata", ts.dsa_list())
        lib.eq((rc, out), (1, ""), "a missing archive")
        lib.ok(err.startswith("berth: ") and err.count("\n") == 1, err)
    finally:
        shutil.rmtree(tmp)
