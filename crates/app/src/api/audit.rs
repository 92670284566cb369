//! `GET /api/external/v1/audit`: the account's audit trail, filtered, as JSON or CSV
//! (`format=csv`). Each entry carries its hash, the previous one's, its hash version and the
//! account name the hash covers: everything needed to recompute it. Pages like every
//! other list (`cursor` / `next_cursor`), and by `after` / `next_after` as it first did, for
//! the scripts written then.

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ferry_domain::Scope;
use ferry_store::{AuditFilter, StoreError, cursor};
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
    cursor: Option<String>,
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

/// Longer than any identifier Ferry keeps (user ids 256, emails 320 characters) plus its
/// label: a longer filter can match nothing, so it is refused rather than looked up.
const MAX_SUBJECT_CHARS: usize = 400;

/// The entry after which a `cursor` continues.
fn after_cursor(value: &str) -> Result<i64, ApiError> {
    let seq = cursor::decode(value, "audit")?
        .parse()
        .map_err(|_| StoreError::InvalidCursor)?;
    Ok(seq)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    if q.subject
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SUBJECT_CHARS)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!(
                "subject is at most {MAX_SUBJECT_CHARS} characters: pass one user id, email or visitor id"
            ),
        ));
    }
    let after = match (q.after, q.cursor.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "pass either cursor (from next_cursor) or after (from next_after), not both",
            ));
        }
        (after, None) => after,
        (None, Some(c)) => Some(after_cursor(c)?),
    };
    let limit = q.limit.unwrap_or(500).clamp(1, 10_000);
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
        after,
        // One more than asked, to know whether another page follows.
        limit: limit + 1,
    };
    let mut entries = state.store.audit_entries(key.account, filter).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    if q.format.as_deref() == Some("csv") {
        let body = crate::audit::entries_csv(&entries)
            .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let last = entries.last().map(|e| e.seq);
    // `next_after` names the last entry of every page, as it always did; `next_cursor` is
    // `null` on the last page, as on every other list.
    let next_cursor = last
        .filter(|_| more)
        .map(|seq| cursor::encode(&format!("audit:{seq}")));
    Ok(
        Json(json!({ "data": entries, "next_cursor": next_cursor, "next_after": last }))
            .into_response(),
    )
}
