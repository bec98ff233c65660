//! One self-contained HTML report.
//!
//! A single file that works offline: inline CSS, inline SVG charts (findings by severity per
//! layer, vulnerabilities by severity for the most affected packages), tables of every finding
//! kind and of the packages, and no script at all. A Content-Security-Policy (`default-src
//! 'none'`) forbids the page from loading anything, and every piece of text from the image is
//! escaped, so a hostile package name cannot run or fetch anything. Links to advisories are
//! plain `<a href>` links (only `http(s)` URLs made of URL characters). Secrets appear
//! redacted, as everywhere.

use std::collections::BTreeMap;
use std::fmt::Write;

use bulwark_analyze::DiagnosticLevel;
use bulwark_types::Severity;

use crate::common::{
    category_words, escape_xml as esc, fix_text, safe_url, sorted_suppressed, truncate,
    vuln_counts_by, vuln_help_url, SEVERITIES,
};
use crate::view::Counts;
use crate::view::{findings_of, plural, FindingRef, FindingView, KINDS};
use crate::{FindingKind, ScanReport};

/// How many packages the "by package" chart shows.
const TOP_PACKAGES: usize = 15;

const CSS: &str = r#"
:root{--crit:#7b1fa2;--high:#c62828;--med:#ef6c00;--low:#f9a825;--unk:#78909c;--ok:#2e7d32;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--alt:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:0 0 16px}.meta code{font-size:12px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--alt);position:sticky;top:0}tr:nth-child(even) td{background:#fbfcfd}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.sev{display:inline-block;min-width:64px;padding:1px 6px;border-radius:3px;color:#fff;font-size:11px;font-weight:600;text-align:center;text-transform:uppercase}
.sev.critical{background:var(--crit)}.sev.high{background:var(--high)}.sev.medium{background:var(--med)}.sev.low{background:var(--low);color:#1b1f24}.sev.unknown{background:var(--unk)}
.verdict{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}.verdict.fail{background:#ffebe9;border:1px solid #ff8182}.verdict.pass{background:#dafbe1;border:1px solid #4ac26b}.verdict.none{background:var(--alt);border:1px solid var(--line)}
.verdict ul{margin:6px 0 0;font-weight:400}
.charts{display:flex;flex-wrap:wrap;gap:24px}.chart{flex:1 1 460px;min-width:320px}
.chart svg{width:100%;height:auto;font:12px system-ui,sans-serif}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.empty{color:var(--muted);font-style:italic}.id{white-space:nowrap}
"#;

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#7b1fa2",
        Severity::High => "#c62828",
        Severity::Medium => "#ef6c00",
        Severity::Low => "#f9a825",
        Severity::Unknown => "#78909c",
    }
}

fn badge(s: Severity) -> String {
    format!("<span class=\"sev {0}\">{0}</span>", s.as_str())
}

fn link(url: &str, text: &str) -> String {
    match safe_url(url) {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noreferrer noopener\">{}</a>",
            esc(u),
            esc(text)
        ),
        None => esc(text),
    }
}

/// A horizontal stacked bar chart: one row per label, one segment per severity.
fn bar_chart(title: &str, rows: &[(String, [usize; 5])], empty: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<div class=\"chart\"><h3>{}</h3>", esc(title));
    if rows.is_empty() || rows.iter().all(|(_, c)| c.iter().sum::<usize>() == 0) {
        let _ = writeln!(s, "<p class=\"empty\">{}</p></div>", esc(empty));
        return s;
    }
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (label_w, bar_w, row_h) = (250.0, 320.0, 22.0);
    let height = rows.len() as f64 * row_h + 8.0;
    let _ = writeln!(
        s,
        "<svg viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"{}\">",
        label_w + bar_w + 50.0,
        esc(title)
    );
    for (i, (label, counts)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1b1f24\">{}</text>",
            label_w - 6.0,
            y + 14.0,
            esc(&truncate(label, 34))
        );
        let mut x = label_w;
        for (k, sev) in SEVERITIES.iter().enumerate() {
            let n = counts[k];
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {n} {}</title></rect>",
                row_h - 6.0,
                sev_color(*sev),
                esc(label),
                sev.as_str()
            );
            x += w;
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#57606a\">{}</text>",
            x + 4.0,
            y + 14.0,
            counts.iter().sum::<usize>()
        );
    }
    s.push_str("</svg>\n<div class=\"legend\">");
    for sev in SEVERITIES {
        let _ = write!(
            s,
            "<span><i style=\"background:{}\"></i>{}</span>",
            sev_color(sev),
            sev.as_str()
        );
    }
    s.push_str("</div></div>\n");
    s
}

fn table(out: &mut String, header: &[&str], rows: Vec<Vec<String>>, empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{}</p>", esc(empty));
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in header {
        let class = if h.starts_with('#') {
            " class=\"n\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{}</th>", esc(h.trim_start_matches('#')));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (cell, h) in row.iter().zip(header) {
            let class = if h.starts_with('#') {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// Findings of every kind per layer, by severity (vulnerabilities by their package's layer).
fn by_layer(report: &ScanReport) -> Vec<(String, [usize; 5])> {
    let mut map: BTreeMap<usize, [usize; 5]> = BTreeMap::new();
    let idx = |s: Severity| SEVERITIES.iter().position(|x| *x == s).unwrap_or(4);
    for l in &report.layers {
        map.entry(l.index).or_default();
    }
    for v in crate::view::findings(report) {
        if let Some(layer) = v.layer {
            map.entry(layer).or_default()[idx(v.severity)] += 1;
        }
    }
    map.into_iter()
        .map(|(index, counts)| {
            let step = report
                .layers
                .iter()
                .find(|l| l.index == index)
                .and_then(|l| l.created_by.as_deref())
                .map(|c| format!(" {}", c.trim()))
                .unwrap_or_default();
            (format!("#{index}{step}"), counts)
        })
        .collect()
}

/// The packages with the most urgent vulnerabilities: by critical count, then high, ….
fn by_package(report: &ScanReport) -> Vec<(String, [usize; 5])> {
    let mut rows: Vec<(String, [usize; 5])> = vuln_counts_by(report, |f| {
        format!("{} {}", f.package.name, f.installed_version)
    })
    .into_iter()
    .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(TOP_PACKAGES);
    rows
}

pub fn render(report: &ScanReport) -> String {
    let name = report.image_name();
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{} {}\">\n<title>bulwark report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&report.tool.name),
        esc(&report.tool.version),
        esc(&name)
    );
    let _ = writeln!(o, "<h1>{}</h1>", esc(&name));
    let mut meta = vec![format!(
        "reference <code>{}</code>",
        esc(&report.image.reference)
    )];
    if let Some(d) = &report.image.config_digest {
        meta.push(format!("config <code>{}</code>", esc(&d.to_string())));
    }
    if let Some(os) = &report.os {
        meta.push(format!(
            "OS {}",
            esc(os.pretty_name.as_deref().unwrap_or(&os.id))
        ));
    }
    if let Some(p) = &report.image.platform {
        meta.push(format!("platform {}", esc(p)));
    }
    meta.push(format!(
        "{} layers, {} packages",
        report.layers.len(),
        report.packages.len()
    ));
    meta.push(format!(
        "scanned {} by {} {}",
        esc(&report.created),
        esc(&report.tool.name),
        esc(&report.tool.version)
    ));
    let _ = writeln!(o, "<p class=\"meta\">{}</p>", meta.join(" · "));

    // Verdict.
    if report.gates.is_empty() {
        o.push_str("<div class=\"verdict none\" id=\"verdict\">Gates: none configured</div>\n");
    } else {
        let failed = report.gates.iter().any(|g| !g.passed);
        let _ = write!(
            o,
            "<div class=\"verdict {}\" id=\"verdict\">Gates: {}<ul>",
            if failed { "fail" } else { "pass" },
            if failed { "failed" } else { "passed" }
        );
        for g in &report.gates {
            let _ = write!(
                o,
                "<li>{} <strong>{}</strong>: {}</li>",
                if g.passed { "passed" } else { "FAILED" },
                esc(g.gate.as_str()),
                esc(&g.reason)
            );
        }
        o.push_str("</ul></div>\n");
    }
    if report.has_errors() {
        o.push_str("<div class=\"verdict fail\">Some files could not be analyzed: the results may be incomplete (see Diagnostics).</div>\n");
    }

    // Summary.
    o.push_str("<h2 id=\"summary\">Summary</h2>\n");
    let counts = Counts::of(report);
    let rows = counts
        .rows
        .iter()
        .map(|(kind, c)| {
            let mut row = vec![esc(kind)];
            row.extend(c.iter().map(|n| n.to_string()));
            row.push(format!("<strong>{}</strong>", c.iter().sum::<usize>()));
            row
        })
        .collect();
    table(
        &mut o,
        &[
            "",
            "#critical",
            "#high",
            "#medium",
            "#low",
            "#unknown",
            "#total",
        ],
        rows,
        "",
    );
    if !report.suppressed.is_empty() {
        let _ = writeln!(
            o,
            "<p>{} finding(s) suppressed by ignore rules or VEX (listed below).</p>",
            report.suppressed.len()
        );
    }

    o.push_str("<div class=\"charts\">\n");
    o.push_str(&bar_chart(
        "Findings by layer and severity",
        &by_layer(report),
        "No findings attributed to a layer.",
    ));
    o.push_str(&bar_chart(
        &format!("Vulnerabilities by package (top {TOP_PACKAGES})"),
        &by_package(report),
        "No vulnerabilities.",
    ));
    o.push_str("</div>\n");

    // One section per finding kind.
    for kind in KINDS {
        let views = findings_of(report, kind);
        let (title, header, empty): (&str, &[&str], &str) = match kind {
            FindingKind::Vulnerability => (
                "Vulnerabilities",
                &[
                    "Severity",
                    "Id",
                    "Package",
                    "Installed",
                    "Fix",
                    "#CVSS",
                    "#Layer",
                    "Priority",
                    "Title",
                ],
                "No vulnerabilities found.",
            ),
            FindingKind::Secret => (
                "Secrets",
                &[
                    "Severity",
                    "Rule",
                    "Confidence",
                    "Where",
                    "Redacted",
                    "Layer",
                    "Fingerprint",
                ],
                "No secrets found.",
            ),
            FindingKind::Misconfiguration => (
                "Misconfigurations",
                &[
                    "Severity",
                    "Check",
                    "Where",
                    "Problem",
                    "Fix",
                    "Compliance",
                    "References",
                ],
                "No misconfigurations found.",
            ),
            FindingKind::License => (
                "Licences",
                &[
                    "Severity", "Package", "Version", "Licence", "Category", "Why", "#Layer",
                ],
                "No licence findings.",
            ),
        };
        let _ = writeln!(
            o,
            "<h2 id=\"{}\">{title} ({})</h2>",
            plural(kind),
            views.len()
        );
        table(
            &mut o,
            header,
            views.iter().map(finding_row).collect(),
            empty,
        );
    }

    // Suppressed.
    if !report.suppressed.is_empty() {
        let _ = writeln!(
            o,
            "<h2 id=\"suppressed\">Suppressed ({})</h2>",
            report.suppressed.len()
        );
        let rows = sorted_suppressed(report)
            .into_iter()
            .map(|s| {
                vec![
                    esc(&format!("{:?}", s.kind).to_lowercase()),
                    esc(&s.id),
                    format!("<code>{}</code>", esc(&s.target)),
                    esc(s.source.as_str()),
                    esc(&s.reason),
                ]
            })
            .collect();
        table(&mut o, &["Kind", "Id", "Target", "By", "Reason"], rows, "");
    }

    // Layers and packages.
    let _ = writeln!(o, "<h2 id=\"layers\">Layers ({})</h2>", report.layers.len());
    let rows = report
        .layers
        .iter()
        .map(|l| {
            let pkgs = report
                .packages
                .iter()
                .filter(|p| p.layer.index == l.index)
                .count();
            vec![
                l.index.to_string(),
                pkgs.to_string(),
                format!(
                    "<code>{}</code>",
                    esc(&l
                        .diff_id
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_default())
                ),
                format!(
                    "<code>{}</code>",
                    esc(l.created_by.as_deref().unwrap_or("").trim())
                ),
            ]
        })
        .collect();
    table(
        &mut o,
        &["#Layer", "#Packages", "diff_id", "Created by"],
        rows,
        "No layers (not an image).",
    );
    let _ = writeln!(
        o,
        "<h2 id=\"packages\">Packages ({})</h2>\n<details><summary>Show all {} packages</summary>",
        report.packages.len(),
        report.packages.len()
    );
    let rows = report
        .packages
        .iter()
        .map(|p| {
            vec![
                esc(&p.name),
                esc(&p.version),
                esc(p.ecosystem.purl_type()),
                esc(&p.licenses.join(", ")),
                p.layer.index.to_string(),
                format!("<code>{}</code>", esc(&p.purl.to_string())),
            ]
        })
        .collect();
    table(
        &mut o,
        &["Name", "Version", "Type", "Licences", "#Layer", "purl"],
        rows,
        "No packages.",
    );
    o.push_str("</details>\n");

    if !report.diagnostics.is_empty() {
        let _ = writeln!(
            o,
            "<h2 id=\"diagnostics\">Diagnostics ({})</h2>",
            report.diagnostics.len()
        );
        let rows = report
            .diagnostics
            .iter()
            .map(|d| {
                vec![
                    match d.level {
                        DiagnosticLevel::Warning => "warning".to_string(),
                        DiagnosticLevel::Error => "<strong>error</strong>".to_string(),
                    },
                    d.layer.map(|l| l.to_string()).unwrap_or_default(),
                    format!("<code>{}</code>", esc(d.path.as_deref().unwrap_or(""))),
                    esc(&d.message),
                ]
            })
            .collect();
        table(&mut o, &["Level", "#Layer", "Path", "Message"], rows, "");
    }
    o.push_str("</body>\n</html>\n");
    o
}

/// A finding's row in its kind's section.
fn finding_row(v: &FindingView<'_>) -> Vec<String> {
    match v.finding {
        FindingRef::Vulnerability(f) => {
            let score = f
                .cvss
                .as_ref()
                .and_then(|c| c.base_score)
                .map(|s| format!("{s:.1}"))
                .unwrap_or_default();
            vec![
                badge(f.severity),
                format!(
                    "<span class=\"id\">{}</span>",
                    link(&vuln_help_url(f), &f.id)
                ),
                format!(
                    "{}<br><code>{}</code>",
                    esc(&f.package.name),
                    esc(&v.location)
                ),
                esc(&f.installed_version),
                esc(&fix_text(f)),
                score,
                f.package.layer_index.to_string(),
                esc(&f.priority.reason),
                esc(f.title.as_deref().unwrap_or("")),
            ]
        }
        FindingRef::Secret(s) => {
            let mut layer = s
                .layer
                .as_ref()
                .map(|l| l.index.to_string())
                .unwrap_or_else(|| "config".into());
            if let Some(r) = s.removed_in_layer {
                layer.push_str(&format!(" (removed in {r}, still in the image)"));
            }
            vec![
                badge(v.severity),
                esc(v.title),
                esc(s.hit.confidence.as_str()),
                format!("<code>{}</code>", esc(&v.location)),
                format!("<code>{}</code>", esc(&s.hit.redacted)),
                esc(&layer),
                format!("<code>{}</code>", esc(&s.hit.fingerprint)),
            ]
        }
        FindingRef::Misconfiguration(m) => {
            let refs: Vec<String> = m
                .references
                .iter()
                .filter_map(|r| safe_url(r))
                .map(|r| link(r, "ref"))
                .collect();
            let compliance: Vec<String> = m
                .compliance
                .iter()
                .map(|c| esc(&format!("{} {}", c.framework.as_str(), c.control)))
                .collect();
            vec![
                badge(v.severity),
                format!("<code>{}</code> {}", esc(v.id), esc(v.title)),
                format!("<code>{}</code>", esc(&v.location)),
                esc(&m.message),
                esc(&m.remediation),
                compliance.join("<br>"),
                refs.join(" "),
            ]
        }
        FindingRef::License(l) => vec![
            badge(l.severity),
            esc(&l.package),
            esc(&l.version),
            format!("<code>{}</code>", esc(&l.license)),
            esc(category_words(l.category)),
            esc(&l.reason),
            l.layer.index.to_string(),
        ],
    }
}
