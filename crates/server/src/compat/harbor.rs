//! Harbor's pluggable scanner API v1.1, mounted under `/harbor` (see [`crate::compat`]):
//! `GET /api/v1/metadata`, `POST /api/v1/scan` (202 with an id) and
//! `GET /api/v1/scan/{id}/report` (302 with `Refresh-After` while the scan runs, then the
//! report). Shapes are in [`super::harbor_model`].
//!
//! A scan is a job of the server's queue (`crate::jobs`, the same as `POST /api/v1/scans`):
//! a bounded set of workers pulls the artifact by digest from the registry Harbor names, with
//! the Basic robot credentials it passes (kept in memory only, never stored), and stores the
//! result like any other version of the repository (asset `HOST/REPOSITORY`, version = the
//! manifest digest), matched, rematched and triaged like every image. The report is built
//! from the stored findings when Harbor asks for it, so a finding triaged as suppressed (e.g.
//! `not_affected`) is left out. The scan id is the job id: it survives a restart (a scan
//! resumed after one runs without the credentials, fails on a registry that needs them, and
//! Harbor then scans again).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use super::glue;
use super::harbor_model::{
    self as model, accepts_report, ErrorResponse, Metadata, RegistryAuth, ScanRequest, ScanResponse,
};
use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError};
use crate::state::AppState;

/// Seconds Harbor is told to wait before asking again for a report that is not ready.
const REFRESH_AFTER_SECONDS: u32 = 5;

/// The routes, relative to the `/harbor` prefix.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/scan", post(accept_scan))
        .route("/api/v1/scan/{id}/report", get(get_report))
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
async fn accept_scan(State(state): State<AppState>, principal: Principal, body: Bytes) -> Response {
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
    let (username, password) =
        match &valid.auth {
            RegistryAuth::Basic { username, password } => {
                (Some(username.clone()), Some(password.clone()))
            }
            RegistryAuth::Anonymous => (None, None),
            RegistryAuth::Bearer(_) => return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "registry.authorization with a Bearer token is not supported yet: bulwark pulls \
                 with Basic credentials (Harbor's robot account, `Basic <base64 user:secret>`)",
            ),
        };
    // The tag (when Harbor names one) labels the version; the digest pins what is pulled.
    let image = match &valid.tag {
        Some(tag) => format!(
            "{}/{}:{tag}@{}",
            valid.registry_host, valid.repository, valid.digest
        ),
        None => valid.reference(),
    };
    let job = crate::jobs::ScanRequest {
        image,
        username,
        password,
        insecure: valid.insecure,
        ..crate::jobs::ScanRequest::default()
    };
    let who = principal.0.clone();
    let queued = blocking(move || crate::jobs::enqueue_scan(&state, &who, &job)).await;
    match queued {
        Ok(id) => json(
            StatusCode::ACCEPTED,
            model::MIME_SCAN_RESPONSE,
            &ScanResponse { id: id.to_string() },
        ),
        Err(e) if e.status.is_client_error() => error(e.status, e.message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.message),
    }
}

/// The artifact a queued scan names (`HOST/REPO[:TAG]@DIGEST`), for the report.
fn artifact_of(image: &str, host_prefix: bool) -> model::Artifact {
    let (name, digest) = image.split_once('@').unwrap_or((image, ""));
    let (repository, tag) = crate::ingest::repository_and_tag(name);
    let repository = match (host_prefix, repository.split_once('/')) {
        (true, Some((_, rest))) => rest.to_string(),
        _ => repository,
    };
    model::Artifact {
        repository: Some(repository),
        digest: Some(digest.to_string()).filter(|d| !d.is_empty()),
        tag,
        mime_type: None,
    }
}

/// `GET /api/v1/scan/{id}/report`.
async fn get_report(
    State(state): State<AppState>,
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
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            format!("no scan with id {id:?}; request a scan first"),
        )
    };
    let Ok(job_id) = id.trim().parse::<i64>() else {
        return not_found();
    };
    let store = state.store.clone();
    let job = match blocking(move || store.job(job_id).map_err(ApiError::from)).await {
        Ok(Some(job)) if job.kind == crate::jobs::SCAN_JOB => job,
        Ok(_) => return not_found(),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.message),
    };
    // A team-limited token sees only its team's scans, whatever their state.
    if let Some(team) = principal.team_name() {
        if job.payload["principal"]["team"]["name"].as_str() != Some(team) {
            return not_found();
        }
    }
    let image = job.payload["image"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match job.state {
        bulwark_store::JobState::Queued | bulwark_store::JobState::Running => {
            let mut response = StatusCode::FOUND.into_response();
            response
                .headers_mut()
                .insert("Refresh-After", HeaderValue::from(REFRESH_AFTER_SECONDS));
            response
        }
        bulwark_store::JobState::Failed => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "scanning {image} failed: {}",
                job.error.as_deref().unwrap_or("no reason recorded")
            ),
        ),
        bulwark_store::JobState::Done => {
            let version = job
                .result
                .as_ref()
                .and_then(|r| r["version_uuid"].as_str())
                .and_then(|u| uuid::Uuid::parse_str(u).ok());
            let Some(version) = version else {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the scan finished without a stored result",
                );
            };
            let project = match glue::project_by_uuid(&state, &principal, version).await {
                Ok(Some(p)) => p,
                // Another team's scan is not this token's to read.
                Ok(None) => return not_found(),
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            };
            let findings = match glue::findings(&state, &principal, &project).await {
                Ok(f) => f,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            };
            let visible: Vec<bulwark_types::VulnerabilityFinding> = findings
                .into_iter()
                .filter(|f| !f.triage.as_ref().is_some_and(|t| t.suppressed))
                .map(|f| f.finding)
                .collect();
            let report = model::report(artifact_of(&image, true), &visible, now_rfc3339());
            json(StatusCode::OK, mime, &report)
        }
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::artifact_of;

    #[test]
    fn the_artifact_is_read_back_from_the_queued_reference() {
        let d = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
        let a = artifact_of(&format!("127.0.0.1:5000/library/debian:12@{d}"), true);
        assert_eq!(a.repository.as_deref(), Some("library/debian"));
        assert_eq!(a.tag.as_deref(), Some("12"));
        assert_eq!(a.digest.as_deref(), Some(d));
        let a = artifact_of(&format!("core.harbor.domain/app@{d}"), true);
        assert_eq!(a.repository.as_deref(), Some("app"));
        assert_eq!(a.tag, None);
    }
}
