//! `/api/external/v1/websites`: list and read (`analytics:read`), create (`admin`); each
//! website's identify settings are in [`identify`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::{NewWebsite, Scope, Website};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::identify_signature;
use crate::keys::random_id;
use crate::startup::AppState;

pub mod identify;

const SECRET_NOTICE: &str = "keep identify_secret on your server: it signs identify calls \
    (user_hash = hex(HMAC-SHA256(identify_secret, user_id))) and Ferry cannot show it again";

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::AnalyticsRead)?;
    let websites = state.store.websites(key.account).await?;
    Ok(Json(json!({ "data": websites })))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
) -> Result<Json<Website>, ApiError> {
    let key = caller.require(Scope::AnalyticsRead)?;
    let website = state.store.website(key.account, &website_id).await?;
    website
        .map(Json)
        .ok_or_else(|| ApiError::website_not_found(&website_id))
}

/// The new website, with its identify secret: shown here and on rotation, never again.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebsite>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::Admin)?;
    let valid = body.validate()?;
    let secret = identify_signature::new_secret();
    let website = state
        .store
        .create_website(key.account, &random_id("web_", 10), valid, &secret)
        .await?;
    tracing::info!(website.id = %website.id, "website created");
    let mut out = serde_json::to_value(&website).unwrap_or_default();
    out["identify_secret"] = json!(secret);
    out["notice"] = json!(SECRET_NOTICE);
    Ok((StatusCode::CREATED, Json(out)))
}
