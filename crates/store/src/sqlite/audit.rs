//! The audit trail (one hash chain for the whole store) and receipts.

use ferry_domain::AccountId;
use ferry_domain::audit::{AuditEntry, AuditEvent, GENESIS, HASH_VERSION, pseudonymous_entry_hash};
use ferry_domain::job::Receipt;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{now_ms, time};
use super::{SqliteStore, audit_chain, audit_subject};
use crate::{Audit, AuditChain, AuditFilter, StoreError};

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
    let account_name = account_name(tx, account)?;
    let hash = pseudonymous_entry_hash(&prev_hash, seq, at, &account_name, event, false);
    tx.execute(
        "INSERT INTO audit_log (seq, account_pk, at, actor, action, subject, data_types, status, export_id, details, prev_hash, hash, person, hash_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            seq, account.0, at, event.actor, event.action, event.subject, event.data_types.join(","),
            event.status, event.export_id, event.details.to_string(), prev_hash, hash, event.person,
            HASH_VERSION
        ],
    )?;
    Ok(AuditEntry {
        seq,
        at: time(at),
        event: event.clone(),
        account: account_name,
        prev_hash,
        hash,
        hash_version: HASH_VERSION,
        pseudonymised: false,
    })
}

/// The name the hash covers: names are unique and never change, and, unlike the row number, a
/// tenant knows its own. An account that does not exist hashes as the empty name.
fn account_name(tx: &Connection, account: AccountId) -> Result<String, StoreError> {
    Ok(tx
        .query_row(
            "SELECT name FROM accounts WHERE pk = ?1",
            [account.0],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default())
}

pub(super) fn entry_row(r: &Row) -> rusqlite::Result<(i64, AuditEntry)> {
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
            account: r.get("account")?,
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
            hash_version: r.get("hash_version")?,
            pseudonymised: r.get("pseudonymised")?,
        },
    ))
}

/// Each entry with the name of the account it is filed under now (an entry moved to another
/// account reads that account's name, and no longer verifies).
pub(super) const COLUMNS: &str =
    "seq, at, actor, action, subject, data_types, status, export_id, details,
    prev_hash, hash, person, hash_version, pseudonymised, coalesce(accounts.name, '') AS account";
pub(super) const FROM: &str = "audit_log LEFT JOIN accounts ON accounts.pk = audit_log.account_pk";

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
        "SELECT {COLUMNS} FROM {FROM} WHERE account_pk = ?1 AND seq > ?2
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

    async fn audit_verify(&self, seq: Option<i64>) -> Result<AuditChain, StoreError> {
        self.pool.read(move |c| audit_chain::verify(c, seq)).await
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
