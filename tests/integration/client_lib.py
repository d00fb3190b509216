"""Helpers for the client tests (test_client*.py): running the berth CLI, building OCI layouts,
a fault-injecting HTTP proxy, a Docker-token-spec token server, and docker-registry instances
with auth or TLS configured. Python 3 standard library only (plus the openssl and htpasswd CLIs)."""

import base64
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse

import lib

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
SKOPEO = os.environ.get("SKOPEO_BIN", "/usr/bin/skopeo")


# ---------------------------------------------------------------- the CLI

class Run:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def json(self):
        return json.loads(self.out)


def berth(*args, rc=0, env=None, stdin=None, timeout=120):
    """Runs the berth binary; asserts the exit status when rc is not None."""
    if not os.access(lib.BERTH_BIN, os.X_OK):
        lib.skip("berth binary not found at %s" % lib.BERTH_BIN)
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    e.setdefault("TMPDIR", tempfile.gettempdir())
    # never read the machine's credentials or certificates
    e.setdefault("HOME", tempfile.gettempdir() + "/berth-client-home-nonexistent")
    e.pop("REGISTRY_AUTH_FILE", None)
    e.pop("XDG_RUNTIME_DIR", None)
    e.setdefault("BERTH_CERTS_D", "/nonexistent-certs.d")
    if env:
        e.update(env)
    p = subprocess.run([lib.BERTH_BIN] + list(args), capture_output=True, text=True, env=e,
                       input=stdin, timeout=timeout)
    r = Run(p)
    if rc is not None and p.returncode != rc:
        lib.fail("berth %s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, rc, p.stdout[-2000:], p.stderr[-3000:]))
    if "ERROR: AddressSanitizer" in p.stderr or "runtime error:" in p.stderr:
        lib.fail("berth %s: sanitizer report\n%s" % (" ".join(args), p.stderr[-4000:]))
    return r


def skopeo(*args, check=True, timeout=120):
    if not os.access(SKOPEO, os.X_OK):
        lib.skip("skopeo not installed at %s" % SKOPEO)
    p = subprocess.run([SKOPEO, "--insecure-policy"] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        lib.fail("skopeo %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr[-2000:]))
    return p


def tmpdir():
    return tempfile.mkdtemp(prefix="berth-it-client-")


# ---------------------------------------------------------------- images

def layer(files, compress=True):
    """A tar of {name: bytes}, gzipped unless compress is False; returns (blob, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    return (gzip.compress(tar, mtime=0) if compress else tar), lib.sha256(tar)


class Layout:
    """An OCI image layout built by hand."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []
        self.write_index()

    def put(self, data):
        d = lib.sha256(data)
        with open(os.path.join(self.path, "blobs", "sha256", d.split(":")[1]), "wb") as f:
            f.write(data)
        return d

    def image(self, arch="amd64", nlayers=3, size=2000, docker=False, variant=None, big=None):
        """Writes config, layers and manifest; returns (manifest bytes, layer digests, config bytes)."""
        layers, diff_ids = [], []
        for i in range(nlayers):
            files = {"dir%d/file%d.txt" % (i, j): os.urandom(size + j) for j in range(3)}
            if big and i == 0:
                files["big.bin"] = os.urandom(big)
            gz, diff = layer(files)
            layers.append(lib.descriptor(lib.DOCKER_LAYER if docker else lib.OCI_LAYER_GZIP, gz))
            diff_ids.append(diff)
            self.put(gz)
        cfgd = {"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
                "author": "berth tests", "config": {"Cmd": ["/bin/true"], "Env": ["A=1"]},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "layer %d" % i}
                            for i in range(nlayers)]}
        if variant:
            cfgd["variant"] = variant
        cfg = json.dumps(cfgd, sort_keys=True).encode()
        self.put(cfg)
        if docker:
            man = lib.image_manifest(lib.descriptor(lib.DOCKER_CONFIG, cfg), layers,
                                     media_type=lib.DOCKER_MANIFEST)
        else:
            man = lib.image_manifest(lib.descriptor(lib.OCI_CONFIG, cfg), layers)
        self.put(man)
        return man, [l["digest"] for l in layers], cfg

    def add_ref(self, body, media_type, ref, platform=None):
        d = lib.descriptor(media_type, body)
        if ref:
            d["annotations"] = {"org.opencontainers.image.ref.name": ref}
        if platform:
            d["platform"] = platform
        self.index.append(d)
        self.write_index()

    def write_index(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": lib.OCI_INDEX, "manifests": self.index}, f)


def layout_index(path):
    with open(os.path.join(path, "index.json")) as f:
        return json.load(f)


def layout_blob(path, digest):
    alg, hexd = digest.split(":")
    with open(os.path.join(path, "blobs", alg, hexd), "rb") as f:
        return f.read()


def docker_ref(reg_or_port, repo, ref="latest"):
    port = reg_or_port if isinstance(reg_or_port, int) else reg_or_port.server.port
    sep = "@" if ref.startswith("sha256:") else ":"
    return "docker://127.0.0.1:%d/%s%s%s" % (port, repo, sep, ref)


# ---------------------------------------------------------------- a fault-injecting proxy

class Proxy:
    """An HTTP proxy on loopback in front of 127.0.0.1:upstream_port. Faults apply to GETs of blobs:
    cut: the first GET of a blob whose path ends with cut_digest sends half the body, then closes.
    corrupt: every GET of a blob whose path ends with corrupt_digest has one byte flipped.
    wrong_range: a ranged GET is answered 206 from byte 0 (a server resuming at the wrong offset).
    slow: GETs of the blob slow_digest trickle out 1 KiB every 50 ms.
    Every request is recorded as (method, path, Range header)."""

    def __init__(self, upstream_port, cut_digest=None, corrupt_digest=None, cut_times=1,
                 wrong_range=False, slow_digest=None):
        self.upstream = upstream_port
        self.wrong_range = wrong_range
        self.slow_digest = slow_digest
        self.cut_digest = cut_digest
        self.corrupt_digest = corrupt_digest
        self.cut_left = cut_times
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, self.headers.get("Range")))
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() not in ("host", "connection", "content-length")}
                ranged = bool(self.headers.get("Range"))
                if proxy.wrong_range and ranged:
                    hdrs["Range"] = "bytes=0-"
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=60)
                conn.request(self.command, self.path, body=body, headers=hdrs)
                r = conn.getresponse()
                data = r.read()
                conn.close()
                is_blob = self.command == "GET" and "/blobs/sha256:" in self.path and r.status in (200, 206)
                cut = False
                if is_blob and proxy.cut_digest and self.path.endswith(proxy.cut_digest):
                    with proxy.lock:
                        if proxy.cut_left > 0:
                            proxy.cut_left -= 1
                            cut = True
                if is_blob and proxy.corrupt_digest and self.path.endswith(proxy.corrupt_digest) and data:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() in ("connection", "transfer-encoding", "content-length"):
                        continue
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if is_blob and proxy.slow_digest and self.path.endswith(proxy.slow_digest):
                    try:
                        for i in range(0, len(data), 1024):
                            self.wfile.write(data[i:i + 1024])
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        pass
                    return
                if cut:
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Srv(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def blob_gets(self, digest):
        with self.lock:
            return [(m, p, rg) for (m, p, rg) in self.requests
                    if m == "GET" and p.endswith(digest) and "/blobs/" in p]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- keys, certificates, tokens

def openssl(*args, cwd=None):
    if not os.access(OPENSSL, os.X_OK):
        lib.skip("openssl CLI not installed")
    p = subprocess.run([OPENSSL] + list(args), capture_output=True, cwd=cwd)
    if p.returncode != 0:
        lib.fail("openssl %s failed: %s" % (" ".join(args), p.stderr.decode()[-1000:]))
    return p.stdout


def make_ca(d, name="berth-test-ca"):
    """A self-signed CA; returns (cert path, key path)."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
            "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return crt, key


def make_server_cert(d, ca_crt, ca_key, name="server"):
    """A certificate for 127.0.0.1 signed by the CA; returns (cert path, key path)."""
    key, csr, crt = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
            "-days", "2", "-extfile", ext)
    return crt, key


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def libtrust_kid(cert_path):
    """The key id docker-registry computes for a certificate's public key (libtrust's format)."""
    pem = openssl("x509", "-in", cert_path, "-pubkey", "-noout").decode()
    der = base64.b64decode("".join(l for l in pem.splitlines() if "-----" not in l))
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


class TokenServer:
    """A token server per the Docker token spec: GET /token?service=..&scope=.. with Basic auth of a
    known user returns a JWT (RS256, signed with the openssl CLI) granting the asked actions;
    without credentials it returns a token granting nothing; wrong credentials get 401."""

    def __init__(self, d, users, service="berth-test", issuer="berth-test-issuer"):
        self.key = os.path.join(d, "token.key")
        self.crt = os.path.join(d, "token.crt")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.crt,
                "-days", "2", "-subj", "/CN=berth-token-signer")
        self.kid = libtrust_kid(self.crt)
        self.users = users
        self.service = service
        self.issuer = issuer
        self.requests = []
        ts = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                user = None
                auth = self.headers.get("Authorization") or ""
                ts.requests.append((self.path, auth.split(" ")[0] if auth else None))
                if auth.startswith("Basic "):
                    try:
                        user, pw = base64.b64decode(auth[6:]).decode().split(":", 1)
                    except Exception:
                        user, pw = None, None
                    if ts.users.get(user) != pw:
                        body = b'{"details":"bad credentials"}'
                        self.send_response(401)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                access = []
                if user:
                    for s in q.get("scope", []):
                        parts = s.split(":")
                        if len(parts) >= 3:
                            access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                                           "actions": parts[-1].split(",")})
                tok = ts.sign(user or "", access, q.get("service", [""])[0])
                body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Srv(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.realm = "http://127.0.0.1:%d/token" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def sign(self, sub, access, aud):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": sub, "aud": aud or self.service, "exp": now + 300,
                  "nbf": now - 30, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        p = subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", self.key], input=signing,
                           capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("openssl dgst failed: %s" % p.stderr.decode())
        return signing.decode() + "." + b64url(p.stdout)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- docker-registry with auth / TLS

class DockerRegistry:
    """/usr/bin/docker-registry on a random loopback port with extra config (auth, TLS)."""

    def __init__(self, extra_yaml="", tls=None):
        if not os.access(lib.DOCKER_REGISTRY_BIN, os.X_OK):
            lib.skip("docker-registry not installed at %s" % lib.DOCKER_REGISTRY_BIN)
        self.tmp = tempfile.mkdtemp(prefix="berth-it-dreg-")
        self.port = lib.free_port()
        self.tls = tls
        cfg = os.path.join(self.tmp, "config.yml")
        http_extra = ""
        if tls:
            http_extra = "  tls:\n    certificate: %s\n    key: %s\n" % tls
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:%d\n  secret: berth-test-secret\n%s%s" % (
                        self.tmp, self.port, http_extra, extra_yaml))
        self.log = open(os.path.join(self.tmp, "log"), "wb")
        self.proc = subprocess.Popen([lib.DOCKER_REGISTRY_BIN, "serve", cfg], stdout=self.log,
                                     stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                lib.fail("docker-registry exited: %s" % self.log_text())
            try:
                if tls:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=ctx)
                else:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v2/")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status in (200, 401):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.close()
        lib.fail("docker-registry not ready")

    def log_text(self):
        try:
            with open(os.path.join(self.tmp, "log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
