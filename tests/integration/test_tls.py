"""HTTPS: berth serve with http.tls.certificate/key, checked with a real TLS client and skopeo."""

import os
import shutil
import ssl
import subprocess
import tempfile

import lib
import test_skopeo

SHARED_SERVER = False


def _cert(tmp, cn="127.0.0.1"):
    """A self-signed P-256 certificate for 127.0.0.1; returns (cert_path, key_path)."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def _with_tls_server(fn):
    tmp = tempfile.mkdtemp(prefix="berth-it-tls-")
    srv = None
    try:
        cert, key = _cert(tmp)
        srv = lib.Server(name="tls", tls=(cert, key))
        srv.start()
        fn(srv, tmp, cert)
        lib.eq(srv.errors_5xx, [], "500 answers")
    finally:
        if srv:
            srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@lib.berth_only("berth's TLS settings")
def test_tls_blob_roundtrip_and_range(reg):
    def run(srv, tmp, cert):
        c = srv.client
        r = c.get("/v2/")
        lib.status(r, 200)
        lib.header(r, "Docker-Distribution-API-Version", "registry/2.0")
        data = os.urandom(3 * 1024 * 1024 + 17)
        lib.status(c.push_blob("tls/app", data), 201)
        digest = lib.sha256(data)
        r = c.get("/v2/tls/app/blobs/%s" % digest)
        lib.status(r, 200)
        lib.eq(r.body == data, True, "3 MiB blob read back over TLS byte-exact")
        lib.header(r, "Content-Length", str(len(data)))
        r = c.request("GET", "/v2/tls/app/blobs/%s" % digest, headers={"Range": "bytes=1000-1999"})
        lib.status(r, 206)
        lib.eq(r.body == data[1000:2000], True, "range over TLS")
    _with_tls_server(run)


@lib.berth_only("berth's TLS settings")
def test_tls_refuses_plain_http_and_untrusted_clients(reg):
    def run(srv, tmp, cert):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        try:
            conn.request("GET", "/v2/")
            resp = conn.getresponse()
            lib.ok(resp.status != 200, "plain HTTP to the TLS port got 200")
        except (OSError, http.client.HTTPException):
            pass  # the TLS server hangs up on a plain request: what we want
        finally:
            conn.close()
        other_dir = os.path.join(tmp, "other")
        os.makedirs(other_dir)
        other, _ = _cert(other_dir)
        ctx = ssl.create_default_context(cafile=other)
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=5, context=ctx)
        try:
            conn.request("GET", "/v2/")
            lib.fail("a client trusting another CA accepted the server's certificate")
        except ssl.SSLCertVerificationError:
            pass
        finally:
            conn.close()
    _with_tls_server(run)


@lib.berth_only("berth's TLS settings")
def test_tls_skopeo_with_cert_dir(reg):
    def run(srv, tmp, cert):
        certs = os.path.join(tmp, "certs.d")
        os.makedirs(certs)
        shutil.copy(cert, os.path.join(certs, "ca.crt"))
        src = os.path.join(tmp, "layout")
        lay = test_skopeo.Layout(src)
        man, _ = lay.image(nlayers=2)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        dest = "docker://127.0.0.1:%d/tls/skopeo:v1" % srv.port
        test_skopeo._skopeo("copy", "--dest-cert-dir", certs, "--preserve-digests", "oci:%s:v1" % src, dest)
        r = srv.client.get("/v2/tls/skopeo/manifests/v1", headers={"Accept": lib.OCI_MANIFEST})
        lib.status(r, 200)
        lib.eq(r.body, man, "manifest pushed by skopeo over TLS")
        # without the CA, skopeo refuses the certificate (TLS verification is on by default)
        p = test_skopeo._skopeo("inspect", dest, check=False)
        lib.ok(p.returncode != 0, "skopeo accepted an unknown CA")
        lib.ok("certificate" in p.stderr, "skopeo's error names the certificate: %s" % p.stderr[-300:])
    _with_tls_server(run)


@lib.berth_only("berth's TLS settings")
def test_tls_half_configured_is_refused(reg):
    tmp = tempfile.mkdtemp(prefix="berth-it-tls-")
    try:
        cert, _ = _cert(tmp)
        env = dict(os.environ, BERTH_HTTP_TLS_CERTIFICATE=cert)
        p = subprocess.run([lib.BERTH_BIN, "serve", "--addr", "127.0.0.1:0", "--data", os.path.join(tmp, "d")],
                           env=env, capture_output=True, text=True, timeout=30)
        lib.eq(p.returncode, 1, "exit status")
        lib.eq(p.stderr.strip(), "berth: config: http.tls.certificate and http.tls.key go together", "message")
        env["BERTH_HTTP_TLS_KEY"] = os.path.join(tmp, "missing.pem")
        p = subprocess.run([lib.BERTH_BIN, "serve", "--addr", "127.0.0.1:0", "--data", os.path.join(tmp, "d")],
                           env=env, capture_output=True, text=True, timeout=30)
        lib.eq(p.returncode, 1, "exit status")
        lib.eq(p.stderr.strip(), "berth: config: http.tls.key %s: not found" % env["BERTH_HTTP_TLS_KEY"],
               "message")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
