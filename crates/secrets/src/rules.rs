//! The built-in rule table, kept as data: one YAML file per rule family under `rules/`
//! (format in `rules/README.md`), embedded at build time and read once per process. Each rule
//! carries its own true- and false-positive cases, which `tests/rule_cases.rs` runs.
//!
//! Patterns are `regex::bytes` with Unicode mode off; every rule has at least
//! one lowercase keyword for the Aho-Corasick prefilter. Prefer distinctive
//! prefixes; context-dependent rules (a bare 32-hex key) require the vendor's
//! name on the same line or in the file, and generic assignment rules require
//! entropy and pass the [`PLACEHOLDER_ALLOW`] filter.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::{Confidence, RuleSpec, Severity};

include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));

/// Placeholder filter for rules whose secret is free-form (passwords, generic
/// assignments, URL credentials): a secret matching it is not reported.
pub const PLACEHOLDER_ALLOW: &str = r"(?i)(?:example|changeme|change_me|change-me|placeholder|redacted|dummy|sample|your_|your-|yourpass|xxxx|\*\*\*|\$\{|\{\{|\}\}|<[^>]*>|^<|%[sd(]|password|passw0rd|passwd|test|secret|fake|^\$|^(?:null|none|nil|true|false|undefined|empty|required|optional|string|admin|root|user|username|default)$)";

/// Filter for the generic assignment rules: [`PLACEHOLDER_ALLOW`] plus
/// values that look like words, identifiers, paths or URLs rather than
/// secrets (`elevated-privileges`, `self._token`, `/usr/bin/pwd`,
/// `https://...`): a generic secret needs a digit or a symbol other than
/// `._/-`.
pub const GENERIC_ALLOW: &str = r"(?i)(?:example|changeme|change_me|change-me|placeholder|redacted|dummy|sample|your_|your-|yourpass|xxxx|\*\*\*|\$\{|\{\{|\}\}|<[^>]*>|^<|%[sd(]|password|passw0rd|passwd|test|secret|fake|^\$|^(?:null|none|nil|true|false|undefined|empty|required|optional|string|admin|root|user|username|default)$)|^[A-Za-z_./-]+$|^(?:/|\./|~/)[A-Za-z0-9_./-]*$|^[a-z][a-z0-9+.-]*://";

/// Light filter for prefixed tokens: obvious fillers in documentation.
pub const TOKEN_ALLOW: &str = r"(?i)(?:example|xxxxxx|\*\*\*|<[^>]*>|0{8}|1234567890|abcdefgh)";

/// A named placeholder filter a rule file can refer to instead of spelling out the regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowFilter {
    /// [`PLACEHOLDER_ALLOW`].
    Placeholder,
    /// [`GENERIC_ALLOW`].
    Generic,
    /// [`TOKEN_ALLOW`].
    Token,
}

impl AllowFilter {
    pub fn regex(self) -> &'static str {
        match self {
            AllowFilter::Placeholder => PLACEHOLDER_ALLOW,
            AllowFilter::Generic => GENERIC_ALLOW,
            AllowFilter::Token => TOKEN_ALLOW,
        }
    }
}

/// A rule's examples: texts it must report, and look-alikes it must not.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCases {
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

/// One rule as a family file writes it: a [`RuleSpec`] plus a named filter and its cases.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub keywords: Vec<String>,
    pub pattern: String,
    #[serde(default = "crate::default_secret_group")]
    pub secret_group: usize,
    #[serde(default)]
    pub entropy_min: Option<f64>,
    /// A regex of the rule's own; mutually exclusive with `allow_filter`.
    #[serde(default)]
    pub allow: Option<String>,
    #[serde(default)]
    pub allow_filter: Option<AllowFilter>,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub check: Option<crate::validate::Check>,
    #[serde(default)]
    pub cases: RuleCases,
}

impl RuleEntry {
    pub fn spec(&self) -> RuleSpec {
        RuleSpec {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self.severity,
            confidence: self.confidence,
            keywords: self.keywords.clone(),
            pattern: self.pattern.clone(),
            secret_group: self.secret_group,
            entropy_min: self.entropy_min,
            allow: self
                .allow
                .clone()
                .or_else(|| self.allow_filter.map(|f| f.regex().to_string())),
            generic: self.generic,
            check: self.check,
        }
    }
}

/// One family file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFamily {
    /// The file name under `rules/` without `.yaml`.
    #[serde(skip)]
    pub name: String,
    pub rules: Vec<RuleEntry>,
}

/// Every built-in rule family, in file name order. The files are part of the binary, so a
/// file that does not parse is a build defect: `tests/rule_cases.rs` fails on it.
pub fn builtin_families() -> &'static [RuleFamily] {
    static FAMILIES: OnceLock<Vec<RuleFamily>> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        RULE_FILES
            .iter()
            .map(|(name, text)| {
                let mut family: RuleFamily = serde_saphyr::from_str(text)
                    .unwrap_or_else(|e| panic!("built-in rule file rules/{name}: {e}"));
                family.name = name.trim_end_matches(".yaml").to_string();
                family
            })
            .collect()
    })
}

/// Every built-in rule, family by family.
pub fn builtin_rules() -> Vec<RuleSpec> {
    builtin_families()
        .iter()
        .flat_map(|f| f.rules.iter().map(RuleEntry::spec))
        .collect()
}
