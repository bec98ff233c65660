//! Triage decisions as VEX documents (OpenVEX 0.2.0, CycloneDX 1.6 VEX) that `bulwark image
//! --vex` reads. Each statement names the package by purl, so it applies to every image of
//! the asset that holds that package.

use bulwark_store::{TriageState, VexStatement};
use serde_json::{json, Value};

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// Dependency-Track's justification as OpenVEX names it.
fn openvex_justification(dt: Option<&str>) -> &'static str {
    match dt {
        Some("CODE_NOT_REACHABLE") => "vulnerable_code_not_in_execute_path",
        Some("REQUIRES_CONFIGURATION" | "REQUIRES_DEPENDENCY" | "REQUIRES_ENVIRONMENT") => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        Some(
            "PROTECTED_BY_COMPILER"
            | "PROTECTED_AT_RUNTIME"
            | "PROTECTED_AT_PERIMETER"
            | "PROTECTED_BY_MITIGATING_CONTROL",
        ) => "inline_mitigations_already_exist",
        _ => "vulnerable_code_not_present",
    }
}

/// An OpenVEX 0.2.0 document of `statements` (NOT_SET decisions are not statements).
pub fn openvex(asset: &str, statements: &[VexStatement]) -> Value {
    let latest = statements.iter().map(|s| s.updated_at).max().unwrap_or(0);
    let items: Vec<Value> = statements
        .iter()
        .filter_map(|s| {
            let status = match s.state {
                TriageState::NotAffected | TriageState::FalsePositive => "not_affected",
                TriageState::Resolved => "fixed",
                TriageState::Exploitable => "affected",
                TriageState::InTriage => "under_investigation",
                TriageState::NotSet => return None,
            };
            let mut item = json!({
                "vulnerability": {"name": s.vuln_id},
                "products": [{"@id": s.purl}],
                "status": status,
                "timestamp": rfc3339(s.updated_at),
            });
            match s.state {
                TriageState::NotAffected => {
                    item["justification"] =
                        json!(openvex_justification(s.justification.as_deref()));
                    if let Some(c) = &s.comment {
                        item["impact_statement"] = json!(c);
                    }
                }
                TriageState::FalsePositive => {
                    item["justification"] = json!("vulnerable_code_not_present");
                    item["impact_statement"] =
                        json!(s.comment.clone().unwrap_or_else(|| "false positive".into()));
                }
                TriageState::Exploitable => {
                    item["action_statement"] = json!(s
                        .comment
                        .clone()
                        .or_else(|| s.response.clone())
                        .unwrap_or_else(|| "see the triage in bulwark server".into()));
                }
                _ => {}
            }
            Some(item)
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:bulwark:vex:{}", uuid::Uuid::new_v4()),
        "author": "bulwark server",
        "timestamp": rfc3339(latest),
        "version": 1,
        "tooling": concat!("bulwark/", env!("CARGO_PKG_VERSION")),
        "statements": items,
        "metadata": {"asset": asset},
    })
}

/// A CycloneDX 1.6 VEX document of `statements`.
pub fn cyclonedx(asset: &str, statements: &[VexStatement]) -> Value {
    let mut purls: Vec<&str> = statements.iter().map(|s| s.purl.as_str()).collect();
    purls.sort_unstable();
    purls.dedup();
    let components: Vec<Value> = purls
        .iter()
        .map(|p| json!({"type": "library", "bom-ref": p, "purl": p, "name": p}))
        .collect();
    let vulnerabilities: Vec<Value> = statements
        .iter()
        .filter(|s| s.state != TriageState::NotSet)
        .map(|s| {
            let mut analysis = json!({
                "state": s.state.as_str().to_ascii_lowercase(),
                "lastUpdated": rfc3339(s.updated_at),
            });
            if let Some(j) = s.justification.as_deref().filter(|j| *j != "NOT_SET") {
                analysis["justification"] = json!(j.to_ascii_lowercase());
            }
            if let Some(r) = s.response.as_deref().filter(|r| *r != "NOT_SET") {
                analysis["response"] = json!([r.to_ascii_lowercase()]);
            }
            if let Some(c) = &s.comment {
                analysis["detail"] = json!(c);
            }
            json!({
                "id": s.vuln_id,
                "analysis": analysis,
                "affects": [{"ref": s.purl}],
            })
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(statements.iter().map(|s| s.updated_at).max().unwrap_or(0)),
            "component": {"type": "container", "name": asset, "bom-ref": asset},
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}
