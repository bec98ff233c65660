//! The JSON shapes of Harbor's pluggable scanner API v1.1 (goharbor/pluggable-scanner-spec,
//! `api/spec/scanner-adapter-openapi-v1.1.yaml`) and the conversion of bulwark's findings into
//! its vulnerability report.

use std::collections::BTreeMap;

use bulwark_types::{Severity, VulnerabilityFinding};
use serde::{Deserialize, Serialize};

/// The report MIME type Harbor asks for (v1.1 of the adapter API).
pub const MIME_VULN_REPORT_1_1: &str = "application/vnd.security.vulnerability.report; version=1.1";
/// The v1.0 report type: the same document shape, still requested by older Harbors.
pub const MIME_VULN_REPORT_1_0: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
pub const MIME_METADATA: &str = "application/vnd.scanner.adapter.metadata+json; version=1.0";
pub const MIME_SCAN_RESPONSE: &str =
    "application/vnd.scanner.adapter.scan.response+json; version=1.0";
pub const MIME_ERROR: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
pub const MIME_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MIME_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// `Scanner`: name, vendor and version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scanner {
    pub name: String,
    pub vendor: String,
    pub version: String,
}

impl Scanner {
    pub fn bulwark() -> Scanner {
        Scanner {
            name: "bulwark".into(),
            vendor: "bulwark".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// `ScannerCapability`.
#[derive(Debug, Clone, Serialize)]
pub struct Capability {
    pub consumes_mime_types: Vec<&'static str>,
    pub produces_mime_types: Vec<&'static str>,
}

/// `ScannerAdapterMetadata`, the reply of `GET /api/v1/metadata`.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub scanner: Scanner,
    pub capabilities: Vec<Capability>,
    pub properties: BTreeMap<String, String>,
}

impl Metadata {
    /// bulwark's metadata; `db_updated_at` is the advisory store's last update (RFC 3339) when
    /// known.
    pub fn bulwark(db_updated_at: Option<String>) -> Metadata {
        let mut properties = BTreeMap::new();
        properties.insert(
            "harbor.scanner-adapter/scanner-type".to_string(),
            "os-package-vulnerability".to_string(),
        );
        if let Some(at) = db_updated_at {
            properties.insert(
                "harbor.scanner-adapter/vulnerability-database-updated-at".to_string(),
                at,
            );
        }
        Metadata {
            scanner: Scanner::bulwark(),
            capabilities: vec![Capability {
                consumes_mime_types: vec![MIME_OCI_MANIFEST, MIME_DOCKER_MANIFEST],
                produces_mime_types: vec![MIME_VULN_REPORT_1_1, MIME_VULN_REPORT_1_0],
            }],
            properties,
        }
    }
}

/// `ScanRequest`, the body of `POST /api/v1/scan`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ScanRequest {
    pub registry: Registry,
    pub artifact: Artifact,
}

/// `Registry`: where to pull from and the `Authorization` header value to pull with.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Registry {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
}

/// `Artifact`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Artifact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// Why a scan request is refused (Harbor shows the message to its admin).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanRequestError {
    #[error("registry.url is missing or empty")]
    MissingRegistry,
    #[error("registry.url {0:?} is not an http(s) URL")]
    BadRegistryUrl(String),
    #[error("artifact.repository is missing or empty")]
    MissingRepository,
    #[error("artifact.digest is missing or not of the form `sha256:<64 hex digits>`: {0:?}")]
    BadDigest(String),
    #[error("artifact.mime_type {0:?} is not an image manifest this scanner consumes")]
    UnsupportedMimeType(String),
    #[error(
        "registry.authorization must be `Basic <base64>` or `Bearer <token>`, got a value of \
         another scheme"
    )]
    BadAuthorization,
}

/// How the scanner authenticates to the registry, from `registry.authorization`.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    Anonymous,
    /// `Basic` credentials, decoded.
    Basic {
        username: String,
        password: String,
    },
    /// A `Bearer` token sent as is.
    Bearer(String),
}

impl std::fmt::Debug for RegistryAuth {
    // Credentials never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryAuth::Anonymous => f.write_str("Anonymous"),
            RegistryAuth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            RegistryAuth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// A validated scan request: what the scan job needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidScan {
    /// `host[:port]` of the registry.
    pub registry_host: String,
    /// Whether the registry is reached over plain HTTP (an `http://` URL).
    pub insecure: bool,
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
    pub auth: RegistryAuth,
}

impl ValidScan {
    /// The image reference pulled: `host/repository@digest` (the digest pins what Harbor asked
    /// for even if the tag moved).
    pub fn reference(&self) -> String {
        format!("{}/{}@{}", self.registry_host, self.repository, self.digest)
    }
}

impl ScanRequest {
    pub fn validate(&self) -> Result<ValidScan, ScanRequestError> {
        let url = self.registry.url.trim();
        if url.is_empty() {
            return Err(ScanRequestError::MissingRegistry);
        }
        let (insecure, rest) = if let Some(r) = url.strip_prefix("https://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (true, r)
        } else {
            return Err(ScanRequestError::BadRegistryUrl(url.to_string()));
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(ScanRequestError::BadRegistryUrl(url.to_string()));
        }
        let repository = self
            .artifact
            .repository
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or(ScanRequestError::MissingRepository)?;
        let digest = self.artifact.digest.as_deref().unwrap_or("").trim();
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ScanRequestError::BadDigest(digest.to_string()));
        }
        if let Some(m) = self.artifact.mime_type.as_deref().filter(|m| !m.is_empty()) {
            if m != MIME_OCI_MANIFEST && m != MIME_DOCKER_MANIFEST {
                return Err(ScanRequestError::UnsupportedMimeType(m.to_string()));
            }
        }
        Ok(ValidScan {
            registry_host: host.to_string(),
            insecure,
            repository: repository.to_string(),
            digest: digest.to_ascii_lowercase(),
            tag: self.artifact.tag.clone().filter(|t| !t.is_empty()),
            auth: parse_authorization(self.registry.authorization.as_deref())?,
        })
    }
}

/// Parses the `Authorization` header value Harbor passes for the pull.
pub fn parse_authorization(value: Option<&str>) -> Result<RegistryAuth, ScanRequestError> {
    use base64::Engine as _;
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let (scheme, rest) = value
        .split_once(' ')
        .ok_or(ScanRequestError::BadAuthorization)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| ScanRequestError::BadAuthorization)?;
        let text = String::from_utf8(decoded).map_err(|_| ScanRequestError::BadAuthorization)?;
        let (user, pass) = text
            .split_once(':')
            .ok_or(ScanRequestError::BadAuthorization)?;
        Ok(RegistryAuth::Basic {
            username: user.to_string(),
            password: pass.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Ok(RegistryAuth::Bearer(rest.to_string()))
    } else {
        Err(ScanRequestError::BadAuthorization)
    }
}

/// `ScanResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanResponse {
    pub id: String,
}

/// `ErrorResponse`: `{"error": {"message": ...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorMessage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub message: String,
}

impl ErrorResponse {
    pub fn new(message: impl Into<String>) -> ErrorResponse {
        ErrorResponse {
            error: ErrorMessage {
                message: message.into(),
            },
        }
    }
}

/// Harbor's severity scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HarborSeverity {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl From<Severity> for HarborSeverity {
    fn from(s: Severity) -> HarborSeverity {
        match s {
            Severity::Unknown => HarborSeverity::Unknown,
            Severity::Low => HarborSeverity::Low,
            Severity::Medium => HarborSeverity::Medium,
            Severity::High => HarborSeverity::High,
            Severity::Critical => HarborSeverity::Critical,
        }
    }
}

/// `CVSSDetails`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CvssDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_v3: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_v3: Option<String>,
}

/// `VendorAttribute`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VendorAttribute {
    pub key: String,
    pub value: String,
}

/// `VulnerabilityItem`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VulnerabilityItem {
    pub id: String,
    pub package: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_version: Option<String>,
    pub severity: HarborSeverity,
    pub description: String,
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_cvss: Option<CvssDetails>,
    pub cwe_ids: Vec<String>,
    pub vendor_attributes: Vec<VendorAttribute>,
}

/// `HarborVulnerabilityReport`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VulnerabilityReport {
    pub generated_at: String,
    pub artifact: Artifact,
    pub scanner: Scanner,
    pub severity: HarborSeverity,
    pub vulnerabilities: Vec<VulnerabilityItem>,
}

/// The report of `findings` for `artifact`; the overall severity is the highest finding's
/// (`Unknown` when there are none, as Harbor's own adapters report a clean image).
pub fn report(
    artifact: Artifact,
    findings: &[VulnerabilityFinding],
    generated_at: String,
) -> VulnerabilityReport {
    let vulnerabilities: Vec<VulnerabilityItem> = findings.iter().map(item).collect();
    let severity = vulnerabilities
        .iter()
        .map(|v| v.severity)
        .max()
        .unwrap_or(HarborSeverity::Unknown);
    VulnerabilityReport {
        generated_at,
        artifact,
        scanner: Scanner::bulwark(),
        severity,
        vulnerabilities,
    }
}

fn item(f: &VulnerabilityFinding) -> VulnerabilityItem {
    let preferred_cvss = f
        .cvss
        .as_ref()
        .filter(|c| c.version.starts_with('3'))
        .map(|c| CvssDetails {
            score_v3: c.base_score,
            vector_v3: Some(c.vector.clone()),
        });
    let mut vendor_attributes = vec![VendorAttribute {
        key: "purl".into(),
        value: f.package.purl.to_string(),
    }];
    if f.ids.len() > 1 {
        vendor_attributes.push(VendorAttribute {
            key: "aliases".into(),
            value: f.ids[1..].join(", "),
        });
    }
    if let Some(e) = &f.epss {
        vendor_attributes.push(VendorAttribute {
            key: "epss".into(),
            value: e.score.to_string(),
        });
    }
    if f.kev.is_some() || f.priority.kev {
        vendor_attributes.push(VendorAttribute {
            key: "kev".into(),
            value: "true".into(),
        });
    }
    VulnerabilityItem {
        id: f.id.clone(),
        package: f.package.name.clone(),
        version: f.installed_version.clone(),
        // Harbor shows one fix version: the lowest that fixes it.
        fix_version: f.fixed_versions.first().cloned(),
        severity: f.severity.into(),
        description: f.title.clone().unwrap_or_default(),
        links: f
            .references
            .iter()
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
            .cloned()
            .collect(),
        preferred_cvss,
        cwe_ids: Vec::new(),
        vendor_attributes,
    }
}

/// Whether an `Accept` header asks for a report this adapter produces (absent or `*/*` too).
pub fn accepts_report(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return true };
    accept.split(',').any(|part| {
        let normalized: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        let normalized = normalized.to_ascii_lowercase();
        normalized.is_empty()
            || normalized.starts_with("*/*")
            || normalized == MIME_VULN_REPORT_1_1.replace(' ', "")
            || normalized == MIME_VULN_REPORT_1_0.replace(' ', "")
            || normalized.starts_with("application/vnd.security.vulnerability.report;version=1.1")
            || normalized.starts_with("application/json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(json: serde_json::Value) -> ScanRequest {
        serde_json::from_value(json).expect("scan request parses")
    }

    const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

    #[test]
    fn a_scan_request_becomes_a_pinned_reference_with_credentials() {
        let r = scan(serde_json::json!({
            "registry": {"url": "http://127.0.0.1:5000/", "authorization": "Basic dXNlcjpwYXNz"},
            "artifact": {"repository": "library/debian", "digest": DIGEST, "tag": "12",
                         "mime_type": MIME_DOCKER_MANIFEST}
        }));
        let v = r.validate().unwrap();
        assert!(v.insecure);
        assert_eq!(
            v.reference(),
            format!("127.0.0.1:5000/library/debian@{DIGEST}")
        );
        assert_eq!(
            v.auth,
            RegistryAuth::Basic {
                username: "user".into(),
                password: "pass".into()
            }
        );
        assert_eq!(format!("{:?}", v.auth), "Basic(user, ***)");
        let bearer = parse_authorization(Some("Bearer abc.def")).unwrap();
        assert_eq!(bearer, RegistryAuth::Bearer("abc.def".into()));
        assert_eq!(parse_authorization(None).unwrap(), RegistryAuth::Anonymous);
    }

    #[test]
    fn bad_scan_requests_name_the_field() {
        let base = serde_json::json!({
            "registry": {"url": "https://core.harbor.domain"},
            "artifact": {"repository": "library/mongo", "digest": DIGEST}
        });
        assert!(scan(base.clone()).validate().is_ok());
        let mut b = base.clone();
        b["registry"]["url"] = "ftp://x".into();
        assert!(matches!(
            scan(b).validate(),
            Err(ScanRequestError::BadRegistryUrl(_))
        ));
        let mut b = base.clone();
        b["artifact"]["digest"] = "sha256:abc".into();
        assert!(matches!(
            scan(b).validate(),
            Err(ScanRequestError::BadDigest(_))
        ));
        let mut b = base.clone();
        b["artifact"]["repository"] = "".into();
        assert_eq!(scan(b).validate(), Err(ScanRequestError::MissingRepository));
        let mut b = base.clone();
        b["artifact"]["mime_type"] = "application/vnd.cncf.helm.config.v1+json".into();
        assert!(matches!(
            scan(b).validate(),
            Err(ScanRequestError::UnsupportedMimeType(_))
        ));
        let mut b = base;
        b["registry"]["authorization"] = "Digest abc".into();
        assert_eq!(scan(b).validate(), Err(ScanRequestError::BadAuthorization));
    }

    #[test]
    fn accept_header_negotiation() {
        assert!(accepts_report(None));
        assert!(accepts_report(Some(MIME_VULN_REPORT_1_1)));
        assert!(accepts_report(Some(
            "application/vnd.security.vulnerability.report;version=1.1"
        )));
        assert!(accepts_report(Some(MIME_VULN_REPORT_1_0)));
        assert!(!accepts_report(Some(
            "application/vnd.scanner.adapter.vuln.report.raw"
        )));
        assert!(!accepts_report(Some("application/spdx+json")));
    }

    #[test]
    fn metadata_names_the_capabilities() {
        let m =
            serde_json::to_value(Metadata::bulwark(Some("2026-01-01T00:00:00Z".into()))).unwrap();
        assert_eq!(m["scanner"]["name"], "bulwark");
        assert_eq!(
            m["properties"]["harbor.scanner-adapter/scanner-type"],
            "os-package-vulnerability"
        );
        assert_eq!(
            m["capabilities"][0]["produces_mime_types"][0],
            MIME_VULN_REPORT_1_1
        );
    }

    #[test]
    fn empty_report_is_unknown_severity() {
        let r = report(Artifact::default(), &[], "2026-01-01T00:00:00Z".into());
        assert_eq!(r.severity, HarborSeverity::Unknown);
        assert!(r.vulnerabilities.is_empty());
    }

    #[test]
    fn report_items_carry_fix_cvss_and_links() {
        use super::super::test_fixtures::finding as sample;
        let findings = [
            sample("CVE-1", "openssl", Severity::Medium),
            sample("CVE-2", "zlib", Severity::High),
        ];
        let artifact = Artifact {
            repository: Some("library/debian".into()),
            ..Artifact::default()
        };
        let r = report(artifact, &findings, "2026-01-01T00:00:00Z".into());
        assert_eq!(r.severity, HarborSeverity::High);
        let v = serde_json::to_value(&r.vulnerabilities[0]).unwrap();
        assert_eq!(v["id"], "CVE-1");
        assert_eq!(v["package"], "openssl");
        assert_eq!(v["version"], "1.0-1");
        assert_eq!(v["fix_version"], "1.0-2");
        assert_eq!(v["severity"], "Medium");
        assert_eq!(v["preferred_cvss"]["score_v3"], 9.8);
        assert_eq!(
            v["preferred_cvss"]["vector_v3"],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        );
        assert_eq!(
            v["links"],
            serde_json::json!(["https://security-tracker.debian.org/tracker/CVE-1"])
        );
        assert_eq!(v["vendor_attributes"][0]["key"], "purl");
    }
}
