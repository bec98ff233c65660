//! Escaped HTML writing: every value that reaches a page goes through [`esc`] (or [`attr`]
//! for attribute values), and the page frame is written once in [`page`].

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_types::Severity;

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query string from the current one with some keys replaced (an empty value drops the
/// key), so every link keeps the page's filters: shareable URLs.
pub fn query_with(current: &BTreeMap<String, String>, set: &[(&str, &str)]) -> String {
    let mut params = current.clone();
    for (k, v) in set {
        if v.is_empty() {
            params.remove(*k);
        } else {
            params.insert((*k).to_string(), (*v).to_string());
        }
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        s.append_pair(k, v);
    }
    let q = s.finish();
    if q.is_empty() {
        String::from("?")
    } else {
        format!("?{q}")
    }
}

/// Path segment (an asset uuid, a vulnerability id) made safe for a URL path.
pub fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A unix-millisecond time as `YYYY-MM-DD HH:MM` UTC.
pub fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|| "?".into())
}

/// The severity as a badge: text always (colour is never the only signal).
pub fn severity_badge(severity: Severity) -> String {
    let name = severity_name(severity);
    format!("<span class=\"badge sev-{name}\">{name}</span>")
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        _ => "unknown",
    }
}

/// A digest shortened for tables (the full one is in the title).
pub fn short_digest(key: &str) -> String {
    let short: String = match key.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 => format!("{algo}:{}", &hex[..12]),
        _ => key.chars().take(40).collect(),
    };
    format!("<code title=\"{}\">{}</code>", esc(key), esc(&short))
}

/// Who is logged in, for the page frame.
pub struct Frame<'a> {
    pub user: &'a str,
    pub csrf: &'a str,
    /// `overview`, `assets`, `compliance`, `settings` or "" (the nav item marked current).
    pub section: &'a str,
    /// Shows the Settings link (unrestricted admins).
    pub admin: bool,
}

/// The whole page: head (stylesheet and script from `/static`, nothing inline), the
/// navigation, and `body` in `<main>`.
pub fn page(status: StatusCode, title: &str, frame: Option<&Frame<'_>>, body: &str) -> Response {
    let mut html = String::with_capacity(body.len() + 2048);
    html.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    html.push_str(&format!("<title>{} · bulwark</title>", esc(title)));
    html.push_str("<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">");
    html.push_str("<link rel=\"stylesheet\" href=\"/static/dashboard.css\">");
    html.push_str("<script src=\"/static/dashboard.js\" defer></script></head><body>");
    html.push_str("<a class=\"skip\" href=\"#main\">Skip to content</a>");
    html.push_str("<header class=\"top\"><a class=\"brand\" href=\"/\">bulwark</a>");
    if let Some(f) = frame {
        html.push_str("<nav aria-label=\"Main\"><ul>");
        for (section, href, label) in [
            ("overview", "/", "Overview"),
            ("assets", "/assets", "Portfolio"),
            ("compliance", "/compliance", "Compliance"),
            ("settings", "/settings", "Settings"),
        ] {
            if section == "settings" && !f.admin {
                continue;
            }
            let current = if f.section == section {
                " aria-current=\"page\""
            } else {
                ""
            };
            html.push_str(&format!("<li><a href=\"{href}\"{current}>{label}</a></li>"));
        }
        html.push_str("</ul></nav>");
        html.push_str(&format!(
            "<form class=\"logout\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <span class=\"user\">{}</span> <button type=\"submit\">Log out</button></form>",
            esc(f.csrf),
            esc(f.user)
        ));
    }
    html.push_str("</header><main id=\"main\">");
    html.push_str(body);
    html.push_str("</main></body></html>\n");
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// Previous/next links and "N–M of T" for a paged list.
pub fn pager(
    current: &BTreeMap<String, String>,
    key: &str,
    offset: u64,
    limit: u32,
    total: i64,
) -> String {
    let total = u64::try_from(total).unwrap_or(0);
    if total == 0 {
        return String::new();
    }
    let end = (offset + u64::from(limit)).min(total);
    let mut out = format!(
        "<nav class=\"pager\" aria-label=\"Pages\"><span>{}–{} of {}</span>",
        offset.min(total) + 1,
        end,
        total
    );
    if offset > 0 {
        let prev = offset.saturating_sub(u64::from(limit));
        out.push_str(&format!(
            " <a rel=\"prev\" href=\"{}\">Previous</a>",
            esc(&query_with(current, &[(key, &prev.to_string())]))
        ));
    }
    if end < total {
        out.push_str(&format!(
            " <a rel=\"next\" href=\"{}\">Next</a>",
            esc(&query_with(current, &[(key, &end.to_string())]))
        ));
    }
    out.push_str("</nav>");
    out
}

/// Previous/next links for a list that is not counted (`more`: a next page exists).
pub fn window_pager(
    current: &BTreeMap<String, String>,
    key: &str,
    offset: u64,
    limit: u32,
    more: bool,
) -> String {
    if offset == 0 && !more {
        return String::new();
    }
    let mut out = String::from("<nav class=\"pager\" aria-label=\"Pages\">");
    if offset > 0 {
        let prev = offset.saturating_sub(u64::from(limit));
        out.push_str(&format!(
            "<a rel=\"prev\" href=\"{}\">Previous</a>",
            esc(&query_with(current, &[(key, &prev.to_string())]))
        ));
    }
    if more {
        out.push_str(&format!(
            " <a rel=\"next\" href=\"{}\">Next</a>",
            esc(&query_with(
                current,
                &[(key, &(offset + u64::from(limit)).to_string())]
            ))
        ));
    }
    out.push_str("</nav>");
    out
}

/// A sortable column header: a link that sorts by `sort`, marked when it is the current one.
pub fn sort_header(current: &BTreeMap<String, String>, sort: &str, label: &str) -> String {
    let active = current.get("sort").map(String::as_str) == Some(sort);
    let aria = if active {
        " aria-sort=\"descending\""
    } else {
        ""
    };
    format!(
        "<th scope=\"col\"{aria}><a href=\"{}\">{}</a></th>",
        esc(&query_with(current, &[("sort", sort), ("offset", "")])),
        esc(label)
    )
}

/// Whether a return path after a form is a path of this site (never another origin).
pub fn local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_local_paths() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert!(local_path("/assets?x=1"));
        assert!(!local_path("//evil.example"));
        assert!(!local_path("https://evil.example"));
        assert!(!local_path("/\\evil.example"));
        let mut q = BTreeMap::new();
        q.insert("q".to_string(), "a b&c".to_string());
        assert_eq!(query_with(&q, &[("offset", "50")]), "?offset=50&q=a+b%26c");
        assert_eq!(query_with(&q, &[("q", "")]), "?");
    }
}
