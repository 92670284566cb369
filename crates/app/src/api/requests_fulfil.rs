//! `POST /requests/{id}/fulfil` (`requests:write`) and `POST /requests/{id}/approve`
//! (`admin`: the approval an account may require is a person's, so a key that may only file
//! and move requests cannot give it), and the identities `GET /requests/{id}` shows before
//! anything leaves. The rules are in `services::requests::fulfilment`.

use axum::Json;
use axum::extract::{Path, State};
use ferry_domain::Scope;
use ferry_domain::export::SubjectRef;
use ferry_domain::request::Request;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, Caller};
use super::requests::{Reason, actor, shown};
use crate::error_code::ErrorCode;
use crate::services::requests::fulfilment::{self, FulfilBody};
use crate::startup::AppState;

pub async fn fulfil(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FulfilBody>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    // Refused before anything changes: exports nobody can be sent would only wait. A request
    // by visitor id alone is answered on the subject's status page, never by mail.
    let by_browser = || async {
        let found = state.store.request(key.account, &id).await?;
        Ok::<_, ApiError>(found.is_some_and(|r| r.visitor_only()))
    };
    if state.worker.mail.is_none() && !by_browser().await? {
        return Err(ApiError::new(
            ErrorCode::MailRelayNotConfigured,
            "Ferry has no SMTP relay to mail the subject their data through: start it with \
             FERRY_SMTP_URL and FERRY_SMTP_FROM",
        ));
    }
    let moved = fulfilment::fulfil(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body,
    )
    .await?;
    state.worker.wake.notify_one();
    Ok(Json(shown(&state, &moved, key.account).await?))
}

/// `GET /requests/{id}/deletion-report` (`requests:read`): numbers only, never the person.
pub async fn deletion_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsRead)?;
    let report =
        crate::services::requests::erasure::deletion_report(state.store.as_ref(), &actor(key), &id)
            .await?;
    Ok(Json(report))
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let moved = fulfilment::approve(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body.reason,
    )
    .await?;
    state.worker.wake.notify_one();
    Ok(Json(shown(&state, &moved, key.account).await?))
}

/// Every identity the subject's email resolves to, each with who linked it and who set the
/// profile's email (as `GET /users?email=` and an export's view show them): what an export
/// of the subject covers. Shown once the subject is verified, so a key that may only file
/// requests cannot use one to look a stranger up.
pub async fn identities(
    state: &AppState,
    account: ferry_domain::AccountId,
    request: &Request,
) -> Result<Value, ApiError> {
    if request.status.is_unverified() {
        return Ok(Value::Null);
    }
    let (by, website) = match (&request.visitor_id, request.visitor_only()) {
        (Some(v), true) => (
            SubjectRef::VisitorOnly(v.clone()),
            request.subject_website_id.as_deref(),
        ),
        _ => (SubjectRef::Email(request.subject_email.clone()), None),
    };
    let found = state.store.find_subject(account, &by, website).await?;
    Ok(json!(found.map(|s| s.identities).unwrap_or_default()))
}
