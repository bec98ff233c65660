//! Password hashes recognised by their structure: the crypt(3) family (`$1$` md5crypt,
//! `$apr1$`, `$2a$`/`$2b$`/`$2y$` bcrypt, `$5$`/`$6$` sha-crypt, `$y$` yescrypt, phpass
//! `$P$`/`$H$`, argon2), Cisco types 5/7/8/9, LDAP `{SHA}`/`{SSHA}`, Kerberos AS-REP and TGS
//! hashes in hashcat's notation, pwdump NTLM lines and MySQL native-password hashes in SQL
//! dumps. Each scheme's lengths and alphabet are checked, so `$1$` in a shell script or
//! a Makefile is not a hash. A hash of a real password is an offline-crackable credential.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};

use super::{Confidence, FormatRule, Found};
use crate::Severity;

pub const PASSWORD_HASH: FormatRule = FormatRule {
    id: "password-hash",
    title: "Password hash",
    description: "A crypt(3)-style password hash (md5crypt, apr1, bcrypt, sha256crypt, \
                  sha512crypt, yescrypt, phpass, argon2) or an LDAP {SHA}/{SSHA} hash, checked \
                  for its scheme's lengths and alphabet; lockfiles and checksum lists are skipped.",
    severity: Severity::Medium,
};
pub const CISCO_PASSWORD: FormatRule = FormatRule {
    id: "cisco-password",
    title: "Cisco IOS password (type 5, 7, 8 or 9)",
    description: "A Cisco `secret 5/8/9` hash or a reversible type 7 `password 7` value.",
    severity: Severity::High,
};
pub const KERBEROS_HASH: FormatRule = FormatRule {
    id: "kerberos-roast-hash",
    title: "Kerberos AS-REP or TGS hash",
    description: "A `$krb5asrep$` or `$krb5tgs$` hash (AS-REP roasting, Kerberoasting), \
                  crackable offline to the account's password.",
    severity: Severity::High,
};
pub const NTLM_HASH: FormatRule = FormatRule {
    id: "ntlm-hash",
    title: "NTLM hash in a pwdump line",
    description: "`user:rid:LM:NT:::` lines as credential dumpers write them; the NT hash of \
                  the empty password is skipped.",
    severity: Severity::High,
};
pub const MYSQL_HASH: FormatRule = FormatRule {
    id: "mysql-password-hash",
    title: "MySQL native password hash in an SQL dump",
    description: "A `*` + 40 uppercase hex digits mysql_native_password hash, quoted, in a \
                  `.sql` file.",
    severity: Severity::Medium,
};

pub const RULES: &[&FormatRule] = &[
    &PASSWORD_HASH,
    &CISCO_PASSWORD,
    &KERBEROS_HASH,
    &NTLM_HASH,
    &MYSQL_HASH,
];

/// The NT hash of the empty password: an account without one, not a secret.
const EMPTY_NT: &str = "31d6cfe0d16ae931b73c59d7e0c089c0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Crypt,
    Cisco,
    Cisco7,
    Kerberos,
    Pwdump,
}

/// Marker literal, scheme, and the structure that must follow at the marker.
const MARKERS: &[(&str, Scheme, &str)] = &[
    (
        "$1$",
        Scheme::Crypt,
        r"\$1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}",
    ),
    (
        "$apr1$",
        Scheme::Crypt,
        r"\$apr1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}",
    ),
    ("$2a$", Scheme::Crypt, r"\$2a\$[0-3]\d\$[./0-9A-Za-z]{53}"),
    ("$2b$", Scheme::Crypt, r"\$2b\$[0-3]\d\$[./0-9A-Za-z]{53}"),
    ("$2x$", Scheme::Crypt, r"\$2x\$[0-3]\d\$[./0-9A-Za-z]{53}"),
    ("$2y$", Scheme::Crypt, r"\$2y\$[0-3]\d\$[./0-9A-Za-z]{53}"),
    (
        "$5$",
        Scheme::Crypt,
        r"\$5\$(?:rounds=\d{1,9}\$)?[^$:\s]{0,16}\$[./0-9A-Za-z]{43}",
    ),
    (
        "$6$",
        Scheme::Crypt,
        r"\$6\$(?:rounds=\d{1,9}\$)?[^$:\s]{0,16}\$[./0-9A-Za-z]{86}",
    ),
    (
        "$y$",
        Scheme::Crypt,
        r"\$y\$[./0-9A-Za-z]{1,32}\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}",
    ),
    ("$P$", Scheme::Crypt, r"\$P\$[./0-9A-Za-z]{31}"),
    ("$H$", Scheme::Crypt, r"\$H\$[./0-9A-Za-z]{31}"),
    (
        "$argon2",
        Scheme::Crypt,
        r"\$argon2(?:id|i|d)\$(?:v=\d{1,3}\$)?m=\d{1,9},t=\d{1,9},p=\d{1,3}\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}",
    ),
    ("{SHA}", Scheme::Crypt, r"\{SHA\}[A-Za-z0-9+/]{27}="),
    ("{SSHA}", Scheme::Crypt, r"\{SSHA\}[A-Za-z0-9+/]{30,}={0,2}"),
    (
        "$8$",
        Scheme::Cisco,
        r"\$8\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}",
    ),
    (
        "$9$",
        Scheme::Cisco,
        r"\$9\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}",
    ),
    (
        "password 7 ",
        Scheme::Cisco7,
        r"password 7 ([01]\d(?:[0-9A-Fa-f]{2}){3,})",
    ),
    (
        "$krb5asrep$",
        Scheme::Kerberos,
        r"\$krb5asrep\$(?:\d{1,2}\$)?[^\s:]{1,256}?[:$][0-9a-fA-F]{24,32}\$[0-9a-fA-F]{64,}",
    ),
    (
        "$krb5tgs$",
        Scheme::Kerberos,
        r"\$krb5tgs\$\d{1,2}\$[^\s]{1,512}?\$[0-9a-fA-F]{24,32}\$[0-9a-fA-F]{64,}",
    ),
    (":::", Scheme::Pwdump, ""),
];

/// The literals that start a hash this module recognises, for the scanner's keyword pass.
pub fn markers() -> impl Iterator<Item = &'static str> {
    MARKERS.iter().map(|m| m.0)
}

/// How far past a marker a hash may extend (Kerberos hashes are a few KiB of hex).
const MAX_HASH_BYTES: usize = 16 * 1024;

struct Compiled {
    markers: AhoCorasick,
    structures: Vec<Option<Regex>>,
    pwdump: Regex,
    field: Vec<Regex>,
    mysql: Regex,
}

fn anchored(pattern: &str) -> Regex {
    RegexBuilder::new(&format!(r"\A(?:{pattern})"))
        .unicode(false)
        .build()
        .expect("hash structure regexes are valid")
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let markers =
            AhoCorasick::new(MARKERS.iter().map(|m| m.0)).expect("hash markers build an automaton");
        let structures = MARKERS
            .iter()
            .map(|(_, _, p)| (!p.is_empty()).then(|| anchored(p)))
            .collect();
        // A crypt field as shadow/htpasswd hold it: one of the schemes above, or
        // traditional DES (13 chars) / BSDi extended DES (`_` + 19), the whole field.
        let mut field: Vec<Regex> = MARKERS
            .iter()
            .filter(|(_, s, _)| matches!(s, Scheme::Crypt | Scheme::Cisco))
            .map(|(_, _, p)| anchored(&format!(r"(?:{p})\z")))
            .collect();
        field.push(anchored(r"[./0-9A-Za-z]{13}\z"));
        field.push(anchored(r"_[./0-9A-Za-z]{19}\z"));
        // gost-yescrypt and scrypt as libxcrypt writes them.
        field.push(anchored(
            r"\$(?:gy|7)\$[./0-9A-Za-z]{1,64}\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}\z",
        ));
        Compiled {
            markers,
            structures,
            pwdump: anchored(
                r"[^:\s]{1,64}:\d{1,10}:(?:[0-9A-Fa-f]{32}|NO PASSWORD\*{21}):([0-9A-Fa-f]{32}):::",
            ),
            field,
            mysql: RegexBuilder::new(r#"['"`](\*[0-9A-F]{40})['"`]"#)
                .unicode(false)
                .build()
                .expect("mysql hash regex is valid"),
        }
    })
}

/// Is `field` (a whole shadow/htpasswd password field, `!`-locking prefix allowed) a real
/// password hash? Returns the hash's offset in the field (past `!`s) when it is. `*`, `!`,
/// `!!`, `!*`, `x`, `*LK*`, `NP` and empty fields are not.
pub fn crypt_field(field: &[u8]) -> Option<usize> {
    let skip = field.iter().take_while(|b| **b == b'!').count();
    let hash = &field[skip..];
    if hash.len() < 13 {
        return None;
    }
    compiled()
        .field
        .iter()
        .any(|r| r.is_match(hash))
        .then_some(skip)
        .filter(|_| !one_char_body(hash))
}

/// Placeholders like `$6$salt$xxxxxxxx…` or `aaaaaaaaaaaaa`: the last `$` part is one
/// repeated character.
fn one_char_body(hash: &[u8]) -> bool {
    let body = hash.rsplit(|b| *b == b'$').next().unwrap_or(hash);
    body.len() > 1 && body.iter().all(|b| *b == body[0])
}

fn is_hash_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'$' | b'+' | b'=')
}

/// Names of files that are full of hashes that are not passwords: the scanner's lockfiles and
/// checksum lists ([`crate::is_checksum_file`]), plus signatures and other digest lists.
pub fn hash_list_file(path: &str) -> bool {
    if crate::is_checksum_file(path) {
        return true;
    }
    let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    const EXACT: &[&str] = &["record", "sha1sums", "checksums"];
    const SUFFIXES: &[&str] = &[
        ".lock",
        ".sum",
        ".sha512",
        ".sha1",
        ".md5",
        ".sha256sum",
        ".asc",
        ".sig",
    ];
    EXACT.contains(&lower.as_str()) || SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Every structurally valid password hash in `content` (any text file), Medium confidence.
pub fn scan_any(path: &str, content: &[u8]) -> Vec<Found> {
    let c = compiled();
    let mut out: Vec<Found> = Vec::new();
    if hash_list_file(path) {
        return out;
    }
    let mut skip_to = 0;
    for m in c.markers.find_iter(content) {
        if m.start() < skip_to {
            continue;
        }
        let (_, scheme, _) = MARKERS[m.pattern().as_usize()];
        let found = match scheme {
            Scheme::Pwdump => pwdump_line(c, content, m.start()),
            _ => {
                if m.start() > 0 && scheme != Scheme::Cisco7 {
                    let before = content[m.start() - 1];
                    if before.is_ascii_alphanumeric() || before == b'$' || before == b'\\' {
                        continue;
                    }
                }
                let Some(re) = &c.structures[m.pattern().as_usize()] else {
                    continue;
                };
                let end = content.len().min(m.start() + MAX_HASH_BYTES);
                let Some(caps) = re.captures(&content[m.start()..end]) else {
                    continue;
                };
                let whole = caps.get(0).expect("group 0 exists");
                let after = m.start() + whole.end();
                if after < content.len() && is_hash_byte(content[after]) {
                    continue;
                }
                let g = caps.get(1).unwrap_or(whole);
                let range = m.start() + g.start()..m.start() + g.end();
                if one_char_body(&content[range.clone()]) {
                    continue;
                }
                let rule = match scheme {
                    Scheme::Crypt => &PASSWORD_HASH,
                    Scheme::Cisco | Scheme::Cisco7 => &CISCO_PASSWORD,
                    Scheme::Kerberos => &KERBEROS_HASH,
                    Scheme::Pwdump => &NTLM_HASH,
                };
                Some(Found::new(rule, range, Confidence::Medium))
            }
        };
        if let Some(f) = found {
            skip_to = f.range.end;
            out.push(f);
            if out.len() >= crate::MAX_FINDINGS_PER_FILE {
                break;
            }
        }
    }
    out
}

/// A pwdump line around the `:::` at `at`: the NT hash, unless it is the empty password's.
fn pwdump_line(c: &Compiled, content: &[u8], at: usize) -> Option<Found> {
    let line_start = memchr::memrchr(b'\n', &content[..at]).map_or(0, |i| i + 1);
    let caps = c.pwdump.captures(&content[line_start..at + 3])?;
    if caps.get(0)?.end() != at + 3 - line_start {
        return None;
    }
    let nt = caps.get(1)?;
    let range: Range<usize> = line_start + nt.start()..line_start + nt.end();
    if content[range.clone()].eq_ignore_ascii_case(EMPTY_NT.as_bytes()) {
        return None;
    }
    Some(Found::new(&NTLM_HASH, range, Confidence::Medium))
}

/// MySQL native-password hashes quoted in an SQL dump (`mysql.user` rows, `IDENTIFIED BY
/// PASSWORD '*…'`).
pub fn mysql_native(content: &[u8]) -> Vec<Found> {
    compiled()
        .mysql
        .captures_iter(content)
        .filter_map(|caps| caps.get(1))
        .map(|g| Found::new(&MYSQL_HASH, g.start()..g.end(), Confidence::Medium))
        .take(crate::MAX_FINDINGS_PER_FILE)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_and_empty_fields_are_not_hashes() {
        for f in [
            "",
            "*",
            "!",
            "!!",
            "!*",
            "x",
            "*LK*",
            "NP",
            "!locked",
            "*************",
        ] {
            assert_eq!(crypt_field(f.as_bytes()), None, "{f:?}");
        }
        let md5 = "$1$abcdefgh$0123456789abcdefABCDEF";
        assert_eq!(crypt_field(md5.as_bytes()), Some(0));
        assert_eq!(crypt_field(format!("!{md5}").as_bytes()), Some(1));
        assert_eq!(crypt_field(b"$1$abcdefgh$0123456789"), None, "short");
    }

    #[test]
    fn structure_is_checked_in_text() {
        let md5 = "$1$abcdefgh$0123456789abcdefABCDEF";
        let text = format!("user={md5}\necho $1$2 $6$ $2y$10$short\n");
        let found = scan_any("a.txt", text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].range.clone()], md5);
        assert!(scan_any("yarn.lock", text.as_bytes()).is_empty());
        // one character longer is not md5crypt
        assert!(scan_any("a.txt", format!("{md5}A").as_bytes()).is_empty());
    }

    #[test]
    fn pwdump_skips_the_empty_password() {
        let lm = "aad3b435b51404eeaad3b435b51404ee";
        let nt = "8846f7eaee8fb117ad06bdd830b7586c";
        let text =
            format!("Administrator:500:{lm}:{nt}:::\nGuest:501:{lm}:{EMPTY_NT}:::\n[::]:80\n");
        let found = scan_any("dump.txt", text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].range.clone()], nt);
    }
}
