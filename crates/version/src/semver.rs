//! Semantic Versioning 2.0.0 as npm's `semver` package parses (strict mode)
//! and orders it; also used for crates.io and for every OSV `SEMVER` range.
//!
//! Odd cases of the ecosystem:
//!
//! - Exactly three numeric components, no leading zeros (`1.02.3` and `1.2`
//!   are invalid); each at most 2^53 - 1 (JavaScript's safe integer limit,
//!   which npm enforces).
//! - A pre-release sorts before its release: `1.0.0-rc.1 < 1.0.0`.
//!   Pre-release identifiers compare one by one: numeric ones numerically,
//!   numeric before alphanumeric, alphanumeric ones by ASCII order (so
//!   `1.0.0-Beta < 1.0.0-alpha`), and a shorter set sorts first when it is a
//!   prefix: `1.0.0-alpha < 1.0.0-alpha.1`.
//! - Numeric pre-release identifiers must not have leading zeros (`-01` is
//!   invalid) but `-0a` is alphanumeric and fine.
//! - Build metadata (`+...`) is validated and ignored: `1.0.0+a == 1.0.0+b`.
//! - Tolerated like npm: surrounding whitespace and one leading `v`
//!   (lowercase); tolerated beyond npm's strict mode: one leading `=`
//!   (`=1.2.3`, `=v1.2.3`), as npm's loose mode and Cargo's `=` requirement
//!   spell exact versions. Longer than 256 characters is invalid, as in npm.

use std::cmp::Ordering;

use crate::util::cmp_decimal;
use crate::{Scheme, VersionError};

/// A parsed SemVer: three numeric components and pre-release identifiers.
#[derive(Debug, Clone)]
pub(crate) struct SemVer<'a> {
    pub(crate) nums: [&'a str; 3],
    pub(crate) pre: Vec<&'a str>,
}

const MAX_SAFE: &str = "9007199254740991";

/// Parses the part after any prefix: `MAJOR.MINOR.PATCH[-pre][+build]`.
pub(crate) fn parse_core(s: &str) -> Result<SemVer<'_>, String> {
    let (main_pre, build) = match s.find('+') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let (main, pre) = match main_pre.find('-') {
        Some(p) => (&main_pre[..p], Some(&main_pre[p + 1..])),
        None => (main_pre, None),
    };
    let parts: Vec<&str> = main.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "expected MAJOR.MINOR.PATCH, found {} component(s)",
            parts.len()
        ));
    }
    for p in &parts {
        if !crate::util::all_digits(p) {
            return Err(format!("component {p:?} is not a number"));
        }
        if p.len() > 1 && p.starts_with('0') {
            return Err(format!("component {p:?} has a leading zero"));
        }
    }
    let mut ids = vec![];
    if let Some(pre) = pre {
        for id in pre.split('.') {
            check_ident(id, "pre-release")?;
            if id.len() > 1 && id.starts_with('0') && crate::util::all_digits(id) {
                return Err(format!(
                    "numeric pre-release identifier {id:?} has a leading zero"
                ));
            }
            ids.push(id);
        }
    }
    if let Some(build) = build {
        for id in build.split('.') {
            check_ident(id, "build")?;
        }
    }
    Ok(SemVer {
        nums: [parts[0], parts[1], parts[2]],
        pre: ids,
    })
}

fn check_ident(id: &str, what: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("empty {what} identifier"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!("character {c:?} in {what} identifier {id:?}"));
    }
    Ok(())
}

fn parse(orig: &str) -> Result<SemVer<'_>, VersionError> {
    let bad = |reason: String| VersionError::invalid(Scheme::SemVer, orig, reason);
    if orig.len() > 256 {
        return Err(bad("longer than 256 characters".into()));
    }
    let mut s = orig.trim();
    if let Some(rest) = s.strip_prefix('=') {
        s = rest;
    }
    if let Some(rest) = s.strip_prefix('v') {
        s = rest;
    }
    let v = parse_core(s).map_err(bad)?;
    for n in v.nums {
        if cmp_decimal(n, MAX_SAFE) == Ordering::Greater {
            return Err(bad(format!("component {n} is above 2^53 - 1")));
        }
    }
    Ok(v)
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = parse(a)?;
    let y = parse(b)?;
    Ok(cmp_parsed(&x, &y))
}

pub(crate) fn cmp_parsed(x: &SemVer<'_>, y: &SemVer<'_>) -> Ordering {
    for i in 0..3 {
        match cmp_decimal(x.nums[i], y.nums[i]) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    cmp_prerelease(&x.pre, &y.pre)
}

/// SemVer 2.0 pre-release precedence; an empty list is a release.
pub(crate) fn cmp_prerelease(x: &[&str], y: &[&str]) -> Ordering {
    match (x.is_empty(), y.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (a, b) in x.iter().zip(y.iter()) {
        let an = crate::util::all_digits(a);
        let bn = crate::util::all_digits(b);
        let o = match (an, bn) {
            (true, true) => cmp_decimal(a, b),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => a.cmp(b),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}
