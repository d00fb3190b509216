"""Online garbage collection: `berth gc` against a live server, its schedule in serve, and pushes
racing collections."""

import json
import os
import re
import shutil
import subprocess
import threading
import time

import lib
import test_skopeo as sk

SHARED_SERVER = False

SUMMARY = re.compile(r"^gc(?P<dry> \(dry run\))?: (?:removed|would remove) (?P<m>\d+) manifests "
                     r"\((?P<mb>\d+) bytes\), (?P<b>\d+) blobs \((?P<bb>\d+) bytes, (?P<o>\d+) orphans\), "
                     r"(?P<l>\d+) repository links$")


def _gc(srv, *args, check=True):
    """Runs `berth gc --data <the server's data dir> ARGS`; returns the CompletedProcess."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    p = subprocess.run([lib.BERTH_BIN, "gc", "--data", srv.data_dir] + list(args), capture_output=True,
                       text=True, timeout=120, env=env)
    if check and p.returncode != 0:
        lib.fail("berth gc %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()[-1000:]))
    return p


def _summary(p):
    lines = p.stdout.strip().splitlines()
    lib.ok(lines, "berth gc printed nothing")
    m = SUMMARY.match(lines[-1])
    lib.ok(m, "summary line not understood: %r" % lines[-1])
    return {k: int(v) for k, v in m.groupdict().items() if k != "dry"}


def _push_image(reg, repo, tag, layers):
    """Config + the given layers + manifest under tag; returns (manifest, digest, {digest: bytes})."""
    cfg = lib.make_config()
    blobs = {lib.sha256(cfg): cfg}
    reg.push_blob(repo, cfg)
    for l in layers:
        blobs[lib.sha256(l)] = l
        reg.push_blob_post(repo, l)
    body = lib.image_manifest(cfg, layers)
    reg.put_manifest(repo, tag, body)
    return body, lib.sha256(body), blobs


def _pulls_exact(reg, repo, ref, body, blobs):
    r = reg.get_manifest(repo, ref)
    lib.status(r, 200, "GET manifest %s:%s" % (repo, ref))
    lib.eq(r.body, body, "manifest bytes of %s:%s" % (repo, ref))
    for d, data in blobs.items():
        g = reg.get_blob(repo, d)
        lib.status(g, 200, "GET blob %s of %s" % (d, repo))
        lib.eq(g.body, data, "bytes of blob %s" % d)


@lib.berth_only("berth gc")
@lib.timeout(120)
def test_gc_keeps_shared_layer_removes_the_rest(reg):
    srv = reg.server
    repo = lib.repo_name("gc")
    shared = os.urandom(3000)
    la, lb = os.urandom(5000), os.urandom(7000)
    man_a, dig_a, blobs_a = _push_image(reg, repo, "a", [shared, la])
    man_b, dig_b, blobs_b = _push_image(reg, repo, "b", [shared, lb])
    # while both images are stored, nothing is garbage
    s = _summary(_gc(srv, "--grace", "0"))
    lib.eq((s["m"], s["b"], s["l"], s["o"]), (0, 0, 0, 0), "collection with nothing to collect")
    lib.status(reg.delete("/v2/%s/manifests/%s" % (repo, dig_a)), 202, "DELETE manifest a")
    only_a = {d: v for d, v in blobs_a.items() if d not in blobs_b}
    lib.eq(len(only_a), 2, "blobs only image a uses (its config and one layer)")
    want_bytes = sum(len(v) for v in only_a.values())
    # default grace (1h): nothing yet
    s = _summary(_gc(srv))
    lib.eq((s["b"], s["l"]), (0, 0), "collection within the grace period")
    # dry run: each blob on its own line, nothing removed
    p = _gc(srv, "--grace", "0", "--dry-run")
    s = _summary(p)
    lib.eq((s["b"], s["bb"], s["l"]), (2, want_bytes, 2), "dry run counts")
    listed = sorted(re.findall(r"^would remove blob (sha256:[0-9a-f]{64}) \((\d+) bytes\)$", p.stdout, re.M))
    lib.eq(listed, sorted((d, str(len(v))) for d, v in only_a.items()), "blobs listed by the dry run")
    for d in only_a:
        lib.status(reg.get_blob(repo, d), 200, "blob %s after the dry run" % d)
    # the real thing, as JSON
    p = _gc(srv, "--grace", "0", "--json")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    lib.eq(out, {"dry_run": False, "manifests": 0, "manifest_bytes": 0, "links": 2, "blobs": 2,
                 "blob_bytes": want_bytes, "orphans": 0}, "gc --json")
    for d in only_a:
        lib.error(reg.get_blob(repo, d), 404, "BLOB_UNKNOWN", "blob only a used, after gc")
        path = os.path.join(srv.data_dir, "blobs", "sha256", d[7:9], d[7:])
        lib.ok(not os.path.exists(path), "file of %s removed" % d)
    _pulls_exact(reg, repo, "b", man_b, blobs_b)
    lib.error(reg.get_manifest(repo, "a"), 404, "MANIFEST_UNKNOWN", "tag a after delete")
    # nothing left to do; the image pushes again as new
    s = _summary(_gc(srv, "--grace", "0"))
    lib.eq((s["b"], s["l"], s["o"]), (0, 0, 0), "second collection")
    for d, v in blobs_a.items():
        reg.push_blob(repo, v)
    reg.put_manifest(repo, "a", man_a)
    _pulls_exact(reg, repo, "a", man_a, blobs_a)


@lib.berth_only("berth gc")
@lib.timeout(120)
def test_gc_delete_untagged(reg):
    srv = reg.server
    repo = lib.repo_name("gc")
    base = os.urandom(2000)
    man1, dig1, blobs1 = _push_image(reg, repo, "latest", [base, os.urandom(1000)])
    man2, dig2, blobs2 = _push_image(reg, repo, "latest", [base, os.urandom(1000)])  # tag moves
    s = _summary(_gc(srv, "--grace", "0"))
    lib.eq((s["m"], s["b"]), (0, 0), "untagged manifests kept without --delete-untagged")
    lib.status(reg.get_manifest(repo, dig1), 200, "untagged manifest still there")
    p = _gc(srv, "--grace", "0", "--delete-untagged", "--dry-run")
    lib.ok("would remove manifest %s@%s (%d bytes)" % (repo, dig1, len(man1)) in p.stdout,
           "dry run lists the untagged manifest: %s" % p.stdout)
    s = _summary(_gc(srv, "--grace", "0", "--delete-untagged"))
    lib.eq((s["m"], s["mb"], s["b"]), (1, len(man1), 2), "manifests, their bytes, blobs removed")
    lib.error(reg.get_manifest(repo, dig1), 404, "MANIFEST_UNKNOWN", "untagged manifest after gc")
    _pulls_exact(reg, repo, "latest", man2, blobs2)


@lib.berth_only("berth gc")
@lib.timeout(240)
def test_gc_then_skopeo(reg):
    srv = reg.server
    tmp = sk._tmp()
    try:
        lay = sk.Layout(os.path.join(tmp, "src"))
        man, layers = lay.image(nlayers=3)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        repo = lib.repo_name("gcsk")
        sk._skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", "oci:%s:v1" % lay.path,
                   sk._dest(reg, repo, "v1"))
        # garbage next to it: an image deleted, a layer never used
        _, dig_x, _ = _push_image(reg, repo, "x", [os.urandom(4000)])
        lib.status(reg.delete("/v2/%s/manifests/%s" % (repo, dig_x)), 202)
        reg.push_blob(repo, os.urandom(100))
        s = _summary(_gc(srv, "--grace", "0", "--delete-untagged"))
        lib.eq(s["b"], 3, "blobs removed (config and layer of x, the unused blob)")
        back = os.path.join(tmp, "back")
        sk._skopeo("copy", "--src-tls-verify=false", "--preserve-digests", sk._dest(reg, repo, "v1"),
                   "oci:%s:v1" % back)
        with open(os.path.join(back, "index.json")) as f:
            lib.eq([m["digest"] for m in json.load(f)["manifests"]], [lib.sha256(man)],
                   "manifest digest copied out after gc")
        for d in layers:
            with open(os.path.join(back, "blobs", "sha256", d.split(":")[1]), "rb") as f:
                lib.eq(lib.sha256(f.read()), d, "layer %s copied out after gc" % d)
        # and in again, to another repository (a cross-repository mount of collected-around blobs)
        repo2 = lib.repo_name("gcsk")
        sk._skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests",
                   sk._dest(reg, repo, "v1"), sk._dest(reg, repo2, "v1"))
        lib.eq(reg.get_manifest(repo2, "v1").body, man, "manifest copied to a second repository")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth gc")
@lib.timeout(180)
def test_pushes_race_gc_runs(reg):
    """Pushers (each with its own moving tag) against `berth gc --grace 0 --delete-untagged` run back to
    back from another process: a manifest PUT is 201 with every blob then readable byte-exact, or 400
    MANIFEST_BLOB_UNKNOWN; never 500, never a manifest whose blob is missing."""
    srv = reg.server
    repo = lib.repo_name("gcrace")
    shared = os.urandom(20000)
    stop = threading.Event()
    bad, counts, lock = [], {"ok": 0, "unknown": 0, "gc": 0}, threading.Lock()
    kept = {}

    def pusher(i):
        n = 0
        while not stop.is_set():
            n += 1
            cfg = lib.make_config(author="p%d-%d" % (i, n % 4))  # repeats: collected blobs come back
            own = os.urandom(3000)
            blobs = {lib.sha256(cfg): cfg, lib.sha256(shared): shared, lib.sha256(own): own}
            for d, v in blobs.items():
                reg.push_blob_post(repo, v)
            body = lib.image_manifest(cfg, [shared, own])
            r = reg.put_manifest(repo, "t%d" % i, body, expect=None)
            if r.status == 201:
                with lock:
                    counts["ok"] += 1
                for d, v in blobs.items():
                    g = reg.get_blob(repo, d)
                    if g.status != 200 or g.body != v:
                        with lock:
                            bad.append("blob %s of a stored manifest: %d" % (d, g.status))
                kept[i] = (body, blobs)
            elif r.status == 400 and lib.error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]:
                with lock:
                    counts["unknown"] += 1
            else:
                with lock:
                    bad.append("manifest PUT -> %d %s" % (r.status, r.body[:200]))

    def collector():
        while not stop.is_set():
            p = _gc(srv, "--grace", "0", "--delete-untagged", check=False)
            with lock:
                counts["gc"] += 1
                if p.returncode != 0:
                    bad.append("berth gc exited %d: %s" % (p.returncode, p.stderr[-300:]))

    threads = [threading.Thread(target=pusher, args=(i,), daemon=True) for i in range(3)]
    threads.append(threading.Thread(target=collector, daemon=True))
    for t in threads:
        t.start()
    time.sleep(12)
    stop.set()
    for t in threads:
        t.join(60)
    lib.eq(bad[:5], [], "bad outcomes (%d)" % len(bad))
    lib.ok(counts["ok"] > 0 and counts["gc"] > 0, "the race ran: %s" % counts)
    # one more collection; each pusher's last tagged image pulls whole
    _gc(srv, "--grace", "0", "--delete-untagged")
    for i, (body, blobs) in kept.items():
        _pulls_exact(reg, repo, "t%d" % i, body, blobs)
    print("    race: %s" % counts, flush=True)


@lib.berth_only("berth serve's gc schedule")
@lib.no_server
@lib.timeout(60)
def test_serve_collects_on_schedule(_):
    srv = lib.Server(name="gc-schedule", env={"BERTH_STORAGE_GC_INTERVAL": "300ms",
                                              "BERTH_STORAGE_GC_GRACE": "0"})
    try:
        srv.start()
        reg = lib.Registry(srv)
        repo = lib.repo_name("gcsched")
        man, _, blobs = _push_image(reg, repo, "v1", [os.urandom(500)])
        data = os.urandom(800)
        reg.push_blob(repo, data)  # no manifest will use it
        deadline = time.time() + 10
        while time.time() < deadline and reg.get_blob(repo, lib.sha256(data)).status == 200:
            time.sleep(0.1)
        lib.error(reg.get_blob(repo, lib.sha256(data)), 404, "BLOB_UNKNOWN", "unused blob after scheduled gc")
        _pulls_exact(reg, repo, "v1", man, blobs)
        with open(srv.log_path) as f:
            log = f.read()
        lib.ok(re.search(r'msg="garbage collection" manifests=0 manifest_bytes=0 blobs=1 blob_bytes=800 ', log),
               "a log line for the collection that removed the blob")
    finally:
        srv.cleanup()


@lib.berth_only("berth gc")
@lib.no_server
def test_gc_usage_errors(_):
    tmp = lib.Server(name="gc-usage")
    try:
        for args, code in ((["--grace", "soon"], 2), (["--grace", "10"], 2), (["extra"], 2), (["--nope"], 2)):
            p = _gc(tmp, *args, check=False)
            lib.eq(p.returncode, code, "exit status of berth gc %s" % " ".join(args))
            lib.ok(p.stderr.strip(), "berth gc %s says why" % " ".join(args))
        p = _gc(tmp, "--grace", "0")
        lib.eq(_summary(p)["b"], 0, "collection of an empty data directory")
        missing = os.path.join(tmp.tmp, "no-such-dir")
        p = subprocess.run([lib.BERTH_BIN, "gc", "--data", missing], capture_output=True, text=True, timeout=60)
        lib.eq(p.returncode, 1, "exit status of berth gc on a missing data directory")
        lib.ok("not a data directory" in p.stderr, "berth gc says why: %r" % p.stderr)
        lib.ok(not os.path.exists(missing), "berth gc created the missing data directory")
    finally:
        tmp.cleanup()
