//! Vulnerability matching through the CLI: `bulwark db import` of the repo's real advisory
//! test data (crates/vulndb/tests/data, see its ATTRIBUTION.md), then scans of real images and
//! SBOMs.

use std::path::Path;

use serde_json::Value;

use crate::lang_python_node::lang_image;
use crate::util::*;

fn ids_for<'a>(report: &'a Value, package: &str) -> Vec<&'a str> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == package)
        .flat_map(|f| {
            f["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap())
        })
        .collect()
}

#[test]
fn language_packages_in_the_real_image_match_their_advisories() {
    let Some(lang) = lang_image() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let (code, report, stderr) = scan_json(
        &format!("oci:{}", lang.join("oci").display()),
        &["--db-dir", db.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(ids_for(&report, "requests").contains(&"CVE-2018-18074"));
    assert!(
        ids_for(&report, "requests").contains(&"PYSEC-2018-28"),
        "aliases merged into one finding"
    );
    assert!(ids_for(&report, "lodash").contains(&"CVE-2021-23337"));
    assert!(ids_for(&report, "minimist").contains(&"CVE-2021-44906"));
    assert!(ids_for(&report, "smallvec").contains(&"RUSTSEC-2021-0003"));
    assert!(ids_for(&report, "stdlib")
        .iter()
        .any(|i| i.starts_with("GO-")));
    let requests = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "CVE-2018-18074")
        .unwrap();
    assert_eq!(requests["fixed_versions"], serde_json::json!(["2.20.0"]));
    assert_eq!(
        requests["package"]["layer_index"], 1,
        "the layer that brought requests"
    );
    assert!(
        requests["package"]["layer_created_by"]
            .as_str()
            .unwrap()
            .contains("pip install"),
        "and its build step: {}",
        requests["package"]
    );
    // Priority order: KEV first, then EPSS.
    let order: Vec<(bool, f64)> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["priority"]["kev"].as_bool().unwrap(),
                f["priority"]["epss"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let kev_then_rest = order.windows(2).all(|w| w[0].0 >= w[1].0);
    assert!(kev_then_rest, "KEV findings come first: {order:?}");
}

#[test]
fn ignore_unfixed_hides_findings_without_a_fix() {
    let Some(lang) = lang_image() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let reference = format!("oci:{}", lang.join("oci").display());
    let (_, all, _) = scan_json(&reference, &["--db-dir", db.to_str().unwrap()]);
    let (_, fixable, _) = scan_json(
        &reference,
        &["--db-dir", db.to_str().unwrap(), "--ignore-unfixed"],
    );
    let unfixed = |r: &Value| {
        r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "unfixed")
            .count()
    };
    assert!(unfixed(&all) > 0, "the Debian data has unfixed entries");
    assert_eq!(unfixed(&fixable), 0);
    assert!(!fixable["vulnerabilities"].as_array().unwrap().is_empty());
}

#[test]
fn a_missing_database_is_a_hint_by_default_and_an_error_when_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string();
    let empty = tmp.path().join("nodb");
    let out = bulwark(&[
        "image",
        &example,
        "--db-dir",
        empty.to_str().unwrap(),
        "--format",
        "json",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bulwark db update"), "{stderr}");
    let out = bulwark(&[
        "image",
        &example,
        "--db-dir",
        empty.to_str().unwrap(),
        "--scanners",
        "sbom,vuln",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bulwark db update") && stderr.contains("bulwark db import"),
        "{stderr}"
    );
}

#[test]
fn an_sbom_from_another_tool_is_matched_like_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string();
    let (_, from_image, _) = scan_json(&example, &["--db-dir", db.to_str().unwrap()]);
    let syft = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-debian-mini.cdx.json");
    let out = bulwark(&[
        "sbom",
        syft.to_str().unwrap(),
        "--db-dir",
        db.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let from_sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |r: &Value| {
        let mut v: Vec<String> = r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["package"]["name"].as_str().unwrap(),
                    f["id"].as_str().unwrap()
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(
        !ids(&from_image).is_empty(),
        "the Debian tracker data applies to this image"
    );
    assert_eq!(
        ids(&from_sbom),
        ids(&from_image),
        "matching works the same on syft's SBOM"
    );
}

#[test]
fn database_age_limits_are_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string();
    let db_arg = db.to_str().unwrap();
    // A fresh database (age 0 days) is over a limit of -1 days: the knobs really apply.
    let out = bulwark(&[
        "image",
        &example,
        "--db-dir",
        db_arg,
        "--db-warn-age=-1",
        "--format",
        "json",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bulwark(&[
        "image",
        &example,
        "--db-dir",
        db_arg,
        "--db-max-age=-1",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bulwark db update"));
    let out = bulwark(&[
        "image",
        &example,
        "--db-dir",
        db_arg,
        "--format",
        "json",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning: the vulnerability database"));
}
