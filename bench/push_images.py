#!/usr/bin/env python3
"""Push small OCI images to a registry.

  seed  --url U --repo R --tags N
        push one small image (4 KiB layer + config) and tag its manifest
        tag-000 .. tag-<N-1>.  Prints: digest=<manifest digest> size=<bytes>
  push  --url U --repo R --images 50 --clients 8
        push N distinct small images with --clients parallel clients (threads,
        one keep-alive http.client connection each).  Every image is pushed
        the way docker/containerd do it: for the layer and the config blob
        HEAD (expect 404), POST, PUT ?digest= with the body; then PUT the OCI
        manifest under a unique tag.  Payloads are generated before the clock
        starts.  With --rounds R (default 3) this is repeated R times with
        fresh images and tags; the median round is reported.
        Prints: images=<n> seconds=<median s> requests=<n> rounds=<s,s,s>
Python 3 stdlib only.
"""
import argparse
import hashlib
import http.client
import json
import os
import queue
import sys
import threading
import time

from upload import Client, Fail, OCTET, add_query, expect, location_path

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_image(label):
    layer = os.urandom(4096)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"bench": label}},
        "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
    }, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": MT_LAYER, "digest": sha(layer), "size": len(layer)}],
    }, separators=(",", ":")).encode()
    return [layer, config], manifest


def push_blob(cl, repo, blob, check=True):
    dg = sha(blob)
    if check:
        st, _, _ = cl.request("HEAD", f"/v2/{repo}/blobs/{dg}")
        if st == 200:
            return
        expect(st, (404,), "blob HEAD")
    start = f"/v2/{repo}/blobs/uploads/"
    st, h, data = cl.request("POST", start)
    expect(st, (202,), "POST upload", data)
    loc = location_path(start, h.get("Location"))
    st, _, data = cl.request("PUT", add_query(loc, "digest", dg), OCTET, body=blob)
    expect(st, (201,), "PUT blob", data)


def put_manifest(cl, repo, ref, manifest):
    st, _, data = cl.request("PUT", f"/v2/{repo}/manifests/{ref}",
                             {"Content-Type": MT_MANIFEST}, body=manifest)
    expect(st, (201,), f"PUT manifest {ref}", data)


def cmd_seed(a):
    cl = Client(a.url)
    blobs, manifest = make_image("seed")
    for b in blobs:
        push_blob(cl, a.repo, b)
    for i in range(a.tags):
        put_manifest(cl, a.repo, f"tag-{i:03d}", manifest)
    st, _, data = cl.request("GET", f"/v2/{a.repo}/tags/list")
    expect(st, (200,), "tags list", data)
    n = len(json.loads(data).get("tags") or [])
    if n != a.tags:
        raise Fail(f"tags list has {n} tags, expected {a.tags}")
    print(f"digest={sha(manifest)} size={len(manifest)}")


def cmd_push(a):
    times = []
    nreq = 0
    for r in range(a.rounds):
        secs, nreq = push_round(a, r)
        times.append(secs)
    med = sorted(times)[len(times) // 2]
    print(f"images={a.images} seconds={med:.6f} requests={nreq} "
          f"rounds={','.join(f'{t:.4f}' for t in times)}")


def push_round(a, rnd):
    images = [make_image(f"img-{rnd}-{i}") for i in range(a.images)]
    work = queue.Queue()
    for i in range(a.images):
        work.put(i)
    errors = []
    counts = []
    ready = threading.Barrier(a.clients + 1)
    go = threading.Event()

    def client():
        cl = Client(a.url, timeout=60)
        try:
            cl.request("GET", "/v2/")  # open the keep-alive connection
        except Exception as e:  # noqa: BLE001 - report any failure
            errors.append(e)
        ready.wait()
        go.wait()
        cl.requests = 0
        try:
            for _ in range(a.images):  # bounded
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    break
                blobs, manifest = images[i]
                for b in blobs:
                    push_blob(cl, a.repo, b)
                put_manifest(cl, a.repo, f"img-{rnd}-{i:03d}", manifest)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        counts.append(cl.requests)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(a.clients)]
    for t in threads:
        t.start()
    ready.wait(timeout=60)
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join(timeout=600)
    secs = time.perf_counter() - t0
    if errors:
        raise Fail(f"{len(errors)} client(s) failed, first: {errors[0]}")
    if any(t.is_alive() for t in threads):
        raise Fail("clients did not finish in time")
    return secs, sum(counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--url", required=True)
    s.add_argument("--repo", required=True)
    s.add_argument("--tags", type=int, default=100)
    p = sub.add_parser("push")
    p.add_argument("--url", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--images", type=int, default=50)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    try:
        (cmd_seed if a.cmd == "seed" else cmd_push)(a)
    except (Fail, OSError, ValueError, http.client.HTTPException) as e:
        print(f"push_images.py {a.cmd}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
