//! The one redaction step every string bulwark prints or writes goes through.

use std::borrow::Cow;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::credential::{credential_assignments, MIN_CREDENTIAL_VALUE_LEN};
use crate::{redact, Scanner, MIN_SECRET_LEN};

/// A detected secret's value, held in memory only so that [`Redactor`] can take it out of
/// every output. It masks itself when formatted and cannot be serialized.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> SecretValue {
        SecretValue(value.into())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({})", redact(&self.0))
    }
}

/// Takes detected secrets out of text, whatever the text is (a history step, a label, a file
/// path, a diagnostic, a policy message). Three passes, each on what the previous left:
///
/// 1. the literal values found in this image's config and history (a build argument's
///    password is then gone from every layer's `created_by`, wherever it is repeated);
/// 2. values of credential-named assignments (`DB_PASSWORD=…`, `--password=…`) in the text
///    itself;
/// 3. everything the scanner's rules find in the text (a token in a file path or a message).
///
/// Each found value becomes its short redacted form (`S3cr****`), which no pass matches
/// again, so redacting twice changes nothing.
#[derive(Debug, Clone)]
pub struct Redactor {
    scanner: Scanner,
    values: Vec<SecretValue>,
    literals: Option<AhoCorasick>,
}

impl Redactor {
    /// A redactor for the secrets `scanner`'s rules find plus the literal `values`. Values
    /// shorter than [`MIN_CREDENTIAL_VALUE_LEN`] are left to the other passes: as literals
    /// they would match inside ordinary words.
    pub fn new(scanner: Scanner, values: impl IntoIterator<Item = SecretValue>) -> Redactor {
        let mut values: Vec<SecretValue> = values
            .into_iter()
            .filter(|v| v.0.len() >= MIN_CREDENTIAL_VALUE_LEN)
            .collect();
        values.sort();
        values.dedup();
        let literals = if values.is_empty() {
            None
        } else {
            // Leftmost-longest: a value that contains another is replaced whole.
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(values.iter().map(|v| v.0.as_bytes()))
                .ok()
        };
        Redactor {
            scanner,
            values,
            literals,
        }
    }

    /// How many literal values this redactor removes.
    pub fn literal_count(&self) -> usize {
        self.values.len()
    }

    /// `text` with every secret replaced by its redacted form; borrowed when there was none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Some(replaced) = self.redact_literals(&out) {
            out = Cow::Owned(replaced);
        }
        if let Some(replaced) = redact_assignments(&out) {
            out = Cow::Owned(replaced);
        }
        let by_rules = self.scanner.redact_text(&out);
        if by_rules != out {
            out = Cow::Owned(by_rules);
        }
        out
    }

    /// In-place form of [`Redactor::redact`], allocating only when something changes.
    pub fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(changed) = self.redact(text) {
            *text = changed;
        }
    }

    fn redact_literals(&self, text: &str) -> Option<String> {
        let ac = self.literals.as_ref()?;
        let bytes = text.as_bytes();
        let mut out = String::new();
        let mut pos = 0;
        for m in ac.find_iter(text) {
            let value = &self.values[m.pattern().as_usize()].0;
            // A short value counts only as a whole word, so `hunter` does not eat `hunters`.
            if value.len() < MIN_SECRET_LEN {
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                if before.is_some_and(|b| b.is_ascii_alphanumeric())
                    || after.is_some_and(|b| b.is_ascii_alphanumeric())
                {
                    continue;
                }
            }
            // Match bounds are byte offsets of a UTF-8 needle inside UTF-8 text: char bounds.
            out.push_str(&text[pos..m.start()]);
            out.push_str(&redact(value));
            pos = m.end();
        }
        if pos == 0 {
            return None;
        }
        out.push_str(&text[pos..]);
        Some(out)
    }
}

fn redact_assignments(text: &str) -> Option<String> {
    let found = credential_assignments(text);
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for a in found {
        out.push_str(&text[pos..a.value.start]);
        out.push_str(&redact(&text[a.value.clone()]));
        pos = a.value.end;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        Redactor::new(
            Scanner::builtin(),
            values.iter().map(|v| SecretValue::new(*v)),
        )
    }

    #[test]
    fn literal_values_go_wherever_they_are() {
        let r = redactor(&["S3cr3tPassw0rdValue"]);
        let out = r.redact("RUN |2 DB_PASSWORD=S3cr3tPassw0rdValue OTHER=x /bin/sh -c echo S3cr3tPassw0rdValue > /x");
        assert!(!out.contains("S3cr3tPassw0rdValue"), "{out}");
        assert!(out.contains("OTHER=x /bin/sh -c echo S3cr****"), "{out}");
    }

    #[test]
    fn credential_assignments_and_rule_matches_without_literals() {
        let r = redactor(&[]);
        let out = r.redact("export API_TOKEN=hunter22abc && echo done");
        assert_eq!(out, "export API_TOKEN=hu**** && echo done");
        let key = format!("AKIA{}", "Q3ZJ7XK2MNBV4WLP");
        let path = format!("/app/{key}.txt");
        let out = r.redact(&path);
        assert!(!out.contains(&key), "{out}");
    }

    #[test]
    fn clean_text_is_borrowed_and_redaction_is_idempotent() {
        let r = redactor(&["S3cr3tPassw0rdValue", "abcd"]);
        assert!(matches!(
            r.redact("COPY . /app # buildkit"),
            Cow::Borrowed(_)
        ));
        let once = r
            .redact("DB_PASSWORD=S3cr3tPassw0rdValue abcd abcdef")
            .into_owned();
        assert_eq!(once, "DB_PASSWORD=S3cr**** **** abcdef");
        assert_eq!(r.redact(&once), once);
    }

    #[test]
    fn a_secret_value_never_formats_itself() {
        let v = SecretValue::new("S3cr3tPassw0rdValue");
        assert_eq!(format!("{v:?}"), "SecretValue(S3cr****)");
    }
}
