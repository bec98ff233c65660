//! Who is calling: the [`Principal`] extractor reads `Authorization: Bearer <token>` or
//! Dependency-Track's `X-Api-Key: <token>`, asks the [`Authenticator`] (the store: tokens are
//! kept as SHA-256 hashes), and answers 401 when the token is missing or unknown. Handlers
//! then ask for a scope ([`Principal::require`] → 403) and filter by team
//! ([`Principal::sees_team`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// What a token may do. `admin` implies every other scope.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Send reports and SBOMs; start scans.
    Upload,
    /// Read assets, findings, events.
    Read,
    /// Set triage decisions.
    Triage,
    /// Manage tokens, teams, notification rules, advisories; see every team.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Upload, Scope::Read, Scope::Triage, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upload => "upload",
            Scope::Read => "read",
            Scope::Triage => "triage",
            Scope::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?} (expected upload, read, triage or admin)"))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Principal {
    /// The token's id (never the token).
    pub token_id: String,
    /// The token's name, for the audit log.
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    /// The teams this token is limited to; `None`: every team.
    pub teams: Option<Vec<String>>,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }

    /// 403 unless the token has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self.has(scope) {
            true => Ok(()),
            false => Err(ApiError::forbidden(format!(
                "this token lacks the {} scope; ask an admin for a token that has it",
                scope.as_str()
            ))),
        }
    }

    /// Whether the token may see what belongs to `team` (`None`: an asset with no team,
    /// visible only to unrestricted tokens).
    pub fn sees_team(&self, team: Option<&str>) -> bool {
        match (&self.teams, team) {
            (None, _) => true,
            (Some(teams), Some(team)) => teams.iter().any(|t| t == team),
            (Some(_), None) => false,
        }
    }

    /// 403 unless the token may act on `team`.
    pub fn require_team(&self, team: Option<&str>) -> Result<(), ApiError> {
        match self.sees_team(team) {
            true => Ok(()),
            false => Err(ApiError::forbidden(
                "this token is limited to other teams; use a token of the asset's team",
            )),
        }
    }
}

/// Turns a presented token into a [`Principal`] (`Ok(None)`: unknown or revoked token).
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate(&self, token: &str) -> Result<Option<Principal>, ApiError>;
}

/// The token presented by the request, from `Authorization: Bearer` or `X-Api-Key`.
pub fn presented_token(parts: &Parts) -> Option<&str> {
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let api_key = || parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
    bearer
        .or_else(api_key)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let token = presented_token(parts)
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "no API token: send `Authorization: Bearer <token>` (or `X-Api-Key: <token>`)",
                )
            })?
            .to_string();
        let auth: Arc<dyn Authenticator> = state.auth.clone();
        let principal = crate::error::blocking(move || auth.authenticate(&token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("unknown or revoked API token; ask an admin for a new one")
            })?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
