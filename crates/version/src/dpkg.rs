//! Debian `dpkg` versions: `[epoch:]upstream_version[-debian_revision]`.
//!
//! A port of dpkg's `parseversion` and `verrevcmp` (lib/dpkg/parsehelp.c,
//! lib/dpkg/version.c). Odd cases of the ecosystem:
//!
//! - `~` sorts before everything, even the end of the string:
//!   `1.0~rc1 < 1.0`, `1.0~~ < 1.0~ < 1.0`.
//! - Within a non-digit run, letters sort before all other characters:
//!   `1.0a < 1.0+ < 1.0.` (`+` is 43, `.` is 46, both after letters).
//! - Digit runs compare numerically, leading zeros ignored: `1.01 == 1.1`,
//!   and an absent run counts as 0: `1.0 == 1.00`, `1.0-0 == 1.0`.
//! - The epoch is everything before the *first* `:`; the revision is
//!   everything after the *last* `-`, so the upstream part may contain `-`
//!   (only when a revision is present) and `:` (only when an epoch is).
//! - A missing epoch is 0 and a missing revision compares like `""` (equal
//!   to `-0`).
//! - dpkg only *warns* about versions that do not start with a digit or
//!   contain characters outside `[A-Za-z0-9.+~-:]`; `dpkg --compare-versions`
//!   still compares them. [`crate::compare`] does the same; only
//!   [`crate::parse_check`] rejects them. Hard errors (empty, embedded
//!   whitespace, bad epoch, empty upstream or revision) fail both.
//! - Leading and trailing blanks are trimmed.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

struct Parsed<'a> {
    epoch: u32,
    upstream: &'a str,
    revision: &'a str,
}

fn err(v: &str, reason: &str) -> VersionError {
    VersionError::invalid(Scheme::Dpkg, v, reason)
}

fn parse(orig: &str) -> Result<Parsed<'_>, VersionError> {
    let s = orig.trim_start_matches([' ', '\t']);
    if s.is_empty() {
        return Err(VersionError::Empty {
            scheme: Scheme::Dpkg,
        });
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
    let end = s.find(is_space).unwrap_or(s.len());
    if !s[end..].trim_start_matches(is_space).is_empty() {
        return Err(err(orig, "version string has embedded spaces"));
    }
    let s = &s[..end];
    let (epoch, rest) = match s.find(':') {
        Some(colon) => {
            let e = &s[..colon];
            let (neg, digits) = match e.as_bytes().first() {
                Some(b'+') => (false, &e[1..]),
                Some(b'-') => (true, &e[1..]),
                _ => (false, e),
            };
            if e.is_empty() {
                return Err(err(orig, "epoch in version is empty"));
            }
            if !crate::util::all_digits(digits) {
                return Err(err(orig, "epoch in version is not number"));
            }
            let big = crate::util::cmp_decimal(digits, "2147483647") == Ordering::Greater;
            if neg && !digits.trim_start_matches('0').is_empty() {
                return Err(err(orig, "epoch in version is negative"));
            }
            if big {
                return Err(err(orig, "epoch in version is too big"));
            }
            let rest = &s[colon + 1..];
            if rest.is_empty() {
                return Err(err(orig, "nothing after colon in version number"));
            }
            let epoch: u32 = digits.parse().unwrap_or(0);
            (if neg { 0 } else { epoch }, rest)
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(h) => {
            let rev = &rest[h + 1..];
            if rev.is_empty() {
                return Err(err(orig, "revision number is empty"));
            }
            (&rest[..h], rev)
        }
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err(err(orig, "version number is empty"));
    }
    Ok(Parsed {
        epoch,
        upstream,
        revision,
    })
}

/// Hard errors and dpkg's warnings both fail.
pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let p = parse(v)?;
    if !p.upstream.as_bytes()[0].is_ascii_digit() {
        return Err(err(v, "version number does not start with digit"));
    }
    if let Some(c) = p
        .upstream
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(*c)))
    {
        return Err(err(
            v,
            &format!("invalid character {c:?} in version number"),
        ));
    }
    if let Some(c) = p
        .revision
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".+~".contains(*c)))
    {
        return Err(err(
            v,
            &format!("invalid character {c:?} in revision number"),
        ));
    }
    Ok(())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let pa = parse(a)?;
    let pb = parse(b)?;
    Ok(pa
        .epoch
        .cmp(&pb.epoch)
        .then_with(|| verrevcmp(pa.upstream.as_bytes(), pb.upstream.as_bytes()))
        .then_with(|| verrevcmp(pa.revision.as_bytes(), pb.revision.as_bytes())))
}

/// dpkg's `order()`: `~` lowest, then end of string and digits, then
/// letters, then everything else.
fn order(c: u8) -> i32 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        i32::from(c)
    } else if c == b'~' {
        -1
    } else if c != 0 {
        i32::from(c) + 256
    } else {
        0
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |i: usize| a.get(i).copied().unwrap_or(0);
    let bt = |i: usize| b.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while at(i) != 0 || bt(j) != 0 {
        let mut first_diff: i32 = 0;
        while (at(i) != 0 && !at(i).is_ascii_digit()) || (bt(j) != 0 && !bt(j).is_ascii_digit()) {
            let ac = order(at(i));
            let bc = order(bt(j));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(i) == b'0' {
            i += 1;
        }
        while bt(j) == b'0' {
            j += 1;
        }
        while at(i).is_ascii_digit() && bt(j).is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(at(i)) - i32::from(bt(j));
            }
            i += 1;
            j += 1;
        }
        if at(i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if bt(j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}
