use bulwark_analyze::{Diagnostic, DiagnosticLevel, ImageFacts, LayerSummary};
use bulwark_image::Image;
use bulwark_types::{
    Digest, FindingStatus, MatchOutcome, Misconfiguration, OsRelease, Package, SecretFinding,
    VulnerabilityFinding,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::policy_model::{GateResult, IgnoreRuleReport, LicenseFinding, Suppression};
use sha2::{Digest as _, Sha256};

/// The version of bulwark's JSON report; bumped on any incompatible change.
pub const REPORT_SCHEMA: &str = "bulwark.report/v1";

/// The report format version a report carries in its `schema` field. Reading a report of
/// another version fails with an error naming the one this build reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ReportSchema {
    /// `bulwark.report/v1`.
    #[default]
    V1,
}

impl ReportSchema {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportSchema::V1 => REPORT_SCHEMA,
        }
    }
}

impl Serialize for ReportSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReportSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let found = String::deserialize(deserializer)?;
        if found == REPORT_SCHEMA {
            Ok(ReportSchema::V1)
        } else {
            Err(serde::de::Error::custom(unsupported_schema(&found)))
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    CycloneDx,
    Spdx,
    /// SARIF 2.1.0 for code-scanning UIs.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// One self-contained HTML file.
    Html,
    /// Markdown for pull-request comments.
    Markdown,
}

impl Format {
    /// The format as the `format` setting names it (`table`, `cyclonedx`, …).
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "table" => Format::Table,
            "json" => Format::Json,
            "cyclonedx" => Format::CycloneDx,
            "spdx" => Format::Spdx,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            "html" => Format::Html,
            "markdown" => Format::Markdown,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    /// This program, at `version`.
    pub fn bulwark(version: &str) -> ToolInfo {
        ToolInfo {
            name: "bulwark".to_string(),
            version: version.to_string(),
        }
    }
}

/// A package the matcher could not judge, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    pub purl: String,
    pub reason: String,
}

/// Which image was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIdentity {
    /// As the user named it (`oci:./layout`).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// Everything a scan found, in one deterministic model that is written as bulwark's JSON
/// report and read back by [`crate::read_report`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: ReportSchema,
    pub tool: ToolInfo,
    /// RFC 3339, UTC.
    pub created: String,
    pub image: ImageIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    pub layers: Vec<LayerSummary>,
    pub packages: Vec<Package>,
    /// Redacted: a finding names the rule, place, prefix and fingerprint, never the secret.
    pub secrets: Vec<SecretFinding>,
    /// Known vulnerabilities, highest priority first (KEV, then EPSS, then severity).
    pub vulnerabilities: Vec<VulnerabilityFinding>,
    /// Misconfigurations of the image config, Dockerfiles, manifests and host settings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misconfigurations: Vec<Misconfiguration>,
    /// Packages whose licence the licence policy objects to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_findings: Vec<LicenseFinding>,
    /// Findings removed by ignore rules or VEX statements, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppression>,
    /// The verdict of every configured gate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateResult>,
    /// Every ignore rule and what it did (applied, unmatched, expired).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_rules: Vec<IgnoreRuleReport>,
    /// Packages that could not be matched, with why (an unparsable version, no OS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched: Vec<Unmatched>,
    pub diagnostics: Vec<Diagnostic>,
    /// Running containers audited by `bulwark runtime`: capabilities, in-use files, drift
    /// and least-privilege advice (their findings are in `misconfigurations`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<bulwark_types::ContainerAudit>,
}

impl ScanReport {
    /// The report of one image: it keeps the facts' OS, layers, packages, secrets and
    /// diagnostics (moved, not copied: the package list can hold a million entries) and drops
    /// the file index, which no renderer shows.
    pub fn new(image: &Image, facts: ImageFacts, tool_version: &str) -> ScanReport {
        let ImageFacts {
            os,
            packages,
            layers,
            files: _,
            secrets,
            layer_facts: _,
            diagnostics,
        } = facts;
        ScanReport {
            schema: ReportSchema::V1,
            tool: ToolInfo::bulwark(tool_version),
            created: now_rfc3339(),
            image: ImageIdentity {
                reference: image.source.clone(),
                repo_tags: image.repo_tags.clone(),
                manifest_digest: image.manifest_digest.clone(),
                config_digest: image.config_digest.clone(),
                platform: image.platform.as_ref().map(|p| p.to_string()),
            },
            os,
            layers,
            packages,
            secrets,
            vulnerabilities: Vec::new(),
            misconfigurations: Vec::new(),
            license_findings: Vec::new(),
            suppressed: Vec::new(),
            gates: Vec::new(),
            ignore_rules: Vec::new(),
            unmatched: Vec::new(),
            diagnostics,
            containers: Vec::new(),
        }
    }

    /// A report for an SBOM file read back in: its packages (and OS), no layers to show.
    pub fn from_sbom(
        reference: String,
        sbom: crate::import::ImportedSbom,
        tool_version: &str,
    ) -> ScanReport {
        let diagnostics = sbom
            .skipped
            .iter()
            .map(|reason| Diagnostic {
                level: DiagnosticLevel::Warning,
                layer: None,
                path: None,
                analyzer: Some(format!("sbom-{}", sbom.format)),
                message: format!("component skipped: {reason}"),
            })
            .collect();
        ScanReport {
            schema: ReportSchema::V1,
            tool: ToolInfo::bulwark(tool_version),
            created: now_rfc3339(),
            image: ImageIdentity {
                reference,
                repo_tags: Vec::new(),
                manifest_digest: None,
                config_digest: None,
                platform: None,
            },
            os: sbom.os,
            layers: Vec::new(),
            packages: sbom.packages,
            secrets: Vec::new(),
            vulnerabilities: Vec::new(),
            misconfigurations: Vec::new(),
            license_findings: Vec::new(),
            suppressed: Vec::new(),
            gates: Vec::new(),
            ignore_rules: Vec::new(),
            unmatched: Vec::new(),
            diagnostics,
            containers: Vec::new(),
        }
    }

    /// Attaches a matcher's outcome; `ignore_unfixed` drops findings with no fix yet.
    pub fn set_vulnerabilities(&mut self, outcome: MatchOutcome, ignore_unfixed: bool) {
        let mut findings = outcome.findings;
        if ignore_unfixed {
            findings.retain(|f| f.status != FindingStatus::Unfixed);
        }
        self.vulnerabilities = findings;
        self.unmatched = outcome
            .unmatched
            .into_iter()
            .map(|(purl, reason)| Unmatched {
                purl: purl.to_string(),
                reason,
            })
            .collect();
    }

    /// A report on files rather than an image (`bulwark config PATH...`): nothing but the
    /// target's name until findings are added.
    pub fn for_files(reference: String, tool_version: &str) -> ScanReport {
        ScanReport {
            schema: ReportSchema::V1,
            tool: ToolInfo::bulwark(tool_version),
            created: now_rfc3339(),
            image: ImageIdentity {
                reference,
                repo_tags: Vec::new(),
                manifest_digest: None,
                config_digest: None,
                platform: None,
            },
            os: None,
            layers: Vec::new(),
            packages: Vec::new(),
            secrets: Vec::new(),
            vulnerabilities: Vec::new(),
            misconfigurations: Vec::new(),
            license_findings: Vec::new(),
            suppressed: Vec::new(),
            gates: Vec::new(),
            ignore_rules: Vec::new(),
            unmatched: Vec::new(),
            diagnostics: Vec::new(),
            containers: Vec::new(),
        }
    }

    /// Adds misconfigurations, keeping them in a stable order (file, line, check).
    pub fn add_misconfigurations(&mut self, more: Vec<Misconfiguration>) {
        self.misconfigurations.extend(more);
        self.misconfigurations.sort_by(|a, b| {
            (&a.location.path, a.location.line, &a.check_id, &a.message).cmp(&(
                &b.location.path,
                b.location.line,
                &b.check_id,
                &b.message,
            ))
        });
        self.misconfigurations.dedup();
    }

    /// Adds secrets found outside the layers (config, history), keeping the order stable.
    pub fn add_secrets(&mut self, more: Vec<SecretFinding>) {
        self.secrets.extend(more);
        self.secrets.sort();
        self.secrets.dedup();
    }

    /// Whether any part of the image could not be analyzed (results may be incomplete).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.level == DiagnosticLevel::Error)
    }

    /// A short name for the image: a tag if it has one, else the reference.
    pub fn image_name(&self) -> String {
        self.image
            .repo_tags
            .first()
            .cloned()
            .unwrap_or_else(|| self.image.reference.clone())
    }

    /// A UUID derived from what was scanned, so the same image gives the same document ids.
    pub(crate) fn content_uuid(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.image.reference.as_bytes());
        if let Some(d) = &self.image.config_digest {
            h.update(d.to_string().as_bytes());
        }
        for p in &self.packages {
            h.update(p.purl.to_string().as_bytes());
        }
        let b = h.finalize();
        // Shaped as a version 8 (custom) UUID, RFC 9562.
        format!(
            "{}-{}-8{}-{:x}{}-{}",
            hex::encode(&b[0..4]),
            hex::encode(&b[4..6]),
            &hex::encode(&b[6..8])[1..],
            (b[8] & 0x3f) | 0x80,
            &hex::encode(&b[8..10])[2..],
            hex::encode(&b[10..16])
        )
    }
}

fn now_rfc3339() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    now.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .expect("a fixed format renders")
}

/// The words for a report of another schema version.
pub(crate) fn unsupported_schema(found: &str) -> String {
    format!(
        "unsupported report schema {found:?}: this bulwark reads {REPORT_SCHEMA} only; rescan, or read it with the bulwark release that wrote it"
    )
}
