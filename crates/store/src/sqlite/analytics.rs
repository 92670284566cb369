//! The analytics queries. Every one is bounded by an index range on (website, time) or
//! (website, visitor); none scans a table.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals, VisitorRow};
use ferry_domain::{DateRange, DayWindow, Millis, Website};
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
    let windows = range.windows(website.timezone);
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
    count_per_day(
        conn,
        pk,
        &windows,
        "pageviews",
        |p, n| p.pageviews = n,
        &mut points,
    )?;
    count_per_day(
        conn,
        pk,
        &windows,
        "events",
        |p, n| p.events = n,
        &mut points,
    )?;
    let sessions = sessions_per_day(conn, pk, &windows, &mut points)?;
    let totals = Totals {
        pageviews: points.iter().map(|p| p.pageviews).sum(),
        events: points.iter().map(|p| p.events).sum(),
        visitors: sessions.visitors,
        sessions: sessions.count,
        bounce_rate: ratio(sessions.bounces as f64, sessions.count as f64),
        avg_session_duration: ratio(sessions.duration_ms as f64 / 1000.0, sessions.count as f64),
    };
    Ok((totals, points))
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        return 0.0;
    }
    ((part / whole) * 10_000.0).round() / 10_000.0
}

/// Rows of `table` per local day. The day bounds come from Rust (time zones, DST) as a VALUES
/// list of integers, so each day is one range of a covering index.
fn count_per_day(
    conn: &Connection,
    pk: i64,
    windows: &[DayWindow],
    table: &str,
    set: impl Fn(&mut DayPoint, u64),
    points: &mut [DayPoint],
) -> Result<(), StoreError> {
    let mut days = String::from("WITH days(d, s, e) AS (VALUES ");
    for (i, w) in windows.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        write!(days, "{sep}({i},{},{})", w.start, w.end).expect("writing to a String");
    }
    let sql = format!(
        "{days}) SELECT d, count(*) FROM days JOIN {table} t
         ON t.website_pk = ?1 AND t.ts >= days.s AND t.ts < days.e GROUP BY d"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([pk])?;
    while let Some(row) = rows.next()? {
        let (d, n): (usize, u64) = (row.get(0)?, row.get(1)?);
        set(&mut points[d], n);
    }
    Ok(())
}

#[derive(Default)]
struct SessionSums {
    count: u64,
    visitors: u64,
    bounces: u64,
    duration_ms: i64,
}

/// One pass over the sessions index in start order: counts, distinct visitors per day and
/// overall, bounces and durations. (SQL's count(DISTINCT) builds a B-tree per query and was
/// several times slower on a million sessions.)
fn sessions_per_day(
    conn: &Connection,
    pk: i64,
    windows: &[DayWindow],
    points: &mut [DayPoint],
) -> Result<SessionSums, StoreError> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(SessionSums::default());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT started_at, visitor_pk, ended_at - started_at, pages_viewed = 1 AND events_triggered = 0
         FROM sessions WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3
         ORDER BY started_at",
    )?;
    let mut rows = stmt.query(params![pk, first.start, last.end])?;
    let mut sums = SessionSums::default();
    let mut everyone = HashSet::new();
    let mut today = HashSet::new();
    let mut day = 0;
    while let Some(row) = rows.next()? {
        let started: i64 = row.get(0)?;
        while started >= windows[day].end {
            points[day].visitors = today.len() as u64;
            today.clear();
            day += 1;
        }
        let visitor: i64 = row.get(1)?;
        points[day].sessions += 1;
        today.insert(visitor);
        everyone.insert(visitor);
        sums.count += 1;
        sums.duration_ms += row.get::<_, i64>(2)?;
        sums.bounces += u64::from(row.get::<_, bool>(3)?);
    }
    points[day].visitors = today.len() as u64;
    sums.visitors = everyone.len() as u64;
    Ok(sums)
}

/// Visitors with a session started in `?2..?3` on website `?1`, after visitor key `?4`, at most
/// `?5` (-1: all), in key order; shared by the paged API list and the bulk export.
const VISITORS_SQL: &str = "SELECT agg.visitor_pk, v.visitor_id,
        (SELECT min(started_at) FROM sessions s INDEXED BY sessions_visitor
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk),
        (SELECT max(ended_at) FROM sessions s INDEXED BY sessions_visitor
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk),
        v.device, v.browser, v.country,
        u.user_id, u.email, agg.sessions,
        (SELECT count(*) FROM sessions s INDEXED BY sessions_visitor
          JOIN pageviews p ON p.session_pk = s.pk AND p.ts >= ?2 AND p.ts < ?3
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk)
 FROM (SELECT visitor_pk, count(*) AS sessions FROM sessions
       WHERE website_pk = ?1 AND visitor_pk > ?4 AND started_at >= ?2 AND started_at < ?3
       GROUP BY visitor_pk ORDER BY visitor_pk LIMIT ?5) agg
 JOIN visitors v ON v.pk = agg.visitor_pk
 LEFT JOIN users u ON u.pk = v.user_pk
 ORDER BY agg.visitor_pk";

/// [`VISITORS_SQL`]'s rows for every visitor at once, in one pass over the website's sessions
/// in visitor order instead of three lookups per visitor. A session wholly inside the window
/// counts its `pages_viewed`; only one that straddles an edge has its page views counted.
const EACH_VISITOR_SQL: &str = "SELECT agg.visitor_pk, v.visitor_id, agg.first_seen, agg.last_seen,
        v.device, v.browser, v.country, u.user_id, u.email, agg.sessions, agg.pageviews
 FROM (SELECT s.visitor_pk,
         min(s.started_at) AS first_seen, max(s.ended_at) AS last_seen,
         sum(s.started_at >= ?2 AND s.started_at < ?3) AS sessions,
         sum(CASE WHEN s.started_at >= ?2 AND s.ended_at < ?3 THEN s.pages_viewed
                  WHEN s.ended_at < ?2 OR s.started_at >= ?3 THEN 0
                  ELSE (SELECT count(*) FROM pageviews p
                        WHERE p.session_pk = s.pk AND p.ts >= ?2 AND p.ts < ?3) END) AS pageviews
       FROM sessions s INDEXED BY sessions_visitor
       WHERE s.website_pk = ?1
       GROUP BY s.visitor_pk) agg
 JOIN visitors v ON v.pk = agg.visitor_pk
 LEFT JOIN users u ON u.pk = v.user_pk
 WHERE agg.sessions > 0
 ORDER BY agg.visitor_pk";

fn visitor_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, VisitorRow)> {
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
}

/// Every visitor of [`VISITORS_SQL`], for a bulk export.
pub(crate) fn each_visitor(
    conn: &Connection,
    website_pk: i64,
    (start, end): (Millis, Millis),
    each: &mut dyn FnMut(VisitorRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(EACH_VISITOR_SQL)?;
    let mut rows = stmt.query(params![website_pk, start, end])?;
    while let Some(r) = rows.next()? {
        each(visitor_row(r)?.1)?;
    }
    Ok(())
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
    let mut stmt = conn.prepare_cached(VISITORS_SQL)?;
    let mut rows = stmt
        .query_map(
            params![pk, start, end, after_pk, i64::from(limit) + 1],
            visitor_row,
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
    let after: Option<(u64, String)> = match after {
        None => None,
        Some(c) => {
            let text = cursor::decode(c, "pages")?;
            let (views, url) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
            Some((
                views.parse().map_err(|_| StoreError::InvalidCursor)?,
                url.to_string(),
            ))
        }
    };
    // One pass over the covering index, aggregated here: grouping a million rows by URL with a
    // distinct count took SQLite over a second.
    let mut views: HashMap<i64, u64> = HashMap::new();
    let mut pairs: HashSet<(i64, i64)> = HashSet::new();
    let mut stmt = conn.prepare_cached(
        "SELECT url_pk, visitor_pk FROM pageviews WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3",
    )?;
    let mut rows = stmt.query(params![pk, start, end])?;
    while let Some(row) = rows.next()? {
        let (url, visitor): (i64, i64) = (row.get(0)?, row.get(1)?);
        *views.entry(url).or_default() += 1;
        pairs.insert((url, visitor));
    }
    let mut uniques: HashMap<i64, u64> = HashMap::new();
    for (url, _) in pairs {
        *uniques.entry(url).or_default() += 1;
    }
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT pk, url FROM urls WHERE website_pk = ?1")?;
    let mut rows = stmt.query([pk])?;
    while let Some(row) = rows.next()? {
        let url_pk: i64 = row.get(0)?;
        if views.contains_key(&url_pk) {
            names.insert(url_pk, row.get(1)?);
        }
    }
    let mut all: Vec<PageRow> = views
        .into_iter()
        .map(|(url_pk, pageviews)| PageRow {
            url: names.remove(&url_pk).unwrap_or_default(),
            pageviews,
            unique_visitors: uniques.get(&url_pk).copied().unwrap_or(0),
        })
        .filter(|row| match &after {
            None => true,
            Some((v, u)) => row.pageviews < *v || (row.pageviews == *v && row.url > *u),
        })
        .collect();
    all.sort_unstable_by(|a, b| {
        b.pageviews
            .cmp(&a.pageviews)
            .then_with(|| a.url.cmp(&b.url))
    });
    all.truncate(limit as usize + 1);
    let next_cursor = if all.len() > limit as usize {
        all.truncate(limit as usize);
        all.last()
            .map(|row| cursor::encode(&format!("pages:{}:{}", row.pageviews, row.url)))
    } else {
        None
    };
    Ok(Page {
        data: all,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use ferry_domain::{Activity, ActivityKind, IngestLine, Plan, ValidWebsite};

    const MINUTE: Millis = 60_000;
    const DAY: Millis = 86_400_000;

    fn pageview(visitor: &str, at: Millis) -> IngestLine {
        IngestLine::Activity(Activity {
            website_id: "web_t".into(),
            visitor_id: visitor.into(),
            at,
            kind: ActivityKind::Pageview {
                url: "https://t.example/".into(),
                title: None,
                referrer: None,
            },
            device: None,
            browser: None,
            country: None,
        })
    }

    #[tokio::test]
    async fn the_one_pass_visitor_list_equals_the_paged_one_at_the_windows_edges() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SqliteStore::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        let account = store.create_account("t", Plan::Pro).await.unwrap();
        let valid = ValidWebsite {
            domain: "t.example".into(),
            timezone: chrono_tz::UTC,
            retention_days: None,
        };
        store
            .create_website(account.id, "web_t", valid)
            .await
            .unwrap();
        let (day2, day3) = (2 * DAY, 3 * DAY);
        let lines = vec![
            // A session from the day before into day 2: not started in day 2.
            pageview("across-start", day2 - 10 * MINUTE),
            pageview("across-start", day2 + 5 * MINUTE),
            // Starts in day 2 and runs into day 3: one of its two page views counts.
            pageview("across-end", day3 - 2 * MINUTE),
            pageview("across-end", day3 + 3 * MINUTE),
            // An older session, then one wholly inside day 2.
            pageview("returning", DAY + 60 * MINUTE),
            pageview("returning", day2 + 60 * MINUTE),
            pageview("returning", day2 + 65 * MINUTE),
            pageview("returning", day2 + 70 * MINUTE),
            pageview("elsewhere", 5 * DAY),
        ];
        store.ingest(None, lines, 6 * DAY).await.unwrap();
        let website = store.website(account.id, "web_t").await.unwrap().unwrap();
        let range = DateRange {
            from: chrono::NaiveDate::from_ymd_opt(1970, 1, 3).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(1970, 1, 3).unwrap(),
        };
        let (paged, each) = store
            .pool
            .read(move |c| {
                let paged = visitors(c, &website, range, None, 100)?.data;
                let pk = website_pk(c, &website)?;
                let mut each = Vec::new();
                each_visitor(c, pk, range.bounds(website.timezone), &mut |row| {
                    each.push(row);
                    Ok(())
                })?;
                Ok((paged, each))
            })
            .await
            .unwrap();
        let summary: Vec<(String, u64, u64)> = each
            .iter()
            .map(|v| (v.visitor_id.clone(), v.sessions, v.pageviews))
            .collect();
        assert_eq!(
            summary,
            [
                ("across-end".to_string(), 1, 1),
                ("returning".to_string(), 1, 3)
            ]
        );
        assert_eq!(each, paged);
    }
}
