//! The bodies each publisher sends for an event. Everything from the event is untrusted (an
//! uploaded SBOM names the packages and assets): control characters are dropped, long values
//! cut, and chat markup escaped.

use serde::Serialize;
use serde_json::{json, Value};

use crate::event::{Event, EventKind};

/// The `schema` of the generic webhook body.
pub const WEBHOOK_SCHEMA: &str = "bulwark.notification/v1";

/// The longest any one value from the event is shown in a chat message or e-mail.
pub const MAX_FIELD_CHARS: usize = 200;
/// The most aliases and fixed versions listed in a chat message or e-mail.
const MAX_LIST: usize = 10;

/// The generic webhook body: see the crate doc for its schema.
#[derive(Serialize)]
struct WebhookBody<'a> {
    schema: &'static str,
    delivery_id: &'a str,
    event: EventKind,
    #[serde(with = "time::serde::rfc3339")]
    time: time::OffsetDateTime,
    finding: FindingBody<'a>,
    package: &'a crate::event::PackageRef,
    asset: &'a crate::event::AssetRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    dashboard_url: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    changed: &'a [String],
}

#[derive(Serialize)]
struct FindingBody<'a> {
    vulnerability_id: &'a str,
    aliases: &'a [String],
    severity: bulwark_types::Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvss: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epss: Option<f64>,
    kev: bool,
    fixable: bool,
    fixed_versions: &'a [String],
}

/// The generic webhook's JSON body (the bytes that are signed).
pub fn webhook_body(event: &Event, delivery_id: &str) -> Vec<u8> {
    let f = &event.finding;
    let body = WebhookBody {
        schema: WEBHOOK_SCHEMA,
        delivery_id,
        event: event.kind,
        time: event.time,
        finding: FindingBody {
            vulnerability_id: &f.vulnerability_id,
            aliases: &f.aliases,
            severity: f.severity,
            cvss: f.cvss,
            epss: f.epss,
            kev: f.kev,
            fixable: f.fixable(),
            fixed_versions: &f.fixed_versions,
        },
        package: &event.package,
        asset: &event.asset,
        dashboard_url: event.dashboard_url.as_deref(),
        changed: &event.changed,
    };
    // Plain structs of strings and numbers: serialization only fails on non-finite floats,
    // which serde_json writes as null.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The facts every human-readable message shows, cleaned and in order.
struct Summary {
    title: String,
    facts: Vec<(&'static str, String)>,
    link: Option<String>,
}

/// Drops control characters and cuts `text` to [`MAX_FIELD_CHARS`].
pub(crate) fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FIELD_CHARS + 1)
        .collect();
    if out.chars().count() > MAX_FIELD_CHARS {
        out = out.chars().take(MAX_FIELD_CHARS - 1).collect();
        out.push('…');
    }
    out
}

fn list(items: &[String]) -> String {
    let mut shown: Vec<String> = items.iter().take(MAX_LIST).map(|s| clean(s)).collect();
    if items.len() > MAX_LIST {
        shown.push(format!("and {} more", items.len() - MAX_LIST));
    }
    clean(&shown.join(", "))
}

fn summary(event: &Event) -> Summary {
    let f = &event.finding;
    let severity = f.severity.as_str().to_uppercase();
    let title = format!(
        "{}: {} ({severity}) in {} {} on {}",
        event.kind.title(),
        clean(&f.vulnerability_id),
        clean(&event.package.name),
        clean(&event.package.version),
        clean(&event.asset.label()),
    );
    let mut facts = vec![("Vulnerability", clean(&f.vulnerability_id))];
    if !f.aliases.is_empty() {
        facts.push(("Aliases", list(&f.aliases)));
    }
    facts.push(("Severity", severity));
    if let Some(cvss) = f.cvss.filter(|c| c.is_finite()) {
        facts.push(("CVSS", format!("{cvss:.1}")));
    }
    if let Some(epss) = f.epss.filter(|e| e.is_finite()) {
        facts.push(("EPSS", format!("{:.1}%", epss * 100.0)));
    }
    facts.push((
        "Known exploited (KEV)",
        if f.kev { "yes" } else { "no" }.to_string(),
    ));
    facts.push((
        "Package",
        clean(&format!("{} {}", event.package.name, event.package.version)),
    ));
    facts.push((
        "Fixed in",
        if f.fixed_versions.is_empty() {
            "no fix known".to_string()
        } else {
            list(&f.fixed_versions)
        },
    ));
    facts.push(("Asset", clean(&event.asset.label())));
    if let Some(digest) = &event.asset.digest {
        facts.push(("Digest", clean(digest)));
    }
    if let Some(team) = &event.asset.team {
        facts.push(("Team", clean(team)));
    }
    if let Some(owner) = &event.asset.owner {
        facts.push(("Owner", clean(owner)));
    }
    if !event.changed.is_empty() {
        facts.push(("Changed", list(&event.changed)));
    }
    let link = event
        .dashboard_url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(clean);
    Summary { title, facts, link }
}

/// Slack's `mrkdwn` reserves `&`, `<` and `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook body: `text` (the notification's fallback) and Block Kit blocks.
pub fn slack_body(event: &Event) -> Vec<u8> {
    let s = summary(event);
    let fields: Vec<Value> = s
        .facts
        .iter()
        // Slack allows at most 10 fields in a section.
        .take(10)
        .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}*\n{}", slack_escape(v))}))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&s.title, 150)}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(link) = &s.link {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("<{}|Open in bulwark>", slack_escape(link))}}));
    }
    let body = json!({"text": slack_escape(&s.title), "blocks": blocks});
    body.to_string().into_bytes()
}

/// A Mattermost incoming-webhook body: `{"text"}` in Markdown.
pub fn mattermost_body(event: &Event) -> Vec<u8> {
    let s = summary(event);
    let mut text = format!("#### {}\n", markdown_escape(&s.title));
    for (k, v) in &s.facts {
        text.push_str(&format!("**{k}:** {}\n", markdown_escape(v)));
    }
    if let Some(link) = &s.link {
        text.push_str(&format!("[Open in bulwark]({link})\n"));
    }
    json!({"text": text}).to_string().into_bytes()
}

fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]()#<>|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Teams body: a message with one Adaptive Card, the shape both Teams' Workflows webhooks
/// and its older incoming-webhook connectors accept.
pub fn teams_body(event: &Event) -> Vec<u8> {
    let s = summary(event);
    let facts: Vec<Value> = s
        .facts
        .iter()
        .map(|(k, v)| json!({"title": k, "value": v}))
        .collect();
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": s.title},
            {"type": "FactSet", "facts": facts},
        ],
    });
    if let Some(link) = &s.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in bulwark", "url": link}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
    .to_string()
    .into_bytes()
}

/// An e-mail's subject: `[bulwark] HIGH CVE-… in asset:tag (package version)`.
pub fn email_subject(event: &Event) -> String {
    let f = &event.finding;
    let what = match event.kind {
        EventKind::NewFinding => "",
        EventKind::ChangedFinding => "changed: ",
        EventKind::ResolvedFinding => "resolved: ",
        EventKind::Test => "test: ",
    };
    format!(
        "[bulwark] {what}{} {} in {} ({} {})",
        f.severity.as_str().to_uppercase(),
        clean(&f.vulnerability_id),
        clean(&event.asset.label()),
        clean(&event.package.name),
        clean(&event.package.version),
    )
}

/// An e-mail's plain-text body.
pub fn email_text(event: &Event, delivery_id: &str) -> String {
    let s = summary(event);
    let mut text = format!("{}\n\n", s.title);
    let width = s.facts.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &s.facts {
        text.push_str(&format!("{k:<width$}  {v}\n"));
    }
    if let Some(link) = &s.link {
        text.push_str(&format!("\n{link}\n"));
    }
    if let Ok(time) = event
        .time
        .format(&time::format_description::well_known::Rfc3339)
    {
        text.push_str(&format!(
            "\nRecorded {time}, delivery {}.\n",
            clean(delivery_id)
        ));
    }
    text.push_str("-- \nSent by bulwark server: a notification rule matched this finding.\n");
    text
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_control_characters_and_cuts() {
        assert_eq!(clean("a\r\nb\u{1b}[31m"), "ab[31m");
        let long = "x".repeat(1000);
        assert_eq!(clean(&long).chars().count(), MAX_FIELD_CHARS);
    }

    #[test]
    fn slack_markup_in_names_is_escaped() {
        let mut event = Event::test(time::OffsetDateTime::UNIX_EPOCH);
        event.package.name = "<!channel> & co".to_string();
        let body: Value = serde_json::from_slice(&slack_body(&event)).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt; &amp; co"), "{text}");
    }

    #[test]
    fn email_subject_names_severity_vulnerability_and_asset() {
        let event = Event::test(time::OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            email_subject(&event),
            "[bulwark] test: CRITICAL CVE-0000-0000 in bulwark/test-notification:test \
             (bulwark-test-package 1.0.0)"
        );
    }
}
