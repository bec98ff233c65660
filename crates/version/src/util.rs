//! Small helpers shared by the schemes.

use std::cmp::Ordering;

/// Compares two ASCII decimal digit strings numerically, of any length.
pub(crate) fn cmp_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The canonical form of an ASCII decimal digit string: no leading zeros,
/// `"0"` for zero.
pub(crate) fn norm_decimal(a: &str) -> String {
    let t = a.trim_start_matches('0');
    if t.is_empty() {
        "0".to_string()
    } else {
        t.to_string()
    }
}

/// Whether `s` is a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}
