//! Who is calling: the [`Principal`] extractor reads `Authorization: Bearer <token>` or
//! Dependency-Track's `X-Api-Key: <token>` and asks the store (tokens are kept as SHA-256
//! hashes); 401 when the token is missing or unknown. Handlers then ask for a scope
//! ([`Principal::require`] → 403); the store applies team limits to every read and write
//! (another team's asset is "not found" to a team-limited token).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

pub use bulwark_store::Scope;

/// An authenticated caller: the store's principal (scopes, team limit), as an extractor.
#[derive(Debug, Clone)]
pub struct Principal(pub bulwark_store::Principal);

impl std::ops::Deref for Principal {
    type Target = bulwark_store::Principal;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Principal {
    /// 403 unless the token has `scope` (admin has every scope).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self.0.has(scope) {
            true => Ok(()),
            false => Err(ApiError::forbidden(format!(
                "this token lacks the {} scope; ask an admin for a token that has it",
                scope.as_str()
            ))),
        }
    }

    /// The team name the token is limited to, if any.
    pub fn team_name(&self) -> Option<&str> {
        self.0.team.as_ref().map(|t| t.name.as_str())
    }
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
        let store = state.store.clone();
        let principal = crate::error::blocking(move || Ok(store.authenticate(&token)?))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("unknown or revoked API token; ask an admin for a new one")
            })?;
        let principal = Principal(principal);
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
