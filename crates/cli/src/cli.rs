//! Every flag of the `bulwark` command, in one place. Doc comments are the `--help` text of
//! the flags that are not settings; a setting's help, variable and default come from
//! `bulwark_policy::settings::SETTINGS` (applied by [`declare`]), so each is declared once.

use std::path::PathBuf;

use bulwark_policy::settings;
use clap::builder::ValueParser;
use clap::{value_parser, Arg, ArgAction, Args, Parser, Subcommand, ValueEnum};

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
    /// Run the bulwark server: keeps uploaded reports and SBOMs, rematches them when the
    /// advisories change, notifies and keeps triage (HTTP API; see README "Server").
    Server(ServerArgs),
    /// Secret detection: list the built-in rules.
    Secrets(SecretsArgs),
    /// Audit running containers through the Docker or Podman API and /proc: settings (CIS
    /// Docker section 5), declared and effective capabilities, drift since start, the image's
    /// vulnerabilities marked loaded or not, and least-privilege settings to paste.
    Runtime(RuntimeArgs),
    /// Print the configuration reference (docs/configuration.md) generated from these flags.
    #[command(hide = true)]
    ConfigReference,
    /// Scan a live Kubernetes cluster (kubeconfig or in-cluster service account) or a
    /// `kubectl get -A -o json` dump: every manifest check on the live objects, the
    /// cluster-wide checks, and each running image once.
    K8s(Box<K8sArgs>),
    /// Run the Kubernetes validating admission webhook (AdmissionReview v1 on POST /validate
    /// over TLS): bulwark.yaml's gates, ignores and `admission:` modes, Rego policies, image
    /// signatures and stored scan results (see docs/admission.md).
    Admission(AdmissionArgs),
}

#[derive(Debug, clap::Args)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// List the built-in secret rules: id, confidence, severity, title.
    Rules {
        /// Print the full reference (docs/secrets-rules.md) instead of the list.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The address and port to listen on (loopback by default: nothing is exposed until you
    /// choose an address).
    #[arg(long, value_name = "ADDR:PORT", env = "BULWARK_LISTEN", default_value = bulwark_server::state::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// Where the server keeps its SQLite database and advisory store (`DIR/advisories`: fill
    /// it with `bulwark db update --db-dir DIR/advisories`); default: the user's data directory.
    #[arg(long, value_name = "DIR", env = "BULWARK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://USER:PASSWORD@HOST/DB` to keep the data in PostgreSQL instead of SQLite.
    #[arg(
        long,
        value_name = "URL",
        env = "BULWARK_DATABASE",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        env = "BULWARK_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(
        long,
        value_name = "FILE",
        env = "BULWARK_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted (suffixes K, M, G); larger uploads get 413.
    #[arg(long, value_name = "SIZE", env = "BULWARK_MAX_BODY_SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_body_size: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(
        long,
        value_name = "SECS",
        env = "BULWARK_REQUEST_TIMEOUT",
        default_value_t = 300
    )]
    pub request_timeout: u64,
    /// Requests per second allowed per token (or per address without one); past the burst,
    /// 429 with Retry-After.
    #[arg(long, value_name = "N", env = "BULWARK_RATE_LIMIT", default_value_t = bulwark_server::state::DEFAULT_RATE_LIMIT)]
    pub rate_limit: u32,
    /// Requests allowed at once above the rate before 429.
    #[arg(long, value_name = "N", env = "BULWARK_RATE_BURST", default_value_t = bulwark_server::state::DEFAULT_RATE_BURST)]
    pub rate_burst: u32,
    /// Milliseconds between checks of the advisory store for changes (a new import is
    /// rematched within this).
    #[arg(
        long,
        value_name = "MS",
        env = "BULWARK_REMATCH_POLL",
        default_value_t = 2000
    )]
    pub rematch_poll: u64,
    /// Hours between downloads of the advisory sources (`bulwark db update`'s: OSV, KEV, EPSS;
    /// mirrors from BULWARK_DB_OSV_URL, BULWARK_DB_KEV_URL, BULWARK_DB_EPSS_URL) into the
    /// server's advisory store; the first at startup when none was made within the interval.
    /// 0 turns it off (an air-gapped server imports with POST /api/v1/advisories/import).
    #[arg(
        long,
        value_name = "HOURS",
        env = "BULWARK_DB_UPDATE_EVERY",
        default_value_t = 24.0
    )]
    pub db_update_every: f64,
    /// Image scans (`POST /api/v1/scans`) run at once.
    #[arg(long, value_name = "N", env = "BULWARK_SCAN_WORKERS", default_value_t = bulwark_server::state::DEFAULT_SCAN_WORKERS)]
    pub scan_workers: usize,
    /// The config file whose `server:` section (notification rules, registry credentials)
    /// the server reads; default: ./bulwark.yaml when it exists.
    #[arg(long, value_name = "FILE", env = "BULWARK_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// The SBOM file (CycloneDX 1.4-1.6 or SPDX 2.x, JSON).
    pub file: PathBuf,

    // The settings: read through the resolved settings (`config::Loaded::settings`).
    #[command(flatten)]
    _output: OutputFlags,
    #[command(flatten)]
    _vuln: VulnFlags,
    #[command(flatten)]
    _sbom: SbomFlags,
    #[command(flatten)]
    _gate: GateFlags,
    #[command(flatten)]
    _policy: PolicyFlags,
    #[command(flatten)]
    _quiet: QuietFlag,
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
pub enum ConfidenceArg {
    /// Everything, also entropy-only and checksum-failing matches.
    Low,
    /// Distinctive shapes and credential-named values (the default).
    Medium,
    /// Only what the format proves (checksums, private key blocks, long vendor prefixes).
    High,
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

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a probability between 0.0 and 1.0")),
    }
}

fn parse_severity(s: &str) -> Result<bulwark_types::Severity, String> {
    s.parse()
}

fn parse_source(s: &str) -> Result<bulwark_image::engine::Source, String> {
    s.parse()
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The image to scan.
    pub reference: String,

    // The settings: read through the resolved settings (`config::Loaded::settings`).
    #[command(flatten)]
    _settings: ImageScanFlags,
}

/// The flags of an image scan: `bulwark image`, and `bulwark k8s` for the images it scans.
#[derive(Debug, clap::Args)]
pub struct ImageScanFlags {
    #[command(flatten)]
    _output: OutputFlags,
    #[command(flatten)]
    _platform: PlatformFlag,
    #[command(flatten)]
    _vuln: VulnFlags,
    #[command(flatten)]
    _gate: GateFlags,
    #[command(flatten)]
    _policy: PolicyFlags,
    #[command(flatten)]
    _scan: ScanFlags,
    #[command(flatten)]
    _quiet: QuietFlag,
    #[command(flatten)]
    _registry: RegistryFlags,
    #[command(flatten)]
    _engine: EngineFlags,
    #[command(flatten)]
    _upload: UploadFlags,
}

/// Flags that are settings only. Their values are read through the resolved settings
/// (flag > environment > bulwark.yaml > default), so the struct holds none; the flags are
/// declared here with the parser and value name clap shows, and [`declare`] adds the help,
/// variable and default from the table.
macro_rules! setting_flags {
    ($(#[$doc:meta])* $name:ident [$($arg:expr),* $(,)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl clap::FromArgMatches for $name {
            fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
                Ok($name)
            }
            fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
                Ok(())
            }
        }

        impl clap::Args for $name {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                cmd.args([$(declare($arg)),*])
            }
            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
}

/// A setting's flag that takes no value.
fn switch(id: &'static str, long: &'static str) -> Arg {
    Arg::new(id).long(long).action(ArgAction::SetTrue)
}

/// A setting's flag with one value.
fn value(
    id: &'static str,
    long: &'static str,
    name: &'static str,
    parser: impl Into<ValueParser>,
) -> Arg {
    Arg::new(id)
        .long(long)
        .value_name(name)
        .action(ArgAction::Set)
        .value_parser(parser)
}

/// A setting's flag with a comma-separated list of values; repeatable.
fn list(
    id: &'static str,
    long: &'static str,
    name: &'static str,
    parser: impl Into<ValueParser>,
) -> Arg {
    value(id, long, name, parser)
        .action(ArgAction::Append)
        .value_delimiter(',')
}

setting_flags!(
    /// Where the report goes.
    OutputFlags [
        value("format", "format", "FORMAT", value_parser!(FormatArg)).short('f'),
        value("output", "output", "FILE", value_parser!(PathBuf)).short('o'),
    ]
);

setting_flags!(PlatformFlag[value("platform", "platform", "PLATFORM", value_parser!(String))]);

setting_flags!(QuietFlag[switch("quiet", "quiet").short('q')]);

setting_flags!(
    /// Where vulnerability matching reads advisories, and what it shows.
    VulnFlags [
        value("db_dir", "db-dir", "DIR", value_parser!(PathBuf)),
        switch("ignore_unfixed", "ignore-unfixed"),
        value("db_warn_age", "db-warn-age", "DAYS", value_parser!(i64)),
        value("db_max_age", "db-max-age", "DAYS", value_parser!(i64)),
    ]
);

setting_flags!(
    /// When a scan fails a pipeline (see docs/exit-codes.md).
    GateFlags [
        value("exit_code", "exit-code", "N", value_parser!(u8)),
        list("severity", "severity", "SEVERITY", parse_severity),
        value("fail_on_vuln", "fail-on-vuln", "SEVERITY", parse_severity),
        switch("fail_on_fixable", "fail-on-fixable"),
        switch("fail_on_kev", "fail-on-kev"),
        value("fail_on_epss", "fail-on-epss", "P", parse_probability),
        switch("fail_on_secret", "fail-on-secret"),
        value("fail_on_misconfig", "fail-on-misconfig", "SEVERITY", parse_severity),
        switch("fail_on_license", "fail-on-license"),
    ]
);

setting_flags!(
    /// Where policy comes from: the config file, VEX documents, ignore files, licence lists.
    PolicyFlags [
        value("config", "config", "FILE", value_parser!(PathBuf)),
        list("vex", "vex", "FILE", value_parser!(PathBuf)),
        value("max_vex_size", "max-vex-size", "SIZE", parse_size),
        value("ignore_file", "ignore-file", "FILE", value_parser!(PathBuf)),
        list("license_allow", "license-allow", "LIST", value_parser!(String)),
        list("license_deny", "license-deny", "LIST", value_parser!(String)),
    ]
);

setting_flags!(
    /// What an image scan reports, its limits and its cache.
    ScanFlags [
        list("scanners", "scanners", "SCANNERS", value_parser!(ScannerArg)),
        switch("reachability", "reachability"),
        value("cache_dir", "cache-dir", "DIR", value_parser!(PathBuf)),
        switch("no_cache", "no-cache"),
        value("max_layer_size", "max-layer-size", "SIZE", parse_size),
        value("max_layer_ratio", "max-layer-ratio", "RATIO", value_parser!(u64)),
        value("max_memory", "max-memory", "SIZE", parse_size),
        value("secret_max_file_size", "secret-max-file-size", "SIZE", parse_size),
        value("secret_min_confidence", "secret-min-confidence", "LEVEL", value_parser!(ConfidenceArg)),
        value("secret_config", "secret-config", "FILE", value_parser!(PathBuf)),
    ]
);

setting_flags!(
    /// What an SBOM scan reads.
    SbomFlags [
        switch("no_vuln", "no-vuln"),
        value("max_sbom_size", "max-sbom-size", "SIZE", parse_size),
    ]
);

setting_flags!(
    /// Where a bare image name is looked for, and how local engines (Docker, Podman) are reached.
    EngineFlags [
        list("source", "source", "LIST", parse_source),
        value("docker_host", "docker-host", "ADDR", value_parser!(String)),
        value("podman_host", "podman-host", "ADDR", value_parser!(String)),
        value("engine_timeout", "engine-timeout", "SECS", value_parser!(u64)),
    ]
);

setting_flags!(
    /// How to reach registries (for registry references such as `nginx:1.25`,
    /// `registry:HOST/REPO:TAG` or `docker://HOST/REPO@sha256:…`).
    RegistryFlags [
        switch("insecure", "insecure"),
        list("ca_certs", "ca-cert", "FILE", value_parser!(PathBuf)),
        value("username", "username", "USER", value_parser!(String)),
        switch("password_stdin", "password-stdin")
            .help("Read the registry password (or token) from standard input"),
        value("registry_timeout", "registry-timeout", "SECS", value_parser!(u64)),
        value("registry_min_rate", "registry-min-rate", "SIZE", parse_size),
        value("require_signature", "require-signature", "KEY", value_parser!(PathBuf)),
        value("registry_retries", "registry-retries", "N", value_parser!(u32)),
    ]
);

setting_flags!(
    /// Where the report goes after the scan (`bulwark server`).
    UploadFlags [
        value("upload", "upload", "URL", value_parser!(String)),
        value("token", "token", "TOKEN", value_parser!(String)),
        value("upload_asset", "upload-asset", "NAME", value_parser!(String)),
        value("upload_team", "upload-team", "TEAM", value_parser!(String)),
    ]
);

setting_flags!(
    /// `bulwark db update`'s sources and limits.
    UpdateFlags [
        list("ecosystems", "ecosystem", "ECOSYSTEM", value_parser!(String)),
        value("osv_url", "osv-url", "URL", value_parser!(String)),
        value("kev_url", "kev-url", "URL", value_parser!(String)),
        value("epss_url", "epss-url", "URL", value_parser!(String)),
        switch("no_kev", "no-kev"),
        switch("no_epss", "no-epss"),
        value("max_download_mib", "max-download-mib", "MIB", value_parser!(u64)),
    ]
);

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
    Update(UpdateFlags),
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

#[derive(Debug, clap::Args)]
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

    // The settings: read through the resolved settings (`config::Loaded::settings`).
    #[command(flatten)]
    _output: OutputFlags,
    #[command(flatten)]
    _gate: GateFlags,
    #[command(flatten)]
    _policy: PolicyFlags,
    #[command(flatten)]
    _quiet: QuietFlag,
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
#[command(mut_args(declare))]
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
    _registry: RegistryFlags,
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
    _registry: RegistryFlags,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image in a registry (`HOST/REPO:TAG`, `registry:…`, `docker://…`).
    pub reference: String,

    /// Public key (PEM `PUBLIC KEY`, e.g. cosign.pub or `openssl pkey -pubout`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    _registry: RegistryFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Docker,
    Podman,
}

#[derive(Debug, clap::Args)]
pub struct RuntimeArgs {
    /// Containers to audit (names or ids); default: every running container.
    pub containers: Vec<String>,

    /// The engine whose containers are audited.
    #[arg(long, value_enum, default_value = "docker")]
    pub engine: EngineArg,

    /// Keep running: audit again whenever a container starts, stops or is removed, and print
    /// only what changed (with --upload, upload each new state).
    #[arg(long)]
    pub watch: bool,

    /// Do not scan the containers' images (no vulnerabilities, no in-use marks).
    #[arg(long)]
    pub no_image_scan: bool,

    // The settings: read through the resolved settings (`config::Loaded::settings`).
    #[command(flatten)]
    _output: OutputFlags,
    #[command(flatten)]
    _vuln: VulnFlags,
    #[command(flatten)]
    _gate: GateFlags,
    #[command(flatten)]
    _policy: PolicyFlags,
    #[command(flatten)]
    _scan: ScanFlags,
    #[command(flatten)]
    _quiet: QuietFlag,
    #[command(flatten)]
    _engine: EngineFlags,
    #[command(flatten)]
    _upload: UploadFlags,
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

#[derive(Debug, clap::Args)]
pub struct AdmissionArgs {
    /// The address and port to listen on (the Service targets it).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        env = "BULWARK_ADMISSION_LISTEN",
        default_value = "0.0.0.0:8443"
    )]
    pub listen: std::net::SocketAddr,
    /// The webhook's certificate chain (PEM); the API server verifies it with the
    /// ValidatingWebhookConfiguration's caBundle.
    #[arg(long, value_name = "FILE", env = "BULWARK_TLS_CERT")]
    pub tls_cert: PathBuf,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", env = "BULWARK_TLS_KEY")]
    pub tls_key: PathBuf,
    /// A bulwark server (`https://HOST:8470`) whose stored scan results are looked up by image
    /// digest (a token with the read scope in --token or BULWARK_TOKEN).
    #[arg(long, value_name = "URL", env = "BULWARK_SERVER")]
    pub server: Option<String>,
    /// Directory of Rego policies evaluated on each object (as `bulwark config --policy`);
    /// repeatable.
    #[arg(long, value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Rego packages whose rules apply (default: `main`); repeatable.
    #[arg(long, value_name = "PKG")]
    pub namespace: Vec<String>,
    /// Seconds a review may take before it is answered 408 (keep it under the webhook's
    /// timeoutSeconds).
    #[arg(
        long,
        value_name = "SECS",
        env = "BULWARK_ADMISSION_TIMEOUT",
        default_value_t = 9
    )]
    pub timeout: u64,
    /// Milliseconds a review waits for image lookups (signature, stored results) before it is
    /// decided without them (unknown images: `admission.unknown-images`); the lookup goes on
    /// and fills the cache.
    #[arg(
        long,
        value_name = "MS",
        env = "BULWARK_ADMISSION_LOOKUP_BUDGET",
        default_value_t = 7000
    )]
    pub lookup_budget: u64,
    /// Seconds an image's verdict is reused before it is looked up again.
    #[arg(
        long,
        value_name = "SECS",
        env = "BULWARK_ADMISSION_CACHE_TTL",
        default_value_t = 300
    )]
    pub cache_ttl: u64,
    /// Largest AdmissionReview accepted (suffixes K, M); larger ones get 413.
    #[arg(long, value_name = "SIZE", env = "BULWARK_ADMISSION_MAX_BODY_SIZE", default_value = "4M", value_parser = parse_size)]
    pub max_body_size: u64,
    /// Scan an image nobody uploaded (or without --server) through the registry when a
    /// review names it, with the advisory database of --db-dir; one scan at a time. A scan
    /// that does not finish within --lookup-budget goes on and fills the cache; the review is
    /// decided as an unknown image meanwhile.
    #[arg(long, env = "BULWARK_ADMISSION_SCAN_ON_MISS")]
    pub scan_on_miss: bool,
    /// Answer every review allowed without any check (the benchmark's baseline).
    #[arg(long, hide = true)]
    pub allow_all: bool,

    // The settings: read through the resolved settings (`config::Loaded::settings`).
    #[command(flatten)]
    _gate: GateFlags,
    #[command(flatten)]
    _policy: PolicyFlags,
    #[command(flatten)]
    _registry: RegistryFlags,
    #[command(flatten)]
    _settings: AdmissionSettingFlags,
}

setting_flags!(
    /// The API token `bulwark admission` reads stored results with, and where
    /// `--scan-on-miss` finds its advisories and layer cache.
    AdmissionSettingFlags [
        value("token", "token", "TOKEN", value_parser!(String)),
        value("db_dir", "db-dir", "DIR", value_parser!(PathBuf)),
        value("cache_dir", "cache-dir", "DIR", value_parser!(PathBuf)),
    ]
);

/// `bulwark k8s` (run by `k8s_cmd`).
#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    /// Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the pod's service
    /// account when running inside a cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Only this namespace (repeatable; default: all). Cluster-scoped objects are always read.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Vec<String>,

    /// Read `kubectl get -A -o json` output instead of a live cluster (offline review).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["kubeconfig", "context"])]
    pub from_dump: Option<PathBuf>,

    /// Print a per-control report for a compliance framework instead of the findings:
    /// cis-k8s, nsa, pss-baseline, pss-restricted, nist-800-190.
    #[arg(long, value_name = "FRAMEWORK")]
    pub compliance: Option<String>,

    /// Do not scan the running images (only the objects are checked).
    #[arg(long)]
    pub skip_images: bool,

    /// Read the imagePullSecrets the pods name (and only those) for registry credentials.
    #[arg(long)]
    pub use_pull_secrets: bool,

    /// A registry (`registry.example.com`, `ghcr.io/org`) images may come from; repeatable
    /// (default: any).
    #[arg(long, value_name = "REGISTRY")]
    pub allowed_registry: Vec<String>,

    /// Objects asked for per list request (`limit`).
    #[arg(long, value_name = "N", default_value_t = bulwark_k8s::source::live::DEFAULT_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,

    // The settings: read through the resolved settings (`config::Loaded::settings`); the
    // image scans take the same ones `bulwark image` does.
    #[command(flatten)]
    _settings: ImageScanFlags,
}
