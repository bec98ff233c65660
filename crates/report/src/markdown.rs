//! Markdown for pull-request comments (GitHub, GitLab).
//!
//! A summary table by severity, the gates' verdict, the most urgent findings, then every
//! finding kind in a collapsible `<details>` block. A comment has a size limit (65,536
//! characters on GitHub): the detail tables are cut to fit [`COMMENT_LIMIT`] with a note
//! saying how many rows were left out. Every cell is escaped, so a package name cannot inject
//! markup or break a table.

use std::fmt::Write;

use crate::common::{
    category_words, fix_text, misconfig_place, secret_place, sorted_licenses, sorted_suppressed,
    truncate, vuln_help_url, SEVERITIES,
};
use crate::view::Counts;
use crate::view::FindingRef;
use crate::ScanReport;

/// The most the rendered comment may be, in characters: GitHub's 65,536 less room for a
/// caller's own header.
pub const COMMENT_LIMIT: usize = 60_000;

/// How many findings the "top findings" table shows.
const TOP: usize = 10;

/// Escapes text for a Markdown table cell: no HTML, no emphasis or link syntax, no table or
/// line breaks.
pub(crate) fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn sev(s: bulwark_types::Severity) -> String {
    s.as_str().to_uppercase()
}

/// One collapsible section: a table whose rows may be cut to `cap`.
fn details(out: &mut String, summary: &str, header: &[&str], rows: &[Vec<String>], cap: usize) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{} ({})</summary>\n",
        summary,
        rows.len()
    );
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header.iter().map(|_| " --- |").collect::<String>()
    );
    for row in rows.iter().take(cap) {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if rows.len() > cap {
        let _ = writeln!(
            out,
            "\n_{} more not shown to keep this comment within its size limit; see the full report (`--format json`, `sarif` or `html`)._",
            rows.len() - cap
        );
    }
    out.push_str("\n</details>\n\n");
}

fn render_capped(report: &ScanReport, cap: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## bulwark: {}\n", cell(&report.image_name()));
    if let Some(os) = &report.os {
        let _ = write!(
            out,
            "OS: {} · ",
            cell(os.pretty_name.as_deref().unwrap_or(&os.id))
        );
    }
    let _ = writeln!(
        out,
        "{} packages · {} layers · scanned {}\n",
        report.packages.len(),
        report.layers.len(),
        report.created
    );

    // The gates' verdict first: it is what decides the pipeline.
    if report.gates.is_empty() {
        out.push_str("**Gates:** none configured\n\n");
    } else {
        let failed: Vec<_> = report.gates.iter().filter(|g| !g.passed).collect();
        if failed.is_empty() {
            out.push_str("**Gates: ✅ passed**\n\n");
        } else {
            out.push_str("**Gates: ❌ failed**\n\n");
        }
        for g in &report.gates {
            let _ = writeln!(
                out,
                "- {} **{}**: {}",
                if g.passed { "✅" } else { "❌" },
                cell(g.gate.as_str()),
                cell(&g.reason)
            );
        }
        out.push('\n');
    }

    let counts = Counts::of(report);
    out.push_str("| | Critical | High | Medium | Low | Unknown | Total |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (name, c) in &counts.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | **{}** |",
            title(name),
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c.iter().sum::<usize>()
        );
    }
    out.push('\n');
    if !report.suppressed.is_empty() {
        let vex = report
            .suppressed
            .iter()
            .filter(|s| s.source == crate::SuppressionSource::Vex)
            .count();
        let _ = writeln!(
            out,
            "{} finding{} suppressed ({} by ignore rules, {} by VEX).\n",
            report.suppressed.len(),
            if report.suppressed.len() == 1 {
                ""
            } else {
                "s"
            },
            report.suppressed.len() - vex,
            vex
        );
    }
    if report.has_errors() {
        out.push_str("⚠️ Some files could not be analyzed; the results may be incomplete.\n\n");
    }
    if counts.total() == 0 {
        out.push_str("No findings.\n");
        return out;
    }

    // The most urgent findings across kinds: severity, then the report's own order.
    let mut top: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let rank = |s: bulwark_types::Severity| SEVERITIES.iter().position(|x| *x == s).unwrap_or(4);
    for (i, v) in crate::view::findings(report).enumerate() {
        let row = match v.finding {
            FindingRef::Vulnerability(f) => vec![
                sev(f.severity),
                format!("[{}]({})", cell(&f.id), vuln_help_url(f)),
                cell(&format!("{} {}", f.package.name, f.installed_version)),
                cell(&fix_text(f)),
            ],
            FindingRef::Secret(_) => vec![
                sev(v.severity),
                cell(&format!("secret: {}", v.id)),
                cell(&v.location),
                "revoke and remove".into(),
            ],
            FindingRef::Misconfiguration(m) => vec![
                sev(v.severity),
                cell(v.id),
                cell(&v.location),
                cell(&truncate(&m.remediation, 80)),
            ],
            FindingRef::License(l) => vec![
                sev(v.severity),
                cell(&format!("license: {}", l.license)),
                cell(&format!("{} {}", l.package, l.version)),
                cell(category_words(l.category)),
            ],
        };
        top.push((rank(v.severity), i, row));
    }
    top.sort_by_key(|(r, i, _)| (*r, *i));
    let _ = writeln!(out, "### Top findings\n");
    out.push_str("| Severity | Finding | Where | Fix |\n| --- | --- | --- | --- |\n");
    for (_, _, row) in top.iter().take(TOP.min(cap.max(1))) {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');

    let rows: Vec<Vec<String>> = report
        .vulnerabilities
        .iter()
        .map(|f| {
            vec![
                sev(f.severity),
                format!("[{}]({})", cell(&f.id), vuln_help_url(f)),
                cell(&f.package.name),
                cell(&f.installed_version),
                cell(&fix_text(f)),
                f.package.layer_index.to_string(),
                cell(&truncate(f.title.as_deref().unwrap_or(""), 80)),
            ]
        })
        .collect();
    details(
        &mut out,
        "Vulnerabilities",
        &[
            "Severity",
            "Id",
            "Package",
            "Installed",
            "Fix",
            "Layer",
            "Title",
        ],
        &rows,
        cap,
    );
    let rows: Vec<Vec<String>> = report
        .secrets
        .iter()
        .map(|s| {
            vec![
                sev(s.hit.severity),
                cell(&s.hit.rule_id),
                s.hit.confidence.to_string(),
                cell(&secret_place(s)),
                format!("`{}`", s.hit.redacted.replace('`', "'")),
                s.layer
                    .as_ref()
                    .map(|l| l.index.to_string())
                    .unwrap_or_else(|| "config".into()),
            ]
        })
        .collect();
    details(
        &mut out,
        "Secrets",
        &[
            "Severity",
            "Rule",
            "Confidence",
            "Where",
            "Redacted",
            "Layer",
        ],
        &rows,
        cap,
    );
    let rows: Vec<Vec<String>> = report
        .misconfigurations
        .iter()
        .map(|m| {
            vec![
                sev(m.severity),
                cell(&m.check_id),
                cell(&misconfig_place(m)),
                cell(&truncate(&m.message, 120)),
                cell(&truncate(&m.remediation, 120)),
            ]
        })
        .collect();
    details(
        &mut out,
        "Misconfigurations",
        &["Severity", "Check", "Where", "Problem", "Fix"],
        &rows,
        cap,
    );
    let rows: Vec<Vec<String>> = sorted_licenses(report)
        .into_iter()
        .map(|l| {
            vec![
                sev(l.severity),
                cell(&l.package),
                cell(&l.version),
                cell(&l.license),
                cell(category_words(l.category)),
                cell(&l.reason),
            ]
        })
        .collect();
    details(
        &mut out,
        "Licences",
        &[
            "Severity", "Package", "Version", "Licence", "Category", "Why",
        ],
        &rows,
        cap,
    );
    let rows: Vec<Vec<String>> = sorted_suppressed(report)
        .into_iter()
        .map(|s| {
            vec![
                cell(&format!("{:?}", s.kind).to_lowercase()),
                cell(&s.id),
                cell(&s.target),
                cell(s.source.as_str()),
                cell(&truncate(&s.reason, 120)),
            ]
        })
        .collect();
    details(
        &mut out,
        "Suppressed",
        &["Kind", "Id", "Target", "By", "Reason"],
        &rows,
        cap,
    );
    out
}

/// The comment, within [`COMMENT_LIMIT`] characters.
pub fn render(report: &ScanReport) -> String {
    render_within(report, COMMENT_LIMIT)
}

/// The comment within `limit` characters: detail tables are cut until it fits, and as a last
/// resort the text itself, with a note.
pub fn render_within(report: &ScanReport, limit: usize) -> String {
    for cap in [usize::MAX, 1000, 500, 200, 100, 50, 20, 10, 5, 0] {
        let text = render_capped(report, cap);
        if text.chars().count() <= limit {
            return text;
        }
    }
    let note = "\n\n_Cut to fit the comment size limit; see the full report._\n";
    let keep = limit.saturating_sub(note.chars().count());
    let mut text: String = render_capped(report, 0).chars().take(keep).collect();
    text.push_str(note);
    text
}
