//! Tokens, teams, the audit log and rematch (admin).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{paged, PageOf, PageQuery};
use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Some of `upload`, `read`, `triage`, `admin`.
    pub scopes: Vec<String>,
    /// Limit the token to this team (created when missing).
    #[serde(default)]
    pub team: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    /// The token itself: shown this once, stored only as a hash.
    pub token: String,
}

/// Makes an API token (admin); the reply holds the token, shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    principal.require(Scope::Admin)?;
    let scopes = request
        .scopes
        .iter()
        .map(|s| bulwark_store::Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if scopes.is_empty() {
        return Err(ApiError::unprocessable(
            "a token needs at least one scope: upload, read, triage or admin",
        ));
    }
    let store = state.store.clone();
    let (id, token) = blocking(move || {
        Ok(store.create_token(&principal, &request.name, &scopes, request.team.as_deref())?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id,
            name: String::new(),
            token,
        }),
    ))
}

/// The tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<bulwark_store::TokenInfo>>, ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    blocking(move || Ok(store.list_tokens(&principal)?))
        .await
        .map(Json)
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    blocking(move || Ok(store.revoke_token(&principal, id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    pub name: String,
}

/// Makes a team (admin).
#[utoipa::path(post, path = "/api/v1/teams", tag = "admin", request_body = NewTeam,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<NewTeam>,
) -> Result<(StatusCode, Json<bulwark_store::TeamInfo>), ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    let team = blocking(move || Ok(store.create_team(&principal, &request.name)?)).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// The teams the token may see.
#[utoipa::path(get, path = "/api/v1/teams", tag = "read",
    responses((status = 200, body = Vec<Object>)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn list_teams(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<bulwark_store::TeamInfo>>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    blocking(move || Ok(store.list_teams(&principal)?))
        .await
        .map(Json)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// The job: `GET /api/v1/scans/{id}` shows its state.
    pub job: i64,
}

/// Queues a full rematch of every stored version against the advisory store (admin).
#[utoipa::path(post, path = "/api/v1/rematch", tag = "admin",
    responses((status = 202, body = Queued), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rematch(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    let job = blocking(move || {
        Ok(store.enqueue(crate::jobs::REMATCH_JOB, &serde_json::json!({}), 10)?)
    })
    .await?;
    state.wake.jobs.notify_one();
    Ok((StatusCode::ACCEPTED, Json(Queued { job })))
}

/// The audit log: every write, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(PageQuery),
    responses((status = 200, body = PageOf), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    let list = blocking(move || Ok(store.audit_log(&principal, page.page())?)).await?;
    paged(list, page)
}
