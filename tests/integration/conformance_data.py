"""Test content mirroring opencontainers/distribution-spec v1.1.1 conformance/setup.go.

Fresh random content per call (a new `author` in each config), so every test gets unique digests.
"""

import base64
import json
import os

import lib

# base64 of a small tar.gz, as in setup.go (layerBase64String)
LAYER_B64 = ("H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0"
             "WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD"
             "jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA")
LAYER = base64.b64decode(LAYER_B64)
LAYER_DIGEST = lib.sha256(LAYER)

EMPTY_JSON = b"{}"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
EMPTY_JSON_DESC = {"mediaType": lib.OCI_EMPTY, "digest": EMPTY_JSON_DIGEST, "size": 2}

NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"
INVALID_MANIFEST_CONTENT = b"blablabla"
DUMMY_DIGEST = lib.sha256(b"hello world")

REF_BLOB_A = b"NHL Peanut Butter on my NHL bagel"
REF_BLOB_B = b"NBA Strawberry Jam on my NBA croissant"
REF_TYPE_A = "application/vnd.nhl.peanut.butter.bagel"
REF_TYPE_B = "application/vnd.nba.strawberry.jam.croissant"
REF_TYPE_INDEX = "application/vnd.food.stand"
ANNOTATION_KEY = "org.opencontainers.conformance.test"


def go_json(obj):
    """json.MarshalIndent(obj, "", "\\t") equivalent (Go escapes <, >, & but ours have none)."""
    return json.dumps(obj, indent="\t").encode()


def config():
    """A unique config blob (setup.go: image{Architecture, OS, RootFS, Author})."""
    return go_json({"architecture": "amd64", "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": []},
                    "author": lib.rand_str(16)})


def manifest(cfg, with_layer=True, media_type=True):
    """setup.go manifests[i]: config descriptor carrying `data` and an unknown field."""
    m = {"schemaVersion": 2}
    if media_type:
        m["mediaType"] = lib.OCI_MANIFEST
    m["config"] = {"mediaType": lib.OCI_CONFIG, "digest": lib.sha256(cfg), "size": len(cfg),
                   "data": base64.b64encode(cfg).decode(),
                   "newUnspecifiedField": base64.b64encode(b"hello world").decode()}
    m["layers"] = ([{"mediaType": lib.OCI_LAYER_GZIP, "size": len(LAYER), "digest": LAYER_DIGEST}]
                   if with_layer else [])
    return go_json(m)


def subject_desc(manifest_bytes):
    return {"mediaType": lib.OCI_MANIFEST, "size": len(manifest_bytes),
            "digest": lib.sha256(manifest_bytes)}


def ref_config_artifact(subject_bytes, blob, art_type, annotation):
    """Artifact whose config.mediaType is the artifact type (no artifactType field)."""
    m = {"schemaVersion": 2, "mediaType": lib.OCI_MANIFEST,
         "config": {"mediaType": art_type, "digest": lib.sha256(blob), "size": len(blob)},
         "layers": [EMPTY_JSON_DESC],
         "subject": subject_desc(subject_bytes)}
    if annotation is not None:
        m["annotations"] = {ANNOTATION_KEY: annotation}
    return go_json(m)


def ref_layer_artifact(subject_bytes, blob, art_type, annotation):
    """Artifact with artifactType set and the empty JSON config."""
    m = {"schemaVersion": 2, "mediaType": lib.OCI_MANIFEST, "artifactType": art_type,
         "config": EMPTY_JSON_DESC,
         "layers": [{"mediaType": art_type, "digest": lib.sha256(blob), "size": len(blob)}],
         "subject": subject_desc(subject_bytes)}
    if annotation is not None:
        m["annotations"] = {ANNOTATION_KEY: annotation}
    return go_json(m)


def ref_index_artifact(subject_bytes, children, annotation):
    m = {"schemaVersion": 2, "mediaType": lib.OCI_INDEX, "artifactType": REF_TYPE_INDEX,
         "manifests": [{"mediaType": lib.OCI_MANIFEST, "size": len(c), "digest": lib.sha256(c)}
                       for c in children],
         "subject": subject_desc(subject_bytes),
         "annotations": {ANNOTATION_KEY: annotation}}
    return go_json(m)


def random_blob(n=42):
    data = os.urandom(n)
    return data, lib.sha256(data)


def post_put_blob(c, repo, data, expect_2xx=True):
    """setup.go style: POST then PUT with Content-Length and digest; asserts 2xx."""
    r = c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    lib.status(r, 202)
    r = c.request("PUT", lib.add_query(r.location_path(), digest=lib.sha256(data)), body=data,
                  headers={"Content-Type": "application/octet-stream"})
    if expect_2xx:
        lib.ok(200 <= r.status < 300, "%s: expected 2xx, got %d %r" % (r.describe(), r.status,
                                                                      r.body[:200]))
    return r
