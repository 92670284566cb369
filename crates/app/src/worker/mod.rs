//! The export worker: claims queued jobs from the store, runs the pipeline into the artifact
//! store, and records the outcome. A job's file is written under `.tmp/` and renamed into place
//! only when complete, so a crash never leaves a half artifact where a link could reach it; the
//! job itself stops sending heartbeats and is requeued.

mod bulk;
mod person;

pub use bulk::BULK_DEFLATE_LEVEL;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use ferry_domain::AccountId;
use ferry_domain::job::{ArtifactFile, ExportJob, Receipt, ReceiptRange};
use ferry_export::bulk::parts::Meter;
use ferry_store::Store;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::audit::{export_event, record_or_log};
use crate::keys::random_id;
use crate::segments::SegmentFiles;
use crate::segments::build::Compactor;

/// A running job's heartbeat interval; a job silent for [`STALE_AFTER`] is requeued.
const HEARTBEAT: Duration = Duration::from_secs(1);
const STALE_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    /// The artifact store: `DATA_DIR/artifacts`.
    pub artifacts: PathBuf,
    /// Woken when a job is queued, so the worker need not poll quickly.
    pub wake: Arc<Notify>,
    /// Export segments bulk exports copy closed days from (`None`: read every row).
    pub segments: Option<SegmentFiles>,
    /// How often to build missing segments (`None`: never).
    pub compact_every: Option<Duration>,
}

impl Worker {
    /// Runs until the process stops.
    pub async fn run(self) {
        if let (Some(files), Some(every)) = (self.segments.clone(), self.compact_every) {
            let compactor = Compactor {
                store: self.store.clone(),
                files,
                level: BULK_DEFLATE_LEVEL,
            };
            tokio::spawn(compactor.run_forever(every));
        }
        let mut last_sweep = std::time::Instant::now() - STALE_AFTER;
        loop {
            if last_sweep.elapsed() >= STALE_AFTER / 2 {
                last_sweep = std::time::Instant::now();
                let before = Utc::now().timestamp_millis() - STALE_AFTER.as_millis() as i64;
                match self.store.requeue_stale_exports(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(jobs = n, "requeued export jobs whose worker stopped"),
                    Err(e) => tracing::error!(error = %e, "cannot requeue stale jobs"),
                }
            }
            match self.run_once().await {
                Ok(true) => continue,
                Ok(false) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "export worker step failed; retrying shortly");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Claims and runs one job; `false` when the queue was empty.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let Some((account, job)) = self.store.claim_export().await? else {
            return Ok(false);
        };
        tracing::info!(export.id = %job.id, attempt = job.attempts, "export started");
        let details = json!({"attempt": job.attempts});
        let started = export_event(
            "worker",
            "data_export.started",
            &job.id,
            &job.spec,
            "ok",
            details,
        );
        record_or_log(self.store.as_ref(), account, started).await;
        if let Err(Failure {
            code,
            message,
            transient,
        }) = self.process(account, &job).await
        {
            if code == "cancelled" {
                // DELETE /exports/{id} marked it and wrote the audit entry; the files are gone.
                tracing::info!(export.id = %job.id, "export stopped: cancelled");
                return Ok(true);
            }
            tracing::warn!(export.id = %job.id, code, transient, "export failed");
            self.store
                .fail_export(&job.id, code, &message, transient)
                .await?;
            let details = json!({"message": message, "will_retry": transient && job.attempts < 3});
            let failed = export_event(
                "worker",
                "data_export.failed",
                &job.id,
                &job.spec,
                code,
                details,
            );
            record_or_log(self.store.as_ref(), account, failed).await;
        }
        Ok(true)
    }

    async fn process(&self, account: AccountId, job: &ExportJob) -> Result<(), Failure> {
        let limits = self
            .store
            .limits(account)
            .await
            .map_err(Failure::transient)?;
        let meter = Meter::new(limits.max_export_bytes.filter(|_| job.spec.is_bulk()));
        let heartbeat = {
            let (store, id, meter) = (self.store.clone(), job.id.clone(), meter.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let rows = meter.rows.load(Ordering::Relaxed);
                    let bytes = meter.bytes.load(Ordering::Relaxed);
                    match store.export_progress(&id, rows, bytes).await {
                        Ok(true) => {}
                        Ok(false) => meter.cancelled.store(true, Ordering::Relaxed),
                        Err(e) => tracing::warn!(error = %e, "cannot record export progress"),
                    }
                }
            })
        };
        let tmp = self.artifacts.join(".tmp").join(&job.id);
        let _ = std::fs::remove_dir_all(&tmp);
        let written = match std::fs::create_dir_all(&tmp) {
            Err(e) => Err(Failure::transient(e)),
            Ok(()) if job.spec.is_bulk() => bulk::run(self, account, job, &tmp, meter).await,
            Ok(()) => person::run(self, account, job, &tmp, meter).await,
        };
        heartbeat.abort();
        let output = match written {
            Ok(output) => output,
            Err(failure) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(failure);
            }
        };
        let final_dir = self.artifacts.join(&job.id);
        let _ = std::fs::remove_dir_all(&final_dir);
        std::fs::rename(&tmp, &final_dir).map_err(Failure::transient)?;
        self.complete(account, job, output).await
    }

    /// Records the finished export, its receipt and the audit entry (one transaction).
    async fn complete(
        &self,
        account: AccountId,
        job: &ExportJob,
        output: Output,
    ) -> Result<(), Failure> {
        let spec = &job.spec;
        let expires_at = Utc::now().timestamp_millis() + spec.expires_in as i64 * 1000;
        let receipt = Receipt {
            receipt_id: random_id("rcpt_", 8),
            export_id: job.id.clone(),
            requested_by: job.requested_by.clone(),
            subject_email: output.subject_email,
            data_included: spec
                .data_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            date_range: output.range,
            generated_at: Utc::now(),
            delivered_at: None,
            delivery_method: "download".into(),
        };
        let details = json!({
            "rows": output.rows,
            "files": output.files,
            "receipt_id": receipt.receipt_id,
        });
        let completed = export_event(
            "worker",
            "data_export.completed",
            &job.id,
            spec,
            "ok",
            details,
        );
        let kept = self
            .store
            .complete_export(
                &job.id,
                &output.files,
                &job.id,
                output.rows,
                expires_at,
                &receipt,
                (account, completed),
            )
            .await
            .map_err(Failure::transient)?;
        if !kept {
            // Cancelled while it ran: nobody may download it.
            remove_artifact(&self.artifacts, &job.id);
            return Ok(());
        }
        let bytes: u64 = output.files.iter().map(|f| f.bytes).sum();
        tracing::info!(export.id = %job.id, rows = output.rows, bytes, files = output.files.len(), "export completed");
        Ok(())
    }
}

/// What a finished export left in its directory.
pub(crate) struct Output {
    pub files: Vec<ArtifactFile>,
    pub rows: u64,
    pub subject_email: Option<String>,
    /// The days covered, for the receipt.
    pub range: ReceiptRange,
}

/// Counts and hashes a file's bytes as they go to disk (and into the meter, when given).
pub(crate) struct Hashing<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub bytes: u64,
    pub meter: Option<Arc<Meter>>,
}

impl<W> Hashing<W> {
    pub fn new(inner: W, meter: Option<Arc<Meter>>) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            meter,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if let Some(meter) = &self.meter {
            meter.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Hashing<io::BufWriter<std::fs::File>> {
    /// Flushes and syncs the file; returns its entry.
    pub fn finish(self, name: &str) -> io::Result<ArtifactFile> {
        let sha256 = hex::encode(self.hasher.finalize());
        self.inner
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        Ok(ArtifactFile {
            name: name.to_string(),
            bytes: self.bytes,
            sha256,
        })
    }
}

/// Deletes an export's artifact directory.
pub fn remove_artifact(artifacts: &Path, relative: &str) {
    if !relative.is_empty() && !relative.contains("..") {
        let _ = std::fs::remove_dir_all(artifacts.join(relative));
    }
}

pub(crate) struct Failure {
    pub code: &'static str,
    pub message: String,
    pub transient: bool,
}

impl Failure {
    pub fn transient(e: impl std::fmt::Display) -> Self {
        Failure {
            code: "export_failed",
            message: format!("the export could not be written: {e}"),
            transient: true,
        }
    }
}
