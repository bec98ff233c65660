//! `--upload URL --token TOKEN`: sends the scan's report (bulwark.report/v1 JSON) to a
//! `bulwark server` after it is printed, with the CI metadata of the usual CI variables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_policy::settings::Settings;

/// Where and how to upload (from `--upload`, `--token`, `--upload-asset`, `--upload-team`).
pub struct Upload {
    url: String,
    token: String,
    asset: Option<String>,
    team: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("url", &self.url)
            .field("token", &"***")
            .finish_non_exhaustive()
    }
}

/// The upload the settings ask for (`None` without `--upload`); checked before the scan.
pub fn from_settings(settings: &Settings) -> Result<Option<Upload>> {
    let Some(url) = settings.text("upload") else {
        return Ok(None);
    };
    let url = url.trim_end_matches('/').to_string();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("--upload {url:?}: give the server's URL, e.g. https://bulwark.example:8470");
    }
    let Some(token) = settings.text("token").filter(|t| !t.trim().is_empty()) else {
        bail!("--upload needs an API token: give --token or set BULWARK_TOKEN (a token with the upload scope)");
    };
    let ca_certs = settings.paths("ca_certs").unwrap_or(&[]);
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(trust_anchors(
            ca_certs,
        )?)))
        .build();
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .max_redirects(0)
        .tls_config(tls)
        .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    Ok(Some(Upload {
        url,
        token: token.to_string(),
        asset: settings.text("upload_asset").map(str::to_string),
        team: settings.text("upload_team").map(str::to_string),
        agent,
    }))
}

/// The system's trust anchors (else Mozilla's) plus the `--ca-cert` files: the server's
/// certificate is always verified.
pub(crate) fn trust_anchors(
    extra: &[std::path::PathBuf],
) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    use rustls_pki_types::pem::PemObject;
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
    for path in extra {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| {
                format!(
                    "--ca-cert {}: not a readable PEM certificate",
                    path.display()
                )
            })?;
        roots.extend(
            certs
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()),
        );
    }
    Ok(roots)
}

/// CI metadata from the environment: commit, branch, pipeline URL and the CI's name.
pub fn ci_metadata(env: impl Fn(&str) -> Option<String>) -> BTreeMap<&'static str, String> {
    let get = |names: &[&str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
    let mut meta = BTreeMap::new();
    let provider = if env("GITHUB_ACTIONS").is_some() {
        Some("github")
    } else if env("GITLAB_CI").is_some() {
        Some("gitlab")
    } else if env("TF_BUILD").is_some() {
        Some("azure")
    } else if env("JENKINS_URL").is_some() {
        Some("jenkins")
    } else if env("CIRCLECI").is_some() {
        Some("circleci")
    } else {
        None
    };
    if let Some(p) = provider {
        meta.insert("ci", p.to_string());
    }
    let commit = get(&[
        "GITHUB_SHA",
        "CI_COMMIT_SHA",
        "BUILD_SOURCEVERSION",
        "GIT_COMMIT",
        "CIRCLE_SHA1",
    ]);
    let branch = get(&[
        "GITHUB_HEAD_REF",
        "GITHUB_REF_NAME",
        "CI_COMMIT_REF_NAME",
        "BUILD_SOURCEBRANCHNAME",
        "GIT_BRANCH",
        "CIRCLE_BRANCH",
    ]);
    let pipeline = match (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(run)) => {
            Some(format!("{server}/{repo}/actions/runs/{run}"))
        }
        _ => match (
            env("SYSTEM_COLLECTIONURI"),
            env("SYSTEM_TEAMPROJECT"),
            env("BUILD_BUILDID"),
        ) {
            (Some(base), Some(project), Some(id)) => Some(format!(
                "{}/{project}/_build/results?buildId={id}",
                base.trim_end_matches('/')
            )),
            _ => get(&["CI_PIPELINE_URL", "BUILD_URL", "CIRCLE_BUILD_URL"]),
        },
    };
    for (key, value) in [
        ("commit", commit),
        ("branch", branch),
        ("pipeline_url", pipeline),
    ] {
        if let Some(v) = value {
            meta.insert(key, v);
        }
    }
    meta
}

impl Upload {
    /// The same server and token under another asset name and team (`bulwark k8s` uploads
    /// one report per workload).
    pub fn for_asset(&self, asset: String, team: Option<String>) -> Upload {
        Upload {
            url: self.url.clone(),
            token: self.token.clone(),
            asset: Some(asset),
            team: team.or_else(|| self.team.clone()),
            agent: self.agent.clone(),
        }
    }

    /// Sends the report; says on stderr where it went (unless quiet).
    pub fn send(&self, report_json: Vec<u8>, quiet: bool) -> Result<()> {
        self.send_as(report_json, self.asset.as_deref(), quiet)
    }

    /// Sends the report as `asset` (`bulwark runtime`: one asset per container).
    pub fn send_as(&self, report_json: Vec<u8>, asset: Option<&str>, quiet: bool) -> Result<()> {
        let mut request = self
            .agent
            .post(format!("{}/api/v1/reports", self.url))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json");
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(asset) = asset {
            query.push(("asset", asset.to_string()));
        }
        if let Some(team) = &self.team {
            query.push(("team", team.clone()));
        }
        query.extend(ci_metadata(|n| std::env::var(n).ok()));
        for (k, v) in &query {
            request = request.query(k, v);
        }
        let mut response = request
            .send(&report_json[..])
            .with_context(|| format!("cannot upload the report to {}", self.url))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or(body);
            bail!(
                "the server at {} refused the report ({status}): {message}",
                self.url
            );
        }
        if !quiet {
            let reply: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            eprintln!(
                "uploaded to {}: asset {} version {} ({} findings)",
                self.url,
                reply["asset"]["name"].as_str().unwrap_or("?"),
                reply["version"]["uuid"].as_str().unwrap_or("?"),
                reply["findings"].as_u64().unwrap_or(0),
            );
        }
        // Shown even with --quiet: a zero the server did not match is not an all-clear.
        if let Some(warning) = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|reply| reply["warning"].as_str().map(str::to_string))
        {
            eprintln!("warning: {warning}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_metadata_reads_github_gitlab_azure_jenkins_circleci() {
        let from = |vars: &'static [(&'static str, &'static str)]| {
            ci_metadata(move |n| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            })
        };
        let github = from(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "7"),
        ]);
        assert_eq!(github["commit"], "abc");
        assert_eq!(github["branch"], "main");
        assert_eq!(
            github["pipeline_url"],
            "https://github.com/o/r/actions/runs/7"
        );
        let gitlab = from(&[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "def"),
            ("CI_COMMIT_REF_NAME", "dev"),
            ("CI_PIPELINE_URL", "https://gitlab/p/1"),
        ]);
        assert_eq!(gitlab["ci"], "gitlab");
        assert_eq!(gitlab["pipeline_url"], "https://gitlab/p/1");
        let jenkins = from(&[
            ("JENKINS_URL", "x"),
            ("GIT_COMMIT", "123"),
            ("BUILD_URL", "https://j/1"),
        ]);
        assert_eq!(jenkins["commit"], "123");
        assert_eq!(jenkins["pipeline_url"], "https://j/1");
        let circle = from(&[
            ("CIRCLECI", "true"),
            ("CIRCLE_SHA1", "c"),
            ("CIRCLE_BRANCH", "b"),
        ]);
        assert_eq!(circle["ci"], "circleci");
        assert!(from(&[]).is_empty());
    }
}
