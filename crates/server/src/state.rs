//! The server's configuration and the state every handler receives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bulwark_store::Store;

use crate::metrics::Metrics;

/// The default address: loopback only, so a first start exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
/// Largest request body (an SBOM of 100k components is ~60 MiB of JSON).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 256 * 1024 * 1024;
/// Longest a request may take before it is answered 408 (a large SBOM ingest included).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Requests per second per token (or per address without one), and the burst allowed.
pub const DEFAULT_RATE_LIMIT: u32 = 50;
pub const DEFAULT_RATE_BURST: u32 = 200;
/// How often the advisory store's fingerprint is compared (an import is noticed within this).
pub const DEFAULT_REMATCH_POLL: Duration = Duration::from_secs(2);
/// Image scans run at once by the server's workers.
pub const DEFAULT_SCAN_WORKERS: usize = 2;

/// A certificate chain and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything `bulwark server` is started with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Holds the SQLite database (unless `database` is given) and the advisory store.
    pub data_dir: PathBuf,
    /// `postgres://...` or a SQLite path; `None`: `<data_dir>/bulwark.sqlite`.
    pub database: Option<String>,
    pub max_body_size: u64,
    pub request_timeout: Duration,
    pub rate_limit: u32,
    pub rate_burst: u32,
    pub tls: Option<TlsFiles>,
    pub rematch_poll: Duration,
    pub scan_workers: usize,
    /// The first admin token (`BULWARK_ADMIN_TOKEN`); generated when absent and the database
    /// has none.
    pub admin_token: Option<String>,
    /// The config file whose `server:` section (notification rules) is read.
    pub config_file: Option<PathBuf>,
    /// Which image labels name an asset's team and owner.
    pub ownership: bulwark_store::OwnershipLabels,
    /// Base URL of a dashboard, for links in notifications.
    pub dashboard_url: Option<String>,
    /// The scheduled advisory update (`--db-update-every`); `None`: only imports and
    /// `bulwark db update --db-dir` change the advisory store.
    pub advisory_update: Option<AdvisoryUpdate>,
    /// The dashboard's `admin` user's password (`BULWARK_ADMIN_PASSWORD`): set at every start
    /// when given (the user is created when missing).
    pub admin_password: Option<String>,
}

/// Download advisories every `every` with `options` (sources, mirrors, size cap).
#[derive(Debug, Clone)]
pub struct AdvisoryUpdate {
    pub every: Duration,
    pub options: bulwark_vulndb::UpdateOptions,
}

impl ServerConfig {
    /// The defaults, with the data in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            data_dir,
            database: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_burst: DEFAULT_RATE_BURST,
            tls: None,
            rematch_poll: DEFAULT_REMATCH_POLL,
            scan_workers: DEFAULT_SCAN_WORKERS,
            admin_token: None,
            config_file: None,
            ownership: bulwark_store::OwnershipLabels::default(),
            dashboard_url: None,
            advisory_update: None,
            admin_password: None,
        }
    }

    /// The server's advisory store (`bulwark db update --db-dir` / `db import --db-dir` fill it).
    pub fn advisory_dir(&self) -> PathBuf {
        self.data_dir.join("advisories")
    }

    /// Where rematch keeps the advisory store it last matched against (hard links), to diff
    /// the next one with.
    pub fn previous_advisory_dir(&self) -> PathBuf {
        self.data_dir.join("advisories.previous")
    }

    /// The database: `--database`, else `<data_dir>/bulwark.sqlite`.
    pub fn database_location(&self) -> String {
        match &self.database {
            Some(db) => db.clone(),
            None => self.data_dir.join("bulwark.sqlite").display().to_string(),
        }
    }
}

/// What every handler gets (cheap to clone: everything is shared).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    /// The database (synchronous: call it through [`crate::error::blocking`]).
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Wakes the background workers when there is work (a queued scan, a delivery).
    pub wake: Arc<Wake>,
    /// Notification rules from the config file (`server.notifications`), besides the stored ones.
    pub file_rules: Arc<Vec<bulwark_notify::Rule>>,
    /// Advisory imports, updates and the rematch poller hold it for writing (one advisory
    /// store writer at a time); an ingest holds it for reading from matching to commit, so a
    /// rematch never runs between an ingest's match and its commit (the rematch would not
    /// see the new version's components and the ingest would have matched the old store:
    /// the new findings would be lost until the next advisory change).
    pub advisory_lock: Arc<tokio::sync::RwLock<()>>,
    /// Registry credentials of queued scans (memory only).
    pub job_secrets: Arc<crate::job_secrets::JobSecrets>,
}

/// Wake-ups for the background workers, so a queued job does not wait for the next poll.
#[derive(Debug, Default)]
pub struct Wake {
    pub jobs: tokio::sync::Notify,
    pub deliveries: tokio::sync::Notify,
    pub rematch: tokio::sync::Notify,
}
