//! The generic job queue in SQLite. Every state change of a job also updates the export it
//! generates (`export_mirror`), in the same transaction, so an export's status never
//! disagrees with its job.

use async_trait::async_trait;
use ferry_domain::Millis;
use ferry_domain::queue::{
    ATTEMPTS_EXHAUSTED, Claimed, JobFailure, JobFate, JobId, JobKind, JobRecord, JobStatus, Lane,
    Lease, NewJob, RETRY_BACKOFF_MS, Reclaimed,
};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteStore;
use super::export_mirror::mirror;
use crate::{JobQueue, StoreError};

fn bad_json(e: serde_json::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Inserts a job; `None` when its unique key is taken.
pub(crate) fn insert(
    conn: &Connection,
    job: &NewJob,
    now: Millis,
) -> Result<Option<JobId>, StoreError> {
    let payload = serde_json::to_string(&job.kind).map_err(bad_json)?;
    let inserted = conn.execute(
        "INSERT INTO jobs (kind, lane, payload, status, max_attempts, run_after, unique_key, created_at)
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7)
         ON CONFLICT (unique_key) DO NOTHING",
        params![
            job.kind.name(),
            job.lane.as_str(),
            payload,
            job.max_attempts,
            job.run_after,
            job.unique_key,
            now
        ],
    )?;
    Ok((inserted == 1).then(|| JobId(conn.last_insert_rowid())))
}

/// Takes the job `pk` chooses (a subquery naming at most one queued job) and leases it.
fn claim_where(
    conn: &mut Connection,
    pick: &str,
    args: &[&dyn rusqlite::ToSql],
    now: Millis,
    lease_ms: Millis,
) -> Result<Option<Claimed>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1,
            lease_token = lower(hex(randomblob(16))), lease_expires_at = ?1 + ?2
         WHERE pk = ({pick})
         RETURNING pk, lane, payload, attempts, max_attempts, lease_token, lease_expires_at"
    );
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&now, &lease_ms];
    all.extend_from_slice(args);
    let row = tx
        .query_row(&sql, all.as_slice(), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .optional()?;
    let Some((pk, lane, payload, attempt, max_attempts, token, expires_at)) = row else {
        return Ok(None);
    };
    mirror(&tx, pk, now)?;
    tx.commit()?;
    Ok(Some(Claimed {
        lease: Lease {
            job: JobId(pk),
            token,
            attempt,
            expires_at,
        },
        kind: serde_json::from_str(&payload).map_err(bad_json)?,
        lane: Lane::parse(&lane).unwrap_or(Lane::Default),
        max_attempts,
    }))
}

/// Whether `lease` is still the running job's.
pub(crate) fn holds(conn: &Connection, lease: &Lease) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM jobs WHERE pk = ?1 AND lease_token = ?2 AND status = 'running'",
            params![lease.job.0, lease.token],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Extends a running job's lease; `false` when the lease is no longer the job's.
pub(crate) fn extend(
    conn: &Connection,
    lease: &Lease,
    now: Millis,
    lease_ms: Millis,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE jobs SET lease_expires_at = ?3 + ?4
         WHERE pk = ?1 AND lease_token = ?2 AND status = 'running'",
        params![lease.job.0, lease.token, now, lease_ms],
    )? == 1)
}

/// Ends a leased job as done; `false` when the lease was lost.
pub(crate) fn finish(conn: &Connection, lease: &Lease, now: Millis) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE jobs SET status = 'done', lease_token = NULL, lease_expires_at = NULL,
            finished_at = ?3, error_code = NULL, error_message = NULL
         WHERE pk = ?1 AND lease_token = ?2 AND status = 'running'",
        params![lease.job.0, lease.token, now],
    )? == 1)
}

/// Withdraws a queued or running job (its owner cancelled it); a running job's worker finds
/// its lease gone at the next heartbeat.
pub(crate) fn cancel(conn: &Connection, job: i64, now: Millis) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE jobs SET status = 'cancelled', lease_token = NULL, lease_expires_at = NULL, finished_at = ?2
         WHERE pk = ?1 AND status IN ('queued', 'running')",
        params![job, now],
    )?;
    Ok(())
}

fn fail(
    conn: &mut Connection,
    lease: &Lease,
    failure: &JobFailure,
    now: Millis,
) -> Result<JobFate, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(u32, u32)> = tx
        .query_row(
            "SELECT attempts, max_attempts FROM jobs
             WHERE pk = ?1 AND lease_token = ?2 AND status = 'running'",
            params![lease.job.0, lease.token],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((attempts, max_attempts)) = found else {
        return Ok(JobFate::LeaseLost);
    };
    let fate = if failure.transient && attempts < max_attempts {
        JobFate::Retry {
            at: now
                + failure
                    .retry_in
                    .unwrap_or(Millis::from(attempts) * RETRY_BACKOFF_MS),
        }
    } else {
        JobFate::Failed
    };
    let (status, run_after, finished_at) = match fate {
        JobFate::Retry { at } => ("queued", at, None),
        _ => ("failed", now, Some(now)),
    };
    tx.execute(
        "UPDATE jobs SET status = ?2, run_after = ?3, finished_at = ?4, error_code = ?5,
            error_message = ?6, lease_token = NULL, lease_expires_at = NULL
         WHERE pk = ?1",
        params![
            lease.job.0,
            status,
            run_after,
            finished_at,
            failure.code,
            failure.message
        ],
    )?;
    mirror(&tx, lease.job.0, now)?;
    tx.commit()?;
    Ok(fate)
}

fn release(conn: &mut Connection, lease: &Lease, now: Millis) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let released = tx.execute(
        "UPDATE jobs SET status = 'queued', attempts = max(attempts - 1, 0), run_after = ?3,
            lease_token = NULL, lease_expires_at = NULL
         WHERE pk = ?1 AND lease_token = ?2 AND status = 'running'",
        params![lease.job.0, lease.token, now],
    )? == 1;
    if released {
        mirror(&tx, lease.job.0, now)?;
    }
    tx.commit()?;
    Ok(released)
}

fn reclaim(conn: &mut Connection, now: Millis) -> Result<Reclaimed, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let expired: Vec<(i64, u32, u32, String)> = tx
        .prepare(
            "SELECT pk, attempts, max_attempts, payload FROM jobs
             WHERE status = 'running' AND lease_expires_at < ?1 ORDER BY pk",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut done = Reclaimed::default();
    for (pk, attempts, max_attempts, payload) in expired {
        if attempts >= max_attempts {
            let message = format!(
                "the job's worker stopped before finishing (a crash, a kill or a stall) on each of its {attempts} attempts: \
                 the operator's log has details; ask for the export again once the cause is fixed"
            );
            tx.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?2, error_code = ?3, error_message = ?4,
                    lease_token = NULL, lease_expires_at = NULL WHERE pk = ?1",
                params![pk, now, ATTEMPTS_EXHAUSTED, message],
            )?;
            let kind: JobKind = serde_json::from_str(&payload).map_err(bad_json)?;
            done.failed.push((JobId(pk), kind));
        } else {
            tx.execute(
                // Claimable at once, as it was when it was claimed (run_after is in the past of
                // every worker's clock).
                "UPDATE jobs SET status = 'queued', lease_token = NULL,
                    lease_expires_at = NULL WHERE pk = ?1",
                params![pk],
            )?;
            done.requeued.push(JobId(pk));
        }
        mirror(&tx, pk, now)?;
    }
    tx.commit()?;
    Ok(done)
}

fn get(conn: &Connection, id: JobId) -> Result<Option<JobRecord>, StoreError> {
    let read = |r: &Row| -> rusqlite::Result<(String, JobRecord)> {
        let code: Option<String> = r.get("error_code")?;
        let message: Option<String> = r.get("error_message")?;
        let lane: String = r.get("lane")?;
        let status: String = r.get("status")?;
        let record = JobRecord {
            id: JobId(r.get("pk")?),
            // Filled in from the payload below, outside the row callback.
            kind: JobKind::Export {
                export_id: String::new(),
            },
            lane: Lane::parse(&lane).unwrap_or(Lane::Default),
            status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
            attempts: r.get("attempts")?,
            max_attempts: r.get("max_attempts")?,
            run_after: r.get("run_after")?,
            error: code.map(|c| (c, message.unwrap_or_default())),
        };
        Ok((r.get("payload")?, record))
    };
    let row = conn
        .query_row(
            "SELECT pk, lane, payload, status, attempts, max_attempts, run_after, error_code, error_message
             FROM jobs WHERE pk = ?1",
            [id.0],
            read,
        )
        .optional()?;
    row.map(|(payload, record)| {
        Ok(JobRecord {
            kind: serde_json::from_str(&payload).map_err(bad_json)?,
            ..record
        })
    })
    .transpose()
}

#[async_trait]
impl JobQueue for SqliteStore {
    async fn enqueue(&self, job: NewJob, now: Millis) -> Result<Option<JobId>, StoreError> {
        self.pool.write(move |c| insert(c, &job, now)).await
    }

    async fn claim_job(
        &self,
        lanes: &[Lane],
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<Claimed>, StoreError> {
        let default = lanes.contains(&Lane::Default);
        let bulk = lanes.contains(&Lane::Bulk);
        self.pool
            .write(move |c| {
                claim_where(
                    c,
                    "SELECT pk FROM jobs WHERE status = 'queued' AND run_after <= ?1
                       AND ((?3 AND lane = 'default') OR (?4 AND lane = 'bulk'))
                     ORDER BY pk LIMIT 1",
                    &[&default, &bulk],
                    now,
                    lease_ms,
                )
            })
            .await
    }

    async fn claim_job_by_id(
        &self,
        id: JobId,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<Claimed>, StoreError> {
        self.pool
            .write(move |c| {
                claim_where(
                    c,
                    "SELECT pk FROM jobs WHERE pk = ?3 AND status = 'queued' AND run_after <= ?1",
                    &[&id.0],
                    now,
                    lease_ms,
                )
            })
            .await
    }

    async fn extend_lease(
        &self,
        lease: &Lease,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.pool
            .write(move |c| extend(c, &lease, now, lease_ms))
            .await
    }

    async fn finish_job(&self, lease: &Lease, now: Millis) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.pool.write(move |c| finish(c, &lease, now)).await
    }

    async fn fail_job(
        &self,
        lease: &Lease,
        failure: &JobFailure,
        now: Millis,
    ) -> Result<JobFate, StoreError> {
        let (lease, failure) = (lease.clone(), failure.clone());
        self.pool
            .write(move |c| fail(c, &lease, &failure, now))
            .await
    }

    async fn release_job(&self, lease: &Lease, now: Millis) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.pool.write(move |c| release(c, &lease, now)).await
    }

    async fn reclaim_expired(&self, now: Millis) -> Result<Reclaimed, StoreError> {
        self.pool.write(move |c| reclaim(c, now)).await
    }

    async fn job(&self, id: JobId) -> Result<Option<JobRecord>, StoreError> {
        self.pool.read(move |c| get(c, id)).await
    }
}
