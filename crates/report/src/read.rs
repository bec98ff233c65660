//! Reading a JSON report back into a [`ScanReport`]: bounded in size, checked for its schema
//! version first, and failing with the JSON path of the first field that does not fit.

use std::io::Read;

use serde::Deserialize;

use crate::input::size_text;
#[cfg(test)]
use crate::model::ImageIdentity;
use crate::model::{unsupported_schema, ScanReport, REPORT_SCHEMA};

/// The largest report [`read_report`] accepts: a million-package image writes about 600 MiB.
pub const MAX_REPORT_BYTES: u64 = 1 << 30;

/// Why a report could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the report: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the report is larger than {} (the most read_report_capped was allowed): pass a larger cap if this report is expected",
        size_text(*max_bytes)
    )]
    TooLarge { max_bytes: u64 },
    #[error("{}", unsupported_schema(found))]
    UnsupportedSchema { found: String },
    #[error("not a bulwark report: no \"schema\" field (expected \"{REPORT_SCHEMA}\")")]
    MissingSchema,
    #[error("not a bulwark report: invalid at `{path}`: {source}")]
    Invalid {
        /// The JSON path of the first field that did not fit (`vulnerabilities[3].severity`).
        path: String,
        source: serde_json::Error,
    },
}

/// Reads a `bulwark.report/v1` JSON report of at most [`MAX_REPORT_BYTES`].
pub fn read_report(reader: impl Read) -> Result<ScanReport, ReadError> {
    read_report_capped(reader, MAX_REPORT_BYTES)
}

/// Reads a `bulwark.report/v1` JSON report of at most `max_bytes`.
pub fn read_report_capped(reader: impl Read, max_bytes: u64) -> Result<ScanReport, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { max_bytes });
    }
    // The version first, whatever else the document holds: a later format may differ in any
    // field, and its reader should hear about the version, not about a field.
    #[derive(Deserialize)]
    struct Version {
        schema: Option<serde_json::Value>,
    }
    let invalid = |e: serde_path_to_error::Error<serde_json::Error>| ReadError::Invalid {
        path: e.path().to_string(),
        source: e.into_inner(),
    };
    let version: Version =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&bytes))
            .map_err(invalid)?;
    match version.schema {
        None => return Err(ReadError::MissingSchema),
        Some(serde_json::Value::String(s)) if s == REPORT_SCHEMA => {}
        Some(serde_json::Value::String(found)) => {
            return Err(ReadError::UnsupportedSchema { found })
        }
        Some(other) => {
            return Err(ReadError::UnsupportedSchema {
                found: other.to_string(),
            })
        }
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let report: ScanReport = serde_path_to_error::deserialize(&mut de).map_err(invalid)?;
    de.end().map_err(|source| ReadError::Invalid {
        path: ".".to_string(),
        source,
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bulwark_analyze::{Diagnostic, DiagnosticLevel, LayerSummary};
    use bulwark_types::{
        ComplianceRef, CvssInfo, Digest, Ecosystem, EpssScore, Evidence, FindingPackage,
        FindingStatus, Framework, KevEntry, LayerRef, MisconfigLocation, Misconfiguration,
        OsFamily, OsRelease, Package, PackageSource, Priority, Purl, SecretFinding, SecretHit,
        SecretLocation, Severity, SeveritySource, VulnerabilityFinding,
    };

    use super::*;
    use crate::{
        FindingKind, GateKind, GateResult, IgnoreRuleReport, LicenseCategory, LicenseFinding,
        RuleState, Suppression, SuppressionSource, Unmatched,
    };

    fn digest(n: u8) -> Digest {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
            .parse()
            .unwrap()
    }

    fn layer() -> LayerRef {
        LayerRef {
            index: 1,
            diff_id: Some(digest(1)),
            created_by: Some("RUN apt-get install -y openssl".into()),
        }
    }

    /// A report with every optional field set and every list non-empty.
    fn full_report() -> ScanReport {
        let mut r = ScanReport::for_files("oci:./app".into(), "1.2.3");
        r.created = "2026-01-02T03:04:05Z".into();
        r.image = ImageIdentity {
            reference: "oci:./app".into(),
            repo_tags: vec!["app:1".into()],
            manifest_digest: Some(digest(2)),
            config_digest: Some(digest(3)),
            platform: Some("linux/amd64".into()),
        };
        r.os = Some(OsRelease {
            family: OsFamily::Debian,
            id: "debian".into(),
            version_id: Some("12".into()),
            version_codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            source_path: "/etc/os-release".into(),
        });
        r.layers = vec![LayerSummary {
            index: 1,
            digest: Some(digest(4)),
            diff_id: Some(digest(1)),
            media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
            size: Some(1234),
            created_by: Some("RUN apt-get install -y openssl".into()),
            entries: 56,
            from_cache: true,
        }];
        let purl = Purl::new("deb", Some("debian"), "openssl", Some("3.0.11-1"))
            .with_qualifier("arch", "amd64");
        r.packages = vec![Package {
            ecosystem: Ecosystem::Deb,
            name: "openssl".into(),
            version: "3.0.11-1".into(),
            arch: Some("amd64".into()),
            source: Some(PackageSource {
                name: "openssl".into(),
                version: "3.0.11-1".into(),
            }),
            licenses: vec!["Apache-2.0".into()],
            purl: purl.clone(),
            layer: layer(),
            found_in: vec!["/var/lib/dpkg/status".into()],
            files: vec!["/usr/bin/openssl".into()],
            dev: true,
            inferred: true,
            dependencies: vec!["libssl3".into()],
            evidence: Evidence::Declared,
            role: Default::default(),
        }];
        r.secrets = vec![SecretFinding {
            location: SecretLocation::File {
                path: "/app/.env".into(),
            },
            layer: Some(layer()),
            removed_in_layer: Some(2),
            hit: SecretHit {
                rule_id: "aws-access-key-id".into(),
                title: "AWS access key id".into(),
                severity: Severity::Critical,
                confidence: bulwark_types::Confidence::High,
                line: 3,
                column: 7,
                redacted: "AKIA****".into(),
                fingerprint: "fp".into(),
            },
        }];
        r.vulnerabilities = vec![VulnerabilityFinding {
            id: "CVE-2023-0001".into(),
            ids: vec!["CVE-2023-0001".into(), "DSA-1-1".into()],
            package: FindingPackage {
                name: "openssl".into(),
                version: "3.0.11-1".into(),
                purl: purl.clone(),
                ecosystem: Ecosystem::Deb,
                layer_index: 1,
                layer_created_by: Some("RUN apt-get install -y openssl".into()),
                advisory_ecosystem: "Debian:12".into(),
                advisory_name: "openssl".into(),
            },
            installed_version: "3.0.11-1".into(),
            fixed_versions: vec!["3.0.13-1".into()],
            status: FindingStatus::Fixed,
            status_note: Some("no-dsa".into()),
            severity: Severity::Critical,
            severity_source: SeveritySource::Cvss31,
            cvss: Some(CvssInfo {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                base_score: Some(9.8),
            }),
            // Scores whose shortest decimal form needs every digit, to catch float drift.
            epss: Some(EpssScore {
                cve: "CVE-2023-0001".into(),
                score: 0.1 + 0.2,
                percentile: 0.97133,
                date: Some("2026-01-01".into()),
            }),
            kev: Some(KevEntry {
                cve: "CVE-2023-0001".into(),
                date_added: Some("2023-01-01".into()),
                due_date: Some("2023-02-01".into()),
                vendor: Some("OpenSSL".into()),
                product: Some("OpenSSL".into()),
                name: Some("OpenSSL flaw".into()),
                ransomware: Some("Known".into()),
            }),
            title: Some("a flaw".into()),
            references: vec!["https://example.org/CVE-2023-0001".into()],
            priority: Priority {
                kev: true,
                epss: Some(0.1 + 0.2),
                score: 9.8,
                reason: "in CISA KEV".into(),
            },
            in_use: None,
            reachability: Some(bulwark_types::Reachability {
                verdict: bulwark_types::ReachVerdict::Reachable,
                chain: vec![
                    "entrypoint: app".into(),
                    "/usr/bin/app".into(),
                    "/usr/lib/libssl.so.3".into(),
                    "pkg:deb/debian/libssl3@3.0.0".into(),
                ],
                reason: "the entrypoint loads its file: /usr/lib/libssl.so.3".into(),
            }),
        }];
        r.misconfigurations = vec![Misconfiguration {
            check_id: "BW-DF-001".into(),
            title: "Runs as root".into(),
            severity: Severity::High,
            message: "no USER".into(),
            remediation: "add USER".into(),
            references: vec!["https://docs.example.org".into()],
            compliance: vec![ComplianceRef {
                framework: Framework::Nist800190,
                control: "4.4.3".into(),
            }],
            location: MisconfigLocation {
                path: "/src/Dockerfile".into(),
                line: Some(1),
                column: Some(2),
                end_line: Some(3),
                resource: Some("stage build".into()),
                layer: Some(layer()),
            },
        }];
        r.license_findings = vec![LicenseFinding {
            package: "openssl".into(),
            version: "3.0.11-1".into(),
            purl: purl.to_string(),
            license: "GPL-3.0-only".into(),
            category: LicenseCategory::WeakCopyleft,
            severity: Severity::Medium,
            reason: "denied: GPL-3.0-only".into(),
            layer: layer(),
        }];
        r.suppressed = vec![Suppression {
            kind: FindingKind::License,
            id: "GPL-3.0-only".into(),
            target: purl.to_string(),
            source: SuppressionSource::Vex,
            origin: Some("vex.json".into()),
            reason: "not_affected".into(),
            statement: Some(serde_json::json!({"status": "not_affected", "n": 1.5})),
        }];
        r.gates = vec![GateResult {
            gate: GateKind::Vulnerabilities,
            passed: false,
            count: 1,
            reason: "1 vulnerability at critical".into(),
        }];
        r.ignore_rules = vec![IgnoreRuleReport {
            origin: ".bulwarkignore:4".into(),
            selectors: "id=CVE-2023-5678".into(),
            reason: "waiting".into(),
            expires: Some("2030-01-01".into()),
            state: RuleState::Expired,
            matched: 2,
        }];
        r.unmatched = vec![Unmatched {
            purl: "pkg:npm/x@%5E1".into(),
            reason: "unparsable version".into(),
        }];
        r.diagnostics = vec![Diagnostic {
            level: DiagnosticLevel::Error,
            layer: Some(1),
            path: Some("/usr/lib/broken.jar".into()),
            analyzer: Some("java".into()),
            message: "truncated archive".into(),
        }];
        r
    }

    fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    fn write(report: &ScanReport) -> String {
        crate::render(report, crate::Format::Json)
    }

    #[test]
    fn a_report_with_every_field_reads_back_byte_identical() {
        let report = full_report();
        let first = write(&report);
        let back = read_report(first.as_bytes()).unwrap();
        assert_eq!(back, report);
        assert_eq!(write(&back), first);

        // Every field is written (nothing left at a default the round trip could not see):
        // the JSON holds each of the model's keys, and a new field has to be added here.
        let mut found = BTreeSet::new();
        keys(&serde_json::from_str(&first).unwrap(), &mut found);
        let expected = "advisory_ecosystem advisory_name analyzer arch base_score category \
            check_id column compliance confidence config_digest control count created created_by cve \
            cvss date date_added dependencies dev diagnostics diff_id digest due_date ecosystem \
            end_line entries epss evidence expires family files fingerprint fixed_versions found_in framework \
            from_cache gate gates id ids ignore_rules image index inferred installed_version \
            kev kind layer layer_created_by layer_index layers level license license_findings \
            licenses line location manifest_digest matched media_type message misconfigurations \
            chain n name origin os package packages passed path percentile platform pretty_name \
            priority product purl ransomware reachability reason redacted references reference \
            remediation removed_in_layer repo_tags resource rule_id schema score secrets \
            selectors severity severity_source size source source_path state statement status \
            status_note suppressed target title tool unmatched vector vendor version \
            verdict version_codename version_id vulnerabilities";
        let expected: BTreeSet<String> = expected.split_whitespace().map(String::from).collect();
        assert_eq!(
            found.symmetric_difference(&expected).collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
    }

    #[test]
    fn another_schema_version_is_named_with_the_supported_one() {
        let json = write(&full_report()).replacen(REPORT_SCHEMA, "bulwark.report/v2", 1);
        let err = read_report(json.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ReadError::UnsupportedSchema { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("\"bulwark.report/v2\"") && text.contains(REPORT_SCHEMA),
            "{text}"
        );
        // The version is checked before any other field.
        let err = read_report(&br#"{"vulnerabilities": 3, "schema": "bulwark.report/v9"}"#[..])
            .unwrap_err();
        assert!(
            matches!(err, ReadError::UnsupportedSchema { .. }),
            "{err:?}"
        );
        let err = read_report(&br#"{"tool": {}}"#[..]).unwrap_err();
        assert!(matches!(err, ReadError::MissingSchema), "{err:?}");
    }

    #[test]
    fn a_bad_field_is_named_by_its_path_and_size_is_capped() {
        let json = write(&full_report()).replace("\"CVSS 3.1\"", "\"CVSS 9\"");
        let err = read_report(json.as_bytes()).unwrap_err();
        match &err {
            ReadError::Invalid { path, .. } => {
                assert_eq!(path, "vulnerabilities[0].severity_source")
            }
            other => panic!("{other:?}"),
        }
        let json = write(&full_report());
        let err = read_report_capped(json.as_bytes(), 100).unwrap_err();
        assert!(
            matches!(err, ReadError::TooLarge { max_bytes: 100 }),
            "{err:?}"
        );
        assert!(read_report_capped(json.as_bytes(), json.len() as u64).is_ok());
        let err = read_report(format!("{json} []").as_bytes()).unwrap_err();
        assert!(matches!(err, ReadError::Invalid { .. }), "{err:?}");
    }
}
