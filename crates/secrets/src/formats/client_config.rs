//! Client configuration files that store a password for a server: IRC clients (irssi,
//! HexChat, WeeChat), mail (`.esmtprc`), FTP/SFTP (FileZilla, Sublime SFTP, Atom
//! `.ftpconfig`, remote-sync, JetBrains deployment), database clients (DBeaver, Robo 3T,
//! `.my.cnf`), Ventrilo, package registries (`.pypirc`, `.npmrc`, Docker `config.json`),
//! cloud CLIs (`.s3cfg`, `.boto`, `~/.aws/credentials`) and Maven `settings.xml`.

use std::ops::Range;
use std::sync::OnceLock;

use base64::Engine;
use regex::bytes::{Regex, RegexBuilder};

use super::text::{fold_key, key_value, lines, real_value, secret_key_name, Separators};
use super::{Confidence, Format, FormatRule, Found};
use crate::Severity;

pub const IRC: FormatRule = FormatRule {
    id: "irc-client-password",
    title: "Password in an IRC client configuration",
    description: "irssi `password`/`sasl_password`, HexChat `servlist.conf` `P=`/`B=`, WeeChat \
                  `irc.conf` `password`/`sasl_password`.",
    severity: Severity::High,
};
pub const MAIL: FormatRule = FormatRule {
    id: "mail-client-password",
    title: "Password in an .esmtprc",
    description: "The `password` of an esmtp identity.",
    severity: Severity::High,
};
pub const FTP: FormatRule = FormatRule {
    id: "ftp-client-password",
    title: "Password in an FTP/SFTP client or deployment configuration",
    description: "FileZilla `<Pass>` (plain or base64), Sublime SFTP `sftp-config.json`, Atom \
                  `.ftpconfig`, `.remote-sync.json`, `deployment-config.json`, VS Code \
                  `sftp.json`, JetBrains `WebServers.xml`/`deployment.xml` passwords.",
    severity: Severity::High,
};
pub const DATABASE_CLIENT: FormatRule = FormatRule {
    id: "database-client-password",
    title: "Password in a database client configuration",
    description: "`.my.cnf` `password`, DBeaver `data-sources`, Robo 3T/Robomongo \
                  `userPassword`, JetBrains `dataSources.xml`.",
    severity: Severity::High,
};
pub const DBEAVER_CREDENTIALS: FormatRule = FormatRule {
    id: "dbeaver-credentials-file",
    title: "DBeaver saved credentials file",
    description: "`credentials-config.json` is encrypted with a key every DBeaver build \
                  ships, so anyone can read the saved passwords in it.",
    severity: Severity::High,
};
pub const VENTRILO: FormatRule = FormatRule {
    id: "ventrilo-server-password",
    title: "Password in a Ventrilo server configuration",
    description: "`Password=` and `AdminPassword=` of `ventrilo_srv.ini`.",
    severity: Severity::Medium,
};
pub const REGISTRY: FormatRule = FormatRule {
    id: "registry-client-credential",
    title: "Credential in a package or container registry client configuration",
    description: "`.pypirc` `password`, `.npmrc` `_authToken`/`_auth`/`_password`, Docker \
                  `config.json`/`.dockercfg` `auth` and `identitytoken`.",
    severity: Severity::High,
};
pub const CLOUD_CLI: FormatRule = FormatRule {
    id: "cloud-cli-credential",
    title: "Secret in a cloud CLI configuration",
    description: "`.s3cfg` `secret_key`, `.boto` secrets and tokens, `~/.aws/credentials` \
                  `aws_secret_access_key`/`aws_session_token`.",
    severity: Severity::Critical,
};
pub const MAVEN: FormatRule = FormatRule {
    id: "maven-settings-password",
    title: "Password in a Maven settings.xml",
    description: "`<password>`/`<passphrase>` of a `<server>`; `{…}`-encrypted values are \
                  reported with medium confidence (the master password decrypts them).",
    severity: Severity::High,
};

pub const JENKINS: FormatRule = FormatRule {
    id: "jenkins-credentials-secret",
    title: "Secret in a Jenkins credentials.xml",
    description: "`<password>`, `<secret>`, `<privateKey>` and `<passphrase>` of stored \
                  credentials: `{AQAAABAAAAA…}` values decrypt with the controller's \
                  `secrets/master.key`.",
    severity: Severity::High,
};
pub const BROWSER: FormatRule = FormatRule {
    id: "browser-saved-password",
    title: "Saved browser password (Firefox logins.json)",
    description: "`encryptedPassword` of Firefox's password store, readable with `key4.db` \
                  from the same profile unless a primary password is set.",
    severity: Severity::High,
};
pub const CLI_TOKEN: FormatRule = FormatRule {
    id: "cli-oauth-token",
    title: "Token in a command-line client configuration",
    description: "`oauth_token` of gh `hosts.yml` and hub, `api_key` of `.tugboat`, \
                  `access-token` of doctl, gcloud application default credentials.",
    severity: Severity::High,
};

pub const RULES: &[&FormatRule] = &[
    &IRC,
    &MAIL,
    &FTP,
    &DATABASE_CLIENT,
    &DBEAVER_CREDENTIALS,
    &VENTRILO,
    &REGISTRY,
    &CLOUD_CLI,
    &MAVEN,
    &JENKINS,
    &BROWSER,
    &CLI_TOKEN,
];

fn push(out: &mut Vec<Found>, content: &[u8], rule: &'static FormatRule, range: Range<usize>) {
    if real_value(content, &range) && out.len() < crate::MAX_FINDINGS_PER_FILE {
        out.push(Found::new(rule, range, Confidence::High));
    }
}

fn npmrc_key(key: &str) -> bool {
    let last = key.rsplit(':').next().unwrap_or(key);
    matches!(
        last,
        "_authtoken" | "_auth" | "_password" | "npmauthtoken" | "npmauthident" | "_authtoken\""
    ) || last.ends_with("authtoken")
}

/// `key = value` files: which separators, which keys hold the secret, under which rule.
pub fn settings(format: Format, content: &[u8]) -> Vec<Found> {
    const INI: Separators = Separators {
        equals: true,
        colon: false,
        space: false,
    };
    const INI_COLON: Separators = Separators {
        equals: true,
        colon: true,
        space: false,
    };
    const ESMTP: Separators = Separators {
        equals: true,
        colon: false,
        space: true,
    };
    let (rule, seps, wanted): (&'static FormatRule, Separators, fn(&str) -> bool) = match format {
        Format::Esmtprc => (&MAIL, ESMTP, |k| k == "password"),
        Format::Irssi => return irssi(content),
        Format::Hexchat => (&IRC, INI, |k| k == "p" || k == "b"),
        Format::Weechat => (&IRC, INI, |k| k.ends_with("password")),
        Format::Ventrilo => (&VENTRILO, INI, |k| k == "password" || k == "adminpassword"),
        Format::Pypirc => (&REGISTRY, INI_COLON, |k| k == "password"),
        Format::Npmrc => (&REGISTRY, INI_COLON, npmrc_key),
        Format::S3cfg | Format::Boto | Format::AwsCredentials => (&CLOUD_CLI, INI_COLON, |k| {
            secret_key_name(k) && !k.ends_with("_id")
        }),
        Format::MyCnf => (&DATABASE_CLIENT, INI, |k| k == "password" || k == "pass"),
        Format::WinScp => (&FTP, INI, |k| k == "password" || k == "passphrase"),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let Some((key, value)) = key_value(content, start, line, seps) else {
            continue;
        };
        if wanted(&fold_key(content, &key)) {
            push(&mut out, content, rule, value);
        }
    }
    out
}

fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .expect("format regexes are valid")
}

/// irssi's config is libconfig-like: `password = "…";` anywhere, often several settings on
/// one line inside `{ … }`.
fn irssi(content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex(r#"(?:^|[\s{;])(?:sasl_)?password[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)""#)
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        if let Some(v) = caps.get(1) {
            push(&mut out, content, &IRC, v.start()..v.end());
        }
    }
    out
}

/// XML: `<Pass>`/`<password>` elements and `password="…"` attributes (also JetBrains'
/// `<option name="password" value="…"/>`).
pub fn xml(format: Format, content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    let [element, attribute, option] = RE.get_or_init(|| {
        [
            regex(
                r#"(?i)<(pass|password|passwd|passphrase|pwd|master)(\s+encoding="base64")?\s*>([^<]*)</(?:pass|password|passwd|passphrase|pwd|master)>"#,
            ),
            regex(r#"(?i)\s(?:password|pass|passwd|pwd|passphrase)\s*=\s*"([^"]*)""#),
            regex(
                r#"(?i)<(?:option|property|entry)\s+(?:name|key)\s*=\s*"[\w.-]*(?:password|passwd|pwd)"\s+value\s*=\s*"([^"]*)""#,
            ),
        ]
    });
    let rule = match format {
        Format::FileZilla => &FTP,
        Format::JetBrainsXml => {
            if memchr::memmem::find(content, b"dataSource").is_some() {
                &DATABASE_CLIENT
            } else {
                &FTP
            }
        }
        Format::DbeaverDataSources => {
            if content.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                return json(format, content);
            }
            &DATABASE_CLIENT
        }
        Format::MavenSettings => {
            if memchr::memmem::find(content, b"<settings").is_none() {
                return Vec::new();
            }
            &MAVEN
        }
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for caps in element.captures_iter(content) {
        let Some(v) = caps.get(3) else { continue };
        let range = v.start()..v.end();
        if caps.get(2).is_some() {
            // FileZilla base64: judge the decoded password, report the stored text.
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(content[range.clone()].trim_ascii())
                .unwrap_or_default();
            if real_value(&decoded, &(0..decoded.len())) {
                out.push(Found::new(rule, range, Confidence::High));
            }
            continue;
        }
        if !real_value(content, &range) {
            continue;
        }
        let value = &content[range.clone()];
        let encrypted = value.starts_with(b"{") && value.ends_with(b"}");
        let confidence = if rule.id == MAVEN.id && encrypted {
            Confidence::Medium
        } else {
            Confidence::High
        };
        out.push(Found::new(rule, range, confidence));
    }
    for re in [attribute, option] {
        for caps in re.captures_iter(content) {
            if let Some(v) = caps.get(1) {
                push(&mut out, content, rule, v.start()..v.end());
            }
        }
    }
    out.sort_by_key(|f| f.range.start);
    out
}

/// JSON string members `"key": "value"` whose key holds a secret for this format.
pub fn json(format: Format, content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| regex(r#""([^"\\\n]{1,64})"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\\n]|\\.)*)""#));
    let (rule, wanted): (&'static FormatRule, fn(&str) -> bool) = match format {
        Format::SftpJson => (&FTP, |k| {
            secret_key_name(k) && !k.contains("file") && !k.contains("prompt")
        }),
        Format::Robomongo | Format::DbeaverDataSources => (&DATABASE_CLIENT, |k| {
            k.ends_with("password") || k.ends_with("passphrase")
        }),
        Format::DockerConfig => (&REGISTRY, |k| {
            matches!(k, "auth" | "identitytoken" | "registrytoken" | "password")
        }),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if wanted(&fold_key(content, &(k.start()..k.end()))) {
            push(&mut out, content, rule, v.start()..v.end());
        }
    }
    out
}

/// MySQL's `.mylogin.cnf` (written by `mysql_config_editor`): the AES key that
/// obfuscates it is in its first bytes, so it is as good as plain text.
pub fn mylogin(content: &[u8]) -> Vec<Found> {
    if content.len() < 24 {
        return Vec::new();
    }
    vec![Found::new(
        &DATABASE_CLIENT,
        0..content.len(),
        Confidence::High,
    )]
}

/// Jenkins `credentials.xml`, Firefox `logins.json`, gcloud application default
/// credentials.
pub fn json_or_xml(format: Format, content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<[Regex; 2]> = OnceLock::new();
    let [jenkins, member] = RE.get_or_init(|| {
        [
            regex(
                r#"<(password|secret|passphrase|privateKey|secretBytes|apiToken|token)>([^<]+)</(?:password|secret|passphrase|privateKey|secretBytes|apiToken|token)>"#,
            ),
            regex(r#""(encryptedPassword|refresh_token|client_secret)"[ \t\r\n]*:[ \t\r\n]*"([^"\\\n]+)""#),
        ]
    });
    let (re, rule) = match format {
        Format::JenkinsCredentials => (jenkins, &JENKINS),
        Format::FirefoxLogins => (member, &BROWSER),
        Format::GcloudAdc => (member, &CLI_TOKEN),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        if let Some(v) = caps.get(2) {
            push(&mut out, content, rule, v.start()..v.end());
        }
    }
    out
}

/// DBeaver's encrypted credentials: any non-empty file is readable by anyone with DBeaver's
/// published key. Reported at the first byte.
pub fn dbeaver_credentials(content: &[u8]) -> Vec<Found> {
    if content.len() < 16 {
        return Vec::new();
    }
    vec![Found::new(
        &DBEAVER_CREDENTIALS,
        0..content.len(),
        Confidence::High,
    )]
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
    fn irssi_inline_and_multiline() {
        let c = "servers = (\n  { address = \"irc.example.net\"; password = \"k9Vb2qLx\"; },\n  {\n    address = \"x\";\n    sasl_password = \"Zq8w1pX4\";\n  },\n  { password = \"\"; }\n);\n";
        assert_eq!(secrets(irssi(c.as_bytes()), c), ["k9Vb2qLx", "Zq8w1pX4"]);
    }

    #[test]
    fn filezilla_base64_and_plain() {
        let enc = base64::engine::general_purpose::STANDARD.encode("Rt5%kq9Lw");
        let placeholder = base64::engine::general_purpose::STANDARD.encode("password");
        let c = format!(
            "<Server><Pass encoding=\"base64\">{enc}</Pass></Server>\n<Server><Pass>Hq3!zm8P</Pass></Server>\n<Pass encoding=\"base64\">{placeholder}</Pass>\n"
        );
        assert_eq!(
            secrets(xml(Format::FileZilla, c.as_bytes()), &c),
            [enc, "Hq3!zm8P".to_string()]
        );
    }

    #[test]
    fn npmrc_keys() {
        let c = "registry=https://r.example/\n//r.example/:_authToken=npm_abcDEF123456\nalways-auth=true\n_auth=\"dXNlcjpwYXNzMTIz\"\n";
        assert_eq!(
            secrets(settings(Format::Npmrc, c.as_bytes()), c),
            ["npm_abcDEF123456", "dXNlcjpwYXNzMTIz"]
        );
    }
}
