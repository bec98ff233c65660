//! What changed between two advisory stores, as the packages whose findings may differ: the
//! input of a server-side rematch. Both stores are read by one SQLite connection (the old one
//! ATTACHed) and walked side by side in key order, so memory stays flat whatever the store
//! size; row ids differ between stores, so advisories are paired by source name and
//! advisory id.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, Row};
use serde::Serialize;

use crate::error::{sql_err, Result};
use crate::store::{db_path, Store};

/// The difference between two stores that can change a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AdvisoryChanges {
    /// There was no old store: every stored package must be matched again.
    pub everything: bool,
    /// `(advisory ecosystem, package name)` of every affected entry of an advisory that was
    /// added, removed, withdrawn or modified in a way a finding shows (affected ranges,
    /// versions, status and notes, aliases, severity vectors and ratings, summary, details,
    /// references). Look them up with [`crate::MatchKey::covers`].
    pub packages: BTreeSet<(String, String)>,
    /// CVE ids whose CISA KEV entry was added, removed or changed, or whose EPSS score or
    /// percentile changed (a new EPSS date alone does not count: the feed re-dates every CVE
    /// daily). [`Store::packages_aliasing`] turns them into packages.
    pub cves: BTreeSet<String>,
    /// Advisories only in the new store.
    pub added: u64,
    /// Advisories only in the old store.
    pub removed: u64,
    /// Advisories in both whose content differs (a withdrawal counts here).
    pub modified: u64,
}

impl AdvisoryChanges {
    /// Nothing that could change a finding changed.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.packages.is_empty() && self.cves.is_empty()
    }
}

/// Compares the store in `old` (a store directory; missing is fine: everything changed) with
/// the one in `new`. Either store with another schema version is an error. Identical stores
/// (same [`Store::fingerprint`]) return an empty change set without reading any advisory.
pub fn changes_between(old: &Path, new: &Path) -> Result<AdvisoryChanges> {
    let new_store = Store::open(new)?;
    if !db_path(old).is_file() {
        return Ok(AdvisoryChanges {
            everything: true,
            ..AdvisoryChanges::default()
        });
    }
    let old_store = Store::open(old)?;
    if old_store.fingerprint()? == new_store.fingerprint()? {
        return Ok(AdvisoryChanges::default());
    }
    drop(old_store);
    drop(new_store);

    let new_path = db_path(new);
    let err = || sql_err(&new_path);
    let conn = Connection::open_with_flags(
        &new_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err())?;
    // An attached database is opened with the main connection's flags: read-only here too.
    conn.execute(
        "ATTACH DATABASE ?1 AS old",
        [db_path(old).to_string_lossy().as_ref()],
    )
    .map_err(err())?;
    let mut changes = AdvisoryChanges::default();
    diff_advisories(&conn, &mut changes).map_err(err())?;
    diff_kev_epss(&conn, &mut changes).map_err(err())?;
    Ok(changes)
}

/// Everything about one advisory a finding can show, in a comparable form.
#[derive(PartialEq)]
struct AdvisoryContent {
    rid: i64,
    fields: [Option<String>; 8],
}

fn advisory_query(schema: &str) -> String {
    // Aliases and affected entries are concatenated in a fixed order, so two stores built in
    // different orders compare equal. char(30)/char(31) never occur in advisory text fields
    // that matter here (they are control characters JSON would escape).
    format!(
        "SELECT a.id, a.rid, a.summary, a.details, a.withdrawn, a.severity, a.source_severity, a.refs,
           (SELECT group_concat(alias, char(30)) FROM
              (SELECT alias FROM {schema}.aliases WHERE advisory = a.rid ORDER BY alias)),
           (SELECT group_concat(e, char(30)) FROM
              (SELECT ecosystem || char(31) || name || char(31) || status || char(31) || ranges
                      || char(31) || versions || char(31) || coalesce(note, '') AS e
               FROM {schema}.affected WHERE advisory = a.rid ORDER BY e))
         FROM {schema}.advisories a WHERE a.source_id = ?1 ORDER BY a.id"
    )
}

fn advisory_row(r: &Row<'_>) -> rusqlite::Result<(String, AdvisoryContent)> {
    let mut fields: [Option<String>; 8] = Default::default();
    for (i, f) in fields.iter_mut().enumerate() {
        *f = r.get(i + 2)?;
    }
    Ok((
        r.get(0)?,
        AdvisoryContent {
            rid: r.get(1)?,
            fields,
        },
    ))
}

fn sources(conn: &Connection, schema: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, id FROM {schema}.sources ORDER BY name"
    ))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect();
    rows
}

fn note_packages(
    conn: &Connection,
    schema: &str,
    rid: i64,
    into: &mut BTreeSet<(String, String)>,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT ecosystem, name FROM {schema}.affected WHERE advisory = ?1"
    ))?;
    for pair in stmt.query_map([rid], |r| Ok((r.get(0)?, r.get(1)?)))? {
        into.insert(pair?);
    }
    Ok(())
}

enum Side<T> {
    Old(T),
    New(T),
    Both(T, T),
}

/// Walks two key-ordered row streams together, calling `f` for each key with its row on one
/// side or both.
fn merge_join<T>(
    mut old: impl Iterator<Item = rusqlite::Result<(String, T)>>,
    mut new: impl Iterator<Item = rusqlite::Result<(String, T)>>,
    mut f: impl FnMut(Side<T>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut a = old.next().transpose()?;
    let mut b = new.next().transpose()?;
    loop {
        match (a.take(), b.take()) {
            (None, None) => return Ok(()),
            (Some((_, x)), None) => {
                f(Side::Old(x))?;
                a = old.next().transpose()?;
            }
            (None, Some((_, y))) => {
                f(Side::New(y))?;
                b = new.next().transpose()?;
            }
            (Some((ka, x)), Some((kb, y))) => match ka.cmp(&kb) {
                std::cmp::Ordering::Less => {
                    f(Side::Old(x))?;
                    a = old.next().transpose()?;
                    b = Some((kb, y));
                }
                std::cmp::Ordering::Greater => {
                    f(Side::New(y))?;
                    b = new.next().transpose()?;
                    a = Some((ka, x));
                }
                std::cmp::Ordering::Equal => {
                    f(Side::Both(x, y))?;
                    a = old.next().transpose()?;
                    b = new.next().transpose()?;
                }
            },
        }
    }
}

fn diff_advisories(conn: &Connection, changes: &mut AdvisoryChanges) -> rusqlite::Result<()> {
    let old_sources = sources(conn, "old")?;
    let new_sources = sources(conn, "main")?;
    let mut old_stmt = conn.prepare(&advisory_query("old"))?;
    let mut new_stmt = conn.prepare(&advisory_query("main"))?;
    // A source on one side only: its advisories are compared against an empty stream
    // (source id -1 matches nothing).
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    merge_join(
        old_sources.into_iter().map(|(n, id)| Ok((n, id))),
        new_sources.into_iter().map(|(n, id)| Ok((n, id))),
        |side| {
            pairs.push(match side {
                Side::Old(o) => (o, -1),
                Side::New(n) => (-1, n),
                Side::Both(o, n) => (o, n),
            });
            Ok(())
        },
    )?;
    for (old_source, new_source) in pairs {
        let old_rows = old_stmt.query_map([old_source], advisory_row)?;
        let new_rows = new_stmt.query_map([new_source], advisory_row)?;
        merge_join(old_rows, new_rows, |side| match side {
            Side::Old(o) => {
                changes.removed += 1;
                note_packages(conn, "old", o.rid, &mut changes.packages)
            }
            Side::New(n) => {
                changes.added += 1;
                note_packages(conn, "main", n.rid, &mut changes.packages)
            }
            Side::Both(o, n) => {
                if o.fields != n.fields {
                    changes.modified += 1;
                    // Both sides: a package the advisory no longer names loses its finding.
                    note_packages(conn, "old", o.rid, &mut changes.packages)?;
                    note_packages(conn, "main", n.rid, &mut changes.packages)?;
                }
                Ok(())
            }
        })?;
    }
    Ok(())
}

fn diff_kev_epss(conn: &Connection, changes: &mut AdvisoryChanges) -> rusqlite::Result<()> {
    for (table, columns) in [
        (
            "kev",
            "date_added, due_date, vendor, product, name, ransomware",
        ),
        // Not `date`: see AdvisoryChanges::cves.
        ("epss", "CAST(score AS TEXT), CAST(percentile AS TEXT)"),
    ] {
        let query = |schema: &str| {
            format!("SELECT cve, json_array({columns}) FROM {schema}.{table} ORDER BY cve")
        };
        let mut old_stmt = conn.prepare(&query("old"))?;
        let mut new_stmt = conn.prepare(&query("main"))?;
        let row = |r: &Row<'_>| -> rusqlite::Result<(String, (String, String))> {
            let cve: String = r.get(0)?;
            Ok((cve.clone(), (cve, r.get(1)?)))
        };
        let old_rows = old_stmt.query_map([], row)?;
        let new_rows = new_stmt.query_map([], row)?;
        merge_join(old_rows, new_rows, |side| {
            match side {
                Side::Old((cve, _)) | Side::New((cve, _)) => {
                    changes.cves.insert(cve);
                }
                Side::Both((cve, a), (_, b)) => {
                    if a != b {
                        changes.cves.insert(cve);
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

impl Store {
    /// `(advisory ecosystem, package name)` of every affected entry of an advisory whose id
    /// or alias is one of `ids`: the packages whose findings show a changed KEV or EPSS value.
    pub fn packages_aliasing<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<BTreeSet<(String, String)>> {
        let mut out = BTreeSet::new();
        let sources: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare_cached("SELECT id FROM sources")
                .map_err(self.sql_error())?;
            let ids = stmt
                .query_map([], |r| r.get(0))
                .map_err(self.sql_error())?
                .collect::<rusqlite::Result<Vec<i64>>>()
                .map_err(self.sql_error())?;
            ids
        };
        let mut by_alias = self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT f.ecosystem, f.name FROM aliases a JOIN affected f ON f.advisory = a.advisory WHERE a.alias = ?1",
            )
            .map_err(self.sql_error())?;
        // Per source: the (source_id, id) index answers each lookup directly.
        let mut by_id = self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT f.ecosystem, f.name FROM advisories v JOIN affected f ON f.advisory = v.rid WHERE v.source_id = ?1 AND v.id = ?2",
            )
            .map_err(self.sql_error())?;
        for id in ids {
            let rows = by_alias
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(self.sql_error())?;
            for pair in rows {
                out.insert(pair.map_err(self.sql_error())?);
            }
            for source in &sources {
                let rows = by_id
                    .query_map(rusqlite::params![source, id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .map_err(self.sql_error())?;
                for pair in rows {
                    out.insert(pair.map_err(self.sql_error())?);
                }
            }
        }
        Ok(out)
    }
}
