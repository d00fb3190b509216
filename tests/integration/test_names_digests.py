"""Hostile repository names and malformed digests."""

import os

import lib

SHARED_SERVER = True

# names rejected by the grammar that any router sees as a plain (bad) path segment
INVALID_NAMES_SIMPLE = [
    "-leading", "_leading", ".leading", "trailing-", "trailing_",
    "trailing.", "a___b", "a.-b", "a/-b", "x/y_",
]
UPPER_CASE_NAMES = ["Upper/case", "UPPER", "a/B", "aB"]
# names whose path needs care: dot segments, empty components, escapes, over-long
INVALID_NAMES_PATHY = [
    "..", "a/..", "a/../b", "../../etc", "a/./b", "%2e%2e", "a/%2e%2e/b", "a/%2E%2E", "a//b",
    "a/", "/a", "a%00b", "a%20b", "%C3%A9t%C3%A9", "a%2", "a%zzb", "a%",
    "a" * 256, "/".join(["abc"] * 65),
]
# an encoded slash must not split one path segment into two (berth routes on the raw URI)
ENCODED_SLASH_NAMES = ["a%2fb", "a%2Fb", "lib%2f..%2fx"]
VALID_NAMES = ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "a/b/c/d", "x1.y_z__w--v/q",
               "a" * 255, "/".join(["ab"] * 85)]

DIGEST = lib.sha256(b"x")
BAD_DIGESTS = [
    "sha256:xyz", "sha256:" + "A" * 64, "sha256:" + "a" * 63, "sha256:" + "a" * 65, "sha256:",
    "sha256:" + "g" * 64, ":" + "a" * 64, "sha256::" + "a" * 64,
]


def _name_invalid_push(r, name, strict):
    if strict:
        lib.error(r, 400, "NAME_INVALID", "%s (name %r)" % (r.describe(), name))
    else:
        lib.status(r, (400, 404), "%s (name %r)" % (r.describe(), name))
        if r.status == 400:
            lib.error(r, 400, "NAME_INVALID")
        elif lib.error_codes(r) is not None:
            lib.error(r, 404, "NAME_UNKNOWN")


def _name_invalid_pull(r, name):
    lib.status(r, (400, 404), "%s (name %r)" % (r.describe(), name))
    code = lib.error_codes(r)
    if r.status == 400 or lib.IS_BERTH or code is not None:
        lib.error(r, r.status, "NAME_INVALID" if r.status == 400 else
                  ("NAME_UNKNOWN", "BLOB_UNKNOWN", "MANIFEST_UNKNOWN"))


def _check_invalid(reg, names, strict):
    body = lib.image_manifest(lib.make_config(), [])
    for name in names:
        r = reg.request("POST", "/v2/%s/blobs/uploads/" % name)
        _name_invalid_push(r, name, strict)
        r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (name, lib.sha256(b"x")),
                        body=b"x")
        _name_invalid_push(r, name, strict)
        r = reg.request("PUT", "/v2/%s/manifests/latest" % name, body=body,
                        headers={"Content-Type": lib.OCI_MANIFEST})
        _name_invalid_push(r, name, strict)
        _name_invalid_pull(reg.get("/v2/%s/manifests/latest" % name), name)
        _name_invalid_pull(reg.get("/v2/%s/blobs/%s" % (name, DIGEST)), name)
        _name_invalid_pull(reg.get("/v2/%s/tags/list" % name), name)


def test_invalid_names_rejected(reg):
    _check_invalid(reg, INVALID_NAMES_SIMPLE, strict=lib.IS_BERTH)


@lib.known_deviation("accepts upper-case repository names (202 on POST)")
def test_invalid_names_upper_case(reg):
    _check_invalid(reg, UPPER_CASE_NAMES, strict=lib.IS_BERTH)


@lib.known_deviation("dot segments and empty components get a 301 redirect; a 256-char name a 500")
def test_invalid_names_path_tricks(reg):
    _check_invalid(reg, INVALID_NAMES_PATHY, strict=lib.IS_BERTH)
    # nothing escaped into the data directory's parent
    if lib.IS_BERTH:
        parent = reg.server.tmp
        lib.eq(sorted(x for x in os.listdir(parent)
                      if x not in ("data", "stderr.log", "config.yml")), [],
               "stray files next to the data directory")


@lib.berth_only("berth routes on the raw URI")
def test_encoded_slash_in_name(reg):
    _check_invalid(reg, ENCODED_SLASH_NAMES, strict=True)
    # and the repository "a/b" did not come into being
    r = reg.request("GET", "/v2/a/b/tags/list")
    lib.error(r, 404, ("NAME_UNKNOWN",), "tags of a/b after %2f pushes")


def test_valid_names_accepted(reg):
    for name in VALID_NAMES:
        data = lib.rand_bytes(17)
        reg.push_blob(name, data)
        r = reg.get_blob(name, lib.sha256(data))
        lib.status(r, 200, "GET blob in repo %r" % name)
        lib.eq(r.body, data, "blob bytes in %r" % name)


def test_name_length_limit(reg):
    """berth's limit: a full name of 255 characters is fine, 256 is NAME_INVALID."""
    ok255 = "/".join(["abcd"] * 51)  # 51*4 + 50 = 254
    ok255 += "x"
    lib.eq(len(ok255), 255, "name length")
    r = reg.request("POST", "/v2/%s/blobs/uploads/" % ok255)
    lib.status(r, 202, "POST upload in a 255-char repository")
    if lib.IS_BERTH:
        r = reg.request("POST", "/v2/%s/blobs/uploads/" % (ok255 + "y"))
        lib.error(r, 400, "NAME_INVALID", "POST upload in a 256-char repository")


def _digest_invalid(r, what, extra_codes=()):
    if lib.IS_BERTH:
        lib.error(r, 400, ("DIGEST_INVALID",) + tuple(extra_codes), what)
    else:
        lib.status(r, (400, 404), what)
        if r.status == 400:
            lib.error(r, 400, ("DIGEST_INVALID",) + tuple(extra_codes), what)


def test_malformed_digests_on_pull(reg):
    repo = lib.repo_name("dig")
    reg.push_blob(repo, b"x")
    for d in BAD_DIGESTS + ["sha256" + "a" * 64, "a" * 64]:
        _digest_invalid(reg.get_blob(repo, d), "GET blob %r" % d)
        r = reg.head_blob(repo, d)
        if lib.IS_BERTH:
            lib.status(r, 400, "HEAD blob %r" % d)
        _digest_invalid(reg.delete("/v2/%s/blobs/%s" % (repo, d)), "DELETE blob %r" % d)
    for d in ["md5:" + "a" * 32, "sha1:" + "a" * 40, "foo:" + "a" * 64]:
        _digest_invalid(reg.get_blob(repo, d), "GET blob %r" % d, ("UNSUPPORTED",))


@lib.known_deviation("GET/PUT manifests/sha256:xyz answers 500")
def test_malformed_digest_manifest_reference(reg):
    repo = lib.repo_name("dig")
    body, _, _ = reg.push_image(repo, tag="t")
    for d in ["sha256:xyz", "sha256:" + "A" * 64, "sha256:" + "a" * 63]:
        r = reg.put_manifest(repo, d, body, expect=None)
        lib.error(r, 400, ("DIGEST_INVALID", "MANIFEST_INVALID", "TAG_INVALID"),
                  "PUT manifest by %r" % d)
        r = reg.get_manifest(repo, d)
        lib.status(r, (400, 404), "GET manifest %r" % d)
        lib.error(r, r.status, ("DIGEST_INVALID", "MANIFEST_UNKNOWN", "TAG_INVALID"))


def test_malformed_digest_on_upload_put(reg):
    repo = lib.repo_name("dig")
    for d in BAD_DIGESTS + ["sha256" + "a" * 64]:
        loc = reg.start_upload(repo)
        r = reg.request("PUT", lib.add_query(loc, digest=d), body=b"abc",
                        headers={"Content-Type": "application/octet-stream"})
        lib.error(r, 400, "DIGEST_INVALID", "PUT upload ?digest=%r" % d)
    for d in ["md5:" + "a" * 32, "sha1:" + "a" * 40]:
        loc = reg.start_upload(repo)
        r = reg.request("PUT", lib.add_query(loc, digest=d), body=b"abc",
                        headers={"Content-Type": "application/octet-stream"})
        lib.error(r, 400, ("DIGEST_INVALID", "UNSUPPORTED"), "PUT upload ?digest=%r" % d)
    # no digest at all on the closing PUT
    loc = reg.start_upload(repo)
    r = reg.request("PUT", loc, body=b"abc", headers={"Content-Type": "application/octet-stream"})
    lib.error(r, 400, "DIGEST_INVALID", "closing PUT without ?digest=")


@lib.berth_only("single-POST error choice")
def test_malformed_digest_on_single_post(reg):
    repo = lib.repo_name("dig")
    for d in BAD_DIGESTS:
        r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=b"abc",
                        headers={"Content-Type": "application/octet-stream"})
        lib.error(r, 400, "DIGEST_INVALID", "POST ?digest=%r" % d)
    r = reg.request("POST", "/v2/%s/blobs/uploads/?mount=sha256:xyz&from=other" % repo)
    lib.status(r, (202, 400), "mount of a malformed digest")
    if r.status == 400:
        lib.error(r, 400, "DIGEST_INVALID")


def test_monolithic_digest_mismatch(reg):
    repo = lib.repo_name("dig")
    data, other = b"the real bytes " + lib.rand_bytes(50), lib.rand_bytes(64)
    loc = reg.start_upload(repo)
    r = reg.request("PUT", lib.add_query(loc, digest=lib.sha256(other)), body=data,
                    headers={"Content-Type": "application/octet-stream"})
    lib.error(r, 400, "DIGEST_INVALID", "PUT with a digest the bytes do not hash to")
    lib.status(reg.head_blob(repo, lib.sha256(other)), 404, "HEAD claimed digest")
    lib.status(reg.head_blob(repo, lib.sha256(data)), 404, "HEAD real digest")
    lib.status(reg.get_blob(repo, lib.sha256(data)), 404, "GET real digest")
    # chunked upload with a wrong final digest
    loc = reg.start_upload(repo)
    r = reg.request("PATCH", loc, body=data, headers={"Content-Type": "application/octet-stream",
                                                      "Content-Range": "0-%d" % (len(data) - 1)})
    lib.status(r, 202)
    r = reg.request("PUT", lib.add_query(r.location_path(), digest=lib.sha256(other)))
    lib.error(r, 400, "DIGEST_INVALID", "closing PUT with a wrong digest")
    lib.status(reg.head_blob(repo, lib.sha256(other)), 404, "HEAD claimed digest (chunked)")
    lib.status(reg.head_blob(repo, lib.sha256(data)), 404, "HEAD real digest (chunked)")


@lib.berth_only("single POST monolithic upload answers 201")
def test_single_post_digest_mismatch(reg):
    repo = lib.repo_name("dig")
    data, other = lib.rand_bytes(100), lib.rand_bytes(100)
    r = reg.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, lib.sha256(other)),
                    body=data, headers={"Content-Type": "application/octet-stream"})
    lib.error(r, 400, "DIGEST_INVALID", "single POST with mismatching digest")
    lib.status(reg.head_blob(repo, lib.sha256(other)), 404)
    lib.status(reg.head_blob(repo, lib.sha256(data)), 404)
    first, final = reg.push_blob_post(repo, data)
    lib.status(first, 201, "single POST ?digest= monolithic upload")
    lib.eq(first.location_path(), "/v2/%s/blobs/%s" % (repo, lib.sha256(data)), "Location")
    lib.header(first, "Docker-Content-Digest", lib.sha256(data))
    lib.eq(reg.get_blob(repo, lib.sha256(data)).body, data, "blob bytes")
