"""Manifest push/pull: exact bytes and headers, validation errors, size limit, indexes."""

import json

import lib
from lib import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

SHARED_SERVER = True


def _base(reg, repo):
    cfg = lib.make_config()
    layers = [lib.rand_bytes(300), lib.rand_bytes(200)]
    reg.push_blob(repo, cfg)
    for l in layers:
        reg.push_blob(repo, l)
    return cfg, layers


def _check_get(reg, repo, ref, body, media_type):
    d = lib.sha256(body)
    r = reg.get_manifest(repo, ref)
    lib.status(r, 200, "GET manifest %s" % ref)
    lib.eq(r.body, body, "manifest bytes of %s" % ref)
    lib.header(r, "Content-Type", media_type)
    lib.header(r, "Docker-Content-Digest", d)
    lib.header(r, "Content-Length", str(len(body)))
    h = reg.get_manifest(repo, ref, method="HEAD")
    lib.status(h, 200, "HEAD manifest %s" % ref)
    lib.eq(h.body, b"", "HEAD body")
    lib.header(h, "Content-Type", media_type)
    lib.header(h, "Docker-Content-Digest", d)
    lib.header(h, "Content-Length", str(len(body)))


def test_manifest_roundtrip_oci(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    # unusual but valid formatting must be stored byte for byte
    body = lib.image_manifest(cfg, layers, annotations={"k": "v \u00e9 \\u00e9"})
    body = b"  " + body.replace(b"\n", b"\r\n") + b"\n\n"
    d = lib.sha256(body)
    r = reg.put_manifest(repo, "v1", body)
    lib.eq(r.location_path(), "/v2/%s/manifests/%s" % (repo, d), "manifest Location")
    lib.header(r, "Docker-Content-Digest", d)
    _check_get(reg, repo, "v1", body, OCI_MANIFEST)
    _check_get(reg, repo, d, body, OCI_MANIFEST)
    # push by digest too
    r = reg.put_manifest(repo, d, body)
    lib.header(r, "Docker-Content-Digest", d)


def test_manifest_roundtrip_docker_and_index(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    dm = lib.docker_manifest(cfg, layers)
    reg.put_manifest(repo, "docker", dm, media_type=DOCKER_MANIFEST)
    _check_get(reg, repo, "docker", dm, DOCKER_MANIFEST)
    om = lib.image_manifest(cfg, layers)
    reg.put_manifest(repo, lib.sha256(om), om)
    idx = lib.image_index([(om, OCI_MANIFEST, {"architecture": "amd64", "os": "linux"}),
                           (dm, DOCKER_MANIFEST, {"architecture": "arm64", "os": "linux"})])
    r = reg.put_manifest(repo, "multi", idx, media_type=OCI_INDEX)
    lib.header(r, "Docker-Content-Digest", lib.sha256(idx))
    _check_get(reg, repo, "multi", idx, OCI_INDEX)
    # retagging moves the tag
    reg.put_manifest(repo, "multi", om)
    _check_get(reg, repo, "multi", om, OCI_MANIFEST)
    _check_get(reg, repo, lib.sha256(idx), idx, OCI_INDEX)


def test_manifest_invalid_json(reg):
    repo = lib.repo_name("man")
    _base(reg, repo)
    bodies = [b"{bad json", b"", b"[]", b'{"schemaVersion": 2, "mediaType": "%s", "config": ' % OCI_MANIFEST.encode()]
    if lib.IS_BERTH:  # docker-registry answers 500 to these
        bodies += [b"null", b"\xff\xfe{}", b'"str"', b"{" * 10000]
    for body in bodies:
        r = reg.put_manifest(repo, "bad", body, expect=None)
        lib.error(r, 400, "MANIFEST_INVALID", "PUT manifest %r" % body[:20])
    lib.status(reg.get_manifest(repo, "bad"), 404, "nothing stored for a rejected manifest")


def test_manifest_media_type_mismatch(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    om = lib.image_manifest(cfg, layers)
    r = reg.put_manifest(repo, "t", om, media_type=DOCKER_MANIFEST, expect=None)
    lib.error(r, 400, "MANIFEST_INVALID", "OCI manifest sent as Docker Content-Type")
    dm = lib.docker_manifest(cfg, layers)
    r = reg.put_manifest(repo, "t", dm, media_type=OCI_MANIFEST, expect=None)
    lib.error(r, 400, "MANIFEST_INVALID", "Docker manifest sent as OCI Content-Type")
    r = reg.put_manifest(repo, "t", om, media_type=OCI_INDEX, expect=None)
    lib.error(r, 400, "MANIFEST_INVALID", "image manifest sent as index Content-Type")
    r = reg.put_manifest(repo, "t", om, media_type=None, expect=None)
    lib.error(r, 400, "MANIFEST_INVALID", "manifest without Content-Type")
    lib.status(reg.get_manifest(repo, "t"), 404, "nothing stored")


@lib.berth_only("our validation choices for schema/structure errors")
def test_manifest_structure_invalid(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    good = json.loads(lib.image_manifest(cfg, layers))
    cases = []
    m = dict(good); m["schemaVersion"] = 1; cases.append(("schemaVersion 1", m))
    m = dict(good); del m["config"]; cases.append(("no config", m))
    m = dict(good); m["layers"] = "x"; cases.append(("layers not a list", m))
    m = dict(good); m["config"] = dict(good["config"], digest="sha256:xyz")
    cases.append(("bad config digest", m))
    m = dict(good); m["mediaType"] = "application/vnd.example.nonsense+json"
    cases.append(("unknown mediaType", m))
    for what, m in cases:
        r = reg.put_manifest(repo, "t", json.dumps(m).encode(), media_type=OCI_MANIFEST, expect=None)
        lib.error(r, 400, ("MANIFEST_INVALID", "DIGEST_INVALID"), what)
    r = reg.put_manifest(repo, "t", json.dumps(good).encode(),
                         media_type="application/vnd.example.nonsense+json", expect=None)
    lib.status(r, (400, 415), "unknown Content-Type")
    if r.status == 400:
        lib.error(r, 400, ("MANIFEST_INVALID", "UNSUPPORTED"))


def test_manifest_blob_unknown(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    missing = lib.rand_bytes(100)
    body = lib.image_manifest(cfg, layers + [missing])
    r = reg.put_manifest(repo, "t", body, expect=None)
    lib.error(r, 400, "MANIFEST_BLOB_UNKNOWN", "manifest with an unknown layer")
    body = lib.image_manifest(lib.make_config(), layers)
    r = reg.put_manifest(repo, "t", body, expect=None)
    lib.error(r, 400, "MANIFEST_BLOB_UNKNOWN", "manifest with an unknown config")
    # blob that exists only in another repository
    other = lib.repo_name("man")
    reg.push_blob(other, missing)
    r = reg.put_manifest(repo, "t", lib.image_manifest(cfg, layers + [missing]), expect=None)
    lib.error(r, 400, "MANIFEST_BLOB_UNKNOWN", "manifest with a layer of another repository")
    # index whose child manifest is unknown
    idx = lib.image_index([(lib.image_manifest(cfg, layers), OCI_MANIFEST)])
    r = reg.put_manifest(repo, "i", idx, media_type=OCI_INDEX, expect=None)
    lib.error(r, 400, "MANIFEST_BLOB_UNKNOWN", "index with an unknown child")
    lib.status(reg.get_manifest(repo, "t"), 404)
    lib.status(reg.get_manifest(repo, "i"), 404)


@lib.known_deviation("an over-4MiB manifest answers 400 MANIFEST_INVALID instead of 413")
def test_manifest_too_large(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    big = lib.image_manifest(cfg, layers, annotations={"pad": "x" * (4 * 1024 * 1024 + 16)})
    r = reg.put_manifest(repo, "big", big, expect=None)
    lib.error(r, 413, ("MANIFEST_INVALID", "SIZE_INVALID"), "PUT manifest over 4 MiB")
    lib.status(reg.get_manifest(repo, "big"), 404)
    lib.status(reg.get_manifest(repo, lib.sha256(big)), 404)
    # the server is fine afterwards
    body = lib.image_manifest(cfg, layers)
    reg.put_manifest(repo, "small", body)


def test_manifest_near_limit_accepted(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    body = lib.image_manifest(cfg, layers, annotations={"pad": "y" * (3 * 1024 * 1024 + 512 * 1024)})
    lib.ok(len(body) < 4 * 1024 * 1024, "test manifest must be under 4 MiB")
    reg.put_manifest(repo, "large", body)
    _check_get(reg, repo, "large", body, OCI_MANIFEST)


def test_manifest_put_by_wrong_digest(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    body = lib.image_manifest(cfg, layers)
    wrong = lib.sha256(body + b" ")
    r = reg.put_manifest(repo, wrong, body, expect=None)
    lib.error(r, 400, "DIGEST_INVALID", "PUT manifest by a digest it does not hash to")
    lib.status(reg.get_manifest(repo, wrong), 404)
    lib.status(reg.get_manifest(repo, lib.sha256(body)), 404)


def test_manifest_unknown(reg):
    repo = lib.repo_name("man")
    _base(reg, repo)
    lib.error(reg.get_manifest(repo, "nope"), 404, "MANIFEST_UNKNOWN", "GET unknown tag")
    lib.error(reg.get_manifest(repo, lib.sha256(b"nope")), 404, "MANIFEST_UNKNOWN",
              "GET unknown digest")
    lib.status(reg.get_manifest(repo, "nope", method="HEAD"), 404, "HEAD unknown tag")
    r = reg.get_manifest("no/such/repository", "latest")
    lib.error(r, 404, ("NAME_UNKNOWN", "MANIFEST_UNKNOWN"), "GET in an unknown repository")


@lib.berth_only("tag grammar enforcement")
def test_invalid_tags(reg):
    repo = lib.repo_name("man")
    cfg, layers = _base(reg, repo)
    body = lib.image_manifest(cfg, layers)
    for tag in ("-lead", ".lead", "a" * 129, "t%00", "t%20x", "t:x"):
        r = reg.put_manifest(repo, tag, body, expect=None)
        lib.error(r, 400, ("TAG_INVALID", "MANIFEST_INVALID", "NAME_INVALID", "DIGEST_INVALID"),
                  "PUT tag %r" % tag)
    for tag in ("_lead", "A.b-C_d", "a" * 128, "0"):
        reg.put_manifest(repo, tag, body)
        lib.eq(reg.get_manifest(repo, tag).body, body, "manifest at tag %r" % tag)
