//! Sending one event to one publisher, and when to try again.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::event::Event;
use crate::payload;
use crate::rule::{Publisher, SmtpSettings, TlsMode};
use crate::secret::{Endpoint, Secret};
use crate::sign::sign;

/// The default time to connect to a receiver.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default time one delivery may take, from connecting to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Same-origin 307/308 redirects followed for one delivery.
pub const MAX_REDIRECTS: usize = 3;
/// The most of a receiver's answer read (for the error text of a failed delivery).
const MAX_ANSWER_BYTES: u64 = 4096;
/// The most of a receiver's answer quoted in an error.
const MAX_ANSWER_QUOTE: usize = 200;

/// How deliveries connect.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Time to open the connection (TCP and TLS handshake for HTTP; TCP for SMTP).
    pub connect_timeout: Duration,
    /// Time for the whole HTTP exchange; for SMTP, the limit of each read and write.
    pub timeout: Duration,
    /// PEM files of extra certificate authorities to trust (an internal CA).
    pub ca_certs: Vec<PathBuf>,
}

impl Default for DeliveryOptions {
    fn default() -> DeliveryOptions {
        DeliveryOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            ca_certs: Vec::new(),
        }
    }
}

/// A [`Notifier`] that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("CA certificate file {}: {message}", path.display())]
    CaFile { path: PathBuf, message: String },
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// The receiver accepted it (HTTP 2xx, SMTP 250).
    Delivered,
    /// Worth trying again: a timeout, a refused connection, HTTP 408, 429 or 5xx, an SMTP 4xx.
    /// `after` is the receiver's `Retry-After`, when it sent one; [`RetryPolicy::schedule`]
    /// combines it with the backoff.
    Retry { after: Option<Duration> },
    /// Trying again will not help until the rule or the receiver changes: HTTP 4xx (but 408
    /// and 429), a redirect to another host, an SMTP 5xx, a certificate that does not verify.
    Failed,
}

/// The outcome of one delivery attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryResult {
    pub status: DeliveryStatus,
    /// The receiver's HTTP status, when it answered over HTTP.
    pub http_status: Option<u16>,
    /// What went wrong, for people; never holds a secret or a chat webhook's path.
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// Sends events. Holds the HTTP agent (connection settings, TLS trust) built once; cheap to
/// share between worker threads.
pub struct Notifier {
    agent: ureq::Agent,
    options: DeliveryOptions,
    smtp_roots: Vec<Certificate>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("options", &self.options)
            .finish()
    }
}

impl Notifier {
    pub fn new(options: DeliveryOptions) -> Result<Notifier, NotifyError> {
        let roots = crate::tls::trust_anchors(&options.ca_certs)?;
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.timeout))
            // Redirects are followed by hand, only to the same origin: a receiver must not
            // send the signed event, or a chat webhook's capability URL, elsewhere.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .tls_config(crate::tls::ureq_tls(&roots))
            .build()
            .new_agent();
        // A certificate rustls accepted as an anchor is one lettre accepts.
        let smtp_roots = roots
            .iter()
            .filter_map(|c| Certificate::from_der(c.to_vec()).ok())
            .collect();
        Ok(Notifier {
            agent,
            options,
            smtp_roots,
        })
    }

    /// Sends `event` to `publisher` once. `delivery_id` names this delivery (the same on each
    /// retry): receivers see it in `X-Bulwark-Delivery` and the body, and can drop repeats.
    pub fn deliver(
        &self,
        publisher: &Publisher,
        event: &Event,
        delivery_id: &str,
    ) -> DeliveryResult {
        let start = Instant::now();
        let mut result = match publisher {
            Publisher::Webhook {
                url,
                secret,
                headers,
            } => {
                let body = payload::webhook_body(event, delivery_id);
                let mut extra: Vec<(&str, String)> = vec![
                    (
                        "X-Bulwark-Signature",
                        sign(secret.expose().as_bytes(), &body),
                    ),
                    ("X-Bulwark-Event", event.kind.as_str().to_string()),
                    ("X-Bulwark-Delivery", header_safe(delivery_id)),
                ];
                extra.extend(
                    headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.expose().to_string())),
                );
                let mut secrets: Vec<&Secret> = headers.values().collect();
                secrets.push(secret);
                self.post(url, &body, &extra, &secrets)
            }
            Publisher::Slack { url } => self.post(url, &payload::slack_body(event), &[], &[]),
            Publisher::Teams { url } => self.post(url, &payload::teams_body(event), &[], &[]),
            Publisher::Mattermost { url } => {
                self.post(url, &payload::mattermost_body(event), &[], &[])
            }
            Publisher::Email { smtp, from, to } => {
                self.send_mail(smtp, from, to, event, delivery_id)
            }
        };
        result.elapsed = start.elapsed();
        result
    }

    fn post(
        &self,
        endpoint: &Endpoint,
        body: &[u8],
        headers: &[(&str, String)],
        secrets: &[&Secret],
    ) -> DeliveryResult {
        let scrub = |text: String| {
            let mut text = endpoint.scrub(&text);
            for secret in secrets {
                if !secret.expose().is_empty() {
                    text = text.replace(secret.expose(), crate::secret::MASK);
                }
            }
            text
        };
        let deadline = Instant::now() + self.options.timeout;
        let mut url = endpoint.url().clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = ureq::http::Request::builder()
                .method("POST")
                .uri(url.as_str())
                .header("Content-Type", "application/json");
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            let request = match request.body(body) {
                Ok(r) => r,
                Err(e) => return failed(None, scrub(format!("cannot build the request: {e}"))),
            };
            // The whole delivery, redirects included, ends by one deadline.
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request = self
                .agent
                .configure_request(request)
                .timeout_global(Some(remaining))
                .build();
            let mut response = match self.agent.run(request) {
                Ok(r) => r,
                Err(e) => return transport_error(&e, scrub),
            };
            let status = response.status().as_u16();
            match status {
                200..=299 => {
                    return DeliveryResult {
                        status: DeliveryStatus::Delivered,
                        http_status: Some(status),
                        error: None,
                        elapsed: Duration::ZERO,
                    }
                }
                307 | 308 => {
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| url.join(l).ok());
                    match location {
                        Some(next) if next.origin() == url.origin() => url = next,
                        _ => {
                            return failed(
                                Some(status),
                                format!(
                                    "the receiver redirects ({status}) to another host or an \
                                     unreadable location; bulwark sends notifications only to the \
                                     configured host: set the rule's url to the final address"
                                ),
                            )
                        }
                    }
                }
                300..=399 => {
                    return failed(
                        Some(status),
                        format!(
                            "the receiver answered with a redirect ({status}); a notification is \
                             a POST that only 307/308 redirects keep: set the rule's url to the \
                             final address"
                        ),
                    )
                }
                _ => {
                    let retry_after = retry_after(&response);
                    let answer = scrub(read_answer(response.body_mut().as_reader()));
                    let error = format!("the receiver answered HTTP {status}{answer}");
                    return if status == 408 || status == 429 || status >= 500 {
                        DeliveryResult {
                            status: DeliveryStatus::Retry { after: retry_after },
                            http_status: Some(status),
                            error: Some(error),
                            elapsed: Duration::ZERO,
                        }
                    } else {
                        failed(Some(status), error)
                    };
                }
            }
        }
        failed(
            None,
            format!("more than {MAX_REDIRECTS} redirects; set the rule's url to the final address"),
        )
    }

    fn send_mail(
        &self,
        smtp: &SmtpSettings,
        from: &lettre::message::Mailbox,
        to: &[lettre::message::Mailbox],
        event: &Event,
        delivery_id: &str,
    ) -> DeliveryResult {
        let mut builder = Message::builder()
            .from(from.clone())
            .subject(payload::email_subject(event))
            .header(ContentType::TEXT_PLAIN);
        for mailbox in to {
            builder = builder.to(mailbox.clone());
        }
        let message = match builder.body(payload::email_text(event, delivery_id)) {
            Ok(m) => m,
            Err(e) => return failed(None, format!("cannot build the e-mail: {e}")),
        };
        let transport = match self.smtp_transport(smtp) {
            Ok(t) => t,
            Err(e) => return failed(None, format!("SMTP TLS setup for {}: {e}", smtp.host)),
        };
        match transport.send(&message) {
            Ok(_) => DeliveryResult {
                status: DeliveryStatus::Delivered,
                http_status: None,
                error: None,
                elapsed: Duration::ZERO,
            },
            Err(e) => {
                let mut text = format!("SMTP {}:{}: {e}", smtp.host, smtp.port);
                if let Some(password) = &smtp.password {
                    text = text.replace(password.expose(), crate::secret::MASK);
                }
                // Permanent (5xx) answers, TLS that does not verify and local mistakes stay
                // wrong until the rule changes; everything else (4xx, timeouts, refused or
                // dropped connections) may pass.
                let status = if e.is_permanent() || e.is_tls() || e.is_client() {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Retry { after: None }
                };
                DeliveryResult {
                    status,
                    http_status: None,
                    error: Some(text),
                    elapsed: Duration::ZERO,
                }
            }
        }
    }

    fn smtp_transport(
        &self,
        smtp: &SmtpSettings,
    ) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
        let tls = match smtp.tls {
            TlsMode::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(smtp.host.clone())
                    .certificate_store(CertificateStore::None);
                for root in &self.smtp_roots {
                    params = params.add_root_certificate(root.clone());
                }
                let params = params.build_rustls()?;
                if mode == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.as_str())
            .port(smtp.port)
            .timeout(Some(self.options.timeout))
            .tls(tls);
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(builder.build())
    }
}

fn failed(http_status: Option<u16>, error: String) -> DeliveryResult {
    DeliveryResult {
        status: DeliveryStatus::Failed,
        http_status,
        error: Some(error),
        elapsed: Duration::ZERO,
    }
}

/// Timeouts and connection errors are worth a retry; a certificate that does not verify or
/// a URL the client refuses is not.
fn transport_error(e: &ureq::Error, scrub: impl Fn(String) -> String) -> DeliveryResult {
    let text = scrub(e.to_string());
    let status = match e {
        ureq::Error::Timeout(_) => {
            return DeliveryResult {
                status: DeliveryStatus::Retry { after: None },
                http_status: None,
                error: Some(format!("the receiver did not answer in time ({text})")),
                elapsed: Duration::ZERO,
            }
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::BadUri(_) => {
            DeliveryStatus::Failed
        }
        ureq::Error::Io(io) if is_tls_failure(io) => DeliveryStatus::Failed,
        _ => DeliveryStatus::Retry { after: None },
    };
    DeliveryResult {
        status,
        http_status: None,
        error: Some(format!("cannot reach the receiver: {text}")),
        elapsed: Duration::ZERO,
    }
}

/// rustls reports a certificate it refuses inside an `io::Error`.
fn is_tls_failure(io: &std::io::Error) -> bool {
    io.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// A receiver's `Retry-After` (seconds or an HTTP date), when it sent one.
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of the receiver's answer, for the error text: `: <answer>` or empty.
fn read_answer(reader: impl Read) -> String {
    let mut bytes = Vec::new();
    if reader
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut bytes)
        .is_err()
        && bytes.is_empty()
    {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ANSWER_QUOTE)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// A delivery id as a header value: visible ASCII only.
fn header_safe(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(200)
        .collect()
}

/// When to try a failed delivery again: exponential backoff from `base`, capped at `max`, with
/// jitter so that many deliveries failing together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; after that many the delivery is failed.
    pub max_attempts: u32,
    /// The wait after the first failed attempt (before jitter).
    pub base: Duration,
    /// The longest wait, whatever the attempt or a receiver's `Retry-After`.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, waits of about 10 s, 20 s, 40 s … capped at 15 min: about 20 minutes in all.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(10),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th failed attempt (1 for the first): `base · 2^(attempt-1)`
    /// capped at `max`, of which the second half is random ("equal jitter").
    pub fn next_attempt(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let full = self.base.saturating_mul(factor).min(self.max);
        let half = full / 2;
        let jitter_nanos = fastrand::u64(0..=u64::try_from(half.as_nanos()).unwrap_or(u64::MAX));
        half + Duration::from_nanos(jitter_nanos)
    }

    /// After `attempts` attempts (1 after the first) ended in `result`: the wait before the
    /// next, or `None` when there is none (delivered, failed, or out of attempts). A
    /// receiver's `Retry-After` lengthens the wait, up to `max`.
    pub fn schedule(&self, attempts: u32, result: &DeliveryResult) -> Option<Duration> {
        let DeliveryStatus::Retry { after } = result.status else {
            return None;
        };
        if attempts >= self.max_attempts {
            return None;
        }
        let wait = self.next_attempt(attempts);
        Some(match after {
            Some(asked) => wait.max(asked.min(self.max)),
            None => wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_max() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        for _ in 0..200 {
            let first = policy.next_attempt(1);
            assert!(first >= Duration::from_secs(5) && first <= Duration::from_secs(10));
            let third = policy.next_attempt(3);
            assert!(third >= Duration::from_secs(20) && third <= Duration::from_secs(40));
            let late = policy.next_attempt(40);
            assert!(late >= Duration::from_secs(30) && late <= Duration::from_secs(60));
            assert!(policy.next_attempt(u32::MAX) <= Duration::from_secs(60));
        }
        // Not always the same wait.
        let waits: std::collections::BTreeSet<_> =
            (0..50).map(|_| policy.next_attempt(2)).collect();
        assert!(waits.len() > 1);
    }

    #[test]
    fn schedule_stops_after_max_attempts_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(100),
        };
        let retry = |after| DeliveryResult {
            status: DeliveryStatus::Retry { after },
            http_status: Some(503),
            error: None,
            elapsed: Duration::ZERO,
        };
        assert!(policy.schedule(1, &retry(None)).is_some());
        assert!(policy.schedule(3, &retry(None)).is_none());
        assert_eq!(
            policy.schedule(1, &retry(Some(Duration::from_secs(50)))),
            Some(Duration::from_secs(50))
        );
        assert_eq!(
            policy.schedule(1, &retry(Some(Duration::from_secs(5000)))),
            Some(Duration::from_secs(100))
        );
        let mut failed = retry(None);
        failed.status = DeliveryStatus::Failed;
        assert!(policy.schedule(1, &failed).is_none());
    }
}
