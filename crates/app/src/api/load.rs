//! What keeps one client from holding the whole server: a limit on the requests handled at
//! once, and a time limit on each.
//!
//! - Over the concurrency limit a request is refused at once with `503 overloaded` and
//!   `Retry-After`, never queued: a queue without bound is memory an attacker fills, and a
//!   client told to come back later does better than one left waiting. A request holds its
//!   place until its handler has answered; a download's body streams after that, so a long
//!   download does not hold a place for its whole length.
//! - The time limit (`503 request_timeout`) applies to the routes that answer from the database
//!   in one go: the External API, the tracker and `/healthz`. It does not apply to
//!   `/api/ingest`, whose handler reads an upload that may take as long as the client's line
//!   needs, nor to `/download/{token}`, whose file may take hours to stream; the concurrency
//!   limit still bounds how many of those run at once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::error_code::ErrorCode;

/// Requests handled at once by default: far above what two cores serve well, far below what
/// exhausts memory or file descriptors.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 512;
/// Seconds a timed request may take by default: an analytics query over ten years of a large
/// website takes a few seconds; a request still running after thirty is stuck or abusive.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
/// What a refused client is told to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

/// The server's load limits, from `--max-concurrent-requests` and `--request-timeout`.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    /// 0: no limit.
    pub max_concurrent_requests: usize,
    /// `None`: no time limit.
    pub request_timeout: Option<Duration>,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            request_timeout: Some(Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS)),
        }
    }
}

/// The places for requests in flight; `None` when unlimited.
#[derive(Clone)]
pub struct Places(Option<Arc<Semaphore>>);

impl Places {
    pub fn new(limit: usize) -> Self {
        Places((limit > 0).then(|| Arc::new(Semaphore::new(limit))))
    }
}

/// Middleware: refuses a request when every place is taken.
pub async fn limit_concurrency(
    State(places): State<Places>,
    request: Request,
    next: Next,
) -> Response {
    let Some(places) = places.0 else {
        return next.run(request).await;
    };
    let Ok(place) = places.try_acquire_owned() else {
        let mut problem = ApiError::new(
            ErrorCode::Overloaded,
            format!(
                "Ferry is handling as many requests as it takes at once: retry in {RETRY_AFTER_SECS} second (Retry-After), and send fewer requests in parallel"
            ),
        );
        problem.headers = vec![("retry-after", RETRY_AFTER_SECS.to_string())];
        return problem.into_response();
    };
    let response = next.run(request).await;
    drop(place);
    response
}

/// Middleware: answers `503 request_timeout` when the handler takes longer than `limit`.
pub async fn limit_time(
    State(limit): State<Option<Duration>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limit) = limit else {
        return next.run(request).await;
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut problem = ApiError::new(
                ErrorCode::RequestTimeout,
                format!(
                    "this request took longer than {} ms and was stopped: retry later, or ask for less (a shorter date range, a smaller page)",
                    limit.as_millis()
                ),
            );
            problem.headers = vec![("retry-after", RETRY_AFTER_SECS.to_string())];
            problem.into_response()
        }
    }
}
