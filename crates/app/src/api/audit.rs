//! `GET /api/external/v1/audit`: the account's audit trail, filtered, as JSON or CSV
//! (`format=csv`). Each entry carries its hash and the previous one's.

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ferry_domain::Scope;
use ferry_store::AuditFilter;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiQuery, Caller};
use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    actor: Option<String>,
    /// Inclusive UTC days.
    from: Option<String>,
    to: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
    format: Option<String>,
}

fn day_start(field: &'static str, value: &str) -> Result<i64, ApiError> {
    let day = ferry_domain::parse_date(field, value)?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis())
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let filter = AuditFilter {
        action: q.action,
        subject: q.subject,
        actor: q.actor,
        from_ms: q
            .from
            .as_deref()
            .map(|v| day_start("from", v))
            .transpose()?,
        to_ms: q
            .to
            .as_deref()
            .map(|v| day_start("to", v).map(|ms| ms + 86_400_000))
            .transpose()?,
        after: q.after,
        limit: q.limit.unwrap_or(500).clamp(1, 10_000),
    };
    let entries = state.store.audit_entries(key.account, filter).await?;
    if q.format.as_deref() == Some("csv") {
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = [
            "seq",
            "at",
            "actor",
            "action",
            "subject",
            "data_types",
            "status",
            "export_id",
            "details",
            "prev_hash",
            "hash",
        ];
        let csv_error = |e: csv::Error| ApiError::new(ErrorCode::InternalError, e.to_string());
        out.write_record(header).map_err(csv_error)?;
        for e in &entries {
            out.write_record([
                e.seq.to_string(),
                ferry_domain::time::rfc3339(e.at),
                e.event.actor.clone(),
                e.event.action.clone(),
                e.event.subject.clone().unwrap_or_default(),
                e.event.data_types.join(","),
                e.event.status.clone(),
                e.event.export_id.clone().unwrap_or_default(),
                e.event.details.to_string(),
                e.prev_hash.clone(),
                e.hash.clone(),
            ])
            .map_err(csv_error)?;
        }
        let body = out
            .into_inner()
            .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let next_after = entries.last().map(|e| e.seq);
    Ok(Json(json!({ "data": entries, "next_after": next_after })).into_response())
}
