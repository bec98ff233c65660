//! `bulwark registry audit` and `bulwark registry scan`.

use std::time::Duration;

use anyhow::{Context, Result};
use bulwark_image::registry::RegistryOptions;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::RegistryArgs;

#[derive(Debug, clap::Args)]
pub struct RegistryCommandArgs {
    #[command(subcommand)]
    pub command: RegistrySubcommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RegistrySubcommand {
    /// Check how a registry is exposed: TLS (certificate, host name, version), the API over
    /// plain HTTP, Basic auth without TLS, anonymous access to /v2/, the catalog and pulls,
    /// and the API version header. Findings carry CIS Docker and NIST SP 800-190 controls.
    Audit(AuditArgs),
    /// List a registry's repositories and tags through the catalog API and scan each image
    /// (bounded parallelism); prints one summary row per image.
    Scan(ScanArgs),
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The registry: https://HOST[:PORT], http://HOST[:PORT] or HOST:PORT.
    pub url: String,

    /// Images scanned at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,

    /// Scan at most this many images (repositories × tags, in catalog order).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_images: usize,

    /// Only repositories whose name starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub repository_prefix: Option<String>,

    /// Keep each image's full JSON report in DIR (one file per image).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<std::path::PathBuf>,

    /// Summary format: table or json.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: SummaryFormat,

    /// Directory of the per-layer cache shared by the scans (images sharing layers are
    /// analysed once).
    #[arg(long, value_name = "DIR", env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The registry: https://HOST[:PORT], http://HOST[:PORT] or HOST:PORT.
    pub url: String,

    /// Output format.
    #[arg(short, long, value_enum, env = "BULWARK_FORMAT")]
    pub format: Option<crate::cli::FormatArg>,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", env = "BULWARK_OUTPUT")]
    pub output: Option<std::path::PathBuf>,

    /// Exit with this code when there is any finding (0, the default, never fails on them).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub exit_code: u8,

    /// Extra CA certificate (PEM) to trust; repeatable.
    #[arg(
        long = "ca-cert",
        value_name = "FILE",
        value_delimiter = ',',
        env = "BULWARK_CA_CERT"
    )]
    pub ca_certs: Vec<std::path::PathBuf>,

    /// Seconds to wait for the registry to connect or answer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub registry_timeout: u64,
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
    let options = crate::request::registry_options(&args.registry)?;
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
    let mut image_args = crate::cli::ImageArgs::from_arg_matches(&image_matches)?;
    image_args.registry = args.registry.clone();
    // The credentials were read once, above.
    image_args.registry.password_stdin = false;
    image_args.registry.username = None;
    let (mut template, exit_code, _) = crate::image_request(&mut image_args, &image_matches)?;
    template.sources.registry = options;

    let mut summaries: Vec<Option<ImageSummary>> = listed.images.iter().map(|_| None).collect();
    bulwark_scan::registry::scan_images(
        &listed.images,
        &template,
        args.jobs,
        &bulwark_scan::NoopSink,
        &bulwark_scan::CancelToken::new(),
        |i, result| {
            let reference = listed.images[i].clone();
            summaries[i] = Some(match result {
                Ok(outcome) => {
                    let report = &outcome.report;
                    if let Some(dir) = &args.output_dir {
                        let file = reference.replace(['/', ':', '@'], "_") + ".json";
                        let json = bulwark_report::render(report, bulwark_report::Format::Json);
                        let _ = std::fs::write(dir.join(file), json);
                    }
                    let code = crate::exit_code(report, exit_code, true);
                    ImageSummary {
                        reference,
                        manifest_digest: report
                            .image
                            .manifest_digest
                            .as_ref()
                            .map(|d| d.to_string()),
                        packages: report.packages.len(),
                        vulnerabilities: report.vulnerabilities.len(),
                        secrets: report.secrets.len(),
                        exit_code: i32::from(code),
                        error: None,
                    }
                }
                Err(e) => ImageSummary {
                    reference,
                    manifest_digest: None,
                    packages: 0,
                    vulnerabilities: 0,
                    secrets: 0,
                    exit_code: i32::from(crate::EXIT_ERROR),
                    error: Some(crate::redacted_error(&e.into())),
                },
            });
        },
    );
    let summaries: Vec<ImageSummary> = summaries.into_iter().flatten().collect();
    let failed = summaries.iter().filter(|s| s.error.is_some()).count();
    let rendered = match args.format {
        SummaryFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "registry": listed.authority,
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
        return Ok(crate::EXIT_INCOMPLETE);
    }
    Ok(crate::EXIT_OK)
}
