//! `bulwark config PATH...`: misconfiguration checks on Dockerfiles, Kubernetes manifests,
//! compose files and `daemon.json`, Docker host settings under `--host-root`, the user's Rego
//! policies, and per-control compliance reports.

use anyhow::Result;
use bulwark_report::Format;

pub use crate::cli::ConfigArgs;
use crate::config::{self, LegacyGate};
use bulwark_policy::settings::Origin;

pub fn run(args: ConfigArgs, matches: &clap::ArgMatches) -> Result<u8> {
    if args.paths.is_empty() && args.host_root.is_none() {
        anyhow::bail!(
            "name files or directories to check (bulwark config PATH...), or --host-root DIR"
        );
    }
    // bulwark.yaml, ignore files and gates are read and checked before any file is scanned.
    let settings = config::load(matches)?.settings(matches)?;
    let (policy, exit_code) = config::policy(&settings, LegacyGate::Misconfigurations)?;
    // `output` is not taken from the file: it names the image report, which a config check
    // run must not overwrite; an SBOM `format` from the file does not apply to config checks.
    let output = (settings.origin("output") != Some(Origin::File))
        .then(|| settings.path("output"))
        .flatten();
    let from_file = settings.origin("format") == Some(Origin::File);
    let chosen = config::format(&settings)
        .filter(|f| !(from_file && matches!(f, Format::CycloneDx | Format::Spdx)));
    let quiet = settings.bool("quiet");
    let compliance = args
        .compliance
        .as_deref()
        .map(|c| c.parse::<bulwark_misconfig::compliance::Target>())
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let format = crate::choose_format(chosen, output.is_some());
    if matches!(format, Format::CycloneDx | Format::Spdx) {
        anyhow::bail!(
            "bulwark config writes table, json, sarif, junit, html or markdown reports; SBOM formats are for images"
        );
    }
    let request = bulwark_scan::ConfigScan {
        paths: args.paths.clone(),
        rego: args.policy.clone(),
        namespaces: args.namespace.clone(),
        host_root: args.host_root.clone(),
        policy,
    };
    let sink = crate::progress::Bars::new(false, quiet);
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
        (Some(target), Format::Table) => {
            bulwark_misconfig::compliance::render_table(&scan.compliance(target))
        }
        (Some(target), _) => serde_json::to_string_pretty(&scan.compliance(target))? + "\n",
        (None, Format::Table) => {
            bulwark_report::text::misconfig_table(&report.misconfigurations, scan.files_scanned)
        }
        (None, _) => bulwark_report::render(report, format),
    };
    crate::write_output(output, &rendered)?;

    if !quiet {
        for e in &scan.file_errors {
            eprintln!("error: {e}");
        }
        for w in scan.file_warnings.iter().chain(&scan.outcome.warnings) {
            eprintln!("warning: {w}");
        }
    }
    let gate_failed = crate::gate_outcome(report, exit_code, quiet).is_some();
    let code = scan.exit_code(exit_code);
    let failed = scan.file_errors.len();
    if !gate_failed && code == crate::EXIT_INCOMPLETE && !quiet {
        eprintln!(
            "bulwark: {failed} file{} could not be checked; the results above are incomplete (exit {code})",
            if failed == 1 { "" } else { "s" },
        );
    }
    Ok(code)
}
