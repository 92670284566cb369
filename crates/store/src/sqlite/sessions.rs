//! Sessions at ingest: the rule is in `ferry_domain::session`; this keeps the stored sessions
//! true to it as rows arrive, in order (the cached latest session is extended or followed) or
//! late (the touched sessions are found in the database and joined).

use ferry_domain::Millis;
use ferry_domain::session::{SESSION_GAP_MS, continues};
use rusqlite::{OptionalExtension, Transaction, params};

use super::ingest::VisitorState;
use crate::StoreError;

pub(crate) struct SessionState {
    pub(crate) pk: i64,
    pub(crate) started: Millis,
    pub(crate) ended: Millis,
    pages: i64,
    events: i64,
    dirty: bool,
}

// Queries by visitor name `sessions_visitor` outright: otherwise SQLite prefers the covering
// `sessions_range` index and scans every session of the website.
pub(crate) fn latest_session(
    tx: &Transaction,
    website_pk: i64,
    visitor_pk: i64,
) -> Result<Option<SessionState>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT pk, started_at, ended_at, pages_viewed, events_triggered FROM sessions INDEXED BY sessions_visitor
             WHERE website_pk = ?1 AND visitor_pk = ?2 ORDER BY started_at DESC LIMIT 1",
        )?
        .query_row(params![website_pk, visitor_pk], |r| {
            Ok(SessionState {
                pk: r.get(0)?,
                started: r.get(1)?,
                ended: r.get(2)?,
                pages: r.get(3)?,
                events: r.get(4)?,
                dirty: false,
            })
        })
        .optional()?)
}

pub(crate) fn write_session(tx: &Transaction, s: &mut SessionState) -> Result<(), StoreError> {
    if s.dirty {
        tx.prepare_cached(
            "UPDATE sessions SET started_at = ?2, ended_at = ?3, pages_viewed = ?4, events_triggered = ?5
             WHERE pk = ?1",
        )?
        .execute(params![s.pk, s.started, s.ended, s.pages, s.events])?;
        s.dirty = false;
    }
    Ok(())
}

fn insert_session(
    tx: &Transaction,
    website_pk: i64,
    visitor_pk: i64,
    at: Millis,
) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "INSERT INTO sessions (website_pk, visitor_pk, started_at, ended_at) VALUES (?1, ?2, ?3, ?3)",
    )?
    .execute(params![website_pk, visitor_pk, at])?;
    Ok(tx.last_insert_rowid())
}

/// Puts activity at `at` into the right session and counts it there; returns the session's pk.
pub(crate) fn assign_session(
    tx: &Transaction,
    website_pk: i64,
    v: &mut VisitorState,
    at: Millis,
    is_page: bool,
) -> Result<i64, StoreError> {
    if v.latest.is_none() {
        v.latest = Some(latest_session(tx, website_pk, v.pk)?);
    }
    let latest = v.latest.as_mut().expect("loaded above");
    // In order (the common case): extend the latest session or start the next one.
    let in_order = latest.as_ref().is_none_or(|s| at >= s.started);
    if in_order {
        let extend = latest
            .as_ref()
            .is_some_and(|s| continues(s.started, s.ended, at));
        if !extend {
            if let Some(old) = latest.as_mut() {
                write_session(tx, old)?;
            }
            let pk = insert_session(tx, website_pk, v.pk, at)?;
            *latest = Some(SessionState {
                pk,
                started: at,
                ended: at,
                pages: 0,
                events: 0,
                dirty: true,
            });
        }
        let s = latest.as_mut().expect("set above");
        s.ended = s.ended.max(at);
        if is_page {
            s.pages += 1;
        } else {
            s.events += 1;
        }
        s.dirty = true;
        return Ok(s.pk);
    }
    // Out of order: settle the cached session, then work on the database directly.
    if let Some(s) = latest.as_mut() {
        write_session(tx, s)?;
    }
    let pk = place_out_of_order(tx, website_pk, v.pk, at, is_page)?;
    v.latest = Some(latest_session(tx, website_pk, v.pk)?);
    Ok(pk)
}

/// Finds every session that activity at `at` touches; none → a new session, several → merged.
fn place_out_of_order(
    tx: &Transaction,
    website_pk: i64,
    visitor_pk: i64,
    at: Millis,
    is_page: bool,
) -> Result<i64, StoreError> {
    let touching: Vec<(i64, Millis, Millis, i64, i64)> = tx
        .prepare_cached(
            "SELECT pk, started_at, ended_at, pages_viewed, events_triggered FROM sessions INDEXED BY sessions_visitor
             WHERE website_pk = ?1 AND visitor_pk = ?2 AND started_at < ?3 AND ended_at > ?4
             ORDER BY started_at",
        )?
        .query_map(
            params![
                website_pk,
                visitor_pk,
                at + SESSION_GAP_MS,
                at - SESSION_GAP_MS
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?
        .collect::<Result<_, _>>()?;
    let (page, event) = if is_page { (1, 0) } else { (0, 1) };
    let Some(&(keep, first_start, _, _, _)) = touching.first() else {
        let pk = insert_session(tx, website_pk, visitor_pk, at)?;
        tx.prepare_cached(
            "UPDATE sessions SET pages_viewed = ?2, events_triggered = ?3 WHERE pk = ?1",
        )?
        .execute(params![pk, page, event])?;
        return Ok(pk);
    };
    let last_end = touching.iter().map(|s| s.2).max().unwrap_or(at);
    let pages: i64 = touching.iter().map(|s| s.3).sum::<i64>() + page;
    let events: i64 = touching.iter().map(|s| s.4).sum::<i64>() + event;
    for &(absorbed, ..) in &touching[1..] {
        for table in ["pageviews", "events"] {
            tx.prepare_cached(&format!(
                "UPDATE {table} SET session_pk = ?1 WHERE session_pk = ?3 AND visitor_pk = ?2"
            ))?
            .execute(params![keep, visitor_pk, absorbed])?;
        }
        tx.prepare_cached("DELETE FROM sessions WHERE pk = ?1")?
            .execute([absorbed])?;
    }
    tx.prepare_cached(
        "UPDATE sessions SET started_at = ?2, ended_at = ?3, pages_viewed = ?4, events_triggered = ?5 WHERE pk = ?1",
    )?
    .execute(params![keep, first_start.min(at), last_end.max(at), pages, events])?;
    Ok(keep)
}
