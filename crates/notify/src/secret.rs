//! Values that must not leak: secrets, and URLs whose path is itself a credential (Slack,
//! Teams and Mattermost incoming webhooks are capability URLs).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a masked value prints as.
pub const MASK: &str = "***";

/// A webhook secret, SMTP password or header value. `Debug` and `Display` print `***`; the
/// value is only reachable through [`Secret::expose`].
///
/// It serializes in full: only [`RuleConfig`](crate::RuleConfig), the storage form a caller asks
/// for explicitly with [`Rule::to_config`](crate::Rule::to_config), holds one. A [`Rule`](crate::Rule)
/// serializes masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_masked(&self) -> bool {
        self.0 == MASK
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// An `http` or `https` URL a publisher posts to. Prints without user info and query, and —
/// for chat webhooks, whose path is the credential — without its path:
/// `https://hooks.slack.com/***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: url::Url,
    path_is_secret: bool,
}

impl Endpoint {
    /// Parses and checks `text`; the error says what is wrong without repeating the URL.
    pub(crate) fn parse(text: &str, path_is_secret: bool) -> Result<Endpoint, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a valid URL ({e})"))?;
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(format!(
                    "the scheme is `{other}`; a notification URL starts with https:// (or http://)"
                ))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL names no host".to_string());
        }
        if url.fragment().is_some() {
            return Err("the URL has a #fragment, which is never sent; remove it".to_string());
        }
        Ok(Endpoint {
            url,
            path_is_secret,
        })
    }

    /// The full URL, credentials and all: for sending only.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }

    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    /// The URL as it may be shown: see the type's doc.
    pub fn masked(&self) -> String {
        let mut shown = format!("{}://", self.url.scheme());
        if let Some(host) = self.url.host_str() {
            shown.push_str(host);
        }
        if let Some(port) = self.url.port() {
            shown.push_str(&format!(":{port}"));
        }
        if self.path_is_secret {
            if self.url.path() != "/" || self.url.query().is_some() {
                shown.push('/');
                shown.push_str(MASK);
            }
        } else {
            shown.push_str(self.url.path());
            if self.url.query().is_some() {
                shown.push('?');
                shown.push_str(MASK);
            }
        }
        shown
    }

    /// `text` with every occurrence of this URL (and its path, when that is secret) masked:
    /// for error messages from the HTTP client, which may quote what it was asked to fetch.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.replace(self.url.as_str(), &self.masked());
        let path = self.url.path();
        if self.path_is_secret && path.len() > 1 {
            text = text.replace(path, &format!("/{MASK}"));
        }
        if let Some(query) = self.url.query().filter(|q| !q.is_empty()) {
            text = text.replace(query, MASK);
        }
        if let Some(password) = self.url.password().filter(|p| !p.is_empty()) {
            text = text.replace(password, MASK);
        }
        text
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_webhook_urls_print_without_their_path() {
        let e = Endpoint::parse("https://hooks.slack.com/services/T0/B0/XXXX", true).unwrap();
        assert_eq!(e.masked(), "https://hooks.slack.com/***");
        assert_eq!(format!("{e:?}"), "https://hooks.slack.com/***");
        let scrubbed = e.scrub("error sending to /services/T0/B0/XXXX: reset");
        assert!(!scrubbed.contains("XXXX"), "{scrubbed}");
    }

    #[test]
    fn webhook_urls_print_without_query_or_user_info() {
        let e = Endpoint::parse("https://u:pw@example.com:8443/hook?token=abc", false).unwrap();
        assert_eq!(e.masked(), "https://example.com:8443/hook?***");
        assert!(!e.scrub(e.expose()).contains("abc"));
        assert!(!e.scrub(e.expose()).contains("pw"));
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        assert!(Endpoint::parse("ftp://example.com/x", false)
            .unwrap_err()
            .contains("scheme"));
        assert!(Endpoint::parse("not a url", false)
            .unwrap_err()
            .contains("not a valid URL"));
        assert!(Endpoint::parse("https://example.com/#x", false)
            .unwrap_err()
            .contains("fragment"));
    }
}
