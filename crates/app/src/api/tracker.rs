//! The public tracker: `GET /js/ferry.js`, and the `POST /api/event` / `POST /api/identify`
//! endpoints it calls. No key: the website is named by id or domain. Time is the server's;
//! device, browser and country come from the request (see `enrich`).

use crate::error_code::ErrorCode;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{SecondsFormat, TimeZone, Utc};
use ferry_domain::{IngestLine, LinkTrust, WireLine};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower_http::cors::{Any, CorsLayer};

use super::error::ApiError;
use super::extract::{Body, parse_json};
use crate::identify_signature;
use crate::startup::AppState;

const SCRIPT: &str = include_str!("../../assets/ferry.js");

/// `body_limit`: the server's own limit; the tracker takes the smaller of it and 64 KiB.
pub fn routes(body_limit: usize) -> Router<AppState> {
    // Sites on any origin post here; beacons send text/plain, so no preflight is needed, but
    // fetch() callers may send application/json.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .route("/api/event", post(event))
        .route("/api/identify", post(identify))
        .layer(cors)
        // Anyone may post here: a page view is a few hundred bytes, so a large body is abuse.
        .layer(axum::extract::DefaultBodyLimit::max(
            body_limit.min(TRACKER_BODY_LIMIT),
        ))
        .route("/js/ferry.js", get(script))
}

/// The largest body the public tracker endpoints take.
pub const TRACKER_BODY_LIMIT: usize = 64 * 1024;

async fn script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum HitType {
    Pageview,
    Event,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hit {
    #[serde(default)]
    website_id: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(rename = "type", default = "pageview")]
    kind: HitType,
    visitor_id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
}

fn pageview() -> HitType {
    HitType::Pageview
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifyHit {
    #[serde(default)]
    website_id: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    visitor_id: String,
    user_id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    /// `hex(HMAC-SHA256(website identify secret, user_id))`, made by the site's backend.
    #[serde(default)]
    user_hash: Option<String>,
}

/// The website a hit names, as its public id.
async fn resolve_website(
    state: &AppState,
    website_id: Option<String>,
    domain: Option<String>,
) -> Result<String, ApiError> {
    if let Some(id) = website_id {
        return match state.store.website_for_tracker(&id).await? {
            Some((_, website)) => Ok(website.id),
            None => Err(ApiError::website_not_found(&id)),
        };
    }
    let Some(domain) = domain else {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "name the website with `website_id` (or `domain`)",
        ));
    };
    // Domains are unique per account only: a domain that several accounts registered names
    // no website, so no account's traffic lands in another's.
    let mut found = state.store.websites_with_domain(&domain, 2).await?;
    match (found.pop(), found.is_empty()) {
        (Some((_, website)), true) => Ok(website.id),
        (Some(_), false) => Err(ApiError::new(
            ErrorCode::WebsiteIdRequired,
            format!(
                "more than one website is registered for `{domain}`: name yours with `website_id` \
                 (`data-website-id` on the script tag)"
            ),
        )),
        (None, _) => Err(ApiError::website_not_found(&domain)),
    }
}

fn now_rfc3339(now: i64) -> String {
    Utc.timestamp_millis_opt(now)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn event(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<impl IntoResponse, ApiError> {
    let hit: Hit = parse_json(&body)?;
    let client = state.enricher.describe(&headers, Some(peer.ip()));
    let website_id = resolve_website(&state, hit.website_id, hit.domain).await?;
    if client.is_bot {
        return Ok(accepted(false));
    }
    let now = Utc::now().timestamp_millis();
    let timestamp = now_rfc3339(now);
    let wire = match hit.kind {
        HitType::Pageview => WireLine::Pageview {
            website_id,
            visitor_id: hit.visitor_id,
            timestamp,
            url: hit.url.unwrap_or_default(),
            title: hit.title,
            referrer: hit.referrer,
            device: client.device.clone(),
            browser: client.browser.clone(),
            country: client.country.clone(),
        },
        HitType::Event => WireLine::Event {
            website_id,
            visitor_id: hit.visitor_id,
            timestamp,
            name: hit.name.unwrap_or_default(),
            properties: hit.properties,
        },
    };
    let mut line = wire.validate(now)?;
    // Events carry the client's device too, so a visitor seen only through events has one.
    if let IngestLine::Activity(activity) = &mut line {
        activity.device = client.device;
        activity.browser = client.browser;
        activity.country = client.country;
    }
    store_one(&state, line, now).await?;
    Ok(accepted(true))
}

async fn identify(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<impl IntoResponse, ApiError> {
    let hit: IdentifyHit = parse_json(&body)?;
    let website_id = resolve_website(&state, hit.website_id, hit.domain).await?;
    let trust = identify_trust(&state, &website_id, &hit.user_id, hit.user_hash.as_deref()).await?;
    let now = Utc::now().timestamp_millis();
    let mut line = WireLine::Identify {
        website_id,
        visitor_id: hit.visitor_id,
        user_id: hit.user_id,
        email: hit.email,
        name: hit.name,
        properties: hit.properties,
        created_at: None,
    }
    .validate(now)?;
    if let IngestLine::Identify(identify) = &mut line {
        identify.trust = trust;
    }
    store_one(&state, line, now).await?;
    Ok(accepted(true))
}

/// Who vouches for an identify call: the site's backend when `user_hash` is right, nobody when
/// the website takes unsigned calls and none is given. A wrong hash is refused even then: it
/// is a forgery, or a backend with an old secret that must hear about it.
async fn identify_trust(
    state: &AppState,
    website_id: &str,
    user_id: &str,
    user_hash: Option<&str>,
) -> Result<LinkTrust, ApiError> {
    let policy = state.store.identify_policy(website_id).await?;
    let Some(policy) = policy else {
        return Err(ApiError::website_not_found(website_id));
    };
    match user_hash {
        Some(hash) if identify_signature::verify(&policy.secret, user_id, hash) => {
            Ok(LinkTrust::Signed)
        }
        None if policy.allow_unsigned => Ok(LinkTrust::Unsigned),
        Some(_) => Err(ApiError::new(
            ErrorCode::IdentifySignatureRequired,
            "user_hash does not match this user_id: compute it on your server as \
             hex(HMAC-SHA256(website identify secret, user_id)) with the current secret",
        )),
        None => Err(ApiError::new(
            ErrorCode::IdentifySignatureRequired,
            "this website takes signed identify calls only: send user_hash = \
             hex(HMAC-SHA256(website identify secret, user_id)), computed on your server",
        )),
    }
}

async fn store_one(state: &AppState, line: IngestLine, now: i64) -> Result<(), ApiError> {
    let mut outcome = state.store.ingest(None, vec![line], now).await?;
    outcome.pop().unwrap_or(Ok(())).map_err(ApiError::from)
}

fn accepted(stored: bool) -> impl IntoResponse {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "status": "accepted", "stored": stored })),
    )
}
