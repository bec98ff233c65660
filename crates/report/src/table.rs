//! The readable table: what a person sees on a terminal.

use std::fmt::Write;

use bulwark_analyze::DiagnosticLevel;
use bulwark_types::SecretLocation;

use crate::ScanReport;

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn render(report: &ScanReport) -> String {
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
    if !report.vulnerabilities.is_empty() {
        let _ = writeln!(out, "\nVULNERABILITIES ({})", report.vulnerabilities.len());
        // Grouped by package, packages in the order of their most urgent finding.
        let mut order: Vec<String> = Vec::new();
        for f in &report.vulnerabilities {
            let key = f.package.purl.to_string();
            if !order.contains(&key) {
                order.push(key);
            }
        }
        for key in order {
            let group: Vec<_> = report
                .vulnerabilities
                .iter()
                .filter(|f| f.package.purl.to_string() == key)
                .collect();
            let first = group[0];
            let _ = writeln!(
                out,
                "  {} {} ({}, layer {})",
                first.package.name,
                first.installed_version,
                first.package.ecosystem,
                first.package.layer_index
            );
            for f in group {
                let fixed = if f.fixed_versions.is_empty() {
                    format!("{:?}", f.status).to_lowercase()
                } else {
                    format!("fixed in {}", f.fixed_versions.join(", "))
                };
                let _ = writeln!(
                    out,
                    "    {:<9} {:<20} {:<28} {}",
                    f.severity.as_str().to_uppercase(),
                    f.id,
                    truncate(&fixed, 28),
                    truncate(&f.priority.reason, 70)
                );
            }
        }
    }
    if !report.secrets.is_empty() {
        let _ = writeln!(out, "\nSECRETS ({})", report.secrets.len());
        for s in &report.secrets {
            let place = match &s.location {
                SecretLocation::File { path } => format!("{path}:{}", s.hit.line),
                SecretLocation::Env { name } => format!("ENV {name}"),
                SecretLocation::Label { key } => format!("LABEL {key}"),
                SecretLocation::History { step } => format!("history step {step}"),
            };
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
                "  {:<8} {:<28} {}  {}  [{}] {}",
                s.hit.severity.as_str().to_uppercase(),
                s.hit.rule_id,
                place,
                s.hit.redacted,
                layer,
                s.hit.fingerprint
            );
        }
    }
    policy_sections(report, &mut out);
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

/// Licence findings, suppressed findings and gate verdicts, when policy produced any.
fn policy_sections(report: &ScanReport, out: &mut String) {
    if !report.license_findings.is_empty() {
        let _ = writeln!(out, "\nLICENSES ({})", report.license_findings.len());
        for l in &report.license_findings {
            let _ = writeln!(
                out,
                "  {:<8} {} {}  {}  {}",
                l.severity.as_str().to_uppercase(),
                l.package,
                l.version,
                truncate(&l.license, 60),
                l.reason
            );
        }
    }
    if !report.suppressed.is_empty() {
        let _ = writeln!(out, "\nSUPPRESSED ({})", report.suppressed.len());
        for s in &report.suppressed {
            let _ = writeln!(
                out,
                "  {} {} in {} [{}] {}",
                s.source,
                s.id,
                s.target,
                s.origin.as_deref().unwrap_or(""),
                truncate(&s.reason, 80)
            );
        }
    }
    if !report.gates.is_empty() {
        let _ = writeln!(out, "\nGATES");
        for g in &report.gates {
            let _ = writeln!(
                out,
                "  {:<4} {:<18} {}",
                if g.passed { "PASS" } else { "FAIL" },
                g.gate,
                g.reason
            );
        }
    }
}
