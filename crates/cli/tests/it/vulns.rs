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

fn vulnerability_ids(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["package"]["name"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["package"]["advisory_ecosystem"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// Issue 12.1: `--scanners vuln` alone catalogs the packages vulnerabilities need, so it
/// reports exactly what `--scanners sbom,vuln` reports and fails `--exit-code 1` the same way;
/// the package list itself is sbom's to report. Same for `fs` on a root filesystem.
#[test]
fn scanners_vuln_alone_reports_what_sbom_and_vuln_report() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let db = db.to_str().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("etc/os-release"), os_release_debian()).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        dpkg_stanza("libssl3", "3.0.11-1~deb12u2", Some("openssl")),
    )
    .unwrap();
    for (command, target) in [
        ("image", example.clone()),
        ("fs", root.display().to_string()),
    ] {
        let run = |scanners: &str, extra: &[&str]| {
            let mut args = vec![
                command,
                target.as_str(),
                "--db-dir",
                db,
                "--scanners",
                scanners,
                "--format",
                "json",
                "--no-cache",
                "--quiet",
            ];
            args.extend_from_slice(extra);
            let out = bulwark(&args);
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            (out.status.code(), report)
        };
        let (code, both) = run("sbom,vuln", &[]);
        assert_eq!(code, Some(0), "{command}");
        let (code, alone) = run("vuln", &[]);
        assert_eq!(code, Some(0), "{command}");
        assert!(
            !vulnerability_ids(&both).is_empty(),
            "{command}: the Debian data applies"
        );
        assert_eq!(
            vulnerability_ids(&alone),
            vulnerability_ids(&both),
            "{command}: --scanners vuln alone"
        );
        assert_eq!(
            alone["vulnerabilities"], both["vulnerabilities"],
            "{command}"
        );
        assert!(
            alone["packages"].as_array().unwrap().is_empty(),
            "{command}: the package list is reported only with sbom"
        );
        assert!(!both["packages"].as_array().unwrap().is_empty());
        for scanners in ["vuln", "sbom,vuln"] {
            let (code, _) = run(scanners, &["--exit-code", "1"]);
            assert_eq!(
                code,
                Some(1),
                "{command} --scanners {scanners} --exit-code 1"
            );
        }
    }
}

/// Issue 12.1, the same class in gates: a vulnerability gate runs matching (and needs the
/// database) whatever --scanners names; `bulwark sbom --no-vuln` and a vulnerability gate
/// contradict each other.
#[test]
fn a_vulnerability_gate_never_passes_for_want_of_matching() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let db = db.to_str().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/debian-mini")
        .display()
        .to_string();
    let (code, report, stderr) = scan_json(
        &example,
        &[
            "--db-dir",
            db,
            "--scanners",
            "sbom",
            "--fail-on-vuln",
            "low",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(!report["vulnerabilities"].as_array().unwrap().is_empty());
    let nodb = tmp.path().join("nodb");
    let (code, _, stderr) = scan_json(
        &example,
        &["--db-dir", nodb.to_str().unwrap(), "--fail-on-vuln", "low"],
    );
    assert_eq!(
        code, 2,
        "a gate on vulnerabilities needs the database: {stderr}"
    );
    assert!(stderr.contains("bulwark db update"), "{stderr}");

    let syft = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-debian-mini.cdx.json");
    let sbom = |extra: &[&str]| {
        let mut args = vec!["sbom", syft.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let out = bulwark(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = sbom(&["--db-dir", db, "--fail-on-vuln", "low"]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, stderr) = sbom(&["--db-dir", db, "--no-vuln", "--fail-on-vuln", "low"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--no-vuln"), "{stderr}");
    let (code, stderr) = sbom(&["--db-dir", nodb.to_str().unwrap(), "--fail-on-vuln", "low"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("bulwark db update"), "{stderr}");
}

/// Issue 12.4: an SBOM mixing distributions (two images' packages in one file). Each OS
/// package is matched in the release its purl's `distro` names: the Debian 12 deb against
/// Debian's advisories, the Alpine 3.22 apk against Alpine's, in CycloneDX and in SPDX.
#[test]
fn an_sbom_mixing_distributions_matches_each_package_in_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let deb =
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl";
    let apk =
        "pkg:apk/alpine/gnutls-utils@3.8.4-r0?arch=x86_64&distro=alpine-3.22.1&upstream=gnutls";
    let cyclonedx = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [
            {"type": "library", "name": "libssl3", "version": "3.0.11-1~deb12u2", "purl": deb},
            {"type": "library", "name": "gnutls-utils", "version": "3.8.4-r0", "purl": apk}
        ]
    });
    let spdx_packages: Vec<Value> = [deb, apk]
        .iter()
        .enumerate()
        .map(|(i, purl)| {
            serde_json::json!({
                "SPDXID": format!("SPDXRef-{i}"), "name": format!("p{i}"), "downloadLocation": "NOASSERTION",
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]
            })
        })
        .collect();
    let spdx = serde_json::json!({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "two images",
        "packages": spdx_packages
    });
    for (name, doc) in [("mixed.cdx.json", cyclonedx), ("mixed.spdx.json", spdx)] {
        let file = tmp.path().join(name);
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = bulwark(&[
            "sbom",
            file.to_str().unwrap(),
            "--db-dir",
            db.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            report.get("unmatched").is_none(),
            "{name}: {}",
            report["unmatched"]
        );
        let found = vulnerability_ids(&report);
        let has = |package: &str, id: &str, ecosystem: &str| {
            found
                .iter()
                .any(|f| f.starts_with(package) && f.contains(id) && f.ends_with(ecosystem))
        };
        assert!(
            has("libssl3", "CVE-2023-5678", "Debian:12"),
            "{name}: {found:?}"
        );
        assert!(
            has("gnutls-utils", "CVE-2024-28834", "Alpine:v3.22"),
            "{name}: {found:?}"
        );
    }
}
