//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The image is the `metadata.component` (type `container`), the OS an `operating-system`
//! component, and each package a `library` with its purl, licences, and `bulwark:*`
//! properties for the introducing layer and where the package was found. A project found in
//! the image (its root or a workspace member, `bulwark:package:role`) is an `application`
//! with a `dependencies` entry that `dependsOn` what it declares and, for a root, its
//! members (docs/architecture.md, "Projects, roots and workspace members"). An unknown
//! version (empty) is left out.
//!
//! Known vulnerabilities go in `vulnerabilities`: one entry per vulnerability id, with its
//! source, ratings (CVSS vector, score, severity and method, or the source's own rating),
//! aliases as `references`, advisory links, the installed version as affected and fixed
//! versions as unaffected under `affects[].versions`, each `affects[].ref` naming the
//! component's `bom-ref`. Findings suppressed by VEX or an ignore rule are kept with an
//! `analysis` (state, justification, detail) so the BOM can serve as a VEX.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_types::Package;
use serde_json::{json, Value};

use crate::ScanReport;

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

/// CycloneDX takes either a list of single licences or one SPDX expression; several
/// declarations that include an expression are joined into one with AND.
pub(crate) fn licenses(pkg: &Package) -> Option<Value> {
    if pkg.licenses.is_empty() {
        return None;
    }
    let compound = pkg.licenses.iter().any(|l| l.contains(' '));
    if compound {
        let expr = if pkg.licenses.len() == 1 {
            pkg.licenses[0].clone()
        } else {
            pkg.licenses
                .iter()
                .map(|l| {
                    if l.contains(' ') {
                        format!("({l})")
                    } else {
                        l.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        return Some(json!([{ "expression": expr }]));
    }
    Some(Value::Array(
        pkg.licenses
            .iter()
            .map(|l| {
                if l.starts_with("LicenseRef-") {
                    json!({"license": {"name": l}})
                } else {
                    json!({"license": {"id": l}})
                }
            })
            .collect(),
    ))
}

/// Where an id is published: NVD for CVEs, GitHub for GHSAs, OSV for the rest.
fn vuln_source(id: &str) -> Value {
    let url_id = crate::common::advisory_url(id);
    if id.starts_with("CVE-") {
        json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{}", url_id.rsplit('/').next().unwrap_or(id))})
    } else if id.starts_with("GHSA-") {
        json!({"name": "GitHub", "url": format!("https://github.com/advisories/{}", url_id.rsplit('/').next().unwrap_or(id))})
    } else {
        json!({"name": "OSV", "url": url_id})
    }
}

fn cdx_severity(s: bulwark_types::Severity) -> &'static str {
    match s {
        bulwark_types::Severity::Unknown => "unknown",
        other => other.as_str(),
    }
}

/// CycloneDX's analysis state and justification for a suppression: VEX statuses map to
/// their CycloneDX names (OpenVEX/CSAF `not_affected` → `not_affected`, `fixed` →
/// `resolved`, `affected` → `exploitable`, `under_investigation` → `in_triage`), as do the
/// OpenVEX justifications; an ignore rule has no state, only its reason as detail.
fn analysis(s: &crate::Suppression) -> Value {
    let mut a = serde_json::Map::new();
    let statement = s.statement.as_ref();
    let field = |k: &str| {
        statement
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(|x| x.to_ascii_lowercase().replace('-', "_"))
    };
    if s.source == crate::SuppressionSource::Vex {
        let state = match field("status").as_deref() {
            Some("not_affected" | "known_not_affected") => Some("not_affected"),
            Some("fixed" | "resolved") => Some("resolved"),
            Some("affected" | "known_affected" | "exploitable") => Some("exploitable"),
            Some("under_investigation" | "in_triage") => Some("in_triage"),
            Some("false_positive") => Some("false_positive"),
            _ => None,
        };
        if let Some(state) = state {
            a.insert("state".into(), json!(state));
        }
        const CDX_JUSTIFICATIONS: [&str; 9] = [
            "code_not_present",
            "code_not_reachable",
            "requires_configuration",
            "requires_dependency",
            "requires_environment",
            "protected_by_compiler",
            "protected_at_runtime",
            "protected_at_perimeter",
            "protected_by_mitigating_control",
        ];
        let justification = match field("justification").as_deref() {
            Some("component_not_present" | "vulnerable_code_not_present") => {
                Some("code_not_present".to_string())
            }
            Some("vulnerable_code_not_in_execute_path") => Some("code_not_reachable".to_string()),
            Some(
                "vulnerable_code_cannot_be_controlled_by_adversary"
                | "inline_mitigations_already_exist",
            ) => Some("protected_by_mitigating_control".to_string()),
            Some(j) if CDX_JUSTIFICATIONS.contains(&j) => Some(j.to_string()),
            _ => None,
        };
        if let Some(j) = justification {
            a.insert("justification".into(), json!(j));
        }
    }
    a.insert(
        "detail".into(),
        json!(format!("suppressed by {}: {}", s.source, s.reason)),
    );
    Value::Object(a)
}

/// The `vulnerabilities` array: one entry per id (its affected components listed), then
/// the suppressed ones with their analysis.
fn vulnerabilities(report: &ScanReport, purl_refs: &BTreeMap<String, Vec<String>>) -> Vec<Value> {
    let mut by_id: BTreeMap<&str, Vec<&bulwark_types::VulnerabilityFinding>> = BTreeMap::new();
    for f in &report.vulnerabilities {
        by_id.entry(&f.id).or_default().push(f);
    }
    let mut out = Vec::new();
    for (id, findings) in &by_id {
        let first = findings[0];
        let mut v = json!({
            "bom-ref": format!("vuln:{id}"),
            "id": id,
            "source": vuln_source(id),
        });
        // Ratings: each distinct CVSS vector, then each source rating without one.
        let mut ratings = Vec::new();
        let mut seen = BTreeSet::new();
        for f in findings {
            if let Some(c) = &f.cvss {
                if !seen.insert(c.vector.clone()) {
                    continue;
                }
                let method = match c.version.as_str() {
                    "3.1" => "CVSSv31",
                    "3.0" => "CVSSv3",
                    "4.0" => "CVSSv4",
                    "2.0" => "CVSSv2",
                    _ => "other",
                };
                let mut r = json!({
                    "source": vuln_source(id),
                    "severity": cdx_severity(f.severity),
                    "method": method,
                    "vector": c.vector,
                });
                if let Some(score) = c.base_score {
                    r["score"] = json!(score);
                }
                ratings.push(r);
            } else if seen.insert(format!("{}:{}", f.severity_source, f.severity)) {
                ratings.push(json!({
                    "source": {"name": f.severity_source},
                    "severity": cdx_severity(f.severity),
                    "method": "other",
                }));
            }
        }
        if !ratings.is_empty() {
            v["ratings"] = json!(ratings);
        }
        let aliases: Vec<Value> = first
            .ids
            .iter()
            .filter(|a| a.as_str() != *id)
            .map(|a| json!({"id": a, "source": vuln_source(a)}))
            .collect();
        if !aliases.is_empty() {
            v["references"] = json!(aliases);
        }
        if let Some(t) = &first.title {
            v["description"] = json!(t);
        }
        let advisories: Vec<Value> = first
            .references
            .iter()
            .filter_map(|r| crate::common::safe_url(r))
            .map(|u| json!({"url": u}))
            .collect();
        if !advisories.is_empty() {
            v["advisories"] = json!(advisories);
        }
        let fixes: Vec<String> = findings
            .iter()
            .filter(|f| !f.fixed_versions.is_empty())
            .map(|f| format!("{} {}", f.package.name, f.fixed_versions.join(" or ")))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !fixes.is_empty() {
            v["recommendation"] = json!(format!("Upgrade {}.", fixes.join("; ")));
        }
        let mut affects = Vec::new();
        let mut affected_refs = BTreeSet::new();
        for f in findings {
            let purl = f.package.purl.to_string();
            for r in purl_refs.get(&purl).into_iter().flatten() {
                if !affected_refs.insert(r.clone()) {
                    continue;
                }
                let mut versions =
                    vec![json!({"version": f.installed_version, "status": "affected"})];
                for fixed in &f.fixed_versions {
                    versions.push(json!({"version": fixed, "status": "unaffected"}));
                }
                affects.push(json!({"ref": r, "versions": versions}));
            }
        }
        if !affects.is_empty() {
            v["affects"] = json!(affects);
        }
        let mut props = Vec::new();
        if let Some(e) = &first.epss {
            props.push(prop("bulwark:epss:score", format!("{}", e.score)));
            props.push(prop("bulwark:epss:percentile", format!("{}", e.percentile)));
        }
        if let Some(k) = &first.kev {
            props.push(prop(
                "bulwark:kev:due_date",
                k.due_date.clone().unwrap_or_default(),
            ));
        }
        let statuses: BTreeSet<&str> = findings.iter().map(|f| f.status.as_str()).collect();
        for s in statuses {
            props.push(prop("bulwark:status", s));
        }
        props.push(prop("bulwark:priority", first.priority.reason.clone()));
        v["properties"] = json!(props);
        out.push(v);
    }
    for s in crate::common::sorted_suppressed(report) {
        if s.kind != crate::FindingKind::Vulnerability {
            continue;
        }
        let mut v = json!({
            "bom-ref": format!("suppressed:{}:{}", s.id, crate::common::stable_hash(&[&s.target, s.source.as_str()])),
            "id": s.id,
            "source": vuln_source(&s.id),
            "analysis": analysis(s),
        });
        if let Some(refs) = purl_refs.get(&s.target) {
            v["affects"] = json!(refs.iter().map(|r| json!({"ref": r})).collect::<Vec<_>>());
        } else {
            v["properties"] = json!([prop("bulwark:target", s.target.clone())]);
        }
        out.push(v);
    }
    out
}

pub fn render(report: &ScanReport) -> Value {
    let mut components = Vec::new();
    let mut refs = BTreeSet::new();
    let mut purl_refs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut image_children = Vec::new();
    if let Some(os) = &report.os {
        let mut os_component = json!({
            "type": "operating-system",
            "bom-ref": "os",
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            os_component["version"] = json!(v);
        }
        if let Some(p) = &os.pretty_name {
            os_component["description"] = json!(p);
        }
        components.push(os_component);
        image_children.push(json!("os"));
    }
    let mut package_refs = Vec::with_capacity(report.packages.len());
    for pkg in &report.packages {
        let purl = pkg.purl.to_string();
        let mut bom_ref = purl.clone();
        let mut n = 1;
        while !refs.insert(bom_ref.clone()) {
            n += 1;
            bom_ref = format!("{purl}#{n}");
        }
        let mut properties = vec![
            prop("bulwark:package:type", pkg.ecosystem.purl_type()),
            prop("bulwark:layer:index", pkg.layer.index.to_string()),
        ];
        if let Some(d) = &pkg.layer.diff_id {
            properties.push(prop("bulwark:layer:diff_id", d.to_string()));
        }
        if let Some(c) = &pkg.layer.created_by {
            properties.push(prop("bulwark:layer:created_by", c.clone()));
        }
        if let Some(src) = &pkg.source {
            properties.push(prop("bulwark:package:source_name", src.name.clone()));
            properties.push(prop("bulwark:package:source_version", src.version.clone()));
        }
        if let Some(arch) = &pkg.arch {
            properties.push(prop("bulwark:package:arch", arch.clone()));
        }
        if !pkg.evidence.is_installed() {
            // Only a manifest or lockfile names it: lower confidence than an installed package.
            properties.push(prop("bulwark:package:evidence", pkg.evidence.as_str()));
        }
        if !pkg.role.is_dependency() {
            properties.push(prop("bulwark:package:role", pkg.role.as_str()));
        }
        for path in &pkg.found_in {
            properties.push(prop("bulwark:location:path", path.clone()));
        }
        // A project found in the image (its root or a workspace member) is an application;
        // the image stays `metadata.component`, the one thing scanned.
        let kind = if pkg.role.is_dependency() {
            "library"
        } else {
            "application"
        };
        let mut component = json!({
            "type": kind,
            "bom-ref": bom_ref,
            "name": pkg.name,
            "purl": purl,
            "properties": properties,
        });
        // An empty version is an unknown one: left out rather than written as "".
        if !pkg.version.is_empty() {
            component["version"] = json!(pkg.version);
        }
        if let Some(l) = licenses(pkg) {
            component["licenses"] = l;
        }
        components.push(component);
        purl_refs
            .entry(purl.clone())
            .or_default()
            .push(bom_ref.clone());
        image_children.push(json!(bom_ref));
        package_refs.push(bom_ref);
    }
    let mut dependencies = vec![json!({"ref": "image", "dependsOn": image_children})];
    for (project, depends, members) in crate::common::project_relationships(&report.packages) {
        let depends_on: Vec<&String> = depends
            .iter()
            .chain(&members)
            .map(|&j| &package_refs[j])
            .collect();
        dependencies.push(json!({"ref": package_refs[project], "dependsOn": depends_on}));
    }

    let mut image_component = json!({
        "type": "container",
        "bom-ref": "image",
        "name": report.image_name(),
    });
    if let Some(d) = &report.image.config_digest {
        image_component["version"] = json!(d.to_string());
    }
    let mut image_props = vec![prop(
        "bulwark:image:reference",
        report.image.reference.clone(),
    )];
    if let Some(d) = &report.image.manifest_digest {
        image_props.push(prop("bulwark:image:manifest_digest", d.to_string()));
    }
    if let Some(p) = &report.image.platform {
        image_props.push(prop("bulwark:image:platform", p.clone()));
    }
    for layer in &report.layers {
        if let Some(d) = &layer.diff_id {
            image_props.push(prop(
                "bulwark:image:layer_diff_id",
                format!("{}:{d}", layer.index),
            ));
        }
    }
    image_component["properties"] = json!(image_props);

    let vulnerabilities = vulnerabilities(report, &purl_refs);
    let mut bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", report.content_uuid()),
        "version": 1,
        "metadata": {
            "timestamp": report.created,
            "tools": {
                "components": [{
                    "type": "application",
                    "name": report.tool.name,
                    "version": report.tool.version,
                }]
            },
            "component": image_component,
        },
        "components": components,
        "dependencies": dependencies,
    });
    if !vulnerabilities.is_empty() {
        bom["vulnerabilities"] = json!(vulnerabilities);
    }
    bom
}
