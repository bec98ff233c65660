//! One registry's HTTP client: TLS trust (system roots, extra CAs, or none with `insecure`),
//! timeouts, retries with backoff, the Basic and Bearer challenge flows, and redirects that
//! never carry credentials to another origin.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::auth::{Challenge, Credentials};
use super::{RegistryError, RegistryOptions};
use bulwark_engine::pace::{too_slow, Paced};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;
/// Longest wait between retries, whatever `Retry-After` asks.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Token and error bodies are small; never read more than this of one.
const SMALL_BODY: u64 = 1 << 20;
/// The deadline of a blob whose size is unknown (the minimum rate guards it instead), and
/// the most any size-derived deadline may be: ureq refuses deadlines past `Instant`'s range.
const LONGEST_DEADLINE: Duration = Duration::from_secs(30 * 24 * 3600);

/// An HTTP answer whose body has not been read yet.
pub type Response = ureq::http::Response<ureq::Body>;

/// An HTTP method the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// What to send besides the method and URL.
#[derive(Debug, Default, Clone)]
pub struct RequestBody<'a> {
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<&'a [u8]>,
}

#[derive(Debug, Default)]
struct AuthState {
    /// The challenge the registry answered with, once it has.
    challenge: Option<Challenge>,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
}

/// A client for one registry host. Cheap to share across threads (`Arc`).
pub struct RegistryClient {
    host: String,
    agent: ureq::Agent,
    insecure: bool,
    credentials: Option<Credentials>,
    retries: u32,
    request_timeout: Duration,
    min_rate: crate::MinRate,
    /// `https` or `http`, settled by the first request.
    scheme: OnceLock<&'static str>,
    auth: Mutex<AuthState>,
    requests: AtomicU64,
    tls_config: ureq::tls::TlsConfig,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("host", &self.host)
            .field("insecure", &self.insecure)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl RegistryClient {
    /// A client for `host` (`localhost:5000`, `registry-1.docker.io`).
    pub fn new(
        host: &str,
        credentials: Option<Credentials>,
        options: &RegistryOptions,
    ) -> Result<RegistryClient, RegistryError> {
        let tls_config = tls_config(options)?;
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .timeout_per_write(Some(options.read_timeout))
            // Every exchange ends by this deadline unless it is given a longer one (blobs,
            // uploads): a server trickling bytes never trips the per-read timeout.
            .timeout_global(Some(options.request_timeout))
            // Redirects are followed by hand (credentials stay with their origin), and every
            // status is an answer to sort, with its headers and error body.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            // As before ureq 3: no proxy from the environment for registries.
            .proxy(None)
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls_config.clone())
            .build()
            .new_agent();
        Ok(RegistryClient {
            host: host.to_string(),
            agent,
            insecure: options.insecure,
            credentials,
            retries: options.retries,
            request_timeout: options.request_timeout,
            min_rate: options.min_rate,
            scheme: OnceLock::new(),
            auth: Mutex::new(AuthState::default()),
            requests: AtomicU64::new(0),
            tls_config,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// HTTP requests sent so far (every attempt, redirect and token fetch counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The TLS settings the client trusts, for callers that make their own requests.
    pub fn tls_config(&self) -> ureq::tls::TlsConfig {
        self.tls_config.clone()
    }

    /// `https` or `http`, once the first request has settled it.
    pub fn scheme(&self) -> Option<&'static str> {
        self.scheme.get().copied()
    }

    /// The full URL of an API path (`/v2/...`), or `path` itself when it is already a URL
    /// (upload locations).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        let scheme = self.scheme.get().copied().unwrap_or("https");
        format!("{scheme}://{}{path}", self.host)
    }

    /// Sends a request to the registry, authenticating as challenged for `scope`
    /// (`repository:NAME:pull`), retrying 429/5xx and failed connections, and following
    /// redirects. Any status other than 2xx is an error. The whole exchange, the answer's
    /// body included, must end within the request timeout plus the time the body sent needs
    /// at the minimum rate.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        req: &RequestBody<'_>,
    ) -> Result<Response, RegistryError> {
        let sending = req.body.map_or(0, |b| b.len() as u64);
        let deadline = self.deadline_for(sending);
        self.send_within(method, path, scope, req, deadline)
    }

    /// The whole-exchange deadline for moving `bytes` of body.
    fn deadline_for(&self, bytes: u64) -> Duration {
        self.request_timeout
            .saturating_add(self.min_rate.time_for(bytes))
            .min(LONGEST_DEADLINE)
    }

    fn send_within(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        req: &RequestBody<'_>,
        deadline: Duration,
    ) -> Result<Response, RegistryError> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return self.send_settled(method, path, scope, req, self.retries, deadline);
        }
        if self.scheme.get().is_none() {
            self.settle_scheme(method, path, scope, req, deadline)
        } else {
            self.send_settled(method, &self.url(path), scope, req, self.retries, deadline)
        }
    }

    /// The first request tries HTTPS; with `insecure`, a server that does not speak TLS (or
    /// does not answer a handshake at all) is then tried over plain HTTP, and the HTTPS probe
    /// gets a single attempt. Without `insecure`, plain HTTP is refused with what to do.
    fn settle_scheme(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        req: &RequestBody<'_>,
        deadline: Duration,
    ) -> Result<Response, RegistryError> {
        let https = format!("https://{}{path}", self.host);
        let probe_retries = if self.insecure { 0 } else { self.retries };
        match self.send_settled(method, &https, scope, req, probe_retries, deadline) {
            Ok(r) => {
                let _ = self.scheme.set("https");
                Ok(r)
            }
            Err(
                RegistryError::Tls { .. }
                | RegistryError::PlainHttp { .. }
                | RegistryError::Timeout { .. }
                | RegistryError::Deadline { .. }
                | RegistryError::Connect { .. },
            ) if self.insecure => {
                let http = format!("http://{}{path}", self.host);
                let r = self.send_settled(method, &http, scope, req, self.retries, deadline)?;
                let _ = self.scheme.set("http");
                Ok(r)
            }
            Err(e) => {
                if !matches!(
                    e,
                    RegistryError::Tls { .. } | RegistryError::PlainHttp { .. }
                ) {
                    // The server spoke TLS (it answered, even with an error).
                    if matches!(
                        e,
                        RegistryError::Status { .. }
                            | RegistryError::AuthRequired { .. }
                            | RegistryError::AuthRejected { .. }
                            | RegistryError::NotFound { .. }
                    ) {
                        let _ = self.scheme.set("https");
                    }
                }
                Err(e)
            }
        }
    }

    fn send_settled(
        &self,
        method: Method,
        url: &str,
        scope: &str,
        req: &RequestBody<'_>,
        retries: u32,
        deadline: Duration,
    ) -> Result<Response, RegistryError> {
        let mut auth_rounds = 0;
        let mut attempt = 0;
        loop {
            let authorization = self.authorization(scope);
            let result = self.send_following(method, url, authorization.as_deref(), req, deadline);
            match result {
                Ok(r) => return Ok(r),
                Err(Failure::Status(401, resp)) => {
                    auth_rounds += 1;
                    let header = header(&resp, "www-authenticate").map(str::to_string);
                    let detail = error_detail(*resp);
                    if auth_rounds > 2 {
                        return Err(RegistryError::AuthRejected {
                            host: self.host.clone(),
                            detail: format!(
                                "{detail}; the registry still refuses after authenticating (wrong user or password, or no access to {scope})"
                            ),
                        });
                    }
                    self.answer_challenge(
                        header.as_deref(),
                        scope,
                        authorization.is_some(),
                        &detail,
                    )?;
                }
                Err(Failure::Status(status, resp)) if status == 429 || status >= 500 => {
                    let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                    if attempt >= retries {
                        return Err(RegistryError::Status {
                            url: redact_url(url),
                            status,
                            detail: format!(
                                "{}; gave up after {} attempts",
                                error_detail(*resp),
                                attempt + 1
                            ),
                        });
                    }
                    attempt += 1;
                    std::thread::sleep(wait);
                }
                Err(Failure::Status(status, resp)) => {
                    let detail = error_detail(*resp);
                    return Err(match status {
                        403 => RegistryError::Denied {
                            url: redact_url(url),
                            detail,
                        },
                        404 => RegistryError::NotFound {
                            url: redact_url(url),
                            detail,
                        },
                        _ => RegistryError::Status {
                            url: redact_url(url),
                            status,
                            detail,
                        },
                    });
                }
                Err(Failure::Other(e)) => {
                    let retryable = matches!(
                        e,
                        RegistryError::Connect { .. } | RegistryError::Timeout { .. }
                    );
                    if !retryable || attempt >= retries {
                        return Err(e);
                    }
                    attempt += 1;
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
    }

    /// The `Authorization` value to send for `scope`, from what the registry asked before.
    fn authorization(&self, scope: &str) -> Option<String> {
        let state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        match state.challenge.as_ref().map(|c| c.scheme.as_str()) {
            Some("basic") => self.credentials.as_ref().and_then(|c| c.basic_header()),
            Some("bearer") => state.tokens.get(scope).map(|t| format!("Bearer {t}")),
            _ => None,
        }
    }

    fn answer_challenge(
        &self,
        header: Option<&str>,
        scope: &str,
        sent_auth: bool,
        detail: &str,
    ) -> Result<(), RegistryError> {
        let challenge = header.and_then(Challenge::parse).ok_or_else(|| {
            RegistryError::Protocol(format!(
                "{} answered 401 without a usable WWW-Authenticate challenge ({detail})",
                self.host
            ))
        })?;
        match challenge.scheme.as_str() {
            "basic" => {
                if !matches!(self.credentials, Some(Credentials::Basic { .. })) {
                    return Err(RegistryError::AuthRequired {
                        host: self.host.clone(),
                    });
                }
                if sent_auth {
                    return Err(RegistryError::AuthRejected {
                        host: self.host.clone(),
                        detail: format!("{detail}; the user name or password is wrong"),
                    });
                }
                self.auth.lock().unwrap_or_else(|p| p.into_inner()).challenge = Some(challenge);
                Ok(())
            }
            "bearer" => {
                let token = self.fetch_token(&challenge, scope)?;
                let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
                if sent_auth && state.tokens.get(scope) == Some(&token) {
                    return Err(RegistryError::AuthRejected {
                        host: self.host.clone(),
                        detail: format!("{detail}; the registry refuses the token its token service issued for {scope}"),
                    });
                }
                state.tokens.insert(scope.to_string(), token);
                state.challenge = Some(challenge);
                Ok(())
            }
            other => Err(RegistryError::Protocol(format!(
                "{} asks for the {other:?} authentication scheme, which bulwark does not support (Basic and Bearer are)",
                self.host
            ))),
        }
    }

    /// The token flow: GET `realm?service=…&scope=…` with Basic credentials (or POST a
    /// refresh token), answer `{"token": …}` or `{"access_token": …}`.
    fn fetch_token(&self, challenge: &Challenge, scope: &str) -> Result<String, RegistryError> {
        let realm = challenge.params.get("realm").ok_or_else(|| {
            RegistryError::Protocol(format!(
                "{} sent a Bearer challenge without a realm",
                self.host
            ))
        })?;
        let plain = realm.starts_with("http://");
        if !plain && !realm.starts_with("https://") {
            return Err(RegistryError::Protocol(format!(
                "{}'s token realm {realm:?} is not an http(s) URL",
                self.host
            )));
        }
        if plain && self.credentials.is_some() && !self.insecure {
            return Err(RegistryError::PlainHttp {
                host: format!("{} (token service {realm})", self.host),
            });
        }
        let service = challenge.params.get("service").cloned().unwrap_or_default();
        let mut query = Vec::new();
        if !service.is_empty() {
            query.push(format!("service={}", encode(&service)));
        }
        if !scope.is_empty() {
            query.push(format!("scope={}", encode(scope)));
        }
        let realm_host = origin(realm).to_string();
        let result = match &self.credentials {
            Some(Credentials::IdentityToken(token)) => {
                let form = format!(
                    "grant_type=refresh_token&client_id=bulwark&service={}&scope={}&refresh_token={}",
                    encode(&service),
                    encode(scope),
                    encode(token.expose())
                );
                self.requests.fetch_add(1, Ordering::Relaxed);
                self.agent
                    .post(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(&form)
            }
            creds => {
                let url = if query.is_empty() {
                    realm.clone()
                } else if realm.contains('?') {
                    format!("{realm}&{}", query.join("&"))
                } else {
                    format!("{realm}?{}", query.join("&"))
                };
                let mut r = self.agent.get(&url);
                if let Some(h) = creds.as_ref().and_then(|c| c.basic_header()) {
                    r = r.header("Authorization", &h);
                }
                self.requests.fetch_add(1, Ordering::Relaxed);
                r.call()
            }
        };
        let resp = match result {
            Ok(r) => r,
            Err(e) => return Err(classify_transport(realm, &e)),
        };
        let resp = match resp.status().as_u16() {
            200..=399 => resp,
            401 | 403 => {
                return Err(RegistryError::AuthRejected {
                    host: self.host.clone(),
                    detail: format!(
                        "the token service {realm_host} refused the credentials ({}){}",
                        error_detail(resp),
                        if self.credentials.is_none() {
                            "; this repository needs credentials: pass --username with --password-stdin or `docker login`"
                        } else {
                            ""
                        }
                    ),
                })
            }
            status => {
                return Err(RegistryError::Status {
                    url: redact_url(realm),
                    status,
                    detail: error_detail(resp),
                })
            }
        };
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(SMALL_BODY)
            .read_to_end(&mut body)
            .map_err(|e| RegistryError::Connect {
                url: redact_url(realm),
                message: e.to_string(),
            })?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            RegistryError::Protocol(format!(
                "the token service {realm_host} answered something that is not a token: {e}"
            ))
        })?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                RegistryError::Protocol(format!(
                    "the token service {realm_host} answered without a token"
                ))
            })
    }

    /// One attempt, following redirects by hand so credentials stay with their origin.
    fn send_following(
        &self,
        method: Method,
        url: &str,
        authorization: Option<&str>,
        req: &RequestBody<'_>,
        deadline: Duration,
    ) -> Result<Response, Failure> {
        let start_origin = origin(url).to_string();
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut r = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&current);
            let started = Instant::now();
            for (k, v) in &req.headers {
                r = r.header(*k, v);
            }
            // Credentials go only to the origin they were meant for.
            if let Some(a) = authorization {
                if origin(&current) == start_origin {
                    r = r.header("Authorization", a);
                }
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = match req.body {
                Some(b) => self.run(r.body(b), deadline),
                None => self.run(r.body(()), deadline),
            };
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    let whole = matches!(
                        e,
                        ureq::Error::Timeout(ureq::Timeout::Global | ureq::Timeout::PerCall)
                    );
                    let error = match classify_transport(&current, &e) {
                        RegistryError::Timeout { url }
                            if whole || started.elapsed() >= deadline =>
                        {
                            RegistryError::Deadline {
                                url,
                                secs: deadline.as_secs(),
                            }
                        }
                        other => other,
                    };
                    return Err(Failure::Other(error));
                }
            };
            let status = resp.status().as_u16();
            if status >= 400 {
                return Err(Failure::Status(status, Box::new(resp)));
            }
            if !(300..400).contains(&status) {
                return Ok(resp);
            }
            let location = header(&resp, "location").ok_or_else(|| {
                Failure::Other(RegistryError::Protocol(format!(
                    "{} answered {status} without a Location",
                    redact_url(&current),
                )))
            })?;
            let next = resolve(&current, location);
            if next.starts_with("http://") && current.starts_with("https://") && !self.insecure {
                return Err(Failure::Other(RegistryError::Redirect(format!(
                    "{} redirects to plain HTTP ({}); refusing it (pass --insecure to allow)",
                    redact_url(&current),
                    redact_url(&next)
                ))));
            }
            if !next.starts_with("http://") && !next.starts_with("https://") {
                return Err(Failure::Other(RegistryError::Redirect(format!(
                    "{} redirects to {location:?}, which is not an http(s) URL",
                    redact_url(&current)
                ))));
            }
            current = next;
        }
        Err(Failure::Other(RegistryError::Redirect(format!(
            "{} redirects more than {MAX_REDIRECTS} times",
            redact_url(url)
        ))))
    }

    /// Sends one request under `deadline` for the whole exchange, body included.
    fn run<S: ureq::AsSendBody>(
        &self,
        request: Result<ureq::http::Request<S>, ureq::http::Error>,
        deadline: Duration,
    ) -> Result<Response, ureq::Error> {
        let request = self
            .agent
            .configure_request(request?)
            .timeout_global(Some(deadline))
            .build();
        self.agent.run(request)
    }

    /// GETs a small document (manifest, config, token) whole, refusing more than `limit`.
    pub fn get_small(
        &self,
        path: &str,
        scope: &str,
        accept: &str,
        limit: u64,
    ) -> Result<SmallDocument, RegistryError> {
        let req = RequestBody {
            headers: vec![("Accept", accept.to_string())],
            body: None,
        };
        let started = Instant::now();
        let deadline = self.request_timeout;
        let resp = self.send_within(Method::Get, path, scope, &req, deadline)?;
        let content_type = header(&resp, "content-type").map(str::to_string);
        let digest = header(&resp, "docker-content-digest").map(str::to_string);
        let url = redact_url(&ureq::ResponseExt::get_uri(&resp).to_string());
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| read_error(&url, e, started, deadline))?;
        if body.len() as u64 > limit {
            return Err(RegistryError::Protocol(format!(
                "{url} is larger than the {limit}-byte limit for metadata"
            )));
        }
        Ok(SmallDocument {
            bytes: body,
            content_type,
            digest,
        })
    }

    /// Starts a streamed GET of a blob of `size` bytes (when the manifest says). The body
    /// must keep up the minimum rate, and the whole transfer end within the request timeout
    /// plus the time `size` needs at that rate.
    pub fn get_stream(
        &self,
        path: &str,
        scope: &str,
        size: Option<u64>,
    ) -> Result<Box<dyn Read + Send + Sync>, RegistryError> {
        let started = Instant::now();
        let deadline = size.map_or(LONGEST_DEADLINE, |s| self.deadline_for(s));
        let resp = self.send_within(Method::Get, path, scope, &RequestBody::default(), deadline)?;
        let url = redact_url(&ureq::ResponseExt::get_uri(&resp).to_string());
        Ok(Box::new(ReadErrors {
            inner: Box::new(Paced::new(resp.into_body().into_reader(), self.min_rate)),
            url,
            started,
            deadline,
        }))
    }
}

/// A small document read whole, with the headers that describe it.
#[derive(Debug, Clone)]
pub struct SmallDocument {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// The registry's `Docker-Content-Digest` header.
    pub digest: Option<String>,
}

/// Names the URL and says "timed out" plainly when a body read fails.
struct ReadErrors {
    inner: Box<dyn Read + Send + Sync>,
    url: String,
    started: Instant,
    deadline: Duration,
}

impl Read for ReadErrors {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let kind = e.kind();
            io::Error::new(kind, read_error(&self.url, e, self.started, self.deadline))
        })
    }
}

/// Sorts a failed body read: too slow, past the whole-request deadline, a read that timed
/// out, or a broken connection.
fn read_error(url: &str, e: io::Error, started: Instant, deadline: Duration) -> RegistryError {
    if let Some(slow) = too_slow(&e) {
        return RegistryError::TooSlow {
            url: url.to_string(),
            detail: slow.to_string(),
        };
    }
    // ureq hands its own timeouts to a body reader as an `Other` error wrapping them.
    let ureq_timeout = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<ureq::Error>())
        .and_then(|u| match u {
            ureq::Error::Timeout(t) => Some(*t),
            _ => None,
        });
    if ureq_timeout.is_some()
        || matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        )
    {
        let whole = matches!(
            ureq_timeout,
            Some(ureq::Timeout::Global | ureq::Timeout::PerCall)
        );
        if whole || started.elapsed() >= deadline {
            return RegistryError::Deadline {
                url: url.to_string(),
                secs: deadline.as_secs(),
            };
        }
        RegistryError::Timeout {
            url: url.to_string(),
        }
    } else {
        RegistryError::Connect {
            url: url.to_string(),
            message: e.to_string(),
        }
    }
}

enum Failure {
    Status(u16, Box<Response>),
    Other(RegistryError),
}

fn backoff(attempt: u32) -> Duration {
    let ms = 250u64.saturating_mul(1 << attempt.min(6));
    Duration::from_millis(ms).min(MAX_BACKOFF)
}

/// A header's value, when it is text.
fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn retry_after(resp: &Response) -> Option<Duration> {
    header(resp, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_BACKOFF))
}

/// The registry's error body (`{"errors":[{"code","message"}]}`), or the status text.
fn error_detail(resp: Response) -> String {
    let status = resp.status().as_u16();
    let text = resp.status().canonical_reason().unwrap_or_default();
    let mut body = Vec::new();
    let _ = resp
        .into_body()
        .into_reader()
        .take(64 * 1024)
        .read_to_end(&mut body);
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Errors>(&body) {
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|i| format!("{} {}: {}", status, i.code, i.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => format!("{status} {text}"),
    }
}

/// `scheme://host[:port]` of a URL.
pub(crate) fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find(['/', '?', '#']) {
        Some(i) => &url[..after + i],
        None => url,
    }
}

fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix("//") {
        let scheme = &base[..base.find("://").unwrap_or(0)];
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let path_end = base.find('?').unwrap_or(base.len());
        let dir = &base[..base[..path_end]
            .rfind('/')
            .map(|i| i + 1)
            .unwrap_or(path_end)];
        format!("{dir}{location}")
    }
}

/// A URL without its query (presigned blob URLs carry credentials there).
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sorts a transport failure into: TLS trouble, a plain-HTTP server, a timeout, or a
/// connection that failed.
fn classify_transport(url: &str, e: &ureq::Error) -> RegistryError {
    let host = origin(url).split("://").nth(1).unwrap_or(url).to_string();
    match e {
        ureq::Error::Timeout(_) => {
            return RegistryError::Timeout {
                url: redact_url(url),
            }
        }
        ureq::Error::Rustls(tls) => return classify_tls(&host, tls),
        ureq::Error::Tls(message) => {
            return RegistryError::Tls {
                host,
                message: message.to_string(),
            }
        }
        _ => {}
    }
    // rustls and socket errors reach ureq 3 inside an `io::Error` (itself maybe wrapped in
    // another ureq error): look through the chain for the first that says what happened.
    let mut source: Option<&(dyn std::error::Error + 'static)> = match e {
        ureq::Error::Io(io) => Some(io),
        other => std::error::Error::source(other),
    };
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) {
                return RegistryError::Timeout {
                    url: redact_url(url),
                };
            }
            source = io
                .get_ref()
                .map(|i| i as &(dyn std::error::Error + 'static));
            continue;
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return classify_tls(&host, tls);
        }
        if let Some(inner) = err.downcast_ref::<ureq::Error>() {
            match inner {
                ureq::Error::Rustls(tls) => return classify_tls(&host, tls),
                ureq::Error::Timeout(_) => {
                    return RegistryError::Timeout {
                        url: redact_url(url),
                    }
                }
                ureq::Error::Io(io) => {
                    source = Some(io);
                    continue;
                }
                _ => {}
            }
        }
        source = err.source();
    }
    RegistryError::Connect {
        url: redact_url(url),
        message: e.to_string(),
    }
}

fn classify_tls(host: &str, e: &rustls::Error) -> RegistryError {
    match e {
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            RegistryError::PlainHttp {
                host: host.to_string(),
            }
        }
        other => RegistryError::Tls {
            host: host.to_string(),
            message: other.to_string(),
        },
    }
}

/// System roots (the platform store, else Mozilla's list), plus extra CA files; or no
/// verification at all with `insecure`.
fn tls_config(options: &RegistryOptions) -> Result<ureq::tls::TlsConfig, RegistryError> {
    let builder = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider());
    if options.insecure {
        // ureq's verifier for this accepts any certificate and any handshake signature; with
        // no certificate checked, a signature proves nothing more (any impostor signs with
        // the key of the certificate it presents).
        return Ok(builder.disable_verification(true).build());
    }
    let roots = trust_anchors(&options.ca_certs)?;
    Ok(builder
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(
            roots
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect(),
        )))
        .build())
}

/// The one crypto provider (ring) for every TLS connection bulwark makes.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The trust anchors, as certificates: the system's, else Mozilla's, plus every certificate
/// in `extra`.
fn trust_anchors(
    extra: &[std::path::PathBuf],
) -> Result<Vec<CertificateDer<'static>>, RegistryError> {
    // Only those rustls can use as anchors, as ureq keeps; unreadable files in the system
    // store are skipped, as before.
    let mut store = rustls::RootCertStore::empty();
    let mut roots: Vec<CertificateDer<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .filter(|c| store.add(c.clone()).is_ok())
        .collect();
    if roots.is_empty() {
        roots.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    for path in extra {
        add_ca_file(&mut roots, path)?;
    }
    Ok(roots)
}

/// The trust anchors as a rustls store: the system's, else Mozilla's, plus every certificate
/// in `extra`.
pub fn root_store(extra: &[std::path::PathBuf]) -> Result<rustls::RootCertStore, RegistryError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(trust_anchors(extra)?);
    Ok(roots)
}

fn add_ca_file(roots: &mut Vec<CertificateDer<'static>>, path: &Path) -> Result<(), RegistryError> {
    let bytes = std::fs::read(path).map_err(|e| {
        RegistryError::Config(format!(
            "cannot read CA certificate {}: {e}",
            path.display()
        ))
    })?;
    let mut added = 0;
    let mut check = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| {
            RegistryError::Config(format!("{} is not valid PEM: {e}", path.display()))
        })?;
        check.add(cert.clone()).map_err(|e| {
            RegistryError::Config(format!(
                "{} holds a certificate that cannot be a trust anchor: {e}",
                path.display()
            ))
        })?;
        roots.push(cert);
        added += 1;
    }
    if added == 0 {
        return Err(RegistryError::Config(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(())
}

/// Accepts any certificate: only ever used with `--insecure`. Signatures are still checked
/// so the handshake itself is sound.
#[derive(Debug)]
pub(crate) struct NoVerify(pub(crate) Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(origin("https://a.b:5000/v2/x?y"), "https://a.b:5000");
        assert_eq!(origin("http://a"), "http://a");
        assert_eq!(resolve("https://a/v2/x/blobs/1", "/b/c"), "https://a/b/c");
        assert_eq!(
            resolve("https://a/v2/x", "https://cdn/z?sig=1"),
            "https://cdn/z?sig=1"
        );
        assert_eq!(resolve("https://a/v2/x", "//cdn/z"), "https://cdn/z");
        assert_eq!(resolve("https://a/v2/x", "y"), "https://a/v2/y");
        assert_eq!(redact_url("https://cdn/z?sig=secret"), "https://cdn/z?…");
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
        assert!(backoff(10) <= MAX_BACKOFF);
    }
}
