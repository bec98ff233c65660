//! What a scan runs and what it reports. The chosen scanners say what is reported; a scanner
//! also runs when something reported needs it (vulnerabilities and licences need the package
//! catalog) and when a gate judges its findings, so a gate never passes because what it
//! judges was not scanned (issue 12.1).

use bulwark_policy::Policy;

/// What a scan can report (`--scanners`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scanner {
    /// The package inventory (OS and language packages).
    Sbom,
    /// Secrets in every layer's files, ENV, labels and build history.
    Secret,
    /// Known vulnerabilities of the packages, from the advisory database.
    Vuln,
    /// Misconfigurations of the image itself.
    Misconfig,
}

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
    /// The plan for `chosen` scanners (`None`: the defaults) and the policy. With
    /// `legacy_gate` (the gates a bare `--exit-code N` implies), the gates are narrowed to the
    /// chosen scanners' findings.
    pub fn new(chosen: Option<&[Scanner]>, policy: &mut Policy, legacy_gate: bool) -> ScanPlan {
        let named = |s: Scanner| chosen.is_none_or(|c| c.contains(&s));
        let gates = &mut policy.gates;
        if legacy_gate {
            if !named(Scanner::Vuln) {
                gates.vulnerabilities = None;
            }
            if !named(Scanner::Secret) {
                gates.secrets = None;
            }
        }
        let vuln_gate = gates.vulnerabilities.is_some() && !legacy_gate;
        let vuln = named(Scanner::Vuln) || gates.vulnerabilities.is_some();
        let licences = policy.licenses.is_some() || gates.licenses.is_some();
        ScanPlan {
            report_packages: named(Scanner::Sbom),
            catalog: named(Scanner::Sbom) || vuln || licences,
            secrets: named(Scanner::Secret) || gates.secrets.is_some(),
            misconfig: named(Scanner::Misconfig) || gates.misconfigurations.is_some(),
            vuln,
            vuln_required: chosen.is_some_and(|c| c.contains(&Scanner::Vuln)) || vuln_gate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_policy::{GateConfig, LicensePolicy, Policy, SeverityGate, VulnGate};

    fn policy(gates: GateConfig) -> Policy {
        Policy {
            gates,
            ..Policy::default()
        }
    }

    #[test]
    fn every_scanner_pulls_in_what_it_needs() {
        use Scanner::*;
        let plan = ScanPlan::new(Some(&[Vuln]), &mut policy(GateConfig::default()), false);
        assert!(plan.catalog && plan.vuln && plan.vuln_required, "{plan:?}");
        assert!(!plan.report_packages && !plan.secrets && !plan.misconfig);

        // A gate runs what it judges, even when its scanner is not named.
        let gates = GateConfig {
            vulnerabilities: Some(VulnGate::default()),
            secrets: Some(SeverityGate::default()),
            misconfigurations: Some(SeverityGate::default()),
            licenses: Some(Default::default()),
        };
        let plan = ScanPlan::new(Some(&[Sbom]), &mut policy(gates), false);
        assert!(
            plan.catalog && plan.vuln && plan.vuln_required && plan.secrets && plan.misconfig,
            "{plan:?}"
        );

        // A licence policy needs the packages' licences.
        let mut p = policy(GateConfig::default());
        p.licenses = Some(LicensePolicy::default());
        let plan = ScanPlan::new(Some(&[Secret]), &mut p, false);
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
        let mut p = policy(legacy);
        let plan = ScanPlan::new(Some(&[Vuln]), &mut p, true);
        assert!(plan.vuln && plan.catalog && !plan.secrets, "{plan:?}");
        assert!(p.gates.secrets.is_none() && p.gates.vulnerabilities.is_some());

        // The defaults: everything, with vuln only when a database exists.
        let plan = ScanPlan::new(None, &mut policy(GateConfig::default()), false);
        assert!(plan.report_packages && plan.catalog && plan.secrets && plan.misconfig);
        assert!(plan.vuln && !plan.vuln_required);
    }
}
