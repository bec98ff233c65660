//! CVSS v3.0/v3.1 base scores and CVSS v4.0 scores (CVSS-B/-BT/-BE/-BTE), computed by RustSec's
//! `cvss` crate. This module validates a vector strictly first (what it accepts and the errors
//! it names are bulwark's: every base metric present once with a valid value, v3 temporal and
//! environmental metrics ignored, v4 `X` meaning "not defined" for the nomenclature), then
//! hands the crate a canonical vector of what it read.
//!
//! The crate was adopted after it matched all 53 reference vectors the previous in-house
//! implementation was tested with (19 from FIRST's v3.1 examples, 34 v4.0 scores from FIRST's
//! user guide, FIRST's calculator and Red Hat's reference vectors; `spec_examples` here and
//! `tests/cvss4.rs`). Where it differs from what bulwark wants it is not asked: it scores a v3
//! vector with a base metric missing (bulwark refuses it) and names an all-`X` v4 vector
//! CVSS-BTE (bulwark: CVSS-B, as nothing is defined).

use std::str::FromStr;

use bulwark_types::Severity;

/// A parsed v3 vector's base score and rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cvss3 {
    /// 0 for `CVSS:3.0/`, 1 for `CVSS:3.1/`.
    pub minor: u8,
    pub base_score: f64,
}

impl Cvss3 {
    pub fn severity(&self) -> Severity {
        severity_for_score(self.base_score)
    }
}

/// The qualitative rating of a CVSS v3/v4 score (None maps to Unknown).
pub fn severity_for_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

/// Computes the base score of a `CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…` vector.
/// Temporal and environmental metrics, if present, are ignored (they do not change the base
/// score). `None` when the vector is not v3 or a base metric is missing or invalid.
pub fn base_score_v3(vector: &str) -> Option<Cvss3> {
    let mut parts = vector.trim().split('/');
    let minor = match parts.next()? {
        "CVSS:3.1" => 1,
        "CVSS:3.0" => 0,
        _ => return None,
    };
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for part in parts {
        let (k, v) = part.split_once(':')?;
        let slot = match k {
            "AV" => &mut av,
            "AC" => &mut ac,
            "PR" => &mut pr,
            "UI" => &mut ui,
            "S" => &mut s,
            "C" => &mut c,
            "I" => &mut i,
            "A" => &mut a,
            _ => continue,
        };
        if slot.is_some() {
            return None; // a metric given twice is invalid
        }
        *slot = Some(v);
    }
    fn valid<'v>(value: Option<&'v str>, allowed: &[&str]) -> Option<&'v str> {
        value.filter(|v| allowed.contains(v))
    }
    let canonical = format!(
        "CVSS:3.{minor}/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
        valid(av, &["N", "A", "L", "P"])?,
        valid(ac, &["L", "H"])?,
        valid(pr, &["N", "L", "H"])?,
        valid(ui, &["N", "R"])?,
        valid(s, &["U", "C"])?,
        valid(c, &["H", "L", "N"])?,
        valid(i, &["H", "L", "N"])?,
        valid(a, &["H", "L", "N"])?,
    );
    let base_score = cvss::v3::Vector::from_str(&canonical)
        .ok()?
        .base_score()
        .value();
    Some(Cvss3 { minor, base_score })
}

// ---------------------------------------------------------------------------------------------
// CVSS v4.0
// ---------------------------------------------------------------------------------------------
//
/// Why a CVSS vector could not be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error("not a CVSS v4.0 vector (expected a `CVSS:4.0/` prefix)")]
    WrongVersion,
    #[error("malformed vector component `{0}` (expected `METRIC:VALUE`)")]
    Malformed(String),
    #[error("unknown metric `{0}`")]
    UnknownMetric(String),
    #[error("metric `{0}` given more than once")]
    DuplicateMetric(String),
    #[error("invalid value `{value}` for metric `{metric}`")]
    InvalidValue { metric: String, value: String },
    #[error("mandatory base metric `{0}` is missing")]
    MissingMetric(&'static str),
}

/// A scored v4.0 vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cvss4 {
    /// The score (0.0–10.0, one decimal) of the metrics the vector carries.
    pub score: f64,
    /// `CVSS-B`, `CVSS-BT`, `CVSS-BE` or `CVSS-BTE`: which metric groups were set (not `X`).
    pub nomenclature: &'static str,
}

impl Cvss4 {
    pub fn severity(&self) -> Severity {
        severity_for_score(self.score)
    }
}

/// Every v4.0 metric and its allowed values, in the specification's order. Base metrics
/// (mandatory) first; `X` (Not Defined) is allowed for all others.
const V4_METRICS: &[(&str, &[&str])] = &[
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
    // Threat
    ("E", &["X", "A", "P", "U"]),
    // Environmental
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MAT", &["X", "N", "P"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "P", "A"]),
    ("MVC", &["X", "H", "L", "N"]),
    ("MVI", &["X", "H", "L", "N"]),
    ("MVA", &["X", "H", "L", "N"]),
    ("MSC", &["X", "H", "L", "N"]),
    ("MSI", &["X", "S", "H", "L", "N"]),
    ("MSA", &["X", "S", "H", "L", "N"]),
    // Supplemental (no effect on the score)
    ("S", &["X", "N", "P"]),
    ("AU", &["X", "N", "Y"]),
    ("R", &["X", "A", "U", "I"]),
    ("V", &["X", "D", "C"]),
    ("RE", &["X", "L", "M", "H"]),
    ("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

const V4_BASE_COUNT: usize = 11;
const V4_THREAT: &[&str] = &["E"];
const V4_ENV: &[&str] = &[
    "CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA",
];

/// A parsed v4.0 vector: the value given for each metric of [`V4_METRICS`], by index.
struct V4Vector<'a> {
    values: [Option<&'a str>; 32],
}

impl<'a> V4Vector<'a> {
    fn parse(vector: &'a str) -> Result<Self, CvssError> {
        let rest = vector
            .trim()
            .strip_prefix("CVSS:4.0/")
            .ok_or(CvssError::WrongVersion)?;
        let mut values = [None; 32];
        debug_assert_eq!(V4_METRICS.len(), values.len());
        for part in rest.split('/') {
            let (k, v) = part
                .split_once(':')
                .ok_or_else(|| CvssError::Malformed(part.to_string()))?;
            let idx = V4_METRICS
                .iter()
                .position(|(name, _)| *name == k)
                .ok_or_else(|| CvssError::UnknownMetric(k.to_string()))?;
            if !V4_METRICS[idx].1.contains(&v) {
                return Err(CvssError::InvalidValue {
                    metric: k.to_string(),
                    value: v.to_string(),
                });
            }
            if values[idx].is_some() {
                return Err(CvssError::DuplicateMetric(k.to_string()));
            }
            values[idx] = Some(v);
        }
        for (i, (name, _)) in V4_METRICS.iter().enumerate().take(V4_BASE_COUNT) {
            if values[i].is_none() {
                return Err(CvssError::MissingMetric(name));
            }
        }
        Ok(V4Vector { values })
    }

    fn raw(&self, metric: &str) -> Option<&'a str> {
        let idx = V4_METRICS.iter().position(|(name, _)| *name == metric)?;
        self.values[idx]
    }

    fn defined(&self, metric: &str) -> bool {
        self.raw(metric).is_some_and(|v| v != "X")
    }
}

/// Scores a `CVSS:4.0/…` vector: CVSS-B from the base metrics, or CVSS-BT / -BE / -BTE when
/// threat and/or environmental metrics are set. Supplemental metrics are validated but do not
/// change the score. Metric order is not enforced; unknown metrics, invalid values, repeated
/// metrics and missing base metrics are errors.
pub fn score_v4(vector: &str) -> Result<Cvss4, CvssError> {
    let v = V4Vector::parse(vector)?;
    let threat = V4_THREAT.iter().any(|m| v.defined(m));
    let env = V4_ENV.iter().any(|m| v.defined(m));
    let nomenclature = match (threat, env) {
        (false, false) => "CVSS-B",
        (true, false) => "CVSS-BT",
        (false, true) => "CVSS-BE",
        (true, true) => "CVSS-BTE",
    };
    // What was read, in the specification's order (metrics left out stay out).
    let canonical: Vec<String> = V4_METRICS
        .iter()
        .zip(v.values)
        .filter_map(|((name, _), value)| value.map(|value| format!("{name}:{value}")))
        .collect();
    let scored = cvss::v4::Vector::from_str(&format!("CVSS:4.0/{}", canonical.join("/")))
        .map_err(|e| CvssError::Malformed(e.to_string()))?;
    Ok(Cvss4 {
        score: scored.score().value(),
        nomenclature,
    })
}

/// The CVSS v4.0 score of a vector (see [`score_v4`]); with only base metrics this is the
/// CVSS-B base score.
pub fn base_score_v4(vector: &str) -> Result<f64, CvssError> {
    score_v4(vector).map(|c| c.score)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked examples of FIRST's "CVSS v3.1 Examples" document (base scores).
    #[test]
    fn spec_examples() {
        let cases = [
            ("AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1), // CVE-2013-1937 phpMyAdmin XSS
            ("AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4), // CVE-2013-0375 MySQL stored SQLi
            ("AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1), // CVE-2014-3566 SSLv3 POODLE
            ("AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9), // CVE-2012-1516 VMware guest-to-host
            ("AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2), // CVE-2009-0783 Tomcat
            ("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8), // CVE-2012-0384 Cisco IOS
            ("AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8), // CVE-2015-1098 Apple iWork
            ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5), // CVE-2014-0160 Heartbleed
            ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8), // CVE-2014-6271 Shellshock
            ("AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8), // CVE-2008-1447 DNS cache poisoning
            ("AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8), // CVE-2014-2005 Sophos disk encryption
            ("AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8), // CVE-2010-0467 Joomla directory traversal
            ("AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8), // CVE-2012-1342 Cisco ACL bypass
            ("AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3), // CVE-2013-6014 Juniper proxy ARP
            ("AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8), // CVE-2016-0128 Badlock
            ("AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8), // CVE-2016-1645 Chrome PDFium
            ("AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8), // CVE-2016-0051 Windows WebDAV EoP
            ("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0), // CVE-2021-44228 log4shell (NVD)
            ("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ];
        for (v, want) in cases {
            let got = base_score_v3(&format!("CVSS:3.1/{v}")).unwrap().base_score;
            assert_eq!(got, want, "{v}");
        }
    }

    #[test]
    fn rejects_bad_vectors() {
        assert!(base_score_v3("CVSS:2.0/AV:N").is_none());
        assert!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H").is_none());
        assert!(base_score_v3("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_none());
        assert!(
            base_score_v3("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .is_none()
        );
        // Temporal metrics are ignored.
        assert_eq!(
            base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O")
                .unwrap()
                .base_score,
            9.8
        );
        assert_eq!(
            base_score_v3("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                .unwrap()
                .minor,
            0
        );
    }
}
