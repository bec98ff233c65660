//! The sample report and the helpers every format test uses.

use std::path::{Path, PathBuf};

use bulwark_analyze::{Diagnostic, DiagnosticLevel, LayerSummary};
pub use bulwark_report::Format;
use bulwark_report::{
    FindingKind, GateResult, LicenseCategory, LicenseFinding, ScanReport, Suppression,
};
use bulwark_types::{
    ComplianceRef, CvssInfo, Digest, Ecosystem, EpssScore, FindingPackage, FindingStatus,
    Framework, KevEntry, LayerRef, MisconfigLocation, Misconfiguration, OsFamily, OsRelease,
    Package, Priority, Purl, SecretFinding, SecretHit, SecretLocation, Severity, SeveritySource,
    VulnerabilityFinding as Finding,
};
use serde_json::Value;

/// A package name written to break out of any markup that forgets to escape.
pub const HOSTILE: &str = "<script>alert('pwned')</script>|*x*&amp;";
/// The full secret the scanner saw: no renderer may print it.
pub const SECRET_VALUE: &str = "AKIAIOSFODNN7EXAMPLE";

pub const ALL_FORMATS: [Format; 8] = [
    Format::Json,
    Format::CycloneDx,
    Format::Spdx,
    Format::Sarif,
    Format::Junit,
    Format::Html,
    Format::Markdown,
    Format::Table,
];

pub fn render(report: &ScanReport, format: Format) -> String {
    bulwark_report::render(report, format)
}

fn digest(n: u8) -> Digest {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
        .parse()
        .unwrap()
}

pub fn layer(index: usize) -> LayerRef {
    LayerRef {
        index,
        diff_id: Some(digest(index as u8 + 1)),
        created_by: Some(format!("RUN step {index}")),
    }
}

fn deb(name: &str, version: &str, layer_index: usize) -> Package {
    Package {
        ecosystem: Ecosystem::Deb,
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source: None,
        licenses: vec!["GPL-3.0-only".into()],
        purl: Purl::new("deb", Some("debian"), name, Some(version))
            .with_qualifier("arch", "amd64")
            .with_qualifier("distro", "debian-12"),
        layer: layer(layer_index),
        found_in: vec!["/var/lib/dpkg/status".into()],
        files: Vec::new(),
        dev: false,
        inferred: false,
        evidence: Default::default(),
        role: Default::default(),
        dependencies: Vec::new(),
    }
}

fn pypi(name: &str, version: &str) -> Package {
    Package {
        ecosystem: Ecosystem::PyPI,
        name: name.into(),
        version: version.into(),
        arch: None,
        source: None,
        licenses: vec!["MIT".into()],
        purl: Purl::new("pypi", None, name, Some(version)),
        layer: layer(2),
        found_in: vec![format!(
            "/usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA"
        )],
        files: Vec::new(),
        dev: false,
        inferred: false,
        evidence: Default::default(),
        role: Default::default(),
        dependencies: Vec::new(),
    }
}

fn finding(
    id: &str,
    aliases: &[&str],
    pkg: &Package,
    severity: Severity,
    cvss: Option<(&str, f64)>,
    fixed: &[&str],
) -> Finding {
    let mut ids = vec![id.to_string()];
    ids.extend(aliases.iter().map(|s| s.to_string()));
    Finding {
        id: id.into(),
        ids,
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
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        status: if fixed.is_empty() {
            FindingStatus::Unfixed
        } else {
            FindingStatus::Fixed
        },
        status_note: None,
        severity,
        severity_source: if cvss.is_some() {
            SeveritySource::Cvss31
        } else {
            SeveritySource::GhsaRating
        },
        cvss: cvss.map(|(vector, score)| CvssInfo {
            version: "3.1".into(),
            vector: vector.into(),
            base_score: Some(score),
        }),
        epss: None,
        kev: None,
        title: Some(format!("{id}: a flaw in {}", pkg.name)),
        references: vec![
            format!("https://example.org/advisories/{id}"),
            "javascript:alert(1)".into(),
        ],
        priority: Priority {
            kev: false,
            epss: None,
            score: cvss.map(|c| c.1).unwrap_or(8.0),
            reason: format!("{severity}"),
        },
        in_use: None,
        reachability: None,
    }
}

/// A report with everything every renderer has to show.
pub fn sample_report() -> ScanReport {
    let mut r = ScanReport::for_files("oci:./images/app".into(), "0.1.0");
    r.created = "2023-11-14T22:13:20Z".into();
    r.image.repo_tags = vec!["registry.example/app:1.2".into()];
    r.image.config_digest = Some(digest(0xcc));
    r.os = Some(OsRelease {
        family: OsFamily::Debian,
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        source_path: "/etc/os-release".into(),
    });
    r.layers = (0..3)
        .map(|i| LayerSummary {
            index: i,
            digest: Some(digest(0x10 + i as u8)),
            diff_id: Some(digest(i as u8 + 1)),
            media_type: None,
            size: Some(1000),
            created_by: Some(format!("RUN step {i}")),
            entries: 10,
            from_cache: false,
        })
        .collect();
    let libssl = deb("libssl3", "3.0.11-1", 0);
    let openssl = deb("openssl", "3.0.11-1", 0);
    let hostile = pypi(HOSTILE, "1.0");
    let requests = pypi("requests", "2.19.1");
    r.packages = vec![
        libssl.clone(),
        openssl.clone(),
        hostile.clone(),
        requests.clone(),
    ];
    const CRIT: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    let mut kev = finding(
        "CVE-2023-0001",
        &["DSA-0001-1"],
        &libssl,
        Severity::Critical,
        Some((CRIT, 9.8)),
        &["3.0.13-1"],
    );
    kev.kev = Some(KevEntry {
        cve: "CVE-2023-0001".into(),
        date_added: Some("2023-01-01".into()),
        due_date: Some("2023-02-01".into()),
        vendor: None,
        product: None,
        name: None,
        ransomware: None,
    });
    kev.epss = Some(EpssScore {
        cve: "CVE-2023-0001".into(),
        score: 0.97,
        percentile: 0.999,
        date: None,
    });
    kev.priority.kev = true;
    let mut kev2 = finding(
        "CVE-2023-0001",
        &["DSA-0001-1"],
        &openssl,
        Severity::Critical,
        Some((CRIT, 9.8)),
        &["3.0.13-1"],
    );
    kev2.priority.kev = true;
    r.vulnerabilities = vec![
        kev,
        kev2,
        finding(
            "GHSA-aaaa-bbbb-cccc",
            &[],
            &hostile,
            Severity::High,
            None,
            &[],
        ),
    ];
    let hit = |rule: &str, title: &str, sev: Severity, line: usize, col: usize| SecretHit {
        rule_id: rule.into(),
        title: title.into(),
        severity: sev,
        confidence: bulwark_types::Confidence::High,
        line,
        column: col,
        redacted: "AKIA****************".into(),
        fingerprint: format!("fp-{rule}"),
    };
    r.secrets = vec![
        SecretFinding {
            location: SecretLocation::File {
                path: "/app/config/.env".into(),
            },
            layer: Some(layer(1)),
            removed_in_layer: Some(2),
            hit: hit(
                "aws-access-key-id",
                "AWS access key id",
                Severity::Critical,
                3,
                12,
            ),
        },
        SecretFinding {
            location: SecretLocation::Env {
                name: "GITHUB_TOKEN".into(),
            },
            layer: None,
            removed_in_layer: None,
            hit: hit(
                "github-pat",
                "GitHub personal access token",
                Severity::High,
                1,
                1,
            ),
        },
    ];
    let misconfig = |id: &str, sev: Severity, loc: MisconfigLocation| Misconfiguration {
        check_id: id.into(),
        title: format!("{id} title"),
        severity: sev,
        message: format!("{id} found <here> & there"),
        remediation: "Do the right thing.".into(),
        references: vec!["https://docs.example.org/check".into()],
        compliance: vec![ComplianceRef {
            framework: Framework::CisDocker,
            control: "4.1".into(),
        }],
        location: loc,
    };
    let at = |path: &str, line: Option<usize>, column: Option<usize>| MisconfigLocation {
        path: path.into(),
        line,
        column,
        end_line: line,
        resource: None,
        layer: None,
    };
    r.add_misconfigurations(vec![
        misconfig(
            "BW-DF-002",
            Severity::High,
            at("./deploy/Dockerfile", Some(7), Some(1)),
        ),
        misconfig(
            "BW-K8S-001",
            Severity::Medium,
            MisconfigLocation {
                resource: Some("Deployment/prod/web".into()),
                ..at("k8s/deploy.yaml", Some(12), Some(9))
            },
        ),
        misconfig("BW-IMG-001", Severity::Low, at("image-config", None, None)),
        misconfig(
            "BW-DF-002",
            Severity::High,
            MisconfigLocation {
                layer: Some(layer(2)),
                ..at("/src/Dockerfile", Some(2), None)
            },
        ),
    ]);
    r.license_findings = vec![LicenseFinding {
        package: libssl.name.clone(),
        version: libssl.version.clone(),
        purl: libssl.purl.to_string(),
        license: "GPL-3.0-only".into(),
        category: LicenseCategory::Forbidden,
        severity: Severity::High,
        reason: "denied: GPL-3.0-only".into(),
        layer: layer(0),
    }];
    r.suppressed = vec![
        Suppression {
            kind: FindingKind::Vulnerability,
            id: "CVE-2023-9999".into(),
            target: libssl.purl.to_string(),
            source: bulwark_report::SuppressionSource::Vex,
            reason: "not_affected: vulnerable_code_not_in_execute_path".into(),
            statement: Some(serde_json::json!({
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "document": "vex/openvex.json"
            })),
            origin: Some("vex/openvex.json".into()),
        },
        Suppression {
            kind: FindingKind::Vulnerability,
            id: "CVE-2023-8888".into(),
            target: requests.purl.to_string(),
            source: bulwark_report::SuppressionSource::Ignore,
            reason: "accepted risk until 2030-01-01".into(),
            statement: None,
            origin: Some("bulwark.yaml ignores[0]".into()),
        },
    ];
    r.gates = vec![
        GateResult {
            gate: bulwark_report::GateKind::Vulnerabilities,
            passed: false,
            count: 2,
            reason:
                "2 vulnerabilities at critical with a fix (CVE-2023-0001 in libssl3 3.0.11-1, …)"
                    .into(),
        },
        GateResult {
            gate: bulwark_report::GateKind::Secrets,
            passed: true,
            count: 0,
            reason: "no secrets at high or above".into(),
        },
    ];
    r.diagnostics = vec![Diagnostic {
        level: DiagnosticLevel::Error,
        layer: Some(1),
        path: Some("/usr/lib/broken.jar".into()),
        analyzer: Some("java".into()),
        message: "truncated archive".into(),
    }];
    r
}

pub fn schema_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(rel)
}

fn load_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates against the vendored schema `main`, with `extra` schemas registered by `$id`
/// (no network: the crate's resolvers are compiled out).
pub fn validate_json(what: &str, main: &str, extra: &[&str], instance: &Value) {
    let schema = load_json(&schema_path(main));
    let mut options = jsonschema::options().should_validate_formats(true);
    for rel in extra {
        let contents = load_json(&schema_path(rel));
        let id = contents["$id"].as_str().unwrap().to_string();
        options = options.with_resource(id, jsonschema::Resource::from_contents(contents).unwrap());
    }
    let validator = options
        .build(&schema)
        .unwrap_or_else(|e| panic!("{main} compiles: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "the {what} document does not validate against {main} ({} errors):\n{}\n--- document:\n{instance:#}",
        errors.len(),
        errors.join("\n")
    );
}
