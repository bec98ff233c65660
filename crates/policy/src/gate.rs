//! Gates: the conditions under which a scan fails a pipeline. Each configured gate yields a
//! [`GateResult`] that says whether it passed and, naming the findings, why not.

use std::fmt;

use bulwark_types::Severity;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use bulwark_report::{GateKind, GateResult, LicenseCategory, ScanReport};

/// Which severities count: at or above a level (`high`), or an explicit list (the
/// `--severity` flag's form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeverityFilter {
    AtLeast(Severity),
    AnyOf(Vec<Severity>),
}

impl SeverityFilter {
    pub fn admits(&self, s: Severity) -> bool {
        match self {
            SeverityFilter::AtLeast(min) => s >= *min,
            SeverityFilter::AnyOf(list) => list.is_empty() || list.contains(&s),
        }
    }

    fn describe(&self) -> String {
        match self {
            SeverityFilter::AtLeast(Severity::Unknown) => "any severity".into(),
            SeverityFilter::AtLeast(s) => format!("{s} or above"),
            SeverityFilter::AnyOf(l) if l.is_empty() => "any severity".into(),
            SeverityFilter::AnyOf(l) => l.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        }
    }
}

impl Default for SeverityFilter {
    fn default() -> Self {
        SeverityFilter::AtLeast(Severity::Unknown)
    }
}

impl<'de> Deserialize<'de> for SeverityFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Severity>()
            .map(SeverityFilter::AtLeast)
            .map_err(de::Error::custom)
    }
}

/// `gates.vulnerabilities`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VulnGate {
    /// Count vulnerabilities at or above this severity (default: any).
    #[serde(default)]
    pub severity: SeverityFilter,
    /// Only those with a fixed version.
    #[serde(default)]
    pub fixable: bool,
    /// Only those in CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default)]
    pub kev: bool,
    /// Only those with an EPSS probability at or above this (0.0-1.0).
    #[serde(default, deserialize_with = "probability")]
    pub epss: Option<f64>,
}

fn probability<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(Some(v))
    } else {
        Err(de::Error::custom(format!(
            "EPSS threshold {v} is not a probability between 0.0 and 1.0"
        )))
    }
}

/// `gates.secrets` / `gates.misconfigurations`: `true`, or `{severity: LEVEL}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityGate {
    #[serde(default)]
    pub severity: SeverityFilter,
}

/// `gates.licenses`: `true` fails on forbidden licences.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseGate {}

/// The `gates:` section: each gate is off unless configured.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    #[serde(default, deserialize_with = "on_or_settings")]
    pub vulnerabilities: Option<VulnGate>,
    #[serde(default, deserialize_with = "on_or_settings")]
    pub secrets: Option<SeverityGate>,
    #[serde(default, deserialize_with = "on_or_settings")]
    pub misconfigurations: Option<SeverityGate>,
    #[serde(default, deserialize_with = "on_or_settings")]
    pub licenses: Option<LicenseGate>,
}

impl GateConfig {
    pub fn is_empty(&self) -> bool {
        self.vulnerabilities.is_none()
            && self.secrets.is_none()
            && self.misconfigurations.is_none()
            && self.licenses.is_none()
    }
}

/// `true` (on, defaults), `false` (off) or a map of settings; keeps the YAML location of
/// errors inside the map, which an untagged enum would lose.
fn on_or_settings<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true, false or a map of settings")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(v.then(T::default))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Some(T::default()))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// `names` as `a, b, c and 4 more`.
fn list(mut names: Vec<String>) -> String {
    const SHOWN: usize = 5;
    names.dedup();
    let more = names.len().saturating_sub(SHOWN);
    names.truncate(SHOWN);
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Evaluates every configured gate on the (already suppressed) findings of `report`.
pub fn evaluate(report: &ScanReport, gates: &GateConfig) -> Vec<GateResult> {
    let mut out = Vec::new();
    if let Some(g) = &gates.vulnerabilities {
        let hits: Vec<&bulwark_types::VulnerabilityFinding> = report
            .vulnerabilities
            .iter()
            .filter(|f| g.severity.admits(f.severity))
            .filter(|f| !g.fixable || !f.fixed_versions.is_empty())
            .filter(|f| !g.kev || f.kev.is_some() || f.priority.kev)
            .filter(|f| match g.epss {
                Some(min) => f
                    .epss
                    .as_ref()
                    .map(|e| e.score)
                    .or(f.priority.epss)
                    .is_some_and(|s| s >= min),
                None => true,
            })
            .collect();
        let mut what = format!("at {}", g.severity.describe());
        if g.fixable {
            what.push_str(", with a fix");
        }
        if g.kev {
            what.push_str(", in CISA KEV");
        }
        if let Some(e) = g.epss {
            what.push_str(&format!(", EPSS >= {e}"));
        }
        out.push(result(
            GateKind::Vulnerabilities,
            hits.len(),
            plural(hits.len(), "vulnerability", "vulnerabilities"),
            &what,
            hits.iter()
                .map(|f| format!("{} in {} {}", f.id, f.package.name, f.installed_version))
                .collect(),
        ));
    }
    if let Some(g) = &gates.secrets {
        let hits: Vec<_> = report
            .secrets
            .iter()
            .filter(|s| g.severity.admits(s.hit.severity))
            .collect();
        out.push(result(
            GateKind::Secrets,
            hits.len(),
            plural(hits.len(), "secret", "secrets"),
            &format!("at {}", g.severity.describe()),
            hits.iter()
                .map(|s| {
                    let place = match &s.location {
                        bulwark_types::SecretLocation::File { path } => {
                            format!("{path}:{}", s.hit.line)
                        }
                        bulwark_types::SecretLocation::Env { name } => format!("ENV {name}"),
                        bulwark_types::SecretLocation::Label { key } => format!("LABEL {key}"),
                        bulwark_types::SecretLocation::History { step } => {
                            format!("history step {step}")
                        }
                    };
                    format!("{} at {place}", s.hit.rule_id)
                })
                .collect(),
        ));
    }
    if let Some(g) = &gates.misconfigurations {
        let hits: Vec<_> = report
            .misconfigurations
            .iter()
            .filter(|m| g.severity.admits(m.severity))
            .collect();
        out.push(result(
            GateKind::Misconfigurations,
            hits.len(),
            plural(hits.len(), "misconfiguration", "misconfigurations"),
            &format!("at {}", g.severity.describe()),
            hits.iter()
                .map(|m| match m.location.line {
                    Some(l) => format!("{} at {}:{l}", m.check_id, m.location.path),
                    None => format!("{} at {}", m.check_id, m.location.path),
                })
                .collect(),
        ));
    }
    if gates.licenses.is_some() {
        let hits: Vec<_> = report
            .license_findings
            .iter()
            .filter(|l| l.category == LicenseCategory::Forbidden)
            .collect();
        out.push(result(
            GateKind::Licenses,
            hits.len(),
            plural(hits.len(), "package", "packages"),
            "with a forbidden licence",
            hits.iter()
                .map(|l| format!("{} {} ({})", l.package, l.version, l.license))
                .collect(),
        ));
    }
    out
}

fn result(
    gate: GateKind,
    count: usize,
    counted: String,
    what: &str,
    names: Vec<String>,
) -> GateResult {
    GateResult {
        gate,
        passed: count == 0,
        count,
        reason: if count == 0 {
            format!("no {gate} {what}")
        } else {
            format!("{counted} {what}: {}", list(names))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_config_reads_true_false_and_maps() {
        let g: GateConfig = serde_saphyr::from_str(
            "vulnerabilities: {severity: high, fixable: true, epss: 0.5}\nsecrets: true\nmisconfigurations: false\nlicenses:\n",
        )
        .unwrap();
        let v = g.vulnerabilities.unwrap();
        assert_eq!(v.severity, SeverityFilter::AtLeast(Severity::High));
        assert!(v.fixable && !v.kev);
        assert_eq!(v.epss, Some(0.5));
        assert!(g.secrets.is_some() && g.misconfigurations.is_none() && g.licenses.is_some());
        let e = serde_saphyr::from_str::<GateConfig>("vulnerabilities: {epss: 5}").unwrap_err();
        assert!(e.to_string().contains("not a probability"), "{e}");
        let e = serde_saphyr::from_str::<GateConfig>("secrets: {colour: red}").unwrap_err();
        assert!(e.to_string().contains("unknown field `colour`"), "{e}");
        assert!(SeverityFilter::AtLeast(Severity::High).admits(Severity::Critical));
        assert!(!SeverityFilter::AtLeast(Severity::High).admits(Severity::Medium));
    }

    #[test]
    fn long_lists_are_cut() {
        let names = (0..8).map(|i| format!("CVE-{i}")).collect();
        assert_eq!(list(names), "CVE-0, CVE-1, CVE-2, CVE-3, CVE-4 and 3 more");
    }
}
