//! `/api/external/v1/account/privacy-statement` and `/websites/{id}/privacy-statement`: what
//! a person's package tells them about the processing of their data (Art. 15). `GET` needs
//! `exports:read`, `PUT` `admin` (audited as `privacy_statement.updated`).

use axum::Json;
use axum::extract::{Path, State};
use ferry_domain::Scope;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::services::{Actor, privacy_statement};
use crate::startup::AppState;

pub async fn show_account(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let shown = privacy_statement::show(state.store.as_ref(), key.account, None).await?;
    Ok(Json(shown))
}

pub async fn set_account(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    set(&state, &caller, None, body).await
}

pub async fn show_website(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let shown =
        privacy_statement::show(state.store.as_ref(), key.account, Some(&website_id)).await?;
    Ok(Json(shown))
}

pub async fn set_website(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    set(&state, &caller, Some(&website_id), body).await
}

async fn set(
    state: &AppState,
    caller: &Caller,
    website: Option<&str>,
    body: Map<String, Value>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let actor = Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    };
    let now = state.clock.now();
    let set = privacy_statement::set(state.store.as_ref(), &actor, website, body, now).await?;
    Ok(Json(set))
}
