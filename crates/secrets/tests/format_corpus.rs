//! The credential-file families of the labelled corpus (`tests/corpus/{positive,negative}/
//! <family>/`, written by `tests/corpus/gen_formats.py`): every positive file yields a
//! finding, every negative file (placeholder, default, locked variants) yields none. Files
//! are scanned with their path below the family directory (`a/etc/shadow`), the way an
//! image-relative path reaches the scanner, so name-based format detection is exercised.

use std::path::{Path, PathBuf};

use bulwark_secrets::{Confidence, Scanner};

/// The families this test owns (others in the corpus belong to the rule tests).
const FAMILIES: &[&str] = &[
    "git-credentials",
    "netrc",
    "pgpass",
    "shadow",
    "htpasswd",
    "esmtprc",
    "irc",
    "filezilla",
    "sftp",
    "jetbrains",
    "dbeaver",
    "robomongo",
    "ventrilo",
    "docker",
    "pypirc",
    "npmrc",
    "s3cfg",
    "boto",
    "aws",
    "mycnf",
    "django",
    "rails",
    "mongoid",
    "wordpress",
    "php",
    "salesforce",
    "dotnet",
    "gradle",
    "maven",
    "spring",
    "hashes",
    "jenkins",
    "firefox",
    "cli-tokens",
    "winscp",
];

/// Positives whose format says "maybe": reported with medium confidence only.
const MEDIUM: &[&str] = &[
    // `{…}`: encrypted with the Maven master password (settings-security.xml).
    "maven/c/settings.xml",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// `(path below the family dir, findings as "rule_id@line:col")` of every file, and the
/// highest confidence among its findings.
type Scanned = (String, Vec<String>, Option<Confidence>);

fn scan_family(scanner: &Scanner, kind: &str, family: &str) -> Vec<Scanned> {
    let root = corpus().join(kind).join(family);
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let e = e.expect("corpus is readable");
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(&root).expect("below root");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(e.path()).expect("corpus file is readable");
        let matches = scanner.scan(&rel, &bytes);
        let best = matches.iter().map(|m| m.confidence).max();
        let found = matches
            .into_iter()
            .map(|m| format!("{}@{}:{}", m.rule_id, m.line, m.column))
            .collect();
        out.push((rel, found, best));
    }
    out
}

#[test]
fn credential_file_families_positive_and_negative() {
    let scanner = Scanner::builtin();
    let mut missed = Vec::new();
    let mut flagged = Vec::new();
    let (mut npos, mut nneg) = (0, 0);
    for family in FAMILIES {
        let pos = scan_family(&scanner, "positive", family);
        let neg = scan_family(&scanner, "negative", family);
        assert!(pos.len() >= 2, "{family}: fewer than 2 positive files");
        assert!(!neg.is_empty(), "{family}: no negative file");
        npos += pos.len();
        nneg += neg.len();
        // The file format says "credential": high. Hashes in arbitrary files: medium.
        let want = |path: &str| {
            if *family == "hashes" || MEDIUM.contains(&format!("{family}/{path}").as_str()) {
                Confidence::Medium
            } else {
                Confidence::High
            }
        };
        for (path, _, best) in pos {
            let want = want(&path);
            if best.is_none_or(|b| b < want) {
                missed.push(format!("{family}/{path} (best {best:?}, want {want:?})"));
            }
        }
        for (path, found, _) in neg {
            if !found.is_empty() {
                flagged.push(format!("{family}/{path}: {found:?}"));
            }
        }
    }
    assert!(
        missed.is_empty() && flagged.is_empty(),
        "{} of {npos} positives missed: {missed:#?}\n{} of {nneg} negatives flagged: {flagged:#?}",
        missed.len(),
        flagged.len()
    );
}

#[test]
fn shadow_hashes_are_reported_at_their_field() {
    let scanner = Scanner::builtin();
    let found = scan_family(&scanner, "positive", "shadow");
    let a = &found
        .iter()
        .find(|(p, _, _)| p == "a/etc/shadow")
        .expect("a/etc/shadow")
        .1;
    assert_eq!(
        a,
        &["shadow-password-hash@1:6", "shadow-password-hash@12:7"],
        "root on line 1 and admin on line 12, each at the start of field 2"
    );
    // The same bytes under another name are not a shadow file, but the hashes still are
    // hashes (medium confidence, by structure).
    let bytes = std::fs::read(corpus().join("positive/shadow/a/etc/shadow")).unwrap();
    let elsewhere: Vec<(String, Confidence)> = scanner
        .scan("home/u/notes.txt", &bytes)
        .into_iter()
        .map(|m| (m.rule_id, m.confidence))
        .collect();
    let medium = ("password-hash".to_string(), Confidence::Medium);
    assert_eq!(elsewhere, [medium.clone(), medium]);
}

/// The real Debian images have only locked accounts: their `/etc/shadow` and `gshadow`
/// must reach the format parser and yield nothing.
#[test]
fn debian_shadow_files_yield_nothing() {
    let images = match std::env::var_os("BULWARK_TESTIMAGES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages"),
    };
    let scanner = Scanner::builtin();
    let mut seen = 0;
    for image in ["minbase", "python", "lang", "big"] {
        for name in [
            "etc/shadow",
            "etc/gshadow",
            "etc/passwd",
            "etc/shadow-",
            "etc/gshadow-",
        ] {
            let Ok(bytes) = std::fs::read(images.join(image).join("rootfs").join(name)) else {
                continue;
            };
            seen += 1;
            let found = scanner.scan(name, &bytes);
            assert!(found.is_empty(), "{image}:{name}: {found:?}");
        }
    }
    if seen == 0 && std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_none() {
        panic!("no test image rootfs found (build them with scripts/build-test-images.py)");
    }
}
