//! What the compatibility APIs need from the store and the matcher, in their terms: a
//! Dependency-Track project is a stored version of an asset, its findings carry their triage,
//! and an uploaded BOM is read, matched against the server's advisory store and ingested.
//! Every store call runs off the async threads ([`crate::error::blocking`]).

use bulwark_store::{FindingFilter, FindingSort, Page, Store, TriageInput, TriageState};
use bulwark_types::VulnerabilityFinding;
use uuid::Uuid;

use super::dtrack_model::{
    self as model, AnalysisJustification, AnalysisResponse, AnalysisState, TriageView,
};
use crate::auth::Principal;
use crate::error::{blocking, ApiError};
use crate::state::AppState;

/// Why a compatibility call failed, for the caller to answer in its API's shape.
#[derive(Debug)]
pub enum GlueError {
    Api(ApiError),
    /// The uploaded document cannot be read as a BOM (the message says why), with the status
    /// to answer (400, or 413 when it is too large).
    InvalidBom(axum::http::StatusCode, String),
    ProjectNotFound,
}

impl From<ApiError> for GlueError {
    fn from(e: ApiError) -> GlueError {
        GlueError::Api(e)
    }
}

impl std::fmt::Display for GlueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GlueError::Api(e) => write!(f, "{}", e.message),
            GlueError::InvalidBom(_, detail) => write!(f, "the BOM is invalid: {detail}"),
            GlueError::ProjectNotFound => f.write_str("the project could not be found"),
        }
    }
}

type Result<T> = std::result::Result<T, GlueError>;

/// A Dependency-Track project: one version of one asset.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    /// The version's UUID (the project's UUID to clients).
    pub uuid: Uuid,
    pub asset_id: i64,
    pub version_id: i64,
    pub name: String,
    pub version: String,
    pub team: Option<String>,
    pub is_latest: bool,
    /// When its content was last uploaded (unix ms).
    pub last_import_ms: i64,
    pub first_seen_ms: i64,
    pub components: u64,
    /// The source kind the version was uploaded as.
    pub format: Option<String>,
}

/// A finding with what the views need besides it.
#[derive(Debug, Clone)]
pub struct StoredFinding {
    pub finding: VulnerabilityFinding,
    pub triage: Option<TriageView>,
    pub first_seen_ms: i64,
}

/// The store and the caller as the store knows it.
fn store_and_who(state: &AppState, principal: &Principal) -> (Store, bulwark_store::Principal) {
    (state.store.clone(), principal.0.clone())
}

fn parse_uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

fn project_row(
    asset: &bulwark_store::AssetSummary,
    v: &bulwark_store::VersionSummary,
) -> Option<ProjectRow> {
    Some(ProjectRow {
        uuid: parse_uuid(&v.uuid)?,
        asset_id: asset.id,
        version_id: v.id,
        name: asset.name.clone(),
        version: v.version_key.clone(),
        team: asset.team.as_ref().map(|t| t.name.clone()),
        is_latest: asset.latest_version.as_ref().is_some_and(|l| l.id == v.id),
        last_import_ms: v.last_seen,
        first_seen_ms: v.first_seen,
        components: u64::try_from(v.component_count).unwrap_or(0),
        format: Some(v.source_kind.clone()),
    })
}

/// The project with version UUID `uuid`, if the caller may see it.
pub async fn project_by_uuid(
    state: &AppState,
    principal: &Principal,
    uuid: Uuid,
) -> Result<Option<ProjectRow>> {
    let (store, who) = store_and_who(state, principal);
    let found = blocking(move || {
        let Some(v) = store
            .version_by_uuid(&who, &uuid.to_string())
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        let asset = store.asset(&who, v.asset_id).map_err(ApiError::from)?;
        Ok(asset.and_then(|a| project_row(&a, &v)))
    })
    .await?;
    Ok(found)
}

/// The project `name` at `version`, if it exists and the caller may see it.
pub async fn project_by_name(
    state: &AppState,
    principal: &Principal,
    name: &str,
    version: &str,
) -> Result<Option<ProjectRow>> {
    let (store, who) = store_and_who(state, principal);
    let (name, version) = (name.to_string(), version.to_string());
    let found = blocking(move || {
        let Some(asset) = store.asset_by_name(&who, &name).map_err(ApiError::from)? else {
            return Ok(None);
        };
        let v = store
            .version_by_key(&who, asset.id, &version)
            .map_err(ApiError::from)?;
        Ok(v.and_then(|v| project_row(&asset, &v)))
    })
    .await?;
    Ok(found)
}

/// The most projects a listing returns (Dependency-Track pages its lists too).
const MAX_LISTED_PROJECTS: usize = 1_000;

/// Every version of the asset `name` (or of every asset the caller sees), newest first, at
/// most [`MAX_LISTED_PROJECTS`].
pub async fn list_projects(
    state: &AppState,
    principal: &Principal,
    name: Option<&str>,
) -> Result<Vec<ProjectRow>> {
    let (store, who) = store_and_who(state, principal);
    let name = name.map(str::to_string);
    let rows = blocking(move || {
        let assets = match name {
            Some(name) => store
                .asset_by_name(&who, &name)
                .map_err(ApiError::from)?
                .into_iter()
                .collect(),
            None => {
                let filter = bulwark_store::AssetFilter::default();
                store
                    .list_assets(&who, &filter, Page::new(Page::MAX_LIMIT, 0))
                    .map_err(ApiError::from)?
                    .items
            }
        };
        let mut rows = Vec::new();
        for asset in assets {
            let versions = store
                .versions(&who, asset.id, Page::new(Page::MAX_LIMIT, 0))
                .map_err(ApiError::from)?;
            rows.extend(versions.items.iter().filter_map(|v| project_row(&asset, v)));
            if rows.len() >= MAX_LISTED_PROJECTS {
                rows.truncate(MAX_LISTED_PROJECTS);
                break;
            }
        }
        Ok(rows)
    })
    .await?;
    Ok(rows)
}

/// The open findings of `project`, suppressed ones included (each says so), most severe
/// first.
pub async fn findings(
    state: &AppState,
    principal: &Principal,
    project: &ProjectRow,
) -> Result<Vec<StoredFinding>> {
    let (store, who) = store_and_who(state, principal);
    let version_id = project.version_id;
    let rows = blocking(move || {
        let filter = FindingFilter {
            state: Some("open".to_string()),
            include_suppressed: true,
            ..FindingFilter::default()
        };
        let mut out = Vec::new();
        let mut offset = 0u64;
        loop {
            let page = store
                .findings(
                    &who,
                    version_id,
                    &filter,
                    FindingSort::default(),
                    Page::new(Page::MAX_LIMIT, offset),
                )
                .map_err(ApiError::from)?;
            let got = page.items.len() as u64;
            out.extend(page.items.into_iter().map(|r| StoredFinding {
                triage: r.triage_state.map(|s| TriageView {
                    state: analysis_state(s),
                    suppressed: r.suppressed,
                }),
                first_seen_ms: r.first_seen,
                finding: r.finding,
            }));
            offset += got;
            if got == 0 || offset >= u64::try_from(page.total).unwrap_or(0) {
                break;
            }
        }
        Ok(out)
    })
    .await?;
    Ok(rows)
}

fn analysis_state(s: TriageState) -> AnalysisState {
    match s {
        TriageState::NotSet => AnalysisState::NotSet,
        TriageState::Exploitable => AnalysisState::Exploitable,
        TriageState::InTriage => AnalysisState::InTriage,
        TriageState::Resolved => AnalysisState::Resolved,
        TriageState::FalsePositive => AnalysisState::FalsePositive,
        TriageState::NotAffected => AnalysisState::NotAffected,
    }
}

fn triage_state(s: AnalysisState) -> TriageState {
    match s {
        AnalysisState::NotSet => TriageState::NotSet,
        AnalysisState::Exploitable => TriageState::Exploitable,
        AnalysisState::InTriage => TriageState::InTriage,
        AnalysisState::Resolved => TriageState::Resolved,
        AnalysisState::FalsePositive => TriageState::FalsePositive,
        AnalysisState::NotAffected => TriageState::NotAffected,
    }
}

fn upper(s: &str) -> String {
    s.to_ascii_uppercase()
}

/// The analysis of one finding with its comment trail, in Dependency-Track's shape.
fn analysis_of(
    entry: &bulwark_store::TriageEntry,
    history: &[bulwark_store::TriageHistoryEntry],
) -> model::Analysis {
    let justification = entry
        .justification
        .as_deref()
        .and_then(AnalysisJustification::from_snake)
        .unwrap_or(AnalysisJustification::NotSet);
    let response = entry
        .response
        .as_deref()
        .and_then(AnalysisResponse::from_snake)
        .unwrap_or(AnalysisResponse::NotSet);
    model::Analysis {
        analysis_state: analysis_state(entry.state),
        analysis_justification: justification,
        analysis_response: response,
        analysis_details: None,
        analysis_comments: history
            .iter()
            .filter_map(|h| {
                h.comment.as_ref().map(|c| model::AnalysisComment {
                    timestamp: h.at,
                    comment: c.clone(),
                    commenter: Some(h.actor.clone()),
                })
            })
            .collect(),
        is_suppressed: entry.suppressed,
    }
}

/// The recorded analysis of `finding` in `project`, if any.
pub async fn analysis(
    state: &AppState,
    principal: &Principal,
    project: &ProjectRow,
    finding: &VulnerabilityFinding,
) -> Result<Option<model::Analysis>> {
    let (store, who) = store_and_who(state, principal);
    let asset_id = project.asset_id;
    let (vuln, purl) = (finding.id.clone(), finding.package.purl.to_string());
    let found = blocking(move || {
        let Some(entry) = store
            .triage(&who, asset_id, &vuln, &purl)
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        let history = store
            .triage_history(&who, asset_id, &vuln, &purl)
            .map_err(ApiError::from)?;
        Ok(Some(analysis_of(&entry, &history)))
    })
    .await?;
    Ok(found)
}

/// Records an analysis (`PUT /api/v1/analysis`) as the server's triage of the finding; fields
/// the request leaves out keep their current value, as in Dependency-Track.
pub async fn set_analysis(
    state: &AppState,
    principal: &Principal,
    project: &ProjectRow,
    finding: &VulnerabilityFinding,
    request: &model::AnalysisRequest,
) -> Result<model::Analysis> {
    let (store, who) = store_and_who(state, principal);
    let asset_id = project.asset_id;
    let (vuln, purl) = (finding.id.clone(), finding.package.purl.to_string());
    let request = request.clone();
    let analysis = blocking(move || {
        let current = store
            .triage(&who, asset_id, &vuln, &purl)
            .map_err(ApiError::from)?;
        let state = request
            .analysis_state
            .map(triage_state)
            .or(current.as_ref().map(|c| c.state))
            .unwrap_or(TriageState::NotSet);
        let input = TriageInput {
            state,
            justification: request
                .analysis_justification
                .map(|j| upper(j.as_snake()))
                .or_else(|| current.as_ref().and_then(|c| c.justification.clone())),
            response: request
                .analysis_response
                .map(|r| upper(r.as_snake()))
                .or_else(|| current.as_ref().and_then(|c| c.response.clone())),
            comment: request
                .comment
                .clone()
                .or_else(|| request.analysis_details.clone())
                .filter(|c| !c.trim().is_empty()),
            suppressed: request
                .suppressed
                .or(current.as_ref().map(|c| c.suppressed))
                .unwrap_or(false),
        };
        let entry = store
            .set_triage(&who, asset_id, &vuln, &purl, &input)
            .map_err(ApiError::from)?;
        let history = store
            .triage_history(&who, asset_id, &vuln, &purl)
            .map_err(ApiError::from)?;
        Ok(analysis_of(&entry, &history))
    })
    .await?;
    Ok(analysis)
}

/// Reads `bytes` as an SBOM, matches it against the server's advisory store (OS packages
/// included) and stores it as version `version` of asset `name` (created when new), through
/// the server's ingest (notifications included). A retried upload of the same bytes is
/// recognised by the store and only marks the version seen.
pub async fn ingest_bom(
    state: &AppState,
    principal: &Principal,
    name: &str,
    version: &str,
    bytes: Vec<u8>,
) -> Result<ProjectRow> {
    let who = principal.0.clone();
    let meta = crate::ingest::UploadMeta {
        asset: Some(name.to_string()),
        version: Some(version.to_string()),
        label: Some(version.to_string()).filter(|v| !v.is_empty()),
        ..crate::ingest::UploadMeta::default()
    };
    let task_state = state.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        crate::ingest::ingest_bytes(&task_state, &who, &bytes, &meta, Some("dependency-track"))
    })
    .await
    .map_err(ApiError::from)?
    .map_err(
        |e| match e.status.is_client_error() && e.status.as_u16() != 403 {
            // The document itself is at fault: Dependency-Track's "invalid BOM".
            true => GlueError::InvalidBom(e.status, e.message),
            false => GlueError::Api(e),
        },
    )?;
    project_by_uuid(
        state,
        principal,
        parse_uuid(&outcome.outcome.version_uuid).unwrap_or_default(),
    )
    .await?
    .ok_or(GlueError::ProjectNotFound)
}

/// The vulnerability gate of the server's config file (`gates.vulnerabilities`: `true` or
/// `{severity, fixable, kev, epss}`, as in `bulwark.yaml`), read when asked so an edit applies
/// without a restart; `None` without a config file or gate.
pub async fn gate(state: &AppState) -> Result<Option<model::VulnGate>> {
    let Some(path) = state.config.config_file.clone() else {
        return Ok(None);
    };
    let gate = blocking(move || read_gate(&path).map_err(ApiError::unavailable)).await?;
    Ok(gate)
}

fn read_gate(path: &std::path::Path) -> std::result::Result<Option<model::VulnGate>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        gates: Option<Gates>,
    }
    #[derive(serde::Deserialize)]
    struct Gates {
        #[serde(default)]
        vulnerabilities: Option<serde_json::Value>,
    }
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {shown}: {e}"))?;
    let file: File = serde_saphyr::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
    match file.gates.and_then(|g| g.vulnerabilities) {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => Ok(None),
        Some(serde_json::Value::Bool(true)) => Ok(Some(model::VulnGate::default())),
        Some(settings) => serde_json::from_value(settings)
            .map(Some)
            .map_err(|e| format!("{shown}: gates.vulnerabilities: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::read_gate;
    use bulwark_types::Severity;

    #[test]
    fn the_gate_is_read_from_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bulwark.yaml");
        let gate = |yaml: &str| {
            std::fs::write(&path, yaml).unwrap();
            read_gate(&path)
        };
        assert_eq!(gate("server: {}\n").unwrap(), None);
        assert_eq!(gate("gates:\n  vulnerabilities: false\n").unwrap(), None);
        assert_eq!(
            gate("gates:\n  vulnerabilities: true\n")
                .unwrap()
                .unwrap()
                .severity,
            None
        );
        let g = gate("gates:\n  vulnerabilities:\n    severity: high\n    fixable: true\n")
            .unwrap()
            .unwrap();
        assert_eq!((g.severity, g.fixable), (Some(Severity::High), true));
        let err = gate("gates:\n  vulnerabilities:\n    severity: urgent\n").unwrap_err();
        assert!(err.contains("gates.vulnerabilities"), "{err}");
    }
}
