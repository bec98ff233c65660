//! The labelled corpus under tests/corpus/: every file of `positive/<family>/` holds a
//! credential and must yield a finding; no file of `negative/<family>/` (harmless look-alikes)
//! may. Files are scanned with the built-in rules at the default minimum confidence, by their
//! corpus-relative path (so lockfile names count), after `@@...@@` templates are expanded (see
//! rules/README.md). Prints recall and precision. The archive family is scored by
//! tests/archives.rs.

mod common;

use std::path::Path;

use bulwark_secrets::Scanner;
use common::Gen;

/// Every corpus file but the `archives` family: archives are opened by the layer analyzer
/// (`SecretAnalyzer`), not by `Scanner::scan`, and tests/archives.rs scores them that way.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != "archives")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

#[test]
fn corpus_positives_are_found_and_negatives_are_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let scanner = Scanner::builtin();
    let scan = |path: &Path| {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(path).unwrap();
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => Gen::new(&rel).expand(t).into_bytes(),
            Err(_) => bytes,
        };
        (rel.clone(), scanner.scan(&rel, &text))
    };
    let positives = files(&root.join("positive"));
    let negatives = files(&root.join("negative"));
    assert!(positives.len() >= 80 && negatives.len() >= 40);
    let mut missed = Vec::new();
    for p in &positives {
        let (rel, found) = scan(p);
        if found.is_empty() {
            missed.push(rel);
        }
    }
    let mut flagged = Vec::new();
    for n in &negatives {
        let (rel, found) = scan(n);
        if !found.is_empty() {
            let ids: Vec<_> = found
                .iter()
                .map(|m| format!("{}:{}", m.rule_id, m.line))
                .collect();
            flagged.push(format!("{rel} {ids:?}"));
        }
    }
    let tp = positives.len() - missed.len();
    let recall = tp as f64 / positives.len() as f64;
    let precision = tp as f64 / (tp + flagged.len()).max(1) as f64;
    eprintln!(
        "corpus: {tp}/{} positive files found (recall {:.3}), {}/{} negative files flagged (precision {:.3})",
        positives.len(),
        recall,
        flagged.len(),
        negatives.len(),
        precision
    );
    assert!(
        missed.is_empty() && flagged.is_empty(),
        "missed:\n{}\nflagged:\n{}",
        missed.join("\n"),
        flagged.join("\n")
    );
}
