//! Exports: `POST /users/{userId}/export` (the reference page's call), `POST /exports` (the
//! general form: one person, or `"kind":"bulk"` for a whole website), `GET /exports[/{id}]`,
//! `DELETE /exports/{id}`. Jobs run in the worker; clients poll until `completed`, then fetch
//! `download_url` (or each file's own link). Exports per day are limited by plan.
//!
//! - `request`: the bodies and their checks; `view`: the job as the API shows it; `notice`:
//!   what a completed export without rows says about where the data is.

mod notice;
mod request;
mod view;

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::NaiveDate;
use ferry_domain::Scope;
use ferry_domain::export::SubjectRef;
use ferry_domain::job::ExportStatus;
use ferry_store::ExportFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Caller};
use crate::services::Actor;
use crate::services::exports::{ExportOptions, request_export, validate_day};
use crate::startup::AppState;
use request::GeneralBody;
pub use view::view;

type Created = (StatusCode, HeaderMap, Json<Value>);

async fn queue(
    state: &AppState,
    caller: &Caller,
    subject: Option<SubjectRef>,
    mut options: ExportOptions,
) -> Result<Created, ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    options.min_part_size = Some(state.min_part_size);
    options.sealer = Some(state.sealer.clone());
    let actor = Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    };
    let requested = request_export(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor,
        subject,
        options,
    )
    .await?;
    let mut headers = HeaderMap::new();
    if let Some((limit, remaining)) = requested.allowance {
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    }
    state.worker.wake.notify_one();
    let mut shown = view(state, &requested.job, Some(Vec::new()));
    add_delivery(state, &mut shown, &requested.job.id).await?;
    Ok((StatusCode::ACCEPTED, headers, Json(shown)))
}

pub async fn create_for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    ApiJson(options): ApiJson<ExportOptions>,
) -> Result<Created, ApiError> {
    queue(&state, &caller, Some(SubjectRef::UserId(user_id)), options).await
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GeneralBody>,
) -> Result<Created, ApiError> {
    let subject = match (body.kind.as_deref(), body.subject) {
        (None | Some("subject"), Some(subject)) => Some(subject),
        (None | Some("subject"), None) => {
            return Err(ApiError::new(
                ErrorCode::SubjectRequired,
                "name the person in `subject` ({\"user_id\"|\"email\"|\"visitor_id\": …}), or ask for \"kind\":\"bulk\"",
            ));
        }
        (Some("bulk"), None) => None,
        (Some("bulk"), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidKind,
                "a bulk export covers a whole website: leave out `subject`, or ask for \"kind\":\"subject\"",
            ));
        }
        (Some(other), _) => {
            return Err(ApiError::new(
                ErrorCode::InvalidKind,
                format!("kind `{other}`: use \"subject\" or \"bulk\""),
            ));
        }
    };
    queue(&state, &caller, subject, body.options).await
}

/// The export's delivery, when it asked for one: where it stands, and why it failed. The
/// destination shows as its type and id only (its settings may be inline credentials).
async fn add_delivery(state: &AppState, shown: &mut Value, id: &str) -> Result<(), ApiError> {
    if let Some(d) = state.store.delivery(id).await? {
        shown["delivery"] = json!({
            "status": d.status.as_str(),
            "type": d.kind,
            "destination_id": d.destination_id,
            "attempts": d.attempts,
            "error": d.error,
            "location": d.location,
            "delivered_at": d.delivered_at.and_then(chrono::DateTime::from_timestamp_millis),
        });
    }
    Ok(())
}

fn not_found(id: &str) -> ApiError {
    crate::services::exports::export_not_found(id)
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let job = state
        .store
        .export_job(key.account, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let downloads = state.store.export_downloads(&id).await?;
    let mut shown = view(&state, &job, Some(downloads));
    add_delivery(&state, &mut shown, &id).await?;
    // One export's view only: a list would pay a lookup per empty export.
    shown["notice"] = json!(notice::empty_export_notice(&state, key.account, &job).await?);
    // Whom the subject resolves to and who vouched for each link, so a reviewer can stop an
    // export before it leaves; the export's manifest lists those it covered.
    if let Some(subject) = &job.spec.subject {
        let found = state
            .store
            .find_subject(key.account, subject, job.spec.website_id.as_deref())
            .await?;
        shown["identities"] = json!(found.map(|s| s.identities).unwrap_or_default());
    }
    Ok(Json(shown))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    /// `user_id:user_123`, `email:…`, or just the identifier.
    subject: Option<String>,
    /// Created on or after / on or before these UTC days.
    created_from: Option<String>,
    created_to: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            ExportStatus::parse(s).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    "status is one of queued, running, completed, failed, expired, cancelled",
                )
            })
        })
        .transpose()?;
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis()
    };
    let filter = ExportFilter {
        status,
        subject: q.subject,
        created_from: validate_day("created_from", q.created_from.as_deref())?.map(midnight),
        created_to: validate_day("created_to", q.created_to.as_deref())?
            .map(|d| midnight(d) + 86_400_000),
        cursor: q.cursor,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    let page = state.store.export_jobs(key.account, filter).await?;
    let data: Vec<Value> = page
        .data
        .iter()
        .map(|job| view(&state, job, None))
        .collect();
    Ok(Json(
        json!({ "data": data, "next_cursor": page.next_cursor }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    let actor = Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    };
    let job = crate::services::exports::delete_export(
        state.store.as_ref(),
        state.worker.artifacts.as_ref(),
        state.clock.as_ref(),
        &actor,
        &id,
    )
    .await?;
    let downloads = state.store.export_downloads(&id).await?;
    Ok(Json(view(&state, &job, Some(downloads))))
}

/// `GET /exports/{id}/receipt`: the reference page's receipt, once the export is generated.
/// Answered from the struct itself, so its fields keep the page's order (a `Value` would sort
/// them).
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReceiptView>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let job = state
        .store
        .export_job(key.account, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let receipt = state.store.receipt(&id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::ReceiptNotFound,
            "the receipt exists once the export has completed: poll GET /exports/{id}",
        )
    })?;
    Ok(Json(ReceiptView {
        receipt,
        encrypted_to: job.spec.encryption.map(|e| e.fingerprint),
    }))
}

/// The receipt in the reference page's field order, then what Ferry adds.
#[derive(serde::Serialize)]
pub struct ReceiptView {
    #[serde(flatten)]
    receipt: ferry_domain::job::Receipt,
    /// The OpenPGP key the files were encrypted to.
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted_to: Option<String>,
}
