//! The [`Policy`] a scan applies, built from resolved settings: `bulwark.yaml`'s ignores,
//! licence policy and gates, merged with the gate and licence flags, plus the ignore file and
//! the VEX documents, read now so a bad one stops the run before any scan.

use std::path::{Path, PathBuf};

use crate::apply::Policy;
use crate::gate::{SeverityFilter, SeverityGate, VulnGate};
use crate::ignore::{parse_ignore_file, IgnoreRule};
use crate::license::LicensePolicy;
use crate::settings::Settings;
use crate::vex::{VexError, VexSet};

/// The ignore file looked for in the working directory when `ignore-file` is not set.
pub const DEFAULT_IGNORE_FILE: &str = ".bulwarkignore";

/// What a bare `--exit-code N` (no `--fail-on-*` gate, no `gates:`) fails on: image and SBOM
/// scans keep its original meaning, `bulwark config` has only misconfigurations to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyGate {
    VulnerabilitiesAndSecrets,
    Misconfigurations,
}

/// What the scan commands need from policy: the policy itself and the exit code for a failed
/// gate.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub policy: Policy,
    /// The code a failed gate exits with (0: gates are only reported).
    pub exit_code: u8,
    /// The gates are the ones a bare `--exit-code N` implies (no `--fail-on-*`, no `gates:`):
    /// they judge only what the chosen scanners report.
    pub legacy_gate: bool,
}

/// Errors building the policy: an unreadable ignore file or VEX document.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the ignore file {file}: {source}")]
    ReadIgnoreFile {
        file: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    IgnoreFile(String),
    #[error(transparent)]
    Vex(#[from] VexError),
}

/// Builds the policy from resolved settings. `cwd` is where the default ignore file is looked
/// for (the working directory, for the CLI).
pub fn policy(s: &Settings, legacy: LegacyGate, cwd: &Path) -> Result<Resolved, BuildError> {
    let mut ignores: Vec<IgnoreRule> = s.ignores().to_vec();
    let ignore_file = match s.path("ignore_file") {
        Some(f) => Some(f.to_path_buf()),
        None if cwd == Path::new(".") => {
            Some(PathBuf::from(DEFAULT_IGNORE_FILE)).filter(|p| p.exists())
        }
        None => Some(cwd.join(DEFAULT_IGNORE_FILE)).filter(|p| p.exists()),
    };
    if let Some(f) = ignore_file {
        let shown = f.display().to_string();
        let text = std::fs::read_to_string(&f).map_err(|source| BuildError::ReadIgnoreFile {
            file: shown.clone(),
            source,
        })?;
        ignores.extend(parse_ignore_file(&text, &shown).map_err(BuildError::IgnoreFile)?);
    }
    let max_vex = s
        .uint("max_vex_size")
        .unwrap_or(crate::vex::DEFAULT_MAX_VEX_BYTES);
    let vex = VexSet::load(s.paths("vex").unwrap_or_default(), max_vex)?;

    let mut licenses = s.licenses().cloned();
    let allow = s.texts("license_allow").filter(|l| !l.is_empty());
    let deny = s.texts("license_deny").filter(|l| !l.is_empty());
    if allow.is_some() || deny.is_some() {
        let l = licenses.get_or_insert_with(LicensePolicy::default);
        if let Some(a) = allow {
            l.allow = a.to_vec();
        }
        if let Some(d) = deny {
            l.deny = d.to_vec();
        }
    }

    let mut gates = s.gates().cloned().unwrap_or_default();
    let fail_on_vuln = s.severity("fail_on_vuln");
    let fail_on_epss = s.float("fail_on_epss");
    let (fixable, kev) = (s.bool("fail_on_fixable"), s.bool("fail_on_kev"));
    if fail_on_vuln.is_some() || fixable || kev || fail_on_epss.is_some() {
        let v = gates.vulnerabilities.get_or_insert_with(VulnGate::default);
        if let Some(sev) = fail_on_vuln {
            v.severity = SeverityFilter::AtLeast(sev);
        }
        v.fixable |= fixable;
        v.kev |= kev;
        if let Some(p) = fail_on_epss {
            v.epss = Some(p);
        }
    }
    if s.bool("fail_on_secret") && gates.secrets.is_none() {
        gates.secrets = Some(SeverityGate::default());
    }
    if let Some(sev) = s.severity("fail_on_misconfig") {
        gates.misconfigurations = Some(SeverityGate {
            severity: SeverityFilter::AtLeast(sev),
        });
    }
    if s.bool("fail_on_license") && gates.licenses.is_none() {
        gates.licenses = Some(Default::default());
    }
    if gates.licenses.is_some() && licenses.is_none() {
        // A licence gate with no policy: evaluate with the defaults so the report shows what
        // is unknown.
        licenses = Some(LicensePolicy::default());
    }

    let exit_code = u8::try_from(s.uint("exit_code").unwrap_or(0)).unwrap_or(u8::MAX);
    let legacy_gate = gates.is_empty() && exit_code > 0;
    let exit_code = if gates.is_empty() {
        // The original gate: --exit-code N with --severity, on vulnerabilities and secrets.
        if exit_code > 0 {
            let severity =
                SeverityFilter::AnyOf(s.severities("severity").unwrap_or_default().to_vec());
            match legacy {
                LegacyGate::VulnerabilitiesAndSecrets => {
                    gates.vulnerabilities = Some(VulnGate {
                        severity: severity.clone(),
                        ..VulnGate::default()
                    });
                    gates.secrets = Some(SeverityGate { severity });
                }
                LegacyGate::Misconfigurations => {
                    gates.misconfigurations = Some(SeverityGate { severity });
                }
            }
        }
        exit_code
    } else if s.is_set("exit_code") {
        exit_code
    } else {
        1
    };
    Ok(Resolved {
        policy: Policy {
            ignores,
            vex,
            licenses,
            gates,
        },
        exit_code,
        legacy_gate,
    })
}
