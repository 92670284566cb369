//! A schedule's runs on SQLite: queueing due windows with the cursor, recording what each
//! run asked for, and listing runs with their exports' status.

use chrono::NaiveDate;
use ferry_domain::Millis;
use ferry_domain::queue::{JobId, NewJob};
use ferry_domain::schedule::{RunTrigger, RunWindow, ScheduleRun};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::schedules::{bad, day};
use crate::{RunStatus, StoreError};

pub(super) fn queue_windows(
    conn: &mut Connection,
    id: &str,
    next_from: NaiveDate,
    jobs: &[NewJob],
    now: Millis,
) -> Result<Vec<JobId>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut queued = Vec::new();
    for job in jobs {
        if let Some(id) = super::queue::insert(&tx, job, now)? {
            queued.push(id);
        }
    }
    // Dates as YYYY-MM-DD compare as text; the cursor only moves forward.
    tx.execute(
        "UPDATE schedules SET next_from = ?2 WHERE schedule_id = ?1 AND next_from < ?2",
        params![id, next_from.to_string()],
    )?;
    tx.commit()?;
    Ok(queued)
}

pub(super) fn record_run(
    conn: &mut Connection,
    id: &str,
    job: JobId,
    run: &ScheduleRun,
    columns: Option<&[String]>,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(pk) = tx
        .query_row(
            "SELECT pk FROM schedules WHERE schedule_id = ?1",
            [id],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Err(StoreError::NotFound);
    };
    let (code, message) = run.error.clone().unzip();
    let inserted = tx.execute(
        "INSERT INTO schedule_runs (schedule_pk, job_pk, window_from, window_to, trigger,
           export_id, error_code, error_message, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (job_pk) DO NOTHING",
        params![
            pk,
            job.0,
            run.window.from.to_string(),
            run.window.to.to_string(),
            run.trigger.as_str(),
            run.export_id,
            code,
            message,
            run.created_at
        ],
    )?;
    if inserted == 1
        && let Some(columns) = columns
    {
        let json = serde_json::to_string(columns).map_err(bad)?;
        tx.execute(
            "UPDATE schedules SET event_columns = ?2 WHERE pk = ?1",
            params![pk, json],
        )?;
    }
    tx.commit()?;
    Ok(inserted == 1)
}

pub(super) fn run_row(r: &Row) -> rusqlite::Result<ScheduleRun> {
    let trigger: String = r.get("trigger")?;
    let code: Option<String> = r.get("error_code")?;
    let message: Option<String> = r.get("error_message")?;
    Ok(ScheduleRun {
        window: RunWindow {
            from: day(r.get("window_from")?)?,
            to: day(r.get("window_to")?)?,
        },
        trigger: RunTrigger::parse(&trigger).unwrap_or(RunTrigger::Scheduled),
        export_id: r.get("export_id")?,
        error: code.zip(message),
        created_at: r.get("created_at")?,
    })
}

pub(super) const RUN_COLUMNS: &str =
    "window_from, window_to, trigger, export_id, error_code, error_message, created_at";

pub(super) fn runs(conn: &Connection, id: &str, limit: u32) -> Result<Vec<RunStatus>, StoreError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS}, (SELECT status FROM export_jobs e WHERE e.export_id = r.export_id) AS status,
                (SELECT files FROM export_jobs e WHERE e.export_id = r.export_id) AS files
         FROM schedule_runs r
         WHERE schedule_pk = (SELECT pk FROM schedules WHERE schedule_id = ?1)
         ORDER BY pk DESC LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![id, limit], |r| {
        let files: Option<String> = r.get("files")?;
        let names = files
            .and_then(|f| serde_json::from_str::<Vec<serde_json::Value>>(&f).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect();
        Ok(RunStatus {
            run: run_row(r)?,
            export_status: r.get("status")?,
            files: names,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
