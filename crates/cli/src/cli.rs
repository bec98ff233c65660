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
    /// dir:ROOTFS, docker:NAME, podman:NAME, registry:NAME, a path whose kind is detected, or
    /// a bare name looked for in the --source order.
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
    /// Check configuration files (Dockerfiles, Kubernetes manifests, compose files,
    /// daemon.json) and Docker host settings for misconfigurations.
    Config(crate::misconfig_cmd::ConfigArgs),
    /// Print the configuration reference (docs/configuration.md) generated from these flags.
    #[command(hide = true)]
    ConfigReference,
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
    #[arg(long, env = "BULWARK_NO_VULN")]
    pub no_vuln: bool,

    /// Largest SBOM file read (suffixes K, M, G); a larger one is refused before it is read.
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size, env = "BULWARK_MAX_SBOM_SIZE")]
    pub max_sbom_size: u64,

    #[command(flatten)]
    pub gate: GateArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

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
pub struct GateArgs {
    /// Exit with this code when a gate fails. Without any `--fail-on-*` gate (or `gates:` in
    /// bulwark.yaml), N > 0 fails on any vulnerability or secret at one of `--severity`; with
    /// gates, the default is 1 and 0 only reports them. Errors exit 2, incomplete scans 3.
    #[arg(long, value_name = "N", default_value_t = 0, env = "BULWARK_EXIT_CODE")]
    pub exit_code: u8,

    /// Severities that count for `--exit-code` when no gate is configured (comma-separated:
    /// unknown, low, medium, high, critical); default: all.
    #[arg(long, value_delimiter = ',', value_parser = parse_severity, env = "BULWARK_SEVERITY")]
    pub severity: Vec<bulwark_types::Severity>,

    /// Gate: fail on vulnerabilities at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity, env = "BULWARK_FAIL_ON_VULN")]
    pub fail_on_vuln: Option<bulwark_types::Severity>,

    /// Gate: count only vulnerabilities that have a fixed version.
    #[arg(long, env = "BULWARK_FAIL_ON_FIXABLE")]
    pub fail_on_fixable: bool,

    /// Gate: count only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog.
    #[arg(long, env = "BULWARK_FAIL_ON_KEV")]
    pub fail_on_kev: bool,

    /// Gate: count only vulnerabilities with an EPSS probability at or above P (0.0-1.0).
    #[arg(long, value_name = "P", value_parser = parse_probability, env = "BULWARK_FAIL_ON_EPSS")]
    pub fail_on_epss: Option<f64>,

    /// Gate: fail on any secret.
    #[arg(long, env = "BULWARK_FAIL_ON_SECRET")]
    pub fail_on_secret: bool,

    /// Gate: fail on misconfigurations at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity, env = "BULWARK_FAIL_ON_MISCONFIG")]
    pub fail_on_misconfig: Option<bulwark_types::Severity>,

    /// Gate: fail on packages with a forbidden licence (see `--license-deny`, `licenses:`).
    #[arg(long, env = "BULWARK_FAIL_ON_LICENSE")]
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
pub struct PolicyArgs {
    /// The config file (default: ./bulwark.yaml when it exists); see docs/configuration.md.
    #[arg(long, value_name = "FILE", env = "BULWARK_CONFIG")]
    pub config: Option<PathBuf>,

    /// A VEX document (OpenVEX, CycloneDX VEX or CSAF VEX JSON; repeatable): `not_affected`
    /// and `fixed` statements suppress the vulnerabilities they name.
    #[arg(long, value_name = "FILE", value_delimiter = ',', env = "BULWARK_VEX")]
    pub vex: Vec<PathBuf>,

    /// Largest VEX document read (suffixes K, M, G); a larger one is refused before it is read.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size, env = "BULWARK_MAX_VEX_SIZE")]
    pub max_vex_size: u64,

    /// An ignore file, one rule per line (default: ./.bulwarkignore when it exists).
    #[arg(long, value_name = "FILE", env = "BULWARK_IGNORE_FILE")]
    pub ignore_file: Option<PathBuf>,

    /// Licences to accept (SPDX ids, comma-separated); anything else is forbidden.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        env = "BULWARK_LICENSE_ALLOW"
    )]
    pub license_allow: Vec<String>,

    /// Licences to forbid (SPDX ids, comma-separated).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        env = "BULWARK_LICENSE_DENY"
    )]
    pub license_deny: Vec<String>,
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

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// What to report (comma-separated: sbom, secret, vuln, misconfig). Default: sbom,
    /// secret and misconfig, plus vuln when an advisory database exists; naming vuln makes a
    /// missing database an error. Each runs what it needs (vuln and licences catalog the
    /// packages; the list is shown only with sbom, or in CycloneDX/SPDX), and a gate
    /// (`--fail-on-*`, `gates:`) runs and reports what it judges.
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

    /// Most bytes of file contents held in memory at once across all layers; a single file
    /// larger than this is skipped with an error (exit 3), others wait their turn.
    #[arg(long, value_name = "SIZE", default_value = "768M", value_parser = parse_size, env = "BULWARK_MAX_MEMORY")]
    pub max_memory: u64,

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

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Where a bare image name is looked for, and how local engines (Docker, Podman) are reached.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Where a bare image name (`nginx:1.25`) is looked for, in order (comma-separated:
    /// docker, podman, remote). An engine whose socket is absent, that is down, or that lacks
    /// the image passes to the next; remote is the image's registry. Default:
    /// docker,podman,remote.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = parse_source,
        env = "BULWARK_SOURCE"
    )]
    pub source: Vec<bulwark_image::engine::Source>,

    /// Docker's API socket (unix:///PATH); default: DOCKER_HOST, else /var/run/docker.sock.
    #[arg(long, value_name = "ADDR", env = "BULWARK_DOCKER_HOST")]
    pub docker_host: Option<String>,

    /// Podman's API socket (unix:///PATH); default: CONTAINER_HOST, else
    /// $XDG_RUNTIME_DIR/podman/podman.sock, else /run/podman/podman.sock.
    #[arg(long, value_name = "ADDR", env = "BULWARK_PODMAN_HOST")]
    pub podman_host: Option<String>,

    /// Seconds to wait for an engine to answer any one read (an export can take a while to
    /// start: Podman writes the whole archive before sending it).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 300,
        env = "BULWARK_ENGINE_TIMEOUT"
    )]
    pub engine_timeout: u64,
}

fn parse_source(s: &str) -> Result<bulwark_image::engine::Source, String> {
    s.parse()
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

    /// Seconds a registry may take to connect, and to finish any one manifest, config or token
    /// exchange (blobs get this plus the time their size needs at --registry-min-rate).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "BULWARK_REGISTRY_TIMEOUT"
    )]
    pub registry_timeout: u64,

    /// Slowest a layer blob may download, in bytes per second averaged over 30 s of waiting
    /// (suffixes K, M); a registry sending slower is given up on. 0 turns the check off. A
    /// whole manifest, config or token exchange must also end within 60 s (or twice
    /// --registry-timeout, if longer).
    #[arg(long, value_name = "SIZE", default_value = "10K", value_parser = parse_size, env = "BULWARK_REGISTRY_MIN_RATE")]
    pub registry_min_rate: u64,

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
