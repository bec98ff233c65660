//! What a team has decided about a scan: its settings and its policy.
//!
//! Settings: [`settings::SETTINGS`] declares every setting once (its `bulwark.yaml` key, flag
//! id, environment variable, type, default and doc line); [`settings::Sources`] resolves them
//! flag > environment > `bulwark.yaml` > default in one routine, with the environment passed
//! in (never read here) and config errors placed at `file:line:column` from the YAML parser's
//! spans ([`yaml`]). The same table generates `docs/configuration.md`.
//!
//! Policy: [`Policy::apply`] takes a finished [`bulwark_report::ScanReport`] and runs the
//! licence policy ([`LicensePolicy`]), VEX statements ([`vex::VexSet`]), ignore rules
//! ([`IgnoreRule`], from `bulwark.yaml` or `.bulwarkignore`) and finally the gates
//! ([`GateConfig`]); [`build::policy`] builds it from resolved settings and flags.
//!
//! Dependency direction: the report model is data. This crate reads findings from
//! `bulwark-report`'s model and records suppressions, ignore-rule states and gate verdicts
//! onto it (the record types live in the model); `bulwark-report` never depends on this crate,
//! so renderers only read what the model holds.
#![forbid(unsafe_code)]

mod apply;
pub mod build;
pub mod date;
pub mod gate;
pub mod ignore;
pub mod license;
pub mod purl_match;
pub mod reference;
pub mod settings;
pub mod size;
pub mod verdict;
pub mod vex;
pub mod yaml;

pub use apply::{Policy, PolicyWarning};
pub use date::Date;
pub use gate::{GateConfig, SeverityFilter, SeverityGate, VulnGate};
pub use ignore::{parse_ignore_file, IgnoreRule, Subject};
pub use license::{LicenseClass, LicensePolicy, UnknownLicense};
