//! A website's rows over a time window, for bulk exports, handed over in [`Batch`]es on a
//! bounded channel, so memory holds a few batches whatever the export's size. URLs and visitor
//! ids are looked up once and kept in bounded maps (visits cluster in time, so nearly every
//! lookup is a hit).
//!
//! Rows come in the order they were stored (arrival order: time order for live traffic). When
//! the website is the only one with data, the tables are read straight through, which is three
//! times faster than visiting each row through the time index; otherwise the time index keeps
//! other websites' rows out of the read.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use ferry_domain::Millis;
use ferry_domain::bulk::{BATCH_ROWS, Batch, BulkCounts, BulkEvent, BulkPageview, BulkSession};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::conn::{Pool, READER_CACHE_KIB};
use crate::{BatchReceiver, StoreError};

/// Batches waiting in a stream's channel: enough to keep the writer busy while SQLite reads.
pub(crate) const QUEUED_BATCHES: usize = 4;
/// A batch is sent early once its text passes this, so long rows cannot swell it.
const BATCH_TEXT: usize = 1 << 20;
/// Entries kept per lookup map before it is cleared.
const CACHE_ENTRIES: usize = 200_000;

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
pub(crate) fn batches<R, Q>(pool: &Arc<Pool>, query: Q) -> BatchReceiver<R>
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
    receiver
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

/// Hashes an integer key with one multiplication (Fibonacci hashing): row keys are dense and
/// need no protection from chosen collisions here.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Text by key, looked up once per key while the map stays under [`CACHE_ENTRIES`].
struct Lookup<'c> {
    stmt: Statement<'c>,
    known: HashMap<i64, Box<str>, BuildHasherDefault<KeyHasher>>,
}

impl<'c> Lookup<'c> {
    fn new(conn: &'c Connection, sql: &str) -> Result<Self, StoreError> {
        Ok(Lookup {
            stmt: conn.prepare(sql)?,
            known: HashMap::default(),
        })
    }

    fn get(&mut self, key: i64) -> Result<&str, StoreError> {
        if self.known.len() >= CACHE_ENTRIES && !self.known.contains_key(&key) {
            self.known.clear();
        }
        match self.known.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                let text: String = self.stmt.query_row([key], |r| r.get(0))?;
                Ok(e.insert(text.into_boxed_str()))
            }
        }
    }
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
fn access(conn: &Connection, website: i64, time_index: &str) -> Result<String, StoreError> {
    Ok(if shares_tables(conn, website)? {
        format!("INDEXED BY {time_index}")
    } else {
        "NOT INDEXED".into()
    })
}

/// The lookups one reader keeps across the chunks it reads.
pub(crate) struct Lookups<'c> {
    urls: Lookup<'c>,
    visitors: Lookup<'c>,
}

impl<'c> Lookups<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Lookups {
            urls: Lookup::new(conn, "SELECT url FROM urls WHERE pk = ?1")?,
            visitors: Lookup::new(conn, "SELECT visitor_id FROM visitors WHERE pk = ?1")?,
        })
    }
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
        let url = batch.span(Some(lookups.urls.get(r.get(1)?)?));
        let row = BulkPageview {
            timestamp: r.get(0)?,
            url,
            title: batch.span(text(r.get_ref(2)?)),
            referrer: batch.span(text(r.get_ref(3)?)),
            device: batch.span(text(r.get_ref(4)?)),
            browser: batch.span(text(r.get_ref(5)?)),
            country: batch.span(text(r.get_ref(6)?)),
            visitor_id: batch.span(Some(lookups.visitors.get(r.get(7)?)?)),
            session: r.get(8)?,
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
            visitor_id: batch.span(Some(lookups.visitors.get(r.get(3)?)?)),
            session: r.get(4)?,
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
    let mut visitors = Lookup::new(conn, "SELECT visitor_id FROM visitors WHERE pk = ?1")?;
    let mut stmt = conn.prepare(
        "SELECT pk, visitor_pk, started_at, ended_at, pages_viewed, events_triggered
         FROM sessions INDEXED BY sessions_range
         WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3 ORDER BY started_at",
    )?;
    let mut rows = stmt.query(params![website, start, end])?;
    let mut batch = Batch::with_capacity(BATCH_ROWS);
    while let Some(r) = rows.next()? {
        let row = BulkSession {
            session: r.get(0)?,
            visitor_id: batch.span(Some(visitors.get(r.get(1)?)?)),
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

/// Every property key of the window's events, sorted: the events CSV's columns. Read in Rust
/// (keys borrowed from the stored text, values skipped): several times faster than SQLite's
/// `json_each`, which builds a row per property.
pub(crate) fn event_keys(
    conn: &Connection,
    website: &str,
    (start, end): (Millis, Millis),
) -> Result<Vec<String>, StoreError> {
    let website = website_pk(conn, website)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT properties FROM events {} WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3",
        access(conn, website, "events_range")?
    ))?;
    let mut rows = stmt.query(params![website, start, end])?;
    let mut keys = std::collections::BTreeSet::<String>::new();
    let mut previous = Vec::new();
    while let Some(r) = rows.next()? {
        let ValueRef::Text(text) = r.get_ref(0)? else {
            continue;
        };
        // Events of one kind repeat the same properties text often enough to skip.
        if text == b"{}" || text == previous.as_slice() {
            continue;
        }
        previous.clear();
        previous.extend_from_slice(text);
        match serde_json::from_slice::<std::collections::BTreeMap<&str, serde::de::IgnoredAny>>(
            text,
        ) {
            Ok(map) => {
                for key in map.keys() {
                    if !keys.contains(*key) {
                        keys.insert((*key).to_string());
                    }
                }
            }
            // A key with escapes cannot be borrowed: read this one whole.
            Err(_) => {
                if let Ok(map) =
                    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(text)
                {
                    keys.extend(map.into_iter().map(|(k, _)| k));
                }
            }
        }
    }
    Ok(keys.into_iter().collect())
}

/// Rows in the window, counted through the covering indexes, for progress estimates.
pub(crate) fn counts(
    conn: &Connection,
    website: &str,
    (start, end): (Millis, Millis),
) -> Result<BulkCounts, StoreError> {
    let website = website_pk(conn, website)?;
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, params![website, start, end], |r| r.get(0))?)
    };
    Ok(BulkCounts {
        pageviews: count(
            "SELECT count(*) FROM pageviews INDEXED BY pageviews_range
             WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3",
        )?,
        events: count(
            "SELECT count(*) FROM events INDEXED BY events_range
             WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3",
        )?,
        sessions: count(
            "SELECT count(*) FROM sessions INDEXED BY sessions_range
             WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3",
        )?,
        visitors: count(
            "SELECT count(DISTINCT visitor_pk) FROM sessions INDEXED BY sessions_range
             WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3",
        )?,
    })
}

/// When the website's first session started, if it has any.
pub(crate) fn first_activity(
    conn: &Connection,
    website: &str,
) -> Result<Option<Millis>, StoreError> {
    let website = website_pk(conn, website)?;
    Ok(conn.query_row(
        "SELECT min(started_at) FROM sessions INDEXED BY sessions_range WHERE website_pk = ?1",
        [website],
        |r| r.get(0),
    )?)
}
