//! NuGet versions, as `NuGet.Versioning.NuGetVersion` parses them and
//! `VersionComparer.Default` orders them: SemVer 2.0 with an optional fourth
//! ("revision") component.
//!
//! Odd cases of the ecosystem:
//!
//! - One to four numeric components, each 0..=2^31-1, leading zeros allowed
//!   and ignored (`1.01 == 1.1`); missing ones are 0: `1 == 1.0 == 1.0.0 ==
//!   1.0.0.0`, and `1.0.0.1 > 1.0.0`.
//! - Pre-release labels compare case-insensitively (`1.0.0-BETA ==
//!   1.0.0-beta`): numeric labels numerically and before alphanumeric ones,
//!   alphanumeric ones by ordinal upper-case order; fewer labels first when
//!   a prefix. A numeric label must not have a leading zero.
//! - Because labels are tested with `int.TryParse`, a label like `-1` (legal
//!   characters) is the number -1.
//! - Build metadata (`+...`) is validated and ignored.
//! - Surrounding whitespace is trimmed. No `v` prefix. (.NET's
//!   `Version.TryParse` also tolerates whitespace and `+` signs *inside*
//!   components; those are rejected here.)

use std::cmp::Ordering;

use crate::util::cmp_decimal;
use crate::{Scheme, VersionError};

struct Parsed {
    nums: [String; 4],
    labels: Vec<String>,
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

fn parse(orig: &str) -> Result<Parsed, VersionError> {
    let bad = |r: String| VersionError::invalid(Scheme::NuGet, orig, r);
    let s = orig.trim();
    let cut = s.find(['-', '+']).unwrap_or(s.len());
    let main = &s[..cut];
    let (labels, meta) = if s[cut..].starts_with('-') {
        let rest = &s[cut + 1..];
        match rest.find('+') {
            Some(p) => (Some(&rest[..p]), Some(&rest[p + 1..])),
            None => (Some(rest), None),
        }
    } else if s[cut..].starts_with('+') {
        (None, Some(&s[cut + 1..]))
    } else {
        (None, None)
    };
    let parts: Vec<&str> = main.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return Err(bad(format!(
            "{} numeric components (1 to 4 allowed)",
            parts.len()
        )));
    }
    let mut nums: [String; 4] = Default::default();
    for (i, p) in parts.iter().enumerate() {
        if !crate::util::all_digits(p) {
            return Err(bad(format!("component {p:?} is not a number")));
        }
        if cmp_decimal(p, "2147483647") == Ordering::Greater {
            return Err(bad(format!("component {p} is above 2^31 - 1")));
        }
        nums[i] = crate::util::norm_decimal(p);
    }
    for n in nums.iter_mut() {
        if n.is_empty() {
            *n = "0".into();
        }
    }
    let mut out = vec![];
    if let Some(labels) = labels {
        for l in labels.split('.') {
            if !ident_ok(l) {
                return Err(bad(format!("bad release label {l:?}")));
            }
            if l.len() > 1 && l.starts_with('0') && crate::util::all_digits(l) {
                return Err(bad(format!(
                    "numeric release label {l:?} has a leading zero"
                )));
            }
            out.push(l.to_string());
        }
    }
    if let Some(meta) = meta {
        for m in meta.split('.') {
            if !ident_ok(m) {
                return Err(bad(format!("bad metadata part {m:?}")));
            }
        }
    }
    Ok(Parsed { nums, labels: out })
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

/// `int.TryParse` on a label: optional `-`, digits, within i32.
fn label_int(s: &str) -> Option<i64> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if !crate::util::all_digits(d) {
        return None;
    }
    let t = d.trim_start_matches('0');
    if t.len() > 10 {
        return None;
    }
    let v: i64 = if t.is_empty() { 0 } else { t.parse().ok()? };
    let v = if neg { -v } else { v };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&v)
        .then_some(v)
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = parse(a)?;
    let y = parse(b)?;
    for i in 0..4 {
        match cmp_decimal(&x.nums[i], &y.nums[i]) {
            Ordering::Equal => {}
            o => return Ok(o),
        }
    }
    match (x.labels.is_empty(), y.labels.is_empty()) {
        (true, true) => return Ok(Ordering::Equal),
        (false, true) => return Ok(Ordering::Less),
        (true, false) => return Ok(Ordering::Greater),
        _ => {}
    }
    for (p, q) in x.labels.iter().zip(y.labels.iter()) {
        let o = match (label_int(p), label_int(q)) {
            (Some(m), Some(n)) => m.cmp(&n),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => p
                .to_ascii_uppercase()
                .as_bytes()
                .cmp(q.to_ascii_uppercase().as_bytes()),
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(x.labels.len().cmp(&y.labels.len()))
}
