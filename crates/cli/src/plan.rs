//! What a scan runs and what it reports. `--scanners` chooses what is reported; a scanner
//! also runs when something reported needs it (vulnerabilities and licences need the package
//! catalog) and when a gate judges its findings, so a gate never passes because what it
//! judges was not scanned (issue 12.1).

use crate::cli::ScannerArg;
use crate::config::Resolved;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanPlan {
    /// The package list goes into the report (`sbom` chosen; a CycloneDX or SPDX report keeps
    /// it regardless, its vulnerabilities refer to the components).
    pub report_packages: bool,
    /// The package analyzers run: for the inventory, vulnerabilities or licences.
    pub catalog: bool,
    pub secrets: bool,
    pub misconfig: bool,
    pub vuln: bool,
    /// A missing advisory database is an error, not a hint: `vuln` was named, or a
    /// vulnerability gate was configured.
    pub vuln_required: bool,
}

impl ScanPlan {
    /// The plan for `chosen` scanners (`None`: the defaults) and the resolved policy. The gates
    /// a bare `--exit-code N` implies are narrowed to the chosen scanners' findings.
    pub fn new(chosen: Option<&[ScannerArg]>, resolved: &mut Resolved) -> ScanPlan {
        let named = |s: ScannerArg| chosen.is_none_or(|c| c.contains(&s));
        let gates = &mut resolved.policy.gates;
        if resolved.legacy_gate {
            if !named(ScannerArg::Vuln) {
                gates.vulnerabilities = None;
            }
            if !named(ScannerArg::Secret) {
                gates.secrets = None;
            }
        }
        let vuln_gate = gates.vulnerabilities.is_some() && !resolved.legacy_gate;
        let vuln = named(ScannerArg::Vuln) || gates.vulnerabilities.is_some();
        let licences = resolved.policy.licenses.is_some() || gates.licenses.is_some();
        ScanPlan {
            report_packages: named(ScannerArg::Sbom),
            catalog: named(ScannerArg::Sbom) || vuln || licences,
            secrets: named(ScannerArg::Secret) || gates.secrets.is_some(),
            misconfig: named(ScannerArg::Misconfig) || gates.misconfigurations.is_some(),
            vuln,
            vuln_required: chosen.is_some_and(|c| c.contains(&ScannerArg::Vuln)) || vuln_gate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_policy::{GateConfig, LicensePolicy, Policy, SeverityGate, VulnGate};

    fn resolved(gates: GateConfig, legacy_gate: bool) -> Resolved {
        Resolved {
            policy: Policy {
                gates,
                ..Policy::default()
            },
            exit_code: 1,
            legacy_gate,
        }
    }

    #[test]
    fn every_scanner_pulls_in_what_it_needs() {
        use ScannerArg::*;
        let plan = ScanPlan::new(Some(&[Vuln]), &mut resolved(GateConfig::default(), false));
        assert!(plan.catalog && plan.vuln && plan.vuln_required, "{plan:?}");
        assert!(!plan.report_packages && !plan.secrets && !plan.misconfig);

        // A gate runs what it judges, even when its scanner is not named.
        let gates = GateConfig {
            vulnerabilities: Some(VulnGate::default()),
            secrets: Some(SeverityGate::default()),
            misconfigurations: Some(SeverityGate::default()),
            licenses: Some(Default::default()),
        };
        let plan = ScanPlan::new(Some(&[Sbom]), &mut resolved(gates, false));
        assert!(
            plan.catalog && plan.vuln && plan.vuln_required && plan.secrets && plan.misconfig,
            "{plan:?}"
        );

        // A licence policy needs the packages' licences.
        let mut r = resolved(GateConfig::default(), false);
        r.policy.licenses = Some(LicensePolicy::default());
        let plan = ScanPlan::new(Some(&[Secret]), &mut r);
        assert!(
            plan.catalog && !plan.report_packages && !plan.vuln,
            "{plan:?}"
        );

        // `--exit-code N` alone judges what was chosen: secrets only when secret is named.
        let legacy = GateConfig {
            vulnerabilities: Some(VulnGate::default()),
            secrets: Some(SeverityGate::default()),
            ..GateConfig::default()
        };
        let mut r = resolved(legacy, true);
        let plan = ScanPlan::new(Some(&[Vuln]), &mut r);
        assert!(plan.vuln && plan.catalog && !plan.secrets, "{plan:?}");
        assert!(r.policy.gates.secrets.is_none() && r.policy.gates.vulnerabilities.is_some());

        // The defaults: everything, with vuln only when a database exists.
        let plan = ScanPlan::new(None, &mut resolved(GateConfig::default(), false));
        assert!(plan.report_packages && plan.catalog && plan.secrets && plan.misconfig);
        assert!(plan.vuln && !plan.vuln_required);
    }
}
