//! Findings for the unit tests of the compatibility views.

use bulwark_types::{
    CvssInfo, Ecosystem, EpssScore, FindingPackage, FindingStatus, Priority, Purl, Severity,
    SeveritySource, VulnerabilityFinding,
};

/// A Debian finding of `id` in `package` at `severity`, with a CVSS 3.1 vector and a fix.
pub fn finding(id: &str, package: &str, severity: Severity) -> VulnerabilityFinding {
    let purl = Purl::new("deb", Some("debian"), package, Some("1.0-1"))
        .with_qualifier("distro", "debian-12");
    VulnerabilityFinding {
        id: id.to_string(),
        ids: vec![id.to_string(), format!("DSA-{id}")],
        package: FindingPackage {
            name: package.to_string(),
            version: "1.0-1".into(),
            purl,
            ecosystem: Ecosystem::Deb,
            layer_index: 0,
            layer_created_by: None,
            advisory_ecosystem: "Debian:12".into(),
            advisory_name: package.to_string(),
        },
        installed_version: "1.0-1".into(),
        fixed_versions: vec!["1.0-2".into(), "1.1-1".into()],
        status: FindingStatus::Fixed,
        status_note: None,
        severity,
        severity_source: SeveritySource::Cvss31,
        cvss: Some(CvssInfo {
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            base_score: Some(9.8),
        }),
        epss: Some(EpssScore {
            cve: id.to_string(),
            score: 0.5,
            percentile: 0.9,
            date: None,
        }),
        kev: None,
        title: Some(format!("{package}: a flaw")),
        references: vec![
            format!("https://security-tracker.debian.org/tracker/{id}"),
            "not a link".into(),
        ],
        priority: Priority {
            kev: false,
            epss: Some(0.5),
            score: 9.8,
            reason: String::new(),
        },
        in_use: None,
        reachability: None,
    }
}
