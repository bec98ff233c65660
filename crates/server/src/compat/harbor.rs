//! Harbor's pluggable scanner API v1.1, mounted under `/harbor` (see [`crate::compat`]):
//! `GET /api/v1/metadata`, `POST /api/v1/scan` (202 with an id) and
//! `GET /api/v1/scan/{id}/report` (302 with `Refresh-After` while the scan runs, then the
//! report). Shapes are in [`super::harbor_model`].
//!
//! A scan pulls the artifact by digest from the registry Harbor names, with the
//! `Authorization` it passes (Basic robot credentials), scans it with the server's advisory
//! store, stores the result like any other version of the repository (asset
//! `HOST/REPOSITORY`, version = digest), and keeps the report for Harbor to fetch. Scans run
//! as tasks of this process, at most `scan_workers` at once; the last [`MAX_TRACKED_SCANS`]
//! scans' states are kept in memory (a restarted server answers 404 for older ids, and Harbor
//! then scans again).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bulwark_scan::{CancelToken, ImageScan, NoopSink, Scanner as ScanKind};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::glue;
use super::harbor_model::{
    self as model, accepts_report, ErrorResponse, Metadata, RegistryAuth, ScanRequest,
    ScanResponse, ValidScan, VulnerabilityReport,
};
use crate::auth::{Principal, Scope};
use crate::state::AppState;

/// How many scans' states (and finished reports) are remembered for Harbor to fetch.
pub const MAX_TRACKED_SCANS: usize = 1_000;
/// Seconds Harbor is told to wait before asking again for a report that is not ready.
const REFRESH_AFTER_SECONDS: u32 = 5;

/// The routes, relative to the `/harbor` prefix.
pub fn routes(state: &AppState) -> Router<AppState> {
    let scans = Arc::new(Scans::new(state.config.scan_workers.max(1)));
    Router::new()
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/scan", post(accept_scan))
        .route("/api/v1/scan/{id}/report", get(get_report))
        .layer(Extension(scans))
}

#[derive(Debug, Clone)]
enum ScanState {
    Pending,
    Done(Arc<VulnerabilityReport>),
    Failed(String),
}

/// The scans Harbor asked for, newest last, and the bound on concurrent scans.
struct Scans {
    states: Mutex<(HashMap<String, ScanState>, VecDeque<String>)>,
    permits: Arc<Semaphore>,
}

impl Scans {
    fn new(workers: usize) -> Scans {
        Scans {
            states: Mutex::new((HashMap::new(), VecDeque::new())),
            permits: Arc::new(Semaphore::new(workers)),
        }
    }

    fn set(&self, id: &str, state: ScanState) {
        let mut guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(id.to_string(), state).is_none() {
            order.push_back(id.to_string());
            while order.len() > MAX_TRACKED_SCANS {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    fn get(&self, id: &str) -> Option<ScanState> {
        let guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(id).cloned()
    }
}

/// An answer in the adapter API's error shape, with its MIME type.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(status, model::MIME_ERROR, &ErrorResponse::new(message))
}

fn json<T: Serialize>(status: StatusCode, mime: &'static str, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    response
}

/// `GET /api/v1/metadata`.
async fn metadata(State(state): State<AppState>, principal: Principal) -> Response {
    if let Err(e) = principal.require(Scope::Read) {
        return e.into_response();
    }
    let dir = state.config.advisory_dir();
    let updated = tokio::task::spawn_blocking(move || {
        bulwark_vulndb::Store::open(&dir)
            .and_then(|s| s.metadata())
            .ok()
            .map(|m| m.updated_at)
    })
    .await
    .ok()
    .flatten();
    json(
        StatusCode::OK,
        model::MIME_METADATA,
        &Metadata::bulwark(updated),
    )
}

/// `POST /api/v1/scan`: validates, queues the scan and answers 202 with its id.
async fn accept_scan(
    State(state): State<AppState>,
    Extension(scans): Extension<Arc<Scans>>,
    principal: Principal,
    body: Bytes,
) -> Response {
    if let Err(e) = principal.require(Scope::Upload) {
        return e.into_response();
    }
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not a scan request ({e}): send {{\"registry\": {{\"url\", \"authorization\"}}, \"artifact\": {{\"repository\", \"digest\"}}}}"),
            )
        }
    };
    let valid = match request.validate() {
        Ok(v) => v,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    if matches!(valid.auth, RegistryAuth::Bearer(_)) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "registry.authorization with a Bearer token is not supported yet: bulwark pulls with \
             Basic credentials (Harbor's robot account, `Basic <base64 user:secret>`)",
        );
    }
    let id = uuid::Uuid::new_v4().to_string();
    scans.set(&id, ScanState::Pending);
    let artifact = request.artifact.clone();
    let task_id = id.clone();
    tokio::spawn(async move {
        let outcome = run_scan(&state, &scans, &principal, valid, artifact).await;
        let next = match outcome {
            Ok(report) => ScanState::Done(Arc::new(report)),
            Err(message) => {
                tracing::warn!("Harbor scan {task_id} failed: {message}");
                ScanState::Failed(message)
            }
        };
        scans.set(&task_id, next);
    });
    json(
        StatusCode::ACCEPTED,
        model::MIME_SCAN_RESPONSE,
        &ScanResponse { id },
    )
}

/// Pulls and scans the artifact (waiting for a free scan slot), stores the result and builds
/// the report. Errors are messages for Harbor's admin.
async fn run_scan(
    state: &AppState,
    scans: &Scans,
    principal: &Principal,
    valid: ValidScan,
    artifact: model::Artifact,
) -> Result<VulnerabilityReport, String> {
    let _permit = scans
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| format!("the scan queue is closed: {e}"))?;
    let db_dir = state.config.advisory_dir();
    let scan_valid = valid.clone();
    let report = tokio::task::spawn_blocking(move || scan_image(&scan_valid, &db_dir))
        .await
        .map_err(|e| format!("the scan task failed: {e}"))??;
    let asset = format!("{}/{}", valid.registry_host, valid.repository);
    glue::ingest_scan(
        state,
        principal,
        &asset,
        &valid.digest,
        valid.tag.as_deref(),
        &report,
    )
    .await
    .map_err(|e| format!("storing the scan result failed: {e}"))?;
    Ok(model::report(
        artifact,
        &report.vulnerabilities,
        now_rfc3339(),
    ))
}

fn scan_image(
    valid: &ValidScan,
    db_dir: &std::path::Path,
) -> Result<bulwark_report::ScanReport, String> {
    let reference = format!("registry:{}", valid.reference());
    let mut scan = ImageScan::new(&reference, db_dir)
        .map_err(|e| format!("{reference} is not an image reference bulwark reads: {e}"))?;
    scan.sources.registry.insecure = valid.insecure;
    scan.sources.registry.credentials = match &valid.auth {
        RegistryAuth::Basic { username, password } => Some(
            bulwark_image::registry::Credentials::basic(username.clone(), password.clone()),
        ),
        RegistryAuth::Anonymous | RegistryAuth::Bearer(_) => None,
    };
    scan.settings.scanners = Some(vec![ScanKind::Vuln]);
    // The packages are kept: the server stores them for rematching.
    scan.settings.keep_packages = true;
    let outcome = scan.run(&NoopSink, &CancelToken::new()).map_err(|e| {
        format!(
            "scanning {}: {}",
            valid.reference(),
            bulwark_scan::error_text(&e)
        )
    })?;
    Ok(outcome.report)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `GET /api/v1/scan/{id}/report`.
async fn get_report(
    Extension(scans): Extension<Arc<Scans>>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = principal.require(Scope::Read) {
        return e.into_response();
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if !accepts_report(accept) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "this scanner produces {:?} (or {:?}), not {:?}",
                model::MIME_VULN_REPORT_1_1,
                model::MIME_VULN_REPORT_1_0,
                accept.unwrap_or_default()
            ),
        );
    }
    let mime = match accept.is_some_and(|a| a.contains("vnd.scanner.adapter.vuln.report.harbor")) {
        true => model::MIME_VULN_REPORT_1_0,
        false => model::MIME_VULN_REPORT_1_1,
    };
    match scans.get(&id) {
        None => error(
            StatusCode::NOT_FOUND,
            format!("no scan with id {id:?} (unknown, or forgotten after a restart: scan again)"),
        ),
        Some(ScanState::Pending) => {
            let mut response = StatusCode::FOUND.into_response();
            response
                .headers_mut()
                .insert("Refresh-After", HeaderValue::from(REFRESH_AFTER_SECONDS));
            response
        }
        Some(ScanState::Failed(message)) => error(StatusCode::INTERNAL_SERVER_ERROR, message),
        Some(ScanState::Done(report)) => json(StatusCode::OK, mime, report.as_ref()),
    }
}
