//! The export worker: claims queued jobs from the store, runs the pipeline into the artifact
//! store, and records the outcome. A job's file is written under `.tmp/` and renamed into place
//! only when complete, so a crash never leaves a half artifact where a link could reach it; the
//! job itself stops sending heartbeats and is requeued.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use ferry_domain::AccountId;
use ferry_domain::export::Format;
use ferry_domain::job::{ArtifactFile, ExportJob, Receipt, ReceiptRange};
use ferry_export::person::PersonExport;
use ferry_store::Store;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::audit::{export_event, record_or_log};
use crate::keys::random_id;
use crate::pipeline::StoreSource;

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
}

/// Counts and hashes the artifact's bytes as they go to disk.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: Arc<AtomicU64>,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Worker {
    /// Runs until the process stops.
    pub async fn run(self) {
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
        let spec = &job.spec;
        let subject = self
            .store
            .find_subject(account, &spec.subject, spec.website_id.as_deref())
            .await
            .map_err(Failure::transient)?
            .ok_or_else(|| Failure {
                code: "subject_not_found",
                message: "the person was not found (was their data erased?)".into(),
                transient: false,
            })?;
        let subject_email = subject.profile.as_ref().and_then(|p| p.email.clone());
        let rows = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let heartbeat = {
            let (store, id, rows, bytes) = (
                self.store.clone(),
                job.id.clone(),
                rows.clone(),
                bytes.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let (r, b) = (rows.load(Ordering::Relaxed), bytes.load(Ordering::Relaxed));
                    if let Err(e) = store.export_progress(&id, r, b).await {
                        tracing::warn!(error = %e, "cannot record export progress");
                    }
                }
            })
        };
        let counter = rows.clone();
        let source = StoreSource {
            store: self.store.clone(),
            visitors: subject.identities.iter().map(|i| i.visitor_key).collect(),
            range: spec.range,
            runtime: tokio::runtime::Handle::current(),
            on_row: Arc::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        };
        let zip = spec.zip || spec.format != Format::Json;
        let name = format!("{}.{}", job.id, if zip { "zip" } else { "json" });
        let (tmp, final_dir) = (self.artifacts.join(".tmp"), self.artifacts.join(&job.id));
        let (job_id, spec_owned, counted) = (job.id.clone(), spec.clone(), bytes.clone());
        let tmp_file = tmp.join(format!("{}.part", job.id));
        let written = tokio::task::spawn_blocking(move || -> io::Result<(String, u64)> {
            std::fs::create_dir_all(&tmp)?;
            let mut source = source;
            let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
            let export = PersonExport {
                export_id: &job_id,
                generated_at: &generated_at,
                subject_ref: &spec_owned.subject,
                subject: &subject,
                data_types: &spec_owned.data_types,
                format: spec_owned.format,
                range: spec_owned.range,
                neutralise: true,
            };
            let file = std::fs::File::create(&tmp_file)?;
            let out = Hashing {
                inner: io::BufWriter::with_capacity(1 << 20, file),
                hasher: Sha256::new(),
                bytes: counted,
            };
            let (out, counts) = if zip {
                export.write_zip(out, &mut source)?
            } else {
                export.write_json(out, &mut source)?
            };
            let sha256 = hex::encode(out.hasher.finalize());
            out.inner
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            Ok((sha256, counts.values().sum()))
        })
        .await;
        heartbeat.abort();
        let tmp_file = self.artifacts.join(".tmp").join(format!("{}.part", job.id));
        let (sha256, row_count) = match written {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                let _ = std::fs::remove_file(&tmp_file);
                return Err(Failure::transient(e));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_file);
                return Err(Failure::transient(e));
            }
        };
        std::fs::create_dir_all(&final_dir).map_err(Failure::transient)?;
        std::fs::rename(&tmp_file, final_dir.join(&name)).map_err(Failure::transient)?;
        let file = ArtifactFile {
            name: name.clone(),
            bytes: bytes.load(Ordering::Relaxed),
            sha256,
        };
        let expires_at = Utc::now().timestamp_millis() + spec.expires_in as i64 * 1000;
        let relative = format!("{}/{}", job.id, name);
        let receipt = Receipt {
            receipt_id: random_id("rcpt_", 8),
            export_id: job.id.clone(),
            requested_by: job.requested_by.clone(),
            subject_email,
            data_included: spec
                .data_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            date_range: ReceiptRange {
                start: spec.range.start,
                end: spec.range.end,
            },
            generated_at: Utc::now(),
            delivered_at: None,
            delivery_method: "download".into(),
        };
        let details = json!({"rows": row_count, "file": file, "receipt_id": receipt.receipt_id});
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
                &file,
                &relative,
                row_count,
                expires_at,
                &receipt,
                (account, completed),
            )
            .await
            .map_err(Failure::transient)?;
        if !kept {
            // Cancelled while it ran: nobody may download it.
            remove_artifact(&self.artifacts, &relative);
            return Ok(());
        }
        tracing::info!(export.id = %job.id, rows = row_count, bytes = file.bytes, "export completed");
        Ok(())
    }
}

/// Deletes an artifact and its directory.
pub fn remove_artifact(artifacts: &Path, relative: &str) {
    let path = artifacts.join(relative);
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

struct Failure {
    code: &'static str,
    message: String,
    transient: bool,
}

impl Failure {
    fn transient(e: impl std::fmt::Display) -> Self {
        Failure {
            code: "export_failed",
            message: format!("the export could not be written: {e}"),
            transient: true,
        }
    }
}
