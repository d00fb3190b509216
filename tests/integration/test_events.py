"""Scan and grade events: a push scanned clean, then errata imported -> the re-match journals "scan"
with the new advisory ids and the grade checker journals "grade" A -> B; a restart on a later day
(BERTH_GRADE_TODAY, the test-only clock) journals the drop that comes only from time passing. All reach
a loopback webhook signed with the shared secret, and `berth custody log` shows them."""

import hashlib
import hmac
import json
import os
import subprocess
import time

import lib
import test_custody as tc
import test_scan as ts

# test_scan's Debian 11 image: DSA-5139-1 (issued 2022-05-17) and DSA-5169-1 (2022-06-26), unknown
# severity graded as Important (B <= 30 days, C <= 90).
IDS = ["DSA-5139-1", "DSA-5169-1"]


def _start(srv, today, hook_port):
    path = os.path.join(srv.tmp, "config.yml")
    with open(path, "w") as f:
        f.write("grade:\n  check_interval: 1s\nnotifications:\n  endpoints:\n    hook:\n"
                "      url: http://127.0.0.1:%d/hook\n      secret: s3cret\n      actions: scan, grade\n"
                "      backoff: 100ms\n      backoff_max: 300ms\n" % hook_port)
    srv.env["BERTH_CONFIG"] = path
    srv.env["BERTH_GRADE_TODAY"] = today
    srv.start()


def _delivered(hook):
    """Every delivered event, checking each POST's signature."""
    out = []
    with hook.lock:
        got = list(hook.got)
    for hdrs, body in got:
        want = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        lib.eq(hdrs.get("X-Berth-Signature-256"), want, "HMAC signature")
        out.extend(json.loads(body)["events"])
    return out


def _wait(hook, pred):
    hook.wait(lambda g: pred([e for _, b in g for e in json.loads(b)["events"]]), timeout=20)


@lib.berth_only("events")
@lib.no_server
def test_scan_and_grade_events_reach_webhooks_and_custody_log(_):
    hook = tc.Hook()
    srv = lib.Server()
    try:
        _start(srv, "2022-06-01", hook.port)
        reg = srv.client
        d = ts.push(reg, "deb/app", "v1", ts.debian_layers())
        rep = ts.wait_scan(reg, "deb/app", d)
        lib.eq((rep["status"], rep["findings"]), ("scanned", []), "scanned clean before any errata")
        ts.import_errata(srv, ts.dsa_list())
        _wait(hook, lambda ev: any(e["action"] == "grade" for e in ev))
        ev = _delivered(hook)
        lib.eq([e["action"] for e in ev], ["scan", "grade"], "only the configured actions, scan first")
        scan, grade = ev
        lib.eq((scan["target"]["repository"], scan["target"]["digest"], scan["target"].get("tag")),
               ("deb/app", d, "v1"), "scan target")
        lib.eq(scan["detail"], {"status": "scanned", "os": "debian:11", "findings": 4, "advisories": 2,
                                "new": IDS}, "scan detail")
        # on 2022-06-01 DSA-5139-1 is 15 days old (B); DSA-5169-1 is not issued yet
        lib.eq(grade["target"]["digest"], d, "grade target")
        lib.eq(grade["detail"], {"from": "A", "to": "B", "date": "2022-06-01", "next_drop_date": "2022-06-17",
                                 "errata": ["DSA-5139-1"]}, "grade detail")
        # the same day again: every second the checker looks; nothing changes, nothing is sent
        time.sleep(1.5)
        lib.eq(len(_delivered(hook)), 2, "no repeated events")
        # importing the same list again changes no findings: no scan event
        ts.import_errata(srv, ts.dsa_list())
        time.sleep(1.5)
        lib.eq(len(_delivered(hook)), 2, "unchanged findings journal nothing")

        # time alone: restarted on 2022-06-20 the checker sees C (DSA-5139-1 is 34 days old)
        srv.stop()
        _start(srv, "2022-06-20", hook.port)
        _wait(hook, lambda ev: sum(e["action"] == "grade" for e in ev) >= 2)
        g2 = [e for e in _delivered(hook) if e["action"] == "grade"][-1]
        lib.eq(g2["detail"], {"from": "B", "to": "C", "date": "2022-06-20", "next_drop_date": "2022-08-16",
                              "errata": ["DSA-5139-1"]}, "drop from time alone")
        lib.eq(sum(e["action"] == "scan" for e in _delivered(hook)), 1, "no scan event for a restart")

        # the custody log shows both kinds
        srv.stop()
        p = subprocess.run([lib.BERTH_BIN, "custody", "log", "deb/app:v1", "--data", srv.data_dir, "--json"],
                           capture_output=True, timeout=60)
        lib.eq(p.returncode, 0, "custody log: %s" % p.stderr.decode()[-300:])
        rows = [json.loads(l) for l in p.stdout.decode().splitlines()]
        lib.eq([r["action"] for r in rows], ["push", "scan", "grade", "grade"], "custody log rows")
        lib.eq([(r["detail"]["from"], r["detail"]["to"]) for r in rows if r["action"] == "grade"],
               [("A", "B"), ("B", "C")], "custody log grades")
        p = subprocess.run([lib.BERTH_BIN, "custody", "verify", "--data", srv.data_dir], capture_output=True,
                           timeout=60)
        lib.eq(p.returncode, 0, "custody verify: %s" % p.stdout.decode())
    except BaseException:
        if os.environ.get("EVENTS_DEBUG"):
            print(open(srv.log_path).read()[-3000:])
        raise
    finally:
        hook.close()
        srv.stop()
