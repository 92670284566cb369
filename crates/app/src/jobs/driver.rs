//! One claimed job, start to end: its heartbeat, its handler in a task of its own (the panic
//! boundary), and what the queue is told afterwards.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ferry_domain::job::Progress;
use ferry_domain::queue::{Claimed, JobFailure, JobFate, JobKind};
use serde_json::json;
use tokio::task::JoinHandle;

use super::{Failure, JobContext, JobEvent, Outcome, RunOptions, Worker};
use crate::audit::record_or_log;
use crate::error_code::ErrorCode;

/// Aborts a task when dropped: a job's heartbeat and body never outlive their driver, even
/// when the driver itself is dropped (a shutdown past its grace period).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) async fn drive(worker: Worker, claimed: Claimed, options: RunOptions) -> JobEvent {
    let ctx = Arc::new(JobContext {
        lease: claimed.lease.clone(),
        meter: std::sync::OnceLock::new(),
        lost: std::sync::atomic::AtomicBool::new(false),
        options,
    });
    let _heartbeat = AbortOnDrop(tokio::spawn(heartbeat(
        worker.clone(),
        claimed.kind.clone(),
        ctx.clone(),
    )));
    let mut body = AbortOnDrop(tokio::spawn(run_kind(
        worker.clone(),
        claimed.kind.clone(),
        ctx.clone(),
    )));
    let ended = (&mut body.0).await;
    drop(_heartbeat);
    let result = match ended {
        Ok(result) => result,
        Err(e) if e.is_panic() => {
            tracing::error!(
                job.id = claimed.lease.job.0,
                kind = claimed.kind.name(),
                "job panicked"
            );
            // The job could not clean up after itself.
            if let JobKind::Export { export_id } = &claimed.kind {
                let scratch = super::export::scratch_dir(&worker, export_id, &claimed.lease.token);
                let _ = std::fs::remove_dir_all(scratch);
            }
            Err(Failure::permanent(
                ErrorCode::InternalError,
                "Ferry failed while running this job; the operator's log has details. Ask again, \
                 and report it if it happens again",
            ))
        }
        Err(_) => Err(Failure::permanent(
            ErrorCode::InternalError,
            "the job was stopped",
        )),
    };
    let outcome = match result {
        Ok(()) => Outcome::Done,
        Err(failure) => report(&worker, &claimed, &ctx, failure).await,
    };
    // A data-subject request waiting for this export is mailed once all of its are done.
    match (&outcome, &claimed.kind) {
        (Outcome::Done, JobKind::Export { export_id }) => {
            super::request_delivery::export_finished(&worker, export_id).await;
        }
        (Outcome::Failed { code }, JobKind::Export { export_id }) => {
            super::request_delivery::export_failed(&worker, export_id, code).await;
        }
        _ => {}
    }
    let event = JobEvent {
        job: claimed.lease.job,
        kind: claimed.kind,
        outcome,
    };
    let _ = worker.events.send(event.clone());
    event
}

async fn run_kind(worker: Worker, kind: JobKind, ctx: Arc<JobContext>) -> Result<(), Failure> {
    match &kind {
        // An export finishes its job in the transaction that completes it.
        JobKind::Export { export_id } => return super::export::run(&worker, &ctx, export_id).await,
        JobKind::Sweep => super::sweep::run(&worker).await?,
        JobKind::ScheduleRun {
            schedule_id,
            window,
            trigger,
        } => super::schedule::run(&worker, ctx.lease.job, schedule_id, *window, *trigger).await?,
        JobKind::Deliver { export_id } => super::deliver::run(&worker, export_id).await?,
        JobKind::RequestMail { request_id, mail } => {
            super::request_mail::run(&worker, request_id, mail).await?
        }
        JobKind::Alert {
            account,
            channel,
            alert,
        } => super::alert::run(&worker, *account, *channel, alert).await?,
        JobKind::Erasure { request_id } => super::erasure::run(&worker, request_id).await?,
    }
    // Other kinds keep no record of their own to finish the job with: left running, the job
    // would be reclaimed when its lease ran out and end as failed.
    worker
        .store
        .finish_job(&ctx.lease, worker.clock.now())
        .await
        .map_err(Failure::transient)?;
    Ok(())
}

/// Extends the lease (and, for an export, records its progress) until the job ends. A lost
/// lease stops the job at its writers' next rows.
async fn heartbeat(worker: Worker, kind: JobKind, ctx: Arc<JobContext>) {
    let lease_ms = worker.settings.lease.as_millis() as i64;
    loop {
        tokio::time::sleep(worker.settings.heartbeat).await;
        let now = worker.clock.now();
        let kept = match &kind {
            JobKind::Export { export_id } => {
                let progress = ctx.meter.get().map_or(Progress::default(), |m| Progress {
                    rows: m.rows.load(Ordering::Relaxed),
                    bytes: m.bytes.load(Ordering::Relaxed),
                });
                worker
                    .store
                    .export_progress(&ctx.lease, export_id, progress, now, lease_ms)
                    .await
            }
            JobKind::Sweep
            | JobKind::ScheduleRun { .. }
            | JobKind::Deliver { .. }
            | JobKind::RequestMail { .. }
            | JobKind::Alert { .. }
            | JobKind::Erasure { .. } => worker.store.extend_lease(&ctx.lease, now, lease_ms).await,
        };
        match kept {
            Ok(true) => {}
            Ok(false) => {
                ctx.lost.store(true, Ordering::Relaxed);
                if let Some(meter) = ctx.meter.get() {
                    meter.cancelled.store(true, Ordering::Relaxed);
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot extend a job's lease"),
        }
    }
}

/// Tells the queue how the attempt failed and writes the export's `failed` audit entry.
async fn report(worker: &Worker, claimed: &Claimed, ctx: &JobContext, failure: Failure) -> Outcome {
    let now = worker.clock.now();
    // The last progress stays on record, so a failed export shows how far it got.
    if let (JobKind::Export { export_id }, Some(meter)) = (&claimed.kind, ctx.meter.get()) {
        let progress = Progress {
            rows: meter.rows.load(Ordering::Relaxed),
            bytes: meter.bytes.load(Ordering::Relaxed),
        };
        let lease_ms = worker.settings.lease.as_millis() as i64;
        let _ = worker
            .store
            .export_progress(&claimed.lease, export_id, progress, now, lease_ms)
            .await;
    }
    let reported = JobFailure {
        code: failure.code.as_str().to_string(),
        message: failure.message.clone(),
        transient: failure.transient,
        retry_in: claimed.kind.retry_in(claimed.lease.attempt),
    };
    let fate = match worker.store.fail_job(&claimed.lease, &reported, now).await {
        Ok(fate) => fate,
        Err(e) => {
            // The lease runs out and the job is reclaimed: nothing is lost.
            tracing::error!(error = %e, job.id = claimed.lease.job.0, "cannot record a job's failure");
            return Outcome::Retry {
                code: reported.code,
            };
        }
    };
    let outcome = match fate {
        JobFate::LeaseLost => return Outcome::LeaseLost,
        JobFate::Retry { .. } => Outcome::Retry {
            code: reported.code.clone(),
        },
        JobFate::Failed => Outcome::Failed {
            code: reported.code.clone(),
        },
    };
    tracing::warn!(
        job.id = claimed.lease.job.0,
        kind = claimed.kind.name(),
        code = %reported.code,
        will_retry = matches!(fate, JobFate::Retry { .. }),
        "job failed"
    );
    if let JobKind::Deliver { export_id } = &claimed.kind {
        let will_retry = matches!(fate, JobFate::Retry { .. });
        super::deliver::attempt_failed(worker, export_id, &reported.message, will_retry).await;
    }
    if let JobKind::Export { export_id } = &claimed.kind
        && let Ok(Some((account, job))) = worker.store.export_job_any(export_id).await
    {
        let details = json!({
            "message": reported.message,
            "attempt": claimed.lease.attempt,
            "will_retry": matches!(fate, JobFate::Retry { .. }),
        });
        let entry = crate::audit::export_event(
            "worker",
            "data_export.failed",
            export_id,
            &job.spec,
            &reported.code,
            details,
        );
        record_or_log(worker.store.as_ref(), account, entry).await;
    }
    outcome
}
