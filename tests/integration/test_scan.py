"""Scanning on push: images with real-format package databases pushed to berth serve, exact findings
against the shared advisories (imported with `berth errata import`), re-matching after an errata
change without reading layers again, hostile images next to good ones, per-platform reports for an
index, and `berth scan --errata` offline on images read through every client transport (oci:,
oci-archive:, docker-archive:, docker://, local:), with hostile sources."""

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import client_lib as cl
import lib
import test_errata as te

DEB11 = (b'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
         b'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n')
ALPINE311 = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n'


def dpkg(name, version, source=None, arch="amd64"):
    s = "Package: %s\nStatus: install ok installed\nArchitecture: %s\nVersion: %s\n" % (name, arch, version)
    if source:
        s += "Source: %s\n" % source
    return s + "\n"


def tar_layer(files, gz=True):
    """files: list of (path, bytes) or (path, ('symlink', target)) or (path, None) for a whiteout."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in files:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1700000000
            if isinstance(data, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
            else:
                data = data or b""
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    raw = bio.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


def debian_layers():
    base = tar_layer([
        ("etc/os-release", ("symlink", "../usr/lib/os-release")),
        ("usr/lib/os-release", DEB11),
        ("etc/debian_version", b"11.6\n"),
        ("var/lib/dpkg/status", (dpkg("base-files", "11.1+deb11u5") +
                                 dpkg("libssl1.1", "1.1.1k-1+deb11u1", "openssl")).encode()),
    ])
    # the upper layer upgrades libssl1.1 (to a version DSA-5103-1 fixes) and adds openssl
    upper = tar_layer([
        ("var/lib/dpkg/status", (dpkg("base-files", "11.1+deb11u5") +
                                 dpkg("libssl1.1", "1.1.1k-1+deb11u2", "openssl") +
                                 dpkg("openssl", "1.1.1k-1+deb11u2")).encode()),
        ("usr/bin/openssl", b"\x7fELF"),
    ])
    return [base, upper]


def push(reg, repo, tag, layers, media_type=lib.OCI_MANIFEST):
    cfg = lib.make_config()
    reg.push_blob(repo, cfg)
    for l in layers:
        reg.push_blob(repo, l)
    body = lib.image_manifest(cfg, layers)
    reg.put_manifest(repo, tag, body)
    return lib.sha256(body)


def wait_scan(reg, repo, ref, timeout=60):
    deadline = time.time() + timeout
    while True:
        r = reg.get("/api/v1/repositories/%s/manifests/%s/scan" % (repo, ref))
        lib.status(r, 200, "scan report")
        j = r.json()
        if j["status"] != "queued":
            return j
        if time.time() > deadline:
            lib.fail("scan of %s@%s still queued after %ds" % (repo, ref, timeout))
        time.sleep(0.2)


def import_errata(srv, *paths):
    te.berth_ok("errata", "import", "--data", srv.data_dir, *paths)


def dsa_list():
    return os.path.join(te.data_dir(), "debian-security-tracker", "DSA-list")


def findings_set(rep):
    return sorted((f["advisory"], f["package"], f["version"], f["fixed"]) for f in rep["findings"])


EXPECTED_DEB = [
    ("DSA-5139-1", "libssl1.1", "1.1.1k-1+deb11u2", "1.1.1n-0+deb11u2"),
    ("DSA-5139-1", "openssl", "1.1.1k-1+deb11u2", "1.1.1n-0+deb11u2"),
    ("DSA-5169-1", "libssl1.1", "1.1.1k-1+deb11u2", "1.1.1n-0+deb11u3"),
    ("DSA-5169-1", "openssl", "1.1.1k-1+deb11u2", "1.1.1n-0+deb11u3"),
]


@lib.berth_only("berth scan API")
@lib.no_server
def test_scan_debian_exact_findings_and_rematch(_):
    srv = lib.Server()
    srv.start()
    try:
        reg = srv.client
        import_errata(srv, dsa_list())
        layers = debian_layers()
        d = push(reg, "deb/app", "v1", layers)
        rep = wait_scan(reg, "deb/app", d)
        lib.eq(rep["status"], "scanned", "status (%s)" % rep.get("reason"))
        lib.eq(rep["os"], "debian:11", "os")
        pk = {p["name"]: p for p in rep["packages"]}
        lib.eq(sorted(pk), ["base-files", "libssl1.1", "openssl"], "packages")
        lib.eq(pk["libssl1.1"]["source"], "openssl", "source")
        lib.eq(pk["base-files"]["layer"], lib.sha256(layers[0]), "base-files layer")
        lib.eq(pk["libssl1.1"]["layer"], lib.sha256(layers[1]), "libssl1.1 layer (upgraded above)")
        lib.eq(findings_set(rep), EXPECTED_DEB, "findings")
        f = [x for x in rep["findings"] if x["advisory"] == "DSA-5169-1" and x["package"] == "openssl"][0]
        lib.eq(f["cves"], ["CVE-2022-2068"], "cves")
        lib.eq(f["issued"], "2022-06-26T00:00:00Z", "issued")
        lib.eq(f["type"], "security", "type")
        lib.eq(f["layer"], lib.sha256(layers[1]), "finding layer")
        # by tag too
        lib.eq(wait_scan(reg, "deb/app", "v1")["digest"], d, "report by tag")
        # the CLI asks the registry for the stored report
        out = te.berth_ok("scan", "docker://127.0.0.1:%d/deb/app:v1" % srv.port, "--json", "--tls-verify=false")
        lib.eq(findings_set(json.loads(out)), EXPECTED_DEB, "berth scan docker:// findings")

        # prove re-matching reads no layer: remove the layer blobs' files, then change the errata
        for l in layers:
            h = lib.sha256(l).split(":")[1]
            os.unlink(os.path.join(srv.data_dir, "blobs", "sha256", h[:2], h))
        extra = os.path.join(srv.tmp, "extra-list")
        with open(extra, "w") as fh:
            fh.write("[01 Jan 2023] DSA-9999-1 base-files - security update\n\t{CVE-2099-0001}\n"
                     "\t[bullseye] - base-files 11.1+deb11u6\n")
        import_errata(srv, extra)
        deadline = time.time() + 20
        while True:
            rep2 = wait_scan(reg, "deb/app", d)
            if len(rep2["findings"]) == 5 or time.time() > deadline:
                break
            time.sleep(0.2)
        lib.eq(findings_set(rep2), sorted(EXPECTED_DEB + [
            ("DSA-9999-1", "base-files", "11.1+deb11u5", "11.1+deb11u6")]), "findings after the errata change")
        lib.ok(rep2["errata_generation"] > rep["errata_generation"], "generation moved")
        lib.eq(rep2["packages"], rep["packages"], "packages unchanged")
    finally:
        srv.stop()


@lib.berth_only("berth scan API")
@lib.no_server
def test_scan_hostile_images_do_not_disturb_others(_):
    srv = lib.Server()
    srv.start()
    try:
        reg = srv.client
        import_errata(srv, dsa_list())
        good = debian_layers()
        corrupt = bytearray(tar_layer([("var/lib/dpkg/status", b"x" * 100000)]))
        corrupt[len(corrupt) // 2] ^= 0xFF
        corrupt[len(corrupt) // 2 + 1] ^= 0xFF
        truncated = tar_layer([("etc/os-release", DEB11), ("big", os.urandom(50000))])[:-5000]
        bad_status = tar_layer([("etc/os-release", DEB11),
                                ("var/lib/dpkg/status", b"Package: a\nnot a field line\n")])
        liar = tar_layer([("etc/os-release", DEB11), ("lib/apk/db/installed", b"P:musl\nV:1.1.24-r2\n\n")])
        ds = {}
        ds["corrupt"] = push(reg, "bad/corrupt", "t", [bytes(corrupt)])
        ds["truncated"] = push(reg, "bad/truncated", "t", [truncated])
        ds["bad_status"] = push(reg, "bad/status", "t", [bad_status])
        ds["liar"] = push(reg, "bad/liar", "t", [liar])
        ds["good"] = push(reg, "good/app", "t", good)
        repos = {"corrupt": "bad/corrupt", "truncated": "bad/truncated", "bad_status": "bad/status",
                 "liar": "bad/liar", "good": "good/app"}
        reps = {k: wait_scan(reg, repos[k], ds[k]) for k in ds}
        for k in ("corrupt", "truncated", "bad_status", "liar"):
            lib.eq(reps[k]["status"], "failed", "%s status" % k)
            lib.ok(reps[k]["reason"], "%s has a reason" % k)
        lib.ok("line 2" in reps["bad_status"]["reason"], "reason names the line: %s" % reps["bad_status"]["reason"])
        lib.eq(reps["good"]["status"], "scanned", "good image next to hostile ones")
        lib.eq(findings_set(reps["good"]), EXPECTED_DEB, "good image findings")
        lib.eq(reg.get("/v2/").status, 200, "server alive")
        # a signature-like artifact is unsupported, not failed
        cfg = b"{}"
        reg.push_blob("good/app", cfg)
        art = lib.image_manifest(lib.descriptor("application/vnd.example+json", cfg), [good[0]])
        reg.put_manifest("good/app", "art", art)
        lib.eq(wait_scan(reg, "good/app", "art")["status"], "unsupported", "artifact status")
    finally:
        srv.stop()


@lib.berth_only("berth scan API")
@lib.no_server
def test_scan_bomb_bounded_by_config(_):
    srv = lib.Server(env={"BERTH_SCAN_MAX_LAYER_BYTES": "1048576"})
    srv.start()
    try:
        reg = srv.client
        bomb = tar_layer([("etc/os-release", DEB11), ("zeros", b"\0" * (8 << 20))])
        d = push(reg, "bad/bomb", "t", [bomb])
        rep = wait_scan(reg, "bad/bomb", d)
        lib.eq(rep["status"], "failed", "bomb status")
        lib.ok(rep["reason"].endswith("layer inflates to more than 1048576 bytes"), "bomb reason: %s" % rep["reason"])
        lib.eq(reg.get("/v2/").status, 200, "server alive after the bomb")
    finally:
        srv.stop()


@lib.berth_only("berth scan API")
@lib.no_server
def test_scan_index_per_platform_and_errors(_):
    srv = lib.Server()
    srv.start()
    try:
        reg = srv.client
        import_errata(srv, dsa_list(), os.path.join(te.data_dir(), "alpine-secdb"))
        d1 = push(reg, "multi/app", None or "amd64", debian_layers())
        apk = tar_layer([("etc/os-release", ALPINE311), ("etc/alpine-release", b"3.11.6\n"),
                         ("lib/apk/db/installed", b"P:musl\nV:1.1.24-r2\nA:aarch64\no:musl\n\n")])
        d2 = push(reg, "multi/app", "arm64", [apk])
        m1 = reg.get_manifest("multi/app", d1).body
        m2 = reg.get_manifest("multi/app", d2).body
        idx = lib.image_index([lib.descriptor(lib.OCI_MANIFEST, m1, platform={"os": "linux", "architecture": "amd64"}),
                               lib.descriptor(lib.OCI_MANIFEST, m2, platform={"os": "linux", "architecture": "arm64"})])
        reg.put_manifest("multi/app", "latest", idx, media_type=lib.OCI_INDEX)
        rep = wait_scan(reg, "multi/app", "latest")
        deadline = time.time() + 30
        while rep["status"] == "queued" and time.time() < deadline:
            time.sleep(0.2)
            rep = wait_scan(reg, "multi/app", "latest")
        lib.eq(len(rep["manifests"]), 2, "platforms")
        by = {m["platform"]["architecture"]: m["report"] for m in rep["manifests"]}
        lib.eq(by["amd64"]["os"], "debian:11", "amd64 os")
        lib.eq(findings_set(by["amd64"]), EXPECTED_DEB, "amd64 findings")
        lib.eq(by["arm64"]["os"], "alpine:3.11", "arm64 os")
        lib.eq(by["arm64"]["status"], "scanned", "arm64 status")
        # errors
        r = reg.get("/api/v1/repositories/nope/app/manifests/latest/scan")
        lib.error(r, 404, ["NAME_UNKNOWN"])
        r = reg.get("/api/v1/repositories/multi/app/manifests/sha256:%s/scan" % ("0" * 64))
        lib.error(r, 404, ["MANIFEST_UNKNOWN"])
        r = reg.get("/api/v1/repositories/multi/app/manifests/nosuchtag/scan")
        lib.error(r, 404, ["MANIFEST_UNKNOWN"])
    finally:
        srv.stop()


@lib.berth_only("berth scan CLI")
@lib.no_server
def test_scan_cli_offline_oci_layout(_):
    tmp = tempfile.mkdtemp(prefix="berth-scan-")
    try:
        layers = debian_layers()
        cfg = lib.make_config()
        body = lib.image_manifest(cfg, layers)
        os.makedirs(os.path.join(tmp, "img", "blobs", "sha256"))
        for b in [cfg, body] + layers:
            with open(os.path.join(tmp, "img", "blobs", "sha256", lib.sha256(b).split(":")[1]), "wb") as f:
                f.write(b)
        with open(os.path.join(tmp, "img", "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        with open(os.path.join(tmp, "img", "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [lib.descriptor(
                lib.OCI_MANIFEST, body, annotations={"org.opencontainers.image.ref.name": "v1"})]}, f)
        out = te.berth_ok("scan", "oci:%s:v1" % os.path.join(tmp, "img"), "--errata", dsa_list(), "--json")
        rep = json.loads(out)
        lib.eq(rep["status"], "scanned", "status")
        lib.eq(rep["os"], "debian:11", "os")
        lib.eq(findings_set(rep), EXPECTED_DEB, "offline findings")
        # a table without --json
        out = te.berth_ok("scan", "oci:%s" % os.path.join(tmp, "img"), "--errata", dsa_list())
        lib.ok("DSA-5169-1" in out and "libssl1.1" in out, "table lists the findings:\n%s" % out)
        # a missing layout fails with exit status 1
        rc, out, err = te.berth("scan", "oci:%s/none" % tmp, "--errata", dsa_list())
        lib.eq(rc, 1, "exit status for a missing image")
    finally:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------- berth scan --errata through the transports

TLS = "--tls-verify=false"


def _debian_layout(path, tag="v1"):
    """The Debian image of debian_layers() as an OCI layout; returns (manifest, layers)."""
    lay = cl.Layout(path)
    layers = debian_layers()
    diff_ids = [lib.sha256(gzip.decompress(l)) for l in layers]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode()
    for b in [cfg] + layers:
        lay.put(b)
    man = lib.image_manifest(lib.descriptor(lib.OCI_CONFIG, cfg),
                             [lib.descriptor(lib.OCI_LAYER_GZIP, l) for l in layers])
    lay.put(man)
    lay.add_ref(man, lib.OCI_MANIFEST, tag)
    return man, layers


def _scan(ref, *extra, rc=0):
    r = cl.berth("scan", ref, "--errata", dsa_list(), "--json", *extra, rc=rc)
    if rc != 0:
        return r
    rep = json.loads(r.out)
    rep.pop("updated", None)
    return rep


def _one_line_error(r, what, needle):
    err = r.err.strip()
    lib.ok(err.startswith("berth: ") and "\n" not in err, "%s: one line on stderr, got %r" % (what, r.err))
    lib.ok(needle in err, "%s: %r names %r" % (what, err, needle))
    lib.eq(r.out, "", "%s: nothing on stdout" % what)


def _without_layer_digests(rep):
    rep = json.loads(json.dumps(rep))
    rep.pop("layers")
    for k in ("packages", "findings"):
        for x in rep[k]:
            x.pop("layer")
    return rep


@lib.berth_only("berth scan CLI")
@lib.no_server
def test_scan_cli_offline_every_transport_same_findings(_):
    """The same image as oci:, oci-archive:, docker-archive:, docker:// (layers streamed from the
    registry, which has no errata) and local: gives the same report."""
    tmp = tempfile.mkdtemp(prefix="berth-scan-")
    srv = lib.Server()
    srv.start()
    try:
        man, layers = _debian_layout(os.path.join(tmp, "img"))
        oci = "oci:%s:v1" % os.path.join(tmp, "img")
        base = _scan(oci)
        lib.eq((base["status"], base["os"]), ("scanned", "debian:11"), "oci: status and os")
        lib.eq(findings_set(base), EXPECTED_DEB, "oci: findings")
        lib.eq(base["layers"], [lib.sha256(l) for l in layers], "oci: layer digests")
        lib.eq([(f["package"], f["layer_index"]) for f in base["findings"]],
               [("libssl1.1", 1), ("libssl1.1", 1), ("openssl", 1), ("openssl", 1)], "oci: layer of each finding")

        arch = "oci-archive:%s:v1" % os.path.join(tmp, "img.tar")
        cl.berth("copy", "-q", oci, arch)
        lib.eq(_scan(arch), base, "oci-archive: report")

        darch = "docker-archive:%s:deb/app:v1" % os.path.join(tmp, "img-docker.tar")
        cl.berth("copy", "-q", oci, darch)
        rep = _scan(darch)
        # docker save layers are uncompressed tars: their digests are the diff_ids
        lib.eq(rep["layers"], [lib.sha256(gzip.decompress(l)) for l in layers], "docker-archive: layer digests")
        lib.eq(_without_layer_digests(rep), _without_layer_digests(base), "docker-archive: report")
        lib.eq(_scan("docker-archive:%s" % os.path.join(tmp, "img-docker.tar")), rep, "docker-archive: its only image")

        ref = "docker://127.0.0.1:%d/deb/app:v1" % srv.port
        cl.berth("copy", TLS, "-q", oci, ref)
        lib.eq(_scan(ref, TLS), base, "docker:// --errata: report")
        # a registry reached over plain HTTP needs the flag, as for pull
        r = cl.berth("scan", ref, "--errata", dsa_list(), rc=1)
        lib.ok(r.err.startswith("berth: ") and r.out == "", "docker:// without --tls-verify=false: %r" % r.err)

        if os.geteuid() == 0:
            root = os.path.join(tmp, "store")
            cl.berth("pull", TLS, "-q", "--root", root, "--driver", "vfs", ref)
            rep = _scan("local:127.0.0.1:%d/deb/app:v1" % srv.port, "--root", root, "--driver", "vfs")
            lib.eq(rep, base, "local: report")

        # the table, and a local image without --errata
        out = cl.berth("scan", arch, "--errata", dsa_list()).out
        lib.ok("DSA-5169-1" in out and "libssl1.1" in out and "debian:11" in out, "table:\n%s" % out)
        r = cl.berth("scan", arch, rc=2)
        _one_line_error(r, "oci-archive without --errata", "needs --errata")
    finally:
        srv.stop()
        shutil.rmtree(tmp)


def _flip_byte(data, at):
    b = bytearray(data)
    b[at] ^= 0xFF
    return bytes(b)


def _retar(src, dst, change):
    """Copies tar src to dst with change(name, bytes) -> bytes applied to every regular file."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            if m.isfile():
                data = change(m.name, tin.extractfile(m).read())
                m.size = len(data)
                tout.addfile(m, io.BytesIO(data))
            else:
                tout.addfile(m)


@lib.berth_only("berth scan CLI")
@lib.no_server
def test_scan_cli_offline_platforms_and_hostile_sources(_):
    tmp = tempfile.mkdtemp(prefix="berth-scan-")
    srv = lib.Server()
    srv.start()
    try:
        # an index: Debian for amd64, Alpine for arm64
        path = os.path.join(tmp, "multi")
        man_deb, deb_layers = _debian_layout(path, tag="deb")
        lay = cl.Layout(path)
        lay.index = cl.layout_index(path)["manifests"]
        apk = tar_layer([("etc/os-release", ALPINE311), ("etc/alpine-release", b"3.11.6\n"),
                         ("lib/apk/db/installed", b"P:musl\nV:1.1.24-r2\nA:aarch64\no:musl\n\n")])
        cfg = json.dumps({"architecture": "arm64", "os": "linux", "rootfs": {
            "type": "layers", "diff_ids": [lib.sha256(gzip.decompress(apk))]}}).encode()
        lay.put(apk)
        lay.put(cfg)
        man_apk = lib.image_manifest(lib.descriptor(lib.OCI_CONFIG, cfg), [lib.descriptor(lib.OCI_LAYER_GZIP, apk)])
        lay.put(man_apk)
        idx = lib.image_index([
            lib.descriptor(lib.OCI_MANIFEST, man_deb, platform={"os": "linux", "architecture": "amd64"}),
            lib.descriptor(lib.OCI_MANIFEST, man_apk, platform={"os": "linux", "architecture": "arm64"})])
        lay.put(idx)
        lay.add_ref(idx, lib.OCI_INDEX, "multi")
        multi = "oci:%s:multi" % path
        rep = _scan(multi, "--platform", "linux/arm64")
        lib.eq((rep["status"], rep["os"], rep["layers"], rep["findings"]),
               ("scanned", "alpine:3.11", [lib.sha256(apk)], []), "--platform linux/arm64")
        lib.eq([(p["name"], p["version"]) for p in rep["packages"]], [("musl", "1.1.24-r2")], "arm64 packages")
        rep = _scan(multi, "--platform", "linux/amd64")
        lib.eq((rep["os"], findings_set(rep)), ("debian:11", EXPECTED_DEB), "--platform linux/amd64")
        host = {"x86_64": "debian:11", "aarch64": "alpine:3.11"}.get(os.uname().machine)
        if host:
            lib.eq(_scan(multi)["os"], host, "this host's platform by default")
        r = _scan(multi, "--platform", "linux/s390x", rc=1)
        _one_line_error(r, "index without the platform", "has no image for linux/s390x (it has: linux/amd64, "
                        "linux/arm64)")
        # the same index in a registry: the child is picked there too
        ref = "docker://127.0.0.1:%d/multi/app:latest" % srv.port
        cl.berth("copy", TLS, "-q", "--all", multi, ref)
        lib.eq(_scan(ref, TLS, "--platform", "linux/arm64")["os"], "alpine:3.11", "docker:// --platform")
        r = _scan(ref, TLS, "--platform", "linux/s390x", rc=1)
        _one_line_error(r, "docker:// index without the platform", "has no image for linux/s390x")
        r = cl.berth("scan", "--platform", "linux/arm64", TLS, ref, rc=2)
        _one_line_error(r, "--platform without --errata", "--platform")

        # missing sources
        for missing in ("oci-archive:%s/none.tar" % tmp, "docker-archive:%s/none.tar" % tmp, "oci:%s/none" % tmp):
            r = _scan(missing, rc=1)
            _one_line_error(r, missing, "none")

        # a layer whose bytes are not its digest's, in each kind of source: exit 1, one line, nothing scanned
        upper = lib.sha256(deb_layers[1]).split(":")[1]
        single = os.path.join(tmp, "single")
        _debian_layout(single)
        cl.berth("copy", "-q", "oci:%s:v1" % single, "oci-archive:%s:v1" % os.path.join(tmp, "good.tar"))
        _retar(os.path.join(tmp, "good.tar"), os.path.join(tmp, "bad.tar"),
               lambda name, data: _flip_byte(data, 40) if name.endswith(upper) else data)
        r = _scan("oci-archive:%s:v1" % os.path.join(tmp, "bad.tar"), rc=1)
        _one_line_error(r, "oci-archive with a damaged layer", upper[:12])

        cl.berth("copy", "-q", "oci:%s:v1" % single, "docker-archive:%s:deb/app:v1" % os.path.join(tmp, "good-d.tar"))
        flipped = []

        def damage_layer(name, data):
            if name.endswith(".tar") and not flipped and data[257:262] == b"ustar":
                flipped.append(name)
                return _flip_byte(data, 600)
            return data
        _retar(os.path.join(tmp, "good-d.tar"), os.path.join(tmp, "bad-d.tar"), damage_layer)
        lib.ok(flipped, "a layer tar found in the docker archive")
        r = _scan("docker-archive:%s" % os.path.join(tmp, "bad-d.tar"), rc=1)
        _one_line_error(r, "docker-archive with a damaged layer", "sha256:")

        # a registry serving damaged bytes: the streamed layer is checked at its end
        ref = "docker://127.0.0.1:%d/deb/bad:v1" % srv.port
        cl.berth("copy", TLS, "-q", "oci:%s:v1" % single, ref)
        blob = [os.path.join(d, f) for d, _, fs in os.walk(srv.data_dir) for f in fs if f == upper]
        lib.eq(len(blob), 1, "the stored upper layer")
        with open(blob[0], "r+b") as f:
            f.seek(len(deb_layers[1]) - 3)  # the gzip trailer: the tar itself still reads
            f.write(bytes([deb_layers[1][-3] ^ 0xFF]))
        r = _scan(ref, TLS, rc=1)
        _one_line_error(r, "docker:// with a damaged layer", upper[:12])
    finally:
        srv.stop()
        shutil.rmtree(tmp)
