//! Plain-text summaries a front end prints beside a report: the misconfiguration table of
//! `bulwark config`, the diagnostics lines, and one row per image of a registry scan.

use std::fmt::Write as _;

use bulwark_analyze::{Diagnostic, DiagnosticLevel};
use bulwark_types::{Misconfiguration, Severity};

use crate::ScanReport;

/// Misconfiguration findings as a table: severity, check, place, message; a count per
/// severity at the end.
pub fn misconfig_table(findings: &[Misconfiguration], files: usize) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(
            out,
            "No misconfigurations found ({files} file{} checked).",
            if files == 1 { "" } else { "s" }
        );
        return out;
    }
    let place = |f: &Misconfiguration| {
        let mut p = f.location.path.clone();
        if let Some(l) = f.location.line {
            let _ = write!(p, ":{l}");
        }
        if let Some(layer) = &f.location.layer {
            let _ = write!(p, " (layer {})", layer.index);
        }
        p
    };
    let rows: Vec<[String; 4]> = findings
        .iter()
        .map(|f| {
            [
                f.severity.as_str().to_ascii_uppercase(),
                f.check_id.clone(),
                place(f),
                f.message.clone(),
            ]
        })
        .collect();
    let headers = ["SEVERITY", "CHECK", "LOCATION", "MESSAGE"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let _ = writeln!(out, "Misconfigurations ({})", findings.len());
    let _ = writeln!(
        out,
        "{:w0$}  {:w1$}  {:w2$}  {}",
        headers[0], headers[1], headers[2], headers[3]
    );
    for r in &rows {
        let _ = writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3]);
    }
    let mut by_sev: Vec<(Severity, usize)> = Vec::new();
    for f in findings {
        match by_sev.iter_mut().find(|(s, _)| *s == f.severity) {
            Some((_, n)) => *n += 1,
            None => by_sev.push((f.severity, 1)),
        }
    }
    by_sev.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let summary: Vec<String> = by_sev
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\n{} file{} checked: {}",
        files,
        if files == 1 { "" } else { "s" },
        summary.join(", ")
    );
    out
}

/// Warnings shown before the rest are only counted: a size cap can trip on many files, and
/// the JSON report keeps them all.
pub const MAX_SHOWN_WARNINGS: usize = 5;

/// One line per diagnostic (`level: layer N: path: message`): errors in full, warnings only
/// the first [`MAX_SHOWN_WARNINGS`], then a count of the rest.
pub fn diagnostic_lines(diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut warnings = 0;
    for d in diagnostics {
        let level = match d.level {
            DiagnosticLevel::Warning => {
                warnings += 1;
                if warnings > MAX_SHOWN_WARNINGS {
                    continue;
                }
                "warning"
            }
            DiagnosticLevel::Error => "error",
        };
        let mut place = String::new();
        if let Some(l) = d.layer {
            let _ = write!(place, "layer {l}: ");
        }
        if let Some(p) = &d.path {
            let _ = write!(place, "{p}: ");
        }
        lines.push(format!("{level}: {place}{}", d.message));
    }
    if warnings > MAX_SHOWN_WARNINGS {
        lines.push(format!(
            "warning: {} more warnings (see the JSON report's diagnostics)",
            warnings - MAX_SHOWN_WARNINGS
        ));
    }
    lines
}

/// One image of a registry scan: what was found, or why it could not be scanned.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageSummary {
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    pub packages: usize,
    pub vulnerabilities: usize,
    pub secrets: usize,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ImageSummary {
    /// A scanned image's counts, with the exit code its own scan would have had.
    pub fn scanned(reference: String, report: &ScanReport, exit_code: u8) -> ImageSummary {
        ImageSummary {
            reference,
            manifest_digest: report.image.manifest_digest.as_ref().map(|d| d.to_string()),
            packages: report.packages.len(),
            vulnerabilities: report.vulnerabilities.len(),
            secrets: report.secrets.len(),
            exit_code: i32::from(exit_code),
            error: None,
        }
    }

    /// An image that could not be scanned.
    pub fn failed(reference: String, error: String, exit_code: u8) -> ImageSummary {
        ImageSummary {
            reference,
            manifest_digest: None,
            packages: 0,
            vulnerabilities: 0,
            secrets: 0,
            exit_code: i32::from(exit_code),
            error: Some(error),
        }
    }
}

/// A registry scan's summary: `{"registry", "images"}` JSON, or one tab-separated row per image.
pub fn registry_summary(authority: &str, images: &[ImageSummary], json: bool) -> String {
    if json {
        let value = serde_json::json!({ "registry": authority, "images": images });
        return serde_json::to_string_pretty(&value).expect("serializes") + "\n";
    }
    let mut t = String::from("IMAGE\tPACKAGES\tVULNERABILITIES\tSECRETS\tSTATUS\n");
    for s in images {
        let _ = writeln!(
            t,
            "{}\t{}\t{}\t{}\t{}",
            s.reference,
            s.packages,
            s.vulnerabilities,
            s.secrets,
            s.error.as_deref().unwrap_or("ok")
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_findings_say_how_many_files_were_checked() {
        assert_eq!(
            misconfig_table(&[], 1),
            "No misconfigurations found (1 file checked).\n"
        );
        assert_eq!(
            misconfig_table(&[], 2),
            "No misconfigurations found (2 files checked).\n"
        );
    }

    #[test]
    fn registry_summary_rows_and_json() {
        let images = [
            ImageSummary::failed("r:5000/a:1".into(), "boom".into(), 2),
            ImageSummary::scanned(
                "r:5000/b:1".into(),
                &ScanReport::for_files("b".into(), "0"),
                0,
            ),
        ];
        assert_eq!(
            registry_summary("r:5000", &images, false),
            "IMAGE\tPACKAGES\tVULNERABILITIES\tSECRETS\tSTATUS\n\
             r:5000/a:1\t0\t0\t0\tboom\nr:5000/b:1\t0\t0\t0\tok\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&registry_summary("r:5000", &images, true)).unwrap();
        assert_eq!(json["registry"], "r:5000");
        assert_eq!(json["images"][0]["exit_code"], 2);
        assert!(json["images"][1].get("error").is_none());
    }
}
