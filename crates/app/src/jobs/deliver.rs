//! The deliver job: carries a completed export's stored files to the destination its request
//! named (a copy of which waits in the export's delivery record), once the export job has
//! completed. The download link stays valid beside it.
//!
//! - Success: the delivery is `delivered`, and the receipt's `delivered_at` and
//!   `delivery_method` are set in the same transaction; a `data_export.delivered` entry
//!   follows. Only a sink that returned success after checking what arrived (see the sinks)
//!   gets here: nothing is reported delivered that did not arrive.
//! - A failed attempt: retried after an exponential back-off ([`JobKind::retry_in`]) while
//!   attempts remain and the failure can pass; the reason shows in the export's `delivery`.
//! - The last failure: the delivery is `failed` with its reason, a
//!   `data_export.delivery_failed` entry is written, and the account is alerted
//!   ([`crate::alerts`]: its alert address by mail, its webhook).

use ferry_domain::queue::{DELIVERY_ATTEMPTS, JobKind, Lane, NewJob};
use ferry_domain::time::whole_seconds;
use ferry_store::{DeliveryResult, DeliveryStatus};
use serde_json::json;

use super::export::StoredFiles;
use super::{Failure, Worker};
use crate::audit::{export_event, record_or_log};
use crate::error_code::ErrorCode;
use crate::services::destinations::{OBJECT_PREFIX, open, shape};

/// Queues the delivery of a just-completed export, if its request asked for one. At most one
/// deliver job exists per export (its unique key), so a retried completion queues nothing new.
pub(crate) async fn enqueue_if_asked(worker: &Worker, export_id: &str) {
    match worker.store.delivery(export_id).await {
        Ok(Some(d)) if d.status == DeliveryStatus::Pending => {}
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, export.id = %export_id, "cannot read an export's delivery: it is not queued");
            return;
        }
    }
    let now = worker.clock.now();
    let job = NewJob {
        max_attempts: DELIVERY_ATTEMPTS,
        unique_key: Some(format!("deliver:{export_id}")),
        ..NewJob::now(
            JobKind::Deliver {
                export_id: export_id.to_string(),
            },
            Lane::Default,
            now,
        )
    };
    match worker.store.enqueue(job, now).await {
        Ok(_) => worker.wake.notify_one(),
        Err(e) => {
            tracing::error!(error = %e, export.id = %export_id, "cannot queue an export's delivery")
        }
    }
}

fn failed(message: impl Into<String>, transient: bool) -> Failure {
    Failure {
        code: ErrorCode::DeliveryFailed,
        message: message.into(),
        transient,
    }
}

pub(super) async fn run(worker: &Worker, export_id: &str) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    let delivery = store
        .delivery(export_id)
        .await
        .map_err(Failure::transient)?
        .ok_or_else(|| failed("the export has no delivery to make", false))?;
    if delivery.status != DeliveryStatus::Pending {
        return Ok(());
    }
    let (account, job) = store
        .export_job_any(export_id)
        .await
        .map_err(Failure::transient)?
        .ok_or_else(|| failed("the export no longer exists", false))?;
    let prefix = job
        .artifact
        .clone()
        .filter(|_| job.status == ferry_domain::job::ExportStatus::Completed)
        .ok_or_else(|| failed("the export's files are gone (expired or deleted)", false))?;
    let sealer = worker.sealer.as_ref().ok_or_else(|| {
        failed(
            "this server has no usable secret key (FERRY_SECRET_KEY or DATA_DIR/secret-key) \
             to open the destination's credentials",
            false,
        )
    })?;
    let mut target = open(sealer, account, &delivery.settings, &delivery.sealed)
        .map_err(|m| failed(m, false))?;
    let folder = target
        .public
        .remove(OBJECT_PREFIX)
        .and_then(|v| v.as_str().map(str::to_string));
    let mail = (target.kind == "email")
        .then(|| worker.mail.as_ref().map(|setup| mail(setup, &job)))
        .flatten();
    let sink = shape::sink(&target, mail).map_err(|e| failed(e.to_string(), false))?;
    let files: Vec<ferry_deliver::PackageFile> = job
        .files
        .iter()
        .map(|f| ferry_deliver::PackageFile {
            name: f.name.clone(),
            bytes: f.bytes,
            sha256: f.sha256.clone(),
        })
        .collect();
    let stored = StoredFiles {
        artifacts: worker.artifacts.as_ref(),
        prefix: &prefix,
        sizes: files.iter().map(|f| (f.name.clone(), f.bytes)).collect(),
    };
    tracing::info!(export.id = %export_id, kind = %delivery.kind, "delivery started");
    let done = match &folder {
        None => sink.deliver(export_id, &files, &stored).await,
        Some(folder) => {
            let source = Renamed::new(&stored, export_id, &files);
            sink.deliver(folder, &source.files, &source).await
        }
    }
    .map_err(|e| failed(e.to_string(), e.is_transient()))?;
    let at = whole_seconds(worker.clock.now());
    let result = DeliveryResult::Delivered {
        method: done.method.to_string(),
        location: done.location.clone(),
        at: at.timestamp_millis(),
    };
    store
        .record_delivery(export_id, result, worker.clock.now())
        .await
        .map_err(Failure::transient)?;
    tracing::info!(export.id = %export_id, method = done.method, "export delivered");
    let details = json!({
        "delivery_method": done.method,
        "destination_id": delivery.destination_id,
        "location": done.location,
        "files": files.iter().map(|f| json!({"name": f.name, "bytes": f.bytes, "sha256": f.sha256})).collect::<Vec<_>>(),
    });
    let entry = export_event(
        "worker",
        "data_export.delivered",
        export_id,
        &job.spec,
        "ok",
        details,
    );
    record_or_log(store, account, entry).await;
    Ok(())
}

/// Records a failed attempt; the last one fails the delivery, audits it and alerts the
/// account.
pub(super) async fn attempt_failed(
    worker: &Worker,
    export_id: &str,
    reason: &str,
    will_retry: bool,
) {
    let store = worker.store.as_ref();
    let now = worker.clock.now();
    let result = if will_retry {
        DeliveryResult::Retrying {
            error: reason.to_string(),
        }
    } else {
        DeliveryResult::Failed {
            error: reason.to_string(),
        }
    };
    if let Err(e) = store.record_delivery(export_id, result, now).await {
        tracing::error!(error = %e, export.id = %export_id, "cannot record a delivery's failure");
    }
    if will_retry {
        return;
    }
    let Ok(Some((account, job))) = store.export_job_any(export_id).await else {
        return;
    };
    let delivery = store.delivery(export_id).await.ok().flatten();
    let details = json!({
        "message": reason,
        "destination_id": delivery.as_ref().and_then(|d| d.destination_id.clone()),
        "type": delivery.as_ref().map(|d| d.kind.clone()),
        "attempts": delivery.as_ref().map(|d| d.attempts),
    });
    let entry = export_event(
        "worker",
        "data_export.delivery_failed",
        export_id,
        &job.spec,
        ErrorCode::DeliveryFailed.as_str(),
        details,
    );
    record_or_log(store, account, entry).await;
    let destination_id = delivery.as_ref().and_then(|d| d.destination_id.clone());
    let destination_name = match &destination_id {
        Some(id) => store
            .destination(account, id)
            .await
            .ok()
            .flatten()
            .and_then(|d| d.name),
        None => None,
    };
    let alert = crate::alerts::Alert {
        export_id: export_id.to_string(),
        destination_id,
        destination_name,
        kind: delivery.as_ref().map(|d| d.kind.clone()),
        attempts: delivery.as_ref().map(|d| d.attempts),
        message: reason.to_string(),
        at: whole_seconds(now),
    };
    crate::alerts::enqueue(store, account, &alert, now).await;
    worker.wake.notify_one();
}

/// A delivery under a fixed folder names its files without the export id (`export.zip`), so
/// every run of a schedule's window delivers the same names; reads go to the stored names.
struct Renamed<'a> {
    stored: &'a StoredFiles<'a>,
    files: Vec<ferry_deliver::PackageFile>,
    /// (delivered name, stored name)
    names: Vec<(String, String)>,
}

impl<'a> Renamed<'a> {
    fn new(
        stored: &'a StoredFiles<'a>,
        export_id: &str,
        files: &[ferry_deliver::PackageFile],
    ) -> Self {
        let names: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.name.replacen(export_id, "export", 1), f.name.clone()))
            .collect();
        let files = files
            .iter()
            .zip(&names)
            .map(|(f, (shown, _))| ferry_deliver::PackageFile {
                name: shown.clone(),
                ..f.clone()
            })
            .collect();
        Renamed {
            stored,
            files,
            names,
        }
    }

    fn stored_name<'n>(&'n self, name: &'n str) -> &'n str {
        self.names
            .iter()
            .find(|(shown, _)| shown == name)
            .map_or(name, |(_, stored)| stored.as_str())
    }
}

#[async_trait::async_trait]
impl ferry_deliver::FileSource for Renamed<'_> {
    async fn open(
        &self,
        name: &str,
    ) -> std::io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        self.stored.open(self.stored_name(name)).await
    }

    fn local_path(&self, name: &str) -> Option<std::path::PathBuf> {
        self.stored.local_path(self.stored_name(name))
    }
}

/// The mail of an `email` delivery: a signed link to the export's (first) file, valid as long
/// as the export's own link, and what the export holds.
fn mail(setup: &crate::jobs::MailSetup, job: &ferry_domain::job::ExportJob) -> shape::Mail {
    let expires = job.expires_at.map_or(0, |t| t.timestamp_millis());
    let download_url = format!(
        "{}/download/{}",
        setup.public_url,
        setup.links.sign(&job.id, 0, expires)
    );
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "…".to_string(), |d| d.to_string());
    let range = &job.spec.range;
    shape::Mail {
        relay: setup.relay.clone(),
        notice: ferry_deliver::email::ExportNotice {
            download_url,
            expires_at: job
                .expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            data_types: job
                .spec
                .data_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            date_range: (range.start.is_some() || range.end.is_some())
                .then(|| (day(range.start), day(range.end))),
        },
        attach_limit: setup.attach_limit,
    }
}
