//! What a judged report means for the run's exit status: the failed gates, said once each,
//! and the exit code (documented in README and docs/exit-codes.md).

use bulwark_report::ScanReport;

/// Nothing failed and everything was analyzed.
pub const EXIT_OK: u8 = 0;
/// The run itself failed (bad input, unreadable file, network).
pub const EXIT_ERROR: u8 = 2;
/// Part of the input could not be analyzed; the report may be incomplete.
pub const EXIT_INCOMPLETE: u8 = 3;

/// One line per failed gate: `bulwark: gate failed: GATE: REASON (exit N)`, or `(reported
/// only: exit code 0)` when failing is off.
pub fn failed_gate_lines(report: &ScanReport, exit_code: u8) -> Vec<String> {
    let outcome = if exit_code == 0 {
        "reported only: exit code 0".to_string()
    } else {
        format!("exit {exit_code}")
    };
    report
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("bulwark: gate failed: {}: {} ({outcome})", g.gate, g.reason))
        .collect()
}

/// The gate exit code when a gate failed and failing is on (`exit_code` is not 0).
pub fn gate_exit_code(report: &ScanReport, exit_code: u8) -> Option<u8> {
    let failed = report.gates.iter().any(|g| !g.passed);
    (failed && exit_code != 0).then_some(exit_code)
}

/// A failed gate's code (when failing is on), else [`EXIT_INCOMPLETE`] when part of the input
/// could not be analyzed, else [`EXIT_OK`].
pub fn exit_code(report: &ScanReport, gate_exit_code_on_failure: u8) -> u8 {
    match gate_exit_code(report, gate_exit_code_on_failure) {
        Some(code) => code,
        None if report.has_errors() => EXIT_INCOMPLETE,
        None => EXIT_OK,
    }
}

#[cfg(test)]
mod tests {
    use bulwark_report::{GateKind, GateResult};

    use super::*;

    fn report(gate_passed: Option<bool>) -> ScanReport {
        let mut report = ScanReport::for_files("x".into(), "0");
        report.gates.extend(gate_passed.map(|passed| GateResult {
            gate: GateKind::Secrets,
            passed,
            count: usize::from(!passed),
            reason: "1 secret".into(),
        }));
        report
    }

    #[test]
    fn a_failed_gate_exits_with_its_code_only_when_failing_is_on() {
        let failed = report(Some(false));
        assert_eq!(exit_code(&failed, 4), 4);
        assert_eq!(exit_code(&failed, 0), EXIT_OK);
        assert_eq!(
            failed_gate_lines(&failed, 4),
            ["bulwark: gate failed: secrets: 1 secret (exit 4)"]
        );
        assert_eq!(
            failed_gate_lines(&failed, 0),
            ["bulwark: gate failed: secrets: 1 secret (reported only: exit code 0)"]
        );
        assert_eq!(exit_code(&report(Some(true)), 4), EXIT_OK);
        assert!(failed_gate_lines(&report(None), 4).is_empty());
    }
}
