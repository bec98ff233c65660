//! Memory bound of reading a VEX document (issue 13.10), measured by counting every
//! allocation of this test binary (moved here from bulwark-report with the VEX reader).

use bulwark_policy::vex;
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

#[test]
fn a_padded_vex_document_is_skipped_not_stored() {
    // 13.10: what the format does not use is skipped, not stored: 8 MiB of zeros cost nothing.
    let zeros = "0,".repeat(4 << 20);
    let vex_doc = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "padding": [{zeros}0], "statements": []}}"#
    );
    let (statements, peak) = peak_during(|| vex::parse(vex_doc.as_bytes(), "v.json").unwrap());
    assert!(statements.is_empty());
    assert!(
        peak < 64 << 10,
        "a padded VEX document peaked at {peak} bytes"
    );
}
