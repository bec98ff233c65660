//! Structural checks of a candidate secret: what the token's format itself can prove (a
//! checksum, a decodable payload, a fixed layout) and what marks a value as a placeholder
//! rather than a credential. A check never raises a rule above its declared confidence; it
//! keeps it, lowers it, or drops the match.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::Confidence;

/// The digits of GitHub's (and npm's) base62 checksum encoding.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A structural check a rule can name (`check:` in a rule file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// GitHub's `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens and npm's `npm_` tokens: 30 base62
    /// characters then the 6-digit base62 CRC32 of those 30 (GitHub's 2021 token format).
    Base62Crc32,
    /// A PyPI API token: `pypi-` then a base64url macaroon whose location is pypi.org (or
    /// test.pypi.org).
    PypiMacaroon,
    /// A Slack token `xox?-` whose dash-separated parts have Slack's layout: numeric ids, then
    /// one long alphanumeric part.
    SlackLayout,
    /// A free-form value judged by its character set, as detect-secrets does: hex needs a
    /// Shannon entropy of at least [`HEX_ENTROPY_MIN`], anything else [`BASE64_ENTROPY_MIN`].
    CharsetEntropy,
}

/// Entropy floor of a hex value for [`Check::CharsetEntropy`] (bits per character; 4.0 is the
/// most hex can have).
pub const HEX_ENTROPY_MIN: f64 = 3.0;
/// Entropy floor of any other value for [`Check::CharsetEntropy`]. A random 32-character
/// base64 string measures about 4.6-4.8; English-like identifiers of that length stay under 4.2.
pub const BASE64_ENTROPY_MIN: f64 = 4.2;

impl Check {
    /// The name a rule file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Base62Crc32 => "base62-crc32",
            Check::PypiMacaroon => "pypi-macaroon",
            Check::SlackLayout => "slack-layout",
            Check::CharsetEntropy => "charset-entropy",
        }
    }
}

/// Is the secret one the check accepts?
pub fn passes(check: Check, secret: &[u8]) -> bool {
    match check {
        Check::Base62Crc32 => base62_crc32_ok(secret),
        Check::PypiMacaroon => pypi_macaroon_ok(secret),
        Check::SlackLayout => slack_layout_ok(secret),
        Check::CharsetEntropy => {
            let floor = if secret.iter().all(u8::is_ascii_hexdigit) {
                HEX_ENTROPY_MIN
            } else {
                BASE64_ENTROPY_MIN
            };
            crate::shannon_entropy(secret) >= floor
        }
    }
}

/// The 6-character base62 CRC32 of `entropy`, as GitHub appends it to a token.
pub fn base62_crc32(entropy: &[u8]) -> String {
    let mut n = crc32fast::hash(entropy);
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

fn base62_crc32_ok(secret: &[u8]) -> bool {
    // `ghp_` + 30 + 6; only that length carries the checksum (older refresh tokens are longer).
    let Some(pos) = memchr::memchr(b'_', secret) else {
        return false;
    };
    let body = &secret[pos + 1..];
    // GitHub's refresh tokens of the older 76-character form carry no checksum.
    if secret.starts_with(b"ghr_") && body.len() == 76 {
        return true;
    }
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (entropy, checksum) = body.split_at(30);
    base62_crc32(entropy).as_bytes() == checksum
}

fn pypi_macaroon_ok(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"pypi-") else {
        return false;
    };
    // Only the head is needed to see the version byte and the location field.
    let head = &body[..body.len().min(64) / 4 * 4];
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head) else {
        return false;
    };
    // Macaroon v2 binary: version 2, then field 1 (location), its length, then the location.
    matches!(bytes.as_slice(), [2, 1, len, rest @ ..]
        if rest.get(..usize::from(*len)).is_some_and(|l| l == b"pypi.org" || l == b"test.pypi.org"))
}

fn slack_layout_ok(secret: &[u8]) -> bool {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'-').collect();
    if parts.len() < 3 {
        return false;
    }
    let digits = |p: &&[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    let ids = &parts[1..parts.len() - 1];
    let last = parts[parts.len() - 1];
    ids.iter().any(digits)
        && last.len() >= 10
        && last.iter().all(u8::is_ascii_alphanumeric)
        && last.iter().any(u8::is_ascii_digit)
        && last.iter().any(u8::is_ascii_alphabetic)
}

/// Words that mark a value as an example in documentation, a template or a test fixture.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "placeholder",
    "dummy",
    "sample",
    "xxxxxx",
    "your_",
    "your-",
    "replace_me",
    "replaceme",
    "redacted",
    "notreal",
    "not_real",
    "insert_",
];

/// Does the value look like a placeholder: an example word, a run of one character or an
/// ascending sequence (`aaaaaa`, `000000`, `abcdef`, `123456`) of six or more? Only short
/// values are judged: a private key's base64 body legitimately holds runs of `A`.
pub fn looks_like_placeholder(secret: &[u8]) -> bool {
    const MAX_JUDGED: usize = 160;
    const RUN: usize = 6;
    if secret.len() > MAX_JUDGED {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    let (mut same, mut ascending) = (1, 1);
    for w in lower.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        ascending = if w[0].is_ascii_alphanumeric() && w[1] == w[0] + 1 {
            ascending + 1
        } else {
            1
        };
        if (same >= RUN && w[0] != b'=') || ascending >= RUN {
            return true;
        }
    }
    false
}

/// Is the value a reference to a variable rather than a value: `$X`, `${X}`, `$(cmd)`,
/// `%X%`, `{{ x }}`, `<x>`?
pub fn is_variable_reference(secret: &[u8]) -> bool {
    match secret {
        [b'$', next, ..] => next.is_ascii_alphabetic() || matches!(next, b'{' | b'(' | b'_'),
        [b'%', inner @ .., b'%'] => {
            !inner.is_empty()
                && inner
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        [b'{', b'{', ..] | [b'<', ..] => true,
        _ => false,
    }
}

/// The confidence of a candidate of a rule declared at `base`: `None` drops it.
pub fn judge(base: Confidence, check: Option<Check>, secret: &[u8]) -> Option<Confidence> {
    if is_variable_reference(secret) {
        return None;
    }
    if looks_like_placeholder(secret) {
        return Some(Confidence::Low);
    }
    match check {
        Some(c) if !passes(c, secret) => Some(Confidence::Low),
        _ => Some(base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_crc32_round_trips() {
        let entropy = b"q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5";
        let token = format!(
            "ghp_{}{}",
            "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5",
            base62_crc32(entropy)
        );
        assert!(passes(Check::Base62Crc32, token.as_bytes()));
        let mut bad = token.clone().into_bytes();
        bad[10] = if bad[10] == b'x' { b'y' } else { b'x' };
        assert!(!passes(Check::Base62Crc32, &bad));
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            &b"aaaaaaaaaaaaaaaa"[..],
            b"sk_live_000000000000000000000000",
            b"abcdefghij",
            b"my-token-123456789",
            b"EXAMPLEKEY1234",
        ] {
            assert!(looks_like_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        for p in [&b"q8W3zR1tY6uPa0Sd"[..], b"Zm9vYmFyYmF6cXV4==", b"h7Fk2mQp"] {
            assert!(!looks_like_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
    }
}
