//! Memory bound of turning a large lockfile's records into the package inventory (issue 13.11,
//! the million-entry `package-lock.json`), measured by counting every allocation of this test
//! binary (one test, so no other thread allocates meanwhile).

use std::collections::BTreeMap;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, FileRecord, ImageFacts, LayerFacts,
    PathFacts, VisibleFile,
};
use bulwark_catalog::finalize_packages;
use bulwark_catalog::lang::javascript::NodeAnalyzer;
use bulwark_types::Package;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

#[test]
fn the_inventory_of_a_large_lockfile_is_built_without_a_second_copy() {
    const ENTRIES: usize = 100_000;
    let mut doc = String::from(r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}"#);
    for i in 0..ENTRIES {
        doc.push_str(&format!(
            r#", "node_modules/p{i}": {{"version": "1.0.{i}"}}"#
        ));
    }
    doc.push_str("}}");
    let path = "app/package-lock.json";
    let meta = FileMeta {
        path,
        kind: FileKind::Regular,
        size: doc.len() as u64,
        mode: 0o644,
    };
    let mut out = AnalyzerOutput::default();
    NodeAnalyzer.analyze(&meta, doc.as_bytes(), &mut out);
    drop(doc);
    assert!(
        matches!(out.facts.as_slice(), [Fact::Packages { records }] if records.len() == ENTRIES + 1)
    );
    let record = FileRecord {
        path: path.to_string(),
        kind: FileKind::Regular,
        size: 0,
        mode: 0o644,
        link: None,
    };
    let facts = ImageFacts {
        os: None,
        packages: Vec::new(),
        layers: Vec::new(),
        files: BTreeMap::from([(
            path.to_string(),
            VisibleFile {
                layer: 0,
                record: record.clone(),
            },
        )]),
        secrets: Vec::new(),
        layer_facts: vec![LayerFacts {
            files: vec![record],
            facts: vec![PathFacts {
                path: path.to_string(),
                analyzer: NodeAnalyzer.id().to_string(),
                facts: out.facts,
            }],
            ..LayerFacts::default()
        }],
        diagnostics: Vec::new(),
    };

    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let facts = finalize_packages(facts);
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    let after = ALLOCATOR.current_usage().saturating_sub(before);
    // The entries and the project itself (its root package).
    assert_eq!(facts.packages.len(), ENTRIES + 1);
    let vector = ENTRIES * std::mem::size_of::<Package>();
    eprintln!(
        "finalize: {ENTRIES} packages ({vector} bytes of Package structs), peak {peak} bytes above the records, {after} bytes kept"
    );
    // The records are released once copied, the merge collects in place and the vector is
    // sized once: the peak stays within about two package vectors above what came in (it was
    // over three with a doubling vector, the records kept and a second copy out of the merge).
    assert!(
        peak < vector * 2 + vector / 2,
        "finalizing {ENTRIES} packages peaked {peak} bytes above its input ({vector} bytes of packages)"
    );
}
