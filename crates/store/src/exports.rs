use async_trait::async_trait;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{
    CompletedExport, DownloadRecord, ExportJob, ExportStatus, NewExport, Progress,
};
use ferry_domain::job::{OneTimeRequest, OneTimeUse};
use ferry_domain::queue::Lease;
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// What asking for an export gave.
#[derive(Debug)]
pub enum Queued {
    /// `remaining`: exports left in the last 24 hours (`None`: no limit).
    Created {
        job: Box<ExportJob>,
        remaining: Option<u32>,
    },
    /// The daily limit is used up until `retry_after_secs` from now.
    Limited { limit: u32, retry_after_secs: u64 },
}

/// Which jobs `GET /exports` lists.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    pub status: Option<ExportStatus>,
    /// A label such as `user_id:user_123`, or just the value (`user_123`).
    pub subject: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// Exports from request to download: each export's record (its queue job lives in
/// [`crate::JobQueue`]), its progress and outcome, and the log of its downloads.
#[async_trait]
pub trait Exports: Send + Sync {
    /// Queues an export, its queue job and its `requested` audit entry in one transaction,
    /// unless the account used up its exports of the last 24 hours (`request.per_day`).
    async fn create_export(
        &self,
        request: NewExport,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<Queued, StoreError>;
    /// How many rows the job will write, once counted.
    async fn set_export_total(&self, id: &str, rows: u64) -> Result<(), StoreError>;
    /// A job of `account`; another account's is `None`.
    async fn export_job(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<ExportJob>, StoreError>;
    /// A job of any account, for download links and workers.
    async fn export_job_any(&self, id: &str) -> Result<Option<(AccountId, ExportJob)>, StoreError>;
    /// Newest first.
    async fn export_jobs(
        &self,
        account: AccountId,
        filter: ExportFilter,
    ) -> Result<Page<ExportJob>, StoreError>;
    /// Progress, reported with the heartbeat that extends the job's lease. `false` once the
    /// lease is no longer the job's (cancelled, or reclaimed): the worker stops.
    async fn export_progress(
        &self,
        lease: &Lease,
        id: &str,
        progress: Progress,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<bool, StoreError>;
    /// Completes the export, stores its receipt, appends `audit` and ends its queue job, in
    /// one transaction: a client that sees `completed` finds the receipt and the trail entry.
    /// `false` when the lease is no longer the job's: nobody may reach the caller's files.
    async fn complete_export(
        &self,
        lease: &Lease,
        done: CompletedExport,
        audit: (AccountId, AuditEvent),
        now: Millis,
    ) -> Result<bool, StoreError>;
    /// Cancels or retires a job; returns it and the artifact to delete.
    async fn cancel_export(
        &self,
        account: AccountId,
        id: &str,
        now: Millis,
    ) -> Result<Option<(ExportJob, Option<String>)>, StoreError>;
    /// Logs a download; `true` once every file of the export was fetched whole (a one-time
    /// export is then used up).
    async fn record_download(
        &self,
        id: &str,
        record: DownloadRecord,
        one_time: bool,
    ) -> Result<bool, StoreError>;
    /// Decides a request on a one-time link for `file`, atomically: the first request
    /// claims it, later ones are served only as resumes within a byte budget and a day.
    async fn claim_one_time(
        &self,
        id: &str,
        file: &str,
        request: OneTimeRequest,
        now: Millis,
    ) -> Result<OneTimeUse, StoreError>;
    /// Whether `file` of the export was downloaded whole already.
    async fn fetched_whole(&self, id: &str, file: &str) -> Result<bool, StoreError>;
    async fn export_downloads(&self, id: &str) -> Result<Vec<DownloadRecord>, StoreError>;
    /// Forgets the client address of downloads made before `before` (retention); returns
    /// how many it blanked.
    async fn forget_download_clients(&self, before: Millis) -> Result<u64, StoreError>;
}
