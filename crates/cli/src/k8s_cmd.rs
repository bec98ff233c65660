//! `bulwark k8s`: reads a live cluster (kubeconfig or the in-cluster service account) or a
//! `kubectl get -A -o json` dump, runs the manifest checks on every object (on the owning
//! controller, once) and the cluster-wide checks, scans each running image digest once, and
//! writes one `bulwark.report/v1` report (so formats, compliance views and gates work as for
//! `bulwark config`).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use bulwark_k8s::source::dump::read_dump;
use bulwark_k8s::source::live::{Cluster, Credentials};
use bulwark_k8s::{ClusterOptions, ClusterOutcome, ClusterScan, RunningImage, Selection};
use bulwark_misconfig::CheckKind;
use bulwark_policy::settings::Origin;
use bulwark_report::{Format, ScanReport};
use bulwark_scan::CancelToken;

use crate::cli::K8sArgs;
use crate::config::{self, LegacyGate};

/// Where the objects come from, decided before anything is read.
enum Input {
    Dump(PathBuf),
    Live(Credentials),
}

pub fn run(args: K8sArgs, matches: &clap::ArgMatches) -> Result<u8> {
    // Stage one: settings, gates, format and the input, all checked before any request.
    let settings = config::load(matches)?.settings(matches)?;
    let (policy, exit_code) = config::policy(&settings, LegacyGate::Misconfigurations)?;
    let output = settings.path("output").map(std::path::Path::to_path_buf);
    let format = crate::choose_format(config::format(&settings), output.is_some());
    if matches!(format, Format::CycloneDx | Format::Spdx) {
        anyhow::bail!(
            "bulwark k8s writes table, json, sarif, junit, html or markdown reports; SBOM formats are for images"
        );
    }
    let compliance = args
        .compliance
        .as_deref()
        .map(|c| c.parse::<bulwark_misconfig::compliance::Target>())
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let quiet = settings.bool("quiet");
    let upload = crate::upload::from_settings(&settings)?;
    // Secret values cross the wire only when the user asked for the secret scanner by name.
    let secret_values = settings.origin("scanners") == Some(Origin::Flag)
        && settings
            .texts("scanners")
            .is_some_and(|s| s.iter().any(|s| s == "secret"));
    let selection = Selection {
        namespaces: args.namespace.clone(),
        secret_values,
    };
    let input = match &args.from_dump {
        Some(path) => Input::Dump(path.clone()),
        None => Input::Live(credentials(&args)),
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (outcome, cluster) = match &input {
        Input::Dump(path) => {
            let mut scan = ClusterScan::new(path.display().to_string());
            read_dump(path, &selection, &mut scan)?;
            (finish(scan, &args), None)
        }
        Input::Live(credentials) => runtime.block_on(async {
            let cluster = Cluster::connect(credentials).await?;
            let mut scan = ClusterScan::new(format!("cluster://{}", cluster.name));
            cluster.read(&selection, args.page_size, &mut scan).await?;
            anyhow::Ok((finish(scan, &args), Some(cluster)))
        })?,
    };
    let cluster_name = cluster
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "dump".to_string());

    let mut report = ScanReport::for_files(outcome.origin.clone(), env!("CARGO_PKG_VERSION"));
    report.add_misconfigurations(outcome.findings.clone());
    let mut incomplete = !outcome.warnings.is_empty();
    let mut notes: Vec<String> = outcome.warnings.clone();
    if !args.skip_images && !outcome.images.is_empty() {
        let images = ImageRun {
            matches,
            quiet,
            upload: upload.as_ref(),
            cluster: cluster.as_ref(),
            cluster_name: &cluster_name,
            outcome: &outcome,
            use_pull_secrets: args.use_pull_secrets,
            runtime: &runtime,
        };
        let failed = images.scan_all(&mut report, &mut notes);
        incomplete |= failed > 0;
    }

    let warnings = policy.policy.apply(&mut report, policy.today);
    // A manifest may quote a credential (an env value); the report never shows it.
    let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
    report.redact_strings(&|s: &mut String| redactor.redact_in_place(s));

    let rendered = match (compliance, format) {
        (Some(target), f) => {
            let checked = BTreeSet::from([CheckKind::Kubernetes, CheckKind::Cluster]);
            let view = bulwark_misconfig::compliance::report(
                target,
                &report.misconfigurations,
                &checked,
                &BTreeSet::new(),
            );
            match f {
                Format::Table => bulwark_misconfig::compliance::render_table(&view),
                _ => serde_json::to_string_pretty(&view)? + "\n",
            }
        }
        (None, Format::Table) if report.vulnerabilities.is_empty() => {
            bulwark_report::text::misconfig_table(&report.misconfigurations, outcome.objects)
        }
        (None, _) => bulwark_report::render(&report, format),
    };
    crate::write_output(output.as_deref(), &rendered)?;

    if !quiet {
        for w in notes
            .iter()
            .chain(&warnings.iter().map(ToString::to_string).collect::<Vec<_>>())
        {
            eprintln!("warning: {}", redactor.redact(w));
        }
        for line in bulwark_report::text::diagnostic_lines(&report.diagnostics) {
            eprintln!("{line}");
        }
    }
    let gate = crate::gate_outcome(&report, exit_code, quiet);
    Ok(match gate {
        Some(code) => code,
        None if incomplete => {
            if !quiet {
                eprintln!("bulwark: part of the cluster could not be read or scanned; the results above are incomplete (exit {})", crate::EXIT_INCOMPLETE);
            }
            crate::EXIT_INCOMPLETE
        }
        None => crate::EXIT_OK,
    })
}

fn finish(scan: ClusterScan, args: &K8sArgs) -> ClusterOutcome {
    scan.finish(&ClusterOptions {
        allowed_registries: args.allowed_registry.clone(),
        ..ClusterOptions::default()
    })
}

/// `--kubeconfig`, else `KUBECONFIG` (a `:`-separated list), else `~/.kube/config` when it
/// exists, else the in-cluster service account.
fn credentials(args: &K8sArgs) -> Credentials {
    let files: Vec<PathBuf> = match &args.kubeconfig {
        Some(path) => vec![path.clone()],
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).collect(),
            None => dirs::home_dir()
                .map(|h| h.join(".kube").join("config"))
                .filter(|p| p.exists())
                .into_iter()
                .collect(),
        },
    };
    if files.is_empty() {
        Credentials::InCluster
    } else {
        Credentials::Kubeconfig {
            files,
            context: args.context.clone(),
        }
    }
}

/// Scans each distinct running image once, as `bulwark image` would.
struct ImageRun<'a> {
    matches: &'a clap::ArgMatches,
    quiet: bool,
    upload: Option<&'a crate::upload::Upload>,
    cluster: Option<&'a Cluster>,
    cluster_name: &'a str,
    outcome: &'a ClusterOutcome,
    use_pull_secrets: bool,
    runtime: &'a tokio::runtime::Runtime,
}

impl ImageRun<'_> {
    /// Merges each image's vulnerabilities into the cluster report, with a note naming the
    /// workloads that run it; returns how many images could not be scanned.
    fn scan_all(&self, report: &mut ScanReport, notes: &mut Vec<String>) -> usize {
        let mut failed = 0;
        let bars = crate::progress::Bars::new(std::io::stderr().is_terminal(), self.quiet);
        for image in &self.outcome.images {
            match self.scan_one(image, &bars) {
                Ok(image_report) => {
                    let workloads: Vec<String> =
                        image.workloads.iter().map(|w| w.resource()).collect();
                    let count = image_report.vulnerabilities.len();
                    if count > 0 {
                        notes.push(format!(
                            "{}: {count} vulnerabilit{} in the image that {} run{}",
                            image.reference,
                            if count == 1 { "y" } else { "ies" },
                            workloads.join(", "),
                            if workloads.len() == 1 { "s" } else { "" },
                        ));
                    }
                    report
                        .vulnerabilities
                        .extend(image_report.vulnerabilities.iter().cloned());
                    if let Some(upload) = self.upload {
                        self.upload_per_workload(upload, image, &image_report, notes);
                    }
                }
                Err(e) => {
                    failed += 1;
                    notes.push(format!(
                        "{}: cannot be scanned: {}",
                        image.reference,
                        bulwark_scan::error_text(e.as_ref())
                    ));
                }
            }
        }
        report.vulnerabilities.sort_by(|a, b| a.priority_cmp(b));
        report.vulnerabilities.dedup();
        failed
    }

    fn scan_one(&self, image: &RunningImage, bars: &crate::progress::Bars) -> Result<ScanReport> {
        // A cluster pulls from registries: never look the name up in a local engine.
        let reference = format!("registry:{}", image.reference);
        let (mut request, _, _, _) = crate::image_request(&reference, self.matches)?;
        if self.use_pull_secrets {
            if let Some(credentials) = self.pull_credentials(image) {
                request.sources.registry.credentials = Some(credentials);
            }
        }
        let outcome = request.run(bars, &CancelToken::new())?;
        Ok(outcome.report)
    }

    /// The first imagePullSecret of the image's pods that holds credentials for its registry.
    fn pull_credentials(
        &self,
        image: &RunningImage,
    ) -> Option<bulwark_image::registry::Credentials> {
        let cluster = self.cluster?;
        let host = registry_host(&image.reference);
        image.pull_secrets.iter().find_map(|(ns, name)| {
            let secret = self
                .runtime
                .block_on(cluster.pull_secret(ns, name))
                .ok()
                .flatten()?;
            let (user, password) = bulwark_k8s::source::live::docker_credentials(&secret, &host)?;
            Some(bulwark_image::registry::Credentials::basic(user, password))
        })
    }

    /// One upload per workload that runs the image: asset `k8s://<cluster>/<ns>/<workload>`,
    /// team from the namespace's owner.
    fn upload_per_workload(
        &self,
        upload: &crate::upload::Upload,
        image: &RunningImage,
        image_report: &ScanReport,
        notes: &mut Vec<String>,
    ) {
        let mut json = Vec::new();
        if let Err(e) = bulwark_report::write_to(
            image_report,
            Format::Json,
            bulwark_report::RenderOptions::default(),
            &mut json,
        ) {
            notes.push(format!(
                "{}: cannot render the report for the upload: {e}",
                image.reference
            ));
            return;
        }
        for workload in &image.workloads {
            let asset = format!(
                "k8s://{}/{}/{}",
                self.cluster_name, workload.namespace, workload.name
            );
            let team = self
                .outcome
                .namespace_owners
                .get(&workload.namespace)
                .cloned();
            if let Err(e) = upload
                .for_asset(asset.clone(), team)
                .send(json.clone(), self.quiet)
            {
                notes.push(format!(
                    "{asset}: upload failed: {}",
                    bulwark_scan::error_text(e.as_ref())
                ));
            }
        }
    }
}

/// The registry host of an image reference (`docker.io` for a bare name).
fn registry_host(reference: &str) -> String {
    let first = reference.split('/').next().unwrap_or("");
    if reference.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        first.to_string()
    } else {
        "docker.io".to_string()
    }
}
