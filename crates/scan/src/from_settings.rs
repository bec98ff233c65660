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

/// What the caller looked up in its own environment for an image scan. (No `Default`:
/// `EngineOptions::default()` reads the environment, which only the caller may do.)
#[derive(Debug, Clone)]
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
                    min_confidence: s
                        .text("secret_min_confidence")
                        .and_then(bulwark_types::Confidence::from_name)
                        .unwrap_or(defaults.secrets.min_confidence),
                },
                advisories: Some(advisories(s, host.cache_dir.as_deref())?),
                policy,
                reachability: s.bool("reachability"),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bulwark_policy::settings::{ConfigFile, Sources};

    use super::*;

    fn settings(yaml: &str, flags: &[(&str, &str)]) -> Settings {
        let file = ConfigFile::parse(yaml, "bulwark.yaml", Path::new(".")).unwrap();
        let flags: BTreeMap<String, Vec<String>> = flags
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect();
        let env = |_: &str| None;
        let sources = Sources {
            flags: &flags,
            env: &env,
            file: &file,
        };
        sources.resolve_all().unwrap()
    }

    fn host(s: &Settings, cache_dir: Option<&str>) -> Host {
        Host {
            cache_dir: cache_dir.map(PathBuf::from),
            engine: EngineOptions::default(),
            registry: registry_options(s, None, None).unwrap(),
        }
    }

    /// File values, flags and table defaults all reach the typed request.
    #[test]
    fn settings_reach_the_image_request() {
        let yaml = "max-layer-size: 1M\nscanners: [secret]\nregistry:\n  timeout: 5\n";
        let s = settings(yaml, &[("max_memory", "2M"), ("source", "podman")]);
        let h = host(&s, Some("/c"));
        assert_eq!(h.registry.connect_timeout, Duration::from_secs(5));
        assert_eq!(h.registry.retries, 3);
        let policy = PolicySettings::default();
        let scan = ImageScan::from_settings("oci:x", &s, h, policy, false).unwrap();
        let settings = &scan.settings;
        assert_eq!(settings.limits.max_layer_bytes, 1 << 20);
        assert_eq!(settings.limits.max_ratio, 250);
        assert_eq!(settings.memory_budget, 2 << 20);
        assert_eq!(settings.cache_dir, Some(PathBuf::from("/c/bulwark")));
        assert_eq!(settings.scanners, Some(vec![Scanner::Secret]));
        assert_eq!(
            scan.sources.order,
            vec!["podman".parse::<Source>().unwrap()]
        );
        let db = settings.advisories.as_ref().unwrap();
        assert_eq!(db.db_dir, PathBuf::from("/c/bulwark/db"));
        assert_eq!(db.age.fail_after_days, 90);
    }

    /// Without a cache directory to default to, the error says which setting to give.
    #[test]
    fn no_cache_directory_is_an_error_naming_the_flags() {
        let s = settings("", &[]);
        let h = host(&s, None);
        let err = ImageScan::from_settings("oci:x", &s, h, PolicySettings::default(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--cache-dir DIR or --no-cache"), "{err}");
        let s = settings("no-cache: true\ndb-dir: /db\n", &[]);
        let h = host(&s, None);
        let scan = ImageScan::from_settings("oci:x", &s, h, PolicySettings::default(), false);
        assert_eq!(scan.unwrap().settings.cache_dir, None);
    }

    #[test]
    fn update_options_take_the_settings_over_the_defaults() {
        let s = settings(
            "db:\n  no-kev: true\n  max-download-mib: 3\n",
            &[("osv_url", "http://m")],
        );
        let o = update_options(&s, UpdateOptions::default());
        assert_eq!(o.kev_url, None);
        assert_eq!(o.osv_base_url, "http://m");
        assert_eq!(o.max_download_bytes, 3 << 20);
        assert_eq!(o.ecosystems, UpdateOptions::default().ecosystems);
    }

    #[test]
    fn a_missing_ca_certificate_is_refused() {
        let s = settings("registry:\n  ca-certs: [/nonexistent/ca.pem]\n", &[]);
        let err = registry_options(&s, None, None).unwrap_err().to_string();
        assert!(err.contains("no such file"), "{err}");
    }
}
