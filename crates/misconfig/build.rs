//! Embeds every check's metadata file (`checks/<kind>/<ID>.yaml`) so that adding a check is
//! adding a file: no list to keep in step by hand.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time, not `env!`: a build script binary reused from another checkout
    // (a copied target/ dir) would otherwise embed that checkout's files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("checks");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for kind in std::fs::read_dir(&root).expect("checks/ exists") {
        let kind = kind.expect("readable checks/").path();
        if !kind.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", kind.display());
        for entry in std::fs::read_dir(&kind).expect("readable kind dir") {
            let path = entry.expect("readable entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from("/// Every check's metadata file: (path under checks/, text).\npub(crate) const CHECK_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        let rel = path.strip_prefix(&root).expect("under checks/");
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            rel.display().to_string(),
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("checks.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
