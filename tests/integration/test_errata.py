"""Errata: `berth errata import/list/show/sync` on the shipped advisory data, /api/v1/errata, and
errata feeds over HTTP (a loopback http.server that honours If-None-Match) synced by the CLI and
by serve's background thread.

The data is read from ../shared/data/advisories beside the repository (or ../../shared for a
worktree, or $BERTH_ADVISORY_DATA), else from the copy in tests/data/advisories; when it is missing the
tests fail, they do not skip."""

import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse

import lib


def data_dir():
    env = os.environ.get("BERTH_ADVISORY_DATA")
    cands = [env] if env else [os.path.join(lib.REPO_ROOT, "..", "shared", "data", "advisories"),
                               os.path.join(lib.REPO_ROOT, "..", "..", "shared", "data", "advisories"),
                               os.path.join(lib.REPO_ROOT, "tests", "data", "advisories")]
    for c in cands:
        if c and os.path.isdir(c):
            return os.path.abspath(c)
    lib.fail("advisory data not found (looked in %s); set BERTH_ADVISORY_DATA" % ", ".join(cands))


def shared_paths():
    d = data_dir()
    return [os.path.join(d, "debian-security-tracker", "DSA-list"),
            os.path.join(d, "debian-security-tracker", "DLA-list"),
            os.path.join(d, "almalinux-osv"),
            os.path.join(d, "alpine-secdb")]


def berth(*args, timeout=300):
    """Runs the berth CLI; returns (exit status, stdout, stderr)."""
    if not os.access(lib.BERTH_BIN, os.X_OK):
        lib.fail("berth binary not found at %s" % lib.BERTH_BIN)
    env = dict(os.environ)
    env.pop("BERTH_CONFIG", None)
    p = subprocess.run([lib.BERTH_BIN] + list(args), capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def berth_ok(*args, **kw):
    rc, out, err = berth(*args, **kw)
    if rc != 0:
        lib.fail("berth %s exited %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out[-2000:], err[-2000:]))
    return out


OSV_ALSA = {
    "id": "ALSA-2099:0001",
    "summary": "Important: demo security update",
    "published": "2099-01-02T00:00:00Z",
    "related": ["CVE-2099-0001"],
    "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "demo"},
                  "ranges": [{"type": "ECOSYSTEM",
                              "events": [{"introduced": "0"}, {"fixed": "1.0-1.el9"}]}]}],
}


class FeedServer:
    """A loopback HTTP server for one feed body, with an ETag and Last-Modified, answering 304 to a
    matching If-None-Match; records every request's conditional headers and status."""

    def __init__(self, body):
        self.body = body
        self.status = 200
        self.seen = []  # (If-None-Match, If-Modified-Since, status)
        feed = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                etag = '"%s"' % hashlib.sha256(feed.body).hexdigest()[:16]
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if feed.status != 200:
                    st = feed.status
                    self.send_response(st)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif inm == etag:
                    st = 304
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                else:
                    st = 200
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")
                    self.send_header("Content-Length", str(len(feed.body)))
                    self.end_headers()
                    self.wfile.write(feed.body)
                feed.seen.append((inm, ims, st))

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/feeds/alsa.json" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ErrataServer(lib.Server):
    """berth serve with a configuration file."""

    def __init__(self, data_dir=None, config=None):
        super().__init__(data_dir=data_dir, name="errata")
        self.config = config

    def _cmd(self):
        cmd = super()._cmd()
        if self.config:
            cmd += ["--config", self.config]
        return cmd


SUMMARY = re.compile(r"^(?P<name>.+) \((?P<fmt>\w+), (?P<files>\d+) files?\): (?P<added>\d+) added, "
                     r"(?P<updated>\d+) updated, (?P<unchanged>\d+) unchanged(?P<rest>.*)$")


def summaries(out):
    rows = {}
    for line in out.splitlines():
        m = SUMMARY.match(line)
        if m:
            rows[os.path.basename(m.group("name").rstrip("/"))] = m.groupdict()
    return rows


@lib.berth_only("berth errata")
@lib.no_server
def test_import_shared_data_twice(_):
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    try:
        t0 = time.time()
        out = berth_ok("errata", "import", "--data", tmp, *shared_paths())
        first = time.time() - t0
        rows = summaries(out)
        lib.eq(sorted(rows), ["DLA-list", "DSA-list", "almalinux-osv", "alpine-secdb"], "sources")
        lib.eq((rows["DSA-list"]["fmt"], rows["DSA-list"]["added"], rows["DSA-list"]["rest"]),
               ("debian", "5335", "; severity unknown: this source gives none"), "DSA-list line")
        lib.eq(rows["DLA-list"]["added"], "3408", "DLA added")
        lib.eq((rows["almalinux-osv"]["files"], rows["almalinux-osv"]["added"], rows["almalinux-osv"]["rest"]),
               ("790", "779", ", 11 repeated (merged)"), "AlmaLinux line")
        lib.eq((rows["alpine-secdb"]["fmt"], rows["alpine-secdb"]["added"]), ("secdb", "1404"), "secdb line")
        lib.ok(re.search(r"^total: 10926 added, 0 updated, 0 unchanged in [0-9.]+ s; errata generation 1$", out, re.M),
               "total line: %r" % out)
        out = berth_ok("errata", "import", "--data", tmp, *shared_paths())
        rows = summaries(out)
        for name, r in rows.items():
            lib.eq((r["added"], r["updated"]), ("0", "0"), "second import of %s" % name)
        lib.eq(rows["DSA-list"]["unchanged"], "5335", "DSA unchanged")
        lib.ok(re.search(r"^total: 0 added, 0 updated, 10926 unchanged in [0-9.]+ s; errata generation 1$", out, re.M),
               "second total line: %r" % out)
        lib.ok(first < 60, "import of all shared data took %.1f s" % first)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth errata")
@lib.no_server
def test_import_malformed_file_names_line_and_imports_the_rest(_):
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    try:
        good = os.path.join(tmp, "good.json")
        bad = os.path.join(tmp, "bad-list")
        with open(good, "w") as f:
            json.dump(OSV_ALSA, f)
        with open(bad, "w") as f:
            f.write("[31 Dec 2022] DSA-1-1 foo - security update\n\t{CVE-2022-0001}\n"
                    "\t[bullseye] - foo\n")
        rc, out, err = berth("errata", "import", "--data", os.path.join(tmp, "d"), good, bad)
        lib.eq(rc, 1, "exit status with a malformed file")
        lib.ok("berth: error: %s:3: fix line for foo without a version" % bad in err, "stderr: %r" % err)
        rows = summaries(out)
        lib.eq(rows["good.json"]["added"], "1", "good file added")
        lib.eq((rows["bad-list"]["added"], rows["bad-list"]["rest"]), ("0", ", 1 file failed"), "bad file line")
        out = berth_ok("errata", "list", "--data", os.path.join(tmp, "d"), "--json")
        lib.eq([e["id"] for e in json.loads(out)], ["ALSA-2099:0001"], "only the good file's advisory")
        rc, out, err = berth("errata", "import", "--data", os.path.join(tmp, "d"), os.path.join(tmp, "missing"))
        lib.eq(rc, 1, "exit status for a missing path")
        lib.ok("No such file or directory" in err, "stderr: %r" % err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth errata")
@lib.no_server
def test_list_and_show(_):
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    try:
        berth_ok("errata", "import", "--data", tmp, os.path.join(data_dir(), "almalinux-osv"))
        out = berth_ok("errata", "list", "--data", tmp, "--release", "almalinux:9", "--severity", "critical",
                       "--json")
        got = json.loads(out)
        lib.eq([e["id"] for e in got], ["ALSA-2024:1485"], "the one Critical AlmaLinux 9 advisory")
        lib.eq(got[0]["severity"], "Critical", "severity")
        lib.ok("details" not in got[0], "list items carry no details")
        out = berth_ok("errata", "show", "--data", tmp, "ALSA-2024:0003", "--json")
        e = json.loads(out)
        lib.eq({k: e[k] for k in ("id", "source", "type", "severity", "issued", "issued_known", "summary")},
               {"id": "ALSA-2024:0003", "source": "osv", "type": "security", "severity": "Important",
                "issued": "2024-01-02T00:00:00Z", "issued_known": True,
                "summary": "Important: thunderbird security update"}, "show --json")
        lib.eq(e["affected"], [{"release": "almalinux:8", "package": "thunderbird", "package_kind": "binary",
                                "status": "fixed", "introduced": None, "fixed": "115.6.0-1.el8_9.alma",
                                "last_affected": None}], "affected")
        lib.eq(len(e["cves"]), 11, "CVE count")
        lib.ok(e["details"].startswith("Mozilla Thunderbird is a standalone"), "details")
        out = berth_ok("errata", "show", "--data", tmp, "ALSA-2024:0003")
        lib.ok(out.startswith("ALSA-2024:0003  Important security (source osv)\n"), "show header: %r" % out[:80])
        lib.ok("  almalinux:8    thunderbird (binary): fixed in 115.6.0-1.el8_9.alma\n" in out, "show affected")
        out = berth_ok("errata", "list", "--data", tmp, "--package", "thunderbird", "-n", "2")
        lines = out.splitlines()
        lib.ok(lines[0].startswith("ID "), "table header: %r" % lines[0])
        lib.eq(len(lines), 4, "header, two rows, more line: %r" % out)
        lib.ok(lines[3].startswith("(more: add --last ALSA-"), "more line")
        rc, out, err = berth("errata", "show", "--data", tmp, "ALSA-0000:0000")
        lib.eq((rc, err.strip()), (1, "berth: no erratum ALSA-0000:0000"), "show of an unknown id")
        rc, out, err = berth("errata", "list", "--data", tmp, "--severity", "urgent")
        lib.eq(rc, 2, "bad severity is a usage error")
        rc, out, err = berth("errata", "frobnicate")
        lib.eq(rc, 2, "unknown subcommand")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth errata")
@lib.no_server
def test_api_list_filters_paging_and_lookup(_):
    srv = ErrataServer()
    try:
        berth_ok("errata", "import", "--data", srv.data_dir, *shared_paths())
        srv.start()
        c = srv.client
        r = c.get("/api/v1/errata?release=debian:11&package=openssl&n=10000")
        lib.status(r, 200)
        lib.eq(r.headers.get("Berth-Errata-Generation"), "1", "generation header")
        lib.eq(r.headers.get("Content-Type"), "application/json; charset=utf-8", "content type")
        doc = r.json()
        lib.eq(doc["generation"], 1, "generation")
        ids = [e["id"] for e in doc["errata"]]
        lib.eq(ids, ["DSA-5169-1", "DSA-5139-1", "DSA-5103-1", "DSA-4963-1"], "openssl advisories for bullseye")
        for e in doc["errata"]:
            lib.ok(any(a["release"] == "debian:11" and a["package"] == "openssl" for a in e["affected"]),
                   "%s names debian:11 openssl" % e["id"])
        issued = [e["issued"] for e in doc["errata"]]
        lib.eq(issued, sorted(issued, reverse=True), "newest first")
        # the same list through Link pages of 2
        pages, path = [], "/api/v1/errata?release=debian:11&package=openssl&n=2"
        while path:
            r = c.get(path)
            lib.status(r, 200, "GET %s" % path)
            pages.extend(e["id"] for e in r.json()["errata"])
            link = r.headers.get("Link")
            if link:
                m = re.fullmatch(r'<(/api/v1/errata\?release=debian%3A11&package=openssl&last=[^&>]+&n=2)>; rel="next"',
                                 link)
                lib.ok(m, "Link header %r" % link)
                path = m.group(1)
            else:
                path = None
        lib.eq(pages, ids, "ids gathered through Link pages")
        r = c.get("/api/v1/errata/DSA-5300-1")
        lib.status(r, 200)
        e = r.json()
        lib.eq({k: e[k] for k in ("id", "source", "type", "severity", "issued", "cves", "details")},
               {"id": "DSA-5300-1", "source": "debian-tracker", "type": "security", "severity": "unknown",
                "issued": "2022-12-12T00:00:00Z", "cves": ["CVE-2020-35511"], "details": None}, "DSA-5300-1")
        lib.eq(e["affected"], [{"release": "debian:11", "package": "pngcheck", "package_kind": "source",
                                "status": "fixed", "introduced": None, "fixed": "3.0.3-1~deb11u1",
                                "last_affected": None}], "DSA-5300-1 affected")
        r = c.get("/api/v1/errata/ALSA-2024%3A0003")
        lib.status(r, 200)
        lib.eq(r.json()["severity"], "Important", "percent-encoded id")
        r = c.get("/api/v1/errata?release=alpine:3.11&package=openssl")
        lib.status(r, 200)
        got = r.json()["errata"]
        lib.eq(sorted(e["id"] for e in got), ["ALPINE-v3.11-openssl-1.1.1a-r0", "ALPINE-v3.11-openssl-1.1.1b-r1",
                                             "ALPINE-v3.11-openssl-1.1.1d-r1", "ALPINE-v3.11-openssl-1.1.1d-r3"],
               "secdb openssl fixes for 3.11")
        lib.ok(all(not e["issued_known"] for e in got), "secdb advisories have no date of their own")
        r = c.get("/api/v1/errata?cve=CVE-2021-44228")
        lib.eq(sorted(e["id"] for e in r.json()["errata"]), ["DLA-2842-1", "DSA-5020-1"], "log4shell")
        r = c.get("/api/v1/errata?n=0")
        lib.eq((r.status, r.json()["errata"]), (200, []), "n=0")
        lib.ok(r.headers.get("Link", "").startswith("</api/v1/errata?last=") is False, "n=0 has no Link")
        r = c.get("/api/v1/errata")
        lib.eq(len(r.json()["errata"]), 100, "default page size")
        lib.ok(r.headers.get("Link"), "default page has a Link")
        r = c.head("/api/v1/errata/DSA-5300-1")
        lib.eq((r.status, r.body), (200, b""), "HEAD")
        for path, st, code in [("/api/v1/errata/NOPE-1", 404, "ERRATUM_UNKNOWN"),
                               ("/api/v1/errata/a/b", 404, "ERRATUM_UNKNOWN"),
                               ("/api/v1/errata?severity=urgent", 400, "PARAMETER_INVALID"),
                               ("/api/v1/errata?type=fun", 400, "PARAMETER_INVALID"),
                               ("/api/v1/errata?n=-1", 400, "PARAMETER_INVALID"),
                               ("/api/v1/errata?n=x", 400, "PARAMETER_INVALID"),
                               ("/api/v1/errata?last=NOPE-1", 400, "PARAMETER_INVALID")]:
            r = c.get(path)
            lib.status(r, st, "GET %s" % path)
            lib.eq(r.json()["errors"][0]["code"], code, "error code of %s" % path)
        for method in ("POST", "DELETE", "PUT"):
            r = c.request(method, "/api/v1/errata")
            lib.status(r, 405, "%s /api/v1/errata" % method)
        r = c.get("/api/v1/errataX")
        lib.status(r, 404, "a path that only starts like the API")
    finally:
        srv.cleanup()


def write_config(path, feeds, interval="6h"):
    with open(path, "w") as f:
        f.write("errata:\n  feeds:\n")
        for feed in feeds:
            f.write("    - %s\n" % feed)
        f.write("  sync_interval: %s\n" % interval)


@lib.berth_only("berth errata")
@lib.no_server
def test_sync_http_feed_with_conditional_requests(_):
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    feed = FeedServer(json.dumps(OSV_ALSA).encode())
    try:
        cfg = os.path.join(tmp, "config.yml")
        write_config(cfg, [feed.url])
        d = os.path.join(tmp, "d")
        out = berth_ok("errata", "sync", "--config", cfg, "--data", d)
        lib.eq(out, "%s: 1 added, 0 updated, 0 unchanged\nerrata generation 1\n" % feed.url, "first sync")
        lib.eq(feed.seen, [(None, None, 200)], "first request is unconditional")
        out = berth_ok("errata", "sync", "--config", cfg, "--data", d)
        lib.eq(out, "%s: not modified\nerrata generation 1\n" % feed.url, "second sync")
        etag = '"%s"' % hashlib.sha256(feed.body).hexdigest()[:16]
        lib.eq(feed.seen[1], (etag, "Wed, 21 Oct 2026 07:28:00 GMT", 304), "second request is conditional")
        changed = dict(OSV_ALSA, summary="Critical: demo security update")
        feed.body = json.dumps(changed).encode()
        out = berth_ok("errata", "sync", "--config", cfg, "--data", d)
        lib.eq(out, "%s: 0 added, 1 updated, 0 unchanged\nerrata generation 2\n" % feed.url, "changed feed")
        lib.eq(feed.seen[2][2], 200, "changed feed answered 200")
        e = json.loads(berth_ok("errata", "show", "--data", d, "ALSA-2099:0001", "--json"))
        lib.eq((e["severity"], e["generation"]), ("Critical", 2), "updated advisory")
        feed.status = 500
        rc, out, err = berth("errata", "sync", "--config", cfg, "--data", d)
        lib.eq((rc, out), (1, "%s: failed: HTTP status 500\nerrata generation 2\n" % feed.url), "failing feed")
        feed.status = 200
        feed.body = b"{\"id\": "
        rc, out, err = berth("errata", "sync", "--config", cfg, "--data", d)
        lib.eq(rc, 1, "malformed feed")
        lib.ok(out.startswith("%s: failed: %s:1: invalid JSON" % (feed.url, feed.url)), "malformed feed: %r" % out)
        # the validators were not replaced by the failed attempt: the good body is still 304
        feed.body = json.dumps(changed).encode()
        out = berth_ok("errata", "sync", "--config", cfg, "--data", d)
        lib.eq(out, "%s: not modified\nerrata generation 2\n" % feed.url, "back to the stored content")
        # a feed given on the command line, and a local file feed
        local = os.path.join(tmp, "local.json")
        with open(local, "w") as f:
            json.dump(dict(OSV_ALSA, id="ALSA-2099:0002"), f)
        out = berth_ok("errata", "sync", "--data", d, local)
        lib.eq(out, "%s: 1 added, 0 updated, 0 unchanged\nerrata generation 3\n" % local, "local feed")
        out = berth_ok("errata", "sync", "--data", d, local)
        lib.eq(out, "%s: not modified\nerrata generation 3\n" % local, "local feed again")
    finally:
        feed.close()
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth errata")
@lib.no_server
@lib.timeout(90)
def test_serve_syncs_feeds_in_the_background(_):
    feed = FeedServer(json.dumps(OSV_ALSA).encode())
    srv = ErrataServer()
    try:
        cfg = os.path.join(srv.tmp, "config.yml")
        write_config(cfg, [feed.url], interval="1s")
        srv.config = cfg
        srv.start()
        c = srv.client
        deadline = time.time() + 30
        while time.time() < deadline:
            r = c.get("/api/v1/errata/ALSA-2099:0001")
            if r.status == 200:
                break
            time.sleep(0.1)
        lib.status(r, 200, "advisory from the feed")
        lib.eq(r.headers.get("Berth-Errata-Generation"), "1", "generation after the first sync")
        deadline = time.time() + 30
        while time.time() < deadline and not any(s[2] == 304 for s in feed.seen):
            time.sleep(0.1)
        lib.ok(any(s[2] == 304 for s in feed.seen), "later syncs are conditional: %r" % feed.seen[:5])
        lib.eq(c.get("/api/v1/errata/ALSA-2099:0001").headers.get("Berth-Errata-Generation"), "1",
               "a 304 changes nothing")
        feed.body = json.dumps(dict(OSV_ALSA, summary="Low: demo security update")).encode()
        deadline = time.time() + 30
        while time.time() < deadline:
            r = c.get("/api/v1/errata/ALSA-2099:0001")
            if r.json().get("severity") == "Low":
                break
            time.sleep(0.1)
        lib.eq((r.json()["severity"], r.headers.get("Berth-Errata-Generation")), ("Low", "2"), "updated by a later sync")
        t0 = time.time()
        lib.eq(srv.stop(), 0, "serve exit status")
        lib.ok(time.time() - t0 < 10, "serve stopped in %.1f s" % (time.time() - t0))
        with open(srv.log_path) as f:
            log = f.read()
        lib.ok('msg="errata sync" feed="%s" status=imported added=1' % feed.url in log, "sync log line")
    finally:
        feed.close()
        srv.cleanup()


@lib.berth_only("berth errata")
@lib.no_server
@lib.timeout(120)
def test_import_killed_midway_leaves_all_or_nothing(_):
    """SIGKILL at varying points of an import: the store holds none of it or all of it."""
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    try:
        env = dict(os.environ)
        env.pop("BERTH_CONFIG", None)
        for i, delay in enumerate([0.4, 1.0, 1.6]):
            d = os.path.join(tmp, "d%d" % i)
            p = subprocess.Popen([lib.BERTH_BIN, "errata", "import", "--data", d] + shared_paths(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            time.sleep(delay)
            p.kill()
            p.wait()
            # what the killed import left is exactly what the next one finds unchanged
            out = berth_ok("errata", "import", "--data", d, *shared_paths())
            m = re.search(r"^total: (\d+) added, 0 updated, (\d+) unchanged", out, re.M)
            lib.ok(m, "import after the kill: %r" % out[-300:])
            lib.ok((int(m.group(1)), int(m.group(2))) in ((10926, 0), (0, 10926)),
                   "after SIGKILL at %.1f s the store held %s of 10926 advisories" % (delay, m.group(2)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def make_zip(path, members):
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


@lib.berth_only("berth errata")
@lib.no_server
def test_zip_archive_import_and_feed(_):
    """OSV publishes per-ecosystem all.zip archives: read member by member, by path and as a feed."""
    tmp = tempfile.mkdtemp(prefix="berth-errata-")
    feed = None
    try:
        alma = os.path.join(data_dir(), "almalinux-osv", "almalinux9")
        names = sorted(n for n in os.listdir(alma) if n.endswith(".json"))[:40]
        members = [("advisories/" + n, open(os.path.join(alma, n), "rb").read()) for n in names]
        members += [("advisories/bad.json", b'{"id": 5}'), ("README.md", b"not read"),
                    ("nested.zip", b"PK\x03\x04 not unpacked")]
        z = os.path.join(tmp, "all.zip")
        make_zip(z, members)
        d = os.path.join(tmp, "d")
        rc, out, err = berth("errata", "import", "--data", d, z)
        lib.eq(rc, 1, "a malformed member fails the import's exit status")
        lib.ok('berth: error: %s:advisories/bad.json: entry #1: "id" is not a string' % z in err, "stderr: %r" % err)
        rows = summaries(out)
        lib.eq((rows["all.zip"]["files"], rows["all.zip"]["added"], rows["all.zip"]["rest"]),
               ("40", "40", ", 1 file failed"), "zip line")
        with open(os.path.join(tmp, "trunc.zip"), "wb") as f:
            f.write(open(z, "rb").read()[:300])
        rc, out, err = berth("errata", "import", "--data", d, os.path.join(tmp, "trunc.zip"))
        lib.eq(rc, 1, "a truncated archive fails")
        lib.ok("trunc.zip: " in err, "stderr names the archive: %r" % err)
        # the same archive over HTTP, as a feed: imported once, then 304
        make_zip(z, members[:40])
        feed = FeedServer(open(z, "rb").read())
        d2 = os.path.join(tmp, "d2")
        out = berth_ok("errata", "sync", "--data", d2, feed.url)
        lib.eq(out, "%s: 40 added, 0 updated, 0 unchanged\nerrata generation 1\n" % feed.url, "zip feed")
        out = berth_ok("errata", "sync", "--data", d2, feed.url)
        lib.eq(out, "%s: not modified\nerrata generation 1\n" % feed.url, "zip feed again")
    finally:
        if feed:
            feed.close()
        shutil.rmtree(tmp, ignore_errors=True)
