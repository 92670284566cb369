//! The analytics queries. Every one is bounded by an index range on (website, time) or
//! (website, visitor); none scans a table.

use std::fmt::Write as _;

use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals, VisitorRow};
use ferry_domain::{DateRange, Website};
use rusqlite::{Connection, OptionalExtension, params};

use super::convert::opt_time;
use crate::{StoreError, cursor};

fn website_pk(conn: &Connection, website: &Website) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT pk FROM websites WHERE public_id = ?1")?
        .query_row([&website.id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Conflict(format!("website {} was deleted", website.id)))
}

pub(crate) fn totals(
    conn: &Connection,
    website: &Website,
    range: DateRange,
) -> Result<(Totals, Vec<DayPoint>), StoreError> {
    let pk = website_pk(conn, website)?;
    let (start, end) = range.bounds(website.timezone);
    let count = |table: &str| -> Result<u64, StoreError> {
        let sql =
            format!("SELECT count(*) FROM {table} WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3");
        Ok(conn
            .prepare_cached(&sql)?
            .query_row(params![pk, start, end], |r| r.get(0))?)
    };
    let pageviews = count("pageviews")?;
    let events = count("events")?;
    let (sessions, visitors, bounces, avg_duration): (u64, u64, u64, Option<f64>) = conn
        .prepare_cached(
            "SELECT count(*), count(DISTINCT visitor_pk),
                    coalesce(sum(pages_viewed = 1 AND events_triggered = 0), 0),
                    avg(ended_at - started_at)
             FROM sessions WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3",
        )?
        .query_row(params![pk, start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let totals = Totals {
        pageviews,
        visitors,
        sessions,
        events,
        bounce_rate: if sessions == 0 {
            0.0
        } else {
            round4(bounces as f64 / sessions as f64)
        },
        avg_session_duration: round4(avg_duration.unwrap_or(0.0) / 1000.0),
    };
    Ok((totals, series(conn, pk, website, range)?))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// One point per local day. The day bounds come from Rust (time zones, DST) as a VALUES list of
/// integers, so each day is one index range.
fn series(
    conn: &Connection,
    pk: i64,
    website: &Website,
    range: DateRange,
) -> Result<Vec<DayPoint>, StoreError> {
    let windows = range.windows(website.timezone);
    let mut days = String::from("WITH days(d, s, e) AS (VALUES ");
    for (i, w) in windows.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        write!(days, "{sep}({i},{},{})", w.start, w.end).expect("writing to a String");
    }
    days.push(')');
    let mut points: Vec<DayPoint> = windows
        .iter()
        .map(|w| DayPoint {
            date: w.date,
            pageviews: 0,
            visitors: 0,
            sessions: 0,
            events: 0,
        })
        .collect();
    for table in ["pageviews", "events"] {
        let sql = format!(
            "{days} SELECT d, count(*) FROM days JOIN {table} t
             ON t.website_pk = ?1 AND t.ts >= days.s AND t.ts < days.e GROUP BY d"
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([pk])?;
        while let Some(row) = rows.next()? {
            let (d, n): (usize, u64) = (row.get(0)?, row.get(1)?);
            match table {
                "pageviews" => points[d].pageviews = n,
                _ => points[d].events = n,
            }
        }
    }
    let sql = format!(
        "{days} SELECT d, count(*), count(DISTINCT visitor_pk) FROM days JOIN sessions t
         ON t.website_pk = ?1 AND t.started_at >= days.s AND t.started_at < days.e GROUP BY d"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([pk])?;
    while let Some(row) = rows.next()? {
        let d: usize = row.get(0)?;
        points[d].sessions = row.get(1)?;
        points[d].visitors = row.get(2)?;
    }
    Ok(points)
}

pub(crate) fn visitors(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<VisitorRow>, StoreError> {
    let pk = website_pk(conn, website)?;
    let (start, end) = range.bounds(website.timezone);
    let after_pk: i64 = match after {
        None => 0,
        Some(c) => cursor::decode(c, "visitors")?
            .parse()
            .map_err(|_| StoreError::InvalidCursor)?,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT agg.visitor_pk, v.visitor_id, v.first_seen, v.last_seen, v.device, v.browser, v.country,
                u.user_id, u.email, agg.sessions,
                (SELECT count(*) FROM pageviews p
                  WHERE p.visitor_pk = agg.visitor_pk AND p.ts >= ?2 AND p.ts < ?3)
         FROM (SELECT visitor_pk, count(*) AS sessions FROM sessions
               WHERE website_pk = ?1 AND visitor_pk > ?4 AND started_at >= ?2 AND started_at < ?3
               GROUP BY visitor_pk ORDER BY visitor_pk LIMIT ?5) agg
         JOIN visitors v ON v.pk = agg.visitor_pk
         LEFT JOIN users u ON u.pk = v.user_pk
         ORDER BY agg.visitor_pk",
    )?;
    let mut rows = stmt
        .query_map(
            params![pk, start, end, after_pk, i64::from(limit) + 1],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    VisitorRow {
                        visitor_id: r.get(1)?,
                        first_seen: opt_time(r.get(2)?),
                        last_seen: opt_time(r.get(3)?),
                        device: r.get(4)?,
                        browser: r.get(5)?,
                        country: r.get(6)?,
                        user_id: r.get(7)?,
                        email: r.get(8)?,
                        sessions: r.get(9)?,
                        pageviews: r.get(10)?,
                    },
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|(pk, _)| cursor::encode(&format!("visitors:{pk}")))
    } else {
        None
    };
    Ok(Page {
        data: rows.into_iter().map(|(_, row)| row).collect(),
        next_cursor,
    })
}

pub(crate) fn pages(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<PageRow>, StoreError> {
    let pk = website_pk(conn, website)?;
    let (start, end) = range.bounds(website.timezone);
    // Ordered by (pageviews desc, url asc): the cursor is the last row's pair.
    let (after_views, after_url): (Option<i64>, String) = match after {
        None => (None, String::new()),
        Some(c) => {
            let text = cursor::decode(c, "pages")?;
            let (views, url) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
            (
                Some(views.parse().map_err(|_| StoreError::InvalidCursor)?),
                url.to_string(),
            )
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT url, count(*) AS views, count(DISTINCT visitor_pk) FROM pageviews
         WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY url
         HAVING ?4 IS NULL OR views < ?4 OR (views = ?4 AND url > ?5)
         ORDER BY views DESC, url ASC LIMIT ?6",
    )?;
    let mut rows = stmt
        .query_map(
            params![pk, start, end, after_views, after_url, i64::from(limit) + 1],
            |r| {
                Ok(PageRow {
                    url: r.get(0)?,
                    pageviews: r.get(1)?,
                    unique_visitors: r.get(2)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|row| cursor::encode(&format!("pages:{}:{}", row.pageviews, row.url)))
    } else {
        None
    };
    Ok(Page {
        data: rows,
        next_cursor,
    })
}
