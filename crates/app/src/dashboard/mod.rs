//! The dashboard: server-rendered pages (askama templates in `crates/app/templates/`, one CSS
//! file, no JavaScript) behind a sign-in. Every action calls the same services as the API, as
//! the signed-in user (`Actor::User`), so the audit trail and receipts name them by email.
//!
//! - `session`: the session cookie and the [`session::SignedIn`] extractor (no session: a
//!   redirect to `/login`); `csrf`: the token every form carries; `throttle`: slowing down
//!   password guessing.
//! - `login`: `/login`, `/logout`.
//! - `data_export`: Settings → Privacy → Data Export, with `export_list` and `receipt`; `audit_log`: Settings → Audit Log;
//!   `api_keys`: Settings → API keys (admins); `visitors`: a website's visitors, each exportable,
//!   with `visitor_page` (one visitor's identities and activity).
//! - `overview`: a website's totals, daily chart (`chart`) and top pages; the landing page.
//! - `scheduled`: Settings → Data Export → Scheduled, with `schedule_forms` and
//!   `destination_forms` (schedules, their runs, destinations and their tests); `users`:
//!   Settings → Users (admins).
//! - `requests`: Settings → Privacy → Requests (the queue, a new request), with
//!   `request_page` (one request: timeline and steps).
//! - `page`: what every page shares (layout, errors, headers); `assets`: the stylesheet.

mod api_keys;
mod assets;
mod audit_log;
mod chart;
mod csrf;
mod data_export;
mod destination_forms;
mod export_list;
mod login;
mod overview;
pub(crate) mod page;
mod receipt;
mod request_page;
mod requests;
mod schedule_forms;
mod scheduled;
mod session;
mod throttle;
mod users;
mod visitor_page;
mod visitors;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::startup::AppState;

/// Forms are small; a PGP public key is the largest thing one carries (64 KiB at most).
const FORM_BODY_LIMIT: usize = 256 * 1024;

/// Settings → Privacy → Data Export, where a generated export is followed.
pub const HOME: &str = "/settings/privacy/data-export";

/// Where signing in lands, and what `/` shows: the first website's overview.
pub const LANDING: &str = overview::PATH;

#[derive(Clone)]
pub struct Dashboard {
    pub app: AppState,
    pub throttle: Arc<throttle::LoginThrottle>,
    /// Cookies carry `Secure` when Ferry is reached over https (its public URL says so);
    /// over plain http on loopback a browser would drop them.
    pub secure_cookies: bool,
}

/// Settings → Data Export → Scheduled: the page, its schedules' and destinations' forms.
fn scheduled_routes() -> Router<Dashboard> {
    const S: &str = scheduled::PATH;
    Router::new()
        .route(S, get(scheduled::page).post(schedule_forms::create))
        .route(
            &format!("{S}/{{schedule_id}}/enabled"),
            post(schedule_forms::set_enabled),
        )
        .route(
            &format!("{S}/{{schedule_id}}/edit"),
            get(schedule_forms::edit_page).post(schedule_forms::edit),
        )
        .route(
            &format!("{S}/{{schedule_id}}/run"),
            post(schedule_forms::run_now),
        )
        .route(
            &format!("{S}/{{schedule_id}}/delete"),
            post(schedule_forms::delete),
        )
        .route(
            &format!("{S}/destinations"),
            post(destination_forms::create),
        )
        .route(
            &format!("{S}/destinations/{{destination_id}}/test"),
            post(destination_forms::test),
        )
        .route(
            &format!("{S}/destinations/{{destination_id}}/delete"),
            post(destination_forms::delete),
        )
}

pub fn router(app: AppState) -> Router<AppState> {
    let state = Dashboard {
        secure_cookies: app.public_url.starts_with("https://"),
        throttle: Arc::new(throttle::LoginThrottle::default()),
        app,
    };
    Router::new()
        .route("/", get(|| async { Redirect::to(LANDING) }))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route(assets::CSS_PATH, get(assets::css))
        .route(HOME, get(data_export::page).post(data_export::generate))
        .route(
            "/settings/privacy/data-export/{export_id}/delete",
            post(data_export::delete),
        )
        .route(
            "/settings/privacy/data-export/{export_id}/receipt",
            get(receipt::receipt),
        )
        .route("/settings/audit-log", get(audit_log::page))
        .route("/settings/audit-log.csv", get(audit_log::csv))
        .route("/settings/audit-log/verify", get(audit_log::verify))
        .route(api_keys::PATH, get(api_keys::page).post(api_keys::create))
        .route(overview::PATH, get(overview::page))
        .route(visitors::PATH, get(visitors::page))
        .route("/visitors/{visitor_id}", get(visitor_page::page))
        .route("/settings/api-keys/{key_id}/revoke", post(api_keys::revoke))
        .merge(scheduled_routes())
        .route(users::PATH, get(users::page).post(users::create))
        .route("/settings/users/{user_id}/remove", post(users::remove))
        .route(requests::PATH, get(requests::page).post(requests::create))
        .route(
            "/settings/privacy/requests/{request_id}",
            get(request_page::page),
        )
        .route(
            "/settings/privacy/requests/{request_id}/{action}",
            post(request_page::act),
        )
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(axum::middleware::map_response(page::security_headers))
        .with_state(state)
}
