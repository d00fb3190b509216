"""Shared helpers for berth's integration tests (Python 3 stdlib only).

Target selection: env BERTH_TEST_TARGET=berth (default) or docker-registry.
  berth:           $BERTH_BIN serve --addr 127.0.0.1:PORT --data DIR
                   (BERTH_BIN defaults to <repo>/build-asan/berth)
  docker-registry: /usr/bin/docker-registry serve CONFIG (generated config.yml)

Tests are plain functions `test_*(reg)` receiving a Registry (server + client). Decorators:
  @berth_only(reason)   skipped (reported as skip) for any other target
  @requires_v11(reason) needs distribution-spec v1.1 behaviour docker-registry 2.8.2 lacks
  @own_server           the runner gives this test a fresh server (it may restart/kill it)
  @no_server            the runner starts nothing; the test manages servers itself (reg=None)
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import ssl
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET = os.environ.get("BERTH_TEST_TARGET", "berth")
IS_BERTH = TARGET == "berth"
BERTH_BIN = os.environ.get("BERTH_BIN", os.path.join(REPO_ROOT, "build-asan", "berth"))
DOCKER_REGISTRY_BIN = os.environ.get("DOCKER_REGISTRY_BIN", "/usr/bin/docker-registry")
READY_TIMEOUT = float(os.environ.get("BERTH_TEST_READY_TIMEOUT", "20"))
HTTP_TIMEOUT = 60

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

SPEC_ERROR_CODES = {
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
    "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
    # accepted by the conformance suite's list too
    "MANIFEST_UNVERIFIED", "TAG_INVALID",
}


# ---------------------------------------------------------------- test markers / failures

class SkipTest(Exception):
    pass


class TestFailure(AssertionError):
    pass


def _mark(attr, value):
    """A decorator that sets fn.<attr> = value; run.py reads the marks."""
    def deco(fn):
        setattr(fn, attr, value)
        return fn
    return deco


def berth_only(reason="berth-only behaviour"):
    return _mark("berth_only", reason)


def requires_v11(reason="requires spec v1.1"):
    return _mark("requires_v11", reason)


def known_deviation(reason):
    """Spec behaviour docker-registry 2.8.2 is known to get wrong: skipped for that target only."""
    return _mark("known_deviation", reason)


own_server = _mark("own_server", True)
no_server = _mark("no_server", True)


def timeout(seconds):
    return _mark("timeout", seconds)


def skip(reason):
    raise SkipTest(reason)


def fail(msg):
    raise TestFailure(msg)


# ---------------------------------------------------------------- assertions

def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def eq(actual, expected, what="value"):
    if actual != expected:
        fail("%s: expected %s, got %s" % (what, _short(expected), _short(actual)))


def ok(cond, msg):
    if not cond:
        fail(msg)


def is_in(actual, allowed, what="value"):
    if actual not in allowed:
        fail("%s: expected one of %s, got %s" % (what, _short(list(allowed)), _short(actual)))


def status(resp, expected, what=None):
    """expected: int or a collection of ints."""
    exp = (expected,) if isinstance(expected, int) else tuple(expected)
    if resp.status not in exp:
        fail("%s: expected status %s, got %d; headers=%s body=%s" % (
            what or resp.describe(), " or ".join(map(str, exp)), resp.status,
            _short(dict(resp.headers.items()), 600), _short(resp.body[:600])))


def header(resp, name, expected, what=None):
    eq(resp.headers.get(name), expected, "%s header %s" % (what or resp.describe(), name))


def header_present(resp, name, what=None):
    v = resp.headers.get(name)
    if not v:
        fail("%s: header %s missing; headers=%s" % (what or resp.describe(), name,
                                                  _short(dict(resp.headers.items()), 600)))
    return v


def error_codes(resp):
    """Codes of a spec error body, or None when the body is not a spec error JSON."""
    try:
        doc = json.loads(resp.body.decode("utf-8"))
        return [e["code"] for e in doc["errors"]]
    except Exception:
        return None


def error(resp, expected_status, codes, what=None, json_required=True):
    """Asserts status and that the body is the spec error JSON whose first code is in codes."""
    status(resp, expected_status, what)
    if isinstance(codes, str):
        codes = (codes,)
    got = error_codes(resp)
    if got is None:
        if json_required:
            fail("%s: expected a spec error body with code %s, got body %s (Content-Type %s)" % (
                what or resp.describe(), "/".join(codes), _short(resp.body[:300]),
                resp.headers.get("Content-Type")))
        return None
    ok(len(got) >= 1, "%s: empty errors list" % (what or resp.describe()))
    for c in got:
        ok(c in SPEC_ERROR_CODES, "%s: error code %r is not a spec code" % (what or resp.describe(), c))
    if got[0] not in codes:
        fail("%s: expected error code %s, got %s (status %d)" % (
            what or resp.describe(), " or ".join(codes), got, resp.status))
    return got[0]


# ---------------------------------------------------------------- content helpers

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rand_bytes(n, seed=None):
    if seed is None:
        return os.urandom(n)
    r = random.Random(seed)
    return bytes(r.getrandbits(8) for _ in range(n))


def rand_blob(n=None):
    n = n if n is not None else random.randint(1, 4096)
    data = os.urandom(n)
    return data, sha256(data)


def rand_str(n=12):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def descriptor(media_type, data=None, digest=None, size=None, **extra):
    d = {"mediaType": media_type,
         "digest": digest if digest is not None else sha256(data),
         "size": size if size is not None else len(data)}
    d.update(extra)
    return d


def make_config(author=None, diff_ids=None):
    cfg = {"architecture": "amd64", "os": "linux",
           "rootfs": {"type": "layers", "diff_ids": diff_ids or []},
           "author": author or rand_str(16)}
    return json.dumps(cfg, indent="\t").encode()


def image_manifest(config, layers, media_type=OCI_MANIFEST, subject=None, artifact_type=None,
                   annotations=None, include_media_type=True, config_media_type=OCI_CONFIG,
                   layer_media_type=OCI_LAYER_GZIP):
    """config: bytes or a descriptor dict; layers: list of bytes or descriptor dicts."""
    m = {"schemaVersion": 2}
    if include_media_type:
        m["mediaType"] = media_type
    if artifact_type:
        m["artifactType"] = artifact_type
    m["config"] = config if isinstance(config, dict) else descriptor(config_media_type, config)
    m["layers"] = [l if isinstance(l, dict) else descriptor(layer_media_type, l) for l in layers]
    if subject is not None:
        m["subject"] = subject
    if annotations is not None:
        m["annotations"] = annotations
    return json.dumps(m, indent="\t").encode()


def docker_manifest(config, layers):
    return image_manifest(config, layers, media_type=DOCKER_MANIFEST,
                          config_media_type=DOCKER_CONFIG, layer_media_type=DOCKER_LAYER)


def image_index(manifests, media_type=OCI_INDEX, subject=None, artifact_type=None,
                annotations=None):
    """manifests: list of (bytes, media_type[, platform dict]) or descriptor dicts."""
    descs = []
    for m in manifests:
        if isinstance(m, dict):
            descs.append(m)
            continue
        d = descriptor(m[1], m[0])
        if len(m) > 2 and m[2]:
            d["platform"] = m[2]
        descs.append(d)
    idx = {"schemaVersion": 2, "mediaType": media_type}
    if artifact_type:
        idx["artifactType"] = artifact_type
    idx["manifests"] = descs
    if subject is not None:
        idx["subject"] = subject
    if annotations is not None:
        idx["annotations"] = annotations
    return json.dumps(idx, indent="\t").encode()


# ---------------------------------------------------------------- HTTP

class Headers:
    """Case-insensitive, multi-valued response headers."""

    def __init__(self, pairs):
        self._pairs = list(pairs)

    def get(self, name, default=None):
        n = name.lower()
        for k, v in self._pairs:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self._pairs if k.lower() == n]

    def items(self):
        return list(self._pairs)

    def __contains__(self, name):
        return self.get(name) is not None


class Response:
    def __init__(self, method, path, status_, headers, body):
        self.method, self.path, self.status, self.headers, self.body = method, path, status_, headers, body
        self.incomplete = False  # body shorter than the Content-Length the server announced

    def describe(self):
        return "%s %s" % (self.method, self.path if len(self.path) < 160 else self.path[:160] + "...")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception as e:
            fail("%s: body is not JSON (%s): %s" % (self.describe(), e, _short(self.body[:300])))

    def location_path(self):
        """Location header reduced to path+query (it may be absolute)."""
        loc = self.headers.get("Location")
        if not loc:
            fail("%s: no Location header (status %d)" % (self.describe(), self.status))
        return path_of(loc)

    def __repr__(self):
        return "<Response %s -> %d>" % (self.describe(), self.status)


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def add_query(path, **params):
    q = urllib.parse.urlencode(params)
    return path + ("&" if "?" in path else "?") + q


class Client:
    def __init__(self, server):
        self.server = server

    @property
    def host(self):
        return "127.0.0.1"

    @property
    def port(self):
        return self.server.port

    def request(self, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT):
        """One request on a fresh connection. path may be absolute URL; body bytes or None."""
        if path.startswith("http://") or path.startswith("https://"):
            path = path_of(path)
        conn = self.server.connection(timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if body is None and method in ("POST", "PUT", "PATCH") and not any(
                    k.lower() == "content-length" for k in hdrs):
                hdrs["Content-Length"] = "0"
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # the server answered early (e.g. 413) and closed while we were sending;
                # its answer may still be readable
                pass
            r = conn.getresponse()
            incomplete = False
            try:
                data = r.read()
            except http.client.IncompleteRead as e:
                data, incomplete = e.partial, True
            resp = Response(method, path, r.status, Headers(r.getheaders()), data)
            resp.incomplete = incomplete
        finally:
            conn.close()
        self.server.record(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def raw(self, data, read_timeout=10, half_close=False):
        """Send raw bytes; return (status or None, header text, body bytes) of the first response."""
        s = socket.create_connection((self.host, self.port), timeout=read_timeout)
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            buf = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    if b"\r\n\r\n" in buf:
                        head, _, rest = buf.partition(b"\r\n\r\n")
                        cl = None
                        for line in head.split(b"\r\n")[1:]:
                            k, _, v = line.partition(b":")
                            if k.strip().lower() == b"content-length":
                                cl = int(v.strip())
                        if cl is not None and len(rest) >= cl:
                            break
            except socket.timeout:
                pass
        finally:
            s.close()
        if not buf:
            return None, "", b""
        head, _, rest = buf.partition(b"\r\n\r\n")
        first = head.split(b"\r\n")[0].decode("latin-1")
        try:
            st = int(first.split()[1])
        except Exception:
            st = None
        if st is not None:
            self.server.record(Response("RAW", data[:60].decode("latin-1"), st, Headers([]), rest))
        return st, head.decode("latin-1"), rest

    # -------- blobs

    def start_upload(self, repo, headers=None):
        r = self.request("POST", "/v2/%s/blobs/uploads/" % repo, headers=headers)
        status(r, 202)
        return r.location_path()

    def push_blob(self, repo, data, digest=None):
        """POST then PUT monolithic upload. Returns the 201 response."""
        digest = digest or sha256(data)
        loc = self.start_upload(repo)
        r = self.request("PUT", add_query(loc, digest=digest), body=data,
                         headers={"Content-Type": "application/octet-stream"})
        status(r, 201, "PUT %s (monolithic blob %s)" % (loc, digest))
        return r

    def push_blob_post(self, repo, data, digest=None):
        """Single POST ?digest= monolithic upload; follows a 202 with a PUT as the spec allows.
        Returns (first response, final 201 response)."""
        digest = digest or sha256(data)
        r = self.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest), body=data,
                         headers={"Content-Type": "application/octet-stream"})
        status(r, (201, 202))
        if r.status == 201:
            return r, r
        r2 = self.request("PUT", add_query(r.location_path(), digest=digest), body=data,
                          headers={"Content-Type": "application/octet-stream"})
        status(r2, 201)
        return r, r2

    def push_blob_chunked(self, repo, data, chunk=None, digest=None, final_in_put=False):
        """POST + PATCH chunks (with Content-Range) + PUT. Returns the 201 response."""
        digest = digest or sha256(data)
        loc = self.start_upload(repo)
        chunk = chunk or max(1, (len(data) + 2) // 3)
        off = 0
        end = len(data) - (chunk if final_in_put and len(data) > chunk else 0)
        while off < end:
            part = data[off:min(off + chunk, end)]
            r = self.request("PATCH", loc, body=part, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (off, off + len(part) - 1)})
            status(r, 202, "PATCH %s at %d" % (loc, off))
            header(r, "Range", "0-%d" % (off + len(part) - 1))
            loc = r.location_path()
            off += len(part)
        rest = data[off:]
        hdrs = {"Content-Type": "application/octet-stream"}
        if rest:
            hdrs["Content-Range"] = "%d-%d" % (off, len(data) - 1)
        r = self.request("PUT", add_query(loc, digest=digest), body=rest if rest else None,
                         headers=hdrs)
        status(r, 201, "PUT %s (closing chunked upload of %s)" % (loc, digest))
        return r

    def get_blob(self, repo, digest, headers=None):
        return self.get("/v2/%s/blobs/%s" % (repo, digest), headers=headers)

    def head_blob(self, repo, digest):
        return self.head("/v2/%s/blobs/%s" % (repo, digest))

    # -------- manifests

    def put_manifest(self, repo, ref, body, media_type=OCI_MANIFEST, expect=201):
        hdrs = {}
        if media_type:
            hdrs["Content-Type"] = media_type
        r = self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body, headers=hdrs)
        if expect is not None:
            status(r, expect, "PUT manifest %s:%s" % (repo, ref))
        return r

    def get_manifest(self, repo, ref, accept=None, method="GET"):
        acc = accept or ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
        return self.request(method, "/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": acc})

    def push_image(self, repo, tag=None, nlayers=1, layer_size=512, subject=None,
                   artifact_type=None, annotations=None, media_type=OCI_MANIFEST):
        """Pushes config + layers + manifest; returns (manifest bytes, digest, blobs dict)."""
        cfg = make_config()
        layers = [os.urandom(layer_size) for _ in range(nlayers)]
        blobs = {sha256(cfg): cfg}
        self.push_blob(repo, cfg)
        for l in layers:
            blobs[sha256(l)] = l
            self.push_blob(repo, l)
        if media_type == DOCKER_MANIFEST:
            body = docker_manifest(cfg, layers)
        else:
            body = image_manifest(cfg, layers, subject=subject, artifact_type=artifact_type,
                                  annotations=annotations)
        d = sha256(body)
        self.put_manifest(repo, tag or d, body, media_type=media_type)
        return body, d, blobs


# ---------------------------------------------------------------- servers

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """One registry process (berth or docker-registry) on a random loopback port."""

    def __init__(self, data_dir=None, name="server", env=None, tls=None):
        """env: extra environment for the server process (BERTH_* settings); tls: (cert_path,
        key_path) to serve HTTPS, which the client then trusts as its only CA."""
        self.extra_env = dict(env or {})
        self.tls = tls
        self.tmp = tempfile.mkdtemp(prefix="berth-it-")
        self.own_data = data_dir is None
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp, "stderr.log")
        self.proc = None
        self.port = None
        self.name = name
        self.lock = threading.Lock()
        self.errors_5xx = []     # (describe, status) of every 500 answer seen
        self.responses = 0
        self.client = Client(self)

    def record(self, resp):
        with self.lock:
            self.responses += 1
            if resp.status == 500:
                self.errors_5xx.append("%s -> 500 %s" % (resp.describe(), _short(resp.body[:200])))

    def _cmd(self):
        addr = "127.0.0.1:%d" % self.port
        if IS_BERTH:
            if not os.access(BERTH_BIN, os.X_OK):
                raise SkipTest("berth binary not found at %s (set BERTH_BIN)" % BERTH_BIN)
            return [BERTH_BIN, "serve", "--addr", addr, "--data", self.data_dir]
        cfg = os.path.join(self.tmp, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
                    "  maintenance:\n    uploadpurging:\n      enabled: false\n"
                    "http:\n  addr: %s\n" % (self.data_dir, addr))
        return [DOCKER_REGISTRY_BIN, "serve", cfg]

    def start(self, port=None):
        self.port = port or free_port()
        logf = open(self.log_path, "ab")
        logf.write(("\n==== start %s on port %d ====\n" % (TARGET, self.port)).encode())
        logf.flush()
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.update(self.extra_env)
        if self.tls:
            env["BERTH_HTTP_TLS_CERTIFICATE"], env["BERTH_HTTP_TLS_KEY"] = self.tls
        self.proc = subprocess.Popen(self._cmd(), stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL, env=env)
        logf.close()
        deadline = time.time() + READY_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise TestFailure("server exited with status %s before becoming ready\n%s" % (
                    self.proc.returncode, self.log_tail()))
            try:
                conn = self.connection(timeout=2)
                conn.request("GET", "/v2/")
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status in (200, 401):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise TestFailure("server not ready after %.0fs\n%s" % (READY_TIMEOUT, self.log_tail()))

    def connection(self, timeout=None):
        """A new http.client connection to the server (HTTPS trusting only its certificate with tls)."""
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self, timeout_=15):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, hard=False):
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=None):
        n = n or int(os.environ.get("BERTH_TEST_LOG_LINES", "25"))
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            lines = [l if len(l) <= 400 else l[:400] + "..." for l in lines[-n:]]
            return "---- server stderr (last %d lines) ----\n%s" % (n, "\n".join(lines))
        except OSError:
            return "(no server log)"

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Registry:
    """What a test receives: a running server and a client bound to it."""

    def __init__(self, server):
        self.server = server

    @property
    def client(self):
        return self.server.client

    def __getattr__(self, name):
        # convenience: reg.get(...), reg.push_blob(...) go to the client
        return getattr(self.server.client, name)


def repo_name(prefix="it"):
    return "%s/%s" % (prefix, rand_str(10))
