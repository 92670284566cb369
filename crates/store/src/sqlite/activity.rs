//! One visitor's sessions, page views and events, newest first, a page at a time. Keyset
//! paging on `(time, pk)` descending: a cursor names the last row shown, so a page costs the
//! same however deep it is, and rows arriving meanwhile never shift what the next page holds.
//! The rows are found through the visitor's sessions (`sessions_visitor`) and each session's
//! rows (`pageviews_session`, `events_session`), as a person's export finds them.

use async_trait::async_trait;
use ferry_domain::Millis;
use ferry_domain::analytics::Page;
use ferry_domain::export::{EventRow, PageviewRow, SessionRow};
use rusqlite::{Connection, Row, params};
use serde_json::{Map, Value};

use super::SqliteStore;
use crate::{StoreError, VisitorActivity, cursor};

const SESSIONS_OF: &str = "FROM visitors vv
     JOIN sessions s INDEXED BY sessions_visitor ON s.website_pk = vv.website_pk AND s.visitor_pk = vv.pk";

/// The `(time, pk)` after which a page starts; no cursor: from the newest row.
fn after(tag: &str, given: Option<&str>) -> Result<(Millis, i64), StoreError> {
    let Some(given) = given else {
        return Ok((Millis::MAX, i64::MAX));
    };
    let text = cursor::decode(given, tag)?;
    let (at, pk) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
    Ok((
        at.parse().map_err(|_| StoreError::InvalidCursor)?,
        pk.parse().map_err(|_| StoreError::InvalidCursor)?,
    ))
}

/// Runs `sql` (`?1` visitor, `?2`/`?3` the cursor's time and pk, `?4` the limit; yielding
/// time and pk first) and reads one more row than asked for, to know whether a page follows.
fn paged<T>(
    conn: &Connection,
    tag: &str,
    sql: &str,
    visitor: i64,
    given: Option<&str>,
    limit: u32,
    read: impl Fn(&Row) -> rusqlite::Result<T>,
) -> Result<Page<T>, StoreError> {
    let (at, pk) = after(tag, given)?;
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params![visitor, at, pk, i64::from(limit) + 1])?;
    let (mut data, mut last) = (Vec::new(), None);
    while let Some(r) = rows.next()? {
        if data.len() == limit as usize {
            let (at, pk): (Millis, i64) = last.expect("a full page has a last row");
            return Ok(Page {
                data,
                next_cursor: Some(cursor::encode(&format!("{tag}:{at}:{pk}"))),
            });
        }
        last = Some((r.get(0)?, r.get(1)?));
        data.push(read(r)?);
    }
    Ok(Page {
        data,
        next_cursor: None,
    })
}

#[async_trait]
impl VisitorActivity for SqliteStore {
    async fn visitor_sessions(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<SessionRow>, StoreError> {
        let cursor = cursor.map(str::to_string);
        self.pool
            .read(move |c| {
                let ids = super::session_ids::load(c)?;
                let sql = format!(
                    "SELECT s.started_at, s.pk, s.ended_at, s.pages_viewed, s.events_triggered, w.public_id
                     {SESSIONS_OF}
                     JOIN websites w ON w.pk = s.website_pk
                     WHERE vv.pk = ?1 AND (s.started_at < ?2 OR (s.started_at = ?2 AND s.pk < ?3))
                     ORDER BY s.started_at DESC, s.pk DESC LIMIT ?4"
                );
                paged(c, "vsessions", &sql, visitor, cursor.as_deref(), limit, |r| {
                    Ok(SessionRow {
                        session_id: ids.label(r.get(1)?),
                        started_at: r.get(0)?,
                        ended_at: r.get(2)?,
                        pages_viewed: r.get(3)?,
                        events_triggered: r.get(4)?,
                        website_id: r.get(5)?,
                    })
                })
            })
            .await
    }

    async fn visitor_pageviews(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageviewRow>, StoreError> {
        let cursor = cursor.map(str::to_string);
        self.pool
            .read(move |c| {
                let sql = format!(
                    "SELECT p.ts, p.pk, u.url, p.title, p.referrer, p.device, p.browser, p.country, w.public_id
                     {SESSIONS_OF}
                     JOIN pageviews p INDEXED BY pageviews_session ON p.session_pk = s.pk
                     JOIN urls u ON u.pk = p.url_pk
                     JOIN websites w ON w.pk = p.website_pk
                     WHERE vv.pk = ?1 AND (p.ts < ?2 OR (p.ts = ?2 AND p.pk < ?3))
                     ORDER BY p.ts DESC, p.pk DESC LIMIT ?4"
                );
                paged(c, "vpageviews", &sql, visitor, cursor.as_deref(), limit, |r| {
                    Ok(PageviewRow {
                        timestamp: r.get(0)?,
                        url: r.get(2)?,
                        title: r.get(3)?,
                        referrer: r.get(4)?,
                        device: r.get(5)?,
                        browser: r.get(6)?,
                        country: r.get(7)?,
                        website_id: r.get(8)?,
                    })
                })
            })
            .await
    }

    async fn visitor_events(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<EventRow>, StoreError> {
        let cursor = cursor.map(str::to_string);
        self.pool
            .read(move |c| {
                let sql = format!(
                    "SELECT e.ts, e.pk, e.name, e.properties, w.public_id
                     {SESSIONS_OF}
                     JOIN events e INDEXED BY events_session ON e.session_pk = s.pk
                     JOIN websites w ON w.pk = e.website_pk
                     WHERE vv.pk = ?1 AND (e.ts < ?2 OR (e.ts = ?2 AND e.pk < ?3))
                     ORDER BY e.ts DESC, e.pk DESC LIMIT ?4"
                );
                paged(c, "vevents", &sql, visitor, cursor.as_deref(), limit, |r| {
                    let properties: String = r.get(3)?;
                    Ok(EventRow {
                        timestamp: r.get(0)?,
                        name: r.get(2)?,
                        properties: serde_json::from_str::<Map<String, Value>>(&properties)
                            .unwrap_or_default(),
                        website_id: r.get(4)?,
                    })
                })
            })
            .await
    }
}
