//! `bulwark.yaml`: every scan flag as a config key, plus the policy that has no flag form
//! (ignore rules, licence policy, gates). Read and validated before any scan starts; errors
//! name the file, the line and the key (`bulwark.yaml:12: ignores[2].expires: invalid date
//! "2025-13-01" (expected YYYY-MM-DD)`).
//!
//! Precedence: a flag, then its `BULWARK_…` environment variable, then the config file, then
//! the built-in default. Relative paths in the file are relative to the file's directory.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bulwark_policy::vex::VexSet;
use bulwark_policy::{
    parse_ignore_file, Date, GateConfig, IgnoreRule, LicensePolicy, Policy, SeverityFilter,
    SeverityGate, VulnGate,
};
use bulwark_types::Severity;
use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use crate::cli::{FormatArg, GateArgs, ImageArgs, PolicyArgs, SbomArgs, ScannerArg, VulnArgs};

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "bulwark.yaml";
/// The ignore file looked for in the working directory when `--ignore-file` is not given.
pub const DEFAULT_IGNORE_FILE: &str = ".bulwarkignore";

/// The whole file. Keys are the long flag names; see docs/configuration.md.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub format: Option<Choice<FormatArg>>,
    pub output: Option<PathBuf>,
    pub platform: Option<String>,
    pub scanners: Option<Vec<Choice<ScannerArg>>>,
    #[serde(default, deserialize_with = "severity_list")]
    pub severity: Option<Vec<Severity>>,
    pub exit_code: Option<u8>,
    pub cache_dir: Option<PathBuf>,
    pub no_cache: Option<bool>,
    pub db_dir: Option<PathBuf>,
    pub ignore_unfixed: Option<bool>,
    pub db_warn_age: Option<i64>,
    pub db_max_age: Option<i64>,
    pub max_layer_size: Option<Size>,
    pub max_layer_ratio: Option<u64>,
    pub max_memory: Option<Size>,
    pub secret_max_file_size: Option<Size>,
    pub secret_config: Option<PathBuf>,
    pub quiet: Option<bool>,
    pub no_vuln: Option<bool>,
    pub vex: Option<Vec<PathBuf>>,
    pub max_vex_size: Option<Size>,
    pub max_sbom_size: Option<Size>,
    pub ignore_file: Option<PathBuf>,
    #[serde(default)]
    pub ignores: Vec<IgnoreRule>,
    pub licenses: Option<LicensePolicy>,
    pub gates: Option<GateConfig>,
    /// `bulwark db update` settings.
    pub db: Option<DbConfig>,
    /// How to reach registries.
    pub registry: Option<RegistryConfig>,
    #[serde(default, deserialize_with = "source_list")]
    pub source: Option<Vec<bulwark_image::engine::Source>>,
    pub docker_host: Option<String>,
    pub podman_host: Option<String>,
    pub engine_timeout: Option<u64>,
}

/// The `registry:` section: registry flags of `image`/`fs` (never a password).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistryConfig {
    pub insecure: Option<bool>,
    pub ca_certs: Option<Vec<PathBuf>>,
    pub username: Option<String>,
    pub require_signature: Option<PathBuf>,
    pub timeout: Option<u64>,
    pub min_rate: Option<Size>,
    pub retries: Option<u32>,
}

/// The `db:` section: `bulwark db update`'s flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DbConfig {
    pub ecosystems: Option<Vec<String>>,
    pub osv_url: Option<String>,
    pub kev_url: Option<String>,
    pub epss_url: Option<String>,
    pub no_kev: Option<bool>,
    pub no_epss: Option<bool>,
    pub max_download_mib: Option<u64>,
}

/// A value of one of clap's enums (`format: json`), checked while reading the file.
#[derive(Debug, Clone, Copy)]
pub struct Choice<T>(pub T);

impl<'de, T: ValueEnum> Deserialize<'de> for Choice<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        T::from_str(&s, true).map(Choice).map_err(|_| {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|p| p.get_name().to_string())
                .collect();
            de::Error::custom(format!(
                "unknown value {s:?} (expected one of: {})",
                names.join(", ")
            ))
        })
    }
}

/// A size: a number of bytes or `64K`, `10M`, `64G`.
#[derive(Debug, Clone, Copy)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size like 512, 64K, 10M or 64G")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                crate::cli::parse_size(v).map(Size).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[high, critical]` or `high,critical`.
fn severity_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Severity>>, D::Error> {
    struct V(PhantomData<()>);
    impl<'de> Visitor<'de> for V {
        type Value = Vec<Severity>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of severities (unknown, low, medium, high, critical)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.split(',')
                .map(|s| s.trim().parse::<Severity>().map_err(E::custom))
                .collect()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s.parse::<Severity>().map_err(de::Error::custom)?);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V(PhantomData)).map(Some)
}

/// `[docker, remote]` or `docker,remote`.
fn source_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<bulwark_image::engine::Source>>, D::Error> {
    use bulwark_image::engine::Source;
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<Source>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of image sources (docker, podman, remote)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Source::parse_list(v).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut words = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                words.push(s);
            }
            Source::parse_list(&words.join(",")).map_err(de::Error::custom)
        }
    }
    d.deserialize_any(V).map(Some)
}

/// A loaded config and where it came from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: Config,
    /// Relative paths in the file are resolved against this.
    pub dir: PathBuf,
}

/// Parses config text; errors read `FILE:LINE: KEY: problem`.
pub fn parse(text: &str, file: &str) -> Result<Config> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let de = serde_yaml::Deserializer::from_str(text);
    let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        let path = e.path().to_string();
        let mut message = inner.to_string();
        // serde_yaml appends ` at line L column C` and may prefix its own (coarser) path; the
        // line and the precise path are printed in front instead.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        for (i, _) in path.match_indices(['.', '[']).chain([(path.len(), "")]) {
            if let Some(rest) = message.strip_prefix(&format!("{}: ", &path[..i])) {
                message = rest.to_string();
                break;
            }
        }
        let line = inner
            .location()
            .map(|l| format!(":{}", key_line(text, l.line(), &path)))
            .unwrap_or_default();
        if path == "." {
            anyhow::anyhow!("{file}{line}: {message}")
        } else {
            anyhow::anyhow!("{file}{line}: {path}: {message}")
        }
    })?;
    for (i, r) in config.ignores.iter_mut().enumerate() {
        r.origin = format!("{file} ignores[{i}]");
    }
    Ok(config)
}

/// serde_yaml reports errors inside a mapping at the mapping's first line; the key the path
/// ends with is usually a few lines further down. Finds its line, from `from` (1-based) on.
fn key_line(text: &str, from: usize, path: &str) -> usize {
    let last = path.rsplit(['.']).next().unwrap_or("");
    let key = last.split('[').next().unwrap_or("");
    if key.is_empty() || key == "?" {
        return from;
    }
    let lines: Vec<&str> = text.lines().collect();
    // `ignores[2]`: the third `- ` item under the top-level `ignores:` key.
    if let Some(index) = last
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix('['))
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|_| !path.contains('.'))
    {
        let Some(start) = lines.iter().position(|l| l.starts_with(&format!("{key}:"))) else {
            return from;
        };
        let mut item_indent = None;
        let mut seen = 0;
        for (i, line) in lines.iter().enumerate().skip(start + 1) {
            let indent = line.len() - line.trim_start().len();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if indent == 0 && !trimmed.starts_with('-') {
                break;
            }
            if trimmed.starts_with('-') && item_indent.is_none_or(|w| w == indent) {
                item_indent = Some(indent);
                if seen == index {
                    return i + 1;
                }
                seen += 1;
            }
        }
        return from;
    }
    for (i, line) in lines.iter().enumerate().skip(from.saturating_sub(1)) {
        let found = line.match_indices(key).any(|(at, _)| {
            let before = line[..at].chars().last();
            let after = line[at + key.len()..].trim_start();
            matches!(before, None | Some(' ' | '{' | ',' | '-' | '\t')) && after.starts_with(':')
        });
        if found {
            return i + 1;
        }
    }
    from
}

/// `--config FILE` (must exist), else `./bulwark.yaml` when present, else nothing.
pub fn load(args: &PolicyArgs) -> Result<Loaded> {
    let (path, shown) = match &args.config {
        Some(p) => (p.clone(), p.display().to_string()),
        None => {
            let p = PathBuf::from(DEFAULT_FILE);
            if !p.exists() {
                return Ok(Loaded {
                    dir: PathBuf::from("."),
                    ..Loaded::default()
                });
            }
            (p, DEFAULT_FILE.to_string())
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {shown}"))?;
    let config = parse(&text, &shown)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Loaded { config, dir })
}

/// Whether the user gave this argument on the command line or through its variable.
fn explicit(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

impl Loaded {
    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn fill_vuln(&self, v: &mut VulnArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "db_dir") {
            if let Some(d) = &c.db_dir {
                v.db_dir = Some(self.path(d));
            }
        }
        if !explicit(m, "ignore_unfixed") {
            if let Some(b) = c.ignore_unfixed {
                v.ignore_unfixed = b;
            }
        }
        if !explicit(m, "db_warn_age") {
            if let Some(n) = c.db_warn_age {
                v.db_warn_age = n;
            }
        }
        if !explicit(m, "db_max_age") {
            if let Some(n) = c.db_max_age {
                v.db_max_age = n;
            }
        }
    }

    fn fill_gate(&self, g: &mut GateArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "exit_code") {
            if let Some(n) = c.exit_code {
                g.exit_code = n;
            }
        }
        if !explicit(m, "severity") {
            if let Some(s) = &c.severity {
                g.severity = s.clone();
            }
        }
    }

    fn fill_policy(&self, p: &mut PolicyArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "vex") {
            if let Some(v) = &c.vex {
                p.vex = v.iter().map(|f| self.path(f)).collect();
            }
        }
        if !explicit(m, "ignore_file") {
            if let Some(f) = &c.ignore_file {
                p.ignore_file = Some(self.path(f));
            }
        }
        if !explicit(m, "max_vex_size") {
            if let Some(s) = c.max_vex_size {
                p.max_vex_size = s.0;
            }
        }
    }

    /// Fills every setting of `image`/`fs` the user did not give as a flag or variable.
    pub fn fill_image(&self, a: &mut ImageArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "format") {
            if let Some(f) = c.format {
                a.format = Some(f.0);
            }
        }
        if !explicit(m, "output") {
            if let Some(o) = &c.output {
                a.output = Some(self.path(o));
            }
        }
        if !explicit(m, "platform") {
            if let Some(p) = &c.platform {
                a.platform = Some(p.clone());
            }
        }
        if !explicit(m, "scanners") {
            if let Some(s) = &c.scanners {
                a.scanners = Some(s.iter().map(|c| c.0).collect());
            }
        }
        if !explicit(m, "cache_dir") {
            if let Some(d) = &c.cache_dir {
                a.cache_dir = Some(self.path(d));
            }
        }
        if !explicit(m, "no_cache") {
            if let Some(b) = c.no_cache {
                a.no_cache = b;
            }
        }
        if !explicit(m, "max_layer_size") {
            if let Some(s) = c.max_layer_size {
                a.max_layer_size = s.0;
            }
        }
        if !explicit(m, "max_layer_ratio") {
            if let Some(n) = c.max_layer_ratio {
                a.max_layer_ratio = n;
            }
        }
        if !explicit(m, "max_memory") {
            if let Some(s) = c.max_memory {
                a.max_memory = s.0;
            }
        }
        if !explicit(m, "secret_max_file_size") {
            if let Some(s) = c.secret_max_file_size {
                a.secret_max_file_size = s.0;
            }
        }
        if !explicit(m, "secret_config") {
            if let Some(f) = &c.secret_config {
                a.secret_config = Some(self.path(f));
            }
        }
        if !explicit(m, "quiet") {
            if let Some(b) = c.quiet {
                a.quiet = b;
            }
        }
        self.fill_vuln(&mut a.vuln, m);
        self.fill_gate(&mut a.gate, m);
        self.fill_policy(&mut a.policy, m);
        self.fill_registry(&mut a.registry, m);
        self.fill_engine(&mut a.engine, m);
    }

    fn fill_engine(&self, e: &mut crate::cli::EngineArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "source") {
            if let Some(s) = &c.source {
                e.source = s.clone();
            }
        }
        if !explicit(m, "docker_host") {
            if let Some(h) = &c.docker_host {
                e.docker_host = Some(h.clone());
            }
        }
        if !explicit(m, "podman_host") {
            if let Some(h) = &c.podman_host {
                e.podman_host = Some(h.clone());
            }
        }
        if !explicit(m, "engine_timeout") {
            if let Some(t) = c.engine_timeout {
                e.engine_timeout = t;
            }
        }
    }

    fn fill_registry(&self, r: &mut crate::cli::RegistryArgs, m: &ArgMatches) {
        let Some(c) = &self.config.registry else {
            return;
        };
        if !explicit(m, "insecure") {
            if let Some(b) = c.insecure {
                r.insecure = b;
            }
        }
        if !explicit(m, "ca_certs") {
            if let Some(v) = &c.ca_certs {
                r.ca_certs = v.iter().map(|f| self.path(f)).collect();
            }
        }
        if !explicit(m, "username") {
            if let Some(u) = &c.username {
                r.username = Some(u.clone());
            }
        }
        if !explicit(m, "require_signature") {
            if let Some(k) = &c.require_signature {
                r.require_signature = Some(self.path(k));
            }
        }
        if !explicit(m, "registry_timeout") {
            if let Some(t) = c.timeout {
                r.registry_timeout = t;
            }
        }
        if !explicit(m, "registry_min_rate") {
            if let Some(s) = c.min_rate {
                r.registry_min_rate = s.0;
            }
        }
        if !explicit(m, "registry_retries") {
            if let Some(n) = c.retries {
                r.registry_retries = n;
            }
        }
    }

    /// Fills the settings of `bulwark config` the user did not give as a flag or variable.
    /// `output` is not taken from the file: it names the image report, which a config check
    /// run must not overwrite; an SBOM `format` does not apply to config checks either.
    pub fn fill_config(&self, a: &mut crate::misconfig_cmd::ConfigArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "format") {
            if let Some(f) = c.format {
                if !matches!(f.0, FormatArg::Cyclonedx | FormatArg::Spdx) {
                    a.format = Some(f.0);
                }
            }
        }
        if !explicit(m, "quiet") {
            if let Some(b) = c.quiet {
                a.quiet = b;
            }
        }
        self.fill_gate(&mut a.gate, m);
        self.fill_policy(&mut a.policy_args, m);
    }

    /// Fills every setting of `sbom` the user did not give as a flag or variable.
    pub fn fill_sbom(&self, a: &mut SbomArgs, m: &ArgMatches) {
        let c = &self.config;
        if !explicit(m, "format") {
            if let Some(f) = c.format {
                a.format = Some(f.0);
            }
        }
        if !explicit(m, "output") {
            if let Some(o) = &c.output {
                a.output = Some(self.path(o));
            }
        }
        if !explicit(m, "quiet") {
            if let Some(b) = c.quiet {
                a.quiet = b;
            }
        }
        if !explicit(m, "no_vuln") {
            if let Some(b) = c.no_vuln {
                a.no_vuln = b;
            }
        }
        if !explicit(m, "max_sbom_size") {
            if let Some(s) = c.max_sbom_size {
                a.max_sbom_size = s.0;
            }
        }
        self.fill_vuln(&mut a.vuln, m);
        self.fill_gate(&mut a.gate, m);
        self.fill_policy(&mut a.policy, m);
    }

    /// Fills `bulwark db update`'s settings the user did not give as flags or variables.
    pub fn fill_update(&self, u: &mut crate::db::UpdateArgs, m: &ArgMatches) {
        let Some(d) = &self.config.db else {
            return;
        };
        if !explicit(m, "ecosystems") {
            if let Some(e) = &d.ecosystems {
                u.ecosystems = e.clone();
            }
        }
        for (id, slot, value) in [
            ("osv_url", &mut u.osv_url, &d.osv_url),
            ("kev_url", &mut u.kev_url, &d.kev_url),
            ("epss_url", &mut u.epss_url, &d.epss_url),
        ] {
            if !explicit(m, id) && value.is_some() {
                *slot = value.clone();
            }
        }
        if !explicit(m, "no_kev") {
            if let Some(b) = d.no_kev {
                u.no_kev = b;
            }
        }
        if !explicit(m, "no_epss") {
            if let Some(b) = d.no_epss {
                u.no_epss = b;
            }
        }
        if !explicit(m, "max_download_mib") {
            if let Some(n) = d.max_download_mib {
                u.max_download_mib = n;
            }
        }
    }

    /// The db directory for `bulwark db`, when the config names one and no flag did.
    pub fn db_dir(&self, given: Option<PathBuf>, m: &ArgMatches) -> Option<PathBuf> {
        if explicit(m, "db_dir") {
            return given;
        }
        self.config.db_dir.as_ref().map(|d| self.path(d)).or(given)
    }
}

/// What the scan commands need from policy: the policy itself and the exit code for a failed
/// gate.
pub struct Resolved {
    pub policy: Policy,
    /// The code a failed gate exits with (0: gates are only reported).
    pub exit_code: u8,
    /// The gates are the ones a bare `--exit-code N` implies (no `--fail-on-*`, no `gates:`):
    /// they judge only what the chosen scanners report.
    pub legacy_gate: bool,
}

/// Builds the policy from the (filled) flags and the config; reads VEX and ignore files now,
/// so a bad one stops the run before any scan.
pub fn resolve(
    loaded: &Loaded,
    gate: &GateArgs,
    policy_args: &PolicyArgs,
    m: &ArgMatches,
) -> Result<Resolved> {
    resolve_for(
        loaded,
        gate,
        policy_args,
        m,
        LegacyGate::VulnerabilitiesAndSecrets,
    )
}

/// What a bare `--exit-code N` (no `--fail-on-*` gate, no `gates:`) fails on: image and SBOM
/// scans keep its original meaning, `bulwark config` has only misconfigurations to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyGate {
    VulnerabilitiesAndSecrets,
    Misconfigurations,
}

/// [`resolve`], choosing what the legacy `--exit-code` gate counts.
pub fn resolve_for(
    loaded: &Loaded,
    gate: &GateArgs,
    policy_args: &PolicyArgs,
    m: &ArgMatches,
    legacy: LegacyGate,
) -> Result<Resolved> {
    let c = &loaded.config;
    let mut ignores: Vec<IgnoreRule> = c.ignores.clone();
    let ignore_file = match &policy_args.ignore_file {
        Some(f) => Some(f.clone()),
        None => Some(PathBuf::from(DEFAULT_IGNORE_FILE)).filter(|p| p.exists()),
    };
    if let Some(f) = ignore_file {
        let shown = f.display().to_string();
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("cannot read the ignore file {shown}"))?;
        ignores.extend(parse_ignore_file(&text, &shown).map_err(anyhow::Error::msg)?);
    }
    let vex = VexSet::load(&policy_args.vex, policy_args.max_vex_size)?;

    let mut licenses = c.licenses.clone();
    if !policy_args.license_allow.is_empty() || !policy_args.license_deny.is_empty() {
        let l = licenses.get_or_insert_with(LicensePolicy::default);
        if explicit(m, "license_allow") {
            l.allow = policy_args.license_allow.clone();
        }
        if explicit(m, "license_deny") {
            l.deny = policy_args.license_deny.clone();
        }
    }

    let mut gates = c.gates.clone().unwrap_or_default();
    let vuln_flags = gate.fail_on_vuln.is_some()
        || gate.fail_on_fixable
        || gate.fail_on_kev
        || gate.fail_on_epss.is_some();
    if vuln_flags {
        let v = gates.vulnerabilities.get_or_insert_with(VulnGate::default);
        if let Some(s) = gate.fail_on_vuln {
            v.severity = SeverityFilter::AtLeast(s);
        }
        v.fixable |= gate.fail_on_fixable;
        v.kev |= gate.fail_on_kev;
        if let Some(p) = gate.fail_on_epss {
            v.epss = Some(p);
        }
    }
    if gate.fail_on_secret && gates.secrets.is_none() {
        gates.secrets = Some(SeverityGate::default());
    }
    if let Some(s) = gate.fail_on_misconfig {
        gates.misconfigurations = Some(SeverityGate {
            severity: SeverityFilter::AtLeast(s),
        });
    }
    if gate.fail_on_license && gates.licenses.is_none() {
        gates.licenses = Some(Default::default());
    }
    if gates.licenses.is_some() && licenses.is_none() {
        // A licence gate with no policy still catches unknown-licence denials... of nothing:
        // evaluate with the defaults so the report shows what is unknown.
        licenses = Some(LicensePolicy::default());
    }

    let exit_given = explicit(m, "exit_code") || c.exit_code.is_some();
    let legacy_gate = gates.is_empty() && gate.exit_code > 0;
    let exit_code = if gates.is_empty() {
        // The original gate: --exit-code N with --severity, on vulnerabilities and secrets.
        if gate.exit_code > 0 {
            let severity = SeverityFilter::AnyOf(gate.severity.clone());
            match legacy {
                LegacyGate::VulnerabilitiesAndSecrets => {
                    gates.vulnerabilities = Some(VulnGate {
                        severity: severity.clone(),
                        ..VulnGate::default()
                    });
                    gates.secrets = Some(SeverityGate { severity });
                }
                LegacyGate::Misconfigurations => {
                    gates.misconfigurations = Some(SeverityGate { severity });
                }
            }
        }
        gate.exit_code
    } else if exit_given {
        gate.exit_code
    } else {
        1
    };
    Ok(Resolved {
        policy: Policy {
            ignores,
            vex,
            licenses,
            gates,
        },
        exit_code,
        legacy_gate,
    })
}

/// Today, for ignore-rule expiry.
pub fn today() -> Date {
    Date::today()
}

/// Each scan flag's config key (flags not listed here are positional or `--config` itself).
pub const KEYS: &[(&str, &str)] = &[
    ("format", "format"),
    ("output", "output"),
    ("platform", "platform"),
    ("scanners", "scanners"),
    ("severity", "severity"),
    ("exit_code", "exit-code"),
    ("cache_dir", "cache-dir"),
    ("no_cache", "no-cache"),
    ("db_dir", "db-dir"),
    ("ignore_unfixed", "ignore-unfixed"),
    ("db_warn_age", "db-warn-age"),
    ("db_max_age", "db-max-age"),
    ("max_layer_size", "max-layer-size"),
    ("max_layer_ratio", "max-layer-ratio"),
    ("max_memory", "max-memory"),
    ("secret_max_file_size", "secret-max-file-size"),
    ("secret_config", "secret-config"),
    ("quiet", "quiet"),
    ("no_vuln", "no-vuln"),
    ("vex", "vex"),
    ("max_vex_size", "max-vex-size"),
    ("max_sbom_size", "max-sbom-size"),
    ("ignore_file", "ignore-file"),
    ("license_allow", "licenses.allow"),
    ("license_deny", "licenses.deny"),
    ("fail_on_vuln", "gates.vulnerabilities.severity"),
    ("fail_on_fixable", "gates.vulnerabilities.fixable"),
    ("fail_on_kev", "gates.vulnerabilities.kev"),
    ("fail_on_epss", "gates.vulnerabilities.epss"),
    ("fail_on_secret", "gates.secrets"),
    ("fail_on_misconfig", "gates.misconfigurations.severity"),
    ("fail_on_license", "gates.licenses"),
    ("ecosystems", "db.ecosystems"),
    ("osv_url", "db.osv-url"),
    ("kev_url", "db.kev-url"),
    ("epss_url", "db.epss-url"),
    ("no_kev", "db.no-kev"),
    ("no_epss", "db.no-epss"),
    ("max_download_mib", "db.max-download-mib"),
    ("insecure", "registry.insecure"),
    ("ca_certs", "registry.ca-certs"),
    ("username", "registry.username"),
    ("require_signature", "registry.require-signature"),
    ("registry_timeout", "registry.timeout"),
    ("registry_min_rate", "registry.min-rate"),
    ("registry_retries", "registry.retries"),
    ("source", "source"),
    ("docker_host", "docker-host"),
    ("podman_host", "podman-host"),
    ("engine_timeout", "engine-timeout"),
];

/// The config-only part of the reference (keys with no flag), kept next to [`Config`].
const SCHEMA: &str = r#"## Keys with no flag

### `ignores` (list)

Each rule names one or more selectors; a finding is suppressed when it matches all of them.
`reason` is required; `expires` (`YYYY-MM-DD`) is optional: the rule applies through that day,
then stops applying with a warning. Rules that matched nothing are warned about and listed
in the JSON report's `ignore_rules` with `state: unmatched`.

| key | matches |
| --- | --- |
| `id` | a vulnerability id or any alias (`CVE-…`, `GHSA-…`, `DSA-…`), a secret rule id, a check id, a licence expression |
| `package` | a package name, or a purl with or without version and qualifiers (`pkg:deb/debian/libssl3`) |
| `path` | a glob over a package's files, a secret's file, a misconfiguration's file (`*` within a directory, `**` across) |
| `fingerprint` | a secret's fingerprint |
| `check` | a misconfiguration check id |
| `reason` | why (required) |
| `expires` | last day the rule applies (`YYYY-MM-DD`) |

A `.bulwarkignore` file (in the working directory, or `ignore-file`) holds the same rules one
per line: `CVE-2023-5678 package=pkg:deb/debian/libssl3 expires=2026-12-31 # reason`.

### `licenses` (map)

| key | meaning |
| --- | --- |
| `allow` | SPDX ids (or `ID WITH EXCEPTION`) that are accepted; when set, everything else is forbidden |
| `allow-categories` | classes accepted alongside `allow` (`permissive`, `weak-copyleft`, `copyleft`) |
| `deny` | SPDX ids that are forbidden |
| `deny-categories` | classes that are forbidden |
| `classify` | map of licence id to class, extending the built-in table (`LicenseRef-Acme: permissive`) |
| `unknown` | packages with no known licence: `allow`, `warn` (default: a low finding), `deny` (forbidden) |

### `db` (map)

The settings of `bulwark db update` (see its flags above); `db-dir` at the top level is used by
every `bulwark db` command as well as by scans.

### `gates` (map)

Each gate is off unless present. `true` turns a gate on with its defaults.

| key | meaning |
| --- | --- |
| `vulnerabilities.severity` | count vulnerabilities at or above (`low`, `medium`, `high`, `critical`; default any) |
| `vulnerabilities.fixable` | only those with a fixed version |
| `vulnerabilities.kev` | only those in CISA KEV |
| `vulnerabilities.epss` | only those with EPSS at or above this probability |
| `secrets` | `true`, or `{severity: LEVEL}` |
| `misconfigurations` | `true`, or `{severity: LEVEL}` |
| `licenses` | `true`: fail on packages with a forbidden licence |

When any gate is configured, a failed gate exits with `exit-code` if set, else 1 (see
[exit-codes.md](exit-codes.md)).

## Example

```yaml
format: json
output: bulwark-report.json
scanners: [sbom, secret, vuln]
db-dir: /var/cache/bulwark/db
vex: [vex/app.openvex.json]
ignores:
  - id: CVE-2023-5678
    package: pkg:deb/debian/libssl3
    reason: DH keys are never generated by this service
    expires: 2026-12-31
  - fingerprint: 5d41402abc4b2a76b9719d911017c592
    reason: test fixture key
licenses:
  deny: [AGPL-3.0-only, AGPL-3.0-or-later]
  deny-categories: [copyleft]
gates:
  vulnerabilities: {severity: high, fixable: true}
  secrets: true
  licenses: true
```
"#;

/// docs/configuration.md, generated from the clap definitions and [`KEYS`].
pub fn reference_markdown(cmd: &clap::Command) -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from the clap definitions and crates/cli/src/config.rs; do not edit.\n     \
         Regenerate: bulwark config-reference > docs/configuration.md -->\n\n\
         Every scan setting can be given three ways. The first that is present wins: the flag,\n\
         then its environment variable, then the key in `bulwark.yaml`, then the default.\n\
         `bulwark.yaml` is read from the working directory, or from `--config FILE`\n\
         (`BULWARK_CONFIG`). It is validated before any scan; an unknown key, a wrong type or an\n\
         invalid date stops the run with `FILE:LINE: KEY: problem` (exit 2). Relative paths in\n\
         the file are relative to the file's directory.\n\n",
    );
    let db_update = cmd
        .find_subcommand("db")
        .and_then(|d| d.find_subcommand("update"));
    let subs: Vec<(&str, &clap::Command)> = ["image", "fs", "sbom"]
        .into_iter()
        .filter_map(|n| cmd.find_subcommand(n).map(|c| (n, c)))
        .chain(db_update.map(|c| ("db update", c)))
        .collect();
    for (name, sub) in subs {
        out.push_str(&format!("## `bulwark {name}`\n\n"));
        out.push_str("| flag | environment | bulwark.yaml | default | meaning |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for arg in sub.get_arguments() {
            let Some(long) = arg.get_long() else {
                continue;
            };
            if matches!(long, "help" | "version") {
                continue;
            }
            let env = arg
                .get_env()
                .map(|e| format!("`{}`", e.to_string_lossy()))
                .unwrap_or_default();
            let key = KEYS
                .iter()
                .find(|(id, _)| *id == arg.get_id().as_str())
                .map(|(_, k)| format!("`{k}`"))
                .unwrap_or_else(|| "—".into());
            let default = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(",");
            let help = arg
                .get_help()
                .map(|h| h.to_string().replace('|', "\\|").replace('\n', " "))
                .unwrap_or_default();
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .filter(|_| arg.get_action().takes_values())
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let possible: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|_| arg.get_action().takes_values())
                .map(|p| p.get_name().to_string())
                .collect();
            let help = if help.is_empty() || help.ends_with('.') {
                help
            } else {
                format!("{help}.")
            };
            let help = if possible.is_empty() {
                help
            } else {
                format!("{help} One of: {}.", possible.join(", "))
            };
            out.push_str(&format!(
                "| `--{long}{value}` | {env} | {key} | {} | {help} |\n",
                if default.is_empty() {
                    String::new()
                } else {
                    format!("`{default}`")
                }
            ));
        }
        out.push('\n');
    }
    out.push_str(SCHEMA);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "bulwark.yaml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("format: json\nignores:\n  - id: CVE-1\n    reason: r\n  - id: CVE-2\n    reason: r\n  - id: CVE-3\n    reason: r\n    expires: 2025-13-01\n");
        assert_eq!(
            e,
            "bulwark.yaml:9: ignores[2].expires: invalid date \"2025-13-01\" (expected YYYY-MM-DD)"
        );
        let e = err("format: json\ncolour: red\n");
        assert!(e.starts_with("bulwark.yaml:2: "), "{e}");
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = err("quiet: yes please\n");
        assert!(e.starts_with("bulwark.yaml:1: quiet: invalid type"), "{e}");
        let e = err("format: xml\n");
        assert!(
            e.contains("format: unknown value \"xml\" (expected one of: table, json"),
            "{e}"
        );
        let e = err("gates:\n  vulnerabilities:\n    severity: urgent\n");
        assert!(
            e.starts_with("bulwark.yaml:3: gates.vulnerabilities.severity: unknown severity"),
            "{e}"
        );
        let e = err("ignores:\n  - id: CVE-1\n    reason: r\n  # a comment\n  - id: CVE-2\n");
        assert_eq!(
            e,
            "bulwark.yaml:5: ignores[1]: every ignore rule needs a `reason`"
        );
        let e = err("licenses:\n  deny-categories: [viral]\n");
        assert!(e.contains("licenses.deny-categories[0]"), "{e}");
        let e = err("max-layer-size: lots\n");
        assert!(
            e.contains("max-layer-size") && e.contains("not a size"),
            "{e}"
        );
    }

    #[test]
    fn a_full_file_reads() {
        let c = parse(
            "format: json\nseverity: high,critical\nmax-layer-size: 1G\nscanners: [sbom, secret]\nexit-code: 4\ngates:\n  secrets: true\n",
            "bulwark.yaml",
        )
        .unwrap();
        assert_eq!(c.severity, Some(vec![Severity::High, Severity::Critical]));
        assert_eq!(c.max_layer_size.unwrap().0, 1 << 30);
        assert_eq!(c.exit_code, Some(4));
        assert!(c.gates.unwrap().secrets.is_some());
        use bulwark_image::engine::{Engine, Source};
        let c = parse("source: podman,remote\n", "bulwark.yaml").unwrap();
        assert_eq!(
            c.source,
            Some(vec![Source::Engine(Engine::Podman), Source::Remote])
        );
        let c = parse("source: [docker]\n", "bulwark.yaml").unwrap();
        assert_eq!(c.source, Some(vec![Source::Engine(Engine::Docker)]));
        let e = err("source: [docker, kubelet]\n");
        assert!(
            e.contains("source") && e.contains("unknown image source"),
            "{e}"
        );
    }

    /// The committed docs/configuration.md is what the code generates.
    #[test]
    fn config_reference_is_up_to_date() {
        use clap::CommandFactory;
        let cmd = crate::cli::Cli::command();
        let generated = reference_markdown(&cmd);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        if std::env::var_os("BULWARK_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/configuration.md is out of date: run BULWARK_BLESS=1 cargo test -p bulwark-cli --bin bulwark config_reference"
        );
    }

    /// Every scan flag has a config key and an environment variable.
    #[test]
    fn every_flag_has_a_key_and_a_variable() {
        use clap::CommandFactory;
        let cmd = crate::cli::Cli::command();
        let db = cmd.find_subcommand("db").unwrap();
        let subs = ["image", "fs", "sbom"]
            .iter()
            .map(|n| (*n, cmd.find_subcommand(n).unwrap()))
            .chain([("db update", db.find_subcommand("update").unwrap())]);
        for (name, sub) in subs {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                // --password-stdin reads a secret for one run: an action, not a setting.
                if arg.get_long().is_none() || matches!(id, "help" | "version" | "password_stdin") {
                    continue;
                }
                assert!(
                    arg.get_env().is_some(),
                    "{name} --{id} has no BULWARK_ variable"
                );
                if id != "config" {
                    assert!(
                        KEYS.iter().any(|(k, _)| *k == id),
                        "{name} --{id} has no bulwark.yaml key"
                    );
                }
            }
        }
    }
}
