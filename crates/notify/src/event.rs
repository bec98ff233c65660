//! What happened: a finding appeared, changed or was resolved on an asset (or a test).

use std::fmt;
use std::str::FromStr;

use bulwark_types::Severity;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The kind of an [`Event`]; the words rules list under `on:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A finding the asset did not have before (new image, or a new advisory).
    NewFinding,
    /// A finding whose severity, CVSS, EPSS, KEV or fix changed.
    ChangedFinding,
    /// A finding that is gone (fixed image, withdrawn advisory).
    ResolvedFinding,
    /// Sent by the test endpoint; every rule matches it.
    Test,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::NewFinding,
        EventKind::ChangedFinding,
        EventKind::ResolvedFinding,
        EventKind::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewFinding => "new_finding",
            EventKind::ChangedFinding => "changed_finding",
            EventKind::ResolvedFinding => "resolved_finding",
            EventKind::Test => "test",
        }
    }

    /// How the kind reads in a message title.
    pub(crate) fn title(self) -> &'static str {
        match self {
            EventKind::NewFinding => "New vulnerability",
            EventKind::ChangedFinding => "Vulnerability changed",
            EventKind::ResolvedFinding => "Vulnerability resolved",
            EventKind::Test => "Test notification",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<EventKind, String> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown event `{s}`; expected one of new_finding, changed_finding, resolved_finding, test")
            })
    }
}

/// One notification's subject: a finding on an asset, and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// When the server recorded the change.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub finding: Finding,
    pub package: PackageRef,
    pub asset: AssetRef,
    /// A link to the finding in the server's dashboard, when the server knows its public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// For `changed_finding`: which properties changed (`severity`, `cvss`, `epss`, `kev`,
    /// `fixed_versions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
}

/// The vulnerability side of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The advisory's id (`CVE-2024-3094`, `GHSA-…`, `DSA-…`).
    pub vulnerability_id: String,
    /// Other ids of the same vulnerability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub severity: Severity,
    /// CVSS base score, 0.0–10.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<f32>,
    /// EPSS probability, 0.0–1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default)]
    pub kev: bool,
    /// Versions that fix it; empty when no fix is known.
    #[serde(default)]
    pub fixed_versions: Vec<String>,
}

impl Finding {
    pub fn fixable(&self) -> bool {
        !self.fixed_versions.is_empty()
    }
}

/// The package a finding is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// The image (or project) a finding is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    /// The repository or project name (`registry.example.com/shop/api`).
    pub name: String,
    /// The tag or project version the finding was seen in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The image digest (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl AssetRef {
    /// `name:version`, or `name@digest`, or the name: how messages name the asset.
    pub fn label(&self) -> String {
        match (&self.version, &self.digest) {
            (Some(v), _) => format!("{}:{v}", self.name),
            (None, Some(d)) => format!("{}@{d}", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

impl Event {
    /// The event the test endpoint sends: a made-up critical finding, clearly labelled.
    pub fn test(time: OffsetDateTime) -> Event {
        Event {
            kind: EventKind::Test,
            time,
            finding: Finding {
                vulnerability_id: "CVE-0000-0000".to_string(),
                aliases: Vec::new(),
                severity: Severity::Critical,
                cvss: Some(9.8),
                epss: Some(0.5),
                kev: true,
                fixed_versions: vec!["1.0.1".to_string()],
            },
            package: PackageRef {
                name: "bulwark-test-package".to_string(),
                version: "1.0.0".to_string(),
                purl: Some("pkg:generic/bulwark-test-package@1.0.0".to_string()),
            },
            asset: AssetRef {
                name: "bulwark/test-notification".to_string(),
                version: Some("test".to_string()),
                digest: None,
                team: None,
                owner: None,
            },
            dashboard_url: None,
            changed: Vec::new(),
        }
    }
}
