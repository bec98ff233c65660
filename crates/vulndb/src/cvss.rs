//! CVSS v3.0/v3.1 base scores, computed from the vector per the FIRST specification
//! (<https://www.first.org/cvss/v3.1/specification-document>, section 7 and Appendix A), and
//! CVSS v4.0 scores (CVSS-B/-BT/-BE/-BTE) per the FIRST v4.0 specification (see [`score_v4`]).

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

/// CVSS v3.1 `Roundup` (Appendix A): the smallest number with one decimal that is ≥ x, computed
/// on integers to avoid floating-point surprises.
fn roundup_31(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    }
}

/// CVSS v3.0's simpler round-up.
fn roundup_30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
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
    let changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |m: Option<&str>| -> Option<f64> {
        match m? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let (c, i, a) = (cia(c)?, cia(i)?, cia(a)?);
    let iss = 1.0 - ((1.0 - c) * (1.0 - i) * (1.0 - a));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let roundup = if minor == 1 { roundup_31 } else { roundup_30 };
    let base_score = if impact <= 0.0 {
        0.0
    } else if changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Some(Cvss3 { minor, base_score })
}

// ---------------------------------------------------------------------------------------------
// CVSS v4.0
// ---------------------------------------------------------------------------------------------
//
// Scoring per the FIRST CVSS v4.0 specification (<https://www.first.org/cvss/v4.0/specification-document>,
// section 8 "CVSS v4.0 Scoring"): the (effective) vector is reduced to a MacroVector of six
// equivalence classes EQ1..EQ6, whose score comes from the published lookup table; the score is
// then lowered by the mean, over the EQs that have a lower MacroVector, of the available score
// difference times the proportional severity distance of the vector from the highest-severity
// vectors of its MacroVector. The result is rounded half up to one decimal.
//
// The data (not the code) below is transcribed from the reference calculator, which FIRST
// publishes (FIRSTdotorg/cvss-v4-calculator, itself forked from RedHatProductSecurity/
// cvss-v4-calculator):
// * MacroVector scores: RedHatProductSecurity/cvss-v4-calculator `src/cvss/cvss_lookup.js`
//   @ b0c4b8fef2a3fe59a5b4aa29df65cd84b2cc8176 (`cvssLookup_global`, 270 entries, sorted by key).
// * Highest-severity vectors per EQ level: same repository, `max_composed.js`
//   @ e2be4832ae803f71ad44caa05175d726af558714 (identical in `src/cvss/max_composed.js`
//   @ b0c4b8fef2a3fe59a5b4aa29df65cd84b2cc8176).
// * MacroVector depths ("max severity distances (+1)"): `src/cvss/max_severity.js`
//   @ b0c4b8fef2a3fe59a5b4aa29df65cd84b2cc8176.
// * Metric level steps, the EQ3/EQ6 joint next-lower rule and the X defaults (E:X = A,
//   CR/IR/AR:X = H): FIRSTdotorg/cvss-v4-calculator `cvss_score.js`
//   @ ebf933cf52b7f2ae11eb3ba2c9f35e477448dfcd, which also rounds with a 1e-6 lift so that
//   x.x5 ties computed as x.x4999… round up like the spec's round-half-up.

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

    /// The effective value of a metric: `E:X` counts as `A`, `CR/IR/AR:X` as `H`, and a
    /// defined modified metric (`MAV`…) replaces its base metric.
    fn m(&self, metric: &str) -> &'a str {
        match metric {
            "E" => match self.raw("E") {
                None | Some("X") => "A",
                Some(v) => v,
            },
            "CR" | "IR" | "AR" => match self.raw(metric) {
                None | Some("X") => "H",
                Some(v) => v,
            },
            _ => {
                let modified = format!("M{metric}");
                match self.raw(&modified) {
                    Some(v) if v != "X" => v,
                    // Base metrics are present (checked in `parse`); MSI/MSA have no base
                    // counterpart beyond SI/SA, handled by the caller.
                    _ => self.raw(metric).unwrap_or("X"),
                }
            }
        }
    }

    /// Severity level of a metric's effective value, in tenths (0 = most severe), as the
    /// reference calculator's `*_levels` tables.
    fn level(&self, metric: &str) -> u8 {
        level_of(metric, self.m(metric))
    }
}

fn level_of(metric: &str, value: &str) -> u8 {
    match (metric, value) {
        ("AV", "N") => 0,
        ("AV", "A") => 1,
        ("AV", "L") => 2,
        ("AV", "P") => 3,
        ("PR", "N") | ("UI", "N") | ("AC", "L") | ("AT", "N") => 0,
        ("PR", "L") | ("UI", "P") | ("AC", "H") | ("AT", "P") => 1,
        ("PR", "H") | ("UI", "A") => 2,
        ("VC" | "VI" | "VA", "H") => 0,
        ("VC" | "VI" | "VA", "L") => 1,
        ("VC" | "VI" | "VA", "N") => 2,
        ("SI" | "SA", "S") => 0,
        ("SC" | "SI" | "SA", "H") => 1,
        ("SC" | "SI" | "SA", "L") => 2,
        ("SC" | "SI" | "SA", "N") => 3,
        ("CR" | "IR" | "AR", "H") => 0,
        ("CR" | "IR" | "AR", "M") => 1,
        ("CR" | "IR" | "AR", "L") => 2,
        // Unreachable for parsed vectors; treat as least severe.
        _ => 3,
    }
}

/// MacroVector scores, keyed by the six EQ levels as a string `eq1 eq2 eq3 eq4 eq5 eq6`.
const MACROVECTOR_SCORES: [(&str, f64); 270] = [
    ("000000", 10.0),
    ("000001", 9.9),
    ("000010", 9.8),
    ("000011", 9.5),
    ("000020", 9.5),
    ("000021", 9.2),
    ("000100", 10.0),
    ("000101", 9.6),
    ("000110", 9.3),
    ("000111", 8.7),
    ("000120", 9.1),
    ("000121", 8.1),
    ("000200", 9.3),
    ("000201", 9.0),
    ("000210", 8.9),
    ("000211", 8.0),
    ("000220", 8.1),
    ("000221", 6.8),
    ("001000", 9.8),
    ("001001", 9.5),
    ("001010", 9.5),
    ("001011", 9.2),
    ("001020", 9.0),
    ("001021", 8.4),
    ("001100", 9.3),
    ("001101", 9.2),
    ("001110", 8.9),
    ("001111", 8.1),
    ("001120", 8.1),
    ("001121", 6.5),
    ("001200", 8.8),
    ("001201", 8.0),
    ("001210", 7.8),
    ("001211", 7.0),
    ("001220", 6.9),
    ("001221", 4.8),
    ("002001", 9.2),
    ("002011", 8.2),
    ("002021", 7.2),
    ("002101", 7.9),
    ("002111", 6.9),
    ("002121", 5.0),
    ("002201", 6.9),
    ("002211", 5.5),
    ("002221", 2.7),
    ("010000", 9.9),
    ("010001", 9.7),
    ("010010", 9.5),
    ("010011", 9.2),
    ("010020", 9.2),
    ("010021", 8.5),
    ("010100", 9.5),
    ("010101", 9.1),
    ("010110", 9.0),
    ("010111", 8.3),
    ("010120", 8.4),
    ("010121", 7.1),
    ("010200", 9.2),
    ("010201", 8.1),
    ("010210", 8.2),
    ("010211", 7.1),
    ("010220", 7.2),
    ("010221", 5.3),
    ("011000", 9.5),
    ("011001", 9.3),
    ("011010", 9.2),
    ("011011", 8.5),
    ("011020", 8.5),
    ("011021", 7.3),
    ("011100", 9.2),
    ("011101", 8.2),
    ("011110", 8.0),
    ("011111", 7.2),
    ("011120", 7.0),
    ("011121", 5.9),
    ("011200", 8.4),
    ("011201", 7.0),
    ("011210", 7.1),
    ("011211", 5.2),
    ("011220", 5.0),
    ("011221", 3.0),
    ("012001", 8.6),
    ("012011", 7.5),
    ("012021", 5.2),
    ("012101", 7.1),
    ("012111", 5.2),
    ("012121", 2.9),
    ("012201", 6.3),
    ("012211", 2.9),
    ("012221", 1.7),
    ("100000", 9.8),
    ("100001", 9.5),
    ("100010", 9.4),
    ("100011", 8.7),
    ("100020", 9.1),
    ("100021", 8.1),
    ("100100", 9.4),
    ("100101", 8.9),
    ("100110", 8.6),
    ("100111", 7.4),
    ("100120", 7.7),
    ("100121", 6.4),
    ("100200", 8.7),
    ("100201", 7.5),
    ("100210", 7.4),
    ("100211", 6.3),
    ("100220", 6.3),
    ("100221", 4.9),
    ("101000", 9.4),
    ("101001", 8.9),
    ("101010", 8.8),
    ("101011", 7.7),
    ("101020", 7.6),
    ("101021", 6.7),
    ("101100", 8.6),
    ("101101", 7.6),
    ("101110", 7.4),
    ("101111", 5.8),
    ("101120", 5.9),
    ("101121", 5.0),
    ("101200", 7.2),
    ("101201", 5.7),
    ("101210", 5.7),
    ("101211", 5.2),
    ("101220", 5.2),
    ("101221", 2.5),
    ("102001", 8.3),
    ("102011", 7.0),
    ("102021", 5.4),
    ("102101", 6.5),
    ("102111", 5.8),
    ("102121", 2.6),
    ("102201", 5.3),
    ("102211", 2.1),
    ("102221", 1.3),
    ("110000", 9.5),
    ("110001", 9.0),
    ("110010", 8.8),
    ("110011", 7.6),
    ("110020", 7.6),
    ("110021", 7.0),
    ("110100", 9.0),
    ("110101", 7.7),
    ("110110", 7.5),
    ("110111", 6.2),
    ("110120", 6.1),
    ("110121", 5.3),
    ("110200", 7.7),
    ("110201", 6.6),
    ("110210", 6.8),
    ("110211", 5.9),
    ("110220", 5.2),
    ("110221", 3.0),
    ("111000", 8.9),
    ("111001", 7.8),
    ("111010", 7.6),
    ("111011", 6.7),
    ("111020", 6.2),
    ("111021", 5.8),
    ("111100", 7.4),
    ("111101", 5.9),
    ("111110", 5.7),
    ("111111", 5.7),
    ("111120", 4.7),
    ("111121", 2.3),
    ("111200", 6.1),
    ("111201", 5.2),
    ("111210", 5.7),
    ("111211", 2.9),
    ("111220", 2.4),
    ("111221", 1.6),
    ("112001", 7.1),
    ("112011", 5.9),
    ("112021", 3.0),
    ("112101", 5.8),
    ("112111", 2.6),
    ("112121", 1.5),
    ("112201", 2.3),
    ("112211", 1.3),
    ("112221", 0.6),
    ("200000", 9.3),
    ("200001", 8.7),
    ("200010", 8.6),
    ("200011", 7.2),
    ("200020", 7.5),
    ("200021", 5.8),
    ("200100", 8.6),
    ("200101", 7.4),
    ("200110", 7.4),
    ("200111", 6.1),
    ("200120", 5.6),
    ("200121", 3.4),
    ("200200", 7.0),
    ("200201", 5.4),
    ("200210", 5.2),
    ("200211", 4.0),
    ("200220", 4.0),
    ("200221", 2.2),
    ("201000", 8.5),
    ("201001", 7.5),
    ("201010", 7.4),
    ("201011", 5.5),
    ("201020", 6.2),
    ("201021", 5.1),
    ("201100", 7.2),
    ("201101", 5.7),
    ("201110", 5.5),
    ("201111", 4.1),
    ("201120", 4.6),
    ("201121", 1.9),
    ("201200", 5.3),
    ("201201", 3.6),
    ("201210", 3.4),
    ("201211", 1.9),
    ("201220", 1.9),
    ("201221", 0.8),
    ("202001", 6.4),
    ("202011", 5.1),
    ("202021", 2.0),
    ("202101", 4.7),
    ("202111", 2.1),
    ("202121", 1.1),
    ("202201", 2.4),
    ("202211", 0.9),
    ("202221", 0.4),
    ("210000", 8.8),
    ("210001", 7.5),
    ("210010", 7.3),
    ("210011", 5.3),
    ("210020", 6.0),
    ("210021", 5.0),
    ("210100", 7.3),
    ("210101", 5.5),
    ("210110", 5.9),
    ("210111", 4.0),
    ("210120", 4.1),
    ("210121", 2.0),
    ("210200", 5.4),
    ("210201", 4.3),
    ("210210", 4.5),
    ("210211", 2.2),
    ("210220", 2.0),
    ("210221", 1.1),
    ("211000", 7.5),
    ("211001", 5.5),
    ("211010", 5.8),
    ("211011", 4.5),
    ("211020", 4.0),
    ("211021", 2.1),
    ("211100", 6.1),
    ("211101", 5.1),
    ("211110", 4.8),
    ("211111", 1.8),
    ("211120", 2.0),
    ("211121", 0.9),
    ("211200", 4.6),
    ("211201", 1.8),
    ("211210", 1.7),
    ("211211", 0.7),
    ("211220", 0.8),
    ("211221", 0.2),
    ("212001", 5.3),
    ("212011", 2.4),
    ("212021", 1.4),
    ("212101", 2.4),
    ("212111", 1.2),
    ("212121", 0.5),
    ("212201", 1.0),
    ("212211", 0.3),
    ("212221", 0.1),
];

/// The score of a MacroVector, `None` when the EQ levels name none (e.g. a level past the last).
fn macrovector_score(eq: [u8; 6]) -> Option<f64> {
    let key: String = eq.iter().map(|d| char::from(b'0' + d.min(&9))).collect();
    MACROVECTOR_SCORES
        .binary_search_by(|(k, _)| (*k).cmp(key.as_str()))
        .ok()
        .map(|i| MACROVECTOR_SCORES[i].1)
}

/// Highest-severity vectors of each EQ level, as metric levels in tenths (see [`level_of`]).
/// EQ1: (AV, PR, UI).
const EQ1_MAX: [&[[u8; 3]]; 3] = [
    &[[0, 0, 0]],                       // AV:N/PR:N/UI:N
    &[[1, 0, 0], [0, 1, 0], [0, 0, 1]], // AV:A/PR:N/UI:N, AV:N/PR:L/UI:N, AV:N/PR:N/UI:P
    &[[3, 0, 0], [1, 1, 1]],            // AV:P/PR:N/UI:N, AV:A/PR:L/UI:P
];
/// EQ2: (AC, AT).
const EQ2_MAX: [&[[u8; 2]]; 2] = [
    &[[0, 0]],         // AC:L/AT:N
    &[[1, 0], [0, 1]], // AC:H/AT:N, AC:L/AT:P
];
/// EQ3 with EQ6: (VC, VI, VA, CR, IR, AR), indexed `[eq3][eq6]`.
const EQ3EQ6_MAX: [[&[[u8; 6]]; 2]; 3] = [
    [
        &[[0, 0, 0, 0, 0, 0]], // VC:H/VI:H/VA:H/CR:H/IR:H/AR:H
        // VC:H/VI:H/VA:L/CR:M/IR:M/AR:H, VC:H/VI:H/VA:H/CR:M/IR:M/AR:M
        &[[0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]],
    ],
    [
        // VC:L/VI:H/VA:H/CR:H/IR:H/AR:H, VC:H/VI:L/VA:H/CR:H/IR:H/AR:H
        &[[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]],
        &[
            [1, 0, 1, 0, 1, 0], // VC:L/VI:H/VA:L/CR:H/IR:M/AR:H
            [1, 0, 0, 0, 1, 1], // VC:L/VI:H/VA:H/CR:H/IR:M/AR:M
            [0, 1, 0, 1, 0, 1], // VC:H/VI:L/VA:H/CR:M/IR:H/AR:M
            [0, 1, 1, 1, 0, 0], // VC:H/VI:L/VA:L/CR:M/IR:H/AR:H
            [1, 1, 0, 0, 0, 1], // VC:L/VI:L/VA:H/CR:H/IR:H/AR:M
        ],
    ],
    [
        &[],                   // EQ3=2 with EQ6=0 cannot occur
        &[[1, 1, 1, 0, 0, 0]], // VC:L/VI:L/VA:L/CR:H/IR:H/AR:H
    ],
];
/// EQ4: (SC, SI, SA).
const EQ4_MAX: [[u8; 3]; 3] = [
    [1, 0, 0], // SC:H/SI:S/SA:S
    [1, 1, 1], // SC:H/SI:H/SA:H
    [2, 2, 2], // SC:L/SI:L/SA:L
];

/// MacroVector depths: the largest severity distance within each EQ level, plus one.
const EQ1_DEPTH: [u8; 3] = [1, 4, 5];
const EQ2_DEPTH: [u8; 2] = [1, 2];
const EQ3EQ6_DEPTH: [[u8; 2]; 3] = [[7, 6], [8, 8], [0, 10]];
const EQ4_DEPTH: [u8; 3] = [6, 5, 4];

fn macrovector(v: &V4Vector) -> [u8; 6] {
    let (av, pr, ui) = (v.m("AV"), v.m("PR"), v.m("UI"));
    let eq1 = if av == "N" && pr == "N" && ui == "N" {
        0
    } else if (av == "N" || pr == "N" || ui == "N") && av != "P" {
        1
    } else {
        2
    };
    let eq2 = if v.m("AC") == "L" && v.m("AT") == "N" {
        0
    } else {
        1
    };
    let (vc, vi, va) = (v.m("VC"), v.m("VI"), v.m("VA"));
    let eq3 = if vc == "H" && vi == "H" {
        0
    } else if vc == "H" || vi == "H" || va == "H" {
        1
    } else {
        2
    };
    // MSI/MSA are the only way to reach Safety (S); SI/SA carry no S value.
    let (msi, msa) = (v.m("SI"), v.m("SA"));
    let eq4 = if msi == "S" || msa == "S" {
        0
    } else if v.m("SC") == "H" || msi == "H" || msa == "H" {
        1
    } else {
        2
    };
    let eq5 = match v.m("E") {
        "A" => 0,
        "P" => 1,
        _ => 2,
    };
    let eq6 = if (v.m("CR") == "H" && vc == "H")
        || (v.m("IR") == "H" && vi == "H")
        || (v.m("AR") == "H" && va == "H")
    {
        0
    } else {
        1
    };
    [eq1, eq2, eq3, eq4, eq5, eq6]
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
    Ok(Cvss4 {
        score: v4_score(&v),
        nomenclature,
    })
}

/// The CVSS v4.0 score of a vector (see [`score_v4`]); with only base metrics this is the
/// CVSS-B base score.
pub fn base_score_v4(vector: &str) -> Result<f64, CvssError> {
    score_v4(vector).map(|c| c.score)
}

fn v4_score(v: &V4Vector) -> f64 {
    // No impact on either system: 0.
    if ["VC", "VI", "VA", "SC", "SI", "SA"]
        .iter()
        .all(|m| v.m(m) == "N")
    {
        return 0.0;
    }
    let mv = macrovector(v);
    let Some(value) = macrovector_score(mv) else {
        return 0.0; // unreachable: every valid EQ combination is in the table
    };
    let [eq1, eq2, eq3, eq4, eq5, eq6] = mv;
    let lower = |i: usize| {
        let mut m = mv;
        m[i] += 1;
        macrovector_score(m)
    };
    let lower_eq1 = lower(0);
    let lower_eq2 = lower(1);
    // EQ3 and EQ6 move together: 00 → max(01, 10); 01 → 11; 10 → 11; 11 → 21; 21 → none.
    let lower_eq3eq6 = match (eq3, eq6) {
        (0, 0) => {
            let left = macrovector_score([eq1, eq2, eq3, eq4, eq5, eq6 + 1]);
            let right = macrovector_score([eq1, eq2, eq3 + 1, eq4, eq5, eq6]);
            match (left, right) {
                (Some(l), Some(r)) => Some(l.max(r)),
                (l, r) => l.or(r),
            }
        }
        (1, 0) => macrovector_score([eq1, eq2, eq3, eq4, eq5, eq6 + 1]),
        (0, 1) | (1, 1) => macrovector_score([eq1, eq2, eq3 + 1, eq4, eq5, eq6]),
        _ => None,
    };
    let lower_eq4 = lower(3);
    let lower_eq5 = lower(4);

    // Severity distances from the first highest-severity vector of the MacroVector that the
    // vector does not exceed on any metric.
    let own1 = [v.level("AV"), v.level("PR"), v.level("UI")];
    let own2 = [v.level("AC"), v.level("AT")];
    let own36 = [
        v.level("VC"),
        v.level("VI"),
        v.level("VA"),
        v.level("CR"),
        v.level("IR"),
        v.level("AR"),
    ];
    let own4 = [v.level("SC"), v.level("SI"), v.level("SA")];
    let dist = |own: &[u8], max: &[u8]| -> Option<i32> {
        let mut sum = 0i32;
        for (o, m) in own.iter().zip(max) {
            let d = i32::from(*o) - i32::from(*m);
            if d < 0 {
                return None;
            }
            sum += d;
        }
        Some(sum)
    };
    let mut distances = None;
    'search: for m1 in EQ1_MAX[usize::from(eq1)] {
        for m2 in EQ2_MAX[usize::from(eq2)] {
            for m36 in EQ3EQ6_MAX[usize::from(eq3)][usize::from(eq6)] {
                let m4 = &EQ4_MAX[usize::from(eq4)];
                if let (Some(d1), Some(d2), Some(d36), Some(d4)) = (
                    dist(&own1, m1),
                    dist(&own2, m2),
                    dist(&own36, m36),
                    dist(&own4, m4),
                ) {
                    distances = Some([d1, d2, d36, d4]);
                    break 'search;
                }
            }
        }
    }
    // Every valid vector is dominated by one of its MacroVector's maxima; fall back to the
    // MacroVector score if that ever failed.
    let [d1, d2, d36, d4] = distances.unwrap_or([0; 4]);

    let depth1 = f64::from(EQ1_DEPTH[usize::from(eq1)]);
    let depth2 = f64::from(EQ2_DEPTH[usize::from(eq2)]);
    let depth36 = f64::from(EQ3EQ6_DEPTH[usize::from(eq3)][usize::from(eq6)]);
    let depth4 = f64::from(EQ4_DEPTH[usize::from(eq4)]);

    let mut n = 0u32;
    let mut total = 0.0;
    for (lower, distance, depth) in [
        (lower_eq1, d1, depth1),
        (lower_eq2, d2, depth2),
        (lower_eq3eq6, d36, depth36),
        (lower_eq4, d4, depth4),
        // EQ5 (Exploit Maturity) has a single value per level: its distance is always 0.
        (lower_eq5, 0, 1.0),
    ] {
        if let Some(lower) = lower {
            n += 1;
            total += (value - lower) * f64::from(distance) / depth;
        }
    }
    let mean = if n == 0 { 0.0 } else { total / f64::from(n) };
    let score = (value - mean).clamp(0.0, 10.0);
    // Round half up to one decimal, lifted by 1e-6 against x.x4999… float results.
    ((score + 1e-6) * 10.0).round() / 10.0
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
    fn roundup_avoids_float_error() {
        // Appendix A: 4.000000000000001 must round up to 4.0, not 4.1.
        assert_eq!(roundup_31(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup_31(4.02), 4.1);
        assert_eq!(roundup_30(4.02), 4.1);
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
