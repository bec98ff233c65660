//! Credentials found by the file they sit in rather than by their shape: a `.netrc`
//! `password`, a `.pgpass` fifth field, a hash in `/etc/shadow`, a FileZilla `<Pass>`, a
//! Django `SECRET_KEY`. The file name (sometimes a parent directory) says which format the
//! file is in; [`detect`] is only a name check, so files of no known format cost one
//! lookup, and only files of a known format are parsed by that format's parser. Each
//! parser understands its format (fields, quoting, escapes, comments) and skips empty,
//! locked and placeholder values.
//!
//! Password hashes ([`hashes`]) are the exception: they are recognised by their
//! structure (`$6$salt$hash` with the right lengths and alphabet) in any text file except
//! lockfiles and checksum lists, after a multi-literal prefilter for their markers.

mod app_config;
mod client_config;
pub(crate) mod hashes;
mod line_formats;
mod text;

use std::ops::Range;

use crate::{Confidence, Severity};

/// A rule of the format parsers: what `bulwark secrets rules` lists for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatRule {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub severity: Severity,
}

/// One credential a parser found: which rule, where its bytes are, and how sure.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub rule: &'static FormatRule,
    pub range: Range<usize>,
    pub confidence: Confidence,
}

impl Found {
    pub fn new(rule: &'static FormatRule, range: Range<usize>, confidence: Confidence) -> Found {
        Found {
            rule,
            range,
            confidence,
        }
    }
}

/// The file formats whose parsers know where the credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    GitCredentials,
    Netrc,
    Pgpass,
    /// `/etc/shadow`, `/etc/gshadow` and their `-` backups.
    Shadow,
    /// `/etc/passwd`: only a hash in the second field (pre-shadow systems) counts.
    Passwd,
    /// `user:hash[:...]` files: `.htpasswd`, proftpd `ftpd.passwd`, cPanel FTP files.
    Htpasswd,
    Esmtprc,
    Irssi,
    Hexchat,
    Weechat,
    FileZilla,
    /// Sublime SFTP, Atom `.ftpconfig`, `.remote-sync.json`, `deployment-config.json`,
    /// VS Code `sftp.json`.
    SftpJson,
    JetBrainsXml,
    DbeaverDataSources,
    /// DBeaver's `credentials-config.json`: encrypted with a key every DBeaver ships.
    DbeaverCredentials,
    /// MySQL's `.mylogin.cnf`: obfuscated with a key stored in the file itself.
    MyLoginCnf,
    /// Jenkins `credentials.xml`: `{AQAAABAAAAA…}` secrets and private keys.
    JenkinsCredentials,
    /// Firefox `logins.json`: decryptable with `key4.db` when no primary password is set.
    FirefoxLogins,
    WinScp,
    /// `oauth_token:`/`api_key:`/`access-token:` YAML of gh, hub, tugboat and doctl.
    GhHosts,
    /// gcloud application default credentials: an OAuth refresh token and client secret.
    GcloudAdc,
    Robomongo,
    Ventrilo,
    DockerConfig,
    Pypirc,
    Npmrc,
    S3cfg,
    Boto,
    AwsCredentials,
    MyCnf,
    DjangoSettings,
    RailsMasterKey,
    RailsSecretsYml,
    Mongoid,
    WpConfig,
    /// PHP; `config` when the name says configuration (`config.php`, `settings.php`).
    Php {
        config: bool,
    },
    DotnetConfig,
    AppSettingsJson,
    GradleProperties,
    MavenSettings,
    SpringProperties,
    SpringYaml,
    SqlDump,
    JavaScript,
}

/// The format of the file at `path` (image-relative, `/`-separated), from its name and
/// sometimes its parent directory. Cheap: no allocation, a handful of comparisons.
pub(crate) fn detect(path: &str) -> Option<Format> {
    let path = path.trim_start_matches('/');
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let parent = dir.rsplit('/').next().unwrap_or("");
    if parent == "proftpd" && dir.ends_with("etc/proftpd") && !name.contains('.') {
        // cPanel keeps each account's FTP users in /etc/proftpd/<account>.
        return Some(Format::Htpasswd);
    }
    let by_name = match name {
        ".git-credentials" | "git-credentials" => Some(Format::GitCredentials),
        ".netrc" | "_netrc" | "netrc" => Some(Format::Netrc),
        ".pgpass" | "pgpass.conf" => Some(Format::Pgpass),
        // Only a structurally real hash in field 2 counts, so backups and copies outside
        // /etc are safe to parse as well.
        "shadow" | "gshadow" | "shadow-" | "gshadow-" | "shadow.bak" | "master.passwd" => {
            Some(Format::Shadow)
        }
        "passwd" | "passwd-" if parent == "etc" => Some(Format::Passwd),
        ".htpasswd" | "htpasswd" | "ftpd.passwd" | "proftpdpasswd" | "ftpasswd" | "passwd.ftp"
        | ".ftppasswd" | "pureftpd.passwd" => Some(Format::Htpasswd),
        ".esmtprc" | "esmtprc" => Some(Format::Esmtprc),
        "config" if parent == ".irssi" || parent == "irssi" => Some(Format::Irssi),
        "servlist.conf" | "servlist_.conf" => Some(Format::Hexchat),
        "irc.conf" if parent == "weechat" || parent == ".weechat" => Some(Format::Weechat),
        "sitemanager.xml" | "recentservers.xml" | "filezilla.xml" => Some(Format::FileZilla),
        "sftp-config.json" | ".ftpconfig" | ".remote-sync.json" | "deployment-config.json" => {
            Some(Format::SftpJson)
        }
        "sftp.json" if parent == ".vscode" => Some(Format::SftpJson),
        "WebServers.xml" | "dataSources.xml" | "dataSources.local.xml" | "deployment.xml" => {
            Some(Format::JetBrainsXml)
        }
        "data-sources.xml" | "data-sources.json" => Some(Format::DbeaverDataSources),
        "credentials-config.json" => Some(Format::DbeaverCredentials),
        ".mylogin.cnf" => Some(Format::MyLoginCnf),
        "credentials.xml" => Some(Format::JenkinsCredentials),
        "logins.json" => Some(Format::FirefoxLogins),
        "WinSCP.ini" | "winscp.ini" => Some(Format::WinScp),
        "hub" if parent == ".config" => Some(Format::GhHosts),
        "hosts.yml" if parent == "gh" => Some(Format::GhHosts),
        ".tugboat" => Some(Format::GhHosts),
        "config.yaml" if parent == "doctl" => Some(Format::GhHosts),
        "application_default_credentials.json" | "adc.json" => Some(Format::GcloudAdc),
        "robomongo.json" | "robo3t.json" | "3t.json" => Some(Format::Robomongo),
        "ventrilo_srv.ini" => Some(Format::Ventrilo),
        "config.json" if parent == ".docker" => Some(Format::DockerConfig),
        ".dockercfg" => Some(Format::DockerConfig),
        ".pypirc" | "pypirc" => Some(Format::Pypirc),
        ".npmrc" | "npmrc" | ".yarnrc" => Some(Format::Npmrc),
        ".s3cfg" | "s3cfg" => Some(Format::S3cfg),
        ".boto" | "boto.cfg" => Some(Format::Boto),
        "credentials" if parent == ".aws" => Some(Format::AwsCredentials),
        ".my.cnf" | "my.cnf" | "debian.cnf" => Some(Format::MyCnf),
        "master.key" | "production.key" | "development.key" | "staging.key" | "test.key"
            if parent == "config" || parent == "credentials" =>
        {
            Some(Format::RailsMasterKey)
        }
        "secrets.yml" if parent == "config" => Some(Format::RailsSecretsYml),
        "mongoid.yml" | "database.yml" => Some(Format::Mongoid),
        "web.config"
        | "app.config"
        | "Web.config"
        | "App.config"
        | "Web.Release.config"
        | "Web.Debug.config"
        | "connectionStrings.config" => Some(Format::DotnetConfig),
        "gradle.properties" => Some(Format::GradleProperties),
        "settings.xml" | "settings-security.xml" => Some(Format::MavenSettings),
        _ => None,
    };
    if by_name.is_some() {
        return by_name;
    }
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "py" if name.contains("settings") || parent == "settings" => Some(Format::DjangoSettings),
        "php" if name.starts_with("wp-config") => Some(Format::WpConfig),
        "php" => {
            let lower = name.to_ascii_lowercase();
            let config = [
                "conf", "setting", "database", "db", "param", "env", "local", "connect",
            ]
            .iter()
            .any(|w| lower.contains(w))
                || parent == "config";
            Some(Format::Php { config })
        }
        "json" if name.starts_with("appsettings") => Some(Format::AppSettingsJson),
        "properties" if name.starts_with("application") || name.starts_with("bootstrap") => {
            Some(Format::SpringProperties)
        }
        "yml" | "yaml" if name.starts_with("application") || name.starts_with("bootstrap") => {
            Some(Format::SpringYaml)
        }
        "sql" => Some(Format::SqlDump),
        "js" | "mjs" | "cjs" | "ts" => Some(Format::JavaScript),
        "config" if name.ends_with(".exe.config") || name.ends_with(".dll.config") => {
            Some(Format::DotnetConfig)
        }
        _ => None,
    }
}

/// Formats whose files are binary (encrypted) and are findings by their mere presence.
pub(crate) fn presence_only(format: Format) -> bool {
    matches!(format, Format::DbeaverCredentials | Format::MyLoginCnf)
}

/// Runs the parser of `format` over `content`.
pub(crate) fn scan(format: Format, content: &[u8]) -> Vec<Found> {
    use Format::*;
    match format {
        GitCredentials => line_formats::git_credentials(content),
        Netrc => line_formats::netrc(content),
        Pgpass => line_formats::pgpass(content),
        Shadow => line_formats::shadow(content),
        Passwd => line_formats::passwd(content),
        Htpasswd => line_formats::htpasswd(content),
        Esmtprc | Irssi | Hexchat | Weechat | Ventrilo | Pypirc | Npmrc | S3cfg | Boto
        | AwsCredentials | MyCnf => client_config::settings(format, content),
        FileZilla | JetBrainsXml | DbeaverDataSources | MavenSettings => {
            client_config::xml(format, content)
        }
        SftpJson | Robomongo | DockerConfig => client_config::json(format, content),
        DbeaverCredentials => client_config::dbeaver_credentials(content),
        MyLoginCnf => client_config::mylogin(content),
        JenkinsCredentials | FirefoxLogins | GcloudAdc => {
            client_config::json_or_xml(format, content)
        }
        WinScp => client_config::settings(format, content),
        GhHosts => app_config::yaml_passwords(content, &client_config::CLI_TOKEN),
        DjangoSettings => app_config::django(content),
        RailsMasterKey => app_config::rails_master_key(content),
        RailsSecretsYml => app_config::rails_secrets(content),
        Mongoid => app_config::yaml_passwords(content, &app_config::DATABASE_CONFIG),
        WpConfig => app_config::wp_config(content),
        Php { config } => app_config::php(content, config),
        DotnetConfig | AppSettingsJson => app_config::dotnet(content),
        GradleProperties => app_config::properties(content, &app_config::GRADLE),
        SpringProperties => app_config::properties(content, &app_config::SPRING),
        SpringYaml => app_config::yaml_passwords(content, &app_config::SPRING),
        SqlDump => hashes::mysql_native(content),
        JavaScript => app_config::salesforce(content),
    }
}

/// What the format parser of `format` (if any) and the hash recogniser find in `content`,
/// ordered by offset, without overlaps (the format parser wins).
/// `hash_marker`: the scanner's keyword pass saw a hash marker, so the hash recogniser has
/// something to check (most files have none and cost nothing more).
pub(crate) fn findings(
    path: &str,
    format: Option<Format>,
    content: &[u8],
    hash_marker: bool,
) -> Vec<Found> {
    let mut found = match format {
        Some(f) => scan(f, content),
        None => Vec::new(),
    };
    if hash_marker
        && !matches!(
            format,
            Some(Format::Shadow | Format::Passwd | Format::Htpasswd)
        )
    {
        for h in hashes::scan_any(path, content) {
            if !found.iter().any(|f| overlaps(&f.range, &h.range)) {
                found.push(h);
            }
        }
    }
    found.sort_by_key(|f| f.range.start);
    found.truncate(crate::MAX_FINDINGS_PER_FILE);
    found
}

pub(crate) fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Every rule of the format parsers and of the hash recogniser, for listing.
pub fn format_rules() -> Vec<&'static FormatRule> {
    let mut all = Vec::new();
    all.extend_from_slice(line_formats::RULES);
    all.extend_from_slice(client_config::RULES);
    all.extend_from_slice(app_config::RULES);
    all.extend_from_slice(hashes::RULES);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_by_name_and_parent() {
        assert_eq!(detect("etc/shadow"), Some(Format::Shadow));
        assert_eq!(detect("/etc/gshadow-"), Some(Format::Shadow));
        assert_eq!(detect("home/a/shadow"), Some(Format::Shadow));
        assert_eq!(detect("home/a/passwd"), None);
        assert_eq!(
            detect("root/.git-credentials"),
            Some(Format::GitCredentials)
        );
        assert_eq!(detect("home/u/.irssi/config"), Some(Format::Irssi));
        assert_eq!(
            detect("srv/app/config/master.key"),
            Some(Format::RailsMasterKey)
        );
        assert_eq!(
            detect("srv/app/config.php"),
            Some(Format::Php { config: true })
        );
        assert_eq!(detect("var/www/wp-config.php"), Some(Format::WpConfig));
        assert_eq!(detect("usr/share/doc/README"), None);
        assert_eq!(detect("usr/lib/x.so"), None);
    }

    #[test]
    fn rule_ids_are_unique_and_kebab() {
        let rules = format_rules();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate format rule id");
        for id in ids {
            assert!(crate::is_kebab(id), "{id}");
            assert!(
                !crate::builtin_rules().iter().any(|r| r.id == id),
                "{id} is also a regex rule"
            );
        }
    }
}
