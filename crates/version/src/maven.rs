//! Maven versions, as `org.apache.maven.artifact.versioning.ComparableVersion`
//! (maven-artifact 3.8.7) parses and orders them.
//!
//! Odd cases of the ecosystem:
//!
//! - Any string is a version; it is lower-cased and split into items at `.`,
//!   at `-`, and at every digit/letter transition (`1.0alpha1` is
//!   `[1, 0, [alpha, [1]]]`). A `-` and a transition open a nested list that
//!   sorts *below* a `.`-separated item: `1-1 < 1.1`, `1.0-1 < 1.0.1`.
//! - Well-known qualifiers, in order: `alpha` (`a` when directly followed by
//!   a digit) < `beta` (`b`) < `milestone` (`m`) < `rc` = `cr` < `snapshot` <
//!   `""` = `ga` = `final` = `release` < `sp`. Unknown qualifiers sort after
//!   all known ones, among themselves lexically: `1.0-sp < 1.0-foo`. So
//!   `1.0-alpha1 < 1.0-SNAPSHOT < 1.0 < 1.0-sp < 1.0.1`.
//! - Trailing "null" items (0, empty/release qualifiers, empty lists) are
//!   dropped: `1.0.0 == 1.0 == 1 == 1-ga == 1.0-final`.
//! - A number beats a qualifier and a nested list: `1.1 > 1-sp`, `1.1 > 1-1`;
//!   a nested list beats a qualifier: `1-1 > 1-sp`.
//! - In 3.8.x a qualifier after `.` is moved into its own list like one after
//!   `-` (`1.0.0.x1` ~ `1.0.0-x1`).
//! - Numbers are unbounded; leading zeros are ignored.
//! - Only ASCII digits count as digits (Java's `Character.isDigit` also
//!   accepts other Unicode decimal digits).
//! - Never an error for [`crate::compare`] (like Maven); [`crate::parse_check`]
//!   rejects whitespace and control characters.

use std::cmp::Ordering;

use crate::util::cmp_decimal;
use crate::{Scheme, VersionError};

#[derive(Debug, Clone)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{}", QUALIFIERS.len(), q),
    }
}

/// Java `String.compareTo`: UTF-16 code unit order.
fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let mut v = value;
    if followed_by_digit && v.len() == 1 {
        v = match v {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_string())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(crate::util::norm_decimal(buf))
    } else {
        string_item(buf, false)
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(n) => n == "0",
        Item::Str(s) => s.is_empty(),
        Item::List(l) => l.is_empty(),
    }
}

/// An arena of lists; entry `Node::List(i)` refers to `lists[i]`.
#[derive(Clone)]
enum Node {
    Item(Item),
    List(usize),
}

fn parse(version: &str) -> Item {
    let version = version.to_lowercase();
    let chars: Vec<(usize, char)> = version.char_indices().collect();
    let mut lists: Vec<Vec<Node>> = vec![vec![]];
    let mut cur = 0usize;
    let mut is_digit = false;
    let mut start = 0usize; // byte index
    let new_list = |lists: &mut Vec<Vec<Node>>, cur: &mut usize| {
        lists.push(vec![]);
        let idx = lists.len() - 1;
        lists[*cur].push(Node::List(idx));
        *cur = idx;
    };
    for &(i, c) in &chars {
        if c == '.' {
            if i == start {
                lists[cur].push(Node::Item(Item::Int("0".into())));
            } else {
                lists[cur].push(Node::Item(parse_item(is_digit, &version[start..i])));
            }
            start = i + 1;
        } else if c == '-' {
            if i == start {
                lists[cur].push(Node::Item(Item::Int("0".into())));
            } else {
                lists[cur].push(Node::Item(parse_item(is_digit, &version[start..i])));
            }
            start = i + 1;
            new_list(&mut lists, &mut cur);
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                if !lists[cur].is_empty() {
                    new_list(&mut lists, &mut cur);
                }
                lists[cur].push(Node::Item(string_item(&version[start..i], true)));
                start = i;
                new_list(&mut lists, &mut cur);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                lists[cur].push(Node::Item(parse_item(true, &version[start..i])));
                start = i;
                new_list(&mut lists, &mut cur);
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        if !is_digit && !lists[cur].is_empty() {
            new_list(&mut lists, &mut cur);
        }
        lists[cur].push(Node::Item(parse_item(is_digit, &version[start..])));
    }
    // Normalise innermost first (the stack order), then build the tree.
    let mut built: Vec<Option<Vec<Item>>> = vec![None; lists.len()];
    for idx in (0..lists.len()).rev() {
        let mut items: Vec<Item> = lists[idx]
            .iter()
            .map(|n| match n {
                Node::Item(it) => it.clone(),
                Node::List(j) => Item::List(built[*j].take().unwrap_or_default()),
            })
            .collect();
        let mut i = items.len();
        while i > 0 {
            i -= 1;
            if is_null(&items[i]) {
                items.remove(i);
            } else if !matches!(items[i], Item::List(_)) {
                break;
            }
        }
        built[idx] = Some(items);
    }
    Item::List(built[0].take().unwrap_or_default())
}

/// `Item.compareTo(other)`, `None` standing for Java's `null`.
fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    match a {
        Item::Int(x) => match b {
            None => {
                if x == "0" {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Some(Item::Int(y)) => cmp_decimal(x, y),
            Some(Item::Str(_)) | Some(Item::List(_)) => Ordering::Greater,
        },
        Item::Str(x) => match b {
            None => java_cmp(&comparable_qualifier(x), "5"),
            Some(Item::Int(_)) | Some(Item::List(_)) => Ordering::Less,
            Some(Item::Str(y)) => java_cmp(&comparable_qualifier(x), &comparable_qualifier(y)),
        },
        Item::List(xs) => match b {
            None => {
                for it in xs {
                    let r = cmp_item(it, None);
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
            Some(Item::Int(_)) => Ordering::Less,
            Some(Item::Str(_)) => Ordering::Greater,
            Some(Item::List(ys)) => {
                let n = xs.len().max(ys.len());
                for i in 0..n {
                    let r = match (xs.get(i), ys.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => cmp_item(r, None).reverse(),
                        (Some(l), r) => cmp_item(l, r),
                    };
                    if r != Ordering::Equal {
                        return r;
                    }
                }
                Ordering::Equal
            }
        },
    }
}

pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let x = parse(a);
    let y = parse(b);
    cmp_item(&x, Some(&y))
}

pub(crate) fn check(v: &str) -> Result<(), VersionError> {
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(VersionError::invalid(
            Scheme::Maven,
            v,
            format!("character {c:?} is not allowed"),
        ));
    }
    Ok(())
}
