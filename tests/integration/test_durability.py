"""Restarts, SIGKILL, concurrency and a full disk."""

import os
import random
import re
import signal
import subprocess
import threading
import time

import lib

SHARED_SERVER = False


@lib.berth_only("upload sessions persist across restart")
@lib.own_server
def test_upload_survives_restart(reg):
    srv = reg.server
    repo = lib.repo_name("restart")
    data = lib.rand_bytes(300 * 1024)
    half = 100 * 1024 + 17
    loc = reg.start_upload(repo)
    r = reg.request("PATCH", loc, body=data[:half], headers={
        "Content-Type": "application/octet-stream", "Content-Range": "0-%d" % (half - 1)})
    lib.status(r, 202)
    loc = r.location_path()
    code = srv.stop()
    lib.eq(code, 0, "berth exit status on SIGTERM")
    srv.start()
    r = reg.get(loc)
    lib.status(r, 204, "GET upload status after restart")
    lib.header(r, "Range", "0-%d" % (half - 1))
    r = reg.request("PATCH", r.location_path(), body=data[half:], headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": "%d-%d" % (half, len(data) - 1)})
    lib.status(r, 202, "PATCH rest after restart")
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=lib.sha256(data)))
    lib.status(r, 201, "closing PUT after restart")
    g = reg.get_blob(repo, lib.sha256(data))
    lib.status(g, 200)
    lib.eq(lib.sha256(g.body), lib.sha256(data), "digest of the bytes read back")
    # and everything survives a second restart
    lib.eq(srv.stop(), 0, "exit status")
    srv.start()
    lib.eq(reg.get_blob(repo, lib.sha256(data)).body, data, "bytes after a second restart")


@lib.berth_only("SIGKILL durability of acknowledged writes")
@lib.own_server
@lib.timeout(150)
def test_sigkill_durability(reg):
    srv = reg.server
    acked_blobs = {}      # (repo, digest) -> bytes
    acked_manifests = {}  # (repo, tag) -> bytes
    lock = threading.Lock()
    stop_at = time.time() + 2.0
    killed = threading.Event()
    errors = []

    def worker(i):
        rnd = random.Random(i)
        repo = "dur/t%d" % i
        c = srv.client
        while not killed.is_set():
            try:
                kind = rnd.random()
                if kind < 0.4:
                    data = os.urandom(rnd.randint(1, 64 * 1024))
                    c.push_blob(repo, data)
                    with lock:
                        acked_blobs[(repo, lib.sha256(data))] = data
                elif kind < 0.7:
                    data = os.urandom(rnd.randint(1, 200 * 1024))
                    c.push_blob_chunked(repo, data, chunk=rnd.randint(1024, 64 * 1024),
                                        final_in_put=rnd.random() < 0.5)
                    with lock:
                        acked_blobs[(repo, lib.sha256(data))] = data
                else:
                    cfg = lib.make_config()
                    c.push_blob(repo, cfg)
                    with lock:
                        acked_blobs[(repo, lib.sha256(cfg))] = cfg
                    body = lib.image_manifest(cfg, [])
                    tag = "m%d" % rnd.randint(0, 10 ** 9)
                    c.put_manifest(repo, tag, body)
                    with lock:
                        acked_manifests[(repo, tag)] = body
            except Exception as e:  # noqa: BLE001
                if not killed.is_set():
                    errors.append("worker %d: %s" % (i, e))
                return

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    while time.time() < stop_at and not errors:
        time.sleep(0.05)
    srv.proc.send_signal(signal.SIGKILL)
    killed.set()
    srv.proc.wait()
    for t in threads:
        t.join(30)
    lib.eq(errors, [], "errors before the kill")
    lib.ok(len(acked_blobs) > 16, "too few acknowledged writes to mean anything: %d" %
           len(acked_blobs))
    srv.start()
    bad = []
    for (repo, d), data in acked_blobs.items():
        r = reg.get_blob(repo, d)
        if r.status != 200 or lib.sha256(r.body) != d:
            bad.append("blob %s@%s: %d, %d bytes" % (repo, d, r.status, len(r.body)))
    for (repo, tag), body in acked_manifests.items():
        r = reg.get_manifest(repo, tag)
        if r.status != 200 or r.body != body:
            bad.append("manifest %s:%s: %d" % (repo, tag, r.status))
    lib.eq(bad[:10], [], "acknowledged writes lost after SIGKILL (%d of %d blobs, %d manifests)" % (
        len(bad), len(acked_blobs), len(acked_manifests)))
    print("      (%d blobs, %d manifests acknowledged before SIGKILL)" % (
        len(acked_blobs), len(acked_manifests)))


@lib.own_server
def test_same_blob_concurrently(reg):
    srv = reg.server
    data = lib.rand_bytes(1024 * 1024 + 3)
    d = lib.sha256(data)
    repos = ["same/r%d" % (i % 3) for i in range(8)]
    barrier = threading.Barrier(8)
    results = [None] * 8

    def worker(i):
        try:
            barrier.wait(10)
            if i % 2:
                r = srv.client.push_blob_chunked(repos[i], data, chunk=256 * 1024)
            else:
                r = srv.client.push_blob(repos[i], data)
            results[i] = r.status
        except Exception as e:  # noqa: BLE001
            results[i] = repr(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    lib.eq(results, [201] * 8, "answers to 8 concurrent pushes of one blob")
    for repo in sorted(set(repos)):
        g = reg.get_blob(repo, d)
        lib.status(g, 200)
        lib.eq(lib.sha256(g.body), d, "digest of bytes served in %s" % repo)
        lib.eq(len(g.body), len(data), "length")
    if lib.IS_BERTH:
        hexd = d.split(":")[1]
        path = os.path.join(srv.data_dir, "blobs", "sha256", hexd[:2], hexd)
        lib.ok(os.path.isfile(path), "blob file %s missing" % path)
        with open(path, "rb") as f:
            lib.eq(lib.sha256(f.read()), d, "stored file content")
        found = []
        for root, _, files in os.walk(srv.data_dir):
            found += [os.path.join(root, f) for f in files if hexd in f]
        lib.eq(found, [path], "files for the blob in the data directory")


def _mount_tmpfs(path, size="8m"):
    if os.geteuid() != 0:
        lib.skip("needs root to mount a tmpfs")
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        lib.skip("mount not possible: %s" % e)
    if p.returncode != 0:
        lib.skip("mount -t tmpfs failed: %s" % (p.stderr.strip() or p.returncode))


@lib.berth_only("full-disk behaviour (507)")
@lib.no_server
@lib.timeout(150)
def test_disk_full(_):
    import tempfile
    base = tempfile.mkdtemp(prefix="berth-it-full-")
    mnt = os.path.join(base, "mnt")
    os.mkdir(mnt)
    _mount_tmpfs(mnt)
    srv = None
    try:
        # a filler file next to the data directory on the same tmpfs: removing it later frees
        # space the way an operator would, without touching berth's files
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (2 * 1024 * 1024))
        data_dir = os.path.join(mnt, "data")
        os.mkdir(data_dir)
        srv = lib.Server(data_dir=data_dir, name="diskfull")
        srv.start()
        c = srv.client
        repo = "full/r"
        acked = {}
        failure = None
        failed_sessions = []
        for i in range(64):
            data = os.urandom(512 * 1024)
            loc = c.start_upload(repo)
            r = None
            for off in range(0, len(data), 128 * 1024):
                r = c.request("PATCH", loc, body=data[off:off + 128 * 1024], headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": "%d-%d" % (off, off + 128 * 1024 - 1)})
                if r.status != 202:
                    break
                loc = r.location_path()
            if r.status == 202:
                r = c.request("PUT", lib.add_query(loc, digest=lib.sha256(data)))
            if r.status == 201:
                acked[lib.sha256(data)] = data
                continue
            failure = r
            failed_sessions.append(loc)
            break
        lib.ok(failure is not None, "8 MiB tmpfs never filled up after %d blobs" % len(acked))
        lib.ok(acked, "nothing could be stored before the disk was full")
        lib.error(failure, 507, tuple(lib.SPEC_ERROR_CODES),
                  "answer when the disk is full", json_required=True)
        codes = lib.error_codes(failure)
        lib.ok(all(re.fullmatch(r"[A-Z_]+", x) for x in codes), "error codes %r" % codes)
        # a monolithic upload on the full disk fails the same way
        big = os.urandom(2 * 1024 * 1024)
        r = c.request("POST", "/v2/%s/blobs/uploads/" % repo)
        if r.status == 507:
            lib.error(r, 507, tuple(lib.SPEC_ERROR_CODES), "POST upload on a full disk")
        else:
            lib.status(r, 202, "POST upload on a full disk")
            loc = r.location_path()
            r = c.request("PUT", lib.add_query(loc, digest=lib.sha256(big)), body=big)
            lib.error(r, 507, tuple(lib.SPEC_ERROR_CODES), "monolithic PUT on a full disk")
            failed_sessions.append(loc)
        lib.status(c.head_blob(repo, lib.sha256(big)), 404, "nothing committed on a full disk")
        # the server keeps serving
        lib.ok(srv.alive(), "server died on a full disk")
        lib.status(c.get("/v2/"), 200, "GET /v2/ on a full disk")
        for d, data in acked.items():
            g = c.get_blob(repo, d)
            lib.status(g, 200, "GET acknowledged blob on a full disk")
            lib.eq(lib.sha256(g.body), d, "acknowledged bytes")
        # deleting on a full disk: accepted, or refused cleanly
        victim = next(iter(acked))
        r = c.delete("/v2/%s/blobs/%s" % (repo, victim))
        lib.status(r, (202, 507), "DELETE blob on a full disk")
        if r.status == 507:
            lib.error(r, 507, tuple(lib.SPEC_ERROR_CODES))
        else:
            del acked[victim]
        # free space (operator removes the filler), drop the failed uploads: writes work again
        os.unlink(filler)
        for loc in failed_sessions:
            r = c.delete(loc)
            lib.status(r, (204, 404), "DELETE failed upload")
        for d, data in acked.items():
            lib.eq(lib.sha256(c.get_blob(repo, d).body), d, "acknowledged bytes after cleanup")
        small = b"small after full " + os.urandom(64)
        c.push_blob(repo, small)
        lib.eq(c.get_blob(repo, lib.sha256(small)).body, small, "blob pushed after cleanup")
        cfg = lib.make_config()
        c.push_blob(repo, cfg)
        c.put_manifest(repo, "after-full", lib.image_manifest(cfg, []))
        lib.eq(srv.stop(), 0, "exit status on SIGTERM")
        lib.eq(srv.errors_5xx, [], "500 answers on a full disk")
    finally:
        if srv is not None:
            srv.stop()
        subprocess.run(["umount", mnt], capture_output=True, timeout=30)
        if srv is not None:
            srv.cleanup()
        import shutil
        shutil.rmtree(base, ignore_errors=True)
