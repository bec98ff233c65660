//! One view of every finding, whatever its kind, so renderers walk one list instead of each
//! walking vulnerabilities, secrets, misconfigurations and licences by hand, and list them
//! in the same order.

use bulwark_types::{Misconfiguration, SecretFinding, Severity, VulnerabilityFinding};

use crate::common::{
    misconfig_place, secret_place, sorted_licenses, sorted_suppressed, SEVERITIES,
};
use crate::policy_model::{FindingKind, LicenseFinding, Suppression};
use crate::ScanReport;

/// The finding kinds in the order every renderer lists them.
pub(crate) const KINDS: [FindingKind; 4] = [
    FindingKind::Vulnerability,
    FindingKind::Secret,
    FindingKind::Misconfiguration,
    FindingKind::License,
];

/// A kind's name as section, suite and summary row (`vulnerabilities`, `licenses`).
pub(crate) fn plural(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "vulnerabilities",
        FindingKind::Secret => "secrets",
        FindingKind::Misconfiguration => "misconfigurations",
        FindingKind::License => "licenses",
    }
}

/// The typed finding behind a view, for what only one kind has.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FindingRef<'a> {
    Vulnerability(&'a VulnerabilityFinding),
    Secret(&'a SecretFinding),
    Misconfiguration(&'a Misconfiguration),
    License(&'a LicenseFinding),
}

/// What every renderer shows of a finding: its id (vulnerability id, secret rule, check id,
/// licence), severity, title and where it is.
#[derive(Debug, Clone)]
pub(crate) struct FindingView<'a> {
    pub id: &'a str,
    pub severity: Severity,
    /// The advisory's title (else the id), the secret rule's or check's title, the licence.
    pub title: &'a str,
    /// The package's purl, the secret's or misconfiguration's place (`/app/.env:3`,
    /// `Dockerfile:3:1`).
    pub location: String,
    /// The layer that brought it, when known.
    pub layer: Option<usize>,
    pub finding: FindingRef<'a>,
}

impl<'a> FindingView<'a> {
    fn vulnerability(f: &'a VulnerabilityFinding) -> Self {
        FindingView {
            id: &f.id,
            severity: f.severity,
            title: f.title.as_deref().unwrap_or(&f.id),
            location: f.package.purl.to_string(),
            layer: Some(f.package.layer_index),
            finding: FindingRef::Vulnerability(f),
        }
    }

    fn secret(s: &'a SecretFinding) -> Self {
        FindingView {
            id: &s.hit.rule_id,
            severity: s.hit.severity,
            title: &s.hit.title,
            location: secret_place(s),
            layer: s.layer.as_ref().map(|l| l.index),
            finding: FindingRef::Secret(s),
        }
    }

    fn misconfiguration(m: &'a Misconfiguration) -> Self {
        FindingView {
            id: &m.check_id,
            severity: m.severity,
            title: &m.title,
            location: misconfig_place(m),
            layer: m.location.layer.as_ref().map(|l| l.index),
            finding: FindingRef::Misconfiguration(m),
        }
    }

    fn license(l: &'a LicenseFinding) -> Self {
        FindingView {
            id: &l.license,
            severity: l.severity,
            title: &l.license,
            location: l.purl.clone(),
            layer: Some(l.layer.index),
            finding: FindingRef::License(l),
        }
    }
}

/// The findings of one kind, in the report's order (vulnerabilities by priority, secrets and
/// misconfigurations by place, licences by package).
pub(crate) fn findings_of(report: &ScanReport, kind: FindingKind) -> Vec<FindingView<'_>> {
    match kind {
        FindingKind::Vulnerability => report
            .vulnerabilities
            .iter()
            .map(FindingView::vulnerability)
            .collect(),
        FindingKind::Secret => report.secrets.iter().map(FindingView::secret).collect(),
        FindingKind::Misconfiguration => report
            .misconfigurations
            .iter()
            .map(FindingView::misconfiguration)
            .collect(),
        FindingKind::License => sorted_licenses(report)
            .into_iter()
            .map(FindingView::license)
            .collect(),
    }
}

/// Every finding, kind by kind in [`KINDS`] order.
pub(crate) fn findings(report: &ScanReport) -> impl Iterator<Item = FindingView<'_>> {
    KINDS
        .into_iter()
        .flat_map(move |kind| findings_of(report, kind))
}

/// The findings of one kind that ignore rules or VEX removed, in a stable order.
pub(crate) fn suppressed_of(report: &ScanReport, kind: FindingKind) -> Vec<&Suppression> {
    sorted_suppressed(report)
        .into_iter()
        .filter(|s| s.kind == kind)
        .collect()
}

/// Counts per severity of every finding kind: `[vulnerabilities, secrets, misconfigurations,
/// licences]`, each indexed like [`SEVERITIES`].
pub(crate) struct Counts {
    pub rows: [(&'static str, [usize; 5]); 4],
}

impl Counts {
    pub fn of(report: &ScanReport) -> Counts {
        fn tally(it: impl Iterator<Item = Severity>) -> [usize; 5] {
            let mut c = [0; 5];
            for s in it {
                c[SEVERITIES.iter().position(|x| *x == s).unwrap_or(4)] += 1;
            }
            c
        }
        Counts {
            rows: KINDS.map(|kind| {
                (
                    plural(kind),
                    tally(findings_of(report, kind).iter().map(|v| v.severity)),
                )
            }),
        }
    }

    pub fn total(&self) -> usize {
        self.rows.iter().map(|(_, c)| c.iter().sum::<usize>()).sum()
    }
}
