//! What a bulk export learns about its window besides the rows: the events' property keys
//! (the CSV columns), the rows to expect (for progress) and where the website's data starts.

use std::collections::{BTreeMap, BTreeSet};

use ferry_domain::Millis;
use ferry_domain::bulk::BulkCounts;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use super::bulk::{access, website_pk};
use crate::StoreError;

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
    let mut keys = BTreeSet::<String>::new();
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
        match serde_json::from_slice::<BTreeMap<&str, serde::de::IgnoredAny>>(text) {
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
