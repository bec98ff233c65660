//! Secrets inside archives: the corpus under `tests/corpus/{positive,negative}/archives`
//! (written by `tests/corpus/make_archives.py`) scanned through the analyzer the walker runs,
//! each finding named by the member's path inside the archive.

use std::path::Path;

use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
use bulwark_secrets::{Scanner, SecretAnalyzer};

fn corpus(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind)
        .join("archives")
}

/// (member path, rule id) of every secret found in the archive at `path`, and its notes.
fn scan(analyzer: &SecretAnalyzer, path: &Path) -> (Vec<(String, String)>, Vec<String>) {
    let bytes = std::fs::read(path).unwrap();
    let name = format!("srv/{}", path.file_name().unwrap().to_string_lossy());
    let meta = FileMeta {
        path: &name,
        kind: FileKind::Regular,
        size: bytes.len() as u64,
        mode: 0o644,
    };
    assert!(
        matches!(analyzer.wants(&meta), Interest::Read { .. }),
        "{name} is read"
    );
    let mut out = AnalyzerOutput::default();
    analyzer.analyze(&meta, &bytes, &mut out);
    let mut found: Vec<(String, String)> = out
        .facts
        .into_iter()
        .map(|f| match f {
            Fact::SecretInArchive { member, hit } => (member, hit.rule_id),
            other => panic!("{name}: unexpected fact {other:?}"),
        })
        .collect();
    found.sort();
    found.dedup();
    assert!(out.problems.is_empty(), "{name}: {:?}", out.problems);
    (found, out.notes)
}

#[test]
fn every_positive_archive_yields_its_credential_at_its_member_path() {
    let analyzer = SecretAnalyzer::new(Scanner::builtin());
    let aws = ["aws-access-key-id", "aws-secret-access-key"];
    let expected: &[(&str, &str, &[&str])] = &[
        ("aws-credentials.zip", "home/app/.aws/credentials", &aws),
        (
            "service.jar",
            "BOOT-INF/classes/application.properties",
            &aws,
        ),
        (
            "ssh-backup.tar.gz",
            "home/deploy/.ssh/id_rsa",
            &["private-key-rsa"],
        ),
        ("site.tgz", "site/config/.env", &aws),
        ("etc.tar.xz", "etc/app/credentials", &aws),
        (
            "deploy.tar.bz2",
            "deploy/keys/server.key",
            &["private-key-rsa"],
        ),
        ("release.tar.zst", "release/aws.ini", &aws),
        ("bundle.tar", "bundle/id_rsa", &["private-key-rsa"]),
        ("credentials.gz", "credentials", &aws),
        (
            "nested.tar.gz",
            "opt/app/service.war!/WEB-INF/lib/conf.jar!/conf/app.properties",
            &aws,
        ),
    ];
    let mut files: Vec<String> = std::fs::read_dir(corpus("positive"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every corpus archive has an expectation");
    for (file, member, rules) in expected {
        let (found, notes) = scan(&analyzer, &corpus("positive").join(file));
        let want: Vec<(String, String)> = rules
            .iter()
            .map(|r| (member.to_string(), r.to_string()))
            .collect();
        assert_eq!(found, want, "{file}");
        assert!(notes.is_empty(), "{file}: {notes:?}");
    }
}

#[test]
fn negative_archives_yield_nothing() {
    let analyzer = SecretAnalyzer::new(Scanner::builtin());
    for entry in std::fs::read_dir(corpus("negative")).unwrap() {
        let path = entry.unwrap().path();
        let (found, notes) = scan(&analyzer, &path);
        assert!(found.is_empty(), "{}: {found:?}", path.display());
        assert!(notes.is_empty(), "{}: {notes:?}", path.display());
    }
}

#[test]
fn archives_can_be_left_closed() {
    let analyzer = SecretAnalyzer::new(Scanner::builtin()).with_archives(false);
    let meta = FileMeta {
        path: "srv/site.tgz",
        kind: FileKind::Regular,
        size: 100,
        mode: 0o644,
    };
    assert_eq!(analyzer.wants(&meta), Interest::Skip);
}

#[test]
fn the_allowlist_applies_to_member_paths() {
    let allow = bulwark_secrets::Allowlist {
        paths: vec!["**/config/.env".into()],
        regexes: Vec::new(),
    };
    let scanner = Scanner::new(bulwark_secrets::builtin_rules(), allow).unwrap();
    let analyzer = SecretAnalyzer::new(scanner);
    let (found, _) = scan(&analyzer, &corpus("positive").join("site.tgz"));
    assert!(found.is_empty(), "{found:?}");
}
