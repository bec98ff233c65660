//! Every image of a registry: the catalog and tag lists, then each image scanned in this
//! process with bounded parallelism.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use bulwark_image::registry::{ImageName, Method, RegistryClient, RegistryOptions, RequestBody};
use bulwark_image::SourceRef;

use bulwark_report::text::ImageSummary;

use crate::events::{EventSink, NoopSink};
use crate::pipeline::ScanOutcome;
use crate::request::ImageScan;
use crate::{CancelToken, Error, Result};

/// Pages of a catalog or tag list followed at most; a registry answering more is looping.
const MAX_PAGES: usize = 1000;
/// Largest page of a catalog or tag list read.
const MAX_PAGE_BYTES: u64 = 16 << 20;

/// The images of a registry, in catalog order (repositories sorted, then tags sorted).
#[derive(Debug, Clone)]
pub struct RegistryImages {
    /// `HOST:PORT`.
    pub authority: String,
    /// `HOST:PORT/REPO:TAG`, cosign signature and attestation tags left out.
    pub images: Vec<String>,
    /// The list stopped at `max_images`.
    pub truncated: bool,
}

/// How the registry at `url` is exposed (TLS, anonymous access, plain HTTP), as a report of
/// misconfigurations named after `url`. It trusts `ca_certs`, waits `timeout` for each answer,
/// and sends no credentials and no retries: it judges what anyone can reach.
pub fn audit(
    url: &str,
    ca_certs: &[std::path::PathBuf],
    timeout: std::time::Duration,
    tool_version: &str,
) -> Result<bulwark_report::ScanReport> {
    let options = RegistryOptions {
        insecure: false,
        ca_certs: ca_certs.to_vec(),
        credentials: None,
        docker_config_dir: None,
        connect_timeout: timeout,
        read_timeout: timeout,
        request_timeout: timeout,
        retries: 0,
        ..RegistryOptions::default()
    };
    let findings = bulwark_image::registry::audit::audit(url, &options)
        .map_err(|e| Error::Registry(format!("cannot audit {url}: {e}")))?;
    let mut report = bulwark_report::ScanReport::for_files(url.to_string(), tool_version);
    report.add_misconfigurations(findings);
    Ok(report)
}

/// Lists the images of the registry at `url` (`https://HOST[:PORT]`, `http://…` or
/// `HOST:PORT`) through its catalog API, at most `max_images`, only repositories that start
/// with `prefix`.
pub fn list_images(
    url: &str,
    options: &RegistryOptions,
    prefix: Option<&str>,
    max_images: usize,
) -> Result<RegistryImages> {
    let (host, port) = bulwark_image::registry::audit::parse_target(url)?;
    let authority = format!("{host}:{port}");
    let name = ImageName::parse(&format!("{authority}/x")).map_err(Error::Registry)?;
    let client = options.client_for(&name)?;
    let mut repos = list_paginated(
        &client,
        "/v2/_catalog?n=1000",
        "registry:catalog:*",
        "repositories",
    )
    .map_err(|e| Error::Registry(format!("cannot list the repositories of {authority}: {e}")))?;
    repos.sort();
    let mut images = Vec::new();
    for repo in repos {
        if prefix.is_some_and(|p| !repo.starts_with(p)) {
            continue;
        }
        let scope = bulwark_image::registry::pull_scope(&repo);
        let mut tags = list_paginated(
            &client,
            &format!("/v2/{repo}/tags/list?n=1000"),
            &scope,
            "tags",
        )
        .map_err(|e| Error::Registry(format!("cannot list the tags of {authority}/{repo}: {e}")))?;
        tags.sort();
        for tag in tags {
            // cosign signatures and attestations are not images to scan.
            if tag.starts_with("sha256-") && (tag.ends_with(".sig") || tag.ends_with(".att")) {
                continue;
            }
            if images.len() >= max_images {
                return Ok(RegistryImages {
                    authority,
                    images,
                    truncated: true,
                });
            }
            images.push(format!("{authority}/{repo}:{tag}"));
        }
    }
    Ok(RegistryImages {
        authority,
        images,
        truncated: false,
    })
}

/// Follows `Link: <…>; rel="next"` pagination of the catalog and tag lists.
fn list_paginated(
    client: &RegistryClient,
    first: &str,
    scope: &str,
    field: &str,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(Error::Registry(format!(
                "{first}: more than {MAX_PAGES} pages; stopping"
            )));
        }
        let resp = client.send(Method::Get, &path, scope, &RequestBody::default())?;
        let link = resp.headers().get("link").and_then(|l| l.to_str().ok());
        next = link.and_then(|l| {
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
        resp.into_body()
            .into_reader()
            .take(MAX_PAGE_BYTES)
            .read_to_end(&mut body)
            .map_err(|e| Error::Registry(format!("cannot read {path}: {e}")))?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Error::Registry(format!("{path} did not answer JSON: {e}")))?;
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

/// Scans each of `images` with the settings of `template` (its reference is replaced),
/// `jobs` at a time, in this process. `collect` gets each result on the calling thread as it
/// arrives, with the image's index, so reports need not all be held at once. One image's
/// failure does not stop the others; `cancel` stops them all.
pub fn scan_images(
    images: &[String],
    template: &ImageScan,
    jobs: usize,
    sink: &dyn EventSink,
    cancel: &CancelToken,
    mut collect: impl FnMut(usize, Result<ScanOutcome>),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, images.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(reference) = images.get(i) else {
                    break;
                };
                // The catalog named the image: it is read from this registry, never from a local
                // engine that happens to hold an image of the same name.
                let scan = || match SourceRef::parse(&format!("registry:{reference}")) {
                    Ok(reference) => ImageScan {
                        reference,
                        ..template.clone()
                    }
                    .run(sink, cancel),
                    Err(e) => Err(e.into()),
                };
                // These scans share a process: a bug that panics on one image is that image's
                // error, not the end of the others.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scan))
                    .unwrap_or(Err(Error::Panicked));
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            collect(i, result);
        }
    });
}

/// Scans each of `images` as [`scan_images`] does and sums each up: its counts and the exit
/// code its own scan would have had (`gate_exit_code` on a failed gate), or its error
/// ([`crate::error_text`]). With `output_dir`, each report is also written there as JSON
/// (`HOST_PORT_REPO_TAG.json`; one that cannot be written is left out).
pub fn summarize_images(
    images: &[String],
    template: &ImageScan,
    jobs: usize,
    gate_exit_code: u8,
    output_dir: Option<&std::path::Path>,
    cancel: &CancelToken,
) -> Vec<ImageSummary> {
    let mut summaries: Vec<Option<ImageSummary>> = images.iter().map(|_| None).collect();
    scan_images(images, template, jobs, &NoopSink, cancel, |i, result| {
        let reference = images[i].clone();
        summaries[i] = Some(match result {
            Ok(outcome) => {
                let report = &outcome.report;
                if let Some(dir) = output_dir {
                    let file = reference.replace(['/', ':', '@'], "_") + ".json";
                    let json = bulwark_report::render(report, bulwark_report::Format::Json);
                    let _ = std::fs::write(dir.join(file), json);
                }
                let code = bulwark_policy::verdict::exit_code(report, gate_exit_code);
                ImageSummary::scanned(reference, report, code)
            }
            Err(e) => {
                let error = crate::error_text(&e);
                ImageSummary::failed(reference, error, bulwark_policy::verdict::EXIT_ERROR)
            }
        });
    });
    summaries.into_iter().flatten().collect()
}
