use serde::{Deserialize, Serialize};

use crate::{LayerRef, Severity};

/// A compliance framework a check is mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// CIS Docker Benchmark v1.6.0 (section ids like `4.1`).
    CisDocker,
    /// CIS Kubernetes Benchmark v1.8 (ids like `5.2.2`).
    CisK8s,
    /// Kubernetes Pod Security Standards (`baseline` or `restricted`, with the control name).
    Pss,
    /// NSA/CISA Kubernetes Hardening Guide v1.2 (section names).
    Nsa,
    /// NIST SP 800-190 countermeasures (sections `4.1.x` to `4.5.x`).
    #[serde(rename = "nist-800-190")]
    Nist800190,
    /// PCI DSS v4.0 requirements (`2.2.1`, `7.2.1` …).
    PciDss,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::CisDocker => "cis-docker",
            Framework::CisK8s => "cis-k8s",
            Framework::Pss => "pss",
            Framework::Nsa => "nsa",
            Framework::Nist800190 => "nist-800-190",
            Framework::PciDss => "pci-dss",
        }
    }
}

/// One control of a framework that a check helps to verify.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ComplianceRef {
    pub framework: Framework,
    /// The framework's own id for the control (`4.1`, `5.2.2`, `restricted`, `4.4.3`).
    pub control: String,
}

/// Where a misconfiguration was found. Lines and columns are 1-based; a finding on a whole
/// file (or on the image config) has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MisconfigLocation {
    /// The file as the user named it, or the image-absolute path of a file inside an image,
    /// or `image-config` for findings on the image's own configuration.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    /// The object the finding is about: `Deployment/prod/web`, `service db`, `stage build`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The layer that brought the file, for files inside images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerRef>,
}

/// A configuration that fails a check, built-in or from a user's Rego policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Misconfiguration {
    /// Stable id: `BW-DF-001`, `BW-K8S-012`, or a user policy's id.
    pub check_id: String,
    pub title: String,
    pub severity: Severity,
    /// What exactly is wrong here (names the container, key or instruction).
    pub message: String,
    /// What to change.
    pub remediation: String,
    /// Documentation links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<ComplianceRef>,
    pub location: MisconfigLocation,
}
