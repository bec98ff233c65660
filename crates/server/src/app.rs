//! The HTTP application: the routes and the layers every request passes (security headers,
//! metrics, rate limit, body size limit, timeout, JSON errors).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use sha2::Digest;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::AppState;

/// Keyed by token (hashed) or client address.
pub type KeyedLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// The rate limiter of `config` (requests per second and burst per token or address).
pub fn rate_limiter(per_second: u32, burst: u32) -> Arc<KeyedLimiter> {
    let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(
        Quota::per_second(per_second).allow_burst(burst),
    ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bulwark server API",
        description = "Stores container image SBOMs, rematches them when advisories change, notifies owners and keeps triage decisions.",
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityScheme;
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// The API routes with their OpenAPI description (the document is built from these).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(crate::api::routes())
}

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = api_routes().split_for_parts();
    openapi.openapi = utoipa::openapi::OpenApiVersion::Version31;
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    let openapi = Arc::new(openapi);
    let limiter = rate_limiter(state.config.rate_limit, state.config.rate_burst);
    let tls = state.config.tls.is_some();
    let max_body = state.config.max_body_size;
    let timeout = state.config.request_timeout;

    let mut app = api
        .merge(crate::compat::router())
        .merge(crate::dashboard::router(tls))
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/openapi.json") })
        .layer(DefaultBodyLimit::max(
            usize::try_from(max_body).unwrap_or(usize::MAX),
        ))
        .layer(middleware::from_fn_with_state(
            (state.clone(), limiter),
            rate_limit,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(max_body, declared_length))
        .layer(middleware::from_fn_with_state(max_body, json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state);
    for (name, value) in security_headers(tls) {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    app
}

fn security_headers(tls: bool) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if tls {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    headers
}

/// Counts and times every request by its matched route.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route: route.clone(),
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// One rate limit per token (hashed: the limiter's keys are never secrets) or, without a
/// token, per client address. Over the limit: 429 with `Retry-After`.
async fn rate_limit(
    State((_, limiter)): State<(AppState, Arc<KeyedLimiter>)>,
    request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .or_else(|| request.headers().get("x-api-key"))
        .map(|v| v.as_bytes().to_vec());
    let key = match token {
        Some(token) => format!("t:{}", hex::encode(&sha2::Sha256::digest(&token)[..16])),
        None => {
            let addr = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string());
            format!("a:{}", addr.unwrap_or_default())
        }
    };
    match limiter.check_key(&key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::too_many_requests(wait.as_secs() + 1).into_response()
        }
    }
}

/// A body whose declared `Content-Length` is over the limit is refused before any of it is
/// read. Otherwise the body limit answers only once the limit is crossed and the connection
/// then closes with the client still writing, which can reset the socket before the client
/// reads the 413.
async fn declared_length(State(max_body): State<u64>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > max_body => ApiError::too_large(max_body).into_response(),
        _ => next.run(request).await,
    }
}

/// Layers below the handlers (body limit, timeout, method routing) answer in plain text;
/// this turns those answers into the API's JSON errors.
async fn json_errors(State(max_body): State<u64>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.contains("html"));
    if is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(max_body),
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            status,
            "timeout",
            "the request took longer than the server allows (--request-timeout)",
        ),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "this endpoint does not take that method; see /api/openapi.json",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        _ => {
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, 64 * 1024)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            let message = match text.is_empty() {
                true => parts
                    .status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_string(),
                false => text,
            };
            let code = match parts.status.is_client_error() {
                true => "bad_request",
                false => "internal",
            };
            let mut response = ApiError::new(parts.status, code, message).into_response();
            for (name, value) in parts.headers.iter() {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    response.headers_mut().insert(name.clone(), value.clone());
                }
            }
            return response;
        }
    };
    let mut out = error.into_response();
    *out.status_mut() = status;
    out
}

/// An empty body with a status (for handlers that answer 204).
pub fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}
