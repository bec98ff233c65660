//! Memory bounds of reading input documents (issues 13.10 and 13.11), measured by counting
//! every allocation of this test binary. One test function, so no other test thread
//! allocates while a bound is measured.

use bulwark_report::import::read_sbom;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// The most bytes held at once while `f` ran, above what was held before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = f();
    (out, ALLOCATOR.peak_usage().saturating_sub(before))
}

/// A CycloneDX document shaped like bulwark's and syft's output: purl, licences, properties.
fn cyclonedx(components: usize) -> String {
    let mut doc = String::from(
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "metadata": {"component": {"type": "container", "name": "big"}}, "components": ["#,
    );
    for i in 0..components {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!(
            r#"{{"bom-ref": "pkg:npm/p{i}@1.0.{i}", "type": "library", "name": "p{i}", "version": "1.0.{i}", "purl": "pkg:npm/p{i}@1.0.{i}", "licenses": [{{"license": {{"id": "MIT"}}}}], "properties": [{{"name": "bulwark:layer:index", "value": "1"}}, {{"name": "bulwark:location:path", "value": "/app/node_modules/p{i}/package.json"}}]}}"#
        ));
    }
    doc.push_str("]}");
    doc
}

fn spdx(packages: usize) -> String {
    let mut doc = String::from(
        r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "big", "packages": ["#,
    );
    for i in 0..packages {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!(
            r#"{{"SPDXID": "SPDXRef-p{i}", "name": "p{i}", "versionInfo": "1.0.{i}", "licenseDeclared": "MIT", "downloadLocation": "NOASSERTION", "externalRefs": [{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/p{i}@1.0.{i}"}}]}}"#
        ));
    }
    doc.push_str("]}");
    doc
}

#[test]
fn input_documents_are_read_without_a_json_tree() {
    // 13.11: 200,000 components (a scaled-down million). The packages themselves are the
    // floor (about 3x this input, most of it the Vec of 416-byte packages); a
    // `serde_json::Value` tree of the document came on top,
    // at 11x the input.
    for (format, doc) in [("cyclonedx", cyclonedx(200_000)), ("spdx", spdx(200_000))] {
        let (sbom, peak) = peak_during(|| read_sbom(doc.as_bytes()).unwrap());
        assert_eq!(sbom.packages.len(), 200_000);
        let (tree, tree_peak) =
            peak_during(|| serde_json::from_str::<serde_json::Value>(&doc).unwrap());
        drop(tree);
        eprintln!(
            "{format}: input {} bytes, typed read peak {peak} bytes, JSON tree alone {tree_peak} bytes",
            doc.len()
        );
        assert!(
            peak < doc.len() * 4,
            "{format}: reading {} bytes peaked at {peak} bytes",
            doc.len()
        );
    }

    // 13.10: what the formats do not use is skipped, not stored: 8 MiB of zeros cost nothing.
    let zeros = "0,".repeat(4 << 20);
    let padded =
        format!(r#"{{"bomFormat": "CycloneDX", "padding": [{zeros}0], "components": []}}"#);
    let (sbom, peak) = peak_during(|| read_sbom(padded.as_bytes()).unwrap());
    assert!(sbom.packages.is_empty());
    assert!(
        peak < 64 << 10,
        "skipping 8 MiB of zeros peaked at {peak} bytes"
    );
    let bare = format!("[{zeros}0]");
    let (result, peak) = peak_during(|| read_sbom(bare.as_bytes()).map(|_| ()));
    assert!(result.is_err());
    assert!(
        peak < 64 << 10,
        "refusing an array of zeros peaked at {peak} bytes"
    );
}
