"""HTTPS registries: docker-registry serving a certificate signed by a CA made with the openssl CLI.
An unknown CA is refused with a message naming --tls-verify=false; the CA in a certs.d folder
(HOST:PORT/ca.crt under $BERTH_CERTS_D) or in --cert-dir is accepted; --tls-verify=false accepts
anything; another CA in certs.d is still refused."""

import json
import os
import shutil

import lib
import test_scan
from client_lib import DockerRegistry, Layout, berth, docker_ref, make_ca, make_server_cert, openssl, tmpdir


@lib.no_server
@lib.timeout(180)
def test_client_tls_verification(reg):
    tmp = tmpdir()
    dreg = None
    try:
        ca_crt, ca_key = make_ca(tmp)
        srv_crt, srv_key = make_server_cert(tmp, ca_crt, ca_key)
        other_dir = os.path.join(tmp, "other")
        os.makedirs(other_dir)
        other_crt, _ = make_ca(other_dir, "other-ca")
        dreg = DockerRegistry(tls=(srv_crt, srv_key))
        host = "127.0.0.1:%d" % dreg.port
        lay = Layout(os.path.join(tmp, "src"))
        man, _, _ = lay.image(nlayers=1, size=500)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        dest = docker_ref(dreg.port, "tls/app", "v1")

        e = berth("copy", "oci:%s:v1" % lay.path, dest, rc=1)
        lib.ok(e.err.startswith("berth: TLS: the certificate of %s is not trusted" % host), "message: %r" % e.err)
        lib.ok("--tls-verify=false" in e.err and "certs.d" in e.err, "message names the ways out: %r" % e.err)
        lib.eq(e.err.count("\n"), 1, "one line")

        # --tls-verify=false: unverified HTTPS (the registry speaks only HTTPS)
        r = berth("copy", "--json", "--tls-verify=false", "oci:%s:v1" % lay.path, dest).json()
        lib.eq(r["digest"], lib.sha256(man), "push with --tls-verify=false")

        # the CA in a certs.d layout
        certs_d = os.path.join(tmp, "certs.d")
        os.makedirs(os.path.join(certs_d, host))
        shutil.copy(ca_crt, os.path.join(certs_d, host, "ca.crt"))
        info = berth("inspect", "--json", dest, env={"BERTH_CERTS_D": "/nonexistent:" + certs_d}).json()
        lib.eq(info["digest"], lib.sha256(man), "inspect over verified HTTPS (certs.d)")
        # the CA with --cert-dir
        cdir = os.path.join(tmp, "cert-dir")
        os.makedirs(cdir)
        shutil.copy(ca_crt, os.path.join(cdir, "registry-ca.crt"))
        out = os.path.join(tmp, "out")
        berth("copy", "--cert-dir", cdir, dest, "oci:%s:v1" % out)
        lib.ok(os.path.exists(os.path.join(out, "index.json")), "pull over verified HTTPS (--cert-dir)")
        # a different CA does not help
        wrong = os.path.join(tmp, "certs-wrong.d")
        os.makedirs(os.path.join(wrong, host))
        shutil.copy(other_crt, os.path.join(wrong, host, "ca.crt"))
        e = berth("inspect", dest, env={"BERTH_CERTS_D": wrong}, rc=1)
        lib.ok("is not trusted" in e.err, "other CA refused: %r" % e.err)
        # certs.d of another host:port does not apply
        os.rename(os.path.join(certs_d, host), os.path.join(certs_d, "127.0.0.1:1"))
        e = berth("inspect", dest, env={"BERTH_CERTS_D": certs_d}, rc=1)
        lib.ok("is not trusted" in e.err, "CA of another host not used: %r" % e.err)
        # an empty --cert-dir must exist
        e = berth("inspect", "--cert-dir", os.path.join(tmp, "missing"), dest, rc=1)
        lib.ok("is not a directory" in e.err, "missing --cert-dir: %r" % e.err)
    finally:
        if dreg:
            dreg.close()
        shutil.rmtree(tmp, ignore_errors=True)


@lib.no_server
@lib.berth_only("berth serve's own TLS settings")
@lib.timeout(120)
def test_client_against_berth_over_https(reg):
    """The client against berth serve with a self-signed certificate: refused without it, accepted
    with it in --cert-dir, and the round trip over verified HTTPS keeps the digest."""
    tmp = tmpdir()
    srv = None
    try:
        # self-signed, so the readiness probe of lib.Server (which trusts only this certificate) works
        crt, key = os.path.join(tmp, "self.crt"), os.path.join(tmp, "self.key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
        ca_crt = crt
        srv = lib.Server(name="client-tls", tls=(crt, key))
        srv.start()
        lay = Layout(os.path.join(tmp, "src"))
        man, _, _ = lay.image(nlayers=2, size=500)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        dest = docker_ref(srv.port, "tls/berth", "v1")
        e = berth("copy", "oci:%s:v1" % lay.path, dest, rc=1)
        lib.ok("is not trusted" in e.err, "unknown CA: %r" % e.err)
        cdir = os.path.join(tmp, "ca")
        os.makedirs(cdir)
        shutil.copy(ca_crt, os.path.join(cdir, "ca.crt"))
        r = berth("copy", "--json", "--cert-dir", cdir, "oci:%s:v1" % lay.path, dest).json()
        lib.eq(r["digest"], lib.sha256(man), "push over verified HTTPS")
        out = os.path.join(tmp, "out")
        r = berth("copy", "--json", "--cert-dir", cdir, dest, "oci:%s:v1" % out).json()
        lib.eq(r["digest"], lib.sha256(man), "pull over verified HTTPS")
        lib.eq(berth("tags", "--cert-dir", cdir, docker_ref(srv.port, "tls/berth")).out, "v1\n", "tags")
        # berth scan and grade ask berth's API, and read layers, over the same verified connection
        e = berth("scan", dest, rc=1)
        lib.ok("is not trusted" in e.err, "scan, unknown CA: %r" % e.err)
        rep = berth("scan", "--json", "--cert-dir", cdir, dest).json()
        lib.is_in(rep["status"], ("queued", "unsupported"), "registry's report over HTTPS")
        rep = berth("scan", "--json", "--cert-dir", cdir, "--errata", test_scan.dsa_list(), dest).json()
        lib.eq((rep["status"], len(rep["layers"])), ("unsupported", 2), "offline scan of layers read over HTTPS")
        doc = json.loads(berth("grade", "--all", "--json", "--cert-dir", cdir, "docker://127.0.0.1:%d" % srv.port).out)
        lib.ok("repositories" in doc, "grades over HTTPS: %r" % doc)
        lib.eq(srv.errors_5xx, [], "500 answers")
    finally:
        if srv:
            srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
