//! Configuration files and host settings: Dockerfiles, Kubernetes manifests, compose files,
//! `daemon.json`, a host root's Docker settings, and the user's Rego policies.

use std::collections::BTreeSet;

use bulwark_misconfig::CheckKind;
use bulwark_report::ScanReport;

use crate::events::{Event, EventSink, NoticeLevel, Phase};
use crate::pipeline::{finish, ScanOutcome};
use crate::request::ConfigScan;
use crate::{CancelToken, Error, Result};
use bulwark_policy::verdict::{gate_exit_code as gate_exit_code_of, EXIT_INCOMPLETE, EXIT_OK};

/// A finished configuration scan: the report, and what a compliance view needs.
#[derive(Debug)]
pub struct ConfigOutcome {
    pub outcome: ScanOutcome,
    pub files_scanned: usize,
    /// Files that could not be checked (redacted); the others still were.
    pub file_errors: Vec<String>,
    /// Files checked only in part.
    pub file_warnings: Vec<String>,
    /// The kinds of input that were checked.
    pub checked: BTreeSet<CheckKind>,
    /// Host controls whose subject does not exist.
    pub not_applicable: BTreeSet<String>,
}

impl ConfigOutcome {
    /// The per-control report for a compliance framework, from these findings.
    pub fn compliance(
        &self,
        target: bulwark_misconfig::compliance::Target,
    ) -> bulwark_misconfig::compliance::ComplianceReport {
        let findings = &self.outcome.report.misconfigurations;
        bulwark_misconfig::compliance::report(target, findings, &self.checked, &self.not_applicable)
    }

    /// A failed gate's code (when failing is on), else [`EXIT_INCOMPLETE`] when a file could
    /// not be checked, else [`EXIT_OK`].
    pub fn exit_code(&self, gate_exit_code: u8) -> u8 {
        match gate_exit_code_of(&self.outcome.report, gate_exit_code) {
            Some(code) => code,
            None if !self.file_errors.is_empty() => EXIT_INCOMPLETE,
            None => EXIT_OK,
        }
    }
}

impl ConfigScan {
    /// Checks the paths (and the host root). Rego policies that do not load stop it before
    /// any file is read ([`Error::Policies`]); a policy over its budget stops it too.
    pub fn run(self, sink: &dyn EventSink, cancel: &CancelToken) -> Result<ConfigOutcome> {
        if self.paths.is_empty() && self.host_root.is_none() {
            return Err(Error::NothingToScan);
        }
        let mut scan = if self.rego.is_empty() {
            bulwark_misconfig::scan_paths(&self.paths)
        } else {
            let policies = bulwark_misconfig::rego::Policies::load(&self.rego, &self.namespaces)
                .map_err(|errors| {
                    Error::Policies(errors.iter().map(ToString::to_string).collect())
                })?;
            if policies.packages().is_empty() {
                let namespaces = if self.namespaces.is_empty() {
                    "main".to_string()
                } else {
                    self.namespaces.join(", ")
                };
                let dirs: Vec<String> = self.rego.iter().map(|p| p.display().to_string()).collect();
                sink.event(Event::Notice {
                    level: NoticeLevel::Warning,
                    message: &format!(
                        "no policy package named {namespaces} under {}",
                        dirs.join(", ")
                    ),
                });
            }
            cancel.check()?;
            bulwark_misconfig::scan_paths_with(&self.paths, &policies)?
        };
        cancel.check()?;
        if let Some(root) = &self.host_root {
            let host = bulwark_misconfig::host::scan_root(root);
            scan.findings.extend(host.findings);
            scan.errors.extend(host.errors);
            scan.files_scanned += host.files_scanned;
            scan.checked.extend(host.checked);
            scan.not_applicable.extend(host.not_applicable);
        }
        let reference = self
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .chain(
                self.host_root
                    .iter()
                    .map(|p| format!("host:{}", p.display())),
            )
            .collect::<Vec<_>>()
            .join(" ");
        let mut report = ScanReport::for_files(reference, env!("CARGO_PKG_VERSION"));
        report.add_misconfigurations(scan.findings);
        sink.event(Event::Phase(Phase::Policy));
        let warnings = self.policy.policy.apply(&mut report, self.policy.today);
        // A Dockerfile or manifest may hold a credential that a finding quotes.
        let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
        let file_errors = scan
            .errors
            .iter()
            .map(|e| redactor.redact(&e.to_string()).into_owned())
            .collect();
        Ok(ConfigOutcome {
            outcome: finish(report, &redactor, warnings, sink),
            files_scanned: scan.files_scanned,
            file_errors,
            file_warnings: scan.warnings.iter().map(ToString::to_string).collect(),
            checked: scan.checked,
            not_applicable: scan.not_applicable,
        })
    }
}
