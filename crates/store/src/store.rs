use async_trait::async_trait;
use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals, VisitorRow};
use ferry_domain::audit::{AuditEntry, AuditEvent};
use ferry_domain::bulk::Batch;
use ferry_domain::export::{EventRow, ExportRange, PageviewRow, SessionRow, Subject, SubjectRef};
use ferry_domain::job::{CompletedExport, DownloadRecord, ExportJob, NewExport, Progress, Receipt};
use ferry_domain::queue::Lease;
use ferry_domain::{
    Account, AccountId, ApiKeyInfo, DateRange, IngestLine, LimitSetting, Limits, LineError, Millis,
    NewApiKey, Plan, ValidWebsite, Website,
};

use crate::sqlite::audit::{AuditBreak, AuditFilter};
use crate::sqlite::jobs::{ExportFilter, Queued};
use crate::{BulkStore, JobQueue, SegmentStore, StoreError};

/// What happened to each line of an ingest batch, in order.
pub type IngestOutcome = Vec<Result<(), LineError>>;

/// Rows arriving from the store in batches, oldest first; the channel closes after the last.
/// Dropping the receiver stops the query.
pub type RowReceiver<T> = tokio::sync::mpsc::Receiver<Result<Vec<T>, StoreError>>;

/// A bulk export's rows, batch by batch, for a consumer on a blocking thread. Dropping the
/// receiver stops the query.
pub type BatchReceiver<R> = crossbeam_channel::Receiver<Result<Batch<R>, StoreError>>;

/// A UTC window `[start, end)` in milliseconds.
pub type Window = (Millis, Millis);

/// Everything Ferry keeps. Implementations must be safe to share between tasks.
#[async_trait]
pub trait Store: BulkStore + SegmentStore + JobQueue + Send + Sync + 'static {
    async fn create_account(&self, name: &str, plan: Plan) -> Result<Account, StoreError>;
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError>;
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;
    /// The account's default download-link lifetime (`None`: 7 days).
    async fn set_link_expiry(&self, id: AccountId, secs: Option<u64>) -> Result<(), StoreError>;

    /// `id` is the new website's public id, chosen by the caller.
    async fn create_website(
        &self,
        account: AccountId,
        id: &str,
        website: ValidWebsite,
    ) -> Result<Website, StoreError>;
    /// A website of `account`; another account's website is `None`, as if it did not exist.
    async fn website(&self, account: AccountId, id: &str) -> Result<Option<Website>, StoreError>;
    /// A website by public id or domain, for the public tracker endpoints.
    async fn website_for_tracker(
        &self,
        id_or_domain: &str,
    ) -> Result<Option<(AccountId, Website)>, StoreError>;
    async fn websites(&self, account: AccountId) -> Result<Vec<Website>, StoreError>;

    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
    ) -> Result<ApiKeyInfo, StoreError>;
    /// The live (not revoked) key with this secret hash; records its use.
    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError>;
    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Revokes a key of `account`; `None` when there is no such key.
    async fn revoke_key(
        &self,
        account: AccountId,
        key_id: &str,
    ) -> Result<Option<ApiKeyInfo>, StoreError>;

    /// Stores a batch in one transaction. Lines naming a website outside `account` (when given)
    /// are refused and change nothing; every other line is kept.
    async fn ingest(
        &self,
        account: Option<AccountId>,
        lines: Vec<IngestLine>,
        now: Millis,
    ) -> Result<IngestOutcome, StoreError>;

    /// Totals over the range and one point per local day.
    async fn totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError>;
    /// Visitors who started a session in the range, ordered by first appearance in the store.
    async fn visitors(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<VisitorRow>, StoreError>;
    /// The person a user id, email or visitor id names in `account` (on one website when
    /// given): their profile and every visitor linked to them. `None` when nobody matches.
    async fn find_subject(
        &self,
        account: AccountId,
        subject: &SubjectRef,
        website_id: Option<&str>,
    ) -> Result<Option<Subject>, StoreError>;
    /// The page views of visitors (`Identity::visitor_key`) in the range.
    fn subject_pageviews(&self, visitors: Vec<i64>, range: ExportRange)
    -> RowReceiver<PageviewRow>;
    fn subject_events(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<EventRow>;
    fn subject_sessions(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<SessionRow>;
    /// Every property key of those visitors' events in the range, sorted.
    async fn subject_event_keys(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> Result<Vec<String>, StoreError>;

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
    /// Whether `file` of the export was downloaded whole already.
    async fn fetched_whole(&self, id: &str, file: &str) -> Result<bool, StoreError>;

    /// The account's export limits (its own settings over its plan's).
    async fn limits(&self, account: AccountId) -> Result<Limits, StoreError>;
    /// Changes the account's own settings that are given.
    async fn set_account_limits(
        &self,
        account: AccountId,
        exports_per_day: Option<LimitSetting<u32>>,
        max_export_bytes: Option<LimitSetting<u64>>,
    ) -> Result<(), StoreError>;
    async fn set_plan_limits(&self, plan: Plan, limits: Limits) -> Result<(), StoreError>;
    async fn plan_limits(&self) -> Result<Vec<(Plan, Limits)>, StoreError>;

    async fn export_downloads(&self, id: &str) -> Result<Vec<DownloadRecord>, StoreError>;

    /// Appends to the hash-chained audit trail.
    async fn audit(&self, account: AccountId, event: AuditEvent) -> Result<AuditEntry, StoreError>;
    async fn audit_entries(
        &self,
        account: AccountId,
        filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Checks the whole chain: how many entries, and the first that fails, if any.
    async fn audit_verify(&self) -> Result<(u64, Option<AuditBreak>), StoreError>;
    async fn receipt(&self, export_id: &str) -> Result<Option<Receipt>, StoreError>;
    /// Records delivery; `true` the first time.
    async fn mark_delivered(&self, export_id: &str) -> Result<bool, StoreError>;

    /// URLs viewed in the range, most viewed first.
    async fn pages(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageRow>, StoreError>;
}
