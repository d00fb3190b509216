"""Tags list and catalog, with ?n=&last= pagination and the Link header."""

import re
import urllib.parse

import lib


def _check_link(link, path, last, n):
    """Link: <PATH?last=LAST&n=N>; rel="next" (LAST may be percent-encoded)."""
    m = re.fullmatch(r'<([^>?]+)\?last=([^&>]+)&n=(\d+)>; rel="next"', link or "")
    lib.ok(m, "Link header %r is not <%s?last=...&n=%d>; rel=\"next\"" % (link, path, n))
    lib.eq(m.group(1), path, "Link path")
    lib.eq(urllib.parse.unquote(m.group(2)), last, "Link last=")
    lib.eq(int(m.group(3)), n, "Link n=")

SHARED_SERVER = False  # the catalog test needs a registry with known contents


def _push_tags(reg, repo, tags):
    cfg = lib.make_config()
    reg.push_blob(repo, cfg)
    body = lib.image_manifest(cfg, [])
    for t in tags:
        reg.put_manifest(repo, t, body)


def _walk(reg, first_path, key, n):
    """Follows Link rel="next" from first_path; returns the pages."""
    pages, path = [], first_path
    for _ in range(100):
        r = reg.get(path)
        lib.status(r, 200, "GET %s" % path)
        items = r.json().get(key) or []
        pages.append(items)
        lib.ok(len(items) <= n, "page larger than n=%d: %r" % (n, items))
        link = r.headers.get("Link")
        if not link:
            return pages
        m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        lib.ok(m, "Link header %r is not <url>; rel=\"next\"" % link)
        lib.ok(len(items) == n, "a page with a Link must be full (n=%d): %r" % (n, items))
        _check_link(link, first_path.split("?")[0], items[-1], n)
        path = m.group(1)
    lib.fail("pagination did not end")


@lib.known_deviation("tags list has no ?n=/?last= pagination")
def test_tags_pagination_link(reg):
    repo = lib.repo_name("tags")
    tags = sorted(["t%02d" % i for i in range(7)] + ["a", "b-1", "latest", "v1.0", "v1.0.1"])
    _push_tags(reg, repo, tags)
    r = reg.get("/v2/%s/tags/list" % repo)
    lib.status(r, 200)
    lib.eq(r.json(), {"name": repo, "tags": tags}, "full tags list")
    lib.eq(r.headers.get("Link"), None, "Link on a complete list")
    pages = _walk(reg, "/v2/%s/tags/list?n=5" % repo, "tags", 5)
    lib.eq([t for p in pages for t in p], tags, "tags gathered through Link pages")
    lib.eq([len(p) for p in pages], [5, 5, 2], "page sizes")
    r = reg.get("/v2/%s/tags/list?n=0" % repo)
    lib.status(r, 200, "n=0")
    lib.eq(r.json().get("tags") or [], [], "n=0 gives an empty list")
    lib.eq(r.headers.get("Link"), None, "no Link for n=0")
    r = reg.get("/v2/%s/tags/list?last=latest" % repo)
    lib.status(r, 200)
    lib.eq(r.json()["tags"], [t for t in tags if t > "latest"], "tags after last=latest")
    r = reg.get("/v2/%s/tags/list?last=latest&n=2" % repo)
    lib.eq(r.json()["tags"], ["t00", "t01"], "2 tags after latest")
    r = reg.get("/v2/%s/tags/list?last=zzz&n=2" % repo)
    lib.status(r, 200)
    lib.eq(r.json().get("tags") or [], [], "tags after the last one")
    lib.eq(r.headers.get("Link"), None, "no Link past the end")
    r = reg.get("/v2/%s/tags/list?n=%d" % (repo, len(tags)))
    lib.eq(r.json()["tags"], tags, "n = number of tags")
    lib.eq(r.headers.get("Link"), None, "no Link when n covers all tags")


def test_tags_list_unknown_repo(reg):
    r = reg.get("/v2/no/such/repo/tags/list")
    lib.error(r, 404, "NAME_UNKNOWN", "tags list of an unknown repository")


@lib.berth_only("our error choice for a bad n")
def test_tags_list_bad_n(reg):
    repo = lib.repo_name("tags")
    _push_tags(reg, repo, ["a"])
    for n in ("-1", "abc", "1e3", "99999999999999999999999"):
        r = reg.get("/v2/%s/tags/list?n=%s" % (repo, n))
        lib.status(r, (200, 400), "n=%s" % n)
        if r.status == 400:
            lib.error(r, 400, tuple(lib.SPEC_ERROR_CODES))


def test_catalog_pagination_link(reg):
    repos = sorted(["alpha", "beta/one", "beta/two", "gamma", "delta-x", "e.f_g", "zeta"])
    for name in repos:
        reg.push_blob(name, b"catalog " + name.encode())
    r = reg.get("/v2/_catalog")
    lib.status(r, 200)
    lib.eq(r.json()["repositories"], repos, "full catalog")
    pages = _walk(reg, "/v2/_catalog?n=3", "repositories", 3)
    lib.eq([x for p in pages for x in p], repos, "catalog through Link pages")
    lib.eq([len(p) for p in pages], [3, 3, 1], "catalog page sizes")
    r = reg.get("/v2/_catalog?n=2&last=delta-x")
    lib.eq(r.json()["repositories"], ["e.f_g", "gamma"], "catalog after delta-x")
    _check_link(r.headers.get("Link"), "/v2/_catalog", "gamma", 2)
