//! Schedules, their cursors and runs, and [`Schedules`] on SQLite.

use async_trait::async_trait;
use chrono::NaiveDate;
use ferry_domain::audit::AuditEvent;
use ferry_domain::export::{DataType, Format};
use ferry_domain::job::Encryption;
use ferry_domain::queue::{JobId, NewJob};
use ferry_domain::schedule::{Frequency, NewSchedule, Schedule, ScheduleChange, ScheduleRun};
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::schedule_runs::{RUN_COLUMNS, queue_windows, record_run, run_row, runs};
use crate::{RunStatus, Schedules, StoreError};

const COLUMNS: &str = "schedule_id, account_pk, website_id, frequency, data_types, format, \
     destination_id, encryption, enabled, starts_on, next_from, event_columns, created_at";

pub(super) fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub(super) fn day(text: String) -> rusqlite::Result<NaiveDate> {
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn row(r: &Row) -> rusqlite::Result<(AccountId, Schedule)> {
    let conversion = |e: String| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(e),
        )
    };
    let types: String = r.get("data_types")?;
    let format: String = r.get("format")?;
    let encryption: Option<String> = r.get("encryption")?;
    let columns: String = r.get("event_columns")?;
    let schedule = Schedule {
        id: r.get("schedule_id")?,
        website_id: r.get("website_id")?,
        frequency: Frequency::parse(&r.get::<_, String>("frequency")?).map_err(conversion)?,
        data_types: types.split(',').filter_map(DataType::parse).collect(),
        format: Format::parse(&format).ok_or_else(|| conversion(format.clone()))?,
        destination_id: r.get("destination_id")?,
        encryption: encryption
            .map(|e| serde_json::from_str::<Encryption>(&e))
            .transpose()
            .map_err(|e| conversion(e.to_string()))?,
        enabled: r.get("enabled")?,
        starts_on: day(r.get("starts_on")?)?,
        next_from: day(r.get("next_from")?)?,
        event_columns: serde_json::from_str(&columns).map_err(|e| conversion(e.to_string()))?,
        created_at: r.get("created_at")?,
    };
    Ok((AccountId(r.get("account_pk")?), schedule))
}

fn by_id(conn: &Connection, id: &str) -> Result<Option<(AccountId, Schedule)>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM schedules WHERE schedule_id = ?1 AND deleted_at IS NULL");
    Ok(conn.query_row(&sql, [id], row).optional()?)
}

fn of_account(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Option<Schedule>, StoreError> {
    Ok(by_id(conn, id)?
        .filter(|(a, _)| *a == account)
        .map(|(_, s)| s))
}

fn create(
    conn: &mut Connection,
    account: AccountId,
    s: NewSchedule,
    audit: &AuditEvent,
    now: Millis,
) -> Result<Schedule, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let types: Vec<&str> = s.data_types.iter().map(|t| t.as_str()).collect();
    let encryption = s
        .encryption
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(bad)?;
    tx.execute(
        "INSERT INTO schedules (schedule_id, account_pk, website_id, frequency, data_types, format,
           destination_id, encryption, enabled, starts_on, next_from, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
        params![
            s.id,
            account.0,
            s.website_id,
            s.frequency.as_str(),
            types.join(","),
            s.format.as_str(),
            s.destination_id,
            encryption,
            s.enabled,
            s.starts_on.to_string(),
            now
        ],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    let created = of_account(&tx, account, &s.id)?.ok_or(StoreError::NotFound)?;
    tx.commit()?;
    Ok(created)
}

fn set_enabled(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    enabled: bool,
    audit: &AuditEvent,
) -> Result<Option<Schedule>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if of_account(&tx, account, id)?.is_none() {
        return Ok(None);
    }
    tx.execute(
        "UPDATE schedules SET enabled = ?2 WHERE schedule_id = ?1",
        params![id, enabled],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    let updated = of_account(&tx, account, id)?;
    tx.commit()?;
    Ok(updated)
}

fn update(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    change: ScheduleChange,
    audit: &AuditEvent,
) -> Result<Option<Schedule>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if of_account(&tx, account, id)?.is_none() {
        return Ok(None);
    }
    let types: Vec<&str> = change.data_types.iter().map(|t| t.as_str()).collect();
    let encryption = change
        .encryption
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(bad)?;
    tx.execute(
        "UPDATE schedules SET frequency = ?2, data_types = ?3, format = ?4, destination_id = ?5,
           encryption = ?6, enabled = ?7
         WHERE schedule_id = ?1",
        params![
            id,
            change.frequency.as_str(),
            types.join(","),
            change.format.as_str(),
            change.destination_id,
            encryption,
            change.enabled
        ],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    let updated = of_account(&tx, account, id)?;
    tx.commit()?;
    Ok(updated)
}

fn delete(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    audit: &AuditEvent,
    now: Millis,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if of_account(&tx, account, id)?.is_none() {
        return Ok(false);
    }
    // Kept, marked deleted: its runs' exports still name it, and queued runs find it gone.
    tx.execute(
        "UPDATE schedules SET deleted_at = ?2, enabled = 0 WHERE schedule_id = ?1",
        params![id, now],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    tx.commit()?;
    Ok(true)
}

#[async_trait]
impl Schedules for SqliteStore {
    async fn create_schedule(
        &self,
        account: AccountId,
        schedule: NewSchedule,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<Schedule, StoreError> {
        self.pool
            .write(move |c| create(c, account, schedule, &audit, now))
            .await
    }

    async fn schedules(&self, account: AccountId) -> Result<Vec<Schedule>, StoreError> {
        self.pool
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM schedules WHERE account_pk = ?1 AND deleted_at IS NULL ORDER BY pk"
                );
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map([account.0], row)?;
                Ok(rows.map(|r| r.map(|(_, s)| s)).collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn schedule(&self, account: AccountId, id: &str) -> Result<Option<Schedule>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| of_account(c, account, &id)).await
    }

    async fn schedule_any(&self, id: &str) -> Result<Option<(AccountId, Schedule)>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| by_id(c, &id)).await
    }

    async fn set_schedule_enabled(
        &self,
        account: AccountId,
        id: &str,
        enabled: bool,
        audit: AuditEvent,
    ) -> Result<Option<Schedule>, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| set_enabled(c, account, &id, enabled, &audit))
            .await
    }

    async fn update_schedule(
        &self,
        account: AccountId,
        id: &str,
        change: ScheduleChange,
        audit: AuditEvent,
    ) -> Result<Option<Schedule>, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| update(c, account, &id, change, &audit))
            .await
    }

    async fn delete_schedule(
        &self,
        account: AccountId,
        id: &str,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let now = super::convert::now_ms();
        self.pool
            .write(move |c| delete(c, account, &id, &audit, now))
            .await
    }

    async fn active_schedules(&self) -> Result<Vec<(AccountId, Schedule)>, StoreError> {
        self.pool
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM schedules WHERE enabled = 1 AND deleted_at IS NULL ORDER BY pk"
                );
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map([], row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn queue_windows(
        &self,
        id: &str,
        next_from: NaiveDate,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> Result<Vec<JobId>, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| queue_windows(c, &id, next_from, &jobs, now))
            .await
    }

    async fn record_run(
        &self,
        id: &str,
        job: JobId,
        run: ScheduleRun,
        event_columns: Option<Vec<String>>,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| record_run(c, &id, job, &run, event_columns.as_deref()))
            .await
    }

    async fn run_of_job(&self, job: JobId) -> Result<Option<ScheduleRun>, StoreError> {
        self.pool
            .read(move |c| {
                let sql = format!("SELECT {RUN_COLUMNS} FROM schedule_runs WHERE job_pk = ?1");
                Ok(c.query_row(&sql, [job.0], run_row).optional()?)
            })
            .await
    }

    async fn schedule_runs(&self, id: &str, limit: u32) -> Result<Vec<RunStatus>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| runs(c, &id, limit)).await
    }
}
