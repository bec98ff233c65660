//! Rust crates: `Cargo.lock` files (formats v1–v4) and binaries built with `cargo auditable`,
//! whose `.dep-v0` section (ELF, PE; `__DATA,.dep-v0` in Mach-O) holds zlib-compressed JSON:
//! `{"packages":[{"name","version","source","kind","dependencies":[index…],"root"}]}`.
//!
//! Choices, documented because peers differ:
//! * Every crate is listed, the root crate and path-only workspace members too (cargo
//!   metadata lists them, and so do syft and trivy); their purl is `pkg:cargo/name@version`
//!   like any other crate. Git crates are listed with their `version`.
//! * From auditable data, `kind: "build"` crates (build-script and proc-macro build
//!   dependencies: compiled, not linked into the binary) are kept and marked `dev`.
//! * Auditable data is capped at 8 MiB decompressed; a section that inflates further (a zip
//!   bomb) is refused with a problem.
//! * Only the container's `.dep-v0` section is read. Binaries built without auditable carry no
//!   crate list (the `/rustc/<hash>/` and `.cargo/registry/src/…/crate-1.2.3/` paths in their
//!   panic messages would be a heuristic; not done). A container that does not parse at all is
//!   reported by the `go` analyzer, which reads every executable, unless it mentions `.dep-v0`.
//! * `Cargo.lock`s inside the cargo registry, git checkouts, vendor trees and the Rust
//!   toolchain's own sources (`lib/rustlib/src`) are authors' files, not this image's builds,
//!   and are skipped.

use std::io::Read;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageRole};
use object::{Object, ObjectSection};
use serde::Deserialize;

use super::golang::{executable_interest, open_executable, EXECUTABLE_MAGIC};

pub struct RustAnalyzer;

/// Audit data larger than this once inflated is refused (real data is a few KiB per hundred
/// crates).
pub const MAX_AUDIT_JSON: u64 = 8 << 20;
const SECTION: &str = ".dep-v0";

fn cargo_lock_wanted(path: &str) -> bool {
    let p = format!("/{path}");
    let skipped = [
        "/.cargo/registry/",
        "/.cargo/git/",
        "/usr/share/cargo/registry/",
        "/vendor/",
        "/rustlib/",
        "/target/package/",
    ];
    !skipped.iter().any(|s| p.contains(s))
}

impl Analyzer for RustAnalyzer {
    fn id(&self) -> &'static str {
        "rust"
    }

    fn version(&self) -> u32 {
        3
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        if file.file_name() == "Cargo.lock" {
            return if cargo_lock_wanted(file.path) {
                Interest::Read {
                    max_bytes: 16 << 20,
                }
            } else {
                Interest::Skip
            };
        }
        executable_interest(file)
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let result = if file.file_name() == "Cargo.lock"
            && !EXECUTABLE_MAGIC.iter().any(|m| content.starts_with(m))
        {
            parse_cargo_lock(&super::decode_text(content)).map(|r| (super::declared(r), Vec::new()))
        } else {
            match read_auditable(content) {
                Ok(Some(found)) => Ok(found),
                Ok(None) => return,
                Err(e) => Err(e),
            }
        };
        match result {
            Ok((records, problems)) => {
                for p in problems {
                    out.problem(p);
                }
                if !records.is_empty() {
                    out.fact(Fact::Packages { records });
                }
            }
            Err(e) => out.problem(e),
        }
    }
}

/// The crates of a `Cargo.lock`: `[[package]]` entries, and the `[root]` table of the oldest
/// v1 files.
pub fn parse_cargo_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("Cargo.lock is not valid TOML: {e}"))?;
    let mut entries: Vec<&toml::Table> = Vec::new();
    let v1_root = doc.get("root").and_then(|r| r.as_table());
    if let Some(root) = v1_root {
        entries.push(root);
    }
    match doc.get("package") {
        Some(toml::Value::Array(packages)) => {
            entries.extend(packages.iter().filter_map(|p| p.as_table()))
        }
        Some(_) => return Err("Cargo.lock's `package` is not an array of tables".into()),
        None if entries.is_empty() => return Err("Cargo.lock has no [[package]] entries".into()),
        None => {}
    }
    let mut out = Vec::new();
    let mut incomplete = 0;
    for p in entries {
        let get = |k: &str| p.get(k).and_then(|v| v.as_str());
        let (Some(name), Some(version)) = (get("name"), get("version")) else {
            incomplete += 1;
            continue;
        };
        let mut r = PackageRecord::new(Ecosystem::Cargo, name, version);
        if let Some(deps) = p.get("dependencies").and_then(|d| d.as_array()) {
            // "name", "name version" or "name version (source)"
            r.dependencies = deps
                .iter()
                .filter_map(|d| d.as_str()?.split_whitespace().next().map(str::to_string))
                .collect();
        }
        // Crates without a `source` are the workspace's own (path) crates. The lock does not
        // say which one is the root: the v1 `[root]` table, or the only local crate, is.
        if p.get("source").is_none() {
            r.role = PackageRole::Member;
        }
        out.push(r);
    }
    let local = out.iter().filter(|r| r.role == PackageRole::Member).count();
    if let Some(first) = out.first_mut().filter(|_| v1_root.is_some()) {
        first.role = PackageRole::Root;
    } else if local == 1 {
        if let Some(only) = out.iter_mut().find(|r| r.role == PackageRole::Member) {
            only.role = PackageRole::Root;
        }
    }
    if out.is_empty() && incomplete > 0 {
        return Err(format!(
            "Cargo.lock has {incomplete} package entries without name or version"
        ));
    }
    Ok(out)
}

/// The crates recorded by `cargo auditable` in an executable, with problems about parts of the
/// data that were skipped. `Ok(None)`: a readable executable without audit data.
#[allow(clippy::type_complexity)]
pub fn read_auditable(bytes: &[u8]) -> Result<Option<(Vec<PackageRecord>, Vec<String>)>, String> {
    let file = match open_executable(bytes) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        // The go analyzer reports unreadable executables; say it here only for a likely
        // auditable binary.
        Err(e) if contains(bytes, SECTION.as_bytes()) => return Err(e),
        Err(_) => return Ok(None),
    };
    let Some(section) = file.section_by_name(SECTION) else {
        return Ok(None);
    };
    let compressed = section
        .data()
        .map_err(|e| format!("cargo auditable section {SECTION} is outside the file: {e}"))?;
    let json = inflate_capped(compressed)?;
    parse_auditable_json(&json).map(Some)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// zlib-inflates at most [`MAX_AUDIT_JSON`] bytes.
pub fn inflate_capped(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("cargo auditable data in {SECTION} is not valid zlib: {e}"))?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(format!(
            "cargo auditable data in {SECTION} inflates to more than {} MiB; refused as a decompression bomb",
            MAX_AUDIT_JSON >> 20
        ));
    }
    Ok(json)
}

#[derive(Deserialize)]
struct AuditData {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<u64>,
}

/// Parses the inflated JSON of a `.dep-v0` section.
#[allow(clippy::type_complexity)]
pub fn parse_auditable_json(json: &[u8]) -> Result<(Vec<PackageRecord>, Vec<String>), String> {
    let data: AuditData = serde_json::from_slice(json)
        .map_err(|e| format!("cargo auditable data in {SECTION} is not valid: {e}"))?;
    let mut problems = Vec::new();
    let mut bad_indices = 0usize;
    let records = data
        .packages
        .iter()
        .map(|p| {
            let mut r = PackageRecord::new(Ecosystem::Cargo, &p.name, &p.version);
            r.dev = p.kind.as_deref() == Some("build");
            r.dependencies = p
                .dependencies
                .iter()
                .filter_map(|&i| {
                    let dep = usize::try_from(i).ok().and_then(|i| data.packages.get(i));
                    if dep.is_none() {
                        bad_indices += 1;
                    }
                    dep.map(|d| d.name.clone())
                })
                .collect();
            r
        })
        .collect();
    if bad_indices > 0 {
        problems.push(format!(
            "cargo auditable data has {bad_indices} dependency index(es) past its {} packages; they were ignored",
            data.packages.len()
        ));
    }
    Ok((records, problems))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::golang::testelf::{build, mutate, Section, XorShift};
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const AUDIT: &str = r#"{"packages": [{"name": "autocfg", "version": "1.5.1", "source": "crates.io", "kind": "build"}, {"name": "libc", "version": "0.2.191", "source": "crates.io"}, {"name": "memoffset", "version": "0.5.6", "source": "crates.io", "dependencies": [0]}, {"name": "rustapp", "version": "0.1.0", "source": "local", "dependencies": [2, 4, 5], "root": true}, {"name": "smallvec", "version": "1.6.0", "source": "crates.io"}, {"name": "time", "version": "0.1.43", "source": "crates.io", "dependencies": [1]}], "format": 1}"#;

    fn auditable_elf(section: Vec<u8>) -> Vec<u8> {
        build(&[
            Section::progbits(".text", 0x401000, vec![0xc3; 32]),
            Section {
                name: ".dep-v0",
                addr: 0,
                data: section,
                kind: 1,
                link: 0,
                entsize: 0,
            },
        ])
    }

    #[test]
    fn reads_auditable_binary() {
        let (records, problems) = read_auditable(&auditable_elf(zlib(AUDIT.as_bytes())))
            .unwrap()
            .unwrap();
        assert!(problems.is_empty());
        let got: Vec<(&str, &str, bool)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str(), r.dev))
            .collect();
        assert_eq!(
            got,
            vec![
                ("autocfg", "1.5.1", true),
                ("libc", "0.2.191", false),
                ("memoffset", "0.5.6", false),
                ("rustapp", "0.1.0", false),
                ("smallvec", "1.6.0", false),
                ("time", "0.1.43", false),
            ]
        );
        assert_eq!(
            records[3].dependencies,
            vec!["memoffset", "smallvec", "time"]
        );
        let plain = build(&[Section::progbits(".text", 0x401000, vec![0xc3; 32])]);
        assert_eq!(read_auditable(&plain).unwrap(), None);
    }

    #[test]
    fn hostile_audit_data() {
        // A zip bomb: 64 MiB of zeros compresses to ~64 KiB.
        let bomb = zlib(&vec![0u8; 64 << 20]);
        let e = read_auditable(&auditable_elf(bomb)).unwrap_err();
        assert!(e.contains("decompression bomb"), "{e}");
        let e = read_auditable(&auditable_elf(b"not zlib".to_vec())).unwrap_err();
        assert!(e.contains("not valid zlib"), "{e}");
        let e = read_auditable(&auditable_elf(zlib(b"{\"packages\": 7}"))).unwrap_err();
        assert!(e.contains("not valid"), "{e}");
        let (records, problems) =
            parse_auditable_json(br#"{"packages":[{"name":"a","version":"1.0.0","dependencies":[0, 5, 18446744073709551615]}]}"#).unwrap();
        assert_eq!(records[0].dependencies, vec!["a"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // A corrupt container that mentions .dep-v0 is reported; other garbage is the go analyzer's.
        assert!(read_auditable(b"\x7fELF\x02\x01\x01 garbage .dep-v0").is_err());
        assert_eq!(
            read_auditable(b"\x7fELF\x02\x01\x01 garbage").unwrap(),
            None
        );
    }

    #[test]
    fn reads_cargo_lock_formats() {
        let v1 = r#"[root]
name = "app"
version = "0.1.0"
dependencies = [
 "smallvec 0.6.9 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "smallvec"
version = "0.6.9"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum smallvec 0.6.9 (registry+https://github.com/rust-lang/crates.io-index)" = "c4488ae950c49d403731982257768f48fada354a5203fe81f9bb6f43ca9002be"
"#;
        let r = parse_cargo_lock(v1).unwrap();
        assert_eq!(
            (
                r[0].name.as_str(),
                r[1].name.as_str(),
                r[1].version.as_str()
            ),
            ("app", "smallvec", "0.6.9")
        );
        assert_eq!(r[0].dependencies, vec!["smallvec"]);

        let v3 = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "gitdep",
 "time 0.1.43",
 "time 0.3.36",
]

[[package]]
name = "gitdep"
version = "0.2.0"
source = "git+https://github.com/example/gitdep?rev=abc123#abc123def456"

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"

[[package]]
name = "time"
version = "0.3.36"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let r = parse_cargo_lock(v3).unwrap();
        let got: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("app", "0.1.0"),
                ("gitdep", "0.2.0"),
                ("time", "0.1.43"),
                ("time", "0.3.36")
            ]
        );
        assert_eq!(r[0].dependencies, vec!["gitdep", "time", "time"]);

        assert!(parse_cargo_lock("version = 4\n").is_err());
        assert!(parse_cargo_lock("[[package]\n").is_err());
        assert!(parse_cargo_lock("package = 3\n").is_err());
        assert!(parse_cargo_lock("[[package]]\nname = \"x\"\n").is_err());
    }

    #[test]
    fn lockfile_paths() {
        assert!(cargo_lock_wanted("src/rustapp/Cargo.lock"));
        assert!(!cargo_lock_wanted(
            "root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/x-1.0.0/Cargo.lock"
        ));
        assert!(!cargo_lock_wanted(
            "usr/local/rustup/toolchains/stable/lib/rustlib/src/rust/Cargo.lock"
        ));
    }

    #[test]
    fn fuzzed_auditable_never_panics() {
        let base = auditable_elf(zlib(AUDIT.as_bytes()));
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..4000 {
            let bytes = mutate(&base, &mut rng);
            let _ = read_auditable(&bytes);
            let mut out = AnalyzerOutput::default();
            let meta = FileMeta {
                path: "usr/local/bin/app",
                kind: FileKind::Regular,
                size: bytes.len() as u64,
                mode: 0o755,
            };
            RustAnalyzer.analyze(&meta, &bytes, &mut out);
        }
        for _ in 0..2000 {
            let _ = parse_auditable_json(&mutate(AUDIT.as_bytes(), &mut rng));
        }
    }
}
