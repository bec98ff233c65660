//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The image is the `metadata.component` (type `container`), the OS an `operating-system`
//! component, and each package a `library` with its purl, licences, and `bulwark:*`
//! properties for the introducing layer and where the package was found.

use std::collections::BTreeSet;

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

pub fn render(report: &ScanReport) -> Value {
    let mut components = Vec::new();
    let mut refs = BTreeSet::new();
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
        for path in &pkg.found_in {
            properties.push(prop("bulwark:location:path", path.clone()));
        }
        let mut component = json!({
            "type": "library",
            "bom-ref": bom_ref,
            "name": pkg.name,
            "version": pkg.version,
            "purl": purl,
            "properties": properties,
        });
        if let Some(l) = licenses(pkg) {
            component["licenses"] = l;
        }
        components.push(component);
        image_children.push(json!(bom_ref));
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

    json!({
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
        "dependencies": [{"ref": "image", "dependsOn": image_children}],
    })
}
