//! Export jobs: the queue and each job's state.

use ferry_domain::AccountId;
use ferry_domain::Millis;
use ferry_domain::analytics::Page;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::{
    ArtifactFile, CompletedExport, ExportJob, ExportSpec, ExportStatus, NewExport, Progress,
};
use ferry_domain::queue::{DEFAULT_MAX_ATTEMPTS, JobId, JobKind, Lane, Lease, NewJob};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{opt_time, time};
use crate::{ExportFilter, Queued, StoreError, cursor};

pub(crate) const COLUMNS: &str =
    "pk, account_pk, export_id, spec, requested_by, status, attempts, rows_written,
    bytes_written, error_code, error_message, files, artifact, created_at, started_at, finished_at,
    expires_at, consumed_at, rows_total, job_pk";

pub(crate) fn job_row(r: &Row) -> rusqlite::Result<(i64, AccountId, ExportJob)> {
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
            queue_job: r.get::<_, Option<i64>>("job_pk")?.map(JobId),
        },
    ))
}

/// The daily export allowance is counted over the last 24 hours.
const DAY_MS: i64 = 86_400_000;

/// Queues an export unless the account has used up its exports for the day (`per_day`;
/// `None` is no limit). Counting, inserting the export and its queue job, and appending the
/// `requested` audit entry happen in one transaction: two requests at once cannot both take
/// the last export, and no export exists without its job and its trail entry.
pub(crate) fn create(
    conn: &mut Connection,
    request: &NewExport,
    audit: &AuditEvent,
    now: Millis,
) -> Result<Queued, StoreError> {
    let spec_json =
        serde_json::to_string(&request.spec).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (used, oldest): (u32, Option<i64>) = tx.query_row(
        "SELECT count(*), min(created_at) FROM export_jobs
         WHERE account_pk = ?1 AND created_at > ?2 AND counted = 1",
        params![request.account.0, now - DAY_MS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if let Some(limit) = request.per_day
        && used >= limit
    {
        let retry_at = oldest.unwrap_or(now) + DAY_MS;
        return Ok(Queued::Limited {
            limit,
            retry_after_secs: ((retry_at - now).max(1000) as u64).div_ceil(1000),
        });
    }
    let lane = match (request.operator, request.spec.is_bulk()) {
        (true, _) => Lane::Held,
        (false, true) => Lane::Bulk,
        (false, false) => Lane::Default,
    };
    let kind = JobKind::Export {
        export_id: request.id.clone(),
    };
    let queued = NewJob {
        max_attempts: if request.operator {
            1
        } else {
            DEFAULT_MAX_ATTEMPTS
        },
        ..NewJob::now(kind, lane, now)
    };
    let job = super::queue::insert(&tx, &queued, now)?.expect("export jobs carry no unique key");
    tx.execute(
        "INSERT INTO export_jobs (export_id, account_pk, spec, subject, requested_by, status, created_at, job_pk, counted)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8)",
        params![
            request.id,
            request.account.0,
            spec_json,
            request.spec.subject_label(),
            request.requested_by,
            now,
            job.0,
            !request.operator
        ],
    )?;
    super::audit::append_in(&tx, request.account, audit)?;
    let created = by_id(&tx, &request.id)?.expect("just inserted").2;
    tx.commit()?;
    Ok(Queued::Created {
        job: Box::new(created),
        remaining: request.per_day.map(|limit| limit - used - 1),
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
           AND (?4 IS NULL OR subject = ?4 COLLATE NOCASE
                OR substr(subject, instr(subject, ':') + 1) = ?4 COLLATE NOCASE)
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

/// Records how many rows a running job will write, once counted (a finished job's total is
/// the rows it wrote, set on completion).
pub(crate) fn set_total(conn: &Connection, id: &str, rows: u64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE export_jobs SET rows_total = ?2 WHERE export_id = ?1 AND status = 'running'",
        params![id, rows],
    )?;
    Ok(())
}

/// Records progress and extends the job's lease (the heartbeat). `false` when the lease is no
/// longer the job's (the export was cancelled, or its job reclaimed): its worker stops.
pub(crate) fn progress(
    conn: &mut Connection,
    lease: &Lease,
    id: &str,
    progress: Progress,
    now: Millis,
    lease_ms: Millis,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let extended = super::queue::extend(&tx, lease, now, lease_ms)?;
    if extended {
        tx.execute(
            "UPDATE export_jobs SET rows_written = ?2, bytes_written = ?3, heartbeat_at = ?4
             WHERE export_id = ?1 AND status = 'running'",
            params![id, progress.rows, progress.bytes, now],
        )?;
    }
    tx.commit()?;
    Ok(extended)
}

/// Marks a running export completed, stores its receipt, appends `audit` and ends its queue
/// job, in one transaction, if `lease` is still the job's; `false` otherwise (cancelled, or
/// reclaimed by another worker): the caller's files must not become reachable.
pub(crate) fn complete(
    conn: &mut Connection,
    lease: &Lease,
    done: &CompletedExport,
    audit: (AccountId, &AuditEvent),
    now: Millis,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let kept = super::queue::holds(&tx, lease)?
        && complete_job(&tx, done, now)?
        && super::queue::finish(&tx, lease, now)?;
    if !kept {
        return Ok(false);
    }
    super::audit::save_receipt(&tx, &done.receipt)?;
    super::audit::append_in(&tx, audit.0, audit.1)?;
    tx.commit()?;
    Ok(true)
}

fn complete_job(
    conn: &Connection,
    done: &CompletedExport,
    now: Millis,
) -> Result<bool, StoreError> {
    let bytes: u64 = done.files.iter().map(|f| f.bytes).sum();
    let file = serde_json::to_string(&done.files).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let changed = conn.execute(
        "UPDATE export_jobs SET status = 'completed', files = ?2, artifact = ?3, rows_written = ?4,
         rows_total = ?4,
         bytes_written = ?5, finished_at = ?6, expires_at = ?7, error_code = NULL, error_message = NULL
         WHERE export_id = ?1 AND status = 'running'",
        params![done.id, file, done.artifact, done.rows, bytes, now, done.expires_at],
    )?;
    Ok(changed == 1)
}

/// Cancels a queued or running job, or retires a finished one early. Returns the job as it
/// now stands and the artifact to delete, if any.
pub(crate) fn cancel(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    now: Millis,
) -> Result<Option<(ExportJob, Option<String>)>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some((_, _, job)) = by_id(&tx, id)?.filter(|(_, a, _)| *a == account) else {
        return Ok(None);
    };
    let job_pk: Option<i64> = tx.query_row(
        "SELECT job_pk FROM export_jobs WHERE export_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if let Some(job_pk) = job_pk {
        super::queue::cancel(&tx, job_pk, now)?;
    }
    tx.execute(
        "UPDATE export_jobs SET
           status = CASE WHEN status IN ('queued', 'running') THEN 'cancelled'
                         WHEN status = 'completed' THEN 'expired' ELSE status END,
           finished_at = coalesce(finished_at, ?2), expires_at = CASE WHEN status = 'completed' THEN ?2 ELSE expires_at END,
           artifact = NULL
         WHERE export_id = ?1",
        params![id, now],
    )?;
    let after = get(&tx, account, id)?.expect("still there");
    tx.commit()?;
    Ok(Some((after, job.artifact)))
}
