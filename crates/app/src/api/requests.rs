//! `/api/external/v1/requests`: data-subject requests. Reading needs `requests:read`,
//! changing `requests:write`, the settings `admin`. Each status change is its own `POST`
//! route (`/start`, `/reject`, `/cancel`, `/close`), so a client says what it does, not which
//! status it wants, and the status machine decides whether it may. Another account's request
//! is `404 request_not_found`, like one that does not exist. Thin: the rules are in
//! `services::requests`; verification and extensions are in `requests_steps`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::request::{RequestAction, RequestStatus};
use ferry_domain::{ApiKeyInfo, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Caller};
use super::requests_view::{timeline, view};
use crate::error_code::ErrorCode;
use crate::services::Actor;
use crate::services::requests::settings::{SettingsBody, change, view as settings_view};
use crate::services::requests::{self, Change, NewRequest, day_of, queue};
use crate::startup::AppState;

/// Requests a list answers with unless `limit` says otherwise, and the most it may say.
const LIST_LIMIT: usize = 100;
const MAX_LIST_LIMIT: usize = 1_000;

pub fn actor(key: &ApiKeyInfo) -> Actor {
    Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    }
}

/// The request as shown, with its deadline as of today.
pub async fn shown(
    state: &AppState,
    request: &ferry_domain::request::Request,
    account: ferry_domain::AccountId,
) -> Result<Value, ApiError> {
    let settings = state.store.request_settings(account).await?;
    Ok(view(request, &settings, day_of(state.clock.now())))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    let (request, new) = requests::create(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        body,
    )
    .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(shown(&state, &request, key.account).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    /// Requests owing an answer due on or before this day.
    #[serde(default)]
    due_before: Option<String>,
    #[serde(default)]
    overdue: Option<bool>,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsRead)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(RequestStatus::parse(s).ok_or_else(|| {
            let all: Vec<&str> = RequestStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("`status` is one of {}", all.join(", ")),
            )
        })?),
    };
    let due_before = match q.due_before.as_deref() {
        None => None,
        Some(d) => Some(d.parse::<chrono::NaiveDate>().map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery, "`due_before` is a day, YYYY-MM-DD")
        })?),
    };
    let limit = q.limit.unwrap_or(LIST_LIMIT);
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`limit` is 1 to {MAX_LIST_LIMIT}"),
        ));
    }
    let filter = queue::Filter {
        status,
        due_before,
        overdue: q.overdue,
    };
    let (matching, settings) = queue::list(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &filter,
    )
    .await?;
    let today = day_of(state.clock.now());
    let truncated = matching.len() > limit;
    let data: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|(_, r)| view(r, &settings, today))
        .collect();
    Ok(Json(json!({"data": data, "truncated": truncated})))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsRead)?;
    let request = requests::find(state.store.as_ref(), &actor(key), &id).await?;
    let steps = state.store.request_steps(key.account, &id).await?;
    let mut out = shown(&state, &request, key.account).await?;
    out["identities"] = super::requests_fulfil::identities(&state, key.account, &request).await?;
    out["timeline"] = timeline(&steps);
    if request.kind == ferry_domain::request::RequestType::Erasure {
        out["deletion_report"] =
            crate::services::requests::erasure::report_of(state.store.as_ref(), key.account, &id)
                .await?;
    }
    Ok(Json(out))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Change>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    let changed = requests::update(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body,
    )
    .await?;
    Ok(Json(shown(&state, &changed, key.account).await?))
}

/// The body of the status routes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    pub reason: Option<String>,
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: RequestAction,
    reason: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsWrite)?;
    let reason = requests::reason(reason, action == RequestAction::Reject)?;
    let details = json!({"reason": reason});
    let moved = requests::advance(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        id,
        action,
        details,
    )
    .await?;
    Ok(Json(shown(state, &moved, key.account).await?))
}

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &caller, &id, RequestAction::Start, body.reason).await
}

pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &caller, &id, RequestAction::Reject, body.reason).await
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &caller, &id, RequestAction::Cancel, body.reason).await
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &caller, &id, RequestAction::Close, body.reason).await
}

pub async fn settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::RequestsRead)?;
    let settings = state.store.request_settings(key.account).await?;
    Ok(Json(settings_view(&settings)))
}

pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::Admin)?;
    let changed = change(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        body,
    )
    .await?;
    Ok(Json(settings_view(&changed)))
}
