//! What every dashboard page shares: the layout's context, rendering a template, errors shown
//! as pages, and the headers every answer carries.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use ferry_store::StoreError;

use super::session::SignedIn;
use crate::error_code::Problem;

/// The layout's parts that depend on who is signed in.
pub struct Chrome {
    pub email: String,
    pub account: String,
    pub csrf: String,
    /// The navigation entry of this page (`data-export`, `audit-log`).
    pub active: &'static str,
    /// Reload the page every few seconds (an export is still running).
    pub refresh: bool,
}

impl Chrome {
    pub fn new(s: &SignedIn, active: &'static str) -> Self {
        Chrome {
            email: s.user.email.clone(),
            account: s.account_name.clone(),
            csrf: s.csrf.clone(),
            active,
            refresh: false,
        }
    }
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a dashboard page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Ferry cannot show this page; the operator's log has details",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A refusal or failure, shown as a small page of its own.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    pub headers: Vec<(&'static str, String)>,
}

impl PageError {
    pub fn csrf() -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: "This form has expired",
            message: "The form was sent without its security token (or from another site). Go back, reload the page and try again.".into(),
            headers: Vec::new(),
        }
    }

    pub fn not_found() -> Self {
        PageError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: "There is no such export in this account.".into(),
            headers: Vec::new(),
        }
    }
}

impl From<Problem> for PageError {
    fn from(p: Problem) -> Self {
        PageError {
            status: p.status(),
            title: "That did not work",
            message: p.message,
            headers: p.headers,
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Problem::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = render(
            self.status,
            &ErrorPage {
                title: self.title,
                message: &self.message,
            },
        );
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Every dashboard answer: no caching of personal data, no framing (clickjacking), no script
/// at all, forms post only to Ferry, and no Referer (download links carry their token).
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    page_policy(h);
    response
}

/// What every server-rendered page of Ferry's sends (the dashboard's and the public privacy
/// page's): no script, no framing, no sniffing, no Referer.
pub fn page_policy(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
