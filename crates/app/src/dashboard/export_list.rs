//! This account's exports as the Data Export page lists them: the API's own view of each (the
//! same status, progress and signed download link as `GET /exports/{id}`), newest first.

use ferry_domain::job::ExportStatus;
use ferry_store::ExportFilter;
use serde_json::Value;

use super::Dashboard;
use super::page::PageError;
use super::session::SignedIn;

/// Exports listed on the page, newest first.
const LISTED: u32 = 50;

/// One export as the list shows it.
pub struct ExportRow {
    pub(super) id: String,
    pub(super) subject: String,
    pub(super) format: String,
    pub(super) status: String,
    pub(super) progress: String,
    pub(super) size: String,
    pub(super) created_at: String,
    pub(super) requested_by: String,
    pub(super) download_url: Option<String>,
    pub(super) has_receipt: bool,
    pub(super) can_delete: bool,
    pub(super) error: Option<String>,
}

pub(super) async fn exports(
    state: &Dashboard,
    signed_in: &SignedIn,
) -> Result<Vec<ExportRow>, PageError> {
    let filter = ExportFilter {
        status: None,
        subject: None,
        created_from: None,
        created_to: None,
        cursor: None,
        limit: LISTED,
    };
    let page = state
        .app
        .store
        .export_jobs(signed_in.user.account, filter)
        .await?;
    Ok(page
        .data
        .iter()
        .map(|job| {
            // The API's own view: the same status, progress and signed link as GET /exports/{id}.
            let v = crate::api::exports::view(&state.app, job, None);
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let bytes: u64 = job.files.iter().map(|f| f.bytes).sum();
            let progress = match (&v["progress"]["percent"], job.status) {
                (Value::Number(p), _) => format!("{p}%"),
                (_, ExportStatus::Running) => format!("{} rows", job.rows_written),
                _ => String::new(),
            };
            ExportRow {
                id: job.id.clone(),
                subject: job.spec.subject_label(),
                format: text(&v["format"]).to_uppercase(),
                status: text(&v["status"]),
                progress,
                size: if job.files.is_empty() {
                    String::new()
                } else {
                    human_bytes(bytes)
                },
                created_at: ferry_domain::time::rfc3339(job.created_at),
                requested_by: job.requested_by.clone(),
                download_url: v["download_url"].as_str().map(str::to_string),
                has_receipt: job.status == ExportStatus::Completed,
                can_delete: !matches!(job.status, ExportStatus::Cancelled | ExportStatus::Expired),
                error: job
                    .error
                    .as_ref()
                    .map(|(code, message)| format!("{code}: {message}")),
            }
        })
        .collect())
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}
