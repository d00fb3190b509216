"""Custody: the journal written with every change, its HTTP export and CLI, the signature extension API
(with skopeo --sign-by through it), signature requirements, immutable tags, and webhooks delivered at
least once across a SIGKILL."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import lib
import test_sign as ts

SHARED_SERVER = True
PGP = b"\xa3\x01" + b"fake compressed OpenPGP packet"  # looks like an OpenPGP message, verifies as nothing


def _custody(reg, **q):
    path = "/api/v1/custody?" + "&".join("%s=%s" % kv for kv in q.items())
    r = reg.get(path)
    lib.status(r, 200, "GET " + path)
    lib.eq(r.headers.get("Content-Type"), "application/x-ndjson", "custody Content-Type")
    return r, [json.loads(l) for l in r.body.decode().splitlines()]


def _sigput(reg, repo, digest, content, name=None, expect=201):
    body = json.dumps({"schemaVersion": 2, "type": "atomic", "name": name or "%s@%s" % (digest, lib.rand_str(32)),
                       "content": base64.b64encode(content).decode()}).encode()
    r = reg.request("PUT", "/extensions/v2/%s/signatures/%s" % (repo, digest), body=body,
                    headers={"Content-Type": "application/json"})
    lib.status(r, expect, "PUT signature")
    return r


def _berth(*args, check=True):
    p = subprocess.run([lib.BERTH_BIN] + list(args), capture_output=True, timeout=60)
    if check and p.returncode != 0:
        lib.fail("berth %s: %d %s" % (" ".join(args), p.returncode, p.stderr.decode()[-500:]))
    return p


@lib.berth_only()
def test_every_change_is_journaled_in_order(reg):
    repo = lib.repo_name("cust")
    body, d1, _ = reg.push_image(repo, "v1")
    reg.put_manifest(repo, "v1", body)                      # identical re-put: no event
    reg.put_manifest(repo, "also", body)                    # tag on an existing manifest
    body2, d2, _ = reg.push_image(repo, "v2")
    reg.put_manifest(repo, "v1", body2)                     # v1 moves d1 -> d2
    lib.status(reg.request("DELETE", "/v2/%s/manifests/also" % repo), 202)
    _sigput(reg, repo, d2, PGP)
    _sigput(reg, repo, d2, PGP)                             # identical content: stored once, no event
    lib.status(reg.request("DELETE", "/v2/%s/manifests/%s" % (repo, d2)), 202)
    _, ev = _custody(reg, repo=repo)
    got = [(e["action"], e["digest"], e["tag"], e["detail"]) for e in ev]
    mt = lib.OCI_MANIFEST
    want = [("push", d1, "v1", {"from": None, "media_type": mt, "size": len(body)}),
            ("tag", d1, "also", {"from": None}),
            ("push", d2, "v2", {"from": None, "media_type": mt, "size": len(body2)}),
            ("tag", d2, "v1", {"from": d1}),
            ("untag", d1, "also", None)]
    lib.eq(got[:5], want, "journal rows")
    lib.eq(got[5][:3], ("signature", d2, None), "signature row")
    lib.eq(got[5][3]["op"], "add", "signature op")
    lib.eq(got[5][3]["sha256"], hashlib.sha256(PGP).hexdigest(), "signature content hash")
    lib.eq(got[6], ("delete", d2, None, {"tags": ["v1", "v2"]}), "delete row")
    lib.eq(len(got), 7, "rows")
    seqs = [e["seq"] for e in ev]
    lib.ok(seqs == sorted(seqs), "seq order")
    for e in ev:
        entry = {k: e[k] for k in ("action", "detail", "digest", "prev", "repo", "seq", "tag", "time")}
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        lib.eq(e["hash"], "sha256:" + hashlib.sha256(text.encode()).hexdigest(), "hash of entry %d" % e["seq"])


@lib.berth_only()
def test_custody_api_pages(reg):
    repo = lib.repo_name("page")
    for i in range(5):
        reg.push_image(repo, "t%d" % i)
    r, ev = _custody(reg, repo=repo, n=2)
    lib.eq(len(ev), 2, "first page")
    link = r.headers.get("Link")
    lib.eq(link, '</api/v1/custody?after=%d&n=2&repo=%s>; rel="next"' % (ev[1]["seq"], repo), "Link")
    head = r.headers.get("Berth-Custody-Head").split(" ")
    lib.ok(int(head[0]) >= ev[1]["seq"] and head[1].startswith("sha256:"), "head header %r" % head)
    r2, ev2 = _custody(reg, repo=repo, n=2, after=ev[1]["seq"])
    lib.eq([e["tag"] for e in ev + ev2], ["t0", "t1", "t2", "t3"], "two pages")
    r3, ev3 = _custody(reg, repo=repo, after=ev2[1]["seq"])
    lib.eq([e["tag"] for e in ev3], ["t4"], "last page")
    lib.eq(r3.headers.get("Link"), None, "no Link on the last page")
    lib.status(reg.get("/api/v1/custody?n=-1"), 400)
    lib.status(reg.get("/api/v1/custody?after=x"), 400)
    lib.status(reg.get("/api/v1/custody?repo=UPPER"), 400)
    lib.status(reg.request("POST", "/api/v1/custody"), 405)


@lib.berth_only()
def test_extension_api(reg):
    r = reg.get("/v2/")
    lib.eq(r.headers.get("X-Registry-Supports-Signatures"), "1", "/v2/ announces the extension")
    repo = lib.repo_name("ext")
    _, d, _ = reg.push_image(repo, "v1")
    path = "/extensions/v2/%s/signatures/%s" % (repo, d)
    r = reg.get(path)
    lib.status(r, 200)
    lib.eq(json.loads(r.body), {"signatures": []}, "no signatures yet")
    missing = "sha256:" + "0" * 64
    r = reg.get("/extensions/v2/%s/signatures/%s" % (repo, missing))
    lib.status(r, 404)
    lib.eq(json.loads(r.body)["errors"][0]["code"], "MANIFEST_UNKNOWN", "code")
    _sigput(reg, repo, missing, PGP, expect=404)
    lib.status(reg.get("/extensions/v2/%s/signatures/sha256:zz" % repo), 400)
    name = "%s@%s" % (d, "a" * 32)
    _sigput(reg, repo, d, PGP, name=name)
    _sigput(reg, repo, d, b"not openpgp at all", expect=400)
    _sigput(reg, repo, d, b"\xa3" * (65 << 10), expect=400)            # over the per-signature limit
    _sigput(reg, repo, d, PGP, name="sha256:%s@x" % ("1" * 64), expect=400)  # name for another digest
    for bad in (b"{", b"{}", b'{"schemaVersion":2,"type":"atomic","name":"%s","content":"!!"}' % name.encode(),
                b'{"schemaVersion":1,"type":"atomic","name":"%s","content":"oQE="}' % name.encode()):
        lib.status(reg.request("PUT", path, body=bad), 400, "bad body %r" % bad[:40])
    lib.status(reg.request("PUT", path, body=b"x" * ((4 << 20) + 1)), 413)
    # a list body is accepted too
    other = b"\xa3\x02second"
    lst = {"signatures": [{"schemaVersion": 2, "type": "atomic", "name": d + "@b", "content":
                           base64.b64encode(other).decode()}]}
    lib.status(reg.request("PUT", path, body=json.dumps(lst).encode()), 201)
    sigs = json.loads(reg.get(path).body)["signatures"]
    lib.eq([(s["name"], base64.b64decode(s["content"]), s["type"], s["schemaVersion"]) for s in sigs],
           [(name, PGP, "atomic", 2), (d + "@b", other, "atomic", 2)], "stored signatures")
    lib.status(reg.request("DELETE", path + "?name=" + d + "@b"), 202)
    lib.status(reg.request("DELETE", path + "?name=" + d + "@b"), 404)
    lib.eq(len(json.loads(reg.get(path).body)["signatures"]), 1, "after delete")
    _, ev = _custody(reg, repo=repo)
    lib.eq([(e["action"], (e["detail"] or {}).get("op")) for e in ev],
           [("push", None), ("signature", "add"), ("signature", "add"), ("signature", "remove")], "journal")


@lib.berth_only()
@lib.own_server
def test_cli_log_verify_and_tamper(reg):
    data = reg.server.data_dir
    repo = lib.repo_name("cli")
    body, d1, _ = reg.push_image(repo, "v1")
    body2, d2, _ = reg.push_image(repo, "v2")
    reg.put_manifest(repo, "v1", body2)
    p = _berth("custody", "log", "%s:v2" % repo, "--data", data)
    out = p.stdout.decode().splitlines()
    lib.eq(out[0], "image %s@%s" % (repo, d2), "log header")
    lib.eq(out[1], "tags v1,v2", "tags")
    lib.eq([l.split()[2] for l in out[2:]], ["push", "tag"], "rows")
    p = _berth("custody", "log", "%s@%s" % (repo, d1), "--data", data, "--json")
    rows = [json.loads(l) for l in p.stdout.decode().splitlines()]
    lib.eq([(r["action"], r["tag"]) for r in rows], [("push", "v1"), ("tag", "v1")], "d1 history incl. the move away")
    lib.eq(_berth("custody", "log", "%s:nope" % repo, "--data", data, check=False).returncode, 1, "unknown tag")
    lib.eq(_berth("custody", "log", "--data", data, check=False).returncode, 2, "usage")
    p = _berth("custody", "verify", "--data", data)
    line = p.stdout.decode().strip()
    lib.ok(line.startswith("ok: 3 entries, head 3 sha256:"), line)
    head = line.split()[-1]
    lib.ok(_berth("custody", "verify", "--data", data, "--expect-head", head).returncode == 0, "expect-head")
    reg.server.stop()
    db = sqlite3.connect(os.path.join(data, "berth.db"))
    db.execute("UPDATE events SET tag = 'forged' WHERE seq = 2")
    db.commit()
    db.close()
    p = _berth("custody", "verify", "--data", data, check=False)
    lib.eq(p.returncode, 1, "verify exit status after an edit")
    lib.eq(p.stdout.decode().splitlines()[-1], "first bad entry: 2", "names the edited entry")
    db = sqlite3.connect(os.path.join(data, "berth.db"))
    db.execute("UPDATE events SET tag = 'v2' WHERE seq = 2")
    db.execute("DELETE FROM events WHERE seq = 3")     # truncating the tail: only the recorded head knows
    db.commit()
    db.close()
    lib.eq(_berth("custody", "verify", "--data", data, check=False).returncode, 0, "truncated chain is self-consistent")
    p = _berth("custody", "verify", "--data", data, "--expect-head", head, check=False)
    lib.eq(p.returncode, 1, "expect-head catches the truncation")
    lib.ok("not in the log" in p.stdout.decode(), p.stdout.decode())
    reg.server.start()


@lib.berth_only()
@lib.own_server
def test_gc_delete_and_pulls_are_journaled(reg):
    reg.server.stop()
    reg.server.env["BERTH_CUSTODY_LOG_PULLS"] = "true"
    reg.server.start()
    repo = lib.repo_name("gc")
    _, d, _ = reg.push_image(repo)          # untagged
    _, d2, _ = reg.push_image(repo, "keep")
    lib.status(reg.get_manifest(repo, "keep"), 200)
    lib.status(reg.get_manifest(repo, "keep", method="HEAD"), 200)   # HEAD is not a pull
    _berth("gc", "--data", reg.server.data_dir, "--grace", "0s", "--delete-untagged")
    _, ev = _custody(reg, repo=repo)
    lib.eq([(e["action"], e["digest"], e["tag"]) for e in ev],
           [("push", d, None), ("push", d2, "keep"), ("pull", d2, "keep"), ("gc-delete", d, None)], "rows")


def _cfg(server, text):
    path = os.path.join(server.tmp, "berth.yml")
    with open(path, "w") as f:
        f.write(text)
    server.stop()
    server.env["BERTH_CONFIG"] = path
    server.start()


@lib.berth_only()
@lib.own_server
def test_immutable_tags(reg):
    _cfg(reg.server, "policy:\n  immutable_tags:\n    rel:\n      repositories: \"prod/*\"\n      tags: [\"v*\", \"stable\"]\n")
    repo = "prod/" + lib.rand_str(8)
    body, d1, _ = reg.push_image(repo, "v1")
    body2, d2, _ = reg.push_image(repo, "latest")
    r = reg.put_manifest(repo, "v1", body2, expect=403)
    e = json.loads(r.body)["errors"][0]
    lib.eq(e["code"], "DENIED", "code")
    lib.ok("immutable" in e["message"] and "rel" in e["message"], e["message"])
    lib.eq(lib.sha256(reg.get_manifest(repo, "v1").body), d1, "v1 unchanged")
    reg.put_manifest(repo, "v1", body)                  # the same digest again is fine
    reg.put_manifest(repo, "latest", body)              # unprotected tags move
    reg.put_manifest(repo, "v2", body2)                 # a new protected tag is fine
    other = "dev/" + lib.rand_str(8)                     # another repository is not covered
    b3, _, _ = reg.push_image(other, "v1")
    reg.push_image(other, "v1")
    _, ev = _custody(reg, repo=repo)
    lib.eq([(e["action"], e["tag"]) for e in ev], [("push", "v1"), ("push", "latest"), ("tag", "latest"),
                                                    ("tag", "v2")], "a refused move leaves no row")


def _signed_config(reg, tmp, keys, kind="gpg"):
    _cfg(reg.server, "policy:\n  signatures:\n    team:\n      repositories: [\"signed/*\"]\n"
         "      type: %s\n      keys: [%s]\n" % (kind, ", ".join(keys)))


@lib.berth_only()
@lib.own_server
def test_skopeo_sign_by_through_extension_api_and_enforcement(reg):
    """skopeo copy --sign-by stores the simple signature through the extension API (no lookaside
    configured); skopeo copy with a signedBy policy verifies it on the way out; the registry refuses
    to serve unsigned or wrongly signed manifests of a protected repository."""
    ts._tools()
    tmp = tempfile.mkdtemp(prefix="berth-custody-")
    a = b = None
    try:
        a, b = ts.GpgHome(tmp, "alice"), ts.GpgHome(tmp, "bob")
        _signed_config(reg, tmp, [a.pub])
        host = "127.0.0.1:%d" % reg.server.port
        regd = os.path.join(tmp, "regd")
        os.makedirs(regd)
        ts._write(os.path.join(regd, "none.yaml"), "docker: {}\n")
        src = lib.repo_name("src")
        reg.push_image(src, "v1")
        good, bad, plain = "signed/" + lib.rand_str(6), "signed/" + lib.rand_str(6), "signed/" + lib.rand_str(6)
        for repo, home in ((good, a), (bad, b), (plain, None)):
            args = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false"]
            if home:
                args += ["--sign-by", home.fpr]
            ts._skopeo(args + ["docker://%s/%s:v1" % (host, src), "docker://%s/%s:v1" % (host, repo)],
                       regd=regd, env=home.env if home else None)
        # the registry holds alice's signature for good:v1
        r = reg.get("/extensions/v2/%s/signatures/%s" % (good, _digest_in_db(reg, good, "v1")))
        lib.status(r, 200)
        stored = json.loads(r.body)["signatures"]
        lib.eq(len(stored), 1, "signatures stored by skopeo")
        lib.status(reg.get_manifest(good, "v1"), 200)
        for repo, why in ((bad, "Signature by key"), (plain, "no simple signature")):
            r = reg.get_manifest(repo, "v1")
            lib.status(r, 403, repo)
            e = json.loads(r.body)["errors"][0]
            lib.eq(e["code"], "DENIED", "code")
            lib.ok(why in e["message"] and "policy team" in e["message"], e["message"])
            lib.status(reg.get_manifest(repo, "v1", method="HEAD"), 403)
        lib.status(reg.get_manifest(src, "v1"), 200)   # other repositories are not covered
        # skopeo verifies the extension-API signature on the way out, and refuses bob's key
        pol = ts._policy(tmp, "p.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": a.pub}])
        p = ts._skopeo(["copy", "--src-tls-verify=false", "docker://%s/%s:v1" % (host, good),
                        "dir:" + os.path.join(tmp, "out")], policy=pol, regd=regd, check=False)
        lib.ok(p.returncode == 0, "skopeo signedBy copy: %r" % p.stderr[-400:])
        bpol = ts._policy(tmp, "b.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": b.pub}])
        p = ts._skopeo(["copy", "--src-tls-verify=false", "docker://%s/%s:v1" % (host, good),
                        "dir:" + os.path.join(tmp, "out2")], policy=bpol, regd=regd, check=False)
        lib.ok(p.returncode != 0, "skopeo accepted alice's signature with bob's key")
        # a signature for good:v1 copied onto another repository's manifest names the wrong repository
        sig = stored[0]
        gm = reg.get_manifest(good, "v1")
        lib.status(gm, 200)
        m = json.loads(gm.body)
        for desc in [m["config"]] + m["layers"]:
            blob = reg.get("/v2/%s/blobs/%s" % (good, desc["digest"]))
            lib.status(blob, 200)
            reg.push_blob(plain, blob.body)
        reg.put_manifest(plain, "copy", gm.body, media_type=gm.headers.get("Content-Type"))
        dplain = lib.sha256(gm.body)
        _sigput(reg, plain, dplain, base64.b64decode(sig["content"]))
        r = reg.get_manifest(plain, "copy")
        lib.status(r, 403)
        lib.ok("another repository" in json.loads(r.body)["errors"][0]["message"], r.body)
    finally:
        for h in (a, b):
            if h:
                h.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _digest_in_db(reg, repo, tag):
    r = reg.get("/api/v1/custody?repo=" + repo)
    rows = [json.loads(l) for l in r.body.decode().splitlines()]
    return [e["digest"] for e in rows if e["tag"] == tag][-1]


@lib.berth_only()
@lib.own_server
def test_sigstore_requirement(reg):
    """A sigstore rule: the .sig attachment made by the signing library satisfies it; another key does not."""
    ts._tools()
    tmp = tempfile.mkdtemp(prefix="berth-custody-")
    try:
        key, pub, pf = ts._keygen(tmp, "k")
        _, other_pub, _ = ts._keygen(tmp, "o")
        repo = "signed/" + lib.rand_str(6)
        host = "127.0.0.1:%d" % reg.server.port
        body, d, _ = reg.push_image(repo, "v1")
        mpath = ts._write(os.path.join(tmp, "m.json"), body)
        _signed_config(reg, tmp, [other_pub], "sigstore")
        lib.status(reg.get_manifest(repo, "v1"), 403)
        ts._tool("sign-sigstore", "--key", key, "--passphrase-file", pf, "--ref", "%s/%s:v1" % (host, repo),
                 "--manifest", mpath, "--payload-out", os.path.join(tmp, "p"), "--sig-out", os.path.join(tmp, "s"))
        out = os.path.join(tmp, "att")
        os.makedirs(out)
        ts._tool("attachment", "--payload", os.path.join(tmp, "p"), "--sig", os.path.join(tmp, "s"), "--out", out)
        ts._push_attachment(reg, repo, out, d)
        r = reg.get_manifest(repo, "v1")
        lib.status(r, 403)
        lib.ok("sigstore" in json.loads(r.body)["errors"][0]["message"], r.body)
        _signed_config(reg, tmp, [pub], "sigstore")
        lib.status(reg.get_manifest(repo, "v1"), 200)
        lib.status(reg.get_manifest(repo, d), 200)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- webhooks

class Hook:
    """A loopback webhook receiver: answers the next `fail` POSTs with 500, hangs while `hang` is set."""

    def __init__(self):
        self.got, self.fail, self.hang, self.lock = [], 0, threading.Event(), threading.Lock()
        hook = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook.lock:
                    hook.got.append((dict(self.headers), body))
                    failing = hook.fail > 0
                    if failing:
                        hook.fail -= 1
                while hook.hang.is_set():
                    time.sleep(0.05)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def events(self, status_ok_only=False):
        with self.lock:
            return [json.loads(b)["events"] for _, b in self.got]

    def wait(self, pred, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if pred(self.got):
                    return
            time.sleep(0.05)
        lib.fail("webhook: condition not met; got %r" % self.got)

    def close(self):
        self.hang.clear()
        self.srv.shutdown()


def _hook_config(reg, hook):
    _cfg(reg.server, "notifications:\n  endpoints:\n    hook:\n      url: http://127.0.0.1:%d/hook\n"
         "      secret: s3cret\n      backoff: 100ms\n      backoff_max: 300ms\n      timeout: 30s\n" % hook.port)


@lib.berth_only()
@lib.own_server
def test_webhook_signed_retried_and_at_least_once_across_sigkill(reg):
    hook = Hook()
    try:
        hook.fail = 2
        _hook_config(reg, hook)
        repo = lib.repo_name("hook")
        _, d, _ = reg.push_image(repo, "v1")
        hook.wait(lambda g: len(g) >= 3)
        hdrs, body = hook.got[2]
        want = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        lib.eq(hdrs.get("X-Berth-Signature-256"), want, "HMAC signature")
        lib.eq([b for _, b in hook.got[:3]].count(body), 3, "the failed POSTs are retried with the same events")
        ev = json.loads(body)["events"]
        lib.eq([(e["action"], e["target"]["repository"], e["target"].get("digest"), e["target"].get("tag"))
                for e in ev], [("push", repo, d, "v1")], "event")
        # the receiver holds the next POST; the server dies before the answer: redelivered after restart
        hook.hang.set()
        _, d2, _ = reg.push_image(repo, "v2")
        hook.wait(lambda g: len(g) >= 4)
        reg.server.kill()
        hook.hang.clear()
        n_before = len(hook.got)
        reg.server.start()
        hook.wait(lambda g: len(g) > n_before)
        ev = json.loads(hook.got[-1][1])["events"]
        lib.eq([(e["action"], e["target"].get("digest")) for e in ev], [("push", d2)], "redelivered after SIGKILL")
        time.sleep(1.5)  # acknowledged now: not sent again
        lib.eq(len(hook.got), n_before + 1, "no further deliveries once acknowledged")
    finally:
        hook.close()
