//! Alpine `apk` versions (Gentoo-style):
//! `digit{.digit}...{letter}{_suffix{number}}...{-rN}`.
//!
//! A port of apk-tools 2.14's token machine (src/version.c: `get_token`,
//! `next_token`, `apk_version_compare_blob`). Odd cases of the ecosystem:
//!
//! - Suffixes `_alpha < _beta < _pre < _rc` sort below the release and
//!   `_cvs < _svn < _git < _hg < _p` above it: `1.0_rc1 < 1.0 < 1.0_p1`.
//!   Suffixes are matched by prefix, so `_pre` wins over `_p` and
//!   `_alphafoo` is an invalid version.
//! - One lowercase letter may follow the last digit: `1.0 < 1.0a < 1.0b`.
//! - Components after a `.` with leading zeros compare as negative numbers
//!   (the count of zeros), so `1.05 < 1.5` and `1.0 > 1.00`; the *first*
//!   component is plain numeric (`006 == 6`).
//! - `-rN` is the package revision: `1.0-r1 > 1.0`.
//! - When all shared tokens are equal, the version that goes on is newer,
//!   unless what follows is a pre-release suffix: `1.0 < 1.0.1`,
//!   `1.0_alpha < 1.0`, `0.1.0_alpha_pre2 < 0.1.0_alpha`.
//! - Invalid versions are still compared token by token, as apk does
//!   (`1.0 < 1.0bc`, `23_foo > 4_beta`); only [`crate::parse_check`]
//!   (apk's `apk_version_validate`) rejects them.
//! - Numbers are 64-bit (so `_pre20191002222144 < _pre20210530193627`); a
//!   run of 18 or more digits makes the version invalid.
//! - A component made only of zeros is followed by an extra zero-valued
//!   token when a suffix comes next, so apk-tools orders `1.0_rc1` *after*
//!   `1.0` (while `1.1_rc1 < 1.1`). This is what the ported code does; it is
//!   not pinned by apk-tools' own test data, and no `apk` binary could run
//!   here to confirm it.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

const INVALID: i8 = -1;
const DIGIT_OR_ZERO: i8 = 0;
const DIGIT: i8 = 1;
const LETTER: i8 = 2;
const SUFFIX: i8 = 3;
const SUFFIX_NO: i8 = 4;
const REVISION_NO: i8 = 5;
const END: i8 = 6;

struct Blob<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Blob<'_> {
    fn len(&self) -> usize {
        self.s.len().saturating_sub(self.pos)
    }
    fn at(&self, i: usize) -> u8 {
        self.s.get(self.pos + i).copied().unwrap_or(0)
    }
}

fn next_token(t: &mut i8, b: &mut Blob<'_>) {
    let mut n = INVALID;
    if b.len() == 0 || b.at(0) == 0 {
        n = END;
    } else if (*t == DIGIT || *t == DIGIT_OR_ZERO) && b.at(0).is_ascii_lowercase() {
        n = LETTER;
    } else if *t == LETTER && b.at(0).is_ascii_digit() {
        n = DIGIT;
    } else if *t == SUFFIX && b.at(0).is_ascii_digit() {
        n = SUFFIX_NO;
    } else {
        match b.at(0) {
            b'.' => n = DIGIT_OR_ZERO,
            b'_' => n = SUFFIX,
            b'-' => {
                if b.len() > 1 && b.at(1) == b'r' {
                    n = REVISION_NO;
                    b.pos += 1;
                } else {
                    n = INVALID;
                }
            }
            _ => {}
        }
        b.pos += 1;
    }
    if n < *t
        && !((n == DIGIT_OR_ZERO && *t == DIGIT)
            || (n == SUFFIX && *t == SUFFIX_NO)
            || (n == DIGIT && *t == LETTER))
    {
        n = INVALID;
    }
    *t = n;
}

const PRE_SUFFIXES: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
const POST_SUFFIXES: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

fn get_token(t: &mut i8, b: &mut Blob<'_>) -> i64 {
    let mut v: i64 = 0;
    let mut i: usize = 0;
    let mut nt = INVALID;
    if b.len() == 0 {
        *t = END;
        return 0;
    }
    let rest = &b.s[b.pos..];
    match *t {
        DIGIT_OR_ZERO if b.at(0) == b'0' => {
            while i < b.len() && b.at(i) == b'0' {
                i += 1;
            }
            nt = DIGIT;
            v = -(i64::try_from(i).unwrap_or(i64::MAX));
        }
        DIGIT_OR_ZERO | DIGIT | SUFFIX_NO | REVISION_NO => {
            while i < b.len() && b.at(i).is_ascii_digit() {
                v = v.wrapping_mul(10).wrapping_add(i64::from(b.at(i) - b'0'));
                i += 1;
            }
            if i >= 18 {
                *t = INVALID;
                return -1;
            }
        }
        LETTER => {
            v = i64::from(b.at(0));
            i = 1;
        }
        SUFFIX => {
            if let Some(k) = PRE_SUFFIXES.iter().position(|s| rest.starts_with(s)) {
                i = PRE_SUFFIXES[k].len();
                v = k as i64 - PRE_SUFFIXES.len() as i64;
            } else if let Some(k) = POST_SUFFIXES.iter().position(|s| rest.starts_with(s)) {
                i = POST_SUFFIXES[k].len();
                v = k as i64;
            } else {
                *t = INVALID;
                return -1;
            }
        }
        _ => {
            *t = INVALID;
            return -1;
        }
    }
    b.pos += i;
    if b.len() == 0 {
        *t = END;
    } else if nt != INVALID {
        *t = nt;
    } else {
        next_token(t, b);
    }
    v
}

/// apk's `apk_version_compare_blob` (not fuzzy).
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let mut a = Blob {
        s: a.as_bytes(),
        pos: 0,
    };
    let mut b = Blob {
        s: b.as_bytes(),
        pos: 0,
    };
    let (mut at, mut bt) = (DIGIT, DIGIT);
    let (mut av, mut bv) = (0i64, 0i64);
    while at == bt && at != END && at != INVALID && av == bv {
        av = get_token(&mut at, &mut a);
        bv = get_token(&mut bt, &mut b);
    }
    if av < bv {
        return Ordering::Less;
    }
    if av > bv {
        return Ordering::Greater;
    }
    if at == bt {
        return Ordering::Equal;
    }
    let mut tt = at;
    if at == SUFFIX && get_token(&mut tt, &mut a) < 0 {
        return Ordering::Less;
    }
    tt = bt;
    if bt == SUFFIX && get_token(&mut tt, &mut b) < 0 {
        return Ordering::Greater;
    }
    if at > bt {
        return Ordering::Less;
    }
    if bt > at {
        return Ordering::Greater;
    }
    Ordering::Equal
}

/// apk's `apk_version_validate`.
pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let mut b = Blob {
        s: v.as_bytes(),
        pos: 0,
    };
    let mut t = DIGIT;
    while t != END && t != INVALID {
        get_token(&mut t, &mut b);
    }
    if t == END && !v.as_bytes().contains(&0) {
        Ok(())
    } else {
        Err(VersionError::invalid(
            Scheme::Apk,
            v,
            format!(
                "not a valid apk version (stopped at byte {})",
                b.pos.min(v.len())
            ),
        ))
    }
}
