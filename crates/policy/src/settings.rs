//! Every setting, declared once in [`SETTINGS`], and the one routine that resolves them:
//! the flag, then its environment variable, then the key in `bulwark.yaml`, then the default.
//!
//! The caller hands in what it has: the flags the user typed (raw text, by flag id), the
//! environment (a closure: tests and the server resolve settings without touching the
//! process environment) and the parsed config file ([`ConfigFile::parse`], whose errors carry
//! `file:line:column` from the YAML parser). Nothing here reads the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bulwark_image::engine::Source;
use bulwark_types::Severity;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::gate::GateConfig;
use crate::ignore::IgnoreRule;
use crate::license::LicensePolicy;
use crate::size::parse_size;
use crate::yaml::{self, YamlError};

/// The output formats (`format`).
pub const FORMATS: &[&str] = &[
    "table",
    "json",
    "cyclonedx",
    "spdx",
    "sarif",
    "junit",
    "html",
    "markdown",
];
/// The confidence levels of a secret finding (`secret-min-confidence`).
pub const CONFIDENCES: &[&str] = &["low", "medium", "high"];
/// The scanners (`scanners`).
pub const SCANNERS: &[&str] = &["sbom", "secret", "vuln", "misconfig"];

/// What a setting holds, which decides how its text and its YAML are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// On or off; as a flag it takes no value.
    Bool,
    /// A whole number from 0 to `max`.
    Uint {
        max: u64,
    },
    /// A whole number that may be negative.
    Int,
    /// A size: bytes, or `64K`, `10M`, `64G`.
    Size,
    /// A probability from 0.0 to 1.0.
    Probability,
    Text,
    /// A path; relative ones in `bulwark.yaml` are relative to the file's directory.
    Path,
    /// Paths, a YAML list or comma-separated.
    Paths,
    /// Words, a YAML list or comma-separated.
    Texts,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// Some of these names, a YAML list or comma-separated.
    Choices(&'static [&'static str]),
    Severity,
    /// Severities, a YAML list or comma-separated.
    Severities,
    /// Image sources in order (`docker,podman,remote`).
    Sources,
    /// `ignores:`: ignore rules (file only).
    Ignores,
    /// `licenses:`: the licence policy (file only).
    Licenses,
    /// `gates:`: the gates (file only).
    Gates,
    /// A section another command reads (`server:`, read by `bulwark server`); the scans
    /// accept it and leave it alone.
    Section,
}

/// Where a setting lives in `bulwark.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Read on its own under this key (`format`, `registry.timeout`).
    Own(&'static str),
    /// Part of a section read whole (`--fail-on-kev` is `gates.vulnerabilities.kev`): the
    /// flag is merged into that section when the policy is built (`build::policy`).
    Within(&'static str),
    /// Not in the file (`--config` itself).
    None,
}

impl Key {
    /// The key as the reference shows it.
    pub fn shown(self) -> Option<&'static str> {
        match self {
            Key::Own(k) | Key::Within(k) => Some(k),
            Key::None => None,
        }
    }
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The flag's id (clap's argument id, `registry_timeout`); also its name here.
    pub id: &'static str,
    /// Whether it has a flag; `false`: file only, by declaration (`ignores`, `licenses`).
    pub flag: bool,
    pub key: Key,
    pub env: Option<&'static str>,
    pub kind: Kind,
    /// The default as the flag would be written (`64G`); `None`: unset (or off).
    pub default: Option<&'static str>,
    /// The line of the reference and of `--help`.
    pub doc: &'static str,
}

const fn flag(
    id: &'static str,
    key: Key,
    env: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    doc: &'static str,
) -> Setting {
    Setting {
        id,
        flag: true,
        key,
        env: Some(env),
        kind,
        default,
        doc,
    }
}

const fn file_only(id: &'static str, kind: Kind, doc: &'static str) -> Setting {
    Setting {
        id,
        flag: false,
        key: Key::Own(id),
        env: None,
        kind,
        default: None,
        doc,
    }
}

use Key::{Own, Within};

/// Every setting of `bulwark image`, `fs`, `sbom`, `config` and `db`.
pub const SETTINGS: &[Setting] = &[
    flag("format", Own("format"), "BULWARK_FORMAT", Kind::Choice(FORMATS), None, "Output format."),
    flag("output", Own("output"), "BULWARK_OUTPUT", Kind::Path, None, "Write the report to FILE instead of standard output."),
    flag("platform", Own("platform"), "BULWARK_PLATFORM", Kind::Text, None, "Platform to pick from a multi-platform image (os/arch[/variant]); default: this machine's."),
    flag("db_dir", Own("db-dir"), "BULWARK_DB_DIR", Kind::Path, None, "The advisory database directory (see `bulwark db`); default: the user's cache dir."),
    flag("ignore_unfixed", Own("ignore-unfixed"), "BULWARK_IGNORE_UNFIXED", Kind::Bool, None, "Hide vulnerabilities that have no fixed version yet."),
    flag("db_warn_age", Own("db-warn-age"), "BULWARK_DB_WARN_AGE", Kind::Int, Some("7"), "Warn when the advisory database is older than this many days."),
    flag("db_max_age", Own("db-max-age"), "BULWARK_DB_MAX_AGE", Kind::Int, Some("90"), "Refuse to match against an advisory database older than this many days."),
    flag("exit_code", Own("exit-code"), "BULWARK_EXIT_CODE", Kind::Uint { max: 255 }, Some("0"), "Exit with this code when a gate fails. Without any `--fail-on-*` gate (or `gates:` in bulwark.yaml), N > 0 fails on any vulnerability or secret at one of `--severity`; with gates, the default is 1 and 0 only reports them. Errors exit 2, incomplete scans 3."),
    flag("severity", Own("severity"), "BULWARK_SEVERITY", Kind::Severities, None, "Severities that count for `--exit-code` when no gate is configured (comma-separated: unknown, low, medium, high, critical); default: all."),
    flag("fail_on_vuln", Within("gates.vulnerabilities.severity"), "BULWARK_FAIL_ON_VULN", Kind::Severity, None, "Gate: fail on vulnerabilities at or above this severity."),
    flag("fail_on_fixable", Within("gates.vulnerabilities.fixable"), "BULWARK_FAIL_ON_FIXABLE", Kind::Bool, None, "Gate: count only vulnerabilities that have a fixed version."),
    flag("fail_on_kev", Within("gates.vulnerabilities.kev"), "BULWARK_FAIL_ON_KEV", Kind::Bool, None, "Gate: count only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog."),
    flag("fail_on_epss", Within("gates.vulnerabilities.epss"), "BULWARK_FAIL_ON_EPSS", Kind::Probability, None, "Gate: count only vulnerabilities with an EPSS probability at or above P (0.0-1.0)."),
    flag("fail_on_secret", Within("gates.secrets"), "BULWARK_FAIL_ON_SECRET", Kind::Bool, None, "Gate: fail on any secret."),
    flag("fail_on_misconfig", Within("gates.misconfigurations.severity"), "BULWARK_FAIL_ON_MISCONFIG", Kind::Severity, None, "Gate: fail on misconfigurations at or above this severity."),
    flag("fail_on_license", Within("gates.licenses"), "BULWARK_FAIL_ON_LICENSE", Kind::Bool, None, "Gate: fail on packages with a forbidden licence (see `--license-deny`, `licenses:`)."),
    flag("config", Key::None, "BULWARK_CONFIG", Kind::Path, None, "The config file (default: ./bulwark.yaml when it exists); see docs/configuration.md."),
    flag("vex", Own("vex"), "BULWARK_VEX", Kind::Paths, None, "A VEX document (OpenVEX, CycloneDX VEX or CSAF VEX JSON; repeatable): `not_affected` and `fixed` statements suppress the vulnerabilities they name."),
    flag("max_vex_size", Own("max-vex-size"), "BULWARK_MAX_VEX_SIZE", Kind::Size, Some("256M"), "Largest VEX document read (suffixes K, M, G); a larger one is refused before it is read."),
    flag("ignore_file", Own("ignore-file"), "BULWARK_IGNORE_FILE", Kind::Path, None, "An ignore file, one rule per line (default: ./.bulwarkignore when it exists)."),
    flag("license_allow", Within("licenses.allow"), "BULWARK_LICENSE_ALLOW", Kind::Texts, None, "Licences to accept (SPDX ids, comma-separated); anything else is forbidden."),
    flag("license_deny", Within("licenses.deny"), "BULWARK_LICENSE_DENY", Kind::Texts, None, "Licences to forbid (SPDX ids, comma-separated)."),
    flag("scanners", Own("scanners"), "BULWARK_SCANNERS", Kind::Choices(SCANNERS), None, "What to report (comma-separated: sbom, secret, vuln, misconfig). Default: sbom, secret and misconfig, plus vuln when an advisory database exists; naming vuln makes a missing database an error. Each runs what it needs (vuln and licences catalog the packages; the list is shown only with sbom, or in CycloneDX/SPDX), and a gate (`--fail-on-*`, `gates:`) runs and reports what it judges."),
    flag("reachability", Own("reachability"), "BULWARK_REACHABILITY", Kind::Bool, None, "Judge each vulnerability finding's reachability from the image's ENTRYPOINT and CMD (shebangs, `sh -c` strings, ELF linkage as ld.so resolves it): reachable with the chain, unreachable, or unknown with the reason. Static analysis; language packages stay unknown for now."),
    flag("cache_dir", Own("cache-dir"), "BULWARK_CACHE_DIR", Kind::Path, None, "Directory of the per-layer cache; default: the user's cache directory."),
    flag("no_cache", Own("no-cache"), "BULWARK_NO_CACHE", Kind::Bool, None, "Neither read nor write the layer cache."),
    flag("max_layer_size", Own("max-layer-size"), "BULWARK_MAX_LAYER_SIZE", Kind::Size, Some("64G"), "Most uncompressed bytes one layer may expand to (suffixes K, M, G)."),
    flag("max_layer_ratio", Own("max-layer-ratio"), "BULWARK_MAX_LAYER_RATIO", Kind::Uint { max: u64::MAX }, Some("250"), "Largest expansion ratio (uncompressed/compressed) a layer may reach past its first GiB."),
    flag("max_memory", Own("max-memory"), "BULWARK_MAX_MEMORY", Kind::Size, Some("768M"), "Most bytes of file contents held in memory at once across all layers; a single file larger than this is skipped with an error (exit 3), others wait their turn."),
    flag("secret_max_file_size", Own("secret-max-file-size"), "BULWARK_SECRET_MAX_FILE_SIZE", Kind::Size, Some("10M"), "Files larger than this are not scanned for secrets (reported as a warning)."),
    flag("secret_min_confidence", Own("secret-min-confidence"), "BULWARK_SECRET_MIN_CONFIDENCE", Kind::Choice(CONFIDENCES), Some("medium"), "Report only secrets found with at least this confidence: high (the format proves it, e.g. a vendor prefix with a valid checksum or a private key block), medium (a distinctive shape or a credential-naming key), low (entropy and context alone, or a token that fails its checksum)."),
    flag("secret_config", Own("secret-config"), "BULWARK_SECRET_CONFIG", Kind::Path, None, "YAML or JSON file with extra secret rules and an allowlist (`rules:`, `allow: {paths, regexes}`, `builtin: true|false`); see docs/secrets.md."),
    flag("quiet", Own("quiet"), "BULWARK_QUIET", Kind::Bool, None, "No progress bars, no summary and no diagnostics on standard error."),
    flag("no_vuln", Own("no-vuln"), "BULWARK_NO_VULN", Kind::Bool, None, "Only list the SBOM's packages; do not match them against advisories."),
    flag("max_sbom_size", Own("max-sbom-size"), "BULWARK_MAX_SBOM_SIZE", Kind::Size, Some("2G"), "Largest SBOM file read (suffixes K, M, G); a larger one is refused before it is read."),
    flag("insecure", Own("registry.insecure"), "BULWARK_INSECURE", Kind::Bool, None, "Allow plain HTTP and TLS certificates that do not verify (trusted networks only)."),
    flag("ca_certs", Own("registry.ca-certs"), "BULWARK_CA_CERT", Kind::Paths, None, "Extra CA certificate (PEM) to trust for registries and the --upload server; repeatable."),
    flag("username", Own("registry.username"), "BULWARK_REGISTRY_USERNAME", Kind::Text, None, "Registry user name (the password comes from --password-stdin or BULWARK_REGISTRY_PASSWORD); default: Docker's config.json and credential helpers."),
    flag("registry_timeout", Own("registry.timeout"), "BULWARK_REGISTRY_TIMEOUT", Kind::Uint { max: u64::MAX }, Some("30"), "Seconds a registry may take to connect, and to finish any one manifest, config or token exchange (blobs get this plus the time their size needs at --registry-min-rate)."),
    flag("registry_min_rate", Own("registry.min-rate"), "BULWARK_REGISTRY_MIN_RATE", Kind::Size, Some("10K"), "Slowest a layer blob may download, in bytes per second averaged over 30 s of waiting (suffixes K, M); a registry sending slower is given up on. 0 turns the check off. A whole manifest, config or token exchange must also end within 60 s (or twice --registry-timeout, if longer)."),
    flag("require_signature", Own("registry.require-signature"), "BULWARK_REQUIRE_SIGNATURE", Kind::Path, None, "Refuse to scan a registry image unless it carries a cosign-format signature that verifies with this public key (PEM); the scan then reads the verified digest."),
    flag("registry_retries", Own("registry.retries"), "BULWARK_REGISTRY_RETRIES", Kind::Uint { max: u32::MAX as u64 }, Some("3"), "Retries after a 429 or 5xx answer or a failed connection (with backoff)."),
    flag("source", Own("source"), "BULWARK_SOURCE", Kind::Sources, None, "Where a bare image name (`nginx:1.25`) is looked for, in order (comma-separated: docker, podman, remote). An engine whose socket is absent, that is down, or that lacks the image passes to the next; remote is the image's registry. Default: docker,podman,remote."),
    flag("docker_host", Own("docker-host"), "BULWARK_DOCKER_HOST", Kind::Text, None, "Docker's API socket (unix:///PATH); default: DOCKER_HOST, else /var/run/docker.sock."),
    flag("podman_host", Own("podman-host"), "BULWARK_PODMAN_HOST", Kind::Text, None, "Podman's API socket (unix:///PATH); default: CONTAINER_HOST, else $XDG_RUNTIME_DIR/podman/podman.sock, else /run/podman/podman.sock."),
    flag("engine_timeout", Own("engine-timeout"), "BULWARK_ENGINE_TIMEOUT", Kind::Uint { max: u64::MAX }, Some("300"), "Seconds to wait for an engine to answer any one read (an export can take a while to start: Podman writes the whole archive before sending it)."),
    flag("ecosystems", Own("db.ecosystems"), "BULWARK_DB_ECOSYSTEMS", Kind::Texts, None, "OSV ecosystem to fetch (repeatable), e.g. PyPI, npm, Go, crates.io, Maven, Debian, Alpine. Default: every ecosystem the matcher uses (each language ecosystem OSV covers and each supported distribution)."),
    flag("osv_url", Own("db.osv-url"), "BULWARK_DB_OSV_URL", Kind::Text, None, "Base URL of an OSV mirror (`<URL>/<ECOSYSTEM>/all.zip`)."),
    flag("kev_url", Own("db.kev-url"), "BULWARK_DB_KEV_URL", Kind::Text, None, "URL of the CISA KEV JSON feed."),
    flag("epss_url", Own("db.epss-url"), "BULWARK_DB_EPSS_URL", Kind::Text, None, "URL of the EPSS CSV (.csv.gz) feed."),
    flag("no_kev", Own("db.no-kev"), "BULWARK_DB_NO_KEV", Kind::Bool, None, "Skip the KEV feed."),
    flag("no_epss", Own("db.no-epss"), "BULWARK_DB_NO_EPSS", Kind::Bool, None, "Skip the EPSS feed."),
    flag("max_download_mib", Own("db.max-download-mib"), "BULWARK_DB_MAX_DOWNLOAD_MIB", Kind::Uint { max: u64::MAX }, Some("2048"), "Largest download accepted, in MiB."),
    flag("upload", Own("upload.url"), "BULWARK_UPLOAD", Kind::Text, None, "After the scan, send the report to this bulwark server (`https://HOST:8470`); the token comes from --token. The report is printed as usual; a failed upload exits 2."),
    flag("token", Own("upload.token"), "BULWARK_TOKEN", Kind::Text, None, "The API token for --upload (a token with the upload scope; `bulwark server` prints the first admin token)."),
    flag("upload_asset", Own("upload.asset"), "BULWARK_UPLOAD_ASSET", Kind::Text, None, "The asset the uploaded report belongs to; default: the image's repository (`registry.example/app` of `registry.example/app:1.2`)."),
    flag("upload_team", Own("upload.team"), "BULWARK_UPLOAD_TEAM", Kind::Text, None, "The team that owns the uploaded asset (a new asset only; default: the image's team label, else none)."),
    file_only("ignores", Kind::Ignores, "Ignore rules (see below)."),
    file_only("licenses", Kind::Licenses, "The licence policy (see below)."),
    file_only("gates", Kind::Gates, "The gates (see below)."),
    file_only("server", Kind::Section, "`bulwark server`'s settings (`server.notifications`: notification rules); the scans ignore it."),
    file_only("admission", Kind::Section, "`bulwark admission`'s settings (`default`, `namespaces`: enforce, warn or audit per namespace; `require-signature`; `unknown-images`); the scans ignore it."),
];

/// The reference of the file-only keys (`ignores`, `licenses`, `gates`, `db`) and an example
/// file, appended to the generated docs/configuration.md.
pub const FILE_REFERENCE: &str = include_str!("file_reference.md");

/// The setting with this id.
pub fn setting(id: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.id == id)
}

/// A setting's value.
#[derive(Debug, Clone)]
pub enum Value {
    Bool(bool),
    Uint(u64),
    Int(i64),
    Float(f64),
    Text(String),
    Path(PathBuf),
    Paths(Vec<PathBuf>),
    Texts(Vec<String>),
    Severity(Severity),
    Severities(Vec<Severity>),
    Sources(Vec<Source>),
    Ignores(Vec<IgnoreRule>),
    Licenses(LicensePolicy),
    Gates(GateConfig),
}

/// Where a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Environment,
    File,
    Default,
}

/// A setting given as text (a flag, a variable, a default) that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    File(#[from] YamlError),
    #[error("--{flag}: {message}")]
    Flag { flag: String, message: String },
    #[error("{variable}: {message}")]
    Environment { variable: String, message: String },
    #[error("cannot read the config file {file}: {message}")]
    Read { file: String, message: String },
}

/// Reads one setting's text (a flag's value, a variable, a default).
pub fn parse_text(kind: Kind, text: &str) -> Result<Value, String> {
    let list = || {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    Ok(match kind {
        // As clap reads a boolean variable: anything but a "no" word is on.
        Kind::Bool => Value::Bool(!matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "n" | "no" | "f" | "false" | "off"
        )),
        Kind::Uint { max } => match text.trim().parse::<u64>() {
            Ok(n) if n <= max => Value::Uint(n),
            _ => return Err(format!("{text:?} is not a whole number from 0 to {max}")),
        },
        Kind::Int => Value::Int(
            text.trim()
                .parse()
                .map_err(|_| format!("{text:?} is not a whole number"))?,
        ),
        Kind::Size => Value::Uint(parse_size(text)?),
        Kind::Probability => match text.trim().parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Value::Float(p),
            _ => return Err(format!("{text:?} is not a probability between 0.0 and 1.0")),
        },
        Kind::Text => Value::Text(text.to_string()),
        Kind::Path => Value::Path(PathBuf::from(text)),
        Kind::Paths => Value::Paths(list().into_iter().map(PathBuf::from).collect()),
        Kind::Texts => Value::Texts(list()),
        Kind::Choice(names) => Value::Text(choice(names, text)?),
        Kind::Choices(names) => Value::Texts(
            list()
                .iter()
                .map(|w| choice(names, w))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Severity => Value::Severity(text.trim().parse()?),
        Kind::Severities => Value::Severities(
            list()
                .iter()
                .map(|s| s.parse::<Severity>())
                .collect::<Result<_, _>>()?,
        ),
        Kind::Sources => Value::Sources(Source::parse_list(text).map_err(|e| e.to_string())?),
        Kind::Ignores | Kind::Licenses | Kind::Gates | Kind::Section => {
            return Err("is set in bulwark.yaml only".into())
        }
    })
}

fn choice(names: &[&str], word: &str) -> Result<String, String> {
    let w = word.trim().to_ascii_lowercase();
    if names.contains(&w.as_str()) {
        Ok(w)
    } else {
        Err(format!(
            "unknown value {word:?} (expected one of: {})",
            names.join(", ")
        ))
    }
}

/// A parsed `bulwark.yaml`: the value of every key it sets, by setting id.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// The file as the user named it (`bulwark.yaml`); empty when there is none.
    pub name: String,
    /// Relative paths in the file are relative to this directory.
    pub dir: PathBuf,
    pub values: BTreeMap<&'static str, Value>,
}

impl ConfigFile {
    /// Parses config text named `name` (in errors and rule origins), found in `dir`.
    /// Unknown keys, wrong types and invalid values are errors at `name:line:column`.
    pub fn parse(text: &str, name: &str, dir: &Path) -> Result<ConfigFile, YamlError> {
        let mut file = ConfigFile {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            values: BTreeMap::new(),
        };
        if !text.trim().is_empty() {
            let raw: RawFile = yaml::from_str(text, name)?;
            file.values = raw.0;
        }
        if let Some(Value::Ignores(rules)) = file.values.get_mut("ignores") {
            for (i, r) in rules.iter_mut().enumerate() {
                r.origin = format!("{name} ignores[{i}]");
            }
        }
        for value in file.values.values_mut() {
            match value {
                Value::Path(p) => *p = relative_to(dir, p),
                Value::Paths(ps) => ps.iter_mut().for_each(|p| *p = relative_to(dir, p)),
                _ => {}
            }
        }
        Ok(file)
    }

    /// The file's value for setting `id`.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.values.get(id)
    }
}

fn relative_to(dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// The file's top-level mapping, read key by key against [`SETTINGS`].
struct RawFile(BTreeMap<&'static str, Value>);

impl<'de> Deserialize<'de> for RawFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut values = BTreeMap::new();
        Section {
            prefix: "",
            out: &mut values,
        }
        .deserialize(d)?;
        Ok(RawFile(values))
    }
}

/// A mapping at `prefix` (`""`, `registry`, `db`): each key is a setting or a sub-section.
struct Section<'a> {
    prefix: &'a str,
    out: &'a mut BTreeMap<&'static str, Value>,
}

impl Section<'_> {
    fn full(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// The keys this section accepts, for "expected one of".
    fn expected(&self) -> Vec<String> {
        let mut keys: Vec<String> = SETTINGS
            .iter()
            .filter_map(|s| match s.key {
                Key::Own(k) => Some(k),
                _ => None,
            })
            .filter_map(|k| {
                if self.prefix.is_empty() {
                    Some(k)
                } else {
                    k.strip_prefix(self.prefix)?.strip_prefix('.')
                }
            })
            .map(|k| k.split('.').next().unwrap_or(k).to_string())
            .collect();
        keys.dedup();
        keys
    }
}

impl<'de> DeserializeSeed<'de> for Section<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Section<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of settings")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The key is checked as it is read, so an unknown one is placed at the key itself.
        while let Some(full) = map.next_key_seed(KeySeed(&self))? {
            if let Some(s) = SETTINGS
                .iter()
                .find(|s| matches!(s.key, Key::Own(k) if k == full))
            {
                let value = map.next_value_seed(KindSeed(s.kind))?;
                self.out.insert(s.id, value);
            } else {
                map.next_value_seed(Section {
                    prefix: &full,
                    out: &mut *self.out,
                })?;
            }
        }
        Ok(())
    }
}

/// A key of a [`Section`]: a setting or a sub-section, else an error. Yields the full key.
struct KeySeed<'a, 'b>(&'a Section<'b>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_, '_> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a setting's name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        let full = self.0.full(key);
        let known = SETTINGS.iter().any(|s| match s.key {
            Key::Own(k) => {
                k == full
                    || k.strip_prefix(full.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            }
            _ => false,
        });
        if known {
            Ok(full)
        } else {
            Err(E::custom(format!(
                "unknown field `{key}`, expected one of {}",
                self.0.expected().join(", ")
            )))
        }
    }
}

/// Reads one setting's YAML value by its kind.
struct KindSeed(Kind);

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let words = |d: D| d.deserialize_any(Words);
        let text_to = |words: Vec<String>, kind: Kind| {
            parse_text(kind, &words.join(",")).map_err(de::Error::custom)
        };
        Ok(match self.0 {
            // Read as text and judged here, so the error can quote the value.
            Kind::Bool => match String::deserialize(d)?.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => {
                    return Err(de::Error::custom(format!(
                        "invalid type: string {other:?}, expected a boolean (true or false)"
                    )))
                }
            },
            Kind::Uint { max } => {
                let n = u64::deserialize(d)?;
                if n > max {
                    return Err(de::Error::custom(format!(
                        "{n} is larger than the largest value, {max}"
                    )));
                }
                Value::Uint(n)
            }
            Kind::Int => Value::Int(i64::deserialize(d)?),
            Kind::Size => Value::Uint(d.deserialize_any(SizeVisitor)?),
            Kind::Probability => {
                let p = f64::deserialize(d)?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(de::Error::custom(format!(
                        "{p} is not a probability between 0.0 and 1.0"
                    )));
                }
                Value::Float(p)
            }
            Kind::Text => Value::Text(String::deserialize(d)?),
            Kind::Path => Value::Path(PathBuf::deserialize(d)?),
            Kind::Choice(_) | Kind::Severity => {
                parse_text(self.0, &String::deserialize(d)?).map_err(de::Error::custom)?
            }
            Kind::Paths | Kind::Texts | Kind::Choices(_) | Kind::Severities | Kind::Sources => {
                text_to(words(d)?, self.0)?
            }
            Kind::Ignores => Value::Ignores(Vec::<IgnoreRule>::deserialize(d)?),
            Kind::Licenses => Value::Licenses(LicensePolicy::deserialize(d)?),
            Kind::Gates => Value::Gates(GateConfig::deserialize(d)?),
            Kind::Section => {
                de::IgnoredAny::deserialize(d)?;
                Value::Bool(true)
            }
        })
    }
}

/// `[a, b]` or `a,b`.
struct Words;

impl<'de> Visitor<'de> for Words {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list, or words separated by commas")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element::<String>()? {
            out.push(s);
        }
        Ok(out)
    }
}

/// A size: a number of bytes or `64K`, `10M`, `64G`.
struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a size like 512, 64K, 10M or 64G")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("{v} is not a size")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_size(v).map_err(E::custom)
    }
}

/// What the caller has to resolve settings from.
pub struct Sources<'a> {
    /// Raw values of the flags the user typed, by flag id (each occurrence or delimited
    /// piece; a switch given is `["true"]`).
    pub flags: &'a BTreeMap<String, Vec<String>>,
    /// The environment, by variable name.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub file: &'a ConfigFile,
}

/// Resolved settings by id, with where each came from.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<&'static str, (Value, Origin)>,
}

impl Sources<'_> {
    /// One setting: the flag, then its variable, then the file, then the default.
    pub fn resolve(&self, s: &Setting) -> Result<Option<(Value, Origin)>, SettingsError> {
        if let Some(raw) = self.flags.get(s.id) {
            let text = raw.join(",");
            return parse_text(s.kind, &text)
                .map(|v| Some((v, Origin::Flag)))
                .map_err(|message| SettingsError::Flag {
                    flag: s.id.replace('_', "-"),
                    message,
                });
        }
        if let Some(var) = s.env {
            if let Some(text) = (self.env)(var).filter(|t| !t.is_empty()) {
                return parse_text(s.kind, &text)
                    .map(|v| Some((v, Origin::Environment)))
                    .map_err(|message| SettingsError::Environment {
                        variable: var.to_string(),
                        message,
                    });
            }
        }
        if let Some(v) = self.file.get(s.id) {
            return Ok(Some((v.clone(), Origin::File)));
        }
        match s.default {
            Some(d) => parse_text(s.kind, d)
                .map(|v| Some((v, Origin::Default)))
                .map_err(|message| SettingsError::Flag {
                    flag: s.id.replace('_', "-"),
                    message: format!("default: {message}"),
                }),
            None => Ok(None),
        }
    }

    /// Every setting of [`SETTINGS`].
    pub fn resolve_all(&self) -> Result<Settings, SettingsError> {
        let mut values = BTreeMap::new();
        for s in SETTINGS {
            if let Some(v) = self.resolve(s)? {
                values.insert(s.id, v);
            }
        }
        Ok(Settings { values })
    }
}

impl Settings {
    pub fn get(&self, id: &str) -> Option<&Value> {
        debug_assert!(setting(id).is_some(), "no setting {id}");
        self.values.get(id).map(|(v, _)| v)
    }

    pub fn origin(&self, id: &str) -> Option<Origin> {
        self.values.get(id).map(|(_, o)| *o)
    }

    /// Whether the user set it (flag, variable or file), not the default.
    pub fn is_set(&self, id: &str) -> bool {
        matches!(
            self.origin(id),
            Some(Origin::Flag | Origin::Environment | Origin::File)
        )
    }

    pub fn bool(&self, id: &str) -> bool {
        matches!(self.get(id), Some(Value::Bool(true)))
    }

    pub fn uint(&self, id: &str) -> Option<u64> {
        match self.get(id) {
            Some(Value::Uint(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn int(&self, id: &str) -> Option<i64> {
        match self.get(id) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn float(&self, id: &str) -> Option<f64> {
        match self.get(id) {
            Some(Value::Float(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn text(&self, id: &str) -> Option<&str> {
        match self.get(id) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    pub fn path(&self, id: &str) -> Option<&Path> {
        match self.get(id) {
            Some(Value::Path(p)) => Some(p),
            _ => None,
        }
    }

    pub fn paths(&self, id: &str) -> Option<&[PathBuf]> {
        match self.get(id) {
            Some(Value::Paths(p)) => Some(p),
            _ => None,
        }
    }

    pub fn texts(&self, id: &str) -> Option<&[String]> {
        match self.get(id) {
            Some(Value::Texts(t)) => Some(t),
            _ => None,
        }
    }

    pub fn severity(&self, id: &str) -> Option<Severity> {
        match self.get(id) {
            Some(Value::Severity(s)) => Some(*s),
            _ => None,
        }
    }

    pub fn severities(&self, id: &str) -> Option<&[Severity]> {
        match self.get(id) {
            Some(Value::Severities(s)) => Some(s),
            _ => None,
        }
    }

    pub fn sources(&self, id: &str) -> Option<&[Source]> {
        match self.get(id) {
            Some(Value::Sources(s)) => Some(s),
            _ => None,
        }
    }

    pub fn ignores(&self) -> &[IgnoreRule] {
        match self.get("ignores") {
            Some(Value::Ignores(r)) => r,
            _ => &[],
        }
    }

    pub fn licenses(&self) -> Option<&LicensePolicy> {
        match self.get("licenses") {
            Some(Value::Licenses(l)) => Some(l),
            _ => None,
        }
    }

    pub fn gates(&self) -> Option<&GateConfig> {
        match self.get("gates") {
            Some(Value::Gates(g)) => Some(g),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
