//! What a caller asks for: one request type per kind of scan, each with its own settings.
//! Every path, option and credential comes in here; the library reads no environment
//! variable, home directory or working directory of its own.

use std::path::PathBuf;
use std::time::Duration;

use bulwark_image::engine::{EngineOptions, Source};
use bulwark_image::registry::RegistryOptions;
use bulwark_image::{Limits, MinRate, Platform, SourceRef};
use bulwark_policy::{Date, Policy};
use bulwark_vulndb::AgePolicy;

use crate::plan::Scanner;

/// Where advisories are read, and how old they may be.
#[derive(Debug, Clone)]
pub struct AdvisorySettings {
    /// The database directory (`bulwark db`).
    pub db_dir: PathBuf,
    /// Leave out vulnerabilities without a fixed version.
    pub ignore_unfixed: bool,
    pub age: AgePolicy,
}

impl AdvisorySettings {
    /// The database in `db_dir`, with the default age limits.
    pub fn new(db_dir: impl Into<PathBuf>) -> AdvisorySettings {
        AdvisorySettings {
            db_dir: db_dir.into(),
            ignore_unfixed: false,
            age: AgePolicy::default(),
        }
    }
}

/// Secret detection: the rules and the largest file they read.
#[derive(Debug, Clone)]
pub struct SecretSettings {
    /// A YAML or JSON rules file (extra rules, allowlist); `None`: the built-in rules.
    pub rules: Option<PathBuf>,
    /// Files larger than this are not scanned for secrets (a warning says so).
    pub max_file_bytes: u64,
    /// Secrets found with less confidence than this are not reported.
    pub min_confidence: bulwark_types::Confidence,
}

impl Default for SecretSettings {
    fn default() -> Self {
        SecretSettings {
            rules: None,
            max_file_bytes: 10 << 20,
            min_confidence: bulwark_secrets::DEFAULT_MIN_CONFIDENCE,
        }
    }
}

/// The gates, ignores, VEX and licence policy a scan's findings are judged by.
#[derive(Debug, Clone)]
pub struct PolicySettings {
    pub policy: Policy,
    /// The gates are the ones a bare `--exit-code N` implies: they judge only what the
    /// chosen scanners report.
    pub legacy_gate: bool,
    /// The day ignore rules expire against.
    pub today: Date,
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            policy: Policy::default(),
            legacy_gate: false,
            today: Date::today(),
        }
    }
}

/// The settings an image and a directory scan share.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// What to report; `None`: sbom, secret and misconfig, plus vuln when the advisory
    /// database exists. Each scanner runs what it needs ([`crate::ScanPlan`]).
    pub scanners: Option<Vec<Scanner>>,
    /// Keep the package list in the report even when `sbom` is not chosen (an SBOM output
    /// format refers to its components).
    pub keep_packages: bool,
    /// Caps on layer sizes and expansion.
    pub limits: Limits,
    /// Most bytes of file contents held at once across all layers.
    pub memory_budget: u64,
    /// The per-layer cache directory; `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    pub secrets: SecretSettings,
    /// `None`: no vulnerability matching is possible; asking for it is then an error.
    pub advisories: Option<AdvisorySettings>,
    pub policy: PolicySettings,
    /// Judge each vulnerability finding's reachability from the entrypoint (`bulwark-reach`).
    pub reachability: bool,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            scanners: None,
            keep_packages: false,
            limits: Limits::default(),
            memory_budget: 768 << 20,
            cache_dir: None,
            secrets: SecretSettings::default(),
            advisories: None,
            policy: PolicySettings::default(),
            reachability: false,
        }
    }
}

/// How images are reached: registries, local engines, and the order a bare name is looked
/// for in.
#[derive(Debug, Clone)]
pub struct ImageSources {
    pub registry: RegistryOptions,
    pub engine: EngineOptions,
    /// Where a bare name is looked for, in order.
    pub order: Vec<Source>,
}

impl ImageSources {
    /// No credentials, no Docker config, no engine sockets: enough for local layouts,
    /// archives and directories, and anonymous registries. Reads no environment.
    pub fn offline() -> ImageSources {
        let timeout = Duration::from_secs(30);
        ImageSources {
            registry: RegistryOptions {
                insecure: false,
                ca_certs: Vec::new(),
                credentials: None,
                docker_config_dir: None,
                connect_timeout: timeout,
                read_timeout: timeout,
                request_timeout: timeout,
                min_rate: MinRate::default(),
                retries: 3,
            },
            engine: EngineOptions {
                docker_host: None,
                podman_host: None,
                timeout: Duration::from_secs(300),
                min_rate: MinRate::default(),
            },
            order: vec![Source::Remote],
        }
    }
}

/// Scan one container image.
#[derive(Debug, Clone)]
pub struct ImageScan {
    pub reference: SourceRef,
    /// The platform picked from a multi-platform index.
    pub platform: Platform,
    pub sources: ImageSources,
    /// A public key (PEM) the image's cosign signature must verify with; the scan then reads
    /// the verified digest.
    pub require_signature: Option<PathBuf>,
    pub settings: ScanSettings,
}

impl ImageScan {
    /// An image at `reference` (`oci:DIR`, a layout directory, an archive...), default
    /// settings, and the advisory database in `db_dir`.
    pub fn new(
        reference: &str,
        db_dir: impl Into<PathBuf>,
    ) -> Result<ImageScan, bulwark_image::ImageError> {
        Ok(ImageScan {
            reference: SourceRef::parse(reference)?,
            platform: Platform::host(),
            sources: ImageSources::offline(),
            require_signature: None,
            settings: ScanSettings {
                advisories: Some(AdvisorySettings::new(db_dir)),
                ..ScanSettings::default()
            },
        })
    }
}

/// Scan a directory: a source tree or an unpacked root filesystem.
#[derive(Debug, Clone)]
pub struct FsScan {
    pub root: PathBuf,
    pub settings: ScanSettings,
}

/// Report on an SBOM's packages as if they had been scanned.
#[derive(Debug, Clone)]
pub struct SbomScan {
    /// A CycloneDX 1.4-1.6 or SPDX 2.x JSON file.
    pub file: PathBuf,
    /// A larger file is refused before it is read.
    pub max_bytes: u64,
    /// `None`: only list the packages (a vulnerability gate then is an error).
    pub advisories: Option<AdvisorySettings>,
    /// Matching was asked for: a missing database is an error, not a note.
    pub advisories_required: bool,
    pub policy: PolicySettings,
}

/// Check configuration files and host settings for misconfigurations.
#[derive(Debug, Clone, Default)]
pub struct ConfigScan {
    /// Files or directories (kinds are detected).
    pub paths: Vec<PathBuf>,
    /// Directories of Rego policies.
    pub rego: Vec<PathBuf>,
    /// Rego packages whose rules apply (empty: `main`).
    pub namespaces: Vec<String>,
    /// A root filesystem whose Docker host settings are checked.
    pub host_root: Option<PathBuf>,
    pub policy: PolicySettings,
}
