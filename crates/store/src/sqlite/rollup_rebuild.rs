//! Rollups recomputed from the raw rows over a span of buckets: for stores written before
//! rollups existed (the migration that adds them), for `ferry analytics rebuild`, and for
//! anything that deletes rows (an erasure rebuilds the buckets its rows were in).
//!
//! Reads walk the (website, time) indexes in time order and hold one bucket's page sketches at
//! a time, so memory stays small whatever the span.

use std::collections::{BTreeMap, HashMap};

use ferry_domain::Millis;
use rusqlite::{Connection, params};

use super::hll::Sketch;
use super::rollups::{BUCKET_MS, Counts, SessionFacts, blob, bucket};
use crate::StoreError;

/// Recomputes website `website_pk`'s rollups for every bucket that overlaps `[from, to)`;
/// returns how many buckets now hold data.
pub(crate) fn rebuild(
    conn: &Connection,
    website_pk: i64,
    from: Millis,
    to: Millis,
) -> Result<usize, StoreError> {
    let (first, end) = (bucket(from), bucket(to - 1) + 1);
    let (start_ms, end_ms) = (first * BUCKET_MS, end * BUCKET_MS);
    for table in ["rollup_buckets", "rollup_pages"] {
        conn.prepare_cached(&format!(
            "DELETE FROM {table} WHERE website_pk = ?1 AND bucket >= ?2 AND bucket < ?3"
        ))?
        .execute(params![website_pk, first, end])?;
    }
    let mut counts: BTreeMap<i64, Counts> = BTreeMap::new();
    let mut sketches: BTreeMap<i64, Sketch> = BTreeMap::new();

    let mut put_page = conn.prepare_cached(
        "INSERT INTO rollup_pages (website_pk, bucket, url_pk, views, visitors) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT ts, url_pk, visitor_pk FROM pageviews
         WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
    )?;
    let mut rows = stmt.query(params![website_pk, start_ms, end_ms])?;
    let mut current: Option<i64> = None;
    let mut pages: HashMap<i64, (i64, Sketch)> = HashMap::new();
    let mut flush_pages = |b: i64, pages: &mut HashMap<i64, (i64, Sketch)>| {
        for (url, (views, sketch)) in pages.drain() {
            put_page.execute(params![website_pk, b, url, views, blob(&sketch)])?;
        }
        Ok::<_, StoreError>(())
    };
    while let Some(row) = rows.next()? {
        let (at, url, visitor): (Millis, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let b = bucket(at);
        if current.is_some_and(|c| c != b) {
            flush_pages(current.unwrap_or(b), &mut pages)?;
        }
        current = Some(b);
        counts.entry(b).or_default().pageviews += 1;
        let page = pages.entry(url).or_default();
        page.0 += 1;
        page.1.add(visitor);
    }
    if let Some(b) = current {
        flush_pages(b, &mut pages)?;
    }

    let mut stmt = conn
        .prepare_cached("SELECT ts FROM events WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3")?;
    let mut rows = stmt.query(params![website_pk, start_ms, end_ms])?;
    while let Some(row) = rows.next()? {
        counts.entry(bucket(row.get(0)?)).or_default().events += 1;
    }

    let mut stmt = conn.prepare_cached(
        "SELECT started_at, ended_at, pages_viewed, events_triggered, visitor_pk FROM sessions
         WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3",
    )?;
    let mut rows = stmt.query(params![website_pk, start_ms, end_ms])?;
    while let Some(row) = rows.next()? {
        let s = SessionFacts {
            started: row.get(0)?,
            ended: row.get(1)?,
            pages: row.get(2)?,
            events: row.get(3)?,
        };
        let b = bucket(s.started);
        let c = counts.entry(b).or_default();
        c.sessions += 1;
        c.bounces += i64::from(s.pages == 1 && s.events == 0);
        c.duration_ms += s.ended - s.started;
        sketches.entry(b).or_default().add(row.get(4)?);
    }

    let mut put = conn.prepare_cached(
        "INSERT INTO rollup_buckets (website_pk, bucket, pageviews, events, sessions, bounces, duration_ms, visitors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let filled = counts.len();
    for (b, c) in counts {
        let sketch = sketches.remove(&b).unwrap_or_default();
        put.execute(params![
            website_pk,
            b,
            c.pageviews,
            c.events,
            c.sessions,
            c.bounces,
            c.duration_ms,
            blob(&sketch)
        ])?;
    }
    Ok(filled)
}

/// Every website's rollups from its rows: the step that fills the new tables of a store
/// written before rollups existed.
pub(crate) fn rebuild_everything(conn: &Connection) -> Result<(), StoreError> {
    let websites: Vec<i64> = conn
        .prepare("SELECT pk FROM websites")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for pk in websites {
        rebuild(conn, pk, Millis::MIN / 2, Millis::MAX / 2)?;
    }
    Ok(())
}
