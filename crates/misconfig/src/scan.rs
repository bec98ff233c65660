//! `bulwark config PATH...`: find the configuration files under the paths, detect their kinds,
//! run every check of that kind, and keep going past files that cannot be read or parsed.

use std::path::{Path, PathBuf};

use bulwark_types::Misconfiguration;
use rayon::prelude::*;

use crate::detect::{detect, FileKind};
use crate::source::{FileError, SourceFile};
use crate::Hit;

/// Configuration files larger than this are refused: real ones are kilobytes, and a parser
/// must never be handed an unbounded document.
pub const MAX_CONFIG_FILE_BYTES: u64 = 8 << 20;

/// What a configuration scan found.
#[derive(Debug, Clone, Default)]
pub struct ConfigScan {
    /// Sorted by path, line, check id.
    pub findings: Vec<Misconfiguration>,
    /// Files that could not be checked; the others still were.
    pub errors: Vec<FileError>,
    /// Files checked only in part (a Dockerfile variable left unexpanded); not an error.
    pub warnings: Vec<FileError>,
    /// Files checked, by kind, for the summary.
    pub files_scanned: usize,
    /// The kinds of input that were checked (for compliance reports: a control whose checks
    /// saw no input is not a pass).
    pub checked: std::collections::BTreeSet<crate::CheckKind>,
    /// CIS Docker controls whose subject does not exist on a scanned host (`--host-root`): a
    /// file that is not there has no owner or mode to get wrong, so no check judged them.
    pub not_applicable: std::collections::BTreeSet<String>,
}

/// Walks `paths` (files or directories; symlinks are not followed, so a link loop cannot
/// trap the walk), detects each file's kind and checks every configuration found. A path
/// named explicitly whose kind cannot be detected is an error; unknown files met while
/// walking a directory are skipped quietly.
pub fn scan_paths(paths: &[PathBuf]) -> ConfigScan {
    let (files, errors) = load_paths(paths);
    let mut scan = scan_files(&files);
    scan.errors.extend(errors);
    scan.errors.sort();
    scan
}

/// [`scan_paths`], then the user's Rego policies on every file found. A policy over its
/// budget stops the scan: its evaluation may still be running (see [`crate::rego`]).
pub fn scan_paths_with(
    paths: &[PathBuf],
    policies: &crate::rego::Policies,
) -> Result<ConfigScan, crate::rego::BudgetExceeded> {
    let (files, errors) = load_paths(paths);
    let mut scan = scan_files(&files);
    scan.errors.extend(errors);
    for f in &files {
        match policies.eval(f) {
            Ok(found) => scan.findings.extend(found),
            Err(crate::rego::EvalError::Budget(e)) => return Err(e),
            // The built-in checks already report a file that does not parse.
            Err(crate::rego::EvalError::File(e))
                if scan.errors.iter().any(|x| x.path == e.path) => {}
            Err(crate::rego::EvalError::File(e)) => scan.errors.push(e),
        }
    }
    sort_findings(&mut scan.findings);
    scan.errors.sort();
    scan.errors.dedup();
    Ok(scan)
}

/// The configuration files under `paths`, read into memory, and the ones that could not be.
pub fn load_paths(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<FileError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let meta = match std::fs::symlink_metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(FileError::new(
                    &root.display().to_string(),
                    None,
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        if skipped_dir(e.path()) {
                            continue;
                        }
                        if let Some(f) = load(e.path(), false, &mut errors) {
                            files.push(f);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(FileError::new(
                        &e.path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| root.display().to_string()),
                        None,
                        format!("cannot read: {e}"),
                    )),
                }
            }
        } else if let Some(f) = load(root, true, &mut errors) {
            files.push(f);
        }
    }
    (files, errors)
}

/// Version-control and dependency directories hold no configuration of the user's own.
fn skipped_dir(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some(".git" | "node_modules" | ".terraform" | "vendor")
        )
    })
}

fn load(path: &Path, named: bool, errors: &mut Vec<FileError>) -> Option<SourceFile> {
    let shown = path.display().to_string();
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            errors.push(FileError::new(&shown, None, format!("cannot read: {e}")));
            return None;
        }
    };
    // Cheap name check first, so a large non-config file is never read.
    let by_name = detect(path, b"");
    let yamlish = {
        let n = shown.to_ascii_lowercase();
        n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json")
    };
    if by_name.is_none() && !yamlish {
        if named {
            errors.push(FileError::new(&shown, None, "not a Dockerfile, Kubernetes manifest, compose file or daemon.json (name a file of a known kind, or a directory)"));
        }
        return None;
    }
    if size > MAX_CONFIG_FILE_BYTES {
        errors.push(FileError::new(
            &shown,
            None,
            format!("{size} bytes is larger than the {MAX_CONFIG_FILE_BYTES}-byte limit for configuration files; skipped"),
        ));
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            errors.push(FileError::new(&shown, None, format!("cannot read: {e}")));
            return None;
        }
    };
    match detect(path, &bytes) {
        Some(FileKind::Rego) | None => {
            if named {
                errors.push(FileError::new(
                    &shown,
                    None,
                    "not a Dockerfile, Kubernetes manifest, compose file or daemon.json",
                ));
            }
            None
        }
        Some(kind) => Some(SourceFile {
            path: shown,
            kind,
            bytes,
        }),
    }
}

/// Checks files already in memory (from disk or from an image's layers).
pub fn scan_files(files: &[SourceFile]) -> ConfigScan {
    type PerFile = (Vec<Misconfiguration>, Vec<FileError>, Vec<FileError>);
    let per_file: Vec<PerFile> = files
        .par_iter()
        .filter(|f| f.kind != FileKind::Kubernetes)
        .map(|f| {
            let result = match f.kind {
                FileKind::Dockerfile => crate::dockerfile::scan(f),
                FileKind::Compose => crate::compose::scan(f).map(|h| (h, Vec::new())),
                FileKind::DaemonJson => crate::daemon::scan(f).map(|h| (h, Vec::new())),
                FileKind::Kubernetes | FileKind::Rego => Ok((Vec::new(), Vec::new())),
            };
            match result {
                Ok((hits, warnings)) => (to_findings(&f.path, hits), Vec::new(), warnings),
                Err(e) => (Vec::new(), vec![e], Vec::new()),
            }
        })
        .collect();
    let mut scan = ConfigScan {
        files_scanned: files.len(),
        checked: files.iter().filter_map(|f| f.kind.check_kind()).collect(),
        ..ConfigScan::default()
    };
    for (findings, errors, warnings) in per_file {
        scan.findings.extend(findings);
        scan.errors.extend(errors);
        scan.warnings.extend(warnings);
    }
    // Kubernetes checks see every manifest at once: some (a namespace with workloads and no
    // NetworkPolicy) are about the set, not one document.
    let manifests: Vec<&SourceFile> = files
        .iter()
        .filter(|f| f.kind == FileKind::Kubernetes)
        .collect();
    let (hits, errors) = crate::kubernetes::scan_set(&manifests);
    for (path, hit) in hits {
        scan.findings.push(hit.into_finding(&path));
    }
    scan.errors.extend(errors);
    sort_findings(&mut scan.findings);
    scan.errors.sort();
    scan.warnings.sort();
    scan
}

fn sort_findings(findings: &mut Vec<Misconfiguration>) {
    findings.sort_by(|a, b| {
        (
            &a.location.path,
            a.location.line,
            a.location.column,
            &a.check_id,
            &a.message,
        )
            .cmp(&(
                &b.location.path,
                b.location.line,
                b.location.column,
                &b.check_id,
                &b.message,
            ))
    });
    findings.dedup();
}

fn to_findings(path: &str, hits: Vec<Hit>) -> Vec<Misconfiguration> {
    hits.into_iter().map(|h| h.into_finding(path)).collect()
}

#[cfg(test)]
mod tests {
    /// Issue 13.6, the checks' side: every YAML kind's checks stay near-linear on
    /// `{<<: {300,000 keys}}`, measured against loading the same keys without the merge.
    #[test]
    fn issue_13_6_checks_of_a_huge_merge_are_near_linear() {
        let keys: Vec<String> = (0..300_000).map(|i| format!("k{i}: {i}")).collect();
        let plain = format!("{{{}}}\n", keys.join(", "));
        let start = std::time::Instant::now();
        crate::yaml::load_stream(&plain).unwrap();
        let bound = start.elapsed() * 3 + std::time::Duration::from_secs(2);
        let text = format!("{{<<: {{{}}}, k7: explicit}}\n", keys.join(", "));
        for kind in [crate::FileKind::Kubernetes, crate::FileKind::Compose] {
            let file = crate::SourceFile {
                path: "merge.yaml".into(),
                kind,
                bytes: text.clone().into_bytes(),
            };
            let start = std::time::Instant::now();
            crate::scan_files(std::slice::from_ref(&file));
            assert!(
                start.elapsed() < bound * 2,
                "{kind:?}: {:?} > {:?}",
                start.elapsed(),
                bound * 2
            );
        }
    }
}
