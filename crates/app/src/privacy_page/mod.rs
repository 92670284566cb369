//! The self-service privacy page, `/privacy/{account}` (the account by its name): a data
//! subject asks for access, portability or erasure with their email, confirms the address with
//! the mailed code (or the mail's link), follows the request and downloads the answer.
//! Server-rendered (askama templates `privacy_*.html`), no JavaScript, public, so:
//!
//! - it never says whether Ferry holds data about an address: every accepted form takes the
//!   same path through `services::requests::self_service::submit` and gets the same page;
//! - every form carries a signed form token (there is no session) and a honeypot field;
//! - limits per client address and per email ([`limits`]); an unknown account, a wrong
//!   token, another account's token: one generic `404` page;
//! - `no-store`, `no-referrer`, `noindex`, and the dashboard's script-less CSP.
//!
//! - [`ask`]: the form and its submission; [`code`]: the mailed code typed on the page;
//!   [`browser`]: a request by visitor id alone, posted by the tracker's `ferry.privacy()`;
//!   [`status`]: the subject's status page;
//!   [`limits`]: rate limits and the form token.

mod ask;
mod browser;
mod code;
pub mod limits;
mod status;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use ferry_domain::AccountId;

use crate::startup::AppState;

/// A form of three short fields and a 2,000-character message, url-encoded, fits well
/// within this; anything larger is refused with a page, not read.
const BODY_LIMIT: usize = 32 * 1024;
/// The longest account name looked up.
const MAX_ACCOUNT_NAME: usize = 100;

pub const CSS_PATH: &str = "/static/privacy.css";
const CSS: &str = include_str!("../../assets/privacy.css");

#[derive(Clone)]
pub struct PrivacyPage {
    pub app: AppState,
    pub limits: Arc<limits::Limits>,
}

impl axum::extract::FromRef<PrivacyPage> for AppState {
    fn from_ref(page: &PrivacyPage) -> AppState {
        page.app.clone()
    }
}

pub fn router(app: AppState) -> Router<AppState> {
    let state = PrivacyPage {
        limits: Arc::new(limits::Limits::new(app.links.clone())),
        app,
    };
    Router::new()
        .route("/privacy/{account}", get(ask::show).post(ask::submit))
        .route("/privacy/{account}/code", post(code::enter))
        .route("/privacy/{account}/browser", post(browser::open))
        .route("/privacy/{account}/browser/ask", post(browser::submit))
        .route("/privacy/{account}/status/{token}", get(status::show))
        .route(CSS_PATH, get(css))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(headers))
        .with_state(state)
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// The answers carry personal data and tokens in their URLs: never cached, never sent on as
/// a Referer, never indexed, never framed, and no script runs.
async fn headers(mut response: Response) -> Response {
    let css = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/css"));
    let h = response.headers_mut();
    if !css {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    crate::dashboard::page::page_policy(h);
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// The account whose page this is: its id, name, and the privacy contact it shows.
pub struct Org {
    pub id: AccountId,
    pub name: String,
    pub contact: Option<String>,
    /// The account's setting: the form takes new requests. Codes and status pages of
    /// requests already made keep working when it is off.
    pub takes_requests: bool,
}

impl Org {
    /// The page's own paths, with the name escaped for a URL.
    pub fn path(&self, rest: &str) -> String {
        format!("/privacy/{}{rest}", path_segment(&self.name))
    }
}

async fn org(app: &AppState, name: &str) -> Result<Option<Org>, Response> {
    if name.is_empty() || name.len() > MAX_ACCOUNT_NAME {
        return Ok(None);
    }
    let store = app.store.as_ref();
    let account = match store.account_by_name(name).await {
        Ok(Some(a)) => a,
        Ok(None) => return Ok(None),
        Err(e) => return Err(failed(e)),
    };
    let settings = store.request_settings(account.id).await.map_err(failed)?;
    Ok(Some(Org {
        id: account.id,
        name: account.name,
        contact: settings.privacy_contact,
        takes_requests: settings.privacy_page,
    }))
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the privacy page cannot answer");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Something went wrong",
        "We cannot take your request right now. Please try again later.",
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "privacy_message.html")]
struct MessagePage<'a> {
    org: &'a str,
    contact: Option<&'a str>,
    title: &'a str,
    message: &'a str,
    back: Option<String>,
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => failed(e),
    }
}

/// A page of one message; `org` names the account when the page may (not on a `404`).
fn message(status: StatusCode, org: Option<&Org>, title: &str, text: &str) -> Response {
    let page = MessagePage {
        org: org.map_or("Privacy requests", |o| o.name.as_str()),
        contact: org.and_then(|o| o.contact.as_deref()),
        title,
        message: text,
        back: org.map(|o| o.path("")),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title.to_string()).into_response(),
    }
}

/// The one answer for an unknown account, a token Ferry did not make, another account's
/// token: nothing in it tells them apart.
pub fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        "This page does not exist",
        "The address is not right, or the link is no longer valid. Check it, or ask the \
         organisation that gave it to you.",
    )
}

/// The per-client limit every privacy page shares with the mailed links' pages.
fn client_limited(app: &AppState, client: std::net::IpAddr) -> Option<Response> {
    let refused = app
        .privacy_rate_limit
        .check(&format!("privacy:{}", client))
        .err()?;
    let mut response = message(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        "Too many attempts",
        "Too many requests came from your network. Please wait, then try again.",
    );
    for (name, value) in refused.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    Some(response)
}
