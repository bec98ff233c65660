//! Resolved settings ([`bulwark_policy::settings::Settings`]: flag > environment >
//! `bulwark.yaml` > default) turned into typed requests, the mapping every front end shares.
//! What only the caller may look up (the user's cache directory, engine addresses from its
//! environment, credentials, Docker's config directory) comes in as [`Host`]; nothing here
//! reads the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bulwark_image::engine::{EngineOptions, Source};
use bulwark_image::registry::{Credentials, RegistryOptions};
use bulwark_image::{Limits, MinRate, Platform, SourceRef};
use bulwark_policy::build::Resolved;
use bulwark_policy::settings::Settings;
use bulwark_policy::Date;
use bulwark_vulndb::{AgePolicy, UpdateOptions};

use crate::request::{
    AdvisorySettings, ImageScan, ImageSources, PolicySettings, SbomScan, ScanSettings,
    SecretSettings,
};
use crate::{Error, Result, Scanner};

/// What the caller looked up in its own environment for an image scan.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// The user's cache directory: the layer cache (`bulwark/`) and the advisory database
    /// (`bulwark/db`) live under it unless a setting names them. `None`: none is known.
    pub cache_dir: Option<PathBuf>,
    /// Engine options before the settings (addresses from `DOCKER_HOST`, `CONTAINER_HOST`).
    pub engine: EngineOptions,
    /// Registry options, from [`registry_options`].
    pub registry: RegistryOptions,
}

impl From<Resolved> for PolicySettings {
    fn from(resolved: Resolved) -> PolicySettings {
        PolicySettings {
            policy: resolved.policy,
            legacy_gate: resolved.legacy_gate,
            today: Date::today(),
        }
    }
}

impl ImageScan {
    /// The scan of `reference` the settings describe; `keep_packages` for output formats
    /// that list them.
    pub fn from_settings(
        reference: &str,
        s: &Settings,
        host: Host,
        policy: PolicySettings,
        keep_packages: bool,
    ) -> Result<ImageScan> {
        let platform = match s.text("platform") {
            Some(p) => p.parse::<Platform>().map_err(Error::Settings)?,
            None => Platform::host(),
        };
        let cache_dir = match (s.path("cache_dir"), s.bool("no_cache")) {
            (_, true) => None,
            (Some(d), false) => Some(d.to_path_buf()),
            (None, false) => Some(
                host.cache_dir
                    .as_deref()
                    .ok_or_else(|| {
                        Error::Settings(
                            "no user cache directory is known here; pass --cache-dir DIR or --no-cache"
                                .into(),
                        )
                    })?
                    .join("bulwark"),
            ),
        };
        let engine = EngineOptions {
            docker_host: s
                .text("docker_host")
                .map(str::to_string)
                .or(host.engine.docker_host.clone()),
            podman_host: s
                .text("podman_host")
                .map(str::to_string)
                .or(host.engine.podman_host.clone()),
            timeout: Duration::from_secs(s.uint("engine_timeout").unwrap_or(300).max(1)),
            ..host.engine
        };
        let order = match s.sources("source") {
            Some(order) if !order.is_empty() => order.to_vec(),
            _ => Source::DEFAULT.to_vec(),
        };
        let defaults = ScanSettings::default();
        Ok(ImageScan {
            reference: SourceRef::parse(reference)?,
            platform,
            sources: ImageSources {
                registry: host.registry,
                engine,
                order,
            },
            require_signature: s.path("require_signature").map(Path::to_path_buf),
            settings: ScanSettings {
                scanners: s.texts("scanners").map(|words| {
                    words
                        .iter()
                        .filter_map(|w| scanner(&w.to_ascii_lowercase()))
                        .collect()
                }),
                keep_packages,
                limits: Limits {
                    max_layer_bytes: s
                        .uint("max_layer_size")
                        .unwrap_or(defaults.limits.max_layer_bytes),
                    max_ratio: s
                        .uint("max_layer_ratio")
                        .unwrap_or(defaults.limits.max_ratio),
                    ..Limits::default()
                },
                memory_budget: s.uint("max_memory").unwrap_or(defaults.memory_budget),
                cache_dir,
                secrets: SecretSettings {
                    rules: s.path("secret_config").map(Path::to_path_buf),
                    max_file_bytes: s
                        .uint("secret_max_file_size")
                        .unwrap_or(defaults.secrets.max_file_bytes),
                },
                advisories: Some(advisories(s, host.cache_dir.as_deref())?),
                policy,
            },
        })
    }
}

impl SbomScan {
    /// The scan of the SBOM `file` the settings describe; `cache_dir` as in [`Host`].
    pub fn from_settings(
        file: PathBuf,
        s: &Settings,
        cache_dir: Option<&Path>,
        policy: PolicySettings,
    ) -> Result<SbomScan> {
        Ok(SbomScan {
            file,
            max_bytes: s.uint("max_sbom_size").unwrap_or(2 << 30),
            advisories: (!s.bool("no_vuln"))
                .then(|| advisories(s, cache_dir))
                .transpose()?,
            advisories_required: false,
            policy,
        })
    }
}

fn scanner(word: &str) -> Option<Scanner> {
    match word {
        "sbom" => Some(Scanner::Sbom),
        "secret" => Some(Scanner::Secret),
        "vuln" => Some(Scanner::Vuln),
        "misconfig" => Some(Scanner::Misconfig),
        _ => None,
    }
}

fn advisories(s: &Settings, cache_dir: Option<&Path>) -> Result<AdvisorySettings> {
    let age = AgePolicy::default();
    Ok(AdvisorySettings {
        db_dir: db_dir(s.path("db_dir"), cache_dir)?,
        ignore_unfixed: s.bool("ignore_unfixed"),
        age: AgePolicy {
            warn_after_days: s.int("db_warn_age").unwrap_or(age.warn_after_days),
            fail_after_days: s.int("db_max_age").unwrap_or(age.fail_after_days),
        },
    })
}

/// The database directory: the `db_dir` setting, or `bulwark/db` under the user's cache
/// directory.
pub fn db_dir(given: Option<&Path>, cache_dir: Option<&Path>) -> Result<PathBuf> {
    match (given, cache_dir) {
        (Some(d), _) => Ok(d.to_path_buf()),
        (None, Some(c)) => Ok(c.join("bulwark").join("db")),
        (None, None) => Err(Error::Settings(
            "no cache directory on this system: pass --db-dir or set BULWARK_DB_DIR".into(),
        )),
    }
}

/// Registry options from the settings, with the credentials and Docker config directory the
/// caller found.
pub fn registry_options(
    s: &Settings,
    credentials: Option<Credentials>,
    docker_config_dir: Option<PathBuf>,
) -> Result<RegistryOptions> {
    let ca_certs = s.paths("ca_certs").unwrap_or_default().to_vec();
    if let Some(ca) = ca_certs.iter().find(|ca| !ca.is_file()) {
        return Err(Error::Settings(format!(
            "--ca-cert {}: no such file (give a PEM CA certificate)",
            ca.display()
        )));
    }
    let timeout = Duration::from_secs(s.uint("registry_timeout").unwrap_or(30).max(1));
    Ok(RegistryOptions {
        insecure: s.bool("insecure"),
        ca_certs,
        credentials,
        docker_config_dir,
        connect_timeout: timeout,
        read_timeout: timeout,
        // The one setting bounds both each read and the whole exchange: a manifest or token
        // exchange ends within it, stalled or trickled.
        request_timeout: timeout,
        min_rate: MinRate {
            bytes_per_sec: s
                .uint("registry_min_rate")
                .unwrap_or(MinRate::default().bytes_per_sec),
            ..MinRate::default()
        },
        retries: s
            .uint("registry_retries")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(3),
    })
}

/// `bulwark db update`'s options: the settings over `base` (the caller's defaults).
pub fn update_options(s: &Settings, mut base: UpdateOptions) -> UpdateOptions {
    if let Some(ecosystems) = s.texts("ecosystems").filter(|e| !e.is_empty()) {
        base.ecosystems = ecosystems.to_vec();
    }
    if let Some(url) = s.text("osv_url") {
        base.osv_base_url = url.to_string();
    }
    if let Some(url) = s.text("kev_url") {
        base.kev_url = Some(url.to_string());
    }
    if let Some(url) = s.text("epss_url") {
        base.epss_url = Some(url.to_string());
    }
    if s.bool("no_kev") {
        base.kev_url = None;
    }
    if s.bool("no_epss") {
        base.epss_url = None;
    }
    base.max_download_bytes = s
        .uint("max_download_mib")
        .unwrap_or(2048)
        .saturating_mul(1 << 20);
    base
}
