//! Server-side image scans: queued, run by the bounded job workers, ingested.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::jobs::ScanRequest;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanJob {
    pub id: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// When done: `asset_uuid`, `version_uuid`, `components`, `findings` (and the report).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Queues a scan of a registry image (upload scope); the server's workers pull it (with the
/// credentials given, kept in memory only), scan it and store the result.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = ScanRequest,
    responses((status = 202, body = ScanJob), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn start_scan(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<ScanRequest>,
) -> Result<(StatusCode, Json<ScanJob>), ApiError> {
    principal.require(Scope::Upload)?;
    let s = state.clone();
    let job = blocking(move || {
        let id = crate::jobs::enqueue_scan(&s, &principal, &request)?;
        s.store
            .job(id)?
            .ok_or_else(|| ApiError::internal("the queued job vanished"))
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(job_view(job))))
}

fn job_view(job: bulwark_store::Job) -> ScanJob {
    ScanJob {
        id: job.id,
        state: job.state.as_str().to_string(),
        attempts: job.attempts,
        result: job.result,
        error: job.error,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

/// A scan job's state and, when done, its result.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans", params(("id" = i64, Path)),
    responses((status = 200, body = ScanJob), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn get_scan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ScanJob>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    let job = blocking(move || {
        let job = store
            .job(id)?
            .filter(|j| {
                matches!(
                    j.kind.as_str(),
                    crate::jobs::SCAN_JOB | crate::jobs::REMATCH_JOB
                )
            })
            .ok_or_else(|| ApiError::not_found(format!("no scan {id}")))?;
        // Another team's scan is not shown.
        let owner: Option<bulwark_store::Principal> =
            serde_json::from_value(job.payload["principal"].clone()).ok();
        let visible = match (&principal.team, owner.and_then(|o| o.team)) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => mine.id == theirs.id,
            (Some(_), None) => false,
        };
        match visible {
            true => Ok(job),
            false => Err(ApiError::not_found(format!("no scan {id}"))),
        }
    })
    .await?;
    Ok(Json(job_view(job)))
}
