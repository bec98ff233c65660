//! The scan pipeline as a library: what the `bulwark` command, a server or a cluster scanner
//! call to get a typed report.
//!
//! This crate owns the pipeline from request to judged, redacted report: the typed requests
//! ([`ImageScan`], [`FsScan`], [`SbomScan`], [`ConfigScan`]) and their settings, which
//! scanners run ([`ScanPlan`]: each pulls in what it needs, a gate runs what it judges), the
//! walk, assembly, vulnerability matching against the advisory database ([`advisories`]),
//! policy and redaction, uploaded SBOMs and reports read and matched server-side
//! ([`inventory`]), progress as [`Event`]s to an [`EventSink`], cancellation by a
//! [`CancelToken`], cosign signatures ([`signature`]) and whole-registry scans
//! ([`registry`]). It reads only the paths and options a request names (no environment, no
//! home or working directory) and prints nothing; rendering a report is `bulwark-report`'s,
//! resolving flags, variables and `bulwark.yaml` is `bulwark-policy`'s, and the resolved
//! settings become a request through [`from_settings`] (with what only the caller may look up,
//! a [`Host`]).
//!
//! Scanning an OCI layout and printing its vulnerability ids:
//!
//! ```
//! use bulwark_scan::{CancelToken, ImageScan, NoopSink};
//!
//! let db = std::env::temp_dir().join(format!("bulwark-doc-db-{}", std::process::id()));
//! let advisories = [std::path::PathBuf::from("../vulndb/tests/data")];
//! bulwark_vulndb::import_paths(&db, &advisories, &bulwark_vulndb::NoProgress)?;
//!
//! let scan = ImageScan::new("oci:../../examples/debian-mini", &db)?;
//! let outcome = scan.run(&NoopSink, &CancelToken::new())?;
//! for finding in &outcome.report.vulnerabilities {
//!     println!("{} {}", finding.id, finding.package.name);
//! }
//! # assert!(!outcome.report.vulnerabilities.is_empty());
//! # std::fs::remove_dir_all(&db)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod advisories;
mod config_scan;
mod error;
mod events;
pub mod from_settings;
pub mod inventory;
mod pipeline;
mod plan;
pub mod registry;
mod request;
pub mod signature;

pub use config_scan::ConfigOutcome;
pub use error::{error_text, Error, Result};
pub use events::{
    CancelToken, Event, EventSink, NoopSink, NoticeLevel, Phase, RecordedEvent, RecordingSink,
};
pub use from_settings::Host;
pub use pipeline::ScanOutcome;
pub use plan::{ScanPlan, Scanner};
pub use request::{
    AdvisorySettings, ConfigScan, FsScan, ImageScan, ImageSources, PolicySettings, SbomScan,
    ScanSettings, SecretSettings,
};
