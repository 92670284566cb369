//! One person's rows, oldest first, found by index only: for each of their visitors, the
//! sessions in start order (`sessions_visitor`), then each session's rows in time order
//! (`pageviews_session`, `events_session`). A visitor's sessions never overlap, so each
//! visitor's stream is already in time order; the streams are merged here rather than sorted by
//! SQLite, which would hold the whole set in memory.

use chrono::{NaiveDate, NaiveTime};
use ferry_domain::Millis;
use ferry_domain::export::{EventRow, ExportRange, PageviewRow, SessionRow};
use rusqlite::{Connection, Row, params};
use serde_json::{Map, Value};

use crate::StoreError;

/// UTC bounds of an export range; open sides are unbounded.
pub(crate) fn bounds(range: ExportRange) -> (Millis, Millis) {
    let at = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    (
        range.start.map_or(Millis::MIN, at),
        range
            .end
            .map_or(Millis::MAX, |d| at(d.succ_opt().unwrap_or(d))),
    )
}

/// Runs `sql` (which takes `?1` start, `?2` end, `?3` visitor and yields rows in time order)
/// once per visitor and hands `each` the rows of all of them in time order.
fn merged<T>(
    conn: &Connection,
    sql: &str,
    visitors: &[i64],
    range: ExportRange,
    read: impl Fn(&Row) -> rusqlite::Result<(Millis, T)>,
    each: &mut dyn FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (start, end) = bounds(range);
    let mut statements = visitors
        .iter()
        .map(|_| conn.prepare(sql))
        .collect::<Result<Vec<_>, _>>()?;
    let mut streams = statements
        .iter_mut()
        .zip(visitors)
        .map(|(stmt, visitor)| stmt.query(params![start, end, visitor]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut heads: Vec<Option<(Millis, T)>> = Vec::with_capacity(streams.len());
    for rows in &mut streams {
        heads.push(rows.next()?.map(&read).transpose()?);
    }
    // A person has a handful of visitors: a linear pick beats a heap.
    while let Some(i) = heads
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.as_ref().map(|(at, _)| (*at, i)))
        .min()
        .map(|(_, i)| i)
    {
        let next = streams[i].next()?.map(&read).transpose()?;
        let (_, row) = std::mem::replace(&mut heads[i], next).expect("picked a live head");
        each(row)?;
    }
    Ok(())
}

const SESSIONS_OF: &str = "FROM visitors vv
     JOIN sessions s INDEXED BY sessions_visitor ON s.website_pk = vv.website_pk AND s.visitor_pk = vv.pk";

pub(crate) fn pageviews(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(PageviewRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT p.ts, u.url, p.title, p.referrer, p.device, p.browser, p.country, w.public_id
         {SESSIONS_OF}
         JOIN pageviews p INDEXED BY pageviews_session ON p.session_pk = s.pk
         JOIN urls u ON u.pk = p.url_pk
         JOIN websites w ON w.pk = p.website_pk
         WHERE vv.pk = ?3 AND s.ended_at >= ?1 AND s.started_at < ?2 AND p.ts >= ?1 AND p.ts < ?2
         ORDER BY s.started_at, p.ts, p.pk"
    );
    merged(
        conn,
        &sql,
        visitors,
        range,
        |r| {
            Ok((
                r.get(0)?,
                PageviewRow {
                    timestamp: r.get(0)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    referrer: r.get(3)?,
                    device: r.get(4)?,
                    browser: r.get(5)?,
                    country: r.get(6)?,
                    website_id: r.get(7)?,
                },
            ))
        },
        each,
    )
}

pub(crate) fn events(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(EventRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT e.ts, e.name, e.properties, w.public_id
         {SESSIONS_OF}
         JOIN events e INDEXED BY events_session ON e.session_pk = s.pk
         JOIN websites w ON w.pk = e.website_pk
         WHERE vv.pk = ?3 AND s.ended_at >= ?1 AND s.started_at < ?2 AND e.ts >= ?1 AND e.ts < ?2
         ORDER BY s.started_at, e.ts, e.pk"
    );
    merged(
        conn,
        &sql,
        visitors,
        range,
        |r| {
            let properties: String = r.get(2)?;
            Ok((
                r.get(0)?,
                EventRow {
                    timestamp: r.get(0)?,
                    name: r.get(1)?,
                    properties: serde_json::from_str::<Map<String, Value>>(&properties)
                        .unwrap_or_default(),
                    website_id: r.get(3)?,
                },
            ))
        },
        each,
    )
}

pub(crate) fn sessions(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(SessionRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT s.started_at, s.pk, s.ended_at, s.pages_viewed, s.events_triggered, w.public_id
         {SESSIONS_OF}
         JOIN websites w ON w.pk = s.website_pk
         WHERE vv.pk = ?3 AND s.started_at >= ?1 AND s.started_at < ?2
         ORDER BY s.started_at, s.pk"
    );
    let ids = super::session_ids::load(conn)?;
    merged(
        conn,
        &sql,
        visitors,
        range,
        |r| {
            let pk: i64 = r.get(1)?;
            Ok((
                r.get(0)?,
                SessionRow {
                    session_id: ids.label(pk),
                    started_at: r.get(0)?,
                    ended_at: r.get(2)?,
                    pages_viewed: r.get(3)?,
                    events_triggered: r.get(4)?,
                    website_id: r.get(5)?,
                },
            ))
        },
        each,
    )
}

/// Every property key of the visitors' events in the range, sorted.
pub(crate) fn event_property_keys(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
) -> Result<Vec<String>, StoreError> {
    let (start, end) = bounds(range);
    let mut keys = std::collections::BTreeSet::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT j.key
         {SESSIONS_OF}
         JOIN events e INDEXED BY events_session ON e.session_pk = s.pk, json_each(e.properties) j
         WHERE vv.pk = ?3 AND s.ended_at >= ?1 AND s.started_at < ?2 AND e.ts >= ?1 AND e.ts < ?2"
    ))?;
    for visitor in visitors {
        let found = stmt.query_map(params![start, end, visitor], |r| r.get::<_, String>(0))?;
        for key in found {
            keys.insert(key?);
        }
    }
    Ok(keys.into_iter().collect())
}
