//! The export job: write the files into the attempt's scratch directory, store them in the
//! artifact store under `{export_id}/{lease token}/`, hand them to the sink, and complete the
//! export with its receipt, presenting the lease. If the lease is refused (the export was
//! cancelled, or another worker reclaimed it), the stored files are deleted: a stalled
//! worker's files never become reachable.

mod about;
mod bulk;
mod hashing;
mod person;
mod sealed;

pub use bulk::BULK_DEFLATE_LEVEL;

use std::path::Path;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use ferry_deliver::{FileSource, PackageFile};
use ferry_domain::AccountId;
use ferry_domain::export::ExportRange;
use ferry_domain::job::{ArtifactFile, CompletedExport, ExportJob, ExportStatus, Receipt};
use ferry_domain::time::whole_seconds;
use ferry_export::bulk::parts::Meter;
use serde_json::json;

use super::{Failure, JobContext, Worker};
use crate::artifacts::ArtifactStore;
use crate::audit::{export_event, record_or_log};
use crate::error_code::ErrorCode;
use crate::keys::random_id;

pub type RowCounts = std::collections::BTreeMap<String, u64>;

/// What one attempt at an export works with.
pub(crate) struct Attempt<'a> {
    pub worker: &'a Worker,
    pub account: AccountId,
    pub job: &'a ExportJob,
    /// The attempt's own scratch directory.
    pub dir: &'a Path,
    pub meter: std::sync::Arc<Meter>,
    pub options: &'a super::RunOptions,
}

/// What a finished export left in its scratch directory.
pub(crate) struct Output {
    pub files: Vec<ArtifactFile>,
    /// Rows per data type.
    pub counts: RowCounts,
    pub subject_email: Option<String>,
    /// The days covered, for the receipt.
    pub range: ExportRange,
    /// The `generated_at` written into the files (whole seconds), repeated on the receipt.
    pub generated_at: DateTime<Utc>,
}

pub(super) async fn run(worker: &Worker, ctx: &JobContext, export_id: &str) -> Result<(), Failure> {
    let (account, job) = worker
        .store
        .export_job_any(export_id)
        .await
        .map_err(Failure::transient)?
        .ok_or_else(|| {
            Failure::permanent(ErrorCode::ExportNotFound, "the export no longer exists")
        })?;
    if job.status != ExportStatus::Running {
        return Err(cancelled());
    }
    tracing::info!(export.id = %job.id, attempt = ctx.lease.attempt, "export started");
    let started = export_event(
        "worker",
        "data_export.started",
        &job.id,
        &job.spec,
        "ok",
        json!({"attempt": ctx.lease.attempt}),
    );
    record_or_log(worker.store.as_ref(), account, started).await;
    let meter = match &ctx.options.meter {
        Some(meter) => meter.clone(),
        None => {
            let limits = worker
                .store
                .limits(account)
                .await
                .map_err(Failure::transient)?;
            Meter::new(limits.max_export_bytes.filter(|_| job.spec.is_bulk()))
        }
    };
    let _ = ctx.meter.set(meter.clone());
    if ctx.lost.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    let scratch = scratch_dir(worker, &job.id, &ctx.lease.token);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(Failure::transient)?;
    // Tests hold or break a job here, its scratch directory made and nothing written yet.
    if let Some(hook) = &worker.hook {
        hook(&job).await;
    }
    // Debug builds only: lets a test make every export kill its own process, to show that a
    // job whose process dies on each attempt stops at the attempt limit.
    #[cfg(debug_assertions)]
    if std::env::var_os("FERRY_TEST_ABORT_EXPORTS").is_some() {
        std::process::abort();
    }
    let attempt = Attempt {
        worker,
        account,
        job: &job,
        dir: &scratch,
        meter,
        options: &ctx.options,
    };
    let written = if job.spec.is_bulk() {
        bulk::run(attempt).await
    } else {
        person::run(attempt).await
    };
    let stored = match written {
        Ok(output) => {
            store_files(
                worker.artifacts.as_ref(),
                &job.id,
                &ctx.lease.token,
                &scratch,
                output,
            )
            .await
        }
        Err(failure) => Err(failure),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (prefix, output) = stored?;
    let kept = deliver_and_complete(worker, ctx, account, &job, &prefix, output).await;
    if !matches!(kept, Ok(true)) {
        // Refused, or unknown: nobody may reach these files.
        if let Err(e) = worker.artifacts.delete(&prefix).await {
            tracing::warn!(error = %e, export.id = %job.id, "cannot delete an unused artifact");
        }
    }
    match kept? {
        true => Ok(()),
        false => Err(cancelled()),
    }
}

/// Where one attempt writes before its files are stored: its own, named by its lease.
pub(crate) fn scratch_dir(worker: &Worker, export_id: &str, token: &str) -> std::path::PathBuf {
    worker.scratch.join(format!("{export_id}.{token}"))
}

fn cancelled() -> Failure {
    Failure::permanent(
        ErrorCode::Cancelled,
        "the export was cancelled, or its job was taken over by another worker",
    )
}

/// Moves the scratch files into the artifact store; returns their prefix.
async fn store_files(
    artifacts: &dyn ArtifactStore,
    export_id: &str,
    token: &str,
    scratch: &Path,
    output: Output,
) -> Result<(String, Output), Failure> {
    let prefix = format!("{export_id}/{token}");
    for file in &output.files {
        let key = format!("{prefix}/{}", file.name);
        if let Err(e) = artifacts.put_file(&key, &scratch.join(&file.name)).await {
            let _ = artifacts.delete(&prefix).await;
            return Err(Failure::transient(e));
        }
    }
    Ok((prefix, output))
}

/// An export's stored files, read back for a sink.
pub(crate) struct StoredFiles<'a> {
    pub artifacts: &'a dyn ArtifactStore,
    pub prefix: &'a str,
    pub sizes: Vec<(String, u64)>,
}

#[async_trait::async_trait]
impl FileSource for StoredFiles<'_> {
    async fn open(
        &self,
        name: &str,
    ) -> std::io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        let size = self
            .sizes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b);
        self.artifacts
            .open(&format!("{}/{name}", self.prefix), 0..size)
            .await
    }

    fn local_path(&self, name: &str) -> Option<std::path::PathBuf> {
        self.artifacts
            .local_path(&format!("{}/{name}", self.prefix))
    }
}

/// Hands the files to the sink, then completes the export with its receipt; `false` when
/// the lease was refused.
async fn deliver_and_complete(
    worker: &Worker,
    ctx: &JobContext,
    account: AccountId,
    job: &ExportJob,
    prefix: &str,
    output: Output,
) -> Result<bool, Failure> {
    let files: Vec<PackageFile> = output
        .files
        .iter()
        .map(|f| PackageFile {
            name: f.name.clone(),
            bytes: f.bytes,
            sha256: f.sha256.clone(),
        })
        .collect();
    let source = StoredFiles {
        artifacts: worker.artifacts.as_ref(),
        prefix,
        sizes: files.iter().map(|f| (f.name.clone(), f.bytes)).collect(),
    };
    let delivery = ctx
        .options
        .sink
        .deliver(&job.id, &files, &source)
        .await
        .map_err(|e| Failure {
            code: ErrorCode::DeliveryFailed,
            message: format!("the export was generated but could not be delivered: {e}"),
            transient: e.is_transient(),
        })?;
    let rows: u64 = output.counts.values().sum();
    let now = worker.clock.now();
    let spec = &job.spec;
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
        generated_at: output.generated_at,
        // Whole seconds, as the page's receipt shows them.
        delivered_at: delivery.delivered.then(|| whole_seconds(now)),
        delivery_method: delivery.method.to_string(),
    };
    let details = json!({
        "rows": rows,
        "row_counts": output.counts,
        "files": output.files,
        "receipt_id": receipt.receipt_id,
        "delivery_method": delivery.method,
        "encrypted_to": spec.encryption.as_ref().map(|e| &e.fingerprint),
    });
    let completed = export_event(
        "worker",
        "data_export.completed",
        &job.id,
        spec,
        "ok",
        details,
    );
    let done = CompletedExport {
        id: job.id.clone(),
        files: output.files.clone(),
        artifact: prefix.to_string(),
        rows,
        expires_at: now + spec.expires_in as i64 * 1000,
        receipt,
    };
    let kept = worker
        .store
        .complete_export(&ctx.lease, done, (account, completed), now)
        .await
        .map_err(Failure::transient)?;
    if kept {
        let bytes: u64 = output.files.iter().map(|f| f.bytes).sum();
        if let Some(report) = &ctx.options.counts {
            *report.lock().unwrap_or_else(|p| p.into_inner()) = Some(output.counts.clone());
        }
        tracing::info!(export.id = %job.id, rows, bytes, files = output.files.len(), method = delivery.method, "export completed");
        super::deliver::enqueue_if_asked(worker, &job.id).await;
        if delivery.delivered {
            let details = json!({"delivery_method": delivery.method});
            let entry = export_event(
                "worker",
                "data_export.delivered",
                &job.id,
                spec,
                "ok",
                details,
            );
            record_or_log(worker.store.as_ref(), account, entry).await;
        }
    }
    Ok(kept)
}
