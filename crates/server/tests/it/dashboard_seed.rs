//! Portfolios written straight into the store (no matching): for the dashboard's ranking test
//! and its benchmark (`bench/dashboard.sh`), which needs thousands of assets fast.

use bulwark_store::{
    ComponentInput, FindingInput, IngestDocument, MatchKeyInput, Principal, Store,
};
use bulwark_types::{
    Ecosystem, EpssScore, FindingPackage, FindingStatus, KevEntry, LayerRef, Package,
    PackageSource, Priority, Purl, Severity, SeveritySource, VulnerabilityFinding,
};

pub fn package(name: &str, version: &str, layer: usize) -> Package {
    Package {
        ecosystem: Ecosystem::Deb,
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source: Some(PackageSource {
            name: name.into(),
            version: version.into(),
        }),
        licenses: vec![],
        purl: Purl::new("deb", Some("debian"), name, Some(version))
            .with_qualifier("distro", "debian-12"),
        layer: LayerRef {
            index: layer,
            diff_id: None,
            created_by: Some(format!("RUN /bin/sh -c step {layer}")),
        },
        found_in: vec!["/var/lib/dpkg/status".into()],
        files: vec![],
        dev: false,
        inferred: false,
        dependencies: vec![],
        evidence: Default::default(),
        role: Default::default(),
    }
}

/// A finding of `pkg`; `kev` adds a KEV entry, `epss` a score.
pub fn finding(
    pkg: &Package,
    id: &str,
    severity: Severity,
    fixed: bool,
    kev: bool,
    epss: Option<f64>,
) -> VulnerabilityFinding {
    VulnerabilityFinding {
        id: id.into(),
        ids: vec![id.into()],
        package: FindingPackage {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            purl: pkg.purl.clone(),
            ecosystem: pkg.ecosystem,
            layer_index: pkg.layer.index,
            layer_created_by: pkg.layer.created_by.clone(),
            advisory_ecosystem: "Debian:12".into(),
            advisory_name: pkg.name.clone(),
        },
        installed_version: pkg.version.clone(),
        fixed_versions: if fixed { vec!["99.0".into()] } else { vec![] },
        status: if fixed {
            FindingStatus::Fixed
        } else {
            FindingStatus::Unfixed
        },
        status_note: None,
        severity,
        severity_source: SeveritySource::None,
        cvss: None,
        epss: epss.map(|score| EpssScore {
            cve: id.into(),
            score,
            percentile: score,
            date: None,
        }),
        kev: kev.then(|| KevEntry {
            cve: id.into(),
            date_added: Some("2026-01-01".into()),
            due_date: Some("2026-01-22".into()),
            vendor: None,
            product: None,
            name: None,
            ransomware: None,
        }),
        title: Some(format!("{id} in {}", pkg.name)),
        references: vec![],
        priority: Priority {
            kev,
            epss,
            score: 5.0,
            reason: String::new(),
        },
        in_use: None,
        reachability: None,
    }
}

/// One asset `name` with `packages` packages over 3 layers and `findings` findings
/// (deterministic by `seed`): every 50th finding KEV-listed, every 7th with a high EPSS.
pub fn document(name: &str, seed: usize, packages: usize, findings: usize) -> IngestDocument {
    let components: Vec<ComponentInput> = (0..packages.max(1))
        .map(|i| ComponentInput {
            package: package(&format!("pkg{i}"), &format!("1.{}", (seed + i) % 9), i % 3),
            match_keys: vec![MatchKeyInput {
                ecosystem: "Debian:12".into(),
                name: format!("pkg{i}"),
                prefix: false,
            }],
        })
        .collect();
    let severities = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];
    let findings = (0..findings)
        .map(|k| {
            let c = k % components.len();
            let n = seed * 7919 + k;
            FindingInput {
                component: c,
                finding: finding(
                    &components[c].package,
                    &format!("CVE-2098-{:05}", n % 40_000),
                    severities[n % 4],
                    !n.is_multiple_of(3),
                    n.is_multiple_of(50),
                    n.is_multiple_of(7).then(|| 0.1 + (n % 90) as f64 / 100.0),
                ),
            }
        })
        .collect();
    IngestDocument {
        asset: name.into(),
        version_key: format!("sha256:{seed:064x}"),
        label: Some("latest".into()),
        source_kind: "bulwark-report".into(),
        team: Some(format!("team-{}", seed % 20)),
        components,
        findings,
        misconfigurations: Some(misconfigurations(seed)),
        ..Default::default()
    }
}

/// The image-config misconfigurations `bulwark image` reports on the `minbase` test image
/// (tests/data/bulwark-minbase.json), on two assets in three: root user, no HEALTHCHECK, a
/// setuid file, with the catalogue's compliance mappings.
pub fn misconfigurations(seed: usize) -> Vec<bulwark_types::Misconfiguration> {
    use bulwark_types::{ComplianceRef, Framework, MisconfigLocation, Misconfiguration};
    if seed.is_multiple_of(3) {
        return Vec::new();
    }
    let refs = |pairs: &[(Framework, &str)]| -> Vec<ComplianceRef> {
        pairs
            .iter()
            .map(|(framework, control)| ComplianceRef {
                framework: *framework,
                control: (*control).into(),
            })
            .collect()
    };
    let one = |check: &str, severity: Severity, path: &str, compliance: Vec<ComplianceRef>| {
        Misconfiguration {
            check_id: check.into(),
            title: format!("{check} title"),
            severity,
            message: format!("{check} found in seed {seed}"),
            remediation: "Fix it.".into(),
            references: vec![],
            compliance,
            location: MisconfigLocation {
                path: path.into(),
                line: None,
                column: None,
                end_line: None,
                resource: None,
                layer: None,
            },
        }
    };
    vec![
        one(
            "BW-IMG-001",
            Severity::Medium,
            "image-config",
            refs(&[
                (Framework::CisDocker, "4.1"),
                (Framework::Nist800190, "4.1.2"),
                (Framework::Nist800190, "4.4.3"),
                (Framework::PciDss, "2.2.1"),
                (Framework::PciDss, "7.2.2"),
            ]),
        ),
        one(
            "BW-IMG-002",
            Severity::Low,
            "image-config",
            refs(&[
                (Framework::CisDocker, "4.6"),
                (Framework::Nist800190, "4.1.2"),
            ]),
        ),
        one(
            "BW-IMG-007",
            Severity::Medium,
            "/usr/bin/passwd",
            refs(&[
                (Framework::CisDocker, "4.8"),
                (Framework::Nist800190, "4.1.2"),
                (Framework::PciDss, "2.2.1"),
            ]),
        ),
    ]
}

/// Ingests `assets` assets of [`document`].
pub fn seed(store: &Store, assets: usize, packages: usize, findings: usize) {
    let who = Principal::system("seed");
    for i in 0..assets {
        store
            .ingest(
                &who,
                &document(
                    &format!("registry.example/app-{i:05}"),
                    i,
                    packages,
                    findings,
                ),
            )
            .unwrap();
    }
}
