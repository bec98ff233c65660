//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).
//!
//! One package for the image (purpose `CONTAINER`) that `CONTAINS` one package per inventory
//! entry, each with its purl as an external reference; a project found in the image (its root
//! or a workspace member, purpose `APPLICATION`) `DEPENDS_ON` what it declares and a root
//! `CONTAINS` its members. Licences go to `licenseDeclared`;
//! every `LicenseRef-` used is defined in `hasExtractedLicensingInfos`, as the spec requires.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::ScanReport;

/// SPDX ids allow letters, digits, `.` and `-` only.
fn spdx_id(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

pub fn render(report: &ScanReport) -> Value {
    let uuid = report.content_uuid();
    let mut packages = Vec::new();
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    let mut license_refs = BTreeSet::new();

    let mut image = json!({
        "name": report.image_name(),
        "SPDXID": "SPDXRef-Image",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
    });
    if let Some(d) = &report.image.config_digest {
        image["versionInfo"] = json!(d.to_string());
        image["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": d.hex()}]);
    }
    packages.push(image);

    if let Some(os) = &report.os {
        let mut os_pkg = json!({
            "name": os.id,
            "SPDXID": "SPDXRef-OperatingSystem",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING_SYSTEM",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        });
        if let Some(v) = &os.version_id {
            os_pkg["versionInfo"] = json!(v);
        }
        packages.push(os_pkg);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-OperatingSystem",
        }));
    }

    let mut package_ids: Vec<String> = Vec::with_capacity(report.packages.len());
    for (i, pkg) in report.packages.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}-{i}",
            pkg.ecosystem.purl_type(),
            spdx_id(&pkg.name)
        );
        let licenses: Vec<String> = pkg.licenses.iter().map(|l| valid_expression(l)).collect();
        let declared = if licenses.is_empty() {
            "NOASSERTION".to_string()
        } else {
            for expr in &licenses {
                for word in expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                    if word.starts_with("LicenseRef-") {
                        license_refs.insert(word.to_string());
                    }
                }
            }
            if licenses.len() == 1 {
                licenses[0].clone()
            } else {
                licenses
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
            }
        };
        let mut comment = format!("layer {}", pkg.layer.index);
        if let Some(d) = &pkg.layer.diff_id {
            comment.push_str(&format!(" ({d})"));
        }
        if let Some(c) = &pkg.layer.created_by {
            comment.push_str(&format!(": {c}"));
        }
        let purpose = if pkg.role.is_dependency() {
            "LIBRARY"
        } else {
            "APPLICATION"
        };
        let mut entry = json!({
            "name": pkg.name,
            "SPDXID": id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": purpose,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared,
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": pkg.purl.to_string(),
            }],
            "comment": comment,
        });
        if let Some(src) = &pkg.source {
            entry["sourceInfo"] = json!(format!(
                "built from source package {} {}; found in {}",
                src.name,
                src.version,
                pkg.found_in.join(", ")
            ));
        } else {
            entry["sourceInfo"] = json!(format!("found in {}", pkg.found_in.join(", ")));
        }
        // An empty version is an unknown one: `versionInfo` is optional in SPDX 2.3.
        if !pkg.version.is_empty() {
            entry["versionInfo"] = json!(pkg.version);
        }
        package_ids.push(id.clone());
        packages.push(entry);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }

    for (project, depends, members) in crate::common::project_relationships(&report.packages) {
        for (targets, kind) in [(depends, "DEPENDS_ON"), (members, "CONTAINS")] {
            for j in targets {
                relationships.push(json!({
                    "spdxElementId": package_ids[project],
                    "relationshipType": kind,
                    "relatedSpdxElement": package_ids[j],
                }));
            }
        }
    }

    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": report.image_name(),
        "documentNamespace": format!("https://spdx.org/spdxdocs/bulwark/{}-{uuid}", spdx_id(&report.image_name())),
        "creationInfo": {
            "created": report.created,
            "creators": [format!("Tool: {}-{}", report.tool.name, report.tool.version)],
        },
        "documentDescribes": ["SPDXRef-Image"],
        "packages": packages,
        "relationships": relationships,
    });
    if !license_refs.is_empty() {
        doc["hasExtractedLicensingInfos"] = Value::Array(
            license_refs
                .iter()
                .map(|r| {
                    json!({
                        "licenseId": r,
                        "name": r.trim_start_matches("LicenseRef-"),
                        "extractedText": format!("The package declares the licence {:?}, which has no SPDX identifier.", r.trim_start_matches("LicenseRef-")),
                    })
                })
                .collect(),
        );
    }
    doc
}

/// The expression when it is valid SPDX, else the whole text as one `LicenseRef-`: a
/// package's own free-text licence must not make the document invalid.
fn valid_expression(expr: &str) -> String {
    if spdx::Expression::parse(expr).is_ok() {
        return expr.to_string();
    }
    let safe: String = expr
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{}", safe.trim_matches('-'))
}
