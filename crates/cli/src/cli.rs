//! Every flag of the `bulwark` command, in one place. Doc comments are the `--help` text of
//! the flags that are not settings; a setting's help, variable and default come from
//! `bulwark_policy::settings::SETTINGS` (applied by [`declare`]), so each is declared once.

use std::path::PathBuf;

use bulwark_policy::settings;
use clap::{Arg, Args, Parser, Subcommand, ValueEnum};

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
    /// dir:ROOTFS, docker:NAME, podman:NAME, registry:NAME, a path whose kind is detected, or
    /// a bare name looked for in the --source order.
    Image(ImageArgs),
    /// Scan a directory: a source tree or an unpacked root filesystem (same as `image dir:DIR`).
    Fs(ImageArgs),
    /// Manage the vulnerability database (update, import, status).
    Db(DbArgs),
    /// Registries: audit how one is exposed (TLS, anonymous access, plain HTTP), or scan
    /// every image it holds.
    Registry(RegistryCommandArgs),
    /// Sign a registry image with a key, in cosign's format (tag sha256-DIGEST.sig).
    Sign(SignArgs),
    /// Verify a registry image's cosign-format signature with a public key (exit 1 when no
    /// signature verifies).
    Verify(VerifyArgs),
    /// Read a CycloneDX or SPDX JSON SBOM (bulwark's or another tool's) and report on its
    /// packages as if they had been scanned.
    Sbom(SbomArgs),
    /// Check configuration files (Dockerfiles, Kubernetes manifests, compose files,
    /// daemon.json) and Docker host settings for misconfigurations.
    Config(ConfigArgs),
    /// Print the configuration reference (docs/configuration.md) generated from these flags.
    #[command(hide = true)]
    ConfigReference,
}

#[derive(Debug, clap::Args)]
#[command(mut_args(declare))]
pub struct SbomArgs {
    /// The SBOM file (CycloneDX 1.4-1.6 or SPDX 2.x, JSON).
    pub file: PathBuf,

    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,

    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub vuln: VulnArgs,

    #[arg(long)]
    pub no_vuln: bool,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_sbom_size: u64,

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[arg(short, long)]
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
    /// SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// JUnit XML: one test suite per scanner, one failing test case per finding.
    Junit,
    /// One self-contained HTML file (no network, no script) with charts and tables.
    Html,
    /// Markdown for a pull-request comment (kept under 60,000 characters).
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScannerArg {
    /// The package inventory (OS and language packages).
    Sbom,
    /// Secrets in every layer's files (deleted ones too), ENV, labels and build history.
    Secret,
    /// Known vulnerabilities of the packages, from the advisory database (`bulwark db`).
    Vuln,
    /// Misconfigurations of the image itself (root user, healthcheck, ports, secrets in ENV,
    /// history, caches, setuid and world-writable files, sudo/sshd).
    Misconfig,
}

/// When a scan fails a pipeline (see docs/exit-codes.md).
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(declare))]
pub struct GateArgs {
    #[arg(long, value_name = "N")]
    pub exit_code: u8,

    #[arg(long, value_delimiter = ',', value_parser = parse_severity)]
    pub severity: Vec<bulwark_types::Severity>,

    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on_vuln: Option<bulwark_types::Severity>,

    #[arg(long)]
    pub fail_on_fixable: bool,

    #[arg(long)]
    pub fail_on_kev: bool,

    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub fail_on_epss: Option<f64>,

    #[arg(long)]
    pub fail_on_secret: bool,

    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on_misconfig: Option<bulwark_types::Severity>,

    #[arg(long)]
    pub fail_on_license: bool,
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a probability between 0.0 and 1.0")),
    }
}

/// Where policy comes from: the config file, VEX documents, ignore files, licence lists.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(declare))]
pub struct PolicyArgs {
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    pub vex: Vec<PathBuf>,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_vex_size: u64,

    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,

    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub license_allow: Vec<String>,

    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub license_deny: Vec<String>,
}

fn parse_severity(s: &str) -> Result<bulwark_types::Severity, String> {
    s.parse()
}

/// Where vulnerability matching reads advisories, and what it shows.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(declare))]
pub struct VulnArgs {
    #[arg(long, value_name = "DIR")]
    pub db_dir: Option<PathBuf>,

    #[arg(long)]
    pub ignore_unfixed: bool,

    #[arg(long, value_name = "DAYS")]
    pub db_warn_age: i64,

    #[arg(long, value_name = "DAYS")]
    pub db_max_age: i64,
}

#[derive(Debug, clap::Args)]
#[command(mut_args(declare))]
pub struct ImageArgs {
    /// The image to scan.
    pub reference: String,

    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,

    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[arg(long)]
    pub platform: Option<String>,

    #[command(flatten)]
    pub vuln: VulnArgs,

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[arg(long, value_enum, value_delimiter = ',')]
    pub scanners: Option<Vec<ScannerArg>>,

    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[arg(long)]
    pub no_cache: bool,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_layer_size: u64,

    #[arg(long, value_name = "RATIO")]
    pub max_layer_ratio: u64,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: u64,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub secret_max_file_size: u64,

    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,

    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Where a bare image name is looked for, and how local engines (Docker, Podman) are reached.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(declare))]
pub struct EngineArgs {
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = parse_source
    )]
    pub source: Vec<bulwark_image::engine::Source>,

    #[arg(long, value_name = "ADDR")]
    pub docker_host: Option<String>,

    #[arg(long, value_name = "ADDR")]
    pub podman_host: Option<String>,

    #[arg(long, value_name = "SECS")]
    pub engine_timeout: u64,
}

fn parse_source(s: &str) -> Result<bulwark_image::engine::Source, String> {
    s.parse()
}

/// How to reach registries (for registry references such as `nginx:1.25`,
/// `registry:HOST/REPO:TAG` or `docker://HOST/REPO@sha256:…`).
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args(declare))]
pub struct RegistryArgs {
    #[arg(long)]
    pub insecure: bool,

    #[arg(long = "ca-cert", value_name = "FILE", value_delimiter = ',')]
    pub ca_certs: Vec<PathBuf>,

    #[arg(long, value_name = "USER")]
    pub username: Option<String>,

    /// Read the registry password (or token) from standard input.
    #[arg(long)]
    pub password_stdin: bool,

    #[arg(long, value_name = "SECS")]
    pub registry_timeout: u64,

    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub registry_min_rate: u64,

    #[arg(long, value_name = "KEY")]
    pub require_signature: Option<PathBuf>,

    #[arg(long, value_name = "N")]
    pub registry_retries: u32,
}

impl PolicyArgs {
    /// Only what the environment says (for commands without policy flags, like `db`).
    pub fn from_env() -> PolicyArgs {
        PolicyArgs {
            config: std::env::var_os("BULWARK_CONFIG").map(PathBuf::from),
            vex: Vec::new(),
            max_vex_size: bulwark_policy::vex::DEFAULT_MAX_VEX_BYTES,
            ignore_file: None,
            license_allow: Vec::new(),
            license_deny: Vec::new(),
        }
    }
}

pub use bulwark_policy::size::parse_size;

#[derive(Debug, Args)]
#[command(mut_args(declare))]
pub struct DbArgs {
    #[arg(long, value_name = "DIR", global = true)]
    pub db_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Download OSV advisories, CISA KEV and EPSS scores and replace the database atomically.
    Update(UpdateArgs),
    /// Import advisory files for air-gapped use: OSV JSON files, directories or zips of them, a
    /// KEV JSON, an EPSS CSV (.csv or .csv.gz), Alpine secdb JSON, Debian tracker CVE/DSA/DLA lists.
    Import {
        /// Files or directories to import.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Show the database's sources, record counts and age.
    Status,
}

#[derive(Debug, Args)]
#[command(mut_args(declare))]
pub struct UpdateArgs {
    #[arg(long = "ecosystem", value_name = "ECOSYSTEM", value_delimiter = ',')]
    pub ecosystems: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub osv_url: Option<String>,
    #[arg(long, value_name = "URL")]
    pub kev_url: Option<String>,
    #[arg(long, value_name = "URL")]
    pub epss_url: Option<String>,
    #[arg(long)]
    pub no_kev: bool,
    #[arg(long)]
    pub no_epss: bool,
    #[arg(long, value_name = "MIB")]
    pub max_download_mib: u64,
}

#[derive(Debug, clap::Args)]
#[command(mut_args(declare))]
pub struct ConfigArgs {
    /// Files or directories to check (kinds are detected: Dockerfile, Kubernetes YAML/JSON,
    /// compose files, daemon.json).
    pub paths: Vec<PathBuf>,

    /// Directory of Rego policies (conftest-style `deny`/`warn`/`violation` rules); repeatable.
    #[arg(long, value_name = "DIR")]
    pub policy: Vec<PathBuf>,

    /// Rego packages whose rules apply (default: `main`); repeatable.
    #[arg(long, value_name = "PKG")]
    pub namespace: Vec<String>,

    /// Print a per-control report for a compliance framework instead of the findings:
    /// cis-docker, cis-k8s, pss-restricted, pss-baseline, nsa, nist-800-190, pci-dss.
    #[arg(long, value_name = "FRAMEWORK")]
    pub compliance: Option<String>,

    /// Check the Docker host settings readable from this root filesystem (file ownership and
    /// permissions of docker.sock, daemon.json, /etc/docker, audit rules; its daemon.json).
    #[arg(long, value_name = "DIR")]
    pub host_root: Option<PathBuf>,

    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,

    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub policy_args: PolicyArgs,

    #[arg(short, long)]
    pub quiet: bool,
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
    pub format: Option<FormatArg>,

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

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The image in a registry (`HOST/REPO:TAG`, `registry:…`, `docker://…`).
    pub reference: String,

    /// Private key (PEM: PKCS#8, SEC1 EC or PKCS#1 RSA); ECDSA P-256, Ed25519 or RSA.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image in a registry (`HOST/REPO:TAG`, `registry:…`, `docker://…`).
    pub reference: String,

    /// Public key (PEM `PUBLIC KEY`, e.g. cosign.pub or `openssl pkey -pubout`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Gives a clap argument that is a setting its help, variable and default from the table.
pub fn declare(arg: Arg) -> Arg {
    let Some(s) = settings::setting(arg.get_id().as_str()).filter(|s| s.flag) else {
        return arg;
    };
    let mut arg = arg.help(s.doc);
    if let Some(var) = s.env {
        arg = arg.env(var);
    }
    if let Some(default) = s.default {
        arg = arg.default_value(default).required(false);
    }
    arg
}
