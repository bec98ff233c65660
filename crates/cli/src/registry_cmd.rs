//! `bulwark registry audit` and `bulwark registry scan`.

use std::time::Duration;

use anyhow::{Context, Result};
use bulwark_report::Format;
use clap::{CommandFactory, ValueEnum};

pub use crate::cli::{AuditArgs, RegistryCommandArgs, RegistrySubcommand, ScanArgs, SummaryFormat};

pub fn run(args: RegistryCommandArgs, matches: &clap::ArgMatches) -> Result<u8> {
    match args.command {
        RegistrySubcommand::Audit(a) => audit(a),
        RegistrySubcommand::Scan(a) => {
            scan(a, matches.subcommand_matches("scan").unwrap_or(matches))
        }
    }
}

fn audit(args: AuditArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.registry_timeout.max(1));
    let version = env!("CARGO_PKG_VERSION");
    let report = bulwark_scan::registry::audit(&args.url, &args.ca_certs, timeout, version)?;
    let chosen = args
        .format
        .and_then(|f| Format::from_name(f.to_possible_value()?.get_name()));
    let format = crate::choose_format(chosen, args.output.is_some());
    let rendered = bulwark_report::render(&report, format);
    crate::write_output(args.output.as_deref(), &rendered)?;
    if !report.misconfigurations.is_empty() && args.exit_code != 0 {
        return Ok(args.exit_code);
    }
    Ok(0)
}

fn scan(args: ScanArgs, matches: &clap::ArgMatches) -> Result<u8> {
    // This command's registry flags and variables (not bulwark.yaml) reach the registry.
    let settings = crate::config::Loaded::default().settings(matches)?;
    let options = crate::request::registry_options(&settings, matches)?;
    let listed = bulwark_scan::registry::list_images(
        &args.url,
        &options,
        args.repository_prefix.as_deref(),
        args.max_images,
    )?;
    if listed.truncated {
        eprintln!(
            "bulwark: stopping at --max-images {} images",
            args.max_images
        );
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Each image is scanned as `bulwark image REF --quiet` would (bulwark.yaml, environment
    // and defaults), with this command's registry settings and cache.
    let mut image_argv: Vec<String> = ["image", &listed.authority, "--quiet", "--format", "json"]
        .map(String::from)
        .to_vec();
    if let Some(dir) = &args.cache_dir {
        image_argv.extend(["--cache-dir".into(), dir.display().to_string()]);
    }
    let image_matches = crate::cli::Cli::command()
        .find_subcommand_mut("image")
        .context("the image command")?
        .clone()
        .try_get_matches_from(image_argv)?;
    // The password was read once, above: every image request takes these options.
    let (mut template, _, exit_code, _) = crate::image_request(&listed.authority, &image_matches)?;
    template.sources.registry = options;

    let summaries = bulwark_scan::registry::summarize_images(
        &listed.images,
        &template,
        args.jobs,
        exit_code,
        args.output_dir.as_deref(),
        &bulwark_scan::CancelToken::new(),
    );
    let failed = summaries.iter().filter(|s| s.error.is_some()).count();
    let json = args.format == SummaryFormat::Json;
    let rendered = bulwark_report::text::registry_summary(&listed.authority, &summaries, json);
    crate::write_output(None, &rendered)?;
    if failed > 0 {
        eprintln!(
            "bulwark: {failed} of {} images could not be scanned",
            summaries.len()
        );
        return Ok(crate::EXIT_INCOMPLETE);
    }
    Ok(crate::EXIT_OK)
}
