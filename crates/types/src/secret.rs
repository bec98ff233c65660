use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{LayerRef, Severity};

/// How sure the scanner is that a match is a live credential rather than a look-alike: `high`
/// when the format proves it (a vendor prefix with a valid checksum, a private key block),
/// `medium` for a distinctive shape without a check, `low` for context and entropy alone.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    /// Also what a report written before confidence existed is read as.
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub const ALL: [Confidence; 3] = [Confidence::Low, Confidence::Medium, Confidence::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high` (any case).
    pub fn from_name(name: &str) -> Option<Confidence> {
        Confidence::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A secret found in one file or text, as the scanner reports it. It never holds the secret:
/// only a short redacted prefix and a stable fingerprint that ignore rules can name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretHit {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub confidence: Confidence,
    /// 1-based.
    pub line: usize,
    /// 1-based, in bytes.
    pub column: usize,
    pub redacted: String,
    pub fingerprint: String,
}

/// Where in the image a secret sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretLocation {
    /// A file of a layer (image-absolute path).
    File { path: String },
    /// An `ENV` value of the image config.
    Env { name: String },
    /// A label of the image config.
    Label { key: String },
    /// A build step's `created_by` in the image history.
    History { step: usize },
}

/// A secret attributed to the image: where, which layer put it there, and whether a later
/// layer removed the file (the bytes are still in the image for anyone who pulls it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretFinding {
    pub location: SecretLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerRef>,
    /// The layer that deleted or replaced the file, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_in_layer: Option<usize>,
    #[serde(flatten)]
    pub hit: SecretHit,
}
