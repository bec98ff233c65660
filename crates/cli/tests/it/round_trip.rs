//! The JSON report is data: for every test image, the report read back with
//! `bulwark_report::read_report` writes the same bytes again. (Every JSON report any other
//! test prints goes through the same check in `util::bulwark`, which covers the synthetic
//! fixtures; here the real images are scanned with every scanner and the advisory database,
//! so packages, vulnerabilities, secrets and misconfigurations are all in the report.)

use crate::util::*;

/// Scans `reference` with everything on, checks the round trip and returns the report read
/// back, so a test can insist it was not empty.
fn round_trip(reference: &str, db: &std::path::Path) -> bulwark_report::ScanReport {
    let out = bulwark(&[
        "image",
        reference,
        "--scanners",
        "sbom,vuln,secret,misconfig",
        "--db-dir",
        db.to_str().unwrap(),
        "--no-cache",
        "--quiet",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `bulwark` already checked the round trip; check again here so this test says so itself.
    assert_report_round_trips(reference, &out.stdout);
    bulwark_report::read_report(&out.stdout[..]).unwrap()
}

#[test]
fn report_round_trips_byte_identically_on_every_real_test_image() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let mut vulnerabilities = 0;
    if let Some(m) = test_image(
        "minbase",
        &[
            "oci-zstd/index.json",
            "oci-archive.tar",
            "docker-archive.tar",
            "rootfs",
        ],
    ) {
        for reference in [
            format!("oci:{}", m.join("oci").display()),
            format!("oci:{}", m.join("oci-zstd").display()),
            format!("oci-archive:{}", m.join("oci-archive.tar").display()),
            format!("docker-archive:{}", m.join("docker-archive.tar").display()),
            format!("dir:{}", m.join("rootfs").display()),
        ] {
            let report = round_trip(&reference, &db);
            assert!(report.packages.len() > 80, "{reference}: too few packages");
            vulnerabilities += report.vulnerabilities.len();
        }
    }
    for name in ["python", "lang"] {
        if let Some(dir) = test_image(name, &[]) {
            let reference = format!("oci:{}", dir.join("oci").display());
            let report = round_trip(&reference, &db);
            assert!(!report.packages.is_empty(), "{reference}: no packages");
            vulnerabilities += report.vulnerabilities.len();
        }
    }
    if std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_none() {
        assert!(
            vulnerabilities > 0,
            "the advisory test data matches something in the real images"
        );
    }
}

#[test]
fn report_round_trips_on_a_synthetic_image_with_every_finding_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            dpkg_stanza("openssl", "3.0.11-1", None).as_bytes(),
        )
        .file(
            "app/.env",
            b"AWS_ACCESS_KEY_ID=AKIAZ3MSJV4WOWHFXZ7Q\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        )
        .finish();
    let removed = LayerBuilder::new().whiteout("app/.env").finish();
    let oci = tmp.path().join("oci");
    ImageBuilder::new()
        .layer(base, Compression::Gzip, "RUN install")
        .layer(removed, Compression::Gzip, "RUN rm /app/.env")
        .write_oci(&oci);
    let report = round_trip(&format!("oci:{}", oci.display()), &db);
    assert!(!report.secrets.is_empty(), "{:?}", report.secrets);
    assert!(!report.misconfigurations.is_empty());
    assert!(!report.packages.is_empty());
}
