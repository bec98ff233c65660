//! `bulwark-secrets` owns finding leaked credentials (private keys, cloud and
//! SaaS API tokens, passwords in URLs and config files) in the files and the
//! metadata of a container image. A rule is described by a serde-friendly
//! [`RuleSpec`] (the built-in table is [`builtin_rules`]; users can add their
//! own from config) and compiled into a [`Rule`]. A [`Scanner`] is built once
//! from a list of specs plus an [`Allowlist`] (path globs and secret regexes):
//! it compiles every rule and one case-insensitive Aho-Corasick automaton over
//! all rule keywords. [`Scanner::scan`] takes a file's image-relative path and
//! bytes, skips binary content, finds which keywords occur, runs only the
//! regexes of the rules those keywords belong to, filters candidates by
//! Shannon entropy, per-rule placeholder regexes and the allowlist, and
//! returns [`SecretMatch`]es; [`Scanner::scan_text`] does the same for a
//! string such as an `ENV` value, a label or a history `created_by`. A match
//! carries the rule, the 1-based line and column, a redacted preview and a
//! stable fingerprint, but never the secret itself. Input is treated as
//! hostile: regexes are the linear-time `regex::bytes` kind, invalid UTF-8
//! never fails, files are capped at [`Scanner::max_file_bytes`] and findings
//! per file at [`MAX_FINDINGS_PER_FILE`].
#![forbid(unsafe_code)]

mod catalog;
pub mod credential;
mod formats;
mod image;
mod redact;
mod rules;
pub mod validate;

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use bulwark_types::Confidence;
pub use catalog::{rules_markdown, rules_table};
pub use formats::{format_rules, FormatRule};
pub use rules::{
    builtin_families, builtin_rules, AllowFilter, RuleCases, RuleEntry, RuleFamily, GENERIC_ALLOW,
    PLACEHOLDER_ALLOW, TOKEN_ALLOW,
};

/// Default per-file size cap of [`Scanner::max_file_bytes`]: 10 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// At most this many findings are reported for one file or text.
pub const MAX_FINDINGS_PER_FILE: usize = 1000;
/// Candidate secrets shorter than this many bytes are never reported.
pub const MIN_SECRET_LEN: usize = 6;
/// Findings below this confidence are not reported unless the caller asks for them
/// ([`Scanner::with_min_confidence`], `--secret-min-confidence`).
pub const DEFAULT_MIN_CONFIDENCE: Confidence = Confidence::Medium;
/// How many leading bytes are sniffed for NUL bytes by [`is_binary`].
pub const SNIFF_BYTES: usize = 8192;

/// Errors from building a [`Scanner`].
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("rule id {0:?} is not kebab-case (lowercase ascii letters, digits, single dashes)")]
    InvalidId(String),
    #[error("duplicate rule id {0:?}")]
    DuplicateId(String),
    #[error("rule {0:?} has no keywords (every rule needs at least one prefilter keyword)")]
    NoKeywords(String),
    #[error("rule {rule:?}: keyword {keyword:?} is empty or not lowercase")]
    InvalidKeyword { rule: String, keyword: String },
    #[error("rule {rule:?}: invalid {what} regex: {source}")]
    InvalidRegex {
        rule: String,
        what: &'static str,
        #[source]
        source: Box<regex::Error>,
    },
    #[error(
        "rule {rule:?}: secret_group {group} but the pattern has only {groups} capture groups"
    )]
    InvalidSecretGroup {
        rule: String,
        group: usize,
        groups: usize,
    },
    #[error("allowlist: invalid path glob {glob:?}: {source}")]
    InvalidGlob {
        glob: String,
        #[source]
        source: globset::Error,
    },
    #[error("allowlist: invalid regex {pattern:?}: {source}")]
    InvalidAllowRegex {
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("keyword automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// How bad a leak of this kind of secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

pub(crate) fn default_secret_group() -> usize {
    1
}

/// The uncompiled, serializable description of a rule: what the built-in
/// table is made of and what users write in config to add rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable kebab-case id, e.g. `aws-access-key-id`.
    pub id: String,
    /// Short human title, e.g. `AWS access key ID`.
    pub title: String,
    /// One line on what the rule finds (and what it deliberately does not).
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    /// How sure a match of this rule is to be a real credential; structural checks of the
    /// secret (a checksum, a placeholder shape) can lower it per match.
    #[serde(default)]
    pub confidence: Confidence,
    /// Lowercase literals; the rule's regex only runs on input that contains
    /// at least one of them (matched case-insensitively). Must not be empty.
    pub keywords: Vec<String>,
    /// A `regex::bytes` pattern (Unicode mode off: classes are ASCII/bytes).
    pub pattern: String,
    /// Capture group that holds the secret (0 = the whole match).
    #[serde(default = "default_secret_group")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret, if any.
    #[serde(default)]
    pub entropy_min: Option<f64>,
    /// Regex applied to the secret; a match drops the candidate (placeholder
    /// filter). [`PLACEHOLDER_ALLOW`] is the common one.
    #[serde(default)]
    pub allow: Option<String>,
    /// A generic rule's finding is dropped when its secret overlaps the
    /// secret of a finding of a non-generic (specific) rule in the same input.
    #[serde(default)]
    pub generic: bool,
    /// A structural check of the secret (checksum, payload, layout); a match that fails it is
    /// reported at low confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<validate::Check>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub keywords: Vec<String>,
    pub pattern: String,
    pub secret_group: usize,
    pub entropy_min: Option<f64>,
    pub allow_pattern: Option<String>,
    pub generic: bool,
    pub check: Option<validate::Check>,
    /// The pattern and allow regexes, compiled on first use: a scan meets a handful of the
    /// ~160 built-in rules' keywords, and compiling all of them up front cost more CPU than
    /// the scan of a whole Debian base image did.
    compiled: OnceLock<CompiledRule>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    regex: Regex,
    allow: Option<Regex>,
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
}

impl Rule {
    /// Compiles and validates a spec.
    pub fn compile(spec: RuleSpec) -> Result<Rule, SecretsError> {
        if !is_kebab(&spec.id) {
            return Err(SecretsError::InvalidId(spec.id));
        }
        if spec.keywords.is_empty() {
            return Err(SecretsError::NoKeywords(spec.id));
        }
        if let Some(k) = spec
            .keywords
            .iter()
            .find(|k| k.is_empty() || k.to_ascii_lowercase() != **k)
        {
            return Err(SecretsError::InvalidKeyword {
                rule: spec.id.clone(),
                keyword: k.clone(),
            });
        }
        let rule = Rule::uncompiled(spec);
        let compiled = rule.build()?;
        let _ = rule.compiled.set(compiled);
        Ok(rule)
    }

    /// Compiles the pattern and allow regexes and checks the secret group exists.
    fn build(&self) -> Result<CompiledRule, SecretsError> {
        let invalid = |what: &'static str, e: regex::Error| SecretsError::InvalidRegex {
            rule: self.id.clone(),
            what,
            source: Box::new(e),
        };
        let regex = build_regex(&self.pattern).map_err(|e| invalid("pattern", e))?;
        let groups = regex.captures_len() - 1;
        if self.secret_group > groups {
            return Err(SecretsError::InvalidSecretGroup {
                rule: self.id.clone(),
                group: self.secret_group,
                groups,
            });
        }
        let allow = match &self.allow_pattern {
            Some(p) => Some(build_regex(p).map_err(|e| invalid("allow", e))?),
            None => None,
        };
        Ok(CompiledRule { regex, allow })
    }

    /// A built-in rule, compiled when its keyword first occurs. Only for the embedded rules:
    /// `every_builtin_rule_compiles` proves each compiles, so [`Rule::compiled`] cannot fail
    /// on them.
    fn builtin(spec: RuleSpec) -> Rule {
        Rule::uncompiled(spec)
    }

    fn uncompiled(spec: RuleSpec) -> Rule {
        Rule {
            id: spec.id,
            title: spec.title,
            description: spec.description,
            severity: spec.severity,
            confidence: spec.confidence,
            keywords: spec.keywords,
            pattern: spec.pattern,
            secret_group: spec.secret_group,
            entropy_min: spec.entropy_min,
            allow_pattern: spec.allow,
            generic: spec.generic,
            check: spec.check,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regexes; `None` only for a built-in rule that does not compile, which
    /// `every_builtin_rule_compiles` rules out.
    fn compiled(&self) -> Option<&CompiledRule> {
        if let Some(c) = self.compiled.get() {
            return Some(c);
        }
        let built = self.build().ok()?;
        Some(self.compiled.get_or_init(|| built))
    }

    /// Compiles the rule now if it was not yet: a built-in rule's errors surface here.
    pub fn compile_now(&self) -> Result<(), SecretsError> {
        if self.compiled.get().is_none() {
            let built = self.build()?;
            let _ = self.compiled.set(built);
        }
        Ok(())
    }
}

/// What to never report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Globs over the image-relative path (without a leading `/`; `*` does not
    /// cross `/`, `**` does). Matching files are not scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes applied to the secret; a match drops the finding.
    #[serde(default)]
    pub regexes: Vec<String>,
}

/// One secret found. Deliberately holds no copy of the secret: only a
/// redacted prefix and a salted-by-rule, truncated hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMatch {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// 1-based line of the first byte of the secret.
    pub line: usize,
    /// 1-based byte column of the first byte of the secret in that line.
    pub column: usize,
    /// At most the first 4 characters (2 for secrets under 12) then `****`.
    pub redacted: String,
    /// `sha256:` + the first 16 hex digits of sha256(`rule_id:secret`).
    pub fingerprint: String,
}

/// The secret scanner: build once, share across threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// keyword pattern index -> rule indices having that keyword
    keyword_rules: Vec<Vec<usize>>,
    /// Keywords from this index on are the hash recogniser's markers (`$6$`, `$2y$`, …):
    /// the one keyword pass also says whether a file may hold a password hash.
    first_hash_marker: usize,
    allow_paths: GlobSet,
    allow_regexes: Vec<Regex>,
    max_file_bytes: u64,
    min_confidence: Confidence,
}

/// Is this content binary? NUL bytes in the first [`SNIFF_BYTES`], or the
/// magic of ELF, zip/jar, gzip, xz, zstd, bzip2, PNG, JPEG, GIF or a Java class.
pub fn is_binary(content: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"\x1f\x8b",
        b"\xfd7zXZ\x00",
        b"\x28\xb5\x2f\xfd",
        b"BZh",
        b"\x89PNG",
        b"\xff\xd8\xff",
        b"GIF8",
        b"\xca\xfe\xba\xbe",
    ];
    if MAGICS.iter().any(|m| content.starts_with(m)) {
        return true;
    }
    let head = &content[..content.len().min(SNIFF_BYTES)];
    memchr::memchr(0, head).is_some()
}

/// File names whose content is package hashes and checksums (lockfiles, `go.sum`, `SHA256SUMS`).
const CHECKSUM_FILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.sum",
    "cargo.lock",
    "poetry.lock",
    "pipfile.lock",
    "composer.lock",
    "gemfile.lock",
    "packages.lock.json",
    "uv.lock",
    "pdm.lock",
    "bun.lock",
    "sha256sums",
    "sha512sums",
    "md5sums",
];

/// Is `path` a lockfile or checksum list (by its file name, any case)?
pub fn is_checksum_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    CHECKSUM_FILES.contains(&name.as_str())
        || name.ends_with(".sha256")
        || name.ends_with(".md5sums")
}

/// Shannon entropy of `data` in bits per byte (0 for empty input).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    let mut distinct = [0u8; 256];
    let mut nd = 0;
    for &b in data {
        if counts[b as usize] == 0 {
            distinct[nd] = b;
            nd += 1;
        }
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    let mut h = 0.0;
    for &b in &distinct[..nd] {
        let p = f64::from(counts[b as usize]) / n;
        h -= p * p.log2();
    }
    h
}

/// The redacted preview of a secret: never the whole secret.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = if n >= 12 {
        4
    } else if n >= 6 {
        2
    } else {
        0
    };
    let mut s: String = secret.chars().take(keep).collect();
    s.push_str("****");
    s
}

/// The stable fingerprint of a secret found by a rule.
pub fn fingerprint(rule_id: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update(b":");
    h.update(secret.as_bytes());
    let digest = h.finalize();
    format!("sha256:{}", &hex::encode(digest)[..16])
}

struct Candidate {
    rule: usize,
    /// Set when a format parser found this secret; `rule` is then unused.
    format: Option<&'static FormatRule>,
    confidence: Confidence,
    start: usize,
    end: usize,
    secret: String,
}

impl Scanner {
    /// Compiles the rules, the keyword automaton and the allowlist.
    pub fn new(rules: Vec<RuleSpec>, allow: Allowlist) -> Result<Scanner, SecretsError> {
        let compiled = rules
            .into_iter()
            .map(Rule::compile)
            .collect::<Result<Vec<_>, _>>()?;
        Scanner::from_rules(compiled, allow)
    }

    fn from_rules(compiled: Vec<Rule>, allow: Allowlist) -> Result<Scanner, SecretsError> {
        let mut seen = HashSet::new();
        for rule in &compiled {
            if !seen.insert(rule.id.as_str()) {
                return Err(SecretsError::DuplicateId(rule.id.clone()));
            }
        }
        let mut kw_index: std::collections::HashMap<String, usize> = Default::default();
        let mut kw_list: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (ri, rule) in compiled.iter().enumerate() {
            for k in &rule.keywords {
                let idx = *kw_index.entry(k.clone()).or_insert_with(|| {
                    kw_list.push(k.clone());
                    keyword_rules.push(Vec::new());
                    kw_list.len() - 1
                });
                if !keyword_rules[idx].contains(&ri) {
                    keyword_rules[idx].push(ri);
                }
            }
        }
        let first_hash_marker = kw_list.len();
        for marker in formats::hashes::markers() {
            kw_list.push(marker.to_ascii_lowercase());
            keyword_rules.push(Vec::new());
        }
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&kw_list)
            .or_else(|_| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&kw_list)
            })?;
        let mut gb = GlobSetBuilder::new();
        for g in &allow.paths {
            let glob = GlobBuilder::new(g.trim_start_matches('/'))
                .literal_separator(true)
                .build()
                .map_err(|source| SecretsError::InvalidGlob {
                    glob: g.clone(),
                    source,
                })?;
            gb.add(glob);
        }
        let allow_paths = gb.build().map_err(|source| SecretsError::InvalidGlob {
            glob: allow.paths.join(", "),
            source,
        })?;
        let allow_regexes = allow
            .regexes
            .iter()
            .map(|p| {
                build_regex(p).map_err(|e| SecretsError::InvalidAllowRegex {
                    pattern: p.clone(),
                    source: Box::new(e),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scanner {
            rules: compiled,
            keywords,
            keyword_rules,
            first_hash_marker,
            allow_paths,
            allow_regexes,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        })
    }

    /// The scanner with every built-in rule and an empty allowlist.
    pub fn builtin() -> Scanner {
        Scanner::with_builtin(Vec::new(), Allowlist::default()).expect("built-in rules are valid")
    }

    /// The built-in rules (compiled lazily) followed by the user's `extra` rules (compiled
    /// now, so a bad pattern is reported before the scan starts).
    fn with_builtin(extra: Vec<RuleSpec>, allow: Allowlist) -> Result<Scanner, SecretsError> {
        let mut rules: Vec<Rule> = builtin_rules().into_iter().map(Rule::builtin).collect();
        for spec in extra {
            rules.push(Rule::compile(spec)?);
        }
        Scanner::from_rules(rules, allow)
    }

    /// Sets the per-file size cap (bytes beyond it are not scanned).
    pub fn with_max_file_bytes(mut self, max: u64) -> Scanner {
        self.max_file_bytes = max;
        self
    }

    /// Reports only findings at or above this confidence (redaction still covers all).
    pub fn with_min_confidence(mut self, min: Confidence) -> Scanner {
        self.min_confidence = min;
        self
    }

    /// The lowest confidence reported.
    pub fn min_confidence(&self) -> Confidence {
        self.min_confidence
    }

    /// The compiled rules, in table order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// False for paths matched by the allowlist globs: the caller need not
    /// even read those files. Binary files are not judged by path but by
    /// content in [`Scanner::scan`].
    pub fn wants_path(&self, path: &str) -> bool {
        !self.allow_paths.is_match(path.trim_start_matches('/'))
    }

    /// The per-file size cap: callers should read at most this many bytes of
    /// a file; [`Scanner::scan`] ignores anything beyond it.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// Scans one file. `path` is image-relative; allowlisted paths and binary
    /// content (see [`is_binary`]) yield nothing.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<SecretMatch> {
        if !self.wants_path(path) {
            return Vec::new();
        }
        let cap = usize::try_from(self.max_file_bytes).unwrap_or(usize::MAX);
        let content = &content[..content.len().min(cap)];
        let format = formats::detect(path);
        if is_binary(content) {
            return match format {
                Some(f) if formats::presence_only(f) => self.matches(
                    content,
                    self.reported(self.with_formats(content, Vec::new(), f, path, false)),
                ),
                _ => Vec::new(),
            };
        }
        let (mut cands, hash_marker) = self.candidates_and_hash_marker(content);
        if is_checksum_file(path) {
            // Lockfiles and checksum lists are full of hashes under names like `integrity`
            // or `checksum`: only a specific rule's match (a token in a resolved URL) counts.
            cands.retain(|c| !self.rules[c.rule].generic);
        }
        let cands = self.reported(self.with_formats(content, cands, format, path, hash_marker));
        if cands.is_empty() {
            return Vec::new();
        }
        self.matches(content, cands)
    }

    /// The rule candidates merged with what the format parsers and the hash recogniser
    /// find: a generic rule's match gives way to a format finding at the same bytes, a
    /// format finding gives way to a specific rule's match (which names the token better).
    fn with_formats(
        &self,
        content: &[u8],
        mut cands: Vec<Candidate>,
        format: impl Into<Option<formats::Format>>,
        path: &str,
        hash_marker: bool,
    ) -> Vec<Candidate> {
        let found = formats::findings(path, format.into(), content, hash_marker);
        if found.is_empty() {
            return cands;
        }
        cands.retain(|c| {
            !self.rules[c.rule].generic
                || !found
                    .iter()
                    .any(|f| formats::overlaps(&f.range, &(c.start..c.end)))
        });
        let specific = cands.len();
        for f in found {
            // The specific rule keeps its name; the file format vouches for the credential.
            let mut seen = false;
            for c in cands[..specific]
                .iter_mut()
                .filter(|c| formats::overlaps(&f.range, &(c.start..c.end)))
            {
                c.confidence = c.confidence.max(f.confidence);
                seen = true;
            }
            if seen {
                continue;
            }
            let raw = &content[f.range.clone()];
            if self.allow_regexes.iter().any(|a| a.is_match(raw)) {
                continue;
            }
            // An encrypted credential file is reported whole: its redacted preview and
            // fingerprint come from the hex of its bytes, never from raw binary.
            let printable = raw
                .iter()
                .all(|b| b.is_ascii_graphic() || *b == b' ' || *b >= 0x80);
            let secret = if printable {
                String::from_utf8_lossy(raw).into_owned()
            } else {
                hex::encode(raw)
            };
            cands.push(Candidate {
                rule: 0,
                format: Some(f.rule),
                confidence: f.confidence,
                start: f.range.start,
                end: f.range.end,
                secret,
            });
        }
        cands.sort_by_key(|c| (c.start, c.rule));
        cands.truncate(MAX_FINDINGS_PER_FILE);
        cands
    }

    /// Scans a piece of image metadata (an `ENV` value, a label, a history
    /// `created_by`); `origin` names it for the caller and is not matched
    /// against the path allowlist.
    pub fn scan_text(&self, origin: &str, text: &str) -> Vec<SecretMatch> {
        let _ = origin;
        let cap = usize::try_from(self.max_file_bytes).unwrap_or(usize::MAX);
        let bytes = text.as_bytes();
        self.scan_bytes(&bytes[..bytes.len().min(cap)])
    }

    /// [`Scanner::scan_text`] plus each match's secret, kept in memory only so the caller can
    /// redact that value wherever else it appears (see [`Redactor`]).
    pub fn scan_text_values(&self, text: &str) -> Vec<(SecretMatch, SecretValue)> {
        let cap = usize::try_from(self.max_file_bytes).unwrap_or(usize::MAX);
        let bytes = text.as_bytes();
        let content = &bytes[..bytes.len().min(cap)];
        let cands = self.reported(self.candidates(content));
        let values: Vec<SecretValue> = cands
            .iter()
            .map(|c| SecretValue::new(c.secret.clone()))
            .collect();
        self.matches(content, cands)
            .into_iter()
            .zip(values)
            .collect()
    }

    /// Whether the rule with this id is a generic (assignment-shaped) one.
    pub fn is_generic(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|r| r.id == rule_id && r.generic)
    }

    /// Which rules have a keyword in `content`, and whether a hash marker occurs.
    fn active_rules(&self, content: &[u8]) -> (Vec<bool>, bool) {
        let mut active = vec![false; self.rules.len()];
        let mut seen_kw = vec![false; self.keyword_rules.len()];
        let mut remaining = self.keyword_rules.len();
        for m in self.keywords.find_overlapping_iter(content) {
            let k = m.pattern().as_usize();
            if !seen_kw[k] {
                seen_kw[k] = true;
                for &r in &self.keyword_rules[k] {
                    active[r] = true;
                }
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
        }
        let hash_marker = seen_kw[self.first_hash_marker..].contains(&true);
        (active, hash_marker)
    }

    /// `text` with every secret the rules find replaced by its redacted form, for showing
    /// metadata (history steps, labels) that may carry one.
    pub fn redact_text(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for c in self.candidates(bytes) {
            if c.start < pos {
                continue;
            }
            let (Some(before), Some(secret)) = (text.get(pos..c.start), text.get(c.start..c.end))
            else {
                continue;
            };
            out.push_str(before);
            out.push_str(&redact(secret));
            pos = c.end;
        }
        out.push_str(text.get(pos..).unwrap_or(""));
        out
    }

    fn scan_bytes(&self, content: &[u8]) -> Vec<SecretMatch> {
        let cands = self.reported(self.candidates(content));
        if cands.is_empty() {
            return Vec::new();
        }
        self.matches(content, cands)
    }

    /// The candidates at or above the minimum confidence. Applied after the overlap rule of
    /// [`Scanner::candidates`], so a specific rule's low-confidence match still hides a generic
    /// rule's match of the same bytes instead of letting it through.
    fn reported(&self, mut cands: Vec<Candidate>) -> Vec<Candidate> {
        cands.retain(|c| c.confidence >= self.min_confidence);
        cands
    }

    /// The secrets in `content`, ordered by offset, generic ones dropped where a specific
    /// rule matched the same bytes.
    fn candidates(&self, content: &[u8]) -> Vec<Candidate> {
        self.candidates_and_hash_marker(content).0
    }

    /// [`Scanner::candidates`], and whether a password-hash marker occurs in `content`.
    fn candidates_and_hash_marker(&self, content: &[u8]) -> (Vec<Candidate>, bool) {
        if content.is_empty() {
            return (Vec::new(), false);
        }
        let (active, hash_marker) = self.active_rules(content);
        let mut cands: Vec<Candidate> = Vec::new();
        'rules: for (ri, rule) in self.rules.iter().enumerate() {
            if !active[ri] {
                continue;
            }
            let Some(compiled) = rule.compiled() else {
                continue;
            };
            let mut locs = compiled.regex.capture_locations();
            let mut at = 0;
            while at <= content.len() {
                let Some(m) = compiled.regex.captures_read_at(&mut locs, content, at) else {
                    break;
                };
                at = if m.end() > m.start() {
                    m.end()
                } else {
                    m.end() + 1
                };
                let Some((start, end)) = locs.get(rule.secret_group) else {
                    continue;
                };
                if let Some(c) = self.candidate(ri, rule, content, start, end) {
                    cands.push(c);
                    if cands.len() >= MAX_FINDINGS_PER_FILE * 2 {
                        break 'rules;
                    }
                }
            }
        }
        if cands.is_empty() {
            return (cands, hash_marker);
        }
        // Drop generic findings that overlap a specific one.
        let specific: Vec<(usize, usize)> = cands
            .iter()
            .filter(|c| !self.rules[c.rule].generic)
            .map(|c| (c.start, c.end))
            .collect();
        cands.retain(|c| {
            !self.rules[c.rule].generic || !specific.iter().any(|&(s, e)| c.start < e && s < c.end)
        });
        cands.sort_by_key(|c| (c.start, c.rule));
        // Two generic rules naming the same bytes (`secret_key = ...` is both a secret and a
        // key assignment) report it once, under the first rule in table order.
        cands.dedup_by(|later, kept| {
            later.start == kept.start
                && later.end == kept.end
                && self.rules[later.rule].generic
                && self.rules[kept.rule].generic
        });
        cands.truncate(MAX_FINDINGS_PER_FILE);
        (cands, hash_marker)
    }

    fn matches(&self, content: &[u8], cands: Vec<Candidate>) -> Vec<SecretMatch> {
        // Line/column only for the matches, incrementally in offset order.
        let mut out = Vec::with_capacity(cands.len());
        let (mut pos, mut line, mut line_start) = (0usize, 1usize, 0usize);
        for c in cands {
            let seg = &content[pos..c.start];
            let nl = memchr::memchr_iter(b'\n', seg).count();
            if nl > 0 {
                line += nl;
                line_start = pos + memchr::memrchr(b'\n', seg).map_or(0, |i| i + 1);
            }
            pos = c.start;
            let (rule_id, title, severity) = match c.format {
                Some(f) => (f.id.to_string(), f.title.to_string(), f.severity),
                None => {
                    let rule = &self.rules[c.rule];
                    (rule.id.clone(), rule.title.clone(), rule.severity)
                }
            };
            out.push(SecretMatch {
                fingerprint: fingerprint(&rule_id, &c.secret),
                rule_id,
                title,
                severity,
                confidence: c.confidence,
                line,
                column: c.start - line_start + 1,
                redacted: redact(&c.secret),
            });
        }
        out
    }

    fn candidate(
        &self,
        ri: usize,
        rule: &Rule,
        content: &[u8],
        mut start: usize,
        mut end: usize,
    ) -> Option<Candidate> {
        // Trim whitespace and literal `\n`-style escapes (keys inside JSON).
        loop {
            if start < end && content[start].is_ascii_whitespace() {
                start += 1;
            } else if end - start >= 2
                && content[start] == b'\\'
                && matches!(content[start + 1], b'n' | b'r' | b't')
            {
                start += 2;
            } else {
                break;
            }
        }
        loop {
            if end > start && content[end - 1].is_ascii_whitespace() {
                end -= 1;
            } else if end - start >= 2
                && content[end - 2] == b'\\'
                && matches!(content[end - 1], b'n' | b'r' | b't')
            {
                end -= 2;
            } else {
                break;
            }
        }
        let raw = &content[start..end];
        if raw.len() < MIN_SECRET_LEN {
            return None;
        }
        if let Some(min) = rule.entropy_min {
            if shannon_entropy(raw) < min {
                return None;
            }
        }
        if rule
            .compiled()
            .and_then(|c| c.allow.as_ref())
            .is_some_and(|a| a.is_match(raw))
        {
            return None;
        }
        if self.allow_regexes.iter().any(|a| a.is_match(raw)) {
            return None;
        }
        let confidence = validate::judge(rule.confidence, rule.check, raw)?;
        Some(Candidate {
            rule: ri,
            format: None,
            confidence,
            start,
            end,
            secret: String::from_utf8_lossy(raw).into_owned(),
        })
    }
}

pub use image::{scan_image_config, ConfigSecrets, SecretAnalyzer};
pub use redact::{Redactor, SecretValue};

/// Users' additions to the scanner, from a YAML (or JSON) file: extra rules, an allowlist,
/// and whether the built-in rules stay on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub allow: Allowlist,
    #[serde(default = "default_true")]
    pub builtin: bool,
}

fn default_true() -> bool {
    true
}

impl SecretConfig {
    /// Parses the file's text; errors carry the line and column YAML reports.
    pub fn parse(text: &str) -> Result<SecretConfig, String> {
        // serde-saphyr's default budget bounds aliases, nesting and size; the snippet is left
        // out so the message stays one line (the caller names the file).
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
    }

    /// The scanner this config describes: the built-in rules (unless turned off) plus the
    /// user's, with the user's allowlist.
    pub fn scanner(self) -> Result<Scanner, SecretsError> {
        if self.builtin {
            Scanner::with_builtin(self.rules, self.allow)
        } else {
            Scanner::new(self.rules, self.allow)
        }
    }
}
