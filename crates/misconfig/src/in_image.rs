//! Configuration files baked into an image (a Dockerfile copied in with the sources, Kubernetes
//! manifests or compose files shipped beside an application, an `/etc/docker/daemon.json`):
//! found during the single layer pass, checked right there, and reported with the layer that
//! holds the version of the file the final image keeps.
//!
//! The analyzer runs the same checks as `bulwark config` on one file at a time, so only the
//! findings are cached with the layer, never the file's bytes (a manifest may hold secrets).
//! Checks about a whole set of manifests (`BW-K8S-042`, a workload no NetworkPolicy selects)
//! are left out: files inside an image are not a deployment, so the set is meaningless there.

use std::path::Path;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind as EntryKind, FileMeta, ImageFacts, Interest,
};
use bulwark_types::Misconfiguration;

use crate::detect::{by_name, detect, ByName, FileKind};
use crate::scan::scan_files;
use crate::source::SourceFile;

/// Bigger files are not configuration anyone writes by hand.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Where files belong to installed software (examples in docs, test fixtures, package data),
/// not to the image's own configuration.
const THIRD_PARTY_DIRS: &[&str] = &[
    "usr/share/",
    "usr/lib/",
    "usr/lib64/",
    "usr/local/lib/",
    "usr/local/share/",
    "lib/",
    "proc/",
    "sys/",
];

/// Path segments that mark vendored dependencies.
const THIRD_PARTY_SEGMENTS: &[&str] = &[
    "node_modules/",
    "site-packages/",
    "dist-packages/",
    "vendor/",
    "pkg/mod/",
    ".git/",
];

/// Checks that judge a set of manifests, not one file.
const SET_CHECKS: &[&str] = &["BW-K8S-042"];

/// The layer-pass analyzer for configuration files inside images.
pub struct ConfigFileAnalyzer;

impl ConfigFileAnalyzer {
    pub const ID: &'static str = "misconfig-files";
}

fn third_party(path: &str) -> bool {
    THIRD_PARTY_DIRS.iter().any(|d| path.starts_with(d))
        || THIRD_PARTY_SEGMENTS
            .iter()
            .any(|s| path.starts_with(s) || path.contains(&format!("/{s}")))
}

impl Analyzer for ConfigFileAnalyzer {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn version(&self) -> u32 {
        // The checks' own behaviour is part of the output: tie the cache to the crate version.
        // 2: null volume sources and container fields on the pod are no findings; Dockerfile
        // expansion budget notes.
        2
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != EntryKind::Regular || file.size == 0 || file.size > MAX_CONFIG_BYTES {
            return Interest::Skip;
        }
        let read = Interest::Read {
            max_bytes: MAX_CONFIG_BYTES,
        };
        // JSON manifests are left out: every package.json would be read to find none.
        match by_name(file.file_name()) {
            ByName::Kind(FileKind::DaemonJson) if file.path == "etc/docker/daemon.json" => read,
            ByName::Kind(FileKind::Dockerfile | FileKind::Compose)
            | ByName::NeedsContent { yaml: true }
                if !third_party(file.path) =>
            {
                read
            }
            _ => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some(kind) = detect(Path::new(file.path), content) else {
            return;
        };
        if kind == FileKind::Rego {
            return;
        }
        let source = SourceFile {
            path: format!("/{}", file.path),
            kind,
            bytes: content.to_vec(),
        };
        let scan = scan_files(std::slice::from_ref(&source));
        for finding in scan.findings {
            if !SET_CHECKS.contains(&finding.check_id.as_str()) {
                out.fact(Fact::Misconfiguration(finding));
            }
        }
        for e in scan.errors {
            // A template or a half-written file in an image is not a broken image: a warning.
            out.note(format!("not checked as {kind:?} configuration: {e}"));
        }
        for w in scan.warnings {
            out.note(format!("checked in part as {kind:?} configuration: {w}"));
        }
    }
}

/// The findings on configuration files the final image still holds, each with the layer that
/// wrote the kept version (a file deleted or replaced later no longer configures anything).
pub fn findings(facts: &ImageFacts) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    for (index, layer) in facts.layer_facts.iter().enumerate() {
        for pf in &layer.facts {
            if pf.analyzer != ConfigFileAnalyzer::ID {
                continue;
            }
            let kept = facts
                .files
                .get(&pf.path)
                .is_some_and(|visible| visible.layer == index);
            if !kept {
                continue;
            }
            for fact in &pf.facts {
                if let Fact::Misconfiguration(m) = fact {
                    let mut m = m.clone();
                    m.location.layer = Some(crate::image_config::layer_ref(facts, index));
                    out.push(m);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str, size: u64) -> FileMeta<'_> {
        FileMeta {
            path,
            kind: EntryKind::Regular,
            size,
            mode: 0o644,
        }
    }

    #[test]
    fn wants_configuration_but_not_vendored_yaml() {
        let a = ConfigFileAnalyzer;
        for wanted in [
            "app/Dockerfile",
            "srv/deploy/k8s.yaml",
            "etc/docker/daemon.json",
            "opt/app/docker-compose.yml",
        ] {
            assert_ne!(a.wants(&meta(wanted, 100)), Interest::Skip, "{wanted}");
        }
        for skipped in [
            "usr/lib/python3/dist-packages/x/fixture.yaml",
            "app/node_modules/pkg/ci.yml",
            "app/package.json",
            "root/daemon.json",
            "usr/share/doc/x/Dockerfile",
        ] {
            assert_eq!(a.wants(&meta(skipped, 100)), Interest::Skip, "{skipped}");
        }
        assert_eq!(a.wants(&meta("app/Dockerfile", 2 << 20)), Interest::Skip);
    }

    #[test]
    fn a_bad_dockerfile_yields_findings_with_image_paths_and_a_template_only_a_note() {
        let a = ConfigFileAnalyzer;
        let mut out = AnalyzerOutput::default();
        a.analyze(
            &meta("src/Dockerfile", 40),
            b"FROM debian:12\nUSER root\n",
            &mut out,
        );
        let ids: Vec<(String, String, Option<usize>)> = out
            .facts
            .iter()
            .map(|f| match f {
                Fact::Misconfiguration(m) => {
                    (m.check_id.clone(), m.location.path.clone(), m.location.line)
                }
                other => panic!("unexpected fact {other:?}"),
            })
            .collect();
        assert!(
            ids.contains(&("BW-DF-001".into(), "/src/Dockerfile".into(), Some(2))),
            "{ids:?}"
        );
        assert!(out.problems.is_empty());

        let mut out = AnalyzerOutput::default();
        a.analyze(
            &meta("chart/templates/deploy.yaml", 60),
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name\n",
            &mut out,
        );
        assert!(out.facts.is_empty() && out.problems.is_empty());
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
    }
}
