//! `bulwark config PATH...`: misconfiguration checks on Dockerfiles, Kubernetes manifests,
//! compose files and `daemon.json`, Docker host settings under `--host-root`, the user's Rego
//! policies, and per-control compliance reports.

use std::fmt::Write as _;

use anyhow::Result;
use bulwark_report::Format;
use bulwark_types::{Misconfiguration, Severity};

pub use crate::cli::ConfigArgs;
use crate::config::{self, LegacyGate};

pub fn run(mut args: ConfigArgs, matches: &clap::ArgMatches) -> Result<u8> {
    if args.paths.is_empty() && args.host_root.is_none() {
        anyhow::bail!(
            "name files or directories to check (bulwark config PATH...), or --host-root DIR"
        );
    }
    // bulwark.yaml, ignore files and gates are read and checked before any file is scanned.
    let loaded = config::load(&args.policy_args)?;
    loaded.fill_config(&mut args, matches);
    let resolved = config::resolve_for(
        &loaded,
        &args.gate,
        &args.policy_args,
        matches,
        LegacyGate::Misconfigurations,
    )?;
    let compliance = args
        .compliance
        .as_deref()
        .map(|c| c.parse::<bulwark_misconfig::compliance::Target>())
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let format = crate::choose_format(args.format, args.output.is_some());
    if matches!(format, Format::CycloneDx | Format::Spdx) {
        anyhow::bail!(
            "bulwark config writes table, json, sarif, junit, html or markdown reports; SBOM formats are for images"
        );
    }
    let exit_code = resolved.exit_code;
    let request = bulwark_scan::ConfigScan {
        paths: args.paths.clone(),
        rego: args.policy.clone(),
        namespaces: args.namespace.clone(),
        host_root: args.host_root.clone(),
        policy: crate::request::policy(resolved),
    };
    let sink = crate::progress::Bars::new(false, args.quiet);
    let scan = match request.run(&sink, &bulwark_scan::CancelToken::new()) {
        Ok(scan) => scan,
        // A broken policy checks nothing: each file's problem, then the count.
        Err(bulwark_scan::Error::Policies(errors)) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return Err(bulwark_scan::Error::Policies(errors).into());
        }
        Err(e) => return Err(e.into()),
    };
    let report = &scan.outcome.report;
    let rendered = match (compliance, format) {
        (Some(target), format) => {
            let r = bulwark_misconfig::compliance::report(
                target,
                &report.misconfigurations,
                &scan.checked,
                &scan.not_applicable,
            );
            match format {
                Format::Table => bulwark_misconfig::compliance::render_table(&r),
                _ => serde_json::to_string_pretty(&r)? + "\n",
            }
        }
        (None, Format::Table) => render_table(&report.misconfigurations, scan.files_scanned),
        (None, _) => bulwark_report::render(report, format),
    };
    crate::write_output(args.output.as_deref(), &rendered)?;

    if !args.quiet {
        for e in &scan.file_errors {
            eprintln!("error: {e}");
        }
        for w in scan.file_warnings.iter().chain(&scan.outcome.warnings) {
            eprintln!("warning: {w}");
        }
    }
    if let Some(code) = crate::gate_outcome(report, exit_code, args.quiet) {
        return Ok(code);
    }
    if !scan.file_errors.is_empty() {
        if !args.quiet {
            eprintln!(
                "bulwark: {} file{} could not be checked; the results above are incomplete (exit {})",
                scan.file_errors.len(),
                if scan.file_errors.len() == 1 { "" } else { "s" },
                crate::EXIT_INCOMPLETE
            );
        }
        return Ok(crate::EXIT_INCOMPLETE);
    }
    Ok(crate::EXIT_OK)
}

/// Findings as a table: severity, check, place, message; a count per severity at the end.
pub fn render_table(findings: &[Misconfiguration], files: usize) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(
            out,
            "No misconfigurations found ({files} file{} checked).",
            if files == 1 { "" } else { "s" }
        );
        return out;
    }
    let place = |f: &Misconfiguration| {
        let mut p = f.location.path.clone();
        if let Some(l) = f.location.line {
            let _ = write!(p, ":{l}");
        }
        if let Some(layer) = &f.location.layer {
            let _ = write!(p, " (layer {})", layer.index);
        }
        p
    };
    let rows: Vec<[String; 4]> = findings
        .iter()
        .map(|f| {
            [
                f.severity.as_str().to_ascii_uppercase(),
                f.check_id.clone(),
                place(f),
                f.message.clone(),
            ]
        })
        .collect();
    let headers = ["SEVERITY", "CHECK", "LOCATION", "MESSAGE"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let _ = writeln!(out, "Misconfigurations ({})", findings.len());
    let _ = writeln!(
        out,
        "{:w0$}  {:w1$}  {:w2$}  {}",
        headers[0], headers[1], headers[2], headers[3]
    );
    for r in &rows {
        let _ = writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3]);
    }
    let mut by_sev: Vec<(Severity, usize)> = Vec::new();
    for f in findings {
        match by_sev.iter_mut().find(|(s, _)| *s == f.severity) {
            Some((_, n)) => *n += 1,
            None => by_sev.push((f.severity, 1)),
        }
    }
    by_sev.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let summary: Vec<String> = by_sev
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\n{} file{} checked: {}",
        files,
        if files == 1 { "" } else { "s" },
        summary.join(", ")
    );
    out
}
