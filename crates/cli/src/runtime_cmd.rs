//! `bulwark runtime [CONTAINER...]`: audits running containers through the Docker or Podman
//! API and /proc (`bulwark-runtime`), scans each container's image once per image id
//! (`bulwark-scan`, source `docker:<id>` / `podman:<id>`), marks every vulnerability with
//! whether the container uses the package, and writes one report. `--watch` follows the
//! engine's events and prints what changed; `--upload` sends one report per container.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{Context, Result};
use bulwark_engine::{Client, Engine, EngineOptions};
use bulwark_policy::settings::Settings;
use bulwark_report::{Format, ScanReport};
use bulwark_runtime::procfs::ProcFs;
use bulwark_scan::{CancelToken, ImageScan, PolicySettings, Scanner};
use bulwark_types::{InUseState, Misconfiguration, Package, VulnerabilityFinding};

pub use crate::cli::{EngineArg, RuntimeArgs};
use crate::config::{self, LegacyGate};

/// What one audit pass found.
struct Pass {
    report: ScanReport,
    warnings: Vec<String>,
    /// Containers that could not be audited.
    errors: Vec<String>,
}

pub fn run(args: RuntimeArgs, matches: &clap::ArgMatches) -> Result<u8> {
    let settings = config::load(matches)?.settings(matches)?;
    let (policy, exit_code) = config::policy(&settings, LegacyGate::Misconfigurations)?;
    let format = crate::choose_format(config::format(&settings), settings.path("output").is_some());
    let upload = crate::upload::from_settings(&settings)?;
    let quiet = settings.bool("quiet");
    let engine = match args.engine {
        EngineArg::Docker => Engine::Docker,
        EngineArg::Podman => Engine::Podman,
    };
    let host = crate::request::host(&settings, matches)?;
    let options = EngineOptions {
        docker_host: settings
            .text("docker_host")
            .map(str::to_string)
            .or(host.engine.docker_host.clone()),
        podman_host: settings
            .text("podman_host")
            .map(str::to_string)
            .or(host.engine.podman_host.clone()),
        timeout: std::time::Duration::from_secs(
            settings.uint("engine_timeout").unwrap_or(300).max(1),
        ),
        ..host.engine.clone()
    };
    let client = Client::connect(engine, &options)?;
    let auditor = Auditor {
        client,
        settings,
        host,
        policy,
        no_image_scan: args.no_image_scan,
        proc: ProcFs::default(),
        scanned: RefCell::new(BTreeMap::new()),
    };

    let pass = auditor.pass(&args.containers)?;
    let code = finish(
        &pass,
        format,
        auditor.settings.path("output"),
        exit_code,
        quiet,
    )?;
    if let Some(upload) = &upload {
        if let Err(e) = send(upload, &pass.report, quiet) {
            eprintln!("error: {}", bulwark_scan::error_text(e.as_ref()));
            return Ok(crate::EXIT_ERROR);
        }
    }
    if !args.watch {
        return Ok(code);
    }
    watch(
        &auditor,
        &args.containers,
        pass,
        format,
        upload.as_ref(),
        quiet,
    )
}

/// An image's packages (with their file lists) and vulnerabilities.
type ScannedImage = (Vec<Package>, Vec<VulnerabilityFinding>);

struct Auditor {
    client: Client,
    settings: Settings,
    host: bulwark_scan::Host,
    policy: PolicySettings,
    no_image_scan: bool,
    proc: ProcFs,
    /// Images already scanned, by id: `--watch` audits again on every event, and an image's
    /// packages and vulnerabilities do not change while it is the same id.
    scanned: RefCell<BTreeMap<String, Option<ScannedImage>>>,
}

impl Auditor {
    /// Audits the named (else every running) container and builds the report.
    fn pass(&self, named: &[String]) -> Result<Pass> {
        let ids = bulwark_runtime::containers(&self.client, named)?;
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        let mut audited = Vec::new();
        for id in &ids {
            match bulwark_runtime::audit_container(&self.client, id, &self.proc) {
                Ok(a) => audited.push(a),
                Err(e) => errors.push(format!("container {id}: {e}")),
            }
        }
        if !named.is_empty() && audited.is_empty() && !errors.is_empty() {
            anyhow::bail!("{}", errors.join("; "));
        }
        // One scan per image id, however many containers run it.
        let mut images = self.scanned.borrow_mut();
        if !self.no_image_scan {
            for a in &audited {
                if a.audit.image_id.is_empty() || images.contains_key(&a.audit.image_id) {
                    continue;
                }
                let scanned = match self.scan_image(&a.image_source()) {
                    Ok((report, scan_warnings)) => {
                        warnings.extend(scan_warnings);
                        Some((report.packages, report.vulnerabilities))
                    }
                    Err(e) => {
                        warnings.push(format!(
                            "the image of container {} ({}) could not be scanned: {}",
                            a.audit.name,
                            a.audit.image,
                            bulwark_scan::error_text(e.as_ref())
                        ));
                        None
                    }
                };
                images.insert(a.audit.image_id.clone(), scanned);
            }
        }
        let reference = format!(
            "{}:{}",
            self.client.engine().name(),
            self.client.socket().display()
        );
        let mut report = ScanReport::for_files(reference, env!("CARGO_PKG_VERSION"));
        let mut findings = Vec::new();
        for mut a in audited {
            if let Some(Some((packages, vulns))) = images.get(&a.audit.image_id) {
                report.vulnerabilities.extend(a.attach(packages, vulns));
            }
            warnings.extend(
                a.audit
                    .warnings
                    .iter()
                    .map(|w| format!("container {}: {w}", a.audit.name)),
            );
            findings.append(&mut a.findings);
            report.containers.push(a.audit);
        }
        report.add_misconfigurations(findings);
        report.vulnerabilities.sort_by(|a, b| {
            a.priority_cmp(b).then_with(|| {
                let container =
                    |f: &VulnerabilityFinding| f.in_use.as_ref().map(|u| u.container.clone());
                container(a).cmp(&container(b))
            })
        });
        report.containers.sort_by(|a, b| a.name.cmp(&b.name));
        let policy_warnings = self.policy.policy.apply(&mut report, self.policy.today);
        warnings.extend(policy_warnings.iter().map(|w| w.to_string()));
        // Paths, names and advice come from the containers: a credential in one is redacted.
        let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
        report.redact_strings(&|s: &mut String| redactor.redact_in_place(s));
        let warnings = warnings
            .iter()
            .map(|w| redactor.redact(w).into_owned())
            .collect();
        Ok(Pass {
            report,
            warnings,
            errors,
        })
    }

    /// The image's packages (with their file lists) and vulnerabilities; policy is applied
    /// once, to the whole runtime report.
    fn scan_image(&self, source: &str) -> Result<(ScanReport, Vec<String>)> {
        let mut scan = ImageScan::from_settings(
            source,
            &self.settings,
            self.host.clone(),
            PolicySettings::default(),
            true,
        )?;
        let mut warnings = Vec::new();
        let db_ready = scan
            .settings
            .advisories
            .as_ref()
            .is_some_and(|a| a.db_dir.exists());
        scan.settings.scanners = Some(if db_ready {
            vec![Scanner::Sbom, Scanner::Vuln]
        } else {
            warnings.push(
                "no advisory database: the images' vulnerabilities are not matched (`bulwark db update`, or --db-dir)".to_string(),
            );
            vec![Scanner::Sbom]
        });
        let outcome = scan.run(
            &crate::progress::Bars::new(false, true),
            &CancelToken::new(),
        )?;
        warnings.extend(outcome.warnings);
        Ok((outcome.report, warnings))
    }
}

/// Prints the report and the warnings, and picks the exit code.
fn finish(
    pass: &Pass,
    format: Format,
    output: Option<&std::path::Path>,
    exit_code: u8,
    quiet: bool,
) -> Result<u8> {
    let report = &pass.report;
    match format {
        Format::Table => crate::write_output(output, &table(report))?,
        Format::CycloneDx | Format::Spdx => anyhow::bail!(
            "bulwark runtime writes table, json, sarif, junit, html or markdown reports; SBOM formats are for images"
        ),
        _ => crate::write_report(report, format, output)?,
    }
    if !quiet {
        for w in &pass.warnings {
            eprintln!("warning: {w}");
        }
    }
    for e in &pass.errors {
        eprintln!("error: {e}");
    }
    let gate = crate::gate_outcome(report, exit_code, quiet);
    Ok(match gate {
        Some(code) => code,
        None if !pass.errors.is_empty() => crate::EXIT_INCOMPLETE,
        None => crate::EXIT_OK,
    })
}

/// The table: per container, its capabilities, findings, drift, vulnerabilities in use and
/// the least-privilege settings.
fn table(report: &ScanReport) -> String {
    let mut s = String::new();
    if report.containers.is_empty() {
        s.push_str("No running containers.\n");
    }
    for c in &report.containers {
        let _ = writeln!(
            s,
            "Container {} ({} {}, image {}{})",
            c.name,
            c.engine,
            &c.id[..c.id.len().min(12)],
            c.image,
            c.pid.map(|p| format!(", pid {p}")).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "  Capabilities declared:  {}",
            list_or_none(&c.declared_capabilities)
        );
        match &c.effective_capabilities {
            Some(eff) => {
                let _ = writeln!(s, "  Capabilities effective: {}", list_or_none(eff));
            }
            None => s.push_str("  Capabilities effective: unknown (/proc not readable)\n"),
        }
        let location = bulwark_runtime::location_path(&c.name);
        let findings: Vec<&Misconfiguration> = report
            .misconfigurations
            .iter()
            .filter(|m| m.location.path == location)
            .collect();
        if findings.is_empty() {
            s.push_str("  Findings: none\n");
        } else {
            let _ = writeln!(s, "  Findings ({}):", findings.len());
            for f in findings {
                let controls: Vec<String> = f
                    .compliance
                    .iter()
                    .filter(|c| {
                        matches!(
                            c.framework,
                            bulwark_types::Framework::CisDocker
                                | bulwark_types::Framework::Nist800190
                        )
                    })
                    .map(|c| format!("{} {}", c.framework.as_str(), c.control))
                    .collect();
                let _ = writeln!(
                    s,
                    "    {:<8} {}  {}  [{}]",
                    f.severity.to_string().to_uppercase(),
                    f.check_id,
                    f.message,
                    controls.join(", ")
                );
            }
        }
        if !c.drift.is_empty() {
            let _ = writeln!(s, "  Drift since start ({} files):", c.drift.len());
            for d in &c.drift {
                let mut marks = Vec::new();
                if d.executable {
                    marks.push("executable");
                }
                if d.package_database {
                    marks.push("package database");
                }
                let marks = if marks.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", marks.join(", "))
                };
                let _ = writeln!(s, "    {:<8} {}{marks}", d.kind, d.path);
            }
        }
        let vulns: Vec<&VulnerabilityFinding> = report
            .vulnerabilities
            .iter()
            .filter(|v| v.in_use.as_ref().is_some_and(|u| u.container == c.name))
            .collect();
        if !vulns.is_empty() {
            let count = |state: InUseState| {
                vulns
                    .iter()
                    .filter(|v| v.in_use.as_ref().is_some_and(|u| u.state == state))
                    .count()
            };
            let _ = writeln!(
                s,
                "  Vulnerabilities ({}: {} loaded, {} not loaded, {} unknown):",
                vulns.len(),
                count(InUseState::Loaded),
                count(InUseState::NotLoaded),
                count(InUseState::Unknown)
            );
            for v in vulns {
                let in_use = v.in_use.as_ref().expect("filtered on in_use");
                let evidence = in_use
                    .evidence
                    .first()
                    .map(|e| format!(" ({} by pid {})", e.path, e.pid))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "    {:<8} {:<20} {} {}  {}{evidence}",
                    v.severity.to_string().to_uppercase(),
                    v.id,
                    v.package.name,
                    v.installed_version,
                    in_use.state.as_str()
                );
            }
        }
        let a = &c.advice;
        s.push_str("  Least privilege:\n");
        if !a.drop_capabilities.is_empty() {
            let _ = writeln!(
                s,
                "    capabilities to drop: {}",
                a.drop_capabilities.join(", ")
            );
        }
        if !a.read_only_mounts.is_empty() {
            let _ = writeln!(
                s,
                "    mounts to make read-only: {}",
                a.read_only_mounts.join(", ")
            );
        }
        let _ = writeln!(s, "    docker run {} IMAGE", a.docker_run.join(" "));
        s.push_str("    compose:\n");
        for line in a.compose.lines() {
            let _ = writeln!(s, "      {line}");
        }
        s.push_str("    kubernetes:\n");
        for line in a.kubernetes.lines() {
            let _ = writeln!(s, "      {line}");
        }
        s.push('\n');
    }
    s
}

fn list_or_none(caps: &[String]) -> String {
    if caps.is_empty() {
        "none".to_string()
    } else {
        caps.join(", ")
    }
}

/// One report per container, uploaded as asset `container://<host>/<name>`.
fn send(upload: &crate::upload::Upload, report: &ScanReport, quiet: bool) -> Result<()> {
    let host = hostname();
    for c in &report.containers {
        let mut one = report.clone();
        let location = bulwark_runtime::location_path(&c.name);
        one.containers.retain(|x| x.name == c.name);
        one.misconfigurations
            .retain(|m| m.location.path == location);
        one.vulnerabilities
            .retain(|v| v.in_use.as_ref().is_some_and(|u| u.container == c.name));
        one.image.reference = format!("container://{host}/{}", c.name);
        let mut json = Vec::new();
        bulwark_report::write_to(
            &one,
            Format::Json,
            bulwark_report::RenderOptions::default(),
            &mut json,
        )
        .context("cannot render the report for the upload")?;
        upload.send_as(json, Some(&format!("container://{host}/{}", c.name)), quiet)?;
    }
    Ok(())
}

/// This machine's name (the engine is on its local socket).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// What one pass found, as comparable lines: each container, each finding, each drift entry
/// and each loaded vulnerability.
fn state_lines(report: &ScanReport) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for c in &report.containers {
        lines.insert(format!("container {} running (image {})", c.name, c.image));
        for d in &c.drift {
            lines.insert(format!("container {}: drift {} {}", c.name, d.kind, d.path));
        }
    }
    for m in &report.misconfigurations {
        let name = m
            .location
            .path
            .strip_prefix("container:")
            .unwrap_or(&m.location.path);
        lines.insert(format!("container {name}: {} {}", m.check_id, m.message));
    }
    for v in &report.vulnerabilities {
        if let Some(u) = v.in_use.as_ref().filter(|u| u.state == InUseState::Loaded) {
            lines.insert(format!(
                "container {}: {} in {} is loaded",
                u.container, v.id, v.package.name
            ));
        }
    }
    lines
}

/// Follows the engine's container events; after each start, stop or removal, audits again and
/// prints the lines that appeared (`+`) and went (`-`), or as JSON one object per change set.
fn watch(
    auditor: &Auditor,
    named: &[String],
    first: Pass,
    format: Format,
    upload: Option<&crate::upload::Upload>,
    quiet: bool,
) -> Result<u8> {
    let mut previous = state_lines(&first.report);
    let events = auditor.client.container_events()?;
    if !quiet {
        eprintln!(
            "watching {} for container starts and stops (Ctrl-C to stop)",
            auditor.client.engine()
        );
    }
    for event in events {
        let event = event.map_err(anyhow::Error::msg)?;
        let action = event
            .get("Action")
            .or_else(|| event.get("status"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_string();
        let actor = event
            .pointer("/Actor/Attributes/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_string();
        let pass = match auditor.pass(named) {
            Ok(pass) => pass,
            Err(e) => {
                eprintln!("error: re-audit after {action} of {actor}: {e}");
                continue;
            }
        };
        let now = state_lines(&pass.report);
        let added: Vec<&String> = now.difference(&previous).collect();
        let removed: Vec<&String> = previous.difference(&now).collect();
        if !added.is_empty() || !removed.is_empty() {
            let mut out = std::io::stdout().lock();
            if format == Format::Json {
                let change = serde_json::json!({
                    "event": action, "container": actor, "added": added, "removed": removed,
                });
                writeln!(out, "{change}")?;
            } else {
                writeln!(out, "# {action} {actor}")?;
                for line in &removed {
                    writeln!(out, "- {line}")?;
                }
                for line in &added {
                    writeln!(out, "+ {line}")?;
                }
            }
            out.flush()?;
            if let Some(upload) = upload {
                if let Err(e) = send(upload, &pass.report, quiet) {
                    eprintln!("error: {}", bulwark_scan::error_text(e.as_ref()));
                }
            }
        }
        previous = now;
    }
    anyhow::bail!(
        "{} closed its event stream",
        auditor.client.engine().title()
    )
}
