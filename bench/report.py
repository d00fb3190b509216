#!/usr/bin/env python3
"""Print the Markdown report for bench/run.sh from its key=value results file."""
import sys


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                r[k] = v
    return r


R = load(sys.argv[1])


def num(key):
    v = R.get(key)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v, kind):
    if v is None:
        return "ERR"
    if kind == "rps":
        return f"{v:,.0f}"
    if kind == "mbps":
        return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
    if kind == "ms":
        return f"{v:.2f}"
    if kind == "ips":
        return f"{v:.1f}"
    if kind == "mib":
        return f"{v:.1f}"
    return str(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "n/a" if x is None else f"{x:.2f}x"


servers = R.get("servers", "ref").split()
have_berth = "berth" in servers
rss = {s: (num(f"{s}_rss_kib") / 1024 if num(f"{s}_rss_kib") is not None else None)
       for s in ("berth", "ref")}

blob = R.get("blob_mib", "?")
chunk = R.get("chunk_mib", "?")
wrk = R.get("wrk_secs", "?")
tags = R.get("tags", "?")
nimg = R.get("push_images", "?")
ncli = R.get("push_clients", "?")

# (label, key, kind, higher_is_better)
ROWS = [
    (f"Monolithic upload, {blob} MiB (MB/s)", "{s}_mono_mbps", "mbps"),
    (f"Chunked upload, {chunk} MiB chunks (MB/s)", "{s}_chunked_mbps", "mbps"),
    ("Blob download, paired rounds (MB/s)", "{s}_download_mbps", "mbps"),
    ("nginx big file in the same rounds (MB/s)", "{s}_download_nginx_mbps", "mbps"),
    ("Manifest GET (req/s)", "{s}_get_rps", "rps"),
    ("Manifest GET p99 (ms)", "{s}_get_p99", "ms"),
    ("Manifest HEAD (req/s)", "{s}_head_rps", "rps"),
    ("Manifest HEAD p99 (ms)", "{s}_head_p99", "ms"),
    (f"Tags list, {tags} tags (req/s)", "{s}_tags_rps", "rps"),
    ("Tags list p99 (ms)", "{s}_tags_p99", "ms"),
    (f"Small image pushes, {nimg} images / {ncli} clients, median of 3 (images/s)", "{s}_push_ips", "ips"),
    ("Peak RSS, VmHWM (MiB)", None, "mib"),
]


def val(s, key, kind):
    if key is None:
        return rss[s]
    return num(key.format(s=s))


def errnote(s, key):
    if key and key.endswith("_rps"):
        e = num(key.format(s=s).replace("_rps", "_err"))
        if e:
            return f" ({e:.0f} errors)"
    return ""


out = []
p = out.append
p(f"### berth benchmark ({R.get('mode', '?')} run, {R.get('date', '?')})")
p("")
p(f"Machine: {R.get('cpu', '?')} CPUs, {R.get('mem_mib', '?')} MiB RAM, "
  f"load average at start {R.get('loadavg', '?')}. "
  f"Reference: docker-registry {R.get('ref_version', '?')} (filesystem driver, "
  f"in-memory blob descriptor cache). Request rates: 2 threads, 64 keep-alive connections, {wrk} s "
  f"(wrk 4.1 for GET; bench/headload.c for HEAD, since wrk stalls on HEAD responses). "
  f"MB = 10^6 bytes.")
p("")
if have_berth:
    p("| Metric | berth | docker-registry | berth / docker-registry |")
    p("|---|---:|---:|---:|")
else:
    p("| Metric | docker-registry |")
    p("|---|---:|")
for label, key, kind in ROWS:
    r = val("ref", key, kind)
    if have_berth:
        b = val("berth", key, kind)
        p(f"| {label} | {fmt(b, kind)}{errnote('berth', key)} | {fmt(r, kind)}{errnote('ref', key)} "
          f"| {fmt_ratio(ratio(b, r))} |")
    else:
        p(f"| {label} | {fmt(r, kind)}{errnote('ref', key)} |")
methods = []
for s, name in (("berth", "berth"), ("ref", "docker-registry")):
    if s in servers and R.get(f"{s}_mono_method"):
        methods.append(f"{name}: {R[s + '_mono_method']}")
if methods:
    p("")
    p("Monolithic upload method (single-post = one POST ?digest= with the body; "
      "post-put = POST then PUT ?digest= with the body): " + ", ".join(methods) + ".")

p("")
p("#### Machine ceilings (same run)")
p("")
p("| Ceiling | Value |")
p("|---|---:|")
p(f"| nginx {R.get('nginx_version', '')} tiny static file (req/s) | "
  f"{fmt(num('ceil_nginx_rps'), 'rps')}{errnote('ceil', 'ceil_nginx_rps')} |")
p(f"| nginx tiny static file p99 (ms) | {fmt(num('ceil_nginx_p99'), 'ms')} |")
p(f"| nginx {R.get('big_mib', '?')} MiB file download, all paired rounds (MB/s) | "
  f"{fmt(num('ceil_nginx_big_mbps'), 'mbps')} |")
p(f"| dd {R.get('dd_mib', '?')} MiB write, conv=fdatasync (MB/s) | {fmt(num('ceil_dd_mbps'), 'mbps')} |")
p(f"| openssl speed sha256, 16 KiB blocks, one core (MB/s) | {fmt(num('ceil_sha256_mbps'), 'mbps')} |")

# ---------------------------------------------------------------- goals
s = "berth" if have_berth else "ref"
subj = "berth" if have_berth else "docker-registry"
nginx_rps = num("ceil_nginx_rps")
dd = num("ceil_dd_mbps")
big = num("ceil_nginx_big_mbps")


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def pct(x):
    return "ERR" if x is None else f"{x * 100:.0f}%"


goals = []
for kind, label in (("get", "GET"), ("head", "HEAD")):
    rps, p99 = num(f"{s}_{kind}_rps"), num(f"{s}_{kind}_p99")
    fr = ratio(rps, nginx_rps)
    ok = None if fr is None or p99 is None else (fr >= 0.5 and p99 < 5.0)
    meas = f"{fmt(rps, 'rps')} req/s = {pct(fr)} of nginx, p99 {fmt(p99, 'ms')} ms"
    goals.append((f"Manifest {label} >= 50% of nginx tiny-file req/s, p99 < 5 ms", meas, verdict(ok)))
for kind, label in (("mono", "Monolithic"), ("chunked", "Chunked")):
    fr = ratio(num(f"{s}_{kind}_mbps"), dd)
    goals.append((f"{label} upload >= 80% of fdatasync write",
                  f"{fmt(num(f'{s}_{kind}_mbps'), 'mbps')} MB/s = {pct(fr)}",
                  verdict(None if fr is None else fr >= 0.8)))
# against nginx's rounds paired with this server's (same minute, same conditions)
fr = ratio(num(f"{s}_download_mbps"), num(f"{s}_download_nginx_mbps") or big)
goals.append(("Blob download >= 90% of nginx big-file (paired rounds)",
              f"{fmt(num(f'{s}_download_mbps'), 'mbps')} MB/s = {pct(fr)}",
              verdict(None if fr is None else fr >= 0.9)))
if have_berth:
    x = ratio(num("berth_tags_rps"), num("ref_tags_rps"))
    goals.append(("Tags list >= 10x docker-registry", fmt_ratio(x), verdict(None if x is None else x >= 10)))
    x = ratio(num("berth_push_ips"), num("ref_push_ips"))
    goals.append(("Small-image pushes >= 5x docker-registry", fmt_ratio(x), verdict(None if x is None else x >= 5)))
    x = ratio(rss["berth"], rss["ref"])
    goals.append(("Peak RSS <= 0.5x docker-registry", fmt_ratio(x), verdict(None if x is None else x <= 0.5)))
else:
    goals.append(("Tags list >= 10x docker-registry", "n/a (berth not run)", "n/a"))
    goals.append(("Small-image pushes >= 5x docker-registry", "n/a (berth not run)", "n/a"))
    goals.append(("Peak RSS <= 0.5x docker-registry", "n/a (berth not run)", "n/a"))

p("")
p(f"#### Goals ({subj})")
if not have_berth:
    p("")
    p("_--only-reference run: the absolute goals are evaluated for docker-registry, for calibration only._")
p("")
p("| Goal | Measured | Result |")
p("|---|---|:---:|")
for g, m, v in goals:
    p(f"| {g} | {m} | {v} |")
print("\n".join(out))
