//! Notifications of bulwark server: which finding events go where, the bodies each publisher
//! sends, and delivery with retries. No database: the server stores rules and the delivery
//! log, and calls this crate.
//!
//! An [`Event`] (a finding appeared, changed or was resolved on an asset) is checked against
//! each [`Rule`] with [`Rule::matches`]; a matching rule's [`Publisher`] gets it through
//! [`Notifier::deliver`], which answers with a [`DeliveryResult`] — delivered, retry (with
//! the receiver's `Retry-After`), or failed for good. [`RetryPolicy::schedule`] turns a retry
//! into the wait before the next attempt (exponential backoff with jitter).
//!
//! # Rules in `bulwark.yaml`
//!
//! Under `server.notifications`, a list of rules. Each is one flat map; [`parse_rules`] reads
//! such a list (and [`Rule`] deserializes from one item), refusing unknown keys and naming the
//! key of every problem.
//!
//! ```yaml
//! server:
//!   notifications:
//!     - type: webhook
//!       url: https://hooks.example.com/bulwark
//!       secret: 3f8a…            # openssl rand -hex 32
//!       on: [new_finding, resolved_finding]
//!       min_severity: high
//!     - type: slack
//!       url: https://hooks.slack.com/services/T000/B000/XXXX
//!       team: payments
//!       kev_only: true
//!     - type: email
//!       smtp: {host: smtp.example.com, port: 587, tls: starttls, username: bulwark, password: …}
//!       from: bulwark@example.com
//!       to: [security@example.com]
//!       epss_threshold: 0.1
//!       fixable_only: true
//! ```
//!
//! | key | for | meaning |
//! | --- | --- | --- |
//! | `type` | all, required | `webhook`, `slack`, `teams`, `mattermost` or `email` |
//! | `name` | all | shown in the delivery log; default `<type> <target>` |
//! | `id` | all | the server's id of the rule (API); absent in the config file |
//! | `enabled` | all | `false` keeps the rule but sends nothing; default `true` |
//! | `on` | all | events to send: `new_finding`, `changed_finding`, `resolved_finding` (and `test`); default `[new_finding]` |
//! | `team` | all | only assets of this team |
//! | `min_severity` | all | only findings at least this severe: `unknown`, `low`, `medium`, `high`, `critical` |
//! | `kev_only` | all | only findings in CISA's Known Exploited Vulnerabilities catalog; default `false` |
//! | `epss_threshold` | all | only findings whose EPSS probability is at least this, 0.0–1.0 (none known: no match) |
//! | `fixable_only` | all | only findings with a known fixed version; default `false` |
//! | `url` | webhook, slack, teams, mattermost, required | where to POST; `https://` (or `http://`) |
//! | `secret` | webhook, required | the HMAC key of `X-Bulwark-Signature`, at least 16 characters |
//! | `headers` | webhook | extra request headers, `{Authorization: "Bearer …"}`; values are secrets |
//! | `smtp.host` | email, required | the SMTP relay |
//! | `smtp.port` | email | default 25 (`tls: none`), 587 (`starttls`), 465 (`tls`) |
//! | `smtp.tls` | email | `none`, `starttls` (default; must succeed) or `tls` (implicit TLS) |
//! | `smtp.username`, `smtp.password` | email | SMTP AUTH, both or neither; a password needs TLS unless the relay is on loopback |
//! | `from` | email, required | the sender, `bulwark@example.com` or `Bulwark <bulwark@example.com>` |
//! | `to` | email, required | recipients, a list of addresses |
//!
//! Filters combine with *and*. A `test` event (the server's test endpoint) matches every
//! enabled rule, whatever its filters. Secrets (the webhook secret, header values, the SMTP
//! password) and chat webhook URLs, whose path is a credential, never appear in `Debug`
//! output or error messages; a [`Rule`] serializes with them masked (`***`), and
//! [`Rule::to_config`] gives the full form for storage. When an API client sends a masked
//! rule back, [`RuleConfig::keep_secrets_from`] restores the stored values.
//!
//! # The generic webhook
//!
//! A `POST` with `Content-Type: application/json` and these headers:
//!
//! - `X-Bulwark-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body bytes, keyed with the
//!   rule's `secret`;
//! - `X-Bulwark-Event`: the event kind (`new_finding`, …);
//! - `X-Bulwark-Delivery`: the delivery id, the same on every retry of one delivery.
//!
//! The body, schema `bulwark.notification/v1` (fields may be added within v1; absent optional
//! fields are left out):
//!
//! ```json
//! {
//!   "schema": "bulwark.notification/v1",
//!   "delivery_id": "7d0c…",
//!   "event": "new_finding",            // changed_finding | resolved_finding | test
//!   "time": "2026-12-07T18:00:00Z",    // RFC 3339, when the server recorded the change
//!   "finding": {
//!     "vulnerability_id": "CVE-2024-3094",
//!     "aliases": ["GHSA-…"],
//!     "severity": "critical",          // unknown | low | medium | high | critical
//!     "cvss": 10.0,                    // optional
//!     "epss": 0.85,                    // optional, 0–1
//!     "kev": true,
//!     "fixable": true,
//!     "fixed_versions": ["5.6.1-1"]
//!   },
//!   "package": {"name": "xz-utils", "version": "5.6.0-0.1", "purl": "pkg:deb/debian/xz-utils@5.6.0-0.1"},
//!   "asset": {"name": "registry.example.com/shop/api", "version": "1.4.2",
//!             "digest": "sha256:…", "team": "payments", "owner": "alice@example.com"},
//!   "dashboard_url": "https://bulwark.example.com/…",   // optional
//!   "changed": ["severity", "kev"]                     // changed_finding only
//! }
//! ```
//!
//! A receiver checks the signature over the raw body before parsing it — in Rust with
//! [`verify_signature`], in Python:
//!
//! ```python
//! import hashlib, hmac
//!
//! def verify(secret: bytes, body: bytes, header: str) -> bool:
//!     expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
//!     return hmac.compare_digest(expected, header)
//! ```
//!
//! # Chat and e-mail
//!
//! Slack gets `{"text", "blocks"}` (Block Kit: a header and the facts as fields), Mattermost
//! `{"text"}` in Markdown, Teams a message carrying one Adaptive Card (what both Teams
//! Workflows webhooks and the older incoming-webhook connectors accept). E-mail is plain text,
//! subject `[bulwark] HIGH CVE-… in asset:tag (package version)`, sent with lettre over rustls.
//! Values from the event are untrusted: control characters are dropped, each value is cut to
//! [`MAX_FIELD_CHARS`], and chat markup is escaped.
//!
//! # Delivery
//!
//! [`Notifier`] connects with a connect timeout and an overall timeout
//! ([`DeliveryOptions`], 5 s and 10 s by default), verifies TLS against the system's roots
//! (else Mozilla's) plus configured CA files, as bulwark's registry client does, and follows
//! only 307/308 redirects to the same origin ([`MAX_REDIRECTS`]). HTTP 2xx is delivered;
//! 408, 429, 5xx, timeouts and connection errors are retried; other 4xx, other redirects and
//! certificate errors fail at once. For SMTP, 4xx answers and connection problems are
//! retried, 5xx answers and TLS errors fail. HTTP proxies come from the usual environment
//! variables (`HTTPS_PROXY`, `NO_PROXY`).
//!
//! ```ignore
//! let rules = bulwark_notify::parse_rules(yaml, "bulwark.yaml")?;
//! let notifier = Notifier::new(DeliveryOptions::default())?;
//! for rule in rules.iter().filter(|r| r.matches(&event)) {
//!     let result = notifier.deliver(&rule.publisher, &event, &delivery_id);
//!     if let Some(wait) = RetryPolicy::default().schedule(1, &result) { /* queue it */ }
//! }
//! ```
#![forbid(unsafe_code)]

mod deliver;
mod event;
mod payload;
mod rule;
mod secret;
mod sign;
mod tls;

pub use deliver::{
    DeliveryOptions, DeliveryResult, DeliveryStatus, Notifier, NotifyError, RetryPolicy,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, MAX_REDIRECTS,
};
pub use event::{AssetRef, Event, EventKind, Finding, PackageRef};
pub use lettre::message::Mailbox;
pub use payload::{
    email_subject, email_text, mattermost_body, slack_body, teams_body, webhook_body,
    MAX_FIELD_CHARS, WEBHOOK_SCHEMA,
};
pub use rule::{
    parse_rules, ConfigError, Publisher, Rule, RuleConfig, RuleError, SmtpConfig, SmtpSettings,
    TlsMode, MIN_SECRET_LEN,
};
pub use secret::{Endpoint, Secret, MASK};
pub use sign::{sign, verify_signature};
