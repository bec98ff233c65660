//! The on-disk store: one directory holding `vulndb.sqlite`, replaced atomically.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use bulwark_types::{EpssScore, KevEntry};

use crate::error::{io_err, sql_err, Error, Result};
use crate::model::{Advisory, Range, SeverityVector};

/// Bumped whenever the tables change; an older or newer store must be rebuilt.
pub const SCHEMA_VERSION: i64 = 1;
/// The database file inside the store directory.
pub const DB_FILE: &str = "vulndb.sqlite";

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, location TEXT NOT NULL,
  etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL,
  advisories INTEGER NOT NULL DEFAULT 0, affected INTEGER NOT NULL DEFAULT 0,
  kev INTEGER NOT NULL DEFAULT 0, epss INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE advisories(
  rid INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, id TEXT NOT NULL,
  summary TEXT, details TEXT, published TEXT, modified TEXT, withdrawn TEXT,
  severity TEXT NOT NULL DEFAULT '[]', source_severity TEXT, refs TEXT NOT NULL DEFAULT '[]',
  UNIQUE(source_id, id));
CREATE TABLE aliases(advisory INTEGER NOT NULL, alias TEXT NOT NULL, UNIQUE(advisory, alias));
CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE affected(
  advisory INTEGER NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  ranges TEXT NOT NULL, versions TEXT NOT NULL, note TEXT); -- ranges: JSON; versions: newline-separated
CREATE INDEX affected_pkg ON affected(name, ecosystem);
CREATE INDEX affected_adv ON affected(advisory);
CREATE TABLE kev(cve TEXT PRIMARY KEY, source_id INTEGER NOT NULL, date_added TEXT, due_date TEXT,
  vendor TEXT, product TEXT, name TEXT, ransomware TEXT);
CREATE TABLE epss(cve TEXT PRIMARY KEY, source_id INTEGER NOT NULL, score REAL NOT NULL,
  percentile REAL NOT NULL, date TEXT);
";

/// One data source as recorded in the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    /// `osv:PyPI`, `kev`, `epss`, `osv:/abs/path`, `alpine:/abs/path`, `debian:/abs/path`.
    pub name: String,
    pub kind: String,
    /// URL or path it came from.
    pub location: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// RFC 3339.
    pub fetched_at: String,
    pub advisories: u64,
    pub affected: u64,
    pub kev: u64,
    pub epss: u64,
    pub skipped: u64,
}

/// What `bulwark db status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub schema_version: i64,
    /// RFC 3339 time of the last successful update or import.
    pub updated_at: String,
    pub sources: Vec<SourceInfo>,
    pub advisories: u64,
    pub affected: u64,
    pub kev: u64,
    pub epss: u64,
    /// Size of the database file in bytes.
    pub size_bytes: u64,
}

impl Metadata {
    /// `bulwark db status`: the database in `dir`, its schema, age, size, record counts and
    /// each source.
    pub fn status_text(&self, dir: &Path) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(o, "database:   {}", dir.display());
        let _ = writeln!(o, "schema:     {}", self.schema_version);
        let _ = writeln!(o, "updated at: {}", self.updated_at);
        let mib = self.size_bytes as f64 / (1 << 20) as f64;
        let _ = writeln!(o, "size:       {mib:.1} MiB");
        let _ = writeln!(
            o,
            "records:    {} advisories, {} affected packages, {} KEV, {} EPSS",
            self.advisories, self.affected, self.kev, self.epss
        );
        let _ = writeln!(o, "sources:");
        for s in &self.sources {
            let _ = writeln!(
                o,
                "  {:<40} fetched {}  advisories {}  affected {}  kev {}  epss {}  skipped {}",
                s.name, s.fetched_at, s.advisories, s.affected, s.kev, s.epss, s.skipped
            );
            let _ = writeln!(o, "    from {}", s.location);
        }
        o
    }
}

pub(crate) struct AffectedRow {
    pub advisory: i64,
    pub ecosystem: String,
    pub status: String,
    pub ranges: Vec<Range>,
    /// OSV `versions`, newline-separated.
    pub versions: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AdvisoryRow {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub withdrawn: Option<String>,
    pub severity: Vec<SeverityVector>,
    pub source_severity: Option<String>,
    pub references: Vec<String>,
}

/// A read-only handle on a store directory.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

pub(crate) fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

fn read_schema_version(conn: &Connection, path: &Path) -> Result<i64> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(path))?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

impl Store {
    /// Opens the store in `dir` read-only (a few milliseconds: nothing is loaded up front).
    pub fn open(dir: &Path) -> Result<Store> {
        let path = db_path(dir);
        if !path.is_file() {
            return Err(Error::NotFound(dir.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_err(&path))?;
        let found = read_schema_version(&conn, &path)?;
        if found != SCHEMA_VERSION {
            return Err(Error::SchemaMismatch {
                path,
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self) -> impl FnOnce(rusqlite::Error) -> Error {
        sql_err(db_path(&self.dir))
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn sql_error(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            path: db_path(&self.dir),
            source,
        }
    }

    /// A short hex digest of the store's meta table and source list (their validators, fetch
    /// times and counts): it changes with every import or update that commits, and reading it
    /// costs a few small queries. A poller opens the store anew each time (a [`Store`] keeps
    /// reading the file it opened, while an update renames a new file into place) and
    /// compares this with the last value it saw.
    pub fn fingerprint(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        let mut feed = |sql: &str| -> Result<()> {
            let mut stmt = self.conn.prepare(sql).map_err(self.err())?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i).map_err(self.err())?;
                    // Length-prefixed, so ("ab","c") and ("a","bc") differ.
                    let text = format!("{value:?}");
                    hash.update((text.len() as u64).to_le_bytes());
                    hash.update(text.as_bytes());
                }
            }
            Ok(())
        };
        feed("SELECT key, value FROM meta ORDER BY key")?;
        feed("SELECT name, kind, location, etag, last_modified, fetched_at, advisories, affected, kev, epss, skipped FROM sources ORDER BY name")?;
        Ok(hash
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    /// Schema version, age, sources and counts.
    pub fn metadata(&self) -> Result<Metadata> {
        let updated_at: String = self
            .conn
            .query_row("SELECT value FROM meta WHERE key='updated_at'", [], |r| {
                r.get(0)
            })
            .map_err(self.err())?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, kind, location, etag, last_modified, fetched_at, advisories, affected, kev, epss, skipped FROM sources ORDER BY name",
            )
            .map_err(self.err())?;
        let sources = stmt
            .query_map([], |r| {
                Ok(SourceInfo {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    location: r.get(2)?,
                    etag: r.get(3)?,
                    last_modified: r.get(4)?,
                    fetched_at: r.get(5)?,
                    advisories: r.get::<_, i64>(6)? as u64,
                    affected: r.get::<_, i64>(7)? as u64,
                    kev: r.get::<_, i64>(8)? as u64,
                    epss: r.get::<_, i64>(9)? as u64,
                    skipped: r.get::<_, i64>(10)? as u64,
                })
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        let count = |table: &str| -> Result<u64> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(sql_err(db_path(&self.dir)))
        };
        let size_bytes = std::fs::metadata(db_path(&self.dir))
            .map(|m| m.len())
            .unwrap_or(0);
        Ok(Metadata {
            schema_version: SCHEMA_VERSION,
            updated_at,
            sources,
            advisories: count("advisories")?,
            affected: count("affected")?,
            kev: count("kev")?,
            epss: count("epss")?,
            size_bytes,
        })
    }

    pub(crate) fn affected_for(
        &self,
        name: &str,
        ecosystem: &str,
        prefix: bool,
    ) -> Result<Vec<AffectedRow>> {
        let sql = if prefix {
            "SELECT advisory, ecosystem, status, ranges, versions, note FROM affected WHERE name = ?1 AND ecosystem >= ?2 AND ecosystem < ?2 || char(1114111)"
        } else {
            "SELECT advisory, ecosystem, status, ranges, versions, note FROM affected WHERE name = ?1 AND ecosystem = ?2"
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params![name, ecosystem], |r| {
                let ranges: String = r.get(3)?;
                Ok(AffectedRow {
                    advisory: r.get(0)?,
                    ecosystem: r.get(1)?,
                    status: r.get(2)?,
                    ranges: serde_json::from_str(&ranges).unwrap_or_default(),
                    versions: r.get(4)?,
                    note: r.get(5)?,
                })
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    pub(crate) fn advisory(&self, rid: i64) -> Result<AdvisoryRow> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, summary, details, withdrawn, severity, source_severity, refs FROM advisories WHERE rid = ?1",
            )
            .map_err(self.err())?;
        let mut row = stmt
            .query_row([rid], |r| {
                let sev: String = r.get(4)?;
                let refs: String = r.get(6)?;
                Ok(AdvisoryRow {
                    id: r.get(0)?,
                    aliases: Vec::new(),
                    summary: r.get(1)?,
                    details: r.get(2)?,
                    withdrawn: r.get(3)?,
                    severity: serde_json::from_str(&sev).unwrap_or_default(),
                    source_severity: r.get(5)?,
                    references: serde_json::from_str(&refs).unwrap_or_default(),
                })
            })
            .map_err(self.err())?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT alias FROM aliases WHERE advisory = ?1 ORDER BY alias")
            .map_err(self.err())?;
        row.aliases = stmt
            .query_map([rid], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.err())?;
        Ok(row)
    }

    /// The KEV entry for a CVE id, if CISA lists it.
    pub fn kev(&self, cve: &str) -> Result<Option<KevEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT cve, date_added, due_date, vendor, product, name, ransomware FROM kev WHERE cve = ?1")
            .map_err(self.err())?;
        stmt.query_row([cve], |r| {
            Ok(KevEntry {
                cve: r.get(0)?,
                date_added: r.get(1)?,
                due_date: r.get(2)?,
                vendor: r.get(3)?,
                product: r.get(4)?,
                name: r.get(5)?,
                ransomware: r.get(6)?,
            })
        })
        .optional()
        .map_err(self.err())
    }

    /// The EPSS score for a CVE id.
    pub fn epss(&self, cve: &str) -> Result<Option<EpssScore>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT cve, score, percentile, date FROM epss WHERE cve = ?1")
            .map_err(self.err())?;
        stmt.query_row([cve], |r| {
            Ok(EpssScore {
                cve: r.get(0)?,
                score: r.get(1)?,
                percentile: r.get(2)?,
                date: r.get(3)?,
            })
        })
        .optional()
        .map_err(self.err())
    }
}

/// Counts written for one source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceCounts {
    pub advisories: u64,
    pub affected: u64,
    pub kev: u64,
    pub epss: u64,
    pub skipped: u64,
}

/// Builds a new store next to the target directory and swaps it in on [`StoreBuilder::commit`].
/// Dropping the builder without committing deletes the half-built copy; killing the process
/// leaves the previous store untouched (the stale temp directory is removed by the next build).
pub struct StoreBuilder {
    conn: Option<Connection>,
    tmp_dir: PathBuf,
    target: PathBuf,
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn tmp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".into());
    format!(".{name}.tmp-")
}

fn clean_stale_temps(target: &Path) {
    let Some(parent) = target.parent() else {
        return;
    };
    let prefix = tmp_prefix(target);
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        // Only remove temps that nobody has touched for a while: a concurrent update may own
        // a fresh one.
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        let ours = name.ends_with(&format!("-{}", std::process::id()));
        if old || ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl StoreBuilder {
    /// Starts a new store for `target`. With `keep_existing`, the current store's data is the
    /// starting point (sources that are re-imported are replaced, the rest kept).
    pub fn begin(target: &Path, keep_existing: bool) -> Result<StoreBuilder> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        clean_stale_temps(target);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp_dir = parent.join(format!(
            "{}{nanos}-{}",
            tmp_prefix(target),
            std::process::id()
        ));
        std::fs::create_dir_all(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut builder = StoreBuilder {
            conn: None,
            tmp_dir,
            target: target.to_path_buf(),
        };
        let path = db_path(&builder.tmp_dir);
        let existing = db_path(target);
        let mut copied = false;
        if keep_existing && existing.is_file() {
            if let Ok(old) = Store::open(target) {
                drop(old);
                std::fs::copy(&existing, &path).map_err(io_err(&path))?;
                copied = true;
            }
        }
        let conn = Connection::open(&path).map_err(sql_err(&path))?;
        conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;")
            .map_err(sql_err(&path))?;
        if !copied {
            conn.execute_batch(SCHEMA).map_err(sql_err(&path))?;
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION.to_string()],
            )
            .map_err(sql_err(&path))?;
        }
        conn.execute_batch("BEGIN").map_err(sql_err(&path))?;
        builder.conn = Some(conn);
        Ok(builder)
    }

    pub(crate) fn tmp_dir(&self) -> &Path {
        &self.tmp_dir
    }

    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("builder connection is open until commit")
    }

    fn err(&self) -> impl FnOnce(rusqlite::Error) -> Error {
        sql_err(db_path(&self.tmp_dir))
    }

    /// The stored validators of a source, for a conditional request.
    pub(crate) fn source_validators(
        &self,
        name: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        self.conn()
            .query_row(
                "SELECT etag, last_modified FROM sources WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    /// Marks an unchanged source (HTTP 304) as checked now.
    pub(crate) fn touch_source(&mut self, name: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE sources SET fetched_at = ?2 WHERE name = ?1",
                params![name, now_rfc3339()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Starts (or restarts) a source: removes everything it contributed before.
    pub(crate) fn begin_source(&mut self, name: &str, kind: &str, location: &str) -> Result<i64> {
        let conn = self.conn();
        let old: Option<i64> = conn
            .query_row("SELECT id FROM sources WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())?;
        if let Some(id) = old {
            conn.execute_batch(&format!(
                "DELETE FROM aliases WHERE advisory IN (SELECT rid FROM advisories WHERE source_id = {id});
                 DELETE FROM affected WHERE advisory IN (SELECT rid FROM advisories WHERE source_id = {id});
                 DELETE FROM advisories WHERE source_id = {id};
                 DELETE FROM kev WHERE source_id = {id};
                 DELETE FROM epss WHERE source_id = {id};
                 DELETE FROM sources WHERE id = {id};"
            ))
            .map_err(self.err())?;
        }
        conn.execute(
            "INSERT INTO sources(name, kind, location, fetched_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, kind, location, now_rfc3339()],
        )
        .map_err(self.err())?;
        Ok(conn.last_insert_rowid())
    }

    pub(crate) fn finish_source(
        &mut self,
        source: i64,
        counts: &SourceCounts,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE sources SET advisories=?2, affected=?3, kev=?4, epss=?5, skipped=?6, etag=?7, last_modified=?8 WHERE id=?1",
                params![
                    source,
                    counts.advisories as i64,
                    counts.affected as i64,
                    counts.kev as i64,
                    counts.epss as i64,
                    counts.skipped as i64,
                    etag,
                    last_modified
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Inserts an advisory; a second record with the same id from the same source is merged
    /// into the first (its affected entries and aliases are added).
    pub(crate) fn insert_advisory(
        &mut self,
        source: i64,
        adv: &Advisory,
        counts: &mut SourceCounts,
    ) -> Result<()> {
        let conn = self.conn.as_ref().expect("open");
        let e = || sql_err(db_path(&self.tmp_dir));
        let existing: Option<i64> = conn
            .prepare_cached("SELECT rid FROM advisories WHERE source_id = ?1 AND id = ?2")
            .map_err(e())?
            .query_row(params![source, adv.id], |r| r.get(0))
            .optional()
            .map_err(e())?;
        let rid = match existing {
            Some(rid) => rid,
            None => {
                let severity = serde_json::to_string(&adv.severity).unwrap_or_else(|_| "[]".into());
                let refs = serde_json::to_string(&adv.references).unwrap_or_else(|_| "[]".into());
                conn.prepare_cached(
                    "INSERT INTO advisories(source_id, id, summary, details, published, modified, withdrawn, severity, source_severity, refs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(e())?
                .execute(params![
                    source,
                    adv.id,
                    adv.summary,
                    adv.details,
                    adv.published,
                    adv.modified,
                    adv.withdrawn,
                    severity,
                    adv.source_severity,
                    refs
                ])
                .map_err(e())?;
                counts.advisories += 1;
                conn.last_insert_rowid()
            }
        };
        let mut alias_stmt = conn
            .prepare_cached("INSERT OR IGNORE INTO aliases(advisory, alias) VALUES (?1, ?2)")
            .map_err(e())?;
        for alias in &adv.aliases {
            if alias != &adv.id {
                alias_stmt.execute(params![rid, alias]).map_err(e())?;
            }
        }
        let mut aff_stmt = conn
            .prepare_cached(
                "INSERT INTO affected(advisory, ecosystem, name, status, ranges, versions, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(e())?;
        for a in &adv.affected {
            let ranges = serde_json::to_string(&a.ranges).unwrap_or_else(|_| "[]".into());
            // Newline-separated: matched as plain strings, never parsed on lookup.
            let versions = a.versions.join("\n");
            aff_stmt
                .execute(params![
                    rid,
                    a.ecosystem,
                    a.name,
                    a.status.as_str(),
                    ranges,
                    versions,
                    a.note
                ])
                .map_err(e())?;
            counts.affected += 1;
        }
        Ok(())
    }

    pub(crate) fn insert_kev(&mut self, source: i64, k: &KevEntry) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO kev(cve, source_id, date_added, due_date, vendor, product, name, ransomware) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
            )
            .map_err(self.err())?
            .execute(params![k.cve, source, k.date_added, k.due_date, k.vendor, k.product, k.name, k.ransomware])
            .map_err(self.err())?;
        Ok(())
    }

    pub(crate) fn insert_epss(&mut self, source: i64, s: &EpssScore) -> Result<()> {
        self.conn()
            .prepare_cached("INSERT OR REPLACE INTO epss(cve, source_id, score, percentile, date) VALUES (?1,?2,?3,?4,?5)")
            .map_err(self.err())?
            .execute(params![s.cve, source, s.score, s.percentile, s.date])
            .map_err(self.err())?;
        Ok(())
    }

    /// Finishes the new store and renames it over the target's database file (an atomic
    /// replacement: readers see the old or the new file, never a mix).
    pub fn commit(mut self) -> Result<()> {
        let path = db_path(&self.tmp_dir);
        let conn = self.conn.take().expect("open");
        let e = || sql_err(&path);
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('updated_at', ?1)",
            [now_rfc3339()],
        )
        .map_err(e())?;
        conn.execute_batch("COMMIT; ANALYZE;").map_err(e())?;
        conn.close().map_err(|(_, err)| Error::Sqlite {
            path: path.clone(),
            source: err,
        })?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&path))?;
        std::fs::create_dir_all(&self.target).map_err(io_err(&self.target))?;
        let dest = db_path(&self.target);
        std::fs::rename(&path, &dest).map_err(io_err(&dest))?;
        if let Ok(dir) = std::fs::File::open(&self.target) {
            let _ = dir.sync_all();
        }
        Ok(())
        // Drop removes the (now empty) temp dir.
    }
}

impl Drop for StoreBuilder {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close();
        }
        let _ = std::fs::remove_dir_all(&self.tmp_dir);
    }
}
