//! Triage: per finding (kept per asset, vulnerability and package, so later digests of the
//! same asset inherit it), in bulk, and its audit trail.

use axum::extract::{Path, State};
use axum::Json;
use bulwark_store::{TriageInput, TriageState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::state::AppState;

/// A triage decision, with Dependency-Track's names.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TriageRequest {
    /// `NOT_SET`, `EXPLOITABLE`, `IN_TRIAGE`, `RESOLVED`, `FALSE_POSITIVE` or `NOT_AFFECTED`.
    pub state: String,
    /// For `NOT_AFFECTED`: `CODE_NOT_PRESENT`, `CODE_NOT_REACHABLE`, `REQUIRES_CONFIGURATION`,
    /// `REQUIRES_DEPENDENCY`, `REQUIRES_ENVIRONMENT`, `PROTECTED_BY_COMPILER`,
    /// `PROTECTED_AT_RUNTIME`, `PROTECTED_AT_PERIMETER`, `PROTECTED_BY_MITIGATING_CONTROL`.
    #[serde(default)]
    pub justification: Option<String>,
    /// `CAN_NOT_FIX`, `WILL_NOT_FIX`, `UPDATE`, `ROLLBACK`, `WORKAROUND_AVAILABLE`.
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Hide the finding from lists and counts; default: true for `NOT_AFFECTED` and
    /// `FALSE_POSITIVE`.
    #[serde(default)]
    pub suppressed: Option<bool>,
}

impl TriageRequest {
    fn input(&self) -> Result<TriageInput, ApiError> {
        let state = TriageState::parse(&self.state)?;
        Ok(TriageInput {
            state,
            justification: self.justification.clone(),
            response: self.response.clone(),
            comment: self.comment.clone(),
            suppressed: self.suppressed.unwrap_or(matches!(
                state,
                TriageState::NotAffected | TriageState::FalsePositive
            )),
        })
    }
}

fn triage_one(
    state: &AppState,
    who: &bulwark_store::Principal,
    finding_id: i64,
    input: &TriageInput,
) -> Result<bulwark_store::TriageEntry, ApiError> {
    let finding = state.store.finding(who, finding_id)?.ok_or_else(|| {
        ApiError::not_found(format!("no finding {finding_id} (or not your team's)"))
    })?;
    Ok(state.store.set_triage(
        who,
        finding.asset_id,
        &finding.vuln_id,
        &finding.purl,
        input,
    )?)
}

/// Records a triage decision for one finding (triage scope), with an audit-trail entry.
#[utoipa::path(put, path = "/api/v1/findings/{id}/triage", tag = "triage",
    params(("id" = i64, Path)), request_body = TriageRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn set_triage(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(request): Json<TriageRequest>,
) -> Result<Json<bulwark_store::TriageEntry>, ApiError> {
    principal.require(Scope::Triage)?;
    let input = request.input()?;
    let s = state.clone();
    blocking(move || triage_one(&s, &principal, id, &input))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkTriage {
    /// Finding ids.
    pub findings: Vec<i64>,
    #[serde(flatten)]
    pub decision: TriageRequest,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub updated: usize,
    /// Findings not triaged, with why.
    pub errors: Vec<BulkError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkError {
    pub finding: i64,
    pub error: String,
}

/// The largest bulk triage accepted at once.
pub const MAX_BULK_TRIAGE: usize = 1_000;

/// The same decision for many findings.
#[utoipa::path(post, path = "/api/v1/triage", tag = "triage", request_body = BulkTriage,
    responses((status = 200, body = BulkResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn bulk_triage(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<BulkTriage>,
) -> Result<Json<BulkResult>, ApiError> {
    principal.require(Scope::Triage)?;
    if request.findings.len() > MAX_BULK_TRIAGE {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_BULK_TRIAGE} findings at once; split the request"
        )));
    }
    let input = request.decision.input()?;
    let s = state.clone();
    blocking(move || {
        let mut result = BulkResult {
            updated: 0,
            errors: Vec::new(),
        };
        for id in request.findings {
            match triage_one(&s, &principal, id, &input) {
                Ok(_) => result.updated += 1,
                Err(e) => result.errors.push(BulkError {
                    finding: id,
                    error: e.message,
                }),
            }
        }
        Ok(result)
    })
    .await
    .map(Json)
}

/// Every change of a finding's triage decision: who, when, what.
#[utoipa::path(get, path = "/api/v1/findings/{id}/triage/history", tag = "triage",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn triage_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<bulwark_store::TriageHistoryEntry>>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    blocking(move || {
        let finding = store
            .finding(&principal, id)?
            .ok_or_else(|| ApiError::not_found(format!("no finding {id} (or not your team's)")))?;
        Ok(store.triage_history(
            &principal,
            finding.asset_id,
            &finding.vuln_id,
            &finding.purl,
        )?)
    })
    .await
    .map(Json)
}
