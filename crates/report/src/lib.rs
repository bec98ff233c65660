//! The scan report and the formats it renders to.
//!
//! [`ScanReport`] is the one model every output is made from: the image's identity, OS,
//! layers, package inventory (each package with its purl and introducing layer) and the
//! diagnostics of the scan. It serializes as bulwark's own JSON report (schema
//! `bulwark.report/v1`, documented in `docs/report-format.md`); [`cyclonedx::render`] and
//! [`spdx::render`] turn it into CycloneDX 1.6 and SPDX 2.3 JSON, and [`table::render`] into
//! the text a person reads. Output is deterministic: packages are sorted and document ids are
//! derived from content, and the timestamp honours `SOURCE_DATE_EPOCH`.
#![forbid(unsafe_code)]

pub mod cyclonedx;
pub mod import;
mod model;
pub mod policy;
mod policy_model;
pub mod spdx;
pub mod table;
pub mod vex;

pub use model::{Format, ImageIdentity, ScanReport, ToolInfo, Unmatched, REPORT_SCHEMA};
pub use policy_model::{
    FindingKind, GateResult, IgnoreRuleReport, LicenseCategory, LicenseFinding, Suppression,
};

/// Renders the report in `format`.
pub fn render(report: &ScanReport, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
            s.push('\n');
            s
        }
        Format::CycloneDx => {
            let mut s =
                serde_json::to_string_pretty(&cyclonedx::render(report)).expect("serializes");
            s.push('\n');
            s
        }
        Format::Spdx => {
            let mut s = serde_json::to_string_pretty(&spdx::render(report)).expect("serializes");
            s.push('\n');
            s
        }
    }
}
