//! Maven versions, as `org.apache.maven.artifact.versioning.ComparableVersion`
//! parses and orders them in Maven 4 (apache/maven master,
//! `compat/maven-artifact`), checked against every comparison in that
//! class's own `ComparableVersionTest` (see `tests/vectors/README.md`).
//!
//! Odd cases of the ecosystem:
//!
//! - Any string is a version; it is lower-cased and split into items at `.`,
//!   at `-`, and at every digit/letter transition. A `-` and a
//!   digit-to-letter transition open a nested list that sorts *below* a
//!   `.`-separated number: `1-1 < 1.1`, `1.0-1 < 1.0.1`.
//! - Letters directly followed by digits form one "combination" item
//!   (`alpha2`, `sp1`; also across one `-`: `sp-1` is `sp1`), ordered by its
//!   qualifier, then by its number; it sorts above the bare qualifier
//!   (`1-sp < 1-sp1`), and `a`, `b`, `m` mean `alpha`, `beta`, `milestone`
//!   only there.
//! - Well-known qualifiers, in order: `alpha` < `beta` < `milestone` < `rc`
//!   = `cr` < `snapshot` < `""` = `ga` = `final` = `release` < `sp`. Unknown
//!   qualifiers (`redhat`, `foo`) sort after all known ones, among
//!   themselves lexically (Java `String.compareTo`). So `1.0-alpha1 <
//!   1.0-SNAPSHOT < 1.0 < 1.0-sp < 1.0-foo < 1.0.1`, and
//!   `1.0.final-redhat < 1.0-sp1-redhat`.
//! - `ga`, `final` and `release` order like no qualifier but, unlike in
//!   Maven 3, are not dropped: `1-ga` compares equal to `1`, yet
//!   `1.final-alpha < 1-alpha` (equal in Maven 3).
//! - Trailing "null" items (0, empty lists) are dropped, and so is a null
//!   item before a qualifier: `1.0.0 == 1.0 == 1`, `1.0.x == 1-x`.
//! - Numbers are unbounded and ignore leading zeros, but as in Java they are
//!   typed by the length of their text (up to 9 characters, up to 18, more),
//!   and a longer type always wins: `0000000000.1 > 0.1`.
//! - Only ASCII digits split items; other Unicode decimal digits count as
//!   digits only inside a combination item (Java's `Character.isDigit`).
//!   Where Maven itself throws (`NumberFormatException` from such a number,
//!   e.g. `1𝟤` or `x-٨y`), [`crate::compare`] returns an error.
//! - Lower-casing is Rust's `str::to_lowercase` (Java uses its own Unicode
//!   tables with `Locale.ENGLISH`; they can differ on recently added
//!   characters).
//!
//! Parsing and comparing are iterative (an explicit stack for the nested
//! lists) and linear in the input length: a hostile version cannot overflow
//! the stack or take quadratic time.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

/// Java's `Character.isDigit(char)` (Unicode category Nd) for a UTF-16 code
/// unit: every Nd block in the Basic Multilingual Plane is ten code points
/// with the values 0 to 9. Taken from `Character.isDigit` of Java 17 and 25
/// (identical on the BMP); surrogates are never digits.
const BMP_DECIMAL_DIGIT_STARTS: [u16; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

/// The decimal value of a UTF-16 code unit that Java's `Character.digit(c,
/// 10)` accepts.
fn java_digit(unit: u16) -> Option<u8> {
    let i = BMP_DECIMAL_DIGIT_STARTS.partition_point(|&s| s <= unit);
    let start = *BMP_DECIMAL_DIGIT_STARTS.get(i.checked_sub(1)?)?;
    let value = unit - start;
    u8::try_from(value).ok().filter(|v| *v < 10)
}

fn is_ascii_digit(unit: u16) -> bool {
    (u16::from(b'0')..=u16::from(b'9')).contains(&unit)
}

fn eq_ascii(units: &[u16], s: &str) -> bool {
    units.len() == s.len() && units.iter().zip(s.bytes()).all(|(u, b)| *u == u16::from(b))
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// Java's `String.compareTo`: UTF-16 code unit order.
fn java_cmp(a: &[u16], b: &[u16]) -> Ordering {
    a.cmp(b)
}

/// Java's numeric item classes, which compare by class before value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NumKind {
    Int,
    Long,
    BigInteger,
}

#[derive(Debug, Clone)]
struct Num {
    kind: NumKind,
    /// The value in ASCII decimal without leading zeros (`"0"` for zero).
    digits: Vec<u8>,
}

impl Num {
    const ZERO: Num = Num {
        kind: NumKind::Int,
        digits: Vec::new(),
    };

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|d| *d == b'0')
    }

    fn order(&self, other: &Num) -> Ordering {
        let strip = |d: &[u8]| -> usize { d.iter().take_while(|c| **c == b'0').count() };
        let a = &self.digits[strip(&self.digits)..];
        let b = &other.digits[strip(&other.digits)..];
        self.kind
            .cmp(&other.kind)
            .then_with(|| a.len().cmp(&b.len()))
            .then_with(|| a.cmp(b))
    }
}

/// Java's `parseItem(isDigit = true, buf)`: strips leading ASCII zeros, picks
/// the class by the remaining length, then parses like `Integer.parseInt` /
/// `Long.parseLong` / `new BigInteger`, which accept any Unicode decimal
/// digit and throw on anything else.
fn parse_num(buf: &[u16]) -> Option<Num> {
    let zeros = buf.iter().take_while(|u| **u == u16::from(b'0')).count();
    let stripped = if buf.is_empty() {
        &[][..]
    } else if zeros == buf.len() {
        buf
    } else {
        &buf[zeros..]
    };
    let kind = match stripped.len() {
        0..=9 => NumKind::Int,
        10..=18 => NumKind::Long,
        _ => NumKind::BigInteger,
    };
    let mut digits = Vec::with_capacity(stripped.len());
    for &unit in stripped {
        digits.push(b'0' + java_digit(unit)?);
    }
    Some(Num { kind, digits })
}

/// A qualifier, kept as its comparable key (`comparableQualifier`).
#[derive(Debug, Clone)]
struct Qualifier {
    key: Vec<u16>,
    empty: bool,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_KEY: &[u16] = &[b'5' as u16];

impl Qualifier {
    /// `new StringItem(value, followedByDigit)`.
    fn new(value: &[u16], followed_by_digit: bool) -> Qualifier {
        let alias = match value {
            [0x61] if followed_by_digit => "alpha",
            [0x62] if followed_by_digit => "beta",
            [0x6D] if followed_by_digit => "milestone",
            _ if eq_ascii(value, "cr") => "rc",
            _ => "",
        };
        let known = if alias.is_empty() {
            QUALIFIERS.iter().position(|q| eq_ascii(value, q))
        } else {
            QUALIFIERS.iter().position(|q| *q == alias)
        };
        let key = if ["ga", "final", "release"]
            .iter()
            .any(|r| eq_ascii(value, r))
        {
            RELEASE_KEY.to_vec()
        } else if let Some(i) = known {
            utf16(&i.to_string())
        } else {
            let mut key = utf16(&format!("{}-", QUALIFIERS.len()));
            key.extend_from_slice(value);
            key
        };
        Qualifier {
            key,
            empty: value.is_empty(),
        }
    }

    fn order(&self, other: &Qualifier) -> Ordering {
        java_cmp(&self.key, &other.key)
    }

    fn cmp_release(&self) -> Ordering {
        java_cmp(&self.key, RELEASE_KEY)
    }
}

#[derive(Debug, Clone)]
enum Item {
    Num(Num),
    Str(Qualifier),
    /// A qualifier followed by a number (`CombinationItem`).
    Combination(Qualifier, Num),
    /// A nested list: an index into [`Version::lists`].
    List(usize),
}

/// A parsed version: an arena of lists, `lists[0]` being the top level.
/// Indices instead of boxes keep parsing, comparing and dropping free of
/// recursion.
struct Version {
    lists: Vec<Vec<Item>>,
}

/// `parseItem(isCombination, isDigit, buf)`.
fn parse_item(is_combination: bool, is_digit: bool, buf: &[u16]) -> Option<Item> {
    if is_combination {
        let value: Vec<u16> = buf
            .iter()
            .copied()
            .filter(|u| *u != u16::from(b'-'))
            .collect();
        let index = value
            .iter()
            .position(|u| java_digit(*u).is_some())
            .unwrap_or(0);
        let qualifier = Qualifier::new(&value[..index], true);
        Some(Item::Combination(qualifier, parse_num(&value[index..])?))
    } else if is_digit {
        Some(Item::Num(parse_num(buf)?))
    } else {
        Some(Item::Str(Qualifier::new(buf, false)))
    }
}

fn is_high_surrogate(unit: u16) -> bool {
    (0xD800..0xDC00).contains(&unit)
}

impl Version {
    fn push(&mut self, cur: usize, item: Item) {
        self.lists[cur].push(item);
    }

    /// `list.add(list = new ListItem()); stack.push(list)`.
    fn open_list(&mut self, cur: &mut usize) {
        let id = self.lists.len();
        self.lists.push(Vec::new());
        self.lists[*cur].push(Item::List(id));
        *cur = id;
    }

    fn is_null(&self, item: &Item) -> bool {
        match item {
            Item::Num(n) => n.is_zero(),
            Item::Str(q) => q.empty,
            Item::Combination(..) => false,
            Item::List(id) => self.lists[*id].is_empty(),
        }
    }

    /// `ListItem.normalize()` in one backward pass: a null item goes when it
    /// is last, when the next kept item is a qualifier, or when the next is a
    /// list that starts with a qualifier or a combination.
    fn normalize(&mut self, id: usize) {
        let items = std::mem::take(&mut self.lists[id]);
        let mut kept: Vec<Item> = Vec::with_capacity(items.len());
        for item in items.into_iter().rev() {
            if self.is_null(&item) {
                let drop = match kept.last() {
                    None | Some(Item::Str(_)) => true,
                    Some(Item::List(next)) => matches!(
                        self.lists[*next].first(),
                        Some(Item::Str(_) | Item::Combination(..))
                    ),
                    Some(Item::Num(_) | Item::Combination(..)) => false,
                };
                if drop {
                    continue;
                }
            }
            kept.push(item);
        }
        kept.reverse();
        self.lists[id] = kept;
    }

    /// `ComparableVersion.parseVersion`, on UTF-16 code units as Java does.
    /// `None` where Java throws.
    fn parse(version: &str) -> Option<Version> {
        let v = utf16(&version.to_lowercase());
        let mut out = Version {
            lists: vec![Vec::new()],
        };
        let mut cur = 0usize;
        let mut is_digit = false;
        let mut is_combination = false;
        let mut start = 0usize;
        let mut i = 0usize;
        while i < v.len() {
            let unit = v[i];
            let mut c = u32::from(unit);
            if is_high_surrogate(unit) && i + 1 < v.len() {
                // Java combines the pair into one code point and moves on to
                // the low surrogate, which later substrings then start at.
                c = 0x1_0000;
                i += 1;
            }
            if c == u32::from(b'.') {
                if i == start {
                    out.push(cur, Item::Num(Num::ZERO));
                } else {
                    let item = parse_item(is_combination, is_digit, &v[start..i])?;
                    out.push(cur, item);
                }
                is_combination = false;
                start = i + 1;
            } else if c == u32::from(b'-') {
                if i == start {
                    out.push(cur, Item::Num(Num::ZERO));
                } else {
                    // `X-1` is read as `X1`.
                    if !is_digit && i != v.len() - 1 && java_digit(v[i + 1]).is_some() {
                        is_combination = true;
                        i += 1;
                        continue;
                    }
                    let item = parse_item(is_combination, is_digit, &v[start..i])?;
                    out.push(cur, item);
                }
                start = i + 1;
                if !out.lists[cur].is_empty() {
                    out.open_list(&mut cur);
                }
                is_combination = false;
            } else if u16::try_from(c).is_ok_and(is_ascii_digit) {
                if !is_digit && i > start {
                    is_combination = true;
                    if !out.lists[cur].is_empty() {
                        out.open_list(&mut cur);
                    }
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    let item = parse_item(is_combination, true, &v[start..i])?;
                    out.push(cur, item);
                    start = i;
                    out.open_list(&mut cur);
                    is_combination = false;
                }
                is_digit = false;
            }
            i += 1;
        }
        if v.len() > start {
            // `1.0.0.X1 < 1.0.0-X2`: a trailing `.X` is read as `-X`.
            if !is_digit && !out.lists[cur].is_empty() {
                out.open_list(&mut cur);
            }
            let item = parse_item(is_combination, is_digit, &v[start..])?;
            out.push(cur, item);
        }
        // Lists are created nested, each inside the previous one, so the
        // reverse creation order normalizes the innermost first, like
        // Java's stack.
        for id in (0..out.lists.len()).rev() {
            out.normalize(id);
        }
        Some(out)
    }
}

/// `item.compareTo(null)` for an item that is not a list.
fn leaf_vs_null(item: &Item) -> Ordering {
    match item {
        Item::Num(n) => {
            if n.is_zero() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Str(q) | Item::Combination(q, _) => q.cmp_release(),
        // Lists are walked by the caller.
        Item::List(_) => Ordering::Equal,
    }
}

/// `a.compareTo(b)` where at most one of them is a list.
fn leaf_vs_item(a: &Item, b: &Item) -> Ordering {
    use Item::{Combination, List, Num, Str};
    match (a, b) {
        (Num(x), Num(y)) => x.order(y),
        (Num(_), _) => Ordering::Greater,
        (Str(_), Num(_)) => Ordering::Less,
        (Str(x), Str(y)) => x.order(y),
        (Str(x), Combination(y, _)) => match x.order(y) {
            Ordering::Equal => Ordering::Less,
            r => r,
        },
        (Str(_), List(_)) => Ordering::Less,
        (Combination(..), Num(_)) => Ordering::Less,
        (Combination(x, _), Str(y)) => match x.order(y) {
            Ordering::Equal => Ordering::Greater,
            r => r,
        },
        (Combination(..), List(_)) => Ordering::Less,
        (Combination(x, m), Combination(y, n)) => x.order(y).then_with(|| m.order(n)),
        (List(_), Num(_)) => Ordering::Less,
        (List(_), Str(_) | Combination(..)) => Ordering::Greater,
        (List(_), List(_)) => Ordering::Equal,
    }
}

#[derive(Clone, Copy)]
enum Side {
    A,
    B,
}

enum Frame {
    /// A list of `a` against a list of `b`, walked in step.
    Pair { a: usize, b: usize, next: usize },
    /// A list against Java's `null` (the other side ran out); `negate` when
    /// it stands for `-(r.compareTo(null))`.
    Null {
        side: Side,
        list: usize,
        next: usize,
        negate: bool,
    },
}

/// `ListItem.compareTo` of the two top-level lists, with an explicit stack
/// in place of Java's recursion into nested lists.
fn compare_versions(a: &Version, b: &Version) -> Ordering {
    let lists = |side: Side| match side {
        Side::A => &a.lists,
        Side::B => &b.lists,
    };
    let mut stack = vec![Frame::Pair {
        a: 0,
        b: 0,
        next: 0,
    }];
    while let Some(top) = stack.last_mut() {
        let (result, push) = match top {
            Frame::Pair { a: la, b: lb, next } => {
                let (xs, ys) = (&a.lists[*la], &b.lists[*lb]);
                if *next >= xs.len().max(ys.len()) {
                    stack.pop();
                    continue;
                }
                let i = *next;
                *next += 1;
                match (xs.get(i), ys.get(i)) {
                    (Some(Item::List(x)), Some(Item::List(y))) => (
                        Ordering::Equal,
                        Some(Frame::Pair {
                            a: *x,
                            b: *y,
                            next: 0,
                        }),
                    ),
                    (Some(Item::List(x)), None) => (
                        Ordering::Equal,
                        Some(Frame::Null {
                            side: Side::A,
                            list: *x,
                            next: 0,
                            negate: false,
                        }),
                    ),
                    (None, Some(Item::List(y))) => (
                        Ordering::Equal,
                        Some(Frame::Null {
                            side: Side::B,
                            list: *y,
                            next: 0,
                            negate: true,
                        }),
                    ),
                    (Some(x), None) => (leaf_vs_null(x), None),
                    (None, Some(y)) => (leaf_vs_null(y).reverse(), None),
                    (Some(x), Some(y)) => (leaf_vs_item(x, y), None),
                    (None, None) => (Ordering::Equal, None),
                }
            }
            Frame::Null {
                side,
                list,
                next,
                negate,
            } => {
                let items = &lists(*side)[*list];
                let Some(item) = items.get(*next) else {
                    stack.pop();
                    continue;
                };
                *next += 1;
                match item {
                    Item::List(inner) => (
                        Ordering::Equal,
                        Some(Frame::Null {
                            side: *side,
                            list: *inner,
                            next: 0,
                            negate: *negate,
                        }),
                    ),
                    leaf if *negate => (leaf_vs_null(leaf).reverse(), None),
                    leaf => (leaf_vs_null(leaf), None),
                }
            }
        };
        if result != Ordering::Equal {
            return result;
        }
        if let Some(frame) = push {
            stack.push(frame);
        }
    }
    Ordering::Equal
}

fn unparsable(v: &str) -> VersionError {
    VersionError::invalid(
        Scheme::Maven,
        v,
        "Maven cannot parse it either (ComparableVersion throws NumberFormatException): a number \
         part mixes non-ASCII digits or characters outside the Basic Multilingual Plane with \
         digits; fix the version string",
    )
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let x = Version::parse(a).ok_or_else(|| unparsable(a))?;
    let y = Version::parse(b).ok_or_else(|| unparsable(b))?;
    Ok(compare_versions(&x, &y))
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(VersionError::invalid(
            Scheme::Maven,
            v,
            format!("character {c:?} is not allowed"),
        ));
    }
    Version::parse(v).map(|_| ()).ok_or_else(|| unparsable(v))
}
