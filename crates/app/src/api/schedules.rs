//! `/api/external/v1/schedules`: create and list (`exports:write` / `exports:read`), show
//! with the last runs, change (`PATCH`, any of the settings `POST` takes), delete, run the next window now,
//! backfill past windows. Thin: the rules are in `services::schedules`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_domain::schedule::{RunWindow, Schedule, object_name};
use ferry_domain::time::rfc3339_millis;
use ferry_domain::{ApiKeyInfo, Scope};
use ferry_store::RunStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Caller};
use crate::services::Actor;
use crate::services::schedules::{self, ScheduleOptions, SchedulePatch};
use crate::startup::AppState;

/// Runs `GET /schedules/{id}` lists unless `?limit=` says otherwise (at most [`MAX_RUNS`]).
const LAST_RUNS: u32 = 50;
const MAX_RUNS: u32 = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    #[serde(default)]
    limit: Option<u32>,
}

fn actor(key: &ApiKeyInfo) -> Actor {
    Actor::Key {
        account: key.account,
        id: key.id.clone(),
        name: key.name.clone(),
    }
}

fn view(s: &Schedule) -> Value {
    json!({
        "id": s.id,
        "website_id": s.website_id,
        "frequency": s.frequency.as_str(),
        "include": s.data_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "format": s.format.as_str(),
        "destination_id": s.destination_id,
        "encryption": s.encryption.as_ref().map(|e| json!({"fingerprint": e.fingerprint})),
        "enabled": s.enabled,
        "starts_on": s.starts_on,
        "next_window_from": s.next_from,
        "event_columns": s.event_columns,
        "created_at": rfc3339_millis(s.created_at),
    })
}

fn window_view(w: RunWindow, tz: Option<chrono_tz::Tz>) -> Value {
    let mut out = json!({"from": w.from, "to": w.to});
    if let Some(tz) = tz {
        let (start, end) = w.instants(tz);
        out["start"] = json!(rfc3339_millis(start));
        out["end"] = json!(rfc3339_millis(end));
    }
    out
}

fn run_view(schedule: &str, r: &RunStatus, tz: Option<chrono_tz::Tz>) -> Value {
    let export_id = r.run.export_id.as_deref().unwrap_or_default();
    let status = match (&r.export_status, &r.run.error) {
        (Some(status), _) => status.clone(),
        (None, Some(_)) => "failed".into(),
        (None, None) => "queued".into(),
    };
    json!({
        "window": window_view(r.run.window, tz),
        "trigger": r.run.trigger.as_str(),
        "export_id": r.run.export_id,
        "status": status,
        "error": r.run.error.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
        "objects": r.files.iter().map(|f| object_name(schedule, r.run.window, export_id, f)).collect::<Vec<_>>(),
        "created_at": rfc3339_millis(r.run.created_at),
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ScheduleOptions>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    let created = schedules::create(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&created))))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let all = state.store.schedules(key.account).await?;
    Ok(Json(
        json!({"data": all.iter().map(view).collect::<Vec<_>>()}),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ShowQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let limit = query.limit.unwrap_or(LAST_RUNS);
    if limit == 0 || limit > MAX_RUNS {
        return Err(ApiError::new(
            crate::error_code::ErrorCode::InvalidQuery,
            format!("limit is the number of runs to list, 1 to {MAX_RUNS}"),
        ));
    }
    let schedule = schedules::find(state.store.as_ref(), &actor(key), &id).await?;
    let tz = state
        .store
        .website(key.account, &schedule.website_id)
        .await?
        .map(|w| w.timezone);
    let runs = state.store.schedule_runs(&schedule.id, limit).await?;
    let mut out = view(&schedule);
    out["runs"] = json!(
        runs.iter()
            .map(|r| run_view(&schedule.id, r, tz))
            .collect::<Vec<_>>()
    );
    Ok(Json(out))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SchedulePatch>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    let changed = schedules::patch(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body,
    )
    .await?;
    Ok(Json(view(&changed)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    schedules::delete(state.store.as_ref(), &actor(key), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    let window =
        schedules::run_now(state.store.as_ref(), state.clock.as_ref(), &actor(key), &id).await?;
    state.worker.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"schedule_id": id, "window": window_view(window, None), "status": "queued"})),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

pub async fn backfill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Backfill>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = caller.require(Scope::ExportsWrite)?;
    let windows = schedules::backfill(
        state.store.as_ref(),
        state.clock.as_ref(),
        &actor(key),
        &id,
        body.from.as_deref(),
        body.to.as_deref(),
    )
    .await?;
    state.worker.wake.notify_one();
    let windows: Vec<Value> = windows.into_iter().map(|w| window_view(w, None)).collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"schedule_id": id, "windows": windows, "status": "queued"})),
    ))
}
