//! Pieces every finding renderer shares: one ordering of each finding kind, severity
//! stand-in scores, stable fingerprints, where a finding is, and text escaping.

use std::collections::BTreeMap;

use bulwark_types::{
    FindingStatus, Misconfiguration, SecretFinding, SecretLocation, Severity,
    VulnerabilityFinding as Finding,
};
use sha2::{Digest as _, Sha256};

use crate::policy_model::{LicenseFinding, Suppression};
use crate::ScanReport;

/// Severities from the most to the least urgent, as summaries list them.
pub(crate) const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

/// A CVSS-like number for a severity that has no score of its own (the matcher's stand-ins:
/// critical 9.5, high 8, medium 5.5, low 2), so code-scanning UIs rank every finding kind.
pub(crate) fn severity_score(s: Severity) -> f64 {
    match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

/// The CVSS base score when known, else the severity stand-in.
pub(crate) fn vuln_score(f: &Finding) -> f64 {
    f.cvss
        .as_ref()
        .and_then(|c| c.base_score)
        .unwrap_or_else(|| severity_score(f.severity))
}

/// A short stable hash (hex) of the parts, for fingerprints and ids.
pub(crate) fn stable_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Where a secret sits, as one line of text (`/app/.env:3`, `ENV TOKEN`).
pub(crate) fn secret_place(s: &SecretFinding) -> String {
    match &s.location {
        SecretLocation::File { path } => format!("{path}:{}", s.hit.line),
        SecretLocation::Env { name } => format!("ENV {name}"),
        SecretLocation::Label { key } => format!("LABEL {key}"),
        SecretLocation::History { step } => format!("history step {step}"),
    }
}

/// Where a misconfiguration is, as one line of text (`Dockerfile:3:1`).
pub(crate) fn misconfig_place(m: &Misconfiguration) -> String {
    let l = &m.location;
    let mut s = l.path.clone();
    if let Some(line) = l.line {
        s.push_str(&format!(":{line}"));
        if let Some(col) = l.column {
            s.push_str(&format!(":{col}"));
        }
    }
    s
}

/// Licence findings in a stable order (package, version, purl, licence).
pub(crate) fn sorted_licenses(report: &ScanReport) -> Vec<&LicenseFinding> {
    let mut v: Vec<_> = report.license_findings.iter().collect();
    v.sort_by(|a, b| {
        (&a.package, &a.version, &a.purl, &a.license, &a.reason)
            .cmp(&(&b.package, &b.version, &b.purl, &b.license, &b.reason))
    });
    v
}

/// Suppressions in a stable order (kind, id, target, source).
pub(crate) fn sorted_suppressed(report: &ScanReport) -> Vec<&Suppression> {
    let mut v: Vec<_> = report.suppressed.iter().collect();
    v.sort_by(|a, b| {
        (a.kind, &a.id, &a.target, &a.source, &a.reason)
            .cmp(&(b.kind, &b.id, &b.target, &b.source, &b.reason))
    });
    v
}

/// Vulnerability counts per severity for each key `key_of` gives, keys in their order.
pub(crate) fn vuln_counts_by<K: Ord + Clone>(
    report: &ScanReport,
    key_of: impl Fn(&Finding) -> K,
) -> BTreeMap<K, [usize; 5]> {
    let mut map: BTreeMap<K, [usize; 5]> = BTreeMap::new();
    for f in &report.vulnerabilities {
        let i = SEVERITIES
            .iter()
            .position(|x| *x == f.severity)
            .unwrap_or(4);
        map.entry(key_of(f)).or_default()[i] += 1;
    }
    map
}

/// Escapes text for HTML and XML content and attribute values.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even as references: drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// An `http(s)` URL safe to put in a link and in a URI-typed field: ASCII, no spaces,
/// quotes or angle brackets. Anything else is not linked.
pub(crate) fn safe_url(s: &str) -> Option<&str> {
    let ok_scheme = s.starts_with("https://") || s.starts_with("http://");
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
        && !s.contains('\'');
    (ok_scheme && ok_chars && s.len() > "https://".len()).then_some(s)
}

/// An advisory page for a vulnerability id (OSV knows CVE, GHSA and every OSV id).
pub(crate) fn advisory_url(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .collect();
    format!("https://osv.dev/vulnerability/{id}")
}

/// The first usable reference URL of a finding, else its advisory page.
pub(crate) fn vuln_help_url(f: &Finding) -> String {
    f.references
        .iter()
        .find_map(|r| safe_url(r))
        .map(str::to_string)
        .unwrap_or_else(|| advisory_url(&f.id))
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// What fixes a vulnerability, in words.
pub(crate) fn fix_text(f: &Finding) -> String {
    if f.fixed_versions.is_empty() {
        match f.status {
            FindingStatus::Unfixed => "no fix yet".to_string(),
            s => s.as_str().to_string(),
        }
    } else {
        format!("fixed in {}", f.fixed_versions.join(", "))
    }
}

/// A licence category in words.
pub(crate) fn category_words(c: crate::LicenseCategory) -> &'static str {
    match c {
        crate::LicenseCategory::Permissive => "permissive",
        crate::LicenseCategory::WeakCopyleft => "weak copyleft",
        crate::LicenseCategory::Copyleft => "copyleft",
        crate::LicenseCategory::Forbidden => "forbidden",
        crate::LicenseCategory::Unknown => "unknown",
    }
}

/// The relationships of each project (a package whose role is root or member) to the
/// packages of its ecosystem read from the same file: `(project index, depends on indexes,
/// member indexes)` into `packages`. A project depends on what its `dependencies` name; a
/// root contains the workspace members found beside it. See "Projects, roots and workspace
/// members" in docs/architecture.md.
pub(crate) fn project_relationships(
    packages: &[bulwark_types::Package],
) -> Vec<(usize, Vec<usize>, Vec<usize>)> {
    use bulwark_types::PackageRole;
    // (ecosystem, file) → indexes: projects usually share their manifest with their
    // dependencies, and a lookup per project keeps this linear in the inventory.
    let mut by_file: BTreeMap<(bulwark_types::Ecosystem, &str), Vec<usize>> = BTreeMap::new();
    for (i, p) in packages.iter().enumerate() {
        for f in &p.found_in {
            by_file
                .entry((p.ecosystem, f.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for (i, project) in packages.iter().enumerate() {
        if project.role == PackageRole::Dependency {
            continue;
        }
        let eco = project.ecosystem;
        let wanted: std::collections::BTreeSet<String> = project
            .dependencies
            .iter()
            .map(|d| eco.normalize_name(d))
            .collect();
        let mut depends = std::collections::BTreeSet::new();
        let mut members = std::collections::BTreeSet::new();
        for f in &project.found_in {
            for &j in by_file.get(&(eco, f.as_str())).into_iter().flatten() {
                if j == i {
                    continue;
                }
                let other = &packages[j];
                // Maven and Go dependencies are named with their namespace.
                let full = match &other.purl.namespace {
                    Some(ns) => format!("{ns}:{}", other.name),
                    None => other.name.clone(),
                };
                if wanted.contains(&eco.normalize_name(&other.name))
                    || wanted.contains(&eco.normalize_name(&full))
                {
                    depends.insert(j);
                } else if project.role == PackageRole::Root && other.role == PackageRole::Member {
                    members.insert(j);
                }
            }
        }
        out.push((
            i,
            depends.into_iter().collect(),
            members.into_iter().collect(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape_xml("<script>alert('x')&\"\u{1}"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;\u{fffd}"
        );
    }

    #[test]
    fn only_plain_http_urls_are_linked() {
        assert!(safe_url("https://example.org/a?b=c#d").is_some());
        assert!(safe_url("javascript:alert(1)").is_none());
        assert!(safe_url("https://example.org/\"onmouseover=").is_none());
        assert!(safe_url("https://exa mple.org").is_none());
        assert!(safe_url("https://").is_none());
    }
}
