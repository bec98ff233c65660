//! Framework and application configuration: Django `SECRET_KEY`, Rails `master.key` and
//! `secrets.yml`, `mongoid.yml`/`database.yml`, `wp-config.php`, PHP configuration arrays
//! and variables, jsforce (Salesforce) logins in Node code, .NET connection strings
//! (`web.config`, `app.config`, `appsettings*.json`), Gradle and Spring properties/YAML.

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use super::text::{fold_key, key_value, lines, real_value, secret_key_name, Separators};
use super::{Confidence, FormatRule, Found};
use crate::Severity;

pub const DJANGO: FormatRule = FormatRule {
    id: "django-secret-key",
    title: "Django SECRET_KEY in settings",
    description: "A literal `SECRET_KEY = '…'` in a Django settings module (not one read from \
                  the environment).",
    severity: Severity::High,
};
pub const RAILS_MASTER_KEY: FormatRule = FormatRule {
    id: "rails-master-key",
    title: "Rails master key",
    description: "`config/master.key` (or `config/credentials/<env>.key`): 32 hex digits that \
                  decrypt the app's credentials.",
    severity: Severity::Critical,
};
pub const RAILS_SECRET_KEY_BASE: FormatRule = FormatRule {
    id: "rails-secret-key-base",
    title: "Rails secret_key_base in config/secrets.yml",
    description: "A literal `secret_key_base`/`secret_token` (ERB `<%= ENV[…] %>` skipped).",
    severity: Severity::High,
};
pub const DATABASE_CONFIG: FormatRule = FormatRule {
    id: "database-config-password",
    title: "Password in a database configuration (mongoid.yml, database.yml)",
    description: "A literal `password:` in a Rails/Mongoid database configuration.",
    severity: Severity::High,
};
pub const WORDPRESS: FormatRule = FormatRule {
    id: "wordpress-config-secret",
    title: "Secret in wp-config.php",
    description: "`DB_PASSWORD` and the eight authentication keys and salts, unless left at \
                  the sample's `put your unique phrase here`.",
    severity: Severity::High,
};
pub const PHP: FormatRule = FormatRule {
    id: "php-config-password",
    title: "Password in PHP configuration",
    description: "A string literal assigned to a password-named array key, variable or \
                  constant (`'password' => '…'`, `$db['default']['password'] = '…'`, \
                  `define('DB_PASS', '…')`); high confidence in configuration-named files.",
    severity: Severity::High,
};
pub const SALESFORCE: FormatRule = FormatRule {
    id: "salesforce-login-password",
    title: "Salesforce password in a jsforce login call",
    description: "The literal password(+security token) argument of `conn.login(user, …)` in \
                  Node code that uses jsforce.",
    severity: Severity::High,
};
pub const DOTNET: FormatRule = FormatRule {
    id: "dotnet-connection-string-password",
    title: "Password in a .NET configuration",
    description: "`Password=`/`Pwd=` in a connection string of `web.config`, `app.config` or \
                  `appsettings*.json`, and password-named appSettings values.",
    severity: Severity::High,
};
pub const GRADLE: FormatRule = FormatRule {
    id: "gradle-properties-credential",
    title: "Credential in gradle.properties",
    description: "Repository and signing credentials (`*Password`, `*Token`, \
                  `signing.password`).",
    severity: Severity::High,
};
pub const SPRING: FormatRule = FormatRule {
    id: "spring-config-secret",
    title: "Secret in a Spring application configuration",
    description: "Password-, secret- and token-named keys of `application*.properties`/`.yml` \
                  (`spring.datasource.password`); `${…}` references skipped.",
    severity: Severity::High,
};

pub const RULES: &[&FormatRule] = &[
    &DJANGO,
    &RAILS_MASTER_KEY,
    &RAILS_SECRET_KEY_BASE,
    &DATABASE_CONFIG,
    &WORDPRESS,
    &PHP,
    &SALESFORCE,
    &DOTNET,
    &GRADLE,
    &SPRING,
];

fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .expect("format regexes are valid")
}

/// The range of whichever of groups `a`, `b` matched.
fn either(caps: &regex::bytes::Captures<'_>, a: usize, b: usize) -> Option<Range<usize>> {
    caps.get(a)
        .or_else(|| caps.get(b))
        .map(|m| m.start()..m.end())
}

fn push(
    out: &mut Vec<Found>,
    content: &[u8],
    rule: &'static FormatRule,
    range: Range<usize>,
    confidence: Confidence,
) {
    if real_value(content, &range) && out.len() < crate::MAX_FINDINGS_PER_FILE {
        out.push(Found::new(rule, range, confidence));
    }
}

pub fn django(content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex(r#"(?m)^[ \t]*SECRET_KEY[ \t]*=[ \t]*[rbu]?(?:'([^'\n]*)'|"([^"\n]*)")"#)
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        if let Some(r) = either(&caps, 1, 2) {
            if r.len() >= 16 {
                push(&mut out, content, &DJANGO, r, Confidence::High);
            }
        }
    }
    out
}

pub fn rails_master_key(content: &[u8]) -> Vec<Found> {
    let start = content
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let key = content[start..].trim_ascii_end();
    let distinct = key.iter().collect::<std::collections::HashSet<_>>().len();
    if key.len() == 32 && key.iter().all(u8::is_ascii_hexdigit) && distinct > 4 {
        vec![Found::new(
            &RAILS_MASTER_KEY,
            start..start + 32,
            Confidence::High,
        )]
    } else {
        Vec::new()
    }
}

const YAML: Separators = Separators {
    equals: false,
    colon: true,
    space: false,
};

/// Skips YAML aliases, anchors, tags and block scalars in place of a value.
fn yaml_scalar(content: &[u8], range: &Range<usize>) -> bool {
    !matches!(
        content.get(range.start),
        Some(b'*' | b'&' | b'!' | b'|' | b'>')
    )
}

pub fn rails_secrets(content: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let Some((key, value)) = key_value(content, start, line, YAML) else {
            continue;
        };
        let key = fold_key(content, &key);
        if (key == "secret_key_base" || key == "secret_token") && yaml_scalar(content, &value) {
            push(
                &mut out,
                content,
                &RAILS_SECRET_KEY_BASE,
                value,
                Confidence::High,
            );
        } else if secret_key_name(&key) && yaml_scalar(content, &value) {
            push(
                &mut out,
                content,
                &RAILS_SECRET_KEY_BASE,
                value,
                Confidence::Medium,
            );
        }
    }
    out
}

/// `password: value` lines of a YAML configuration (any nesting), reported with `rule`.
pub fn yaml_passwords(content: &[u8], rule: &'static FormatRule) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let Some((key, value)) = key_value(content, start, line, YAML) else {
            continue;
        };
        let key = fold_key(content, &key);
        // `- user: x` list items fold to `-_user`.
        let key = key.trim_start_matches(['-', '_']);
        if secret_key_name(key) && yaml_scalar(content, &value) {
            push(&mut out, content, rule, value, Confidence::High);
        }
    }
    out
}

const PROPERTIES: Separators = Separators {
    equals: true,
    colon: true,
    space: false,
};

/// Java `.properties`: `key=value` / `key: value`, secret-named keys.
pub fn properties(content: &[u8], rule: &'static FormatRule) -> Vec<Found> {
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let Some((key, value)) = key_value(content, start, line, PROPERTIES) else {
            continue;
        };
        if secret_key_name(&fold_key(content, &key)) {
            push(&mut out, content, rule, value, Confidence::High);
        }
    }
    out
}

const WP_SECRETS: &[&str] = &[
    "DB_PASSWORD",
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
];

pub fn wp_config(content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex(
            r#"define\s*\(\s*['"]([A-Z_]+)['"]\s*,\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")"#,
        )
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        let Some(name) = caps.get(1) else { continue };
        let Ok(name) = std::str::from_utf8(name.as_bytes()) else {
            continue;
        };
        if !WP_SECRETS.contains(&name) {
            continue;
        }
        let Some(r) = either(&caps, 2, 3) else {
            continue;
        };
        let value = &content[r.clone()];
        if name == "DB_PASSWORD" {
            push(&mut out, content, &WORDPRESS, r, Confidence::High);
        } else if value.len() >= 16
            && !value.eq_ignore_ascii_case(b"put your unique phrase here")
            && value.iter().any(|b| *b != value[0])
        {
            // Salts are random punctuation soup: the generic placeholder test would misread
            // `${`-like fragments, so only the sample's phrase and short values are skipped.
            out.push(Found::new(&WORDPRESS, r, Confidence::High));
        }
    }
    out.truncate(crate::MAX_FINDINGS_PER_FILE);
    out
}

/// PHP values that are prose or validation rules rather than secrets.
fn php_prose(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    let has = |s: &[u8]| memchr::memmem::find(&lower, s).is_some();
    value.iter().filter(|b| **b == b' ').count() >= 2
        || has(b"required")
        || has(b"confirmed")
        || has(b"min:")
        || has(b"nullable")
        || has(b"passwords.")
        || has(b"{$")
}

/// Password-named array keys, variables and constants with a string literal value.
/// `config_name`: the file is named like configuration (`config.php`, `settings.php`,
/// `database.php`), which makes a finding high confidence.
pub fn php(content: &[u8], config_name: bool) -> Vec<Found> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex(
            r#"(?i)(?:['"]([\w.-]{0,40}(?:pass|pwd|secret|token)[\w.-]{0,20})['"]\s*(?:=>|\]\s*=)|\$([\w>-]{0,40}(?:pass|pwd|secret|token)\w{0,20})\s*=|define\s*\(\s*['"](\w{0,40}(?:pass|pwd|secret|token)\w{0,20})['"]\s*,)\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")"#,
        )
    });
    let confidence = if config_name {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        let Some(k) = caps.get(1).or(caps.get(2)).or(caps.get(3)) else {
            continue;
        };
        let key = fold_key(content, &(k.start()..k.end()));
        let key = key.rsplit("->").next().unwrap_or(&key);
        if !secret_key_name(key) {
            continue;
        }
        let Some(r) = either(&caps, 4, 5) else {
            continue;
        };
        if php_prose(&content[r.clone()]) {
            continue;
        }
        push(&mut out, content, &PHP, r, confidence);
    }
    out
}

/// `conn.login('user', 'password' + 'token', cb)` in code that uses jsforce.
pub fn salesforce(content: &[u8]) -> Vec<Found> {
    let finder = |needle: &[u8]| memchr::memmem::find(content, needle).is_some();
    if !finder(b"jsforce") && !finder(b"salesforce") {
        return Vec::new();
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex(
            r#"\.login\(\s*(?:'[^'\n]*'|"[^"\n]*"|`[^`\n]*`)\s*,\s*(?:'([^'\n]*)'|"([^"\n]*)"|`([^`$\n]*)`)"#,
        )
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(content) {
        if let Some(r) = either(&caps, 1, 2).or_else(|| either(&caps, 3, 3)) {
            push(&mut out, content, &SALESFORCE, r, Confidence::High);
        }
    }
    out
}

/// .NET connection strings (`…;User ID=sa;Password=…;`), `<add key="…Password" value="…"/>`
/// and password-named JSON members of `appsettings*.json`.
pub fn dotnet(content: &[u8]) -> Vec<Found> {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    let [conn, add, member] = RE.get_or_init(|| {
        [
            regex(r#"(?i)(?:^|[;"'\s])(?:password|pwd)\s*=\s*(?:'([^'\n]*)'|([^;"'<>\n]*))"#),
            regex(
                r#"(?i)<add\s+key\s*=\s*"([\w.:-]*(?:password|pwd|secret|token|apikey)[\w.:-]*)"\s+value\s*=\s*"([^"]*)""#,
            ),
            regex(r#""([^"\\\n]{1,64})"[ \t]*:[ \t]*"((?:[^"\\\n]|\\.)*)""#),
        ]
    });
    let mut out = Vec::new();
    for (start, line) in lines(content) {
        let lower = line.to_ascii_lowercase();
        let has = |s: &[u8]| memchr::memmem::find(&lower, s).is_some();
        if has(b"server=")
            || has(b"data source=")
            || has(b"host=")
            || has(b"initial catalog=")
            || has(b"database=")
            || has(b"connectionstring")
        {
            for caps in conn.captures_iter(line) {
                let Some(r) = either(&caps, 1, 2) else {
                    continue;
                };
                let r = super::text::trim(content, start + r.start..start + r.end);
                let v = &content[r.clone()];
                if v.starts_with(b"{") && v.ends_with(b"}") {
                    continue;
                }
                push(&mut out, content, &DOTNET, r, Confidence::High);
            }
        }
    }
    for caps in add.captures_iter(content) {
        if let Some(v) = caps.get(2) {
            push(
                &mut out,
                content,
                &DOTNET,
                v.start()..v.end(),
                Confidence::High,
            );
        }
    }
    for caps in member.captures_iter(content) {
        let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let key = fold_key(content, &(k.start()..k.end()));
        if secret_key_name(&key) && !key.contains("connection") {
            push(
                &mut out,
                content,
                &DOTNET,
                v.start()..v.end(),
                Confidence::High,
            );
        }
    }
    out.sort_by_key(|f| f.range.start);
    out.dedup_by_key(|f| f.range.start);
    out
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
    fn php_forms() {
        let c = "<?php\n$db['default']['password'] = 'Qw9!rT5zL';\n$config = ['db_pass' => \"Mn4#Kp8s\"];\n\
                 define('DB_PASSWORD', 'Zx7$Vb2n');\n$wgDBpassword = \"Lk3Jh6Gf\";\n\
                 'password' => env('DB_PASSWORD', ''),\n'password' => 'required|string|min:8',\n\
                 'password' => 'The provided password is incorrect.',\n$passive = 'yes-on-all';\n";
        assert_eq!(
            secrets(php(c.as_bytes(), true), c),
            ["Qw9!rT5zL", "Mn4#Kp8s", "Zx7$Vb2n", "Lk3Jh6Gf"]
        );
    }

    #[test]
    fn wp_sample_is_silent() {
        let c = "define( 'DB_PASSWORD', 'password_here' );\ndefine( 'AUTH_KEY', 'put your unique phrase here' );\n";
        assert!(wp_config(c.as_bytes()).is_empty());
    }

    #[test]
    fn dotnet_connection_strings() {
        let c = "<add name=\"Db\" connectionString=\"Data Source=sql1;Initial Catalog=App;User ID=sa;Password=Hj7%kL2q;\" />\n\
                 <add name=\"Other\" connectionString=\"Server=x;Integrated Security=true\" />\n\
                 \"Default\": \"Server=db;Database=a;User Id=u;Pwd={0};\"\n";
        assert_eq!(secrets(dotnet(c.as_bytes()), c), ["Hj7%kL2q"]);
    }
}
