//! Notification rules (CRUD, test) and the delivery log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use bulwark_notify::{DeliveryOptions, DeliveryStatus, Notifier, RuleConfig};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{paged, PageOf};
use crate::auth::{Principal, Scope};
use crate::error::{blocking, ApiError, ErrorBody};
use crate::state::AppState;

/// A stored rule as the API shows it: secrets masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    /// The rule in the config file's shape (`type`, `url`, `on`, filters), secrets `***`.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

fn view(stored: &bulwark_store::NotificationRule) -> RuleView {
    let rule = crate::notifications::rule_of(stored)
        .map(|r| serde_json::to_value(r.masked_config()).unwrap_or_default())
        .unwrap_or_else(|e| serde_json::json!({"error": e}));
    RuleView {
        id: stored.id,
        name: stored.name.clone(),
        enabled: stored.enabled,
        rule,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

fn validate(config: RuleConfig) -> Result<bulwark_notify::Rule, ApiError> {
    config
        .validate()
        .map_err(|e| ApiError::unprocessable(format!("notification rule: {e}")))
}

/// The rules (admin; a team-limited admin sees its team's).
#[utoipa::path(get, path = "/api/v1/notifications/rules", tag = "notifications",
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_rules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<RuleView>>, ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    let rules = blocking(move || Ok(store.rules(&principal)?)).await?;
    Ok(Json(rules.iter().map(view).collect()))
}

/// Adds a rule: the shape of one item of `server.notifications` in bulwark.yaml
/// (`{"type": "webhook", "url": ..., "secret": ..., "on": ["new_finding"], "min_severity": "high"}`).
#[utoipa::path(post, path = "/api/v1/notifications/rules", tag = "notifications",
    request_body = Object,
    responses((status = 201, body = RuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_rule(
    State(state): State<AppState>,
    principal: Principal,
    Json(config): Json<RuleConfig>,
) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    principal.require(Scope::Admin)?;
    let rule = validate(config)?;
    let config = serde_json::to_value(rule.to_config()).map_err(ApiError::internal)?;
    let store = state.store.clone();
    let stored = blocking(move || {
        Ok(store.put_rule(
            &principal,
            &rule.name,
            rule.team.as_deref(),
            &config,
            rule.enabled,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view(&stored))))
}

async fn stored_rule(
    state: &AppState,
    who: &bulwark_store::Principal,
    id: i64,
) -> Result<bulwark_store::NotificationRule, ApiError> {
    let store = state.store.clone();
    let who = who.clone();
    blocking(move || {
        store
            .rules(&who)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no notification rule {id}")))
    })
    .await
}

/// Replaces a rule (its name stays). Masked secrets (`***`) sent back keep the stored ones.
#[utoipa::path(put, path = "/api/v1/notifications/rules/{id}", tag = "notifications",
    params(("id" = i64, Path)), request_body = Object,
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_rule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    Json(mut config): Json<RuleConfig>,
) -> Result<Json<RuleView>, ApiError> {
    principal.require(Scope::Admin)?;
    let old = stored_rule(&state, &principal.0, id).await?;
    if let Ok(old_rule) = crate::notifications::rule_of(&old) {
        config.keep_secrets_from(&old_rule);
    }
    config.name = Some(old.name.clone());
    let rule = validate(config)?;
    let json = serde_json::to_value(rule.to_config()).map_err(ApiError::internal)?;
    let store = state.store.clone();
    let stored = blocking(move || {
        Ok(store.put_rule(
            &principal,
            &old.name,
            rule.team.as_deref(),
            &json,
            rule.enabled,
        )?)
    })
    .await?;
    Ok(Json(view(&stored)))
}

/// Deletes a rule.
#[utoipa::path(delete, path = "/api/v1/notifications/rules/{id}", tag = "notifications",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_rule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    principal.require(Scope::Admin)?;
    let store = state.store.clone();
    blocking(move || Ok(store.delete_rule(&principal, id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// `delivered`, `retry` or `failed`.
    pub status: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub millis: u64,
}

/// Sends a test message through the rule now and says how it went.
#[utoipa::path(post, path = "/api/v1/notifications/rules/{id}/test", tag = "notifications",
    params(("id" = i64, Path)),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test_rule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<TestResult>, ApiError> {
    principal.require(Scope::Admin)?;
    Ok(Json(send_test(&state, &principal.0, id).await?))
}

/// Sends the test event through rule `id` now (the API's `POST .../test` and the dashboard's
/// "send test" button): the rule's own publisher, the delivery options of real events.
pub async fn send_test(
    state: &AppState,
    who: &bulwark_store::Principal,
    id: i64,
) -> Result<TestResult, ApiError> {
    who.require(bulwark_store::Scope::Admin)?;
    let stored = stored_rule(state, who, id).await?;
    let rule = crate::notifications::rule_of(&stored).map_err(ApiError::unprocessable)?;
    let event = bulwark_notify::Event {
        kind: bulwark_notify::EventKind::Test,
        time: time::OffsetDateTime::now_utc(),
        finding: bulwark_notify::Finding {
            vulnerability_id: "CVE-0000-0000".into(),
            aliases: Vec::new(),
            severity: bulwark_types::Severity::Low,
            cvss: None,
            epss: None,
            kev: false,
            fixed_versions: Vec::new(),
        },
        package: bulwark_notify::PackageRef {
            name: "example".into(),
            version: "1.0".into(),
            purl: None,
        },
        asset: bulwark_notify::AssetRef {
            name: "bulwark test notification".into(),
            version: None,
            digest: None,
            team: None,
            owner: None,
        },
        dashboard_url: state.config.dashboard_url.clone(),
        changed: Vec::new(),
    };
    let result = blocking(move || {
        let notifier = Notifier::new(DeliveryOptions::default())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(notifier.deliver(&rule.publisher, &event, &format!("test-{id}")))
    })
    .await?;
    Ok(TestResult {
        status: match result.status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Retry { .. } => "retry",
            DeliveryStatus::Failed => "failed",
        }
        .into(),
        http_status: result.http_status,
        error: result.error,
        millis: u64::try_from(result.elapsed.as_millis()).unwrap_or(u64::MAX),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only this rule's deliveries.
    pub rule: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

/// The delivery log, newest first: state, attempts, last status and error.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications",
    params(DeliveryQuery),
    responses((status = 200, body = PageOf)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<PageOf>, ApiError> {
    principal.require(Scope::Read)?;
    let page = super::PageQuery {
        limit: q.limit,
        offset: q.offset,
    };
    let store = state.store.clone();
    let list = blocking(move || Ok(store.deliveries(&principal, q.rule, page.page())?)).await?;
    paged(list, page)
}
