//! How a request row reads: its columns, their conversion, and the look-ups by id or token
//! the other request queries share.

use chrono::NaiveDate;
use ferry_domain::AccountId;
use ferry_domain::request::{DueRule, Request, RequestStatus, RequestType, Step, Verification};

/// The request's fulfilment as stored (JSON).
pub(super) fn fulfilment_json(r: &Request) -> String {
    serde_json::to_string(&r.fulfilment).unwrap_or_else(|_| "{}".into())
}
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

pub(super) const COLUMNS: &str = "request_id, account_pk, kind, subject_email, user_id, visitor_id, \
     received_at, received_on, due_rule, clock_runs_while_unverified, paused_days, \
     extension_months, due_on, status, assignee, notes, linked_to, external_ref, code_hash, \
     token_hash, verification_expires_at, verification_attempts, verification_locked, \
     verification_method, verified_at, version, created_at, updated_at, fulfilment, subject_website_id";

fn conversion(what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(what),
    )
}

fn day(text: String) -> rusqlite::Result<NaiveDate> {
    text.parse()
        .map_err(|_| conversion(format!("not a day: {text}")))
}

pub(super) fn row(r: &Row) -> rusqlite::Result<(AccountId, Request)> {
    let kind: String = r.get("kind")?;
    let rule: String = r.get("due_rule")?;
    let status: String = r.get("status")?;
    let fulfilment: String = r.get("fulfilment")?;
    let request = Request {
        id: r.get("request_id")?,
        kind: RequestType::parse(&kind).ok_or_else(|| conversion(kind.clone()))?,
        subject_email: r.get("subject_email")?,
        user_id: r.get("user_id")?,
        visitor_id: r.get("visitor_id")?,
        subject_website_id: r.get("subject_website_id")?,
        received_at: r.get("received_at")?,
        received_on: day(r.get("received_on")?)?,
        due_rule: DueRule::parse(&rule).ok_or_else(|| conversion(rule.clone()))?,
        clock_runs_while_unverified: r.get("clock_runs_while_unverified")?,
        paused_days: r.get("paused_days")?,
        extension_months: r.get("extension_months")?,
        due_on: day(r.get("due_on")?)?,
        status: RequestStatus::parse(&status).ok_or_else(|| conversion(status.clone()))?,
        assignee: r.get("assignee")?,
        notes: r.get("notes")?,
        linked_to: r.get("linked_to")?,
        external_ref: r.get("external_ref")?,
        verification: Verification {
            code_hash: r.get("code_hash")?,
            token_hash: r.get("token_hash")?,
            expires_at: r.get("verification_expires_at")?,
            attempts: r.get("verification_attempts")?,
            locked: r.get("verification_locked")?,
            method: r.get("verification_method")?,
            verified_at: r.get("verified_at")?,
        },
        fulfilment: serde_json::from_str(&fulfilment)
            .map_err(|e| conversion(format!("fulfilment: {e}")))?,
        version: r.get("version")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    };
    Ok((AccountId(r.get("account_pk")?), request))
}

pub(super) fn by(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Option<(AccountId, Request)>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM requests WHERE {column} = ?1");
    Ok(conn.query_row(&sql, [value], row).optional()?)
}

pub(super) fn of_account(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Option<Request>, StoreError> {
    Ok(by(conn, "request_id", id)?
        .filter(|(a, _)| *a == account)
        .map(|(_, r)| r))
}

/// A request's timeline, oldest step first.
pub(super) fn steps(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Vec<Step>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT s.at, s.actor, s.step, s.details FROM request_steps s
         JOIN requests r ON r.pk = s.request_pk
         WHERE r.request_id = ?1 AND r.account_pk = ?2 ORDER BY s.pk",
    )?;
    let rows = stmt.query_map(params![id, account.0], |r| {
        let details: String = r.get(3)?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, details))
    })?;
    let mut out = Vec::new();
    for found in rows {
        let (at, actor, step, details) = found?;
        out.push(Step {
            at,
            actor,
            step,
            details: serde_json::from_str(&details)
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
        });
    }
    Ok(out)
}

pub(super) fn list(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(AccountId, Request)>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM requests WHERE {filter} ORDER BY pk");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
