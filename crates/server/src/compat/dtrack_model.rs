//! The JSON shapes of Dependency-Track's v4 REST API that CI plugins and scripts read and
//! write, and the conversions from bulwark's findings into them.
//!
//! The shapes follow Dependency-Track's resources (`BomResource`, `ProjectResource`,
//! `FindingResource`, `MetricsResource`, `ViolationResource`, `AnalysisResource`,
//! `EventResource`): field names in camelCase, severities in upper case, timestamps as unix
//! milliseconds. Identifiers Dependency-Track keeps in its own tables (component and
//! vulnerability UUIDs) are derived here as name-based UUIDs, so the same component or
//! vulnerability always has the same UUID without storing one, and a UUID a client sends back
//! (in `PUT /api/v1/analysis`) is mapped back by recomputing it.

use base64::Engine as _;
use bulwark_types::{Severity, VulnerabilityFinding};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The namespace of the name-based UUIDs this module derives (a fixed random UUID: changing it
/// would change every component and vulnerability UUID a client has seen).
const UUID_NAMESPACE: Uuid = Uuid::from_u128(0x6f3c_2b0e_9d1a_4c57_8e21_5a7b_0c94_d3e8);

/// The Dependency-Track version `GET /api/version` reports: the v4 API generation these shapes
/// follow (clients use it to decide which endpoints exist).
pub const DT_API_VERSION: &str = "4.12.0";

/// `PUT /api/v1/bom` body (`BomSubmitRequest`) and the fields of the multipart `POST`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BomSubmitRequest {
    /// The UUID of an existing project.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub project_name: Option<String>,
    #[serde(default)]
    pub project_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub auto_create: bool,
    #[serde(default)]
    pub parent_name: Option<String>,
    #[serde(default)]
    pub parent_version: Option<String>,
    #[serde(default, rename = "parentUUID")]
    pub parent_uuid: Option<String>,
    /// The BOM, base64-encoded.
    #[serde(default)]
    pub bom: Option<String>,
}

/// `true`/`false` as JSON booleans or as the strings multipart forms and some plugins send.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
        Null(()),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Text(s) => parse_bool(&s),
        B::Null(()) => false,
    })
}

/// Dependency-Track (Jersey) reads `true` case-insensitively; anything else is false.
pub fn parse_bool(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

/// What a BOM upload names: a project by UUID, or by name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Uuid(Uuid),
    NameVersion { name: String, version: String },
}

/// Why a BOM upload request is refused before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BomRequestError {
    #[error("the request has no `bom` field: send the BOM base64-encoded in `bom`")]
    MissingBom,
    #[error(
        "name the project: either `project` (an existing project's UUID) or `projectName` and \
         `projectVersion`"
    )]
    MissingProject,
    #[error("`project` is not a UUID: {0:?}")]
    BadProjectUuid(String),
    #[error(
        "the `bom` field is not valid base64 ({0}): encode the BOM file with base64 (e.g. \
         `base64 -w0 bom.json`)"
    )]
    BadBase64(String),
    #[error("the BOM is empty")]
    EmptyBom,
    #[error(
        "XML BOMs are not supported: upload CycloneDX JSON or SPDX JSON instead (e.g. `syft IMAGE \
         -o cyclonedx-json`, `trivy image --format cyclonedx`, or `bulwark image IMAGE --format \
         cyclonedx`)"
    )]
    XmlBom,
    #[error(
        "the BOM is not JSON ({0}): upload a CycloneDX JSON, SPDX JSON or bulwark report document"
    )]
    NotJson(String),
}

impl BomSubmitRequest {
    /// The project the upload names; the UUID wins when both are given, as in Dependency-Track.
    pub fn project_ref(&self) -> Result<ProjectRef, BomRequestError> {
        if let Some(u) = self
            .project
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            return Uuid::parse_str(u)
                .map(ProjectRef::Uuid)
                .map_err(|_| BomRequestError::BadProjectUuid(u.to_string()));
        }
        match (
            non_empty(&self.project_name),
            non_empty(&self.project_version),
        ) {
            (Some(name), version) => Ok(ProjectRef::NameVersion {
                name: name.to_string(),
                // Dependency-Track allows a project without a version; one key for it here.
                version: version.unwrap_or("").to_string(),
            }),
            (None, _) => Err(BomRequestError::MissingProject),
        }
    }

    /// The decoded BOM bytes, checked to be a JSON document.
    pub fn decoded_bom(&self) -> Result<Vec<u8>, BomRequestError> {
        let encoded = self.bom.as_deref().ok_or(BomRequestError::MissingBom)?;
        let bytes = decode_base64(encoded)?;
        check_json_bom(&bytes)?;
        Ok(bytes)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Decodes base64 as clients send it: standard alphabet, with or without padding, wrapped
/// lines allowed (`base64` without `-w0` wraps at 76), or the URL-safe alphabet.
pub fn decode_base64(encoded: &str) -> Result<Vec<u8>, BomRequestError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(BomRequestError::EmptyBom);
    }
    let mut first_error = None;
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        match engine.decode(&compact) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(BomRequestError::BadBase64(
        first_error.map(|e| e.to_string()).unwrap_or_default(),
    ))
}

/// Refuses XML and other non-JSON documents with a message that names what is accepted; the
/// inventory parser then checks the JSON's format.
pub fn check_json_bom(bytes: &[u8]) -> Result<(), BomRequestError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| text[i]) {
        None => Err(BomRequestError::EmptyBom),
        Some(b'<') => Err(BomRequestError::XmlBom),
        Some(b'{') => Ok(()),
        Some(_) => Err(BomRequestError::NotJson(
            "it does not start with `{`".to_string(),
        )),
    }
}

/// `{"token": "..."}`, the reply to a BOM upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BomUploadResponse {
    pub token: Uuid,
}

/// `{"processing": bool}`, the reply of `GET /api/v1/event/token/{token}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenProcessingResponse {
    pub processing: bool,
}

/// `GET /api/version`, the `About` object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct About {
    pub version: &'static str,
    pub application: &'static str,
    pub timestamp: String,
    pub uuid: Uuid,
    pub system_uuid: Uuid,
    pub framework: AboutFramework,
}

/// The `framework` part of [`About`]: here bulwark itself.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AboutFramework {
    pub name: &'static str,
    pub version: &'static str,
    pub timestamp: String,
    pub uuid: Uuid,
}

impl About {
    pub fn current() -> About {
        let bulwark = env!("CARGO_PKG_VERSION");
        let id = derived_uuid(&["about", bulwark]);
        About {
            version: DT_API_VERSION,
            application: "Dependency-Track (bulwark compatible API)",
            timestamp: String::new(),
            uuid: id,
            system_uuid: id,
            framework: AboutFramework {
                name: "bulwark",
                version: bulwark,
                timestamp: String::new(),
                uuid: id,
            },
        }
    }
}

/// A project as `GET /api/v1/project/...` returns it. In bulwark a Dependency-Track project
/// (name + version) is one version of an asset: `uuid` is the version's UUID.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub uuid: Uuid,
    pub name: String,
    pub version: String,
    pub classifier: &'static str,
    pub active: bool,
    pub is_latest: bool,
    pub tags: Vec<Tag>,
    /// Unix milliseconds of the last BOM upload (dtrack-auditor checks that it moves).
    pub last_bom_import: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_bom_import_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_vulnerability_analysis: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<ProjectMetrics>,
}

/// A project tag.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub name: String,
}

/// Dependency-Track's severity scale, in the order of its enum (the ordinal is `severityRank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DtSeverity {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Unassigned,
}

impl DtSeverity {
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DtSeverity::Critical => "CRITICAL",
            DtSeverity::High => "HIGH",
            DtSeverity::Medium => "MEDIUM",
            DtSeverity::Low => "LOW",
            DtSeverity::Info => "INFO",
            DtSeverity::Unassigned => "UNASSIGNED",
        }
    }
}

impl From<Severity> for DtSeverity {
    fn from(s: Severity) -> DtSeverity {
        match s {
            Severity::Critical => DtSeverity::Critical,
            Severity::High => DtSeverity::High,
            Severity::Medium => DtSeverity::Medium,
            Severity::Low => DtSeverity::Low,
            Severity::Unknown => DtSeverity::Unassigned,
        }
    }
}

/// The `source` Dependency-Track names for a vulnerability id: NVD for CVEs, GITHUB for GHSAs,
/// OSV for the ids only OSV carries (PYSEC, GO, RUSTSEC, DSA/DLA, ...), as its OSV mirror does.
pub fn vulnerability_source(id: &str) -> &'static str {
    let upper = id.to_ascii_uppercase();
    if upper.starts_with("CVE-") {
        "NVD"
    } else if upper.starts_with("GHSA-") {
        "GITHUB"
    } else {
        "OSV"
    }
}

/// The name-based UUID of `parts` (joined with NUL, which no part contains).
pub fn derived_uuid(parts: &[&str]) -> Uuid {
    Uuid::new_v5(&UUID_NAMESPACE, parts.join("\0").as_bytes())
}

/// The UUID of a vulnerability id (the same in every project, as in Dependency-Track).
pub fn vulnerability_uuid(vuln_id: &str) -> Uuid {
    derived_uuid(&["vulnerability", vuln_id])
}

/// The UUID of a component of a project, from its purl (unique within a project version).
pub fn component_uuid(project: Uuid, purl: &str) -> Uuid {
    derived_uuid(&["component", &project.to_string(), purl])
}

/// Dependency-Track's analysis (triage) states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnalysisState {
    Exploitable,
    InTriage,
    FalsePositive,
    NotAffected,
    Resolved,
    NotSet,
}

/// Dependency-Track's analysis justifications (CycloneDX's impact analysis justifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnalysisJustification {
    CodeNotPresent,
    CodeNotReachable,
    RequiresConfiguration,
    RequiresDependency,
    RequiresEnvironment,
    ProtectedByCompiler,
    ProtectedAtRuntime,
    ProtectedAtPerimeter,
    ProtectedByMitigatingControl,
    NotSet,
}

/// Dependency-Track's analysis responses (vendor responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnalysisResponse {
    CanNotFix,
    WillNotFix,
    Update,
    Rollback,
    WorkaroundAvailable,
    NotSet,
}

macro_rules! snake_names {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The lower snake_case name bulwark's store and VEX use.
            pub fn as_snake(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),* }
            }
            /// Parses the lower snake_case name (or Dependency-Track's upper case one).
            pub fn from_snake(s: &str) -> Option<Self> {
                match s.to_ascii_lowercase().as_str() { $($name => Some(<$ty>::$variant),)* _ => None }
            }
        }
    };
}

snake_names!(AnalysisState {
    Exploitable => "exploitable",
    InTriage => "in_triage",
    FalsePositive => "false_positive",
    NotAffected => "not_affected",
    Resolved => "resolved",
    NotSet => "not_set",
});
snake_names!(AnalysisJustification {
    CodeNotPresent => "code_not_present",
    CodeNotReachable => "code_not_reachable",
    RequiresConfiguration => "requires_configuration",
    RequiresDependency => "requires_dependency",
    RequiresEnvironment => "requires_environment",
    ProtectedByCompiler => "protected_by_compiler",
    ProtectedAtRuntime => "protected_at_runtime",
    ProtectedAtPerimeter => "protected_at_perimeter",
    ProtectedByMitigatingControl => "protected_by_mitigating_control",
    NotSet => "not_set",
});
snake_names!(AnalysisResponse {
    CanNotFix => "can_not_fix",
    WillNotFix => "will_not_fix",
    Update => "update",
    Rollback => "rollback",
    WorkaroundAvailable => "workaround_available",
    NotSet => "not_set",
});

impl AnalysisState {
    /// States that hide a finding from counts, as Dependency-Track suppresses them.
    pub fn suppresses(self) -> bool {
        matches!(
            self,
            AnalysisState::FalsePositive | AnalysisState::NotAffected | AnalysisState::Resolved
        )
    }
}

/// `PUT /api/v1/analysis` body (`AnalysisRequest`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRequest {
    pub project: Option<Uuid>,
    pub component: Uuid,
    pub vulnerability: Uuid,
    #[serde(default)]
    pub analysis_state: Option<AnalysisState>,
    #[serde(default)]
    pub analysis_justification: Option<AnalysisJustification>,
    #[serde(default)]
    pub analysis_response: Option<AnalysisResponse>,
    #[serde(default)]
    pub analysis_details: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, alias = "isSuppressed")]
    pub suppressed: Option<bool>,
}

/// One comment of an analysis's trail.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisComment {
    pub timestamp: i64,
    pub comment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commenter: Option<String>,
}

/// An analysis as `GET/PUT /api/v1/analysis` returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub analysis_state: AnalysisState,
    pub analysis_justification: AnalysisJustification,
    pub analysis_response: AnalysisResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis_details: Option<String>,
    pub analysis_comments: Vec<AnalysisComment>,
    pub is_suppressed: bool,
}

/// The triage a finding carries, as the finding and analysis views need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageView {
    pub state: AnalysisState,
    pub suppressed: bool,
}

/// One finding (`Finding`) of `GET /api/v1/finding/project/{uuid}`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub component: FindingComponent,
    pub vulnerability: FindingVulnerability,
    pub analysis: FindingAnalysis,
    pub attribution: FindingAttribution,
    /// `project:component:vulnerability`, Dependency-Track's unique key of a finding.
    pub matrix: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingComponent {
    pub uuid: Uuid,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub version: String,
    pub purl: String,
    pub project: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingVulnerability {
    pub uuid: Uuid,
    pub vuln_id: String,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub severity: DtSeverity,
    pub severity_rank: u8,
    #[serde(rename = "cvssV3BaseScore", skip_serializing_if = "Option::is_none")]
    pub cvss_v3_base_score: Option<f64>,
    #[serde(rename = "cvssV3Vector", skip_serializing_if = "Option::is_none")]
    pub cvss_v3_vector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f64>,
    pub aliases: Vec<Alias>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patched_versions: Option<String>,
    /// bulwark's addition: whether CISA lists it as exploited (Dependency-Track has no field).
    pub kev: bool,
}

/// An alias pair as Dependency-Track lists them (`cveId`, `ghsaId`, `osvId`, ...).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cve_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ghsa_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub osv_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingAnalysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<AnalysisState>,
    pub is_suppressed: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingAttribution {
    pub analyzer_identity: &'static str,
    pub attributed_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_url: Option<String>,
}

/// The group of a purl in Dependency-Track's sense (the purl namespace: Maven group, npm scope,
/// distro for OS packages).
fn purl_group(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let path = rest.split(['@', '?', '#']).next()?;
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 3 {
        return None;
    }
    parts.remove(0);
    parts.pop();
    Some(parts.join("/"))
}

/// The finding view of one stored bulwark finding.
pub fn finding(
    project: Uuid,
    f: &VulnerabilityFinding,
    triage: Option<&TriageView>,
    first_seen_ms: i64,
) -> Finding {
    let purl = f.package.purl.to_string();
    let component = component_uuid(project, &purl);
    let vuln = vulnerability_uuid(&f.id);
    let severity = DtSeverity::from(f.severity);
    let (score, vector) = match &f.cvss {
        Some(c) if c.version.starts_with('3') => (c.base_score, Some(c.vector.clone())),
        _ => (None, None),
    };
    let aliases = f
        .ids
        .iter()
        .filter(|id| *id != &f.id)
        .map(|other| alias_pair(&f.id, other))
        .collect();
    Finding {
        matrix: format!("{project}:{component}:{vuln}"),
        component: FindingComponent {
            uuid: component,
            name: f.package.name.clone(),
            group: purl_group(&purl),
            version: f.installed_version.clone(),
            purl,
            project,
            latest_version: None,
        },
        vulnerability: FindingVulnerability {
            uuid: vuln,
            vuln_id: f.id.clone(),
            source: vulnerability_source(&f.id),
            title: f.title.clone(),
            severity,
            severity_rank: severity.rank(),
            cvss_v3_base_score: score,
            cvss_v3_vector: vector,
            epss_score: f.epss.as_ref().map(|e| e.score),
            epss_percentile: f.epss.as_ref().map(|e| e.percentile),
            aliases,
            patched_versions: (!f.fixed_versions.is_empty()).then(|| f.fixed_versions.join(", ")),
            kev: f.kev.is_some() || f.priority.kev,
        },
        analysis: FindingAnalysis {
            state: triage.map(|t| t.state),
            is_suppressed: triage.is_some_and(|t| t.suppressed),
        },
        attribution: FindingAttribution {
            analyzer_identity: "INTERNAL_ANALYZER",
            attributed_on: first_seen_ms,
            reference_url: f.references.first().cloned(),
        },
    }
}

fn alias_pair(primary: &str, other: &str) -> Alias {
    let mut a = Alias::default();
    for id in [primary, other] {
        let slot = match vulnerability_source(id) {
            "NVD" => &mut a.cve_id,
            "GITHUB" => &mut a.ghsa_id,
            _ => &mut a.osv_id,
        };
        slot.get_or_insert_with(|| id.to_string());
    }
    a
}

/// `GET /api/v1/metrics/project/{uuid}/current` (`ProjectMetrics`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectMetrics {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub unassigned: u64,
    pub vulnerabilities: u64,
    pub vulnerable_components: u64,
    pub components: u64,
    pub suppressed: u64,
    pub findings_total: u64,
    pub findings_audited: u64,
    pub findings_unaudited: u64,
    pub inherited_risk_score: f64,
    pub policy_violations_fail: u64,
    pub policy_violations_warn: u64,
    pub policy_violations_info: u64,
    pub policy_violations_total: u64,
    pub policy_violations_audited: u64,
    pub policy_violations_unaudited: u64,
    pub policy_violations_security_total: u64,
    pub policy_violations_security_audited: u64,
    pub policy_violations_security_unaudited: u64,
    pub policy_violations_license_total: u64,
    pub policy_violations_license_audited: u64,
    pub policy_violations_license_unaudited: u64,
    pub policy_violations_operational_total: u64,
    pub policy_violations_operational_audited: u64,
    pub policy_violations_operational_unaudited: u64,
    pub first_occurrence: i64,
    pub last_occurrence: i64,
}

/// Dependency-Track's risk score weights (`Metrics.inheritedRiskScore`).
fn risk_score(critical: u64, high: u64, medium: u64, low: u64, unassigned: u64) -> f64 {
    (critical * 10 + high * 5 + medium * 3 + low + unassigned * 5) as f64
}

/// Metrics of a project from its findings (each with its triage), its component count and its
/// policy violations, counted as Dependency-Track counts them: suppressed findings are left out
/// of the severity counts, and an audited finding is one with a triage state other than
/// `NOT_SET`.
pub fn metrics<'a>(
    findings: impl IntoIterator<Item = (&'a VulnerabilityFinding, Option<&'a TriageView>)>,
    components: u64,
    violations: &[PolicyViolation],
    at_ms: i64,
    first_ms: i64,
) -> ProjectMetrics {
    let mut m = ProjectMetrics {
        components,
        first_occurrence: first_ms,
        last_occurrence: at_ms,
        ..ProjectMetrics::default()
    };
    let mut vulnerable = std::collections::BTreeSet::new();
    for (f, triage) in findings {
        if triage.is_some_and(|t| t.state != AnalysisState::NotSet) {
            m.findings_audited += 1;
        }
        if triage.is_some_and(|t| t.suppressed) {
            m.suppressed += 1;
            continue;
        }
        m.findings_total += 1;
        vulnerable.insert(f.package.purl.to_string());
        match DtSeverity::from(f.severity) {
            DtSeverity::Critical => m.critical += 1,
            DtSeverity::High => m.high += 1,
            DtSeverity::Medium => m.medium += 1,
            DtSeverity::Low => m.low += 1,
            DtSeverity::Info | DtSeverity::Unassigned => m.unassigned += 1,
        }
    }
    m.findings_unaudited = m.findings_total.saturating_sub(m.findings_audited);
    m.vulnerabilities = m.findings_total;
    m.vulnerable_components = vulnerable.len() as u64;
    m.inherited_risk_score = risk_score(m.critical, m.high, m.medium, m.low, m.unassigned);
    for v in violations {
        m.policy_violations_total += 1;
        m.policy_violations_unaudited += 1;
        match v.policy_condition.policy.violation_state {
            "FAIL" => m.policy_violations_fail += 1,
            "WARN" => m.policy_violations_warn += 1,
            _ => m.policy_violations_info += 1,
        }
        match v.kind {
            "SECURITY" => {
                m.policy_violations_security_total += 1;
                m.policy_violations_security_unaudited += 1;
            }
            "LICENSE" => {
                m.policy_violations_license_total += 1;
                m.policy_violations_license_unaudited += 1;
            }
            _ => {
                m.policy_violations_operational_total += 1;
                m.policy_violations_operational_unaudited += 1;
            }
        }
    }
    m
}

/// One policy violation (`PolicyViolation`): a failed bulwark gate on a component.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyViolation {
    pub uuid: Uuid,
    /// `SECURITY`, `LICENSE` or `OPERATIONAL`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: i64,
    pub text: String,
    pub component: ViolationComponent,
    pub project: ViolationProject,
    pub policy_condition: PolicyCondition,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViolationComponent {
    pub uuid: Uuid,
    pub name: String,
    pub version: String,
    pub purl: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViolationProject {
    pub uuid: Uuid,
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyCondition {
    pub uuid: Uuid,
    pub subject: &'static str,
    pub operator: &'static str,
    pub value: String,
    pub policy: Policy,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub uuid: Uuid,
    pub name: String,
    /// `FAIL`, `WARN` or `INFO`.
    pub violation_state: &'static str,
}

/// The server's vulnerability gate (`gates.vulnerabilities` of its config file, the keys
/// `bulwark image` reads): which findings fail it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VulnGate {
    /// At or above this severity (default: any).
    #[serde(default, deserialize_with = "severity_name")]
    pub severity: Option<Severity>,
    /// Only findings with a fixed version.
    #[serde(default)]
    pub fixable: bool,
    /// Only findings in CISA's KEV catalog.
    #[serde(default)]
    pub kev: bool,
    /// Only findings with an EPSS probability at or above this.
    #[serde(default)]
    pub epss: Option<f64>,
}

fn severity_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Severity>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse::<Severity>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl VulnGate {
    /// Whether `f` fails the gate.
    pub fn fails(&self, f: &VulnerabilityFinding) -> bool {
        f.severity >= self.severity.unwrap_or(Severity::Unknown)
            && (!self.fixable || !f.fixed_versions.is_empty())
            && (!self.kev || f.kev.is_some() || f.priority.kev)
            && self
                .epss
                .is_none_or(|min| f.epss.as_ref().is_some_and(|e| e.score >= min))
    }

    /// The policy name Dependency-Track clients show.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.severity {
            Some(s) if s > Severity::Unknown => format!("vulnerabilities {s} or above"),
            _ => "any vulnerability".to_string(),
        }];
        if self.fixable {
            parts.push("fixable".into());
        }
        if self.kev {
            parts.push("in KEV".into());
        }
        if let Some(e) = self.epss {
            parts.push(format!("EPSS >= {e}"));
        }
        format!("bulwark gate: {}", parts.join(", "))
    }
}

/// The policy violations of a project under the server's vulnerability gate: one `SECURITY`
/// violation per unsuppressed finding that fails it, as Dependency-Track reports a
/// vulnerability policy condition (`SEVERITY IS <level>`).
pub fn gate_violations<'a>(
    project: &ViolationProject,
    findings: impl IntoIterator<Item = (&'a VulnerabilityFinding, Option<&'a TriageView>)>,
    gate: &VulnGate,
    at_ms: i64,
) -> Vec<PolicyViolation> {
    let policy_name = gate.describe();
    let policy = Policy {
        uuid: derived_uuid(&["policy", &policy_name]),
        name: policy_name,
        violation_state: "FAIL",
    };
    findings
        .into_iter()
        .filter(|(f, t)| gate.fails(f) && !t.is_some_and(|t| t.suppressed))
        .map(|(f, _)| {
            let purl = f.package.purl.to_string();
            PolicyViolation {
                uuid: derived_uuid(&["violation", &project.uuid.to_string(), &purl, &f.id]),
                kind: "SECURITY",
                timestamp: at_ms,
                text: format!(
                    "{} ({}) in {} {}",
                    f.id, f.severity, f.package.name, f.installed_version
                ),
                component: ViolationComponent {
                    uuid: component_uuid(project.uuid, &purl),
                    name: f.package.name.clone(),
                    version: f.installed_version.clone(),
                    purl,
                },
                project: project.clone(),
                policy_condition: PolicyCondition {
                    uuid: derived_uuid(&["condition", &policy.name]),
                    subject: "SEVERITY",
                    operator: "IS",
                    value: f.severity.as_str().to_ascii_uppercase(),
                    policy: policy.clone(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> BomSubmitRequest {
        serde_json::from_str(json).expect("request parses")
    }

    #[test]
    fn project_is_named_by_uuid_or_name_and_version() {
        let r = request(
            r#"{"projectName":"web","projectVersion":"1.0","autoCreate":true,"bom":"e30="}"#,
        );
        assert!(r.auto_create);
        assert_eq!(
            r.project_ref(),
            Ok(ProjectRef::NameVersion {
                name: "web".into(),
                version: "1.0".into()
            })
        );
        let u = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let r = request(&format!(
            r#"{{"project":"{u}","projectName":"x","bom":"e30="}}"#
        ));
        assert_eq!(
            r.project_ref(),
            Ok(ProjectRef::Uuid(Uuid::parse_str(u).unwrap()))
        );
        assert_eq!(
            request(r#"{"bom":"e30="}"#).project_ref(),
            Err(BomRequestError::MissingProject)
        );
        assert!(matches!(
            request(r#"{"project":"nope"}"#).project_ref(),
            Err(BomRequestError::BadProjectUuid(_))
        ));
        // Some plugins send booleans as strings.
        assert!(request(r#"{"autoCreate":"TRUE"}"#).auto_create);
        assert!(!request(r#"{"autoCreate":null}"#).auto_create);
    }

    #[test]
    fn bom_base64_is_decoded_in_every_alphabet_clients_use() {
        assert_eq!(decode_base64("e30=").unwrap(), b"{}");
        assert_eq!(decode_base64("e30").unwrap(), b"{}");
        assert_eq!(decode_base64("eyJh\nIjoxfQ==\n").unwrap(), br#"{"a":1}"#);
        assert_eq!(decode_base64("-_8=").unwrap(), [0xfb, 0xff]);
        assert!(matches!(
            decode_base64("%%%"),
            Err(BomRequestError::BadBase64(_))
        ));
        assert_eq!(decode_base64("  "), Err(BomRequestError::EmptyBom));
    }

    #[test]
    fn non_json_boms_are_refused_naming_what_is_accepted() {
        let xml = request(r#"{"bom":"PD94bWwgdmVyc2lvbj0iMS4wIj8+PGJvbS8+"}"#);
        let err = xml.decoded_bom().unwrap_err();
        assert_eq!(err, BomRequestError::XmlBom);
        assert!(err.to_string().contains("CycloneDX JSON"), "{err}");
        assert!(matches!(
            check_json_bom(b"hello"),
            Err(BomRequestError::NotJson(_))
        ));
        assert_eq!(check_json_bom(b"\xEF\xBB\xBF {}"), Ok(()));
        assert_eq!(
            request("{}").decoded_bom(),
            Err(BomRequestError::MissingBom)
        );
    }

    #[test]
    fn severities_and_sources_are_named_as_dependency_track_names_them() {
        assert_eq!(DtSeverity::from(Severity::Critical).rank(), 0);
        assert_eq!(DtSeverity::from(Severity::Unknown), DtSeverity::Unassigned);
        assert_eq!(DtSeverity::Unassigned.rank(), 5);
        assert_eq!(serde_json::to_value(DtSeverity::High).unwrap(), "HIGH");
        assert_eq!(vulnerability_source("CVE-2024-1"), "NVD");
        assert_eq!(vulnerability_source("GHSA-xxxx-yyyy-zzzz"), "GITHUB");
        assert_eq!(vulnerability_source("PYSEC-2024-1"), "OSV");
    }

    #[test]
    fn triage_names_round_trip_between_dependency_track_and_bulwark() {
        assert_eq!(
            AnalysisState::from_snake("NOT_AFFECTED"),
            Some(AnalysisState::NotAffected)
        );
        assert_eq!(AnalysisState::NotAffected.as_snake(), "not_affected");
        assert_eq!(
            serde_json::to_value(AnalysisJustification::CodeNotReachable).unwrap(),
            "CODE_NOT_REACHABLE"
        );
        let r: AnalysisRequest = serde_json::from_str(
            r#"{"project":"3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "component":"3fa85f64-5717-4562-b3fc-2c963f66afa7",
                "vulnerability":"3fa85f64-5717-4562-b3fc-2c963f66afa8",
                "analysisState":"FALSE_POSITIVE","analysisJustification":"CODE_NOT_PRESENT",
                "comment":"checked","isSuppressed":true}"#,
        )
        .unwrap();
        assert_eq!(r.analysis_state, Some(AnalysisState::FalsePositive));
        assert_eq!(r.suppressed, Some(true));
    }

    #[test]
    fn purl_group_is_the_namespace() {
        assert_eq!(
            purl_group("pkg:deb/debian/openssl@3.0?distro=debian-12").as_deref(),
            Some("debian")
        );
        assert_eq!(
            purl_group("pkg:npm/%40scope/x@1").as_deref(),
            Some("%40scope")
        );
        assert_eq!(purl_group("pkg:pypi/requests@2").as_deref(), None);
    }

    #[test]
    fn derived_uuids_are_stable() {
        assert_eq!(vulnerability_uuid("CVE-1"), vulnerability_uuid("CVE-1"));
        assert_ne!(vulnerability_uuid("CVE-1"), vulnerability_uuid("CVE-2"));
        let p = derived_uuid(&["p"]);
        assert_ne!(
            component_uuid(p, "pkg:a/b"),
            component_uuid(derived_uuid(&["q"]), "pkg:a/b")
        );
    }

    #[test]
    fn a_finding_has_the_fields_dependency_track_clients_read() {
        use super::super::test_fixtures::finding as sample;
        let project = derived_uuid(&["project"]);
        let f = sample("CVE-2024-0001", "openssl", Severity::Critical);
        let triage = TriageView {
            state: AnalysisState::InTriage,
            suppressed: false,
        };
        let v =
            serde_json::to_value(finding(project, &f, Some(&triage), 1_700_000_000_000)).unwrap();
        assert_eq!(v["component"]["name"], "openssl");
        assert_eq!(v["component"]["version"], "1.0-1");
        assert_eq!(
            v["component"]["purl"],
            "pkg:deb/debian/openssl@1.0-1?distro=debian-12"
        );
        assert_eq!(v["component"]["group"], "debian");
        assert_eq!(v["component"]["project"], project.to_string());
        assert_eq!(v["vulnerability"]["vulnId"], "CVE-2024-0001");
        assert_eq!(v["vulnerability"]["source"], "NVD");
        assert_eq!(v["vulnerability"]["severity"], "CRITICAL");
        assert_eq!(v["vulnerability"]["severityRank"], 0);
        assert_eq!(v["vulnerability"]["cvssV3BaseScore"], 9.8);
        assert_eq!(v["vulnerability"]["epssScore"], 0.5);
        assert_eq!(v["vulnerability"]["aliases"][0]["cveId"], "CVE-2024-0001");
        assert_eq!(
            v["vulnerability"]["aliases"][0]["osvId"],
            "DSA-CVE-2024-0001"
        );
        assert_eq!(v["analysis"]["state"], "IN_TRIAGE");
        assert_eq!(v["analysis"]["isSuppressed"], false);
        let c = &v["component"]["uuid"];
        let u = &v["vulnerability"]["uuid"];
        assert_eq!(
            v["matrix"],
            format!("{project}:{}:{}", c.as_str().unwrap(), u.as_str().unwrap())
        );
        // No triage: no state, not suppressed.
        let v = serde_json::to_value(finding(project, &f, None, 0)).unwrap();
        assert!(v["analysis"].get("state").is_none());
        assert_eq!(v["analysis"]["isSuppressed"], false);
    }

    #[test]
    fn metrics_count_as_dependency_track_counts() {
        use super::super::test_fixtures::finding as sample;
        let a = sample("CVE-1", "a", Severity::Critical);
        let b = sample("CVE-2", "a", Severity::High);
        let c = sample("CVE-3", "b", Severity::Unknown);
        let d = sample("CVE-4", "c", Severity::Low);
        let suppressed = TriageView {
            state: AnalysisState::FalsePositive,
            suppressed: true,
        };
        let audited = TriageView {
            state: AnalysisState::Exploitable,
            suppressed: false,
        };
        let m = metrics(
            [
                (&a, None),
                (&b, Some(&audited)),
                (&c, None),
                (&d, Some(&suppressed)),
            ],
            10,
            &[],
            5,
            1,
        );
        assert_eq!(
            (m.critical, m.high, m.medium, m.low, m.unassigned),
            (1, 1, 0, 0, 1)
        );
        assert_eq!(m.findings_total, 3);
        assert_eq!(m.vulnerabilities, 3);
        assert_eq!(m.suppressed, 1);
        assert_eq!(m.findings_audited, 2);
        assert_eq!(m.findings_unaudited, 1);
        assert_eq!(m.vulnerable_components, 2);
        assert_eq!(m.components, 10);
        assert_eq!(m.inherited_risk_score, 20.0);
        assert_eq!(m.policy_violations_total, 0);
    }

    #[test]
    fn gate_violations_skip_suppressed_and_passing_findings() {
        use super::super::test_fixtures::finding as sample;
        let project = ViolationProject {
            uuid: derived_uuid(&["p"]),
            name: "web".into(),
            version: "1".into(),
        };
        let a = sample("CVE-1", "a", Severity::Critical);
        let b = sample("CVE-2", "b", Severity::Low);
        let c = sample("CVE-3", "c", Severity::High);
        let suppressed = TriageView {
            state: AnalysisState::NotAffected,
            suppressed: true,
        };
        let gate = VulnGate {
            severity: Some(Severity::High),
            ..VulnGate::default()
        };
        let v = gate_violations(
            &project,
            [(&a, None), (&b, None), (&c, Some(&suppressed))],
            &gate,
            7,
        );
        assert_eq!(v.len(), 1);
        let json = serde_json::to_value(&v[0]).unwrap();
        assert_eq!(json["type"], "SECURITY");
        assert_eq!(json["component"]["name"], "a");
        assert_eq!(json["policyCondition"]["policy"]["violationState"], "FAIL");
        assert_eq!(
            json["policyCondition"]["policy"]["name"],
            "bulwark gate: vulnerabilities high or above"
        );
        let kev_only = VulnGate {
            kev: true,
            ..VulnGate::default()
        };
        assert!(gate_violations(&project, [(&a, None)], &kev_only, 7).is_empty());
        let fixable_epss = VulnGate {
            fixable: true,
            epss: Some(0.4),
            ..VulnGate::default()
        };
        assert_eq!(
            gate_violations(&project, [(&a, None), (&b, None)], &fixable_epss, 7).len(),
            2
        );
        let m = metrics([(&a, None)], 1, &v, 0, 0);
        assert_eq!(
            (
                m.policy_violations_total,
                m.policy_violations_fail,
                m.policy_violations_security_total
            ),
            (1, 1, 1)
        );
    }
}
