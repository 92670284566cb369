//! Export jobs: the queue and each job's state.

use ferry_domain::AccountId;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{ArtifactFile, ExportJob, ExportSpec, ExportStatus, Receipt};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{now_ms, opt_time, time};
use crate::{ExportFilter, Queued, StoreError, cursor};

/// A job is tried this many times before a transient failure becomes final.
pub(crate) const MAX_ATTEMPTS: u32 = 3;

const COLUMNS: &str =
    "pk, account_pk, export_id, spec, requested_by, status, attempts, rows_written,
    bytes_written, error_code, error_message, files, artifact, created_at, started_at, finished_at,
    expires_at, consumed_at, rows_total";

fn job_row(r: &Row) -> rusqlite::Result<(i64, AccountId, ExportJob)> {
    let spec: String = r.get("spec")?;
    let status: String = r.get("status")?;
    let files: String = r.get("files")?;
    let code: Option<String> = r.get("error_code")?;
    let message: Option<String> = r.get("error_message")?;
    let bad = |e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok((
        r.get("pk")?,
        AccountId(r.get("account_pk")?),
        ExportJob {
            id: r.get("export_id")?,
            spec: serde_json::from_str::<ExportSpec>(&spec).map_err(bad)?,
            requested_by: r.get("requested_by")?,
            status: ExportStatus::parse(&status).unwrap_or(ExportStatus::Failed),
            attempts: r.get("attempts")?,
            rows_written: r.get("rows_written")?,
            bytes_written: r.get("bytes_written")?,
            error: code.map(|c| (c, message.unwrap_or_default())),
            files: serde_json::from_str::<Vec<ArtifactFile>>(&files).map_err(bad)?,
            artifact: r.get("artifact")?,
            rows_total: r.get("rows_total")?,
            created_at: time(r.get("created_at")?),
            started_at: opt_time(r.get("started_at")?),
            finished_at: opt_time(r.get("finished_at")?),
            expires_at: opt_time(r.get("expires_at")?),
            consumed_at: opt_time(r.get("consumed_at")?),
        },
    ))
}

/// The daily export allowance is counted over the last 24 hours.
const DAY_MS: i64 = 86_400_000;

/// Queues a job unless the account has used up its exports for the day (`per_day`; `None`
/// is no limit). Counting and inserting happen in one transaction, so two requests at once
/// cannot both take the last export.
pub(crate) fn create(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    spec: &ExportSpec,
    requested_by: &str,
    per_day: Option<u32>,
) -> Result<Queued, StoreError> {
    let spec_json = serde_json::to_string(spec).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = now_ms();
    let (used, oldest): (u32, Option<i64>) = tx.query_row(
        "SELECT count(*), min(created_at) FROM export_jobs WHERE account_pk = ?1 AND created_at > ?2",
        params![account.0, now - DAY_MS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if let Some(limit) = per_day
        && used >= limit
    {
        let retry_at = oldest.unwrap_or(now) + DAY_MS;
        return Ok(Queued::Limited {
            limit,
            retry_after_secs: ((retry_at - now).max(1000) as u64).div_ceil(1000),
        });
    }
    tx.execute(
        "INSERT INTO export_jobs (export_id, account_pk, spec, subject, requested_by, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6)",
        params![id, account.0, spec_json, spec.subject_label(), requested_by, now],
    )?;
    let job = by_id(&tx, id)?.expect("just inserted").2;
    tx.commit()?;
    Ok(Queued::Created {
        job: Box::new(job),
        remaining: per_day.map(|limit| limit - used - 1),
    })
}

pub(crate) fn by_id(
    conn: &Connection,
    id: &str,
) -> Result<Option<(i64, AccountId, ExportJob)>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM export_jobs WHERE export_id = ?1");
    Ok(conn.query_row(&sql, [id], job_row).optional()?)
}

pub(crate) fn get(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Option<ExportJob>, StoreError> {
    Ok(by_id(conn, id)?
        .filter(|(_, a, _)| *a == account)
        .map(|(_, _, job)| job))
}

pub(crate) fn list(
    conn: &Connection,
    account: AccountId,
    f: &ExportFilter,
) -> Result<Page<ExportJob>, StoreError> {
    let before: i64 = match f.cursor.as_deref() {
        None => i64::MAX,
        Some(c) => cursor::decode(c, "exports")?
            .parse()
            .map_err(|_| StoreError::InvalidCursor)?,
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM export_jobs WHERE account_pk = ?1 AND pk < ?2 AND (?3 IS NULL OR status = ?3)
           AND (?4 IS NULL OR subject = ?4 OR subject LIKE '%:' || ?4)
           AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)
         ORDER BY pk DESC LIMIT ?7"
    );
    let limit = f.limit;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt
        .query_map(
            params![
                account.0,
                before,
                f.status.map(ExportStatus::as_str),
                f.subject,
                f.created_from,
                f.created_to,
                i64::from(limit) + 1
            ],
            job_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|(pk, _, _)| cursor::encode(&format!("exports:{pk}")))
    } else {
        None
    };
    Ok(Page {
        data: rows.into_iter().map(|(_, _, job)| job).collect(),
        next_cursor,
    })
}

/// Takes the oldest queued job, if any, and marks it running.
pub(crate) fn claim(conn: &Connection) -> Result<Option<(AccountId, ExportJob)>, StoreError> {
    let now = now_ms();
    let claimed: Option<String> = conn
        .query_row(
            "UPDATE export_jobs SET status = 'running', started_at = ?1, heartbeat_at = ?1, attempts = attempts + 1
             WHERE pk = (SELECT pk FROM export_jobs WHERE status = 'queued' AND coalesce(run_after, 0) <= ?1
                         ORDER BY created_at, pk LIMIT 1)
             RETURNING export_id",
            [now],
            |r| r.get(0),
        )
        .optional()?;
    match claimed {
        None => Ok(None),
        Some(id) => Ok(by_id(conn, &id)?.map(|(_, account, job)| (account, job))),
    }
}

/// Records how many rows a running job will write, once counted (a finished job's total is
/// the rows it wrote, set on completion).
pub(crate) fn set_total(conn: &Connection, id: &str, rows: u64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE export_jobs SET rows_total = ?2 WHERE export_id = ?1 AND status = 'running'",
        params![id, rows],
    )?;
    Ok(())
}

/// Records progress; doubles as the heartbeat that tells a live job from an abandoned one.
/// `false` when the job is no longer running (it was cancelled): its worker should stop.
pub(crate) fn progress(
    conn: &Connection,
    id: &str,
    rows: u64,
    bytes: u64,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE export_jobs SET rows_written = ?2, bytes_written = ?3, heartbeat_at = ?4
         WHERE export_id = ?1 AND status = 'running'",
        params![id, rows, bytes, now_ms()],
    )? == 1)
}

/// Marks a running job completed and stores its receipt, in one transaction; `false` if it
/// was cancelled meanwhile. (Mirrors `Store::complete_export` argument for argument.)
#[allow(clippy::too_many_arguments)]
pub(crate) fn complete(
    conn: &mut Connection,
    id: &str,
    files: &[ArtifactFile],
    artifact: &str,
    rows: u64,
    expires_at: i64,
    receipt: &Receipt,
    audit: (AccountId, &AuditEvent),
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done = complete_job(&tx, id, files, artifact, rows, expires_at)?;
    if done {
        super::audit::save_receipt(&tx, receipt)?;
        super::audit::append_in(&tx, audit.0, audit.1)?;
    }
    tx.commit()?;
    Ok(done)
}

fn complete_job(
    conn: &Connection,
    id: &str,
    files: &[ArtifactFile],
    artifact: &str,
    rows: u64,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let file = serde_json::to_string(files).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let changed = conn.execute(
        "UPDATE export_jobs SET status = 'completed', files = ?2, artifact = ?3, rows_written = ?4,
         rows_total = ?4,
         bytes_written = ?5, finished_at = ?6, expires_at = ?7, error_code = NULL, error_message = NULL
         WHERE export_id = ?1 AND status = 'running'",
        params![id, file, artifact, rows, bytes, now_ms(), expires_at],
    )?;
    Ok(changed == 1)
}

/// A retried job waits this long times its attempts so far.
const RETRY_BACKOFF_MS: i64 = 1_000;

/// Records a failure: a transient one goes back to the queue, after a pause that grows with
/// each attempt, until the attempts run out.
pub(crate) fn fail(
    conn: &Connection,
    id: &str,
    code: &str,
    message: &str,
    transient: bool,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE export_jobs SET
           status = CASE WHEN ?4 AND attempts < ?5 THEN 'queued' ELSE 'failed' END,
           run_after = ?6 + attempts * ?7,
           error_code = ?2, error_message = ?3,
           finished_at = CASE WHEN ?4 AND attempts < ?5 THEN NULL ELSE ?6 END
         WHERE export_id = ?1 AND status = 'running'",
        params![
            id,
            code,
            message,
            transient,
            MAX_ATTEMPTS,
            now_ms(),
            RETRY_BACKOFF_MS
        ],
    )?;
    Ok(())
}

/// Cancels a queued or running job, or retires a finished one early. Returns the job as it
/// now stands and the artifact to delete, if any.
pub(crate) fn cancel(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Option<(ExportJob, Option<String>)>, StoreError> {
    let Some(job) = get(conn, account, id)? else {
        return Ok(None);
    };
    let now = now_ms();
    conn.execute(
        "UPDATE export_jobs SET
           status = CASE WHEN status IN ('queued', 'running') THEN 'cancelled'
                         WHEN status = 'completed' THEN 'expired' ELSE status END,
           finished_at = coalesce(finished_at, ?2), expires_at = CASE WHEN status = 'completed' THEN ?2 ELSE expires_at END,
           artifact = NULL
         WHERE export_id = ?1",
        params![id, now],
    )?;
    let after = get(conn, account, id)?.expect("still there");
    Ok(Some((after, job.artifact)))
}

/// Jobs whose worker stopped sending heartbeats (a crash or kill) go back to the queue.
pub(crate) fn requeue_stale(conn: &Connection, heartbeat_before: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE export_jobs SET status = 'queued' WHERE status = 'running' AND heartbeat_at < ?1",
        [heartbeat_before],
    )?)
}
