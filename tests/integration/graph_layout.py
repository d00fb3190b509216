"""OCI image layouts built with Python's tarfile for the host-store tests (stdlib only).

build_rich(path) writes a three-layer image exercising what extraction must reproduce: whiteouts of
files and directories, an opaque directory, hard links, absolute/relative/dangling symlinks, a symlink
and a file replaced by directories, devices, a fifo, setuid/setgid/sticky modes, owners, user xattrs,
odd mtimes, long names, and gzip, zstd-free plain tar and gzip layers.
tree_summary(root) describes a tree for comparison (paths, types, modes, owners, sizes, sha256 of
contents, link targets, device numbers, user xattrs, hard-link groups).
"""

import gzip
import hashlib
import io
import json
import os
import random
import stat
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Tar:
    """A layer under construction."""

    def __init__(self):
        self.raw = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.raw, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode, uid=0, gid=0, mtime=1700000000, xattrs=None):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, mtime
        ti.uname = ti.gname = ""
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        return ti

    def dir(self, name, mode=0o755, **kw):
        self.tf.addfile(self._info(name, tarfile.DIRTYPE, mode, **kw))

    def file(self, name, data, mode=0o644, **kw):
        ti = self._info(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        self.tf.addfile(ti, io.BytesIO(data))

    def symlink(self, name, target, **kw):
        ti = self._info(name, tarfile.SYMTYPE, 0o777, **kw)
        ti.linkname = target
        self.tf.addfile(ti)

    def hardlink(self, name, target, **kw):
        ti = self._info(name, tarfile.LNKTYPE, 0o644, **kw)
        ti.linkname = target
        self.tf.addfile(ti)

    def dev(self, name, kind, major, minor, mode=0o666, **kw):
        ti = self._info(name, kind, mode, **kw)
        ti.devmajor, ti.devminor = major, minor
        self.tf.addfile(ti)

    def whiteout(self, path):
        d, _, b = path.rpartition("/")
        self.file((d + "/" if d else "") + ".wh." + b, b"", mode=0o600)

    def opaque(self, dirpath):
        self.file(dirpath + "/.wh..wh..opq", b"", mode=0o600)

    def bytes(self):
        self.tf.close()
        return self.raw.getvalue()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []

    def put(self, data):
        d = sha256(data)
        p = os.path.join(self.path, "blobs", "sha256", d.split(":")[1])
        with open(p, "wb") as f:
            f.write(data)
        return d

    def image(self, tars, tag, compress=None, mutate_config=None):
        """tars: list of tar bytes; compress: list of 'gzip'/'tar' per layer. Returns the manifest."""
        layers, diffs = [], []
        for i, t in enumerate(tars):
            how = compress[i] if compress else "gzip"
            blob = gzip.compress(t, compresslevel=6, mtime=0) if how == "gzip" else t
            layers.append({"mediaType": LAYER_GZIP if how == "gzip" else LAYER_TAR,
                           "digest": self.put(blob), "size": len(blob)})
            diffs.append(sha256(t))
        cfg = {"architecture": "amd64", "os": "linux", "config": {},
               "rootfs": {"type": "layers", "diff_ids": diffs}, "history": []}
        if mutate_config:
            mutate_config(cfg)
        cb = json.dumps(cfg).encode()
        man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": OCI_CONFIG, "digest": self.put(cb), "size": len(cb)},
               "layers": layers}
        mb = json.dumps(man).encode()
        self.index.append({"mediaType": OCI_MANIFEST, "digest": self.put(mb), "size": len(mb),
                           "annotations": {"org.opencontainers.image.ref.name": tag}})
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.index}, f)
        return man


def rich_layers(seed=7):
    r = random.Random(seed)
    blob = lambda n: bytes(r.getrandbits(8) for _ in range(n))
    l1 = Tar()
    for d in ("bin", "etc", "usr", "usr/bin", "usr/share", "var", "var/cache", "var/cache/apt",
              "var/cache/apt/sub", "dev", "home", "opt", "opt/thing", "srv"):
        l1.dir(d)
    l1.dir("tmp", mode=0o1777)
    l1.dir("home/user", mode=0o750, uid=1000, gid=1000)
    l1.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    l1.file("etc/group", b"root:x:0:\n")
    l1.file("etc/hosts", b"127.0.0.1 localhost\n", xattrs={"user.origin": "layer1"})
    l1.file("etc/shadow", b"root:*:19000:0:99999:7:::\n", mode=0o640, gid=42)
    l1.file("usr/bin/tool", blob(70000), mode=0o755)
    l1.hardlink("usr/bin/tool-link", "usr/bin/tool")
    l1.file("usr/bin/su", b"\x7fELFsu", mode=0o4755)
    l1.file("usr/bin/wall", b"\x7fELFwall", mode=0o2755, gid=5)
    l1.file("usr/share/big.bin", blob(1 << 20))
    l1.file("usr/share/" + "n" * 120 + ".txt", b"long name")
    l1.file("usr/share/epoch0", b"old", mtime=0)
    l1.file("usr/share/future", b"new", mtime=4102444800)
    l1.file("var/cache/apt/pkg1", blob(3000))
    l1.file("var/cache/apt/pkg2", blob(100))
    l1.file("var/cache/apt/sub/deep", b"deep")
    l1.file("home/user/.profile", b"export A=1\n", mode=0o600, uid=1000, gid=1000)
    l1.file("opt/thing/a", b"a")
    l1.file("srv/data", b"data")
    l1.symlink("sbin", "usr/bin")
    l1.symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
    l1.symlink("usr/bin/rel", "../../etc/hosts")
    l1.symlink("srv/link", "/srv/data", uid=3, gid=4)
    l1.dev("dev/null", tarfile.CHRTYPE, 1, 3)
    l1.dev("dev/sda", tarfile.BLKTYPE, 8, 0, mode=0o660, gid=6)
    l1.dev("dev/initctl", tarfile.FIFOTYPE, 0, 0, mode=0o600)

    l2 = Tar()
    l2.dir("etc")
    l2.whiteout("etc/group")
    l2.file("etc/hosts", b"127.0.0.1 localhost berth\n", xattrs={"user.origin": "layer2"})
    l2.file("etc/newfile", b"new in layer 2")
    l2.dir("var/cache/apt")
    l2.opaque("var/cache/apt")
    l2.file("var/cache/apt/fresh", b"fresh")
    l2.whiteout("usr/bin/wall")
    l2.whiteout("home/user")
    l2.whiteout("opt/thing")
    l2.file("opt/thing", b"a file where a directory was")
    l2.file("usr/bin/two", b"two", mode=0o700, uid=7, gid=8)
    l2.hardlink("usr/bin/two-again", "usr/bin/two")
    l2.dir("srv", mode=0o700)

    l3 = Tar()
    l3.whiteout("etc/newfile")
    l3.dir("etc/newfile", mode=0o711)
    l3.file("etc/newfile/inside", b"a directory where a file was")
    l3.file("etc/group", b"root:x:0:\nstaff:x:50:\n")
    l3.whiteout("sbin")
    l3.dir("sbin", mode=0o755)
    l3.file("sbin/init", b"init", mode=0o755)
    l3.file("usr/share/frac", b"frac", mtime=1500000000.5)
    return [l1.bytes(), l2.bytes(), l3.bytes()]


def build_rich(path, tag="rich"):
    lay = Layout(path)
    lay.image(rich_layers(), tag, compress=["gzip", "tar", "gzip"])
    return lay


def _xattrs(p):
    out = {}
    try:
        for k in os.listxattr(p, follow_symlinks=False):
            if k.startswith("user."):
                out[k] = os.getxattr(p, k, follow_symlinks=False)
    except OSError:
        pass
    return out


def tree_summary(root, with_mtime=False):
    """{relpath: description} for every entry under root (root itself as "."), plus hard-link groups."""
    entries, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [None] + dirnames + filenames:
            p = dirpath if name is None else os.path.join(dirpath, name)
            if name is None and dirpath != root:
                continue
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            d = {"type": stat.S_IFMT(st.st_mode), "mode": oct(stat.S_IMODE(st.st_mode)),
                 "uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISREG(st.st_mode):
                d["size"] = st.st_size
                with open(p, "rb") as f:
                    d["sha256"] = hashlib.sha256(f.read()).hexdigest()
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                d["target"] = os.readlink(p)
                d.pop("mode")
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            if with_mtime and not stat.S_ISDIR(st.st_mode):
                d["mtime"] = st.st_mtime_ns
            x = _xattrs(p)
            if x:
                d["xattrs"] = x
            entries[rel] = d
    groups = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
    return entries, groups


def diff_summaries(a, b, an="a", bn="b"):
    """Human-readable differences between two tree_summary results ([] when equal)."""
    (ea, ga), (eb, gb) = a, b
    out = []
    for k in sorted(set(ea) | set(eb)):
        if k not in ea:
            out.append("only in %s: %s %s" % (bn, k, eb[k]))
        elif k not in eb:
            out.append("only in %s: %s %s" % (an, k, ea[k]))
        elif ea[k] != eb[k]:
            out.append("%s differs: %s=%s %s=%s" % (k, an, ea[k], bn, eb[k]))
    if ga != gb:
        out.append("hard-link groups differ: %s=%s %s=%s" % (an, ga, bn, gb))
    return out
