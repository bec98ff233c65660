//! bulwark server's storage: SQLite by default (one file, no setup), PostgreSQL at scale, with
//! one set of queries for both.
//!
//! [`Store::open`] takes a [`DatabaseLocation`] (a path or a `postgres://` URL), applies the
//! embedded migrations and returns a cheap-to-clone, synchronous handle (the server calls it
//! from `spawn_blocking`). Uploads go through [`Store::ingest`] as one [`IngestDocument`]
//! (asset, version, components with their advisory match keys, findings) in one transaction;
//! the match keys form the reverse index that [`Store::components_for_keys`] reads when
//! advisories change, and [`Store::apply_rematch`] records what a rematch found. Every read
//! takes a [`Principal`] (from [`Store::authenticate`]) and only shows its teams' assets.
//! Triage ([`Store::set_triage`]) is kept per asset, vulnerability and package, so later
//! digests of the same repository inherit it. A job queue ([`Store::enqueue`],
//! [`Store::claim`]) with leases lets a killed worker's job be picked up again.
//!
//! ```ignore
//! let store = Store::open(&DatabaseLocation::parse("bulwark.sqlite")?)?;
//! let (_, token) = store.create_token(&Principal::system("setup"), "ci", &[Scope::Upload], None)?;
//! let who = store.authenticate(&token)?.expect("just made");
//! let outcome = store.ingest(&who, &document)?;
//! ```
//!
//! Queries are written in PostgreSQL syntax with `$N` parameters (the SQLite side rewrites them
//! to `?N`); timestamps are unix milliseconds; JSON documents are TEXT. Everything a user
//! typed is a bound parameter, never part of the SQL text.
#![forbid(unsafe_code)]

mod auth;
mod compliance;
mod counts;
mod dashboard;
mod driver;
mod error;
mod ingest;
mod jobs;
mod location;
mod migrate;
mod notify;
mod reads;
mod rematch;
#[cfg(feature = "test-support")]
pub mod testing;
mod triage;

use std::sync::Arc;

pub use auth::{Principal, PrincipalKind, Scope, TeamInfo, TokenInfo, UserInfo};
pub use compliance::{AssetCompliance, ComplianceSummary, StoredMisconfig};
pub use counts::SeverityCounts;
pub use dashboard::{
    LayerSummary, MttrDay, PriorityFinding, SessionInfo, VersionDiff, Window, ADMIN_USER,
    EVENT_COUNT_CAP,
};
pub use driver::{Backend, Value};
pub use error::{Result, StoreError};
pub use ingest::{
    idempotency_key, ComponentInput, EventKind, FindingEvent, FindingInput, IngestDocument,
    IngestOutcome, MatchKeyInput, OwnershipLabels, MAX_MISCONFIGS_PER_VERSION,
};
pub use jobs::{Job, JobState};
pub use location::DatabaseLocation;
pub use migrate::SCHEMA_VERSION;
pub use notify::{Delivery, DeliveryState, NotificationRule};
pub use reads::{
    day_of, AffectedAsset, AssetFilter, AssetSort, AssetSummary, AuditEntry, FindingFilter,
    FindingRow, FindingSort, Page, Paged, Snapshot, VersionMetrics, VersionSummary,
};
pub use rematch::{StoredComponent, VersionRematch};
pub use triage::{TriageEntry, TriageHistoryEntry, TriageInput, TriageState, VexStatement};

use driver::{Engine, SharedEngine};

/// The server's database handle: clone it freely, call it from blocking threads.
#[derive(Clone)]
pub struct Store {
    engine: SharedEngine,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .field("target", &self.engine.target())
            .finish()
    }
}

impl Store {
    /// Opens (creating a SQLite file when missing) and migrates the database. Fails with
    /// [`StoreError::SchemaTooNew`] when a newer bulwark wrote it.
    pub fn open(location: &DatabaseLocation) -> Result<Store> {
        let engine = match location {
            DatabaseLocation::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        return Err(StoreError::BadLocation {
                            location: path.display().to_string(),
                            reason: format!(
                                "directory {} does not exist; create it or pick another --data-dir",
                                dir.display()
                            ),
                        });
                    }
                }
                Engine::Sqlite(Box::new(driver::SqliteBackend::open(path)?))
            }
            DatabaseLocation::Postgres(url) => Engine::Postgres(driver::PgBackend::open(url)?),
        };
        migrate::migrate(&engine)?;
        Ok(Store {
            engine: Arc::new(engine),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.engine.backend().name()
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.engine.backend()
    }

    /// The database's path or `host:port/db` (never a password), for messages.
    pub fn target(&self) -> &str {
        self.engine.target()
    }

    /// A cheap round trip (for `/readyz`): the schema version.
    pub fn ping(&self) -> Result<i64> {
        self.engine.read(migrate::current_version)
    }

    /// A value of the key/value meta table (e.g. the advisory store fingerprint last rematched).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.engine.read(|c| {
            c.query_opt(
                "SELECT value FROM meta WHERE key = $1",
                &driver::params![key],
            )?
            .map(|r| r.text(0))
            .transpose()
        })
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.engine.write(|c| {
            c.execute(
                "INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                &driver::params![key, value, now_ms()],
            )?;
            Ok(())
        })
    }
}

/// Now, in unix milliseconds (the store's one time unit).
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A random 128-bit UUID (v4), as assets and versions are named in the API.
pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
