//! RPM versions: `[epoch:]version[-release]`, ordered by `rpmvercmp`.
//!
//! A port of rpm 4.18's `rpmvercmp` (rpmio/rpmvercmp.c) and of the EVR split
//! used by `rpm.ver` (`parseEVR`). Odd cases of the ecosystem:
//!
//! - Only ASCII letters and digits form segments; every other byte is a
//!   separator, and separators themselves do not matter: `1.0 == 1_0 == 1..0`, and
//!   trailing separators are ignored: `1.0 == 1.0.`.
//! - A numeric segment is newer than an alphabetic one: `1.0 > 1.a`;
//!   alphabetic segments compare with `strcmp` (`1.0A < 1.0a`).
//! - Numeric segments ignore leading zeros: `1.01 == 1.1`, of any length.
//! - `~` sorts before anything, even the end: `1.0~rc1 < 1.0`.
//! - `^` sorts after the end of the string but before any further segment:
//!   `1.0 < 1.0^git1 < 1.0.1` and `1.0^git1 < 1.0a`.
//! - The string with segments left over wins: `1.0 < 1.0.1`, `1.0 < 1.0a`.
//! - Epoch: leading digits followed by `:` (`2:1.0`); a missing epoch is 0,
//!   an empty one (`:1.0`) too. The release is everything after the last
//!   `-`. A missing release compares like an empty one, so `1.0 < 1.0-1`
//!   (this is `rpm.labelCompare` with `release=""`; rpm's *dependency*
//!   matching instead treats a missing release as "any").
//! - rpm itself compares any string; [`crate::parse_check`] additionally
//!   rejects an empty version, whitespace and control characters.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

struct Evr<'a> {
    epoch: &'a str,
    version: &'a str,
    release: &'a str,
}

fn parse(orig: &str) -> Result<Evr<'_>, VersionError> {
    let s = orig.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if s.as_bytes().get(digits) == Some(&b':') {
        let e = &s[..digits];
        (if e.is_empty() { "0" } else { e }, &s[digits + 1..])
    } else {
        ("0", s)
    };
    let (version, release) = match rest.rfind('-') {
        Some(h) => (&rest[..h], &rest[h + 1..]),
        None => (rest, ""),
    };
    if version.is_empty() {
        return Err(VersionError::invalid(
            Scheme::Rpm,
            orig,
            "version part is empty",
        ));
    }
    Ok(Evr {
        epoch,
        version,
        release,
    })
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let p = parse(v)?;
    if let Some(c) = v
        .trim()
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(VersionError::invalid(
            Scheme::Rpm,
            v,
            format!("character {c:?} is not allowed"),
        ));
    }
    if v.trim().contains('-') && p.release.is_empty() {
        return Err(VersionError::invalid(
            Scheme::Rpm,
            v,
            "release part is empty",
        ));
    }
    Ok(())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let pa = parse(a)?;
    let pb = parse(b)?;
    Ok(rpmvercmp(pa.epoch.as_bytes(), pb.epoch.as_bytes())
        .then_with(|| rpmvercmp(pa.version.as_bytes(), pb.version.as_bytes()))
        .then_with(|| rpmvercmp(pa.release.as_bytes(), pb.release.as_bytes())))
}

/// rpm's `rpmvercmp`.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let at = |i: usize| a.get(i).copied().unwrap_or(0);
    let bt = |i: usize| b.get(i).copied().unwrap_or(0);
    let sep = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut one, mut two) = (0usize, 0usize);
    while at(one) != 0 || bt(two) != 0 {
        while sep(at(one)) {
            one += 1;
        }
        while sep(bt(two)) {
            two += 1;
        }
        // Tilde sorts before everything else.
        if at(one) == b'~' || bt(two) == b'~' {
            if at(one) != b'~' {
                return Ordering::Greater;
            }
            if bt(two) != b'~' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        // Caret: like tilde, except that the end of a string sorts lower.
        if at(one) == b'^' || bt(two) == b'^' {
            if at(one) == 0 {
                return Ordering::Less;
            }
            if bt(two) == 0 {
                return Ordering::Greater;
            }
            if at(one) != b'^' {
                return Ordering::Greater;
            }
            if bt(two) != b'^' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        if at(one) == 0 || bt(two) == 0 {
            break;
        }
        let (mut e1, mut e2) = (one, two);
        let isnum = at(one).is_ascii_digit();
        if isnum {
            while at(e1).is_ascii_digit() {
                e1 += 1;
            }
            while bt(e2).is_ascii_digit() {
                e2 += 1;
            }
        } else {
            while at(e1).is_ascii_alphabetic() {
                e1 += 1;
            }
            while bt(e2).is_ascii_alphabetic() {
                e2 += 1;
            }
        }
        if one == e1 {
            return Ordering::Less; // cannot happen
        }
        if two == e2 {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut s1, mut s2) = (&a[one..e1], &b[two..e2]);
        if isnum {
            while s1.first() == Some(&b'0') {
                s1 = &s1[1..];
            }
            while s2.first() == Some(&b'0') {
                s2 = &s2[1..];
            }
            match s1.len().cmp(&s2.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match s1.cmp(s2) {
            Ordering::Equal => {}
            o => return o,
        }
        one = e1;
        two = e2;
    }
    if at(one) == 0 && bt(two) == 0 {
        return Ordering::Equal;
    }
    if at(one) == 0 {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}
