//! Exports: `POST /users/{userId}/export` (the reference page's call), `POST /exports` (the
//! general form: one person, or `"kind":"bulk"` for a whole website), `GET /exports[/{id}]`,
//! `DELETE /exports/{id}`. Jobs run in the worker; clients poll until `completed`, then fetch
//! `download_url` (or each file's own link). Exports per day are limited by plan.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{NaiveDate, Utc};
use ferry_domain::export::{DataType, ExportRange, Format, Include, SubjectRef};
use ferry_domain::job::{ExportJob, ExportSpec, ExportStatus};
use ferry_domain::{DateRangeError, Scope};
use ferry_store::{ExportFilter, Queued};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Caller};
use crate::keys::random_id;
use crate::startup::AppState;

/// Links live 7 days unless asked otherwise; at most 30.
const DEFAULT_EXPIRES_IN: u64 = 7 * 24 * 3600;
const MAX_EXPIRES_IN: u64 = 30 * 24 * 3600;

/// What both create endpoints take besides the subject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    include: Option<Include>,
    #[serde(default)]
    website_id: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    one_time: Option<bool>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    zip: Option<bool>,
    /// Bulk exports: split each data file into parts of at most this many bytes.
    #[serde(default)]
    part_size: Option<u64>,
    /// Accepted so that scripts written for later releases get a clear answer.
    #[serde(default)]
    encryption: Option<Value>,
    #[serde(default)]
    delivery: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralBody {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    subject: Option<SubjectRef>,
    #[serde(flatten)]
    options: Options,
}

/// Parts smaller than this would only multiply files.
const MIN_PART_SIZE: u64 = 512;

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn date(field: &'static str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .filter(|_| v.len() == 10)
                .ok_or_else(|| {
                    DateRangeError::NotADate {
                        field,
                        value: v.into(),
                    }
                    .into()
                })
        })
        .transpose()
}

fn spec(
    subject: Option<SubjectRef>,
    o: Options,
    default_expires_in: u64,
) -> Result<ExportSpec, ApiError> {
    let bulk = subject.is_none();
    if o.encryption.is_some() || o.delivery.is_some() {
        return Err(unprocessable(
            "unsupported",
            "encryption and delivery are not available yet: leave them out and fetch download_url",
        ));
    }
    let include = o.include.unwrap_or(Include::Keyword("all".into()));
    let data_types: Vec<DataType> = if bulk {
        include.resolve_bulk()
    } else {
        include.resolve()
    }
    .map_err(|m| unprocessable("invalid_include", m))?;
    let format = o
        .format
        .unwrap_or(if bulk { Format::Csv } else { Format::Json });
    if !bulk && format == Format::Parquet {
        return Err(unprocessable(
            "invalid_format",
            "Parquet is for bulk exports (\"kind\":\"bulk\"); a person's export is json, csv or ndjson",
        ));
    }
    if bulk && o.website_id.is_none() {
        return Err(unprocessable(
            "website_required",
            "a bulk export covers one website: give its website_id",
        ));
    }
    let part_size = match (bulk, o.part_size) {
        (_, None) => None,
        (false, Some(_)) => {
            return Err(unprocessable(
                "invalid_part_size",
                "part_size applies to bulk exports only: leave it out",
            ));
        }
        (true, Some(n)) if n < MIN_PART_SIZE => {
            return Err(unprocessable(
                "invalid_part_size",
                format!(
                    "part_size is in bytes, at least {MIN_PART_SIZE} (the default is 1000000000)"
                ),
            ));
        }
        (true, Some(n)) => Some(n),
    };
    let range = ExportRange {
        start: date("from", o.from.as_deref())?,
        end: date("to", o.to.as_deref())?,
    };
    if let (Some(from), Some(to)) = (range.start, range.end)
        && from > to
    {
        return Err(DateRangeError::Reversed { from, to }.into());
    }
    let expires_in = o.expires_in.unwrap_or(default_expires_in);
    if expires_in == 0 || expires_in > MAX_EXPIRES_IN {
        return Err(unprocessable(
            "invalid_expires_in",
            format!("expires_in is in seconds, from 1 to {MAX_EXPIRES_IN} (30 days)"),
        ));
    }
    Ok(ExportSpec {
        subject,
        website_id: o.website_id,
        data_types,
        format,
        range,
        // A bulk export is one ZIP unless separate files (one link each) are asked for.
        zip: o.zip.unwrap_or(bulk),
        one_time: o.one_time.unwrap_or(false),
        expires_in,
        part_size,
    })
}

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

/// The job as the API shows it.
pub fn view(
    state: &AppState,
    job: &ExportJob,
    downloads: Vec<ferry_domain::job::DownloadRecord>,
) -> Value {
    let now = Utc::now();
    let live = job.status == ExportStatus::Completed
        && job.expires_at.is_some_and(|t| t > now)
        && !(job.spec.one_time && job.consumed_at.is_some());
    let expires = job.expires_at.map_or(0, |t| t.timestamp_millis());
    let link = |file: usize| {
        format!(
            "{}/download/{}",
            state.public_url,
            state.links.sign(&job.id, file, expires)
        )
    };
    let files: Vec<Value> = job
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut v = json!({"name": f.name, "bytes": f.bytes, "sha256": f.sha256});
            if live && job.files.len() > 1 {
                v["download_url"] = json!(link(i));
            }
            v
        })
        .collect();
    let status = match job.status {
        ExportStatus::Completed if job.expires_at.is_some_and(|t| t <= now) => {
            ExportStatus::Expired
        }
        other => other,
    };
    json!({
        "export_id": job.id,
        "kind": job.spec.kind(),
        "status": status.as_str(),
        "subject": job.spec.subject,
        "format": job.spec.format,
        "include": job.spec.data_types,
        "date_range": {"start": job.spec.range.start, "end": job.spec.range.end},
        "website_id": job.spec.website_id,
        "part_size": job.spec.is_bulk().then(|| job.spec.part_size.unwrap_or(ferry_domain::job::DEFAULT_PART_SIZE)),
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "progress": progress(job, now),
        "files": files,
        "download_url": live.then(|| link(0)),
        "expires_at": job.expires_at,
        "one_time": job.spec.one_time,
        "error": job.error.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
        "downloads": downloads,
    })
}

/// Rows and bytes so far; with the row total known, the percent done and the seconds left at
/// the pace so far.
fn progress(job: &ExportJob, now: chrono::DateTime<Utc>) -> Value {
    let mut p = json!({
        "rows": job.rows_written,
        "bytes": job.bytes_written,
        "rows_total": job.rows_total,
        "percent": null,
        "eta_seconds": null,
    });
    match job.status {
        ExportStatus::Completed => p["percent"] = json!(100.0),
        ExportStatus::Running => {
            if let Some(total) = job.rows_total.filter(|t| *t > 0) {
                let done = (job.rows_written as f64 / total as f64).min(0.999);
                p["percent"] = json!((done * 1000.0).round() / 10.0);
                let elapsed = job
                    .started_at
                    .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                if let Some(elapsed) = elapsed.filter(|_| done > 0.0) {
                    p["eta_seconds"] = json!((elapsed * (1.0 - done) / done).ceil() as u64);
                }
            }
        }
        _ => {}
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_domain::export::{DataType, ExportRange, Format};

    fn running(rows: u64, total: Option<u64>, started_secs_ago: i64) -> ExportJob {
        let now = Utc::now();
        ExportJob {
            id: "exp_1".into(),
            spec: ExportSpec {
                subject: None,
                website_id: Some("web_1".into()),
                data_types: vec![DataType::Pageviews],
                format: Format::Csv,
                range: ExportRange::default(),
                zip: true,
                one_time: false,
                expires_in: 60,
                part_size: None,
            },
            requested_by: "key_1".into(),
            status: ExportStatus::Running,
            attempts: 1,
            rows_written: rows,
            bytes_written: rows * 100,
            error: None,
            files: Vec::new(),
            artifact: None,
            rows_total: total,
            created_at: now,
            started_at: Some(now - chrono::Duration::seconds(started_secs_ago)),
            finished_at: None,
            expires_at: None,
            consumed_at: None,
        }
    }

    #[test]
    fn progress_estimates_percent_and_time_left_from_the_pace_so_far() {
        let p = progress(&running(250, Some(1000), 10), Utc::now());
        assert_eq!(p["percent"], 25.0);
        assert_eq!(p["eta_seconds"], 30);
        let unknown = progress(&running(250, None, 10), Utc::now());
        assert_eq!(unknown["percent"], Value::Null);
        assert_eq!(unknown["eta_seconds"], Value::Null);
        let counted_short = progress(&running(1200, Some(1000), 10), Utc::now());
        assert_eq!(counted_short["percent"], 99.9, "never 100 before the end");
    }
}
