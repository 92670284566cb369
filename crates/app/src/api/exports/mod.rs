//! Exports: `POST /users/{userId}/export` (the reference page's call), `POST /exports` (the
//! general form: one person, or `"kind":"bulk"` for a whole website), `GET /exports[/{id}]`,
//! `DELETE /exports/{id}`. Jobs run in the worker; clients poll until `completed`, then fetch
//! `download_url` (or each file's own link). Exports per day are limited by plan.
//!
//! - `request`: the bodies and their checks; `view`: the job as the API shows it.

mod request;
mod view;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::NaiveDate;
use ferry_domain::Scope;
use ferry_domain::export::SubjectRef;
use ferry_domain::job::{ExportSpec, ExportStatus};
use ferry_store::{ExportFilter, Queued};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Caller};
use crate::keys::random_id;
use crate::startup::AppState;
use request::{DEFAULT_EXPIRES_IN, GeneralBody, Options, date, spec, unprocessable};
pub use view::view;

/// The account's default link lifetime.
async fn account_expiry(state: &AppState, caller: &Caller) -> Result<u64, ApiError> {
    let account = state.store.account(caller.0.account).await?;
    Ok(account
        .and_then(|a| a.link_expiry_secs)
        .unwrap_or(DEFAULT_EXPIRES_IN))
}

type Created = (StatusCode, HeaderMap, Json<Value>);

async fn queue(state: &AppState, caller: &Caller, spec: ExportSpec) -> Result<Created, ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    match &spec.subject {
        Some(subject) => {
            let found = state
                .store
                .find_subject(key.account, subject, spec.website_id.as_deref())
                .await?;
            if found.is_none() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "subject_not_found",
                    "nobody with that user id, email or visitor id in this account: check the identifier (and website_id)",
                ));
            }
        }
        None => {
            let id = spec.website_id.as_deref().unwrap_or_default();
            if state.store.website(key.account, id).await?.is_none() {
                return Err(ApiError::website_not_found(id));
            }
        }
    }
    let per_day = state.store.limits(key.account).await?.exports_per_day;
    let queued = state
        .store
        .create_export(key.account, &random_id("exp_", 8), &spec, &key.id, per_day)
        .await?;
    let (job, remaining) = match queued {
        Queued::Created { job, remaining } => (job, remaining),
        Queued::Limited {
            limit,
            retry_after_secs,
        } => {
            return Err(ApiError::too_many(
                "export_limit_reached",
                format!(
                    "this account may ask for {limit} exports a day and has used them all in the last 24 hours: \
                     try again in {retry_after_secs} seconds, or raise the limit (a larger plan, or ferry accounts limits)"
                ),
                u64::from(limit),
                retry_after_secs,
            ));
        }
    };
    let mut headers = HeaderMap::new();
    if let (Some(limit), Some(remaining)) = (per_day, remaining) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    }
    let details = json!({"format": spec.format, "kind": spec.kind()});
    let entry = crate::audit::export_event(
        &key.id,
        "data_export.requested",
        &job.id,
        &spec,
        "ok",
        details,
    );
    state.store.audit(key.account, entry).await?;
    state.worker.wake.notify_one();
    tracing::info!(export.id = %job.id, key.id = %key.id, "export queued");
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(view(state, &job, Vec::new())),
    ))
}

pub async fn create_for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    ApiJson(options): ApiJson<Options>,
) -> Result<Created, ApiError> {
    let spec = spec(
        Some(SubjectRef::UserId(user_id)),
        options,
        account_expiry(&state, &caller).await?,
    )?;
    queue(&state, &caller, spec).await
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GeneralBody>,
) -> Result<Created, ApiError> {
    let subject = match (body.kind.as_deref(), body.subject) {
        (None | Some("subject"), Some(subject)) => Some(subject),
        (None | Some("subject"), None) => {
            return Err(unprocessable(
                "subject_required",
                "name the person in `subject` ({\"user_id\"|\"email\"|\"visitor_id\": …}), or ask for \"kind\":\"bulk\"",
            ));
        }
        (Some("bulk"), None) => None,
        (Some("bulk"), Some(_)) => {
            return Err(unprocessable(
                "invalid_kind",
                "a bulk export covers a whole website: leave out `subject`, or ask for \"kind\":\"subject\"",
            ));
        }
        (Some(other), _) => {
            return Err(unprocessable(
                "invalid_kind",
                format!("kind `{other}`: use \"subject\" or \"bulk\""),
            ));
        }
    };
    let spec = spec(
        subject,
        body.options,
        account_expiry(&state, &caller).await?,
    )?;
    queue(&state, &caller, spec).await
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "export_not_found",
        format!("no export `{id}` in this account: list them with GET /api/external/v1/exports"),
    )
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
    Ok(Json(view(&state, &job, downloads)))
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
                ApiError::bad_request(
                    "invalid_query",
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
        created_from: date("created_from", q.created_from.as_deref())?.map(midnight),
        created_to: date("created_to", q.created_to.as_deref())?.map(|d| midnight(d) + 86_400_000),
        cursor: q.cursor,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    let page = state.store.export_jobs(key.account, filter).await?;
    let data: Vec<Value> = page
        .data
        .iter()
        .map(|job| view(&state, job, Vec::new()))
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
    let (job, artifact) = state
        .store
        .cancel_export(key.account, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if let Some(relative) = artifact {
        crate::worker::remove_artifact(&state.worker.artifacts, &relative);
    }
    let action = match job.status {
        ExportStatus::Cancelled => "data_export.cancelled",
        _ => "data_export.deleted",
    };
    let entry = crate::audit::export_event(&key.id, action, &job.id, &job.spec, "ok", json!({}));
    state.store.audit(key.account, entry).await?;
    tracing::info!(export.id = %job.id, status = job.status.as_str(), "export cancelled or deleted");
    Ok(Json(view(&state, &job, Vec::new())))
}

/// `GET /exports/{id}/receipt`: the reference page's receipt, once the export is generated.
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    state
        .store
        .export_job(key.account, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let receipt = state.store.receipt(&id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "receipt_not_found",
            "the receipt exists once the export has completed: poll GET /exports/{id}",
        )
    })?;
    Ok(Json(serde_json::to_value(receipt).unwrap_or_default()))
}
