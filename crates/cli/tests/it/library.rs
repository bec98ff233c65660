//! The library (`bulwark-scan`) and the binary give the same answer for the same image.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

#[test]
fn the_library_and_the_cli_report_the_same_packages_and_vulnerabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/debian-mini");
    let reference = format!("oci:{}", example.display());
    let (code, cli, stderr) = scan_json(&reference, &["--db-dir", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");

    let scan = bulwark_scan::ImageScan::new(&reference, &db).unwrap();
    let outcome = scan
        .run(&bulwark_scan::NoopSink, &bulwark_scan::CancelToken::new())
        .unwrap();
    // Through JSON, as the CLI wrote it, so both sides are compared in the same shape.
    let library: Value = serde_json::from_str(&bulwark_report::render(
        &outcome.report,
        bulwark_report::Format::Json,
    ))
    .unwrap();

    assert!(!packages(&cli).is_empty());
    assert_eq!(packages(&library), packages(&cli));
    let ids = |r: &Value| {
        let mut v: Vec<(String, String)> = r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["package"]["name"].as_str().unwrap().to_string(),
                    f["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(!ids(&cli).is_empty());
    assert_eq!(ids(&library), ids(&cli));
    for kind in ["secrets", "misconfigurations", "layers"] {
        assert_eq!(library[kind], cli[kind], "{kind}");
    }
}
