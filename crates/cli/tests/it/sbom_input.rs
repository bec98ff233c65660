//! `bulwark sbom FILE`: an SBOM (bulwark's own or syft's) read back gives the same packages an
//! image scan finds. The syft SBOMs in tests/data were made by syft 1.18.1 from the bundled
//! example: `syft scan oci-dir:examples/debian-mini -o cyclonedx-json=… -o spdx-json=…`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn sbom_report(file: &Path) -> Value {
    let out = bulwark(&[
        "sbom",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (purl without qualifiers other than arch, source name, source version).
fn identities(report: &Value) -> BTreeSet<(String, String, String)> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                format!(
                    "{}@{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                ),
                p["source"]["name"].as_str().unwrap_or("").to_string(),
                p["source"]["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn own_cyclonedx_and_spdx_round_trip() {
    let (code, scanned, _) = scan_json(&example(), &[]);
    assert_eq!(code, 0);
    let tmp = tempfile::tempdir().unwrap();
    for format in ["cyclonedx", "spdx"] {
        let file = tmp.path().join(format!("sbom.{format}.json"));
        let out = bulwark(&[
            "image",
            &example(),
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
            "--quiet",
            "--no-cache",
        ]);
        assert_eq!(out.status.code(), Some(0));
        let back = sbom_report(&file);
        assert_eq!(
            identities(&back),
            identities(&scanned),
            "{format} round trip"
        );
        assert_eq!(back["os"]["id"], "debian");
        assert_eq!(back["os"]["version_id"], "12");
        let layers: BTreeSet<(String, u64)> = back["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["layer"]["index"].as_u64().unwrap(),
                )
            })
            .collect();
        assert!(
            layers.contains(&("ca-certificates".to_string(), 1)),
            "{format} keeps layer attribution"
        );
    }
}

#[test]
fn syft_sboms_give_the_same_packages() {
    let (_, scanned, _) = scan_json(&example(), &[]);
    let want: BTreeSet<String> = identities(&scanned)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    for file in ["syft-debian-mini.cdx.json", "syft-debian-mini.spdx.json"] {
        let back = sbom_report(&data(file));
        let got: BTreeSet<String> = identities(&back).into_iter().map(|(id, _, _)| id).collect();
        assert_eq!(got, want, "{file}");
        let zlib = package(&back, "zlib1g");
        assert_eq!(
            zlib["source"]["name"], "zlib",
            "{file}: upstream qualifier gives the source package"
        );
        assert_eq!(back["os"]["id"], "debian", "{file}");
    }
}

#[test]
fn not_an_sbom_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.json");
    std::fs::write(&f, r#"{"hello": "world"}"#).unwrap();
    let out = bulwark(&["sbom", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neither a CycloneDX") && err.contains("x.json"),
        "{err}"
    );
    std::fs::write(&f, "{ truncated").unwrap();
    let out = bulwark(&["sbom", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

/// Issue 13.10: SBOM and VEX files are capped before they are read: a clear error naming the
/// file, the limit and the flag that raises it, exit 2.
#[test]
fn oversized_sbom_and_vex_files_are_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.json");
    let mut doc = String::from(r#"{"bomFormat": "CycloneDX", "components": [], "padding": ["#);
    doc.push_str(&"0,".repeat(2048));
    doc.push_str("0]}");
    std::fs::write(&big, &doc).unwrap();
    let out = bulwark(&["sbom", big.to_str().unwrap(), "--max-sbom-size", "1K"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("big.json") && err.contains("1K") && err.contains("--max-sbom-size"),
        "{err}"
    );
    let out = bulwark(&["sbom", big.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let small = tmp.path().join("small.json");
    std::fs::write(&small, r#"{"bomFormat": "CycloneDX", "components": []}"#).unwrap();
    let vex = tmp.path().join("vex.json");
    std::fs::write(
        &vex,
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "statements": [], "padding": [{}0]}}"#,
            "0,".repeat(2048)
        ),
    )
    .unwrap();
    let out = bulwark(&[
        "sbom",
        small.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
        "--max-vex-size",
        "1K",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vex.json") && err.contains("1K") && err.contains("--max-vex-size"),
        "{err}"
    );
}
