//! `/api/external/v1/keys` (`admin`): create (the secret is in this response only), list, revoke.
//! Creating and revoking go through [`crate::services::keys`], as the dashboard does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::{ApiKeyInfo, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::services::Actor;
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    name: Option<String>,
    scopes: Vec<Scope>,
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
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::Admin)?;
    let (info, secret) = crate::services::keys::create_key(
        state.store.as_ref(),
        &actor(key),
        body.name,
        body.scopes,
    )
    .await?;
    let mut out = serde_json::to_value(&info).unwrap_or_default();
    out["key"] = json!(secret);
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
    let revoked =
        crate::services::keys::revoke_key(state.store.as_ref(), &actor(key), &key_id).await?;
    Ok(Json(revoked))
}
