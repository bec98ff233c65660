use std::path::PathBuf;

/// Everything that can go wrong in the vulnerability database. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no vulnerability database in {0}: run `bulwark db update` (or `bulwark db import PATH...` when offline) first")]
    NotFound(PathBuf),
    #[error("the vulnerability database in {path} has schema version {found}, this bulwark needs {expected}: run `bulwark db update` (or `bulwark db import`) to rebuild it")]
    SchemaMismatch {
        path: PathBuf,
        found: i64,
        expected: i64,
    },
    #[error("vulnerability database {path}: {source}; if it is damaged, delete the directory and run `bulwark db update`")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: not something bulwark can import (expected OSV JSON files, a directory or .zip of them, a CISA KEV .json, an EPSS .csv or .csv.gz, an Alpine secdb .json or a Debian security-tracker CVE/DSA/DLA list)")]
    UnknownFormat(PathBuf),
    #[error("download of {url} failed: {reason}; check the network or point {env} (or the matching --*-url flag) at a mirror")]
    Download {
        url: String,
        reason: String,
        env: &'static str,
    },
    #[error("download of {url} exceeds the {limit}-byte size cap; raise the cap or use a mirror that serves a smaller file")]
    TooLarge { url: String, limit: u64 },
    #[error("{what} is not a valid archive or feed ({reason}); the previous database was kept, retry later or check the mirror")]
    Corrupt { what: String, reason: String },
    #[error("the vulnerability database was last updated {age_days} days ago, past the {limit_days}-day limit: run `bulwark db update` (or import fresh data)")]
    TooOld { age_days: i64, limit_days: i64 },
    #[error("the vulnerability database records an unreadable update time {0:?}: run `bulwark db update` to rebuild it")]
    BadTimestamp(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

pub(crate) fn sql_err(path: impl Into<PathBuf>) -> impl FnOnce(rusqlite::Error) -> Error {
    let path = path.into();
    move |source| Error::Sqlite { path, source }
}
