//! The parts of the report that policy produces: licence findings, what was suppressed and
//! why, and the verdict of each gate. The policy engine fills them; every renderer shows them.

use bulwark_types::{LayerRef, Severity};
use std::fmt;

use serde::{Deserialize, Serialize};

/// How a licence is classed by the licence policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseCategory {
    Permissive,
    WeakCopyleft,
    Copyleft,
    /// Named in the policy's deny list.
    Forbidden,
    /// No licence could be determined, or it is not in any known class.
    Unknown,
}

/// A package whose licence the policy objects to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseFinding {
    pub package: String,
    pub version: String,
    pub purl: String,
    /// The SPDX expression (or `LicenseRef-…`), `unknown` when none was found.
    pub license: String,
    pub category: LicenseCategory,
    pub severity: Severity,
    /// Which policy rule made this a finding (`denied: GPL-3.0-only`).
    pub reason: String,
    pub layer: LayerRef,
}

/// What kind of finding a suppression removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Vulnerability,
    Secret,
    Misconfiguration,
    License,
}

/// What took a finding out of the results. Serialized as today's strings: `ignore`, `vex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionSource {
    /// An ignore rule, from `bulwark.yaml`'s `ignores:` or an ignore file (`.bulwarkignore`).
    Ignore,
    /// A VEX statement (`not_affected` or `fixed`).
    Vex,
}

impl SuppressionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionSource::Ignore => "ignore",
            SuppressionSource::Vex => "vex",
        }
    }
}

impl fmt::Display for SuppressionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: renderers align these in columns (`{:<15}`).
        f.pad(self.as_str())
    }
}

/// A finding kept out of the results, with the rule or statement that did it, so the JSON
/// report can be audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub kind: FindingKind,
    /// The finding's id (vulnerability id, secret rule id, check id, licence).
    pub id: String,
    /// What it was found in (purl, path, file:line).
    pub target: String,
    /// An ignore rule (bulwark.yaml or an ignore file; `origin` says which) or a VEX statement.
    pub source: SuppressionSource,
    /// Where the rule or statement was written (`bulwark.yaml ignores[2]`, `.bulwarkignore:4`,
    /// the VEX document's path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The ignore rule's reason or the VEX statement's status and justification.
    pub reason: String,
    /// The VEX statement as read (status, justification, impact, document), when from VEX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
}

/// Which gate a verdict is about. Serialized as today's strings (`vulnerabilities`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateKind {
    Vulnerabilities,
    Secrets,
    Misconfigurations,
    Licenses,
}

impl GateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GateKind::Vulnerabilities => "vulnerabilities",
            GateKind::Secrets => "secrets",
            GateKind::Misconfigurations => "misconfigurations",
            GateKind::Licenses => "licenses",
        }
    }
}

impl fmt::Display for GateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: renderers align these in columns (`{:<15}`).
        f.pad(self.as_str())
    }
}

/// One gate's verdict: the summary says which failed and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    pub gate: GateKind,
    pub passed: bool,
    /// How many findings tripped it (0 when it passed).
    pub count: usize,
    /// `2 vulnerabilities at critical with a fix (CVE-2021-44228 in log4j-core 2.14.1, …)`.
    pub reason: String,
}

/// How one ignore rule fared in a scan. Serialized as `applied`, `unmatched`, `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleState {
    /// It suppressed at least one finding.
    Applied,
    /// It matched nothing in this scan (a stale rule, or a typo).
    Unmatched,
    /// Its expiry date has passed: it no longer suppresses anything.
    Expired,
}

/// What became of one ignore rule in this scan, so stale and expired rules are visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreRuleReport {
    /// `bulwark.yaml ignores[2]`, `.bulwarkignore:4`.
    pub origin: String,
    /// The rule's selectors (`id=CVE-2023-5678 package=pkg:deb/debian/libssl3`).
    pub selectors: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub state: RuleState,
    /// Findings it suppressed (for an expired rule: the findings it would have matched).
    pub matched: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enums serialise to the strings the JSON report always had, and read back.
    #[test]
    fn closed_sets_keep_their_json_strings() {
        let cases = [
            (serde_json::to_value(SuppressionSource::Ignore), "ignore"),
            (serde_json::to_value(SuppressionSource::Vex), "vex"),
            (
                serde_json::to_value(GateKind::Vulnerabilities),
                "vulnerabilities",
            ),
            (serde_json::to_value(GateKind::Secrets), "secrets"),
            (
                serde_json::to_value(GateKind::Misconfigurations),
                "misconfigurations",
            ),
            (serde_json::to_value(GateKind::Licenses), "licenses"),
            (serde_json::to_value(RuleState::Applied), "applied"),
            (serde_json::to_value(RuleState::Unmatched), "unmatched"),
            (serde_json::to_value(RuleState::Expired), "expired"),
        ];
        for (value, text) in cases {
            assert_eq!(value.unwrap(), serde_json::json!(text));
        }
        for g in [
            GateKind::Vulnerabilities,
            GateKind::Secrets,
            GateKind::Misconfigurations,
            GateKind::Licenses,
        ] {
            assert_eq!(
                serde_json::json!(g.as_str()),
                serde_json::to_value(g).unwrap()
            );
            let back: GateKind = serde_json::from_value(serde_json::json!(g.to_string())).unwrap();
            assert_eq!(back, g);
        }
        for s in [SuppressionSource::Ignore, SuppressionSource::Vex] {
            let back: SuppressionSource =
                serde_json::from_value(serde_json::json!(s.as_str())).unwrap();
            assert_eq!(back, s);
        }
    }
}
