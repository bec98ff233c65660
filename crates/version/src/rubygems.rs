//! RubyGems versions, as `Gem::Version` (RubyGems 3.3) parses and orders
//! them.
//!
//! Odd cases of the ecosystem:
//!
//! - Valid: `N(.X)*(-Y(.Y)*)?` where `N` is digits, each `X` is ASCII
//!   letters/digits and `Y` may also contain `-`; surrounding whitespace is
//!   ignored.
//! - `-` is read as `.pre.`: `1.0-rc1` is `1.0.pre.rc1`.
//! - Segments are runs of digits or of letters (`1.0.rc1` is
//!   `[1, 0, "rc", 1]`); any letter makes the version a pre-release, which
//!   sorts before the release: `1.0.a < 1.0`, `1.0.rc1 < 1.0`.
//! - Trailing zeros are dropped separately from the numeric part and from the
//!   part after the first string: `1.0 == 1`, `1.0.a.0 == 1.a`.
//! - A string segment sorts before a numeric one (`1.a < 1.0.1`), strings
//!   compare by bytes (`1.0.B < 1.0.a`), numbers are unbounded.
//! - Ruby reads an empty string as `"0"`; here it is an error like every
//!   other scheme's empty string.

use std::cmp::Ordering;

use crate::util::{cmp_decimal, norm_decimal};
use crate::{Scheme, VersionError};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(String),
    Str(String),
}

fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn valid(s: &str) -> Result<(), String> {
    // [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
    let (main, pre) = match s.find('-') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let mut parts = main.split('.');
    let first = parts.next().unwrap_or("");
    if !crate::util::all_digits(first) {
        return Err("must start with a number".into());
    }
    for p in parts {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad segment {p:?}"));
        }
    }
    if let Some(pre) = pre {
        for p in pre.split('.') {
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                return Err(format!("bad pre-release segment {p:?}"));
            }
        }
    }
    Ok(())
}

fn parse(orig: &str) -> Result<Vec<Seg>, VersionError> {
    let s = orig.trim_matches(is_ruby_space);
    if s.is_empty() {
        return Err(VersionError::Empty {
            scheme: Scheme::RubyGems,
        });
    }
    valid(s).map_err(|r| {
        VersionError::invalid(
            Scheme::RubyGems,
            orig,
            format!("malformed version number string: {r}"),
        )
    })?;
    let v = s.replace('-', ".pre.");
    // scan(/[0-9]+|[a-z]+/i)
    let b = v.as_bytes();
    let mut segs = vec![];
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            segs.push(Seg::Num(norm_decimal(&v[start..i])));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            segs.push(Seg::Str(v[start..i].to_string()));
        } else {
            i += 1;
        }
    }
    // canonical_segments: drop trailing zeros of the numeric part and of the
    // part from the first string on.
    let split = segs
        .iter()
        .position(|s| matches!(s, Seg::Str(_)))
        .unwrap_or(segs.len());
    let zero = Seg::Num("0".into());
    let mut num: Vec<Seg> = segs[..split].to_vec();
    while num.last() == Some(&zero) {
        num.pop();
    }
    let mut rest: Vec<Seg> = segs[split..].to_vec();
    while rest.last() == Some(&zero) {
        rest.pop();
    }
    num.extend(rest);
    Ok(num)
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = parse(a)?;
    let y = parse(b)?;
    let zero = Seg::Num("0".into());
    for i in 0..x.len().max(y.len()) {
        let l = x.get(i).unwrap_or(&zero);
        let r = y.get(i).unwrap_or(&zero);
        let o = match (l, r) {
            (Seg::Num(p), Seg::Num(q)) => cmp_decimal(p, q),
            (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
            (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            (Seg::Str(p), Seg::Str(q)) => p.as_bytes().cmp(q.as_bytes()),
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(Ordering::Equal)
}
