//! scripts/self-scan.sh: bulwark scanning a Cargo.lock against the RustSec advisories copied
//! into data/advisories/rustsec, failing on any finding its ignore file does not excuse.

use std::path::Path;
use std::process::Command;

fn self_scan(lock: &str) -> (Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.lock");
    std::fs::write(&path, lock).unwrap();
    let out = Command::new("bash")
        .arg(root.join("scripts/self-scan.sh"))
        .arg(&path)
        .env("BULWARK_BIN", env!("CARGO_BIN_EXE_bulwark"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn lock_with(name: &str, version: &str) -> String {
    format!(
        "version = 4\n\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\ndependencies = [\"{name}\"]\n\n\
         [[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    )
}

/// A planted vulnerable crate (quick-xml 0.37.5: RUSTSEC-2026-0194, fixed in 0.41.0) fails
/// the self-scan; the fixed version passes.
#[test]
fn self_scan_fails_on_a_planted_vulnerable_crate() {
    let (code, text) = self_scan(&lock_with("quick-xml", "0.37.5"));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("RUSTSEC-2026-0194"), "{text}");

    let (code, text) = self_scan(&lock_with("quick-xml", "0.41.0"));
    assert_eq!(code, Some(0), "{text}");
}

/// A finding the ignore file excuses (with its reason and expiry) does not fail it.
#[test]
fn self_scan_honours_its_ignore_file() {
    let (code, text) = self_scan(&lock_with("rsa", "0.9.10"));
    assert_eq!(code, Some(0), "{text}");
}
