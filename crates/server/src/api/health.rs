//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The state of the advisory store the server matches against.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryState {
    /// `ready`, `missing` (no store yet: `bulwark db update --db-dir <data-dir>/advisories`)
    /// or `unreadable`.
    pub state: &'static str,
    pub updated_at: Option<String>,
    pub advisories: Option<u64>,
    pub detail: Option<String>,
    /// The scheduled update (`--db-update-every`), when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_update: Option<crate::advisory_update::UpdateStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when the database answers.
    pub status: &'static str,
    pub database: String,
    pub advisories: AdvisoryState,
}

/// The database answers (503 when not) and the advisory store's state.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let dir = state.config.advisory_dir();
    let probe = state.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let database = probe.ping();
        let advisories = match bulwark_vulndb::Store::open(&dir) {
            Ok(store) => match store.metadata() {
                Ok(m) => AdvisoryState {
                    state: "ready",
                    updated_at: Some(m.updated_at),
                    advisories: Some(m.advisories),
                    detail: None,
                    scheduled_update: None,
                },
                Err(e) => unreadable(e),
            },
            Err(bulwark_vulndb::Error::NotFound(_)) => AdvisoryState {
                state: "missing",
                updated_at: None,
                advisories: None,
                detail: Some(format!(
                    "no advisory store yet: run `bulwark db update --db-dir {}` or POST /api/v1/advisories/import",
                    dir.display()
                )),
                scheduled_update: None,
            },
            Err(e) => unreadable(e),
        };
        let mut advisories = advisories;
        advisories.scheduled_update = crate::advisory_update::status(&probe);
        (database, advisories)
    })
    .await;
    let (database, advisories) = match checked {
        Ok(v) => v,
        Err(e) => (Err(e.to_string()), unreadable(e)),
    };
    let (status, code, database) = match database {
        Ok(name) => ("ready", StatusCode::OK, name),
        Err(e) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let body = Readiness {
        status,
        database,
        advisories,
    };
    (code, Json(body)).into_response()
}

fn unreadable(e: impl std::fmt::Display) -> AdvisoryState {
    AdvisoryState {
        state: "unreadable",
        updated_at: None,
        advisories: None,
        detail: Some(e.to_string()),
        scheduled_update: None,
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
