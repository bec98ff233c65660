//! SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/>), shaped for GitHub code
//! scanning.
//!
//! One run. `tool.driver.rules` has one rule per vulnerability id, secret rule
//! (`secret/<rule>`), misconfiguration check and licence (`license/<expression>`), each with
//! short and full descriptions, help as text and Markdown, a `helpUri`, tags and — for the
//! security kinds — `properties.security-severity` (the CVSS base score, else a stand-in for
//! the severity: critical 9.5, high 8, medium 5.5, low 2), which GitHub uses to rank alerts.
//!
//! Every result has a physical location, as GitHub requires: a Dockerfile or manifest finding
//! points at its file and region; a file inside the image at its image path (relative URI,
//! the leading `/` dropped); a package finding at the file the package was read from (its
//! database or metadata file), else at the image itself. The layer that brought it is a
//! logical location and a `layer` property. `partialFingerprints["bulwark/v1"]` is a hash of
//! what the finding is and where, so an alert survives re-scans. Rules are sorted by id;
//! results come vulnerabilities first (in priority order), then secrets, misconfigurations and
//! licences, each in the report's stable order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_analyze::DiagnosticLevel;
use bulwark_types::{LayerRef, Package, SecretLocation, Severity};
use serde_json::{json, Map, Value};

use crate::common::{
    category_words, misconfig_place, safe_url, secret_place, severity_score, stable_hash,
    vuln_help_url, vuln_score,
};
use crate::view::{findings, FindingRef};
use crate::ScanReport;

/// The `$schema` written into the log (the OASIS errata 01 schema).
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of bulwark's partial fingerprint.
pub const FINGERPRINT_KEY: &str = "bulwark/v1";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// Percent-encodes a path for a URI reference: unreserved characters and `/` stay.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A path inside the image as a relative URI (`usr/lib/os-release`).
fn image_uri(path: &str) -> String {
    let p = path.trim_start_matches('/');
    if p.is_empty() {
        ".".to_string()
    } else {
        encode_path(p)
    }
}

/// A file as the user named it: relative stays relative (`./` dropped), absolute becomes a
/// `file://` URI.
fn host_uri(path: &str) -> String {
    if path.starts_with('/') {
        format!("file://{}", encode_path(path))
    } else {
        let p = path.trim_start_matches("./");
        if p.is_empty() {
            ".".to_string()
        } else {
            encode_path(p)
        }
    }
}

/// The stand-in location of things that belong to the image as a whole (its config, a
/// package known only from an SBOM): the SBOM file or directory scanned, else the image name.
fn target_uri(report: &ScanReport) -> String {
    let reference = &report.image.reference;
    for scheme in ["sbom:", "dir:"] {
        if let Some(path) = reference.strip_prefix(scheme) {
            return host_uri(path);
        }
    }
    let name = report.image_name();
    let name = name.rsplit_once("://").map(|(_, n)| n).unwrap_or(&name);
    image_uri(name)
}

fn region(line: Option<usize>, column: Option<usize>, end_line: Option<usize>) -> Value {
    let mut r = Map::new();
    r.insert("startLine".into(), json!(line.unwrap_or(1).max(1)));
    if let (Some(_), Some(c)) = (line, column) {
        r.insert("startColumn".into(), json!(c.max(1)));
    }
    if let (Some(l), Some(e)) = (line, end_line) {
        if e >= l {
            r.insert("endLine".into(), json!(e));
        }
    }
    Value::Object(r)
}

fn location(uri: String, region: Value, logical: Vec<Value>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": region,
        }
    });
    if !logical.is_empty() {
        loc["logicalLocations"] = Value::Array(logical);
    }
    loc
}

fn layer_logical(layer: &LayerRef) -> Value {
    let mut l = json!({
        "name": format!("layer {}", layer.index),
        "kind": "namespace",
    });
    if let Some(d) = &layer.diff_id {
        l["fullyQualifiedName"] = json!(d.to_string());
    }
    l
}

fn layer_property(layer: &LayerRef) -> Value {
    let mut l = json!({"index": layer.index});
    if let Some(d) = &layer.diff_id {
        l["diffId"] = json!(d.to_string());
    }
    if let Some(c) = &layer.created_by {
        l["createdBy"] = json!(c);
    }
    l
}

fn score_text(score: f64) -> String {
    format!("{score:.1}")
}

/// The higher of two SARIF precisions (`low` < `medium` < `high` < `very-high`; bulwark's
/// secret confidence names are the first three).
fn more_precise(a: &'static str, b: &'static str) -> &'static str {
    const ORDER: [&str; 4] = ["low", "medium", "high", "very-high"];
    let rank = |p: &str| ORDER.iter().position(|o| *o == p).unwrap_or(0);
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// A rule in the making: what every result of it has in common.
struct RuleDraft {
    name: String,
    short: String,
    full: String,
    help_text: String,
    help_markdown: String,
    help_uri: Option<String>,
    /// The highest score of its results, `None` for non-security rules.
    security_severity: Option<f64>,
    severity: Severity,
    tags: BTreeSet<String>,
    precision: &'static str,
}

impl RuleDraft {
    fn into_json(self, id: &str) -> Value {
        let mut properties = json!({
            "tags": self.tags.into_iter().collect::<Vec<_>>(),
            "precision": self.precision,
        });
        if let Some(s) = self.security_severity {
            properties["security-severity"] = json!(score_text(s));
        }
        let mut rule = json!({
            "id": id,
            "name": self.name,
            "shortDescription": {"text": self.short},
            "fullDescription": {"text": self.full},
            "help": {"text": self.help_text, "markdown": self.help_markdown},
            "defaultConfiguration": {"level": level(self.severity)},
            "properties": properties,
        });
        if let Some(u) = self.help_uri {
            rule["helpUri"] = json!(u);
        }
        rule
    }
}

/// A rule name for UIs: the id's letters and digits in words (`CVE-2021-44228` →
/// `Cve202144228`), since SARIF names should be identifiers.
fn rule_name(prefix: &str, id: &str) -> String {
    let mut out = prefix.to_string();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
}

/// Markdown-safe text for help bodies: no raw HTML, no table breaks.
fn md(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

pub fn render(report: &ScanReport) -> Value {
    let packages: HashMap<String, &Package> = report
        .packages
        .iter()
        .map(|p| (p.purl.to_string(), p))
        .collect();
    let target = target_uri(report);
    let mut rules: BTreeMap<String, RuleDraft> = BTreeMap::new();
    let mut results: Vec<(String, Value)> = Vec::new();

    // Vulnerabilities: one rule per id, one result per affected package.
    let mut affected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in &report.vulnerabilities {
        affected.entry(&f.id).or_default().push(format!(
            "{} {} ({}): {}",
            f.package.name,
            f.installed_version,
            f.package.ecosystem,
            crate::common::fix_text(f)
        ));
    }
    // One rule per vulnerability id (one result per affected package), secret rule, check
    // and licence; results in the shared view's order.
    for v in findings(report) {
        match v.finding {
            FindingRef::Vulnerability(f) => {
                let score = vuln_score(f);
                let rule = rules.entry(f.id.clone()).or_insert_with(|| {
                    let title = f.title.clone().unwrap_or_else(|| f.id.clone());
                    let aliases: Vec<&str> = f.ids.iter().skip(1).map(String::as_str).collect();
                    let mut full = title.clone();
                    if !aliases.is_empty() {
                        full.push_str(&format!(" (also known as {})", aliases.join(", ")));
                    }
                    let packages = &affected[f.id.as_str()];
                    let mut text = format!("{}: {title}\n\n", f.id);
                    let mut markdown = format!("**{}**: {}\n\n", md(&f.id), md(&title));
                    if !aliases.is_empty() {
                        text.push_str(&format!("Aliases: {}\n", aliases.join(", ")));
                        markdown.push_str(&format!("Aliases: {}\n\n", md(&aliases.join(", "))));
                    }
                    markdown.push_str("| | |\n| --- | --- |\n");
                    markdown.push_str(&format!(
                        "| Severity | {} ({}) |\n",
                        f.severity,
                        md(f.severity_source.as_str())
                    ));
                    text.push_str(&format!(
                        "Severity: {} ({})\n",
                        f.severity, f.severity_source
                    ));
                    if let Some(c) = &f.cvss {
                        let score = c.base_score.map(score_text).unwrap_or_default();
                        text.push_str(&format!("CVSS {}: {} {}\n", c.version, score, c.vector));
                        markdown.push_str(&format!(
                            "| CVSS {} | {} `{}` |\n",
                            md(&c.version),
                            score,
                            md(&c.vector)
                        ));
                    }
                    if let Some(e) = &f.epss {
                        text.push_str(&format!(
                            "EPSS: {:.4} ({:.0}th percentile)\n",
                            e.score,
                            e.percentile * 100.0
                        ));
                        markdown.push_str(&format!(
                            "| EPSS | {:.4} ({:.0}th percentile) |\n",
                            e.score,
                            e.percentile * 100.0
                        ));
                    }
                    if let Some(k) = &f.kev {
                        let due = k.due_date.as_deref().unwrap_or("no due date");
                        text.push_str(&format!("In CISA KEV (due {due})\n"));
                        markdown.push_str(&format!("| CISA KEV | yes, due {} |\n", md(due)));
                    }
                    text.push_str("\nAffected packages:\n");
                    markdown.push_str("\nAffected packages:\n\n");
                    for p in packages {
                        text.push_str(&format!("- {p}\n"));
                        markdown.push_str(&format!("- {}\n", md(p)));
                    }
                    text.push_str(
                "\nUpgrade the package to a fixed version (rebuild the image on an updated base \
                 for OS packages), or record why it does not apply in bulwark.yaml or a VEX \
                 document.\n",
            );
                    markdown.push_str(
                "\n**Fix**: upgrade the package to a fixed version (rebuild the image on an \
                 updated base for OS packages), or record why it does not apply in \
                 `bulwark.yaml` or a VEX document.\n",
            );
                    let refs: Vec<&str> = f.references.iter().filter_map(|r| safe_url(r)).collect();
                    if !refs.is_empty() {
                        text.push_str("\nReferences:\n");
                        markdown.push_str("\n**References**\n\n");
                        for r in refs.iter().take(20) {
                            text.push_str(&format!("- {r}\n"));
                            markdown.push_str(&format!("- <{r}>\n"));
                        }
                    }
                    RuleDraft {
                        name: rule_name("Vulnerability", &f.id),
                        short: crate::common::truncate(&title, 200),
                        full,
                        help_text: text,
                        help_markdown: markdown,
                        help_uri: Some(vuln_help_url(f)),
                        security_severity: Some(score),
                        severity: f.severity,
                        tags: ["security", "vulnerability"]
                            .into_iter()
                            .map(String::from)
                            .collect(),
                        precision: "very-high",
                    }
                });
                rule.security_severity = Some(rule.security_severity.unwrap_or(0.0).max(score));
                rule.severity = rule.severity.max(f.severity);
                rule.tags.insert(f.package.ecosystem.to_string());
                if f.kev.is_some() {
                    rule.tags.insert("kev".into());
                }

                let pkg = packages.get(&f.package.purl.to_string()).copied();
                let uri = pkg
                    .and_then(|p| p.found_in.first())
                    .map(|p| image_uri(p))
                    .unwrap_or_else(|| target.clone());
                let purl = f.package.purl.to_string();
                let mut logical = vec![json!({
                    "name": f.package.name,
                    "fullyQualifiedName": purl,
                    "kind": "module",
                })];
                let layer = pkg.map(|p| p.layer.clone()).unwrap_or(LayerRef {
                    index: f.package.layer_index,
                    diff_id: None,
                    created_by: f.package.layer_created_by.clone(),
                });
                if !report.layers.is_empty() {
                    logical.push(layer_logical(&layer));
                }
                let mut message = format!(
                    "{} {} ({}) is affected by {} ({} severity): {}.",
                    f.package.name,
                    f.installed_version,
                    f.package.ecosystem,
                    f.id,
                    f.severity,
                    crate::common::fix_text(f)
                );
                if let Some(t) = &f.title {
                    message.push_str(&format!(" {t}"));
                }
                if !report.layers.is_empty() {
                    message.push_str(&format!(" Introduced in layer {}", layer.index));
                    if let Some(c) = &layer.created_by {
                        message
                            .push_str(&format!(" by `{}`", crate::common::truncate(c.trim(), 120)));
                    }
                    message.push('.');
                }
                let mut properties = json!({
                    "kind": "vulnerability",
                    "severity": f.severity.as_str(),
                    "purl": purl,
                    "installedVersion": f.installed_version,
                    "fixedVersions": f.fixed_versions,
                    "status": f.status.as_str(),
                    "aliases": f.ids,
                });
                if !report.layers.is_empty() {
                    properties["layer"] = layer_property(&layer);
                }
                if let Some(e) = &f.epss {
                    properties["epss"] = json!(e.score);
                }
                if f.kev.is_some() {
                    properties["kev"] = json!(true);
                }
                results.push((
                    f.id.clone(),
                    json!({
                        "level": level(f.severity),
                        "message": {"text": message},
                        "locations": [location(uri, region(None, None, None), logical)],
                        "partialFingerprints": {
                            FINGERPRINT_KEY: stable_hash(&["vulnerability", &f.id, &purl]),
                        },
                        "properties": properties,
                    }),
                ));
            }

            // Secrets: one rule per secret rule; the result at the file and line, never the value.
            FindingRef::Secret(s) => {
                let id = format!("secret/{}", s.hit.rule_id);
                let rule = rules.entry(id.clone()).or_insert_with(|| {
            let short = format!("Secret: {}", s.hit.title);
            RuleDraft {
                name: rule_name("Secret", &s.hit.rule_id),
                full: format!(
                    "A {} (rule {}) is stored in the image. Anyone who can pull the image can read it, even when a later layer deletes the file.",
                    s.hit.title, s.hit.rule_id
                ),
                help_text: format!(
                    "{short}\n\nRevoke and rotate the credential, then rebuild the image without it: pass it at build time as a build secret (docker build --secret) or at run time from a secret store. Deleting the file in a later layer does not remove it from the image. If it is a test value, ignore it in bulwark.yaml by its fingerprint.\n"
                ),
                help_markdown: format!(
                    "**{}**\n\n1. Revoke and rotate the credential.\n2. Rebuild the image without it: pass it as a build secret (`docker build --secret`) or at run time from a secret store. Deleting the file in a later layer does **not** remove it from the image.\n3. If it is a test value, ignore it in `bulwark.yaml` by its fingerprint.\n",
                    md(&short)
                ),
                short,
                help_uri: None,
                security_severity: Some(severity_score(s.hit.severity)),
                severity: s.hit.severity,
                tags: ["security", "secret"].into_iter().map(String::from).collect(),
                precision: s.hit.confidence.as_str(),
            }
        });
                // A rule is as precise as its most confident result (a failed checksum lowers one).
                rule.precision = more_precise(rule.precision, s.hit.confidence.as_str());
                rule.severity = rule.severity.max(s.hit.severity);
                rule.security_severity = Some(
                    rule.security_severity
                        .unwrap_or(0.0)
                        .max(severity_score(s.hit.severity)),
                );
                let (uri, reg, mut logical) = match &s.location {
                    SecretLocation::File { path } => (
                        image_uri(path),
                        region(Some(s.hit.line), Some(s.hit.column), None),
                        Vec::new(),
                    ),
                    other => {
                        let what = match other {
                            SecretLocation::Env { name } => format!("ENV {name}"),
                            SecretLocation::Label { key } => format!("LABEL {key}"),
                            SecretLocation::History { step } => format!("history step {step}"),
                            SecretLocation::File { .. } => unreachable!(),
                        };
                        (
                            target.clone(),
                            region(None, None, None),
                            vec![json!({"name": what, "kind": "variable"})],
                        )
                    }
                };
                if let Some(layer) = &s.layer {
                    logical.push(layer_logical(layer));
                }
                let mut message = format!(
                    "{} ({}) at {}: {}",
                    s.hit.title,
                    s.hit.severity,
                    secret_place(s),
                    s.hit.redacted
                );
                if let Some(r) = s.removed_in_layer {
                    message.push_str(&format!(
                        "; deleted in layer {r}, but still in the image's earlier layer"
                    ));
                }
                message.push('.');
                let mut properties = json!({
                    "kind": "secret",
                    "severity": s.hit.severity.as_str(),
                    "confidence": s.hit.confidence.as_str(),
                    "fingerprint": s.hit.fingerprint,
                    "redacted": s.hit.redacted,
                });
                if let Some(layer) = &s.layer {
                    properties["layer"] = layer_property(layer);
                }
                if let Some(r) = s.removed_in_layer {
                    properties["removedInLayer"] = json!(r);
                }
                results.push((
            id.clone(),
            json!({
                "level": level(s.hit.severity),
                "message": {"text": message},
                "locations": [location(uri, reg, logical)],
                "partialFingerprints": {
                    FINGERPRINT_KEY: stable_hash(&["secret", &s.hit.rule_id, &s.hit.fingerprint, &secret_place(s)]),
                },
                "properties": properties,
            }),
        ));
            }

            // Misconfigurations: one rule per check, results at the file, line and column.
            FindingRef::Misconfiguration(m) => {
                let rule = rules.entry(m.check_id.clone()).or_insert_with(|| {
                    let refs: Vec<&str> = m.references.iter().filter_map(|r| safe_url(r)).collect();
                    let compliance: Vec<String> = m
                        .compliance
                        .iter()
                        .map(|c| format!("{} {}", c.framework.as_str(), c.control))
                        .collect();
                    let mut text =
                        format!("{}: {}\n\nFix: {}\n", m.check_id, m.title, m.remediation);
                    let mut markdown = format!(
                        "**{}**: {}\n\n**Fix**: {}\n",
                        md(&m.check_id),
                        md(&m.title),
                        md(&m.remediation)
                    );
                    if !compliance.is_empty() {
                        text.push_str(&format!("\nCompliance: {}\n", compliance.join(", ")));
                        markdown.push_str(&format!(
                            "\n**Compliance**: {}\n",
                            md(&compliance.join(", "))
                        ));
                    }
                    if !refs.is_empty() {
                        text.push_str("\nReferences:\n");
                        markdown.push_str("\n**References**\n\n");
                        for r in &refs {
                            text.push_str(&format!("- {r}\n"));
                            markdown.push_str(&format!("- <{r}>\n"));
                        }
                    }
                    let mut tags: BTreeSet<String> = ["security", "misconfiguration"]
                        .into_iter()
                        .map(String::from)
                        .collect();
                    for c in &m.compliance {
                        tags.insert(format!("{}/{}", c.framework.as_str(), c.control));
                    }
                    RuleDraft {
                        name: rule_name("Misconfiguration", &m.check_id),
                        short: crate::common::truncate(&m.title, 200),
                        full: format!("{} {}", m.title, m.remediation),
                        help_text: text,
                        help_markdown: markdown,
                        help_uri: refs.first().map(|r| r.to_string()),
                        security_severity: Some(severity_score(m.severity)),
                        severity: m.severity,
                        tags,
                        precision: "very-high",
                    }
                });
                rule.severity = rule.severity.max(m.severity);
                rule.security_severity = Some(
                    rule.security_severity
                        .unwrap_or(0.0)
                        .max(severity_score(m.severity)),
                );
                let l = &m.location;
                let uri = if l.path == "image-config" {
                    target.clone()
                } else if l.layer.is_some() {
                    image_uri(&l.path)
                } else {
                    host_uri(&l.path)
                };
                let mut logical = Vec::new();
                if let Some(r) = &l.resource {
                    logical.push(json!({"name": r, "kind": "object"}));
                }
                if let Some(layer) = &l.layer {
                    logical.push(layer_logical(layer));
                }
                let mut properties = json!({
                    "kind": "misconfiguration",
                    "severity": m.severity.as_str(),
                    "path": l.path,
                });
                if let Some(layer) = &l.layer {
                    properties["layer"] = layer_property(layer);
                }
                if !m.compliance.is_empty() {
                    properties["compliance"] = json!(m.compliance);
                }
                results.push((
            m.check_id.clone(),
            json!({
                "level": level(m.severity),
                "message": {"text": format!("{} ({}): {} Fix: {}", m.title, misconfig_place(m), m.message, m.remediation)},
                "locations": [location(uri, region(l.line, l.column, l.end_line), logical)],
                "partialFingerprints": {
                    FINGERPRINT_KEY: stable_hash(&["misconfiguration", &m.check_id, &l.path, l.resource.as_deref().unwrap_or(""), &m.message]),
                },
                "properties": properties,
            }),
        ));
            }

            // Licences: one rule per licence the policy objects to.
            FindingRef::License(lf) => {
                let id = format!("license/{}", lf.license);
                let rule = rules.entry(id.clone()).or_insert_with(|| {
            let short = format!(
                "Licence {} ({})",
                lf.license,
                category_words(lf.category)
            );
            let spdx = (!lf.license.contains(' ') && !lf.license.starts_with("LicenseRef-")
                && lf.license != "unknown"
                && lf.license.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+')))
            .then(|| format!("https://spdx.org/licenses/{}.html", lf.license));
            RuleDraft {
                name: rule_name("License", &lf.license),
                full: format!(
                    "Packages under {} are classed {} by the licence policy.",
                    lf.license,
                    category_words(lf.category)
                ),
                help_text: format!(
                    "{short}\n\nReplace the package with one under an allowed licence, or, after legal review, allow the licence (or ignore the package with a reason) in bulwark.yaml.\n"
                ),
                help_markdown: format!(
                    "**{}**\n\nReplace the package with one under an allowed licence, or, after legal review, allow the licence (or ignore the package with a reason) in `bulwark.yaml`.\n",
                    md(&short)
                ),
                short,
                help_uri: spdx,
                security_severity: None,
                severity: lf.severity,
                tags: ["license".to_string(), category_words(lf.category).replace(' ', "-")]
                    .into_iter()
                    .collect(),
                precision: "high",
            }
        });
                rule.severity = rule.severity.max(lf.severity);
                let pkg = packages.get(&lf.purl).copied();
                let uri = pkg
                    .and_then(|p| p.found_in.first())
                    .map(|p| image_uri(p))
                    .unwrap_or_else(|| target.clone());
                let mut logical = vec![json!({
                    "name": lf.package,
                    "fullyQualifiedName": lf.purl,
                    "kind": "module",
                })];
                if !report.layers.is_empty() {
                    logical.push(layer_logical(&lf.layer));
                }
                let mut properties = json!({
                    "kind": "license",
                    "severity": lf.severity.as_str(),
                    "purl": lf.purl,
                    "license": lf.license,
                    "category": lf.category,
                });
                if !report.layers.is_empty() {
                    properties["layer"] = layer_property(&lf.layer);
                }
                results.push((
            id.clone(),
            json!({
                "level": level(lf.severity),
                "message": {"text": format!("{} {} is licensed {} ({}): {}.", lf.package, lf.version, lf.license, category_words(lf.category), lf.reason)},
                "locations": [location(uri, region(None, None, None), logical)],
                "partialFingerprints": {
                    FINGERPRINT_KEY: stable_hash(&["license", &lf.license, &lf.purl]),
                },
                "properties": properties,
            }),
        ));
            }
        }
    }

    let index: HashMap<String, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let results: Vec<Value> = results
        .into_iter()
        .map(|(rule_id, mut r)| {
            let obj = r.as_object_mut().expect("results are objects");
            let mut ordered = Map::new();
            ordered.insert("ruleId".into(), json!(rule_id));
            ordered.insert("ruleIndex".into(), json!(index[&rule_id]));
            ordered.append(obj);
            Value::Object(ordered)
        })
        .collect();
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(id, draft)| draft.into_json(&id))
        .collect();

    let notifications: Vec<Value> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error)
        .map(|d| {
            let mut text = String::new();
            if let Some(l) = d.layer {
                text.push_str(&format!("layer {l}: "));
            }
            if let Some(p) = &d.path {
                text.push_str(&format!("{p}: "));
            }
            text.push_str(&d.message);
            json!({"level": "error", "message": {"text": text}})
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": !report.has_errors(),
        "endTimeUtc": report.created,
    });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    let mut image = json!({"reference": report.image.reference, "name": report.image_name()});
    if let Some(d) = &report.image.manifest_digest {
        image["manifestDigest"] = json!(d.to_string());
    }
    if let Some(d) = &report.image.config_digest {
        image["configDigest"] = json!(d.to_string());
    }
    if let Some(p) = &report.image.platform {
        image["platform"] = json!(p);
    }
    let mut run_props = json!({"image": image});
    if !report.gates.is_empty() {
        run_props["gates"] = json!(report.gates);
    }
    if !report.suppressed.is_empty() {
        run_props["suppressed"] = json!(crate::common::sorted_suppressed(report));
    }

    let mut driver = json!({
        "name": report.tool.name,
        "version": report.tool.version,
        "semanticVersion": report.tool.version,
        "rules": rules,
    });
    // The project's home (the workspace `repository`), where users learn about the tool.
    if let Some(uri) = safe_url(env!("CARGO_PKG_REPOSITORY")) {
        driver["informationUri"] = json!(uri);
    }
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "results": results,
            "properties": run_props,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(image_uri("/usr/lib/my file.txt"), "usr/lib/my%20file.txt");
        assert_eq!(host_uri("./deploy/Dockerfile"), "deploy/Dockerfile");
        assert_eq!(host_uri("/abs/Dockerfile"), "file:///abs/Dockerfile");
        assert_eq!(image_uri("python:3.12"), "python%3A3.12");
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(
            rule_name("Vulnerability", "CVE-2021-44228"),
            "VulnerabilityCve202144228"
        );
    }
}
