//! `bulwark`: the command-line edge. Parses flags, builds the pipeline once, runs it, and maps
//! outcomes to exit codes. All scanning logic lives in the library crates.

mod admission_cmd;
mod cli;
mod config;
mod db;
mod k8s_cmd;
mod misconfig_cmd;
mod progress;
mod registry_cmd;
mod request;
mod runtime_cmd;
mod server_cmd;
mod sign;
mod upload;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use bulwark_policy::build::LegacyGate;
use bulwark_policy::settings::Settings;
use bulwark_report::{Format, ScanReport};
use bulwark_scan::{CancelToken, ImageScan, SbomScan};
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use cli::{Cli, Command, ImageArgs, SbomArgs};

pub(crate) use bulwark_policy::verdict::{EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Where each value came from (flag, variable, default) decides whether bulwark.yaml fills it.
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let result = match cli.command {
        Command::Image(args) => scan_image(args, &sub, false),
        Command::Sbom(args) => scan_sbom(args, &sub),
        Command::Db(args) => (|| {
            let loaded = config::load(&sub)?;
            let update = sub.subcommand_matches("update");
            let update = update.map(|m| loaded.settings(m)).transpose()?;
            db::run(args, &loaded.settings(&sub)?, update.as_ref())
        })(),
        Command::Config(args) => misconfig_cmd::run(args, &sub),
        Command::Registry(args) => registry_cmd::run(args, &sub),
        Command::Sign(args) => sign::sign(args, &sub),
        Command::Verify(args) => sign::verify(args, &sub),
        Command::Fs(args) => scan_image(args, &sub, true),
        Command::Server(args) => server_cmd::run(args, &sub),
        Command::K8s(args) => k8s_cmd::run(*args, &sub),
        Command::Secrets(args) => match args.command {
            cli::SecretsCommand::Rules { markdown } => {
                if markdown {
                    print!("{}", bulwark_secrets::rules_markdown());
                } else {
                    print!("{}", bulwark_secrets::rules_table());
                }
                Ok(EXIT_OK)
            }
        },
        Command::Runtime(args) => runtime_cmd::run(args, &sub),
        Command::ConfigReference => {
            print!("{}", config::reference_markdown(&Cli::command()));
            Ok(EXIT_OK)
        }
        Command::Admission(args) => admission_cmd::run(args, &sub),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Through the secret rules: an error can quote input (a config value, a history line).
            eprintln!("error: {}", bulwark_scan::error_text(err.as_ref()));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Stage one: bulwark.yaml and the flags resolved and checked, the request built; nothing
/// is read from the image yet. Returns the request, the settings, the exit code of a failed
/// gate and the output format.
pub(crate) fn image_request(
    reference: &str,
    matches: &ArgMatches,
) -> Result<(ImageScan, Settings, u8, Format)> {
    let settings = config::load(matches)?.settings(matches)?;
    let (policy, exit_code) = config::policy(&settings, LegacyGate::VulnerabilitiesAndSecrets)?;
    let format = choose_format(config::format(&settings), settings.path("output").is_some());
    // An SBOM format's vulnerabilities refer to its components: it always lists them.
    // So does an upload: the server matches the packages itself.
    let keep_packages =
        matches!(format, Format::CycloneDx | Format::Spdx) || settings.text("upload").is_some();
    let host = request::host(&settings, matches)?;
    let request = ImageScan::from_settings(reference, &settings, host, policy, keep_packages)?;
    Ok((request, settings, exit_code, format))
}

/// `bulwark image REF`, or with `fs` `bulwark fs DIR`.
fn scan_image(args: ImageArgs, matches: &ArgMatches, fs: bool) -> Result<u8> {
    let root = std::path::PathBuf::from(&args.reference);
    let reference = match fs {
        true => format!("dir:{}", args.reference),
        false => args.reference,
    };
    let (request, settings, exit_code, format) = image_request(&reference, matches)?;
    let upload = upload::from_settings(&settings)?;
    let quiet = settings.bool("quiet");
    let bars = progress::Bars::new(std::io::stderr().is_terminal(), quiet);
    let cancel = CancelToken::new();
    let outcome = if fs {
        let settings = request.settings;
        bulwark_scan::FsScan { root, settings }.run(&bars, &cancel)?
    } else {
        request.run(&bars, &cancel)?
    };
    drop(bars);
    let report_json = match &upload {
        Some(_) => {
            let mut json = Vec::new();
            bulwark_report::write_to(
                &outcome.report,
                Format::Json,
                bulwark_report::RenderOptions::default(),
                &mut json,
            )
            .context("cannot render the report for the upload")?;
            Some(json)
        }
        None => None,
    };
    let code = finish(outcome, format, settings.path("output"), exit_code, quiet)?;
    if let (Some(upload), Some(json)) = (upload, report_json) {
        // The report is already out; a failed upload still fails the run.
        if let Err(e) = upload.send(json, quiet) {
            eprintln!("error: {}", bulwark_scan::error_text(e.as_ref()));
            return Ok(EXIT_ERROR);
        }
    }
    Ok(code)
}

fn scan_sbom(args: SbomArgs, matches: &ArgMatches) -> Result<u8> {
    let settings = config::load(matches)?.settings(matches)?;
    let (policy, exit_code) = config::policy(&settings, LegacyGate::VulnerabilitiesAndSecrets)?;
    let format = choose_format(config::format(&settings), settings.path("output").is_some());
    let cache_dir = dirs::cache_dir();
    let request = SbomScan::from_settings(args.file, &settings, cache_dir.as_deref(), policy)?;
    let quiet = settings.bool("quiet");
    let outcome = request.run(&progress::Bars::new(false, quiet), &CancelToken::new())?;
    finish(outcome, format, settings.path("output"), exit_code, quiet)
}

/// Renders the report, says what went wrong on stderr, and picks the exit code.
fn finish(
    outcome: bulwark_scan::ScanOutcome,
    format: Format,
    output: Option<&std::path::Path>,
    exit_code: u8,
    quiet: bool,
) -> Result<u8> {
    let report = &outcome.report;
    write_report(report, format, output)?;
    if !quiet {
        for line in bulwark_report::text::diagnostic_lines(&report.diagnostics) {
            eprintln!("{line}");
        }
        for w in &outcome.warnings {
            eprintln!("warning: {w}");
        }
    }
    gate_outcome(report, exit_code, quiet);
    let code = bulwark_policy::verdict::exit_code(report, exit_code);
    if code == EXIT_INCOMPLETE && !quiet {
        eprintln!("bulwark: some files could not be analyzed; the results above may be incomplete (exit {EXIT_INCOMPLETE})");
    }
    Ok(code)
}

/// Says on stderr which gates failed and why (unless quiet); the exit code when one did and
/// failing is on.
pub(crate) fn gate_outcome(report: &ScanReport, exit_code: u8, quiet: bool) -> Option<u8> {
    if !quiet {
        for line in bulwark_policy::verdict::failed_gate_lines(report, exit_code) {
            eprintln!("{line}");
        }
    }
    bulwark_policy::verdict::gate_exit_code(report, exit_code)
}

/// Table on a terminal, JSON when piped or written to a file, unless the user chose.
pub(crate) fn choose_format(chosen: Option<Format>, to_file: bool) -> Format {
    match chosen {
        Some(format) => format,
        None if !to_file && std::io::stdout().is_terminal() => Format::Table,
        None => Format::Json,
    }
}

/// Colours only for a table going to a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>).
fn render_options(to_stdout: bool) -> bulwark_report::RenderOptions {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    bulwark_report::RenderOptions {
        color: to_stdout && !no_color && std::io::stdout().is_terminal(),
    }
}

/// Streams the rendered report to `path` or standard output (a closed pipe is not an error).
fn write_report(
    report: &bulwark_report::ScanReport,
    format: Format,
    path: Option<&std::path::Path>,
) -> Result<()> {
    let options = render_options(path.is_none());
    match path {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            bulwark_report::write_to(report, format, options, &mut out)
                .and_then(|_| out.flush())
                .with_context(|| format!("cannot write the report to {}", path.display()))
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match bulwark_report::write_to(report, format, options, &mut out)
                .and_then(|_| out.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(e).context("cannot write the report to standard output")
                }
                _ => Ok(()),
            }
        }
    }
}

pub(crate) fn write_output(path: Option<&std::path::Path>, rendered: &str) -> Result<()> {
    match path {
        Some(path) => std::fs::write(path, rendered.as_bytes())
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(rendered.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(e).context("cannot write the report to standard output")
                }
                _ => Ok(()),
            }
        }
    }
}
