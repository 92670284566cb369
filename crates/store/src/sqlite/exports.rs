//! [`Exports`] on SQLite: the job queue of `jobs` and the download log of `downloads` (kept
//! apart from `jobs` only so that file stays short).

use async_trait::async_trait;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{ArtifactFile, DownloadRecord, ExportJob, ExportSpec, Receipt};
use ferry_domain::{AccountId, Millis};

use super::{SqliteStore, downloads, jobs};
use crate::{ExportFilter, Exports, Queued, StoreError};

#[async_trait]
impl Exports for SqliteStore {
    async fn create_export(
        &self,
        account: AccountId,
        id: &str,
        spec: &ExportSpec,
        requested_by: &str,
        per_day: Option<u32>,
    ) -> Result<Queued, StoreError> {
        let (id, spec, by) = (id.to_string(), spec.clone(), requested_by.to_string());
        self.pool
            .write(move |c| jobs::create(c, account, &id, &spec, &by, per_day))
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

    async fn claim_export(&self) -> Result<Option<(AccountId, ExportJob)>, StoreError> {
        self.pool.write(|c| jobs::claim(c)).await
    }

    async fn export_progress(&self, id: &str, rows: u64, bytes: u64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| jobs::progress(c, &id, rows, bytes))
            .await
    }

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
    ) -> Result<bool, StoreError> {
        let (id, files, artifact, receipt) = (
            id.to_string(),
            files.to_vec(),
            artifact.to_string(),
            receipt.clone(),
        );
        self.pool
            .write(move |c| {
                jobs::complete(
                    c,
                    &id,
                    &files,
                    &artifact,
                    rows,
                    expires_at,
                    &receipt,
                    (audit.0, &audit.1),
                )
            })
            .await
    }

    async fn fail_export(
        &self,
        id: &str,
        code: &str,
        message: &str,
        transient: bool,
    ) -> Result<(), StoreError> {
        let (id, code, message) = (id.to_string(), code.to_string(), message.to_string());
        self.pool
            .write(move |c| jobs::fail(c, &id, &code, &message, transient))
            .await
    }

    async fn cancel_export(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<(ExportJob, Option<String>)>, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| jobs::cancel(c, account, &id))
            .await
    }

    async fn requeue_stale_exports(&self, heartbeat_before: Millis) -> Result<usize, StoreError> {
        self.pool
            .write(move |c| jobs::requeue_stale(c, heartbeat_before))
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
}
