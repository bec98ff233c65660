//! `bulwark`: the command-line edge. Parses flags, builds the pipeline once, runs it, and maps
//! outcomes to exit codes. All scanning logic lives in the library crates.

mod cli;
mod config;
mod db;
mod misconfig_cmd;
mod plan;
mod progress;
mod registry_cmd;
mod sign;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use bulwark_analyze::{assemble, LayerCache, Walker};
use bulwark_image::{Limits, Platform, SourceRef};
use bulwark_report::{Format, ScanReport};
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use cli::{Cli, Command, FormatArg, ImageArgs, SbomArgs};

/// Exit codes (documented in README and docs/exit-codes.md).
pub(crate) const EXIT_OK: u8 = 0;
const EXIT_ERROR: u8 = 2;
pub(crate) const EXIT_INCOMPLETE: u8 = 3;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Where each value came from (flag, variable, default) decides whether bulwark.yaml fills it.
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let result = match cli.command {
        Command::Image(args) => scan_image(args, &sub),
        Command::Sbom(args) => scan_sbom(args, &sub),
        Command::Db(mut args) => (|| {
            let loaded = config::load(&cli::PolicyArgs::from_env())?;
            args.db_dir = loaded.db_dir(args.db_dir.take(), &sub);
            if let (db::DbCommand::Update(u), Some(m)) =
                (&mut args.command, sub.subcommand_matches("update"))
            {
                loaded.fill_update(u, m);
            }
            db::run(args)
        })(),
        Command::Config(args) => misconfig_cmd::run(args, &sub),
        Command::Registry(args) => registry_cmd::run(args),
        Command::Sign(args) => sign::sign(args),
        Command::Verify(args) => sign::verify(args),
        Command::Fs(mut args) => {
            args.reference = format!("dir:{}", args.reference);
            scan_image(args, &sub)
        }
        Command::ConfigReference => {
            print!("{}", config::reference_markdown(&Cli::command()));
            Ok(EXIT_OK)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // An error can quote input (a config value, a history line): through the rules too.
            let message = error_message(&err);
            let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
            eprintln!("error: {}", redactor.redact(&message));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes, each said once: library errors already include their cause in
/// their message (`layer 0 (…): blob digest mismatch …`) while anyhow contexts do not, so
/// `{:#}` would print the library's causes twice.
fn error_message(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

fn scan_image(mut args: ImageArgs, matches: &ArgMatches) -> Result<u8> {
    // Stage one: validate everything the user said before touching the image.
    let loaded = config::load(&args.policy)?;
    loaded.fill_image(&mut args, matches);
    let mut resolved = config::resolve(&loaded, &args.gate, &args.policy, matches)?;
    let plan = plan::ScanPlan::new(args.scanners.as_deref(), &mut resolved);
    let reference = SourceRef::parse(&args.reference)?;
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>().map_err(anyhow::Error::msg)?,
        None => Platform::host(),
    };
    let format = choose_format(args.format, args.output.is_some());
    let limits = Limits {
        max_layer_bytes: args.max_layer_size,
        max_ratio: args.max_layer_ratio,
        ..Limits::default()
    };
    let cache = if args.no_cache {
        None
    } else {
        let dir = match &args.cache_dir {
            Some(d) => d.clone(),
            None => dirs::cache_dir()
                .context(
                    "no user cache directory is known here; pass --cache-dir DIR or --no-cache",
                )?
                .join("bulwark"),
        };
        Some(LayerCache::open(dir)?)
    };

    // Stage two: build the pipeline once and run it.
    let mut analyzers = if plan.catalog {
        bulwark_catalog::analyzers()
    } else {
        Vec::new()
    };
    let secret_scanner = if plan.secrets {
        Some(secret_scanner(&args)?)
    } else {
        None
    };
    if let Some(scanner) = &secret_scanner {
        analyzers.push(Box::new(bulwark_secrets::SecretAnalyzer::new(
            scanner.clone(),
        )));
    }
    if plan.misconfig {
        analyzers.push(Box::new(bulwark_misconfig::in_image::ConfigFileAnalyzer));
    }
    let vuln_store = if plan.vuln {
        open_vuln_store(&args.vuln, plan.vuln_required, args.quiet)?
    } else {
        None
    };
    // Options that change what analyzers report are part of every layer's cache key.
    let options_key = format!(
        "secret-max={};secret-config={}",
        args.secret_max_file_size,
        match &args.secret_config {
            Some(p) => std::fs::read(p)
                .map(|b| content_key(&b))
                .unwrap_or_default(),
            None => String::new(),
        }
    );
    let registry_options = registry_cmd::options(&args.registry)?;
    let reference = match &args.registry.require_signature {
        Some(key) => sign::require_signature(&reference, key, &registry_options)?,
        None => reference,
    };
    let engine_options = bulwark_image::engine::EngineOptions {
        docker_host: args
            .engine
            .docker_host
            .clone()
            .or(bulwark_image::engine::EngineOptions::default().docker_host),
        podman_host: args
            .engine
            .podman_host
            .clone()
            .or(bulwark_image::engine::EngineOptions::default().podman_host),
        timeout: std::time::Duration::from_secs(args.engine.engine_timeout.max(1)),
        ..bulwark_image::engine::EngineOptions::default()
    };
    let sources = if args.engine.source.is_empty() {
        bulwark_image::engine::Source::DEFAULT.to_vec()
    } else {
        args.engine.source.clone()
    };
    let image = bulwark_image::open_with_sources(
        &reference,
        &platform,
        &registry_options,
        &engine_options,
        &sources,
    )?;
    let walker = Walker::new(&analyzers)
        .with_cache(cache.as_ref())
        .with_limits(limits)
        .with_options_key(options_key)
        .with_budget(bulwark_analyze::MemoryBudget::new(args.max_memory));
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let bars = progress::Bars::new(image.layers().len(), show_progress);
    let walked = walker.walk(&image, &bars)?;
    drop(bars);
    let facts = assemble(&image, walked);
    // The checks that need the file index run first: the report then takes the facts it keeps
    // by value and the index is freed.
    let misconfigurations = if plan.misconfig {
        let mut found = bulwark_misconfig::image_config::scan(&image, &facts);
        found.extend(bulwark_misconfig::in_image::findings(&facts));
        found
    } else {
        Vec::new()
    };
    let mut report = ScanReport::new(&image, facts, env!("CARGO_PKG_VERSION"));
    // Redaction holds whether or not secrets were asked for: the values found in the config
    // and history, credential assignments, and whatever the rules match.
    let redaction_scanner = secret_scanner
        .clone()
        .unwrap_or_else(bulwark_secrets::Scanner::builtin);
    let config_secrets = bulwark_secrets::scan_image_config(&redaction_scanner, &image);
    let redactor = bulwark_secrets::Redactor::new(redaction_scanner, config_secrets.values);
    if secret_scanner.is_some() {
        report.add_secrets(config_secrets.findings);
    }
    report.add_misconfigurations(misconfigurations);
    if let Some(store) = &vuln_store {
        let outcome = bulwark_vulndb::match_packages(
            store,
            report.os.as_ref(),
            &report.packages,
            &bulwark_vulndb::MatchOptions::default(),
        );
        report.set_vulnerabilities(outcome, args.vuln.ignore_unfixed);
    }
    let warnings = resolved.policy.apply(&mut report, config::today());
    // Packages were catalogued for what needed them; the list is shown when asked for, and
    // always in an SBOM format, whose vulnerabilities refer to its components.
    if !plan.report_packages && !matches!(format, Format::CycloneDx | Format::Spdx) {
        report.packages.clear();
    }
    let warnings = redact_report(&mut report, &redactor, warnings);
    let rendered =
        bulwark_report::render_with(&report, format, render_options(args.output.is_none()));

    write_output(args.output.as_deref(), &rendered)?;

    if !args.quiet {
        print_diagnostics(&report.diagnostics);
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    if let Some(code) = gate_outcome(&report, resolved.exit_code, args.quiet) {
        return Ok(code);
    }
    if report.has_errors() {
        if !args.quiet {
            eprintln!("bulwark: some files could not be analyzed; the results above may be incomplete (exit {EXIT_INCOMPLETE})");
        }
        return Ok(EXIT_INCOMPLETE);
    }
    Ok(EXIT_OK)
}

/// The one redaction step: every string of the report (so every format made from it, and the
/// diagnostics and gate reasons printed from it) and the policy warnings, after policy ran
/// on the unredacted findings and before anything is rendered.
pub(crate) fn redact_report(
    report: &mut ScanReport,
    redactor: &bulwark_secrets::Redactor,
    warnings: Vec<impl std::fmt::Display>,
) -> Vec<String> {
    report.redact_strings(&|s: &mut String| redactor.redact_in_place(s));
    warnings
        .iter()
        .map(|w| redactor.redact(&w.to_string()).into_owned())
        .collect()
}

/// Says which gates failed and why; the exit code when one did and failing is on.
pub(crate) fn gate_outcome(report: &ScanReport, exit_code: u8, quiet: bool) -> Option<u8> {
    let failed: Vec<_> = report.gates.iter().filter(|g| !g.passed).collect();
    if failed.is_empty() {
        return None;
    }
    if !quiet {
        for g in &failed {
            if exit_code == 0 {
                eprintln!(
                    "bulwark: gate failed: {}: {} (reported only: exit code 0)",
                    g.gate, g.reason
                );
            } else {
                eprintln!(
                    "bulwark: gate failed: {}: {} (exit {exit_code})",
                    g.gate, g.reason
                );
            }
        }
    }
    (exit_code != 0).then_some(exit_code)
}

/// Errors on stderr in full; warnings (limits hit by design) only the first few, since a
/// size cap can trip on many files: the JSON report keeps them all.
fn print_diagnostics(diagnostics: &[bulwark_analyze::Diagnostic]) {
    const MAX_WARNINGS: usize = 5;
    let mut warnings = 0;
    for d in diagnostics {
        let level = match d.level {
            bulwark_analyze::DiagnosticLevel::Warning => {
                warnings += 1;
                if warnings > MAX_WARNINGS {
                    continue;
                }
                "warning"
            }
            bulwark_analyze::DiagnosticLevel::Error => "error",
        };
        let mut place = String::new();
        if let Some(l) = d.layer {
            place.push_str(&format!("layer {l}: "));
        }
        if let Some(p) = &d.path {
            place.push_str(&format!("{p}: "));
        }
        eprintln!("{level}: {place}{}", d.message);
    }
    if warnings > MAX_WARNINGS {
        eprintln!(
            "warning: {} more warnings (see the JSON report's diagnostics)",
            warnings - MAX_WARNINGS
        );
    }
}

/// The built-in scanner, or the one `--secret-config` describes; config errors name the file
/// and stop before any work starts.
fn secret_scanner(args: &ImageArgs) -> Result<bulwark_secrets::Scanner> {
    let scanner = match &args.secret_config {
        None => bulwark_secrets::Scanner::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the secret config {}", path.display()))?;
            let config = bulwark_secrets::SecretConfig::parse(&text)
                .map_err(|e| anyhow::anyhow!("secret config {}: {e}", path.display()))?;
            config
                .scanner()
                .map_err(|e| anyhow::anyhow!("secret config {}: {e}", path.display()))?
        }
    };
    Ok(scanner.with_max_file_bytes(args.secret_max_file_size))
}

/// A short stable key for file content (FNV-1a; this only separates cache entries).
fn content_key(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Table on a terminal, JSON when piped or written to a file, unless the user chose.
pub(crate) fn choose_format(chosen: Option<FormatArg>, to_file: bool) -> Format {
    match chosen {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Cyclonedx) => Format::CycloneDx,
        Some(FormatArg::Spdx) => Format::Spdx,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Junit) => Format::Junit,
        Some(FormatArg::Html) => Format::Html,
        Some(FormatArg::Markdown) => Format::Markdown,
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

fn scan_sbom(mut args: SbomArgs, matches: &ArgMatches) -> Result<u8> {
    let loaded = config::load(&args.policy)?;
    loaded.fill_sbom(&mut args, matches);
    let mut resolved = config::resolve(&loaded, &args.gate, &args.policy, matches)?;
    // A vulnerability gate needs matching: with it, a missing database is an error, and
    // --no-vuln contradicts it; `--exit-code N` alone judges what is matched.
    let vuln_gate = resolved.policy.gates.vulnerabilities.is_some() && !resolved.legacy_gate;
    if args.no_vuln {
        if vuln_gate {
            anyhow::bail!(
                "--no-vuln turns vulnerability matching off, but a vulnerability gate (--fail-on-vuln, --fail-on-fixable, --fail-on-kev, --fail-on-epss or gates.vulnerabilities in bulwark.yaml) needs it: drop one of them"
            );
        }
        resolved.policy.gates.vulnerabilities = None;
    }
    let format = choose_format(args.format, args.output.is_some());
    let sbom = bulwark_report::import::load(&args.file, args.max_sbom_size)?;
    let mut report = ScanReport::from_sbom(
        format!("sbom:{}", args.file.display()),
        sbom,
        env!("CARGO_PKG_VERSION"),
    );
    if !args.no_vuln {
        if let Some(store) = open_vuln_store(&args.vuln, vuln_gate, args.quiet)? {
            let outcome = bulwark_vulndb::match_packages(
                &store,
                report.os.as_ref(),
                &report.packages,
                &bulwark_vulndb::MatchOptions::default(),
            );
            report.set_vulnerabilities(outcome, args.vuln.ignore_unfixed);
        }
    }
    let warnings = resolved.policy.apply(&mut report, config::today());
    let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
    let warnings = redact_report(&mut report, &redactor, warnings);
    write_output(
        args.output.as_deref(),
        &bulwark_report::render_with(&report, format, render_options(args.output.is_none())),
    )?;
    if !args.quiet {
        print_diagnostics(&report.diagnostics);
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(gate_outcome(&report, resolved.exit_code, args.quiet).unwrap_or(EXIT_OK))
}

/// The advisory store, when vulnerabilities are to be matched. Asked for explicitly and
/// missing: an error that says what to run. Not asked for: used when present, and a one-line
/// hint otherwise, so an offline first scan still works.
fn open_vuln_store(
    args: &cli::VulnArgs,
    explicitly: bool,
    quiet: bool,
) -> Result<Option<bulwark_vulndb::Store>> {
    let dir = db::db_dir(args.db_dir.clone())?;
    if !dir.join(bulwark_vulndb::DB_FILE).exists() {
        if explicitly {
            anyhow::bail!(
                "no vulnerability database in {}; run `bulwark db update` (online) or `bulwark db import PATH...` (offline) first",
                dir.display()
            );
        }
        if !quiet {
            eprintln!(
                "note: no vulnerability database in {}; run `bulwark db update` or `bulwark db import` to also report vulnerabilities",
                dir.display()
            );
        }
        return Ok(None);
    }
    let store = bulwark_vulndb::Store::open(&dir)?;
    let age = bulwark_vulndb::check_age(
        &store.metadata()?,
        bulwark_vulndb::OffsetDateTime::now_utc(),
        &bulwark_vulndb::AgePolicy {
            warn_after_days: args.db_warn_age,
            fail_after_days: args.db_max_age,
        },
    )?;
    if let (Some(warning), false) = (age, quiet) {
        eprintln!("warning: {}", warning.message);
    }
    Ok(Some(store))
}
