//! The normalised advisory every importer produces and the store persists.

use std::collections::BTreeMap;

use bulwark_version::RangeEvent;
use serde::{Deserialize, Serialize};

/// One CVSS (or other) severity vector, as OSV `severity[]` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityVector {
    /// `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`...
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub withdrawn: Option<String>,
    pub severity: Vec<SeverityVector>,
    /// The source's own rating (GHSA `database_specific.severity`, Debian urgency).
    pub source_severity: Option<String>,
    pub references: Vec<String>,
    pub affected: Vec<Affected>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AffectedStatus {
    Affected,
    NotAffected,
}

impl AffectedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AffectedStatus::Affected => "affected",
            AffectedStatus::NotAffected => "not-affected",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Affected {
    /// Full OSV ecosystem (`PyPI`, `Debian:12`, `Alpine:v3.22`).
    pub ecosystem: String,
    /// Normalised with [`crate::normalize_name`].
    pub name: String,
    pub status: AffectedStatus,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// Why unfixed / not affected (Debian `<no-dsa>`, `<postponed>`...).
    pub note: Option<String>,
}

/// One range as stored: its type (`ECOSYSTEM`/`SEMVER`) and events as `[kind, version]`
/// pairs, kind one of `i` (introduced), `f` (fixed), `l` (last_affected), `m` (limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Range {
    #[serde(rename = "t")]
    pub kind: String,
    #[serde(rename = "e")]
    pub events: Vec<(String, String)>,
}

impl Range {
    pub fn unfixed() -> Range {
        Range {
            kind: "ECOSYSTEM".into(),
            events: vec![("i".into(), "0".into())],
        }
    }

    pub fn fixed_at(v: &str) -> Range {
        Range {
            kind: "ECOSYSTEM".into(),
            events: vec![("i".into(), "0".into()), ("f".into(), v.into())],
        }
    }

    pub fn to_events(&self) -> Vec<RangeEvent> {
        self.events
            .iter()
            .filter_map(|(k, v)| match k.as_str() {
                "i" => Some(RangeEvent::Introduced(v.clone())),
                "f" => Some(RangeEvent::Fixed(v.clone())),
                "l" => Some(RangeEvent::LastAffected(v.clone())),
                "m" => Some(RangeEvent::Limit(v.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn fixed_versions(&self) -> impl Iterator<Item = &str> {
        self.events
            .iter()
            .filter(|(k, _)| k == "f")
            .map(|(_, v)| v.as_str())
    }
}

/// Records skipped during an import, counted per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skips(pub BTreeMap<String, u64>);

impl Skips {
    pub fn add(&mut self, reason: impl Into<String>) {
        *self.0.entry(reason.into()).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn merge(&mut self, other: &Skips) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }
}
