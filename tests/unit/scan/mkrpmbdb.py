#!/usr/bin/env python3
"""Makes Berkeley DB "Packages" files for the scan unit tests from the header blobs of the rpmdb.sqlite
that mkrpmdb.sh made: Debian's rpm can no longer write BDB, so the real Berkeley DB library
(db5.3_load, hash access method, the layout rpm used before 4.16) writes the file and rpm's own
read-only BDB backend (bdb_ro) reads it back, which shows the file is one rpm accepts.

DIR/bdb/<variant>/Packages for variants le (host order, 4096-byte pages), be (big-endian),
small (512-byte pages: every header in overflow pages) and sum (page checksums on), and
DIR/bdb/le/rpm-qa.txt, rpm's reading of the le file (one "name|epoch|version|release|arch" a line).
Keys are the header numbers as 4-byte host-order integers, as rpm stored them; key 0 holds the
last number used."""
import os
import sqlite3
import struct
import subprocess
import sys

d = sys.argv[1]
db = sqlite3.connect("file:%s/root/var/lib/rpm/rpmdb.sqlite?immutable=1" % d, uri=True)
rows = list(db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"))
db.close()
dump = ["VERSION=3", "format=bytevalue", "type=hash", "HEADER=END"]
dump += [" " + struct.pack("=I", 0).hex(), " " + struct.pack("=I", rows[-1][0]).hex()]
for hnum, blob in rows:
    dump += [" " + struct.pack("=I", hnum).hex(), " " + bytes(blob).hex()]
dump.append("DATA=END")
variants = {
    "le": ["db_pagesize=4096", "db_lorder=1234"],
    "be": ["db_pagesize=4096", "db_lorder=4321"],
    "small": ["db_pagesize=512", "db_lorder=1234"],
    "sum": ["db_pagesize=4096", "db_lorder=1234", "chksum=1"],
}
for name, opts in variants.items():
    out = os.path.join(d, "bdb", name)
    os.makedirs(out, exist_ok=True)
    args = ["db5.3_load"]
    for o in opts:
        args += ["-c", o]
    subprocess.run(args + [os.path.join(out, "Packages")], input="\n".join(dump) + "\n", text=True, check=True)
qa = subprocess.run(["rpm", "--define", "_db_backend bdb_ro", "--dbpath", os.path.join(d, "bdb", "le"), "-qa",
                     "--qf", "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}\\n"],
                    capture_output=True, text=True, check=True, env=dict(os.environ, HOME=d))
with open(os.path.join(d, "bdb", "le", "rpm-qa.txt"), "w") as f:
    f.write("".join(sorted(qa.stdout.splitlines(True))))
print("%d headers" % len(rows))
