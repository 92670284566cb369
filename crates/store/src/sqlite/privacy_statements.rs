//! An account's privacy statement, and its websites' overrides, on SQLite: one row per scope
//! (`website_pk` NULL for the account), the statement as a JSON object of the fields set.

use ferry_domain::audit::AuditEvent;
use ferry_domain::privacy_statement::{PrivacyStatement, StoredStatement};
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// The website's row key, `Ok(None)` for the account's row; `Err(NotFound)` for a website
/// the account does not have.
fn website_pk(
    conn: &Connection,
    account: AccountId,
    website: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    let Some(id) = website else { return Ok(None) };
    conn.query_row(
        "SELECT pk FROM websites WHERE public_id = ?1 AND account_pk = ?2",
        params![id, account.0],
        |r| r.get(0),
    )
    .optional()?
    .map(Some)
    .ok_or(StoreError::NotFound)
}

pub(super) fn get(
    conn: &Connection,
    account: AccountId,
    website: Option<&str>,
) -> Result<Option<StoredStatement>, StoreError> {
    let pk = website_pk(conn, account, website)?;
    let row = conn
        .query_row(
            "SELECT statement, updated_at, updated_by FROM privacy_statements
             WHERE account_pk = ?1 AND coalesce(website_pk, 0) = coalesce(?2, 0)",
            params![account.0, pk],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Millis>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((json, updated_at, updated_by)) = row else {
        return Ok(None);
    };
    Ok(Some(StoredStatement {
        statement: serde_json::from_str(&json).map_err(bad)?,
        updated_at,
        updated_by,
    }))
}

pub(super) fn set(
    conn: &mut Connection,
    account: AccountId,
    website: Option<&str>,
    statement: &PrivacyStatement,
    audit: &AuditEvent,
    now: Millis,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let pk = website_pk(&tx, account, website)?;
    let json = serde_json::to_string(statement).map_err(bad)?;
    tx.execute(
        "DELETE FROM privacy_statements
         WHERE account_pk = ?1 AND coalesce(website_pk, 0) = coalesce(?2, 0)",
        params![account.0, pk],
    )?;
    tx.execute(
        "INSERT INTO privacy_statements (account_pk, website_pk, statement, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account.0, pk, json, now, audit.actor],
    )?;
    super::audit::append_in(&tx, account, audit)?;
    tx.commit()?;
    Ok(())
}
