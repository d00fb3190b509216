"""Registries that require login: docker-registry with htpasswd (Basic) and with token auth (a Python
token server issuing RS256 JWTs signed with a key made by the openssl CLI). login checks the
credentials before saving them; copy, inspect, tags and delete use the saved ones; logout forgets."""

import base64
import json
import os
import shutil
import stat
import subprocess

import lib
import test_errata as te
from client_lib import (HTPASSWD, DockerRegistry, Layout, TokenServer, berth, docker_ref, layout_blob,
                        tmpdir)


def _image(tmp):
    lay = Layout(os.path.join(tmp, "src"))
    man, layers, _ = lay.image(nlayers=2, size=1000)
    lay.add_ref(man, lib.OCI_MANIFEST, "v1")
    return lay, man, layers


def _login(port, user, password, authfile, rc=0):
    return berth("login", "--tls-verify=false", "--authfile", authfile, "-u", user, "--password-stdin",
                 "127.0.0.1:%d" % port, stdin=password + "\n", rc=rc)


@lib.no_server
@lib.timeout(180)
def test_client_basic_auth_htpasswd(reg):
    if not os.access(HTPASSWD, os.X_OK):
        lib.skip("htpasswd not installed")
    tmp = tmpdir()
    dreg = None
    try:
        pw = os.path.join(tmp, "htpasswd")
        with open(pw, "w") as f:
            f.write(subprocess.run([HTPASSWD, "-Bbn", "alice", "s3cret"], capture_output=True, text=True,
                                   check=True).stdout)
        dreg = DockerRegistry("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n" % pw)
        lay, man, layers = _image(tmp)
        dest = docker_ref(dreg.port, "team/app", "v1")
        host = "127.0.0.1:%d" % dreg.port
        authfile = os.path.join(tmp, "auth", "auth.json")

        e = berth("copy", "--tls-verify=false", "oci:%s:v1" % lay.path, dest, rc=1)
        lib.ok("authentication required by %s" % host in e.err and "berth login %s" % host in e.err,
               "anonymous push: %r" % e.err)
        e = _login(dreg.port, "alice", "wrong", authfile, rc=1)
        lib.ok("refused the credentials for alice" in e.err, "wrong password: %r" % e.err)
        lib.ok(not os.path.exists(authfile), "nothing saved after a refused login")

        r = _login(dreg.port, "alice", "s3cret", authfile)
        lib.eq(r.out, "Login Succeeded!\n", "login output")
        doc = json.load(open(authfile))
        lib.eq(doc["auths"][host]["auth"], base64.b64encode(b"alice:s3cret").decode(), "auth entry")
        lib.eq(stat.S_IMODE(os.stat(authfile).st_mode), 0o600, "auth file mode")

        r = berth("copy", "--json", "--tls-verify=false", "--authfile", authfile, "oci:%s:v1" % lay.path, dest).json()
        lib.eq(r["digest"], lib.sha256(man), "push with saved credentials")
        # REGISTRY_AUTH_FILE names the file too
        info = berth("inspect", "--json", "--tls-verify=false", dest, env={"REGISTRY_AUTH_FILE": authfile}).json()
        lib.eq(info["digest"], lib.sha256(man), "inspect with REGISTRY_AUTH_FILE")
        lib.eq(berth("tags", "--tls-verify=false", "--creds", "alice:s3cret",
                     docker_ref(dreg.port, "team/app")).out, "v1\n", "tags with --creds")
        # the docker config file is the fallback reader
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".docker"))
        shutil.copy(authfile, os.path.join(home, ".docker", "config.json"))
        out = os.path.join(tmp, "out")
        berth("copy", "--tls-verify=false", dest, "oci:%s:v1" % out, env={"HOME": home})
        lib.eq(layout_blob(out, layers[0]), layout_blob(lay.path, layers[0]), "pull with ~/.docker/config.json")
        # berth scan --errata reads the layers with the saved credentials; without them it is refused
        dsa = os.path.join(te.data_dir(), "debian-security-tracker", "DSA-list")
        rep = berth("scan", "--json", "--tls-verify=false", "--authfile", authfile, "--errata", dsa, dest).json()
        lib.eq((rep["status"], rep["layers"]), ("unsupported", layers), "offline scan through Basic auth")
        e = berth("scan", "--tls-verify=false", "--errata", dsa, dest, rc=1)
        lib.ok("authentication required" in e.err, "anonymous scan: %r" % e.err)
        # the registry report is asked with the credentials too; docker-registry has no berth API
        e = berth("scan", "--tls-verify=false", "--authfile", authfile, dest, rc=1)
        lib.ok("not a berth registry" in e.err and e.err.count("\n") == 1, "report from docker-registry: %r" % e.err)

        r = berth("logout", "--authfile", authfile, host)
        lib.eq(r.out, "Removed login credentials for %s\n" % host, "logout output")
        lib.eq(json.load(open(authfile))["auths"], {}, "entry removed")
        e = berth("logout", "--authfile", authfile, host, rc=1)
        lib.eq(e.err, "berth: not logged in to %s\n" % host, "second logout")
        e = berth("inspect", "--tls-verify=false", "--authfile", authfile, dest, rc=1)
        lib.ok("authentication required" in e.err, "after logout: %r" % e.err)
        # --all empties the file
        _login(dreg.port, "alice", "s3cret", authfile)
        berth("logout", "--authfile", authfile, "--all")
        lib.eq(json.load(open(authfile))["auths"], {}, "logout --all")
    finally:
        if dreg:
            dreg.close()
        shutil.rmtree(tmp, ignore_errors=True)


@lib.no_server
@lib.timeout(180)
def test_client_token_auth(reg):
    tmp = tmpdir()
    dreg = ts = None
    try:
        ts = TokenServer(tmp, {"bob": "hunter2"})
        dreg = DockerRegistry("auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n"
                              "    rootcertbundle: %s\n" % (ts.realm, ts.service, ts.issuer, ts.crt))
        lay, man, layers = _image(tmp)
        host = "127.0.0.1:%d" % dreg.port
        dest = docker_ref(dreg.port, "team/app", "v1")
        authfile = os.path.join(tmp, "auth.json")

        # an anonymous token grants nothing: the push is refused with a pointer to login
        e = berth("copy", "--tls-verify=false", "oci:%s:v1" % lay.path, dest, rc=1)
        lib.ok("authentication required by %s" % host in e.err, "anonymous push: %r" % e.err)
        e = _login(dreg.port, "bob", "nope", authfile, rc=1)
        lib.ok("token server refused the credentials for bob" in e.err, "wrong password: %r" % e.err)
        _login(dreg.port, "bob", "hunter2", authfile)

        ts.requests.clear()
        r = berth("copy", "--json", "--tls-verify=false", "--authfile", authfile, "oci:%s:v1" % lay.path, dest).json()
        lib.eq(r["digest"], lib.sha256(man), "push with a token")
        scopes = [p for p, a in ts.requests]
        lib.ok(all(a == "Basic" for _, a in ts.requests), "token requests carry Basic credentials")
        lib.ok(any("scope=repository%3Ateam%2Fapp%3Apull%2Cpush" in p for p in scopes),
               "push scope asked: %s" % scopes)
        lib.ok(len(ts.requests) <= 3, "tokens are cached per scope (%d token requests)" % len(ts.requests))
        # cross-repository mount needs pull on the source repository too
        r = berth("copy", "--json", "--tls-verify=false", "--authfile", authfile, dest,
                  docker_ref(dreg.port, "team/copy", "v1")).json()
        lib.eq([b["action"] for b in r["blobs"]], ["mounted"] * 3, "mounted across repositories with a token")
        out = os.path.join(tmp, "out")
        berth("copy", "--tls-verify=false", "--authfile", authfile, dest, "oci:%s:v1" % out)
        lib.eq(layout_blob(out, lib.sha256(man)), man, "pull with a token")
        lib.eq(berth("tags", "--tls-verify=false", "--authfile", authfile, docker_ref(dreg.port, "team/app")).out,
               "v1\n", "tags with a token")
        berth("delete", "--tls-verify=false", "--authfile", authfile, dest)
        e = berth("inspect", "--tls-verify=false", "--authfile", authfile, dest, rc=1)
        lib.ok("manifest unknown" in e.err, "after delete: %r" % e.err)
    finally:
        if dreg:
            dreg.close()
        if ts:
            ts.close()
        shutil.rmtree(tmp, ignore_errors=True)
