//! Reading SBOMs back in: CycloneDX (1.4–1.6) and SPDX 2.x JSON, bulwark's own or another
//! tool's (syft, trivy), into the same [`Package`] list an image scan produces, so matching
//! works the same on an SBOM file as on an image.

use bulwark_types::{
    Ecosystem, Evidence, LayerRef, OsFamily, OsRelease, Package, PackageSource, Purl,
};
use serde_json::Value;

/// What an SBOM says was installed.
#[derive(Debug, Clone, Default)]
pub struct ImportedSbom {
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    /// Components skipped, with why (no purl, an unknown purl type).
    pub skipped: Vec<String>,
    pub format: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document")]
    UnknownFormat,
}

/// Parses a CycloneDX or SPDX JSON document.
pub fn read_sbom(bytes: &[u8]) -> Result<ImportedSbom, SbomError> {
    let doc: Value = serde_json::from_slice(bytes)?;
    if doc.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        Ok(read_cyclonedx(&doc))
    } else if doc.get("spdxVersion").is_some() {
        Ok(read_spdx(&doc))
    } else {
        Err(SbomError::UnknownFormat)
    }
}

fn os_release(id: &str, version: Option<&str>, pretty: Option<&str>) -> OsRelease {
    let id = id.to_ascii_lowercase();
    OsRelease {
        family: OsFamily::from_os_release_id(&id),
        id,
        version_id: version.map(str::to_string),
        version_codename: None,
        pretty_name: pretty.map(str::to_string),
        source_path: "sbom".into(),
    }
}

/// The OS from a purl's `distro` qualifier (`debian-12`, `alpine-3.19.1`).
fn os_from_distro(distro: &str) -> Option<OsRelease> {
    let (id, version) = match distro.split_once('-') {
        Some((id, v)) => (id, Some(v)),
        None => (distro, None),
    };
    Some(os_release(id, version, None))
}

/// One package from its purl and whatever else the document says about it.
fn package_from_purl(
    purl: &Purl,
    licenses: Vec<String>,
    props: &dyn Fn(&str) -> Option<String>,
) -> Option<Package> {
    let ecosystem = Ecosystem::from_purl_type(&purl.ty)?;
    let mut version = purl.version.clone()?;
    let name = match (ecosystem, &purl.namespace) {
        (Ecosystem::Npm | Ecosystem::Go | Ecosystem::Composer, Some(ns)) => {
            format!("{ns}/{}", purl.name)
        }
        _ => purl.name.clone(),
    };
    if ecosystem == Ecosystem::Rpm {
        if let Some(epoch) = purl.qualifiers.get("epoch").filter(|e| e.as_str() != "0") {
            version = format!("{epoch}:{version}");
        }
    }
    let source = match (
        props("bulwark:package:source_name"),
        props("bulwark:package:source_version"),
    ) {
        (Some(name), Some(version)) => Some(PackageSource { name, version }),
        _ => purl.qualifiers.get("upstream").map(|u| {
            let u = u.trim_end_matches(".src.rpm");
            match u.split_once('@') {
                Some((n, v)) => PackageSource {
                    name: n.to_string(),
                    version: v.to_string(),
                },
                None if ecosystem == Ecosystem::Rpm => {
                    // `name-version-release` from the source rpm's file name.
                    let mut parts = u.rsplitn(3, '-');
                    let release = parts.next().unwrap_or("");
                    let ver = parts.next().unwrap_or("");
                    let n = parts.next().unwrap_or(u);
                    PackageSource {
                        name: n.to_string(),
                        version: format!("{ver}-{release}"),
                    }
                }
                None => PackageSource {
                    name: u.to_string(),
                    version: version.clone(),
                },
            }
        }),
    };
    // dpkg and apk name a binary package's source only when it differs: absent means itself.
    let source = source.or_else(|| {
        matches!(ecosystem, Ecosystem::Deb | Ecosystem::Apk).then(|| PackageSource {
            name: name.clone(),
            version: version.clone(),
        })
    });
    let layer = LayerRef {
        index: props("bulwark:layer:index")
            .or_else(|| props("syft:location:0:layerIndex"))
            .and_then(|i| i.parse().ok())
            .unwrap_or(0),
        diff_id: props("bulwark:layer:diff_id")
            .or_else(|| props("aquasecurity:trivy:LayerDiffID"))
            .and_then(|d| d.parse().ok()),
        created_by: props("bulwark:layer:created_by"),
    };
    Some(Package {
        ecosystem,
        name,
        version,
        arch: purl.qualifiers.get("arch").cloned(),
        source,
        licenses,
        purl: purl.clone(),
        layer,
        found_in: props("bulwark:location:path").into_iter().collect(),
        files: Vec::new(),
        dev: false,
        inferred: false,
        dependencies: Vec::new(),
        evidence: props("bulwark:package:evidence")
            .and_then(|e| Evidence::from_name(&e))
            .unwrap_or_default(),
    })
}

fn read_cyclonedx(doc: &Value) -> ImportedSbom {
    let mut out = ImportedSbom {
        format: "cyclonedx",
        ..Default::default()
    };
    let mut stack: Vec<&Value> = doc
        .get("components")
        .and_then(|c| c.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    while let Some(c) = stack.pop() {
        if let Some(nested) = c.get("components").and_then(|n| n.as_array()) {
            stack.extend(nested.iter());
        }
        if c.get("type").and_then(|t| t.as_str()) == Some("operating-system") {
            out.os = Some(os_release(
                c.get("name").and_then(|n| n.as_str()).unwrap_or(""),
                c.get("version").and_then(|v| v.as_str()),
                c.get("description").and_then(|d| d.as_str()),
            ));
            continue;
        }
        let Some(purl_text) = c.get("purl").and_then(|p| p.as_str()) else {
            if let Some(name) = c.get("name").and_then(|n| n.as_str()) {
                out.skipped.push(format!("{name}: no purl"));
            }
            continue;
        };
        let Ok(purl) = purl_text.parse::<Purl>() else {
            out.skipped.push(format!("{purl_text}: not a valid purl"));
            continue;
        };
        let properties: Vec<(String, String)> = c
            .get("properties")
            .and_then(|p| p.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((
                            p.get("name")?.as_str()?.to_string(),
                            p.get("value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let props = |key: &str| {
            properties
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let licenses = c
            .get("licenses")
            .and_then(|l| l.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|l| {
                        l.get("expression")
                            .or_else(|| {
                                l.get("license")
                                    .and_then(|x| x.get("id").or_else(|| x.get("name")))
                            })
                            .and_then(|v| v.as_str())
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if out.os.is_none() {
            if let Some(d) = purl.qualifiers.get("distro") {
                out.os = os_from_distro(d);
            }
        }
        match package_from_purl(&purl, licenses, &props) {
            Some(p) => out.packages.push(p),
            None => out
                .skipped
                .push(format!("{purl_text}: purl type not supported")),
        }
    }
    out.packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

fn read_spdx(doc: &Value) -> ImportedSbom {
    let mut out = ImportedSbom {
        format: "spdx",
        ..Default::default()
    };
    for p in doc
        .get("packages")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let purpose = p.get("primaryPackagePurpose").and_then(|v| v.as_str());
        if purpose == Some("OPERATING_SYSTEM") {
            out.os = Some(os_release(
                p.get("name").and_then(|n| n.as_str()).unwrap_or(""),
                p.get("versionInfo").and_then(|v| v.as_str()),
                None,
            ));
            continue;
        }
        let purl_text = p
            .get("externalRefs")
            .and_then(|r| r.as_array())
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("referenceType").and_then(|t| t.as_str()) == Some("purl"))
            })
            .and_then(|r| r.get("referenceLocator"))
            .and_then(|l| l.as_str());
        let Some(purl_text) = purl_text else {
            if purpose != Some("CONTAINER") {
                if let Some(name) = p.get("name").and_then(|n| n.as_str()) {
                    out.skipped.push(format!("{name}: no purl"));
                }
            }
            continue;
        };
        let Ok(purl) = purl_text.parse::<Purl>() else {
            out.skipped.push(format!("{purl_text}: not a valid purl"));
            continue;
        };
        let licenses = p
            .get("licenseDeclared")
            .and_then(|l| l.as_str())
            .filter(|l| *l != "NOASSERTION" && *l != "NONE")
            .map(|l| vec![l.to_string()])
            .unwrap_or_default();
        if out.os.is_none() {
            if let Some(d) = purl.qualifiers.get("distro") {
                out.os = os_from_distro(d);
            }
        }
        let comment = p.get("comment").and_then(|c| c.as_str()).unwrap_or("");
        // bulwark writes `layer N (sha256:…): step` in the comment.
        let layer_index = comment
            .strip_prefix("layer ")
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .map(str::to_string);
        let props = |key: &str| match key {
            "bulwark:layer:index" => layer_index.clone(),
            _ => None,
        };
        match package_from_purl(&purl, licenses, &props) {
            Some(pkg) => out.packages.push(pkg),
            None => out
                .skipped
                .push(format!("{purl_text}: purl type not supported")),
        }
    }
    out.packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}
