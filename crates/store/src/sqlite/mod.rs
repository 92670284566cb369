//! The embedded default: SQLite in WAL mode, one file in the data directory.
//!
//! - `conn`: the writer and the reader pool.
//! - `migrations`: schema versions.
//! - `admin`: accounts, websites, API keys.
//! - `ingest`: batches of page views, events and identifies; `rows` writes them many at a time.
//! - `group_commit`: the ingest thread, which commits waiting batches together.
//! - `sessions`: keeps sessions true to the 30-minute rule as rows arrive.
//! - `audit`: the hash-chained audit trail and receipts.
//! - `queue`: the generic job queue with leases; `export_mirror` keeps an export's record
//!   in step with its job.
//! - `jobs`: export jobs; `downloads`: their download log.
//! - `stream`: query results handed over in batches through a bounded channel.
//! - `subject`, `subject_rows`: one person's identities, and their rows in time order.
//! - `analytics`: totals, per-day series, visitor and page lists.
//! - `bulk`, `bulk_lookup`, `bulk_facts`: a website's rows over a window for bulk exports, the
//!   lookups they use, and what is known of the window besides its rows.
//! - `split`: a bulk export's big tables read by two connections at once.
//! - `limits`: plan limits and per-account overrides.

mod admin;
mod analytics;
pub mod audit;
mod bulk;
mod bulk_facts;
mod bulk_lookup;
mod bulk_store;
mod conn;
mod convert;
mod downloads;
mod export_mirror;
mod group_commit;
mod ingest;
pub mod jobs;
mod limits;
mod migrations;
mod queue;
mod rows;
mod segments;
mod sessions;
mod split;
mod stream;
mod subject;
mod subject_rows;
#[cfg(test)]
mod test_support;
mod visitors;

use std::path::Path;

use async_trait::async_trait;
use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals, VisitorRow};
use ferry_domain::{
    Account, AccountId, ApiKeyInfo, DateRange, IngestLine, LimitSetting, Limits, Millis, NewApiKey,
    Plan, ValidWebsite, Website,
};

use ferry_domain::audit::{AuditEntry, AuditEvent};
use ferry_domain::export::{EventRow, ExportRange, PageviewRow, SessionRow, Subject, SubjectRef};
use ferry_domain::job::{CompletedExport, DownloadRecord, ExportJob, NewExport, Progress, Receipt};
use ferry_domain::queue::Lease;

use crate::{IngestOutcome, Queued, RowReceiver, Store, StoreError};

pub struct SqliteStore {
    pool: std::sync::Arc<conn::Pool>,
    ingest: group_commit::IngestQueue,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let owned = path.to_path_buf();
        let pool = tokio::task::spawn_blocking(move || -> Result<conn::Pool, StoreError> {
            let mut writer = conn::open_writer(&owned)?;
            migrations::migrate(&mut writer)?;
            conn::Pool::new(&owned, writer)
        })
        .await??;
        let ingest = group_commit::IngestQueue::start(pool.writer())?;
        Ok(SqliteStore {
            pool: std::sync::Arc::new(pool),
            ingest,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_account(&self, name: &str, plan: Plan) -> Result<Account, StoreError> {
        let name = name.to_string();
        self.pool
            .write(move |c| admin::create_account(c, &name, plan))
            .await
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let name = name.to_string();
        self.pool
            .read(move |c| admin::account_by_name(c, &name))
            .await
    }

    async fn create_export(
        &self,
        request: NewExport,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<Queued, StoreError> {
        self.pool
            .write(move |c| jobs::create(c, &request, &audit, now))
            .await
    }

    async fn set_export_total(&self, id: &str, rows: u64) -> Result<(), StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| jobs::set_total(c, &id, rows))
            .await
    }

    async fn export_job(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<ExportJob>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| jobs::get(c, account, &id)).await
    }

    async fn export_job_any(&self, id: &str) -> Result<Option<(AccountId, ExportJob)>, StoreError> {
        let id = id.to_string();
        let found = self.pool.read(move |c| jobs::by_id(c, &id)).await?;
        Ok(found.map(|(_, account, job)| (account, job)))
    }

    async fn export_jobs(
        &self,
        account: AccountId,
        filter: jobs::ExportFilter,
    ) -> Result<Page<ExportJob>, StoreError> {
        self.pool
            .read(move |c| jobs::list(c, account, &filter))
            .await
    }

    async fn export_progress(
        &self,
        lease: &Lease,
        id: &str,
        progress: Progress,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<bool, StoreError> {
        let (lease, id) = (lease.clone(), id.to_string());
        self.pool
            .write(move |c| jobs::progress(c, &lease, &id, progress, now, lease_ms))
            .await
    }

    async fn complete_export(
        &self,
        lease: &Lease,
        done: CompletedExport,
        audit: (AccountId, AuditEvent),
        now: Millis,
    ) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.pool
            .write(move |c| jobs::complete(c, &lease, &done, (audit.0, &audit.1), now))
            .await
    }

    async fn cancel_export(
        &self,
        account: AccountId,
        id: &str,
        now: Millis,
    ) -> Result<Option<(ExportJob, Option<String>)>, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| jobs::cancel(c, account, &id, now))
            .await
    }

    async fn record_download(
        &self,
        id: &str,
        record: DownloadRecord,
        one_time: bool,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| downloads::record_download(c, &id, &record, one_time))
            .await
    }

    async fn fetched_whole(&self, id: &str, file: &str) -> Result<bool, StoreError> {
        let (id, file) = (id.to_string(), file.to_string());
        self.pool
            .read(move |c| downloads::fetched_whole(c, &id, &file))
            .await
    }

    async fn limits(&self, account: AccountId) -> Result<Limits, StoreError> {
        self.pool.read(move |c| limits::effective(c, account)).await
    }

    async fn set_account_limits(
        &self,
        account: AccountId,
        exports_per_day: Option<LimitSetting<u32>>,
        max_export_bytes: Option<LimitSetting<u64>>,
    ) -> Result<(), StoreError> {
        self.pool
            .write(move |c| limits::set_account(c, account, exports_per_day, max_export_bytes))
            .await
    }

    async fn set_plan_limits(&self, plan: Plan, new: Limits) -> Result<(), StoreError> {
        self.pool
            .write(move |c| limits::set_plan(c, plan, new))
            .await
    }

    async fn plan_limits(&self) -> Result<Vec<(Plan, Limits)>, StoreError> {
        self.pool.read(limits::plans).await
    }

    async fn export_downloads(&self, id: &str) -> Result<Vec<DownloadRecord>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| downloads::downloads(c, &id)).await
    }

    async fn audit(&self, account: AccountId, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.pool
            .write(move |c| audit::append(c, account, &event))
            .await
    }

    async fn audit_entries(
        &self,
        account: AccountId,
        filter: audit::AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.pool
            .read(move |c| audit::list(c, account, &filter))
            .await
    }

    async fn audit_verify(&self) -> Result<(u64, Option<audit::AuditBreak>), StoreError> {
        self.pool.read(audit::verify).await
    }

    async fn receipt(&self, export_id: &str) -> Result<Option<Receipt>, StoreError> {
        let id = export_id.to_string();
        self.pool.read(move |c| audit::receipt(c, &id)).await
    }

    async fn mark_delivered(&self, export_id: &str) -> Result<bool, StoreError> {
        let id = export_id.to_string();
        self.pool
            .write(move |c| audit::mark_delivered(c, &id))
            .await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.pool.read(move |c| admin::account(c, id)).await
    }

    async fn set_link_expiry(&self, id: AccountId, secs: Option<u64>) -> Result<(), StoreError> {
        self.pool
            .write(move |c| admin::set_link_expiry(c, id, secs))
            .await
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.pool.read(admin::accounts).await
    }

    async fn find_subject(
        &self,
        account: AccountId,
        subject: &SubjectRef,
        website_id: Option<&str>,
    ) -> Result<Option<Subject>, StoreError> {
        let (subject, website) = (subject.clone(), website_id.map(str::to_string));
        self.pool
            .read(move |c| subject::find(c, account, &subject, website.as_deref()))
            .await
    }

    fn subject_pageviews(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> RowReceiver<PageviewRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::pageviews(c, &visitors, range, each)
        })
    }

    fn subject_events(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<EventRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::events(c, &visitors, range, each)
        })
    }

    fn subject_sessions(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<SessionRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::sessions(c, &visitors, range, each)
        })
    }

    async fn subject_event_keys(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> Result<Vec<String>, StoreError> {
        self.pool
            .read(move |c| subject_rows::event_property_keys(c, &visitors, range))
            .await
    }

    async fn create_website(
        &self,
        account: AccountId,
        id: &str,
        website: ValidWebsite,
    ) -> Result<Website, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| admin::create_website(c, account, &id, website))
            .await
    }

    async fn website(&self, account: AccountId, id: &str) -> Result<Option<Website>, StoreError> {
        let id = id.to_string();
        self.pool
            .read(move |c| admin::website(c, account, &id))
            .await
    }

    async fn website_for_tracker(
        &self,
        id_or_domain: &str,
    ) -> Result<Option<(AccountId, Website)>, StoreError> {
        let key = id_or_domain.to_string();
        self.pool
            .read(move |c| admin::website_for_tracker(c, &key))
            .await
    }

    async fn websites(&self, account: AccountId) -> Result<Vec<Website>, StoreError> {
        self.pool.read(move |c| admin::websites(c, account)).await
    }

    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
    ) -> Result<ApiKeyInfo, StoreError> {
        self.pool
            .write(move |c| admin::create_key(c, account, key))
            .await
    }

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
        let hash = secret_hash.to_string();
        let key = self
            .pool
            .read(move |c| admin::key_by_hash(c, &hash))
            .await?;
        if let Some(k) = key.as_ref().filter(|k| admin::needs_touch(k)) {
            let id = k.id.clone();
            self.pool.write(move |c| admin::touch_key(c, &id)).await?;
        }
        Ok(key)
    }

    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        self.pool.read(move |c| admin::keys(c, account)).await
    }

    async fn revoke_key(
        &self,
        account: AccountId,
        key_id: &str,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        let id = key_id.to_string();
        self.pool
            .write(move |c| admin::revoke_key(c, account, &id))
            .await
    }

    async fn ingest(
        &self,
        account: Option<AccountId>,
        lines: Vec<IngestLine>,
        now: Millis,
    ) -> Result<IngestOutcome, StoreError> {
        let job = ingest::IngestJob {
            account,
            lines,
            now,
        };
        self.ingest.ingest(job).await
    }

    async fn totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError> {
        let website = website.clone();
        self.pool
            .read(move |c| analytics::totals(c, &website, range))
            .await
    }

    async fn visitors(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<VisitorRow>, StoreError> {
        let (website, cursor) = (website.clone(), cursor.map(str::to_string));
        self.pool
            .read(move |c| visitors::visitors(c, &website, range, cursor.as_deref(), limit))
            .await
    }

    async fn pages(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageRow>, StoreError> {
        let (website, cursor) = (website.clone(), cursor.map(str::to_string));
        self.pool
            .read(move |c| analytics::pages(c, &website, range, cursor.as_deref(), limit))
            .await
    }
}
