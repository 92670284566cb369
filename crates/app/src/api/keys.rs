//! `/api/external/v1/keys` (`admin`): create (the secret is in this response only), list, revoke.

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::{ApiKeyInfo, Scope, Scopes};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::keys::mint;
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    name: Option<String>,
    scopes: Vec<Scope>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::Admin)?;
    if body.scopes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidScopes,
            "a key needs at least one scope: analytics:read, exports:read, exports:write, ingest or admin",
        ));
    }
    let minted = mint(body.name, Scopes::new(body.scopes));
    let info = state.store.create_key(key.account, minted.record).await?;
    tracing::info!(key.created = %info.id, "api key created");
    let details = json!({"key_id": info.id, "scopes": info.scopes});
    state
        .store
        .audit(
            key.account,
            crate::audit::event(&key.id, "api_key.created", details),
        )
        .await?;
    let mut out = serde_json::to_value(&info).unwrap_or_default();
    out["key"] = json!(minted.secret);
    out["notice"] = json!("store this key now: Ferry keeps only its hash and cannot show it again");
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let keys = state.store.keys(key.account).await?;
    Ok(Json(json!({ "data": keys })))
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(key_id): Path<String>,
) -> Result<Json<ApiKeyInfo>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let revoked = state.store.revoke_key(key.account, &key_id).await?;
    let revoked = revoked.ok_or_else(|| {
        ApiError::new(
            ErrorCode::KeyNotFound,
            format!("no key `{key_id}` in this account: list keys with GET /api/external/v1/keys"),
        )
    })?;
    tracing::info!(key.revoked = %revoked.id, "api key revoked");
    let details = json!({"key_id": revoked.id});
    state
        .store
        .audit(
            key.account,
            crate::audit::event(&key.id, "api_key.revoked", details),
        )
        .await?;
    Ok(Json(revoked))
}
