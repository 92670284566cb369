//! An export's record follows the queue job that generates it. The queue calls [`mirror`]
//! inside the transaction of every state change, so `GET /exports/{id}` never shows a status
//! its job does not have. An export that ended on its own terms (completed, cancelled,
//! expired) keeps its status whatever its job does afterwards.

use ferry_domain::Millis;
use rusqlite::{Connection, params};

use crate::StoreError;

pub(crate) fn mirror(conn: &Connection, job: i64, now: Millis) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE export_jobs SET
            status = CASE WHEN j.status IN ('queued', 'running', 'failed') THEN j.status
                          ELSE export_jobs.status END,
            attempts = j.attempts,
            error_code = coalesce(j.error_code, export_jobs.error_code),
            error_message = coalesce(j.error_message, export_jobs.error_message),
            started_at = CASE WHEN j.status = 'running' AND export_jobs.status = 'queued' THEN ?2
                              ELSE export_jobs.started_at END,
            heartbeat_at = CASE WHEN j.status = 'running' THEN ?2 ELSE export_jobs.heartbeat_at END,
            finished_at = CASE WHEN j.status = 'failed' THEN j.finished_at ELSE NULL END
         FROM jobs j
         WHERE j.pk = ?1 AND export_jobs.job_pk = j.pk AND export_jobs.status IN ('queued', 'running')",
        params![job, now],
    )?;
    Ok(())
}
