//! `bulwark-rpmdb` owns reading the list of installed RPM packages out of a
//! container image's rpm database, in pure Rust and without linking librpm:
//! the caller hands over the database file's bytes (already in memory, as
//! streamed from an image layer) and gets back one [`RpmPackage`] per
//! installed package, with its NEVRA, licence, vendor, size and owned files.
//! It understands the three on-disk backends rpm has used and the rpm header
//! blob each of them stores, and treats all input as hostile: malformed
//! bytes yield an [`RpmDbError`] naming the page or offset, never a panic,
//! an unbounded allocation or an endless loop.
//!
//! | Backend | File | Distributions | Support |
//! |---|---|---|---|
//! | SQLite | `rpmdb.sqlite` | RHEL/Rocky/Alma 9, Fedora >= 33, Amazon Linux 2023 | read (via bundled sqlite, in memory; WAL-mode files accepted) |
//! | BerkeleyDB hash | `Packages` | RHEL/CentOS 7-8, Amazon Linux 2, older SUSE | read, both byte orders, overflow chains, checksummed pages; no encryption, no btree |
//! | NDB | `Packages.db` | openSUSE / SLES 15 (rpm >= 4.16) | read, with blob checksum verification |
//! | rpm header blob | (inside all of the above) | all | NEVRA, licence, vendor, size, source rpm, summary, modularity label, file list |
#![forbid(unsafe_code)]

mod bdb;
mod header;
mod ndb;
mod sqlite;

/// One installed package, as recorded in the rpm database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub license: Option<String>,
    pub vendor: Option<String>,
    /// Installed size in bytes (LONGSIZE when present, else SIZE).
    pub size: Option<u64>,
    /// Absolute paths, from `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (or the
    /// legacy FILENAMES tag), in header order. Includes owned directories.
    pub files: Vec<String>,
    pub summary: Option<String>,
    /// Set for packages built as part of a RHEL/Fedora module stream.
    pub modularity_label: Option<String>,
}

/// The on-disk backend of an rpm database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbFormat {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmDbError {
    #[error("not an rpm database: no SQLite, BerkeleyDB hash or NDB magic in the first 16 bytes")]
    UnknownFormat,
    #[error("truncated {what}: needs {needed} bytes from offset {offset}, input has {len}")]
    Truncated {
        what: &'static str,
        offset: u64,
        needed: u64,
        len: u64,
    },
    #[error("{what} too large: {size} bytes (limit {limit})")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("BerkeleyDB: {msg} (page {page}, offset {offset} in page)")]
    Bdb { page: u32, offset: u64, msg: String },
    #[error("NDB: {msg} (file offset {offset})")]
    Ndb { offset: u64, msg: String },
    #[error("SQLite rpmdb: {context}: {source}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("SQLite rpmdb: no Packages table (schema object type: {found:?})")]
    NoPackagesTable { found: Option<String> },
    #[error("rpm header: {msg} (blob offset {offset})")]
    Header { offset: u64, msg: String },
    #[error("rpm header: required tag {tag} ({name}) is missing")]
    MissingTag { tag: u32, name: &'static str },
    #[error("{format:?} database, header blob #{index}: {source}")]
    InBlob {
        format: DbFormat,
        index: usize,
        #[source]
        source: Box<RpmDbError>,
    },
}

/// Identifies the backend from magic bytes alone.
pub fn detect_format(bytes: &[u8]) -> Option<DbFormat> {
    if bytes.starts_with(sqlite::MAGIC) {
        Some(DbFormat::Sqlite)
    } else if bytes.starts_with(ndb::MAGIC) {
        Some(DbFormat::Ndb)
    } else if bdb::hash_order(bytes).is_some() {
        Some(DbFormat::BerkeleyDb)
    } else {
        None
    }
}

/// The raw header blobs stored in the database, in storage order, including
/// those of `gpg-pubkey` pseudo packages.
pub fn read_header_blobs(bytes: &[u8]) -> Result<(DbFormat, Vec<Vec<u8>>), RpmDbError> {
    let format = detect_format(bytes).ok_or(RpmDbError::UnknownFormat)?;
    let blobs = match format {
        DbFormat::Sqlite => sqlite::read_blobs(bytes)?,
        DbFormat::BerkeleyDb => bdb::read_blobs(bytes)?,
        DbFormat::Ndb => ndb::read_blobs(bytes)?,
    };
    Ok((format, blobs))
}

/// Reads every installed package from an rpm database of any supported
/// backend, skipping `gpg-pubkey` entries (imported signing keys, not
/// software), sorted by (name, version, release, arch).
pub fn read_packages(bytes: &[u8]) -> Result<Vec<RpmPackage>, RpmDbError> {
    let (format, blobs) = read_header_blobs(bytes)?;
    let mut packages = Vec::with_capacity(blobs.len());
    for (index, blob) in blobs.iter().enumerate() {
        let pkg = parse_header(blob).map_err(|e| RpmDbError::InBlob {
            format,
            index,
            source: Box::new(e),
        })?;
        if pkg.name != "gpg-pubkey" {
            packages.push(pkg);
        }
    }
    packages.sort_by(|a, b| {
        (&a.name, &a.version, &a.release, &a.arch).cmp(&(&b.name, &b.version, &b.release, &b.arch))
    });
    Ok(packages)
}

/// Parses one rpm header blob as stored in the database (no lead, no
/// signature header, no header magic).
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, RpmDbError> {
    header::parse(blob)
}
