"""The berth client against the registry under test: copies between every transport with digests
compared, skopeo reading what berth writes and berth reading what skopeo writes, multi-platform
indexes, blob skip and cross-repository mount (asserted through --json), inspect, tags, delete,
and the error lines and exit codes."""

import json
import os
import shutil
import subprocess
import tarfile

import lib
from client_lib import Layout, berth, docker_ref, layout_blob, layout_index, skopeo, tmpdir

SHARED_SERVER = True
TLS = "--tls-verify=false"


def _copy_json(*args):
    return berth("copy", "--json", TLS, *args).json()


def test_client_roundtrip_keeps_digests(reg):
    """oci: -> docker:// -> oci: -> docker-archive: -> docker:// -> oci:, digests compared at every hop."""
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, cfg = lay.image(nlayers=3)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        repo = lib.repo_name("client")
        d = lib.sha256(man)

        r = _copy_json("oci:%s:v1" % lay.path, docker_ref(reg, repo, "v1"))
        lib.eq(r["digest"], d, "digest pushed")
        lib.eq(r["copied"], 4, "blobs copied (config + 3 layers)")
        got = reg.get_manifest(repo, "v1")
        lib.status(got, 200)
        lib.eq(got.body, man, "manifest bytes in the registry")
        for l in layers:
            lib.eq(reg.get_blob(repo, l).body, layout_blob(lay.path, l), "layer bytes in the registry")

        back = os.path.join(tmp, "back")
        out = berth("copy", TLS, docker_ref(reg, repo, "v1"), "oci:%s:again" % back)
        lib.eq(out.out.strip(), d, "stdout is the manifest digest")
        idx = layout_index(back)
        lib.eq([m["digest"] for m in idx["manifests"]], [d], "index.json digest after the round trip")
        lib.eq(idx["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "again", "ref name")
        lib.eq(layout_blob(back, d), man, "manifest bytes in the layout")
        lib.eq(sorted(os.listdir(back)), ["blobs", "index.json", "oci-layout"], "nothing else in the layout")

        arch = os.path.join(tmp, "img.tar")
        r = _copy_json("oci:%s:again" % back, "docker-archive:%s:demo/app:v1" % arch)
        diff_ids = json.loads(cfg)["rootfs"]["diff_ids"]
        written = {b["digest"]: b for b in r["blobs"]}
        lib.eq(sorted(written), sorted(diff_ids + [lib.sha256(cfg)]),
               "docker-archive holds the config and the uncompressed layers (diff_ids)")
        with tarfile.open(arch) as tf:
            names = tf.getnames()
            mj = json.load(tf.extractfile("manifest.json"))
            repos = json.load(tf.extractfile("repositories"))
            lib.eq(tf.extractfile(lib.sha256(cfg).split(":")[1] + ".json").read(), cfg, "config unchanged")
            top = repos["demo/app"]["v1"]
            link = tf.getmember(top + "/layer.tar")
            lib.ok(link.issym() and link.linkname == "../%s.tar" % diff_ids[-1].split(":")[1],
                   "legacy top layer folder links the last layer")
            legacy = json.load(tf.extractfile(top + "/json"))
            lib.eq((legacy["id"], legacy["os"]), (top, "linux"), "legacy json of the top layer")
            lib.ok(legacy.get("parent") and legacy["parent"] + "/VERSION" in names, "parent folder exists")
        lib.eq(mj[0]["RepoTags"], ["demo/app:v1"], "RepoTags")
        lib.eq(mj[0]["Layers"], [x.split(":")[1] + ".tar" for x in diff_ids], "layer files by diff_id")
        lib.ok("manifest.json" in names, "manifest.json in the archive")

        r = _copy_json("docker-archive:%s" % arch, docker_ref(reg, repo, "from-archive"))
        lib.eq(sorted(b["digest"] for b in r["blobs"]), sorted(diff_ids + [lib.sha256(cfg)]),
               "blobs pushed from the archive")
        m2 = json.loads(reg.get_manifest(repo, "from-archive").body)
        lib.eq(m2["mediaType"], lib.DOCKER_MANIFEST, "archive images become Docker schema 2")
        lib.eq(m2["config"]["digest"], lib.sha256(cfg), "config digest kept")
        lib.eq([l["digest"] for l in m2["layers"]], diff_ids, "layers are the diff_ids")

        # and back out to a layout once more: OCI layouts hold OCI media types (as skopeo writes
        # them), so the Docker manifest becomes an OCI one over the same blobs
        again = os.path.join(tmp, "again")
        r2 = _copy_json(docker_ref(reg, repo, "from-archive"), "oci:%s" % again)
        entry = layout_index(again)["manifests"][0]
        lib.eq(entry["digest"], r2["digest"], "layout names the written manifest")
        lib.eq(entry["mediaType"], lib.OCI_MANIFEST, "OCI media type in the layout")
        lib.ok("annotations" not in entry, "no name when none was given")
        m3 = json.loads(layout_blob(again, r2["digest"]))
        lib.eq(m3["config"], dict(m2["config"], mediaType=lib.OCI_CONFIG), "same config, OCI type")
        lib.eq([(l["digest"], l["size"]) for l in m3["layers"]], [(l["digest"], l["size"]) for l in m2["layers"]],
               "same layers")
        lib.eq({l["mediaType"] for l in m3["layers"]}, {"application/vnd.oci.image.layer.v1.tar"},
               "uncompressed OCI layer type")
        # and that layout back into the registry keeps the OCI digest
        r3 = _copy_json("oci:%s" % again, docker_ref(reg, repo, "oci-again"))
        lib.eq(r3["digest"], r2["digest"], "OCI digest kept from layout to registry")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_oci_archive_roundtrip(reg):
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, _, _ = lay.image(nlayers=2, docker=True)
        lay.add_ref(man, lib.DOCKER_MANIFEST, "d1")
        arch = os.path.join(tmp, "a.tar")
        r = _copy_json("oci:%s:d1" % lay.path, "oci-archive:%s:x1" % arch)
        with tarfile.open(arch) as tf:
            names = tf.getnames()
            ociman = tf.extractfile("blobs/sha256/" + r["digest"].split(":")[1]).read()
        lib.ok("index.json" in names and "oci-layout" in names, "archive holds a layout: %s" % names)
        dm, om = json.loads(man), json.loads(ociman)
        lib.eq(om["mediaType"], lib.OCI_MANIFEST, "Docker manifest written as OCI into the archive")
        lib.eq(om["config"]["digest"], dm["config"]["digest"], "same config")
        lib.eq([l["digest"] for l in om["layers"]], [l["digest"] for l in dm["layers"]], "same layers")
        lib.eq({l["mediaType"] for l in om["layers"]}, {lib.OCI_LAYER_GZIP}, "OCI gzip layer type")
        repo = lib.repo_name("client")
        r2 = _copy_json("oci-archive:%s:x1" % arch, docker_ref(reg, repo, "t"))
        lib.eq(r2["digest"], r["digest"], "digest from the archive to the registry")
        got = reg.get_manifest(repo, "t")
        lib.header(got, "Content-Type", lib.OCI_MANIFEST)
        lib.eq(got.body, ociman, "exact bytes")
        # skopeo reads the berth-written archive
        info = json.loads(skopeo("inspect", "oci-archive:%s:x1" % arch).stdout)
        lib.eq(info["Digest"], r["digest"], "skopeo inspect of berth's oci-archive")
        # a second write replaces the archive
        r = _copy_json("oci:%s:d1" % lay.path, "oci-archive:%s" % arch)
        lib.eq(len(json.load(tarfile.open(arch).extractfile("index.json"))["manifests"]), 1, "one image")
        lib.eq([f for f in os.listdir(tmp) if f.startswith(".berth")], [], "no staging left behind")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_skopeo_reads_berth_outputs(reg):
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, cfg = lay.image(nlayers=2)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        out = os.path.join(tmp, "berth-oci")
        berth("copy", "oci:%s:v1" % lay.path, "oci:%s:v2" % out)
        info = json.loads(skopeo("inspect", "oci:%s:v2" % out).stdout)
        lib.eq(info["Digest"], lib.sha256(man), "skopeo inspect Digest of a berth layout")
        lib.eq(info["Layers"], layers, "skopeo inspect Layers")
        raw = skopeo("inspect", "--raw", "oci:%s:v2" % out).stdout
        lib.eq(raw.encode(), man, "skopeo inspect --raw")
        # skopeo copies the berth layout to the registry, digests preserved
        repo = lib.repo_name("client")
        skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", "oci:%s:v2" % out,
               docker_ref(reg, repo, "sk"))
        lib.eq(reg.get_manifest(repo, "sk").body, man, "skopeo pushed the same bytes")
        # docker-archive written by berth: skopeo inspects and copies it
        arch = os.path.join(tmp, "d.tar")
        berth("copy", "oci:%s:v1" % lay.path, "docker-archive:%s:app:v9" % arch)
        info = json.loads(skopeo("inspect", "docker-archive:%s" % arch).stdout)
        lib.eq(info["Layers"], json.loads(cfg)["rootfs"]["diff_ids"], "skopeo sees the diff_ids as layers")
        back = os.path.join(tmp, "sk-back")
        skopeo("copy", "docker-archive:%s:app:v9" % arch, "oci:%s:z" % back)  # found by its tag
        idx = layout_index(back)
        sm = json.loads(layout_blob(back, idx["manifests"][0]["digest"]))
        scfg = json.loads(layout_blob(back, sm["config"]["digest"]))  # skopeo rewrites the config as OCI
        lib.eq(scfg["rootfs"]["diff_ids"], json.loads(cfg)["rootfs"]["diff_ids"], "diff_ids through skopeo")
        lib.eq(len(sm["layers"]), 2, "layers through skopeo")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_reads_skopeo_outputs(reg):
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, cfg = lay.image(nlayers=2)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        sk_oci = os.path.join(tmp, "sk-oci")
        skopeo("copy", "--preserve-digests", "oci:%s:v1" % lay.path, "oci:%s:s1" % sk_oci)
        repo = lib.repo_name("client")
        r = _copy_json("oci:%s:s1" % sk_oci, docker_ref(reg, repo, "a"))
        lib.eq(r["digest"], lib.sha256(man), "berth pushes skopeo's layout unchanged")
        sk_arch = os.path.join(tmp, "sk.tar")
        skopeo("copy", "oci:%s:v1" % lay.path, "docker-archive:%s:sk/app:t1" % sk_arch)
        info = berth("inspect", "--json", "docker-archive:%s:sk/app:t1" % sk_arch).json()
        lib.eq(info["image"]["config"]["digest"], lib.sha256(cfg), "config of skopeo's archive")
        lib.eq([l["digest"] for l in info["image"]["layers"]], json.loads(cfg)["rootfs"]["diff_ids"],
               "layers of skopeo's archive (uncompressed)")
        r = _copy_json("docker-archive:%s" % sk_arch, docker_ref(reg, repo, "b"))
        m = json.loads(reg.get_manifest(repo, "b").body)
        lib.eq(m["config"]["digest"], lib.sha256(cfg), "config pushed from skopeo's archive")
        # an unknown name in the archive is a clear error
        e = berth("inspect", "docker-archive:%s:sk/other:t1" % sk_arch, rc=1)
        lib.ok("no image tagged sk/other:t1" in e.err, "message: %s" % e.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _multiarch(tmp):
    lay = Layout(os.path.join(tmp, "multi"))
    m1, l1, _ = lay.image("amd64", nlayers=2)
    m2, l2, _ = lay.image("arm64", nlayers=2, variant="v8")
    idx = lib.image_index([(m1, lib.OCI_MANIFEST, {"architecture": "amd64", "os": "linux"}),
                           (m2, lib.OCI_MANIFEST, {"architecture": "arm64", "os": "linux", "variant": "v8"})])
    lay.put(idx)
    lay.add_ref(idx, lib.OCI_INDEX, "multi")
    return lay, idx, (m1, l1), (m2, l2)


def test_client_multiplatform_all_and_platform(reg):
    tmp = tmpdir()
    try:
        lay, idx, (m1, l1), (m2, l2) = _multiarch(tmp)
        repo = lib.repo_name("client")
        r = _copy_json("--all", "oci:%s:multi" % lay.path, docker_ref(reg, repo, "multi"))
        lib.eq(r["digest"], lib.sha256(idx), "index digest")
        lib.eq(r["manifests"], [lib.sha256(m1), lib.sha256(m2), lib.sha256(idx)], "manifests written in order")
        lib.eq(reg.get_manifest(repo, "multi").body, idx, "index bytes")
        for m in (m1, m2):
            lib.eq(reg.get_manifest(repo, lib.sha256(m)).body, m, "child bytes")
        # --platform picks one child; the destination gets that manifest under the tag
        out = os.path.join(tmp, "arm")
        r = _copy_json("--platform", "linux/arm64", docker_ref(reg, repo, "multi"), "oci:%s:arm" % out)
        lib.eq(r["digest"], lib.sha256(m2), "arm64 child chosen")
        lib.eq(r["platform"], "linux/arm64", "platform reported")
        lib.eq(sorted(b["digest"] for b in r["blobs"] if not b["config"]), sorted(l2), "arm64 layers only")
        # the whole index to a layout and back: same digests
        allout = os.path.join(tmp, "all")
        r = _copy_json("--all", docker_ref(reg, repo, "multi"), "oci:%s:multi" % allout)
        lib.eq(layout_index(allout)["manifests"][0]["digest"], lib.sha256(idx), "index in the layout")
        lib.eq(layout_blob(allout, lib.sha256(m1)), m1, "child in the layout")
        # a platform the index lacks
        e = berth("copy", TLS, "--platform", "linux/s390x", docker_ref(reg, repo, "multi"),
                  "oci:%s:x" % os.path.join(tmp, "none"), rc=1)
        lib.ok("no image for linux/s390x" in e.err and "linux/amd64" in e.err, "message: %s" % e.err)
        lib.ok(not os.path.exists(os.path.join(tmp, "none")), "nothing written for a failed copy")
        # inspect of an index lists platforms and shows the chosen image
        info = berth("inspect", TLS, "--json", "--platform", "linux/arm64/v8",
                     docker_ref(reg, repo, "multi")).json()
        lib.eq(info["digest"], lib.sha256(idx), "inspect digest of the index")
        lib.eq([p["platform"] for p in info["platforms"]], ["linux/amd64", "linux/arm64/v8"], "platforms")
        lib.eq(info["image"]["digest"], lib.sha256(m2), "image shown for --platform")
        lib.eq(info["image"]["platform"], "linux/arm64/v8", "its platform from the config")
        raw = berth("inspect", TLS, "--raw", docker_ref(reg, repo, "multi"))
        lib.eq(raw.out.encode(), idx, "--raw prints the index bytes")
        # docker-archive cannot hold an index
        e = berth("copy", TLS, "--all", docker_ref(reg, repo, "multi"),
                  "docker-archive:%s" % os.path.join(tmp, "x.tar"), rc=1)
        lib.ok("--platform" in e.err, "message: %s" % e.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_second_push_skips_and_mount(reg):
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, _ = lay.image(nlayers=4)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        repo = lib.repo_name("client")
        r1 = _copy_json("--jobs", "4", "oci:%s:v1" % lay.path, docker_ref(reg, repo, "v1"))
        lib.eq([b["action"] for b in r1["blobs"]], ["copied"] * 5, "first push copies every blob")
        lib.ok(r1["bytesCopied"] > 0, "bytes copied")
        r2 = _copy_json("oci:%s:v1" % lay.path, docker_ref(reg, repo, "v2"))
        lib.eq([b["action"] for b in r2["blobs"]], ["skipped"] * 5, "second push skips every blob")
        lib.eq((r2["copied"], r2["skipped"], r2["bytesCopied"]), (0, 5, 0), "counts of the second push")
        lib.eq(reg.get_manifest(repo, "v2").body, man, "second tag written")
        # same registry, other repository: mounted, not copied
        other = lib.repo_name("client")
        r3 = _copy_json(docker_ref(reg, repo, "v1"), docker_ref(reg, other, "v1"))
        lib.eq([b["action"] for b in r3["blobs"]], ["mounted"] * 5, "cross-repository mount")
        lib.eq(reg.get_manifest(other, "v1").body, man, "mounted image readable")
        for l in layers:
            lib.status(reg.head_blob(other, l), 200, "mounted blob")
        # into an existing layout: blobs already there are skipped too
        out = os.path.join(tmp, "out")
        berth("copy", "oci:%s:v1" % lay.path, "oci:%s:a" % out)
        r4 = _copy_json("oci:%s:v1" % lay.path, "oci:%s:b" % out)
        lib.eq(r4["skipped"], 5, "skipped in an existing layout")
        lib.eq(sorted(m["annotations"]["org.opencontainers.image.ref.name"]
                      for m in layout_index(out)["manifests"]), ["a", "b"], "both names in index.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_big_blob_chunked_and_parallel(reg):
    """A layer over the 32 MiB single-PUT limit goes up in PATCH chunks; 8 layers with --jobs 3."""
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, _ = lay.image(nlayers=8, size=500, big=34 << 20)
        lay.add_ref(man, lib.OCI_MANIFEST, "big")
        repo = lib.repo_name("client")
        r = _copy_json("-j", "3", "oci:%s:big" % lay.path, docker_ref(reg, repo, "big"))
        lib.eq(r["copied"], 9, "all blobs copied")
        big = max(r["blobs"], key=lambda b: b["size"])
        lib.ok(big["size"] > 32 << 20, "one blob over 32 MiB")
        lib.eq(reg.get_blob(repo, big["digest"]).body, layout_blob(lay.path, big["digest"]), "big blob bytes")
        back = os.path.join(tmp, "back")
        r = _copy_json("-j", "3", docker_ref(reg, repo, "big"), "oci:%s:big" % back)
        lib.eq(layout_blob(back, big["digest"]), layout_blob(lay.path, big["digest"]), "big blob back")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_inspect_tags_delete(reg):
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, cfg = lay.image(nlayers=2)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        repo = lib.repo_name("client")
        for t in ("v1", "v2", "v3"):
            berth("copy", TLS, "-q", "oci:%s:v1" % lay.path, docker_ref(reg, repo, t))
        ref = docker_ref(reg, repo, "v1")
        s = berth("inspect", TLS, ref).out
        for want in ("Digest:      " + lib.sha256(man), "Platform:    linux/amd64",
                     "Created:     2024-01-01T00:00:00Z", "Layers:      2,", layers[0], "layer 1"):
            lib.ok(want in s, "summary shows %r:\n%s" % (want, s))
        lib.eq(berth("inspect", TLS, "--raw", ref).out.encode(), man, "--raw is the exact bytes")
        lib.eq(berth("inspect", TLS, "--config", ref).out.encode(), cfg, "--config is the exact bytes")
        j = berth("inspect", TLS, "--json", ref).json()
        lib.eq(j["digest"], lib.sha256(man), "json digest")
        lib.eq(j["image"]["config"]["digest"], lib.sha256(cfg), "json config")
        lib.eq([l["digest"] for l in j["image"]["layers"]], layers, "json layers")
        lib.eq(j["image"]["history"][1]["createdBy"], "layer 1", "json history")
        lib.eq(j["image"]["env"], ["A=1"], "json env")
        lib.eq(j["image"]["size"], sum(len(layout_blob(lay.path, l)) for l in layers), "json size")
        # by digest
        j2 = berth("inspect", TLS, "--json", docker_ref(reg, repo, lib.sha256(man))).json()
        lib.eq(j2["digest"], lib.sha256(man), "inspect by digest")
        # tags
        lib.eq(berth("tags", TLS, docker_ref(reg, repo)).out.split(), ["v1", "v2", "v3"], "tags")
        tj = berth("tags", TLS, "--json", docker_ref(reg, repo)).json()
        lib.eq(tj["tags"], ["v1", "v2", "v3"], "tags --json")
        lib.eq(berth("tags", "oci:%s" % lay.path).out.split(), ["v1"], "tags of a layout")
        # delete by tag removes the manifest (and so every tag of it)
        berth("delete", TLS, docker_ref(reg, repo, "v2"))
        lib.status(reg.get_manifest(repo, lib.sha256(man)), 404, "manifest after delete")
        e = berth("inspect", TLS, ref, rc=1)
        lib.ok(e.err.startswith("berth: manifest unknown: ") and e.err.count("\n") == 1,
               "one plain line: %r" % e.err)
        e = berth("delete", TLS, ref, rc=1)
        lib.ok("manifest unknown" in e.err, "delete of a missing manifest: %r" % e.err)
        # delete in a layout drops the name and the blobs only it used
        out = os.path.join(tmp, "out")
        berth("copy", "oci:%s:v1" % lay.path, "oci:%s:a" % out)
        berth("copy", "oci:%s:v1" % lay.path, "oci:%s:b" % out)
        berth("delete", "oci:%s:a" % out)
        lib.eq([m["annotations"]["org.opencontainers.image.ref.name"] for m in layout_index(out)["manifests"]],
               ["b"], "name removed")
        lib.eq(layout_blob(out, layers[0]), layout_blob(lay.path, layers[0]), "shared blob kept")
        berth("delete", "oci:%s:b" % out)
        lib.eq(os.listdir(os.path.join(out, "blobs", "sha256")), [], "unreferenced blobs collected")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_errors_and_usage(reg):
    tmp = tmpdir()
    try:
        repo = lib.repo_name("client")
        # HTTPS is the default: a plain-HTTP registry fails with a pointer to the flag
        e = berth("inspect", docker_ref(reg, repo, "v1"), rc=1)
        lib.ok(e.err.startswith("berth: ") and "--tls-verify=false" in e.err, "message: %r" % e.err)
        e = berth("inspect", TLS, docker_ref(reg, repo, "nope"), rc=1)
        lib.ok("manifest unknown" in e.err, "message: %r" % e.err)
        e = berth("copy", "docker://library/busybox", "oci:%s" % os.path.join(tmp, "x"), rc=1)
        lib.ok("no default registry" in e.err, "message: %r" % e.err)
        e = berth("copy", "oci:%s" % os.path.join(tmp, "missing"), "oci:%s" % os.path.join(tmp, "x"), rc=1)
        lib.ok("not an OCI image layout" in e.err, "message: %r" % e.err)
        e = berth("pull", TLS, "--root", os.path.join(tmp, "store"), "127.0.0.1:%d/%s:nope" % (reg.server.port, repo),
                  rc=1)
        lib.eq(e.err, "berth: manifest unknown: 127.0.0.1:%d/%s:nope\n" % (reg.server.port, repo),
               "pull of a missing tag")
        if os.geteuid() == 0:  # the store needs root; never the machine's own store
            e = berth("copy", "--root", os.path.join(tmp, "store"), "local:app:v1", "oci:%s" % os.path.join(tmp, "x"),
                      rc=1)
            lib.ok("no image app:v1 in the store" in e.err, "local: source without the image: %r" % e.err)
        berth("copy", "just-one-arg", rc=2)
        berth("copy", "--jobs", "0", "a", "b", rc=2)
        berth("copy", "--tls-verify=maybe", "a", "b", rc=2)
        berth("copy", "--all", "--platform", "linux/amd64", "a", "b", rc=2)
        berth("inspect", "--raw", "--json", "x", rc=2)
        berth("logout", rc=2)
        e = berth("copy", "nonsense", "oci:/tmp/x", rc=1)
        lib.ok("unknown transport" in e.err, "message: %r" % e.err)
        lib.eq(berth("copy", "--help").rc, 0, "help exits 0")
        # push takes the registry reference without docker://
        lay = Layout(os.path.join(tmp, "p"))
        man, _, _ = lay.image(nlayers=1, size=100)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        out = berth("push", TLS, "oci:%s:v1" % lay.path, "127.0.0.1:%d/%s:pushed" % (reg.server.port, repo))
        lib.eq(out.out, lib.sha256(man) + "\n", "push prints the digest")
        lib.eq(reg.get_manifest(repo, "pushed").body, man, "pushed manifest")
        # an unreachable registry
        e = berth("inspect", TLS, "docker://127.0.0.1:1/x/y:z", rc=1)
        lib.ok("cannot connect to 127.0.0.1:1" in e.err, "message: %r" % e.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_hostile_layout_inputs(reg):
    """Layouts that lie: a blob whose bytes do not match, a manifest that is not what index.json
    says, a size that disagrees. Every copy fails with a digest message and writes nothing."""
    tmp = tmpdir()
    try:
        lay = Layout(os.path.join(tmp, "src"))
        man, layers, _ = lay.image(nlayers=2)
        lay.add_ref(man, lib.OCI_MANIFEST, "v1")
        p = os.path.join(lay.path, "blobs", "sha256", layers[1].split(":")[1])
        data = open(p, "rb").read()
        with open(p, "wb") as f:
            f.write(data[:-1] + bytes([data[-1] ^ 1]))
        repo = lib.repo_name("client")
        e = berth("copy", TLS, "oci:%s:v1" % lay.path, docker_ref(reg, repo, "v1"), rc=1)
        lib.ok("digest mismatch" in e.err and layers[1] in e.err, "message: %r" % e.err)
        lib.status(reg.get_manifest(repo, "v1"), 404, "no manifest after a failed push")
        out = os.path.join(tmp, "out")
        e = berth("copy", "oci:%s:v1" % lay.path, "oci:%s:v1" % out, rc=1)
        lib.ok("digest mismatch" in e.err, "message: %r" % e.err)
        lib.ok(not os.path.exists(out), "no destination layout after a failed copy")
        lib.eq([f for f in os.listdir(tmp) if f.startswith("out")], [], "no staging left behind")
        # an existing destination layout is left exactly as it was
        good = Layout(os.path.join(tmp, "good"))
        gm, _, _ = good.image(nlayers=1)
        good.add_ref(gm, lib.OCI_MANIFEST, "ok")
        berth("copy", "oci:%s:ok" % good.path, "oci:%s:ok" % out)
        before = sorted(os.listdir(os.path.join(out, "blobs", "sha256")))
        idx_before = open(os.path.join(out, "index.json")).read()
        berth("copy", "oci:%s:v1" % lay.path, "oci:%s:v1" % out, rc=1)
        lib.eq(sorted(os.listdir(os.path.join(out, "blobs", "sha256"))), before, "blobs unchanged")
        lib.eq(open(os.path.join(out, "index.json")).read(), idx_before, "index.json unchanged")
        lib.eq(sorted(os.listdir(out)), ["blobs", "index.json", "oci-layout"], "no staging folder left")
        # index.json pointing at a manifest whose bytes differ
        lay2 = Layout(os.path.join(tmp, "src2"))
        m2, _, _ = lay2.image(nlayers=1)
        lay2.index.append(lib.descriptor(lib.OCI_MANIFEST, m2, digest=lib.sha256(m2),
                                         annotations={"org.opencontainers.image.ref.name": "v"}))
        lay2.write_index()
        with open(os.path.join(lay2.path, "blobs", "sha256", lib.sha256(m2).split(":")[1]), "ab") as f:
            f.write(b" ")
        e = berth("inspect", "oci:%s:v" % lay2.path, rc=1)
        lib.ok("digest mismatch" in e.err, "message: %r" % e.err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
