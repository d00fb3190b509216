"""Referrers API (distribution-spec v1.1) beyond the conformance port."""

import lib
from lib import OCI_INDEX, OCI_MANIFEST

SHARED_SERVER = True


def _referrers(reg, repo, digest, query=""):
    r = reg.get("/v2/%s/referrers/%s%s" % (repo, digest, query))
    lib.status(r, 200, "GET referrers")
    lib.header(r, "Content-Type", OCI_INDEX)
    doc = r.json()
    lib.eq(doc.get("schemaVersion"), 2, "schemaVersion")
    lib.eq(doc.get("mediaType"), OCI_INDEX, "mediaType")
    return r, doc["manifests"]


@lib.requires_v11("OCI-Subject and referrers API")
def test_subject_header_and_referrers(reg):
    repo = lib.repo_name("ref")
    subj_body, subj, _ = reg.push_image(repo, tag="base")
    subject = lib.descriptor(OCI_MANIFEST, subj_body)
    reg.push_blob(repo, b"{}")
    sig = lib.rand_bytes(64)
    reg.push_blob(repo, sig)
    empty = {"mediaType": lib.OCI_EMPTY, "digest": lib.sha256(b"{}"), "size": 2}
    art = lib.image_manifest(empty, [lib.descriptor("application/vnd.example.sig", sig)],
                             subject=subject, artifact_type="application/vnd.example.sig",
                             annotations={"org.example.k": "v", "org.opencontainers.image.created":
                                          "2024-01-01T00:00:00Z"})
    r = reg.put_manifest(repo, lib.sha256(art), art)
    lib.header(r, "OCI-Subject", subj)
    # config.mediaType used as artifactType when artifactType is absent
    cfg = b'{"sbom": true}'
    reg.push_blob(repo, cfg)
    sbom = lib.image_manifest(lib.descriptor("application/vnd.example.sbom", cfg), [],
                              subject=subject)
    r = reg.put_manifest(repo, lib.sha256(sbom), sbom)
    lib.header(r, "OCI-Subject", subj)
    # an index referrer without artifactType: the descriptor has none
    idx = lib.image_index([(art, OCI_MANIFEST)], subject=subject, annotations={"i": "1"})
    r = reg.put_manifest(repo, lib.sha256(idx), idx, media_type=OCI_INDEX)
    lib.header(r, "OCI-Subject", subj)
    # a manifest without subject gets no OCI-Subject
    plain_body, _, _ = reg.push_image(repo, tag="plain")
    r = reg.put_manifest(repo, "plain2", plain_body)
    lib.eq(r.headers.get("OCI-Subject"), None, "OCI-Subject on a manifest without subject")

    r, mans = _referrers(reg, repo, subj)
    lib.eq(r.headers.get("OCI-Filters-Applied"), None, "OCI-Filters-Applied without a filter")
    by = {d["digest"]: d for d in mans}
    lib.eq(sorted(by), sorted([lib.sha256(art), lib.sha256(sbom), lib.sha256(idx)]), "referrers")
    lib.eq(by[lib.sha256(art)], {"mediaType": OCI_MANIFEST, "digest": lib.sha256(art),
                                 "size": len(art), "artifactType": "application/vnd.example.sig",
                                 "annotations": {"org.example.k": "v",
                                                 "org.opencontainers.image.created":
                                                 "2024-01-01T00:00:00Z"}}, "artifact descriptor")
    lib.eq(by[lib.sha256(sbom)].get("artifactType"), "application/vnd.example.sbom",
           "artifactType from config.mediaType")
    lib.eq(by[lib.sha256(idx)].get("mediaType"), OCI_INDEX, "index referrer mediaType")
    lib.ok("artifactType" not in by[lib.sha256(idx)],
           "index referrer without artifactType must omit it: %r" % by[lib.sha256(idx)])
    lib.eq(by[lib.sha256(idx)].get("annotations"), {"i": "1"}, "index referrer annotations")

    r, mans = _referrers(reg, repo, subj, "?artifactType=application/vnd.example.sbom")
    lib.header(r, "OCI-Filters-Applied", "artifactType")
    lib.eq([d["digest"] for d in mans], [lib.sha256(sbom)], "filtered referrers")
    r, mans = _referrers(reg, repo, subj, "?artifactType=application/vnd.none")
    lib.header(r, "OCI-Filters-Applied", "artifactType")
    lib.eq(mans, [], "filter matching nothing")

    # referrers are per repository
    _, mans = _referrers(reg, lib.repo_name("ref"), subj)
    lib.eq(mans, [], "referrers in another repository")
    # deleting a referrer removes it from the list
    lib.status(reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(sbom))), 202)
    _, mans = _referrers(reg, repo, subj)
    lib.eq(sorted(d["digest"] for d in mans), sorted([lib.sha256(art), lib.sha256(idx)]),
           "referrers after deleting one")


@lib.requires_v11("referrers API")
def test_referrers_unknown_and_invalid(reg):
    repo = lib.repo_name("ref")
    reg.push_blob(repo, b"exists")
    _, mans = _referrers(reg, repo, lib.sha256(b"unknown subject"))
    lib.eq(mans, [], "referrers of an unknown digest")
    for bad in ("sha256:xyz", "sha256:" + "A" * 64, "latest"):
        r = reg.get("/v2/%s/referrers/%s" % (repo, bad))
        lib.error(r, 400, "DIGEST_INVALID", "referrers of %r" % bad)
