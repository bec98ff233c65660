//! Policy: what a team has decided about findings, applied to a [`ScanReport`] after the
//! scanners ran and before anything is rendered.
//!
//! [`Policy::apply`] runs, in order: the licence policy ([`LicensePolicy`]) into
//! `license_findings`; VEX statements ([`crate::vex::VexSet`]), which take `not_affected` and
//! `fixed` vulnerabilities out; ignore rules ([`IgnoreRule`]), which take any matching finding
//! out; and finally the gates ([`GateConfig`]), judged on what is left. Everything taken out
//! lands in `suppressed` with the rule or statement that did it, and every ignore rule's fate
//! (applied, unmatched, expired) in `ignore_rules`.

use std::collections::HashMap;

use bulwark_types::{Purl, SecretLocation};

use bulwark_report::{
    FindingKind, IgnoreRuleReport, RuleState, ScanReport, Suppression, SuppressionSource,
};

use crate::date::Date;
use crate::gate::{self, GateConfig};
use crate::ignore::{IgnoreRule, Subject};
use crate::license::LicensePolicy;
use crate::vex::{ImageContext, VexSet};

/// Everything policy needs, built once before the scan.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub ignores: Vec<IgnoreRule>,
    pub vex: VexSet,
    /// `None`: no licence evaluation at all.
    pub licenses: Option<LicensePolicy>,
    pub gates: GateConfig,
}

/// A warning for the user (an expired or unmatched ignore rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning(pub String);

impl std::fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Policy {
    /// Applies the policy to `report` as of `today` (for rule expiry); returns the warnings
    /// to show (they are also in the report's `ignore_rules`).
    pub fn apply(&self, report: &mut ScanReport, today: Date) -> Vec<PolicyWarning> {
        if let Some(lp) = &self.licenses {
            report.license_findings = lp.evaluate(&report.packages);
        }
        if !self.vex.is_empty() {
            apply_vex(report, &self.vex);
        }
        let warnings = apply_ignores(report, &self.ignores, today);
        report.gates = gate::evaluate(report, &self.gates);
        warnings
    }
}

fn apply_vex(report: &mut ScanReport, vex: &VexSet) {
    let image = ImageContext {
        identity: &report.image,
        packages: report.packages.iter().map(|p| &p.purl).collect(),
    };
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for f in std::mem::take(&mut report.vulnerabilities) {
        let mut ids = f.ids.clone();
        if !ids.contains(&f.id) {
            ids.push(f.id.clone());
        }
        match vex.decide(&image, &ids, &f.package.purl) {
            Some(s) if s.status.suppresses() => {
                let mut reason = s.status.as_str().to_string();
                if let Some(j) = &s.justification {
                    reason.push_str(&format!(": {j}"));
                }
                if let Some(i) = &s.impact {
                    reason.push_str(&format!(" ({i})"));
                }
                suppressed.push(Suppression {
                    kind: FindingKind::Vulnerability,
                    id: f.id.clone(),
                    target: f.package.purl.to_string(),
                    source: SuppressionSource::Vex,
                    origin: Some(s.document.clone()),
                    reason,
                    statement: Some(s.to_json()),
                });
            }
            _ => kept.push(f),
        }
    }
    report.vulnerabilities = kept;
    report.suppressed.extend(suppressed);
}

fn secret_place(s: &bulwark_types::SecretFinding) -> String {
    match &s.location {
        SecretLocation::File { path } => format!("{path}:{}", s.hit.line),
        SecretLocation::Env { name } => format!("ENV {name}"),
        SecretLocation::Label { key } => format!("LABEL {key}"),
        SecretLocation::History { step } => format!("history step {step}"),
    }
}

fn apply_ignores(report: &mut ScanReport, rules: &[IgnoreRule], today: Date) -> Vec<PolicyWarning> {
    let mut hits = vec![0usize; rules.len()];
    let mut expired_hits = vec![0usize; rules.len()];
    let mut suppressed: Vec<Suppression> = Vec::new();
    // The first live rule that matches takes the finding; expired rules that would have
    // matched are counted so the warning can say what came back.
    let mut decide = |subject: &Subject<'_>| -> Option<usize> {
        let mut chosen = None;
        for (i, r) in rules.iter().enumerate() {
            if !r.matches(subject) {
                continue;
            }
            if r.is_expired(today) {
                expired_hits[i] += 1;
            } else if chosen.is_none() {
                chosen = Some(i);
            }
        }
        if let Some(i) = chosen {
            hits[i] += 1;
        }
        chosen
    };
    let suppression = |kind, id: String, target: String, r: &IgnoreRule| Suppression {
        kind,
        id,
        target,
        source: SuppressionSource::Ignore,
        origin: Some(r.origin.clone()),
        reason: match r.expires {
            Some(e) => format!("{} (until {e})", r.reason),
            None => r.reason.clone(),
        },
        statement: None,
    };

    let packages: HashMap<String, &bulwark_types::Package> = report
        .packages
        .iter()
        .map(|p| (p.purl.to_string(), p))
        .collect();
    let package_paths = |purl: &Purl| -> Vec<&str> {
        packages
            .get(&purl.to_string())
            .map(|p| {
                p.found_in
                    .iter()
                    .chain(p.files.iter())
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    };

    let mut kept = Vec::new();
    for f in std::mem::take(&mut report.vulnerabilities) {
        let mut ids: Vec<&str> = f.ids.iter().map(String::as_str).collect();
        ids.push(&f.id);
        let subject = Subject {
            ids,
            package: Some((&f.package.name, &f.package.purl)),
            paths: package_paths(&f.package.purl),
            ..Subject::default()
        };
        match decide(&subject) {
            Some(i) => suppressed.push(suppression(
                FindingKind::Vulnerability,
                f.id.clone(),
                f.package.purl.to_string(),
                &rules[i],
            )),
            None => kept.push(f),
        }
    }
    report.vulnerabilities = kept;

    let mut kept = Vec::new();
    for s in std::mem::take(&mut report.secrets) {
        let paths = match &s.location {
            SecretLocation::File { path } => vec![path.as_str()],
            _ => Vec::new(),
        };
        let subject = Subject {
            ids: vec![&s.hit.rule_id],
            paths,
            fingerprint: Some(&s.hit.fingerprint),
            ..Subject::default()
        };
        match decide(&subject) {
            Some(i) => suppressed.push(suppression(
                FindingKind::Secret,
                s.hit.rule_id.clone(),
                secret_place(&s),
                &rules[i],
            )),
            None => kept.push(s),
        }
    }
    report.secrets = kept;

    let mut kept = Vec::new();
    for m in std::mem::take(&mut report.misconfigurations) {
        let subject = Subject {
            ids: vec![&m.check_id],
            paths: vec![&m.location.path],
            check: Some(&m.check_id),
            ..Subject::default()
        };
        match decide(&subject) {
            Some(i) => suppressed.push(suppression(
                FindingKind::Misconfiguration,
                m.check_id.clone(),
                match m.location.line {
                    Some(l) => format!("{}:{l}", m.location.path),
                    None => m.location.path.clone(),
                },
                &rules[i],
            )),
            None => kept.push(m),
        }
    }
    report.misconfigurations = kept;

    let mut kept = Vec::new();
    for l in std::mem::take(&mut report.license_findings) {
        let purl: Option<Purl> = l.purl.parse().ok();
        let subject = Subject {
            ids: vec![&l.license],
            package: purl.as_ref().map(|p| (l.package.as_str(), p)),
            paths: purl.as_ref().map(&package_paths).unwrap_or_default(),
            ..Subject::default()
        };
        match decide(&subject) {
            Some(i) => suppressed.push(suppression(
                FindingKind::License,
                l.license.clone(),
                l.purl.clone(),
                &rules[i],
            )),
            None => kept.push(l),
        }
    }
    report.license_findings = kept;
    report.suppressed.extend(suppressed);

    let mut warnings = Vec::new();
    report.ignore_rules = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let state = if r.is_expired(today) {
                let expires = r.expires.expect("expired rules have a date");
                warnings.push(PolicyWarning(format!(
                    "{}: ignore rule ({}) expired on {expires} and no longer applies{}",
                    r.origin,
                    r.selectors(),
                    match expired_hits[i] {
                        0 => String::new(),
                        n => format!(
                            "; {n} finding{} it matched {} reported again",
                            if n == 1 { "" } else { "s" },
                            if n == 1 { "is" } else { "are" }
                        ),
                    }
                )));
                RuleState::Expired
            } else if hits[i] == 0 {
                warnings.push(PolicyWarning(format!(
                    "{}: ignore rule ({}) matched nothing; remove it if it is stale",
                    r.origin,
                    r.selectors()
                )));
                RuleState::Unmatched
            } else {
                RuleState::Applied
            };
            IgnoreRuleReport {
                origin: r.origin.clone(),
                selectors: r.selectors(),
                reason: r.reason.clone(),
                expires: r.expires.map(|d| d.to_string()),
                state,
                matched: if r.is_expired(today) {
                    expired_hits[i]
                } else {
                    hits[i]
                },
            }
        })
        .collect();
    warnings
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
