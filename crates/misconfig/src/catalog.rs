//! The check catalogue: metadata for every built-in check, read from the embedded
//! `checks/<kind>/<ID>.yaml` files, and the step from a check's raw [`Hit`] to a finding.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bulwark_types::{ComplianceRef, MisconfigLocation, Misconfiguration, Severity};
use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/checks.rs"));

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    Dockerfile,
    Kubernetes,
    Compose,
    Daemon,
    Host,
    Image,
    /// Checks over a whole live cluster (RBAC paths, segmentation, exposure, mesh), run by
    /// `bulwark-k8s`.
    Cluster,
    /// A running container's settings and state (`bulwark runtime`).
    Runtime,
}

impl CheckKind {
    /// The directory under `checks/` (and `tests/cases/`) that holds this kind's checks.
    pub fn dir(self) -> &'static str {
        match self {
            CheckKind::Dockerfile => "dockerfile",
            CheckKind::Kubernetes => "kubernetes",
            CheckKind::Compose => "compose",
            CheckKind::Daemon => "daemon",
            CheckKind::Host => "host",
            CheckKind::Image => "image",
            CheckKind::Cluster => "cluster",
            CheckKind::Runtime => "runtime",
        }
    }
}

/// One check's metadata, as its YAML file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMeta {
    /// `BW-DF-001`: stable forever, never reused.
    pub id: String,
    pub kind: CheckKind,
    pub title: String,
    pub severity: Severity,
    /// Why it matters (a paragraph).
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub compliance: Vec<ComplianceRef>,
}

impl CheckMeta {
    /// The finding this check makes at `location`, saying `message`.
    pub fn finding(&self, message: String, location: MisconfigLocation) -> Misconfiguration {
        Misconfiguration {
            check_id: self.id.clone(),
            title: self.title.clone(),
            severity: self.severity,
            message,
            remediation: self.remediation.clone(),
            references: self.references.clone(),
            compliance: self.compliance.clone(),
            location,
        }
    }
}

/// What a check reports before the catalogue fills in title, severity and mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub check_id: &'static str,
    pub message: String,
    /// 1-based; `None` for a finding on the whole file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// `Deployment/prod/web`, `service db`, `stage build`.
    pub resource: Option<String>,
}

impl Hit {
    pub fn new(check_id: &'static str, message: impl Into<String>) -> Hit {
        Hit {
            check_id,
            message: message.into(),
            line: None,
            column: None,
            resource: None,
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Hit {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn on(mut self, resource: impl Into<String>) -> Hit {
        self.resource = Some(resource.into());
        self
    }

    /// The finding, with the catalogue's metadata, at `path`.
    pub fn into_finding(self, path: &str) -> Misconfiguration {
        let meta = catalog()
            .get(self.check_id)
            .unwrap_or_else(|| panic!("check {} has no metadata file", self.check_id));
        meta.finding(
            self.message,
            MisconfigLocation {
                path: path.to_string(),
                line: self.line,
                column: self.column,
                end_line: None,
                resource: self.resource,
                layer: None,
            },
        )
    }
}

/// Every built-in check by id, parsed once. The embedded files are part of the binary, so a
/// malformed one is a bug caught by the crate's tests, not a user error.
pub fn catalog() -> &'static BTreeMap<String, CheckMeta> {
    static CATALOG: OnceLock<BTreeMap<String, CheckMeta>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        CHECK_FILES
            .iter()
            .map(|(path, text)| {
                let meta: CheckMeta =
                    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("checks/{path}: {e}"));
                (meta.id.clone(), meta)
            })
            .collect()
    })
}

/// The metadata files' paths under `checks/`, for the tests that keep ids and files in step.
pub fn metadata_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    CHECK_FILES.iter().copied()
}
