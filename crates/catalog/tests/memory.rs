//! Memory bound of reading a large `package-lock.json` (issue 13.11), measured by counting
//! every allocation of this test binary (one test, so no other thread allocates meanwhile).

use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta};
use bulwark_catalog::lang::javascript::NodeAnalyzer;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

#[test]
fn a_large_package_lock_is_read_without_a_json_tree() {
    // 200,000 entries: a scaled-down million.
    let mut doc =
        String::from(r#"{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}"#);
    for i in 0..200_000 {
        doc.push_str(&format!(
            r#", "node_modules/p{i}": {{"version": "1.0.{i}", "resolved": "https://registry.npmjs.org/p{i}/-/p{i}-1.0.{i}.tgz", "integrity": "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "license": "MIT", "dependencies": {{"q": "^1"}}}}"#
        ));
    }
    doc.push_str("}}");
    let meta = FileMeta {
        path: "app/package-lock.json",
        kind: FileKind::Regular,
        size: doc.len() as u64,
        mode: 0o644,
    };
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let mut out = AnalyzerOutput::default();
    NodeAnalyzer.analyze(&meta, doc.as_bytes(), &mut out);
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    let records = match out.facts.as_slice() {
        [Fact::Packages { records }] => records.len(),
        other => panic!("{} facts: {:?}", other.len(), out.problems),
    };
    // The entries and the project itself (its root package).
    assert_eq!(records, 200_001);
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let tree: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let tree_peak = ALLOCATOR.peak_usage().saturating_sub(before);
    drop(tree);
    eprintln!(
        "package-lock: input {} bytes, typed read peak {peak} bytes, JSON tree alone {tree_peak} bytes",
        doc.len()
    );
    // The records are the floor (about 2x this input); the tree the old parser built (5.7x
    // the input) came on top of them.
    assert!(
        peak < doc.len() * 3,
        "reading {} bytes peaked at {peak} bytes",
        doc.len()
    );
}
