//! Python PEP 440 versions, as `packaging.version.Version` parses and orders
//! them: `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`.
//!
//! Odd cases of the ecosystem:
//!
//! - Normalisation is part of parsing: case-insensitive, optional leading
//!   `v`, surrounding whitespace ignored, `-`, `_` and `.` interchangeable
//!   (or absent) before pre/post/dev segments: `1.0-ALPHA.1 == 1.0a1`.
//! - Pre-release spellings: `alpha`/`a`, `beta`/`b`, `c`/`pre`/`preview`/`rc`
//!   (all of the last group are `rc`); a missing number is 0: `1.0a == 1.0a0`.
//! - Post-releases: `.postN`, `.revN`, `.rN`, and the implicit `1.0-1`
//!   (`== 1.0.post1`).
//! - `1.0 == 1.0.0`: trailing zero release components do not count.
//! - Order within a release: `1.0.dev0 < 1.0a1.dev0 < 1.0a1 < 1.0a1.post1 <
//!   1.0rc1 < 1.0 < 1.0+local < 1.0.post1.dev0 < 1.0.post1`. A dev release
//!   with no pre or post segment sorts before every pre-release.
//! - Local versions sort after the public one; their segments compare
//!   numerically when numeric, and a numeric segment beats an alphanumeric
//!   one: `1.0+abc < 1.0+5`, `1.0+1.0 > 1.0+1`.
//! - Numbers are unbounded (Python ints).
//! - Only ASCII is accepted (Python's case-insensitive regex would also
//!   accept a few non-ASCII case folds such as the Kelvin sign).

use std::cmp::Ordering;

use crate::util::{cmp_decimal, norm_decimal};
use crate::{Scheme, VersionError};

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalPart {
    Num(String),
    Str(String),
}

#[derive(Debug, Clone)]
struct Version {
    epoch: String,
    release: Vec<String>,
    /// (0 = a, 1 = b, 2 = rc, number)
    pre: Option<(u8, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Option<Vec<LocalPart>>,
}

struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn digits(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i > start {
            Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
        } else {
            None
        }
    }
    fn sep(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
        }
    }
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let rest = &self.s[self.i..];
        let k = words.iter().position(|w| rest.starts_with(w.as_bytes()))?;
        self.i += words[k].len();
        Some(k)
    }
}

fn parse(orig: &str) -> Result<Version, VersionError> {
    let bad = |reason: &str| VersionError::invalid(Scheme::Pep440, orig, reason);
    let t = orig.trim();
    if t.is_empty() {
        return Err(VersionError::Empty {
            scheme: Scheme::Pep440,
        });
    }
    if !t.is_ascii() {
        return Err(bad("non-ASCII character"));
    }
    let lower = t.to_ascii_lowercase();
    let mut c = Cur {
        s: lower.as_bytes(),
        i: 0,
    };
    if c.peek() == Some(b'v') {
        c.i += 1;
    }
    // Epoch.
    let save = c.i;
    let mut epoch = "0".to_string();
    match c.digits() {
        Some(d) if c.peek() == Some(b'!') => {
            c.i += 1;
            epoch = norm_decimal(&d);
        }
        _ => c.i = save,
    }
    // Release.
    let mut release = vec![];
    match c.digits() {
        Some(d) => release.push(norm_decimal(&d)),
        None => return Err(bad("expected a release number")),
    }
    while c.peek() == Some(b'.') && c.s.get(c.i + 1).is_some_and(|c| c.is_ascii_digit()) {
        c.i += 1;
        let d = c.digits().unwrap_or_default();
        release.push(norm_decimal(&d));
    }
    // Pre-release.
    let save = c.i;
    c.sep();
    let pre = match c.word(&["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"]) {
        Some(k) => {
            let kind = match k {
                0 | 1 => 0,
                2 | 3 => 1,
                _ => 2,
            };
            c.sep();
            let n = c
                .digits()
                .map(|d| norm_decimal(&d))
                .unwrap_or_else(|| "0".into());
            Some((kind, n))
        }
        None => {
            c.i = save;
            None
        }
    };
    // Post-release.
    let save = c.i;
    let post = if c.peek() == Some(b'-') && c.s.get(c.i + 1).is_some_and(|c| c.is_ascii_digit()) {
        c.i += 1;
        c.digits().map(|d| norm_decimal(&d))
    } else {
        c.sep();
        match c.word(&["post", "rev", "r"]) {
            Some(_) => {
                c.sep();
                Some(
                    c.digits()
                        .map(|d| norm_decimal(&d))
                        .unwrap_or_else(|| "0".into()),
                )
            }
            None => {
                c.i = save;
                None
            }
        }
    };
    // Dev release.
    let save = c.i;
    c.sep();
    let dev = match c.word(&["dev"]) {
        Some(_) => {
            c.sep();
            Some(
                c.digits()
                    .map(|d| norm_decimal(&d))
                    .unwrap_or_else(|| "0".into()),
            )
        }
        None => {
            c.i = save;
            None
        }
    };
    // Local version.
    let local = if c.peek() == Some(b'+') {
        c.i += 1;
        let mut parts = vec![];
        loop {
            let start = c.i;
            while c.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                c.i += 1;
            }
            if c.i == start {
                return Err(bad("empty local version segment"));
            }
            let p = String::from_utf8_lossy(&c.s[start..c.i]).into_owned();
            parts.push(if p.bytes().all(|b| b.is_ascii_digit()) {
                LocalPart::Num(norm_decimal(&p))
            } else {
                LocalPart::Str(p)
            });
            if matches!(c.peek(), Some(b'-' | b'_' | b'.')) {
                c.i += 1;
            } else {
                break;
            }
        }
        Some(parts)
    } else {
        None
    };
    if c.i != c.s.len() {
        return Err(bad(&format!("unexpected text at byte {}", c.i)));
    }
    Ok(Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = parse(a)?;
    let y = parse(b)?;
    Ok(cmp_versions(&x, &y))
}

fn cmp_release(a: &[String], b: &[String]) -> Ordering {
    let trim = |r: &[String]| {
        let mut n = r.len();
        while n > 0 && r[n - 1] == "0" {
            n -= 1;
        }
        n
    };
    let (na, nb) = (trim(a), trim(b));
    for i in 0..na.min(nb) {
        match cmp_decimal(&a[i], &b[i]) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    na.cmp(&nb)
}

/// `packaging`'s `_cmpkey`, with ±infinity as enum ends.
fn cmp_versions(x: &Version, y: &Version) -> Ordering {
    // Pre key: -inf (dev-only release) < (kind, n) < +inf (no pre).
    let pre_key = |v: &Version| -> (u8, u8, String) {
        match &v.pre {
            None if v.post.is_none() && v.dev.is_some() => (0, 0, String::new()),
            None => (2, 0, String::new()),
            Some((k, n)) => (1, *k, n.clone()),
        }
    };
    let (px, py) = (pre_key(x), pre_key(y));
    let pre =
        px.0.cmp(&py.0)
            .then(px.1.cmp(&py.1))
            .then_with(|| cmp_decimal(&px.2, &py.2));
    let opt_num = |a: &Option<String>, b: &Option<String>, none_high: bool| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => {
            if none_high {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(_), None) => {
            if none_high {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Some(a), Some(b)) => cmp_decimal(a, b),
    };
    cmp_decimal(&x.epoch, &y.epoch)
        .then_with(|| cmp_release(&x.release, &y.release))
        .then(pre)
        .then_with(|| opt_num(&x.post, &y.post, false))
        .then_with(|| opt_num(&x.dev, &y.dev, true))
        .then_with(|| match (&x.local, &y.local) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => {
                for (p, q) in a.iter().zip(b.iter()) {
                    let o = match (p, q) {
                        (LocalPart::Num(p), LocalPart::Num(q)) => cmp_decimal(p, q),
                        (LocalPart::Num(_), LocalPart::Str(_)) => Ordering::Greater,
                        (LocalPart::Str(_), LocalPart::Num(_)) => Ordering::Less,
                        (LocalPart::Str(p), LocalPart::Str(q)) => p.cmp(q),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
        })
}
