//! `POST /api/v1/reports` and `POST /api/v1/advisories/import`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::ingest::UploadMeta;
use crate::state::AppState;

/// What an upload stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadReply {
    pub asset: AssetRef,
    pub version: VersionRef,
    /// `bulwark-report`, `cyclonedx` or `spdx`.
    pub format: String,
    pub components: usize,
    /// Open findings of the version.
    pub findings: usize,
    pub new_asset: bool,
    pub new_version: bool,
    /// The same upload was seen before: nothing changed.
    pub duplicate: bool,
    /// Finding events (new, changed, resolved) the upload made.
    pub events: usize,
    /// Whose advisories `findings` comes from: `server`, `uploaded-report` (no advisory store
    /// yet: the report's own findings), or `not-matched` (no advisory store yet and an SBOM
    /// without findings: the count is not an all-clear).
    pub matched_by: crate::ingest::MatchedBy,
    /// What the client should tell its user (present unless `matched_by` is `server`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetRef {
    pub uuid: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionRef {
    pub uuid: String,
    pub key: String,
}

/// Stores a report or SBOM: bulwark's JSON report (`bulwark image --upload`), or a
/// CycloneDX or SPDX JSON SBOM (syft's, Trivy's, bulwark's). Matched server-side against the
/// server's advisory store, OS packages included. Idempotent: the same image digest is one
/// version, and a retried upload changes nothing. 201 when a version was created, else 200.
#[utoipa::path(post, path = "/api/v1/reports", tag = "ingest",
    params(UploadMeta),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 201, body = UploadReply), (status = 200, body = UploadReply),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn upload_report(
    State(state): State<AppState>,
    principal: Principal,
    Query(meta): Query<UploadMeta>,
    body: Bytes,
) -> Result<(StatusCode, Json<UploadReply>), ApiError> {
    principal.require(Scope::Upload)?;
    let who = principal.0.clone();
    let s = state.clone();
    let crate::ingest::Ingested {
        outcome,
        format,
        matched_by,
    } = blocking(move || crate::ingest::ingest_bytes(&s, &who, &body, &meta, None)).await?;
    let status = match outcome.new_version {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    let (asset_name, version_key) = {
        let store = state.store.clone();
        let who = principal.0.clone();
        let (asset, version) = (outcome.asset_id, outcome.version_id);
        blocking(move || {
            Ok((
                store
                    .asset(&who, asset)?
                    .map(|a| a.name)
                    .unwrap_or_default(),
                store
                    .version(&who, version)?
                    .map(|v| v.version_key)
                    .unwrap_or_default(),
            ))
        })
        .await?
    };
    Ok((
        status,
        Json(UploadReply {
            asset: AssetRef {
                uuid: outcome.asset_uuid.clone(),
                name: asset_name,
            },
            version: VersionRef {
                uuid: outcome.version_uuid.clone(),
                key: version_key,
            },
            format: crate::ingest::format_name(format).to_string(),
            components: outcome.component_count,
            findings: outcome.open_findings,
            new_asset: outcome.new_asset,
            new_version: outcome.new_version,
            duplicate: outcome.duplicate,
            events: outcome.events.len(),
            matched_by,
            warning: matched_by.warning().map(str::to_string),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The source's name: a later import under the same name replaces it (default `api`).
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReply {
    pub source: String,
    pub advisories: u64,
    pub skipped: u64,
}

/// Imports advisories (admin): an OSV zip (`all.zip` of an ecosystem) or an OSV JSON document,
/// into the server's advisory store. The change is noticed by rematch within its poll interval.
#[utoipa::path(post, path = "/api/v1/advisories/import", tag = "admin",
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_advisories(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReply>, ApiError> {
    principal.require(Scope::Admin)?;
    let name = q.name.unwrap_or_else(|| "api".to_string());
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request(
            "?name= must be 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "send an OSV zip or an OSV JSON document as the body",
        ));
    }
    let is_zip = body.starts_with(b"PK");
    if !is_zip && serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Err(ApiError::bad_request(
            "the body is neither a zip nor JSON: send an OSV zip (all.zip) or an OSV JSON document",
        ));
    }
    let _guard = state.advisory_lock.write().await;
    let s = state.clone();
    let reply = blocking(move || {
        let imports = s.config.data_dir.join("imports");
        std::fs::create_dir_all(&imports).map_err(ApiError::internal)?;
        // Other names' files of the same source are removed so the store keeps one per name.
        for ext in ["zip", "json"] {
            let _ = std::fs::remove_file(imports.join(format!("{name}.{ext}")));
        }
        let path = imports.join(format!("{name}.{}", if is_zip { "zip" } else { "json" }));
        std::fs::write(&path, &body).map_err(ApiError::internal)?;
        let summary = bulwark_vulndb::import_paths(
            &s.config.advisory_dir(),
            std::slice::from_ref(&path),
            &bulwark_vulndb::NoProgress,
        )
        .map_err(|e| ApiError::bad_request(format!("the advisories could not be imported: {e}")))?;
        let advisories = summary.sources.iter().map(|x| x.counts.advisories).sum();
        let skipped = summary.sources.iter().map(|x| x.skipped.total()).sum();
        Ok(ImportReply {
            source: name,
            advisories,
            skipped,
        })
    })
    .await?;
    drop(_guard);
    state.wake.rematch.notify_one();
    Ok(Json(reply))
}
