//! `POST /api/ingest` (scope `ingest`): NDJSON, one line per page view, event or identify.
//! Good lines are stored in one transaction; each bad line is reported by number and reason and
//! changes nothing.

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use ferry_domain::ingest::parse_line;
use ferry_domain::{IngestLine, LineError, Scope};
use serde::Serialize;

use ferry_store::Store;

use super::error::ApiError;
use super::extract::{Body, Caller};
use crate::startup::AppState;

#[derive(Debug, Serialize)]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: usize,
    /// The first [`MAX_LISTED_ERRORS`] rejected lines; `rejected` counts them all.
    pub errors: Vec<RejectedLine>,
    /// More lines were rejected than `errors` lists.
    pub errors_truncated: bool,
}

/// A body of a million bad lines gets a short answer: the count, and the first thousand.
pub const MAX_LISTED_ERRORS: usize = 1_000;

#[derive(Debug, Serialize)]
pub struct RejectedLine {
    /// 1-based line number in the body.
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

pub async fn ndjson(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body,
) -> Result<Json<IngestReport>, ApiError> {
    let key = caller.require(Scope::Ingest)?;
    let report = ingest_ndjson(state.store.as_ref(), Some(key.account), &body).await?;
    tracing::info!(
        accepted = report.accepted,
        rejected = report.rejected,
        "ingest batch"
    );
    Ok(Json(report))
}

/// Parses NDJSON and stores its good lines; shared by the API and `ferry import`.
pub async fn ingest_ndjson(
    store: &dyn Store,
    account: Option<ferry_domain::AccountId>,
    body: &axum::body::Bytes,
) -> Result<IngestReport, ApiError> {
    let now = Utc::now().timestamp_millis();
    // Parsing megabytes of JSON is CPU work: keep it off the async worker threads.
    let owned = body.clone();
    let (numbers, lines, mut errors) = tokio::task::spawn_blocking(move || parse_body(&owned, now))
        .await
        .map_err(|_| {
            ApiError::new(
                crate::error_code::ErrorCode::InternalError,
                "parsing the body failed",
            )
        })?;
    if numbers.is_empty() && errors.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyBody,
            "the body has no lines: send NDJSON, one JSON object per line",
        ));
    }
    let outcome = store.ingest(account, lines, now).await?;
    let mut accepted = 0;
    for (number, result) in numbers.into_iter().zip(outcome) {
        match result {
            Ok(()) => accepted += 1,
            Err(e) => errors.push(rejected(number, e)),
        }
    }
    errors.sort_by_key(|e| e.line);
    let rejected = errors.len();
    errors.truncate(MAX_LISTED_ERRORS);
    Ok(IngestReport {
        accepted,
        rejected,
        errors,
        errors_truncated: rejected > MAX_LISTED_ERRORS,
    })
}

type Parsed = (Vec<usize>, Vec<IngestLine>, Vec<RejectedLine>);

/// Line numbers and lines that parsed, and the lines that did not.
fn parse_body(body: &[u8], now: i64) -> Parsed {
    let mut numbers = Vec::new();
    let mut lines: Vec<IngestLine> = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in body.split(|b| *b == b'\n').enumerate() {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(raw, now) {
            Ok(line) => {
                numbers.push(index + 1);
                lines.push(line);
            }
            Err(e) => errors.push(rejected(index + 1, e)),
        }
    }
    (numbers, lines, errors)
}

fn rejected(line: usize, e: LineError) -> RejectedLine {
    RejectedLine {
        line,
        code: e.code,
        message: e.message,
    }
}
