//! Keeps every check honest: its metadata file, a failing and a passing example, and its
//! generated doc. A check cannot be added without all three, and each example must do what
//! it says: the failing one is flagged by this check exactly at the lines marked
//! `bulwark-expect` (or listed in `fail.expect` for formats without comments), the passing
//! one is not flagged by it at all. Regression cases sit beside them as `fail-<case>.*` and
//! `pass-<case>.*` (one trap each, say init containers or a CronJob's nesting) and are held to
//! the same rule; only `fail.*` and `pass.*` appear in the doc.
//!
//! Docs under `docs/checks/` are generated from the metadata and examples; after changing a
//! check, run `BULWARK_UPDATE_DOCS=1 cargo test -p bulwark-misconfig --test checks` and review
//! the diff like code.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bulwark_misconfig::{catalog, scan_files, CheckKind, CheckMeta, FileKind, SourceFile};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn docs_dir() -> PathBuf {
    crate_dir().join("../../docs/checks")
}

fn id_prefix(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::Dockerfile => "BW-DF-",
        CheckKind::Kubernetes => "BW-K8S-",
        CheckKind::Compose => "BW-CMP-",
        CheckKind::Daemon => "BW-DMN-",
        CheckKind::Host => "BW-HOST-",
        CheckKind::Image => "BW-IMG-",
        CheckKind::Cluster => "BW-CLU-",
        CheckKind::Runtime => "BW-RT-",
    }
}

/// File-based kinds have examples run through `scan_files`; image, host and cluster checks are
/// exercised by their own tests (cluster checks in bulwark-k8s), since their input is not one
/// file.
fn file_kind(kind: CheckKind) -> Option<FileKind> {
    match kind {
        CheckKind::Dockerfile => Some(FileKind::Dockerfile),
        CheckKind::Kubernetes => Some(FileKind::Kubernetes),
        CheckKind::Compose => Some(FileKind::Compose),
        CheckKind::Daemon => Some(FileKind::DaemonJson),
        CheckKind::Host | CheckKind::Image | CheckKind::Cluster => None,
        // Exercised against real containers and inspect documents by bulwark-runtime's tests.
        CheckKind::Runtime => None,
    }
}

fn case_dir(meta: &CheckMeta) -> PathBuf {
    crate_dir()
        .join("tests/cases")
        .join(meta.kind.dir())
        .join(&meta.id)
}

/// The single file in `dir` whose name starts with `stem.` (`fail.yaml`, `pass.Dockerfile`).
fn example(dir: &Path, stem: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{stem}.")) && !n.ends_with(".expect"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Every example of one stem: `fail.yaml` plus the extra cases `fail-<what>.yaml` (each one
/// trap, such as init containers or a CronJob's nesting), sorted. Only `fail.*` and `pass.*`
/// appear in the generated doc.
fn examples(dir: &Path, stem: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            (n.starts_with(&format!("{stem}.")) || n.starts_with(&format!("{stem}-")))
                && !n.ends_with(".expect")
        })
    });
    found.sort();
    found
}

fn run(meta: &CheckMeta, path: &Path) -> (BTreeSet<Option<usize>>, Vec<String>) {
    let kind = file_kind(meta.kind).expect("file-based kind");
    let bytes = std::fs::read(path).unwrap();
    let scan = scan_files(&[SourceFile {
        path: path.display().to_string(),
        kind,
        bytes,
    }]);
    let errors = scan.errors.iter().map(|e| e.to_string()).collect();
    let lines = scan
        .findings
        .iter()
        .filter(|f| f.check_id == meta.id)
        .map(|f| f.location.line)
        .collect();
    (lines, errors)
}

fn expected_lines(path: &Path) -> BTreeSet<Option<usize>> {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("fail");
    let listed = path.with_file_name(format!("{stem}.expect"));
    if let Ok(text) = std::fs::read_to_string(&listed) {
        return text
            .split_whitespace()
            .map(|w| match w {
                "file" => None,
                n => Some(n.parse().expect("fail.expect holds line numbers or `file`")),
            })
            .collect();
    }
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("bulwark-expect"))
        .map(|(i, _)| Some(i + 1))
        .collect()
}

/// Dockerfile hygiene checks that no CIS, NIST SP 800-190 or PCI DSS control is about: a
/// filler mapping would only inflate compliance reports, so these stay unmapped on purpose.
const UNMAPPED_HYGIENE: &[&str] = &[
    "BW-DF-024",
    "BW-DF-025",
    "BW-DF-027",
    "BW-DF-028",
    "BW-DF-031",
    "BW-DF-032",
    "BW-DF-033",
];

#[test]
fn metadata_files_are_consistent() {
    let files: Vec<_> = bulwark_misconfig::catalog::metadata_files().collect();
    assert_eq!(
        files.len(),
        catalog().len(),
        "two metadata files share an id"
    );
    for (path, _) in files {
        let id = Path::new(path).file_stem().unwrap().to_str().unwrap();
        let meta = &catalog()[id];
        assert_eq!(
            Path::new(path).parent().unwrap().to_str().unwrap(),
            meta.kind.dir(),
            "checks/{path}: kind does not match its directory"
        );
        assert!(
            meta.id.starts_with(id_prefix(meta.kind)),
            "checks/{path}: id should start with {}",
            id_prefix(meta.kind)
        );
        assert!(
            !meta.compliance.is_empty() || UNMAPPED_HYGIENE.contains(&meta.id.as_str()),
            "checks/{path}: map the check to at least one compliance control"
        );
        assert!(
            !meta.remediation.trim().is_empty(),
            "checks/{path}: remediation"
        );
    }
}

#[test]
fn every_check_flags_its_failing_example_and_passes_its_passing_one() {
    let mut problems = Vec::new();
    for meta in catalog().values() {
        if file_kind(meta.kind).is_none() {
            continue;
        }
        let dir = case_dir(meta);
        if example(&dir, "fail").is_none() || example(&dir, "pass").is_none() {
            problems.push(format!(
                "{}: needs {}/fail.* and pass.*",
                meta.id,
                dir.display()
            ));
            continue;
        }
        for fail in examples(&dir, "fail") {
            let want = expected_lines(&fail);
            if want.is_empty() {
                problems.push(format!(
                    "{}: mark the expected lines of {} with `bulwark-expect` (or list them in fail.expect)",
                    meta.id,
                    fail.display()
                ));
            }
            let (got, errors) = run(meta, &fail);
            if got != want {
                problems.push(format!(
                    "{}: {} flagged at lines {got:?}, expected {want:?}",
                    meta.id,
                    fail.display()
                ));
            }
            for e in errors {
                problems.push(format!("{}: scan error {e}", meta.id));
            }
        }
        for pass in examples(&dir, "pass") {
            let (got, errors) = run(meta, &pass);
            if !got.is_empty() {
                problems.push(format!(
                    "{}: {} should pass but is flagged at {got:?}",
                    meta.id,
                    pass.display()
                ));
            }
            for e in errors {
                problems.push(format!("{}: scan error {e}", meta.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn render_doc(meta: &CheckMeta) -> String {
    let mut s = String::new();
    writeln!(s, "# {}: {}\n", meta.id, meta.title).unwrap();
    writeln!(
        s,
        "Kind: {} · Severity: {}\n",
        meta.kind.dir(),
        meta.severity
    )
    .unwrap();
    writeln!(s, "{}\n", meta.description.trim()).unwrap();
    writeln!(s, "## Remediation\n\n{}\n", meta.remediation.trim()).unwrap();
    if !meta.compliance.is_empty() {
        writeln!(s, "## Compliance\n\n| Framework | Control |\n|---|---|").unwrap();
        for c in &meta.compliance {
            writeln!(s, "| {} | {} |", c.framework.as_str(), c.control).unwrap();
        }
        s.push('\n');
    }
    if file_kind(meta.kind).is_some() {
        let dir = case_dir(meta);
        for (stem, heading) in [("fail", "Flagged"), ("pass", "Passes")] {
            if let Some(path) = example(&dir, stem) {
                let text = std::fs::read_to_string(&path).unwrap();
                let lang = match meta.kind {
                    CheckKind::Dockerfile => "dockerfile",
                    CheckKind::Daemon => "json",
                    _ => "yaml",
                };
                writeln!(s, "## {heading}\n\n```{lang}\n{}\n```\n", text.trim_end()).unwrap();
            }
        }
    }
    if !meta.references.is_empty() {
        writeln!(s, "## References\n").unwrap();
        for r in &meta.references {
            writeln!(s, "- <{r}>").unwrap();
        }
        s.push('\n');
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

fn render_index() -> String {
    let mut s = String::from(
        "# Built-in checks\n\nGenerated from `crates/misconfig/checks/`; do not edit by hand.\n\n| Id | Kind | Severity | Title |\n|---|---|---|---|\n",
    );
    for meta in catalog().values() {
        writeln!(
            s,
            "| [{id}]({id}.md) | {} | {} | {} |",
            meta.kind.dir(),
            meta.severity,
            meta.title,
            id = meta.id
        )
        .unwrap();
    }
    s
}

#[test]
fn docs_are_generated_from_the_metadata() {
    let mut wanted = vec![("README.md".to_string(), render_index())];
    for meta in catalog().values() {
        wanted.push((format!("{}.md", meta.id), render_doc(meta)));
    }
    let dir = docs_dir();
    if std::env::var_os("BULWARK_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &wanted {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (name, text) in &wanted {
        if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    let known: BTreeSet<String> = wanted.iter().map(|(n, _)| n.clone()).collect();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                stale.push(format!("{name} (no such check)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/checks is out of date: {stale:?}; run BULWARK_UPDATE_DOCS=1 cargo test -p bulwark-misconfig --test checks and review the diff"
    );
}
