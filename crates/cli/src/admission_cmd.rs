//! `bulwark admission`: the validating admission webhook. Builds the policy once from
//! bulwark.yaml and the flags (as the scans do), wires the image lookups (registry signatures,
//! the bulwark server's stored results) and hands both to `bulwark_server::admission`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_image::registry::{fetch_manifest, ImageName, RegistryOptions};
use bulwark_k8s::admission::{
    AdmissionPolicy, AdmissionSection, ImageVerdict, ImageVuln, SignatureState, VulnState,
};
use bulwark_policy::build::LegacyGate;
use bulwark_server::admission::{AdmissionConfig, VerdictSource};
use bulwark_types::Severity;
use clap::ArgMatches;
use serde_json::Value;

pub use crate::cli::AdmissionArgs;

/// Most findings read for one image from the server (10 pages of 1,000).
const MAX_FINDING_PAGES: u64 = 10;

/// The bulwark server's stored results, by image digest.
struct ServerLookup {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl ServerLookup {
    fn findings(&self, digest: &str) -> Result<VulnState, String> {
        let mut vulns = Vec::new();
        for page in 0..MAX_FINDING_PAGES {
            let url = format!(
                "{}/api/v1/digests/{digest}/findings?state=open&limit=1000&offset={}",
                self.url,
                page * 1000
            );
            let mut request = self.agent.get(&url);
            if let Some(token) = &self.token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let mut response = request.call().map_err(|e| format!("{}: {e}", self.url))?;
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .map_err(|e| format!("{}: {e}", self.url))?;
            if status == 404 {
                return Ok(VulnState::Unknown(format!(
                    "{digest} was not uploaded to {}",
                    self.url
                )));
            }
            if status != 200 {
                return Err(format!("{} answered {status}: {text}", self.url));
            }
            let body: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} answered something that is not JSON: {e}", self.url))?;
            let items = body["items"].as_array().cloned().unwrap_or_default();
            vulns.extend(items.iter().map(vuln_of_row));
            let total = body["total"].as_u64().unwrap_or(0);
            if items.is_empty() || vulns.len() as u64 >= total {
                break;
            }
        }
        Ok(VulnState::Known(vulns))
    }
}

/// A finding row of the server's API (`FindingRow`), as the gate reads it.
fn vuln_of_row(row: &Value) -> ImageVuln {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    let id = text("vuln_id");
    let mut ids = vec![id.clone()];
    ids.extend(
        row["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string),
    );
    ImageVuln {
        id,
        ids,
        package: text("package_name"),
        purl: row["purl"].as_str().and_then(|p| p.parse().ok()),
        severity: row["severity"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(Severity::Unknown),
        fixable: row["fixable"].as_bool().unwrap_or(false),
        kev: row["kev"].as_bool().unwrap_or(false),
        epss: row["epss"].as_f64(),
    }
}

/// `--scan-on-miss`: a vulnerability scan of the image through the registry.
struct ScanOnMiss {
    db_dir: std::path::PathBuf,
    cache_dir: Option<std::path::PathBuf>,
    /// One scan at a time: a burst of new images must not start a scan each.
    one_at_a_time: std::sync::Mutex<()>,
}

impl ScanOnMiss {
    fn scan(&self, image: &str, registry: &RegistryOptions) -> Result<VulnState, String> {
        let _one = self.one_at_a_time.lock().unwrap_or_else(|p| p.into_inner());
        let mut scan = bulwark_scan::ImageScan::new(&format!("registry:{image}"), &self.db_dir)
            .map_err(|e| e.to_string())?;
        scan.sources.registry = registry.clone();
        scan.settings.scanners = Some(vec![bulwark_scan::Scanner::Vuln]);
        scan.settings.cache_dir = self.cache_dir.clone();
        let outcome = scan
            .run(&bulwark_scan::NoopSink, &bulwark_scan::CancelToken::new())
            .map_err(|e| {
                format!(
                    "the scan on a miss failed: {}",
                    bulwark_scan::error_text(&e)
                )
            })?;
        Ok(VulnState::Known(
            outcome
                .report
                .vulnerabilities
                .iter()
                .map(ImageVuln::from)
                .collect(),
        ))
    }
}

/// Signatures from the registry, digests from the registry, results from the server (or a
/// scan on a miss).
struct Lookup {
    key: Option<std::path::PathBuf>,
    registry: RegistryOptions,
    server: Option<ServerLookup>,
    scan_on_miss: Option<ScanOnMiss>,
}

/// The digest a reference pins (`repo@sha256:…`).
fn pinned_digest(image: &str) -> Option<String> {
    image
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .filter(|d| d.parse::<bulwark_types::Digest>().is_ok())
}

impl Lookup {
    fn resolve_digest(&self, image: &str) -> Result<String, String> {
        let name = ImageName::parse(image)?;
        let client = self.registry.client_for(&name).map_err(|e| e.to_string())?;
        let manifest = fetch_manifest(&client, &name.repository, &name.reference())
            .map_err(|e| e.to_string())?;
        Ok(manifest.digest.to_string())
    }
}

impl VerdictSource for Lookup {
    fn lookup(&self, image: &str) -> ImageVerdict {
        let mut digest = pinned_digest(image);
        let signature = match &self.key {
            None => SignatureState::Unknown("no signature key is configured".into()),
            Some(key) => match bulwark_scan::signature::verify(image, key, &self.registry) {
                Ok(v) => {
                    digest.get_or_insert_with(|| v.digest.to_string());
                    if v.verified > 0 {
                        SignatureState::Verified
                    } else {
                        SignatureState::Unsigned(v.problems.join("; "))
                    }
                }
                Err(e) => SignatureState::Unknown(e.to_string()),
            },
        };
        let vulnerabilities = match &self.server {
            None => VulnState::Unknown("no --server to look up scan results".into()),
            Some(server) => {
                let digest = match digest.clone() {
                    Some(d) => Ok(d),
                    None => self.resolve_digest(image),
                };
                match digest.and_then(|d| server.findings(&d)) {
                    Ok(state) => state,
                    Err(e) => VulnState::Unknown(e),
                }
            }
        };
        let vulnerabilities = match (vulnerabilities, &self.scan_on_miss) {
            (VulnState::Unknown(why), Some(scan)) => match scan.scan(image, &self.registry) {
                Ok(state) => state,
                Err(e) => VulnState::Unknown(format!("{why}; {e}")),
            },
            (state, _) => state,
        };
        ImageVerdict {
            digest,
            signature,
            vulnerabilities,
        }
    }
}

fn server_lookup(url: &str, settings: &bulwark_policy::settings::Settings) -> Result<ServerLookup> {
    let url = url.trim_end_matches('/').to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("--server {url:?}: give the bulwark server's URL, e.g. https://bulwark.example:8470");
    }
    let ca_certs = settings.paths("ca_certs").unwrap_or(&[]);
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(
            crate::upload::trust_anchors(ca_certs)?,
        )))
        .build();
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .max_redirects(0)
        .tls_config(tls)
        .user_agent(concat!("bulwark-admission/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    Ok(ServerLookup {
        url,
        token: settings
            .text("token")
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string),
        agent,
    })
}

/// The `admission:` section of the config file the settings were read from.
fn admission_section(file: &bulwark_policy::settings::ConfigFile) -> Result<AdmissionSection> {
    if file.name.is_empty() {
        return Ok(AdmissionSection::default());
    }
    let path = if Path::new(&file.name).is_absolute() {
        Path::new(&file.name).to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(&file.name))
            .unwrap_or_else(|_| Path::new(&file.name).to_path_buf())
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", file.name))?;
    AdmissionSection::from_config_text(&text, &file.name, &file.dir).map_err(anyhow::Error::msg)
}

pub fn run(args: AdmissionArgs, m: &ArgMatches) -> Result<u8> {
    let loaded = crate::config::load(m)?;
    let settings = loaded.settings(m)?;
    let mut section = admission_section(&loaded.file)?;
    // A signature CI requires (registry.require-signature) is required at admission too.
    if section.require_signature.is_none() {
        section.require_signature = settings.path("require_signature").map(Path::to_path_buf);
    }
    if let Some(key) = &section.require_signature {
        if !key.is_file() {
            bail!(
                "the signature key {} does not exist; give a PEM public key (admission.require-signature or --require-signature)",
                key.display()
            );
        }
    }
    let resolved = bulwark_policy::build::policy(
        &settings,
        LegacyGate::VulnerabilitiesAndSecrets,
        Path::new("."),
    )?;
    let rego = if args.policy.is_empty() {
        None
    } else {
        let policies = bulwark_misconfig::rego::Policies::load(&args.policy, &args.namespace)
            .map_err(|errors| {
                anyhow::anyhow!(
                    "the Rego policies do not load: {}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
        Some(Arc::new(policies))
    };
    let key = section.require_signature.clone();
    let policy = AdmissionPolicy::new(
        section,
        &resolved.policy.gates,
        resolved.policy.ignores.clone(),
        rego,
    );
    let registry = crate::request::registry_options(&settings, m)?;
    let server = args
        .server
        .as_deref()
        .map(|url| server_lookup(url, &settings))
        .transpose()?;
    let scan_on_miss = if args.scan_on_miss {
        let db_dir = bulwark_scan::from_settings::db_dir(
            settings.path("db_dir"),
            dirs::cache_dir().as_deref(),
        )?;
        if !db_dir.join(bulwark_vulndb::DB_FILE).is_file() {
            bail!(
                "--scan-on-miss needs an advisory database: {} has none (run `bulwark db update --db-dir {}`)",
                db_dir.display(),
                db_dir.display()
            );
        }
        Some(ScanOnMiss {
            db_dir,
            cache_dir: settings.path("cache_dir").map(Path::to_path_buf),
            one_at_a_time: std::sync::Mutex::new(()),
        })
    } else {
        None
    };
    let source = Arc::new(Lookup {
        key,
        registry,
        server,
        scan_on_miss,
    });
    let mut config = AdmissionConfig::new(args.listen, policy, source);
    config.tls = Some(bulwark_server::state::TlsFiles {
        cert: args.tls_cert,
        key: args.tls_key,
    });
    config.request_timeout = Duration::from_secs(args.timeout.max(1));
    config.lookup_budget = Duration::from_millis(args.lookup_budget);
    config.cache_ttl = Duration::from_secs(args.cache_ttl);
    config.max_body_size = usize::try_from(args.max_body_size).unwrap_or(usize::MAX);
    config.allow_all = args.allow_all;
    // The audit log: one JSON line per decision on standard output (dry runs excluded).
    config.log = Arc::new(|decision, user| {
        let line = serde_json::json!({
            "time": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "resource": decision.resource,
            "uid": decision.response["response"]["uid"],
            "user": user,
            "mode": decision.mode.as_str(),
            "allowed": decision.allowed,
            "reasons": decision.reasons,
            "notes": decision.notes,
        });
        println!("{line}");
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = bulwark_server::admission::start(config).await?;
        eprintln!("bulwark admission webhook listening on {}", running.url());
        let handle = running.handle();
        tokio::spawn(async move {
            bulwark_server::startup::shutdown_signal().await;
            handle.graceful_shutdown(Some(Duration::from_secs(20)));
        });
        running.wait().await
    })?;
    Ok(crate::EXIT_OK)
}
