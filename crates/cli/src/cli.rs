//! Every flag of the `bulwark` command, in one place. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "bulwark",
    version,
    about = "Container security scanner: reads an image once, layer by layer, and reports what is inside."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a container image: oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE,
    /// dir:ROOTFS, or a path whose kind is detected.
    Image(ImageArgs),
    /// Scan a directory: a source tree or an unpacked root filesystem (same as `image dir:DIR`).
    Fs(ImageArgs),
    /// Manage the vulnerability database (update, import, status).
    Db(crate::db::DbArgs),
    /// Registries: audit how one is exposed (TLS, anonymous access, plain HTTP), or scan
    /// every image it holds.
    Registry(crate::registry_cmd::RegistryCommandArgs),
    /// Sign a registry image with a key, in cosign's format (tag sha256-DIGEST.sig).
    Sign(crate::sign::SignArgs),
    /// Verify a registry image's cosign-format signature with a public key (exit 1 when no
    /// signature verifies).
    Verify(crate::sign::VerifyArgs),
    /// Read a CycloneDX or SPDX JSON SBOM (bulwark's or another tool's) and report on its
    /// packages as if they had been scanned.
    Sbom(SbomArgs),
}

#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// The SBOM file (CycloneDX 1.4-1.6 or SPDX 2.x, JSON).
    pub file: PathBuf,

    /// Output format.
    #[arg(short, long, value_enum, env = "BULWARK_FORMAT")]
    pub format: Option<FormatArg>,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", env = "BULWARK_OUTPUT")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub vuln: VulnArgs,

    /// Only list the SBOM's packages; do not match them against advisories.
    #[arg(long)]
    pub no_vuln: bool,

    /// No diagnostics on standard error.
    #[arg(short, long, env = "BULWARK_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A readable table (the default on a terminal).
    Table,
    /// bulwark's own JSON report (schema bulwark.report/v1; the default when piped).
    Json,
    /// CycloneDX 1.6 JSON SBOM.
    Cyclonedx,
    /// SPDX 2.3 JSON SBOM.
    Spdx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScannerArg {
    /// The package inventory (OS and language packages).
    Sbom,
    /// Secrets in every layer's files (deleted ones too), ENV, labels and build history.
    Secret,
    /// Known vulnerabilities of the packages, from the advisory database (`bulwark db`).
    Vuln,
}

/// When a scan fails a pipeline.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Exit with this code when a vulnerability or secret at one of `--severity` is found
    /// (0, the default, never fails on findings). Errors exit 2, incomplete scans 3.
    #[arg(long, value_name = "N", default_value_t = 0, env = "BULWARK_EXIT_CODE")]
    pub exit_code: u8,

    /// Severities that count for `--exit-code` (comma-separated: unknown, low, medium, high,
    /// critical); default: all.
    #[arg(long, value_delimiter = ',', value_parser = parse_severity, env = "BULWARK_SEVERITY")]
    pub severity: Vec<bulwark_types::Severity>,
}

fn parse_severity(s: &str) -> Result<bulwark_types::Severity, String> {
    s.parse()
}

/// Where vulnerability matching reads advisories, and what it shows.
#[derive(Debug, Clone, clap::Args)]
pub struct VulnArgs {
    /// The advisory database directory (see `bulwark db`); default: the user's cache dir.
    #[arg(long, value_name = "DIR", env = "BULWARK_DB_DIR")]
    pub db_dir: Option<PathBuf>,

    /// Hide vulnerabilities that have no fixed version yet.
    #[arg(long, env = "BULWARK_IGNORE_UNFIXED")]
    pub ignore_unfixed: bool,

    /// Warn when the advisory database is older than this many days.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 7,
        env = "BULWARK_DB_WARN_AGE"
    )]
    pub db_warn_age: i64,

    /// Refuse to match against an advisory database older than this many days.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 90,
        env = "BULWARK_DB_MAX_AGE"
    )]
    pub db_max_age: i64,
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The image to scan.
    pub reference: String,

    /// Output format.
    #[arg(short, long, value_enum, env = "BULWARK_FORMAT")]
    pub format: Option<FormatArg>,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", env = "BULWARK_OUTPUT")]
    pub output: Option<PathBuf>,

    /// Platform to pick from a multi-platform image (os/arch[/variant]); default: this machine's.
    #[arg(long, env = "BULWARK_PLATFORM")]
    pub platform: Option<String>,

    #[command(flatten)]
    pub vuln: VulnArgs,

    #[command(flatten)]
    pub gate: GateArgs,

    /// What to scan for (comma-separated: sbom, secret, vuln). Default: sbom and secret, plus
    /// vuln when an advisory database exists; naming vuln makes a missing database an error.
    #[arg(long, value_enum, value_delimiter = ',', env = "BULWARK_SCANNERS")]
    pub scanners: Option<Vec<ScannerArg>>,

    /// Directory of the per-layer cache; default: the user's cache directory.
    #[arg(long, value_name = "DIR", env = "BULWARK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the layer cache.
    #[arg(long, env = "BULWARK_NO_CACHE")]
    pub no_cache: bool,

    /// Most uncompressed bytes one layer may expand to (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", default_value = "64G", value_parser = parse_size, env = "BULWARK_MAX_LAYER_SIZE")]
    pub max_layer_size: u64,

    /// Largest expansion ratio (uncompressed/compressed) a layer may reach past its first GiB.
    #[arg(
        long,
        value_name = "RATIO",
        default_value_t = 250,
        env = "BULWARK_MAX_LAYER_RATIO"
    )]
    pub max_layer_ratio: u64,

    /// Files larger than this are not scanned for secrets (reported as a warning).
    #[arg(long, value_name = "SIZE", default_value = "10M", value_parser = parse_size, env = "BULWARK_SECRET_MAX_FILE_SIZE")]
    pub secret_max_file_size: u64,

    /// YAML or JSON file with extra secret rules and an allowlist (`rules:`, `allow: {paths,
    /// regexes}`, `builtin: true|false`); see docs/secrets.md.
    #[arg(long, value_name = "FILE", env = "BULWARK_SECRET_CONFIG")]
    pub secret_config: Option<PathBuf>,

    /// No progress bars and no summary on standard error.
    #[arg(short, long, env = "BULWARK_QUIET")]
    pub quiet: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How to reach registries (for registry references such as `nginx:1.25`,
/// `registry:HOST/REPO:TAG` or `docker://HOST/REPO@sha256:…`).
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Allow plain HTTP and TLS certificates that do not verify (trusted networks only).
    #[arg(long, env = "BULWARK_INSECURE")]
    pub insecure: bool,

    /// Extra CA certificate (PEM) to trust for registries; repeatable.
    #[arg(
        long = "ca-cert",
        value_name = "FILE",
        value_delimiter = ',',
        env = "BULWARK_CA_CERT"
    )]
    pub ca_certs: Vec<PathBuf>,

    /// Registry user name (the password comes from --password-stdin or
    /// BULWARK_REGISTRY_PASSWORD); default: Docker's config.json and credential helpers.
    #[arg(long, value_name = "USER", env = "BULWARK_REGISTRY_USERNAME")]
    pub username: Option<String>,

    /// Read the registry password (or token) from standard input.
    #[arg(long)]
    pub password_stdin: bool,

    /// Seconds to wait for a registry to connect or answer any one read before giving up.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "BULWARK_REGISTRY_TIMEOUT"
    )]
    pub registry_timeout: u64,

    /// Refuse to scan a registry image unless it carries a cosign-format signature that
    /// verifies with this public key (PEM); the scan then reads the verified digest.
    #[arg(long, value_name = "KEY", env = "BULWARK_REQUIRE_SIGNATURE")]
    pub require_signature: Option<PathBuf>,

    /// Retries after a 429 or 5xx answer or a failed connection (with backoff).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        env = "BULWARK_REGISTRY_RETRIES"
    )]
    pub registry_retries: u32,
}

/// `512`, `64K`, `10M`, `64G` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 30),
        Some('T' | 't') => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512, 64K, 10M or 64G"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}
