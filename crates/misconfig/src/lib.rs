//! Misconfiguration checks: everything bulwark says about how a container is configured rather
//! than what it contains.
//!
//! This crate owns the check catalogue ([`catalog`]: one metadata file per check under
//! `checks/<kind>/<ID>.yaml` with its title, severity, remediation, references and compliance
//! mappings), the parsers that keep line numbers (Dockerfiles, YAML manifests, compose files,
//! `daemon.json`), the built-in checks for each kind, the Rego engine for user policies, and the
//! compliance reports that group checks by control. Every check, built-in or Rego, yields the
//! one finding model, [`bulwark_types::Misconfiguration`], with file, line and column. Inputs are
//! bytes already in memory (files the user named, or files the image walker handed over), so
//! nothing here touches an image or the network.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod compliance;
pub mod compose;
pub mod daemon;
pub mod detect;
pub mod dockerfile;
pub mod host;
pub mod image_config;
pub mod in_image;
pub mod kubernetes;
pub mod rego;
mod scan;
mod source;
pub mod yaml;

pub use catalog::{catalog, CheckKind, CheckMeta, Hit};
pub use detect::FileKind;
pub use scan::{load_paths, scan_files, scan_paths, scan_paths_with, ConfigScan};
pub use source::{FileError, SourceFile};
