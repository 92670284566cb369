//! The audit trail (one hash chain for the whole store) and receipts.

use ferry_domain::AccountId;
use ferry_domain::audit::{AuditEntry, AuditEvent, GENESIS, entry_hash};
use ferry_domain::job::Receipt;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{now_ms, time};
use super::{SqliteStore, audit_subject};
use crate::{Audit, AuditBreak, AuditFilter, StoreError};

pub(crate) fn append(
    conn: &mut Connection,
    account: AccountId,
    event: &AuditEvent,
) -> Result<AuditEntry, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let entry = append_in(&tx, account, event)?;
    tx.commit()?;
    Ok(entry)
}

/// Appends inside the caller's transaction, so the entry commits with what it records.
pub(crate) fn append_in(
    tx: &Connection,
    account: AccountId,
    event: &AuditEvent,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let counter: i64 = tx
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let prev_hash = last
        .as_ref()
        .map_or(GENESIS.to_string(), |(_, h)| h.clone());
    let seq = counter.max(last.map_or(0, |(s, _)| s)) + 1;
    let at = now_ms();
    let hash = entry_hash(&prev_hash, seq, at, event);
    tx.execute(
        "INSERT INTO audit_log (seq, account_pk, at, actor, action, subject, data_types, status, export_id, details, prev_hash, hash, person)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            seq, account.0, at, event.actor, event.action, event.subject, event.data_types.join(","),
            event.status, event.export_id, event.details.to_string(), prev_hash, hash, event.person
        ],
    )?;
    Ok(AuditEntry {
        seq,
        at: time(at),
        event: event.clone(),
        prev_hash,
        hash,
    })
}

fn entry_row(r: &Row) -> rusqlite::Result<(i64, AuditEntry)> {
    let data_types: String = r.get("data_types")?;
    let details: String = r.get("details")?;
    Ok((
        r.get("at")?,
        AuditEntry {
            seq: r.get("seq")?,
            at: time(r.get("at")?),
            event: AuditEvent {
                actor: r.get("actor")?,
                action: r.get("action")?,
                subject: r.get("subject")?,
                data_types: data_types
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                status: r.get("status")?,
                export_id: r.get("export_id")?,
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                person: r.get("person")?,
            },
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
        },
    ))
}

const COLUMNS: &str = "seq, at, actor, action, subject, data_types, status, export_id, details,
    prev_hash, hash, person";

pub(crate) fn list(
    conn: &Connection,
    account: AccountId,
    f: &AuditFilter,
) -> Result<Vec<AuditEntry>, StoreError> {
    // The action prefix is compared, not matched with LIKE, so `%` and `_` in a filter are
    // plain characters. A subject filter becomes three JSON arrays (`audit_subject`), compared
    // with `=` for the same reason; an email label in lower case, as `lower` folds ASCII only
    // like the `COLLATE NOCASE` that finds people by email.
    let names = f
        .subject
        .as_deref()
        .map(|s| audit_subject::names(conn, account, s))
        .transpose()?;
    let json = |list: fn(&audit_subject::Names) -> &Vec<String>| {
        names
            .as_ref()
            .map(|n| serde_json::Value::from(list(n).clone()).to_string())
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE account_pk = ?1 AND seq > ?2
           AND (?3 IS NULL OR action = ?3 OR substr(action, 1, length(?3) + 1) = ?3 || '.')
           AND (?4 IS NULL OR subject IN (SELECT value FROM json_each(?4))
                OR lower(subject) IN (SELECT value FROM json_each(?5))
                OR person IN (SELECT value FROM json_each(?6)))
           AND (?7 IS NULL OR actor = ?7)
           AND (?8 IS NULL OR at >= ?8) AND (?9 IS NULL OR at < ?9)
         ORDER BY seq LIMIT ?10"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![
            account.0,
            f.after.unwrap_or(0),
            f.action,
            json(|n| &n.labels),
            json(|n| &n.emails),
            json(|n| &n.persons),
            f.actor,
            f.from_ms,
            f.to_ms,
            f.limit
        ],
        entry_row,
    )?;
    Ok(rows.map(|r| r.map(|(_, e)| e)).collect::<Result<_, _>>()?)
}

/// Walks the whole chain; `Ok(None)` when every entry checks out. Also returns the count.
pub(crate) fn verify(conn: &Connection) -> Result<(u64, Option<AuditBreak>), StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let (mut expected_prev, mut expected_seq, mut count) = (GENESIS.to_string(), 1i64, 0u64);
    while let Some(row) = rows.next()? {
        let (at, entry) = entry_row(row)?;
        count += 1;
        if entry.seq != expected_seq {
            return Ok((
                count,
                Some(AuditBreak {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} was removed"),
                }),
            ));
        }
        if entry.prev_hash != expected_prev {
            return Ok((
                count,
                Some(AuditBreak {
                    seq: entry.seq,
                    reason: format!("entry {} does not follow the one before it", entry.seq),
                }),
            ));
        }
        if entry_hash(&entry.prev_hash, entry.seq, at, &entry.event) != entry.hash {
            return Ok((
                count,
                Some(AuditBreak {
                    seq: entry.seq,
                    reason: format!("entry {} was edited", entry.seq),
                }),
            ));
        }
        expected_prev = entry.hash;
        expected_seq += 1;
    }
    let highest: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if highest >= expected_seq {
        return Ok((
            count,
            Some(AuditBreak {
                seq: expected_seq,
                reason: format!("entries {expected_seq} to {highest} were removed"),
            }),
        ));
    }
    Ok((count, None))
}

pub(crate) fn save_receipt(conn: &Connection, receipt: &Receipt) -> Result<(), StoreError> {
    let body = serde_json::to_string(receipt).map_err(|e| StoreError::Backend(Box::new(e)))?;
    conn.execute(
        "INSERT INTO receipts (receipt_id, export_id, body, delivered_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (export_id) DO NOTHING",
        params![
            receipt.receipt_id,
            receipt.export_id,
            body,
            receipt.delivered_at.map(|t| t.timestamp_millis())
        ],
    )?;
    Ok(())
}

pub(crate) fn receipt(conn: &Connection, export_id: &str) -> Result<Option<Receipt>, StoreError> {
    let found: Option<(String, Option<i64>)> = conn
        .query_row(
            "SELECT body, delivered_at FROM receipts WHERE export_id = ?1",
            [export_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.and_then(|(body, delivered)| {
        let mut receipt: Receipt = serde_json::from_str(&body).ok()?;
        receipt.delivered_at = delivered.map(time);
        Some(receipt)
    }))
}

/// Sets the delivery time once; `true` the first time. Whole seconds, as the receipt shows
/// it (and as its `generated_at` is).
pub(crate) fn mark_delivered(conn: &Connection, export_id: &str) -> Result<bool, StoreError> {
    let at = now_ms().div_euclid(1000) * 1000;
    Ok(conn.execute(
        "UPDATE receipts SET delivered_at = ?2 WHERE export_id = ?1 AND delivered_at IS NULL",
        params![export_id, at],
    )? == 1)
}

#[async_trait::async_trait]
impl Audit for SqliteStore {
    async fn audit(&self, account: AccountId, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.pool.write(move |c| append(c, account, &event)).await
    }

    async fn audit_entries(
        &self,
        account: AccountId,
        filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.pool.read(move |c| list(c, account, &filter)).await
    }

    async fn audit_verify(&self) -> Result<(u64, Option<AuditBreak>), StoreError> {
        self.pool.read(verify).await
    }

    async fn receipt(&self, export_id: &str) -> Result<Option<Receipt>, StoreError> {
        let id = export_id.to_string();
        self.pool.read(move |c| receipt(c, &id)).await
    }

    async fn mark_delivered(&self, export_id: &str) -> Result<bool, StoreError> {
        let id = export_id.to_string();
        self.pool.write(move |c| mark_delivered(c, &id)).await
    }
}
