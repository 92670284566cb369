//! A schedule's runs: the job that runs one window, running the next window now, backfilling
//! past windows, and the export options of one run.

use ferry_domain::export::Include;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::schedule::{RunTrigger, RunWindow, Schedule, past_windows};
use ferry_store::Store;
use serde_json::json;

use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;
use crate::services::Actor;
use crate::services::exports::{EncryptionOptions, validate_day};

use super::find;

/// Windows a backfill may re-run at once: a daily schedule's ten years.
const MAX_BACKFILL: usize = 3_660;

/// A run's job: keyed by its window (and, for a re-run, by the request that asked for it),
/// so the same window is queued once per scheduler pass however many processes run one.
pub fn run_job(schedule: &str, window: RunWindow, trigger: RunTrigger, now: i64) -> NewJob {
    let key = match trigger {
        RunTrigger::Scheduled => format!("schedule:{schedule}:{}", window.label()),
        // A re-run must not collide with the scheduled run of its window, nor with an
        // earlier re-run of it.
        other => format!(
            "schedule:{schedule}:{}:{}:{}",
            window.label(),
            other.as_str(),
            random_id("", 8)
        ),
    };
    NewJob {
        unique_key: Some(key),
        ..NewJob::now(
            JobKind::ScheduleRun {
                schedule_id: schedule.to_string(),
                window,
                trigger,
            },
            Lane::Default,
            now,
        )
    }
}

/// Runs the next window now, before its end. The window's scheduled run still comes when
/// its end passes, with the same object names, so nothing that arrives later is missed.
pub async fn run_now(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
) -> Result<RunWindow, Problem> {
    let schedule = find(store, actor, id).await?;
    let window = RunWindow {
        from: schedule.next_from,
        to: schedule.frequency.next_boundary(schedule.next_from),
    };
    let job = run_job(&schedule.id, window, RunTrigger::Now, clock.now());
    store
        .queue_windows(&schedule.id, schedule.next_from, vec![job], clock.now())
        .await?;
    audit_runs(store, actor, &schedule, "schedule.run_requested", &[window]).await?;
    Ok(window)
}

/// Runs again every window already run within the days `from..=to`.
pub async fn backfill(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<RunWindow>, Problem> {
    let schedule = find(store, actor, id).await?;
    let (Some(first), Some(last)) = (validate_day("from", from)?, validate_day("to", to)?) else {
        return Err(Problem::new(
            ErrorCode::MissingField,
            "a backfill needs `from` and `to` (YYYY-MM-DD): the days whose windows to run again",
        ));
    };
    if first > last {
        return Err(ferry_domain::DateRangeError::Reversed {
            from: first,
            to: last,
        }
        .into());
    }
    let windows = past_windows(
        &schedule.frequency,
        schedule.starts_on,
        schedule.next_from,
        first,
        last,
    );
    if windows.is_empty() {
        return Err(Problem::new(
            ErrorCode::InvalidDateRange,
            format!(
                "no window of this schedule has run within {first} to {last}: its runs cover \
                 {} up to {} (exclusive); backfill re-runs windows that ran already",
                schedule.starts_on, schedule.next_from
            ),
        ));
    }
    if windows.len() > MAX_BACKFILL {
        return Err(Problem::new(
            ErrorCode::InvalidDateRange,
            format!(
                "that backfill is {} windows: ask for at most {MAX_BACKFILL} at once",
                windows.len()
            ),
        ));
    }
    let now = clock.now();
    let jobs = windows
        .iter()
        .map(|w| run_job(&schedule.id, *w, RunTrigger::Backfill, now))
        .collect();
    store
        .queue_windows(&schedule.id, schedule.next_from, jobs, now)
        .await?;
    audit_runs(
        store,
        actor,
        &schedule,
        "schedule.backfill_requested",
        &windows,
    )
    .await?;
    Ok(windows)
}

async fn audit_runs(
    store: &dyn Store,
    actor: &Actor,
    schedule: &Schedule,
    action: &str,
    windows: &[RunWindow],
) -> Result<(), Problem> {
    let labels: Vec<String> = windows.iter().map(RunWindow::label).collect();
    let entry = crate::audit::event(
        actor.audit_name(),
        action,
        json!({"schedule_id": schedule.id, "windows": labels}),
    );
    store.audit(actor.account(), entry).await?;
    Ok(())
}

/// The export options of one run of `schedule` over `window`.
pub fn run_options(
    schedule: &Schedule,
    window: RunWindow,
    event_columns: Option<Vec<String>>,
) -> crate::services::exports::ExportOptions {
    let types: Vec<String> = schedule
        .data_types
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    crate::services::exports::ExportOptions {
        format: Some(schedule.format.as_str().to_string()),
        include: Some(Include::List(types)),
        website_id: Some(schedule.website_id.clone()),
        from: Some(window.from.to_string()),
        to: Some(window.last_day().to_string()),
        encryption: schedule
            .encryption
            .as_ref()
            .map(|e| EncryptionOptions::key(e.pgp_public_key.clone())),
        // Where the destination puts the run's objects: the same names for every run of
        // the window, so a re-run replaces them.
        delivery: schedule.destination_id.as_ref().map(|d| {
            json!({
                "destination_id": d,
                "object_prefix": ferry_domain::schedule::object_prefix(&schedule.id, window),
            })
        }),
        event_columns,
        ..Default::default()
    }
}
