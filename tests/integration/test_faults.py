"""Injected I/O and database failures (BERTH_FAULT, base/fault.h) reach HTTP clients as spec errors:
500 with an error body for an I/O failure, 507 for a full disk; the server never crashes and works
again at once."""

import os

import lib

SHARED_SERVER = False


def _server(spec, name):
    # scanning off: its background database calls would take the Nth step the test aims at a push
    srv = lib.Server(name=name, env={"BERTH_FAULT": spec, "BERTH_SCAN_WORKERS": "0"})
    srv.start()
    return srv, lib.Registry(srv)


def _spec_error(r, status, code, what):
    """The spec's error body; for a 500, code UNKNOWN (Distribution's code for an unexpected error,
    which the spec's list leaves out)."""
    if code == "UNKNOWN":
        lib.status(r, status, what)
        lib.eq(lib.error_codes(r), ["UNKNOWN"], "%s: error codes" % what)
    else:
        lib.error(r, status, code, what)
    msg = r.json()["errors"][0].get("message")
    lib.ok(msg, "%s: the error body has a message" % what)


def _push_and_pull(reg, repo, what):
    """A small image pushed and pulled back exactly: the server works."""
    cfg, layer = lib.make_config(), os.urandom(3000)
    reg.push_blob(repo, cfg)
    reg.push_blob_chunked(repo, layer, chunk=1000)
    body = lib.image_manifest(cfg, [layer])
    reg.put_manifest(repo, "ok", body)
    r = reg.get_manifest(repo, "ok")
    lib.status(r, 200, what)
    lib.eq(r.body, body, what)
    lib.eq(reg.get_blob(repo, lib.sha256(layer)).body, layer, what)


@lib.berth_only("fault injection")
@lib.no_server
@lib.timeout(90)
def test_io_faults_are_spec_errors(_):
    data = os.urandom(5000)
    d = lib.sha256(data)
    cases = [
        # (BERTH_FAULT, status, code)
        ("write:1", 500, "UNKNOWN"),
        ("write:1:enospc", 507, "BLOB_UPLOAD_INVALID"),
        ("fsync:1", 500, "UNKNOWN"),
        ("rename:1", 500, "UNKNOWN"),
    ]
    for spec, st, code in cases:
        srv, reg = _server(spec, "fault-" + spec)
        try:
            repo = lib.repo_name("fault")
            r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=data,
                            headers={"Content-Type": "application/octet-stream"})
            _spec_error(r, st, code, "monolithic upload with %s" % spec)
            lib.error(reg.head_blob(repo, d), 404, "BLOB_UNKNOWN", "blob after the failed upload (%s)" % spec,
                      json_required=False)
            lib.ok(srv.alive(), "server alive after %s" % spec)
            reg.push_blob_post(repo, data)  # the retry succeeds
            lib.eq(reg.get_blob(repo, d).body, data, "blob after the retry (%s)" % spec)
            _push_and_pull(reg, repo, "image after %s" % spec)
        finally:
            srv.cleanup()


@lib.berth_only("fault injection")
@lib.no_server
@lib.timeout(90)
def test_fault_closing_a_chunked_upload_keeps_the_session(_):
    data = os.urandom(9000)
    d = lib.sha256(data)
    srv, reg = _server("fsync:1", "fault-chunked")
    try:
        repo = lib.repo_name("fault")
        loc = reg.start_upload(repo)
        r = reg.request("PATCH", loc, body=data, headers={"Content-Type": "application/octet-stream",
                                                          "Content-Range": "0-%d" % (len(data) - 1)})
        lib.status(r, 202)
        loc = r.location_path()
        r = reg.request("PUT", lib.add_query(loc, digest=d))
        _spec_error(r, 500, "UNKNOWN", "closing PUT whose fsync fails")
        r = reg.get(loc)
        lib.status(r, 204, "the session survives the failed commit")
        lib.header(r, "Range", "0-%d" % (len(data) - 1))
        r = reg.request("PUT", lib.add_query(loc, digest=d))
        lib.status(r, 201, "closing PUT retried")
        lib.eq(reg.get_blob(repo, d).body, data, "bytes after the retry")
    finally:
        srv.cleanup()


@lib.berth_only("fault injection")
@lib.no_server
@lib.timeout(300)
def test_db_faults_anywhere_in_a_push(_):
    """db:N for every N from start-up through a whole push: each answer is a success or a spec error
    (500/507 with a body); the server never crashes; the same push then succeeds."""
    outcomes = []
    for n in range(1, MAX_DB_STEP + 1):
        srv = lib.Server(name="fault-db-%d" % n, env={"BERTH_FAULT": "db:%d" % n, "BERTH_SCAN_WORKERS": "0"})
        try:
            try:
                srv.start()
            except lib.TestFailure:
                # the fault hit start-up: berth said so and exited, it did not crash
                lib.eq(srv.proc.returncode, 1, "db:%d at start-up: exit status" % n)
                outcomes.append("start")
                continue
            reg = lib.Registry(srv)
            repo = "fault/db"
            cfg, layer = b'{"n":%d}' % n, b"layer-%d" % n
            failed = None
            for step in ("cfg", "layer", "manifest", "get"):
                if step in ("cfg", "layer"):
                    blob = cfg if step == "cfg" else layer
                    r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, lib.sha256(blob)),
                                    body=blob, headers={"Content-Type": "application/octet-stream"})
                    ok_status = 201
                elif step == "manifest":
                    r = reg.put_manifest(repo, "v1", lib.image_manifest(cfg, [layer]), expect=None)
                    ok_status = 201
                else:
                    r = reg.get_manifest(repo, "v1")
                    ok_status = 200
                if r.status != ok_status:
                    lib.is_in(r.status, (500, 507), "db:%d %s status" % (n, step))
                    lib.ok(lib.error_codes(r), "db:%d %s: a spec error body, got %r" % (n, step, r.body[:200]))
                    failed = step
                    break
            lib.ok(srv.alive(), "server alive after db:%d" % n)
            outcomes.append(failed or "-")
            if failed:
                _push_and_pull(reg, repo, "push after db:%d" % n)
        finally:
            srv.cleanup()
    print("    db:N outcomes: %s" % " ".join(outcomes), flush=True)
    for step in ("start", "cfg", "layer", "manifest", "get"):
        lib.ok(step in outcomes, "some db:N failed %s: %s" % (step, outcomes))
    lib.eq(outcomes[-1], "-", "the last N is past the whole push")


MAX_DB_STEP = 34  # a few past the last step of start-up + push (31 today)
