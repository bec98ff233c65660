//! Notification rules: which events go to which publisher, read from the config shape
//! `{type: webhook, url, secret, on: [new_finding], min_severity: high, ...}` and checked
//! before any work starts.

use std::collections::BTreeMap;
use std::fmt;

use bulwark_types::Severity;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize, Serializer};

use crate::event::{Event, EventKind};
use crate::secret::{Endpoint, Secret, MASK};

/// The shortest webhook secret accepted: an HMAC key anyone can guess signs nothing.
pub const MIN_SECRET_LEN: usize = 16;

/// A rule as written in `bulwark.yaml` or sent to the API: one flat map, every key optional
/// until [`RuleConfig::validate`] checks that the keys the `type` needs are there and no
/// others are. This is also the storage form: it serializes secrets in full (its `Debug`
/// masks them, and the URL as [`Endpoint::masked`] does).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<EventKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixable_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Secret>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
}

impl fmt::Debug for RuleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chat = self.kind.as_deref() != Some("webhook");
        let url = self.url.as_deref().map(|u| match Endpoint::parse(u, chat) {
            Ok(endpoint) => endpoint.masked(),
            Err(_) => "(not a valid URL)".to_string(),
        });
        f.debug_struct("RuleConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("type", &self.kind)
            .field("enabled", &self.enabled)
            .field("on", &self.on)
            .field("team", &self.team)
            .field("min_severity", &self.min_severity)
            .field("kev_only", &self.kev_only)
            .field("epss_threshold", &self.epss_threshold)
            .field("fixable_only", &self.fixable_only)
            .field("url", &url)
            .field("secret", &self.secret)
            .field("headers", &self.headers)
            .field("smtp", &self.smtp)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// The `smtp:` map of an e-mail rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
        }
    }
}

/// A checked rule. Deserializes from the [`RuleConfig`] shape (with its validation);
/// serializes as that shape with every secret masked (`***`) and chat-webhook URLs cut to
/// their host, so an API answer never carries a credential. [`Rule::to_config`] gives the
/// full form for storage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RuleConfig")]
pub struct Rule {
    /// The server's id for the rule; `None` for rules from the config file.
    pub id: Option<String>,
    pub name: String,
    pub enabled: bool,
    /// The event kinds the rule sends (sorted, no duplicates).
    pub on: Vec<EventKind>,
    /// Only events of assets of this team.
    pub team: Option<String>,
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
    /// Only findings in CISA's KEV catalog.
    pub kev_only: bool,
    /// Only findings whose EPSS probability is at least this (0.0–1.0).
    pub epss_threshold: Option<f64>,
    /// Only findings with a known fixed version.
    pub fixable_only: bool,
    pub publisher: Publisher,
}

/// Where a rule's events go.
#[derive(Debug, Clone, PartialEq)]
pub enum Publisher {
    /// A JSON POST (schema `bulwark.notification/v1`) signed with `X-Bulwark-Signature`.
    Webhook {
        url: Endpoint,
        secret: Secret,
        /// Extra request headers (an `Authorization` the receiver wants, say); values are
        /// treated as secrets.
        headers: BTreeMap<String, Secret>,
    },
    /// A Slack incoming webhook (`{"text", "blocks"}`).
    Slack { url: Endpoint },
    /// A Microsoft Teams incoming webhook or Workflows trigger (an Adaptive Card message).
    Teams { url: Endpoint },
    /// A Mattermost incoming webhook (`{"text"}` in Markdown).
    Mattermost { url: Endpoint },
    /// A plain-text e-mail over SMTP.
    Email {
        smtp: SmtpSettings,
        from: Mailbox,
        to: Vec<Mailbox>,
    },
}

impl Publisher {
    /// The `type:` word.
    pub fn kind(&self) -> &'static str {
        match self {
            Publisher::Webhook { .. } => "webhook",
            Publisher::Slack { .. } => "slack",
            Publisher::Teams { .. } => "teams",
            Publisher::Mattermost { .. } => "mattermost",
            Publisher::Email { .. } => "email",
        }
    }

    /// Where the publisher sends to, as it may be shown (no credentials).
    pub fn target(&self) -> String {
        match self {
            Publisher::Webhook { url, .. }
            | Publisher::Slack { url }
            | Publisher::Teams { url }
            | Publisher::Mattermost { url } => url.masked(),
            Publisher::Email { smtp, to, .. } => {
                let to: Vec<String> = to.iter().map(|m| m.email.to_string()).collect();
                format!("{} via {}:{}", to.join(", "), smtp.host, smtp.port)
            }
        }
    }
}

/// A checked SMTP relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// A key of a rule that is missing, unknown or wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct RuleError {
    /// The key as written (`secret`, `smtp.host`, `to[1]`).
    pub key: String,
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> RuleError {
    RuleError {
        key: key.into(),
        message: message.into(),
    }
}

const KINDS: &str = "webhook, slack, teams, mattermost, email";

impl RuleConfig {
    /// Checks every key and builds the rule. Errors name the key.
    pub fn validate(self) -> Result<Rule, RuleError> {
        let kind = self
            .kind
            .as_deref()
            .ok_or_else(|| err("type", format!("missing; set one of {KINDS}")))?;
        let on = match &self.on {
            None => vec![EventKind::NewFinding],
            Some(list) if list.is_empty() => return Err(err(
                "on",
                "empty; list the events to send: new_finding, changed_finding, resolved_finding",
            )),
            Some(list) => {
                let mut on = list.clone();
                on.sort();
                on.dedup();
                on
            }
        };
        if let Some(t) = self.epss_threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(err(
                    "epss_threshold",
                    format!("{t} is not a probability; give a number from 0.0 to 1.0"),
                ));
            }
        }
        if let Some(team) = &self.team {
            if team.trim().is_empty() {
                return Err(err("team", "empty; name a team or remove the key"));
            }
        }
        let publisher = match kind {
            "webhook" => self.webhook()?,
            "slack" | "teams" | "mattermost" => self.chat(kind)?,
            "email" => self.email()?,
            other => {
                return Err(err(
                    "type",
                    format!("unknown publisher `{other}`; expected one of {KINDS}"),
                ))
            }
        };
        let name = match self.name {
            Some(n) if n.trim().is_empty() => {
                return Err(err("name", "empty; give the rule a name or remove the key"))
            }
            Some(n) => n,
            None => format!("{} {}", publisher.kind(), publisher.target()),
        };
        Ok(Rule {
            id: self.id,
            name,
            enabled: self.enabled.unwrap_or(true),
            on,
            team: self.team,
            min_severity: self.min_severity,
            kev_only: self.kev_only.unwrap_or(false),
            epss_threshold: self.epss_threshold,
            fixable_only: self.fixable_only.unwrap_or(false),
            publisher,
        })
    }

    /// Replaces the masked values an API client echoed back (`***` secrets, a chat URL cut to
    /// its host) with those of the rule being updated, so a read-modify-write keeps them.
    pub fn keep_secrets_from(&mut self, old: &Rule) {
        let old_config = old.to_config();
        let masked = old.masked_config();
        if self.url.is_some() && self.url == masked.url {
            self.url = old_config.url;
        }
        if self.secret.as_ref().is_some_and(Secret::is_masked) {
            self.secret = old_config.secret;
        }
        if let (Some(headers), Some(old_headers)) = (&mut self.headers, &old_config.headers) {
            for (name, value) in headers.iter_mut() {
                if let (true, Some(old_value)) = (value.is_masked(), old_headers.get(name)) {
                    *value = old_value.clone();
                }
            }
        }
        if let (Some(smtp), Some(old_smtp)) = (&mut self.smtp, &old_config.smtp) {
            if smtp.password.as_ref().is_some_and(Secret::is_masked) {
                smtp.password = old_smtp.password.clone();
            }
        }
    }

    /// Refuses the keys that belong to other publisher types.
    fn only(&self, kind: &str, allowed: &[&str]) -> Result<(), RuleError> {
        let present = [
            ("url", self.url.is_some()),
            ("secret", self.secret.is_some()),
            ("headers", self.headers.is_some()),
            ("smtp", self.smtp.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
        ];
        match present
            .iter()
            .find(|(key, set)| *set && !allowed.contains(key))
        {
            Some((key, _)) => Err(err(
                *key,
                format!("not a setting of a `{kind}` rule; remove it (or change `type`)"),
            )),
            None => Ok(()),
        }
    }

    fn endpoint(&self, kind: &str, path_is_secret: bool) -> Result<Endpoint, RuleError> {
        let url = self.url.as_deref().ok_or_else(|| {
            err(
                "url",
                format!("missing; a `{kind}` rule needs the URL to post to"),
            )
        })?;
        Endpoint::parse(url, path_is_secret).map_err(|m| err("url", m))
    }

    fn webhook(&self) -> Result<Publisher, RuleError> {
        self.only("webhook", &["url", "secret", "headers"])?;
        let url = self.endpoint("webhook", false)?;
        let secret = self.secret.clone().ok_or_else(|| {
            err(
                "secret",
                "missing; a webhook rule needs a secret to sign its requests with \
                 (X-Bulwark-Signature), e.g. the output of `openssl rand -hex 32`",
            )
        })?;
        if secret.is_masked() {
            return Err(err("secret", "is the mask `***`; give the secret itself"));
        }
        if secret.expose().chars().count() < MIN_SECRET_LEN {
            return Err(err(
                "secret",
                format!(
                    "too short; use at least {MIN_SECRET_LEN} characters (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        let headers = self.headers.clone().unwrap_or_default();
        for (name, value) in &headers {
            check_header(name, value)?;
        }
        Ok(Publisher::Webhook {
            url,
            secret,
            headers,
        })
    }

    fn chat(&self, kind: &str) -> Result<Publisher, RuleError> {
        self.only(kind, &["url"])?;
        let url = self.endpoint(kind, true)?;
        Ok(match kind {
            "slack" => Publisher::Slack { url },
            "teams" => Publisher::Teams { url },
            _ => Publisher::Mattermost { url },
        })
    }

    fn email(&self) -> Result<Publisher, RuleError> {
        self.only("email", &["smtp", "from", "to"])?;
        let smtp = self.smtp.as_ref().ok_or_else(|| {
            err(
                "smtp",
                "missing; an email rule needs `smtp: {host, port, tls, username, password}`",
            )
        })?;
        let host = match smtp.host.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(err(
                    "smtp.host",
                    "missing; name the SMTP relay (smtp.example.com)",
                ))
            }
            Some(h) => h.to_string(),
        };
        let tls = smtp.tls.unwrap_or(TlsMode::Starttls);
        let port = smtp.port.unwrap_or(tls.default_port());
        if port == 0 {
            return Err(err("smtp.port", "0 is not a port"));
        }
        match (&smtp.username, &smtp.password) {
            (Some(_), None) => {
                return Err(err(
                    "smtp.password",
                    "missing; smtp.username is set, so the relay needs its password too",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "smtp.username",
                    "missing; smtp.password is set, so name the user it belongs to",
                ))
            }
            _ => {}
        }
        if let Some(password) = &smtp.password {
            if password.is_masked() {
                return Err(err(
                    "smtp.password",
                    "is the mask `***`; give the password itself",
                ));
            }
            if tls == TlsMode::None && !is_loopback(&host) {
                return Err(err(
                    "smtp.tls",
                    format!(
                        "`{}` would send smtp.password in plain text to {host}; use starttls or tls",
                        tls.as_str()
                    ),
                ));
            }
        }
        let from = self
            .from
            .as_deref()
            .ok_or_else(|| {
                err(
                    "from",
                    "missing; give the sender address (bulwark@example.com)",
                )
            })?
            .parse::<Mailbox>()
            .map_err(|e| err("from", format!("not an e-mail address ({e})")))?;
        let to_list = self.to.as_deref().unwrap_or_default();
        if to_list.is_empty() {
            return Err(err("to", "missing; list at least one recipient address"));
        }
        let to = to_list
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.parse::<Mailbox>()
                    .map_err(|e| err(format!("to[{i}]"), format!("not an e-mail address ({e})")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Publisher::Email {
            smtp: SmtpSettings {
                host,
                port,
                tls,
                username: smtp.username.clone(),
                password: smtp.password.clone(),
            },
            from,
            to,
        })
    }
}

/// Headers bulwark sets itself, or that the HTTP client must own.
const RESERVED_HEADERS: [&str; 5] = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

fn check_header(name: &str, value: &Secret) -> Result<(), RuleError> {
    let key = format!("headers.{name}");
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(err(key, "not a valid HTTP header name"));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("x-bulwark-") {
        return Err(err(key, "set by bulwark itself; remove it"));
    }
    if value
        .expose()
        .chars()
        .any(|c| c == '\r' || c == '\n' || c == '\0')
    {
        return Err(err(key, "the value holds a line break, which HTTP forbids"));
    }
    if value.is_masked() {
        return Err(err(key, "is the mask `***`; give the value itself"));
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl TryFrom<RuleConfig> for Rule {
    type Error = RuleError;

    fn try_from(config: RuleConfig) -> Result<Rule, RuleError> {
        config.validate()
    }
}

impl Rule {
    /// Whether `event` goes to this rule's publisher. A `test` event matches every enabled
    /// rule: the test endpoint checks the publisher, not the filters.
    pub fn matches(&self, event: &Event) -> bool {
        if !self.enabled {
            return false;
        }
        if event.kind == EventKind::Test {
            return true;
        }
        let finding = &event.finding;
        self.on.contains(&event.kind)
            && self
                .team
                .as_ref()
                .is_none_or(|team| event.asset.team.as_ref() == Some(team))
            && self.min_severity.is_none_or(|min| finding.severity >= min)
            && (!self.kev_only || finding.kev)
            && self
                .epss_threshold
                .is_none_or(|t| finding.epss.is_some_and(|e| e >= t))
            && (!self.fixable_only || finding.fixable())
    }

    /// The full config form, secrets and all: what a server stores. Reading it back with
    /// [`RuleConfig::validate`] (or deserializing a [`Rule`]) gives this rule again.
    pub fn to_config(&self) -> RuleConfig {
        let mut config = RuleConfig {
            id: self.id.clone(),
            name: Some(self.name.clone()),
            kind: Some(self.publisher.kind().to_string()),
            enabled: Some(self.enabled),
            on: Some(self.on.clone()),
            team: self.team.clone(),
            min_severity: self.min_severity,
            kev_only: self.kev_only.then_some(true),
            epss_threshold: self.epss_threshold,
            fixable_only: self.fixable_only.then_some(true),
            ..RuleConfig::default()
        };
        match &self.publisher {
            Publisher::Webhook {
                url,
                secret,
                headers,
            } => {
                config.url = Some(url.expose().to_string());
                config.secret = Some(secret.clone());
                config.headers = (!headers.is_empty()).then(|| headers.clone());
            }
            Publisher::Slack { url } | Publisher::Teams { url } | Publisher::Mattermost { url } => {
                config.url = Some(url.expose().to_string());
            }
            Publisher::Email { smtp, from, to } => {
                config.smtp = Some(SmtpConfig {
                    host: Some(smtp.host.clone()),
                    port: Some(smtp.port),
                    tls: Some(smtp.tls),
                    username: smtp.username.clone(),
                    password: smtp.password.clone(),
                });
                config.from = Some(from.to_string());
                config.to = Some(to.iter().map(Mailbox::to_string).collect());
            }
        }
        config
    }

    /// The config form as it may be shown: secrets `***`, URLs as [`Endpoint::masked`].
    pub fn masked_config(&self) -> RuleConfig {
        let mut config = self.to_config();
        let mask = || Secret::new(MASK);
        match &self.publisher {
            Publisher::Webhook { url, .. }
            | Publisher::Slack { url }
            | Publisher::Teams { url }
            | Publisher::Mattermost { url } => config.url = Some(url.masked()),
            Publisher::Email { .. } => {}
        }
        if config.secret.is_some() {
            config.secret = Some(mask());
        }
        if let Some(headers) = &mut config.headers {
            headers.values_mut().for_each(|v| *v = mask());
        }
        if let Some(password) = config.smtp.as_mut().and_then(|s| s.password.as_mut()) {
            *password = mask();
        }
        config
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.masked_config().serialize(serializer)
    }
}

/// A rules document that could not be read: where, which key, what is wrong (the same
/// `FILE:LINE:COLUMN: KEY: problem` error as the rest of `bulwark.yaml`).
pub use bulwark_policy::yaml::YamlError as ConfigError;

/// Reads a YAML (or JSON) list of rules, as under `server.notifications`, naming `file` in
/// errors. Every rule is validated; the first problem is the error.
pub fn parse_rules(text: &str, file: &str) -> Result<Vec<Rule>, ConfigError> {
    bulwark_policy::yaml::from_str(text, file)
}
