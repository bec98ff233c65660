//! The dashboard (issue 14): server-rendered HTML pages on the same store calls as the API,
//! for people who own images. No client framework, no CDN: pages are HTML written by
//! [`html`] (everything escaped), charts are inline SVG from [`svg`], the stylesheet and one
//! small script are embedded in the binary ([`STATIC_FILES`]) and the Content-Security-Policy
//! allows nothing else (no inline script or style).
//!
//! Access: local users log in at `/login` ([`session`]): a server-side session (the cookie
//! holds a random token; the store keeps its hash, the user and a CSRF token that every
//! form posts back). The first user is `admin`, whose password `BULWARK_ADMIN_PASSWORD` sets.

mod compliance;
pub mod html;
mod pages;
pub mod session;
pub mod svg;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// The dashboard's Content-Security-Policy: its own scripts, styles and images only.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The embedded static files: name, content type, bytes.
pub const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/dashboard.css"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/dashboard.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/favicon.svg"),
    ),
];

/// The dashboard's routes (merged into the application by [`crate::app::router`]).
pub fn router(tls: bool) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::overview))
        .route("/assets", get(pages::portfolio))
        .route("/assets/{uuid}", get(pages::asset))
        .route("/assets/{uuid}/vex", get(pages::asset_vex))
        .route("/vulns/{id}", get(pages::vulnerability))
        .route("/findings/{id}", get(pages::finding))
        .route("/triage", post(pages::triage))
        .route("/compliance", get(compliance::compliance))
        .route("/settings", get(pages::settings))
        .route("/settings/rules/{id}/test", post(pages::send_test))
        .route(
            "/login",
            get(session::login_form).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route("/static/{file}", get(static_file))
        .layer(axum::Extension(session::CookieSecurity { secure: tls }))
        .layer(axum::Extension(session::login_limiter()))
        .layer(axum::Extension(TrendCache::default()))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => html::page(
            StatusCode::NOT_FOUND,
            "Not found",
            None,
            "<h1>Not found</h1>",
        ),
    }
}

/// Sums of past days' snapshots per team (`None`: every team), for the trend charts. A day's
/// snapshots change only during that day (the snapshot job records "today"), so a past day's
/// sum is final once computed; today's point comes from the live counts instead. Days older
/// than [`TREND_CACHE_DAYS`] are dropped.
#[derive(Clone, Default)]
pub struct TrendCache(Arc<Mutex<HashMap<TeamDay, bulwark_store::SeverityCounts>>>);

/// A team (`None`: every team) and a day (`YYYY-MM-DD`).
type TeamDay = (Option<i64>, String);

/// How many past days the trend cache keeps per team.
pub const TREND_CACHE_DAYS: i64 = 92;

impl TrendCache {
    /// The sums of `days` (all before today) for `team`, or the days missing.
    pub fn get(
        &self,
        team: Option<i64>,
        days: &[String],
    ) -> Result<Vec<bulwark_store::SeverityCounts>, Vec<String>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(days.len());
        let mut missing = Vec::new();
        for d in days {
            match map.get(&(team, d.clone())) {
                Some(c) => out.push(*c),
                None => missing.push(d.clone()),
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        }
    }

    /// Records past days' sums (`oldest_kept`: drop days before it).
    pub fn put(
        &self,
        team: Option<i64>,
        sums: impl IntoIterator<Item = (String, bulwark_store::SeverityCounts)>,
        oldest_kept: &str,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|(_, day), _| day.as_str() >= oldest_kept);
        for (day, counts) in sums {
            map.insert((team, day), counts);
        }
    }
}

/// An error shown as a page (the API's errors are JSON; a person gets HTML).
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<bulwark_store::StoreError> for PageError {
    fn from(e: bulwark_store::StoreError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self
            .0
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let body = format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/\">Back to the overview</a></p>",
            html::esc(&title),
            html::esc(&self.0.message)
        );
        html::page(self.0.status, &title, None, &body)
    }
}
