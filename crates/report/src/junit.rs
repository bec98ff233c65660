//! JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure, CircleCI).
//!
//! One `<testsuite>` per scanner (`vulnerabilities`, `secrets`, `misconfigurations`,
//! `licenses`) and one for the gates when any are configured. Each finding is a test case
//! with a `<failure>` (its `type` is the severity, the text has the details); a finding kept
//! out by an ignore rule or VEX is a `<skipped>` test case with the reason; a scanner with
//! nothing to report has one passing test case. The shape follows the common Ant JUnit schema
//! (`schemas/junit/JUnit.xsd`): every suite has `properties`, `system-out` and `system-err`,
//! a zone-less `timestamp`, `hostname`, `id` and `package`.

use std::fmt::Write;

use bulwark_types::Severity;

use crate::common::{category_words, escape_xml as esc, fix_text};
use crate::view::{findings_of, plural, suppressed_of, FindingRef, FindingView, KINDS};
use crate::{FindingKind, ScanReport};

struct Case {
    name: String,
    classname: String,
    outcome: Outcome,
}

enum Outcome {
    Pass,
    Fail {
        message: String,
        severity: Severity,
        details: String,
    },
    Skip {
        message: String,
    },
}

struct Suite {
    name: &'static str,
    cases: Vec<Case>,
}

fn skipped(report: &ScanReport, kind: FindingKind) -> impl Iterator<Item = Case> + '_ {
    let suite = plural(kind);
    suppressed_of(report, kind).into_iter().map(move |s| Case {
        name: format!("{} in {}", s.id, s.target),
        classname: format!("bulwark.{suite}.suppressed"),
        outcome: Outcome::Skip {
            message: format!("suppressed by {}: {}", s.source, s.reason),
        },
    })
}

/// A finding as a failed test case: its name, class and message, and every detail as text.
fn failed(view: &FindingView<'_>) -> Case {
    let (name, classname, message, details) = match view.finding {
        FindingRef::Vulnerability(f) => {
            let mut details = format!(
                "id: {}\naliases: {}\npackage: {} {} ({})\npurl: {}\nseverity: {} ({})\nfix: {}\n",
                f.id,
                f.ids.join(", "),
                f.package.name,
                f.installed_version,
                f.package.ecosystem,
                f.package.purl,
                f.severity,
                f.severity_source,
                fix_text(f),
            );
            if let Some(c) = &f.cvss {
                let _ = writeln!(
                    details,
                    "cvss {}: {} {}",
                    c.version,
                    c.base_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                    c.vector
                );
            }
            let _ = writeln!(details, "priority: {}", f.priority.reason);
            if let Some(t) = &f.title {
                let _ = writeln!(details, "title: {t}");
            }
            let _ = writeln!(details, "layer: {}", f.package.layer_index);
            if let Some(c) = &f.package.layer_created_by {
                let _ = writeln!(details, "created by: {c}");
            }
            for r in &f.references {
                let _ = writeln!(details, "reference: {r}");
            }
            (
                format!("{} in {} {}", f.id, f.package.name, f.installed_version),
                format!(
                    "bulwark.vulnerabilities.{}.{}",
                    f.package.ecosystem, f.package.name
                ),
                format!(
                    "{} ({}) in {} {}: {}",
                    f.id,
                    f.severity,
                    f.package.name,
                    f.installed_version,
                    fix_text(f)
                ),
                details,
            )
        }
        FindingRef::Secret(s) => {
            let mut details = format!(
                "rule: {}\nconfidence: {}\nplace: {}\nvalue (redacted): {}\nfingerprint: {}\n",
                s.hit.rule_id, s.hit.confidence, view.location, s.hit.redacted, s.hit.fingerprint
            );
            if let Some(l) = &s.layer {
                let _ = writeln!(details, "layer: {}", l.index);
            }
            if let Some(r) = s.removed_in_layer {
                let _ = writeln!(
                    details,
                    "removed in layer {r}: still in the image's earlier layer"
                );
            }
            (
                format!("{} at {}", view.id, view.location),
                format!("bulwark.secrets.{}", view.id),
                format!("{} ({}) at {}", view.title, view.severity, view.location),
                details,
            )
        }
        FindingRef::Misconfiguration(m) => {
            let mut details = format!(
                "check: {}\nplace: {}\nmessage: {}\nfix: {}\n",
                m.check_id, view.location, m.message, m.remediation
            );
            if let Some(r) = &m.location.resource {
                let _ = writeln!(details, "resource: {r}");
            }
            for c in &m.compliance {
                let _ = writeln!(
                    details,
                    "compliance: {} {}",
                    c.framework.as_str(),
                    c.control
                );
            }
            for r in &m.references {
                let _ = writeln!(details, "reference: {r}");
            }
            (
                format!("{} at {}", view.id, view.location),
                format!("bulwark.misconfigurations.{}", view.id),
                format!("{} ({}): {}", view.title, view.severity, m.message),
                details,
            )
        }
        FindingRef::License(l) => (
            format!("{} in {} {}", l.license, l.package, l.version),
            format!("bulwark.licenses.{}", l.package),
            format!(
                "{} {} is licensed {} ({}): {}",
                l.package,
                l.version,
                l.license,
                category_words(l.category),
                l.reason
            ),
            format!(
                "package: {} {}\npurl: {}\nlicense: {}\ncategory: {}\nreason: {}\nlayer: {}\n",
                l.package,
                l.version,
                l.purl,
                l.license,
                category_words(l.category),
                l.reason,
                l.layer.index
            ),
        ),
    };
    Case {
        name,
        classname,
        outcome: Outcome::Fail {
            message,
            severity: view.severity,
            details,
        },
    }
}

fn suites(report: &ScanReport) -> Vec<Suite> {
    let mut out: Vec<Suite> = KINDS
        .into_iter()
        .map(|kind| Suite {
            name: plural(kind),
            cases: findings_of(report, kind)
                .iter()
                .map(failed)
                .chain(skipped(report, kind))
                .collect(),
        })
        .collect();

    for suite in &mut out {
        if suite
            .cases
            .iter()
            .all(|c| !matches!(c.outcome, Outcome::Fail { .. }))
        {
            suite.cases.insert(
                0,
                Case {
                    name: format!("no {} found", suite.name),
                    classname: format!("bulwark.{}", suite.name),
                    outcome: Outcome::Pass,
                },
            );
        }
    }

    if !report.gates.is_empty() {
        out.push(Suite {
            name: "gates",
            cases: report
                .gates
                .iter()
                .map(|g| Case {
                    name: format!("gate {}", g.gate),
                    classname: "bulwark.gates".to_string(),
                    outcome: if g.passed {
                        Outcome::Pass
                    } else {
                        Outcome::Fail {
                            message: format!("gate {} failed: {}", g.gate, g.reason),
                            severity: Severity::High,
                            details: g.reason.clone(),
                        }
                    },
                })
                .collect(),
        });
    }
    out
}

pub fn render(report: &ScanReport) -> String {
    let suites = suites(report);
    // The schema's timestamp has no zone; `created` is UTC.
    let timestamp = report.created.trim_end_matches('Z');
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (id, suite) in suites.iter().enumerate() {
        let failures = suite
            .cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail { .. }))
            .count();
        let skipped = suite
            .cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skip { .. }))
            .count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" package=\"bulwark\" id=\"{id}\" timestamp=\"{}\" hostname=\"localhost\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">",
            suite.name,
            esc(timestamp),
            suite.cases.len()
        );
        x.push_str("    <properties>\n");
        let mut props = vec![
            ("image", report.image_name()),
            ("reference", report.image.reference.clone()),
            (
                "tool",
                format!("{} {}", report.tool.name, report.tool.version),
            ),
        ];
        if let Some(d) = &report.image.config_digest {
            props.push(("config_digest", d.to_string()));
        }
        for (k, v) in props {
            let _ = writeln!(x, "      <property name=\"{k}\" value=\"{}\"/>", esc(&v));
        }
        x.push_str("    </properties>\n");
        for case in &suite.cases {
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                esc(&case.name),
                esc(&case.classname)
            );
            match &case.outcome {
                Outcome::Pass => {
                    let _ = writeln!(x, "{open}/>");
                }
                Outcome::Skip { message } => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(message)
                    );
                }
                Outcome::Fail {
                    message,
                    severity,
                    details,
                } => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        esc(message),
                        severity,
                        esc(details)
                    );
                }
            }
        }
        x.push_str(
            "    <system-out></system-out>\n    <system-err></system-err>\n  </testsuite>\n",
        );
    }
    x.push_str("</testsuites>\n");
    x
}
