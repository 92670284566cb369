//! Export jobs: what was asked for, and where it stands.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::export::{DataType, ExportRange, Format, SubjectRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Completed => "completed",
            ExportStatus::Failed => "failed",
            ExportStatus::Expired => "expired",
            ExportStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ExportStatus::Queued,
            ExportStatus::Running,
            ExportStatus::Completed,
            ExportStatus::Failed,
            ExportStatus::Expired,
            ExportStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// A checked export request, stored with the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportSpec {
    /// The person; `None` for a bulk export of the whole website `website_id`.
    pub subject: Option<SubjectRef>,
    pub website_id: Option<String>,
    pub data_types: Vec<DataType>,
    pub format: Format,
    pub range: ExportRange,
    /// Put a JSON export in a ZIP too (CSV and NDJSON always are).
    pub zip: bool,
    /// The link stops working after its first complete download.
    pub one_time: bool,
    /// How long the download link lives, in seconds.
    pub expires_in: u64,
    /// Bulk exports: each data file is split into parts of at most this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
    /// Keep CSV text cells exactly as stored, even ones a spreadsheet would run as formulas
    /// (`ferry export --keep-formulas`); by default they are neutralised.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_formulas: bool,
    /// Whom `subject` resolved to when the export was asked for
    /// ([`crate::export::Subject::person`]); `None` for bulk exports and exports asked before
    /// Ferry recorded it. Kept with the job so that every audit entry of the export, written
    /// later by the worker or the download link, names the same person as the request did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Encrypt the files to this OpenPGP key (`.gpg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// A schedule's run: the events CSV's property columns in this order (the series' order:
    /// earlier runs' columns first, new keys appended), instead of the window's keys sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_columns: Option<Vec<String>>,
}

/// An export's files are encrypted to one OpenPGP public key, checked when it was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The armored public key, as given.
    pub pgp_public_key: String,
    /// Its primary key's fingerprint (40 upper-case hex digits): what receipts record.
    pub fingerprint: String,
}

/// Data files of a bulk export are split at this size unless the request says otherwise.
pub const DEFAULT_PART_SIZE: u64 = 1_000_000_000;

impl ExportSpec {
    pub fn is_bulk(&self) -> bool {
        self.subject.is_none()
    }

    pub fn kind(&self) -> &'static str {
        if self.is_bulk() { "bulk" } else { "subject" }
    }

    /// `user_id:user_123`, or `website:web_…` for a bulk export: how lists and the audit
    /// trail name what was exported.
    pub fn subject_label(&self) -> String {
        match &self.subject {
            Some(subject) => subject.label(),
            None => format!("website:{}", self.website_id.as_deref().unwrap_or("")),
        }
    }
}

/// An export to queue, with what decides whether it may be.
#[derive(Debug, Clone)]
pub struct NewExport {
    pub id: String,
    pub account: crate::AccountId,
    pub spec: ExportSpec,
    /// Who asked: an API key's name, `cli`, later a dashboard user's email.
    pub requested_by: String,
    /// Exports the account may ask for in 24 hours (`None`: no limit).
    pub per_day: Option<u32>,
    /// Asked by the operator at the command line, who runs it in their own process: it is
    /// not counted against the daily limit, waits in the `held` lane no worker claims, and
    /// gets one attempt.
    pub operator: bool,
}

/// A running export's counters, reported with its heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    /// Bytes written before compression.
    pub bytes: u64,
}

/// A finished export as its worker reports it.
#[derive(Debug, Clone)]
pub struct CompletedExport {
    pub id: String,
    pub files: Vec<ArtifactFile>,
    /// Where the files are in the artifact store.
    pub artifact: String,
    pub rows: u64,
    pub expires_at: crate::Millis,
    pub receipt: Receipt,
}

/// One file of a finished export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A request to use a one-time link for one file: `bytes` of the file's `file_bytes`, as a
/// resume (`Range`) or as a fresh download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneTimeRequest {
    pub bytes: u64,
    pub file_bytes: u64,
    pub resume: bool,
}

/// Over its whole life a one-time link serves at most its file plus this much (resumes
/// repeat a little of what a broken download already had).
pub const ONE_TIME_SLACK_BYTES: u64 = 1 << 20;
/// A one-time link may be resumed for this long after its first request.
pub const ONE_TIME_RESUME_MS: crate::Millis = 86_400_000;

/// What the store said to a one-time request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeUse {
    /// Serve it.
    Granted,
    /// Downloaded whole already, or claimed by another request (a fresh download after the
    /// first), or the bytes asked would pass the budget.
    Used,
    /// Claimed more than a day ago and never completed.
    ResumeExpired,
}

/// One download attempt, complete or not. The client address is kept here (the issue asks
/// for it, to answer "who fetched this?") and never logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadRecord {
    #[serde(serialize_with = "crate::time::serde_rfc3339::serialize")]
    pub at: DateTime<Utc>,
    pub client: Option<String>,
    pub bytes: u64,
    pub complete: bool,
    /// Which of the export's files.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    pub id: String,
    pub spec: ExportSpec,
    /// The API key id (or `cli`) that asked.
    pub requested_by: String,
    pub status: ExportStatus,
    pub attempts: u32,
    pub rows_written: u64,
    pub bytes_written: u64,
    pub error: Option<(String, String)>,
    /// The files a client downloads: one (the ZIP or JSON document), or a bulk export's parts
    /// with `manifest.json` first.
    pub files: Vec<ArtifactFile>,
    /// The artifact's directory, relative to the artifact store.
    pub artifact: Option<String>,
    /// Rows the finished export will hold, once counted (bulk exports).
    pub rows_total: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When a one-time link was used up.
    pub consumed_at: Option<DateTime<Utc>>,
    /// The queue job that generates it (`None` for exports finished before the queue).
    pub queue_job: Option<crate::queue::JobId>,
}

/// An export's receipt, with exactly the reference page's fields in the page's order (the
/// API answers with this struct as it is, so the order below is the order on the wire).
/// `generated_at` equals the export file's own `generated_at`: both are the one instant,
/// cut to whole seconds, taken when the files were written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub receipt_id: String,
    pub export_id: String,
    pub requested_by: String,
    pub subject_email: Option<String>,
    pub data_included: Vec<String>,
    /// The days the export covers: the requested bounds, and where one was left open, the
    /// first or last day of the rows actually exported (`null` when there were none).
    pub date_range: ExportRange,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub generated_at: DateTime<Utc>,
    #[serde(with = "crate::time::serde_rfc3339::option")]
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivery_method: String,
}
