//! `/api/external/v1/account/encryption`: the key every export of the account is encrypted to
//! when neither the request nor its destination names one. `GET` (`exports:read`) shows its
//! fingerprint, who set it and when; `PUT` and `DELETE` (`admin`) set and remove it, audited
//! as `account.encryption_key_set` / `account.encryption_key_removed`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use crate::services::{Actor, encryption};
use crate::startup::AppState;
use ferry_domain::Scope;

/// `{"pgp_public_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetKey {
    pgp_public_key: String,
}

pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    Ok(Json(
        encryption::show(state.store.as_ref(), key.account).await?,
    ))
}

pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SetKey>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let actor = Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    };
    let set = encryption::set(
        state.store.as_ref(),
        &actor,
        &body.pgp_public_key,
        state.clock.now(),
    )
    .await?;
    Ok(Json(set))
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let actor = Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    };
    Ok(Json(
        encryption::remove(state.store.as_ref(), &actor).await?,
    ))
}
