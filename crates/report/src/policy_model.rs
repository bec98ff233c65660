//! The parts of the report that policy produces: licence findings, what was suppressed and
//! why, and the verdict of each gate. The policy engine fills them; every renderer shows them.

use bulwark_types::{LayerRef, Severity};
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

/// A finding kept out of the results, with the rule or statement that did it, so the JSON
/// report can be audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub kind: FindingKind,
    /// The finding's id (vulnerability id, secret rule id, check id, licence).
    pub id: String,
    /// What it was found in (purl, path, file:line).
    pub target: String,
    /// `ignore` (a bulwark.yaml rule) or `vex` (a VEX statement).
    pub source: String,
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

/// One gate's verdict: the summary says which failed and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// `vulnerabilities`, `secrets`, `misconfigurations`, `licenses`, `signature`.
    pub gate: String,
    pub passed: bool,
    /// How many findings tripped it (0 when it passed).
    pub count: usize,
    /// `2 vulnerabilities at critical with a fix (CVE-2021-44228 in log4j-core 2.14.1, …)`.
    pub reason: String,
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
    pub state: crate::policy::RuleState,
    /// Findings it suppressed (for an expired rule: the findings it would have matched).
    pub matched: usize,
}
