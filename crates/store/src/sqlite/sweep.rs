//! [`Sweeping`] on SQLite: which exports' files are dead, and retiring them.

use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::ONE_TIME_RESUME_MS;
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, params};

use super::SqliteStore;
use super::jobs::{COLUMNS, job_row};
use crate::{ArtifactOwner, DeadArtifact, RetireReason, StoreError, Sweeping};

/// A file of a one-time export is still live while it was neither downloaded whole nor
/// claimed longer ago than the resume window (the rule of `claim_one_time`).
fn dead(conn: &Connection, now: Millis, limit: u32) -> Result<Vec<DeadArtifact>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, expires_at <= ?1 AS expired FROM export_jobs j
         WHERE status = 'completed' AND artifact IS NOT NULL AND (
           expires_at <= ?1
           OR (json_extract(spec, '$.one_time') = 1 AND (consumed_at IS NOT NULL OR NOT EXISTS (
               SELECT 1 FROM json_each(j.files) f
               WHERE NOT EXISTS (
                   SELECT 1 FROM downloads d WHERE d.export_pk = j.pk AND d.complete
                     AND coalesce(d.file, json_extract(f.value, '$.name')) = json_extract(f.value, '$.name'))
                 AND NOT EXISTS (
                   SELECT 1 FROM one_time_claims c WHERE c.export_pk = j.pk
                     AND c.file = json_extract(f.value, '$.name') AND c.claimed_at < ?1 - ?2)))))
         ORDER BY pk LIMIT ?3"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![now, ONE_TIME_RESUME_MS, limit], |r| {
        let (_, account, export) = job_row(r)?;
        let expired: bool = r.get("expired")?;
        Ok(DeadArtifact {
            account,
            export,
            reason: if expired {
                RetireReason::LinkExpired
            } else {
                RetireReason::LinkUsed
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn retire(
    conn: &mut Connection,
    id: &str,
    artifact: &str,
    audit: (AccountId, &AuditEvent),
    now: Millis,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let changed = tx.execute(
        "UPDATE export_jobs SET status = 'expired', artifact = NULL,
           expires_at = min(coalesce(expires_at, ?3), ?3)
         WHERE export_id = ?1 AND artifact = ?2 AND status = 'completed'",
        params![id, artifact, now],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    super::audit::append_in(&tx, audit.0, audit.1)?;
    tx.commit()?;
    Ok(true)
}

/// One statement, so the artifact and the running lease are read at the same moment: a job
/// that completes meanwhile is seen either running or with its artifact, never as neither.
fn owners(conn: &Connection, ids: &[String]) -> Result<Vec<ArtifactOwner>, StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let mut stmt = conn.prepare(
        "SELECT e.export_id, e.account_pk, e.artifact,
                CASE WHEN q.status = 'running' THEN q.lease_token END
         FROM json_each(?1) i JOIN export_jobs e ON e.export_id = i.value
         LEFT JOIN jobs q ON q.pk = e.job_pk",
    )?;
    let rows = stmt.query_map([ids], |r| {
        Ok(ArtifactOwner {
            export_id: r.get(0)?,
            account: AccountId(r.get(1)?),
            artifact: r.get(2)?,
            running_lease: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl Sweeping for SqliteStore {
    async fn dead_artifacts(
        &self,
        now: Millis,
        limit: u32,
    ) -> Result<Vec<DeadArtifact>, StoreError> {
        self.pool.read(move |c| dead(c, now, limit)).await
    }

    async fn retire_artifact(
        &self,
        id: &str,
        artifact: &str,
        audit: (AccountId, AuditEvent),
        now: Millis,
    ) -> Result<bool, StoreError> {
        let (id, artifact) = (id.to_string(), artifact.to_string());
        self.pool
            .write(move |c| retire(c, &id, &artifact, (audit.0, &audit.1), now))
            .await
    }

    async fn artifact_owners(&self, ids: Vec<String>) -> Result<Vec<ArtifactOwner>, StoreError> {
        self.pool.read(move |c| owners(c, &ids)).await
    }
}
