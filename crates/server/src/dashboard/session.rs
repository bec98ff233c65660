//! Login, logout and the [`Session`] extractor of every page.
//!
//! The session cookie (`bulwark_session`: HttpOnly, SameSite=Strict, Secure under TLS) holds a
//! random token; the store keeps its SHA-256, the user and the session's CSRF token, for
//! [`SESSION_TTL`]. Every POST carries a `csrf` field that must equal the session's (the
//! login form, before any session, uses a double-submit cookie instead). Login attempts are
//! limited per client address ([`LOGIN_PER_MINUTE`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use governor::{Quota, RateLimiter};

use super::html::{self, esc};
use super::PageError;
use crate::error::{blocking, ApiError};
use crate::state::AppState;

/// How long a dashboard session lasts after login.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Login attempts allowed per client address per minute (and as a burst).
pub const LOGIN_PER_MINUTE: u32 = 10;

/// The largest form body read (a bulk triage of a page of findings fits many times over).
pub const MAX_FORM: usize = 256 * 1024;

pub const SESSION_COOKIE: &str = "bulwark_session";
pub const LOGIN_CSRF_COOKIE: &str = "bulwark_login_csrf";

/// Whether cookies get `Secure` (the server speaks TLS).
#[derive(Debug, Clone, Copy)]
pub struct CookieSecurity {
    pub secure: bool,
}

/// A logged-in user: the store principal, the session's CSRF token and the cookie's token.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: bulwark_store::Principal,
    pub csrf: String,
    pub token: String,
}

impl Session {
    pub fn frame<'a>(&'a self, section: &'a str) -> html::Frame<'a> {
        html::Frame {
            user: &self.principal.name,
            csrf: &self.csrf,
            section,
            admin: self.principal.has(bulwark_store::Scope::Admin) && self.principal.team.is_none(),
        }
    }

    /// 403 unless `form` carries this session's CSRF token.
    pub fn check_csrf(&self, form: &Form) -> Result<(), PageError> {
        match form.one("csrf") {
            Some(token) if constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) => Ok(()),
            _ => Err(PageError(ApiError::forbidden(
                "the form's security token is missing or stale; reload the page and submit again",
            ))),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn set_cookie(name: &str, value: &str, max_age: u64, security: CookieSecurity) -> HeaderValue {
    let secure = if security.secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A page request without a live session goes to the login page (and back after).
pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        let next = form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>();
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(LoginRedirect(here).into_response());
        };
        let store = state.store.clone();
        let lookup = token.clone();
        let found = blocking(move || Ok(store.session(&lookup)?))
            .await
            .map_err(|e| PageError(e).into_response())?;
        match found {
            Some(s) => Ok(Session {
                principal: s.principal,
                csrf: s.csrf,
                token,
            }),
            None => Err(LoginRedirect(here).into_response()),
        }
    }
}

/// An `application/x-www-form-urlencoded` body, keeping repeated fields (bulk triage).
#[derive(Debug, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn random_token() -> Result<String, ApiError> {
    use base64::Engine as _;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn login_page(status: StatusCode, csrf: &str, next: &str, message: Option<&str>) -> Response {
    let alert = message
        .map(|m| format!("<p class=\"alert\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    let body = format!(
        "<section class=\"login\"><h1>Sign in</h1>{alert}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"muted\">The first user is <code>admin</code>; <code>BULWARK_ADMIN_PASSWORD</code> sets its password when the server starts.</p></section>",
        esc(csrf),
        esc(next)
    );
    html::page(status, "Sign in", None, &body)
}

/// `GET /login`: the form, with a fresh login CSRF token in a cookie and the form.
pub async fn login_form(
    Extension(security): Extension<CookieSecurity>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = random_token()?;
    let next = q
        .get("next")
        .filter(|n| html::local_path(n))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let mut response = login_page(StatusCode::OK, &csrf, &next, None);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, security),
    );
    Ok(response)
}

type IpLimiter = RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    governor::clock::DefaultClock,
>;

/// The login attempts limiter of one server (per client address).
pub fn login_limiter() -> LoginLimiter {
    let n = NonZeroU32::new(LOGIN_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
    LoginLimiter(Arc::new(RateLimiter::keyed(
        Quota::per_minute(n).allow_burst(n),
    )))
}

/// Login attempts per client address, shared by one server's handlers.
#[derive(Clone)]
pub struct LoginLimiter(Arc<IpLimiter>);

/// `POST /login`: checks the login CSRF cookie, the rate limit, then the password (argon2);
/// on success opens a session and goes to `next`.
pub async fn login_submit(
    State(state): State<AppState>,
    Extension(security): Extension<CookieSecurity>,
    Extension(limiter): Extension<LoginLimiter>,
    request: Request,
) -> Result<Response, PageError> {
    let connect = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .cloned();
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let body = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| PageError(ApiError::too_large(MAX_FORM as u64)))?;
    let form = Form::parse(&body);
    let next = form
        .one("next")
        .filter(|n| html::local_path(n))
        .unwrap_or("/")
        .to_string();
    let cookie_csrf = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let form_csrf = form.one("csrf").unwrap_or_default();
    if cookie_csrf.is_empty() || !constant_time_eq(cookie_csrf.as_bytes(), form_csrf.as_bytes()) {
        return Err(PageError(ApiError::forbidden(
            "the sign-in form's security token is missing or stale; reload the sign-in page and try again",
        )));
    }
    let client = connect
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    if limiter.0.check_key(&client).is_err() {
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            cookie_csrf,
            &next,
            Some("Too many sign-in attempts from this address; wait a minute and try again."),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return Ok(response);
    }
    let username = form.one("username").unwrap_or_default().trim().to_string();
    let password = form.one("password").unwrap_or_default().to_string();
    let store = state.store.clone();
    let opened = blocking(move || {
        let Some(user) = store.login(&username, &password)? else {
            return Ok(None);
        };
        let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
        Ok(Some(store.create_session(&user, ttl)?))
    })
    .await?;
    let Some((token, _)) = opened else {
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            cookie_csrf,
            &next,
            Some("Wrong username or password."),
        ));
    };
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, SESSION_TTL.as_secs(), security),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, security),
    );
    Ok(response)
}

/// `POST /logout`: ends the session (CSRF-checked) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    Extension(security): Extension<CookieSecurity>,
    session: Session,
    body: Bytes,
) -> Result<Response, PageError> {
    session.check_csrf(&Form::parse(&body))?;
    let store = state.store.clone();
    let token = session.token.clone();
    blocking(move || Ok(store.delete_session(&token)?)).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, security),
    );
    Ok(response)
}
