//! A plain Debian root filesystem must yield no findings: every regular file
//! of the `minbase` test image (and of `python` and `big`, when they have been
//! built) is scanned the way the image walker will (image-relative path, at
//! most `max_file_bytes`).
//!
//! The rootfs is built by `python3 scripts/build-test-images.py minbase` into
//! `<repo>/.cache/testimages` (or `$BULWARK_TESTIMAGES`). When it is missing
//! the test fails, unless `BULWARK_SKIP_REAL_IMAGES` is set.
//!
//! Packages do ship key-like material in some images (test keys in
//! `/usr/share/doc`, example certificates); such findings would be real key
//! material and are reported, so they would have to be listed in `EXPECTED`.
//! The Debian bookworm minbase, python3 and build-essential images contain
//! none: `EXPECTED` is empty.

use std::io::Read;
use std::path::{Path, PathBuf};

use bulwark_secrets::Scanner;

/// `(image, path, rule id)` of findings that are real and expected.
const EXPECTED: &[(&str, &str, &str)] = &[];

fn images_dir() -> PathBuf {
    match std::env::var_os("BULWARK_TESTIMAGES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages"),
    }
}

fn scan_tree(scanner: &Scanner, root: &Path) -> (usize, Vec<(String, String)>) {
    let mut files = 0;
    let mut found = Vec::new();
    let mut buf = Vec::new();
    for e in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        buf.clear();
        let Ok(f) = std::fs::File::open(e.path()) else {
            continue;
        };
        if f.take(scanner.max_file_bytes())
            .read_to_end(&mut buf)
            .is_err()
        {
            continue;
        }
        files += 1;
        for m in scanner.scan(&rel, &buf) {
            found.push((
                rel.clone(),
                format!("{}:{}:{} {}", rel, m.line, m.column, m.rule_id),
            ));
        }
    }
    (files, found)
}

#[test]
fn plain_debian_images_yield_no_findings() {
    let dir = images_dir();
    let minbase = dir.join("minbase/rootfs");
    if !minbase.join("etc/debian_version").is_file() {
        if std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_some() {
            eprintln!(
                "skipping: {} missing and BULWARK_SKIP_REAL_IMAGES is set",
                minbase.display()
            );
            return;
        }
        panic!(
            "the Debian test rootfs {} is missing; build it with `python3 scripts/build-test-images.py minbase` (or set BULWARK_SKIP_REAL_IMAGES=1 to skip)",
            minbase.display()
        );
    }
    let scanner = Scanner::builtin();
    let mut unexpected = Vec::new();
    for image in ["minbase", "python", "big"] {
        let root = dir.join(image).join("rootfs");
        if image != "minbase" && !root.join("etc/debian_version").is_file() {
            continue;
        }
        let (files, found) = scan_tree(&scanner, &root);
        eprintln!("{image}: {files} files, {} findings", found.len());
        assert!(files > 1000, "{image}: only {files} files");
        for (path, desc) in found {
            if !EXPECTED
                .iter()
                .any(|(i, p, r)| *i == image && *p == path && desc.ends_with(r))
            {
                unexpected.push(format!("{image}: {desc}"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexpected findings:\n{}",
        unexpected.join("\n")
    );
}
