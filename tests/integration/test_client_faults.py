"""Faults on the wire between berth and the registry, injected by a loopback proxy: a blob download
cut in the middle resumes with Range and the result is intact; a corrupted byte fails the copy
with a digest mismatch and nothing is written at the destination."""

import http.server
import os
import shutil
import signal
import socketserver
import subprocess
import threading
import time

import lib
from client_lib import Layout, Proxy, berth, docker_ref, layout_blob, layout_index, tmpdir

SHARED_SERVER = True
TLS = "--tls-verify=false"


def _pushed(reg, tmp, nlayers=2, size=200000):
    lay = Layout(os.path.join(tmp, "src"))
    man, layers, _ = lay.image(nlayers=nlayers, size=size)
    lay.add_ref(man, lib.OCI_MANIFEST, "v1")
    repo = lib.repo_name("faults")
    berth("copy", TLS, "-q", "oci:%s:v1" % lay.path, docker_ref(reg, repo, "v1"))
    return lay, man, layers, repo


def test_client_resumes_a_cut_download_with_range(reg):
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp)
        target = layers[1]
        proxy = Proxy(reg.server.port, cut_digest=target, cut_times=2)
        out = os.path.join(tmp, "out")
        r = berth("copy", "--json", TLS, docker_ref(proxy.port, repo, "v1"), "oci:%s:v1" % out).json()
        lib.eq(r["digest"], lib.sha256(man), "digest after the resumed download")
        lib.eq(layout_blob(out, target), layout_blob(lay.path, target), "the cut blob arrived intact")
        gets = proxy.blob_gets(target)
        lib.eq(len(gets), 3, "two cut GETs and a final one: %s" % gets)
        lib.eq(gets[0][2], None, "first GET asks for the whole blob")
        size = len(layout_blob(lay.path, target))
        first_cut = size // 2
        lib.eq(gets[1][2], "bytes=%d-" % first_cut, "second GET resumes where the first broke off")
        lib.ok(gets[2][2] and gets[2][2].startswith("bytes="), "third GET resumes too: %s" % (gets[2],))
        # the other blobs were fetched once
        for l in (layers[0],):
            lib.eq(len(proxy.blob_gets(l)), 1, "untouched blob fetched once")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_restarts_when_resumed_at_the_wrong_offset(reg):
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=1)
        proxy = Proxy(reg.server.port, cut_digest=layers[0], wrong_range=True)
        out = os.path.join(tmp, "out")
        berth("copy", "-q", TLS, docker_ref(proxy.port, repo, "v1"), "oci:%s:v1" % out)
        lib.eq(layout_blob(out, layers[0]), layout_blob(lay.path, layers[0]), "blob intact")
        gets = proxy.blob_gets(layers[0])
        lib.eq([g[2] is not None for g in gets], [False, True, False],
               "cut, resumed at a wrong offset (refused), then fetched whole: %s" % gets)
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_ctrl_c_cancels_and_rolls_back(reg):
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=1, size=60000)
        proxy = Proxy(reg.server.port, slow_digest=layers[0])
        out = os.path.join(tmp, "out")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        p = subprocess.Popen([lib.BERTH_BIN, "copy", "-q", TLS, docker_ref(proxy.port, repo, "v1"),
                              "oci:%s:v1" % out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True)
        deadline = time.time() + 20
        while not proxy.blob_gets(layers[0]) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        lib.eq(p.returncode, 1, "exit status after Ctrl-C (stderr %r)" % err)
        lib.ok(err.endswith("cancelled\n") and err.count("\n") == 1, "message: %r" % err)
        lib.eq(sorted(os.listdir(tmp)), ["src"], "no layout and no staging folder")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_gives_up_after_bounded_retries(reg):
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=1)
        proxy = Proxy(reg.server.port, cut_digest=layers[0], cut_times=100)
        out = os.path.join(tmp, "out")
        e = berth("copy", TLS, "--retries", "2", docker_ref(proxy.port, repo, "v1"), "oci:%s:v1" % out, rc=1)
        lib.ok("broke off 3 times" in e.err, "message: %r" % e.err)
        lib.eq(len(proxy.blob_gets(layers[0])), 3, "one try and two resumptions")
        lib.ok(not os.path.exists(out), "nothing written")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_corrupt_byte_fails_and_writes_nothing(reg):
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=3, size=5000)
        proxy = Proxy(reg.server.port, corrupt_digest=layers[2])
        # into a new layout: no layout appears
        out = os.path.join(tmp, "out")
        e = berth("copy", "-q", TLS, docker_ref(proxy.port, repo, "v1"), "oci:%s:v1" % out, rc=1)
        lib.ok(e.err.startswith("berth: digest mismatch") and layers[2] in e.err, "message: %r" % e.err)
        lib.eq(e.err.count("\n"), 1, "one line")
        lib.ok(not os.path.exists(out), "no destination layout")
        lib.eq(sorted(os.listdir(tmp)), ["src"], "no staging folder left beside it")
        # into an existing layout (of another image): unchanged
        other_lay = Layout(os.path.join(tmp, "other"))
        om, _, _ = other_lay.image(nlayers=1, size=100)
        other_lay.add_ref(om, lib.OCI_MANIFEST, "o")
        berth("copy", "oci:%s:o" % other_lay.path, "oci:%s:old" % out)
        before = (sorted(os.listdir(os.path.join(out, "blobs", "sha256"))), layout_index(out))
        berth("copy", TLS, docker_ref(proxy.port, repo, "v1"), "oci:%s:new" % out, rc=1)
        lib.eq((sorted(os.listdir(os.path.join(out, "blobs", "sha256"))), layout_index(out)), before,
               "existing layout unchanged")
        lib.eq(sorted(os.listdir(out)), ["blobs", "index.json", "oci-layout"], "no staging folder left in it")
        # registry to registry: no manifest, no tag at the destination
        other = lib.repo_name("faults")
        e = berth("copy", TLS, docker_ref(proxy.port, repo, "v1"), docker_ref(reg, other, "v1"), rc=1)
        lib.ok("digest mismatch" in e.err, "message: %r" % e.err)
        lib.status(reg.get_manifest(other, "v1"), 404, "no manifest after a failed copy")
        lib.status(reg.head_blob(other, layers[2]), 404, "the corrupt blob was never uploaded")
        # to a docker-archive: no file
        arch = os.path.join(tmp, "x.tar")
        berth("copy", TLS, docker_ref(proxy.port, repo, "v1"), "docker-archive:%s" % arch, rc=1)
        lib.ok(not os.path.exists(arch), "no archive")
        lib.eq([f for f in os.listdir(tmp) if f.startswith(".berth")], [], "no staging left")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


class _LyingRegistry:
    """Answers /v2/ and every manifest GET with body, announcing a Docker-Content-Digest of zeros."""

    def __init__(self, body):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                data = b"{}" if self.path == "/v2/" else body
                self.send_response(200)
                if self.path != "/v2/":
                    self.send_header("Content-Type", lib.OCI_MANIFEST)
                    self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.srv = S(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@lib.no_server
def test_client_lying_manifest_is_refused(reg):
    """Manifest bytes are checked against the digest asked for, and against the digest the registry
    announces for a tag."""
    liar = _LyingRegistry(lib.image_manifest(b"{}", [b"x"]))
    try:
        e = berth("inspect", TLS, "docker://127.0.0.1:%d/x/y:t" % liar.port, rc=1)
        lib.ok(e.err.startswith("berth: digest mismatch") and "announced" in e.err, "tag: %r" % e.err)
        e = berth("inspect", TLS, "docker://127.0.0.1:%d/x/y@sha256:%s" % (liar.port, "1" * 64), rc=1)
        lib.ok(e.err.startswith("berth: digest mismatch"), "by digest: %r" % e.err)
    finally:
        liar.close()
