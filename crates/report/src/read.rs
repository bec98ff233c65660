//! Reading a JSON report back into a [`ScanReport`]: bounded in size, checked for its schema
//! version first, and failing with the JSON path of the first field that does not fit.

use std::io::Read;

use serde::Deserialize;

use crate::input::size_text;
use crate::model::{ScanReport, REPORT_SCHEMA};

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

/// The words for a report of another schema version.
pub(crate) fn unsupported_schema(found: &str) -> String {
    format!(
        "unsupported report schema {found:?}: this bulwark reads {REPORT_SCHEMA} only; rescan, or read it with the bulwark release that wrote it"
    )
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
