//! Reads: the portfolio, versions, findings, a vulnerability's assets, events, snapshots,
//! and the VEX export.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bulwark_store::{AssetFilter, AssetSort, FindingFilter, FindingSort};
use bulwark_types::Severity;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{paged, PageOf, PageQuery};
use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    /// Only this team's assets.
    pub team: Option<String>,
    /// Only this owner's assets.
    pub owner: Option<String>,
    /// `name` (default), `severity` (worst first), `kev`, `fixable`, `total` or `last_seen`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

/// The portfolio: every asset the token may see, with its latest version (digest, last
/// scan), counts by severity, KEV and fixable, team and owner.
#[utoipa::path(get, path = "/api/v1/assets", tag = "read", params(AssetQuery),
    responses((status = 200, body = PageOf), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn list_assets(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AssetQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    };
    let sort = match q.sort.as_deref() {
        None => AssetSort::Name,
        Some(s) => AssetSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("?sort={s:?}: expected {}", AssetSort::NAMES))
        })?,
    };
    let filter = AssetFilter {
        name_contains: q.name,
        team: q.team,
        owner: q.owner,
        sort,
    };
    let store = state.store.clone();
    let list = blocking(move || Ok(store.list_assets(&principal, &filter, page.page())?)).await?;
    paged(list, page)
}

/// The asset of `uuid` as the token may see it (404 for another team's).
pub async fn asset_of(
    state: &AppState,
    principal: &Principal,
    uuid: String,
) -> Result<bulwark_store::AssetSummary, ApiError> {
    let store = state.store.clone();
    let who = principal.0.clone();
    blocking(move || {
        store
            .asset_by_uuid(&who, &uuid)?
            .ok_or_else(|| ApiError::not_found(format!("no asset {uuid} (or not your team's)")))
    })
    .await
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{uuid}", tag = "read",
    params(("uuid" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn get_asset(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
) -> Result<Json<bulwark_store::AssetSummary>, ApiError> {
    principal.require(Scope::Read)?;
    Ok(Json(asset_of(&state, &principal, uuid).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssetUpdate {
    /// The owning team (created when missing); `null` clears it.
    pub team: Option<String>,
    pub owner: Option<String>,
}

/// Sets an asset's team and owner (admin).
#[utoipa::path(patch, path = "/api/v1/assets/{uuid}", tag = "admin",
    params(("uuid" = String, Path)), request_body = AssetUpdate,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_asset(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Json(update): Json<AssetUpdate>,
) -> Result<Json<bulwark_store::AssetSummary>, ApiError> {
    principal.require(Scope::Admin)?;
    let asset = asset_of(&state, &principal, uuid.clone()).await?;
    let store = state.store.clone();
    let who = principal.0.clone();
    blocking(move || {
        store.set_asset_ownership(
            &who,
            asset.id,
            update.team.as_deref(),
            update.owner.as_deref(),
        )?;
        store
            .asset(&who, asset.id)?
            .ok_or_else(|| ApiError::not_found(format!("no asset {uuid}")))
    })
    .await
    .map(Json)
}

/// The versions (digests) of an asset, newest first.
#[utoipa::path(get, path = "/api/v1/assets/{uuid}/versions", tag = "read",
    params(("uuid" = String, Path), PageQuery),
    responses((status = 200, body = PageOf), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn asset_versions(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let asset = asset_of(&state, &principal, uuid).await?;
    let store = state.store.clone();
    let list = blocking(move || Ok(store.versions(&principal, asset.id, page.page())?)).await?;
    paged(list, page)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// At least this severity (`low`, `medium`, `high`, `critical`).
    pub severity: Option<String>,
    pub kev: Option<bool>,
    pub fixable: Option<bool>,
    /// `open` or `resolved`; default both.
    pub state: Option<String>,
    /// Only this vulnerability id.
    pub vuln_id: Option<String>,
    /// Include findings triaged as suppressed.
    pub include_suppressed: Option<bool>,
    /// `severity` (default), `first_seen`, `vuln_id` or `package`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

impl FindingQuery {
    fn parts(&self) -> Result<(FindingFilter, FindingSort, PageQuery), ApiError> {
        let min_severity = self
            .severity
            .as_deref()
            .map(|s| s.parse::<Severity>())
            .transpose()
            .map_err(|e| ApiError::bad_request(format!("?severity=: {e}")))?;
        if let Some(s) = &self.state {
            if !matches!(s.as_str(), "open" | "resolved") {
                return Err(ApiError::bad_request("?state= is open or resolved"));
            }
        }
        let sort = match self.sort.as_deref() {
            None | Some("severity") => FindingSort::Severity,
            Some("first_seen") => FindingSort::FirstSeen,
            Some("vuln_id") => FindingSort::VulnId,
            Some("package") => FindingSort::Package,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "?sort={other:?}: expected severity, first_seen, vuln_id or package"
                )))
            }
        };
        Ok((
            FindingFilter {
                min_severity,
                kev: self.kev,
                fixable: self.fixable,
                state: self.state.clone(),
                vuln_id: self.vuln_id.clone(),
                include_suppressed: self.include_suppressed.unwrap_or(false),
            },
            sort,
            PageQuery {
                limit: self.limit,
                offset: self.offset,
            },
        ))
    }
}

async fn findings_of_version(
    state: &AppState,
    principal: Principal,
    version_id: i64,
    q: FindingQuery,
) -> Result<Json<PageOf>, ApiError> {
    let (filter, sort, page) = q.parts()?;
    let store = state.store.clone();
    let list =
        blocking(move || Ok(store.findings(&principal, version_id, &filter, sort, page.page())?))
            .await?;
    paged(list, page)
}

/// The findings of an asset's latest version: filters, sort and pagination with the total.
#[utoipa::path(get, path = "/api/v1/assets/{uuid}/findings", tag = "read",
    params(("uuid" = String, Path), FindingQuery),
    responses((status = 200, body = PageOf), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn asset_findings(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Query(q): Query<FindingQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let asset = asset_of(&state, &principal, uuid).await?;
    let Some(latest) = asset.latest_version else {
        return Ok(Json(PageOf {
            items: serde_json::json!([]),
            total: 0,
            limit: q.limit.unwrap_or(100),
            offset: q.offset.unwrap_or(0),
        }));
    };
    findings_of_version(&state, principal, latest.id, q).await
}

/// The findings of one version.
#[utoipa::path(get, path = "/api/v1/versions/{uuid}/findings", tag = "read",
    params(("uuid" = String, Path), FindingQuery),
    responses((status = 200, body = PageOf), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn version_findings(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Query(q): Query<FindingQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    let who = principal.0.clone();
    let version = blocking(move || {
        store
            .version_by_uuid(&who, &uuid)?
            .ok_or_else(|| ApiError::not_found(format!("no version {uuid} (or not your team's)")))
    })
    .await?;
    findings_of_version(&state, principal, version.id, q).await
}

/// The findings of the most recently seen version whose key is this image (manifest)
/// digest, in any asset the token may see: the admission webhook's lookup by digest.
#[utoipa::path(get, path = "/api/v1/digests/{digest}/findings", tag = "read",
    params(("digest" = String, Path), FindingQuery),
    responses((status = 200, body = PageOf), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn digest_findings(
    State(state): State<AppState>,
    principal: Principal,
    Path(digest): Path<String>,
    Query(q): Query<FindingQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    if digest.parse::<bulwark_types::Digest>().is_err() {
        return Err(ApiError::bad_request(format!(
            "{digest:?} is not an image digest (sha256:<64 hex digits>)"
        )));
    }
    let store = state.store.clone();
    let who = principal.0.clone();
    let version = blocking(move || {
        store.version_by_digest(&who, &digest)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "no version with digest {digest} (not uploaded yet, or not your team's)"
            ))
        })
    })
    .await?;
    findings_of_version(&state, principal, version.id, q).await
}

/// The assets where a vulnerability (by id or alias) is open.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/{id}/assets", tag = "read",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = PageOf)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn vulnerability_assets(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    let list = blocking(move || Ok(store.affected_assets(&principal, &id, page.page())?)).await?;
    paged(list, page)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Events with an id above this (0: from the start); page with the last id seen.
    pub since: Option<i64>,
    pub limit: Option<u32>,
}

/// Finding events (new, changed, resolved) after `since`, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "read", params(EventQuery),
    responses((status = 200, body = Vec<Object>)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<EventQuery>,
) -> Result<Json<Vec<bulwark_store::FindingEvent>>, ApiError> {
    principal.require(Scope::Read)?;
    let store = state.store.clone();
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let since = q.since.unwrap_or(0);
    blocking(move || Ok(store.events_since(&principal, since, limit)?))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// One asset's (uuid); default: summed over the visible assets.
    pub asset: Option<String>,
    /// Summed over one team's assets.
    pub team: Option<String>,
    /// `YYYY-MM-DD`; default 30 days ago.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
}

/// Daily snapshots (counts by severity, KEV, fixable, mean time to remediate) for trends.
#[utoipa::path(get, path = "/api/v1/snapshots", tag = "read", params(SnapshotQuery),
    responses((status = 200, body = Vec<Object>)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn snapshots(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<SnapshotQuery>,
) -> Result<Json<Vec<bulwark_store::Snapshot>>, ApiError> {
    principal.require(Scope::Read)?;
    let asset_id = match q.asset {
        Some(uuid) => Some(asset_of(&state, &principal, uuid).await?.id),
        None => None,
    };
    let now = bulwark_store::now_ms();
    let from = q
        .from
        .unwrap_or_else(|| bulwark_store::day_of(now - 30 * 86_400_000));
    let to = q.to.unwrap_or_else(|| bulwark_store::day_of(now));
    for day in [&from, &to] {
        if day.len() != 10 || day.as_bytes().get(4) != Some(&b'-') {
            return Err(ApiError::bad_request(format!(
                "{day:?} is not a day (YYYY-MM-DD)"
            )));
        }
    }
    let store = state.store.clone();
    blocking(move || Ok(store.snapshots(&principal, asset_id, q.team.as_deref(), &from, &to)?))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VexQuery {
    /// `openvex` (default) or `cyclonedx`.
    pub format: Option<String>,
}

/// The asset's triage decisions as a VEX document (OpenVEX or CycloneDX VEX) that
/// `bulwark image --vex` reads: `not_affected` and `fixed` decisions suppress their findings.
#[utoipa::path(get, path = "/api/v1/assets/{uuid}/vex", tag = "read",
    params(("uuid" = String, Path), VexQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn asset_vex(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Query(q): Query<VexQuery>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Read)?;
    let asset = asset_of(&state, &principal, uuid).await?;
    let store = state.store.clone();
    let id = asset.id;
    let statements = blocking(move || Ok(store.vex_statements(&principal, id)?)).await?;
    let (doc, content_type) = match q.format.as_deref().unwrap_or("openvex") {
        "openvex" => (
            crate::vex::openvex(&asset.name, &statements),
            "application/json",
        ),
        "cyclonedx" => (
            crate::vex::cyclonedx(&asset.name, &statements),
            "application/vnd.cyclonedx+json",
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "?format={other:?}: expected openvex or cyclonedx"
            )))
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], Json(doc)).into_response())
}
