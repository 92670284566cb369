//! Sessions at ingest: the rule is in `ferry_domain::session`; this keeps the stored sessions
//! true to it as rows arrive, in order (the cached latest session is extended or followed) or
//! late (the touched sessions are found in the database and joined).

use ferry_domain::Millis;
use ferry_domain::session::{SESSION_GAP_MS, continues};
use rusqlite::{OptionalExtension, Transaction, params};

use super::ingest_people::VisitorState;
use super::rollups::{RollupDelta, SessionFacts};
use crate::StoreError;

pub(crate) struct SessionState {
    pub(crate) pk: i64,
    pub(crate) started: Millis,
    pub(crate) ended: Millis,
    pages: i64,
    events: i64,
    dirty: bool,
    website: i64,
    visitor: i64,
    /// The row as stored, which is what the rollups count for it.
    stored: SessionFacts,
}

impl SessionState {
    fn facts(&self) -> SessionFacts {
        SessionFacts {
            started: self.started,
            ended: self.ended,
            pages: self.pages,
            events: self.events,
        }
    }
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
            let stored = SessionFacts {
                started: r.get(1)?,
                ended: r.get(2)?,
                pages: r.get(3)?,
                events: r.get(4)?,
            };
            Ok(SessionState {
                pk: r.get(0)?,
                started: stored.started,
                ended: stored.ended,
                pages: stored.pages,
                events: stored.events,
                dirty: false,
                website: website_pk,
                visitor: visitor_pk,
                stored,
            })
        })
        .optional()?)
}

pub(crate) fn write_session(
    tx: &Transaction,
    rollup: &mut RollupDelta,
    s: &mut SessionState,
) -> Result<(), StoreError> {
    if s.dirty {
        tx.prepare_cached(
            "UPDATE sessions SET started_at = ?2, ended_at = ?3, pages_viewed = ?4, events_triggered = ?5
             WHERE pk = ?1",
        )?
        .execute(params![s.pk, s.started, s.ended, s.pages, s.events])?;
        rollup.session_changed(s.website, s.visitor, s.stored, s.facts());
        s.stored = s.facts();
        s.dirty = false;
    }
    Ok(())
}

/// A new session of one activity at `at` (`pages` and `events` of it: 1 and 0, or 0 and 1).
fn insert_session(
    tx: &Transaction,
    rollup: &mut RollupDelta,
    website_pk: i64,
    visitor_pk: i64,
    at: Millis,
    (pages, events): (i64, i64),
) -> Result<SessionState, StoreError> {
    tx.prepare_cached(
        "INSERT INTO sessions (website_pk, visitor_pk, started_at, ended_at, pages_viewed, events_triggered)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
    )?
    .execute(params![website_pk, visitor_pk, at, pages, events])?;
    let stored = SessionFacts {
        started: at,
        ended: at,
        pages,
        events,
    };
    rollup.session_added(website_pk, visitor_pk, stored);
    Ok(SessionState {
        pk: tx.last_insert_rowid(),
        started: at,
        ended: at,
        pages,
        events,
        dirty: false,
        website: website_pk,
        visitor: visitor_pk,
        stored,
    })
}

/// Puts activity at `at` into the right session and counts it there; returns the session's pk.
pub(crate) fn assign_session(
    tx: &Transaction,
    rollup: &mut RollupDelta,
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
    let one = if is_page { (1, 0) } else { (0, 1) };
    if in_order {
        let extend = latest
            .as_ref()
            .is_some_and(|s| continues(s.started, s.ended, at));
        if !extend {
            if let Some(old) = latest.as_mut() {
                write_session(tx, rollup, old)?;
            }
            let new = insert_session(tx, rollup, website_pk, v.pk, at, one)?;
            let pk = new.pk;
            *latest = Some(new);
            return Ok(pk);
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
        write_session(tx, rollup, s)?;
    }
    let pk = place_out_of_order(tx, rollup, website_pk, v.pk, at, one)?;
    v.latest = Some(latest_session(tx, website_pk, v.pk)?);
    Ok(pk)
}

/// Finds every session that activity at `at` touches; none → a new session, several → merged.
fn place_out_of_order(
    tx: &Transaction,
    rollup: &mut RollupDelta,
    website_pk: i64,
    visitor_pk: i64,
    at: Millis,
    (page, event): (i64, i64),
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
    let Some(&(keep, first_start, _, _, _)) = touching.first() else {
        return Ok(insert_session(tx, rollup, website_pk, visitor_pk, at, (page, event))?.pk);
    };
    let facts =
        |&(_, started, ended, pages, events): &(i64, Millis, Millis, i64, i64)| SessionFacts {
            started,
            ended,
            pages,
            events,
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
    for absorbed in &touching[1..] {
        rollup.session_removed(website_pk, facts(absorbed));
    }
    let joined = SessionFacts {
        started: first_start.min(at),
        ended: last_end.max(at),
        pages,
        events,
    };
    tx.prepare_cached(
        "UPDATE sessions SET started_at = ?2, ended_at = ?3, pages_viewed = ?4, events_triggered = ?5 WHERE pk = ?1",
    )?
    .execute(params![keep, joined.started, joined.ended, pages, events])?;
    rollup.session_changed(website_pk, visitor_pk, facts(&touching[0]), joined);
    Ok(keep)
}
