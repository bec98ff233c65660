//! Compatibility APIs, so tools built for other servers work with bulwark unchanged:
//!
//! - [`dtrack`]: the part of Dependency-Track's v4 REST API that CI plugins and scripts use:
//!   BOM upload (`PUT`/`POST /api/v1/bom`, `X-Api-Key`, the event token), projects, findings,
//!   metrics, policy violations and analyses (triage). A Dependency-Track *project* (name +
//!   version) is a bulwark asset (name) and one of its versions; the BOM is matched on the
//!   server against its advisory store, OS packages included.
//! - [`harbor`]: Harbor's pluggable scanner API v1.1, so Harbor can use bulwark as a scanner:
//!   metadata, scan requests (the image is pulled from the registry Harbor names, with the
//!   credentials it passes) and the vulnerability report.
//!
//! Where they are mounted: the Dependency-Track routes at the paths Dependency-Track serves
//! (`/api/version`, `/api/v1/bom`, `/api/v1/project...`), since clients are configured with
//! the server's base URL only. Harbor's adapter API under `/harbor` (`/harbor/api/v1/metadata`,
//! `/harbor/api/v1/scan`, ...): Harbor is registered with a scanner URL and appends
//! `/api/v1/...` itself, so the scanner URL to register is `http(s)://HOST:PORT/harbor`. The
//! prefix keeps its `/api/v1/scan` and `/api/v1/metadata` out of the server's own `/api/v1`
//! namespace (which has `/api/v1/scans`) and out of Dependency-Track's.
//!
//! Both use the server's tokens: Dependency-Track clients send theirs as `X-Api-Key`, Harbor
//! as `Authorization: Bearer` (the "access credential" of the scanner registration). Uploads
//! and scans need the `upload` scope, reads `read`, analyses `triage`.

pub mod dtrack;
pub mod dtrack_model;
mod glue;
pub mod harbor;
pub mod harbor_model;
#[cfg(test)]
mod test_fixtures;

use axum::Router;

use crate::state::AppState;

/// The routes of both compatibility APIs, to merge into the server's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(dtrack::routes())
        .nest("/harbor", harbor::routes())
}
