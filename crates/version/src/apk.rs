//! Alpine `apk` versions (Gentoo-style):
//! `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}`.
//!
//! A port of apk-tools 3.0's token machine (src/version.c: `token_first`,
//! `token_next`, `token_cmp`, `apk_version_compare_fuzzy`), checked against
//! every assertion of apk-tools' `test/unit/version.data` (see
//! `tests/vectors/README.md`). Odd cases of the ecosystem:
//!
//! - Suffixes `_alpha < _beta < _pre < _rc` sort below the release and
//!   `_cvs < _svn < _git < _hg < _p` above it: `1.0_rc1 < 1.0 < 1.0_p1`,
//!   also when the last component is zero (`6.0_pre1 < 6.0`). A suffix is a
//!   run of lowercase letters that must be one of these names exactly, so
//!   `_pre` is not `_p` and `_alphafoo` or `_post1` make a version invalid.
//! - One lowercase letter may follow the last digit: `1.0 < 1.0a < 1.0b`.
//! - A component after a `.` in which either side starts with `0` is
//!   compared as a string (Gentoo's rule): `1.05 < 1.5`, `1.0 < 1.00`,
//!   `1.01 < 1.010`. The first component is always numeric (`006 == 6`).
//! - `~hex` is a commit hash (3.0+), compared as a string, between the
//!   suffixes and the revision: `1.0 < 1.0~1234 < 1.0~2345`.
//! - `-rN` is the package revision: `1.0-r1 > 1.0`.
//! - When all shared tokens are equal, the version that goes on is newer,
//!   unless what follows is a pre-release suffix: `1.0 < 1.0.1`,
//!   `1.0_alpha < 1.0`, `0.1.0_alpha_pre2 < 0.1.0_alpha`. A version whose
//!   next token is invalid sorts lowest: `1.0_foo < 1.0`.
//! - Invalid versions are still compared token by token up to the first bad
//!   token, as apk does (`1.0 < 1.0bc`, `23_foo > 4_beta`); only
//!   [`crate::parse_check`] (apk's `apk_version_validate`) rejects them.
//! - Numbers are unsigned 64-bit and wrap around on overflow exactly as
//!   apk-tools' `apk_blob_pull_uint` does (`18446744073709551617 == 1`);
//!   a string comparison (leading zero) is exact at any length.
//!
//! Every step consumes at least one byte, so comparing is linear in the
//! input length and uses constant memory.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

/// Token kinds, in apk-tools' order: a later kind may not be followed by an
/// earlier one, and at the end a version whose next token is a later kind
/// sorts lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks; `NONE` (the release itself) separates pre- from
/// post-release suffixes.
const SUFFIXES: [&[u8]; 9] = [
    b"alpha", b"beta", b"pre", b"rc", b"cvs", b"svn", b"git", b"hg", b"p",
];
const SUFFIX_NONE: usize = 4;

fn suffix_rank(name: &[u8]) -> Option<usize> {
    let i = SUFFIXES.iter().position(|s| *s == name)?;
    Some(if i < SUFFIX_NONE { i } else { i + 1 })
}

/// One token: its kind, its text, and its number or suffix rank.
struct Token<'a> {
    kind: Kind,
    text: &'a [u8],
    number: u64,
    suffix: usize,
}

struct Lexer<'a> {
    rest: &'a [u8],
    token: Token<'a>,
}

impl<'a> Lexer<'a> {
    fn new(version: &'a [u8]) -> Self {
        let mut lexer = Lexer {
            rest: version,
            token: Token {
                kind: Kind::InitialDigit,
                text: b"",
                number: 0,
                suffix: 0,
            },
        };
        lexer.digits();
        lexer
    }

    /// `token_parse_digits`: a run of ASCII digits, its value wrapping.
    fn digits(&mut self) {
        let len = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (text, rest) = self.rest.split_at(len);
        self.token.number = text.iter().fold(0u64, |n, c| {
            n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'))
        });
        self.token.text = text;
        self.rest = rest;
        if len == 0 {
            self.token.kind = Kind::Invalid;
        }
    }

    /// `token_next`: reads the next token, or marks the end or an error.
    fn advance(&mut self) {
        let kind = self.token.kind;
        let Some(&first) = self.rest.first() else {
            self.token.kind = Kind::End;
            return;
        };
        match first {
            b'a'..=b'z' if kind <= Kind::Digit => {
                self.token.text = &self.rest[..1];
                self.token.kind = Kind::Letter;
                self.rest = &self.rest[1..];
            }
            b'.' | b'0'..=b'9' if first != b'.' || kind <= Kind::Digit => {
                if first == b'.' {
                    self.rest = &self.rest[1..];
                }
                self.token.kind = match kind {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNo,
                    _ => {
                        self.token.kind = Kind::Invalid;
                        return;
                    }
                };
                self.digits();
            }
            b'_' if kind <= Kind::SuffixNo => {
                let rest = &self.rest[1..];
                let len = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
                self.token.text = &rest[..len];
                self.rest = &rest[len..];
                match suffix_rank(self.token.text) {
                    Some(rank) => {
                        self.token.suffix = rank;
                        self.token.kind = Kind::Suffix;
                    }
                    None => self.token.kind = Kind::Invalid,
                }
            }
            b'~' if kind < Kind::CommitHash => {
                let rest = &self.rest[1..];
                let len = rest
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    .count();
                self.token.text = &rest[..len];
                self.rest = &rest[len..];
                self.token.kind = if len == 0 {
                    Kind::Invalid
                } else {
                    Kind::CommitHash
                };
            }
            b'-' if kind < Kind::RevisionNo => match self.rest.strip_prefix(b"-r") {
                Some(rest) => {
                    self.rest = rest;
                    self.token.kind = Kind::RevisionNo;
                    self.digits();
                }
                None => self.token.kind = Kind::Invalid,
            },
            _ => self.token.kind = Kind::Invalid,
        }
    }
}

/// `token_cmp` for two tokens of the same kind.
fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => {
            a.text.cmp(b.text)
        }
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
            a.number.cmp(&b.number)
        }
        Kind::Letter => a.text.first().cmp(&b.text.first()),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::CommitHash | Kind::End | Kind::Invalid => a.text.cmp(b.text),
    }
}

fn is_pre_release(t: &Token<'_>) -> bool {
    t.kind == Kind::Suffix && t.suffix < SUFFIX_NONE
}

/// apk's `apk_version_compare` (not fuzzy).
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let mut a = Lexer::new(a.as_bytes());
    let mut b = Lexer::new(b.as_bytes());
    while a.token.kind == b.token.kind && a.token.kind < Kind::End {
        let r = token_cmp(&a.token, &b.token);
        if r != Ordering::Equal {
            return r;
        }
        a.advance();
        b.advance();
    }
    let (ta, tb) = (&a.token, &b.token);
    if ta.kind == tb.kind {
        Ordering::Equal
    } else if is_pre_release(ta) {
        Ordering::Less
    } else if is_pre_release(tb) {
        Ordering::Greater
    } else {
        // A later kind next (the end, an error) means the version is older.
        tb.kind.cmp(&ta.kind)
    }
}

/// apk's `apk_version_validate`.
pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    let mut lexer = Lexer::new(v.as_bytes());
    while lexer.token.kind < Kind::End {
        lexer.advance();
    }
    if lexer.token.kind == Kind::End {
        Ok(())
    } else {
        let at = v.len() - lexer.rest.len();
        Err(VersionError::invalid(
            Scheme::Apk,
            v,
            format!(
                "not a valid apk version (`digit{{.digit}}[letter]{{_suffix[number]}}[~hash][-rN]`, \
                 suffixes alpha, beta, pre, rc, cvs, svn, git, hg, p): stopped near byte {at}"
            ),
        ))
    }
}
