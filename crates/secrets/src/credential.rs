//! Secrets found by their name rather than by their shape: `DB_PASSWORD=S3cr3t…` in a build
//! argument, an `ENV` or a label is a credential whatever its value looks like, as long as the
//! value is not a placeholder (`changeme`, `xxx`, `${VAR}`, `<token>`). The shape rules miss
//! these on purpose (a free-form password has no shape, and their placeholder filter drops any
//! value that merely contains `passw0rd` or `secret`), so these functions decide by the name and
//! a stricter, whole-value placeholder test.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// Values shorter than this (in bytes) are not reported as credentials by name: too many
/// flags and switches (`TOKEN_REFRESH=1`, `SECRET_MODE=on`) live under credential names.
pub const MIN_CREDENTIAL_VALUE_LEN: usize = 4;

/// Names that hold secrets (`DB_PASSWORD`, `GITHUB_TOKEN`, `aws_secret`, `--password`),
/// compared case-insensitively; `_FILE`/`_PATH`/`_URL`-style names point at a secret or
/// describe it instead of holding it.
pub fn credential_name(name: &str) -> bool {
    let n = name
        .trim_start_matches('-')
        .to_ascii_uppercase()
        .replace(['.', '-'], "_");
    const DESCRIBES: &[&str] = &[
        "_FILE",
        "_PATH",
        "_DIR",
        "_URL",
        "_URI",
        "_HOST",
        "_PORT",
        "_USER",
        "_USERNAME",
        "_NAME",
        "_ID",
        "_LENGTH",
        "_TTL",
        "_EXPIRY",
        "_TIMEOUT",
        "_ENABLED",
        "_TYPE",
    ];
    if DESCRIBES.iter().any(|s| n.ends_with(s)) {
        return false;
    }
    const HOLDS: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "AUTH_KEY",
        "CREDENTIAL",
        "_PWD",
    ];
    HOLDS.iter().any(|k| n.contains(k)) || n == "PWD_HASH"
}

/// Whole values that stand in for a secret rather than being one.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changeit",
    "password",
    "passwd",
    "secret",
    "token",
    "placeholder",
    "redacted",
    "dummy",
    "example",
    "sample",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "undefined",
    "empty",
    "default",
    "required",
    "optional",
    "string",
    "todo",
    "tbd",
    "fixme",
    "unset",
    "notset",
    "not-set",
    "not_set",
];

/// Parts that make a whole value a placeholder wherever they occur.
const PLACEHOLDER_PARTS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "redacted",
    "your_",
    "your-",
    "xxxx",
    "***",
    "${",
    "$(",
    "{{",
    "}}",
    "%s",
];

/// Is `value` (quotes already removed) a stand-in for a credential rather than one: empty,
/// shorter than [`MIN_CREDENTIAL_VALUE_LEN`], a variable or command reference (`$VAR`,
/// `${VAR}`, `$(cat f)`), a template (`{{ .token }}`, `<token>`, `%s`), one character repeated
/// (`xxx`, `***`, `0000`), a known filler word (`changeme`, `none`, `true`), a path
/// (`/run/secrets/db`) or a URL without credentials.
pub fn placeholder_value(value: &str) -> bool {
    let v = value.trim();
    if v.len() < MIN_CREDENTIAL_VALUE_LEN || v.starts_with('$') {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str())
        || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
        || (v.starts_with('<') && v.ends_with('>'))
    {
        return true;
    }
    let mut chars = v.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return true;
        }
    }
    let path_like = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
    };
    if ["/", "./", "~/"].iter().any(|p| v.starts_with(p)) && path_like(v) {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
            && !rest.split('/').next().unwrap_or("").contains('@')
        {
            return true;
        }
    }
    false
}

/// A credential-named variable with a value that is not a placeholder.
pub fn credential_value(name: &str, value: &str) -> bool {
    credential_name(name) && !placeholder_value(value)
}

/// `NAME=value` in a piece of text whose name says credential and whose value is not a
/// placeholder; `value` is the byte range of the value (inside any quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialAssignment {
    pub name: String,
    pub value: Range<usize>,
}

fn assignment_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // A name at a word start (also `--password=`), `=`, then a quoted or a bare value.
        Regex::new(
            r#"(?:^|[^A-Za-z0-9_.$-])-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,127})=(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"';&|()`]*))"#,
        )
        .expect("the assignment regex compiles")
    })
}

/// Every credential assignment in `text` (history steps, `ENV` entries, shell lines), in
/// order. Values are whatever follows `=` up to whitespace or a shell separator, or the
/// quoted string.
pub fn credential_assignments(text: &str) -> Vec<CredentialAssignment> {
    let mut out = Vec::new();
    for caps in assignment_regex().captures_iter(text) {
        let (Some(name), Some(value)) = (caps.get(1), caps.get(2).or(caps.get(3)).or(caps.get(4)))
        else {
            continue;
        };
        if credential_value(name.as_str(), value.as_str()) {
            out.push(CredentialAssignment {
                name: name.as_str().to_string(),
                value: value.range(),
            });
        }
    }
    out
}

/// How a history step carries variables: build arguments (BuildKit and the classic builder
/// record `RUN |2 A=x B=y /bin/sh -c …` for every `ARG` in scope, and `ARG A=x` steps), `ENV`
/// or `LABEL` steps, or plain shell text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPart {
    BuildArg,
    Env,
    Label,
    Command,
}

/// Splits a history `created_by` into its build-argument prefix and the rest, and says what
/// kind of instruction the rest is. `RUN |2 A=x B=y /bin/sh -c cmd` gives
/// `(Some(range of "A=x B=y"), Command)`; `ENV A=x` gives `(None, Env)`; `ARG A=x` gives
/// `(None, BuildArg)`.
pub fn history_parts(created_by: &str) -> (Option<Range<usize>>, StepPart) {
    let trimmed_start = created_by.len() - created_by.trim_start().len();
    let mut rest = &created_by[trimmed_start..];
    let mut at = trimmed_start;
    let skip = |rest: &mut &str, at: &mut usize, prefix: &str| -> bool {
        match rest.strip_prefix(prefix) {
            Some(r) => {
                let r2 = r.trim_start();
                *at += rest.len() - r2.len();
                *rest = r2;
                true
            }
            None => false,
        }
    };
    skip(&mut rest, &mut at, "RUN ");
    // `|N a=b c=d`: N arguments, each one whitespace-free `name=value` token (BuildKit does not
    // quote them; a value with spaces cannot be told from the command and ends at the space).
    let mut args = None;
    if let Some(after_bar) = rest.strip_prefix('|') {
        let digits = after_bar.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(n) = after_bar[..digits].parse::<usize>() {
            let start = at + 1 + digits;
            let mut end = start;
            let mut tokens = 0;
            let body = &created_by[start..];
            let mut pos = 0;
            while tokens < n {
                let ws = body[pos..].len() - body[pos..].trim_start().len();
                let token_len = body[pos + ws..]
                    .find(char::is_whitespace)
                    .unwrap_or(body.len() - pos - ws);
                if token_len == 0 || !body[pos + ws..pos + ws + token_len].contains('=') {
                    break;
                }
                pos += ws + token_len;
                end = start + pos;
                tokens += 1;
            }
            if end > start {
                args = Some(start..end);
            }
            rest = created_by[end..].trim_start();
        }
    }
    // The classic builder writes `/bin/sh -c #(nop)  ENV A=x` for instructions that make no
    // layer; BuildKit writes `ENV A=x`.
    let instruction = rest
        .strip_prefix("/bin/sh -c #(nop)")
        .unwrap_or(rest)
        .trim_start();
    let word = instruction.split_whitespace().next().unwrap_or("");
    let part = match word {
        "ARG" => StepPart::BuildArg,
        "ENV" => StepPart::Env,
        "LABEL" => StepPart::Label,
        _ => StepPart::Command,
    };
    (args, part)
}

/// The build arguments a history step records with a credential name and a real value:
/// `(name, value)` pairs from the `|N` prefix and from `ARG` steps.
pub fn build_arg_credentials(created_by: &str) -> Vec<(String, String)> {
    let (args, part) = history_parts(created_by);
    let range = match (args, part) {
        (_, StepPart::BuildArg) => 0..created_by.len(),
        (Some(r), _) => r,
        (None, _) => return Vec::new(),
    };
    let text = &created_by[range.clone()];
    credential_assignments(text)
        .into_iter()
        .map(|a| {
            let value = text[a.value].to_string();
            (a.name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hold_credentials() {
        for n in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "aws_secret",
            "API_KEY",
            "my.api-key",
            "--password",
            "PRIVATE_KEY",
            "MYSQL_ROOT_PASSWD",
        ] {
            assert!(credential_name(n), "{n}");
        }
        for n in [
            "DB_PASSWORD_FILE",
            "LOG_LEVEL",
            "TOKEN_URL",
            "PATH",
            "SECRET_ENABLED",
        ] {
            assert!(!credential_name(n), "{n}");
        }
    }

    #[test]
    fn placeholders_are_not_credentials() {
        for v in [
            "",
            "abc",
            "changeme",
            "CHANGEME",
            "xxx",
            "xxxxxxxx",
            "********",
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "$(cat /run/secrets/x)",
            "<your-token>",
            "{{ .Values.token }}",
            "/run/secrets/db_password",
            "https://vault.example.org/v1/secret",
            "your_token_here",
            "none",
            "0000",
        ] {
            assert!(placeholder_value(v), "{v:?}");
        }
        for v in [
            "S3cr3tPassw0rdValue",
            "hunter22",
            "admin123",
            "p@ss w0rd",
            "https://u:p4ss@host",
        ] {
            assert!(!placeholder_value(v), "{v:?}");
        }
    }

    #[test]
    fn assignments_in_text() {
        let text = r#"RUN |2 DB_PASSWORD=S3cr3tPassw0rdValue OTHER=x /bin/sh -c mysql --password="hunter2two" -e 'x' API_TOKEN='abcd efgh' X_TOKEN=${T}"#;
        let found: Vec<(String, &str)> = credential_assignments(text)
            .into_iter()
            .map(|a| (a.name, &text[a.value]))
            .collect();
        assert_eq!(
            found,
            vec![
                ("DB_PASSWORD".to_string(), "S3cr3tPassw0rdValue"),
                ("password".to_string(), "hunter2two"),
                ("API_TOKEN".to_string(), "abcd efgh"),
            ]
        );
    }

    #[test]
    fn build_args_from_history_steps() {
        assert_eq!(
            build_arg_credentials(
                "RUN |2 DB_PASSWORD=S3cr3tPassw0rdValue OTHER=x /bin/sh -c echo API_TOKEN=notabuildarg1"
            ),
            vec![("DB_PASSWORD".to_string(), "S3cr3tPassw0rdValue".to_string())]
        );
        assert_eq!(
            build_arg_credentials("|1 GITHUB_TOKEN=ghp_notreal1234 /bin/sh -c make"),
            vec![("GITHUB_TOKEN".to_string(), "ghp_notreal1234".to_string())]
        );
        assert_eq!(
            build_arg_credentials("ARG NPM_TOKEN=npm_abcdefgh12"),
            vec![("NPM_TOKEN".to_string(), "npm_abcdefgh12".to_string())]
        );
        assert!(build_arg_credentials("ARG NPM_TOKEN").is_empty());
        assert!(build_arg_credentials("/bin/sh -c export DB_PASSWORD=hunter22").is_empty());
        assert!(build_arg_credentials("RUN |x broken").is_empty());
        assert_eq!(
            build_arg_credentials("RUN |3 DB_PASSWORD=hunter22"),
            vec![("DB_PASSWORD".to_string(), "hunter22".to_string())],
            "a step with fewer arguments than it announces still has them"
        );
        assert_eq!(
            history_parts("/bin/sh -c #(nop)  ENV API_TOKEN=abc").1,
            StepPart::Env
        );
        assert_eq!(history_parts("LABEL a=b").1, StepPart::Label);
    }
}
