//! A website's identify settings (`admin`): `GET`/`PATCH /websites/{id}/identify` (whether
//! unsigned identify calls are taken) and `POST /websites/{id}/identify/rotate` (a new
//! secret, shown once). The secret itself is never shown again after it is made.

use axum::Json;
use axum::extract::{Path, State};
use ferry_domain::{IdentifyPolicy, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SECRET_NOTICE;
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, Caller};
use crate::identify_signature;
use crate::startup::AppState;

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let policy = policy(&state, key.account, &website_id).await?;
    Ok(Json(view(&website_id, &policy)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    unsigned_identify: bool,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
    ApiJson(change): ApiJson<Change>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    policy(&state, key.account, &website_id).await?;
    state
        .store
        .set_unsigned_identify(&website_id, change.unsigned_identify)
        .await?;
    let details = json!({"website_id": website_id, "unsigned_identify": change.unsigned_identify});
    state
        .store
        .audit(
            key.account,
            crate::audit::event(&key.id, "website.identify_changed", details),
        )
        .await?;
    let policy = policy(&state, key.account, &website_id).await?;
    Ok(Json(view(&website_id, &policy)))
}

pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    policy(&state, key.account, &website_id).await?;
    let secret = identify_signature::new_secret();
    state
        .store
        .rotate_identify_secret(&website_id, &secret, state.clock.now())
        .await?;
    tracing::info!(website.id = %website_id, "identify secret rotated");
    let details = json!({"website_id": website_id});
    state
        .store
        .audit(
            key.account,
            crate::audit::event(&key.id, "website.identify_secret_rotated", details),
        )
        .await?;
    let policy = policy(&state, key.account, &website_id).await?;
    let mut out = view(&website_id, &policy);
    out["identify_secret"] = json!(secret);
    out["notice"] = json!(SECRET_NOTICE);
    Ok(Json(out))
}

/// The website's policy when it is the account's; another account's website is not found.
async fn policy(
    state: &AppState,
    account: ferry_domain::AccountId,
    website_id: &str,
) -> Result<IdentifyPolicy, ApiError> {
    let not_found = || ApiError::website_not_found(website_id);
    state
        .store
        .website(account, website_id)
        .await?
        .ok_or_else(not_found)?;
    state
        .store
        .identify_policy(website_id)
        .await?
        .ok_or_else(not_found)
}

fn view(website_id: &str, policy: &IdentifyPolicy) -> Value {
    json!({
        "website_id": website_id,
        "unsigned_identify": policy.allow_unsigned,
        "secret_rotated_at": policy.rotated_at,
    })
}
