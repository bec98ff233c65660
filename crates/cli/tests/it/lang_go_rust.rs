//! Go and Rust packages in the real `lang` image (built by `scripts/build-test-images.py lang`
//! with `scripts/testdata/go-rust.sh`), checked against `go version -m` and `cargo metadata`
//! run on the same builds, plus go.mod / Cargo.lock fixtures and hostile binaries.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_catalog::lang::{golang, rust};
use serde_json::Value;

use crate::util::*;

/// The `lang` image with this module's ground truth, or `None` when skipping on purpose.
fn lang_image() -> Option<PathBuf> {
    test_image("lang", &["expected/go-version-m.txt"])
}

fn scan_lang() -> Option<(PathBuf, Value)> {
    let dir = lang_image()?;
    let (code, report, stderr) = scan_json(&format!("oci:{}", dir.join("oci").display()), &[]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let ours: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["analyzer"] == "go" || d["analyzer"] == "rust")
        .collect();
    assert!(
        ours.is_empty(),
        "no go/rust diagnostics on the lang image: {ours:#?}"
    );
    assert!(code == 0 || code == 3, "{stderr}");
    Some((dir, report))
}

/// `(name, version, purl)` of the packages of `ecosystem` read from `found_in`.
fn found_in(report: &Value, ecosystem: &str, path: &str) -> BTreeSet<(String, String, String)> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["ecosystem"] == ecosystem
                && p["found_in"].as_array().unwrap().iter().any(|f| f == path)
        })
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["purl"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The package objects of `ecosystem` read (among others) from `path`.
fn records_in<'a>(report: &'a Value, ecosystem: &str, path: &str) -> Vec<&'a Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["ecosystem"] == ecosystem
                && p["found_in"].as_array().unwrap().iter().any(|f| f == path)
        })
        .collect()
}

fn go_purl(path: &str, version: &str) -> String {
    let version = version.replace('(', "%28").replace(')', "%29");
    format!("pkg:golang/{path}@{version}")
}

/// What `go version -m` says, as `(main module, deps after replacement, stdlib version)`:
/// a module replacement is the replacement; a local-directory replacement keeps the
/// requirement (see crates/catalog/src/lang/golang.rs).
struct GoTruth {
    main: (String, String),
    deps: BTreeSet<(String, String)>,
    stdlib: String,
}

fn go_truth(dir: &Path) -> GoTruth {
    let text = std::fs::read_to_string(dir.join("expected/go-version-m.txt")).unwrap();
    let mut lines = text.lines();
    let go = lines
        .next()
        .unwrap()
        .rsplit(": ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let stdlib = format!("v{}", go.strip_prefix("go").unwrap());
    let mut main = None;
    let mut deps: Vec<(String, String)> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match f[0] {
            "mod" => main = Some((f[1].to_string(), f[2].to_string())),
            "dep" => deps.push((f[1].to_string(), f[2].to_string())),
            "=>" => {
                let local =
                    f[1].starts_with("./") || f[1].starts_with("../") || f[1].starts_with('/');
                if !local {
                    *deps.last_mut().unwrap() = (f[1].to_string(), f[2].to_string());
                }
            }
            _ => {}
        }
    }
    GoTruth {
        main: main.unwrap(),
        deps: deps.into_iter().collect(),
        stdlib,
    }
}

/// `(name, version)` of the packages in `cargo metadata`'s resolve graph.
fn cargo_truth(dir: &Path, file: &str) -> BTreeSet<(String, String)> {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected").join(file)).unwrap())
            .unwrap();
    let ids: BTreeSet<&str> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| ids.contains(p["id"].as_str().unwrap()))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn go_binary_matches_go_version_m() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let truth = go_truth(&dir);
    let mut want: BTreeSet<(String, String, String)> = truth
        .deps
        .iter()
        .map(|(n, v)| (n.clone(), v.clone(), go_purl(n, v)))
        .collect();
    want.insert((
        truth.main.0.clone(),
        truth.main.1.clone(),
        go_purl(&truth.main.0, &truth.main.1),
    ));
    want.insert((
        "stdlib".into(),
        truth.stdlib.clone(),
        format!("pkg:golang/stdlib@{}", truth.stdlib),
    ));
    let got = found_in(&report, "go", "/usr/local/bin/goapp");
    assert_eq!(got, want);
    assert!(got.contains(&(
        "golang.org/x/text".into(),
        "v0.7.0".into(),
        "pkg:golang/golang.org/x/text@v0.7.0".into()
    )));
    assert!(
        got.iter().any(|p| p.0 == "stdlib" && p.1 == "v1.19.8"),
        "Debian 12's Go: {got:?}"
    );

    let goapp = records_in(&report, "go", "/usr/local/bin/goapp");
    let fork = goapp
        .iter()
        .find(|p| p["name"] == "example.com/fork/uuid")
        .unwrap();
    assert_eq!(
        fork["source"]["name"], "github.com/google/uuid",
        "the replaced requirement is kept"
    );
    let errors = goapp
        .iter()
        .find(|p| p["name"] == "github.com/pkg/errors")
        .unwrap();
    assert_eq!(errors["version"], "v0.9.1");
    assert_eq!(errors["source"]["name"], "./third_party/errors");
    let layer = &goapp[0]["layer"];
    assert!(
        layer["created_by"]
            .as_str()
            .unwrap()
            .contains("go and rust"),
        "{layer}"
    );
}

#[test]
fn go_mod_lists_requirements_with_replacements() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let truth = go_truth(&dir);
    let mut want: BTreeSet<(String, String, String)> = truth
        .deps
        .iter()
        .map(|(n, v)| (n.clone(), v.clone(), go_purl(n, v)))
        .collect();
    // Issue 18.5: go.mod's own module (its unknown version joins the binary's main module,
    // `(devel)`) and the stdlib of its `go` line.
    want.insert((
        "example.com/goapp".into(),
        "(devel)".into(),
        "pkg:golang/example.com/goapp@%28devel%29".into(),
    ));
    want.insert((
        "stdlib".into(),
        "v1.19.0".into(),
        "pkg:golang/stdlib@v1.19.0".into(),
    ));
    assert_eq!(found_in(&report, "go", "/src/goapp/go.mod"), want);
}

#[test]
fn rust_binary_matches_cargo_metadata_for_linux() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let want = cargo_truth(&dir, "cargo-metadata-linux.json");
    let got: BTreeSet<(String, String)> = found_in(&report, "cargo", "/usr/local/bin/rustapp")
        .into_iter()
        .map(|(n, v, purl)| {
            assert_eq!(purl, format!("pkg:cargo/{n}@{v}"));
            (n, v)
        })
        .collect();
    assert_eq!(got, want);
    assert!(got.contains(&("smallvec".into(), "1.6.0".into())));
    assert!(
        !got.iter().any(|(n, _)| n.starts_with("winapi")),
        "Windows-only crates are not in a Linux binary"
    );
    let rustapp = records_in(&report, "cargo", "/usr/local/bin/rustapp");
    let autocfg = rustapp.iter().find(|p| p["name"] == "autocfg").unwrap();
    assert_eq!(autocfg["dev"], true, "build-only crates are marked dev");
}

#[test]
fn cargo_lock_matches_cargo_metadata() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let want = cargo_truth(&dir, "cargo-metadata.json");
    let got: BTreeSet<(String, String)> = found_in(&report, "cargo", "/src/rustapp/Cargo.lock")
        .into_iter()
        .map(|(n, v, purl)| {
            assert_eq!(purl, format!("pkg:cargo/{n}@{v}"));
            (n, v)
        })
        .collect();
    assert_eq!(got, want);
    for crate_ in [
        ("smallvec", "1.6.0"),
        ("time", "0.1.43"),
        ("memoffset", "0.5.6"),
        ("winapi", "0.3.9"),
    ] {
        assert!(
            got.contains(&(crate_.0.into(), crate_.1.into())),
            "{crate_:?} in {got:?}"
        );
    }
}

#[test]
fn go_function_names_come_from_the_symbol_table() {
    let Some(dir) = lang_image() else { return };
    let bytes = std::fs::read(dir.join("rootfs/usr/local/bin/goapp")).unwrap();
    let names = golang::go_function_names(&bytes).unwrap();
    for f in [
        "main.main",
        "golang.org/x/text/language.MustParse",
        "github.com/google/uuid.NewSHA1",
    ] {
        assert!(
            names.iter().any(|n| n == f),
            "{f} missing among {} names",
            names.len()
        );
    }
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Mutates a few bytes or words of `b` in place and sometimes truncates it; returns the undo log.
fn mutate(b: &mut [u8], rng: &mut XorShift, focus: Option<(usize, usize)>) -> Vec<(usize, u8)> {
    let mut undo = Vec::new();
    for _ in 0..1 + rng.next() % 6 {
        let (lo, len) = focus
            .filter(|_| rng.next().is_multiple_of(2))
            .unwrap_or((0, b.len()));
        let at = lo + (rng.next() % len.max(1) as u64) as usize;
        let width = if rng.next().is_multiple_of(2) { 1 } else { 8 };
        let v = rng.next().to_le_bytes();
        for (i, value) in v.iter().take(width).enumerate() {
            if let Some(byte) = b.get_mut(at + i) {
                undo.push((at + i, *byte));
                *byte = *value;
            }
        }
    }
    undo
}

/// The file range of an ELF64 little-endian section, read by hand (tests do not link `object`).
fn section_range(bytes: &[u8], name: &str) -> Option<(usize, usize)> {
    let u16_at =
        |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?) as usize);
    let u32_at =
        |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?) as usize);
    let u64_at =
        |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?) as usize);
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28)?, u16_at(0x3a)?, u16_at(0x3c)?, u16_at(0x3e)?);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18)?;
    (0..shnum).find_map(|i| {
        let at = strtab + u32_at(header(i))?;
        let end = at + bytes.get(at..)?.iter().position(|&b| b == 0)?;
        (&bytes[at..end] == name.as_bytes())
            .then(|| Some((u64_at(header(i) + 0x18)?, u64_at(header(i) + 0x20)?)))?
    })
}

#[test]
fn fuzzed_real_binaries_never_panic() {
    let Some(dir) = lang_image() else { return };
    let mut rng = XorShift(0x0005_eed0_fb01_0a2c);
    for (bin, sections) in [
        ("goapp", [".go.buildinfo", ".symtab", ".shstrtab"]),
        ("rustapp", [".dep-v0", ".symtab", ".shstrtab"]),
    ] {
        let original = std::fs::read(dir.join("rootfs/usr/local/bin").join(bin)).unwrap();
        assert!(golang::read_buildinfo(&original).is_ok());
        assert!(rust::read_auditable(&original).is_ok());
        let mut bytes = original.clone();
        for i in 0..300 {
            // Aim at the header, the parsed sections and the section header table half the time.
            let focus = match i % 4 {
                0 => Some((0, 64)),
                1 | 2 => section_range(&original, sections[i % 3]),
                _ => None,
            };
            let undo = mutate(&mut bytes, &mut rng, focus);
            let cut = if i % 10 == 9 {
                (rng.next() % bytes.len() as u64) as usize
            } else {
                bytes.len()
            };
            let view = &bytes[..cut];
            let _ = golang::read_buildinfo(view);
            let _ = golang::go_function_names(view);
            let _ = rust::read_auditable(view);
            for (at, old) in undo.into_iter().rev() {
                bytes[at] = old;
            }
        }
        assert_eq!(bytes, original);
    }
}

/// Scans a one-layer image holding `files`.
fn scan_files(files: &[(&str, &[u8])]) -> (i32, Value, String) {
    let mut layer = LayerBuilder::new();
    for (path, content) in files {
        layer = layer.file(path, content);
    }
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(layer.finish(), Compression::Gzip, "COPY . /")
        .write_oci(tmp.path());
    scan_json(&format!("oci:{}", tmp.path().display()), &[])
}

const LOCK_V1: &str = r#"[root]
name = "oldapp"
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

const LOCK_V3: &str = r#"version = 3

[[package]]
name = "app3"
version = "0.2.0"
dependencies = [
 "gitdep",
 "regex",
]

[[package]]
name = "gitdep"
version = "0.3.1"
source = "git+https://github.com/example/gitdep?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "regex"
version = "1.5.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "d07a8629359eb56f1e2fb1652bb04212c072a87ba68546a04065d525673ac461"
"#;

const LOCK_V4: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "app4"
version = "1.0.0"
dependencies = [
 "time 0.1.43",
 "time 0.3.36",
]

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"

[[package]]
name = "time"
version = "0.3.36"
source = "sparse+https://index.crates.io/"
checksum = "5dfd88e563464686c916c7e46e623e520ddc6d79fa6641390f2e3fa86e83e885"
"#;

const GO_MOD: &str = r#"module example.com/svc

go 1.21

require github.com/gin-gonic/gin v1.9.0

require (
	golang.org/x/net v0.7.0 // indirect
	github.com/old/name v1.0.0
	github.com/local/thing v0.4.0
)

replace github.com/old/name => github.com/new/name v1.0.1

replace github.com/local/thing => ../thing
"#;

#[test]
fn lockfile_fixtures_in_every_format() {
    let (code, report, stderr) = scan_files(&[
        ("v1/Cargo.lock", LOCK_V1.as_bytes()),
        ("v3/Cargo.lock", LOCK_V3.as_bytes()),
        ("v4/Cargo.lock", LOCK_V4.as_bytes()),
        ("svc/go.mod", GO_MOD.as_bytes()),
        (
            "root/.cargo/registry/src/x/y-1.0.0/Cargo.lock",
            LOCK_V3.as_bytes(),
        ),
        (
            "root/go/pkg/mod/example.com/z@v1.0.0/go.mod",
            GO_MOD.as_bytes(),
        ),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let strip = |s: BTreeSet<(String, String, String)>| -> Vec<String> {
        s.into_iter().map(|p| p.2).collect()
    };
    assert_eq!(
        strip(found_in(&report, "cargo", "/v1/Cargo.lock")),
        ["pkg:cargo/oldapp@0.1.0", "pkg:cargo/smallvec@0.6.9"]
    );
    assert_eq!(
        strip(found_in(&report, "cargo", "/v3/Cargo.lock")),
        [
            "pkg:cargo/app3@0.2.0",
            "pkg:cargo/gitdep@0.3.1",
            "pkg:cargo/regex@1.5.4"
        ]
    );
    assert_eq!(
        strip(found_in(&report, "cargo", "/v4/Cargo.lock")),
        [
            "pkg:cargo/app4@1.0.0",
            "pkg:cargo/time@0.1.43",
            "pkg:cargo/time@0.3.36"
        ]
    );
    assert_eq!(
        strip(found_in(&report, "go", "/svc/go.mod")),
        [
            // Issue 18.5: the main module (version unknown) and the toolchain's stdlib.
            "pkg:golang/example.com/svc",
            "pkg:golang/github.com/gin-gonic/gin@v1.9.0",
            "pkg:golang/github.com/local/thing@v0.4.0",
            "pkg:golang/github.com/new/name@v1.0.1",
            "pkg:golang/golang.org/x/net@v0.7.0",
            "pkg:golang/stdlib@v1.21.0",
        ]
    );
    let app3 = package(&report, "app3");
    assert_eq!(app3["dependencies"], serde_json::json!(["gitdep", "regex"]));
    let total = report["packages"].as_array().unwrap().len();
    assert_eq!(
        total,
        // go.mod's module and stdlib (issue 18.5) are the two beyond its four requirements.
        2 + 3 + 3 + 4 + 2,
        "registry and module-cache files are skipped: {:?}",
        packages(&report)
    );
}

fn assert_diagnostic(report: &Value, path: &str, analyzer: &str, needle: &str) {
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["path"] == path
            && d["analyzer"] == analyzer
            && d["layer"] == 0
            && d["level"] == "error"
            && d["message"].as_str().unwrap().contains(needle)),
        "expected a {analyzer} error for {path} mentioning {needle:?}: {diags:#?}"
    );
}

#[test]
fn corrupt_binaries_and_lockfiles_are_diagnostics() {
    let mut corrupt = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    corrupt.extend_from_slice(&[0xff; 200]);
    let (code, report, stderr) = scan_files(&[
        ("usr/local/bin/app", &corrupt),
        ("src/a/go.mod", b"this is not a go.mod"),
        ("src/b/Cargo.lock", b"[[package]\nname = "),
        ("src/c/Cargo.lock", LOCK_V4.as_bytes()),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_diagnostic(
        &report,
        "/usr/local/bin/app",
        "go",
        "not a readable executable (ELF)",
    );
    assert_diagnostic(&report, "/src/a/go.mod", "go", "no module directive");
    assert_diagnostic(&report, "/src/b/Cargo.lock", "rust", "not valid TOML");
    assert_eq!(
        packages(&report).len(),
        3,
        "the good lockfile is still read"
    );
    // One diagnostic per broken file: the rust analyzer leaves unreadable executables to go.
    assert_eq!(
        report["diagnostics"].as_array().unwrap().len(),
        3,
        "{}",
        report["diagnostics"]
    );
}

#[test]
fn truncated_real_binaries_are_diagnostics() {
    let Some(dir) = lang_image() else { return };
    let goapp = std::fs::read(dir.join("rootfs/usr/local/bin/goapp")).unwrap();
    let rustapp = std::fs::read(dir.join("rootfs/usr/local/bin/rustapp")).unwrap();
    // ELF section headers sit at the end: cutting the tail breaks the container.
    let (code, report, stderr) = scan_files(&[
        ("usr/local/bin/goapp", &goapp[..goapp.len() / 2]),
        ("usr/local/bin/rustapp", &rustapp[..rustapp.len() - 100]),
        ("usr/local/bin/goapp-ok", &goapp),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_diagnostic(&report, "/usr/local/bin/goapp", "go", "ELF");
    assert_diagnostic(&report, "/usr/local/bin/rustapp", "go", "ELF");
    assert_diagnostic(&report, "/usr/local/bin/rustapp", "rust", "ELF");
    assert!(
        !records_in(&report, "go", "/usr/local/bin/goapp-ok").is_empty(),
        "the intact copy is still read"
    );
}
