"""The host layer store: berth's unpacked root file systems against umoci's, per graph driver, and the
store commands (images, layers, rmi, mount, umount, rm, prune). Needs root, overlayfs, umoci, and
for btrfs a loop device (a btrfs image file made in a temp dir, always unmounted and detached).
Images come in through `berth pull` from a berth registry on loopback (the umoci comparisons) and
`berth copy oci:... local:...`; the failed-put cases use tests/tools/graph_import (built beside the
berth binary) because they need blobs that do not match their descriptors past any source's checks,
and a small --max-layer, which only graph_image_put sees."""

import atexit
import json
import os
import shutil
import subprocess
import tempfile

import graph_layout as gl
import lib

UMOCI = shutil.which("umoci") or "/usr/bin/umoci"
IMPORT = os.path.join(os.path.dirname(lib.BERTH_BIN), "tests", "graph_import")

_cache = {}


def _need_root():
    if os.geteuid() != 0:
        lib.skip("the host store needs root")
    if not os.access(IMPORT, os.X_OK):
        lib.skip("graph_import not built at %s" % IMPORT)


def _run(args, check=True, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        lib.fail("%s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


def berth(*args, check=True):
    return _run([lib.BERTH_BIN] + list(args), check=check)


def gimport(root, layout, names=(), driver=None, check=True, extra=()):
    args = [IMPORT, "--root", root] + (["--driver", driver] if driver else []) + list(extra) + [layout]
    return _run(args + list(names), check=check)


class Store:
    """A temp dir for a store; unmounts whatever is still mounted under it on the way out."""

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="berth-store-")
        return self.tmp

    def __exit__(self, *exc):
        mounts = []
        with open("/proc/mounts") as f:
            for line in f:
                mp = line.split()[1]
                if mp.startswith(self.tmp + "/"):
                    mounts.append(mp)
        for mp in sorted(mounts, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def _rich():
    """The rich layout and umoci's unpacked rootfs of it, built once per run."""
    if "rich" not in _cache:
        if not os.access(UMOCI, os.X_OK):
            lib.skip("umoci not installed")
        tmp = tempfile.mkdtemp(prefix="berth-graph-")
        lay = os.path.join(tmp, "layout")
        gl.build_rich(lay)
        bundle = os.path.join(tmp, "bundle")
        _run([UMOCI, "unpack", "--image", lay + ":rich", bundle])
        _cache["rich"] = (tmp, lay, os.path.join(bundle, "rootfs"))
        atexit.register(shutil.rmtree, tmp, True)
    return _cache["rich"]


def _registry_with_rich():
    """A berth registry on loopback holding the rich image as rich:v1, started once per run."""
    if "registry" not in _cache:
        tmp, lay, _ = _rich()
        srv = lib.Server(name="graph-registry").start()
        atexit.register(srv.stop)
        ref = "127.0.0.1:%d/rich:v1" % srv.port
        berth("copy", "-q", "--tls-verify=false", "oci:%s:rich" % lay, "docker://" + ref)
        _cache["registry"] = (srv, ref)
    return _cache["registry"][1]


def _compare_with_umoci(root, driver):
    tmp, lay, umoci_rootfs = _rich()
    ref = _registry_with_rich()
    out = json.loads(berth("pull", "--json", "--tls-verify=false", "--root", root, "--driver", driver,
                           ref).stdout)
    lib.eq((out["copied"], out["skipped"]), (4, 0), "pull: config and three layers read")
    lib.eq([i["names"] for i in _images(root)], [[ref]], "the pulled image's name")
    p = berth("mount", ref, "--name", "cmp", "--root", root)
    path = p.stdout.strip().splitlines()[-1]
    lib.ok(os.path.isdir(path), "mount printed %r, not a directory" % path)
    try:
        want = gl.tree_summary(umoci_rootfs, with_mtime=True)
        got = gl.tree_summary(path, with_mtime=True)
        d = gl.diff_summaries(want, got, "umoci", "berth-" + driver)
        if d:
            lib.fail("%d differences from umoci unpack:\n  %s" % (len(d), "\n  ".join(d[:30])))
        lib.ok(len(got[0]) >= 40, "suspiciously small tree: %d entries" % len(got[0]))
    finally:
        berth("rm", "cmp", "--root", root, check=False)


@lib.no_server
def test_overlay2_rootfs_identical_to_umoci(_):
    _need_root()
    with Store() as root:
        _compare_with_umoci(root, "overlay2")


@lib.no_server
def test_vfs_rootfs_identical_to_umoci(_):
    _need_root()
    with Store() as root:
        _compare_with_umoci(root, "vfs")


@lib.no_server
def test_btrfs_rootfs_identical_to_umoci(_):
    _need_root()
    if not shutil.which("mkfs.btrfs") or not shutil.which("losetup"):
        lib.skip("btrfs-progs or losetup missing")
    tmp = tempfile.mkdtemp(prefix="berth-btrfs-")
    img, mnt, loop = os.path.join(tmp, "fs.img"), os.path.join(tmp, "mnt"), None
    try:
        with open(img, "wb") as f:
            f.truncate(300 << 20)
        _run(["mkfs.btrfs", "-q", img])
        os.mkdir(mnt)
        p = _run(["losetup", "-f", "--show", img], check=False)
        if p.returncode != 0:
            lib.skip("no loop device: %s" % p.stderr.strip())
        loop = p.stdout.strip()
        _run(["mount", "-t", "btrfs", loop, mnt])
        _compare_with_umoci(os.path.join(mnt, "store"), "btrfs")
    finally:
        if loop:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
            subprocess.run(["losetup", "-d", loop], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _layers(root):
    return {l["chain_id"]: l for l in json.loads(berth("layers", "--json", "--root", root).stdout)}


def _images(root):
    return json.loads(berth("images", "--json", "--root", root).stdout)


@lib.no_server
def test_store_commands_share_layers_and_refuse_images_in_use(_):
    _need_root()
    with Store() as tmp:
        root, lay = os.path.join(tmp, "store"), os.path.join(tmp, "layout")
        tars = gl.rich_layers()
        extra = gl.Tar()
        extra.file("app/main", b"#!/bin/sh\necho app\n", mode=0o755)
        layout = gl.Layout(lay)
        layout.image(tars, "base")
        layout.image(tars[:2] + [extra.bytes()], "app")
        out = json.loads(berth("copy", "--json", "--root", root, "oci:%s:base" % lay, "local:base:1").stdout)
        lib.eq((out["copied"], out["skipped"]), (4, 0), "first image unpacks 3 layers")
        out = json.loads(berth("copy", "--json", "--root", root, "oci:%s:app" % lay, "local:app:1").stdout)
        lib.eq((out["copied"], out["skipped"]), (2, 2), "second image reuses the 2 shared layers")
        berth("copy", "-q", "--root", root, "oci:%s:app" % lay, "local:app:latest")
        layers = _layers(root)
        lib.eq(len(layers), 4, "layers in the store")
        lib.eq(sorted(l["refs"] for l in layers.values()), [1, 1, 2, 2], "layer reference counts")
        imgs = _images(root)
        lib.eq(sorted(n for i in imgs for n in i["names"]), ["app:1", "app:latest", "base:1"], "names")
        table = berth("images", "--root", root).stdout
        lib.ok(table.startswith("NAME") and "app:latest" in table, "table output: %s" % table)

        p = berth("mount", "app", "--name", "web", "--root", root)
        path = p.stdout.strip().splitlines()[-1]
        with open(os.path.join(path, "app", "main"), "rb") as f:
            lib.eq(f.read(), b"#!/bin/sh\necho app\n", "file from the top layer")
        with open(os.path.join(path, "written-by-container"), "w") as f:
            f.write("x")  # the writable layer takes writes
        lib.ok(os.path.ismount(path), "overlay root is a mount point")
        # the same name from the same image: presented again, same path
        again = berth("mount", "app:latest", "--name", "web", "--root", root).stdout.strip().splitlines()[-1]
        lib.eq(again, path, "mount of an existing container")
        p = berth("mount", "base:1", "--name", "web", "--root", root, check=False)
        lib.eq(p.returncode, 1, "mount of another image under a taken name")

        # rmi by id while a container uses it: one clear line, nothing removed
        app_id = [i["id"] for i in imgs if "app:1" in i["names"]][0]
        p = berth("rmi", app_id, "--root", root, check=False)
        lib.eq(p.returncode, 1, "rmi of an image in use")
        lib.eq(p.stderr.strip(), "berth: image %s is in use by container web (berth rm web first)" % app_id,
               "rmi error line")
        # a name of an image with other names only untags
        p = berth("rmi", "app:1", "--root", root)
        lib.eq(p.stdout.strip(), "Untagged: app:1", "rmi of one of two names")

        berth("umount", "web", "--root", root)
        lib.ok(not os.path.ismount(path), "umount unmounts")
        path2 = berth("mount", "app", "--name", "web", "--root", root).stdout.strip().splitlines()[-1]
        lib.ok(os.path.exists(os.path.join(path2, "written-by-container")), "the writable layer survives umount")
        lib.eq(berth("rm", "web", "--root", root).stdout.strip(), "web", "rm prints the name")
        lib.ok(not os.path.exists(path), "rm deletes the container layer")

        p = berth("rmi", "app", "--root", root)
        lib.ok(p.stdout.startswith("Deleted: " + app_id) and "(1 layers removed)" in p.stdout,
               "rmi removes the image and its unshared layer: %s" % p.stdout)
        lib.eq(len(_layers(root)), 3, "layers after rmi")
        p = berth("rmi", "app", "--root", root, check=False)
        lib.eq((p.returncode, p.stderr.strip()), (1, 'berth: no image "app" in the store'), "rmi of a gone image")
        lib.eq(json.loads(berth("prune", "--json", "--root", root).stdout),
               {"layers": 0, "orphans": 0, "staging": 0, "busy": False}, "prune with nothing to do")
        berth("rmi", "base:1", "--root", root)
        lib.eq(_layers(root), {}, "no layers left")
        lib.eq(sorted(os.listdir(os.path.join(root, "overlay2"))), [".staging", "l"], "overlay2 dir emptied")
        lib.eq(os.listdir(os.path.join(root, "overlay2", "l")), [], "short links removed")


def _store_state(root):
    """Everything a failed put must not change: records and the driver's directories."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if not rel.startswith("graph.db"):
                files.append(rel)
    return (_images(root), _layers(root), sorted(files))


def _bad_layout(tmp, name, tars, mutate=None, mutate_config=None, compress=None):
    lay = os.path.join(tmp, name)
    man = gl.Layout(lay).image(tars, "x", compress=compress, mutate_config=mutate_config)
    if mutate:
        mutate(lay, man)
    return lay + ":x"


@lib.no_server
def test_failed_puts_leave_the_store_as_it_was(_):
    _need_root()
    with Store() as tmp:
        for driver in ("overlay2", "vfs"):
            root = os.path.join(tmp, "store-" + driver)
            base = gl.Tar()
            base.file("etc/os-release", b"ID=test\n")
            good = gl.Tar()
            good.file("a", b"a" * 5000)
            base_b, good_b = base.bytes(), good.bytes()
            gimport(root, _bad_layout(tmp, "ok-" + driver, [base_b]), ["ok:1"], driver=driver)
            before = _store_state(root)

            def corrupt_blob(lay, man):
                d = man["layers"][1]["digest"].split(":")[1]
                p = os.path.join(lay, "blobs", "sha256", d)
                data = bytearray(open(p, "rb").read())
                data[len(data) // 2] ^= 0xff
                open(p, "wb").write(bytes(data))

            def wrong_size(lay, man):
                p = os.path.join(lay, "blobs", "sha256", man["layers"][1]["digest"].split(":")[1])
                with open(p, "ab") as f:
                    f.write(b"\0" * 10)

            def wrong_diff(cfg):
                cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64

            hostile = gl.Tar()
            hostile.file("ok", b"fine")
            hostile.file("../escape", b"bad")
            bomb = gl.Tar()  # no entry over the bound, the whole layer well over it
            for k in range(8):
                bomb.file("zeros%d" % k, b"\0" * 200000)
            cases = [
                ("diff_id", _bad_layout(tmp, "d-" + driver, [base_b, good_b], mutate_config=wrong_diff),
                 "the unpacked tar hashes to", ()),
                ("digest", _bad_layout(tmp, "c-" + driver, [base_b, good_b], mutate=corrupt_blob,
                                       compress=["gzip", "tar"]), "the blob's bytes hash to", ()),
                ("gzip-corrupt", _bad_layout(tmp, "g-" + driver, [base_b, good_b], mutate=corrupt_blob),
                 "layer sha256:", ()),
                ("size", _bad_layout(tmp, "s-" + driver, [base_b, good_b], mutate=wrong_size),
                 "longer than its descriptor", ()),
                ("hostile", _bad_layout(tmp, "h-" + driver, [base_b, hostile.bytes()]),
                 "path escapes the layer", ()),
                ("bomb", _bad_layout(tmp, "b-" + driver, [base_b, bomb.bytes()]), "inflates to more than",
                 ("--max-layer", "1000000")),
            ]
            for what, lay, expect, extra in cases:
                p = gimport(root, lay, ["bad:" + what], driver=driver, check=False, extra=extra)
                lib.eq(p.returncode, 1, "%s/%s: graph_import exit status (%s)" % (driver, what, p.stdout))
                lib.ok(expect in p.stderr, "%s/%s: error %r lacks %r" % (driver, what, p.stderr.strip(), expect))
                lib.eq(_store_state(root), before, "%s/%s: store after a failed put" % (driver, what))


@lib.no_server
def test_driver_choice_errors(_):
    _need_root()
    with Store() as root:
        p = berth("images", "--root", root, "--driver", "devicemapper", check=False)
        lib.eq(p.returncode, 1, "devicemapper exit status")
        lib.ok("device-mapper" in p.stderr and "dm_mod" in p.stderr, "devicemapper message: %s" % p.stderr)
        berth("images", "--root", root, "--driver", "vfs")
        p = berth("layers", "--root", root, "--driver", "overlay2", check=False)
        lib.eq((p.returncode, p.stderr.strip()),
               (1, "berth: the store at %s uses the vfs driver, not overlay2" % root), "driver mismatch")
        p = berth("images", "--root", root + "/new", "--driver", "zfs", check=False)
        lib.ok(p.returncode == 1 and "unknown graph driver" in p.stderr, "unknown driver: %s" % p.stderr)
        p = berth("images", "--bogus", check=False)
        lib.eq(p.returncode, 2, "usage error")
