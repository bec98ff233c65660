//! Real Debian images built by `scripts/build-test-images.py` from real packages, checked
//! against what dpkg-query itself reports on the same root filesystem.
//!
//! The images live in `.cache/testimages` (or `$BULWARK_TESTIMAGES`). They are built by the
//! README's test command before `cargo test`; without them these tests fail with the command
//! to run, unless `BULWARK_SKIP_REAL_IMAGES=1` says to skip them on purpose.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::*;

fn images_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BULWARK_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages")
        });
    if dir.join("minbase/oci/index.json").exists() && dir.join("python/oci/index.json").exists() {
        return Some(dir);
    }
    if std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_some() {
        eprintln!("skipping: real test images not built and BULWARK_SKIP_REAL_IMAGES is set");
        return None;
    }
    panic!(
        "real test images are missing in {}; build them with `python3 scripts/build-test-images.py minbase python` (or set BULWARK_SKIP_REAL_IMAGES=1 to skip)",
        dir.display()
    );
}

/// `(name, version, arch, source name, source version, introducing layer)` per package.
type Row = (String, String, String, String, String, u64);

fn expected(dir: &std::path::Path, image: &str) -> BTreeSet<Row> {
    let text = std::fs::read_to_string(dir.join(image).join("expected/packages.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (p, v, a, sp, sv, l) = (
        col("package"),
        col("version"),
        col("architecture"),
        col("source_package"),
        col("source_version"),
        col("layer"),
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (
                f[p].to_string(),
                f[v].to_string(),
                f[a].to_string(),
                f[sp].to_string(),
                f[sv].to_string(),
                f[l].parse().unwrap(),
            )
        })
        .collect()
}

fn rows(report: &Value) -> BTreeSet<Row> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["arch"].as_str().unwrap().to_string(),
                p["source"]["name"].as_str().unwrap().to_string(),
                p["source"]["version"].as_str().unwrap().to_string(),
                p["layer"]["index"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_same(image: &str, got: &BTreeSet<Row>, want: &BTreeSet<Row>) {
    let missing: Vec<_> = want.difference(got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{image}: missing {missing:#?}\nextra {extra:#?}"
    );
}

#[test]
fn minbase_matches_dpkg_query_in_every_form() {
    let Some(dir) = images_dir() else { return };
    let want = expected(&dir, "minbase");
    assert!(want.len() > 80, "a Debian minbase has about 90 packages");
    let m = dir.join("minbase");
    for reference in [
        format!("oci:{}", m.join("oci").display()),
        format!("oci:{}", m.join("oci-zstd").display()),
        format!("oci-archive:{}", m.join("oci-archive.tar").display()),
        format!("docker-archive:{}", m.join("docker-archive.tar").display()),
    ] {
        let (code, report, stderr) = scan_json(&reference, &[]);
        assert_eq!(code, 0, "{reference}: {stderr}");
        assert_same(&reference, &rows(&report), &want);
        assert_eq!(report["os"]["id"], "debian");
        assert_eq!(report["os"]["version_id"], "12");
        // Warnings (a 50 MB apt list over the secret scanner's size cap) are by design.
        assert!(
            report["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["level"] == "warning"),
            "{}",
            report["diagnostics"]
        );
        assert!(
            report["secrets"].as_array().unwrap().is_empty(),
            "a plain Debian image has no secrets: {}",
            report["secrets"]
        );
        for p in report["packages"].as_array().unwrap() {
            let purl = p["purl"].as_str().unwrap();
            // purls percent-encode `+` in versions (`5.2.15-2%2Bb13`).
            let prefix = format!(
                "pkg:deb/debian/{}@{}?arch=",
                p["name"].as_str().unwrap().replace('+', "%2B"),
                p["version"].as_str().unwrap().replace('+', "%2B")
            );
            assert!(
                purl.starts_with(&prefix) && purl.contains("distro=debian-12"),
                "{purl}"
            );
        }
    }
}

#[test]
fn python_image_attributes_python_to_its_layer() {
    let Some(dir) = images_dir() else { return };
    let want = expected(&dir, "python");
    let reference = format!("oci:{}", dir.join("python/oci").display());
    let (code, report, stderr) = scan_json(&reference, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_same("python", &rows(&report), &want);
    let python = package(&report, "python3");
    assert_eq!(python["layer"]["index"], 1);
    assert!(python["layer"]["created_by"]
        .as_str()
        .unwrap()
        .contains("python3"));
    assert!(
        python["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "/usr/share/doc/python3/README.Debian"),
        "owned files come from dpkg's file lists"
    );
    let bash = package(&report, "bash");
    assert!(
        bash["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "GPL-3.0-or-later"),
        "bash's copyright declares GPL-3+: {}",
        bash["licenses"]
    );
}

#[test]
fn rootfs_directory_matches_the_final_image() {
    let Some(dir) = images_dir() else { return };
    let want: BTreeSet<(String, String)> = expected(&dir, "minbase")
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    let (code, report, stderr) = scan_json(
        &format!("dir:{}", dir.join("minbase/rootfs").display()),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let got: BTreeSet<(String, String)> = rows(&report).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(got, want);
}
