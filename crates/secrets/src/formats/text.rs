//! Small text helpers the format parsers share: lines with their offsets, trimming and
//! unquoting byte ranges, `key = value` lines, and the placeholder test for values.

use std::ops::Range;

use crate::credential::placeholder_value;

/// Each line of `content` with the offset of its first byte; the `\n` and a trailing `\r`
/// are not part of the line.
pub fn lines(content: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= content.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &content[pos..]).map_or(content.len(), |i| pos + i);
        let start = pos;
        pos = end + 1;
        let mut line = &content[start..end];
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        Some((start, line))
    })
}

/// `range` without leading and trailing ASCII whitespace.
pub fn trim(content: &[u8], mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && content[range.start].is_ascii_whitespace() {
        range.start += 1;
    }
    while range.end > range.start && content[range.end - 1].is_ascii_whitespace() {
        range.end -= 1;
    }
    range
}

/// `range` without one pair of surrounding `"` or `'` quotes (after trimming), and without a
/// trailing `;` or `,` outside the quotes (irssi, PHP, JSON lines).
pub fn unquote(content: &[u8], range: Range<usize>) -> Range<usize> {
    let mut r = trim(content, range);
    while r.end > r.start && matches!(content[r.end - 1], b';' | b',') {
        r.end -= 1;
        r = trim(content, r);
    }
    if r.end - r.start >= 2 {
        let (first, last) = (content[r.start], content[r.end - 1]);
        if (first == b'"' || first == b'\'') && first == last {
            return r.start + 1..r.end - 1;
        }
    }
    r
}

/// Is the value at `range` a real credential: valid text, not empty, not a placeholder,
/// a variable reference or a template (see [`placeholder_value`]).
pub fn real_value(content: &[u8], range: &Range<usize>) -> bool {
    let Some(bytes) = content.get(range.clone()) else {
        return false;
    };
    let value = String::from_utf8_lossy(bytes);
    let lower = value.to_ascii_lowercase();
    const FILLERS: &[&str] = &[
        "put your unique phrase here",
        "password_here",
        "your password",
        "yourpassword",
        "mypassword",
        "enter_password",
        "insert_password",
        "<%=",
        "%env(",
        "env(",
        "getenv(",
        "environ",
        "%(",
        "@@",
        "process.env",
    ];
    !placeholder_value(&value) && !FILLERS.iter().any(|f| lower.contains(f))
}

/// How a `key value` line separates key and value.
#[derive(Debug, Clone, Copy)]
pub struct Separators {
    /// `key = value`.
    pub equals: bool,
    /// `key: value` (a `:` followed by a space, a quote or the end of the line).
    pub colon: bool,
    /// `key value` (whitespace only).
    pub space: bool,
}

/// The `(key, value)` ranges of a `key = value` line, the value trimmed and unquoted.
/// Comment lines (`#`, `;`, `//`, `!`) and section headers give `None`.
pub fn key_value(
    content: &[u8],
    start: usize,
    line: &[u8],
    seps: Separators,
) -> Option<(Range<usize>, Range<usize>)> {
    let lead = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let body = &line[lead..];
    if body.is_empty()
        || matches!(body[0], b'#' | b';' | b'!' | b'[')
        || body.starts_with(b"//") && !body.contains(&b'=')
    {
        return None;
    }
    let eq = seps.equals.then(|| memchr::memchr(b'=', body)).flatten();
    let colon = || {
        seps.colon
            .then(|| {
                body.windows(2)
                    .position(|w| w[0] == b':' && matches!(w[1], b' ' | b'\t' | b'"' | b'\''))
                    .or_else(|| body.ends_with(b":").then(|| body.len() - 1))
            })
            .flatten()
    };
    let space = || {
        seps.space
            .then(|| body.iter().position(|b| *b == b' ' || *b == b'\t'))
            .flatten()
    };
    let (at, width) = match eq.map(|i| (i, 1)).or_else(|| colon().map(|i| (i, 1))) {
        Some(x) => x,
        None => (space()?, 1),
    };
    let key = trim(content, start + lead..start + lead + at);
    let value = start + lead + at + width..start + line.len();
    let value = strip_inline_comment(content, value);
    Some((key, unquote(content, value)))
}

/// Drops a ` # comment` or ` ; comment` tail from an unquoted value.
fn strip_inline_comment(content: &[u8], range: Range<usize>) -> Range<usize> {
    let r = trim(content, range);
    if r.start < r.end && matches!(content[r.start], b'"' | b'\'') {
        return r;
    }
    let bytes = &content[r.clone()];
    for i in 1..bytes.len() {
        if matches!(bytes[i], b'#' | b';') && bytes[i - 1].is_ascii_whitespace() {
            return trim(content, r.start..r.start + i);
        }
    }
    r
}

/// Lowercase key with `-`, `.` and spaces folded to `_`, for comparing key names.
pub fn fold_key(content: &[u8], range: &Range<usize>) -> String {
    content[range.clone()]
        .iter()
        .map(|b| match b {
            b'-' | b'.' | b' ' => '_',
            _ => b.to_ascii_lowercase() as char,
        })
        .collect()
}

/// Is this (folded) key name one that holds a password or secret: `password`, `passwd`,
/// `pass`, `pwd`, `*_password`, `secret_key`, `*token`, `*secret`.
pub fn secret_key_name(key: &str) -> bool {
    let last = key.rsplit(['_', ':', '/']).next().unwrap_or(key);
    const DESCRIBES: &[&str] = &[
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "type",
        "length",
        "policy",
        "name",
        "user",
        "id",
        "enabled",
        "header",
        "field",
        "prompt",
        "param",
        "expiry",
        "expires",
        "timeout",
        "ttl",
        "env",
        "var",
        "ring",
        "regex",
        "pattern",
        "hint",
        "label",
        "format",
        "algorithm",
        "required",
        "reset",
        "confirmation",
        "strength",
        "rounds",
        "hash_method",
    ];
    if DESCRIBES.iter().any(|d| key.ends_with(d)) {
        return false;
    }
    key.contains("password")
        || key.contains("passwd")
        || key.contains("passphrase")
        || key.contains("secret")
        || key.contains("token")
        || matches!(last, "pass" | "pwd" | "pw")
        || key.ends_with("apikey")
        || key.ends_with("api_key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(line: &str, seps: Separators) -> Option<(String, String)> {
        let c = line.as_bytes();
        key_value(c, 0, c, seps).map(|(k, v)| (line[k].to_string(), line[v].to_string()))
    }

    const ALL: Separators = Separators {
        equals: true,
        colon: true,
        space: true,
    };

    #[test]
    fn key_value_lines() {
        assert_eq!(
            kv("password = \"s3 cr;t\";", ALL),
            Some(("password".into(), "s3 cr;t".into()))
        );
        assert_eq!(
            kv("//reg.example/:_authToken=abc", ALL),
            Some(("//reg.example/:_authToken".into(), "abc".into()))
        );
        assert_eq!(
            kv("pass: x1 # note", ALL),
            Some(("pass".into(), "x1".into()))
        );
        assert_eq!(
            kv("password \"p w\"", ALL),
            Some(("password".into(), "p w".into()))
        );
        assert_eq!(kv("# password = x", ALL), None);
        assert_eq!(kv("[client]", ALL), None);
    }

    #[test]
    fn lines_keep_offsets() {
        let c = b"a\r\nbc\n\nd";
        let v: Vec<(usize, &[u8])> = lines(c).collect();
        assert_eq!(v, vec![(0, &b"a"[..]), (3, b"bc"), (6, b""), (7, b"d")]);
    }

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "db_password",
            "sasl_password",
            "pass",
            "secret_key",
            "_authtoken",
        ] {
            assert!(secret_key_name(k), "{k}");
        }
        for k in ["password_file", "username", "host", "passive", "token_url"] {
            assert!(!secret_key_name(k), "{k}");
        }
    }
}
