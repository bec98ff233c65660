//! Registry settings from flags and environment, and the `bulwark registry` commands.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_image::registry::{default_docker_config_dir, Credentials, RegistryOptions};

use crate::cli::RegistryArgs;

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
        retries: args.registry_retries,
    })
}

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
        retries: 0,
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
