//! Dependency-Track's v4 REST API, the part CI plugins and scripts use (see the module doc of
//! [`crate::compat`]). Shapes are in [`super::dtrack_model`]; storage goes through
//! [`super::glue`].
//!
//! Errors are answered as Dependency-Track 4.11+ answers them, RFC 9457 problem details
//! (`application/problem+json`: `status`, `title`, `detail`); authentication errors are the
//! server's own (401/403 JSON).

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::dtrack_model::{
    self as model, About, AnalysisRequest, BomSubmitRequest, ProjectRef, TokenProcessingResponse,
};
use super::glue::{self, ProjectRow, StoredFinding};
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// The Dependency-Track routes, at Dependency-Track's own paths.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/version", get(version))
        .route(
            "/api/v1/bom",
            axum::routing::put(upload_json).post(upload_multipart),
        )
        .route("/api/v1/event/token/{token}", get(token_status))
        // Deprecated in Dependency-Track 4.11 but still what dtrack-auditor polls.
        .route("/api/v1/bom/token/{token}", get(token_status))
        .route("/api/v1/project", get(list_projects))
        .route("/api/v1/project/lookup", get(lookup_project))
        .route("/api/v1/project/{uuid}", get(get_project))
        .route("/api/v1/finding/project/{uuid}", get(project_findings))
        .route(
            "/api/v1/metrics/project/{uuid}/current",
            get(project_metrics),
        )
        .route("/api/v1/violation/project/{uuid}", get(project_violations))
        .route("/api/v1/analysis", get(get_analysis).put(put_analysis))
}

/// An error in Dependency-Track's problem-details shape.
#[derive(Debug)]
pub struct DtError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
}

impl DtError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> DtError {
        DtError {
            status,
            title,
            detail: detail.into(),
        }
    }

    fn bad_request(detail: impl Into<String>) -> DtError {
        DtError::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    fn invalid_bom(detail: impl Into<String>) -> DtError {
        DtError::new(
            StatusCode::BAD_REQUEST,
            "The uploaded BOM is invalid",
            detail,
        )
    }

    fn project_not_found() -> DtError {
        DtError::new(
            StatusCode::NOT_FOUND,
            "Project not found",
            "The project could not be found.",
        )
    }
}

impl IntoResponse for DtError {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            status: self.status.as_u16(),
            title: self.title,
            detail: &self.detail,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Either error shape: the server's (authentication, internal) or Dependency-Track's.
pub enum Failure {
    Api(ApiError),
    Dt(DtError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

impl From<DtError> for Failure {
    fn from(e: DtError) -> Failure {
        Failure::Dt(e)
    }
}

impl From<glue::GlueError> for Failure {
    fn from(e: glue::GlueError) -> Failure {
        match e {
            glue::GlueError::Api(e) => Failure::Api(e),
            glue::GlueError::InvalidBom(status, detail) => {
                Failure::Dt(DtError::new(status, "The uploaded BOM is invalid", detail))
            }
            glue::GlueError::ProjectNotFound => Failure::Dt(DtError::project_not_found()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Api(e) => e.into_response(),
            Failure::Dt(e) => e.into_response(),
        }
    }
}

type DtResult<T> = Result<T, Failure>;

/// `GET /api/version`: public, as in Dependency-Track (clients probe it before anything).
async fn version() -> Json<About> {
    Json(About::current())
}

/// `PUT /api/v1/bom`: a JSON body with the BOM base64-encoded.
async fn upload_json(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> DtResult<Json<model::BomUploadResponse>> {
    principal.require(Scope::Upload)?;
    let request: BomSubmitRequest = serde_json::from_slice(&body).map_err(|e| {
        DtError::bad_request(format!(
            "the body is not a BOM submission ({e}): send JSON like {{\"projectName\": \"app\", \
             \"projectVersion\": \"1.0\", \"autoCreate\": true, \"bom\": \"<base64>\"}}"
        ))
    })?;
    submit(state, principal, request).await
}

/// `POST /api/v1/bom`: multipart/form-data with the same fields; `bom` is a file part or a
/// text field holding the BOM itself (not base64), as Dependency-Track reads it.
async fn upload_multipart(
    State(state): State<AppState>,
    principal: Principal,
    mut form: Multipart,
) -> DtResult<Json<model::BomUploadResponse>> {
    principal.require(Scope::Upload)?;
    let mut fields = serde_json::Map::new();
    let mut bom: Option<Vec<u8>> = None;
    loop {
        let field = form.next_field().await.map_err(|e| {
            DtError::bad_request(format!(
                "the multipart body cannot be read ({e}); send multipart/form-data with a \
                 `bom` part and `projectName`/`projectVersion` (or `project`) fields"
            ))
        })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| DtError::bad_request(format!("the `{name}` part cannot be read: {e}")))?;
        if name == "bom" {
            bom = Some(data.to_vec());
        } else {
            let text = String::from_utf8_lossy(&data).trim().to_string();
            fields.insert(name, serde_json::Value::String(text));
        }
    }
    let mut request: BomSubmitRequest =
        serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| DtError::bad_request(format!("the form fields are not valid: {e}")))?;
    let bytes = bom.ok_or_else(|| {
        DtError::bad_request("the form has no `bom` part: attach the BOM file as `bom`")
    })?;
    model::check_json_bom(&bytes).map_err(|e| DtError::invalid_bom(e.to_string()))?;
    request.bom = None;
    submit_bytes(state, principal, request, bytes).await
}

async fn submit(
    state: AppState,
    principal: Principal,
    request: BomSubmitRequest,
) -> DtResult<Json<model::BomUploadResponse>> {
    let bytes = request.decoded_bom().map_err(|e| match e {
        model::BomRequestError::MissingBom => DtError::bad_request(e.to_string()),
        _ => DtError::invalid_bom(e.to_string()),
    })?;
    submit_bytes(state, principal, request, bytes).await
}

async fn submit_bytes(
    state: AppState,
    principal: Principal,
    request: BomSubmitRequest,
    bytes: Vec<u8>,
) -> DtResult<Json<model::BomUploadResponse>> {
    let target = request
        .project_ref()
        .map_err(|e| DtError::bad_request(e.to_string()))?;
    // Resolve a UUID to its name and version; a name + version that does not exist yet is
    // created only with autoCreate, as in Dependency-Track.
    let (name, version) = match target {
        ProjectRef::Uuid(uuid) => {
            let project = glue::project_by_uuid(&state, &principal, uuid)
                .await?
                .ok_or_else(DtError::project_not_found)?;
            (project.name, project.version)
        }
        ProjectRef::NameVersion { name, version } => {
            if !request.auto_create
                && glue::project_by_name(&state, &principal, &name, &version)
                    .await?
                    .is_none()
            {
                return Err(DtError::project_not_found().into());
            }
            (name, version)
        }
    };
    glue::ingest_bom(&state, &principal, &name, &version, bytes).await?;
    // Processing is synchronous: by the time the token is handed out the BOM is matched and
    // stored, so every token reports `processing: false`.
    Ok(Json(model::BomUploadResponse {
        token: Uuid::new_v4(),
    }))
}

/// `GET /api/v1/event/token/{token}`: uploads are processed before their reply, so nothing is
/// ever still processing (Dependency-Track's `false` likewise does not vouch for the token).
async fn token_status(
    principal: Principal,
    Path(token): Path<String>,
) -> DtResult<Json<TokenProcessingResponse>> {
    principal
        .require(Scope::Upload)
        .or_else(|_| principal.require(Scope::Read))?;
    Uuid::parse_str(token.trim())
        .map_err(|_| DtError::bad_request(format!("{token:?} is not a token (a UUID)")))?;
    Ok(Json(TokenProcessingResponse { processing: false }))
}

#[derive(Deserialize)]
struct ProjectQuery {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

fn project_json(p: &ProjectRow) -> model::Project {
    model::Project {
        uuid: p.uuid,
        name: p.name.clone(),
        version: p.version.clone(),
        classifier: "CONTAINER",
        active: true,
        is_latest: p.is_latest,
        tags: p
            .team
            .iter()
            .map(|t| model::Tag { name: t.clone() })
            .collect(),
        last_bom_import: p.last_import_ms,
        last_bom_import_format: p.format.clone(),
        last_vulnerability_analysis: Some(p.last_import_ms),
        metrics: None,
    }
}

/// `GET /api/v1/project[?name=]`: the projects the token sees, by name when given (every
/// version of it, as Dependency-Track lists them).
async fn list_projects(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ProjectQuery>,
) -> DtResult<Response> {
    principal.require(Scope::Read)?;
    let projects = glue::list_projects(&state, &principal, q.name.as_deref()).await?;
    let total = projects.len();
    let body: Vec<model::Project> = projects.iter().map(project_json).collect();
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert("X-Total-Count", HeaderValue::from(total));
    Ok(response)
}

/// `GET /api/v1/project/lookup?name=&version=`.
async fn lookup_project(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ProjectQuery>,
) -> DtResult<Json<model::Project>> {
    principal.require(Scope::Read)?;
    let name = q
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| DtError::bad_request("give the project's `name` (and `version`)"))?;
    let version = q.version.unwrap_or_default();
    let project = glue::project_by_name(&state, &principal, &name, &version)
        .await?
        .ok_or_else(DtError::project_not_found)?;
    Ok(Json(project_json(&project)))
}

fn parse_uuid(text: &str) -> Result<Uuid, DtError> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        DtError::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            format!("{text:?} is not a UUID"),
        )
    })
}

async fn project_or_404(
    state: &AppState,
    principal: &Principal,
    uuid: &str,
) -> DtResult<ProjectRow> {
    let uuid = parse_uuid(uuid)?;
    Ok(glue::project_by_uuid(state, principal, uuid)
        .await?
        .ok_or_else(DtError::project_not_found)?)
}

/// `GET /api/v1/project/{uuid}`.
async fn get_project(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
) -> DtResult<Json<model::Project>> {
    principal.require(Scope::Read)?;
    let project = project_or_404(&state, &principal, &uuid).await?;
    let findings = glue::findings(&state, &principal, &project).await?;
    let gate = glue::gate(&state).await?;
    let mut json = project_json(&project);
    json.metrics = Some(metrics_of(&project, &findings, gate.as_ref()));
    Ok(Json(json))
}

#[derive(Deserialize)]
struct FindingQuery {
    #[serde(default)]
    suppressed: Option<String>,
}

/// `GET /api/v1/finding/project/{uuid}[?suppressed=true]`: suppressed findings only when
/// asked for, as in Dependency-Track.
async fn project_findings(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
    Query(q): Query<FindingQuery>,
) -> DtResult<Response> {
    principal.require(Scope::Read)?;
    let project = project_or_404(&state, &principal, &uuid).await?;
    let with_suppressed = q.suppressed.as_deref().is_some_and(model::parse_bool);
    let findings = glue::findings(&state, &principal, &project).await?;
    let body: Vec<model::Finding> = findings
        .iter()
        .filter(|f| with_suppressed || !f.triage.as_ref().is_some_and(|t| t.suppressed))
        .map(|f| model::finding(project.uuid, &f.finding, f.triage.as_ref(), f.first_seen_ms))
        .collect();
    let total = body.len();
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert("X-Total-Count", HeaderValue::from(total));
    Ok(response)
}

fn violations_of(
    project: &ProjectRow,
    findings: &[StoredFinding],
    gate: Option<&model::VulnGate>,
) -> Vec<model::PolicyViolation> {
    let Some(gate) = gate else {
        return Vec::new();
    };
    let owner = model::ViolationProject {
        uuid: project.uuid,
        name: project.name.clone(),
        version: project.version.clone(),
    };
    model::gate_violations(
        &owner,
        findings.iter().map(|f| (&f.finding, f.triage.as_ref())),
        gate,
        project.last_import_ms,
    )
}

fn metrics_of(
    project: &ProjectRow,
    findings: &[StoredFinding],
    gate: Option<&model::VulnGate>,
) -> model::ProjectMetrics {
    model::metrics(
        findings.iter().map(|f| (&f.finding, f.triage.as_ref())),
        project.components,
        &violations_of(project, findings, gate),
        project.last_import_ms,
        project.first_seen_ms,
    )
}

/// `GET /api/v1/metrics/project/{uuid}/current`.
async fn project_metrics(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
) -> DtResult<Json<model::ProjectMetrics>> {
    principal.require(Scope::Read)?;
    let project = project_or_404(&state, &principal, &uuid).await?;
    let findings = glue::findings(&state, &principal, &project).await?;
    let gate = glue::gate(&state).await?;
    Ok(Json(metrics_of(&project, &findings, gate.as_ref())))
}

/// `GET /api/v1/violation/project/{uuid}`: the findings that fail the server's vulnerability
/// gate (`gates.vulnerabilities` in its config file) as policy violations; `[]` without a
/// gate.
async fn project_violations(
    State(state): State<AppState>,
    principal: Principal,
    Path(uuid): Path<String>,
) -> DtResult<Response> {
    principal.require(Scope::Read)?;
    let project = project_or_404(&state, &principal, &uuid).await?;
    let findings = glue::findings(&state, &principal, &project).await?;
    let gate = glue::gate(&state).await?;
    let body = violations_of(&project, &findings, gate.as_ref());
    let total = body.len();
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert("X-Total-Count", HeaderValue::from(total));
    Ok(response)
}

/// The finding of `project` a component and vulnerability UUID name, found by recomputing
/// each finding's derived UUIDs.
fn find_finding<'a>(
    project: &ProjectRow,
    findings: &'a [StoredFinding],
    component: Uuid,
    vulnerability: Uuid,
) -> Option<&'a StoredFinding> {
    findings.iter().find(|f| {
        model::vulnerability_uuid(&f.finding.id) == vulnerability
            && model::component_uuid(project.uuid, &f.finding.package.purl.to_string()) == component
    })
}

#[derive(Deserialize)]
struct AnalysisQuery {
    project: Option<String>,
    component: Option<String>,
    vulnerability: Option<String>,
}

/// `GET /api/v1/analysis?project=&component=&vulnerability=`.
async fn get_analysis(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AnalysisQuery>,
) -> DtResult<Json<model::Analysis>> {
    principal.require(Scope::Read)?;
    let (Some(project), Some(component), Some(vulnerability)) =
        (q.project, q.component, q.vulnerability)
    else {
        return Err(DtError::bad_request(
            "give `project`, `component` and `vulnerability` (UUIDs, as the findings list them)",
        )
        .into());
    };
    let project = project_or_404(&state, &principal, &project).await?;
    let findings = glue::findings(&state, &principal, &project).await?;
    let finding = find_finding(
        &project,
        &findings,
        parse_uuid(&component)?,
        parse_uuid(&vulnerability)?,
    )
    .ok_or_else(analysis_not_found)?;
    let analysis = glue::analysis(&state, &principal, &project, &finding.finding)
        .await?
        .ok_or_else(analysis_not_found)?;
    Ok(Json(analysis))
}

fn analysis_not_found() -> DtError {
    DtError::new(
        StatusCode::NOT_FOUND,
        "Analysis not found",
        "No analysis exists for this project, component and vulnerability.",
    )
}

/// `PUT /api/v1/analysis`: records a triage decision in Dependency-Track's terms; it is the
/// server's triage (kept per asset, vulnerability and package, so later versions inherit it).
async fn put_analysis(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> DtResult<Json<model::Analysis>> {
    principal.require(Scope::Triage)?;
    let request: AnalysisRequest = serde_json::from_slice(&body).map_err(|e| {
        DtError::bad_request(format!(
            "the body is not an analysis request ({e}): send `project`, `component`, \
             `vulnerability` (UUIDs) and `analysisState`, `analysisJustification`, \
             `analysisResponse`, `comment`, `isSuppressed`"
        ))
    })?;
    let project_uuid = request.project.ok_or_else(|| {
        DtError::bad_request("give `project`: the project UUID the finding belongs to")
    })?;
    let project = glue::project_by_uuid(&state, &principal, project_uuid)
        .await?
        .ok_or_else(DtError::project_not_found)?;
    let findings = glue::findings(&state, &principal, &project).await?;
    let finding = find_finding(
        &project,
        &findings,
        request.component,
        request.vulnerability,
    )
    .ok_or_else(|| {
        DtError::new(
            StatusCode::NOT_FOUND,
            "Finding not found",
            "The component or vulnerability could not be found in this project.",
        )
    })?
    .finding
    .clone();
    let analysis = glue::set_analysis(&state, &principal, &project, &finding, &request).await?;
    Ok(Json(analysis))
}
