/* meta/sqlite: the embedded metadata backend.
 *
 * One SQLite connection per (store, thread), opened lazily with SQLITE_OPEN_NOMUTEX because only its
 * thread ever touches it, kept in a pthread key and in a list so meta_free() closes them all (a
 * thread that exits first closes its own). Each connection caches its prepared statements.
 * The file runs in WAL mode with synchronous=FULL, so a commit that returned is on disk (it survives
 * SIGKILL and power loss), readers never block the writer, and writes serialise on BEGIN IMMEDIATE
 * with a busy timeout plus a bounded retry.
 *
 * Every call is one transaction: sq_tx() begins it (DEFERRED for reads, IMMEDIATE for writes), runs
 * a callback, commits, and rolls back on any error, retrying the whole callback when SQLite reports
 * BUSY. Callbacks therefore reset their outputs when they fail and never leave statements stepping.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fault.h"
#include "meta/backend.h"

#define SQ_BUSY_TIMEOUT_MS 10000
#define SQ_RETRIES 5

/* Schema migrations, applied in order; PRAGMA user_version counts how many have run. */
static const char *const sq_migrations[] = {
    /* 1: the initial schema. Digests are "alg:hex" text; names compare bytewise (BINARY). */
    "CREATE TABLE repositories ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE blob_links ("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (repo_id, digest)) WITHOUT ROWID;"
    "CREATE INDEX blob_links_digest ON blob_links(digest);"
    "CREATE TABLE manifests ("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  media_type TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  body BLOB NOT NULL,"
    "  subject TEXT,"
    "  artifact_type TEXT,"
    "  annotations TEXT,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (repo_id, digest));"
    "CREATE INDEX manifests_digest ON manifests(digest);"
    "CREATE INDEX manifests_subject ON manifests(repo_id, subject, digest) WHERE subject IS NOT NULL;"
    /* kind 0: a blob (config, layer); kind 1: a child manifest of an index. */
    "CREATE TABLE manifest_refs ("
    "  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  PRIMARY KEY (manifest_id, kind, digest)) WITHOUT ROWID;"
    "CREATE INDEX manifest_refs_digest ON manifest_refs(digest, kind);"
    "CREATE TABLE tags ("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (repo_id, name),"
    "  FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE INDEX tags_manifest ON tags(repo_id, digest);"
    "CREATE TABLE uploads ("
    "  uuid TEXT PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX uploads_repo ON uploads(repo_id);",
    /* 2: when a link was last made (committed, mounted, linked again), for garbage collection's grace
	 * period; `created` keeps the first time. */
    "ALTER TABLE blob_links ADD COLUMN touched INTEGER NOT NULL DEFAULT 0;"
    "UPDATE blob_links SET touched = created;",
    /* 3: errata (security advisories), their CVEs and affected packages, the store-wide errata
	 * generation and the feeds' sync state. issued is NULL when the source gives no date;
	 * issued_eff is issued or else first_seen, the order lists use. refs is newline-joined. */
    "CREATE TABLE errata ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  source TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  issued INTEGER,"
    "  issued_eff INTEGER NOT NULL,"
    "  modified INTEGER,"
    "  withdrawn INTEGER,"
    "  summary TEXT,"
    "  details TEXT,"
    "  refs TEXT,"
    "  hash TEXT NOT NULL,"
    "  first_seen INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL);"
    "CREATE INDEX errata_order ON errata(issued_eff DESC, name);"
    "CREATE INDEX errata_generation ON errata(generation);"
    "CREATE TABLE errata_cves ("
    "  erratum_id INTEGER NOT NULL REFERENCES errata(id) ON DELETE CASCADE,"
    "  cve TEXT NOT NULL,"
    "  PRIMARY KEY (erratum_id, cve)) WITHOUT ROWID;"
    "CREATE INDEX errata_cves_cve ON errata_cves(cve);"
    "CREATE TABLE errata_pkgs ("
    "  erratum_id INTEGER NOT NULL REFERENCES errata(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  release TEXT NOT NULL,"
    "  package TEXT NOT NULL,"
    "  binary INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  introduced TEXT,"
    "  fixed TEXT,"
    "  last_affected TEXT,"
    "  PRIMARY KEY (erratum_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX errata_pkgs_release ON errata_pkgs(release, package);"
    "CREATE INDEX errata_pkgs_package ON errata_pkgs(package);"
    "CREATE TABLE errata_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  generation INTEGER NOT NULL,"
    "  changed INTEGER NOT NULL);"
    "INSERT INTO errata_state(id, generation, changed) VALUES (1, 0, 0);"
    "CREATE TABLE errata_feeds ("
    "  feed TEXT PRIMARY KEY,"
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  content_hash TEXT,"
    "  checked INTEGER NOT NULL,"
    "  changed INTEGER NOT NULL) WITHOUT ROWID;",
    /* 4: the journal (custody log; seq contiguous from 1, each row hashing the one before), the
	 * webhook cursors over it, and simple signatures stored through the signature extension API
	 * (one row per distinct content of a manifest). */
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  repo TEXT NOT NULL,"
    "  digest TEXT,"
    "  tag TEXT,"
    "  detail TEXT,"
    "  prev TEXT,"
    "  entry TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE INDEX events_repo ON events(repo, seq);"
    "CREATE TABLE notify_cursors ("
    "  endpoint TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE signatures ("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  content BLOB NOT NULL,"
    "  content_sha256 TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (repo_id, digest, content_sha256));",
    /* 5: scanning. scan_layers: one layer's index (scan_layer_encode bytes) or why it failed, by
	 * layer digest. scans: one image's scan by manifest digest. scan_queue: manifests waiting for a
	 * scan, filled by a trigger in the transaction that stores the manifest; manifests stored before
	 * this migration are queued by it. */
    "CREATE TABLE scan_layers ("
    "  digest TEXT PRIMARY KEY,"
    "  result BLOB,"
    "  why TEXT,"
    "  created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE scans ("
    "  digest TEXT PRIMARY KEY,"
    "  status TEXT NOT NULL,"
    "  why TEXT,"
    "  os TEXT,"
    "  pretty TEXT,"
    "  layers TEXT NOT NULL,"
    "  packages BLOB,"
    "  generation INTEGER NOT NULL,"
    "  findings TEXT,"
    "  updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX scans_generation ON scans(generation) WHERE status = 'scanned';"
    "CREATE TABLE scan_queue ("
    "  digest TEXT PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  enqueued INTEGER NOT NULL,"
    "  claimed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX scan_queue_order ON scan_queue(claimed, enqueued);"
    "CREATE TRIGGER scan_enqueue AFTER INSERT ON manifests"
    " WHEN NOT EXISTS (SELECT 1 FROM scans WHERE digest = NEW.digest) BEGIN"
    "  INSERT OR IGNORE INTO scan_queue(digest, repo_id, enqueued) VALUES (NEW.digest, NEW.repo_id, NEW.created);"
    " END;"
    "INSERT OR IGNORE INTO scan_queue(digest, repo_id, enqueued) SELECT digest, repo_id, created FROM manifests;",
    /* 6: the last grade the grade checker recorded per manifest digest (a letter and the UTC day it
	 * was computed for), so a drop can be journaled once. */
    "CREATE TABLE grade_state ("
    "  digest TEXT PRIMARY KEY,"
    "  grade TEXT NOT NULL,"
    "  day INTEGER NOT NULL) WITHOUT ROWID;",
    /* 7: an image's package list (10 KiB and more, written once per scan) moves out of scans, whose
	 * rows a re-match rewrites: SQLite rewrites a whole row on UPDATE, so every re-match copied
	 * each list too. */
    "CREATE TABLE scan_packages ("
    "  digest TEXT PRIMARY KEY,"
    "  packages BLOB NOT NULL);"
    "INSERT INTO scan_packages(digest, packages) SELECT digest, packages FROM scans WHERE packages IS NOT NULL;"
    "ALTER TABLE scans DROP COLUMN packages;",
    /* 8: a manifest digest's scan, package list and last grade go when its last manifest row does
	 * (they were left behind before); pushing it again queues a new scan. */
    "CREATE TRIGGER scan_forget AFTER DELETE ON manifests"
    " WHEN NOT EXISTS (SELECT 1 FROM manifests WHERE digest = OLD.digest) BEGIN"
    "  DELETE FROM scans WHERE digest = OLD.digest;"
    "  DELETE FROM scan_packages WHERE digest = OLD.digest;"
    "  DELETE FROM grade_state WHERE digest = OLD.digest;"
    " END;"
    "DELETE FROM scans WHERE digest NOT IN (SELECT digest FROM manifests);"
    "DELETE FROM scan_packages WHERE digest NOT IN (SELECT digest FROM manifests);"
    "DELETE FROM grade_state WHERE digest NOT IN (SELECT digest FROM manifests);",
};
#define SQ_SCHEMA_VERSION ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

/* The statements each connection prepares once and reuses. */
enum sq_stmt {
	ST_BEGIN_READ,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_REPO_ID,
	ST_REPO_ADD,
	ST_BLOB_LINK,
	ST_BLOB_GET,
	ST_BLOB_UNLINK,
	ST_BLOB_REFERENCED,
	ST_BLOB_IN_REPO,
	ST_MF_ID,
	ST_MF_ADD,
	ST_REF_ADD,
	ST_TAG_SET,
	ST_MF_GET,
	ST_MF_GET_BODY,
	ST_MF_GET_TAG,
	ST_MF_GET_TAG_BODY,
	ST_MF_DELETE,
	ST_TAG_DELETE,
	ST_TAGS_LIST,
	ST_CATALOG,
	ST_REFERRERS,
	ST_UPLOAD_PUT,
	ST_UPLOAD_GET,
	ST_UPLOAD_DELETE,
	ST_UPLOAD_LIST,
	ST_GC_PLAN_MANIFESTS,
	ST_GC_PLAN_LINKS,
	ST_GC_PLAN_BLOBS,
	ST_GC_PRUNE,
	ST_GC_BLOB_UNLINK,
	ST_ER_LOOKUP,
	ST_ER_INSERT,
	ST_ER_UPDATE,
	ST_ER_DEL_CVES,
	ST_ER_DEL_PKGS,
	ST_ER_ADD_CVE,
	ST_ER_ADD_PKG,
	ST_ER_GEN_GET,
	ST_ER_GEN_SET,
	ST_ER_GET,
	ST_ER_CVES,
	ST_ER_PKGS,
	ST_ER_LAST,
	ST_ER_LIST,
	ST_ER_AFFECTING,
	ST_ER_CHANGED,
	ST_FEED_GET,
	ST_FEED_PUT,
	ST_EV_HEAD,
	ST_EV_ADD,
	ST_EV_LIST,
	ST_TAG_GET,
	ST_TAGS_OF,
	ST_CUR_GET,
	ST_CUR_SET,
	ST_SIG_COUNT,
	ST_SIG_ADD,
	ST_SIG_LIST,
	ST_SIG_DEL,
	ST_SCAN_CLAIM,
	ST_SCAN_REQUEUE,
	ST_SCAN_ENQUEUE,
	ST_SCAN_QUEUED,
	ST_SCAN_LAYER_GET,
	ST_SCAN_LAYER_PUT,
	ST_SCAN_LAYER_COUNT,
	ST_SCAN_PUT,
	ST_SCAN_PKG_PUT,
	ST_SCAN_PKG_DEL,
	ST_SCAN_DEQUEUE,
	ST_SCAN_GET,
	ST_SCAN_STALE,
	ST_SCAN_FINDINGS,
	ST_GRADE_GET,
	ST_GRADE_SET,
	ST_MAX
};

/* The live manifests as a recursive CTE `kept(id)`. Roots: every manifest when ?1 (delete_untagged)
 * is 0, else the tagged ones and those created at or after ?2 (the cutoff); then children of a kept
 * index and subjects of a kept referrer, within the same repository. `where` restricts the roots:
 * "" or a condition ending in AND. */
#define GC_KEPT(where)                                                                             \
	"WITH RECURSIVE kept(id) AS ("                                                             \
	" SELECT m.id FROM manifests m WHERE " where " (?1 = 0 OR m.created >= ?2"                 \
	"   OR EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest))" \
	" UNION SELECT c.id FROM kept k JOIN manifests p ON p.id = k.id"                           \
	"   JOIN manifest_refs x ON x.manifest_id = p.id AND x.kind = 1"                           \
	"   JOIN manifests c ON c.repo_id = p.repo_id AND c.digest = x.digest"                     \
	" UNION SELECT s.id FROM kept k JOIN manifests p ON p.id = k.id"                           \
	"   JOIN manifests s ON s.repo_id = p.repo_id AND s.digest = p.subject"                    \
	" UNION SELECT f.id FROM kept k JOIN manifests p ON p.id = k.id"                           \
	"   JOIN manifests f ON f.repo_id = p.repo_id AND f.subject = p.digest)"

static const char *const sq_sql[ST_MAX] = {
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_REPO_ID] = "SELECT id FROM repositories WHERE name = ?1",
    [ST_REPO_ADD] = "INSERT INTO repositories(name, created) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
    [ST_BLOB_LINK] = "INSERT INTO blob_links(repo_id, digest, size, created, touched) VALUES (?1, ?2, ?3, ?4, ?4)"
		     " ON CONFLICT(repo_id, digest) DO UPDATE SET touched = excluded.touched",
    [ST_BLOB_GET] = "SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
		    " WHERE r.name = ?1 AND b.digest = ?2",
    [ST_BLOB_UNLINK] = "DELETE FROM blob_links"
		       " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND digest = ?2",
    [ST_BLOB_REFERENCED] = "SELECT EXISTS (SELECT 1 FROM blob_links WHERE digest = ?1)"
			   " OR EXISTS (SELECT 1 FROM manifests WHERE digest = ?1)"
			   " OR EXISTS (SELECT 1 FROM manifest_refs WHERE digest = ?1)",
    [ST_BLOB_IN_REPO] = "SELECT 1 FROM blob_links WHERE repo_id = ?1 AND digest = ?2",
    [ST_MF_ID] = "SELECT id FROM manifests WHERE repo_id = ?1 AND digest = ?2",
    [ST_MF_ADD] = "INSERT INTO manifests(repo_id, digest, media_type, size, body, subject, artifact_type,"
		  " annotations, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		  " ON CONFLICT(repo_id, digest) DO NOTHING",
    [ST_REF_ADD] = "INSERT INTO manifest_refs(manifest_id, kind, digest) VALUES (?1, ?2, ?3)"
		   " ON CONFLICT DO NOTHING",
    [ST_TAG_SET] = "INSERT INTO tags(repo_id, name, digest, updated) VALUES (?1, ?2, ?3, ?4)"
		   " ON CONFLICT(repo_id, name) DO UPDATE SET digest = excluded.digest,"
		   " updated = excluded.updated WHERE digest IS NOT excluded.digest",
    [ST_MF_GET] = "SELECT m.digest, m.media_type, m.size FROM manifests m"
		  " JOIN repositories r ON r.id = m.repo_id WHERE r.name = ?1 AND m.digest = ?2",
    [ST_MF_GET_BODY] = "SELECT m.digest, m.media_type, m.size, m.body FROM manifests m"
		       " JOIN repositories r ON r.id = m.repo_id WHERE r.name = ?1 AND m.digest = ?2",
    [ST_MF_GET_TAG] = "SELECT m.digest, m.media_type, m.size FROM tags t"
		      " JOIN repositories r ON r.id = t.repo_id"
		      " JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest"
		      " WHERE r.name = ?1 AND t.name = ?2",
    [ST_MF_GET_TAG_BODY] = "SELECT m.digest, m.media_type, m.size, m.body FROM tags t"
			   " JOIN repositories r ON r.id = t.repo_id"
			   " JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest"
			   " WHERE r.name = ?1 AND t.name = ?2",
    [ST_MF_DELETE] = "DELETE FROM manifests"
		     " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND digest = ?2",
    [ST_TAG_DELETE] = "DELETE FROM tags"
		      " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND name = ?2",
    [ST_TAGS_LIST] = "SELECT name FROM tags WHERE repo_id = ?1 AND name > ?2"
		     " ORDER BY name COLLATE BINARY LIMIT ?3",
    [ST_CATALOG] = "SELECT name FROM repositories WHERE name > ?1 ORDER BY name COLLATE BINARY LIMIT ?2",
    [ST_REFERRERS] = "SELECT m.digest, m.size, m.media_type, m.artifact_type, m.annotations FROM manifests m"
		     " JOIN repositories r ON r.id = m.repo_id"
		     " WHERE r.name = ?1 AND m.subject = ?2 AND (?3 IS NULL OR m.artifact_type = ?3)"
		     " ORDER BY m.digest COLLATE BINARY",
    [ST_UPLOAD_PUT] = "INSERT INTO uploads(uuid, repo_id, created) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT(uuid) DO UPDATE SET repo_id = excluded.repo_id",
    [ST_UPLOAD_GET] = "SELECT r.name FROM uploads u JOIN repositories r ON r.id = u.repo_id WHERE u.uuid = ?1",
    [ST_UPLOAD_DELETE] = "DELETE FROM uploads WHERE uuid = ?1",
    [ST_UPLOAD_LIST] = "SELECT uuid FROM uploads WHERE created <= ?1 ORDER BY uuid",
    /* ?1: delete_untagged, ?2: cutoff. GC_KEPT is the live manifests (see meta.h). */
    [ST_GC_PLAN_MANIFESTS] =
	GC_KEPT("") " SELECT r.name, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repo_id"
		    " WHERE m.id NOT IN (SELECT id FROM kept) ORDER BY r.name COLLATE BINARY, m.digest",
    [ST_GC_PLAN_LINKS] = GC_KEPT(
	"") " SELECT r.name, b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
	    " WHERE b.touched < ?2"
	    " AND NOT EXISTS (SELECT 1 FROM manifest_refs x JOIN manifests m ON m.id = x.manifest_id"
	    "   WHERE x.digest = b.digest AND x.kind = 0 AND m.repo_id = b.repo_id AND m.id IN (SELECT id FROM kept))"
	    " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = b.repo_id AND m.digest = b.digest"
	    "   AND m.id IN (SELECT id FROM kept))"
	    " ORDER BY r.name COLLATE BINARY, b.digest",
    [ST_GC_PLAN_BLOBS] = GC_KEPT(
	"") " SELECT NULL, b.digest, MAX(b.size) FROM blob_links b GROUP BY b.digest"
	    " HAVING MAX(b.touched) < ?2"
	    " AND NOT EXISTS (SELECT 1 FROM manifest_refs x WHERE x.digest = b.digest AND x.kind = 0"
	    "   AND x.manifest_id IN (SELECT id FROM kept))"
	    " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest AND m.id IN (SELECT id FROM kept))"
	    " ORDER BY b.digest",
    /* ?1: 1, ?2: cutoff, ?3: repository id */
    [ST_GC_PRUNE] = GC_KEPT("m.repo_id = ?3 AND") " DELETE FROM manifests WHERE repo_id = ?3 AND id NOT IN (SELECT id "
						  "FROM kept) RETURNING NULL, digest, size",
    [ST_GC_BLOB_UNLINK] = "DELETE FROM blob_links WHERE digest = ?1 AND touched < ?2"
			  " AND NOT EXISTS (SELECT 1 FROM manifest_refs x JOIN manifests m ON m.id = x.manifest_id"
			  "   WHERE x.digest = ?1 AND x.kind = 0 AND m.repo_id = blob_links.repo_id)"
			  " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = blob_links.repo_id"
			  "   AND m.digest = ?1)",
    [ST_ER_LOOKUP] = "SELECT id, source, hash, first_seen FROM errata WHERE name = ?1",
    [ST_ER_INSERT] = "INSERT INTO errata(name, source, type, severity, issued, issued_eff, modified, withdrawn,"
		     " summary, details, refs, hash, first_seen, updated, generation)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
    [ST_ER_UPDATE] = "UPDATE errata SET source = ?2, type = ?3, severity = ?4, issued = ?5, issued_eff = ?6,"
		     " modified = ?7, withdrawn = ?8, summary = ?9, details = ?10, refs = ?11, hash = ?12,"
		     " updated = ?13, generation = ?14 WHERE id = ?1",
    [ST_ER_DEL_CVES] = "DELETE FROM errata_cves WHERE erratum_id = ?1",
    [ST_ER_DEL_PKGS] = "DELETE FROM errata_pkgs WHERE erratum_id = ?1",
    [ST_ER_ADD_CVE] = "INSERT INTO errata_cves(erratum_id, cve) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [ST_ER_ADD_PKG] = "INSERT INTO errata_pkgs(erratum_id, seq, release, package, binary, status, introduced, fixed,"
		      " last_affected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_ER_GEN_GET] = "SELECT generation FROM errata_state WHERE id = 1",
    [ST_ER_GEN_SET] = "UPDATE errata_state SET generation = ?1, changed = ?2 WHERE id = 1",
    [ST_ER_GET] = "SELECT id, name, source, type, severity, issued, issued_eff, modified, withdrawn, summary, refs,"
		  " hash, first_seen, updated, generation, details FROM errata WHERE name = ?1",
    [ST_ER_CVES] = "SELECT cve FROM errata_cves WHERE erratum_id = ?1 ORDER BY cve",
    [ST_ER_PKGS] = "SELECT release, package, binary, status, introduced, fixed, last_affected FROM errata_pkgs"
		   " WHERE erratum_id = ?1 ORDER BY seq",
    [ST_ER_LAST] = "SELECT issued_eff FROM errata WHERE name = ?1",
    /* One statement for every filter combination: a NULL parameter switches its condition off. */
    [ST_ER_LIST] =
	"SELECT id, name, source, type, severity, issued, issued_eff, modified, withdrawn, summary, refs,"
	" hash, first_seen, updated, generation FROM errata e"
	" WHERE (?1 IS NULL AND ?2 IS NULL OR EXISTS (SELECT 1 FROM errata_pkgs p"
	"   WHERE p.erratum_id = e.id AND (?1 IS NULL OR p.release = ?1) AND (?2 IS NULL OR p.package = ?2)))"
	" AND (?3 IS NULL OR EXISTS (SELECT 1 FROM errata_cves c WHERE c.erratum_id = e.id AND c.cve = ?3))"
	" AND (?4 IS NULL OR e.severity = ?4) AND (?5 IS NULL OR e.type = ?5)"
	" AND (?6 IS NULL OR e.issued_eff < ?6 OR (e.issued_eff = ?6 AND e.name > ?7))"
	" ORDER BY e.issued_eff DESC, e.name LIMIT ?8",
    [ST_ER_AFFECTING] =
	"SELECT e.name, e.type, e.severity, e.issued_eff, p.release, p.package, p.binary, p.status,"
	" p.introduced, p.fixed, p.last_affected FROM errata_pkgs p JOIN errata e ON e.id = p.erratum_id"
	" WHERE p.release = ?1 AND p.package = ?2 AND e.withdrawn IS NULL ORDER BY e.name, p.seq",
    [ST_ER_CHANGED] = "SELECT name FROM errata WHERE generation > ?1 ORDER BY name",
    [ST_FEED_GET] = "SELECT etag, last_modified, content_hash, checked, changed FROM errata_feeds WHERE feed = ?1",
    [ST_FEED_PUT] = "INSERT INTO errata_feeds(feed, etag, last_modified, content_hash, checked, changed)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(feed) DO UPDATE SET etag = excluded.etag,"
		    " last_modified = excluded.last_modified, content_hash = excluded.content_hash,"
		    " checked = excluded.checked, changed = excluded.changed",
    [ST_EV_HEAD] = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    [ST_EV_ADD] = "INSERT INTO events(seq, time, action, repo, digest, tag, detail, prev, entry, hash)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_EV_LIST] = "SELECT seq, time, action, repo, digest, tag, detail, prev, entry, hash FROM events"
		   " WHERE seq > ?1 AND (?2 IS NULL OR repo = ?2) AND (?3 IS NULL OR digest = ?3)"
		   " ORDER BY seq LIMIT ?4",
    [ST_TAG_GET] = "SELECT digest FROM tags WHERE repo_id = ?1 AND name = ?2",
    [ST_TAGS_OF] = "SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repo_id"
		   " WHERE r.name = ?1 AND t.digest = ?2 ORDER BY t.name COLLATE BINARY",
    [ST_CUR_GET] = "SELECT seq FROM notify_cursors WHERE endpoint = ?1",
    [ST_CUR_SET] = "INSERT INTO notify_cursors(endpoint, seq) VALUES (?1, ?2)"
		   " ON CONFLICT(endpoint) DO UPDATE SET seq = excluded.seq",
    [ST_SIG_COUNT] = "SELECT COUNT(*), COALESCE(SUM(content_sha256 = ?3), 0) FROM signatures"
		     " WHERE repo_id = ?1 AND digest = ?2",
    [ST_SIG_ADD] = "INSERT INTO signatures(repo_id, digest, name, content, content_sha256, created)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SIG_LIST] = "SELECT name, content, created FROM signatures WHERE repo_id = ?1 AND digest = ?2 ORDER BY id",
    [ST_SIG_DEL] = "DELETE FROM signatures WHERE repo_id = ?1 AND digest = ?2 AND name = ?3"
		   " RETURNING content_sha256",
    [ST_SCAN_CLAIM] = "UPDATE scan_queue SET claimed = 1 WHERE digest ="
		      " (SELECT digest FROM scan_queue WHERE claimed = 0 ORDER BY enqueued, digest LIMIT 1)"
		      " RETURNING digest, (SELECT name FROM repositories WHERE id = repo_id)",
    [ST_SCAN_REQUEUE] = "UPDATE scan_queue SET claimed = 0 WHERE claimed <> 0",
    [ST_SCAN_ENQUEUE] = "INSERT INTO scan_queue(digest, repo_id, enqueued) VALUES (?1, ?2, ?3)"
			" ON CONFLICT(digest) DO NOTHING",
    [ST_SCAN_QUEUED] = "SELECT EXISTS (SELECT 1 FROM scan_queue WHERE digest = ?1)",
    [ST_GRADE_GET] = "SELECT grade, day FROM grade_state WHERE digest = ?1",
    [ST_GRADE_SET] = "INSERT INTO grade_state(digest, grade, day) VALUES (?1, ?2, ?3)"
		     " ON CONFLICT(digest) DO UPDATE SET grade = excluded.grade, day = excluded.day",
    [ST_SCAN_LAYER_GET] = "SELECT result, why FROM scan_layers WHERE digest = ?1",
    [ST_SCAN_LAYER_PUT] = "INSERT INTO scan_layers(digest, result, why, created) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT(digest) DO UPDATE SET result = excluded.result, why = excluded.why",
    [ST_SCAN_LAYER_COUNT] = "SELECT COUNT(*) FROM scan_layers",
    [ST_SCAN_PUT] = "INSERT INTO scans(digest, status, why, os, pretty, layers, generation, findings, updated)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?10) ON CONFLICT(digest) DO UPDATE SET"
		    " status = excluded.status, why = excluded.why, os = excluded.os, pretty = excluded.pretty,"
		    " layers = excluded.layers, generation = excluded.generation,"
		    " findings = excluded.findings, updated = excluded.updated",
    [ST_SCAN_PKG_PUT] = "INSERT INTO scan_packages(digest, packages) VALUES (?1, ?2)"
			" ON CONFLICT(digest) DO UPDATE SET packages = excluded.packages",
    [ST_SCAN_PKG_DEL] = "DELETE FROM scan_packages WHERE digest = ?1",
    [ST_SCAN_DEQUEUE] = "DELETE FROM scan_queue WHERE digest = ?1",
    [ST_SCAN_GET] = "SELECT s.digest, s.status, s.why, s.os, s.pretty, s.layers, p.packages, s.generation,"
		    " s.findings, s.updated FROM scans s LEFT JOIN scan_packages p ON p.digest = s.digest"
		    " WHERE s.digest = ?1",
    [ST_SCAN_STALE] = "SELECT s.digest, s.status, s.why, s.os, s.pretty, s.layers, p.packages, s.generation,"
		      " s.findings, s.updated FROM scans s LEFT JOIN scan_packages p ON p.digest = s.digest"
		      " WHERE s.status = 'scanned' AND s.generation < ?1",
    [ST_SCAN_FINDINGS] = "UPDATE scans SET findings = ?2, generation = ?3, updated = ?4 WHERE digest = ?1",
};

struct sq_meta;

/* One thread's connection to the store. */
struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
	struct sq_meta *owner;
	struct sq_conn *prev, *next;
};

/* The store: its path and every thread's connection. */
struct sq_meta {
	char *path;
	pthread_key_t key;
	int key_ok;
	pthread_mutex_t lock; /* guards conns */
	struct sq_conn *conns;
	/* Write transactions of this process queue here rather than in SQLite's busy handler, which
	 * sleeps 1, 2, 5... ms between tries: with 8 clients pushing at once, 150 such sleeps came
	 * with every 50 images. Other processes (the CLI) still meet the busy handler. */
	pthread_mutex_t wlock;
};

/* Whether this thread holds some store's wlock (a write transaction never nests, but a hook run
 * inside one must not wait for it again). */
static _Thread_local int sq_writing;

typedef int (*sq_fn)(struct sq_conn *c, void *arg);

/* Maps an SQLite result code to a negative BERTH_E*; BUSY/LOCKED become -BERTH_EBUSY, which
 * sq_tx() retries and never returns. */
static int sq_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -BERTH_EBUSY;
	case SQLITE_NOMEM:
		return -BERTH_ENOMEM;
	case SQLITE_FULL:
		return -BERTH_ENOSPC;
	default:
		return -BERTH_EDB;
	}
}

/* Finalizes c's statements and closes its database handle. */
static void sq_conn_close(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

/* Runs one PRAGMA that answers a single text row and checks it equals want (case-insensitively),
 * as journal_mode does: it reports the mode actually in force rather than failing. */
static int sq_pragma_expect(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *got = NULL;
	int rc = 0, src;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = sq_err(src);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? -BERTH_EDB : sq_err(src);
		goto out;
	}
	got = sqlite3_column_text(st, 0);
	if (!got || sqlite3_stricmp((const char *)got, want) != 0)
		rc = -BERTH_EDB;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Opens a new connection to sm's file and sets the per-connection pragmas. WAL is a property of the
 * file, but asking on every connection is cheap and makes sure it is in force. */
static int sq_conn_open(struct sq_meta *sm, struct sq_conn **out)
{
	struct sq_conn *c = NULL;
	int rc = 0, src;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	c->owner = sm;
	src = sqlite3_open_v2(sm->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = sq_err(src);
		goto out;
	}
	src = sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
	if (src != SQLITE_OK) {
		rc = sq_err(src);
		goto out;
	}
	rc = sq_pragma_expect(c->db, "PRAGMA journal_mode=WAL", "wal");
	if (rc < 0)
		goto out;
	src = sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = sq_err(src);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	sq_conn_close(c);
	return rc;
}

/* Unlinks c from its owner's list; the caller holds owner->lock. */
static void sq_conn_unlink_locked(struct sq_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->owner->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = NULL;
}

/* pthread key destructor: a thread that exits closes its own connection. */
static void sq_conn_thread_exit(void *p)
{
	struct sq_conn *c = p;

	pthread_mutex_lock(&c->owner->lock);
	sq_conn_unlink_locked(c);
	pthread_mutex_unlock(&c->owner->lock);
	sq_conn_close(c);
}

/* Returns the calling thread's connection to sm, opening and registering it on first use. */
static int sq_conn_get(struct sq_meta *sm, struct sq_conn **out)
{
	struct sq_conn *c = NULL;
	int rc = 0;

	c = pthread_getspecific(sm->key);
	if (c) {
		*out = c;
		return 0;
	}
	rc = sq_conn_open(sm, &c);
	if (rc < 0)
		goto out;
	if (pthread_setspecific(sm->key, c) != 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&sm->lock);
	c->next = sm->conns;
	if (sm->conns)
		sm->conns->prev = c;
	sm->conns = c;
	pthread_mutex_unlock(&sm->lock);
	*out = c;
	c = NULL;
out:
	sq_conn_close(c);
	return rc;
}

/* Returns c's cached statement id, preparing it on first use, reset and with no bindings. */
static int sq_stmt(struct sq_conn *c, enum sq_stmt id, sqlite3_stmt **out)
{
	int src;

	*out = NULL;
	if (!c->st[id]) {
		src = sqlite3_prepare_v3(c->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
		if (src != SQLITE_OK)
			return sq_err(src);
	}
	sqlite3_reset(c->st[id]);
	sqlite3_clear_bindings(c->st[id]);
	*out = c->st[id];
	return 0;
}

/* Steps st once: 1 with a row, 0 when done, or a negative error. Fault point db: an injected
 * failure stands for the step (or the COMMIT) failing before it changed anything. */
static int sq_step(sqlite3_stmt *st)
{
	int fe = fault_hit(FAULT_DB), src;

	if (fe)
		return fe == ENOSPC ? -BERTH_ENOSPC : -BERTH_EDB;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	return sq_err(src);
}

/* Binds a text parameter (copied), or NULL when s is NULL. */
static int sq_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	int src = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);

	return src == SQLITE_OK ? 0 : sq_err(src);
}

/* Binds a digest as its "alg:hex" text, or NULL when d is NULL. */
static int sq_bind_digest(sqlite3_stmt *st, int idx, const struct digest *d)
{
	char s[DIGEST_STR_MAX];

	return sq_bind_text(st, idx, d ? digest_str(d, s) : NULL);
}

/* Binds a 64-bit integer parameter. */
static int sq_bind_int(sqlite3_stmt *st, int idx, int64_t v)
{
	int src = sqlite3_bind_int64(st, idx, v);

	return src == SQLITE_OK ? 0 : sq_err(src);
}

/* Parses a digest column back into *d; a malformed one means the database is damaged. */
static int sq_column_digest(sqlite3_stmt *st, int col, struct digest *d)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (!s || digest_parse_cstr((const char *)s, d) < 0)
		return -BERTH_EDB;
	return 0;
}

/* Copies a text column into a new malloc()ed string; *out is NULL for SQL NULL. */
static int sq_column_strdup(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *s = NULL;
	int n;

	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	s = sqlite3_column_text(st, col);
	n = sqlite3_column_bytes(st, col);
	if (!s)
		return -BERTH_ENOMEM;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return -BERTH_ENOMEM;
	memcpy(*out, s, (size_t)n);
	(*out)[n] = '\0';
	return 0;
}

/* Runs one cached statement that takes no parameters and returns no rows (BEGIN, COMMIT, ...). */
static int sq_exec(struct sq_conn *c, enum sq_stmt id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, id, &st);
	if (rc < 0)
		return rc;
	rc = sq_step(st);
	sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Sleeps a little before retrying a busy transaction, longer on later attempts. */
static void sq_backoff(int attempt)
{
	struct timespec ts = {0, (long)(1 + attempt % 10) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Runs fn(c, arg) in one transaction on the calling thread's connection: IMMEDIATE when write, so
 * the write lock is taken up front and a busy writer waits instead of failing mid-way. Any error
 * rolls back; BUSY retries the whole transaction. When fn succeeded but COMMIT failed, undo(arg)
 * frees what fn produced. Returns fn's result (>= 0) or a negative error, never -BERTH_EBUSY. */
static int sq_tx(struct sq_meta *sm, int write, sq_fn fn, void (*undo)(void *), void *arg)
{
	struct sq_conn *c = NULL;
	int rc, crc;

	int locked = 0;

	rc = sq_conn_get(sm, &c);
	if (rc < 0)
		goto out;
	if (write && !sq_writing) {
		pthread_mutex_lock(&sm->wlock);
		sq_writing = locked = 1;
	}
	for (int attempt = 0;; attempt++) {
		rc = sq_exec(c, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
		if (rc == 0) {
			rc = fn(c, arg);
			if (rc >= 0) {
				crc = sq_exec(c, ST_COMMIT);
				if (crc < 0) {
					if (undo)
						undo(arg);
					rc = crc;
				}
			}
			if (rc < 0 && !sqlite3_get_autocommit(c->db))
				sq_exec(c, ST_ROLLBACK);
			/* a ROLLBACK that failed would leave the connection inside the transaction, and
			 * every later BEGIN on this thread failing: insist, outside the cached statements */
			if (!sqlite3_get_autocommit(c->db))
				sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		}
		if (rc != -BERTH_EBUSY || attempt >= SQ_RETRIES)
			break;
		sq_backoff(attempt);
	}
	if (locked) {
		sq_writing = 0;
		pthread_mutex_unlock(&sm->wlock);
	}
	if (rc == -BERTH_EBUSY)
		rc = -BERTH_EDB;
out:
	return rc;
}

/* Looks up repo's id: 0 with *id, -BERTH_ENOENT when there is no such repository. */
static int sq_repo_id(struct sq_conn *c, const char *repo, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_REPO_ID, &st);
	if (rc < 0)
		goto out;
	rc = sq_bind_text(st, 1, repo);
	if (rc < 0)
		goto out;
	rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	*id = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Returns repo's id, creating the repository first if needed (inside a write transaction). */
static int sq_repo_ensure(struct sq_conn *c, const char *repo, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_REPO_ADD, &st);
	if (rc < 0)
		goto out;
	rc = sq_bind_text(st, 1, repo);
	if (rc == 0)
		rc = sq_bind_int(st, 2, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (rc < 0)
		goto out;
	sqlite3_reset(st);
	st = NULL;
	rc = sq_repo_id(c, repo, id);
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Runs cached statement id bound to (repo, d) text parameters and answers how many rows it changed,
 * or the first row's presence for a query (1/0); used by the simple deletes and lookups. */
static int sq_run_repo_digest(struct sq_conn *c, enum sq_stmt id, const char *repo, const struct digest *d)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, id, &st);
	if (rc < 0)
		goto out;
	rc = sq_bind_text(st, 1, repo);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = sqlite3_changes(c->db);
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* --- journal core (used inside the write transactions below) ----------------------------------- */

/* A detail object built from a jansson pack format, as canonical text (compact, keys sorted) in a
 * malloc()ed *out. */
static int sq_detail(char **out, const char *fmt, ...)
{
	json_t *j = NULL;
	va_list ap;

	*out = NULL;
	va_start(ap, fmt);
	j = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	if (!j)
		return -BERTH_ENOMEM;
	*out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return *out ? 0 : -BERTH_ENOMEM;
}

/* Appends one journal row inside the caller's write transaction: seq is the head's plus one, prev
 * the head's hash, entry the canonical text, hash its SHA-256. detail must be canonical or NULL. */
static int sq_event_add(struct sq_conn *c, const char *action, const char *repo, const char *digest, const char *tag,
			const char *detail, int64_t *seq_out)
{
	sqlite3_stmt *st = NULL;
	struct meta_event ev = {0};
	struct timespec ts;
	char prev[META_EVENT_HASH_MAX] = "", hash[META_EVENT_HASH_MAX], *entry = NULL;
	const unsigned char *ph = NULL;
	int rc;

	rc = sq_stmt(c, ST_EV_HEAD, &st);
	if (rc == 0)
		rc = sq_step(st);
	if (rc < 0)
		goto out;
	ev.seq = 1;
	if (rc == 1) {
		ev.seq = sqlite3_column_int64(st, 0) + 1;
		ph = sqlite3_column_text(st, 1);
		if (!ph || str_copy(prev, sizeof(prev), (const char *)ph) < 0) {
			rc = -BERTH_EDB;
			goto out;
		}
	}
	sqlite3_reset(st);
	st = NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	/* the struct borrows the caller's strings: never released here */
	ev.action = (char *)action;
	ev.repo = (char *)repo;
	ev.digest = (char *)digest;
	ev.tag = (char *)tag;
	ev.detail = (char *)detail;
	ev.prev = prev[0] ? prev : NULL;
	rc = meta_event_entry(&ev, &entry);
	if (rc < 0)
		goto out;
	meta_event_hash(entry, hash);
	rc = sq_stmt(c, ST_EV_ADD, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, ev.seq);
	if (rc == 0)
		rc = sq_bind_int(st, 2, ev.time_ms);
	if (rc == 0)
		rc = sq_bind_text(st, 3, action);
	if (rc == 0)
		rc = sq_bind_text(st, 4, repo);
	if (rc == 0)
		rc = sq_bind_text(st, 5, digest);
	if (rc == 0)
		rc = sq_bind_text(st, 6, tag);
	if (rc == 0)
		rc = sq_bind_text(st, 7, detail);
	if (rc == 0)
		rc = sq_bind_text(st, 8, ev.prev);
	if (rc == 0)
		rc = sq_bind_text(st, 9, entry);
	if (rc == 0)
		rc = sq_bind_text(st, 10, hash);
	if (rc == 0)
		rc = sq_step(st);
	if (rc < 0)
		goto out;
	rc = 0;
	if (seq_out)
		*seq_out = ev.seq;
out:
	if (st)
		sqlite3_reset(st);
	free(entry);
	return rc;
}

/* The same with a digest struct (NULL allowed). */
static int sq_event_add_d(struct sq_conn *c, const char *action, const char *repo, const struct digest *d,
			  const char *tag, const char *detail)
{
	char ds[DIGEST_STR_MAX];

	return sq_event_add(c, action, repo, d ? digest_str(d, ds) : NULL, tag, detail, NULL);
}

/* --- repositories ---------------------------------------------------------------------------- */

struct sq_repo_arg {
	const char *repo;
};

/* 1 when the repository row exists. */
static int sq_repo_exists_tx(struct sq_conn *c, void *arg)
{
	struct sq_repo_arg *a = arg;
	int64_t id = 0;
	int rc = sq_repo_id(c, a->repo, &id);

	if (rc == -BERTH_ENOENT)
		return 0;
	return rc < 0 ? rc : 1;
}

/* Answers 1 or 0 (or a negative error): whether repo has come into being. */
static int sq_repo_exists(void *be, const char *repo)
{
	struct sq_repo_arg a = {repo};

	return sq_tx(be, 0, sq_repo_exists_tx, NULL, &a);
}

/* --- blobs ----------------------------------------------------------------------------------- */

struct sq_blob_arg {
	const char *repo;
	const struct digest *d;
	uint64_t size;
	uint64_t *size_out;
};

/* Creates the repository if needed and records the link; an existing link is left alone. */
static int sq_blob_link_tx(struct sq_conn *c, void *arg)
{
	struct sq_blob_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc;

	rc = sq_repo_ensure(c, a->repo, &repo_id);
	if (rc < 0)
		goto out;
	rc = sq_stmt(c, ST_BLOB_LINK, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_bind_int(st, 3, (int64_t)a->size);
	if (rc == 0)
		rc = sq_bind_int(st, 4, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
out:
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Links blob d into repo (idempotent). */
static int sq_blob_link(void *be, const char *repo, const struct digest *d, uint64_t size)
{
	struct sq_blob_arg a = {repo, d, size, NULL};

	return sq_tx(be, 1, sq_blob_link_tx, NULL, &a);
}

/* Reads the linked size of d in repo. */
static int sq_blob_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_blob_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_BLOB_GET, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->repo);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	*a->size_out = (uint64_t)sqlite3_column_int64(st, 0);
	rc = 0;
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* 0 with *size when repo links d, else -BERTH_ENOENT. */
static int sq_blob_get(void *be, const char *repo, const struct digest *d, uint64_t *size)
{
	struct sq_blob_arg a = {repo, d, 0, size};

	return sq_tx(be, 0, sq_blob_get_tx, NULL, &a);
}

/* Deletes the link row; none deleted means there was no link. */
static int sq_blob_unlink_tx(struct sq_conn *c, void *arg)
{
	struct sq_blob_arg *a = arg;
	int rc = sq_run_repo_digest(c, ST_BLOB_UNLINK, a->repo, a->d);

	if (rc == 0)
		return -BERTH_ENOENT;
	return rc < 0 ? rc : 0;
}

/* Removes repo's link to d; -BERTH_ENOENT when there was none. */
static int sq_blob_unlink(void *be, const char *repo, const struct digest *d)
{
	struct sq_blob_arg a = {repo, d, 0, NULL};

	return sq_tx(be, 1, sq_blob_unlink_tx, NULL, &a);
}

/* 1 when any link, manifest or manifest reference names d. */
static int sq_blob_referenced_tx(struct sq_conn *c, void *arg)
{
	struct sq_blob_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_BLOB_REFERENCED, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_EDB; /* an EXISTS query always answers one row */
	if (rc < 0)
		goto out;
	rc = sqlite3_column_int(st, 0) ? 1 : 0;
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Whether garbage collection must keep d: 1, 0 or a negative error. */
static int sq_blob_referenced(void *be, const struct digest *d)
{
	struct sq_blob_arg a = {NULL, d, 0, NULL};

	return sq_tx(be, 0, sq_blob_referenced_tx, NULL, &a);
}

/* --- manifests ------------------------------------------------------------------------------- */

struct sq_put_arg {
	const struct meta_manifest_in *in;
	struct digest *missing;
	int *missing_is_manifest;
};

/* 1 when statement id (ST_BLOB_IN_REPO or ST_MF_ID) finds d in repo_id, 0 when not. */
static int sq_in_repo(struct sq_conn *c, enum sq_stmt id, int64_t repo_id, const struct digest *d)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, id, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, d);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Reports the first missing blob or child manifest of the manifest being put: 0 when all are
 * present, -BERTH_ENOENT with the caller's *missing filled in when one is not. */
static int sq_put_check(struct sq_conn *c, struct sq_put_arg *a, int64_t repo_id)
{
	const struct meta_manifest_in *in = a->in;
	const struct digest *absent = NULL;
	int rc = 0, is_manifest = 0;

	for (size_t i = 0; i < in->nblobs && !absent; i++) {
		rc = sq_in_repo(c, ST_BLOB_IN_REPO, repo_id, &in->blobs[i]);
		if (rc < 0)
			goto out;
		if (rc == 0)
			absent = &in->blobs[i];
	}
	for (size_t i = 0; i < in->nmanifests && !absent; i++) {
		rc = sq_in_repo(c, ST_MF_ID, repo_id, &in->manifests[i]);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			absent = &in->manifests[i];
			is_manifest = 1;
		}
	}
	rc = 0;
	if (absent) {
		if (a->missing)
			*a->missing = *absent;
		if (a->missing_is_manifest)
			*a->missing_is_manifest = is_manifest;
		rc = -BERTH_ENOENT;
	}
out:
	return rc;
}

/* Inserts the manifest row (nothing when repo already has this digest) and returns its id. */
static int sq_put_row(struct sq_conn *c, const struct meta_manifest_in *in, int64_t repo_id, int64_t *mf_id,
		      int *inserted)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	if (in->len > INT_MAX) {
		rc = -BERTH_ETOOBIG;
		goto out;
	}
	rc = sq_stmt(c, ST_MF_ADD, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, in->digest);
	if (rc == 0)
		rc = sq_bind_text(st, 3, in->media_type);
	if (rc == 0)
		rc = sq_bind_int(st, 4, (int64_t)in->len);
	if (rc == 0) {
		src = sqlite3_bind_blob(st, 5, in->body, (int)in->len, SQLITE_STATIC);
		rc = src == SQLITE_OK ? 0 : sq_err(src);
	}
	if (rc == 0)
		rc = sq_bind_digest(st, 6, in->subject);
	if (rc == 0)
		rc = sq_bind_text(st, 7, in->artifact_type);
	if (rc == 0)
		rc = sq_bind_text(st, 8, in->annotations_json);
	if (rc == 0)
		rc = sq_bind_int(st, 9, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (rc < 0)
		goto out;
	*inserted = sqlite3_changes(c->db) > 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st); /* drop the SQLITE_STATIC pointer to the caller's body */
	st = NULL;
	rc = sq_stmt(c, ST_MF_ID, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, in->digest);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_EDB; /* just inserted or already there */
	if (rc < 0)
		goto out;
	*mf_id = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return rc;
}

/* Records that manifest mf_id uses each digest of v (kind 0 blobs, 1 child manifests). */
static int sq_put_refs(struct sq_conn *c, int64_t mf_id, int kind, const struct digest *v, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = sq_stmt(c, ST_REF_ADD, &st);
		if (rc == 0)
			rc = sq_bind_int(st, 1, mf_id);
		if (rc == 0)
			rc = sq_bind_int(st, 2, kind);
		if (rc == 0)
			rc = sq_bind_digest(st, 3, &v[i]);
		if (rc == 0)
			rc = sq_step(st);
	}
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Points tag at digest in repo_id, creating or moving it. */
static int sq_tag_set(struct sq_conn *c, int64_t repo_id, const char *tag, const struct digest *d)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_TAG_SET, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_text(st, 2, tag);
	if (rc == 0)
		rc = sq_bind_digest(st, 3, d);
	if (rc == 0)
		rc = sq_bind_int(st, 4, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Where tag points in repo_id now: 1 with *d, 0 when the tag does not exist. */
static int sq_tag_get(struct sq_conn *c, int64_t repo_id, const char *tag, struct digest *d)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_TAG_GET, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_text(st, 2, tag);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 1 && sq_column_digest(st, 0, d) < 0)
		rc = -BERTH_EDB;
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Journals a put: "push" for a new manifest, "tag" when only the tag is new or moved, nothing for an
 * identical re-put (see meta.h). had_tag/old: where the tag pointed before. */
static int sq_put_event(struct sq_conn *c, const struct meta_manifest_in *in, int inserted, int had_tag,
			const struct digest *old)
{
	char ods[DIGEST_STR_MAX], *detail = NULL;
	const char *from = had_tag ? digest_str(old, ods) : NULL;
	int moved = in->tag && (!had_tag || !digest_eq(old, in->digest)), rc;

	if (inserted) {
		if (in->tag)
			rc = sq_detail(&detail, "{s:s, s:I, s:s?}", "media_type", in->media_type, "size",
				       (json_int_t)in->len, "from", from);
		else
			rc =
			    sq_detail(&detail, "{s:s, s:I}", "media_type", in->media_type, "size", (json_int_t)in->len);
		if (rc == 0)
			rc = sq_event_add_d(c, "push", in->repo, in->digest, in->tag, detail);
	} else if (moved) {
		rc = sq_detail(&detail, "{s:s?}", "from", from);
		if (rc == 0)
			rc = sq_event_add_d(c, "tag", in->repo, in->digest, in->tag, detail);
	} else {
		rc = 0;
	}
	free(detail);
	return rc;
}

/* The whole put: repository, existence checks, manifest row, references, tag, journal row. A missing
 * reference returns -BERTH_ENOENT and sq_tx() rolls everything back, the repository row included. */
static int sq_manifest_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_put_arg *a = arg;
	const struct meta_manifest_in *in = a->in;
	struct digest old;
	int64_t repo_id = 0, mf_id = 0;
	int rc, inserted = 0, had_tag = 0;

	rc = sq_repo_ensure(c, in->repo, &repo_id);
	if (rc < 0)
		goto out;
	rc = sq_put_check(c, a, repo_id);
	if (rc < 0)
		goto out;
	if (in->tag) {
		rc = sq_tag_get(c, repo_id, in->tag, &old);
		if (rc < 0)
			goto out;
		had_tag = rc;
		if (had_tag && in->tag_protected && !digest_eq(&old, in->digest)) {
			rc = -BERTH_EDENIED;
			goto out;
		}
	}
	rc = sq_put_row(c, in, repo_id, &mf_id, &inserted);
	if (rc < 0)
		goto out;
	rc = sq_put_refs(c, mf_id, 0, in->blobs, in->nblobs);
	if (rc < 0)
		goto out;
	rc = sq_put_refs(c, mf_id, 1, in->manifests, in->nmanifests);
	if (rc < 0)
		goto out;
	if (in->tag)
		rc = sq_tag_set(c, repo_id, in->tag, in->digest);
	if (rc == 0)
		rc = sq_put_event(c, in, inserted, had_tag, &old);
out:
	return rc;
}

/* Stores a manifest and moves its tag in one transaction. */
static int sq_manifest_put(void *be, const struct meta_manifest_in *in, struct digest *missing,
			   int *missing_is_manifest)
{
	struct sq_put_arg a = {in, missing, missing_is_manifest};

	return sq_tx(be, 1, sq_manifest_put_tx, NULL, &a);
}

struct sq_get_arg {
	const char *repo;
	const char *tag; /* NULL: look up by d */
	const struct digest *d;
	int want_body;
	struct meta_manifest *out;
};

/* Fills a->out from one row of ST_MF_GET* (digest, media_type, size[, body]). */
static int sq_get_row(sqlite3_stmt *st, struct sq_get_arg *a)
{
	struct meta_manifest *mf = a->out;
	const void *p = NULL;
	const unsigned char *mt = NULL;
	int rc, n;

	rc = sq_column_digest(st, 0, &mf->digest);
	if (rc < 0)
		goto out;
	mt = sqlite3_column_text(st, 1);
	if (!mt || str_copy(mf->media_type, sizeof(mf->media_type), (const char *)mt) < 0) {
		rc = -BERTH_EDB;
		goto out;
	}
	mf->size = (uint64_t)sqlite3_column_int64(st, 2);
	if (!a->want_body)
		goto out;
	p = sqlite3_column_blob(st, 3);
	n = sqlite3_column_bytes(st, 3);
	mf->body = malloc(n > 0 ? (size_t)n : 1);
	if (!mf->body) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if (n > 0)
		memcpy(mf->body, p, (size_t)n);
out:
	return rc;
}

/* Looks the manifest up by tag or digest; on failure a->out holds nothing to free. */
static int sq_manifest_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_get_arg *a = arg;
	sqlite3_stmt *st = NULL;
	enum sq_stmt id;
	int rc;

	if (a->tag)
		id = a->want_body ? ST_MF_GET_TAG_BODY : ST_MF_GET_TAG;
	else
		id = a->want_body ? ST_MF_GET_BODY : ST_MF_GET;
	rc = sq_stmt(c, id, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->repo);
	if (rc == 0)
		rc = a->tag ? sq_bind_text(st, 2, a->tag) : sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	rc = sq_get_row(st, a);
out:
	if (st)
		sqlite3_reset(st);
	if (rc < 0)
		meta_manifest_release(a->out);
	return rc;
}

/* sq_tx() undo: drops the body a successful lookup produced when its COMMIT failed. */
static void sq_manifest_get_undo(void *arg)
{
	struct sq_get_arg *a = arg;

	meta_manifest_release(a->out);
}

/* Looks up a manifest of repo by tag. */
static int sq_manifest_get_by_tag(void *be, const char *repo, const char *tag, int want_body, struct meta_manifest *out)
{
	struct sq_get_arg a = {repo, tag, NULL, want_body, out};

	return sq_tx(be, 0, sq_manifest_get_tx, sq_manifest_get_undo, &a);
}

/* Looks up a manifest of repo by digest. */
static int sq_manifest_get(void *be, const char *repo, const struct digest *d, int want_body, struct meta_manifest *out)
{
	struct sq_get_arg a = {repo, NULL, d, want_body, out};

	return sq_tx(be, 0, sq_manifest_get_tx, sq_manifest_get_undo, &a);
}

/* The tags of repo pointing at d as a JSON array (a new reference). */
static int sq_tags_of(struct sq_conn *c, const char *repo, const struct digest *d, json_t **out)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();
	int rc;

	*out = NULL;
	if (!a)
		return -BERTH_ENOMEM;
	rc = sq_stmt(c, ST_TAGS_OF, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, repo);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, d);
	while (rc == 0 && (rc = sq_step(st)) == 1)
		rc = json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0))) < 0 ? -BERTH_ENOMEM
													 : 0;
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* Deletes the manifest row (its tags and reference rows go with it through ON DELETE CASCADE) and
 * journals "delete" with the tags it took along. */
static int sq_manifest_delete_tx(struct sq_conn *c, void *arg)
{
	struct sq_blob_arg *a = arg;
	json_t *tags = NULL;
	char *detail = NULL;
	int rc = sq_tags_of(c, a->repo, a->d, &tags);

	if (rc < 0)
		goto out;
	rc = sq_run_repo_digest(c, ST_MF_DELETE, a->repo, a->d);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	rc = sq_detail(&detail, "{s:O}", "tags", tags);
	if (rc == 0)
		rc = sq_event_add_d(c, "delete", a->repo, a->d, NULL, detail);
out:
	json_decref(tags);
	free(detail);
	return rc;
}

/* Removes manifest d and every tag on it from repo. */
static int sq_manifest_delete(void *be, const char *repo, const struct digest *d)
{
	struct sq_blob_arg a = {repo, d, 0, NULL};

	return sq_tx(be, 1, sq_manifest_delete_tx, NULL, &a);
}

/* --- tags and catalog ------------------------------------------------------------------------ */

struct sq_tag_arg {
	const char *repo;
	const char *tag;
};

/* Deletes one tag row. */
static int sq_tag_delete_tx(struct sq_conn *c, void *arg)
{
	struct sq_tag_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct digest old;
	int64_t repo_id = 0;
	int rc;

	rc = sq_repo_id(c, a->repo, &repo_id);
	if (rc == 0)
		rc = sq_tag_get(c, repo_id, a->tag, &old);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		return rc;
	rc = sq_stmt(c, ST_TAG_DELETE, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->repo);
	if (rc == 0)
		rc = sq_bind_text(st, 2, a->tag);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = sqlite3_changes(c->db) ? 0 : -BERTH_ENOENT;
	if (st)
		sqlite3_reset(st);
	if (rc == 0)
		rc = sq_event_add_d(c, "untag", a->repo, &old, a->tag, NULL);
	return rc < 0 ? rc : 0;
}

/* Removes tag from repo; the manifest stays. */
static int sq_tag_delete(void *be, const char *repo, const char *tag)
{
	struct sq_tag_arg a = {repo, tag};

	return sq_tx(be, 1, sq_tag_delete_tx, NULL, &a);
}

struct sq_list_arg {
	const char *repo; /* NULL: the catalog */
	const char *last;
	long limit;
	struct meta_names *out;
	int *more;
};

/* Collects the names st yields into a->out, keeping at most limit and setting *more when the query
 * (which asked for one extra row) has more. */
static int sq_list_collect(sqlite3_stmt *st, struct sq_list_arg *a)
{
	struct meta_names *l = a->out;
	char **v = NULL;
	size_t cap = 0;
	int rc;

	for (;;) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		if (a->limit >= 0 && l->n >= (size_t)a->limit) {
			*a->more = 1;
			rc = 0;
			break;
		}
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(l->v, cap * sizeof(*v));
			if (!v) {
				rc = -BERTH_ENOMEM;
				break;
			}
			l->v = v;
		}
		rc = sq_column_strdup(st, 0, &l->v[l->n]);
		if (rc < 0)
			break;
		if (l->v[l->n])
			l->n++;
	}
	return rc;
}

/* Lists tag names (a->repo set) or repository names in byte order after a->last. */
static int sq_list_tx(struct sq_conn *c, void *arg)
{
	struct sq_list_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0, fetch;
	int rc, p = 1;

	/* Ask for one row past the page so *more is exact; SQLite treats a negative LIMIT as none. */
	fetch = a->limit < 0 ? -1 : (a->limit >= INT64_MAX - 1 ? INT64_MAX : (int64_t)a->limit + 1);
	if (a->repo) {
		rc = sq_repo_id(c, a->repo, &repo_id);
		if (rc < 0)
			goto out;
		rc = sq_stmt(c, ST_TAGS_LIST, &st);
		if (rc == 0)
			rc = sq_bind_int(st, p++, repo_id);
	} else
		rc = sq_stmt(c, ST_CATALOG, &st);
	/* Names are never empty, so "> ''" is every name when there is no `last`. */
	if (rc == 0)
		rc = sq_bind_text(st, p++, a->last ? a->last : "");
	if (rc == 0)
		rc = sq_bind_int(st, p, fetch);
	if (rc == 0)
		rc = sq_list_collect(st, a);
out:
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		meta_names_release(a->out);
		*a->more = 0;
	}
	return rc;
}

/* sq_tx() undo for the list calls. */
static void sq_list_undo(void *arg)
{
	struct sq_list_arg *a = arg;

	meta_names_release(a->out);
	*a->more = 0;
}

/* One page of repo's tags; -BERTH_ENOENT when repo does not exist. */
static int sq_tags_list(void *be, const char *repo, const char *last, long limit, struct meta_names *out, int *more)
{
	struct sq_list_arg a = {repo, last, limit, out, more};

	return sq_tx(be, 0, sq_list_tx, sq_list_undo, &a);
}

/* One page of repository names. */
static int sq_catalog(void *be, const char *last, long limit, struct meta_names *out, int *more)
{
	struct sq_list_arg a = {NULL, last, limit, out, more};

	return sq_tx(be, 0, sq_list_tx, sq_list_undo, &a);
}

/* --- referrers ------------------------------------------------------------------------------- */

struct sq_ref_arg {
	const char *repo;
	const struct digest *subject;
	const char *artifact_type;
	struct meta_desc **out;
	size_t *n;
};

/* Fills one descriptor from a ST_REFERRERS row. */
static int sq_desc_row(sqlite3_stmt *st, struct meta_desc *d)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = sq_column_digest(st, 0, &d->digest);
	if (rc < 0)
		goto out;
	d->size = (uint64_t)sqlite3_column_int64(st, 1);
	rc = sq_column_strdup(st, 2, &d->media_type);
	if (rc == 0 && !d->media_type)
		rc = -BERTH_EDB;
	if (rc == 0)
		rc = sq_column_strdup(st, 3, &d->artifact_type);
	if (rc == 0)
		rc = sq_column_strdup(st, 4, &d->annotations_json);
out:
	return rc;
}

/* Collects the manifests of repo whose subject matches, in digest order. */
static int sq_referrers_tx(struct sq_conn *c, void *arg)
{
	struct sq_ref_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct meta_desc *v = NULL, *grown = NULL;
	size_t n = 0, cap = 0;
	int rc;

	rc = sq_stmt(c, ST_REFERRERS, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->repo);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->subject);
	if (rc == 0)
		rc = sq_bind_text(st, 3, a->artifact_type);
	while (rc == 0) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				rc = -BERTH_ENOMEM;
				break;
			}
			v = grown;
		}
		n++;
		rc = sq_desc_row(st, &v[n - 1]);
	}
	if (rc < 0)
		goto out;
	*a->out = v;
	*a->n = n;
	v = NULL;
	n = 0;
out:
	if (st)
		sqlite3_reset(st);
	meta_descs_free(v, n);
	return rc;
}

/* sq_tx() undo for referrers. */
static void sq_referrers_undo(void *arg)
{
	struct sq_ref_arg *a = arg;

	meta_descs_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
}

/* The referrers of subject in repo, optionally only those of one artifact type. */
static int sq_referrers(void *be, const char *repo, const struct digest *subject, const char *artifact_type,
			struct meta_desc **out, size_t *n)
{
	struct sq_ref_arg a = {repo, subject, artifact_type, out, n};

	return sq_tx(be, 0, sq_referrers_tx, sq_referrers_undo, &a);
}

/* --- uploads --------------------------------------------------------------------------------- */

struct sq_upload_arg {
	const char *uuid;
	const char *repo;
	char *repo_out;
	size_t n;
};

/* Creates the repository if needed and records uuid -> repository. */
static int sq_upload_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_upload_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc;

	rc = sq_repo_ensure(c, a->repo, &repo_id);
	if (rc < 0)
		goto out;
	rc = sq_stmt(c, ST_UPLOAD_PUT, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->uuid);
	if (rc == 0)
		rc = sq_bind_int(st, 2, repo_id);
	if (rc == 0)
		rc = sq_bind_int(st, 3, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
out:
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Remembers that upload uuid belongs to repo. The commit is not fsynced (synchronous=NORMAL for this
 * one transaction): a session is not stored data, and the next durable commit (any blob or manifest)
 * carries it to disk with the WAL. A power cut before then loses only the empty session, which the
 * client sees as BLOB_UPLOAD_UNKNOWN and restarts; a process crash loses nothing. This saves one fsync
 * per chunked upload. */
static int sq_upload_put(void *be, const char *uuid, const char *repo)
{
	struct sq_upload_arg a = {uuid, repo, NULL, 0};
	struct sq_conn *c = NULL;
	int rc = sq_conn_get(be, &c);

	if (rc < 0)
		return rc;
	sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = sq_tx(be, 1, sq_upload_put_tx, NULL, &a);
	sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return rc;
}

/* Copies the repository of upload uuid into a->repo_out. */
static int sq_upload_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_upload_arg *a = arg;
	sqlite3_stmt *st = NULL;
	const unsigned char *name = NULL;
	int rc;

	rc = sq_stmt(c, ST_UPLOAD_GET, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->uuid);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	name = sqlite3_column_text(st, 0);
	rc = name ? str_copy(a->repo_out, a->n, (const char *)name) : -BERTH_EDB;
out:
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Which repository upload uuid belongs to. */
static int sq_upload_get(void *be, const char *uuid, char *repo, size_t n)
{
	struct sq_upload_arg a = {uuid, NULL, repo, n};

	return sq_tx(be, 0, sq_upload_get_tx, NULL, &a);
}

/* Deletes the upload row; none deleted means there was no such session. */
static int sq_upload_delete_tx(struct sq_conn *c, void *arg)
{
	struct sq_upload_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_UPLOAD_DELETE, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->uuid);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = sqlite3_changes(c->db) ? 0 : -BERTH_ENOENT;
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Forgets upload uuid; -BERTH_ENOENT when there was none. */
static int sq_upload_delete(void *be, const char *uuid)
{
	struct sq_upload_arg a = {uuid, NULL, NULL, 0};

	return sq_tx(be, 1, sq_upload_delete_tx, NULL, &a);
}

struct sq_upload_list_arg {
	int64_t created_max;
	struct meta_names *out;
};

/* Collects the uuids of sessions recorded at or before a->created_max. */
static int sq_upload_list_tx(struct sq_conn *c, void *arg)
{
	struct sq_upload_list_arg *a = arg;
	struct sq_list_arg la = {NULL, NULL, -1, a->out, NULL};
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_UPLOAD_LIST, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, a->created_max);
	if (rc == 0)
		rc = sq_list_collect(st, &la);
	if (st)
		sqlite3_reset(st);
	if (rc < 0)
		meta_names_release(a->out);
	return rc;
}

/* sq_tx() undo for the upload list. */
static void sq_upload_list_undo(void *arg)
{
	struct sq_upload_list_arg *a = arg;

	meta_names_release(a->out);
}

/* The sweep's candidates: sessions old enough to have been idle for the whole TTL. */
static int sq_upload_list(void *be, int64_t created_max, struct meta_names *out)
{
	struct sq_upload_list_arg a = {created_max, out};

	return sq_tx(be, 0, sq_upload_list_tx, sq_upload_list_undo, &a);
}

struct sq_commit_arg {
	struct sq_blob_arg blob;
	const char *uuid;
	const struct meta_hook *present;
};

/* Links the blob and forgets its upload session in one transaction; then the caller's check that
 * the blob's file is in place runs while this transaction holds the write lock. */
static int sq_blob_commit_tx(struct sq_conn *c, void *arg)
{
	struct sq_commit_arg *a = arg;
	struct sq_upload_arg u = {a->uuid, NULL, NULL, 0};
	int rc = sq_blob_link_tx(c, &a->blob);

	if (rc == 0 && a->uuid) {
		rc = sq_upload_delete_tx(c, &u);
		if (rc == -BERTH_ENOENT)
			rc = 0;
	}
	if (rc == 0 && a->present)
		rc = a->present->fn(a->present->ctx);
	return rc;
}

static int sq_blob_commit(void *be, const char *repo, const struct digest *d, uint64_t size, const char *uuid,
			  const struct meta_hook *present)
{
	struct sq_commit_arg a = {{repo, d, size, NULL}, uuid, present};

	return sq_tx(be, 1, sq_blob_commit_tx, NULL, &a);
}

struct sq_mount_arg {
	const char *repo;
	const char *from;
	const struct digest *d;
};

/* Reads from's link and copies it into repo, in one transaction: a collector cannot remove the
 * source link (and then the file) between the two. */
static int sq_blob_mount_tx(struct sq_conn *c, void *arg)
{
	struct sq_mount_arg *a = arg;
	uint64_t size = 0;
	struct sq_blob_arg get = {a->from, a->d, 0, &size};
	struct sq_blob_arg link = {a->repo, a->d, 0, NULL};
	int rc = sq_blob_get_tx(c, &get);

	if (rc < 0)
		return rc;
	link.size = size;
	return sq_blob_link_tx(c, &link);
}

static int sq_blob_mount(void *be, const char *repo, const char *from, const struct digest *d)
{
	struct sq_mount_arg a = {repo, from, d};

	return sq_tx(be, 1, sq_blob_mount_tx, NULL, &a);
}

/* --- garbage collection ---------------------------------------------------------------------- */

/* Appends every (repo or NULL, digest, size) row st yields to *v / *n. */
static int sq_items_collect(sqlite3_stmt *st, struct meta_gc_item **v, size_t *n)
{
	struct meta_gc_item *grown = NULL;
	size_t cap = *n;
	int rc;

	for (;;) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(*v, cap * sizeof(**v));
			if (!grown) {
				rc = -BERTH_ENOMEM;
				break;
			}
			*v = grown;
		}
		memset(&(*v)[*n], 0, sizeof(**v));
		(*n)++;
		rc = sq_column_strdup(st, 0, &(*v)[*n - 1].repo);
		if (rc == 0)
			rc = sq_column_digest(st, 1, &(*v)[*n - 1].digest);
		if (rc < 0)
			break;
		(*v)[*n - 1].size = (uint64_t)sqlite3_column_int64(st, 2);
	}
	return rc;
}

/* Runs one of the plan statements (bound to delete_untagged, cutoff) into v / n. */
static int sq_gc_plan_one(struct sq_conn *c, enum sq_stmt id, int del, int64_t cutoff, struct meta_gc_item **v,
			  size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = sq_stmt(c, id, &st);

	if (rc == 0)
		rc = sq_bind_int(st, 1, del);
	if (rc == 0)
		rc = sq_bind_int(st, 2, cutoff);
	if (rc == 0)
		rc = sq_items_collect(st, v, n);
	if (st)
		sqlite3_reset(st);
	return rc;
}

struct sq_plan_arg {
	int64_t cutoff;
	int del;
	struct meta_gc_plan *out;
};

/* The three lists from one read transaction, so they agree with each other. */
static int sq_gc_plan_tx(struct sq_conn *c, void *arg)
{
	struct sq_plan_arg *a = arg;
	struct meta_gc_plan *p = a->out;
	int rc;

	rc = sq_gc_plan_one(c, ST_GC_PLAN_MANIFESTS, a->del, a->cutoff, &p->manifests, &p->nmanifests);
	if (rc == 0)
		rc = sq_gc_plan_one(c, ST_GC_PLAN_LINKS, a->del, a->cutoff, &p->links, &p->nlinks);
	if (rc == 0)
		rc = sq_gc_plan_one(c, ST_GC_PLAN_BLOBS, a->del, a->cutoff, &p->blobs, &p->nblobs);
	if (rc < 0)
		meta_gc_plan_release(p);
	return rc;
}

static void sq_gc_plan_undo(void *arg)
{
	struct sq_plan_arg *a = arg;

	meta_gc_plan_release(a->out);
}

static int sq_gc_plan(void *be, int64_t cutoff, int delete_untagged, struct meta_gc_plan *out)
{
	struct sq_plan_arg a = {cutoff, delete_untagged, out};

	return sq_tx(be, 0, sq_gc_plan_tx, sq_gc_plan_undo, &a);
}

struct sq_prune_arg {
	const char *repo;
	int64_t cutoff;
	struct meta_gc_item **out;
	size_t *n;
};

/* Deletes repo's manifests that are not live and reports them (the repository name filled in). */
static int sq_gc_prune_tx(struct sq_conn *c, void *arg)
{
	struct sq_prune_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc;

	rc = sq_repo_id(c, a->repo, &repo_id);
	if (rc == -BERTH_ENOENT)
		return 0;
	if (rc == 0)
		rc = sq_stmt(c, ST_GC_PRUNE, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, 1);
	if (rc == 0)
		rc = sq_bind_int(st, 2, a->cutoff);
	if (rc == 0)
		rc = sq_bind_int(st, 3, repo_id);
	if (rc == 0)
		rc = sq_items_collect(st, a->out, a->n);
	if (st)
		sqlite3_reset(st);
	for (size_t i = 0; rc == 0 && i < *a->n; i++) {
		(*a->out)[i].repo = strdup(a->repo);
		if (!(*a->out)[i].repo)
			rc = -BERTH_ENOMEM;
		if (rc == 0)
			rc = sq_event_add_d(c, "gc-delete", a->repo, &(*a->out)[i].digest, NULL, NULL);
	}
	if (rc < 0) {
		meta_gc_items_free(*a->out, *a->n);
		*a->out = NULL;
		*a->n = 0;
	}
	return rc;
}

static void sq_gc_prune_undo(void *arg)
{
	struct sq_prune_arg *a = arg;

	meta_gc_items_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
}

static int sq_gc_manifests_prune(void *be, const char *repo, int64_t cutoff, struct meta_gc_item **out, size_t *n)
{
	struct sq_prune_arg a = {repo, cutoff, out, n};

	return sq_tx(be, 1, sq_gc_prune_tx, sq_gc_prune_undo, &a);
}

struct sq_gcblob_arg {
	const struct digest *d;
	int64_t cutoff;
	const struct meta_hook *hook;
};

/* Deletes d's links that are old and that no manifest of their repository uses. */
static int sq_gc_blob_unlink_tx(struct sq_conn *c, void *arg)
{
	struct sq_gcblob_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sq_stmt(c, ST_GC_BLOB_UNLINK, &st);

	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_bind_int(st, 2, a->cutoff);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = sqlite3_changes(c->db);
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int sq_gc_blob_unlink(void *be, const struct digest *d, int64_t cutoff)
{
	struct sq_gcblob_arg a = {d, cutoff, NULL};

	return sq_tx(be, 1, sq_gc_blob_unlink_tx, NULL, &a);
}

/* Under the write lock: nothing names d, so the caller's drop may remove its file. */
static int sq_blob_forget_tx(struct sq_conn *c, void *arg)
{
	struct sq_gcblob_arg *a = arg;
	struct sq_blob_arg b = {NULL, a->d, 0, NULL};
	int rc = sq_blob_referenced_tx(c, &b);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = a->hook->fn(a->hook->ctx);
	return rc < 0 ? rc : 1;
}

static int sq_blob_forget(void *be, const struct digest *d, const struct meta_hook *drop)
{
	struct sq_gcblob_arg a = {d, 0, drop};

	return sq_tx(be, 1, sq_blob_forget_tx, NULL, &a);
}

/* --- errata ---------------------------------------------------------------------------------- */

/* Binds an int64 when v != 0, else NULL (optional times). */
static int sq_bind_opt_time(sqlite3_stmt *st, int idx, int64_t v)
{
	int src = v ? sqlite3_bind_int64(st, idx, v) : sqlite3_bind_null(st, idx);

	return src == SQLITE_OK ? 0 : sq_err(src);
}

/* The current errata generation. */
static int sq_gen_get(struct sq_conn *c, int64_t *gen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_ER_GEN_GET, &st);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_EDB; /* the migration inserts the one row */
	if (rc > 0) {
		*gen = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Joins e's references with newlines into b (validated: none contains one). */
static int sq_refs_join(const struct meta_erratum *e, struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < e->nrefs && rc == 0; i++) {
		if (i)
			rc = buf_add(b, "\n", 1);
		if (rc == 0)
			rc = buf_adds(b, e->refs[i]);
	}
	return rc;
}

/* Binds the erratum columns ST_ER_INSERT and ST_ER_UPDATE share: parameters ?2 to ?12, numbered
 * alike in both statements. */
static int sq_er_bind_body(sqlite3_stmt *st, const struct meta_erratum *e, int64_t issued_eff, const char *refs)
{
	int rc;

	rc = sq_bind_text(st, 2, e->source);
	if (rc == 0)
		rc = sq_bind_text(st, 3, meta_erratum_type_name(e->type));
	if (rc == 0)
		rc = sq_bind_text(st, 4, meta_severity_name(e->severity));
	if (rc == 0)
		rc = e->issued_known ? sq_bind_int(st, 5, e->issued) : sq_bind_text(st, 5, NULL);
	if (rc == 0)
		rc = sq_bind_int(st, 6, issued_eff);
	if (rc == 0)
		rc = sq_bind_opt_time(st, 7, e->modified);
	if (rc == 0)
		rc = sq_bind_opt_time(st, 8, e->withdrawn);
	if (rc == 0)
		rc = sq_bind_text(st, 9, e->summary);
	if (rc == 0)
		rc = sq_bind_text(st, 10, e->details);
	if (rc == 0)
		rc = sq_bind_text(st, 11, refs);
	if (rc == 0)
		rc = sq_bind_text(st, 12, e->hash);
	return rc;
}

/* Inserts e's CVE and package rows under erratum row id. */
static int sq_er_children(struct sq_conn *c, int64_t id, const struct meta_erratum *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	for (size_t i = 0; i < e->ncves && rc == 0; i++) {
		rc = sq_stmt(c, ST_ER_ADD_CVE, &st);
		if (rc == 0)
			rc = sq_bind_int(st, 1, id);
		if (rc == 0)
			rc = sq_bind_text(st, 2, e->cves[i]);
		if (rc == 0)
			rc = sq_step(st);
	}
	for (size_t i = 0; i < e->npkgs && rc == 0; i++) {
		const struct meta_erratum_pkg *p = &e->pkgs[i];
		rc = sq_stmt(c, ST_ER_ADD_PKG, &st);
		if (rc == 0)
			rc = sq_bind_int(st, 1, id);
		if (rc == 0)
			rc = sq_bind_int(st, 2, (int64_t)i);
		if (rc == 0)
			rc = sq_bind_text(st, 3, p->release);
		if (rc == 0)
			rc = sq_bind_text(st, 4, p->package);
		if (rc == 0)
			rc = sq_bind_int(st, 5, p->binary ? 1 : 0);
		if (rc == 0)
			rc = sq_bind_text(st, 6, meta_pkg_status_name(p->status));
		if (rc == 0)
			rc = sq_bind_text(st, 7, p->introduced);
		if (rc == 0)
			rc = sq_bind_text(st, 8, p->fixed);
		if (rc == 0)
			rc = sq_bind_text(st, 9, p->last_affected);
		if (rc == 0)
			rc = sq_step(st);
	}
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Runs a cached statement whose only parameter is an erratum row id (the child deletes). */
static int sq_er_run_id(struct sq_conn *c, enum sq_stmt id, int64_t row)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, id, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, row);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

struct sq_er_put_arg {
	const struct meta_erratum *v;
	size_t n;
	enum meta_put_result *res;
	int64_t *generation;
};

/* Looks e up; 0 with *row 0 when absent, else its row id, and whether it is the same source and
 * hash, and its first_seen. */
static int sq_er_lookup(struct sq_conn *c, const struct meta_erratum *e, int64_t *row, int *same_source, int *same_hash,
			int64_t *first_seen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *src = NULL, *hash = NULL;
	int rc;

	*row = 0;
	rc = sq_stmt(c, ST_ER_LOOKUP, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, e->id);
	if (rc == 0)
		rc = sq_step(st);
	if (rc > 0) {
		*row = sqlite3_column_int64(st, 0);
		src = sqlite3_column_text(st, 1);
		hash = sqlite3_column_text(st, 2);
		*first_seen = sqlite3_column_int64(st, 3);
		*same_source = src && strcmp((const char *)src, e->source) == 0;
		*same_hash = hash && strcmp((const char *)hash, e->hash) == 0;
		rc = 0;
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* The whole import: each erratum added, rewritten or left alone, then the generation bumped once
 * when anything changed. */
static int sq_errata_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_er_put_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct buf refs;
	int64_t gen = 0, now = (int64_t)time(NULL);
	size_t changed = 0;
	int rc;

	buf_init(&refs, BUF_UNLIMITED);
	rc = sq_gen_get(c, &gen);
	for (size_t i = 0; i < a->n && rc == 0; i++) {
		const struct meta_erratum *e = &a->v[i];
		int64_t row = 0, first_seen = now;
		int same_source = 0, same_hash = 0;
		enum meta_put_result r;

		rc = sq_er_lookup(c, e, &row, &same_source, &same_hash, &first_seen);
		if (rc < 0)
			break;
		if (row && !same_source)
			r = META_PUT_CONFLICT;
		else if (row && same_hash)
			r = META_PUT_UNCHANGED;
		else
			r = row ? META_PUT_UPDATED : META_PUT_ADDED;
		if (a->res)
			a->res[i] = r;
		if (r != META_PUT_ADDED && r != META_PUT_UPDATED)
			continue;
		changed++;
		buf_reset(&refs);
		rc = sq_refs_join(e, &refs);
		if (rc == 0)
			rc = sq_stmt(c, r == META_PUT_ADDED ? ST_ER_INSERT : ST_ER_UPDATE, &st);
		if (rc == 0)
			rc = sq_er_bind_body(st, e, e->issued_known ? e->issued : first_seen,
					     e->nrefs ? refs.ptr : NULL);
		if (rc == 0)
			rc = r == META_PUT_ADDED ? sq_bind_text(st, 1, e->id) : sq_bind_int(st, 1, row);
		if (rc == 0)
			rc = sq_bind_int(st, 13, now);
		if (rc == 0)
			rc = sq_bind_int(st, 14, gen + 1);
		if (rc == 0)
			rc = sq_step(st);
		if (st) {
			sqlite3_reset(st);
			st = NULL;
		}
		if (rc < 0)
			break;
		if (r == META_PUT_ADDED)
			row = sqlite3_last_insert_rowid(c->db);
		else {
			rc = sq_er_run_id(c, ST_ER_DEL_CVES, row);
			if (rc == 0)
				rc = sq_er_run_id(c, ST_ER_DEL_PKGS, row);
			if (rc < 0)
				break;
		}
		rc = sq_er_children(c, row, e);
	}
	if (rc == 0 && changed) {
		gen++;
		rc = sq_stmt(c, ST_ER_GEN_SET, &st);
		if (rc == 0)
			rc = sq_bind_int(st, 1, gen);
		if (rc == 0)
			rc = sq_bind_int(st, 2, now);
		if (rc == 0)
			rc = sq_step(st);
		if (st)
			sqlite3_reset(st);
	}
	if (rc == 0 && a->generation)
		*a->generation = gen;
	buf_release(&refs);
	return rc < 0 ? rc : 0;
}

static int sq_errata_put(void *be, const struct meta_erratum *v, size_t n, enum meta_put_result *res,
			 int64_t *generation)
{
	struct sq_er_put_arg a = {v, n, res, generation};

	return sq_tx(be, 1, sq_errata_put_tx, NULL, &a);
}

static int sq_errata_generation_tx(struct sq_conn *c, void *arg)
{
	return sq_gen_get(c, arg);
}

static int sq_errata_generation(void *be, int64_t *generation)
{
	return sq_tx(be, 0, sq_errata_generation_tx, NULL, generation);
}

/* Splits newline-joined text into e->refs. */
static int sq_refs_split(const char *s, struct meta_erratum *e)
{
	size_t n = 1, k = 0;
	const char *p = s, *nl = NULL;

	for (const char *q = s; *q; q++)
		n += *q == '\n';
	e->refs = calloc(n, sizeof(*e->refs));
	if (!e->refs)
		return -BERTH_ENOMEM;
	for (;;) {
		nl = strchr(p, '\n');
		e->refs[k] = nl ? strndup(p, (size_t)(nl - p)) : strdup(p);
		if (!e->refs[k])
			return -BERTH_ENOMEM;
		e->nrefs = ++k;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Reads the erratum columns of ST_ER_GET / ST_ER_LIST (same order) into e; *row gets its row id. */
static int sq_er_row(sqlite3_stmt *st, struct meta_erratum *e, int64_t *row)
{
	const unsigned char *t = NULL;
	int rc;

	*row = sqlite3_column_int64(st, 0);
	rc = sq_column_strdup(st, 1, &e->id);
	if (rc == 0)
		rc = sq_column_strdup(st, 2, &e->source);
	if (rc == 0 && (!e->id || !e->source))
		rc = -BERTH_EDB;
	if (rc == 0) {
		t = sqlite3_column_text(st, 3);
		if (!t || meta_erratum_type_parse((const char *)t, &e->type) < 0)
			rc = -BERTH_EDB;
	}
	if (rc == 0) {
		t = sqlite3_column_text(st, 4);
		if (!t || meta_severity_parse((const char *)t, &e->severity) < 0)
			rc = -BERTH_EDB;
	}
	if (rc < 0)
		return rc;
	e->issued_known = sqlite3_column_type(st, 5) != SQLITE_NULL;
	e->issued = sqlite3_column_int64(st, 6);
	e->modified = sqlite3_column_int64(st, 7);
	e->withdrawn = sqlite3_column_int64(st, 8);
	rc = sq_column_strdup(st, 9, &e->summary);
	if (rc == 0 && sqlite3_column_type(st, 10) != SQLITE_NULL) {
		t = sqlite3_column_text(st, 10);
		rc = t ? sq_refs_split((const char *)t, e) : -BERTH_ENOMEM;
	}
	if (rc == 0) {
		t = sqlite3_column_text(st, 11);
		if (!t || str_copy(e->hash, sizeof(e->hash), (const char *)t) < 0)
			rc = -BERTH_EDB;
	}
	e->first_seen = sqlite3_column_int64(st, 12);
	e->updated = sqlite3_column_int64(st, 13);
	e->generation = sqlite3_column_int64(st, 14);
	return rc;
}

/* Appends one more element to a growing array (*v of *n, capacity *cap, element size sz); the new
 * element is zeroed. 0 or -BERTH_ENOMEM. */
static int sq_grow(void **v, size_t *n, size_t *cap, size_t sz)
{
	void *g = NULL;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		g = realloc(*v, nc * sz);
		if (!g)
			return -BERTH_ENOMEM;
		*v = g;
		*cap = nc;
	}
	memset((char *)*v + *n * sz, 0, sz);
	(*n)++;
	return 0;
}

/* Fills a package entry from columns col.. of st (release, package, binary, status, introduced,
 * fixed, last_affected). */
static int sq_pkg_row(sqlite3_stmt *st, int col, struct meta_erratum_pkg *p)
{
	const unsigned char *t = NULL;
	int rc;

	rc = sq_column_strdup(st, col, &p->release);
	if (rc == 0)
		rc = sq_column_strdup(st, col + 1, &p->package);
	if (rc == 0 && (!p->release || !p->package))
		rc = -BERTH_EDB;
	if (rc < 0)
		return rc;
	p->binary = sqlite3_column_int(st, col + 2) != 0;
	t = sqlite3_column_text(st, col + 3);
	if (!t || meta_pkg_status_parse((const char *)t, &p->status) < 0)
		return -BERTH_EDB;
	rc = sq_column_strdup(st, col + 4, &p->introduced);
	if (rc == 0)
		rc = sq_column_strdup(st, col + 5, &p->fixed);
	if (rc == 0)
		rc = sq_column_strdup(st, col + 6, &p->last_affected);
	return rc;
}

/* Loads the CVEs and packages of erratum row id into e. */
static int sq_er_children_get(struct sq_conn *c, int64_t row, struct meta_erratum *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	rc = sq_stmt(c, ST_ER_CVES, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, row);
	while (rc == 0) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		rc = sq_grow((void **)&e->cves, &e->ncves, &cap, sizeof(*e->cves));
		if (rc == 0)
			rc = sq_column_strdup(st, 0, &e->cves[e->ncves - 1]);
		if (rc == 0 && !e->cves[e->ncves - 1])
			rc = -BERTH_EDB;
	}
	if (st)
		sqlite3_reset(st);
	st = NULL;
	if (rc < 0)
		return rc;
	cap = 0;
	rc = sq_stmt(c, ST_ER_PKGS, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, row);
	while (rc == 0) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		rc = sq_grow((void **)&e->pkgs, &e->npkgs, &cap, sizeof(*e->pkgs));
		if (rc == 0)
			rc = sq_pkg_row(st, 0, &e->pkgs[e->npkgs - 1]);
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

struct sq_er_get_arg {
	const char *id;
	struct meta_erratum *out;
};

static int sq_errata_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_er_get_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t row = 0;
	int rc;

	rc = sq_stmt(c, ST_ER_GET, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->id);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc > 0)
		rc = sq_er_row(st, a->out, &row);
	if (rc == 0)
		rc = sq_column_strdup(st, 15, &a->out->details);
	if (st)
		sqlite3_reset(st);
	if (rc == 0)
		rc = sq_er_children_get(c, row, a->out);
	if (rc < 0)
		meta_erratum_release(a->out);
	return rc;
}

static void sq_errata_get_undo(void *arg)
{
	struct sq_er_get_arg *a = arg;

	meta_erratum_release(a->out);
}

static int sq_errata_get(void *be, const char *id, struct meta_erratum *out)
{
	struct sq_er_get_arg a = {id, out};

	return sq_tx(be, 0, sq_errata_get_tx, sq_errata_get_undo, &a);
}

struct sq_er_list_arg {
	const struct meta_errata_filter *f;
	struct meta_erratum **out;
	size_t *n;
	int *more;
};

/* The page: resolve `last` to its position, run ST_ER_LIST asking for one row past the page, then
 * load each erratum's CVEs and packages. */
static int sq_errata_list_tx(struct sq_conn *c, void *arg)
{
	struct sq_er_list_arg *a = arg;
	const struct meta_errata_filter *f = a->f;
	sqlite3_stmt *st = NULL;
	struct meta_erratum *v = NULL;
	int64_t *rows = NULL, last_eff = 0, fetch;
	size_t n = 0, cap = 0, rcap = 0, nrows = 0;
	int rc = 0;

	if (f->last) {
		rc = sq_stmt(c, ST_ER_LAST, &st);
		if (rc == 0)
			rc = sq_bind_text(st, 1, f->last);
		if (rc == 0)
			rc = sq_step(st);
		if (rc == 0)
			rc = -BERTH_ENOENT;
		if (rc > 0) {
			last_eff = sqlite3_column_int64(st, 0);
			rc = 0;
		}
		if (st)
			sqlite3_reset(st);
		st = NULL;
		if (rc < 0)
			goto out;
	}
	fetch = f->limit < 0 ? -1 : (f->limit >= INT64_MAX - 1 ? INT64_MAX : (int64_t)f->limit + 1);
	rc = sq_stmt(c, ST_ER_LIST, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, f->release);
	if (rc == 0)
		rc = sq_bind_text(st, 2, f->package);
	if (rc == 0)
		rc = sq_bind_text(st, 3, f->cve);
	if (rc == 0)
		rc = sq_bind_text(st, 4, f->severity >= 0 ? meta_severity_name((enum meta_severity)f->severity) : NULL);
	if (rc == 0)
		rc = sq_bind_text(st, 5, f->type >= 0 ? meta_erratum_type_name((enum meta_erratum_type)f->type) : NULL);
	if (rc == 0 && f->last) {
		rc = sq_bind_int(st, 6, last_eff);
		if (rc == 0)
			rc = sq_bind_text(st, 7, f->last);
	}
	if (rc == 0)
		rc = sq_bind_int(st, 8, fetch);
	while (rc == 0) {
		rc = sq_step(st);
		if (rc <= 0)
			break;
		if (f->limit >= 0 && n >= (size_t)f->limit) {
			*a->more = 1;
			rc = 0;
			break;
		}
		rc = sq_grow((void **)&v, &n, &cap, sizeof(*v));
		if (rc == 0)
			rc = sq_grow((void **)&rows, &nrows, &rcap, sizeof(*rows));
		if (rc == 0)
			rc = sq_er_row(st, &v[n - 1], &rows[nrows - 1]);
	}
	if (st)
		sqlite3_reset(st);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sq_er_children_get(c, rows[i], &v[i]);
	if (rc < 0)
		goto out;
	*a->out = v;
	*a->n = n;
	v = NULL;
	n = 0;
out:
	free(rows);
	meta_errata_free(v, n);
	if (rc < 0)
		*a->more = 0;
	return rc;
}

static void sq_errata_list_undo(void *arg)
{
	struct sq_er_list_arg *a = arg;

	meta_errata_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
	*a->more = 0;
}

static int sq_errata_list(void *be, const struct meta_errata_filter *f, struct meta_erratum **out, size_t *n, int *more)
{
	struct sq_er_list_arg a = {f, out, n, more};

	return sq_tx(be, 0, sq_errata_list_tx, sq_errata_list_undo, &a);
}

struct sq_er_aff_arg {
	const char *release;
	const char *const *pkgs;
	size_t npkgs;
	struct meta_errata_hit **out;
	size_t *n;
};

/* One indexed lookup per package name, all in one read transaction. */
static int sq_errata_affecting_tx(struct sq_conn *c, void *arg)
{
	struct sq_er_aff_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct meta_errata_hit *v = NULL, *h = NULL;
	const unsigned char *t = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < a->npkgs && rc == 0; i++) {
		rc = sq_stmt(c, ST_ER_AFFECTING, &st);
		if (rc == 0)
			rc = sq_bind_text(st, 1, a->release);
		if (rc == 0)
			rc = sq_bind_text(st, 2, a->pkgs[i]);
		while (rc == 0) {
			rc = sq_step(st);
			if (rc <= 0)
				break;
			rc = sq_grow((void **)&v, &n, &cap, sizeof(*v));
			if (rc < 0)
				break;
			h = &v[n - 1];
			rc = sq_column_strdup(st, 0, &h->id);
			if (rc == 0 && !h->id)
				rc = -BERTH_EDB;
			if (rc == 0) {
				t = sqlite3_column_text(st, 1);
				if (!t || meta_erratum_type_parse((const char *)t, &h->type) < 0)
					rc = -BERTH_EDB;
			}
			if (rc == 0) {
				t = sqlite3_column_text(st, 2);
				if (!t || meta_severity_parse((const char *)t, &h->severity) < 0)
					rc = -BERTH_EDB;
			}
			h->issued = sqlite3_column_int64(st, 3);
			if (rc == 0)
				rc = sq_pkg_row(st, 4, &h->pkg);
		}
		if (st)
			sqlite3_reset(st);
	}
	if (rc < 0)
		goto out;
	*a->out = v;
	*a->n = n;
	v = NULL;
	n = 0;
out:
	meta_errata_hits_free(v, n);
	return rc;
}

static void sq_errata_affecting_undo(void *arg)
{
	struct sq_er_aff_arg *a = arg;

	meta_errata_hits_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
}

static int sq_errata_affecting(void *be, const char *release, const char *const *pkgs, size_t npkgs,
			       struct meta_errata_hit **out, size_t *n)
{
	struct sq_er_aff_arg a = {release, pkgs, npkgs, out, n};

	return sq_tx(be, 0, sq_errata_affecting_tx, sq_errata_affecting_undo, &a);
}

struct sq_er_changed_arg {
	int64_t since;
	struct meta_names *out;
};

static int sq_errata_changed_tx(struct sq_conn *c, void *arg)
{
	struct sq_er_changed_arg *a = arg;
	struct sq_list_arg la = {NULL, NULL, -1, a->out, NULL};
	sqlite3_stmt *st = NULL;
	int more = 0, rc;

	la.more = &more;
	rc = sq_stmt(c, ST_ER_CHANGED, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, a->since);
	if (rc == 0)
		rc = sq_list_collect(st, &la);
	if (st)
		sqlite3_reset(st);
	if (rc < 0)
		meta_names_release(a->out);
	return rc;
}

static void sq_errata_changed_undo(void *arg)
{
	struct sq_er_changed_arg *a = arg;

	meta_names_release(a->out);
}

static int sq_errata_changed_since(void *be, int64_t since, struct meta_names *out)
{
	struct sq_er_changed_arg a = {since, out};

	return sq_tx(be, 0, sq_errata_changed_tx, sq_errata_changed_undo, &a);
}

struct sq_feed_arg {
	const char *feed;
	struct meta_feed_state *out;
	const struct meta_feed_state *in;
};

static int sq_feed_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_feed_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_FEED_GET, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->feed);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc > 0) {
		rc = sq_column_strdup(st, 0, &a->out->etag);
		if (rc == 0)
			rc = sq_column_strdup(st, 1, &a->out->last_modified);
		if (rc == 0)
			rc = sq_column_strdup(st, 2, &a->out->content_hash);
		a->out->checked = sqlite3_column_int64(st, 3);
		a->out->changed = sqlite3_column_int64(st, 4);
	}
	if (st)
		sqlite3_reset(st);
	if (rc < 0)
		meta_feed_state_release(a->out);
	return rc;
}

static void sq_feed_get_undo(void *arg)
{
	struct sq_feed_arg *a = arg;

	meta_feed_state_release(a->out);
}

static int sq_feed_get(void *be, const char *feed, struct meta_feed_state *out)
{
	struct sq_feed_arg a = {feed, out, NULL};

	return sq_tx(be, 0, sq_feed_get_tx, sq_feed_get_undo, &a);
}

static int sq_feed_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_feed_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_FEED_PUT, &st);
	if (rc == 0)
		rc = sq_bind_text(st, 1, a->feed);
	if (rc == 0)
		rc = sq_bind_text(st, 2, a->in->etag);
	if (rc == 0)
		rc = sq_bind_text(st, 3, a->in->last_modified);
	if (rc == 0)
		rc = sq_bind_text(st, 4, a->in->content_hash);
	if (rc == 0)
		rc = sq_bind_int(st, 5, a->in->checked);
	if (rc == 0)
		rc = sq_bind_int(st, 6, a->in->changed);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_feed_put(void *be, const char *feed, const struct meta_feed_state *st)
{
	struct sq_feed_arg a = {feed, NULL, st};

	return sq_tx(be, 1, sq_feed_put_tx, NULL, &a);
}

/* --- journal, cursors and signatures ----------------------------------------------------------- */

struct sq_ev_arg {
	const char *action, *repo, *digest, *tag, *detail;
	int64_t *seq;
	const struct meta_event_filter *f;
	struct meta_event **out;
	size_t *n;
	int *more;
	char *hash;
};

static int sq_event_append_tx(struct sq_conn *c, void *arg)
{
	struct sq_ev_arg *a = arg;

	return sq_event_add(c, a->action, a->repo, a->digest, a->tag, a->detail, a->seq);
}

static int sq_event_append(void *be, const char *action, const char *repo, const char *digest, const char *tag,
			   const char *detail, int64_t *seq)
{
	struct sq_ev_arg a = {
	    .action = action, .repo = repo, .digest = digest, .tag = tag, .detail = detail, .seq = seq};

	return sq_tx(be, 1, sq_event_append_tx, NULL, &a);
}

/* Copies one ST_EV_LIST row into ev. */
static int sq_event_row(sqlite3_stmt *st, struct meta_event *ev)
{
	int rc;

	ev->seq = sqlite3_column_int64(st, 0);
	ev->time_ms = sqlite3_column_int64(st, 1);
	rc = sq_column_strdup(st, 2, &ev->action);
	if (rc == 0)
		rc = sq_column_strdup(st, 3, &ev->repo);
	if (rc == 0)
		rc = sq_column_strdup(st, 4, &ev->digest);
	if (rc == 0)
		rc = sq_column_strdup(st, 5, &ev->tag);
	if (rc == 0)
		rc = sq_column_strdup(st, 6, &ev->detail);
	if (rc == 0)
		rc = sq_column_strdup(st, 7, &ev->prev);
	if (rc == 0)
		rc = sq_column_strdup(st, 8, &ev->entry);
	if (rc == 0)
		rc = sq_column_strdup(st, 9, &ev->hash);
	if (rc == 0 && (!ev->action || !ev->repo || !ev->entry || !ev->hash))
		rc = -BERTH_EDB;
	return rc;
}

static int sq_events_list_tx(struct sq_conn *c, void *arg)
{
	struct sq_ev_arg *a = arg;
	const struct meta_event_filter *f = a->f;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	rc = sq_stmt(c, ST_EV_LIST, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, f->after);
	if (rc == 0)
		rc = sq_bind_text(st, 2, f->repo);
	if (rc == 0)
		rc = sq_bind_text(st, 3, f->digest);
	if (rc == 0)
		rc = sq_bind_int(st, 4, f->limit < 0 ? -1 : (int64_t)f->limit + 1);
	while (rc == 0 && (rc = sq_step(st)) == 1) {
		if (f->limit >= 0 && *a->n == (size_t)f->limit) {
			if (a->more)
				*a->more = 1;
			rc = 0;
			break;
		}
		rc = sq_grow((void **)a->out, a->n, &cap, sizeof(**a->out));
		if (rc == 0)
			rc = sq_event_row(st, &(*a->out)[*a->n - 1]);
	}
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		meta_events_free(*a->out, *a->n);
		*a->out = NULL;
		*a->n = 0;
		if (a->more)
			*a->more = 0;
	}
	return rc;
}

static void sq_events_list_undo(void *arg)
{
	struct sq_ev_arg *a = arg;

	meta_events_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
}

static int sq_events_list(void *be, const struct meta_event_filter *f, struct meta_event **out, size_t *n, int *more)
{
	struct sq_ev_arg a = {.f = f, .out = out, .n = n, .more = more};

	return sq_tx(be, 0, sq_events_list_tx, sq_events_list_undo, &a);
}

static int sq_event_head_tx(struct sq_conn *c, void *arg)
{
	struct sq_ev_arg *a = arg;
	sqlite3_stmt *st = NULL;
	const unsigned char *h = NULL;
	int rc = sq_stmt(c, ST_EV_HEAD, &st);

	if (rc == 0)
		rc = sq_step(st);
	if (rc == 1) {
		*a->seq = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		rc = h && str_copy(a->hash, META_EVENT_HASH_MAX, (const char *)h) == 0 ? 0 : -BERTH_EDB;
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int sq_event_head(void *be, int64_t *seq, char hash[META_EVENT_HASH_MAX])
{
	struct sq_ev_arg a = {.seq = seq, .hash = hash};

	return sq_tx(be, 0, sq_event_head_tx, NULL, &a);
}

struct sq_cur_arg {
	const char *endpoint;
	int64_t seq;
	int64_t *out;
};

static int sq_cursor_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_cur_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sq_stmt(c, ST_CUR_GET, &st);

	if (rc == 0)
		rc = sq_bind_text(st, 1, a->endpoint);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 1) {
		*a->out = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int sq_cursor_get(void *be, const char *endpoint, int64_t *seq)
{
	struct sq_cur_arg a = {endpoint, 0, seq};

	return sq_tx(be, 0, sq_cursor_get_tx, NULL, &a);
}

static int sq_cursor_set_tx(struct sq_conn *c, void *arg)
{
	struct sq_cur_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sq_stmt(c, ST_CUR_SET, &st);

	if (rc == 0)
		rc = sq_bind_text(st, 1, a->endpoint);
	if (rc == 0)
		rc = sq_bind_int(st, 2, a->seq);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_cursor_set(void *be, const char *endpoint, int64_t seq)
{
	struct sq_cur_arg a = {endpoint, seq, NULL};

	return sq_tx(be, 1, sq_cursor_set_tx, NULL, &a);
}

struct sq_grade_arg {
	const struct digest *d;
	char grade;
	int32_t day;
	char *gout;
	int32_t *dout;
};

static int sq_grade_state_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_grade_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc = sq_stmt(c, ST_GRADE_GET, &st);

	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 1) {
		const unsigned char *g = sqlite3_column_text(st, 0);
		*a->gout = g ? (char)g[0] : 0;
		*a->dout = (int32_t)sqlite3_column_int64(st, 1);
		rc = 0;
	} else if (rc == 0) {
		rc = -BERTH_ENOENT;
	}
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int sq_grade_state_get(void *be, const struct digest *d, char *grade, int32_t *day)
{
	struct sq_grade_arg a = {d, 0, 0, grade, day};

	return sq_tx(be, 0, sq_grade_state_get_tx, NULL, &a);
}

static int sq_grade_state_set_tx(struct sq_conn *c, void *arg)
{
	struct sq_grade_arg *a = arg;
	sqlite3_stmt *st = NULL;
	char g[2] = {a->grade, 0};
	int rc = sq_stmt(c, ST_GRADE_SET, &st);

	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_bind_text(st, 2, g);
	if (rc == 0)
		rc = sq_bind_int(st, 3, a->day);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_grade_state_set(void *be, const struct digest *d, char grade, int32_t day)
{
	struct sq_grade_arg a = {d, grade, day, NULL, NULL};

	return sq_tx(be, 1, sq_grade_state_set_tx, NULL, &a);
}

struct sq_sig_arg {
	const char *repo;
	const struct digest *d;
	const char *name;
	const void *content;
	size_t len;
	int *added;
	struct meta_signature **out;
	size_t *n;
};

/* The repository id when repo has manifest d; -BERTH_ENOENT otherwise. */
static int sq_sig_manifest(struct sq_conn *c, const char *repo, const struct digest *d, int64_t *repo_id)
{
	int rc = sq_repo_id(c, repo, repo_id);

	if (rc == 0)
		rc = sq_in_repo(c, ST_MF_ID, *repo_id, d);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	return rc < 0 ? rc : 0;
}

static int sq_signature_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_sig_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct digest h;
	int64_t repo_id = 0, count = 0, same = 0;
	char *detail = NULL;
	int rc, src;

	digest_of(DIGEST_SHA256, a->content, a->len, &h);
	rc = sq_sig_manifest(c, a->repo, a->d, &repo_id);
	if (rc == 0)
		rc = sq_stmt(c, ST_SIG_COUNT, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_bind_text(st, 3, h.hex);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_EDB;
	if (rc < 0)
		goto out;
	count = sqlite3_column_int64(st, 0);
	same = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	st = NULL;
	rc = 0;
	if (same)
		goto out;
	if (count >= META_SIGNATURES_MAX) {
		rc = -BERTH_ETOOBIG;
		goto out;
	}
	rc = sq_stmt(c, ST_SIG_ADD, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_bind_text(st, 3, a->name);
	if (rc == 0) {
		src = sqlite3_bind_blob(st, 4, a->content, (int)a->len, SQLITE_STATIC);
		rc = src == SQLITE_OK ? 0 : sq_err(src);
	}
	if (rc == 0)
		rc = sq_bind_text(st, 5, h.hex);
	if (rc == 0)
		rc = sq_bind_int(st, 6, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (rc < 0)
		goto out;
	rc = sq_detail(&detail, "{s:s, s:s, s:s}", "op", "add", "name", a->name, "sha256", h.hex);
	if (rc == 0)
		rc = sq_event_add_d(c, "signature", a->repo, a->d, NULL, detail);
	if (rc == 0 && a->added)
		*a->added = 1;
out:
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	free(detail);
	return rc;
}

static int sq_signature_put(void *be, const char *repo, const struct digest *d, const char *name, const void *content,
			    size_t len, int *added)
{
	struct sq_sig_arg a = {.repo = repo, .d = d, .name = name, .content = content, .len = len, .added = added};
	int rc = sq_tx(be, 1, sq_signature_put_tx, NULL, &a);

	if (rc < 0 && added)
		*added = 0;
	return rc;
}

static int sq_signatures_list_tx(struct sq_conn *c, void *arg)
{
	struct sq_sig_arg *a = arg;
	sqlite3_stmt *st = NULL;
	struct meta_signature *s = NULL;
	int64_t repo_id = 0;
	size_t cap = 0;
	const void *p = NULL;
	int rc, len;

	rc = sq_sig_manifest(c, a->repo, a->d, &repo_id);
	if (rc == 0)
		rc = sq_stmt(c, ST_SIG_LIST, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	while (rc == 0 && (rc = sq_step(st)) == 1) {
		rc = sq_grow((void **)a->out, a->n, &cap, sizeof(**a->out));
		if (rc < 0)
			break;
		s = &(*a->out)[*a->n - 1];
		rc = sq_column_strdup(st, 0, &s->name);
		p = sqlite3_column_blob(st, 1);
		len = sqlite3_column_bytes(st, 1);
		s->created = sqlite3_column_int64(st, 2);
		if (rc == 0 && (!s->name || !p || len <= 0))
			rc = -BERTH_EDB;
		if (rc == 0) {
			s->content = malloc((size_t)len);
			if (!s->content)
				rc = -BERTH_ENOMEM;
		}
		if (rc == 0) {
			memcpy(s->content, p, (size_t)len);
			s->len = (size_t)len;
		}
	}
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		meta_signatures_free(*a->out, *a->n);
		*a->out = NULL;
		*a->n = 0;
	}
	return rc;
}

static void sq_signatures_list_undo(void *arg)
{
	struct sq_sig_arg *a = arg;

	meta_signatures_free(*a->out, *a->n);
	*a->out = NULL;
	*a->n = 0;
}

static int sq_signatures_list(void *be, const char *repo, const struct digest *d, struct meta_signature **out,
			      size_t *n)
{
	struct sq_sig_arg a = {.repo = repo, .d = d, .out = out, .n = n};

	return sq_tx(be, 0, sq_signatures_list_tx, sq_signatures_list_undo, &a);
}

static int sq_signature_delete_tx(struct sq_conn *c, void *arg)
{
	struct sq_sig_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	char *detail = NULL, *hex = NULL;
	int rc;

	rc = sq_repo_id(c, a->repo, &repo_id);
	if (rc == 0)
		rc = sq_stmt(c, ST_SIG_DEL, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, repo_id);
	if (rc == 0)
		rc = sq_bind_digest(st, 2, a->d);
	if (rc == 0)
		rc = sq_bind_text(st, 3, a->name);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc == 1)
		rc = sq_column_strdup(st, 0, &hex);
	if (st) {
		/* RETURNING: step to the end so the delete completes */
		while (rc == 0 && sq_step(st) == 1)
			;
		sqlite3_reset(st);
	}
	if (rc < 0)
		goto out;
	rc = sq_detail(&detail, "{s:s, s:s, s:s?}", "op", "remove", "name", a->name, "sha256", hex);
	if (rc == 0)
		rc = sq_event_add_d(c, "signature", a->repo, a->d, NULL, detail);
out:
	free(hex);
	free(detail);
	return rc;
}

static int sq_signature_delete(void *be, const char *repo, const struct digest *d, const char *name)
{
	struct sq_sig_arg a = {.repo = repo, .d = d, .name = name};

	return sq_tx(be, 1, sq_signature_delete_tx, NULL, &a);
}

/* --- open and close -------------------------------------------------------------------------- */

/* Applies the migrations the file has not seen yet, inside the caller's write transaction. A file
 * from a newer berth (user_version beyond ours) is refused rather than misread. */
static int sq_migrate_tx(struct sq_conn *c, void *arg)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	int rc, src, version = 0;

	(void)arg;
	src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = sq_err(src);
		goto out;
	}
	rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_EDB;
	if (rc < 0)
		goto out;
	version = sqlite3_column_int(st, 0);
	rc = 0;
	if (version > SQ_SCHEMA_VERSION) {
		rc = -BERTH_EDB;
		goto out;
	}
	for (int v = version; v < SQ_SCHEMA_VERSION; v++) {
		src = sqlite3_exec(c->db, sq_migrations[v], NULL, NULL, NULL);
		if (src != SQLITE_OK) {
			rc = sq_err(src);
			goto out;
		}
	}
	if (version < SQ_SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SQ_SCHEMA_VERSION);
		src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
		if (src != SQLITE_OK)
			rc = sq_err(src);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* Closes every connection still registered and frees the store. Callers stop using it first;
 * deleting the key first keeps exiting threads from closing connections a second time. */
static void sq_free(void *be)
{
	struct sq_meta *sm = be;
	struct sq_conn *c = NULL, *next = NULL;

	if (!sm)
		return;
	if (sm->key_ok)
		pthread_key_delete(sm->key);
	for (c = sm->conns; c; c = next) {
		next = c->next;
		sq_conn_close(c);
	}
	pthread_mutex_destroy(&sm->lock);
	pthread_mutex_destroy(&sm->wlock);
	free(sm->path);
	free(sm);
}

/* ---- scans ---- */

/* Copies a BLOB column (NULL stays NULL). */
static int sq_column_blob(sqlite3_stmt *st, int col, void **out, size_t *n)
{
	const void *p;
	int len;

	*out = NULL;
	*n = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	p = sqlite3_column_blob(st, col);
	len = sqlite3_column_bytes(st, col);
	*out = malloc(len > 0 ? (size_t)len : 1);
	if (!*out)
		return -BERTH_ENOMEM;
	if (len > 0)
		memcpy(*out, p, (size_t)len);
	*n = (size_t)len;
	return 0;
}

static int sq_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t n)
{
	int src = p ? sqlite3_bind_blob64(st, idx, p, n, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);

	return src == SQLITE_OK ? 0 : sq_err(src);
}

static int sq_scan_claim_tx(struct sq_conn *c, void *arg)
{
	struct meta_scan_job *job = arg;
	sqlite3_stmt *st = NULL;
	const unsigned char *repo;
	int rc;

	rc = sq_stmt(c, ST_SCAN_CLAIM, &st);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc < 0)
		goto out;
	rc = sq_column_digest(st, 0, &job->digest);
	repo = sqlite3_column_text(st, 1);
	if (rc == 0)
		rc = repo ? str_copy(job->repo, sizeof job->repo, (const char *)repo) : -BERTH_EDB;
	if (rc == 0)
		while ((rc = sq_step(st)) > 0)
			;
out:
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_claim(void *be, struct meta_scan_job *job)
{
	return sq_tx(be, 1, sq_scan_claim_tx, NULL, job);
}

static int sq_scan_requeue_tx(struct sq_conn *c, void *arg)
{
	(void)arg;
	return sq_exec(c, ST_SCAN_REQUEUE);
}

static int sq_scan_requeue(void *be)
{
	return sq_tx(be, 1, sq_scan_requeue_tx, NULL, NULL);
}

struct sq_scan_arg {
	const char *repo;
	const struct digest *d;
	const void *blob;
	size_t n;
	const char *why;
	void **blob_out;
	size_t *n_out;
	char **why_out;
	int64_t *count;
	const struct meta_scan *s;
	size_t ns;
	struct meta_scan *out;
	int64_t gen;
	int (*fn)(void *ctx, const struct meta_scan *s);
	void *ctx;
};

static int sq_scan_enqueue_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int64_t repo_id = 0;
	int rc;

	rc = sq_repo_id(c, a->repo, &repo_id);
	if (rc == 0)
		rc = sq_stmt(c, ST_SCAN_ENQUEUE, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_bind_int(st, 2, repo_id);
	if (rc == 0)
		rc = sq_bind_int(st, 3, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_enqueue(void *be, const char *repo, const struct digest *d)
{
	struct sq_scan_arg a = {.repo = repo, .d = d};
	return sq_tx(be, 1, sq_scan_enqueue_tx, NULL, &a);
}

static int sq_scan_queued_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_QUEUED, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc > 0)
		rc = sqlite3_column_int(st, 0) ? 1 : 0;
	if (st)
		sqlite3_reset(st);
	return rc;
}

static int sq_scan_queued(void *be, const struct digest *d)
{
	struct sq_scan_arg a = {.d = d};
	return sq_tx(be, 0, sq_scan_queued_tx, NULL, &a);
}

static int sq_scan_layer_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_LAYER_GET, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc > 0)
		rc = sq_column_blob(st, 0, a->blob_out, a->n_out);
	if (rc == 0)
		rc = sq_column_strdup(st, 1, a->why_out);
	if (st)
		sqlite3_reset(st);
	if (rc < 0) {
		free(*a->blob_out);
		*a->blob_out = NULL;
		*a->n_out = 0;
	}
	return rc < 0 ? rc : 0;
}

static int sq_scan_layer_get(void *be, const struct digest *d, void **blob, size_t *n, char **why)
{
	struct sq_scan_arg a = {.d = d, .blob_out = blob, .n_out = n, .why_out = why};
	return sq_tx(be, 0, sq_scan_layer_get_tx, NULL, &a);
}

static int sq_scan_layer_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_LAYER_PUT, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_bind_blob(st, 2, a->blob, a->n);
	if (rc == 0)
		rc = sq_bind_text(st, 3, a->why);
	if (rc == 0)
		rc = sq_bind_int(st, 4, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_layer_put(void *be, const struct digest *d, const void *blob, size_t n, const char *why)
{
	struct sq_scan_arg a = {.d = d, .blob = blob, .n = n, .why = why};
	return sq_tx(be, 1, sq_scan_layer_put_tx, NULL, &a);
}

static int sq_scan_layer_count_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_LAYER_COUNT, &st);
	if (rc == 0)
		rc = sq_step(st);
	if (rc > 0)
		*a->count = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_layer_count(void *be, int64_t *n)
{
	struct sq_scan_arg a = {.count = n};
	return sq_tx(be, 0, sq_scan_layer_count_tx, NULL, &a);
}

static int sq_scan_put_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	const struct meta_scan *s = a->s;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_PUT, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, &s->digest);
	if (rc == 0)
		rc = sq_bind_text(st, 2, s->status);
	if (rc == 0)
		rc = sq_bind_text(st, 3, s->why);
	if (rc == 0)
		rc = sq_bind_text(st, 4, s->os);
	if (rc == 0)
		rc = sq_bind_text(st, 5, s->pretty);
	if (rc == 0)
		rc = sq_bind_text(st, 6, s->layers);
	if (rc == 0)
		rc = sq_bind_int(st, 8, s->generation);
	if (rc == 0)
		rc = sq_bind_text(st, 9, s->findings);
	if (rc == 0)
		rc = sq_bind_int(st, 10, (int64_t)time(NULL));
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	st = NULL;
	/* the package list in its own table (migration 7), absent when the scan has none */
	if (rc == 0)
		rc = sq_stmt(c, s->packages_len ? ST_SCAN_PKG_PUT : ST_SCAN_PKG_DEL, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, &s->digest);
	if (rc == 0 && s->packages_len)
		rc = sq_bind_blob(st, 2, s->packages, s->packages_len);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	st = NULL;
	if (rc == 0)
		rc = sq_stmt(c, ST_SCAN_DEQUEUE, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, &s->digest);
	if (rc == 0)
		rc = sq_step(st);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_put(void *be, const struct meta_scan *s)
{
	struct sq_scan_arg a = {.s = s};
	return sq_tx(be, 1, sq_scan_put_tx, NULL, &a);
}

/* Reads one scans row (columns of ST_SCAN_GET) into *s. */
static int sq_scan_row(sqlite3_stmt *st, struct meta_scan *s)
{
	int rc = sq_column_digest(st, 0, &s->digest);

	if (rc == 0)
		rc = sq_column_strdup(st, 1, &s->status);
	if (rc == 0)
		rc = sq_column_strdup(st, 2, &s->why);
	if (rc == 0)
		rc = sq_column_strdup(st, 3, &s->os);
	if (rc == 0)
		rc = sq_column_strdup(st, 4, &s->pretty);
	if (rc == 0)
		rc = sq_column_strdup(st, 5, &s->layers);
	if (rc == 0)
		rc = sq_column_blob(st, 6, &s->packages, &s->packages_len);
	if (rc == 0)
		s->generation = sqlite3_column_int64(st, 7);
	if (rc == 0)
		rc = sq_column_strdup(st, 8, &s->findings);
	if (rc == 0)
		s->updated = sqlite3_column_int64(st, 9);
	if (rc < 0)
		meta_scan_release(s);
	return rc;
}

static int sq_scan_get_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_GET, &st);
	if (rc == 0)
		rc = sq_bind_digest(st, 1, a->d);
	if (rc == 0)
		rc = sq_step(st);
	if (rc == 0)
		rc = -BERTH_ENOENT;
	if (rc > 0)
		rc = sq_scan_row(st, a->out);
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static void sq_scan_get_undo(void *arg)
{
	struct sq_scan_arg *a = arg;
	meta_scan_release(a->out);
}

static int sq_scan_get(void *be, const struct digest *d, struct meta_scan *out)
{
	struct sq_scan_arg a = {.d = d, .out = out};
	return sq_tx(be, 0, sq_scan_get_tx, sq_scan_get_undo, &a);
}

static int sq_scan_each_stale_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sq_stmt(c, ST_SCAN_STALE, &st);
	if (rc == 0)
		rc = sq_bind_int(st, 1, a->gen);
	while (rc == 0 && (rc = sq_step(st)) > 0) {
		struct meta_scan s = {0};
		rc = sq_scan_row(st, &s);
		if (rc == 0)
			rc = a->fn(a->ctx, &s);
		meta_scan_release(&s);
	}
	if (st)
		sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int sq_scan_each_stale(void *be, int64_t gen, int (*fn)(void *ctx, const struct meta_scan *s), void *ctx)
{
	struct sq_scan_arg a = {.gen = gen, .fn = fn, .ctx = ctx};
	return sq_tx(be, 0, sq_scan_each_stale_tx, NULL, &a);
}

static int sq_scan_findings_tx(struct sq_conn *c, void *arg)
{
	struct sq_scan_arg *a = arg;
	int64_t now = (int64_t)time(NULL);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->ns; i++) {
		sqlite3_stmt *st = NULL;
		rc = sq_stmt(c, ST_SCAN_FINDINGS, &st);
		if (rc == 0)
			rc = sq_bind_digest(st, 1, &a->s[i].digest);
		if (rc == 0)
			rc = sq_bind_text(st, 2, a->s[i].findings);
		if (rc == 0)
			rc = sq_bind_int(st, 3, a->s[i].generation);
		if (rc == 0)
			rc = sq_bind_int(st, 4, now);
		if (rc == 0)
			rc = sq_step(st);
		if (st)
			sqlite3_reset(st);
	}
	return rc < 0 ? rc : 0;
}

static int sq_scan_findings_put(void *be, const struct meta_scan *v, size_t n)
{
	struct sq_scan_arg a = {.s = v, .ns = n};
	return sq_tx(be, 1, sq_scan_findings_tx, NULL, &a);
}

static const struct meta_ops sq_ops = {
    .name = "sqlite",
    .free = sq_free,
    .repo_exists = sq_repo_exists,
    .blob_link = sq_blob_link,
    .blob_commit = sq_blob_commit,
    .blob_mount = sq_blob_mount,
    .blob_get = sq_blob_get,
    .blob_unlink = sq_blob_unlink,
    .blob_referenced = sq_blob_referenced,
    .gc_plan = sq_gc_plan,
    .gc_manifests_prune = sq_gc_manifests_prune,
    .gc_blob_unlink = sq_gc_blob_unlink,
    .blob_forget = sq_blob_forget,
    .manifest_put = sq_manifest_put,
    .manifest_get_by_tag = sq_manifest_get_by_tag,
    .manifest_get = sq_manifest_get,
    .manifest_delete = sq_manifest_delete,
    .tag_delete = sq_tag_delete,
    .tags_list = sq_tags_list,
    .catalog = sq_catalog,
    .referrers = sq_referrers,
    .upload_put = sq_upload_put,
    .upload_get = sq_upload_get,
    .upload_delete = sq_upload_delete,
    .upload_list = sq_upload_list,
    .errata_put = sq_errata_put,
    .errata_generation = sq_errata_generation,
    .errata_get = sq_errata_get,
    .errata_list = sq_errata_list,
    .errata_affecting = sq_errata_affecting,
    .errata_changed_since = sq_errata_changed_since,
    .feed_get = sq_feed_get,
    .feed_put = sq_feed_put,
    .event_append = sq_event_append,
    .events_list = sq_events_list,
    .event_head = sq_event_head,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .signature_put = sq_signature_put,
    .signatures_list = sq_signatures_list,
    .signature_delete = sq_signature_delete,
    .scan_claim = sq_scan_claim,
    .scan_requeue = sq_scan_requeue,
    .scan_enqueue = sq_scan_enqueue,
    .scan_queued = sq_scan_queued,
    .scan_layer_get = sq_scan_layer_get,
    .scan_layer_put = sq_scan_layer_put,
    .scan_layer_count = sq_scan_layer_count,
    .scan_put = sq_scan_put,
    .scan_get = sq_scan_get,
    .scan_each_stale = sq_scan_each_stale,
    .scan_findings_put = sq_scan_findings_put,
    .grade_state_get = sq_grade_state_get,
    .grade_state_set = sq_grade_state_set,
};

/* Opens the store at path: the calling thread's connection is created here (so a bad path fails
 * now, not on first use) and runs the migrations. */
int meta_sqlite_open(const char *path, const struct meta_ops **ops, void **be)
{
	struct sq_meta *sm = NULL;
	int rc = 0;

	*ops = NULL;
	*be = NULL;
	if (!sqlite3_threadsafe()) {
		rc = -BERTH_EDB;
		goto out;
	}
	sm = calloc(1, sizeof(*sm));
	if (!sm) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&sm->lock, NULL);
	pthread_mutex_init(&sm->wlock, NULL);
	sm->path = strdup(path);
	if (!sm->path) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	if (pthread_key_create(&sm->key, sq_conn_thread_exit) != 0) {
		rc = -BERTH_ENOMEM;
		goto out;
	}
	sm->key_ok = 1;
	rc = sq_tx(sm, 1, sq_migrate_tx, NULL, NULL);
	if (rc < 0)
		goto out;
	*ops = &sq_ops;
	*be = sm;
	sm = NULL;
out:
	sq_free(sm);
	return rc;
}
