//! Go module versions, as `golang.org/x/mod/semver` parses and orders them.
//!
//! Odd cases of the ecosystem:
//!
//! - Canonical versions start with `v` (`v1.2.3`); OSV's Go entries omit it,
//!   so a version without the `v` is read as if it had one.
//! - Shorthands: `v1 == v1.0 == v1.0.0`; but a shorthand cannot carry a
//!   pre-release or build (`v1.2-pre` is invalid).
//! - No leading zeros in numeric components or numeric pre-release
//!   identifiers; numbers are unbounded.
//! - Pseudo-versions (`v0.0.0-20200101000000-abcdef123456`,
//!   `v1.2.4-0.20200101000000-abcdef123456`,
//!   `v1.2.3-pre.0.20200101000000-abcdef123456`) are ordinary pre-releases,
//!   so they sort below the release they precede and above the base.
//! - `+incompatible` (and any build metadata) is ignored:
//!   `v2.0.0+incompatible == v2.0.0`.

use std::cmp::Ordering;

use crate::util::cmp_decimal;
use crate::{Scheme, VersionError};

struct Parsed<'a> {
    nums: [&'a str; 3],
    pre: &'a str,
}

fn parse_int(v: &str) -> Option<(&str, &str)> {
    let n = v.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || (n > 1 && v.starts_with('0')) {
        return None;
    }
    Some((&v[..n], &v[n..]))
}

fn is_bad_num(s: &str) -> bool {
    crate::util::all_digits(s) && s.len() > 1 && s.starts_with('0')
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// `v` must start with `-`; returns (prerelease incl. `-`, rest).
fn parse_prerelease(v: &str) -> Option<(&str, &str)> {
    let b = v.as_bytes();
    let (mut i, mut start) = (1, 1);
    while i < b.len() && b[i] != b'+' {
        if !ident_char(b[i]) && b[i] != b'.' {
            return None;
        }
        if b[i] == b'.' {
            if start == i || is_bad_num(&v[start..i]) {
                return None;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start == i || is_bad_num(&v[start..i]) {
        return None;
    }
    Some((&v[..i], &v[i..]))
}

fn parse_build(v: &str) -> Option<&str> {
    let b = v.as_bytes();
    let (mut i, mut start) = (1, 1);
    while i < b.len() {
        if !ident_char(b[i]) && b[i] != b'.' {
            return None;
        }
        if b[i] == b'.' {
            if start == i {
                return None;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start == i {
        return None;
    }
    Some(&v[i..])
}

fn parse_go(v: &str) -> Option<Parsed<'_>> {
    let v = v.strip_prefix('v')?;
    let (major, v) = parse_int(v)?;
    if v.is_empty() {
        return Some(Parsed {
            nums: [major, "0", "0"],
            pre: "",
        });
    }
    let v = v.strip_prefix('.')?;
    let (minor, v) = parse_int(v)?;
    if v.is_empty() {
        return Some(Parsed {
            nums: [major, minor, "0"],
            pre: "",
        });
    }
    let v = v.strip_prefix('.')?;
    let (patch, mut v) = parse_int(v)?;
    let mut pre = "";
    if v.starts_with('-') {
        let (p, rest) = parse_prerelease(v)?;
        pre = p;
        v = rest;
    }
    if v.starts_with('+') {
        v = parse_build(v)?;
    }
    if !v.is_empty() {
        return None;
    }
    Some(Parsed {
        nums: [major, minor, patch],
        pre,
    })
}

fn parse(orig: &str) -> Result<Owned, VersionError> {
    let s = orig.trim();
    // OSV omits the `v`; read "1.2.3" as "v1.2.3".
    let with_v = if s.starts_with('v') {
        s.to_string()
    } else {
        format!("v{s}")
    };
    parse_go(&with_v)
        .map(|p| Owned {
            nums: p.nums.map(str::to_string),
            pre: p.pre.to_string(),
        })
        .ok_or_else(|| {
            VersionError::invalid(Scheme::Go, orig, "not a valid Go module (semantic) version")
        })
}

struct Owned {
    nums: [String; 3],
    pre: String,
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = parse(a)?;
    let y = parse(b)?;
    for i in 0..3 {
        match cmp_decimal(&x.nums[i], &y.nums[i]) {
            Ordering::Equal => {}
            o => return Ok(o),
        }
    }
    Ok(compare_prerelease(&x.pre, &y.pre))
}

/// x/mod/semver's `comparePrerelease` (arguments include the leading `-`).
fn compare_prerelease(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    if x.is_empty() {
        return Ordering::Greater;
    }
    if y.is_empty() {
        return Ordering::Less;
    }
    let xs: Vec<&str> = x[1..].split('.').collect();
    let ys: Vec<&str> = y[1..].split('.').collect();
    crate::semver::cmp_prerelease(&xs, &ys)
}
