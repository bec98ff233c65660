//! Registry settings from flags and environment, and the `bulwark registry` commands.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_image::registry::{default_docker_config_dir, Credentials, RegistryOptions};

use crate::cli::RegistryArgs;
pub use crate::cli::{AuditArgs, RegistryCommandArgs, RegistrySubcommand, ScanArgs, SummaryFormat};

/// Turns the flags into library settings. Credentials: `--username` with `--password-stdin`
/// (or `BULWARK_REGISTRY_PASSWORD`); otherwise Docker's `config.json` (`$DOCKER_CONFIG`).
pub fn options(args: &RegistryArgs) -> Result<RegistryOptions> {
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
        // ureq lets a whole-request deadline replace the per-read timeout, so the one
        // flag bounds both: a manifest or token exchange ends within it, stalled or trickled.
        request_timeout: timeout,
        min_rate: bulwark_image::MinRate {
            bytes_per_sec: args.registry_min_rate,
            ..bulwark_image::MinRate::default()
        },
        retries: args.registry_retries,
    })
}

pub fn run(args: RegistryCommandArgs) -> Result<u8> {
    match args.command {
        RegistrySubcommand::Audit(a) => audit(a),
        RegistrySubcommand::Scan(a) => scan(a),
    }
}

fn audit(args: AuditArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.registry_timeout.max(1));
    let options = RegistryOptions {
        insecure: false,
        ca_certs: args.ca_certs.clone(),
        credentials: None,
        docker_config_dir: None,
        connect_timeout: timeout,
        read_timeout: timeout,
        request_timeout: timeout,
        retries: 0,
        ..RegistryOptions::default()
    };
    let findings = bulwark_image::registry::audit::audit(&args.url, &options)
        .with_context(|| format!("cannot audit {}", args.url))?;
    let count = findings.len();
    let mut report =
        bulwark_report::ScanReport::for_files(args.url.clone(), env!("CARGO_PKG_VERSION"));
    report.add_misconfigurations(findings);
    let format = crate::choose_format(args.format, args.output.is_some());
    crate::write_output(
        args.output.as_deref(),
        &bulwark_report::render(&report, format),
    )?;
    if count > 0 && args.exit_code != 0 {
        return Ok(args.exit_code);
    }
    Ok(0)
}

/// Follows `Link: <…>; rel="next"` pagination of the catalog and tag lists.
fn list_paginated(
    client: &bulwark_image::registry::RegistryClient,
    first: &str,
    scope: &str,
    field: &str,
) -> Result<Vec<String>> {
    use bulwark_image::registry::{Method, RequestBody};
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        if pages > 1000 {
            bail!("{first}: more than 1000 pages; stopping");
        }
        let resp = client.send(Method::Get, &path, scope, &RequestBody::default())?;
        next = resp.header("link").and_then(|l| {
            let (target, rel) = l.split_once(';')?;
            rel.contains("next").then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        });
        let mut body = Vec::new();
        resp.into_reader()
            .take(16 << 20)
            .read_to_end(&mut body)
            .with_context(|| format!("cannot read {path}"))?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).with_context(|| format!("{path} did not answer JSON"))?;
        out.extend(
            value[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
    }
    Ok(out)
}

#[derive(Debug, serde::Serialize)]
struct ImageSummary {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest_digest: Option<String>,
    packages: usize,
    vulnerabilities: usize,
    secrets: usize,
    exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn scan(args: ScanArgs) -> Result<u8> {
    let (host, port) = bulwark_image::registry::audit::parse_target(&args.url)?;
    let authority = format!("{host}:{port}");
    let options = options(&args.registry)?;
    let name = bulwark_image::registry::ImageName::parse(&format!("{authority}/x"))
        .map_err(anyhow::Error::msg)?;
    let client = options.client_for(&name)?;
    let mut repos = list_paginated(
        &client,
        "/v2/_catalog?n=1000",
        "registry:catalog:*",
        "repositories",
    )
    .with_context(|| format!("cannot list the repositories of {authority}"))?;
    repos.sort();
    let mut images = Vec::new();
    'repos: for repo in repos {
        if args
            .repository_prefix
            .as_deref()
            .is_some_and(|p| !repo.starts_with(p))
        {
            continue;
        }
        let scope = bulwark_image::registry::pull_scope(&repo);
        let mut tags = list_paginated(
            &client,
            &format!("/v2/{repo}/tags/list?n=1000"),
            &scope,
            "tags",
        )
        .with_context(|| format!("cannot list the tags of {authority}/{repo}"))?;
        tags.sort();
        for tag in tags {
            // cosign signatures and attestations are not images to scan.
            if tag.starts_with("sha256-") && (tag.ends_with(".sig") || tag.ends_with(".att")) {
                continue;
            }
            if images.len() >= args.max_images {
                eprintln!(
                    "bulwark: stopping at --max-images {} images",
                    args.max_images
                );
                break 'repos;
            }
            images.push(format!("{authority}/{repo}:{tag}"));
        }
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let exe = std::env::current_exe().context("cannot find the bulwark binary to run")?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..args.jobs.max(1) {
            let tx = tx.clone();
            let (images, next, exe, args, options) = (&images, &next, &exe, &args, &options);
            s.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(reference) = images.get(i) else {
                    break;
                };
                let summary = scan_one(exe, reference, args, options);
                let _ = tx.send((i, summary));
            });
        }
    });
    drop(tx);
    let mut results: Vec<(usize, ImageSummary)> = rx.into_iter().collect();
    results.sort_by_key(|(i, _)| *i);
    let summaries: Vec<ImageSummary> = results.into_iter().map(|(_, s)| s).collect();
    let failed = summaries.iter().filter(|s| s.error.is_some()).count();
    let rendered = match args.format {
        SummaryFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "registry": authority,
                "images": summaries,
            }))? + "\n"
        }
        SummaryFormat::Table => {
            let mut t = String::from("IMAGE\tPACKAGES\tVULNERABILITIES\tSECRETS\tSTATUS\n");
            for s in &summaries {
                t.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    s.reference,
                    s.packages,
                    s.vulnerabilities,
                    s.secrets,
                    s.error.as_deref().unwrap_or("ok")
                ));
            }
            t
        }
    };
    crate::write_output(None, &rendered)?;
    if failed > 0 {
        eprintln!(
            "bulwark: {failed} of {} images could not be scanned",
            summaries.len()
        );
        return Ok(3);
    }
    Ok(0)
}

/// Scans one image with a child `bulwark image` (its own process: one image's failure or
/// memory never touches another's).
fn scan_one(
    exe: &std::path::Path,
    reference: &str,
    args: &ScanArgs,
    options: &RegistryOptions,
) -> ImageSummary {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["image", reference, "--format", "json", "--quiet"]);
    if options.insecure {
        cmd.arg("--insecure");
    }
    for ca in &options.ca_certs {
        cmd.arg("--ca-cert").arg(ca);
    }
    cmd.args([
        "--registry-timeout",
        &args.registry.registry_timeout.to_string(),
        "--registry-retries",
        &args.registry.registry_retries.to_string(),
        "--registry-min-rate",
        &args.registry.registry_min_rate.to_string(),
    ]);
    if let Some(dir) = &args.cache_dir {
        cmd.arg("--cache-dir").arg(dir);
    }
    // Explicit credentials travel by environment, never on a command line.
    cmd.env_remove("BULWARK_REGISTRY_USERNAME")
        .env_remove("BULWARK_REGISTRY_PASSWORD");
    if let Some(bulwark_image::registry::Credentials::Basic { username, password }) =
        &options.credentials
    {
        cmd.env("BULWARK_REGISTRY_USERNAME", username)
            .env("BULWARK_REGISTRY_PASSWORD", password.expose());
    }
    cmd.stdin(std::process::Stdio::null());
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            return ImageSummary {
                reference: reference.to_string(),
                manifest_digest: None,
                packages: 0,
                vulnerabilities: 0,
                secrets: 0,
                exit_code: -1,
                error: Some(format!("cannot run {}: {e}", exe.display())),
            }
        }
    };
    let code = out.status.code().unwrap_or(-1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    if let Some(dir) = &args.output_dir {
        let file = reference.replace(['/', ':', '@'], "_") + ".json";
        let _ = std::fs::write(dir.join(file), &out.stdout);
    }
    let count = |k: &str| report[k].as_array().map(|a| a.len()).unwrap_or(0);
    let error = (code != 0 && code != 3 || report.is_null()).then(|| {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("scan failed")
            .trim_start_matches("error: ")
            .to_string()
    });
    ImageSummary {
        reference: reference.to_string(),
        manifest_digest: report["image"]["manifest_digest"]
            .as_str()
            .map(str::to_string),
        packages: count("packages"),
        vulnerabilities: count("vulnerabilities"),
        secrets: count("secrets"),
        exit_code: code,
        error,
    }
}
