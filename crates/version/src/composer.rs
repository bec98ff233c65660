//! Composer / Packagist versions, ordered like PHP's `version_compare` after
//! dropping a leading `v`/`V` (the same approach as osv-scanner's Packagist
//! comparator; Composer itself normalises with its `VersionParser` and then
//! calls `version_compare`).
//!
//! Odd cases of the ecosystem (all PHP's):
//!
//! - The string is canonicalised first: `-`, `_`, `+` and any other
//!   non-alphanumeric byte become `.`, and a `.` is inserted at every
//!   digit/non-digit transition: `1.0rc1` is `1.0.rc.1`, `1.0-beta2` is
//!   `1.0.beta.2`.
//! - Parts compare numerically when both are numbers; otherwise by special
//!   form, matched by *prefix* and case-sensitively: anything unknown <
//!   `dev` < `alpha` = `a` < `beta` = `b` < `RC` = `rc` < a number (`#`) <
//!   `pl` = `p` (so `patch` is `p`). So `1.0-dev < 1.0-alpha < 1.0-beta <
//!   1.0-RC < 1.0 < 1.0-patch1`, and `1.0-stable` (unknown) `< 1.0-dev`.
//! - When one version runs out, the other's next part decides: a number
//!   makes it newer (`1.0 < 1.0.0`: PHP does *not* treat them as equal),
//!   a special form is compared against `#`.
//! - Numbers are C `long`s and saturate, like `strtol`.
//! - Never an error for [`crate::compare`] (like PHP); [`crate::parse_check`]
//!   requires a digit first (after `v`) and only `[A-Za-z0-9._+-]`.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

fn strip_v(s: &str) -> &str {
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    php_version_compare(strip_v(a.trim()).as_bytes(), strip_v(b.trim()).as_bytes()).cmp(&0)
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let s = strip_v(v.trim());
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(VersionError::invalid(
            Scheme::Composer,
            v,
            "must start with a digit (after an optional v)",
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._+-".contains(*c)))
    {
        return Err(VersionError::invalid(
            Scheme::Composer,
            v,
            format!("character {c:?} is not allowed"),
        ));
    }
    Ok(())
}

fn isdig(c: u8) -> bool {
    c.is_ascii_digit()
}
fn isndig(c: u8) -> bool {
    !c.is_ascii_digit() && c != b'.'
}

/// PHP's `php_canonicalize_version`.
fn canonicalize(v: &[u8]) -> Vec<u8> {
    let mut q = Vec::with_capacity(v.len() * 2);
    let Some((&first, rest)) = v.split_first() else {
        return q;
    };
    q.push(first);
    let mut lp = first;
    for &p in rest {
        if p == 0 {
            break;
        }
        let lq = *q.last().unwrap_or(&0);
        if p == b'-' || p == b'_' || p == b'+' {
            if lq != b'.' {
                q.push(b'.');
            }
        } else if (isndig(lp) && isdig(p)) || (isdig(lp) && isndig(p)) {
            if lq != b'.' {
                q.push(b'.');
            }
            q.push(p);
        } else if !p.is_ascii_alphanumeric() {
            if lq != b'.' {
                q.push(b'.');
            }
        } else {
            q.push(p);
        }
        lp = p;
    }
    q
}

fn special_form(form: &[u8]) -> i32 {
    const FORMS: [(&[u8], i32); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-1, |(_, order)| *order)
}

fn compare_special(a: &[u8], b: &[u8]) -> i32 {
    (special_form(a) - special_form(b)).signum()
}

/// `strtol` on a run of digits, saturating at `LONG_MAX`.
fn strtol(s: &[u8]) -> i64 {
    let mut v: i64 = 0;
    for &c in s.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    v
}

/// PHP's `php_version_compare`, returning -1, 0 or 1.
fn php_version_compare(orig1: &[u8], orig2: &[u8]) -> i32 {
    let orig1 = &orig1[..orig1.iter().position(|&c| c == 0).unwrap_or(orig1.len())];
    let orig2 = &orig2[..orig2.iter().position(|&c| c == 0).unwrap_or(orig2.len())];
    if orig1.is_empty() || orig2.is_empty() {
        return match (orig1.is_empty(), orig2.is_empty()) {
            (true, true) => 0,
            (false, _) => 1,
            _ => -1,
        };
    }
    let v1 = if orig1[0] == b'#' {
        orig1.to_vec()
    } else {
        canonicalize(orig1)
    };
    let v2 = if orig2[0] == b'#' {
        orig2.to_vec()
    } else {
        canonicalize(orig2)
    };
    let at = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
    let (mut p1, mut p2) = (0usize, 0usize);
    let (mut n1, mut n2): (Option<usize>, Option<usize>) = (Some(0), Some(0));
    let mut compare = 0;
    while at(&v1, p1) != 0 && at(&v2, p2) != 0 && n1.is_some() && n2.is_some() {
        n1 = v1[p1..].iter().position(|&c| c == b'.').map(|k| p1 + k);
        n2 = v2[p2..].iter().position(|&c| c == b'.').map(|k| p2 + k);
        let e1 = &v1[p1..n1.unwrap_or(v1.len())];
        let e2 = &v2[p2..n2.unwrap_or(v2.len())];
        let d1 = e1.first().is_some_and(u8::is_ascii_digit);
        let d2 = e2.first().is_some_and(u8::is_ascii_digit);
        compare = if d1 && d2 {
            (strtol(e1) - strtol(e2)).signum() as i32
        } else if !d1 && !d2 {
            compare_special(e1, e2)
        } else if d1 {
            compare_special(b"#N#", e2)
        } else {
            compare_special(e1, b"#N#")
        };
        if compare != 0 {
            break;
        }
        if let Some(n) = n1 {
            p1 = n + 1;
        }
        if let Some(n) = n2 {
            p2 = n + 1;
        }
    }
    if compare == 0 {
        if n1.is_some() {
            if at(&v1, p1).is_ascii_digit() {
                compare = 1;
            } else {
                compare = php_version_compare(&v1[p1.min(v1.len())..], b"#N#");
            }
        } else if n2.is_some() {
            if at(&v2, p2).is_ascii_digit() {
                compare = -1;
            } else {
                compare = php_version_compare(b"#N#", &v2[p2.min(v2.len())..]);
            }
        }
    }
    compare
}
