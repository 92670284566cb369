//! The HTTP surface. Handlers parse and authorise, call the store, and shape the answer; they
//! never build SQL.
//!
//! - `error`, `extract`: the error type and the extractors that produce it.
//! - `load`: the concurrency and time limits every request passes.
//! - `tracker`: the public tracker script and its endpoints.
//! - `ingest`: authenticated NDJSON ingest.
//! - `analytics`: the External API's analytics endpoints.
//! - `exports`, `download`: per-person exports and their download links.
//! - `users`: finding a person before exporting their data.
//! - `audit`: the audit trail.
//! - `schedules`: scheduled bulk exports, their runs, run-now and backfill.
//! - `websites`, `keys`: account administration.
//! - `destinations`: where exports are delivered, and where the account's alerts go.
//! - `account`: the account's default encryption key.
//! - `privacy_statement`: the account's and websites' privacy statement (Art. 15).
//! - `well_known`: the public key that signs audit checkpoints.
//! - `requests`, `requests_steps`, `requests_view`: data-subject requests;
//!   `privacy_verify`: the public link a subject confirms their identity through;
//!   `privacy_received`: the public link a subject confirms receiving their data through;
//!   `requests_fulfil`: answering a request with the subject's export (or erasing them), approving
//!   it, and an erasure's deletion report.

pub mod account;
pub mod analytics;
pub mod audit;
pub mod client_ip;
pub mod destinations;
pub mod download;
pub mod error;
pub mod exports;
pub mod extract;
pub mod ingest;
pub mod keys;
pub mod load;
pub mod privacy_received;
pub mod privacy_statement;
pub mod privacy_verify;
pub mod rate_limit;
pub mod requests;
pub mod requests_fulfil;
pub mod requests_steps;
pub mod requests_view;
pub mod schedules;
pub mod tracker;
pub mod users;
pub mod websites;
pub mod well_known;

use crate::error_code::ErrorCode;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::startup::AppState;
use error::ApiError;

pub const API_BASE: &str = "/api/external/v1";

pub fn router(state: AppState, body_limit: usize, load: load::LoadLimits) -> Router {
    let api = |path: &str| format!("{API_BASE}{path}");
    let external = Router::new()
        .route(&api("/analytics/{website_id}"), get(analytics::summary))
        .route(
            &api("/analytics/{website_id}/visitors"),
            get(analytics::visitors),
        )
        .route(&api("/analytics/{website_id}/pages"), get(analytics::pages))
        .route(
            &api("/websites"),
            get(websites::list).post(websites::create),
        )
        .route(&api("/websites/{website_id}"), get(websites::show))
        .route(
            &api("/websites/{website_id}/identify"),
            get(websites::identify::show).patch(websites::identify::update),
        )
        .route(
            &api("/websites/{website_id}/identify/rotate"),
            post(websites::identify::rotate),
        )
        .route(&api("/keys"), get(keys::list).post(keys::create))
        .route(&api("/keys/{key_id}"), axum::routing::delete(keys::revoke))
        .route(&api("/users"), get(users::find))
        .route(&api("/users/{user_id}"), get(users::show))
        .route(
            &api("/users/{user_id}/export"),
            post(exports::create_for_user),
        )
        .route(&api("/exports"), get(exports::list).post(exports::create))
        .route(
            &api("/exports/{export_id}"),
            get(exports::show).delete(exports::delete),
        )
        .route(&api("/exports/{export_id}/receipt"), get(exports::receipt))
        .route(&api("/audit"), get(audit::list))
        .route(
            &api("/schedules"),
            get(schedules::list).post(schedules::create),
        )
        .route(
            &api("/schedules/{schedule_id}"),
            get(schedules::show)
                .patch(schedules::update)
                .delete(schedules::delete),
        )
        .route(&api("/schedules/{schedule_id}/run"), post(schedules::run))
        .route(
            &api("/schedules/{schedule_id}/backfill"),
            post(schedules::backfill),
        )
        .route(
            &api("/destinations"),
            get(destinations::list).post(destinations::create),
        )
        .route(
            &api("/destinations/{destination_id}"),
            get(destinations::show)
                .patch(destinations::update)
                .delete(destinations::delete),
        )
        .route(
            &api("/destinations/{destination_id}/test"),
            post(destinations::test),
        )
        .route(
            &api("/alerts/webhook"),
            axum::routing::put(destinations::set_alert_webhook),
        )
        .route(
            &api("/alerts/email"),
            axum::routing::put(destinations::set_alert_email)
                .get(destinations::show_alert_email)
                .delete(destinations::delete_alert_email),
        )
        .route(
            &api("/account/encryption"),
            get(account::show).put(account::set).delete(account::remove),
        )
        .route(
            &api("/account/privacy-statement"),
            get(privacy_statement::show_account).put(privacy_statement::set_account),
        )
        .route(
            &api("/websites/{website_id}/privacy-statement"),
            get(privacy_statement::show_website).put(privacy_statement::set_website),
        )
        .route(
            &api("/requests"),
            get(requests::list).post(requests::create),
        )
        .route(&api("/requests/import"), post(requests_steps::import))
        .route(
            &api("/requests/settings"),
            get(requests::settings).put(requests::set_settings),
        )
        .route(
            &api("/requests/{request_id}"),
            get(requests::show).patch(requests::update),
        )
        .route(&api("/requests/{request_id}/start"), post(requests::start))
        .route(
            &api("/requests/{request_id}/fulfil"),
            post(requests_fulfil::fulfil),
        )
        .route(
            &api("/requests/{request_id}/approve"),
            post(requests_fulfil::approve),
        )
        .route(
            &api("/requests/{request_id}/deletion-report"),
            get(requests_fulfil::deletion_report),
        )
        .route(
            &api("/requests/{request_id}/reject"),
            post(requests::reject),
        )
        .route(
            &api("/requests/{request_id}/cancel"),
            post(requests::cancel),
        )
        .route(&api("/requests/{request_id}/close"), post(requests::close))
        .route(
            &api("/requests/{request_id}/verification"),
            post(requests_steps::send_verification),
        )
        .route(
            &api("/requests/{request_id}/verify"),
            post(requests_steps::verify),
        )
        .route(
            &api("/requests/{request_id}/extend"),
            post(requests_steps::extend),
        )
        .route(
            "/privacy/verify/{token}",
            get(privacy_verify::show).post(privacy_verify::confirm),
        )
        .route(
            "/privacy/received/{token}",
            get(privacy_received::show).post(privacy_received::confirm),
        );

    // Ingest reads an upload and a download streams a file, each as long as it takes: no
    // time limit on those two (see `load`).
    let timed = Router::new()
        .merge(external)
        .merge(tracker::routes(body_limit))
        .merge(crate::dashboard::router(state.clone()))
        .merge(crate::privacy_page::router(state.clone()))
        .route("/healthz", get(healthz))
        .layer(axum::middleware::from_fn_with_state(
            load.request_timeout,
            load::limit_time,
        ));

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(timed)
        .route("/api/ingest", post(ingest::ndjson))
        .route("/download/{token}", get(download::download))
        .route("/.well-known/ferry-audit-key", get(well_known::audit_key))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            load::Places::new(load.max_concurrent_requests),
            load::limit_concurrency,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                // The route template, never the URL: paths and queries can carry personal data.
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), route, request_id, key.id = tracing::field::Empty)
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(ErrorCode::InternalError,
                "Ferry hit a bug handling this request; the operator's log has details",
            )
            .into_response()
        }))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn not_found() -> Response {
    ApiError::new(
        ErrorCode::NotFound,
        "no such endpoint: see the API reference in README.md",
    )
    .into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take that HTTP method: see the API reference in README.md",
    )
    .into_response()
}
