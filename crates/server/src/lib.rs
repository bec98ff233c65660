//! `bulwark server`: keeps every image's SBOM, rematches them when advisories change, tells
//! the owners, and remembers triage decisions (issue 20).
//!
//! The shape, for handlers (and the compatibility APIs in `compat`):
//! - [`AppState`] (cheap to clone) holds the [`ServerConfig`], the store (behind
//!   [`auth::Authenticator`] for tokens), the [`metrics::Metrics`] and the workers' wake-ups.
//! - [`app::router`]`(state) -> axum::Router` is the whole application: the API routes of
//!   [`api`] (described in OpenAPI 3.1 at `/api/openapi.json`, built from `utoipa` derives),
//!   and the layers every request passes: security headers, request metrics, rate limit per
//!   token or address (429 + `Retry-After`), body size limit (413), timeout (408).
//! - [`Principal`] is an axum extractor: `Authorization: Bearer <token>` or Dependency-Track's
//!   `X-Api-Key: <token>`; 401 when missing or unknown. Handlers call
//!   [`Principal::require`]`(Scope::Upload)` (403) and [`Principal::sees_team`] /
//!   [`Principal::require_team`] for team limits.
//! - [`ApiError`] is every error's JSON: `{"error": {"code", "message"}}` with its status;
//!   store and matcher work runs through [`error::blocking`] (`spawn_blocking`).
//! - [`serve::start`] binds (TLS with rustls when configured) and returns a
//!   [`serve::RunningServer`] with its address; tests start one on `127.0.0.1:0`.

#![forbid(unsafe_code)]

pub mod admission;
pub mod advisory_update;
pub mod api;
pub mod app;
pub mod auth;
pub mod compat;
pub mod dashboard;
pub mod error;
pub mod ingest;
pub mod job_secrets;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod rematch;
pub mod serve;
pub mod startup;
pub mod state;
pub mod vex;

pub use app::router;
pub use auth::{Principal, Scope};
pub use error::ApiError;
pub use startup::{open_state, run, start_all, Started};
pub use state::{AppState, ServerConfig};

impl AppState {
    /// Whether the database answers: its backend and target, or why not.
    pub fn ping(&self) -> Result<String, String> {
        self.store
            .ping()
            .map(|_| format!("{} {}", self.store.backend_name(), self.store.target()))
            .map_err(|e| e.to_string())
    }
}
