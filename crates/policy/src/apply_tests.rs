use super::*;
use bulwark_types::{
    Ecosystem, FindingPackage, FindingStatus, LayerRef, MisconfigLocation, Misconfiguration,
    Package, Priority, SecretFinding, SecretHit, Severity, SeveritySource,
    VulnerabilityFinding as Finding,
};

fn layer() -> LayerRef {
    LayerRef {
        index: 0,
        diff_id: None,
        created_by: None,
    }
}

fn package(name: &str, licenses: &[&str], files: &[&str]) -> Package {
    Package {
        ecosystem: Ecosystem::Deb,
        name: name.into(),
        version: "1.0".into(),
        arch: None,
        source: None,
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
        purl: Purl::new("deb", Some("debian"), name, Some("1.0")),
        layer: layer(),
        found_in: vec!["/var/lib/dpkg/status".into()],
        files: files.iter().map(|s| s.to_string()).collect(),
        dev: false,
        inferred: false,
        evidence: Default::default(),
        role: Default::default(),
        dependencies: vec![],
    }
}

fn vuln(id: &str, alias: &str, p: &Package, severity: Severity, fixed: bool) -> Finding {
    Finding {
        id: id.into(),
        ids: vec![id.into(), alias.into()],
        package: FindingPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.clone(),
            ecosystem: p.ecosystem,
            layer_index: 0,
            layer_created_by: None,
            advisory_ecosystem: "Debian:12".into(),
            advisory_name: p.name.clone(),
        },
        installed_version: p.version.clone(),
        fixed_versions: if fixed { vec!["2.0".into()] } else { vec![] },
        status: if fixed {
            FindingStatus::Fixed
        } else {
            FindingStatus::Unfixed
        },
        status_note: None,
        severity,
        severity_source: SeveritySource::None,
        cvss: None,
        epss: None,
        kev: None,
        title: None,
        references: vec![],
        priority: Priority {
            kev: false,
            epss: Some(0.3),
            score: 5.0,
            reason: String::new(),
        },
        in_use: None,
        reachability: None,
    }
}

fn secret(path: &str, fingerprint: &str) -> SecretFinding {
    SecretFinding {
        location: bulwark_types::SecretLocation::File { path: path.into() },
        layer: Some(layer()),
        removed_in_layer: None,
        hit: SecretHit {
            rule_id: "aws-access-key-id".into(),
            title: "AWS".into(),
            severity: Severity::Critical,
            confidence: bulwark_types::Confidence::High,
            line: 3,
            column: 1,
            redacted: "AKIA****".into(),
            fingerprint: fingerprint.into(),
        },
    }
}

fn misconfig(check: &str, path: &str, severity: Severity) -> Misconfiguration {
    Misconfiguration {
        check_id: check.into(),
        title: "t".into(),
        severity,
        message: "m".into(),
        remediation: "r".into(),
        references: vec![],
        compliance: vec![],
        location: MisconfigLocation {
            path: path.into(),
            line: Some(4),
            column: None,
            end_line: None,
            resource: None,
            layer: None,
        },
    }
}

fn report() -> ScanReport {
    let mut r = ScanReport::for_files("test".into(), "0");
    let libssl = package("libssl3", &["Apache-2.0"], &["/usr/lib/libssl.so.3"]);
    let openssl = package("openssl", &["Apache-2.0"], &["/usr/bin/openssl"]);
    let readline = package("readline", &["GPL-3.0-or-later"], &[]);
    r.vulnerabilities = vec![
        vuln("CVE-2023-5678", "DSA-1", &libssl, Severity::Medium, true),
        vuln("CVE-2023-5678", "DSA-1", &openssl, Severity::Medium, true),
        vuln("CVE-2024-1", "GHSA-1", &readline, Severity::Critical, false),
    ];
    r.packages = vec![libssl, openssl, readline];
    r.secrets = vec![secret("/app/.env", "fp1"), secret("/root/key", "fp2")];
    r.misconfigurations = vec![
        misconfig("BW-DF-001", "/app/Dockerfile", Severity::High),
        misconfig("BW-DF-002", "/app/Dockerfile", Severity::Low),
    ];
    r
}

fn rule(yaml: &str, origin: &str) -> IgnoreRule {
    let mut r: IgnoreRule = serde_saphyr::from_str(yaml).unwrap();
    r.origin = origin.into();
    r
}

fn today() -> Date {
    "2026-06-01".parse().unwrap()
}

#[test]
fn ignores_by_each_selector_with_expiry_and_unmatched_reporting() {
    let mut r = report();
    let policy = Policy {
        ignores: vec![
            rule(
                "{id: DSA-1, package: pkg:deb/debian/libssl3, reason: r1}",
                "a",
            ),
            rule("{fingerprint: fp1, reason: test key}", "b"),
            rule("{path: '/root/**', reason: root, expires: 2026-01-01}", "c"),
            rule("{check: bw-df-002, reason: low}", "d"),
            rule("{package: nosuch, reason: stale}", "e"),
            rule(
                "{path: /usr/bin/*, id: CVE-2023-5678, reason: bin, expires: 2026-06-01}",
                "f",
            ),
        ],
        ..Policy::default()
    };
    let warnings = policy.apply(&mut r, today());
    assert!(
        r.vulnerabilities
            .iter()
            .all(|v| v.package.name == "readline"),
        "both libssl3 (alias + purl) and openssl (path glob) went"
    );
    assert_eq!(r.secrets.len(), 1);
    assert_eq!(
        r.secrets[0].hit.fingerprint, "fp2",
        "the expired path rule no longer hides it"
    );
    assert_eq!(r.misconfigurations.len(), 1);
    assert_eq!(r.misconfigurations[0].check_id, "BW-DF-001");
    let states: Vec<(&str, &RuleState, usize)> = r
        .ignore_rules
        .iter()
        .map(|x| (x.origin.as_str(), &x.state, x.matched))
        .collect();
    assert_eq!(
        states,
        vec![
            ("a", &RuleState::Applied, 1),
            ("b", &RuleState::Applied, 1),
            ("c", &RuleState::Expired, 1),
            ("d", &RuleState::Applied, 1),
            ("e", &RuleState::Unmatched, 0),
            ("f", &RuleState::Applied, 1),
        ]
    );
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0]
            .0
            .starts_with("c: ignore rule (path=/root/**) expired on 2026-01-01"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0]
        .0
        .contains("1 finding it matched is reported again"));
    assert!(warnings[1]
        .0
        .contains("e: ignore rule (package=nosuch) matched nothing"));
    let s = r
        .suppressed
        .iter()
        .find(|s| s.target == "/app/.env:3")
        .unwrap();
    assert_eq!(s.kind, FindingKind::Secret);
    assert_eq!(s.source.as_str(), "ignore");
    assert_eq!(s.origin.as_deref(), Some("b"));
}

#[test]
fn gates_name_what_failed() {
    let mut r = report();
    let gates: GateConfig = serde_saphyr::from_str(
        "vulnerabilities: {severity: high}\nsecrets: true\nmisconfigurations: {severity: critical}\nlicenses: true\n",
    )
    .unwrap();
    let policy = Policy {
        gates,
        licenses: Some(LicensePolicy {
            deny: vec!["GPL-3.0-or-later".into()],
            ..LicensePolicy::default()
        }),
        ..Policy::default()
    };
    policy.apply(&mut r, today());
    let g: Vec<(&str, bool, usize)> = r
        .gates
        .iter()
        .map(|g| (g.gate.as_str(), g.passed, g.count))
        .collect();
    assert_eq!(
        g,
        vec![
            ("vulnerabilities", false, 1),
            ("secrets", false, 2),
            ("misconfigurations", true, 0),
            ("licenses", false, 1),
        ]
    );
    assert_eq!(
        r.gates[0].reason,
        "1 vulnerability at high or above: CVE-2024-1 in readline 1.0"
    );
    assert!(r.gates[1]
        .reason
        .contains("aws-access-key-id at /app/.env:3"));
    assert_eq!(
        r.gates[3].reason,
        "1 package with a forbidden licence: readline 1.0 (GPL-3.0-or-later)"
    );
    assert_eq!(r.license_findings.len(), 1);

    // Only fixable: readline's critical has no fix, the medium ones are below high.
    let mut r = report();
    let policy = Policy {
        gates: serde_saphyr::from_str(
            "vulnerabilities: {severity: medium, fixable: true, epss: 0.2}",
        )
        .unwrap(),
        ..Policy::default()
    };
    policy.apply(&mut r, today());
    assert_eq!(r.gates[0].count, 2);
    let mut r = report();
    let policy = Policy {
        gates: serde_saphyr::from_str("misconfigurations: {severity: high}").unwrap(),
        ..Policy::default()
    };
    policy.apply(&mut r, today());
    assert!(!r.gates[0].passed);
    assert_eq!(
        r.gates[0].reason,
        "1 misconfiguration at high or above: BW-DF-001 at /app/Dockerfile:4"
    );
    let policy = Policy {
        gates: serde_saphyr::from_str("vulnerabilities: {kev: true}").unwrap(),
        ..Policy::default()
    };
    let mut r = report();
    policy.apply(&mut r, today());
    assert!(r.gates[0].passed, "{}", r.gates[0].reason);
    assert_eq!(
        r.gates[0].reason,
        "no vulnerabilities at any severity, in CISA KEV"
    );
}

#[test]
fn vex_suppresses_only_the_named_package_and_keeps_the_statement() {
    let doc = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a",
      "timestamp": "2024-01-01T00:00:00Z", "version": 1,
      "statements": [{"vulnerability": {"name": "CVE-2023-5678"},
        "products": [{"@id": "pkg:deb/debian/libssl3"}],
        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
        "impact_statement": "DH keys are never generated"}]}"#;
    let policy = Policy {
        vex: VexSet {
            statements: crate::vex::parse(doc, "app.vex.json").unwrap(),
        },
        ..Policy::default()
    };
    let mut r = report();
    policy.apply(&mut r, today());
    let left: Vec<&str> = r
        .vulnerabilities
        .iter()
        .map(|v| v.package.name.as_str())
        .collect();
    assert_eq!(left, vec!["openssl", "readline"]);
    assert_eq!(r.suppressed.len(), 1);
    let s = &r.suppressed[0];
    assert_eq!(s.source.as_str(), "vex");
    assert_eq!(s.target, "pkg:deb/debian/libssl3@1.0");
    assert_eq!(
        s.reason,
        "not_affected: vulnerable_code_not_in_execute_path (DH keys are never generated)"
    );
    let st = s.statement.as_ref().unwrap();
    assert_eq!(st["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(st["document"], "app.vex.json");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["suppressed"][0]["statement"]["status"], "not_affected");
}
