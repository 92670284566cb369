//! Single steps: reclaim expired leases, claim and run one job. The run loop is built from
//! these; tests call them directly instead of waiting on the wall clock, and `ferry export`
//! runs its own job with them.

use std::sync::Arc;

use ferry_deliver::Sink;
use ferry_deliver::download::DownloadSink;
use ferry_domain::queue::{Claimed, JobId, JobKind, Lane};
use ferry_export::bulk::parts::Meter;
use serde_json::json;

use super::{JobEvent, Worker, driver};
use crate::audit::record_or_log;

/// What one run of a job may do differently from the worker's defaults.
#[derive(Clone)]
pub struct RunOptions {
    /// Where the finished files go (default: they stay for their download links).
    pub sink: Arc<dyn Sink>,
    /// Sync files to disk before the job is marked completed. `ferry export` leaves flushing
    /// to the OS, as `cp` does.
    pub durable: bool,
    /// Copy closed days from export segments where they exist.
    pub segments: bool,
    /// Counters to report into (the CLI draws its progress bar from them); they also carry
    /// the byte limit. `None`: the job makes its own, with the account's plan limit.
    pub meter: Option<Arc<Meter>>,
    /// Filled with the rows per data type once the export completes (the CLI's summary).
    pub counts: Option<Arc<std::sync::Mutex<Option<super::export::RowCounts>>>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            sink: Arc::new(DownloadSink),
            durable: true,
            segments: true,
            meter: None,
            counts: None,
        }
    }
}

impl Worker {
    fn lease_ms(&self) -> i64 {
        self.settings.lease.as_millis() as i64
    }

    /// Queues again the jobs whose lease expired, and fails those out of attempts (with a
    /// `failed` audit entry for an export). Returns how many it touched.
    pub async fn reclaim(&self) -> anyhow::Result<usize> {
        let reclaimed = self.store.reclaim_expired(self.clock.now()).await?;
        if !reclaimed.requeued.is_empty() {
            tracing::warn!(
                jobs = reclaimed.requeued.len(),
                "requeued jobs whose worker stopped"
            );
        }
        for (id, kind) in &reclaimed.failed {
            tracing::error!(
                job.id = id.0,
                kind = kind.name(),
                "job failed: its attempts ran out"
            );
            if let JobKind::Deliver { export_id } = kind {
                let message = "the worker delivering this export stopped on every attempt";
                super::deliver::attempt_failed(self, export_id, message, false).await;
                continue;
            }
            let JobKind::Export { export_id } = kind else {
                continue;
            };
            if let Ok(Some((account, job))) = self.store.export_job_any(export_id).await {
                let (code, message) = job.error.clone().unwrap_or_default();
                let details = json!({"message": message, "will_retry": false});
                let entry = crate::audit::export_event(
                    "worker",
                    "data_export.failed",
                    export_id,
                    &job.spec,
                    &code,
                    details,
                );
                record_or_log(self.store.as_ref(), account, entry).await;
            }
        }
        Ok(reclaimed.requeued.len() + reclaimed.failed.len())
    }

    /// Claims the oldest ready job of `lanes`.
    pub async fn claim(&self, lanes: &[Lane]) -> anyhow::Result<Option<Claimed>> {
        Ok(self
            .store
            .claim_job(lanes, self.clock.now(), self.lease_ms())
            .await?)
    }

    /// Runs a claimed job to its end.
    pub async fn run_claimed(&self, claimed: Claimed, options: RunOptions) -> JobEvent {
        driver::drive(self.clone(), claimed, options).await
    }

    /// Reclaims expired leases, then claims and runs one job of any lane; `None` when
    /// nothing is ready.
    pub async fn step(&self) -> anyhow::Result<Option<JobEvent>> {
        self.reclaim().await?;
        match self.claim(&[Lane::Default, Lane::Bulk]).await? {
            Some(claimed) => Ok(Some(self.run_claimed(claimed, self.options()).await)),
            None => Ok(None),
        }
    }

    /// Steps until no job is ready; the events in order.
    pub async fn run_until_idle(&self) -> anyhow::Result<Vec<JobEvent>> {
        let mut events = Vec::new();
        while let Some(event) = self.step().await? {
            events.push(event);
        }
        Ok(events)
    }

    /// Claims the job `id` and runs it here, now (`ferry export`); `None` when it is not
    /// ready to be claimed.
    pub async fn run_job(
        &self,
        id: JobId,
        options: RunOptions,
    ) -> anyhow::Result<Option<JobEvent>> {
        let claimed = self
            .store
            .claim_job_by_id(id, self.clock.now(), self.lease_ms())
            .await?;
        Ok(match claimed {
            Some(claimed) => Some(self.run_claimed(claimed, options).await),
            None => None,
        })
    }

    /// The options a job runs with in this worker.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            segments: self.segments.is_some(),
            ..RunOptions::default()
        }
    }
}
