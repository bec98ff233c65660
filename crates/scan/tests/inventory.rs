//! `bulwark_scan::inventory`: uploaded bytes (bulwark reports, syft / Trivy / bulwark CycloneDX,
//! syft / bulwark SPDX) read into an OS and packages and matched like an image, OS packages
//! included; the matcher's keys reach every finding; rematching a subset of packages gives the
//! same findings as a full match. Fixtures: tests/data/sboms (see its README); advisories: the
//! repo's crates/vulndb/tests/data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bulwark_report::{render, Format, ScanReport};
use bulwark_scan::inventory::{
    match_inventory, rematch_packages, Inventory, InventoryError, InventoryFormat,
};
use bulwark_scan::{CancelToken, ImageScan, NoopSink};
use bulwark_types::{Ecosystem, OsFamily};
use bulwark_vulndb::{match_keys, os_ecosystem, Finding, MatchOptions, Store};

const LIMIT: u64 = 64 << 20;

fn advisory_db(tmp: &Path) -> PathBuf {
    let db = tmp.join("db");
    bulwark_vulndb::import_paths(
        &db,
        &[PathBuf::from("../vulndb/tests/data")],
        &bulwark_vulndb::NoProgress,
    )
    .unwrap();
    db
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new("tests/data/sboms").join(name)).unwrap()
}

fn scan(reference: &str, db: &Path) -> ScanReport {
    ImageScan::new(reference, db)
        .unwrap()
        .run(&NoopSink, &CancelToken::new())
        .unwrap()
        .report
}

/// The real Debian test images, when built (`python3 scripts/build-test-images.py`).
fn test_images() -> Vec<String> {
    let dir = std::env::var_os("BULWARK_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages")
        });
    ["minbase", "python", "lang", "big"]
        .iter()
        .map(|name| dir.join(name).join("oci"))
        .filter(|oci| oci.join("index.json").exists())
        .map(|oci| format!("oci:{}", oci.display()))
        .collect()
}

fn pairs(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .map(|f| (f.package.purl.to_string(), f.id.clone()))
        .collect()
}

#[test]
fn each_fixture_gives_its_os_packages_and_image() {
    for (file, format, version_id, name, digest) in [
        (
            "syft-minbase.cdx.json",
            InventoryFormat::CycloneDx,
            "12",
            ".cache/testimages/minbase/docker-archive.tar",
            "sha256:65629c10ede7be63a92ac3d142053b28019f1b3a0489eba358e5a230e58103f7",
        ),
        (
            "syft-minbase.spdx.json",
            InventoryFormat::Spdx,
            "12",
            ".cache/testimages/minbase/docker-archive.tar",
            "sha256:65629c10ede7be63a92ac3d142053b28019f1b3a0489eba358e5a230e58103f7",
        ),
        (
            "trivy-minbase.cdx.json",
            InventoryFormat::CycloneDx,
            "12.15",
            "bulwark-test/minbase:latest",
            "sha256:fa6431085add5ec7a58aa4556c8843773ffb087dca9879a9620101efba2c1b9f",
        ),
    ] {
        let inv = Inventory::from_bytes(&fixture(file), LIMIT).unwrap();
        assert_eq!(inv.format, format, "{file}");
        let os = inv.os.as_ref().unwrap_or_else(|| panic!("{file}: no OS"));
        assert_eq!(
            (os.family, os.version_id.as_deref()),
            (OsFamily::Debian, Some(version_id)),
            "{file}"
        );
        assert_eq!(os_ecosystem(os).unwrap().0, "Debian:12", "{file}");
        assert_eq!(inv.packages.len(), 91, "{file}");
        assert!(
            inv.packages.iter().all(|p| p.ecosystem == Ecosystem::Deb),
            "{file}"
        );
        // Source packages are known (syft: the purl's `upstream`; Trivy: SrcName/SrcVersion).
        let bsdutils = inv.packages.iter().find(|p| p.name == "bsdutils").unwrap();
        assert_eq!(
            bsdutils.source.as_ref().map(|s| s.name.as_str()),
            Some("util-linux"),
            "{file}"
        );
        let image = inv
            .image
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: no image"));
        assert_eq!(image.name.as_deref(), Some(name), "{file}");
        assert_eq!(image.digest.as_deref(), Some(digest), "{file}");
        assert!(inv.findings.is_empty());
    }
    let syft = Inventory::from_bytes(&fixture("syft-minbase.cdx.json"), LIMIT).unwrap();
    let labels = &syft.image.unwrap().labels;
    assert_eq!(
        labels
            .get("org.opencontainers.image.title")
            .map(String::as_str),
        Some("bulwark-test-minbase")
    );
    let trivy = Inventory::from_bytes(&fixture("trivy-minbase.cdx.json"), LIMIT).unwrap();
    // Trivy lists the image's layer diff ids (sorted, not in layer order).
    assert_eq!(trivy.image.unwrap().layers.len(), 4);
}

#[test]
fn every_fixture_matches_os_packages_and_agrees_with_the_image_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let store = Store::open(&db).unwrap();
    let mut by_fixture = BTreeMap::new();
    for file in [
        "syft-minbase.cdx.json",
        "syft-minbase.spdx.json",
        "trivy-minbase.cdx.json",
    ] {
        let inv = Inventory::from_bytes(&fixture(file), LIMIT).unwrap();
        let outcome = match_inventory(&store, &inv, &MatchOptions::default()).unwrap();
        assert!(
            outcome.unmatched.is_empty(),
            "{file}: {:?}",
            outcome.unmatched
        );
        // An OS-package finding through the source package (glibc for libc6).
        assert!(
            outcome.findings.iter().any(|f| f.package.name == "libc6"
                && f.package.ecosystem == Ecosystem::Deb
                && f.package.advisory_ecosystem == "Debian:12"
                && f.package.advisory_name == "glibc"),
            "{file}: {:?}",
            pairs(&outcome.findings)
        );
        let names: BTreeSet<(String, String)> = outcome
            .findings
            .iter()
            .map(|f| (f.package.name.clone(), f.id.clone()))
            .collect();
        by_fixture.insert(file, names);
    }
    let first = by_fixture.values().next().unwrap().clone();
    for (file, names) in &by_fixture {
        assert_eq!(names, &first, "{file} differs from the others");
    }
    // The same flaws as scanning the image itself, when it is built.
    if let Some(minbase) = test_images().into_iter().find(|r| r.contains("minbase")) {
        let report = scan(&minbase, &db);
        let names: BTreeSet<(String, String)> = report
            .vulnerabilities
            .iter()
            .map(|f| (f.package.name.clone(), f.id.clone()))
            .collect();
        assert_eq!(names, first);
    }
}

#[test]
fn bulwark_reports_and_sboms_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let report = scan("oci:../../examples/debian-mini", &db);
    assert!(!report.vulnerabilities.is_empty());
    let store = Store::open(&db).unwrap();
    for (format, expected) in [
        (Format::Json, InventoryFormat::BulwarkReport),
        (Format::CycloneDx, InventoryFormat::CycloneDx),
        (Format::Spdx, InventoryFormat::Spdx),
    ] {
        let bytes = render(&report, format);
        let inv = Inventory::from_bytes(bytes.as_bytes(), LIMIT).unwrap();
        assert_eq!(inv.format, expected);
        assert_eq!(inv.packages.len(), report.packages.len(), "{format:?}");
        assert_eq!(
            inv.os.as_ref().map(|o| (o.family, o.version_id.clone())),
            report.os.as_ref().map(|o| (o.family, o.version_id.clone())),
            "{format:?}"
        );
        let image = inv.image.as_ref().unwrap();
        if format != Format::Spdx {
            assert_eq!(image.name.as_deref(), Some(report.image.reference.as_str()));
            let layers: Vec<String> = report
                .layers
                .iter()
                .filter_map(|l| l.diff_id.as_ref().map(ToString::to_string))
                .collect();
            assert_eq!(image.layers, layers, "{format:?}");
        }
        let config = report.image.config_digest.as_ref().map(ToString::to_string);
        assert_eq!(image.config_digest, config, "{format:?}");
        if format == Format::Json {
            assert_eq!(inv.findings.len(), report.vulnerabilities.len());
        }
        let outcome = match_inventory(&store, &inv, &MatchOptions::default()).unwrap();
        assert_eq!(
            outcome
                .findings
                .iter()
                .map(|f| (f.package.name.clone(), f.id.clone()))
                .collect::<BTreeSet<_>>(),
            report
                .vulnerabilities
                .iter()
                .map(|f| (f.package.name.clone(), f.id.clone()))
                .collect::<BTreeSet<_>>(),
            "{format:?}"
        );
    }
}

#[test]
fn bad_uploads_are_clear_errors() {
    let good = fixture("syft-minbase.cdx.json");
    let too_large = Inventory::from_bytes(&good, 1000).unwrap_err();
    assert!(matches!(
        too_large,
        InventoryError::TooLarge { limit: 1000, .. }
    ));
    assert!(too_large.to_string().contains("limit"), "{too_large}");
    let deep = "[".repeat(100_000);
    let deep_in_object = format!("{{\"bomFormat\": \"CycloneDX\", \"components\": {deep}");
    let cases: Vec<(&[u8], &str)> = vec![
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"\xff\xfe<bom/>", "not JSON"),
        (b"<?xml version=\"1.0\"?><bom/>", "not JSON"),
        (b"[1, 2]", "neither"),
        (b"{}", "neither"),
        (b"{\"bomFormat\": \"SWID\"}", "neither"),
        (b"{\"bomFormat\": \"CycloneDX\", \"components\": 5}", "SBOM"),
        (
            b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": {}}",
            "neither",
        ),
        (b"{\"schema\": \"bulwark.report/v9\"}", "bulwark report"),
        (
            b"{\"schema\": \"bulwark.report/v1\", \"packages\": 3}",
            "bulwark report",
        ),
        (&good[..good.len() / 2], "not JSON"),
        (deep.as_bytes(), "not JSON"),
        (deep_in_object.as_bytes(), "not JSON"),
    ];
    for (bytes, says) in cases {
        let err = Inventory::from_bytes(bytes, LIMIT).unwrap_err().to_string();
        assert!(
            err.contains(says),
            "{:?}: {err}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
        );
    }
}

#[test]
fn rematching_a_subset_gives_the_full_match_findings_of_those_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let store = Store::open(&db).unwrap();
    let inv = Inventory::from_bytes(&fixture("trivy-minbase.cdx.json"), LIMIT).unwrap();
    let full = match_inventory(&store, &inv, &MatchOptions::default()).unwrap();
    let mut expected: BTreeMap<usize, BTreeSet<(String, String)>> = BTreeMap::new();
    for f in &full.findings {
        let index = inv
            .packages
            .iter()
            .position(|p| p.purl == f.package.purl)
            .unwrap();
        expected
            .entry(index)
            .or_default()
            .insert((f.package.purl.to_string(), f.id.clone()));
    }
    // Every other package with findings, one without, and an index past the end.
    let with: Vec<usize> = expected.keys().copied().step_by(2).collect();
    let without = (0..inv.packages.len())
        .find(|i| !expected.contains_key(i))
        .unwrap();
    let mut indices = with.clone();
    indices.extend([without, inv.packages.len() + 7]);
    let subset = rematch_packages(&store, &inv, &indices, &MatchOptions::default()).unwrap();
    let got: BTreeMap<usize, BTreeSet<(String, String)>> = subset
        .findings
        .iter()
        .map(|(i, fs)| (*i, pairs(fs)))
        .collect();
    let want: BTreeMap<usize, BTreeSet<(String, String)>> =
        with.iter().map(|i| (*i, expected[i].clone())).collect();
    assert_eq!(got, want);
    assert!(subset.unmatched.is_empty());
}

/// The keys a server indexes reach every finding: for each finding, one of its package's
/// match keys covers the advisory entry that produced it.
#[test]
fn match_keys_reach_every_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let store = Store::open(&db).unwrap();
    let mut inventories: Vec<(String, Inventory, Vec<Finding>)> = Vec::new();
    for file in [
        "syft-minbase.cdx.json",
        "syft-minbase.spdx.json",
        "trivy-minbase.cdx.json",
    ] {
        let inv = Inventory::from_bytes(&fixture(file), LIMIT).unwrap();
        let findings = match_inventory(&store, &inv, &MatchOptions::default())
            .unwrap()
            .findings;
        inventories.push((file.to_string(), inv, findings));
    }
    let mut references = vec!["oci:../../examples/debian-mini".to_string()];
    references.extend(test_images());
    for reference in references {
        let report = scan(&reference, &db);
        let json = render(&report, Format::Json);
        let inv = Inventory::from_bytes(json.as_bytes(), u64::MAX).unwrap();
        let findings = inv.findings.clone();
        inventories.push((reference, inv, findings));
    }
    let mut checked = 0;
    let mut ecosystems = BTreeSet::new();
    for (what, inv, findings) in &inventories {
        assert!(!findings.is_empty(), "{what}: no findings to check");
        let keys = inv.match_keys();
        for f in findings {
            let reachable = inv.packages.iter().zip(&keys).any(|(p, k)| {
                p.purl == f.package.purl
                    && k.as_ref().is_ok_and(|keys| {
                        keys.iter().any(|k| {
                            k.covers(&f.package.advisory_ecosystem, &f.package.advisory_name)
                        })
                    })
            });
            assert!(
                reachable,
                "{what}: {} on {} ({} {}) is not reachable through its package's keys",
                f.id, f.package.purl, f.package.advisory_ecosystem, f.package.advisory_name
            );
            // The free function gives the same keys.
            let p = inv
                .packages
                .iter()
                .find(|p| p.purl == f.package.purl)
                .unwrap();
            assert_eq!(
                match_keys(inv.os.as_ref(), p),
                keys[inv.packages.iter().position(|q| q.purl == p.purl).unwrap()]
            );
            ecosystems.insert(f.package.ecosystem);
            checked += 1;
        }
    }
    assert!(checked > 0);
    assert!(ecosystems.contains(&Ecosystem::Deb), "{ecosystems:?}");
}
