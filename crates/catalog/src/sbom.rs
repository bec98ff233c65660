//! SBOMs shipped inside an image: SPDX JSON (`*.spdx.json`, Chainguard/Wolfi's
//! `/var/lib/db/sbom/*.spdx.json`, Bitnami's `/opt/bitnami/<app>/.spdx-<app>.spdx`), CycloneDX
//! JSON (`*.cdx.json`, `bom.json` with `"bomFormat": "CycloneDX"`) and anything under
//! `/usr/share/sbom/`. Each package with a purl of an ecosystem bulwark knows becomes a record
//! found in the SBOM file; packages without a purl, or of other purl types, are counted in a
//! note, never guessed.
//!
//! What an SBOM says is a claim about the image, not the package's own metadata: its records
//! are [`Evidence::Declared`](bulwark_types::Evidence::Declared), so the assembly merges each
//! into the package a native analyzer found (same ecosystem, name and version; for OS
//! packages too) instead of counting it twice. Bitnami's files are the installation's own
//! record of `/opt/bitnami` (no other analyzer reads it) and stay installed.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource, Purl};
use serde_json::Value;

pub struct SbomAnalyzer;

/// The largest SBOM read; a lockfile's limit (an SBOM of a large image is a few MB).
const MAX_SBOM_BYTES: u64 = 64 << 20;

fn is_bitnami(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let (file, app) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    path.starts_with("opt/bitnami/")
        && file
            .strip_prefix(".spdx-")
            .and_then(|f| f.strip_suffix(".spdx"))
            .is_some_and(|a| a == app)
}

/// SBOMs inside installed dependencies describe their authors' builds, not this image.
fn in_dependency(path: &str) -> bool {
    ["node_modules/", "site-packages/", "dist-packages/"]
        .iter()
        .any(|d| path.contains(d))
}

fn wanted(path: &str, name: &str) -> bool {
    if in_dependency(path) {
        return false;
    }
    name.ends_with(".spdx.json")
        || name.ends_with(".cdx.json")
        || name == "bom.json"
        || (path.starts_with("usr/share/sbom/") && name.ends_with(".json"))
        || is_bitnami(path)
}

impl Analyzer for SbomAnalyzer {
    fn id(&self) -> &'static str {
        "sbom"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && wanted(file.path, file.file_name()) {
            Interest::Read {
                max_bytes: MAX_SBOM_BYTES,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let doc: Value = match serde_json::from_slice(content) {
            Ok(v) => v,
            Err(e) => {
                if file.file_name() == "bom.json" {
                    // Many tools write a `bom.json` that is no SBOM.
                    return;
                }
                out.problem(format!("SBOM is not valid JSON ({e}); nothing listed"));
                return;
            }
        };
        let mut purls = Vec::new();
        let mut without_purl = 0usize;
        if doc.get("spdxVersion").is_some() {
            for package in doc
                .get("packages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let purl = package
                    .get("externalRefs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                    .and_then(|r| r.get("referenceLocator")?.as_str());
                match purl {
                    Some(p) => purls.push(p.to_string()),
                    None => without_purl += 1,
                }
            }
        } else if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            let mut stack: Vec<&Value> = doc
                .get("components")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            while let Some(component) = stack.pop() {
                match component.get("purl").and_then(Value::as_str) {
                    Some(p) => purls.push(p.to_string()),
                    None => without_purl += 1,
                }
                stack.extend(
                    component
                        .get("components")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                );
            }
        } else {
            if file.file_name() != "bom.json" {
                out.problem("neither an SPDX (spdxVersion) nor a CycloneDX (bomFormat) document; nothing listed");
            }
            return;
        }
        let bitnami = is_bitnami(file.path);
        let mut records = Vec::new();
        let mut unusable = 0usize;
        for text in purls {
            match text.parse::<Purl>().ok().and_then(record_from_purl) {
                Some(record) if bitnami => records.push(record),
                Some(record) => records.push(record.declared()),
                None => unusable += 1,
            }
        }
        if unusable + without_purl > 0 {
            out.note(format!(
                "{without_purl} SBOM package(s) without a purl and {unusable} with an unknown or invalid purl were not listed"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

/// The record a purl names, in the form the ecosystem's own analyzer writes it.
fn record_from_purl(purl: Purl) -> Option<PackageRecord> {
    let ecosystem = Ecosystem::from_purl_type(&purl.ty)?;
    let info = ecosystem.info();
    let mut version = purl.version.clone().filter(|v| !v.trim().is_empty())?;
    if purl.name.trim().is_empty() {
        return None;
    }
    let epoch = if info.epoch_qualifier {
        purl.qualifiers
            .get("epoch")
            .and_then(|e| e.parse::<u32>().ok())
            .filter(|e| *e > 0)
    } else {
        None
    };
    if let Some(e) = epoch {
        version = format!("{e}:{version}");
    }
    let (name, namespace) = match purl.namespace.clone() {
        Some(ns) if info.namespace_in_name => (format!("{ns}/{}", purl.name), None),
        // An OS package's namespace is the distribution, which the image's OS gives.
        Some(_) if info.default_purl_namespace.is_some() => (purl.name.clone(), None),
        ns => (purl.name.clone(), ns),
    };
    let mut record = PackageRecord::new(ecosystem, name, version.clone());
    record.namespace = namespace;
    record.epoch = epoch;
    record.arch = purl.qualifiers.get("arch").cloned();
    record.source = purl.qualifiers.get("upstream").map(|u| {
        let u = u.trim_end_matches(".src.rpm");
        match u.split_once('@') {
            Some((n, v)) => PackageSource {
                name: n.to_string(),
                version: v.to_string(),
            },
            None => PackageSource {
                name: u.to_string(),
                version: version.clone(),
            },
        }
    });
    if record.source.is_none() && info.keyed_by_source {
        record.source = Some(PackageSource {
            name: record.name.clone(),
            version,
        });
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use bulwark_types::Evidence;

    use super::*;

    fn run(path: &str, text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(
            matches!(SbomAnalyzer.wants(&meta), Interest::Read { .. }),
            "{path}"
        );
        let mut out = AnalyzerOutput::default();
        SbomAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    fn got(out: &AnalyzerOutput) -> Vec<(Ecosystem, String, String, Evidence)> {
        let mut v: Vec<_> = out
            .facts
            .iter()
            .flat_map(|f| match f {
                Fact::Packages { records } => records.clone(),
                _ => Vec::new(),
            })
            .map(|r| (r.ecosystem, r.name, r.version, r.evidence))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn reads_spdx_packages_by_purl() {
        let text = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","packages":[
            {"SPDXID":"SPDXRef-a","name":"openssl","versionInfo":"3.3.0-r0","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:apk/wolfi/openssl@3.3.0-r0?arch=x86_64"}]},
            {"SPDXID":"SPDXRef-b","name":"requests","versionInfo":"2.31.0","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/requests@2.31.0"}]},
            {"SPDXID":"SPDXRef-c","name":"no-purl","versionInfo":"1"},
            {"SPDXID":"SPDXRef-d","name":"image","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:oci/image@sha256%3Aabc"}]}
        ]}"#;
        let out = run("var/lib/db/sbom/openssl-3.3.0-r0.spdx.json", text);
        assert_eq!(
            got(&out),
            vec![
                (
                    Ecosystem::Apk,
                    "openssl".into(),
                    "3.3.0-r0".into(),
                    Evidence::Declared
                ),
                (
                    Ecosystem::PyPI,
                    "requests".into(),
                    "2.31.0".into(),
                    Evidence::Declared
                ),
            ]
        );
        assert_eq!(
            out.notes.len(),
            1,
            "the packages without a usable purl are counted"
        );
    }

    #[test]
    fn reads_cyclonedx_components_nested() {
        let text = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"type":"library","name":"core","group":"@babel","version":"7.24.0","purl":"pkg:npm/%40babel/core@7.24.0",
             "components":[{"type":"library","name":"log4j-core","version":"2.17.1","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"}]},
            {"type":"library","name":"libc6","version":"2.36-9","purl":"pkg:deb/debian/libc6@2.36-9?arch=amd64&upstream=glibc"}
        ]}"#;
        let out = run("app/bom.json", text);
        assert_eq!(
            got(&out),
            vec![
                (
                    Ecosystem::Deb,
                    "libc6".into(),
                    "2.36-9".into(),
                    Evidence::Declared
                ),
                (
                    Ecosystem::Npm,
                    "@babel/core".into(),
                    "7.24.0".into(),
                    Evidence::Declared
                ),
                (
                    Ecosystem::Maven,
                    "log4j-core".into(),
                    "2.17.1".into(),
                    Evidence::Declared
                ),
            ]
        );
    }

    #[test]
    fn reads_bitnami_spdx_as_installed() {
        let text = r#"{"spdxVersion":"SPDX-2.3","packages":[
            {"name":"redis","versionInfo":"7.2.4-debian-12-r9","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:bitnami/redis@7.2.4-debian-12-r9?arch=amd64&distro=debian-12"}]},
            {"name":"jemalloc","versionInfo":"5.3.0","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:generic/jemalloc@5.3.0"}]}
        ]}"#;
        let out = run("opt/bitnami/redis/.spdx-redis.spdx", text);
        assert_eq!(
            got(&out),
            vec![
                (
                    Ecosystem::Bitnami,
                    "redis".into(),
                    "7.2.4-debian-12-r9".into(),
                    Evidence::Installed
                ),
                (
                    Ecosystem::Generic,
                    "jemalloc".into(),
                    "5.3.0".into(),
                    Evidence::Installed
                ),
            ]
        );
    }

    #[test]
    fn sboms_inside_installed_dependencies_are_not_read() {
        for path in [
            "app/node_modules/left-pad/bom.json",
            "usr/lib/python3/dist-packages/x/sbom.spdx.json",
        ] {
            let meta = FileMeta {
                path,
                kind: FileKind::Regular,
                size: 10,
                mode: 0o644,
            };
            assert_eq!(SbomAnalyzer.wants(&meta), Interest::Skip, "{path}");
        }
    }

    #[test]
    fn malformed_sboms_are_diagnostics_and_other_bom_json_is_ignored() {
        let out = run("sbom/app.spdx.json", "{\"spdxVersion\": ");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let out = run("sbom/app.cdx.json", "{\"name\": \"not an sbom\"}");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let out = run(
            "app/bom.json",
            "{\"name\": \"a bill of materials of something else\"}",
        );
        assert!(out.facts.is_empty() && out.problems.is_empty());
    }
}
