//! Line- and token-oriented credential files: `.git-credentials`, `.netrc`, `.pgpass`,
//! `/etc/shadow`/`gshadow`/`passwd`, and `user:hash` password files (`.htpasswd`,
//! htdigest, proftpd `ftpd.passwd`, cPanel FTP files).

use std::ops::Range;

use super::hashes::crypt_field;
use super::text::{lines, real_value};
use super::{Confidence, FormatRule, Found};
use crate::Severity;

pub const GIT_CREDENTIALS: FormatRule = FormatRule {
    id: "git-credentials-password",
    title: "Password or token in a .git-credentials file",
    description: "A `scheme://user:secret@host` line of git's credential store.",
    severity: Severity::Critical,
};
pub const NETRC: FormatRule = FormatRule {
    id: "netrc-password",
    title: "Password in a .netrc file",
    description: "The `password` token of a `.netrc`/`_netrc` machine or default entry.",
    severity: Severity::High,
};
pub const PGPASS: FormatRule = FormatRule {
    id: "pgpass-password",
    title: "Password in a PostgreSQL .pgpass file",
    description: "The fifth field of a `host:port:db:user:password` line (`\\:` escapes honoured).",
    severity: Severity::High,
};
pub const SHADOW: FormatRule = FormatRule {
    id: "shadow-password-hash",
    title: "Password hash in /etc/shadow, gshadow or passwd",
    description: "A real crypt(3) hash of an account's password; locked and empty entries \
                  (`*`, `!`, `!!`, `x`) are skipped.",
    severity: Severity::High,
};
pub const HTPASSWD: FormatRule = FormatRule {
    id: "htpasswd-hash",
    title: "Password hash in an htpasswd-style file",
    description: "A `user:hash` line of `.htpasswd`, htdigest, proftpd `ftpd.passwd` or a \
                  cPanel FTP password file (apr1, bcrypt, {SHA}, crypt).",
    severity: Severity::High,
};

pub const RULES: &[&FormatRule] = &[&GIT_CREDENTIALS, &NETRC, &PGPASS, &SHADOW, &HTPASSWD];

fn push(out: &mut Vec<Found>, content: &[u8], rule: &'static FormatRule, range: Range<usize>) {
    if real_value(content, &range) && out.len() < crate::MAX_FINDINGS_PER_FILE {
        out.push(Found::new(rule, range, Confidence::High));
    }
}

/// `https://user:token@host/path` lines: the token.
pub fn git_credentials(content: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let Some(scheme_end) = memchr::memmem::find(line, b"://") else {
            continue;
        };
        let auth_start = scheme_end + 3;
        let auth_end = line[auth_start..]
            .iter()
            .position(|b| *b == b'/' || b.is_ascii_whitespace())
            .map_or(line.len(), |i| auth_start + i);
        let authority = &line[auth_start..auth_end];
        let Some(at) = memchr::memrchr(b'@', authority) else {
            continue;
        };
        let Some(colon) = memchr::memchr(b':', &authority[..at]) else {
            continue;
        };
        let from = start + auth_start + colon + 1;
        push(
            &mut out,
            content,
            &GIT_CREDENTIALS,
            from..start + auth_start + at,
        );
    }
    out
}

/// A `.netrc` token and its range (inside quotes for a quoted token).
fn netrc_tokens(content: &[u8]) -> Vec<Range<usize>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    let n = content.len();
    while i < n {
        let b = content[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'#' && (i == 0 || content[i - 1] == b'\n') {
            i = memchr::memchr(b'\n', &content[i..]).map_or(n, |j| i + j);
        } else if b == b'"' {
            let s = i + 1;
            let mut j = s;
            while j < n && content[j] != b'"' {
                j += if content[j] == b'\\' { 2 } else { 1 };
            }
            let e = j.min(n);
            tokens.push(s..e);
            i = e + 1;
        } else {
            let s = i;
            while i < n && !content[i].is_ascii_whitespace() {
                i += 1;
            }
            tokens.push(s..i);
        }
    }
    tokens
}

/// `machine h login u password p` entries (any layout, `macdef` bodies skipped).
pub fn netrc(content: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    let tokens = netrc_tokens(content);
    let mut i = 0;
    while i < tokens.len() {
        let t = &content[tokens[i].clone()];
        if t == b"password" || t == b"passwd" {
            if let Some(v) = tokens.get(i + 1) {
                push(&mut out, content, &NETRC, v.clone());
            }
            i += 2;
        } else if t == b"macdef" {
            // A macro body runs to the next empty line.
            let from = tokens.get(i + 1).map_or(content.len(), |r| r.end);
            let end =
                memchr::memmem::find(&content[from..], b"\n\n").map_or(content.len(), |j| from + j);
            i += 2;
            while i < tokens.len() && tokens[i].start < end {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// `host:port:db:user:password` lines; `\:` and `\\` are escapes.
pub fn pgpass(content: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        if line.first().is_none_or(|b| *b == b'#') {
            continue;
        }
        let mut colons = 0;
        let mut j = 0;
        let mut password_at = None;
        while j < line.len() {
            match line[j] {
                b'\\' => j += 1,
                b':' => {
                    colons += 1;
                    if colons == 4 {
                        password_at = Some(j + 1);
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if let Some(p) = password_at {
            push(&mut out, content, &PGPASS, start + p..start + line.len());
        }
    }
    out
}

/// The second `:`-separated field of each line, if it is a real crypt hash, reported with
/// `rule`.
fn hash_fields(content: &[u8], rule: &'static FormatRule) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        if line.first().is_none_or(|b| *b == b'#') {
            continue;
        }
        let mut fields = line.split(|b| *b == b':');
        let (Some(_user), Some(field)) = (fields.next(), fields.next()) else {
            continue;
        };
        let field_start = start + memchr::memchr(b':', line).map_or(0, |i| i + 1);
        if let Some(skip) = crypt_field(field) {
            let range = field_start + skip..field_start + field.len();
            if out.len() < crate::MAX_FINDINGS_PER_FILE {
                out.push(Found::new(rule, range, Confidence::High));
            }
        } else if rule.id == HTPASSWD.id {
            // htdigest: user:realm:md5(user:realm:password)
            let third: Vec<&[u8]> = fields.collect();
            if let [digest] = third.as_slice() {
                if digest.len() == 32 && digest.iter().all(u8::is_ascii_hexdigit) {
                    let s = start + line.len() - 32;
                    out.push(Found::new(rule, s..s + 32, Confidence::High));
                }
            }
        }
    }
    out
}

pub fn shadow(content: &[u8]) -> Vec<Found> {
    hash_fields(content, &SHADOW)
}

pub fn passwd(content: &[u8]) -> Vec<Found> {
    hash_fields(content, &SHADOW)
}

pub fn htpasswd(content: &[u8]) -> Vec<Found> {
    hash_fields(content, &HTPASSWD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(found: Vec<Found>, content: &str) -> Vec<String> {
        found
            .into_iter()
            .map(|f| content[f.range].to_string())
            .collect()
    }

    #[test]
    fn git_credentials_lines() {
        let c = "https://alice:q8Zr2kLm%40x@git.example.org\nhttps://bob@host\n\
                 https://carol:${TOKEN}@host\n";
        assert_eq!(secrets(git_credentials(c.as_bytes()), c), ["q8Zr2kLm%40x"]);
    }

    #[test]
    fn netrc_any_layout() {
        let c = "# comment password nope\nmachine a.example\n  login u\n  password Vb7#kq2Lz\n\
                 machine b login u password \"p w 9x\"\nmacdef init\npassword inmacro1\n\n\
                 default login anonymous password <YOUR_PASSWORD>\n";
        assert_eq!(secrets(netrc(c.as_bytes()), c), ["Vb7#kq2Lz", "p w 9x"]);
    }

    #[test]
    fn pgpass_escapes() {
        let c = "# h:p:d:u:pw\ndb.internal:5432:app:app:Xk\\:9zLp2q\n*:*:*:u:\n";
        assert_eq!(secrets(pgpass(c.as_bytes()), c), ["Xk\\:9zLp2q"]);
    }
}
