//! Resolved settings (flags > environment > bulwark.yaml > defaults, see config.rs) turned
//! into the library's requests. Everything the library must not look up itself (home and
//! cache directories, `DOCKER_HOST`, Docker's config, standard input) is looked up here.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_image::engine::{EngineOptions, Source};
use bulwark_image::registry::{default_docker_config_dir, Credentials, RegistryOptions};
use bulwark_image::{Limits, Platform, SourceRef};
use bulwark_scan::{
    AdvisorySettings, ImageScan, ImageSources, PolicySettings, SbomScan, ScanSettings, Scanner,
    SecretSettings,
};

use crate::cli::{ImageArgs, RegistryArgs, SbomArgs, ScannerArg, VulnArgs};
use crate::config::Resolved;

/// An image (or `dir:`) scan request; `keep_packages` for output formats that list them.
pub fn image(args: &ImageArgs, resolved: Resolved, keep_packages: bool) -> Result<ImageScan> {
    let reference = SourceRef::parse(&args.reference)?;
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>().map_err(anyhow::Error::msg)?,
        None => Platform::host(),
    };
    let cache_dir = match (&args.cache_dir, args.no_cache) {
        (_, true) => None,
        (Some(d), false) => Some(d.clone()),
        (None, false) => Some(
            dirs::cache_dir()
                .context(
                    "no user cache directory is known here; pass --cache-dir DIR or --no-cache",
                )?
                .join("bulwark"),
        ),
    };
    let engine_defaults = EngineOptions::default();
    let engine = EngineOptions {
        docker_host: args
            .engine
            .docker_host
            .clone()
            .or(engine_defaults.docker_host.clone()),
        podman_host: args
            .engine
            .podman_host
            .clone()
            .or(engine_defaults.podman_host.clone()),
        timeout: Duration::from_secs(args.engine.engine_timeout.max(1)),
        ..engine_defaults
    };
    let order = if args.engine.source.is_empty() {
        Source::DEFAULT.to_vec()
    } else {
        args.engine.source.clone()
    };
    Ok(ImageScan {
        reference,
        platform,
        sources: ImageSources {
            registry: registry_options(&args.registry)?,
            engine,
            order,
        },
        require_signature: args.registry.require_signature.clone(),
        settings: ScanSettings {
            scanners: args
                .scanners
                .as_ref()
                .map(|s| s.iter().map(|&s| scanner(s)).collect()),
            keep_packages,
            limits: Limits {
                max_layer_bytes: args.max_layer_size,
                max_ratio: args.max_layer_ratio,
                ..Limits::default()
            },
            memory_budget: args.max_memory,
            cache_dir,
            secrets: SecretSettings {
                rules: args.secret_config.clone(),
                max_file_bytes: args.secret_max_file_size,
            },
            advisories: Some(advisories(&args.vuln)?),
            policy: policy(resolved),
        },
    })
}

pub fn sbom(args: &SbomArgs, resolved: Resolved) -> Result<SbomScan> {
    Ok(SbomScan {
        file: args.file.clone(),
        max_bytes: args.max_sbom_size,
        advisories: (!args.no_vuln)
            .then(|| advisories(&args.vuln))
            .transpose()?,
        advisories_required: false,
        policy: policy(resolved),
    })
}

pub fn policy(resolved: Resolved) -> PolicySettings {
    PolicySettings {
        policy: resolved.policy,
        legacy_gate: resolved.legacy_gate,
        today: crate::config::today(),
    }
}

fn scanner(s: ScannerArg) -> Scanner {
    match s {
        ScannerArg::Sbom => Scanner::Sbom,
        ScannerArg::Secret => Scanner::Secret,
        ScannerArg::Vuln => Scanner::Vuln,
        ScannerArg::Misconfig => Scanner::Misconfig,
    }
}

fn advisories(args: &VulnArgs) -> Result<AdvisorySettings> {
    Ok(AdvisorySettings {
        db_dir: db_dir(args.db_dir.clone())?,
        ignore_unfixed: args.ignore_unfixed,
        age: bulwark_vulndb::AgePolicy {
            warn_after_days: args.db_warn_age,
            fail_after_days: args.db_max_age,
        },
    })
}

/// The database directory: `--db-dir`, `$BULWARK_DB_DIR`, or `<cache dir>/bulwark/db`.
pub fn db_dir(arg: Option<PathBuf>) -> Result<PathBuf> {
    match arg {
        Some(d) => Ok(d),
        None => dirs::cache_dir()
            .map(|d| d.join("bulwark").join("db"))
            .context("no cache directory on this system: pass --db-dir or set BULWARK_DB_DIR"),
    }
}

/// Credentials: `--username` with `--password-stdin` (or `BULWARK_REGISTRY_PASSWORD`);
/// otherwise Docker's `config.json` (`$DOCKER_CONFIG`).
pub fn registry_options(args: &RegistryArgs) -> Result<RegistryOptions> {
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let trimmed = text.trim_end_matches(['\r', '\n']).to_string();
        if trimmed.is_empty() {
            bail!("--password-stdin read an empty password");
        }
        Some(trimmed)
    } else {
        std::env::var("BULWARK_REGISTRY_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
    };
    let credentials = match (&args.username, password) {
        (Some(user), Some(pass)) => Some(Credentials::basic(user.clone(), pass)),
        (Some(_), None) => bail!(
            "--username needs a password: pass --password-stdin (e.g. `echo $TOKEN | bulwark image REF --username USER --password-stdin`) or set BULWARK_REGISTRY_PASSWORD"
        ),
        (None, Some(_)) if args.password_stdin => {
            bail!("--password-stdin needs --username (or BULWARK_REGISTRY_USERNAME)")
        }
        (None, _) => None,
    };
    for ca in &args.ca_certs {
        if !ca.is_file() {
            bail!(
                "--ca-cert {}: no such file (give a PEM CA certificate)",
                ca.display()
            );
        }
    }
    let timeout = Duration::from_secs(args.registry_timeout.max(1));
    Ok(RegistryOptions {
        insecure: args.insecure,
        ca_certs: args.ca_certs.clone(),
        credentials,
        docker_config_dir: default_docker_config_dir(),
        connect_timeout: timeout,
        read_timeout: timeout,
        // The one flag bounds both each read and the whole exchange: a manifest or token
        // exchange ends within it, stalled or trickled.
        request_timeout: timeout,
        min_rate: bulwark_image::MinRate {
            bytes_per_sec: args.registry_min_rate,
            ..bulwark_image::MinRate::default()
        },
        retries: args.registry_retries,
    })
}
