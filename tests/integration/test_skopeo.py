"""Real-client round trips with skopeo (/usr/bin/skopeo) against the registry."""

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import lib

SHARED_SERVER = True
SKOPEO = os.environ.get("SKOPEO_BIN", "/usr/bin/skopeo")


def _skopeo(*args, check=True, timeout=90):
    if not os.access(SKOPEO, os.X_OK):
        lib.skip("skopeo not installed at %s" % SKOPEO)
    p = subprocess.run([SKOPEO, "--insecure-policy"] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        lib.fail("skopeo %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                 p.stderr.strip()[-2000:]))
    return p


def _layer(files):
    """A gzipped tar of {name: bytes}; returns (gzip bytes, diff_id of the tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    return gzip.compress(tar, mtime=0), lib.sha256(tar)


class Layout:
    """An OCI image layout directory built by hand."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []

    def put(self, data):
        d = lib.sha256(data)
        with open(os.path.join(self.path, "blobs", "sha256", d.split(":")[1]), "wb") as f:
            f.write(data)
        return d

    def image(self, arch="amd64", nlayers=3):
        layers, diff_ids = [], []
        for i in range(nlayers):
            gz, diff = _layer({"dir%d/file%d.txt" % (i, j): os.urandom(2000 + j) for j in range(3)})
            layers.append(lib.descriptor(lib.OCI_LAYER_GZIP, gz))
            diff_ids.append(diff)
            self.put(gz)
        cfg = json.dumps({"architecture": arch, "os": "linux",
                          "created": "2024-01-01T00:00:00Z",
                          "config": {"Cmd": ["/bin/true"]},
                          "rootfs": {"type": "layers", "diff_ids": diff_ids},
                          "history": [{"created_by": "test layer %d" % i} for i in range(nlayers)]},
                         sort_keys=True).encode()
        self.put(cfg)
        man = lib.image_manifest(lib.descriptor(lib.OCI_CONFIG, cfg), layers)
        self.put(man)
        return man, [l["digest"] for l in layers]

    def add_ref(self, body, media_type, ref, platform=None):
        d = lib.descriptor(media_type, body, annotations={"org.opencontainers.image.ref.name": ref})
        if platform:
            d["platform"] = platform
        self.index.append(d)
        self.write_index()

    def write_index(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": lib.OCI_INDEX, "manifests": self.index}, f)


def _tmp():
    return tempfile.mkdtemp(prefix="berth-it-skopeo-")


def _dest(reg, repo, ref):
    return "docker://127.0.0.1:%d/%s:%s" % (reg.server.port, repo, ref)


def _dest_digest(reg, repo, digest):
    return "docker://127.0.0.1:%d/%s@%s" % (reg.server.port, repo, digest)


def test_skopeo_copy_inspect_list_roundtrip(reg):
    tmp = _tmp()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layer_digests = lay.image()
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        repo = lib.repo_name("skopeo")
        _skopeo("copy", "--dest-tls-verify=false", "--preserve-digests",
                "oci:%s:v1" % lay.path, _dest(reg, repo, "v1"))
        # the registry holds exactly our manifest
        r = reg.get_manifest(repo, "v1")
        lib.status(r, 200)
        lib.eq(r.body, man, "manifest bytes pushed by skopeo")
        lib.header(r, "Docker-Content-Digest", lib.sha256(man))
        out = _skopeo("inspect", "--tls-verify=false", _dest(reg, repo, "v1")).stdout
        info = json.loads(out)
        lib.eq(info.get("Digest"), lib.sha256(man), "skopeo inspect Digest")
        lib.eq(info.get("Layers"), layer_digests, "skopeo inspect Layers")
        lib.eq(info.get("Architecture"), "amd64", "skopeo inspect Architecture")
        raw = _skopeo("inspect", "--raw", "--tls-verify=false", _dest(reg, repo, "v1")).stdout
        lib.eq(raw.encode(), man, "skopeo inspect --raw")
        # a second tag, then list-tags
        _skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests",
                _dest(reg, repo, "v1"), _dest(reg, repo, "latest"))
        tags = json.loads(_skopeo("list-tags", "--tls-verify=false",
                                  "docker://127.0.0.1:%d/%s" % (reg.server.port, repo)).stdout)
        lib.eq(sorted(tags.get("Tags") or []), ["latest", "v1"], "skopeo list-tags")
        # copy back out to a fresh layout and compare
        back = os.path.join(tmp, "back")
        _skopeo("copy", "--src-tls-verify=false", "--preserve-digests",
                _dest(reg, repo, "v1"), "oci:%s:v1" % back)
        with open(os.path.join(back, "index.json")) as f:
            idx = json.load(f)
        lib.eq([m["digest"] for m in idx["manifests"]], [lib.sha256(man)],
               "manifest digest after the round trip")
        for d in layer_digests:
            p = os.path.join(back, "blobs", "sha256", d.split(":")[1])
            with open(p, "rb") as f:
                lib.eq(lib.sha256(f.read()), d, "layer %s copied back" % d)
        # digest-addressed copy between repositories (cross-repository mount)
        repo2 = lib.repo_name("skopeo")
        _skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests",
                _dest(reg, repo, "v1"), _dest(reg, repo2, "copied"))
        r = reg.get_manifest(repo2, "copied")
        lib.status(r, 200)
        lib.eq(r.body, man, "manifest in the second repository")
        for d in layer_digests:
            g = reg.get_blob(repo2, d)
            lib.status(g, 200, "layer in the second repository")
            lib.eq(lib.sha256(g.body), d, "layer bytes in the second repository")
        # delete by digest
        _skopeo("delete", "--tls-verify=false", _dest_digest(reg, repo2, lib.sha256(man)))
        lib.status(reg.get_manifest(repo2, lib.sha256(man)), 404, "manifest after skopeo delete")
        lib.status(reg.get_manifest(repo2, "copied"), 404, "tag after skopeo delete")
        p = _skopeo("inspect", "--tls-verify=false", _dest(reg, repo2, "copied"), check=False)
        lib.ok(p.returncode != 0, "skopeo inspect of a deleted image succeeded")
        # the first repository is untouched
        lib.status(reg.get_manifest(repo, "v1"), 200, "source repository after delete")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_skopeo_multiarch_index(reg):
    tmp = _tmp()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        m1, _ = lay.image("amd64", nlayers=2)
        m2, _ = lay.image("arm64", nlayers=2)
        idx = lib.image_index([(m1, lib.OCI_MANIFEST, {"architecture": "amd64", "os": "linux"}),
                               (m2, lib.OCI_MANIFEST, {"architecture": "arm64", "os": "linux"})])
        lay.put(idx)
        lay.add_ref(idx, lib.OCI_INDEX, "multi")
        repo = lib.repo_name("skopeo")
        _skopeo("copy", "--all", "--dest-tls-verify=false", "--preserve-digests",
                "oci:%s:multi" % lay.path, _dest(reg, repo, "multi"))
        r = reg.get_manifest(repo, "multi")
        lib.status(r, 200)
        lib.eq(r.body, idx, "index bytes")
        lib.header(r, "Content-Type", lib.OCI_INDEX)
        for m in (m1, m2):
            g = reg.get_manifest(repo, lib.sha256(m))
            lib.status(g, 200, "child manifest")
            lib.eq(g.body, m, "child manifest bytes")
        raw = _skopeo("inspect", "--raw", "--tls-verify=false", _dest(reg, repo, "multi")).stdout
        lib.eq(raw.encode(), idx, "skopeo inspect --raw of the index")
        info = json.loads(_skopeo("inspect", "--tls-verify=false", "--override-arch", "arm64",
                                  _dest(reg, repo, "multi")).stdout)
        lib.eq(info.get("Digest"), lib.sha256(idx), "skopeo inspect Digest (of the index)")
        lib.eq(info.get("Architecture"), "arm64", "arm64 instance chosen by skopeo")
        lib.eq(len(info.get("Layers") or []), 2, "layers of the arm64 instance")
        back = os.path.join(tmp, "back")
        _skopeo("copy", "--all", "--src-tls-verify=false", "--preserve-digests",
                _dest(reg, repo, "multi"), "oci:%s:multi" % back)
        with open(os.path.join(back, "index.json")) as f:
            lib.eq([m["digest"] for m in json.load(f)["manifests"]], [lib.sha256(idx)],
                   "index digest after the round trip")
        _skopeo("delete", "--tls-verify=false", _dest_digest(reg, repo, lib.sha256(idx)))
        lib.status(reg.get_manifest(repo, lib.sha256(idx)), 404, "index after delete")
        lib.status(reg.get_manifest(repo, "multi"), 404, "tag after delete")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
