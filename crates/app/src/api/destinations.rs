//! `/api/external/v1/destinations`: create (`admin`), list and show (`exports:read`),
//! change and delete (`admin`), `POST /{id}/test` (`admin`) — and where the account's alerts
//! go: `PUT /alerts/webhook`, `PUT/GET/DELETE /alerts/email` (all `admin`). Credentials go in and never come out: answers show
//! `"redacted"` in their place.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::{ApiKeyInfo, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::services::Actor;
use crate::services::destinations::{self as service, Ctx};
use crate::startup::AppState;

fn ctx(state: &AppState) -> Ctx<'_> {
    Ctx {
        store: state.store.as_ref(),
        sealer: &state.sealer,
        clock: state.clock.as_ref(),
    }
}

fn actor(key: &ApiKeyInfo) -> Actor {
    Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::Admin)?;
    let created = service::create(&ctx(&state), &actor(key), &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let found = state.store.destinations(key.account).await?;
    let data: Vec<Value> = found
        .iter()
        .map(|d| service::view(&state.sealer, d))
        .collect();
    Ok(Json(json!({ "data": data })))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let found = service::get(&ctx(&state), key.account, &id).await?;
    Ok(Json(service::view(&state.sealer, &found)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    Ok(Json(
        service::update(&ctx(&state), &actor(key), &id, &body).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    Ok(Json(service::delete(&ctx(&state), &actor(key), &id).await?))
}

pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    Ok(Json(service::test(&ctx(&state), &actor(key), &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    url: String,
}

pub async fn set_alert_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Webhook>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let set = crate::alerts::set_webhook(
        state.store.as_ref(),
        &state.sealer,
        &actor(key),
        &body.url,
        state.clock.now(),
    )
    .await?;
    Ok(Json(set))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertEmail {
    to: String,
}

pub async fn set_alert_email(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AlertEmail>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let set = crate::alerts::mail::set(
        state.store.as_ref(),
        state.worker.mail.as_deref(),
        &actor(key),
        &body.to,
        state.clock.now(),
    )
    .await?;
    Ok(Json(set))
}

pub async fn show_alert_email(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    Ok(Json(
        crate::alerts::mail::show(state.store.as_ref(), key.account).await?,
    ))
}

pub async fn delete_alert_email(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    Ok(Json(
        crate::alerts::mail::remove(state.store.as_ref(), &actor(key)).await?,
    ))
}
