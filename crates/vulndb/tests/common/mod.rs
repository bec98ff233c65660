#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bulwark_types::{Ecosystem, LayerRef, OsFamily, OsRelease, Package, PackageSource, Purl};

pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
    let (ns, n) = match (eco, name.rsplit_once(['/', ':'])) {
        (Ecosystem::Maven, Some((ns, n))) => (Some(ns), n),
        _ => (None, name),
    };
    Package {
        ecosystem: eco,
        name: name.to_string(),
        version: version.to_string(),
        arch: None,
        source: None,
        licenses: Vec::new(),
        purl: Purl::new(eco.purl_type(), ns, n, Some(version)),
        layer: LayerRef {
            index: 2,
            diff_id: None,
            created_by: None,
        },
        found_in: Vec::new(),
        files: Vec::new(),
        dev: false,
        inferred: false,
        evidence: Default::default(),
        role: Default::default(),
        dependencies: Vec::new(),
    }
}

pub fn os_pkg(
    eco: Ecosystem,
    name: &str,
    version: &str,
    source: &str,
    source_version: &str,
) -> Package {
    let mut p = pkg(eco, name, version);
    p.source = Some(PackageSource {
        name: source.into(),
        version: source_version.into(),
    });
    p
}

pub fn os(id: &str, version_id: &str) -> OsRelease {
    OsRelease {
        family: OsFamily::from_os_release_id(id),
        id: id.into(),
        version_id: Some(version_id.into()),
        version_codename: None,
        pretty_name: None,
        source_path: "/etc/os-release".into(),
    }
}
