//! Signed-in sessions. The cookie holds a random 256-bit token; the database holds only its
//! SHA-256 (a copy of the database signs nobody in). Sessions last 12 hours from sign-in;
//! signing out deletes the row, so the cookie stops working at once, wherever it was copied.
//!
//! Cookies are `HttpOnly` (no script reads them), `SameSite=Strict` (no other site's page
//! sends them), `Path=/`, and `Secure` when Ferry is reached over https.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferry_store::DashboardUser;
use rand::RngCore;

use super::Dashboard;
use super::page::PageError;

pub const SESSION_COOKIE: &str = "ferry_session";
pub const LOGIN_CSRF_COOKIE: &str = "ferry_login_csrf";
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// A fresh random token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for `name`; `None` clears it.
pub fn set_cookie(name: &str, value: Option<&str>, path: &str, secure: bool) -> String {
    let (value, age) = match value {
        Some(v) => (v, SESSION_TTL_MS / 1000),
        None => ("", 0),
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={age}; HttpOnly; SameSite=Strict{secure}")
}

/// The signed-in user of a request. A handler that takes one is reachable only signed in:
/// without a live session the request is redirected to `/login` before the handler runs.
pub struct SignedIn {
    pub user: DashboardUser,
    pub account_name: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The session row's key.
    pub token_hash: String,
}

impl SignedIn {
    /// Refuses a form without this session's CSRF token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), PageError> {
        if super::csrf::matches(&self.csrf, given) {
            Ok(())
        } else {
            Err(PageError::csrf())
        }
    }

    /// Who acts, for the services.
    pub fn actor(&self) -> crate::services::Actor {
        crate::services::Actor::User {
            account: self.user.account,
            id: self.user.id.clone(),
            email: self.user.email.clone(),
        }
    }
}

/// The session of a request, if it is live.
pub async fn current(
    state: &Dashboard,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, PageError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = crate::keys::hash(&token);
    let now = state.app.clock.now();
    let Some(user) = state.app.store.dashboard_session(&token_hash, now).await? else {
        return Ok(None);
    };
    let account_name = state
        .app
        .store
        .account(user.account)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    Ok(Some(SignedIn {
        csrf: super::csrf::for_session(&token),
        user,
        account_name,
        token_hash,
    }))
}

impl FromRequestParts<Dashboard> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Dashboard) -> Result<Self, Response> {
        match current(state, &parts.headers).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}
