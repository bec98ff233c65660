//! Embeds every rule family file (`rules/<family>.yaml`) so that adding a family is adding a
//! file, and the binary stays one file.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time, not `env!`: a build script binary reused from another checkout (a
    // copied target/ dir) would otherwise embed that checkout's files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("rules");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&root).expect("rules/ exists") {
        let path = entry.expect("readable rules/").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            println!("cargo:rerun-if-changed={}", path.display());
            files.push(path);
        }
    }
    files.sort();
    let mut out = String::from(
        "/// Every rule family file: (file name under rules/, text).\npub(crate) const RULE_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let name = path.file_name().expect("a file name").to_string_lossy();
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            name,
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("rule_files.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
