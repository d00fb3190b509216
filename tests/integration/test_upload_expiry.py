"""Abandoned upload sessions expire (storage.uploads.ttl, storage.uploads.sweep_interval)."""

import os
import threading
import time

import lib

SHARED_SERVER = False

TTL = 4.0


def _uuid(loc):
    return loc.split("?")[0].rstrip("/").rsplit("/", 1)[1]


def _patch(reg, loc, data, off):
    return reg.request("PATCH", loc, body=data, headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": "%d-%d" % (off, off + len(data) - 1)})


@lib.berth_only("berth's upload expiry settings")
@lib.no_server
@lib.timeout(90)
def test_idle_sessions_expire_active_ones_stay(_):
    srv = lib.Server(name="upload-expiry", env={
        "BERTH_STORAGE_UPLOADS_TTL": "%dms" % int(TTL * 1000),
        "BERTH_STORAGE_UPLOADS_SWEEP_INTERVAL": "200ms"})
    try:
        srv.start()
        reg = lib.Registry(srv)
        repo = lib.repo_name("expiry")
        t0 = time.time()
        idle = reg.start_upload(repo)
        r = _patch(reg, idle, b"idle-bytes", 0)
        lib.status(r, 202)
        idle = r.location_path()
        touched = reg.start_upload(repo)
        active = reg.start_upload(repo)
        uploads = os.path.join(srv.data_dir, "uploads")
        for loc in (idle, touched, active):
            lib.ok(os.path.exists(os.path.join(uploads, _uuid(loc))), "upload file of %s exists" % loc)

        # the active session gets a chunk every 0.4 s for the whole test
        stop = threading.Event()
        sent = []
        failures = []

        def keep_busy():
            loc, off = active, 0
            while not stop.is_set():
                chunk = os.urandom(1000)
                rr = _patch(reg, loc, chunk, off)
                if rr.status != 202:
                    failures.append("PATCH active session -> %d %s" % (rr.status, rr.body[:200]))
                    return
                loc, off = rr.location_path(), off + len(chunk)
                sent.append(chunk)
                stop.wait(0.4)
            sent.append(loc)

        th = threading.Thread(target=keep_busy, daemon=True)
        th.start()
        # touched just before expiry: a status request 2/3 of the TTL in
        time.sleep(max(0, t0 + TTL * 2 / 3 - time.time()))
        lib.status(reg.get(touched), 204, "GET status of the touched session")
        touched_at = time.time()
        # the idle session is past its TTL (plus sweeps), the touched one is not
        time.sleep(max(0, t0 + TTL + 1.0 - time.time()))
        lib.ok(time.time() < touched_at + TTL - 0.3, "test ran too slowly to check the touched session")
        r = reg.get(idle)
        lib.error(r, 404, "BLOB_UPLOAD_UNKNOWN", "GET status of the idle session after its TTL")
        lib.error(_patch(reg, idle, b"more", 10), 404, "BLOB_UPLOAD_UNKNOWN", "PATCH of the expired session")
        lib.ok(not os.path.exists(os.path.join(uploads, _uuid(idle))), "idle session's upload file removed")
        lib.status(reg.get(touched), 204, "touched session kept")
        touched_at = time.time()  # that status request was activity too
        lib.ok(os.path.exists(os.path.join(uploads, _uuid(touched))), "touched session's file kept")
        lib.status(reg.get(active), (204,), "active session kept")

        # the active session completes normally and its bytes read back exactly
        stop.set()
        th.join(10)
        lib.eq(failures, [], "PATCH failures on the active session")
        loc = sent.pop()
        data = b"".join(sent)
        r = reg.request("PUT", lib.add_query(loc, digest=lib.sha256(data)))
        lib.status(r, 201, "closing PUT of the active session")
        g = reg.get_blob(repo, lib.sha256(data))
        lib.status(g, 200)
        lib.eq(g.body, data, "bytes of the session kept alive")
        lib.ok(not os.path.exists(os.path.join(uploads, _uuid(active))), "committed session's file gone")

        # left alone, the touched session expires too
        time.sleep(max(0, touched_at + TTL + 1.0 - time.time()))
        lib.error(reg.get(touched), 404, "BLOB_UPLOAD_UNKNOWN", "touched session once idle for its TTL")
        lib.eq(os.listdir(uploads), [], "upload files left")
        lib.eq(srv.errors_5xx, [], "500 answers")
    finally:
        srv.cleanup()


@lib.berth_only("berth's upload expiry settings")
@lib.no_server
@lib.timeout(60)
def test_expired_sessions_removed_at_start(_):
    srv = lib.Server(name="upload-expiry-start")
    try:
        srv.start()
        reg = lib.Registry(srv)
        repo = lib.repo_name("expiry")
        loc = reg.start_upload(repo)
        lib.status(_patch(reg, loc, b"abc", 0), 202)
        srv.stop()
        time.sleep(1.2)
        # restarted with a TTL the session has outlived: removed before the first request
        srv.env = {"BERTH_STORAGE_UPLOADS_TTL": "1s", "BERTH_STORAGE_UPLOADS_SWEEP_INTERVAL": "0"}
        srv.start()
        lib.eq(os.listdir(os.path.join(srv.data_dir, "uploads")), [], "upload files after start")
        lib.error(reg.get(loc), 404, "BLOB_UPLOAD_UNKNOWN", "GET status of the expired session")
        # a malformed duration is refused at start with one clear line
        srv.stop()
        srv.env = {"BERTH_STORAGE_UPLOADS_TTL": "24"}
        try:
            srv.start()
            lib.fail("berth started with storage.uploads.ttl '24'")
        except lib.TestFailure as e:
            lib.ok("storage.uploads.ttl" in str(e), "error names the key: %s" % str(e)[-300:])
    finally:
        srv.cleanup()
