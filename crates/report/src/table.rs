//! The readable table: what a person sees on a terminal.
//!
//! The image, its layers and packages, then vulnerabilities, secrets, misconfigurations and
//! licence findings, what was suppressed, and the gates' verdict. Severities are coloured
//! only when asked ([`render_with`] with `color`; the CLI asks on a terminal without
//! `NO_COLOR`).

use std::collections::HashMap;
use std::fmt::Write;

use bulwark_analyze::DiagnosticLevel;
use bulwark_types::{Severity, VulnerabilityFinding};

use crate::common::{category_words, truncate};
use crate::view::Counts;
use crate::view::{findings_of, plural, FindingRef, FindingView, KINDS};
use crate::{FindingKind, ScanReport};

/// A severity word, padded to `width`, in its ANSI colour when `color`.
fn sev(s: Severity, width: usize, color: bool) -> String {
    let word = format!("{:<width$}", s.as_str().to_uppercase());
    if !color {
        return word;
    }
    let code = match s {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{word}\x1b[0m")
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The table without colours.
pub fn render(report: &ScanReport) -> String {
    render_with(report, false)
}

/// The table, with ANSI colours when `color`.
pub fn render_with(report: &ScanReport, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.image_name());
    if let Some(os) = &report.os {
        let _ = writeln!(
            out,
            "  os: {}",
            os.pretty_name.clone().unwrap_or_else(|| format!(
                "{} {}",
                os.id,
                os.version_id.clone().unwrap_or_default()
            ))
        );
    } else {
        let _ = writeln!(out, "  os: unknown");
    }
    if let Some(d) = &report.image.config_digest {
        let _ = writeln!(out, "  config: {d}");
    }
    let cached = report.layers.iter().filter(|l| l.from_cache).count();
    let _ = writeln!(
        out,
        "  layers: {} ({} from cache), packages: {}",
        report.layers.len(),
        cached,
        report.packages.len()
    );
    for layer in &report.layers {
        let count = report
            .packages
            .iter()
            .filter(|p| p.layer.index == layer.index)
            .count();
        let step = layer.created_by.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "    #{:<2} {:>5} pkgs  {}",
            layer.index,
            count,
            truncate(step.trim(), 90)
        );
    }
    out.push('\n');

    let headers = ["NAME", "VERSION", "TYPE", "LAYER", "SOURCE"];
    let rows: Vec<[String; 5]> = report
        .packages
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.version.clone(),
                p.ecosystem.purl_type().to_string(),
                p.layer.index.to_string(),
                p.source
                    .as_ref()
                    .filter(|s| s.name != p.name || s.version != p.version)
                    .map(|s| format!("{} {}", s.name, s.version))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count().min(48));
        }
    }
    let line = |cells: [&str; 5], out: &mut String| {
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let cell = truncate(cell, 48);
            if i + 1 == cells.len() {
                let _ = write!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<w$}  ");
            }
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(headers, &mut out);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]], &mut out);
    }
    for kind in KINDS {
        let views = findings_of(report, kind);
        if views.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} ({})",
            plural(kind).to_ascii_uppercase(),
            views.len()
        );
        if kind == FindingKind::Vulnerability {
            vulnerability_groups(&views, color, &mut out);
            continue;
        }
        for v in &views {
            match v.finding {
                FindingRef::Vulnerability(_) => {}
                FindingRef::Secret(s) => {
                    let mut layer = s
                        .layer
                        .as_ref()
                        .map(|l| format!("layer {}", l.index))
                        .unwrap_or_else(|| "config".into());
                    if let Some(r) = s.removed_in_layer {
                        layer.push_str(&format!(", removed in layer {r} (still in the image)"));
                    }
                    let _ = writeln!(
                        out,
                        "  {} {:<28} {:<6} {}  {}  [{}] {}",
                        sev(v.severity, 8, color),
                        v.id,
                        s.hit.confidence,
                        v.location,
                        s.hit.redacted,
                        layer,
                        s.hit.fingerprint
                    );
                }
                FindingRef::Misconfiguration(m) => {
                    let _ = writeln!(
                        out,
                        "  {} {:<12} {}  {}",
                        sev(v.severity, 8, color),
                        v.id,
                        v.location,
                        truncate(v.title, 80)
                    );
                    let _ = writeln!(out, "           {}", truncate(&m.message, 110));
                    let _ = writeln!(out, "           fix: {}", truncate(&m.remediation, 105));
                }
                FindingRef::License(l) => {
                    let _ = writeln!(
                        out,
                        "  {} {} {}  {} ({}): {}  [layer {}]",
                        sev(v.severity, 8, color),
                        l.package,
                        l.version,
                        l.license,
                        category_words(l.category),
                        l.reason,
                        l.layer.index
                    );
                }
            }
        }
    }
    let counts = Counts::of(report);
    let _ = write!(out, "\nSUMMARY");
    for (name, c) in &counts.rows {
        let total: usize = c.iter().sum();
        let _ = write!(out, "  {name}: {total}");
        if total > 0 {
            let parts: Vec<String> = crate::common::SEVERITIES
                .iter()
                .zip(c)
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| format!("{n} {}", s.as_str()))
                .collect();
            let _ = write!(out, " ({})", parts.join(", "));
        }
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
            "  suppressed: {} ({} by ignore rules, {} by VEX; listed in the JSON report)",
            report.suppressed.len(),
            report.suppressed.len() - vex,
            vex
        );
    }
    for g in &report.gates {
        let verdict = if g.passed {
            paint("PASS", "32", color)
        } else {
            paint("FAIL", "1;31", color)
        };
        let _ = writeln!(out, "  gate {:<18} {verdict}  {}", g.gate, g.reason);
    }
    if !report.diagnostics.is_empty() {
        out.push('\n');
        for d in &report.diagnostics {
            let level = match d.level {
                DiagnosticLevel::Warning => "warning",
                DiagnosticLevel::Error => "error",
            };
            let mut place = String::new();
            if let Some(l) = d.layer {
                let _ = write!(place, "layer {l} ");
            }
            if let Some(p) = &d.path {
                let _ = write!(place, "{p} ");
            }
            if let Some(a) = &d.analyzer {
                let _ = write!(place, "[{a}] ");
            }
            let _ = writeln!(out, "{level}: {place}{}", d.message);
        }
    }
    out
}

/// Vulnerabilities grouped by package, packages in the order of their most urgent finding.
fn vulnerability_groups(views: &[FindingView<'_>], color: bool, out: &mut String) {
    let mut groups: Vec<(&str, Vec<&VulnerabilityFinding>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for v in views {
        let FindingRef::Vulnerability(f) = v.finding else {
            continue;
        };
        let i = *index.entry(&v.location).or_insert_with(|| {
            groups.push((&v.location, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(f);
    }
    for (_, group) in groups {
        let first = group[0];
        let _ = writeln!(
            out,
            "  {} {} ({}, layer {})",
            first.package.name,
            first.installed_version,
            first.package.ecosystem,
            first.package.layer_index
        );
        // `--reachability`: one verdict per package, so one line per group.
        if let Some(r) = &first.reachability {
            let evidence = if r.chain.is_empty() {
                r.reason.clone()
            } else {
                r.chain.join(" → ")
            };
            let _ = writeln!(
                out,
                "    reachability: {} ({})",
                r.verdict.as_str(),
                truncate(&evidence, 110)
            );
        }
        for f in group {
            let fixed = if f.fixed_versions.is_empty() {
                format!("{:?}", f.status).to_lowercase()
            } else {
                format!("fixed in {}", f.fixed_versions.join(", "))
            };
            let _ = writeln!(
                out,
                "    {} {:<20} {:<28} {}",
                sev(f.severity, 9, color),
                f.id,
                truncate(&fixed, 28),
                truncate(&f.priority.reason, 70)
            );
        }
    }
}
