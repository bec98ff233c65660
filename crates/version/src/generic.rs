//! A fallback for ecosystems without a dedicated scheme (CRAN, Hackage,
//! GitHub Actions, ...). There is no reference implementation: this is a
//! documented, conservative "natural" order.
//!
//! Rules:
//!
//! - A leading `v`/`V` is ignored; the rest is split into runs of ASCII
//!   digits and runs of ASCII letters; every other character (`.`, `-`, `_`,
//!   `+`, `~`, ...) only separates runs.
//! - Digit runs compare numerically (unbounded, leading zeros ignored),
//!   letter runs case-insensitively; a number sorts after letters (`1.0 >
//!   1.rc`).
//! - When one version runs out: if the other continues with a number it is
//!   newer unless every remaining run is zero (`1.0 == 1.0.0 < 1.0.1`); if it
//!   continues with letters it is a pre-release and older (`1.0rc1 < 1.0`).
//! - [`crate::parse_check`] requires a digit first (after `v`) and only
//!   ASCII letters, digits and `.-_+~`.

use std::cmp::Ordering;

use crate::util::cmp_decimal;
use crate::{Scheme, VersionError};

#[derive(Debug)]
enum Run<'a> {
    Num(&'a str),
    Word(&'a str),
}

fn runs(s: &str) -> Vec<Run<'_>> {
    let s = s.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Run::Num(&s[start..i]));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Run::Word(&s[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = runs(a);
    let y = runs(b);
    if x.is_empty() {
        return Err(VersionError::invalid(
            Scheme::Generic,
            a,
            "no letters or digits",
        ));
    }
    if y.is_empty() {
        return Err(VersionError::invalid(
            Scheme::Generic,
            b,
            "no letters or digits",
        ));
    }
    for i in 0..x.len().max(y.len()) {
        let o = match (x.get(i), y.get(i)) {
            (Some(Run::Num(p)), Some(Run::Num(q))) => cmp_decimal(p, q),
            (Some(Run::Num(_)), Some(Run::Word(_))) => Ordering::Greater,
            (Some(Run::Word(_)), Some(Run::Num(_))) => Ordering::Less,
            (Some(Run::Word(p)), Some(Run::Word(q))) => {
                p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase())
            }
            (Some(_), None) => return Ok(tail(&x[i..])),
            (None, Some(_)) => return Ok(tail(&y[i..]).reverse()),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(Ordering::Equal)
}

/// How a version that goes on after the other ended compares to it.
fn tail(rest: &[Run<'_>]) -> Ordering {
    match rest.first() {
        Some(Run::Word(_)) => Ordering::Less,
        Some(Run::Num(_)) => {
            for r in rest {
                match r {
                    Run::Num(n) if n.bytes().all(|c| c == b'0') => continue,
                    Run::Num(_) => return Ordering::Greater,
                    Run::Word(_) => return Ordering::Less,
                }
            }
            Ordering::Equal
        }
        None => Ordering::Equal,
    }
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let s = v.trim();
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(VersionError::invalid(
            Scheme::Generic,
            v,
            "must start with a digit",
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-_+~".contains(*c)))
    {
        return Err(VersionError::invalid(
            Scheme::Generic,
            v,
            format!("character {c:?} is not allowed"),
        ));
    }
    Ok(())
}
