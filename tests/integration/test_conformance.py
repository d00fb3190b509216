"""Port of opencontainers/distribution-spec v1.1.1 conformance/0{1,2,3,4}_*_test.go.

Each conformance workflow (pull, push, discovery, management) becomes a few tests, each setting up
its own repository so tests are independent. Where the Go suite accepts a range ("2xx", "201 or
202"), that range is kept; where the spec says MUST the exact value is asserted.
"""

import conformance_data as cd
import lib
from lib import OCI_INDEX, OCI_MANIFEST

SHARED_SERVER = True


def _pull_setup(c):
    repo = lib.repo_name("conf-pull")
    cfg0, cfg1 = cd.config(), cd.config()
    for blob in (cfg0, cfg1, cd.LAYER):
        cd.post_put_blob(c, repo, blob)
    m0, m1 = cd.manifest(cfg0), cd.manifest(cfg1)
    r = c.put_manifest(repo, "tagtest0", m0, expect=None)
    lib.ok(200 <= r.status < 300, "populate manifest[0] by tag: got %d" % r.status)
    r = c.put_manifest(repo, lib.sha256(m1), m1, expect=None)
    lib.ok(200 <= r.status < 300, "populate manifest[1] by digest: got %d" % r.status)
    return repo, cfg0, cfg1, m0, m1


def _patch(reg, loc, body, content_range):
    """One chunk of an upload session."""
    return reg.request("PATCH", loc, body=body, headers={
        "Content-Type": "application/octet-stream", "Content-Range": content_range})


def _blobs_and_manifest(reg, prefix):
    """A fresh repository holding a new config blob and the shared layer; returns (repo, config,
    manifest body), the manifest not yet pushed."""
    repo = lib.repo_name(prefix)
    cfg = cd.config()
    cd.post_put_blob(reg, repo, cfg)
    cd.post_put_blob(reg, repo, cd.LAYER)
    return repo, cfg, cd.manifest(cfg)


# ------------------------------------------------------------------ 01 pull

def test_pull_blobs(reg):
    repo, cfg0, _, _, _ = _pull_setup(reg)
    r = reg.head_blob(repo, cd.DUMMY_DIGEST)
    lib.status(r, 404, "HEAD nonexistent blob")
    lib.eq(r.body, b"", "HEAD 404 body")
    r = reg.head_blob(repo, lib.sha256(cfg0))
    lib.status(r, 200, "HEAD existing blob")
    lib.header(r, "Docker-Content-Digest", lib.sha256(cfg0))
    lib.header(r, "Content-Length", str(len(cfg0)))
    lib.eq(r.body, b"", "HEAD body")
    r = reg.get_blob(repo, cd.DUMMY_DIGEST)
    lib.status(r, 404, "GET nonexistent blob")
    lib.error(r, 404, "BLOB_UNKNOWN", "GET nonexistent blob")
    r = reg.get_blob(repo, lib.sha256(cfg0))
    lib.status(r, 200, "GET existing blob")
    lib.eq(r.body, cfg0, "blob bytes")
    lib.header(r, "Docker-Content-Digest", lib.sha256(cfg0))


def test_pull_manifests(reg):
    repo, _, _, m0, m1 = _pull_setup(reg)
    acc = OCI_MANIFEST
    r = reg.get_manifest(repo, cd.NONEXISTENT_MANIFEST, accept=acc, method="HEAD")
    lib.status(r, 404, "HEAD nonexistent manifest")
    for m in (m0, m1):
        r = reg.get_manifest(repo, lib.sha256(m), accept=acc, method="HEAD")
        lib.status(r, 200, "HEAD manifest by digest")
        lib.header(r, "Docker-Content-Digest", lib.sha256(m))
    r = reg.get_manifest(repo, "tagtest0", accept=acc, method="HEAD")
    lib.status(r, 200, "HEAD manifest by tag")
    lib.header(r, "Docker-Content-Digest", lib.sha256(m0))
    r = reg.get_manifest(repo, cd.NONEXISTENT_MANIFEST, accept=acc)
    lib.status(r, 404, "GET nonexistent manifest")
    for m in (m0, m1):
        r = reg.get_manifest(repo, lib.sha256(m), accept=acc)
        lib.status(r, 200, "GET manifest by digest")
        lib.eq(r.body, m, "manifest bytes by digest")
    r = reg.get_manifest(repo, "tagtest0", accept=acc)
    lib.status(r, 200, "GET manifest by tag")
    lib.eq(r.body, m0, "manifest bytes by tag")


@lib.known_deviation("GET manifests/sha256:totallywrong answers 500 UNKNOWN")
def test_pull_error_codes(reg):
    repo, _, _, _, _ = _pull_setup(reg)
    # the Go suite sends a body with a GET; keep that
    r = reg.request("GET", "/v2/%s/manifests/sha256:totallywrong" % repo,
                    headers={"Content-Type": OCI_MANIFEST}, body=cd.INVALID_MANIFEST_CONTENT)
    lib.status(r, (400, 404), "GET manifest sha256:totallywrong")
    if r.status == 400:
        codes = lib.error_codes(r)
        lib.ok(codes, "400 body must be OCI error JSON, got %r" % r.body[:200])
        lib.is_in(codes[0], lib.SPEC_ERROR_CODES, "error code")


def test_pull_teardown_deletes(reg):
    repo, cfg0, cfg1, m0, m1 = _pull_setup(reg)
    for m in (m0, m1):
        r = reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(m)))
        lib.status(r, 202, "DELETE manifest by digest")
    for b in (cfg0, cfg1, cd.LAYER):
        r = reg.delete("/v2/%s/blobs/%s" % (repo, lib.sha256(b)))
        lib.status(r, 202, "DELETE blob")


# ------------------------------------------------------------------ 02 push

def test_push_blob_streamed(reg):
    repo = lib.repo_name("conf-push")
    blob, dig = cd.random_blob(42)
    r = reg.request("POST", "/v2/%s/blobs/uploads/" % repo)
    lib.status(r, 202, "POST upload")
    loc = lib.header_present(r, "Location")
    r = reg.request("PATCH", lib.path_of(loc), body=blob,
                    headers={"Content-Type": "application/octet-stream"})
    lib.status(r, 202, "PATCH with blob in body (no Content-Range)")
    lib.header(r, "Range", "0-41")
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=dig),
                    headers={"Content-Type": "application/octet-stream", "Content-Length": "0"})
    lib.status(r, 201, "PUT to session URL with digest")
    lib.eq(lib.path_of(lib.header_present(r, "Location")), "/v2/%s/blobs/%s" % (repo, dig),
           "blob Location")
    lib.header(r, "Docker-Content-Digest", dig)
    lib.eq(reg.get_blob(repo, dig).body, blob, "streamed blob bytes")


def test_push_blob_monolithic(reg):
    repo = lib.repo_name("conf-push")
    cfg = cd.config()
    dig = lib.sha256(cfg)
    lib.status(reg.get_blob(repo, cd.DUMMY_DIGEST), 404, "GET nonexistent blob")
    r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, dig), body=cfg,
                    headers={"Content-Type": "application/octet-stream"})
    lib.status(r, (201, 202), "POST with digest and blob")
    lib.header_present(r, "Location")
    first = r.status
    r = reg.get_blob(repo, dig)
    lib.status(r, 404 if first == 202 else 200, "GET blob after single POST answered %d" % first)
    r = reg.request("POST", "/v2/%s/blobs/uploads/" % repo)
    lib.status(r, 202, "POST should yield a session ID")
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=dig), body=cfg,
                    headers={"Content-Type": "application/octet-stream"})
    lib.status(r, 201, "PUT upload of a blob")
    lib.header_present(r, "Location")
    r = reg.get_blob(repo, dig)
    lib.status(r, 200)
    lib.eq(r.body, cfg, "blob bytes")
    r = reg.request("POST", "/v2/%s/blobs/uploads/" % repo)
    lib.status(r, 202)
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=cd.LAYER_DIGEST), body=cd.LAYER,
                    headers={"Content-Type": "application/octet-stream"})
    lib.status(r, 201, "PUT upload of a layer blob")
    lib.header_present(r, "Location")
    r = reg.get_blob(repo, cd.LAYER_DIGEST)
    lib.status(r, 200)
    lib.eq(r.body, cd.LAYER, "layer bytes")


def _chunk_setup(reg, repo):
    blob, dig = cd.random_blob(42)
    r = reg.request("POST", "/v2/%s/blobs/uploads/" % repo, headers={"Content-Length": "0"})
    lib.status(r, 202, "POST chunked upload")
    minlen = r.headers.get("OCI-Chunk-Min-Length")
    if minlen and int(minlen) > 22:
        blob, dig = cd.random_blob(int(minlen) * 2 - 2)
    half = len(blob) // 2 + 1
    return (r.location_path(), blob, dig, blob[:half], blob[half:],
            "0-%d" % (half - 1), "%d-%d" % (half, len(blob) - 1))


@lib.known_deviation("ignores Content-Range on PATCH (appends out-of-order chunks, 202); "
                     "GET on the stale POST Location answers 404 BLOB_UPLOAD_INVALID")
def test_push_chunked_out_of_order_416(reg):
    repo = lib.repo_name("conf-push")
    loc, blob, dig, c1, c2, r1, r2 = _chunk_setup(reg, repo)
    r = _patch(reg, loc, c2, r2)
    lib.status(r, 416, "out-of-order PATCH")
    loc, blob, dig, c1, c2, r1, r2 = _chunk_setup(reg, repo)
    r = _patch(reg, loc, c1, r1)
    lib.status(r, 202, "PATCH first chunk")
    r = _patch(reg, loc, c1, r1)
    lib.status(r, 416, "retry of the first chunk")
    # GET on the stale session URL (the POST's Location) gives the current offset
    r = reg.get(loc)
    lib.status(r, 204, "GET upload status after 416")
    lib.header(r, "Range", r1)


def test_push_blob_chunked(reg):
    repo = lib.repo_name("conf-push")
    prev, blob, dig, c1, c2, r1, r2 = _chunk_setup(reg, repo)
    r = _patch(reg, prev, c1, r1)
    lib.status(r, 202, "PATCH first chunk")
    lib.header(r, "Range", r1)
    # status of the session (the stale POST URL is tested in test_push_chunked_out_of_order_416)
    r = reg.get(r.location_path())
    lib.status(r, 204, "GET upload status")
    lib.header_present(r, "Location")
    lib.header(r, "Range", r1)
    # second chunk
    r = reg.request("PATCH", r.location_path(), body=c2, headers={
        "Content-Type": "application/octet-stream", "Content-Range": r2})
    lib.status(r, 202, "PATCH second chunk")
    lib.header_present(r, "Location")
    lib.header(r, "Range", "0-%d" % (len(blob) - 1))
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=dig),
                    headers={"Content-Type": "application/octet-stream", "Content-Length": "0"})
    lib.status(r, 201, "closing PUT")
    lib.header_present(r, "Location")
    r = reg.get_blob(repo, dig)
    lib.status(r, 200)
    lib.eq(r.body, blob, "chunked blob bytes")


def test_push_cross_mount(reg):
    repo = lib.repo_name("conf-push")
    cross = lib.repo_name("conformance")
    blob, dig = cd.random_blob(42)
    reg.push_blob(repo, blob)
    r = reg.request("POST", "/v2/%s/blobs/uploads/?mount=%s" % (cross, cd.DUMMY_DIGEST))
    lib.status(r, 202, "mount without from")
    lib.header_present(r, "Location")
    r = reg.request("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (cross, dig, repo))
    lib.status(r, (201, 202), "mount with from")
    if r.status == 201:
        lib.eq(r.location_path(), "/v2/%s/blobs/%s" % (cross, dig), "mounted blob Location")
        g = reg.get(r.location_path())
        lib.status(g, 200, "GET mounted blob")
        lib.eq(g.body, blob, "mounted blob bytes")
    else:
        lib.ok(r.location_path().startswith("/v2/%s/blobs/uploads/" % cross),
               "202 Location should be an upload session, got %s" % r.location_path())


def test_push_manifests(reg):
    repo, cfg, m = _blobs_and_manifest(reg, "conf-push")
    lib.status(reg.get_manifest(repo, cd.NONEXISTENT_MANIFEST), 404, "GET nonexistent manifest")
    for i in range(4):
        r = reg.put_manifest(repo, "test%d" % i, m)
        lib.header_present(r, "Location")
        lib.header(r, "Docker-Content-Digest", lib.sha256(m))
    # manifest with no layers and no mediaType field
    empty = cd.manifest(cfg, with_layer=False, media_type=False)
    r = reg.put_manifest(repo, "emptylayer", empty, expect=None)
    if lib.IS_BERTH:
        lib.status(r, 201, "manifest with no layers")
    if r.status == 201:
        lib.header_present(r, "Location")
    r = reg.get_manifest(repo, lib.sha256(m), accept=OCI_MANIFEST)
    lib.status(r, 200, "GET manifest by digest")
    lib.eq(r.body, m, "manifest bytes")
    # teardown
    lib.status(reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(m))), 202)
    if r.status == 201:
        lib.status(reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(empty))), 202)
    lib.status(reg.delete("/v2/%s/blobs/%s" % (repo, lib.sha256(cfg))), 202)
    lib.status(reg.delete("/v2/%s/blobs/%s" % (repo, cd.LAYER_DIGEST)), 202)


# ------------------------------------------------------------------ 03 discovery

def _tags(resp):
    return resp.json().get("tags") or []


DISCOVERY_TAGS = ["test0", "test1", "test2", "test3"]


def _discovery_setup(reg):
    """03_discovery 'Setup': one manifest under four tags; returns the repository."""
    repo, _, m = _blobs_and_manifest(reg, "conf-disc")
    for tag in DISCOVERY_TAGS:
        reg.put_manifest(repo, tag, m)
    return repo


def test_discovery_tags(reg):
    repo = _discovery_setup(reg)
    r = reg.get("/v2/%s/tags/list" % repo)
    lib.status(r, 200, "GET tags list")
    doc = r.json()
    lib.eq(doc.get("name"), repo, "tags list name")
    tags = doc["tags"]
    lib.eq(sorted(tags), DISCOVERY_TAGS, "tags")


@lib.known_deviation("tags list ignores ?n= and ?last= (no pagination in 2.8.2)")
def test_discovery_tags_pagination(reg):
    repo = _discovery_setup(reg)
    tags = DISCOVERY_TAGS
    n = len(tags) // 2
    r = reg.get("/v2/%s/tags/list?n=%d" % (repo, n))
    lib.status(r, 200, "GET tags list ?n=")
    first = _tags(r)
    lib.eq(first, tags[:n], "first page with n=%d" % n)
    r = reg.get("/v2/%s/tags/list?n=%d&last=%s" % (repo, n, first[n - 1]))
    lib.status(r, 200, "GET tags list ?n=&last=")
    second = _tags(r)
    lib.ok(len(second) <= n, "at most n tags after last")
    lib.eq(second, ["test2", "test3"], "tags after %s" % first[n - 1])


def _referrers_setup(c, repo):
    """03_discovery 'References setup': returns dict of contents and digests."""
    cfg4, cfg3 = cd.config(), cd.config()
    m4, m3 = cd.manifest(cfg4), cd.manifest(cfg3)
    s = {"m4": m4, "m3": m3}
    s["a_cfg"] = cd.ref_config_artifact(m4, cd.REF_BLOB_A, cd.REF_TYPE_A, "test config a")
    s["b_cfg"] = cd.ref_config_artifact(m4, cd.REF_BLOB_B, cd.REF_TYPE_B, "test config b")
    s["a_lay"] = cd.ref_layer_artifact(m4, cd.REF_BLOB_A, cd.REF_TYPE_A, "test layer a")
    s["b_lay"] = cd.ref_layer_artifact(m4, cd.REF_BLOB_B, cd.REF_TYPE_B, "test layer b")
    s["c_lay"] = cd.ref_layer_artifact(m3, cd.REF_BLOB_B, cd.REF_TYPE_B, None)
    s["idx"] = cd.ref_index_artifact(m4, [s["a_cfg"], s["a_lay"]], "test index")
    s["annotations"] = {lib.sha256(s["a_cfg"]): "test config a",
                        lib.sha256(s["b_cfg"]): "test config b",
                        lib.sha256(s["a_lay"]): "test layer a",
                        lib.sha256(s["b_lay"]): "test layer b",
                        lib.sha256(s["idx"]): "test index"}
    lib.eq(lib.sha256(cd.EMPTY_JSON), cd.EMPTY_JSON_DIGEST, "empty JSON digest")
    cd.post_put_blob(c, repo, cd.EMPTY_JSON)
    cd.post_put_blob(c, repo, cd.REF_BLOB_A)
    subj4 = lib.sha256(m4)

    def put(body, mt, subj):
        r = c.put_manifest(repo, lib.sha256(body), body, media_type=mt, expect=None)
        lib.ok(200 <= r.status < 300, "PUT referrer: got %d %r" % (r.status, r.body[:300]))
        lib.header(r, "OCI-Subject", subj, "PUT referrer with subject")

    # referrers pushed before their subject exists
    put(s["a_cfg"], OCI_MANIFEST, subj4)
    put(s["a_lay"], OCI_MANIFEST, subj4)
    put(s["idx"], OCI_INDEX, subj4)
    cd.post_put_blob(c, repo, cfg4)
    cd.post_put_blob(c, repo, cd.LAYER)
    r = c.put_manifest(repo, "tagtest0", m4, expect=None)
    lib.ok(200 <= r.status < 300, "PUT subject manifest: %d" % r.status)
    cd.post_put_blob(c, repo, cd.REF_BLOB_B)
    put(s["b_cfg"], OCI_MANIFEST, subj4)
    put(s["b_lay"], OCI_MANIFEST, subj4)
    put(s["c_lay"], OCI_MANIFEST, lib.sha256(m3))
    return s


def _index(resp, what):
    lib.status(resp, 200, what)
    lib.header(resp, "Content-Type", OCI_INDEX, what)
    doc = resp.json()
    lib.eq(doc.get("schemaVersion"), 2, "%s schemaVersion" % what)
    lib.eq(doc.get("mediaType"), OCI_INDEX, "%s mediaType" % what)
    lib.ok(isinstance(doc.get("manifests"), list), "%s: manifests must be a list, got %r" % (
        what, doc.get("manifests")))
    return doc["manifests"]


@lib.requires_v11("referrers API and OCI-Subject")
def test_discovery_referrers(reg):
    repo = lib.repo_name("conf-disc")
    s = _referrers_setup(reg, repo)
    r = reg.get("/v2/%s/referrers/%s" % (repo, cd.DUMMY_DIGEST))
    lib.eq(_index(r, "referrers of nonexistent digest"), [], "referrers of nonexistent digest")
    r = reg.get("/v2/%s/referrers/%s" % (repo, lib.sha256(s["m4"])))
    mans = _index(r, "referrers of manifest[4]")
    lib.eq(len(mans), 5, "number of referrers")
    lib.eq(len({d["digest"] for d in mans}), 5, "distinct referrer digests")
    for d in mans:
        lib.eq(d.get("annotations"), {cd.ANNOTATION_KEY: s["annotations"].get(d["digest"])},
               "annotations of %s" % d["digest"])
    by = {d["digest"]: d for d in mans}
    expect_types = {lib.sha256(s["a_cfg"]): cd.REF_TYPE_A, lib.sha256(s["b_cfg"]): cd.REF_TYPE_B,
                    lib.sha256(s["a_lay"]): cd.REF_TYPE_A, lib.sha256(s["b_lay"]): cd.REF_TYPE_B,
                    lib.sha256(s["idx"]): cd.REF_TYPE_INDEX}
    for dg, at in expect_types.items():
        lib.ok(dg in by, "referrer %s missing" % dg)
        lib.eq(by[dg].get("artifactType"), at, "artifactType of %s" % dg)
    lib.eq(by[lib.sha256(s["idx"])]["mediaType"], OCI_INDEX, "index referrer mediaType")
    lib.eq(by[lib.sha256(s["idx"])]["size"], len(s["idx"]), "index referrer size")
    lib.eq(by[lib.sha256(s["a_lay"])]["mediaType"], OCI_MANIFEST, "manifest referrer mediaType")
    lib.eq(by[lib.sha256(s["a_lay"])]["size"], len(s["a_lay"]), "manifest referrer size")


@lib.requires_v11("referrers API artifactType filter")
def test_discovery_referrers_filter(reg):
    repo = lib.repo_name("conf-disc")
    s = _referrers_setup(reg, repo)
    r = reg.get("/v2/%s/referrers/%s?artifactType=%s" % (repo, lib.sha256(s["m4"]), cd.REF_TYPE_A))
    mans = _index(r, "filtered referrers")
    # the Go suite tolerates an unfiltered answer with a warning; berth filters, so require it
    lib.header(r, "OCI-Filters-Applied", "artifactType")
    lib.eq(sorted(d["digest"] for d in mans),
           sorted([lib.sha256(s["a_cfg"]), lib.sha256(s["a_lay"])]), "filtered referrers")
    for d in mans:
        lib.eq(d.get("artifactType"), cd.REF_TYPE_A, "artifactType")
        lib.eq(d.get("annotations"), {cd.ANNOTATION_KEY: s["annotations"][d["digest"]]},
               "annotations")


@lib.requires_v11("referrers API")
def test_discovery_referrers_missing_subject(reg):
    repo = lib.repo_name("conf-disc")
    s = _referrers_setup(reg, repo)
    r = reg.get("/v2/%s/referrers/%s" % (repo, lib.sha256(s["m3"])))
    mans = _index(r, "referrers of a manifest never pushed")
    lib.eq([d["digest"] for d in mans], [lib.sha256(s["c_lay"])], "referrers of manifest[3]")
    lib.eq(mans[0].get("artifactType"), cd.REF_TYPE_B, "artifactType")
    lib.ok("annotations" not in mans[0] or mans[0]["annotations"] in ({}, None),
           "a referrer without annotations must not get any: %r" % mans[0].get("annotations"))
    # teardown as in the Go suite: deletes answer 202 (or 404 once gone)
    for key in ("idx", "a_cfg", "a_lay", "b_cfg", "b_lay", "c_lay", "m4"):
        r = reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(s[key])))
        lib.status(r, 202, "DELETE %s" % key)
    for b in (cd.REF_BLOB_A, cd.REF_BLOB_B, cd.EMPTY_JSON, cd.LAYER):
        lib.status(reg.delete("/v2/%s/blobs/%s" % (repo, lib.sha256(b))), 202, "DELETE blob")
    r = reg.get("/v2/%s/referrers/%s" % (repo, lib.sha256(s["m4"])))
    lib.eq(_index(r, "referrers after deleting them"), [], "referrers after delete")


# ------------------------------------------------------------------ 04 management

def test_management_delete(reg):
    repo, cfg, m = _blobs_and_manifest(reg, "conf-mgmt")
    r = reg.put_manifest(repo, "tagtest0", m, expect=None)
    lib.ok(200 <= r.status < 300, "populate tag: %d" % r.status)
    # an extra tag on another manifest so the count after deletion is not zero
    cfg2 = cd.config()
    cd.post_put_blob(reg, repo, cfg2)
    other = cd.manifest(cfg2)
    reg.put_manifest(repo, "keep", other)
    r = reg.get("/v2/%s/tags/list" % repo)
    lib.status(r, 200)
    num_tags = len(_tags(r))
    lib.eq(num_tags, 2, "tags before delete")
    # (tag deletion: test_management_delete_tag)
    r = reg.delete("/v2/%s/manifests/%s" % (repo, lib.sha256(m)))
    lib.status(r, 202, "DELETE manifest by digest")
    lib.status(reg.get_manifest(repo, "tagtest0"), 404, "GET tag of deleted manifest")
    r = reg.get_manifest(repo, lib.sha256(m))
    lib.status(r, 404, "GET deleted manifest")
    r = reg.get("/v2/%s/tags/list" % repo)
    lib.status(r, 200, "tags list after delete")
    lib.eq(len(_tags(r)), num_tags - 1, "tags after delete")
    # blob delete
    r = reg.delete("/v2/%s/blobs/%s" % (repo, lib.sha256(cfg)))
    lib.status(r, 202, "DELETE config blob")
    r = reg.delete("/v2/%s/blobs/%s" % (repo, cd.LAYER_DIGEST))
    lib.status(r, 202, "DELETE layer blob")
    r = reg.get_blob(repo, lib.sha256(cfg))
    lib.status(r, 404, "GET deleted blob")
    r = reg.delete("/v2/%s/blobs/%s" % (repo, lib.sha256(cfg)))
    lib.status(r, 404, "DELETE already deleted blob")


@lib.known_deviation("tags list is not in lexical order")
def test_discovery_tags_lexical_order(reg):
    repo, cfg, m = _blobs_and_manifest(reg, "conf-disc")
    names = ["test3", "test0", "z-last", "test10", "a.first", "test2", "test1", "a_first", "0num"]
    for t in names:
        reg.put_manifest(repo, t, m)
    r = reg.get("/v2/%s/tags/list" % repo)
    lib.status(r, 200)
    lib.eq(r.json()["tags"], sorted(names), "tags in lexical order")


@lib.known_deviation("DELETE by tag answers 400 DIGEST_INVALID (the spec allows 400 only with UNSUPPORTED)")
def test_management_delete_tag(reg):
    repo, cfg, m = _blobs_and_manifest(reg, "conf-mgmt")
    reg.put_manifest(repo, "tagtest0", m)
    reg.put_manifest(repo, "other", m)
    r = reg.delete("/v2/%s/manifests/tagtest0" % repo)
    lib.status(r, (202, 400, 405), "DELETE tag")
    if r.status == 400:
        lib.error(r, 400, "UNSUPPORTED")
    if lib.IS_BERTH:
        lib.status(r, 202, "berth supports tag deletion")
    if r.status == 202:
        lib.status(reg.get_manifest(repo, "tagtest0"), 404, "GET deleted tag")
        r = reg.get("/v2/%s/tags/list" % repo)
        lib.status(r, 200)
        lib.eq(r.json()["tags"], ["other"], "tags after tag delete")
        lib.status(reg.get_manifest(repo, lib.sha256(m)), 200, "manifest still there by digest")
