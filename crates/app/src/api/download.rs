//! `GET /download/{token}`: the export's file, streamed, with HTTP Range for resuming. Every
//! download is recorded (when, client address, bytes, complete or not); a one-time link is used
//! up by its first complete download only, so an interrupted one can be resumed.

use crate::error_code::ErrorCode;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ferry_domain::job::{DownloadRecord, ExportStatus, OneTimeRequest, OneTimeUse};
use futures_util::Stream;
use tokio_util::io::ReaderStream;

use super::error::ApiError;
use crate::audit::{export_event, record_or_log};
use crate::startup::AppState;

fn gone(code: ErrorCode, message: &str) -> ApiError {
    ApiError::new(code, message)
}

pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let claim = state.links.verify(&token).ok_or_else(|| {
        ApiError::new(
            ErrorCode::LinkInvalid,
            "this download link is not one Ferry issued: check that it was copied whole",
        )
    })?;
    // Counted per link once it is known to be Ferry's: forged tokens cost only the HMAC check
    // and cannot fill the limiter's memory.
    state.link_rate_limit.check(&token)?;
    let now = state.clock.now();
    if claim.expires_at <= now {
        return Err(gone(
            ErrorCode::LinkExpired,
            "this download link has expired: ask for a new export",
        ));
    }
    let (account, job) = state
        .store
        .export_job_any(&claim.export_id)
        .await?
        .ok_or_else(|| {
            gone(
                ErrorCode::LinkExpired,
                "this export no longer exists: ask for a new export",
            )
        })?;
    if job
        .error
        .as_ref()
        .is_some_and(|(code, _)| code == ErrorCode::ExportErased.as_str())
    {
        return Err(gone(
            ErrorCode::ExportErased,
            "this export was removed by an erasure request (GDPR Art. 17): the data it held no \
             longer exists, and nobody can download it again",
        ));
    }
    let (Some(relative), Some(file), ExportStatus::Completed) =
        (&job.artifact, job.files.get(claim.file), job.status)
    else {
        return Err(gone(
            ErrorCode::LinkExpired,
            "this export was deleted or has expired: ask for a new export",
        ));
    };
    if job.expires_at.is_some_and(|t| t.timestamp_millis() <= now) {
        return Err(gone(
            ErrorCode::LinkExpired,
            "this download link has expired: ask for a new export",
        ));
    }
    let length = file.bytes;
    // A Range header that is not text is as unreadable as one that does not parse.
    let range = headers
        .get(header::RANGE)
        .map(|v| v.to_str().unwrap_or("unreadable"));
    let (start, end) = match range {
        None => (0, length),
        Some(range) => match parse_range(range, length) {
            Some(r) => r,
            None => {
                let mut response = ApiError::new(
                    ErrorCode::InvalidRange,
                    format!("ask for one range within the file's {length} bytes, e.g. bytes=0-"),
                )
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{length}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(response);
            }
        },
    };
    if job.spec.one_time {
        let request = OneTimeRequest {
            bytes: end - start,
            file_bytes: length,
            resume: range.is_some(),
        };
        match state
            .store
            .claim_one_time(&job.id, &file.name, request, now)
            .await?
        {
            OneTimeUse::Granted => {}
            OneTimeUse::Used => {
                return Err(gone(
                    ErrorCode::LinkUsed,
                    "this one-time link was used already (an interrupted download can be resumed \
                     with a Range request): ask for a new export",
                ));
            }
            OneTimeUse::ResumeExpired => {
                return Err(gone(
                    ErrorCode::LinkUsed,
                    "this one-time link was first used over a day ago and can no longer be \
                     resumed: ask for a new export",
                ));
            }
        }
    }
    // Written before the first byte leaves: a download cut short by a kill still left a trace.
    let started = export_event(
        "link",
        "data_export.download_started",
        &job.id,
        &job.spec,
        "ok",
        serde_json::json!({"file": file.name, "from_byte": start, "bytes": end - start}),
    );
    state.store.audit(account, started).await?;
    let key = format!("{relative}/{}", file.name);
    let handle = state
        .worker
        .artifacts
        .open(&key, start..end)
        .await
        .map_err(|_| {
            gone(
                ErrorCode::LinkExpired,
                "this export's file is gone: ask for a new export",
            )
        })?;
    let body = Recorded {
        inner: ReaderStream::with_capacity(handle, 256 * 1024),
        sent: 0,
        expected: end - start,
        reaches_end: end == length,
        done: false,
        state: state.clone(),
        account,
        spec: job.spec.clone(),
        export_id: job.id.clone(),
        file: file.name.clone(),
        one_time: job.spec.one_time,
        client: Some(peer.ip().to_string()),
    };
    let partial = headers.contains_key(header::RANGE);
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = response.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&file.name)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", file.sha256)) {
        h.insert(header::ETAG, v);
    }
    if partial && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{length}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("zip") => "application/zip",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("ndjson") => "application/x-ndjson",
        Some("parquet") => "application/vnd.apache.parquet",
        Some("txt") => "text/plain; charset=utf-8",
        // A binary OpenPGP message (RFC 3156's type).
        Some("gpg") => "application/pgp-encrypted",
        _ => "application/octet-stream",
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as a half-open byte range; `None` when unsatisfiable.
fn parse_range(value: &str, length: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (start, end) = match (first.trim(), last.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (length.saturating_sub(n), length)
        }
        (a, "") => (a.parse().ok()?, length),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.saturating_add(1).min(length),
        ),
    };
    (start < end && start < length).then_some((start, end))
}

/// The file's bytes on their way out, counted; the download is recorded when the stream ends
/// or is dropped (the client went away).
struct Recorded<S> {
    inner: S,
    sent: u64,
    expected: u64,
    reaches_end: bool,
    done: bool,
    state: AppState,
    account: ferry_domain::AccountId,
    spec: ferry_domain::job::ExportSpec,
    export_id: String,
    file: String,
    one_time: bool,
    client: Option<String>,
}

impl<S> Recorded<S> {
    fn record(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // Complete: every byte up to the end of the file went out in this response.
        let complete = self.sent == self.expected && self.reaches_end;
        let record = DownloadRecord {
            at: Utc::now(),
            client: self.client.take(),
            bytes: self.sent,
            complete,
            file: Some(self.file.clone()),
        };
        let (store, id, one_time) = (
            self.state.store.clone(),
            self.export_id.clone(),
            self.one_time,
        );
        let (account, spec, bytes, file) = (
            self.account,
            self.spec.clone(),
            record.bytes,
            self.file.clone(),
        );
        let announce = self.state.downloads.clone();
        tokio::spawn(async move {
            let all_fetched = match store.record_download(&id, record, one_time).await {
                Ok(all) => all,
                Err(e) => {
                    tracing::error!(error = %e, export.id = %id, "cannot record a download");
                    false
                }
            };
            let status = if complete { "ok" } else { "incomplete" };
            let details = serde_json::json!({"file": file, "bytes": bytes, "complete": complete});
            let entry = export_event(
                "link",
                "data_export.downloaded",
                &id,
                &spec,
                status,
                details,
            );
            record_or_log(store.as_ref(), account, entry).await;
            if all_fetched && store.mark_delivered(&id).await.unwrap_or(false) {
                let details = serde_json::json!({"delivery_method": "download"});
                let entry =
                    export_event("link", "data_export.delivered", &id, &spec, "ok", details);
                record_or_log(store.as_ref(), account, entry).await;
            }
            tracing::info!(export.id = %id, complete, "download finished");
            let _ = announce.send(id);
        });
    }
}

impl<S: Stream<Item = std::io::Result<Bytes>> + Unpin> Stream for Recorded<S> {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => self.sent += chunk.len() as u64,
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.record(),
            Poll::Pending => {}
        }
        polled
    }
}

impl<S> Drop for Recorded<S> {
    fn drop(&mut self) {
        self.record();
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_http_defines_them() {
        assert_eq!(parse_range("bytes=0-", 10), Some((0, 10)));
        assert_eq!(parse_range("bytes=2-4", 10), Some((2, 5)));
        assert_eq!(parse_range("bytes=-3", 10), Some((7, 10)));
        assert_eq!(parse_range("bytes=5-100", 10), Some((5, 10)));
        assert_eq!(parse_range("bytes=10-", 10), None);
        assert_eq!(parse_range("bytes=0-1,4-5", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }
}
