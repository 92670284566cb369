//! The scheduler and the `schedule_run` job kind.
//!
//! The scheduler only enqueues: now and then (the run loop, with the sweep) it finds every
//! enabled schedule's windows whose end has passed, from the schedule's cursor on, and queues
//! one `schedule_run` job each, keyed `schedule:{id}:{from}_{to}`. A window missed while
//! Ferry was down is simply due: they are queued in order, oldest first. Two schedulers that
//! look at once compute the same windows and the queue keeps one job per key, so a window is
//! asked for once; the cursor only moves forward.
//!
//! A `schedule_run` job asks for the window's bulk export through the export service (the
//! same checks, audit entry and queue job as any export), and records the run. A retried job
//! finds its run recorded and asks for nothing more; one that stopped after asking and before
//! recording finds its export by the id the job gives it (`exp_run{job}`), and records that.

use ferry_domain::export::{DataType, Format};
use ferry_domain::queue::JobId;
use ferry_domain::schedule::{RunTrigger, RunWindow, ScheduleRun, due_windows, extend_columns};

use super::{Failure, Worker};
use crate::error_code::ErrorCode;
use crate::services::Actor;
use crate::services::exports::request_export;
use crate::services::schedules::{run_job, run_options};

/// Windows one scheduler pass queues per schedule; a longer catch-up continues at the next
/// pass (still in order).
const MAX_WINDOWS_PER_PASS: usize = 400;

impl Worker {
    /// Queues every due window of every enabled schedule; returns how many jobs this call
    /// queued (windows another scheduler queued first are not counted).
    pub async fn enqueue_due_windows(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut queued = 0;
        for (account, schedule) in self.store.active_schedules().await? {
            let Some(website) = self.store.website(account, &schedule.website_id).await? else {
                continue;
            };
            let windows = due_windows(
                &schedule.frequency,
                website.timezone,
                schedule.next_from,
                now,
                MAX_WINDOWS_PER_PASS,
            );
            let Some(last) = windows.last() else {
                continue;
            };
            let jobs = windows
                .iter()
                .map(|w| run_job(&schedule.id, *w, RunTrigger::Scheduled, now))
                .collect();
            let ids = self
                .store
                .queue_windows(&schedule.id, last.to, jobs, now)
                .await?;
            if !ids.is_empty() {
                tracing::info!(schedule.id = %schedule.id, windows = ids.len(), "schedule windows queued");
            }
            queued += ids.len();
        }
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }
}

pub(super) async fn run(
    worker: &Worker,
    job: JobId,
    schedule_id: &str,
    window: RunWindow,
    trigger: RunTrigger,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    if store.run_of_job(job).await.map_err(transient)?.is_some() {
        return Ok(());
    }
    let Some((account, schedule)) = store.schedule_any(schedule_id).await.map_err(transient)?
    else {
        // Deleted while the run waited: nothing to export.
        return Ok(());
    };
    let columns = series_columns(worker, account, &schedule, window).await?;
    let actor = Actor::Schedule {
        account,
        id: schedule.id.clone(),
    };
    let mut options = run_options(&schedule, window, columns.clone());
    // The worker's key seals the delivery's copy of the destination, as the API's does.
    options.sealer = worker.sealer.clone();
    // Named by the job: a retry after a stop between asking for the export and recording the
    // run finds the export it asked for, instead of asking for a second one.
    options.export_id = Some(run_export_id(job));
    let now = worker.clock.now();
    let (export_id, error) = match request_export(
        store,
        worker.clock.as_ref(),
        &actor,
        None,
        options,
    )
    .await
    {
        Ok(requested) => (Some(requested.job.id), None),
        Err(problem) => {
            tracing::warn!(schedule.id = %schedule.id, code = problem.code.as_str(), "a schedule's run could not ask for its export");
            (
                None,
                Some((problem.code.as_str().to_string(), problem.message)),
            )
        }
    };
    let run = ScheduleRun {
        window,
        trigger,
        export_id,
        error,
        created_at: now,
    };
    store
        .record_run(schedule_id, job, run, columns)
        .await
        .map_err(transient)?;
    worker.wake.notify_one();
    Ok(())
}

/// The export id of the run of queue job `job`.
pub fn run_export_id(job: JobId) -> String {
    format!("exp_run{}", job.0)
}

/// The events CSV's columns for this run: the series' so far, then the window's new keys.
async fn series_columns(
    worker: &Worker,
    account: ferry_domain::AccountId,
    schedule: &ferry_domain::schedule::Schedule,
    window: RunWindow,
) -> Result<Option<Vec<String>>, Failure> {
    if schedule.format != Format::Csv || !schedule.data_types.contains(&DataType::Events) {
        return Ok(None);
    }
    let Some(website) = worker
        .store
        .website(account, &schedule.website_id)
        .await
        .map_err(transient)?
    else {
        return Ok(None);
    };
    let keys = worker
        .store
        .bulk_event_keys(&website.id, window.instants(website.timezone))
        .await
        .map_err(transient)?;
    Ok(Some(extend_columns(&schedule.event_columns, &keys)))
}

fn transient(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: ErrorCode::InternalError,
        message: format!("the schedule's run could not be asked for: {e}"),
        transient: true,
    }
}
