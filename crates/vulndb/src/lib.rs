//! The vulnerability database: bulwark's store of advisories and the matcher that turns a
//! package inventory into findings. A [`Store`] is one directory holding an SQLite file
//! (`vulndb.sqlite`: advisories, their aliases and affected ranges keyed by ecosystem and
//! normalised package name, CISA KEV and FIRST EPSS tables, and the sources with their age),
//! opened read-only in milliseconds. It is only ever written through a [`StoreBuilder`], which
//! builds a copy next to the target and renames it into place, so an interrupted
//! [`import_paths`] or [`update`] leaves the previous store usable. Importers turn OSV JSON
//! (files, directories, zips), KEV JSON, EPSS CSV, Alpine secdb and the Debian security
//! tracker's CVE/DSA/DLA lists into one normalised advisory model, skipping and counting
//! malformed records ([`ImportSummary`]). [`match_packages`] takes `bulwark_types::Package`s
//! and an `OsRelease`, evaluates ranges with `bulwark_version`'s schemes, merges aliases into
//! one [`Finding`] per flaw and package, and enriches it with KEV, EPSS and a severity
//! (CVSS v3.x and v4.0 base scores are computed from the vectors by [`cvss`]; the source's own
//! rating is used only when there is no vector). The library prints nothing: progress
//! goes through the [`Progress`] trait.
#![forbid(unsafe_code)]

pub mod cvss;
mod diff;
mod error;
mod feeds;
mod import;
mod matcher;
mod model;
mod osv;
mod store;
mod update;

/// The finding types live in `bulwark-types` (so a report needs no database to be read back);
/// re-exported under the matcher's names.
pub use bulwark_types::{
    CvssInfo, EpssScore, FindingPackage, FindingStatus, KevEntry, MatchOutcome, Priority,
    SeveritySource, VulnerabilityFinding as Finding,
};
pub use diff::{changes_between, AdvisoryChanges};
pub use error::{Error, Result};
pub use feeds::debian_release;
pub use import::{import_paths, ImportSummary, SourceSummary, MAX_FILE_BYTES};
pub use matcher::{
    language_ecosystem, match_keys, match_packages, os_ecosystem, try_match, try_match_indexed,
    IndexedMatch, MatchKey, MatchOptions,
};
pub use model::{SeverityVector, Skips};
pub use osv::normalize_name;
pub use store::{Metadata, SourceCounts, SourceInfo, Store, StoreBuilder, DB_FILE, SCHEMA_VERSION};
/// Re-exported so callers of [`check_age`] need no direct `time` dependency.
pub use time::OffsetDateTime;
pub use update::{
    check_age, update, AgePolicy, AgeWarning, UpdateOptions, DEFAULT_ECOSYSTEMS, DEFAULT_EPSS_URL,
    DEFAULT_KEV_URL, DEFAULT_OSV_URL,
};

/// Progress reports from long operations (downloads, imports). All methods default to nothing.
pub trait Progress: Sync {
    /// A new phase starts; `total` is bytes for downloads, files for imports, when known.
    fn phase(&self, _label: &str, _total: Option<u64>) {}
    /// Units done so far in the current phase.
    fn advance(&self, _done: u64) {}
    /// The current phase ended.
    fn done(&self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
