//! Issue 12.2 end to end: a package pip installed and `requirements.txt` pins is one component,
//! so its vulnerabilities are listed once and one VEX statement closes them. Advisories come
//! from the repo's real test data (crates/vulndb/tests/data, see its ATTRIBUTION.md): PyPI's
//! PYSEC-2019-217 (CVE-2019-10906) affects Jinja2 before 2.10.1.

use serde_json::Value;

use crate::util::*;

const CVE: &str = "CVE-2019-10906";

fn scan(reference: &str, db: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "image",
        reference,
        "--format",
        "json",
        "--no-cache",
        "--quiet",
        "--db-dir",
        db,
    ];
    args.extend_from_slice(extra);
    let out = bulwark(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// The purls the report lists `CVE` for, one per finding.
fn open_findings(report: &Value) -> Vec<String> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ids"].as_array().unwrap().iter().any(|i| i == CVE))
        .map(|f| f["package"]["purl"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn issue_12_2_installed_and_declared_package_is_one_component_closed_by_one_vex_statement() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file(
            "opt/venv/lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n",
        )
        // Pinned by another spelling of the same name and version; flask is not installed.
        .file("app/requirements.txt", b"jinja2==2.10.0\nflask==2.0.0\n")
        .finish();
    let oci = tmp.path().join("oci");
    let written = ImageBuilder::new()
        .layer(
            layer,
            Compression::Gzip,
            "RUN pip install -r requirements.txt",
        )
        .write_oci(&oci);
    let reference = format!("oci:{}", oci.display());
    let db = advisory_db(tmp.path());
    let db = db.to_str().unwrap();

    let (code, report, err) = scan(&reference, db, &[]);
    assert_eq!(code, 0, "{err}");
    let pypi: Vec<&Value> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "pypi")
        .collect();
    assert_eq!(pypi.len(), 2, "{pypi:#?}");
    let jinja = package(&report, "Jinja2");
    assert_eq!(jinja["purl"], "pkg:pypi/jinja2@2.10");
    assert_eq!(
        jinja["found_in"],
        serde_json::json!([
            "/app/requirements.txt",
            "/opt/venv/lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA"
        ])
    );
    assert!(jinja.get("evidence").is_none(), "installed is the default");
    assert_eq!(package(&report, "flask")["evidence"], "declared");
    assert_eq!(open_findings(&report), vec!["pkg:pypi/jinja2@2.10"]);

    // CycloneDX marks the declared-only component.
    let (_, out, _) = {
        let o = bulwark(&[
            "image",
            &reference,
            "--format",
            "cyclonedx",
            "--no-cache",
            "--quiet",
            "--db-dir",
            db,
        ]);
        (o.status.code(), o.stdout, o.stderr)
    };
    let bom: Value = serde_json::from_slice(&out).unwrap();
    let evidence = |name: &str| -> Vec<String> {
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == name)
            .flat_map(|c| c["properties"].as_array().cloned().unwrap_or_default())
            .filter(|p| p["name"] == "bulwark:package:evidence")
            .map(|p| p["value"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(evidence("flask"), vec!["declared"]);
    assert!(evidence("Jinja2").is_empty());

    let vex = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/12-2",
  "author": "bulwark tests", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
  "statements": [{{"vulnerability": {{"name": "{CVE}"}},
    "products": [{{"@id": "pkg:oci/app@{}", "subcomponents": [{{"@id": "pkg:pypi/jinja2@2.10"}}]}}],
    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}}]}}"#,
        written.manifest_digest
    );
    let vex_path = tmp.path().join("jinja.vex.json");
    std::fs::write(&vex_path, vex).unwrap();
    let (code, report, err) = scan(&reference, db, &["--vex", vex_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(open_findings(&report).is_empty(), "{err}");
    let suppressed: Vec<&Value> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "vex" && s["id"] == CVE)
        .collect();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
}
