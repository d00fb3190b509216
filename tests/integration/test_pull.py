"""berth pull and the local: transport against a berth registry: images land in the host store with
their digests, layers the store has are not read again, and a pull that fails in any way (digest or
diff_id mismatch, a network cut it cannot resume, Ctrl-C) leaves the store exactly as it was; a cut
it can resume is resumed. Needs root (the host store)."""

import json
import os
import shutil
import signal
import subprocess
import time

import graph_layout as gl
import lib
from client_lib import Layout, Proxy, berth, docker_ref, layout_blob, layout_index, tmpdir

SHARED_SERVER = True
TLS = "--tls-verify=false"


def _need_root():
    if os.geteuid() != 0:
        lib.skip("the host store needs root")


def _pushed(reg, tmp, name="src", nlayers=2, size=200000, mutate_config=None, docker=False):
    lay = Layout(os.path.join(tmp, name))
    man, layers, cfg = lay.image(nlayers=nlayers, size=size, docker=docker)
    if mutate_config:
        d = json.loads(cfg)
        mutate_config(d)
        cfg = json.dumps(d, sort_keys=True).encode()
        lay.put(cfg)
        m = json.loads(man)
        m["config"] = lib.descriptor(m["config"]["mediaType"], cfg)
        man = json.dumps(m).encode()
        lay.put(man)
    lay.add_ref(man, lib.DOCKER_MANIFEST if docker else lib.OCI_MANIFEST, "v1")
    repo = lib.repo_name("pull")
    berth("copy", TLS, "-q", "oci:%s:v1" % lay.path, docker_ref(reg, repo, "v1"))
    return lay, man, layers, repo


def _ref(port, repo, tag="v1"):
    return "127.0.0.1:%d/%s:%s" % (port, repo, tag)


def _images(root):
    return json.loads(berth("images", "--json", "--root", root).out)


def _layers(root):
    return json.loads(berth("layers", "--json", "--root", root).out)


def _state(root):
    """Records and every path under the root but the database files."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if not rel.startswith("graph.db"):
                files.append(rel)
    return (_images(root), _layers(root), sorted(files))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_pull_into_the_store_keeps_digests_and_skips_present_layers(reg):
    _need_root()
    tmp = tmpdir()
    try:
        root = os.path.join(tmp, "store")
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=3, size=50000, docker=True)
        ref = _ref(reg.server.port, repo)
        r = berth("pull", TLS, "--json", "--root", root, ref).json()
        lib.eq(r["digest"], lib.sha256(man), "pulled manifest digest (Docker schema 2 kept as is)")
        lib.eq(r["destination"], "local:%s" % ref, "destination")
        lib.eq((r["copied"], r["skipped"]), (4, 0), "config and 3 layers read")
        imgs = _images(root)
        lib.eq(len(imgs), 1, "images")
        lib.eq(imgs[0]["names"], [ref], "the image's name")
        lib.eq(imgs[0]["manifest"], lib.sha256(man), "manifest digest in the store")
        lib.eq(sorted(l["digest"] for l in _layers(root)), sorted(layers), "layer blob digests recorded")
        # again: the store has every layer, none is read (the config is)
        r = berth("pull", TLS, "--json", "--root", root, ref).json()
        lib.eq((r["copied"], r["skipped"]), (1, 3), "second pull skips the layers")
        # the files are there
        path = berth("mount", ref, "--name", "c", "--root", root).out.strip().splitlines()[-1]
        try:
            lib.eq(len(os.listdir(path)), 3, "three layer folders in the root file system")
            lib.eq(len(os.listdir(os.path.join(path, "dir1"))), 3, "files of layer 1")
        finally:
            berth("rm", "c", "--root", root)
        # by digest, and through copy with another name
        berth("copy", TLS, "-q", "--root", root, docker_ref(reg, repo, lib.sha256(man)), "local:other:x")
        names = sorted(n for i in _images(root) for n in i["names"])
        lib.eq(names, sorted([ref, "other:x"]), "two names, one image")
        lib.eq(len(_images(root)), 1, "still one image")
        # a progress display that reports the unpack phase
        e = berth("pull", TLS, "--root", root, ref)
        lib.ok("already there, skipped" in e.err, "non-tty progress lines: %r" % e.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_pull_failures_leave_the_store_as_it_was(reg):
    _need_root()
    tmp = tmpdir()
    proxy = None
    try:
        root = os.path.join(tmp, "store")
        # the store holds an image already
        _, _, _, repo0 = _pushed(reg, tmp, name="first", nlayers=1, size=5000)
        berth("pull", TLS, "-q", "--root", root, _ref(reg.server.port, repo0))
        before = _state(root)
        lib.eq(len(before[0]), 1, "one image before")

        # diff_id: the config names another uncompressed digest for layer 1
        def wrong_diff(cfg):
            cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
        _, _, _, repo = _pushed(reg, tmp, name="d", mutate_config=wrong_diff)
        e = berth("pull", TLS, "-q", "--root", root, _ref(reg.server.port, repo), rc=1)
        lib.ok("the unpacked tar hashes to" in e.err and e.err.count("\n") == 1, "diff_id message: %r" % e.err)
        lib.eq(_state(root), before, "store after a diff_id mismatch")

        lay, man, layers, repo = _pushed(reg, tmp, name="src", nlayers=3, size=100000)

        # one flipped byte in layer 2 (a registry or a wire that lies)
        proxy = Proxy(reg.server.port, corrupt_digest=layers[2])
        e = berth("pull", TLS, "-q", "--root", root, _ref(proxy.port, repo), rc=1)
        lib.ok(layers[2] in e.err and e.err.count("\n") == 1, "corrupt layer message: %r" % e.err)
        lib.eq(_state(root), before, "store after a corrupt layer")
        proxy.close()

        # the network breaks off for good: retried, then failed
        proxy = Proxy(reg.server.port, cut_digest=layers[1], cut_times=100)
        e = berth("pull", TLS, "-q", "--retries", "1", "--root", root, _ref(proxy.port, repo), rc=1)
        lib.ok("broke off 2 times" in e.err, "network cut message: %r" % e.err)
        lib.eq(len(proxy.blob_gets(layers[1])), 2, "one try and one resumption")
        lib.eq(_state(root), before, "store after a network cut")
        proxy.close()

        # Ctrl-C while a layer trickles in
        proxy = Proxy(reg.server.port, slow_digest=layers[0])
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        p = subprocess.Popen([lib.BERTH_BIN, "pull", "-q", TLS, "--root", root, _ref(proxy.port, repo)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        deadline = time.time() + 20
        while not proxy.blob_gets(layers[0]) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        lib.eq(p.returncode, 1, "exit status after Ctrl-C (stderr %r)" % err)
        lib.ok(err.endswith("cancelled\n") and err.count("\n") == 1, "Ctrl-C message: %r" % err)
        lib.eq(_state(root), before, "store after Ctrl-C")
        proxy.close()
        proxy = None

        # and the same image pulls fine afterwards
        r = berth("pull", TLS, "--json", "--root", root, _ref(reg.server.port, repo)).json()
        lib.eq(r["digest"], lib.sha256(man), "digest of the good pull")
        lib.eq(len(_images(root)), 2, "two images after the good pull")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_pull_resumes_a_cut_layer_mid_stream(reg):
    _need_root()
    tmp = tmpdir()
    proxy = None
    try:
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=2, size=300000)
        for what, kw in (("range", {"cut_digest": layers[1], "cut_times": 2}),
                         ("wrong-range", {"cut_digest": layers[0], "wrong_range": True})):
            root = os.path.join(tmp, "store-" + what)
            proxy = Proxy(reg.server.port, **kw)
            r = berth("pull", TLS, "--json", "--root", root, _ref(proxy.port, repo)).json()
            lib.eq(r["digest"], lib.sha256(man), "%s: digest" % what)
            target = kw["cut_digest"]
            gets = proxy.blob_gets(target)
            if what == "range":
                lib.eq([g[2] is not None for g in gets], [False, True, True], "%s: resumed twice: %s" % (what, gets))
            else:
                lib.eq([g[2] is not None for g in gets], [False, True, False],
                       "%s: resumed at a wrong offset, then whole: %s" % (what, gets))
            path = berth("mount", _ref(proxy.port, repo), "--name", "c", "--root", root).out.strip().splitlines()[-1]
            try:
                i = layers.index(target)
                for j in range(3):
                    got = _read(os.path.join(path, "dir%d" % i, "file%d.txt" % j))
                    lib.eq(len(got), 300000 + j, "%s: file %d of the cut layer" % (what, j))
            finally:
                berth("rm", "c", "--root", root)
            proxy.close()
            proxy = None
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_pull_platforms_of_an_index(reg):
    _need_root()
    tmp = tmpdir()
    try:
        root = os.path.join(tmp, "store")
        lay = Layout(os.path.join(tmp, "src"))
        children = []
        for arch in ("amd64", "arm64"):
            man, _, cfg = lay.image(arch=arch, nlayers=1, size=1000)
            children.append((arch, man, cfg))
        idx = lib.image_index([dict(lib.descriptor(lib.OCI_MANIFEST, m), platform={"os": "linux", "architecture": a})
                               for a, m, _ in children])
        lay.put(idx)
        lay.add_ref(idx, lib.OCI_INDEX, "multi")
        repo = lib.repo_name("pull")
        berth("copy", TLS, "-q", "--all", "oci:%s:multi" % lay.path, docker_ref(reg, repo, "multi"))
        ref = _ref(reg.server.port, repo, "multi")
        host = os.uname().machine
        if host in ("x86_64", "aarch64"):
            want = "amd64" if host == "x86_64" else "arm64"
            r = berth("pull", TLS, "--json", "--root", root, ref).json()
            m = [c for c in children if c[0] == want][0]
            lib.eq((r["digest"], r["platform"]), (lib.sha256(m[1]), "linux/" + want), "host platform picked")
        r = berth("pull", TLS, "--json", "--platform", "linux/arm64", "--root", root, ref).json()
        lib.eq(r["digest"], lib.sha256(children[1][1]), "--platform linux/arm64")
        lib.eq([i["id"] for i in _images(root) if ref in i["names"]], [lib.sha256(children[1][2])],
               "the name now points at the arm64 image")
        before = _state(root)
        e = berth("pull", TLS, "--all", "--root", root, ref, rc=1)
        lib.ok("pick one with --platform" in e.err, "--all into the store: %r" % e.err)
        e = berth("pull", TLS, "--platform", "linux/s390x", "--root", root, ref, rc=1)
        lib.ok("has no image for linux/s390x" in e.err, "missing platform: %r" % e.err)
        lib.eq(_state(root), before, "store after the refused pulls")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_pull_usage_and_store_errors(reg):
    _need_root()
    tmp = tmpdir()
    try:
        e = berth("pull", TLS, "--root", os.path.join(tmp, "s"), "--driver", "zfs", _ref(reg.server.port, "x/y"),
                  rc=1)
        lib.ok("unknown graph driver" in e.err, "unknown driver: %r" % e.err)
        e = berth("pull", "oci:/nonexistent:x", rc=1)
        lib.ok("registry reference" in e.err, "pull of a layout: %r" % e.err)
        e = berth("pull", rc=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _kept(root):
    """The store's kept blobs as digests ("sha256:<hex>"), and what is left in their staging folder."""
    out = set()
    top = os.path.join(root, "blobs")
    for alg in os.listdir(top):
        if not alg.startswith("."):
            out.update("%s:%s" % (alg, h) for h in os.listdir(os.path.join(top, alg)))
    return out, os.listdir(os.path.join(top, ".staging"))


def test_local_as_a_source_round_trips_every_digest(reg):
    _need_root()
    tmp = tmpdir()
    try:
        root = os.path.join(tmp, "store")
        lay, man, layers, repo = _pushed(reg, tmp, nlayers=3, size=60000)
        cfg = json.loads(man)["config"]["digest"]
        ref = _ref(reg.server.port, repo)
        berth("pull", TLS, "-q", "--root", root, ref)
        kept, staging = _kept(root)
        lib.eq(kept, set(layers) | {cfg, lib.sha256(man)}, "the store keeps manifest, config and layer blobs")
        lib.eq(staging, [], "nothing left in the blob staging folder")
        for d in layers:
            lib.eq(_read(os.path.join(root, "blobs", "sha256", d[7:])), layout_blob(lay.path, d),
                   "kept blob %s byte for byte (gzip, not re-tarred)" % d)

        # registry -> local -> OCI layout -> registry
        out = os.path.join(tmp, "out")
        r = berth("copy", "--json", "--root", root, "local:%s" % ref, "oci:%s:v1" % out).json()
        lib.eq(r["digest"], lib.sha256(man), "local: -> oci: keeps the manifest digest")
        idx = layout_index(out)
        lib.eq(idx["manifests"][0]["digest"], lib.sha256(man), "the layout's entry")
        lib.eq(layout_blob(out, lib.sha256(man)), man, "manifest bytes in the layout")
        for d in layers + [cfg]:
            lib.eq(layout_blob(out, d), layout_blob(lay.path, d), "blob %s in the layout" % d)
        r = berth("copy", TLS, "--json", "oci:%s:v1" % out, docker_ref(reg, repo + "-back", "v1")).json()
        lib.eq(r["digest"], lib.sha256(man), "oci: -> registry keeps the manifest digest")
        lib.eq(sorted(b["digest"] for b in r["blobs"]), sorted(layers + [cfg]), "every blob digest kept")
        raw = berth("inspect", TLS, "--raw", docker_ref(reg, repo + "-back", "v1"))
        lib.eq(raw.out.encode(), man, "the registry holds the original manifest bytes")

        # local -> registry directly, and berth push local:
        r = berth("copy", TLS, "--json", "--root", root, "local:%s" % ref,
                  docker_ref(reg, repo + "-direct", "v2")).json()
        lib.eq(r["digest"], lib.sha256(man), "local: -> docker:// keeps the manifest digest")
        lib.eq(sorted(b["digest"] for b in r["blobs"]), sorted(layers + [cfg]), "blob digests local: -> docker://")
        raw = berth("inspect", TLS, "--raw", docker_ref(reg, repo + "-direct", "v2"))
        lib.eq(raw.out.encode(), man, "manifest bytes local: -> docker://")
        berth("push", TLS, "-q", "--root", root, "local:%s" % ref, "127.0.0.1:%d/%s-push:v3" % (reg.server.port, repo))
        raw = berth("inspect", TLS, "--raw", docker_ref(reg, repo + "-push", "v3"))
        lib.eq(raw.out.encode(), man, "berth push local: keeps the manifest bytes")
        # by manifest digest
        r = berth("copy", "--json", "--root", root, "local:%s@%s" % (ref.rsplit(":", 1)[0], lib.sha256(man)),
                  "oci:%s:bydigest" % out).json()
        lib.eq(r["digest"], lib.sha256(man), "local:NAME@DIGEST")

        # a Docker schema 2 image keeps its Docker manifest through local: -> docker://
        _, dman, dlayers, drepo = _pushed(reg, tmp, name="dock", nlayers=2, size=30000, docker=True)
        dref = _ref(reg.server.port, drepo)
        berth("pull", TLS, "-q", "--root", root, dref)
        r = berth("copy", TLS, "--json", "--root", root, "local:%s" % dref, docker_ref(reg, drepo + "-b", "v1")).json()
        lib.eq(r["digest"], lib.sha256(dman), "Docker schema 2 manifest digest kept")
        lib.eq(berth("inspect", TLS, "--raw", docker_ref(reg, drepo + "-b", "v1")).out.encode(), dman,
               "Docker manifest bytes")

        # a kept blob that changed on disk is refused, never handed on
        victim = os.path.join(root, "blobs", "sha256", layers[1][7:])
        good = _read(victim)
        with open(victim, "r+b") as f:
            f.seek(100)
            f.write(bytes([good[100] ^ 1]))
        e = berth("copy", "-q", "--root", root, "local:%s" % ref, "oci:%s:bad" % os.path.join(tmp, "bad"), rc=1)
        lib.ok("digest" in e.err and e.err.count("\n") == 1, "a changed kept blob: %r" % e.err)
        lib.ok(not os.path.exists(os.path.join(tmp, "bad")), "no layout made from a bad blob")
        with open(victim, "wb") as f:
            f.write(good)

        # an image stored without its blobs (a berth before this change): one clear line; pulling it
        # again fetches the blobs even though every layer is there
        os.unlink(victim)
        e = berth("copy", "-q", "--root", root, "local:%s" % ref, "oci:%s:x" % os.path.join(tmp, "x"), rc=1)
        lib.eq(e.err, "berth: image %s was stored without its blobs; pull it again\n" % ref, "missing blobs")
        r = berth("pull", TLS, "--json", "--root", root, ref).json()
        lib.eq(_read(victim), good, "the pull fetched the missing blob again")
        berth("copy", "-q", "--root", root, "local:%s" % ref, "oci:%s:again" % out)
        e = berth("copy", "--root", root, "local:nothing:here", "oci:%s:x" % os.path.join(tmp, "x"), rc=1)
        lib.ok("no image nothing:here" in e.err, "unknown local image: %r" % e.err)

        # rmi removes the blobs no other image needs; shared ones stay until the last image goes
        berth("copy", TLS, "-q", "--root", root, docker_ref(reg, repo, "v1"), "local:copy:one")  # same image, 2nd name
        berth("rmi", "--root", root, dref)
        kept, _ = _kept(root)
        lib.eq(kept, set(layers) | {cfg, lib.sha256(man)}, "the Docker image's blobs went with it")
        berth("rmi", "--root", root, ref)
        lib.eq(_kept(root)[0], set(layers) | {cfg, lib.sha256(man)}, "untagging keeps the blobs")
        berth("rmi", "--root", root, "copy:one")
        lib.eq(_kept(root), (set(), []), "the last rmi removes every kept blob")
        lib.eq(_layers(root), [], "and every layer")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_failed_put_keeps_no_blobs(reg):
    _need_root()
    tmp = tmpdir()
    proxy = None
    try:
        root = os.path.join(tmp, "store")
        _, man0, layers0, repo0 = _pushed(reg, tmp, name="first", nlayers=1, size=5000)
        berth("pull", TLS, "-q", "--root", root, _ref(reg.server.port, repo0))
        before = _kept(root)
        lay, man, layers, repo = _pushed(reg, tmp, name="src", nlayers=3, size=100000)
        # layers 0 and 1 arrive whole (their blobs are staged), layer 2 is corrupt: nothing is kept
        proxy = Proxy(reg.server.port, corrupt_digest=layers[2])
        e = berth("pull", TLS, "-q", "--jobs", "1", "--root", root, _ref(proxy.port, repo), rc=1)
        lib.ok(layers[2] in e.err, "corrupt layer message: %r" % e.err)
        lib.eq(_kept(root), before, "kept blobs and blob staging after a failed put")
        # a blob-only fetch (layer present, blob missing) that fails keeps nothing either
        berth("pull", TLS, "-q", "--root", root, _ref(reg.server.port, repo))
        os.unlink(os.path.join(root, "blobs", "sha256", layers[2][7:]))
        before = _kept(root)
        e = berth("pull", TLS, "-q", "--root", root, _ref(proxy.port, repo), rc=1)
        lib.ok(layers[2] in e.err, "corrupt blob-only message: %r" % e.err)
        lib.eq(_kept(root), before, "nothing kept after a failed blob-only fetch")
        # prune removes kept blobs nobody names (a crash between rename and transaction)
        stray = os.path.join(root, "blobs", "sha256", "ab" * 32)
        with open(stray, "wb") as f:
            f.write(b"x")
        with open(os.path.join(root, "blobs", ".staging", "leftover"), "wb") as f:
            f.write(b"y")
        berth("prune", "--root", root)
        lib.eq(_kept(root), before, "prune removed the stray blob and the staged leftover")
    finally:
        if proxy:
            proxy.close()
        shutil.rmtree(tmp, ignore_errors=True)
