#!/usr/bin/env python3
"""Upload one big blob to an OCI registry and report throughput.

Modes:
  mono     one request carrying the whole blob.  Uses the single-POST
           monolithic upload (POST /v2/<name>/blobs/uploads/?digest=...) when
           the server supports it (probed first with a tiny blob); otherwise
           falls back to POST (empty) + PUT <location>?digest=... with the body,
           which is what the reference registry supports.
  chunked  POST, then PATCH <location> with Content-Range for every chunk,
           then PUT <location>?digest= with an empty body.

Bodies are sent with socket.sendfile (zero copy), so this client is not the
bottleneck.  The timed interval is the whole request sequence (excluding the
probe and the final verification HEAD).  Prints one line:
  bytes=<n> seconds=<s> method=<single-post|post-put|chunked> requests=<n>
Exit status is non-zero on any protocol error.  Python 3 stdlib only.
"""
import argparse
import hashlib
import http.client
import os
import sys
import time
import urllib.parse


class Fail(Exception):
    pass


class Client:
    def __init__(self, base, timeout=300):
        u = urllib.parse.urlsplit(base)
        self.host = u.hostname
        self.port = u.port or 80
        self.timeout = timeout
        self.conn = None
        self.requests = 0

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, headers=None, body=None, fileobj=None, offset=0, count=0):
        """Send one request; body is bytes, or (fileobj, offset, count) is sent via sendfile."""
        headers = dict(headers or {})
        if fileobj is not None:
            length = count
        else:
            body = body or b""
            length = len(body)
        if method in ("POST", "PUT", "PATCH") or length:
            headers.setdefault("Content-Length", str(length))
        c = self._conn()
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        c.endheaders()
        if fileobj is not None:
            sent = c.sock.sendfile(fileobj, offset, count)
            if sent != count:
                raise Fail(f"sendfile sent {sent} of {count} bytes")
        elif body:
            c.send(body)
        r = c.getresponse()
        data = r.read()
        self.requests += 1
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            self.conn = None
        return r.status, r.headers, data


def location_path(base_path, loc):
    """Turn a Location header (absolute or relative) into a request path+query."""
    if not loc:
        raise Fail("response without Location header")
    u = urllib.parse.urlsplit(urllib.parse.urljoin(base_path, loc))
    return u.path + ("?" + u.query if u.query else "")


def add_query(path, key, value):
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}{key}={urllib.parse.quote(value, safe=':')}"


def expect(status, want, what, data=b""):
    if status not in want:
        raise Fail(f"{what}: HTTP {status} (wanted {want}): {data[:300]!r}")


OCTET = {"Content-Type": "application/octet-stream"}


def supports_single_post(cl, repo):
    """Probe: does POST ...?digest= with a body create the blob in one request?"""
    payload = os.urandom(4096)
    dg = "sha256:" + hashlib.sha256(payload).hexdigest()
    st, h, data = cl.request("POST", add_query(f"/v2/{repo}/blobs/uploads/", "digest", dg),
                             OCTET, body=payload)
    if st == 201:
        return True
    if st == 202:
        # Server opened an upload session instead; finish it properly.
        loc = location_path(f"/v2/{repo}/blobs/uploads/", h.get("Location"))
        st, _, data = cl.request("PUT", add_query(loc, "digest", dg), OCTET, body=payload)
        expect(st, (201,), "probe PUT", data)
        return False
    print(f"upload.py: single-POST probe answered HTTP {st} ({data[:200]!r}); "
          "using POST + PUT", file=sys.stderr)
    if cl.conn is not None:  # the body may not have been read: start afresh
        cl.conn.close()
        cl.conn = None
    return False


def upload_mono(cl, repo, f, size, dg, single):
    start = f"/v2/{repo}/blobs/uploads/"
    if single:
        st, _, data = cl.request("POST", add_query(start, "digest", dg), OCTET,
                                 fileobj=f, offset=0, count=size)
        expect(st, (201,), "single POST", data)
        return "single-post"
    st, h, data = cl.request("POST", start)
    expect(st, (202,), "POST", data)
    loc = location_path(start, h.get("Location"))
    st, _, data = cl.request("PUT", add_query(loc, "digest", dg), OCTET,
                             fileobj=f, offset=0, count=size)
    expect(st, (201,), "monolithic PUT", data)
    return "post-put"


def upload_chunked(cl, repo, f, size, dg, chunk):
    start = f"/v2/{repo}/blobs/uploads/"
    st, h, data = cl.request("POST", start)
    expect(st, (202,), "POST", data)
    loc = location_path(start, h.get("Location"))
    off = 0
    while off < size:  # bounded: size / chunk iterations
        n = min(chunk, size - off)
        hdr = dict(OCTET)
        hdr["Content-Range"] = f"{off}-{off + n - 1}"
        st, h, data = cl.request("PATCH", loc, hdr, fileobj=f, offset=off, count=n)
        expect(st, (202,), f"PATCH at {off}", data)
        loc = location_path(loc, h.get("Location"))
        off += n
    st, _, data = cl.request("PUT", add_query(loc, "digest", dg))
    expect(st, (201,), "final PUT", data)
    return "chunked"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="registry base URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--repo", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--digest", required=True, help="sha256:<hex> of --file")
    ap.add_argument("--mode", choices=("mono", "chunked"), required=True)
    ap.add_argument("--chunk", type=int, default=8 << 20)
    ap.add_argument("--force-post-put", action="store_true",
                    help="mono: do not use single-POST even if supported")
    a = ap.parse_args()

    size = os.path.getsize(a.file)
    cl = Client(a.url)
    try:
        with open(a.file, "rb") as f:
            single = False
            if a.mode == "mono" and not a.force_post_put:
                single = supports_single_post(cl, a.repo)
            cl.requests = 0
            t0 = time.perf_counter()
            if a.mode == "mono":
                method = upload_mono(cl, a.repo, f, size, a.digest, single)
            else:
                method = upload_chunked(cl, a.repo, f, size, a.digest, a.chunk)
            secs = time.perf_counter() - t0
            nreq = cl.requests
        st, h, _ = cl.request("HEAD", f"/v2/{a.repo}/blobs/{a.digest}")
        expect(st, (200,), "verify HEAD")
        if int(h.get("Content-Length", "-1")) != size:
            raise Fail(f"verify HEAD: Content-Length {h.get('Content-Length')} != {size}")
    except (Fail, OSError, http.client.HTTPException) as e:
        print(f"upload.py: {a.mode}: {e}", file=sys.stderr)
        return 1
    print(f"bytes={size} seconds={secs:.6f} method={method} requests={nreq}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
