//! A website's rows over a time window, for bulk exports, handed over in [`Batch`]es on a
//! bounded channel, so memory holds a few batches whatever the export's size. URLs and visitor
//! ids come from `bulk_lookup`; the counts and columns known before the rows, from `bulk_facts`.
//!
//! Rows come in the order they were stored (arrival order: time order for live traffic). When
//! the website is the only one with data, the tables are read straight through, which is three
//! times faster than visiting each row through the time index; otherwise the time index keeps
//! other websites' rows out of the read.

use std::sync::Arc;

use ferry_domain::Millis;
use ferry_domain::bulk::{BATCH_ROWS, Batch, BulkEvent, BulkPageview, BulkSession};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) use super::bulk_lookup::Lookups;

use super::conn::{Pool, READER_CACHE_KIB};
use crate::{BatchStream, StoreError};

/// Batches waiting in a stream's channel: enough to keep the writer busy while SQLite reads.
pub(crate) const QUEUED_BATCHES: usize = 4;
/// A batch is sent early once its text passes this, so long rows cannot swell it.
const BATCH_TEXT: usize = 1 << 20;

pub(crate) type Send<'a, R> = &'a mut dyn FnMut(Batch<R>) -> Result<(), StoreError>;

/// Page cache of a connection while it reads for a bulk export: a single pass gains nothing
/// from caching, and a reader's usual cache filled by a scan would be memory held for nothing.
const SCAN_CACHE_KIB: i64 = 4_096;

/// Runs `scan` with a small page cache, then gives the connection its usual cache back.
pub(crate) fn scanning<T>(
    conn: &Connection,
    scan: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.pragma_update(None, "cache_size", -SCAN_CACHE_KIB)?;
    let result = scan(conn);
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    result
}

/// Runs `query` on a reader connection on a blocking thread, handing its batches over a
/// bounded channel: a slow consumer slows the query instead of filling memory.
pub(crate) fn batches<R, Q>(pool: &Arc<Pool>, query: Q) -> BatchStream<R>
where
    R: std::marker::Send + 'static,
    Q: FnOnce(&Connection, Send<'_, R>) -> Result<(), StoreError> + std::marker::Send + 'static,
{
    let (sender, receiver) = crossbeam_channel::bounded(QUEUED_BATCHES);
    let pool = Arc::clone(pool);
    tokio::spawn(async move {
        let errors = sender.clone();
        let result = pool
            .read(move |conn| {
                let mut send = |batch: Batch<R>| {
                    sender
                        .send(Ok(batch))
                        .map_err(|_| StoreError::Backend("the export stopped reading".into()))
                };
                scanning(conn, |conn| query(conn, &mut send))
            })
            .await;
        if let Err(e) = result {
            let _ = errors.send(Err(e));
        }
    });
    BatchStream::new(receiver)
}

pub(crate) fn website_pk(conn: &Connection, website: &str) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT pk FROM websites WHERE public_id = ?1",
        [website],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

fn text(value: ValueRef<'_>) -> Option<&str> {
    match value {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

/// Sends `batch` when it is full and starts the next one.
fn flush_if_full<R>(batch: &mut Batch<R>, send: Send<'_, R>) -> Result<(), StoreError> {
    if batch.len() >= BATCH_ROWS || batch.text_bytes() >= BATCH_TEXT {
        send(std::mem::replace(batch, Batch::with_capacity(BATCH_ROWS)))?;
    }
    Ok(())
}

fn flush_rest<R>(batch: Batch<R>, send: Send<'_, R>) -> Result<(), StoreError> {
    if !batch.is_empty() {
        send(batch)?;
    }
    Ok(())
}

/// Whether another website has sessions: then a website's rows are found through the time
/// index rather than by reading the whole table.
pub(crate) fn shares_tables(conn: &Connection, website: i64) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions INDEXED BY sessions_range WHERE website_pk < ?1)
             OR EXISTS (SELECT 1 FROM sessions INDEXED BY sessions_range WHERE website_pk > ?1)",
        [website],
        |r| r.get(0),
    )?)
}

/// How a table's rows of the window are reached: `time_index` names the index for a website
/// that shares the table.
pub(crate) fn access(
    conn: &Connection,
    website: i64,
    time_index: &str,
) -> Result<String, StoreError> {
    Ok(if shares_tables(conn, website)? {
        format!("INDEXED BY {time_index}")
    } else {
        "NOT INDEXED".into()
    })
}

/// The rows of a window: all through the time index (`None`), or those with row keys in
/// `[lo, hi)` read straight from the table.
pub(crate) type Rowids = Option<(i64, i64)>;

fn rows_sql(columns: &str, table: &str, time_index: &str, rowids: Rowids) -> String {
    match rowids {
        None => format!(
            "SELECT {columns} FROM {table} INDEXED BY {time_index}
             WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts"
        ),
        Some(_) => format!(
            "SELECT {columns} FROM {table} NOT INDEXED
             WHERE pk >= ?4 AND pk < ?5 AND website_pk = ?1 AND ts >= ?2 AND ts < ?3"
        ),
    }
}

/// Runs a [`rows_sql`] statement.
fn run<'s>(
    stmt: &'s mut rusqlite::CachedStatement<'_>,
    website: i64,
    (start, end): (Millis, Millis),
    rowids: Rowids,
) -> Result<rusqlite::Rows<'s>, StoreError> {
    Ok(match rowids {
        None => stmt.query(params![website, start, end])?,
        Some((lo, hi)) => stmt.query(params![website, start, end, lo, hi])?,
    })
}

pub(crate) fn pageviews(
    conn: &Connection,
    lookups: &mut Lookups,
    website: i64,
    (start, end): (Millis, Millis),
    rowids: Rowids,
    send: Send<'_, BulkPageview>,
) -> Result<(), StoreError> {
    let sql = rows_sql(
        "ts, url_pk, title, referrer, device, browser, country, visitor_pk, session_pk",
        "pageviews",
        "pageviews_range",
        rowids,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = run(&mut stmt, website, (start, end), rowids)?;
    let mut batch = Batch::with_capacity(BATCH_ROWS);
    while let Some(r) = rows.next()? {
        let url = batch.span(Some(lookups.url(r.get(1)?)?));
        let row = BulkPageview {
            timestamp: r.get(0)?,
            url,
            title: batch.span(text(r.get_ref(2)?)),
            referrer: batch.span(text(r.get_ref(3)?)),
            device: batch.span(text(r.get_ref(4)?)),
            browser: batch.span(text(r.get_ref(5)?)),
            country: batch.span(text(r.get_ref(6)?)),
            visitor_id: batch.span(Some(lookups.visitor_id(r.get(7)?)?)),
            session: lookups.session(r.get(8)?),
        };
        batch.rows.push(row);
        flush_if_full(&mut batch, send)?;
    }
    flush_rest(batch, send)
}

pub(crate) fn events(
    conn: &Connection,
    lookups: &mut Lookups,
    website: i64,
    (start, end): (Millis, Millis),
    rowids: Rowids,
    send: Send<'_, BulkEvent>,
) -> Result<(), StoreError> {
    let sql = rows_sql(
        "ts, name, properties, visitor_pk, session_pk",
        "events",
        "events_range",
        rowids,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = run(&mut stmt, website, (start, end), rowids)?;
    let mut batch = Batch::with_capacity(BATCH_ROWS);
    while let Some(r) = rows.next()? {
        let row = BulkEvent {
            timestamp: r.get(0)?,
            name: batch.span(text(r.get_ref(1)?)),
            properties: batch.span(text(r.get_ref(2)?)),
            visitor_id: batch.span(Some(lookups.visitor_id(r.get(3)?)?)),
            session: lookups.session(r.get(4)?),
        };
        batch.rows.push(row);
        flush_if_full(&mut batch, send)?;
    }
    flush_rest(batch, send)
}

/// Sessions that started in the window, in start order (their covering index is the fastest
/// way to them either way).
pub(crate) fn sessions(
    conn: &Connection,
    website: &str,
    (start, end): (Millis, Millis),
    send: Send<'_, BulkSession>,
) -> Result<(), StoreError> {
    let website = website_pk(conn, website)?;
    let mut lookups = Lookups::new(conn)?;
    let mut stmt = conn.prepare(
        "SELECT pk, visitor_pk, started_at, ended_at, pages_viewed, events_triggered
         FROM sessions INDEXED BY sessions_range
         WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3 ORDER BY started_at",
    )?;
    let mut rows = stmt.query(params![website, start, end])?;
    let mut batch = Batch::with_capacity(BATCH_ROWS);
    while let Some(r) = rows.next()? {
        let row = BulkSession {
            session: lookups.session(r.get(0)?),
            visitor_id: batch.span(Some(lookups.visitor_id(r.get(1)?)?)),
            started_at: r.get(2)?,
            ended_at: r.get(3)?,
            pages_viewed: r.get(4)?,
            events_triggered: r.get(5)?,
        };
        batch.rows.push(row);
        flush_if_full(&mut batch, send)?;
    }
    flush_rest(batch, send)
}
