use async_trait::async_trait;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{
    ArtifactFile, DownloadRecord, ExportJob, ExportSpec, ExportStatus, Receipt,
};
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

/// Export jobs from request to download: the queue a worker claims from, each job's progress
/// and outcome, and the log of its downloads.
#[async_trait]
pub trait Exports: Send + Sync {
    /// Queues an export job under the caller-chosen id, unless `per_day` exports were asked
    /// for in the last 24 hours.
    async fn create_export(
        &self,
        account: AccountId,
        id: &str,
        spec: &ExportSpec,
        requested_by: &str,
        per_day: Option<u32>,
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
    /// Takes the oldest queued job and marks it running.
    async fn claim_export(&self) -> Result<Option<(AccountId, ExportJob)>, StoreError>;
    /// Progress, and the heartbeat that shows the job's worker is alive.
    /// `false` once the job is no longer running (cancelled): the worker stops it.
    async fn export_progress(&self, id: &str, rows: u64, bytes: u64) -> Result<bool, StoreError>;
    /// Completes the job, stores its receipt and appends `audit`, in one transaction: a client
    /// that sees `completed` finds the receipt and the trail entry. `false` when the job was
    /// cancelled while it ran: the caller deletes the artifact.
    #[allow(clippy::too_many_arguments)]
    async fn complete_export(
        &self,
        id: &str,
        files: &[ArtifactFile],
        artifact: &str,
        rows: u64,
        expires_at: Millis,
        receipt: &Receipt,
        audit: (AccountId, AuditEvent),
    ) -> Result<bool, StoreError>;
    /// A transient failure requeues the job until its attempts run out.
    async fn fail_export(
        &self,
        id: &str,
        code: &str,
        message: &str,
        transient: bool,
    ) -> Result<(), StoreError>;
    /// Cancels or retires a job; returns it and the artifact to delete.
    async fn cancel_export(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<(ExportJob, Option<String>)>, StoreError>;
    /// Requeues running jobs whose heartbeat is older than `heartbeat_before`.
    async fn requeue_stale_exports(&self, heartbeat_before: Millis) -> Result<usize, StoreError>;
    /// Logs a download; `true` once every file of the export was fetched whole (a one-time
    /// export is then used up).
    async fn record_download(
        &self,
        id: &str,
        record: DownloadRecord,
        one_time: bool,
    ) -> Result<bool, StoreError>;
    /// Whether `file` of the export was downloaded whole already.
    async fn fetched_whole(&self, id: &str, file: &str) -> Result<bool, StoreError>;
    async fn export_downloads(&self, id: &str) -> Result<Vec<DownloadRecord>, StoreError>;
}
