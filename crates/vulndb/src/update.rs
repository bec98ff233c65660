//! `bulwark db update`: download OSV, KEV and EPSS over HTTPS and swap in a new store.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{io_err, Error, Result};
use crate::import::{read_capped, ImportSummary, Sink};
use crate::store::{Metadata, StoreBuilder};
use crate::Progress;

pub const DEFAULT_OSV_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
pub const DEFAULT_EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
/// OSV ecosystems fetched when none are named: every one the matcher looks packages up in
/// (each language ecosystem with an OSV name, each distribution `os_ecosystem` names), so a
/// default update never leaves a catalogued package silently unmatched. The tests below fail
/// when a new ecosystem or distribution is matched but not fetched.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "SwiftURL",
    "ConanCenter",
    "Hackage",
    "Hex",
    "Pub",
    "Julia",
    "CRAN",
    "opam",
    "Bitnami",
    "GitHub Actions",
    "Debian",
    "Alpine",
    "Ubuntu",
    "Wolfi",
    "Chainguard",
    "Rocky Linux",
    "AlmaLinux",
    "Red Hat",
    "SUSE",
    "openSUSE",
    "Photon OS",
    "Mariner",
    "Azure Linux",
];

/// Where and what `update` fetches.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// OSV ecosystems (`PyPI`, `Debian`...): `<osv_base_url>/<ecosystem>/all.zip` each.
    pub ecosystems: Vec<String>,
    pub osv_base_url: String,
    /// `None` skips KEV.
    pub kev_url: Option<String>,
    /// `None` skips EPSS.
    pub epss_url: Option<String>,
    /// Cap on each download, in bytes.
    pub max_download_bytes: u64,
    /// Connect and per-read timeout.
    pub timeout: Duration,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|s| s.to_string()).collect(),
            osv_base_url: DEFAULT_OSV_URL.into(),
            kev_url: Some(DEFAULT_KEV_URL.into()),
            epss_url: Some(DEFAULT_EPSS_URL.into()),
            max_download_bytes: 2 << 30,
            timeout: Duration::from_secs(60),
        }
    }
}

impl UpdateOptions {
    /// Defaults, with mirrors from `BULWARK_DB_OSV_URL`, `BULWARK_DB_KEV_URL`,
    /// `BULWARK_DB_EPSS_URL` when set.
    pub fn from_env() -> Self {
        let mut o = UpdateOptions::default();
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("BULWARK_DB_OSV_URL") {
            o.osv_base_url = v;
        }
        if let Some(v) = var("BULWARK_DB_KEV_URL") {
            o.kev_url = Some(v);
        }
        if let Some(v) = var("BULWARK_DB_EPSS_URL") {
            o.epss_url = Some(v);
        }
        o
    }
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn agent(opts: &UpdateOptions) -> ureq::Agent {
    // TLS: rustls (ring) with the platform's roots via rustls-native-certs, which reads
    // SSL_CERT_FILE / SSL_CERT_DIR or the system bundle (/etc/ssl/certs/ca-certificates.crt on
    // Debian), else Mozilla's list: certificates are always verified.
    let mut roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if roots.is_empty() {
        roots.extend(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()),
        );
    }
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(roots)))
        .build();
    ureq::Agent::config_builder()
        .timeout_connect(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        // HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment (ureq's default).
        .proxy(ureq::Proxy::try_from_env())
        .max_redirects(5)
        // A status is an answer: 304 keeps the stored data, others are reported with it.
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

enum Fetched {
    NotModified,
    File {
        path: PathBuf,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

#[allow(clippy::too_many_arguments)]
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    env: &'static str,
    validators: Option<(Option<String>, Option<String>)>,
    dest: &Path,
    cap: u64,
    label: &str,
    progress: &dyn Progress,
) -> Result<Fetched> {
    let download = |reason: String| Error::Download {
        url: url.to_string(),
        reason,
        env,
    };
    let mut req = agent.get(url);
    if let Some((etag, lm)) = &validators {
        if let Some(e) = etag {
            req = req.header("If-None-Match", e);
        }
        if let Some(l) = lm {
            req = req.header("If-Modified-Since", l);
        }
    }
    let resp = req.call().map_err(|e| download(e.to_string()))?;
    let status = resp.status();
    if status.as_u16() == 304 {
        return Ok(Fetched::NotModified);
    }
    if status.as_u16() >= 400 {
        return Err(download(format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )));
    }
    if status.as_u16() != 200 {
        return Err(download(format!("unexpected HTTP {}", status.as_u16())));
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header("ETag");
    let last_modified = header("Last-Modified");
    let total: Option<u64> = header("Content-Length").and_then(|v| v.parse().ok());
    if let Some(t) = total {
        if t > cap {
            return Err(Error::TooLarge {
                url: url.into(),
                limit: cap,
            });
        }
    }
    progress.phase(label, total);
    let mut reader = resp.into_body().into_reader().take(cap + 1);
    let mut file = std::fs::File::create(dest).map_err(io_err(dest))?;
    let mut buf = vec![0u8; 256 << 10];
    let mut done: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(download(format!(
                    "connection failed after {done} bytes: {e}"
                )))
            }
        };
        done += n as u64;
        if done > cap {
            return Err(Error::TooLarge {
                url: url.into(),
                limit: cap,
            });
        }
        file.write_all(&buf[..n]).map_err(io_err(dest))?;
        progress.advance(done);
    }
    if let Some(t) = total {
        if done != t {
            return Err(download(format!(
                "connection closed after {done} of {t} bytes"
            )));
        }
    }
    file.sync_all().map_err(io_err(dest))?;
    progress.done();
    Ok(Fetched::File {
        path: dest.to_path_buf(),
        etag,
        last_modified,
    })
}

/// Downloads every source into a new store next to `dir` and swaps it in. A source that did not
/// change upstream (HTTP 304 on the stored ETag/Last-Modified) keeps its current data. Any
/// failure (network, size cap, corrupt zip, a feed with no records) aborts before the swap and
/// leaves the previous store as it was.
pub fn update(dir: &Path, opts: &UpdateOptions, progress: &dyn Progress) -> Result<ImportSummary> {
    let agent = agent(opts);
    let mut builder = StoreBuilder::begin(dir, true)?;
    let tmp = builder.tmp_dir().to_path_buf();
    let mut unchanged = Vec::new();
    let mut fetched = Vec::new();
    // Download everything first, so a network failure costs no parsing.
    let mut jobs: Vec<(String, String, &'static str, &'static str)> = Vec::new();
    for eco in &opts.ecosystems {
        let url = format!(
            "{}/{}/all.zip",
            opts.osv_base_url.trim_end_matches('/'),
            encode_segment(eco)
        );
        jobs.push((format!("osv:{eco}"), url, "BULWARK_DB_OSV_URL", "osv"));
    }
    if let Some(u) = &opts.kev_url {
        jobs.push(("kev".into(), u.clone(), "BULWARK_DB_KEV_URL", "kev"));
    }
    if let Some(u) = &opts.epss_url {
        jobs.push(("epss".into(), u.clone(), "BULWARK_DB_EPSS_URL", "epss"));
    }
    for (i, (name, url, env, kind)) in jobs.iter().enumerate() {
        let validators = builder.source_validators(name)?;
        let dest = tmp.join(format!("download-{i}"));
        match fetch(
            &agent,
            url,
            env,
            validators,
            &dest,
            opts.max_download_bytes,
            &format!("downloading {name}"),
            progress,
        )? {
            Fetched::NotModified => unchanged.push(name.clone()),
            Fetched::File {
                path,
                etag,
                last_modified,
            } => fetched.push((name.clone(), url.clone(), *kind, path, etag, last_modified)),
        }
    }
    for name in &unchanged {
        builder.touch_source(name)?;
    }
    let mut sink = Sink::new(&mut builder);
    for (name, url, kind, path, etag, last_modified) in &fetched {
        progress.phase(&format!("reading {name}"), None);
        match *kind {
            "osv" => sink.zip(name, url, path)?,
            "kev" => {
                let bytes = read_capped(std::fs::File::open(path).map_err(io_err(path))?, path)?;
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
                        what: url.clone(),
                        reason: format!("KEV JSON: {e}"),
                    })?;
                sink.kev(url, &v)?;
            }
            _ => {
                let file = std::fs::File::open(path).map_err(io_err(path))?;
                let mut head = [0u8; 2];
                let gz = std::fs::File::open(path)
                    .and_then(|mut f| f.read_exact(&mut head))
                    .is_ok()
                    && head == [0x1f, 0x8b];
                let bytes = if gz {
                    read_capped(flate2::read::MultiGzDecoder::new(file), path).map_err(|e| {
                        Error::Corrupt {
                            what: url.clone(),
                            reason: format!("EPSS gzip: {e}"),
                        }
                    })?
                } else {
                    read_capped(file, path)?
                };
                sink.epss(url, &String::from_utf8_lossy(&bytes))?;
            }
        }
        if sink.records(name) == 0 {
            return Err(Error::Corrupt {
                what: url.clone(),
                reason: "no valid records in it".into(),
            });
        }
        sink.set_validators(name, etag.clone(), last_modified.clone());
        let _ = std::fs::remove_file(path);
        progress.done();
    }
    let mut summary = sink.finish()?;
    summary.unchanged = unchanged;
    builder.commit()?;
    Ok(summary)
}

/// How old the data may get before `check_age` warns, and before it refuses.
#[derive(Debug, Clone, Copy)]
pub struct AgePolicy {
    pub warn_after_days: i64,
    pub fail_after_days: i64,
}

impl Default for AgePolicy {
    fn default() -> Self {
        AgePolicy {
            warn_after_days: 7,
            fail_after_days: 90,
        }
    }
}

/// A store old enough to mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeWarning {
    pub age_days: i64,
    pub message: String,
}

/// `Ok(None)` when fresh, `Ok(Some(warning))` past `warn_after_days`, [`Error::TooOld`] past
/// `fail_after_days`.
pub fn check_age(
    meta: &Metadata,
    now: OffsetDateTime,
    policy: &AgePolicy,
) -> Result<Option<AgeWarning>> {
    let updated = OffsetDateTime::parse(
        &meta.updated_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| Error::BadTimestamp(meta.updated_at.clone()))?;
    let age_days = (now - updated).whole_days();
    if age_days > policy.fail_after_days {
        return Err(Error::TooOld {
            age_days,
            limit_days: policy.fail_after_days,
        });
    }
    if age_days > policy.warn_after_days {
        return Ok(Some(AgeWarning {
            age_days,
            message: format!(
                "the vulnerability database is {age_days} days old (last updated {}): run `bulwark db update`",
                meta.updated_at
            ),
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use bulwark_types::{Ecosystem, OsFamily, OsRelease};

    use super::DEFAULT_ECOSYSTEMS;
    use crate::matcher::os_ecosystem;

    #[test]
    fn every_matched_language_ecosystem_is_fetched_by_default() {
        for eco in Ecosystem::ALL {
            if let Some(name) = eco.osv_name() {
                assert!(
                    DEFAULT_ECOSYSTEMS.contains(&name),
                    "{name} is matched but `db update` does not fetch it by default"
                );
            }
        }
    }

    #[test]
    fn every_matched_distribution_is_fetched_by_default() {
        let mut matched = 0;
        for (id, family) in [
            ("debian", OsFamily::Debian),
            ("ubuntu", OsFamily::Ubuntu),
            ("alpine", OsFamily::Alpine),
            ("rhel", OsFamily::Rhel),
            ("centos", OsFamily::Centos),
            ("rocky", OsFamily::Rocky),
            ("almalinux", OsFamily::Alma),
            ("fedora", OsFamily::Fedora),
            ("amzn", OsFamily::Amazon),
            ("ol", OsFamily::Oracle),
            ("sles", OsFamily::Suse),
            ("opensuse-leap", OsFamily::Suse),
            ("opensuse-tumbleweed", OsFamily::Suse),
            ("photon", OsFamily::Photon),
            ("wolfi", OsFamily::Wolfi),
            ("chainguard", OsFamily::Chainguard),
            ("arch", OsFamily::Arch),
            ("gentoo", OsFamily::Gentoo),
            ("openwrt", OsFamily::OpenWrt),
            ("mariner", OsFamily::Mariner),
            ("azurelinux", OsFamily::Mariner),
            ("bottlerocket", OsFamily::Bottlerocket),
        ] {
            let os = OsRelease {
                family,
                id: id.into(),
                version_id: Some("3.0".into()),
                version_codename: None,
                pretty_name: None,
                source_path: "etc/os-release".into(),
            };
            if let Ok((ecosystem, _)) = os_ecosystem(&os) {
                let base = ecosystem.split(':').next().unwrap_or(&ecosystem);
                assert!(
                    DEFAULT_ECOSYSTEMS.contains(&base),
                    "{id} packages are matched in {ecosystem} but `db update` does not fetch {base} by default"
                );
                matched += 1;
            }
        }
        assert!(matched >= 14, "only {matched} distributions matched");
    }
}
