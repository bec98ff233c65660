//! GitHub Actions a workflow uses: `jobs.<id>.steps[].uses` and `jobs.<id>.uses` (reusable
//! workflows) in `.github/workflows/*.yml`, written `owner/repo[/path]@ref`
//! (<https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idstepsuses>).
//! Each becomes `pkg:githubactions/owner/repo@ref`, named `owner/repo` as OSV's
//! `GitHub Actions` advisories name them. Local actions (`./path`) and containers
//! (`docker://`) are not packages.
//!
//! A ref is a tag, a branch or a commit: it is kept as written, and a commit SHA stays the
//! version (it is what runs). Advisories are filed by tag, so the matcher does not compare a
//! commit against them (see `bulwark_vulndb`). What a workflow names is declared.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use serde_json::Value;

pub struct GitHubActionsAnalyzer;

fn wanted(path: &str) -> bool {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    (dir == ".github/workflows" || dir.ends_with("/.github/workflows"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

impl Analyzer for GitHubActionsAnalyzer {
    fn id(&self) -> &'static str {
        "github-actions"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && wanted(file.path) {
            Interest::Read { max_bytes: 4 << 20 }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let doc: Value = match serde_saphyr::from_str(&text) {
            Ok(d) => d,
            Err(e) => {
                out.problem(format!(
                    "workflow is not readable YAML ({e}); its actions are not listed"
                ));
                return;
            }
        };
        let mut records = Vec::new();
        let mut invalid = 0usize;
        let jobs = doc.get("jobs").and_then(Value::as_object);
        for job in jobs.into_iter().flat_map(|j| j.values()) {
            let steps = job.get("steps").and_then(Value::as_array);
            let uses = job
                .get("uses")
                .into_iter()
                .chain(steps.into_iter().flatten().filter_map(|s| s.get("uses")));
            for u in uses.filter_map(Value::as_str) {
                match parse_uses(u) {
                    Uses::Action(record) => records.push(record.declared()),
                    Uses::NotAPackage => {}
                    Uses::Invalid => invalid += 1,
                }
            }
        }
        if invalid > 0 {
            out.problem(format!(
                "{invalid} `uses:` value(s) are not owner/repo@ref; not listed"
            ));
        }
        records.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        records.dedup_by(|a, b| a.name == b.name && a.version == b.version);
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

enum Uses {
    Action(Box<PackageRecord>),
    NotAPackage,
    Invalid,
}

fn parse_uses(uses: &str) -> Uses {
    let uses = uses.trim();
    if uses.starts_with("./") || uses.starts_with("docker://") || uses.contains("${{") {
        return Uses::NotAPackage;
    }
    let Some((path, git_ref)) = uses.rsplit_once('@') else {
        return Uses::Invalid;
    };
    let mut parts = path.split('/');
    let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
        return Uses::Invalid;
    };
    // GitHub: owners are alphanumerics and `-`; repositories add `.` and `_`.
    let owner_ok =
        !owner.is_empty() && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let repo_ok = !repo.is_empty()
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    let ref_ok = !git_ref.is_empty()
        && git_ref
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | '+'));
    if !(owner_ok && repo_ok && ref_ok) {
        return Uses::Invalid;
    }
    Uses::Action(Box::new(PackageRecord::new(
        Ecosystem::GitHubActions,
        format!("{owner}/{repo}"),
        git_ref,
    )))
}

/// A full commit SHA (40 hex digits): a pin to a commit, not a version.
pub fn is_commit_pin(git_ref: &str) -> bool {
    git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "repo/.github/workflows/ci.yml",
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            GitHubActionsAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        GitHubActionsAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_uses_pins() {
        let text = "name: ci\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-go@0c52d547c9bc32b1aa3301fd7a9cb496313a4491 # v5.0.0\n      - uses: github/codeql-action/init@v3.24.0\n      - uses: ./local-action\n      - uses: docker://alpine:3.19\n      - run: make\n      - uses: actions/checkout@v4\n  call:\n    uses: octo-org/shared/.github/workflows/build.yml@main\n";
        let out = run(text);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!()
        };
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("actions/checkout", "v4"),
                (
                    "actions/setup-go",
                    "0c52d547c9bc32b1aa3301fd7a9cb496313a4491"
                ),
                ("github/codeql-action", "v3.24.0"),
                ("octo-org/shared", "main"),
            ]
        );
        assert!(is_commit_pin(&records[1].version));
        assert!(!is_commit_pin("v4"));
    }

    #[test]
    fn malformed_workflows_are_diagnostics() {
        let out = run("jobs: [unclosed\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let out =
            run("jobs:\n  a:\n    steps:\n      - uses: not-an-action\n      - uses: 'a b/c@v1'\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
