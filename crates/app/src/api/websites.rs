//! `/api/external/v1/websites`: list and read (`analytics:read`), create (`admin`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::{NewWebsite, Scope, Website};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::keys::random_id;
use crate::startup::AppState;

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

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebsite>,
) -> Result<(StatusCode, Json<Website>), ApiError> {
    let key = caller.require(Scope::Admin)?;
    let valid = body.validate()?;
    let website = state
        .store
        .create_website(key.account, &random_id("web_", 10), valid)
        .await?;
    tracing::info!(website.id = %website.id, "website created");
    Ok((StatusCode::CREATED, Json(website)))
}
