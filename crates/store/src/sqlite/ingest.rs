//! Ingest: one transaction per batch. Sessions are kept up to date as rows arrive (a new session
//! after [`SESSION_GAP_MS`] of inactivity), including for rows that arrive out of order, which
//! may join two sessions into one.
//!
//! Rows usually arrive in time order per visitor, so each visitor's latest session is kept in
//! memory for the batch and written once at the end; anything else takes the exact path through
//! the database.

use std::collections::HashMap;

use ferry_domain::session::{SESSION_GAP_MS, continues};
use ferry_domain::{AccountId, Activity, ActivityKind, Identify, IngestLine, LineError, Millis};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::{Map, Value};

use crate::{IngestOutcome, StoreError};

pub(crate) fn ingest(
    conn: &mut rusqlite::Connection,
    account: Option<AccountId>,
    lines: &[IngestLine],
    now: Millis,
) -> Result<IngestOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut batch = Batch {
        tx: &tx,
        account,
        now,
        websites: HashMap::new(),
        visitors: HashMap::new(),
    };
    let mut outcome = Vec::with_capacity(lines.len());
    for line in lines {
        outcome.push(batch.apply(line)?);
    }
    batch.flush()?;
    tx.commit()?;
    Ok(outcome)
}

#[derive(Clone, Copy)]
struct Site {
    pk: i64,
    account: i64,
}

struct SessionState {
    pk: i64,
    started: Millis,
    ended: Millis,
    pages: i64,
    events: i64,
    dirty: bool,
}

struct VisitorState {
    pk: i64,
    first_seen: Option<Millis>,
    last_seen: Option<Millis>,
    device: Option<String>,
    browser: Option<String>,
    country: Option<String>,
    dirty: bool,
    /// The visitor's latest session, once looked up (`Some(None)`: it has none).
    latest: Option<Option<SessionState>>,
}

struct Batch<'t> {
    tx: &'t Transaction<'t>,
    account: Option<AccountId>,
    now: Millis,
    websites: HashMap<String, Option<Site>>,
    visitors: HashMap<(i64, String), VisitorState>,
}

fn unknown_website(id: &str) -> LineError {
    LineError::new(
        "unknown_website",
        format!("there is no website `{id}` in this account: create it first or fix website_id"),
    )
}

impl Batch<'_> {
    fn apply(&mut self, line: &IngestLine) -> Result<Result<(), LineError>, StoreError> {
        let Some(site) = self.site(line.website_id())? else {
            return Ok(Err(unknown_website(line.website_id())));
        };
        match line {
            IngestLine::Activity(activity) => self.activity(site, activity)?,
            IngestLine::Identify(identify) => self.identify(site, identify)?,
        }
        Ok(Ok(()))
    }

    fn site(&mut self, public_id: &str) -> Result<Option<Site>, StoreError> {
        if let Some(site) = self.websites.get(public_id) {
            return Ok(*site);
        }
        let site = self
            .tx
            .prepare_cached("SELECT pk, account_pk FROM websites WHERE public_id = ?1")?
            .query_row([public_id], |r| {
                Ok(Site {
                    pk: r.get(0)?,
                    account: r.get(1)?,
                })
            })
            .optional()?
            .filter(|s| self.account.is_none_or(|a| a.0 == s.account));
        self.websites.insert(public_id.to_string(), site);
        Ok(site)
    }

    fn visitor(&mut self, site: Site, visitor_id: &str) -> Result<&mut VisitorState, StoreError> {
        let key = (site.pk, visitor_id.to_string());
        if !self.visitors.contains_key(&key) {
            let state = load_or_create_visitor(self.tx, site.pk, visitor_id)?;
            self.visitors.insert(key.clone(), state);
        }
        Ok(self.visitors.get_mut(&key).expect("inserted above"))
    }

    fn activity(&mut self, site: Site, a: &Activity) -> Result<(), StoreError> {
        let tx = self.tx;
        let v = self.visitor(site, &a.visitor_id)?;
        let newest = v.last_seen.is_none_or(|last| a.at >= last);
        v.first_seen = Some(v.first_seen.map_or(a.at, |f| f.min(a.at)));
        v.last_seen = Some(v.last_seen.map_or(a.at, |l| l.max(a.at)));
        if newest {
            for (slot, value) in [
                (&mut v.device, &a.device),
                (&mut v.browser, &a.browser),
                (&mut v.country, &a.country),
            ] {
                if value.is_some() {
                    slot.clone_from(value);
                }
            }
        }
        v.dirty = true;
        let is_page = matches!(a.kind, ActivityKind::Pageview { .. });
        let session_pk = assign_session(tx, site.pk, v, a.at, is_page)?;
        match &a.kind {
            ActivityKind::Pageview {
                url,
                title,
                referrer,
            } => {
                tx.prepare_cached(
                    "INSERT INTO pageviews (website_pk, visitor_pk, session_pk, ts, url, title, referrer, device, browser, country)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    site.pk, v.pk, session_pk, a.at, url, title, referrer, a.device, a.browser, a.country
                ])?;
            }
            ActivityKind::Event { name, properties } => {
                let props = serde_json::to_string(properties).unwrap_or_else(|_| "{}".into());
                tx.prepare_cached(
                    "INSERT INTO events (website_pk, visitor_pk, session_pk, ts, name, properties)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![site.pk, v.pk, session_pk, a.at, name, props])?;
            }
        }
        Ok(())
    }

    fn identify(&mut self, site: Site, i: &Identify) -> Result<(), StoreError> {
        let tx = self.tx;
        let now = self.now;
        let user_pk = upsert_user(tx, site.account, i, now)?;
        let v = self.visitor(site, &i.visitor_id)?;
        tx.prepare_cached("UPDATE visitors SET user_pk = ?2 WHERE pk = ?1")?
            .execute(params![v.pk, user_pk])?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        for v in self.visitors.values_mut() {
            if v.dirty {
                self.tx
                    .prepare_cached(
                        "UPDATE visitors SET first_seen = ?2, last_seen = ?3, device = ?4, browser = ?5, country = ?6
                         WHERE pk = ?1",
                    )?
                    .execute(params![v.pk, v.first_seen, v.last_seen, v.device, v.browser, v.country])?;
                v.dirty = false;
            }
            if let Some(Some(s)) = v.latest.as_mut() {
                write_session(self.tx, s)?;
            }
        }
        Ok(())
    }
}

fn load_or_create_visitor(
    tx: &Transaction,
    website_pk: i64,
    visitor_id: &str,
) -> Result<VisitorState, StoreError> {
    let found = tx
        .prepare_cached(
            "SELECT pk, first_seen, last_seen, device, browser, country FROM visitors
             WHERE website_pk = ?1 AND visitor_id = ?2",
        )?
        .query_row(params![website_pk, visitor_id], |r| {
            Ok(VisitorState {
                pk: r.get(0)?,
                first_seen: r.get(1)?,
                last_seen: r.get(2)?,
                device: r.get(3)?,
                browser: r.get(4)?,
                country: r.get(5)?,
                dirty: false,
                latest: None,
            })
        })
        .optional()?;
    if let Some(state) = found {
        return Ok(state);
    }
    tx.prepare_cached("INSERT INTO visitors (website_pk, visitor_id) VALUES (?1, ?2)")?
        .execute(params![website_pk, visitor_id])?;
    Ok(VisitorState {
        pk: tx.last_insert_rowid(),
        first_seen: None,
        last_seen: None,
        device: None,
        browser: None,
        country: None,
        dirty: false,
        latest: Some(None),
    })
}

fn latest_session(
    tx: &Transaction,
    website_pk: i64,
    visitor_pk: i64,
) -> Result<Option<SessionState>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT pk, started_at, ended_at, pages_viewed, events_triggered FROM sessions
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

fn write_session(tx: &Transaction, s: &mut SessionState) -> Result<(), StoreError> {
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
fn assign_session(
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
            "SELECT pk, started_at, ended_at, pages_viewed, events_triggered FROM sessions
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
                "UPDATE {table} SET session_pk = ?1 WHERE visitor_pk = ?2 AND session_pk = ?3"
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

fn upsert_user(
    tx: &Transaction,
    account_pk: i64,
    i: &Identify,
    now: Millis,
) -> Result<i64, StoreError> {
    let existing = tx
        .prepare_cached("SELECT pk, properties FROM users WHERE account_pk = ?1 AND user_id = ?2")?
        .query_row(params![account_pk, i.user_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    match existing {
        None => {
            let props = serde_json::to_string(&i.properties).unwrap_or_else(|_| "{}".into());
            tx.prepare_cached(
                "INSERT INTO users (account_pk, user_id, email, name, properties, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![account_pk, i.user_id, i.email, i.name, props, i.created_at.unwrap_or(now), now])?;
            Ok(tx.last_insert_rowid())
        }
        Some((pk, stored)) => {
            let mut merged: Map<String, Value> = serde_json::from_str(&stored).unwrap_or_default();
            merged.extend(i.properties.clone());
            let props = serde_json::to_string(&merged).unwrap_or_else(|_| "{}".into());
            tx.prepare_cached(
                "UPDATE users SET email = COALESCE(?2, email), name = COALESCE(?3, name), properties = ?4,
                 created_at = COALESCE(?5, created_at), updated_at = ?6 WHERE pk = ?1",
            )?
            .execute(params![pk, i.email, i.name, props, i.created_at, now])?;
            Ok(pk)
        }
    }
}
