//! rpm's sqlite backend (`rpmdb.sqlite`, rpm >= 4.16): table
//! `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`.

use std::io::Read;

use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags, MAIN_DB};

use crate::RpmDbError;

pub(crate) const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const FILE_HEADER: usize = 100;

fn sq(context: &'static str) -> impl FnOnce(rusqlite::Error) -> RpmDbError {
    move |source| RpmDbError::Sqlite { context, source }
}

pub(crate) fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmDbError> {
    if bytes.len() < FILE_HEADER {
        return Err(RpmDbError::Truncated {
            what: "SQLite file header",
            offset: 0,
            needed: FILE_HEADER as u64,
            len: bytes.len() as u64,
        });
    }
    // sqlite3_deserialize takes an int-sized buffer.
    let size_limit = i32::MAX as usize;
    if bytes.len() > size_limit {
        return Err(RpmDbError::TooLarge {
            what: "SQLite database",
            size: bytes.len() as u64,
            limit: size_limit as u64,
        });
    }
    // rpm leaves its db in WAL mode (header bytes 18/19 = 2). An in-memory
    // image has no -wal/-shm beside it and sqlite refuses to open it as WAL,
    // so present it as a rollback-journal file; rpm checkpoints on close, so
    // the main file is complete.
    let mut head = [0u8; FILE_HEADER];
    head.copy_from_slice(&bytes[..FILE_HEADER]);
    head[18] = 1;
    head[19] = 1;

    let mut conn = Connection::open_with_flags(
        ":memory:",
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sq("opening in-memory connection"))?;
    // A value can never legitimately be longer than the file it came from;
    // capping it stops a hostile schema (e.g. a generated column of
    // zeroblob(1e9)) from allocating far more than the input.
    let max_len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_len)
        .map_err(sq("setting length limit"))?;
    // A hostile file can make `Packages` a view over an endless recursive
    // query. Reading real data needs few VM steps per byte, so a budget that
    // scales with the input size stops runaways without hurting real dbs.
    let mut budget: u64 = 10_000 + bytes.len() as u64 / 256;
    conn.progress_handler(
        10_000,
        Some(move || {
            budget = budget.saturating_sub(1);
            budget == 0
        }),
    );
    let reader = (&head[..]).chain(&bytes[FILE_HEADER..]);
    conn.deserialize_read_exact(MAIN_DB, reader, bytes.len(), true)
        .map_err(sq("loading database image"))?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA trusted_schema = OFF;")
        .map_err(sq("setting pragmas"))?;

    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(sq("reading schema"))?;
    if kind.as_deref() != Some("table") {
        return Err(RpmDbError::NoPackagesTable { found: kind });
    }

    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sq("preparing Packages query"))?;
    let mut rows = stmt.query([]).map_err(sq("querying Packages"))?;
    let mut out = Vec::new();
    // Corrupt b-trees can make many rows share overflow pages; the total
    // cannot honestly exceed the file, so that also bounds memory.
    let mut total = 0usize;
    while let Some(row) = rows.next().map_err(sq("reading Packages row"))? {
        let blob: Vec<u8> = row.get(1).map_err(sq("reading Packages.blob"))?;
        total = total.saturating_add(blob.len());
        if total > bytes.len() {
            return Err(RpmDbError::TooLarge {
                what: "sum of SQLite Packages blobs",
                size: total as u64,
                limit: bytes.len() as u64,
            });
        }
        out.push(blob);
    }
    Ok(out)
}
