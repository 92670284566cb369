//! [`Exports`] on SQLite: the job queue of `jobs` and the download log of `downloads` (kept
//! apart from `jobs` only so that file stays short).

use async_trait::async_trait;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{CompletedExport, DownloadRecord, ExportJob, NewExport, Progress};
use ferry_domain::job::{OneTimeRequest, OneTimeUse};
use ferry_domain::queue::Lease;
use ferry_domain::{AccountId, Millis};

use super::{SqliteStore, downloads, jobs};
use crate::{ExportFilter, Exports, Queued, StoreError};

#[async_trait]
impl Exports for SqliteStore {
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
        filter: ExportFilter,
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

    async fn export_downloads(&self, id: &str) -> Result<Vec<DownloadRecord>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| downloads::downloads(c, &id)).await
    }

    async fn claim_one_time(
        &self,
        id: &str,
        file: &str,
        request: OneTimeRequest,
        now: Millis,
    ) -> Result<OneTimeUse, StoreError> {
        let (id, file) = (id.to_string(), file.to_string());
        self.pool
            .write(move |c| downloads::claim_one_time(c, &id, &file, request, now))
            .await
    }

    async fn forget_download_clients(&self, before: Millis) -> Result<u64, StoreError> {
        self.pool
            .write(move |c| downloads::forget_clients(c, before))
            .await
    }
}
