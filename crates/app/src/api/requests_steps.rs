//! The request routes that do more than move a status: `POST /requests/{id}/verification`
//! (mail the subject a code and link), `POST /requests/{id}/verify {"code"}` (the code the
//! subject gave staff), `POST /requests/{id}/extend {"months", "reason"}`, and
//! `POST /requests/import` (CSV or NDJSON, see `services::requests::import`). All need
//! `requests:write`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::Scope;
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{ApiJson, Body, Caller};
use super::requests::{actor, shown};
use crate::error_code::ErrorCode;
use crate::services::requests::deadlines::{self, Extension};
use crate::services::requests::import::{self, Format};
use crate::services::requests::verification::{self, Proof};
use crate::startup::AppState;

pub async fn send_verification(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    verification::require_relay(state.worker.mail.is_some())?;
    let sent = verification::send(
        state.store.as_ref(),
        state.clock.as_ref(),
        &state.links,
        &actor(key),
        &id,
    )
    .await?;
    state.worker.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(shown(&state, &sent, key.account).await?),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    code: String,
}

pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Code>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    if body.code.len() > 64 {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "`code` is the 8-digit code from the verification mail",
        ));
    }
    let verified = verification::verify(
        state.store.as_ref(),
        state.clock.as_ref(),
        &state.links,
        &actor(key),
        &id,
        Proof::Code(&body.code),
    )
    .await?;
    Ok(Json(shown(&state, &verified, key.account).await?))
}

pub async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Extension>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    let extended = deadlines::extend(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body,
    )
    .await?;
    state.worker.wake.notify_one();
    Ok(Json(shown(&state, &extended, key.account).await?))
}

pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Body(body): Body,
) -> Result<Json<import::Report>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if body.trim_ascii().is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyBody,
            "send the requests as CSV (a header row, then one request a row) or NDJSON (one object a line)",
        ));
    }
    let rows = import::parse(Format::detect(content_type, &body), &body)?;
    let report = import::import(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        rows,
    )
    .await?;
    Ok(Json(report))
}
