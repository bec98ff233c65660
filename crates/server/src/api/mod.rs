//! The server's own REST API under `/api/v1`, plus `/healthz`, `/readyz` and `/metrics`.

mod admin;
mod assets;
mod health;
pub(crate) mod notifications;
mod reports;
mod scans;
mod triage;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(reports::upload_report))
        .routes(routes!(reports::import_advisories))
        .routes(routes!(assets::list_assets))
        .routes(routes!(assets::get_asset, assets::update_asset))
        .routes(routes!(assets::asset_versions))
        .routes(routes!(assets::asset_findings))
        .routes(routes!(assets::version_findings))
        .routes(routes!(assets::digest_findings))
        .routes(routes!(assets::vulnerability_assets))
        .routes(routes!(assets::events))
        .routes(routes!(assets::snapshots))
        .routes(routes!(assets::asset_vex))
        .routes(routes!(triage::set_triage))
        .routes(routes!(triage::bulk_triage))
        .routes(routes!(triage::triage_history))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::create_team, admin::list_teams))
        .routes(routes!(admin::rematch))
        .routes(routes!(admin::audit_log))
        .routes(routes!(
            notifications::list_rules,
            notifications::create_rule
        ))
        .routes(routes!(
            notifications::update_rule,
            notifications::delete_rule
        ))
        .routes(routes!(notifications::test_rule))
        .routes(routes!(notifications::deliveries))
        .routes(routes!(scans::start_scan))
        .routes(routes!(scans::get_scan))
}

/// `?limit=&offset=` (at most 1,000 a page).
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub offset: Option<u64>,
}

impl PageQuery {
    pub fn page(self) -> bulwark_store::Page {
        bulwark_store::Page::new(self.limit.unwrap_or(100), self.offset.unwrap_or(0))
    }
}

/// A page of items and how many there are in all.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PageOf {
    #[schema(value_type = Vec<Object>)]
    pub items: serde_json::Value,
    pub total: i64,
    pub limit: u32,
    pub offset: u64,
}

pub fn paged<T: serde::Serialize>(
    paged: bulwark_store::Paged<T>,
    q: PageQuery,
) -> Result<axum::Json<PageOf>, crate::ApiError> {
    let page = q.page();
    Ok(axum::Json(PageOf {
        items: serde_json::to_value(paged.items).map_err(crate::ApiError::internal)?,
        total: paged.total,
        limit: page.limit.clamp(1, bulwark_store::Page::MAX_LIMIT),
        offset: page.offset,
    }))
}
