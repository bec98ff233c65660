//! Every format of the sample report, byte for byte, against files the renderers wrote before
//! they shared one view of findings: a change to any output fails here until it is reviewed
//! and the files are rewritten (`BULWARK_BLESS=1 cargo test -p bulwark-report --test formats golden`).

use std::path::Path;

use crate::common::*;

#[test]
fn every_format_of_the_sample_report_matches_its_golden_file() {
    let report = sample_report();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let bless = std::env::var_os("BULWARK_BLESS").is_some();
    let mut changed = Vec::new();
    for format in ALL_FORMATS {
        let file = dir.join(format!("sample.{}", format!("{format:?}").to_lowercase()));
        let got = render(&report, format);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (BULWARK_BLESS=1 writes it)", file.display()));
        if got != want {
            changed.push(file.display().to_string());
        }
    }
    assert!(changed.is_empty(), "output changed: {changed:?}");
}
