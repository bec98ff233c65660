//! `bulwark admission`'s HTTP host: a validating admission webhook over TLS.
//!
//! `POST /validate` takes an AdmissionReview v1, looks up what it does not know yet about
//! the images the object would run (through a [`VerdictSource`]: the bulwark server's stored
//! results, the registry's signatures), cached per reference, within [`AdmissionConfig::lookup_budget`],
//! then answers with `bulwark_k8s::admission::decide`. `/healthz` and `/readyz` answer the
//! kubelet's probes. Bodies are bounded (413), requests time out (the API server gives up
//! after the webhook's `timeoutSeconds` anyway), and shutdown lets requests in flight finish.
//!
//! A lookup that runs out of time answers "unknown" for that request but keeps running, and
//! fills the cache: the API server's retry (or the next pod of the same image) finds it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_server::Handle;
use bulwark_k8s::admission::{
    decide, parse_review, AdmissionPolicy, Decision, ImageVerdict, SignatureState, VulnState,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::timeout::TimeoutLayer;

use crate::serve::ServerError;
use crate::state::TlsFiles;

/// Largest AdmissionReview accepted: an object is at most ~1.5 MiB (etcd's limit) and an
/// UPDATE carries it twice.
pub const DEFAULT_MAX_BODY_SIZE: usize = 4 << 20;
/// A request is answered (or 408) within this: the webhook's `timeoutSeconds` is at most 30,
/// and the shipped configuration uses 10.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(9);
/// How long one request waits for image lookups before deciding without them.
pub const DEFAULT_LOOKUP_BUDGET: Duration = Duration::from_secs(7);
/// How long a known image's verdict is reused.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
/// How long an unknown verdict (not uploaded yet, lookup failed) is reused: short, so a
/// fresh upload is seen soon.
pub const UNKNOWN_CACHE_TTL: Duration = Duration::from_secs(10);
/// Most image references cached at once (the oldest goes first).
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;
/// How often the certificate and key files are checked for a change (a renewed Secret is
/// served without a restart).
pub const DEFAULT_CERT_POLL: Duration = Duration::from_secs(10);

/// Looks up what is known about one image reference. Blocking (registry and server calls);
/// the host runs it on a blocking thread, bounded by the lookup budget.
pub trait VerdictSource: Send + Sync {
    fn lookup(&self, image: &str) -> ImageVerdict;
}

/// Knows nothing: every image is unknown (no `--server`, no key).
pub struct NoSource;

impl VerdictSource for NoSource {
    fn lookup(&self, _image: &str) -> ImageVerdict {
        ImageVerdict {
            digest: None,
            signature: SignatureState::Unknown("no signature key is configured".into()),
            vulnerabilities: VulnState::Unknown("no --server to look up scan results".into()),
        }
    }
}

/// Where a decision goes once made (not for dry runs): the audit log.
pub type DecisionLog = Arc<dyn Fn(&Decision, Option<&str>) + Send + Sync>;

/// Everything `bulwark admission` is started with.
#[derive(Clone)]
pub struct AdmissionConfig {
    pub listen: SocketAddr,
    /// `None` serves plain HTTP (tests and benchmarks only: the API server calls webhooks
    /// over HTTPS).
    pub tls: Option<TlsFiles>,
    pub max_body_size: usize,
    pub request_timeout: Duration,
    pub lookup_budget: Duration,
    pub cache_ttl: Duration,
    pub cache_entries: usize,
    /// How often the TLS files are checked for a change.
    pub cert_poll: Duration,
    pub policy: Arc<AdmissionPolicy>,
    pub source: Arc<dyn VerdictSource>,
    pub log: DecisionLog,
    /// Answer every review "allowed" without any check: the benchmark's baseline.
    pub allow_all: bool,
}

impl AdmissionConfig {
    pub fn new(
        listen: SocketAddr,
        policy: AdmissionPolicy,
        source: Arc<dyn VerdictSource>,
    ) -> AdmissionConfig {
        AdmissionConfig {
            listen,
            tls: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            lookup_budget: DEFAULT_LOOKUP_BUDGET,
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_entries: DEFAULT_CACHE_ENTRIES,
            cert_poll: DEFAULT_CERT_POLL,
            policy: Arc::new(policy),
            source,
            log: Arc::new(|_, _| {}),
            allow_all: false,
        }
    }
}

type Pending = watch::Receiver<Option<ImageVerdict>>;

/// Verdicts by image reference, with their expiry, and the lookups under way.
#[derive(Default)]
struct Cache {
    done: HashMap<String, (Instant, ImageVerdict)>,
    pending: HashMap<String, Pending>,
}

struct Host {
    config: AdmissionConfig,
    cache: Mutex<Cache>,
}

impl Host {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached verdict, or the lookup under way (started now if none is).
    fn cached_or_pending(self: &Arc<Self>, image: &str) -> Result<ImageVerdict, Pending> {
        let mut cache = self.lock();
        if let Some((expires, v)) = cache.done.get(image) {
            if *expires > Instant::now() {
                return Ok(v.clone());
            }
        }
        if let Some(rx) = cache.pending.get(image) {
            return Err(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        cache.pending.insert(image.to_string(), rx.clone());
        drop(cache);
        let host = Arc::clone(self);
        let image = image.to_string();
        // Not awaited past the budget: it finishes on its own and fills the cache.
        tokio::task::spawn_blocking(move || {
            let verdict = host.config.source.lookup(&image);
            host.store(&image, verdict.clone());
            let _ = tx.send(Some(verdict));
        });
        Err(rx)
    }

    fn store(&self, image: &str, verdict: ImageVerdict) {
        let ttl = match verdict.vulnerabilities {
            VulnState::Known(_) => self.config.cache_ttl,
            VulnState::Unknown(_) => self.config.cache_ttl.min(UNKNOWN_CACHE_TTL),
        };
        let now = Instant::now();
        let mut cache = self.lock();
        cache.pending.remove(image);
        if cache.done.len() >= self.config.cache_entries {
            cache.done.retain(|_, (expires, _)| *expires > now);
        }
        while cache.done.len() >= self.config.cache_entries.max(1) {
            let Some(oldest) = cache
                .done
                .iter()
                .min_by_key(|(_, (expires, _))| *expires)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            cache.done.remove(&oldest);
        }
        cache.done.insert(image.to_string(), (now + ttl, verdict));
    }

    /// Verdicts for `images`, waiting for lookups until `deadline`.
    async fn verdicts(
        self: &Arc<Self>,
        images: Vec<String>,
        deadline: tokio::time::Instant,
    ) -> HashMap<String, ImageVerdict> {
        let mut out = HashMap::new();
        let mut waiting = Vec::new();
        for image in images {
            match self.cached_or_pending(&image) {
                Ok(v) => {
                    out.insert(image, v);
                }
                Err(rx) => waiting.push((image, rx)),
            }
        }
        for (image, mut rx) in waiting {
            let verdict =
                match tokio::time::timeout_at(deadline, rx.wait_for(Option::is_some)).await {
                    Ok(Ok(v)) => v.clone().unwrap_or_else(|| {
                        ImageVerdict::unknown("the lookup ended without an answer")
                    }),
                    Ok(Err(_)) => ImageVerdict::unknown("the lookup failed"),
                    Err(_) => ImageVerdict::unknown(&format!(
                    "the lookup did not finish within {} ms; it goes on, and a retry will find it",
                    self.config.lookup_budget.as_millis()
                )),
                };
            out.insert(image, verdict);
        }
        out
    }
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": {"code": 400, "message": message}})),
    )
        .into_response()
}

async fn validate(State(host): State<Arc<Host>>, body: Bytes) -> Response {
    let review = match parse_review(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(e.to_string()),
    };
    if host.config.allow_all {
        return Json(serde_json::json!({
            "apiVersion": review.api_version,
            "kind": "AdmissionReview",
            "response": {"uid": review.request.uid, "allowed": true},
        }))
        .into_response();
    }
    let deadline = tokio::time::Instant::now() + host.config.lookup_budget;
    let verdicts = host.verdicts(review.images(), deadline).await;
    let decision = decide(
        &review,
        &host.config.policy,
        &verdicts,
        bulwark_policy::Date::today(),
    );
    if !decision.dry_run {
        (host.config.log)(&decision, review.request.user.as_deref());
    }
    Json(decision.response).into_response()
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// The router of the webhook (without TLS): `POST /validate`, `/healthz`, `/readyz`.
pub fn router(config: AdmissionConfig) -> Router {
    let max_body = config.max_body_size;
    let timeout = config.request_timeout;
    let host = Arc::new(Host {
        config,
        cache: Mutex::new(Cache::default()),
    });
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(healthz))
        // Ready as soon as it listens: the policy was loaded before, and lookups that fail
        // are decisions (unknown images), not unreadiness.
        .route("/readyz", get(healthz))
        .with_state(host)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
}

/// A running webhook: its address and a handle that stops it.
pub struct RunningAdmission {
    pub addr: SocketAddr,
    pub scheme: &'static str,
    handle: Handle<SocketAddr>,
    task: JoinHandle<std::io::Result<()>>,
    reload: Option<JoinHandle<()>>,
}

impl RunningAdmission {
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// A handle to stop the webhook from a signal handler.
    pub fn handle(&self) -> Handle<SocketAddr> {
        self.handle.clone()
    }

    /// Stops accepting and lets requests in flight finish (up to `grace`).
    pub async fn shutdown(self, grace: Duration) -> Result<(), ServerError> {
        self.handle.graceful_shutdown(Some(grace));
        self.wait().await
    }

    /// Waits until the webhook stops.
    pub async fn wait(self) -> Result<(), ServerError> {
        if let Some(reload) = &self.reload {
            reload.abort();
        }
        match self.task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Serve(e.to_string())),
            Err(e) => Err(ServerError::Serve(e.to_string())),
        }
    }
}

/// Binds and serves the webhook; returns once the socket listens.
pub async fn start(config: AdmissionConfig) -> Result<RunningAdmission, ServerError> {
    let addr = config.listen;
    let tls = config.tls.clone();
    let cert_poll = config.cert_poll;
    let app = router(config).into_make_service();
    let handle = Handle::new();
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Bind { addr, source })?;
    let (task, scheme, reload) = match &tls {
        Some(files) => {
            let live = crate::serve::tls_config(files)?;
            let reload = tokio::spawn(reload_on_change(files.clone(), live.clone(), cert_poll));
            let server = axum_server::from_tcp_rustls(listener, live)
                .map_err(|source| ServerError::Bind { addr, source })?
                .handle(handle.clone());
            (tokio::spawn(server.serve(app)), "https", Some(reload))
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| ServerError::Bind { addr, source })?
                .handle(handle.clone());
            (tokio::spawn(server.serve(app)), "http", None)
        }
    };
    let addr = handle
        .listening()
        .await
        .ok_or_else(|| ServerError::Serve("the webhook stopped before it listened".to_string()))?;
    Ok(RunningAdmission {
        addr,
        scheme,
        handle,
        task,
        reload,
    })
}

/// The modification times of the certificate and key, when both are readable.
fn stamp(files: &TlsFiles) -> Option<(std::time::SystemTime, std::time::SystemTime)> {
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((modified(&files.cert)?, modified(&files.key)?))
}

/// Serves a renewed certificate (cert-manager rewrites the Secret's files) without a restart.
/// A pair that does not load (half written, key and certificate not matching yet) is tried
/// again at the next poll; the old one is served meanwhile.
async fn reload_on_change(
    files: TlsFiles,
    live: axum_server::tls_rustls::RustlsConfig,
    poll: Duration,
) {
    let mut served = stamp(&files);
    loop {
        tokio::time::sleep(poll).await;
        let now = stamp(&files);
        if now.is_none() || now == served {
            continue;
        }
        match crate::serve::tls_config(&files) {
            Ok(fresh) => {
                live.reload_from_config(fresh.get_inner());
                served = now;
                tracing::info!(cert = %files.cert.display(), "admission: TLS certificate reloaded");
            }
            Err(e) => tracing::warn!("admission: the changed TLS files do not load yet: {e}"),
        }
    }
}
