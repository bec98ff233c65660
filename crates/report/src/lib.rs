//! The scan report and the formats it renders to.
//!
//! [`ScanReport`] is the one model every output is made from: the image's identity, OS,
//! layers, package inventory (each package with its purl and introducing layer) and the
//! diagnostics of the scan. It serializes as bulwark's own JSON report (schema
//! `bulwark.report/v1`, documented in `docs/report-format.md`); [`cyclonedx::render`] and
//! [`spdx::render`] turn it into CycloneDX 1.6 (with its vulnerabilities) and SPDX 2.3 JSON,
//! [`sarif::render`] into SARIF 2.1.0 for code scanning, [`junit::render`] into JUnit XML,
//! [`html::render`] into one self-contained HTML file, [`markdown::render`] into a
//! pull-request comment and [`table::render`] into the text a person reads. [`render`] picks
//! by [`Format`]. Output is deterministic: findings are sorted, document ids are derived from
//! content, and the timestamp honours `SOURCE_DATE_EPOCH`.
#![forbid(unsafe_code)]

mod common;
pub mod cyclonedx;
pub mod html;
pub mod import;
pub mod input;
pub mod junit;
pub mod markdown;
mod model;
mod policy_model;
mod read;
mod redact;
pub mod sarif;
pub mod spdx;
pub mod table;
pub mod text;
mod view;

pub use model::{
    Format, ImageIdentity, ReportSchema, ScanReport, ToolInfo, Unmatched, REPORT_SCHEMA,
};
pub use policy_model::{
    FindingKind, GateKind, GateResult, IgnoreRuleReport, LicenseCategory, LicenseFinding,
    RuleState, Suppression, SuppressionSource,
};
pub use read::{read_report, read_report_capped, ReadError, MAX_REPORT_BYTES};
pub use redact::RedactFn;

/// How to render, beyond the format itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours in the table (only for a terminal that wants them).
    pub color: bool,
}

/// Renders the report in `format`, without colours.
pub fn render(report: &ScanReport, format: Format) -> String {
    render_with(report, format, RenderOptions::default())
}

/// Writes the report in `format` to `out`. JSON is serialized straight into the writer: a
/// report of a million packages is about 0.5 GB of text, which need not exist in memory at
/// once; the other formats are rendered whole first.
pub fn write_to(
    report: &ScanReport,
    format: Format,
    options: RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            // `From` keeps an I/O error's kind (a closed pipe stays `BrokenPipe`).
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
            out.write_all(b"\n")
        }
        _ => out.write_all(render_with(report, format, options).as_bytes()),
    }
}

/// Renders the report in `format` with `options`.
pub fn render_with(report: &ScanReport, format: Format, options: RenderOptions) -> String {
    let json = |v: serde_json::Value| {
        let mut s = serde_json::to_string_pretty(&v).expect("serializes");
        s.push('\n');
        s
    };
    match format {
        Format::Table => table::render_with(report, options.color),
        Format::Sarif => json(sarif::render(report)),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
        Format::Markdown => markdown::render(report),
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
