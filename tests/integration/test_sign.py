"""Signing interoperability: berth's signing library (through tests/tools/sign_tool and `berth keygen`)
against real skopeo 1.9.3, with berth serve as the registry.

- keygen: the key file is cosign's format, checked by an independent decryption written here
  (hashlib.scrypt + a pure-Python XSalsa20-Poly1305) and by the openssl CLI.
- sigstore attachments: a library-made .sig pushed over raw HTTP is read by skopeo (copied out with
  use-sigstore-attachments); skopeo writes .sig attachments into berth that the library verifies; the
  library appends to an existing .sig; hostile cases (another key, a moved tag, a replayed signature,
  a corrupt signature blob) are rejected with the failed requirement named.
- GPG simple signing: skopeo standalone-sign -> library verifies; library signs -> skopeo
  standalone-verify; skopeo copy --sign-by into berth with a registries.d lookaside -> the library
  finds the signature at the URL it computes and accepts it; a library-made lookaside signature is
  accepted by `skopeo copy --policy` (signedBy) and refused with another key.

Debian's skopeo 1.9.3 is built with sigstore signing and verification disabled (a Debian patch answers
"Debian-local change: sigstore disabled"); where skopeo itself would sign or verify a sigstore
signature, the tests accept that answer as proof skopeo found and parsed berth's attachment, and use
the attachment-copying paths (which that build keeps) for the format checks.
"""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

import lib

SHARED_SERVER = True
SKOPEO = os.environ.get("SKOPEO_BIN", "/usr/bin/skopeo")
TOOLS = os.path.join(os.path.dirname(lib.BERTH_BIN), "tests")
SIGN_TOOL = os.environ.get("BERTH_SIGN_TOOL", os.path.join(TOOLS, "sign_tool"))
DEBIAN_NO_SIGSTORE = "Debian-local change: sigstore disabled"
SIG_MT = "application/vnd.dev.cosign.simplesigning.v1+json"
SIG_ANN = "dev.cosignproject.cosign/signature"


# ---------------------------------------------------------------- helpers

def _run(cmd, check=True, env=None, timeout=120, input_=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=e, input=input_)
    if check and p.returncode != 0:
        lib.fail("%s failed (%d):\n%s\n%s" % (" ".join(cmd), p.returncode,
                                            p.stdout.decode(errors="replace")[-1500:],
                                            p.stderr.decode(errors="replace")[-1500:]))
    return p


def _tools():
    for t in (SIGN_TOOL, lib.BERTH_BIN):
        if not os.access(t, os.X_OK):
            lib.skip("%s not built" % t)
    if not os.access(SKOPEO, os.X_OK):
        lib.skip("skopeo not installed")


def _skopeo(args, policy=None, regd=None, check=True, env=None):
    cmd = [SKOPEO]
    cmd += ["--policy", policy] if policy else ["--insecure-policy"]
    if regd:
        cmd += ["--registries.d", regd]
    return _run(cmd + args, check=check, env=env)


def _tool(*args, check=True):
    return _run([SIGN_TOOL] + list(args), check=check)


def _write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _keygen(tmp, prefix, passphrase=b"berth test passphrase\n"):
    pf = _write(os.path.join(tmp, prefix + ".pass"), passphrase)
    _run([lib.BERTH_BIN, "keygen", "--output-prefix", os.path.join(tmp, prefix), "--passphrase-file", pf])
    return os.path.join(tmp, prefix + ".key"), os.path.join(tmp, prefix + ".pub"), pf


def _regd(tmp, port, extra=""):
    d = os.path.join(tmp, "registries.d")
    os.makedirs(d, exist_ok=True)
    _write(os.path.join(d, "berth.yaml"),
           "docker:\n  '127.0.0.1:%d':\n    use-sigstore-attachments: true\n%s" % (port, extra))
    return d


def _policy(tmp, name, reqs, scope=None):
    doc = {"default": [{"type": "reject"}] if scope else reqs}
    if scope:
        doc["transports"] = {"docker": {scope: reqs}}
    return _write(os.path.join(tmp, name), json.dumps(doc))


def _sig_tag(digest):
    return digest.replace(":", "-", 1) + ".sig"


def _push_attachment(reg, repo, outdir, digest):
    """Pushes the blobs sign_tool attachment wrote and the manifest under the .sig tag."""
    man = _read(os.path.join(outdir, "manifest.json"))
    m = json.loads(man)
    reg.push_blob(repo, _read(os.path.join(outdir, "config.json")))
    for l in m["layers"]:
        p = os.path.join(outdir, l["digest"].split(":")[1])
        if os.path.exists(p):
            reg.push_blob(repo, _read(p))
    reg.put_manifest(repo, _sig_tag(digest), man, media_type=lib.OCI_MANIFEST)
    return m


def _fetch_attachment(reg, repo, digest, outdir):
    """GETs the .sig manifest and its layer blobs into outdir; returns the manifest path or None."""
    r = reg.get_manifest(repo, _sig_tag(digest), accept=lib.OCI_MANIFEST)
    if r.status == 404:
        return None
    lib.status(r, 200)
    lib.eq(r.headers.get("Content-Type"), lib.OCI_MANIFEST, ".sig manifest Content-Type")
    os.makedirs(outdir, exist_ok=True)
    path = _write(os.path.join(outdir, "manifest.json"), r.body)
    for l in json.loads(r.body)["layers"]:
        b = reg.get_blob(repo, l["digest"])
        lib.status(b, 200)
        _write(os.path.join(outdir, l["digest"].split(":")[1]), b.body)
    return path


def _sign_sigstore(tmp, key, pf, ref, manifest_path, name):
    """A library signature; the creator carries name so two signatures made within the same second
    still have different payloads (and blobs)."""
    payload, sig = os.path.join(tmp, name + ".payload"), os.path.join(tmp, name + ".sig")
    _tool("sign-sigstore", "--key", key, "--passphrase-file", pf, "--ref", ref,
          "--manifest", manifest_path, "--payload-out", payload, "--sig-out", sig, "--creator", "berth test " + name)
    return payload, sig


def _eval(policy, ref, manifest_path, attachment=None, blobs=None, simple=()):
    args = ["policy-eval", "--policy", policy, "--ref", ref, "--manifest", manifest_path]
    if attachment:
        args += ["--attachment", attachment, "--blobs", blobs]
    for s in simple:
        args += ["--simple", s]
    p = _tool(*args, check=False)
    return p.returncode, p.stdout.decode().strip()


def _verify(ref, policy, regd=None):
    """sign_tool verify: the berth verify flow (fetch, collect, evaluate) against the test registry."""
    args = ["verify", "--ref", ref, "--policy", policy]
    if regd:
        args += ["--registries-d", regd]
    p = _tool(*args, check=False)
    return p.returncode, p.stdout.decode().strip()


def _accepts(*a, **kw):
    rc, out = _eval(*a, **kw)
    if rc != 0 or out != "accepted":
        lib.fail("policy should accept, got exit %d: %s" % (rc, out))


def _rejects(expect, *a, **kw):
    rc, out = _eval(*a, **kw)
    if rc != 1 or expect not in out:
        lib.fail("policy should reject with %r, got exit %d: %s" % (expect, rc, out))
    return out


def _image(reg, repo, tag, tmp, name):
    body, digest, _ = reg.push_image(repo, tag=tag)
    return _write(os.path.join(tmp, name), body), digest


# ---------------------------------------------------------------- pure-Python NaCl secretbox (open only)

def _rotl(v, c):
    v &= 0xffffffff
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def _salsa_core(inp, feed_forward):
    x = list(inp)
    for _ in range(10):
        for a, b, c, d in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6), (15, 3, 7, 11),
                           (0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9), (15, 12, 13, 14)):
            x[b] ^= _rotl(x[a] + x[d], 7)
            x[c] ^= _rotl(x[b] + x[a], 9)
            x[d] ^= _rotl(x[c] + x[b], 13)
            x[a] ^= _rotl(x[d] + x[c], 18)
    if feed_forward:
        return [(x[i] + inp[i]) & 0xffffffff for i in range(16)]
    return x


def _salsa_input(key, n16):
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", n16)
    c = (0x61707865, 0x3320646e, 0x79622d32, 0x6b206574)
    return [c[0], k[0], k[1], k[2], k[3], c[1], n[0], n[1], n[2], n[3], c[2], k[4], k[5], k[6], k[7], c[3]]


def _xsalsa20_stream(key, nonce, length):
    z = _salsa_core(_salsa_input(key, nonce[:16]), False)
    sub = struct.pack("<8I", z[0], z[5], z[10], z[15], z[6], z[7], z[8], z[9])
    out, ctr = b"", 0
    while len(out) < length:
        out += struct.pack("<16I", *_salsa_core(_salsa_input(sub, nonce[16:24] + struct.pack("<Q", ctr)), True))
        ctr += 1
    return out[:length]


def _poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:32], "little")
    p, acc = (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        acc = (acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _secretbox_open(box, nonce, key):
    stream = _xsalsa20_stream(key, nonce, 32 + len(box) - 16)
    tag, ct = box[:16], box[16:]
    if _poly1305(stream[:32], ct) != tag:
        return None
    return bytes(a ^ b for a, b in zip(ct, stream[32:]))


def _decrypt_cosign_key(pem, passphrase):
    lines = pem.decode().strip().splitlines()
    lib.eq(lines[0], "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----", "private key PEM label")
    lib.eq(lines[-1], "-----END ENCRYPTED COSIGN PRIVATE KEY-----", "private key PEM end")
    ok(all(len(l) <= 64 for l in lines[1:-1]), "PEM lines longer than 64 columns")
    doc = json.loads(base64.b64decode("".join(lines[1:-1])))
    lib.eq(sorted(doc), ["cipher", "ciphertext", "kdf"], "encrypted key members")
    lib.eq(doc["kdf"]["name"], "scrypt", "kdf name")
    lib.eq(doc["kdf"]["params"], {"N": 32768, "r": 8, "p": 1}, "scrypt parameters")
    lib.eq(doc["cipher"]["name"], "nacl/secretbox", "cipher name")
    salt, nonce = base64.b64decode(doc["kdf"]["salt"]), base64.b64decode(doc["cipher"]["nonce"])
    lib.eq((len(salt), len(nonce)), (32, 24), "salt and nonce sizes")
    key = hashlib.scrypt(passphrase, salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=64 << 20)
    return _secretbox_open(base64.b64decode(doc["ciphertext"]), nonce, key)


ok = lib.ok


# ---------------------------------------------------------------- keygen

def test_keygen_cosign_key_format(reg):
    """berth keygen writes cosign's encrypted key; an independent decryption gets the PKCS#8 key whose
    public half is P.pub; the command refuses to overwrite and reads COSIGN_PASSWORD."""
    _tools()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    try:
        key, pub, _ = _keygen(tmp, "k", b"s3cret phrase\n")
        lib.eq(oct(os.stat(key).st_mode & 0o777), "0o600", "private key file mode")
        der = _decrypt_cosign_key(_read(key), b"s3cret phrase")
        ok(der is not None, "the key does not open with the passphrase (secretbox tag mismatch)")
        ok(_decrypt_cosign_key(_read(key), b"s3cret phrasf") is None, "a wrong passphrase opened the key")
        # PKCS#8 laid out byte for byte as Go's x509.MarshalPKCS8PrivateKey writes a P-256 key (what
        # cosign's and containers/image's x509.ParsePKCS8PrivateKey read): version 0, id-ecPublicKey,
        # prime256v1, then ECPrivateKey{1, d, [1] public point} without inner parameters
        prefix = bytes.fromhex("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420")
        lib.eq((len(der), der[:len(prefix)].hex(), der[68:73].hex()), (138, prefix.hex(), "a144034200"),
               "PKCS#8 layout of the decrypted key")
        derp = _write(os.path.join(tmp, "k.der"), der)
        p = _run(["openssl", "pkey", "-inform", "DER", "-in", derp, "-pubout"])
        lib.eq(p.stdout, _read(pub), "public key derived from the decrypted private key")
        t = _run(["openssl", "pkey", "-inform", "DER", "-in", derp, "-noout", "-text"]).stdout.decode()
        ok("prime256v1" in t or "P-256" in t, "key is not P-256: %s" % t[:200])
        # refuses to overwrite, leaves the files as they were
        before = _read(key)
        p = _run([lib.BERTH_BIN, "keygen", "--output-prefix", os.path.join(tmp, "k"), "--passphrase-file",
                  os.path.join(tmp, "k.pass")], check=False)
        lib.eq(p.returncode, 1, "keygen over existing files exit status")
        ok(b"refusing to overwrite" in p.stderr, "keygen message: %r" % p.stderr)
        lib.eq(_read(key), before, "existing key after a refused keygen")
        # COSIGN_PASSWORD, and an empty passphrase
        _run([lib.BERTH_BIN, "keygen", "--output-prefix", os.path.join(tmp, "e")], env={"COSIGN_PASSWORD": "envpw"},
             input_=b"")
        ok(_decrypt_cosign_key(_read(os.path.join(tmp, "e.key")), b"envpw") is not None, "COSIGN_PASSWORD not used")
        _run([lib.BERTH_BIN, "keygen", "--output-prefix", os.path.join(tmp, "z")], env={"COSIGN_PASSWORD": ""})
        ok(_decrypt_cosign_key(_read(os.path.join(tmp, "z.key")), b"") is not None, "empty passphrase")
    finally:
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


def test_keygen_asks_on_the_terminal(reg):
    """Without --passphrase-file or COSIGN_PASSWORD, keygen asks twice on the terminal (driven through
    script(1)'s pseudo-terminal): matching answers make a key that opens with them, different answers
    write nothing."""
    _tools()
    if not shutil.which("script"):
        lib.skip("script(1) not installed")
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    try:
        env = dict(os.environ)
        env.pop("COSIGN_PASSWORD", None)

        def keygen(prefix, answers):
            cmd = "%s keygen --output-prefix %s" % (lib.BERTH_BIN, os.path.join(tmp, prefix))
            return subprocess.run(["script", "-qec", cmd, "/dev/null"], input=answers, capture_output=True,
                                  timeout=60, env=env)

        p = keygen("t", b"tty secret\ntty secret\n")
        lib.eq(p.returncode, 0, "keygen on a terminal: %r" % p.stdout[-300:])
        ok(b"Enter password for private key" in p.stdout, "no prompt: %r" % p.stdout[-300:])
        ok(_decrypt_cosign_key(_read(os.path.join(tmp, "t.key")), b"tty secret") is not None,
           "the key does not open with the typed passphrase")
        p = keygen("u", b"one\ntwo\n")
        lib.eq(p.returncode, 1, "keygen with different answers")
        ok(b"passwords do not match" in p.stdout, "mismatch message: %r" % p.stdout[-300:])
        ok(not os.path.exists(os.path.join(tmp, "u.key")) and not os.path.exists(os.path.join(tmp, "u.pub")),
           "keygen wrote files after a mismatch")
    finally:
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- sigstore

def test_sigstore_library_attachment_read_by_skopeo(reg):
    """A library-made .sig pushed over raw HTTP: skopeo finds it (copies it out with
    use-sigstore-attachments; its policy check gets as far as the signature), the library accepts it
    with the right key and refuses another key, a moved tag, a replayed signature and a corrupt blob."""
    _tools()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    try:
        port = reg.server.port
        host = "127.0.0.1:%d" % port
        repo = lib.repo_name("sign")
        key, pub, pf = _keygen(tmp, "k")
        _, otherpub, _ = _keygen(tmp, "other")
        mpath, digest = _image(reg, repo, "v1", tmp, "m1.json")
        ref = "%s/%s:v1" % (host, repo)
        payload, sig = _sign_sigstore(tmp, key, pf, ref, mpath, "s1")
        out = os.path.join(tmp, "att")
        os.makedirs(out)
        _tool("attachment", "--payload", payload, "--sig", sig, "--out", out)
        m = _push_attachment(reg, repo, out, digest)
        lib.eq(len(m["layers"]), 1, "layers in the pushed .sig")
        lib.eq(m["layers"][0]["mediaType"], SIG_MT, "signature layer media type")
        lib.eq(m["layers"][0]["annotations"][SIG_ANN], _read(sig).decode(), "signature annotation")

        # the openssl CLI verifies the library's ECDSA signature over the payload bytes
        der = _write(os.path.join(tmp, "s1.der"), base64.b64decode(_read(sig)))
        _run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", der, payload])

        # fetched back over HTTP, the library accepts it with the right key only
        fetched = os.path.join(tmp, "fetched")
        att = _fetch_attachment(reg, repo, digest, fetched)
        pol = _policy(tmp, "p.json", [{"type": "sigstoreSigned", "keyPath": pub}], scope=host + "/" + repo)
        opol = _policy(tmp, "o.json", [{"type": "sigstoreSigned", "keyPath": otherpub}], scope=host + "/" + repo)
        _accepts(pol, ref, mpath, attachment=att, blobs=fetched)
        _rejects("requirement 1 of 1 (sigstoreSigned keyPath %s) in docker scope \"%s/%s\": cryptographic "
                 "signature verification failed" % (otherpub, host, repo), opol, ref, mpath, attachment=att,
                 blobs=fetched)
        _rejects("A signature was required, but no signature exists", pol, ref, mpath)

        # skopeo copies the attachment out: the dir: signature is our payload and annotation
        regd = _regd(tmp, port)
        dest = os.path.join(tmp, "dir-out")
        _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref, "dir:" + dest], regd=regd)
        blob = _read(os.path.join(dest, "signature-1"))
        ok(blob.startswith(b"\x00sigstore-json\n"), "skopeo did not store a sigstore signature: %r" % blob[:40])
        js = json.loads(blob[len(b"\x00sigstore-json\n"):])
        lib.eq(js["mimeType"], SIG_MT, "skopeo's view of the media type")
        lib.eq(base64.b64decode(js["payload"]), _read(payload), "skopeo's view of the payload")
        lib.eq(js["annotations"], {SIG_ANN: _read(sig).decode()}, "skopeo's view of the annotations")

        # skopeo's own policy check reaches the signature (Debian's build stops at its stub)
        spol = _policy(tmp, "sk.json", [{"type": "sigstoreSigned", "keyPath": pub,
                                         "signedIdentity": {"type": "matchRepository"}}])
        p = _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref, "dir:" + os.path.join(tmp, "d2")],
                    policy=spol, regd=regd, check=False)
        err = p.stderr.decode()
        ok(p.returncode == 0 or DEBIAN_NO_SIGSTORE in err,
           "skopeo copy --policy sigstoreSigned: exit %d: %s" % (p.returncode, err[-600:]))
        # ... and says "no signature" when it cannot find one, so the answer above came from our .sig
        _, d_nosig = _image(reg, repo, "nosig", tmp, "m0.json")
        p = _skopeo(["copy", "--src-tls-verify=false", "docker://%s/%s:nosig" % (host, repo),
                     "dir:" + os.path.join(tmp, "d3")], policy=spol, regd=regd, check=False)
        ok(p.returncode != 0 and b"no signature exists" in p.stderr, "unsigned image: %r" % p.stderr[-400:])

        # skopeo appends its own copy of a second library signature to berth's .sig: it reads our
        # manifest and config, keeps our layer first, and both verify
        payload2, sig2 = _sign_sigstore(tmp, key, pf, ref, mpath, "s2")
        d = _dir_image_with_sigstore(tmp, ref, [(payload2, sig2)])
        _skopeo(["copy", "--dest-tls-verify=false", "dir:" + d, "docker://" + ref], regd=regd)
        both = os.path.join(tmp, "both")
        att2 = _fetch_attachment(reg, repo, digest, both)
        m2 = json.loads(_read(att2))
        lib.eq([l["digest"] for l in m2["layers"]], [m["layers"][0]["digest"], lib.sha256(_read(payload2))],
               "layers after skopeo appended to berth's .sig")
        cfg = json.loads(reg.get_blob(repo, m2["config"]["digest"]).body)
        lib.eq(cfg["rootfs"]["diff_ids"], [l["digest"] for l in m2["layers"]], "config diff_ids after the append")
        _accepts(pol, ref, mpath, attachment=att2, blobs=both)
        os.remove(os.path.join(both, m["layers"][0]["digest"].split(":")[1]))  # only skopeo's copy is left
        _accepts(pol, ref, mpath, attachment=att2, blobs=both)

        lib.eq(_verify(ref, spol, regd)[0], 0, "verify flow before the tag moves")
        # a tag moved after signing: v1 now names another manifest, the old .sig does not fit it
        m2path, digest2 = _image(reg, repo, "v1", tmp, "m2.json")
        rc, out = _verify(ref, spol, regd)
        ok(rc == 1 and "no signature exists" in out, "verify flow after the tag moved: %s" % out)
        _rejects("Signature for digest %s does not match" % digest, pol, ref, m2path, attachment=att,
                 blobs=fetched)
        # a swapped layer: the signed manifest with one layer descriptor pointing at other bytes
        evil = os.urandom(512)
        reg.push_blob(repo, evil)
        mj = json.loads(_read(mpath))
        mj["layers"][0] = lib.descriptor(lib.OCI_LAYER_GZIP, evil)
        swapped = json.dumps(mj, indent="\t").encode()
        reg.put_manifest(repo, "v1", swapped)
        spath = _write(os.path.join(tmp, "swapped.json"), swapped)
        rc, out = _verify(ref, spol, regd)
        ok(rc == 1 and "no signature exists" in out, "verify flow with a swapped layer: %s" % out)
        _rejects("Signature for digest %s does not match" % digest, pol, ref, spath, attachment=att, blobs=fetched)
        # a replayed signature: the same .sig offered for another repository's image
        repo2 = lib.repo_name("sign")
        m3path, _ = _image(reg, repo2, "v1", tmp, "m3.json")
        pol2 = _policy(tmp, "p2.json", [{"type": "sigstoreSigned", "keyPath": pub}])
        _rejects("does not match", pol2, "%s/%s:v1" % (host, repo2), m3path, attachment=att, blobs=fetched)
        _rejects("Signature for identity %s is not accepted" % ref, pol2, "%s/%s:v1" % (host, repo2),
                 mpath, attachment=att, blobs=fetched)
        # a corrupt signature blob (bytes that do not hash to the layer digest) is not a signature
        hexd = m["layers"][0]["digest"].split(":")[1]
        _write(os.path.join(fetched, hexd), _read(os.path.join(fetched, hexd)).replace(b"v1", b"v2"))
        _rejects("A signature was required, but no signature exists", pol, ref, mpath, attachment=att,
                 blobs=fetched)
    finally:
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


def _dir_image_with_sigstore(tmp, src_ref, sigs):
    """skopeo copies src_ref to a dir: and we add sigstore signature files (library-made) to it."""
    d = os.path.join(tmp, "dir-src")
    _skopeo(["copy", "--src-tls-verify=false", "docker://" + src_ref, "dir:" + d])
    for i, (payload, sig) in enumerate(sigs):
        js = json.dumps({"mimeType": SIG_MT, "payload": base64.b64encode(_read(payload)).decode(),
                         "annotations": {SIG_ANN: _read(sig).decode()}}).encode()
        _write(os.path.join(d, "signature-%d" % (i + 1)), b"\x00sigstore-json\n" + js)
    return d


def test_sigstore_skopeo_writes_attachment_library_reads(reg):
    """skopeo --sign-by-sigstore-private-key with a berth keygen key (when the skopeo build has sigstore),
    and skopeo's attachment writer copying signed images into berth: the .sig tag exists, the library
    verifies it over HTTP (accepts the right key, refuses another), and appends a second signature
    that skopeo then reads back as two."""
    _tools()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    try:
        port = reg.server.port
        host = "127.0.0.1:%d" % port
        key, pub, pf = _keygen(tmp, "k")
        _, otherpub, _ = _keygen(tmp, "other")
        regd = _regd(tmp, port)
        srcrepo, repo = lib.repo_name("src"), lib.repo_name("signed")
        mpath, digest = _image(reg, srcrepo, "v1", tmp, "m.json")
        ref = "%s/%s:v1" % (host, repo)

        # 1. skopeo signing with berth's key file, if this skopeo can
        p = _skopeo(["copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                     "--sign-by-sigstore-private-key", key, "--sign-passphrase-file", pf,
                     "docker://%s/%s:v1" % (host, srcrepo), "docker://" + ref], regd=regd, check=False)
        skopeo_signed = p.returncode == 0
        if not skopeo_signed:
            ok(DEBIAN_NO_SIGSTORE in p.stderr.decode(),
               "skopeo --sign-by-sigstore-private-key failed: %s" % p.stderr.decode()[-800:])
            # 2. this skopeo cannot sign: let it carry a library-made signature into berth instead,
            # through its own attachment writer
            payload, sig = _sign_sigstore(tmp, key, pf, ref, mpath, "s1")
            d = _dir_image_with_sigstore(tmp, "%s/%s:v1" % (host, srcrepo), [(payload, sig)])
            _skopeo(["copy", "--dest-tls-verify=false", "dir:" + d, "docker://" + ref], regd=regd)

        # the .sig tag exists in berth and lists it
        r = reg.get("/v2/%s/tags/list" % repo)
        lib.status(r, 200)
        ok(_sig_tag(digest) in r.json()["tags"], "no .sig tag in %s" % r.json()["tags"])
        fetched = os.path.join(tmp, "fetched")
        att = _fetch_attachment(reg, repo, digest, fetched)
        m = json.loads(_read(att))
        lib.eq(len(m["layers"]), 1, "signatures in skopeo's .sig")
        lib.eq(m["config"]["mediaType"], lib.OCI_CONFIG, "skopeo's .sig config media type")
        pol = _policy(tmp, "p.json", [{"type": "sigstoreSigned", "keyPath": pub}], scope=host)
        opol = _policy(tmp, "o.json", [{"type": "sigstoreSigned", "keyPath": otherpub}], scope=host)
        _accepts(pol, ref, mpath, attachment=att, blobs=fetched)
        _rejects("cryptographic signature verification failed", opol, ref, mpath, attachment=att, blobs=fetched)
        # the whole verify flow over HTTP: manifest, registries.d, .sig, policy
        lib.eq(_verify(ref, pol, regd), (0, "accepted (0 simple, 1 sigstore)"), "verify flow")
        rc, out = _verify(ref, opol, regd)
        ok(rc == 1 and "cryptographic signature verification failed" in out, "verify flow, other key: %s" % out)
        rc, out = _verify(ref, pol, None)  # without use-sigstore-attachments the .sig is not looked at
        ok(rc == 1 and "no signature exists" in out, "verify flow without registries.d: %s" % out)

        # 3. the library appends a second signature to skopeo's .sig; skopeo reads both
        payload2, sig2 = _sign_sigstore(tmp, key, pf, "%s/%s:v1-again" % (host, repo), mpath, "s2")
        out = os.path.join(tmp, "att2")
        os.makedirs(out)
        _tool("attachment", "--existing", att, "--payload", payload2, "--sig", sig2, "--out", out)
        m2 = _push_attachment(reg, repo, out, digest)
        lib.eq(len(m2["layers"]), 2, "layers after appending")
        lib.eq(m2["layers"][0], m["layers"][0], "the first signature layer after appending")
        dest = os.path.join(tmp, "dir-out")
        _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref, "dir:" + dest], regd=regd)
        ok(os.path.exists(os.path.join(dest, "signature-2")), "skopeo did not read the appended signature")
        ok(not os.path.exists(os.path.join(dest, "signature-3")), "skopeo read three signatures")
        att2 = _fetch_attachment(reg, repo, digest, os.path.join(tmp, "fetched2"))
        _accepts(pol, ref, mpath, attachment=att2, blobs=os.path.join(tmp, "fetched2"))
        # only the second one claims v1-again; matchExact on that tag picks it
        pol_exact = _policy(tmp, "pe.json", [{"type": "sigstoreSigned", "keyPath": pub,
                                              "signedIdentity": {"type": "exactReference",
                                                                 "dockerReference": "%s/%s:v1-again" % (host, repo)}}])
        _accepts(pol_exact, ref, mpath, attachment=att2, blobs=os.path.join(tmp, "fetched2"))
        _rejects("Signature for identity", pol_exact, ref, mpath, attachment=att, blobs=fetched)
    finally:
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


@lib.requires_v11("OCI 1.1 referrers API")
def test_sigstore_referrer_artifact(reg):
    """A library-made OCI 1.1 signature artifact (subject = the image) pushed to berth is listed by the
    referrers API with cosign's artifactType, and verifies when fetched back."""
    _tools()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    try:
        host = "127.0.0.1:%d" % reg.server.port
        repo = lib.repo_name("ref")
        key, pub, pf = _keygen(tmp, "k")
        mpath, digest = _image(reg, repo, "v1", tmp, "m.json")
        ref = "%s/%s:v1" % (host, repo)
        payload, sig = _sign_sigstore(tmp, key, pf, ref, mpath, "s1")
        out = os.path.join(tmp, "art")
        os.makedirs(out)
        _tool("referrer", "--payload", payload, "--sig", sig, "--manifest", mpath, "--out", out)
        man = _read(os.path.join(out, "manifest.json"))
        reg.push_blob(repo, b"{}")
        reg.push_blob(repo, _read(payload))
        r = reg.put_manifest(repo, lib.sha256(man), man, media_type=lib.OCI_MANIFEST)
        lib.eq(r.headers.get("OCI-Subject"), digest, "OCI-Subject of the signature artifact")
        r = reg.get("/v2/%s/referrers/%s?artifactType=%s" % (repo, digest, "application/vnd.dev.cosign.artifact.sig.v1%2Bjson"))
        lib.status(r, 200)
        descs = r.json()["manifests"]
        lib.eq([(d["digest"], d["artifactType"]) for d in descs],
               [(lib.sha256(man), "application/vnd.dev.cosign.artifact.sig.v1+json")], "referrers of the image")
        fetched = os.path.join(tmp, "fetched")
        os.makedirs(fetched)
        m = reg.get_manifest(repo, descs[0]["digest"], accept=lib.OCI_MANIFEST)
        lib.status(m, 200)
        att = _write(os.path.join(fetched, "manifest.json"), m.body)
        for l in json.loads(m.body)["layers"]:
            _write(os.path.join(fetched, l["digest"].split(":")[1]), reg.get_blob(repo, l["digest"]).body)
        pol = _policy(tmp, "p.json", [{"type": "sigstoreSigned", "keyPath": pub}])
        _accepts(pol, ref, mpath, attachment=att, blobs=fetched)
    finally:
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- GPG simple signing

class GpgHome:
    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, "gnupg-" + name)
        os.makedirs(self.dir, mode=0o700)
        self.env = {"GNUPGHOME": self.dir}
        _run(["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key",
              "%s <%s@example.com>" % (name, name), "ed25519", "sign", "never"], env=self.env)
        out = _run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=self.env).stdout.decode()
        self.fpr = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
        self.pub = os.path.join(tmp, name + ".gpg")
        _write(self.pub, _run(["gpg", "--batch", "--export", self.fpr], env=self.env).stdout)

    def close(self):
        _run(["gpgconf", "--kill", "all"], env=self.env, check=False)


def test_gpg_standalone_interop(reg):
    """skopeo standalone-sign -> the library verifies (and the policy accepts); a library signature ->
    skopeo standalone-verify accepts; the other key and another manifest are refused."""
    _tools()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    a = b = None
    try:
        a, b = GpgHome(tmp, "alice"), GpgHome(tmp, "bob")
        repo = lib.repo_name("gpg")
        ref = "127.0.0.1:%d/%s:v1" % (reg.server.port, repo)
        mpath, digest = _image(reg, repo, "v1", tmp, "m.json")
        s1 = os.path.join(tmp, "skopeo.sig")
        _run([SKOPEO, "standalone-sign", mpath, ref, a.fpr, "--output", s1], env=a.env)
        p = _tool("verify-gpg", "--keyring", a.pub, "--sig", s1)
        fpr, payload = p.stdout.decode().split("\n", 1)
        lib.eq(fpr, a.fpr, "signer fingerprint")
        pl = json.loads(payload)
        lib.eq(pl["critical"]["identity"]["docker-reference"], ref, "signed identity")
        lib.eq(pl["critical"]["image"]["docker-manifest-digest"], digest, "signed digest")
        lib.eq(pl["critical"]["type"], "atomic container signature", "signature type")
        p = _tool("verify-gpg", "--keyring", b.pub, "--sig", s1, check=False)
        ok(p.returncode == 1 and b"Signature by key %s is not accepted" % a.fpr.encode() in p.stdout,
           "bob's key and alice's signature: %r" % p.stdout)
        pol = _policy(tmp, "p.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": a.pub}])
        _accepts(pol, ref, mpath, simple=[s1])
        bpol = _policy(tmp, "b.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": b.pub}])
        _rejects("requirement 1 of 1 (signedBy keyPath %s)" % b.pub, bpol, ref, mpath, simple=[s1])

        # the library signs; skopeo standalone-verify accepts, and refuses it for another manifest
        s2 = os.path.join(tmp, "berth.sig")
        _tool("sign-gpg", "--home", a.dir, "--key", a.fpr, "--ref", ref, "--manifest", mpath, "--out", s2)
        p = _run([SKOPEO, "standalone-verify", mpath, ref, a.fpr, s2], env=a.env)
        ok(b"Signature verified" in p.stdout, "standalone-verify: %r" % p.stdout)
        m2, _ = _image(reg, repo, "v2", tmp, "m2.json")
        p = _run([SKOPEO, "standalone-verify", m2, ref, a.fpr, s2], env=a.env, check=False)
        ok(p.returncode != 0, "skopeo accepted the signature for another manifest")
        _rejects("does not match", pol, "127.0.0.1:%d/%s:v2" % (reg.server.port, repo), m2, simple=[s2])
    finally:
        for h in (a, b):
            if h:
                h.close()
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


@lib.own_server
def test_gpg_lookaside_through_berth(reg):
    """skopeo copy --sign-by into berth writes the signature to the registries.d lookaside; the library
    computes the same URL and accepts it. A library signature placed in the lookaside is accepted by
    skopeo copy --policy (signedBy keyPath) and refused with another key. containers/image prefers the
    signature extension API when /v2/ announces it, so this server is told not to."""
    _tools()
    reg.server.stop()
    reg.server.env["BERTH_SIGNATURES_EXTENSION_API"] = "false"
    reg.server.start()
    tmp = tempfile.mkdtemp(prefix="berth-sign-")
    a = b = None
    try:
        a, b = GpgHome(tmp, "alice"), GpgHome(tmp, "bob")
        port = reg.server.port
        host = "127.0.0.1:%d" % port
        store = os.path.join(tmp, "lookaside")
        regd = _regd(tmp, port, "  '%s/gpg':\n    lookaside: file://%s\n" % (host, store))
        srcrepo, repo = lib.repo_name("src"), "gpg/" + lib.rand_str(8)
        _image(reg, srcrepo, "v1", tmp, "m-src.json")
        ref = "%s/%s:v1" % (host, repo)
        _skopeo(["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--sign-by", a.fpr,
                 "docker://%s/%s:v1" % (host, srcrepo), "docker://" + ref], regd=regd, env=a.env)
        # skopeo may rewrite the manifest on the way (it compresses the random test layers): take berth's
        r = reg.get_manifest(repo, "v1")
        lib.status(r, 200)
        mpath, digest = _write(os.path.join(tmp, "m.json"), r.body), lib.sha256(r.body)
        p = _tool("lookaside", "--registries-d", regd, "--ref", ref, "--manifest", mpath, "--index", "0")
        base, attach, url = p.stdout.decode().split("\n")[:3]
        lib.eq(base, "file://" + store, "lookaside base")
        lib.eq(attach, "attachments", "use-sigstore-attachments inherited from the host scope")
        lib.eq(url, "file://%s/%s@sha256=%s/signature-1" % (store, repo, digest.split(":")[1]), "lookaside URL")
        path = url[len("file://"):]
        ok(os.path.exists(path), "skopeo wrote no signature at %s (found: %s)" % (
            path, [os.path.join(dp, f) for dp, _, fs in os.walk(store) for f in fs]))
        pol = _policy(tmp, "p.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": a.pub}], scope=host)
        _accepts(pol, ref, mpath, simple=[path])
        lib.eq(_verify(ref, pol, regd), (0, "accepted (1 simple, 0 sigstore)"), "verify flow, lookaside")

        # a library signature for another tag, in the lookaside: skopeo's policy check accepts it
        ref2 = "%s/%s:v2" % (host, repo)
        _skopeo(["copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                 "docker://%s/%s:v1" % (host, srcrepo), "docker://" + ref2], regd=regd)
        r = reg.get_manifest(repo, "v2")
        lib.status(r, 200)
        m2path = _write(os.path.join(tmp, "m2.json"), r.body)
        p = _tool("lookaside", "--registries-d", regd, "--ref", ref2, "--manifest", m2path, "--write")
        path2 = p.stdout.decode().split("\n")[2][len("file://"):]
        for f in (path, path2):  # only the library's signature is left for v2's digest
            if os.path.exists(f):
                os.remove(f)
        os.makedirs(os.path.dirname(path2), exist_ok=True)
        _tool("sign-gpg", "--home", a.dir, "--key", a.fpr, "--ref", ref2, "--manifest", m2path, "--out", path2)
        p = _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref2, "dir:" + os.path.join(tmp, "out")],
                    policy=pol, regd=regd, check=False)
        ok(p.returncode == 0, "skopeo copy --policy signedBy refused berth's signature: %r" % p.stderr[-500:])
        bpol = _policy(tmp, "b.json", [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": b.pub}], scope=host)
        p = _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref2, "dir:" + os.path.join(tmp, "out2")],
                    policy=bpol, regd=regd, check=False)
        ok(p.returncode != 0 and b"Invalid GPG signature" in p.stderr, "skopeo with bob's key: %r" % p.stderr[-400:])
        # v1's signature was removed: skopeo and the library both refuse v1 now
        p = _skopeo(["copy", "--src-tls-verify=false", "docker://" + ref, "dir:" + os.path.join(tmp, "out3")],
                    policy=pol, regd=regd, check=False)
        ok(p.returncode != 0 and b"no signature exists" in p.stderr, "v1 without its signature: %r" % p.stderr[-400:])
        _rejects("A signature was required, but no signature exists", pol, ref, mpath)
        # the identity rule: v2's signature offered for v1
        _rejects("Signature for identity %s is not accepted" % ref2, pol, ref, m2path, simple=[path2])
    finally:
        for h in (a, b):
            if h:
                h.close()
        if not os.environ.get("BERTH_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
