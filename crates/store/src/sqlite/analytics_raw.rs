//! The analytics answers computed from the raw rows: the reference the rollups are tested
//! against, the answer for days the 15-minute buckets cannot make up (historic local mean
//! time), and the exact visitor counts where they fit the budget (`rollup_read`). Each is
//! bounded by an index range on (website, time), but grows with the rows in the range.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals};
use ferry_domain::{DateRange, DayWindow, Website};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, cursor};

pub(super) fn website_pk(conn: &Connection, website: &Website) -> Result<i64, StoreError> {
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
        visitors_estimated: false,
    };
    Ok((totals, points))
}

pub(super) fn ratio(part: f64, whole: f64) -> f64 {
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
pub(super) struct SessionSums {
    count: u64,
    pub(super) visitors: u64,
    bounces: u64,
    duration_ms: i64,
}

/// One pass over the sessions index in start order: counts, distinct visitors per day and
/// overall, bounces and durations. (SQL's count(DISTINCT) builds a B-tree per query and was
/// several times slower on a million sessions.)
pub(super) fn sessions_per_day(
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

pub(crate) fn pages(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<PageRow>, StoreError> {
    let pk = website_pk(conn, website)?;
    let (start, end) = range.bounds(website.timezone);
    // Ordered by (pageviews desc, url asc): the cursor is the last row's pair; checked before
    // any work.
    page_cursor(after)?;
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
    let counted = views
        .into_iter()
        .map(|(url, n)| (url, (n, uniques.get(&url).copied().unwrap_or(0))))
        .collect();
    finish_pages(conn, pk, counted, after, limit, false)
}

/// Decodes a pages cursor: the last row's (pageviews, url).
fn page_cursor(after: Option<&str>) -> Result<Option<(u64, String)>, StoreError> {
    let Some(c) = after else { return Ok(None) };
    let text = cursor::decode(c, "pages")?;
    let (views, url) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
    Ok(Some((
        views.parse().map_err(|_| StoreError::InvalidCursor)?,
        url.to_string(),
    )))
}

/// One page of the list from (url_pk → (page views, unique visitors)), most viewed first.
pub(super) fn finish_pages(
    conn: &Connection,
    pk: i64,
    counted: HashMap<i64, (u64, u64)>,
    after: Option<&str>,
    limit: u32,
    estimated: bool,
) -> Result<Page<PageRow>, StoreError> {
    let after = page_cursor(after)?;
    let views = counted;
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
        .map(|(url_pk, (pageviews, unique_visitors))| PageRow {
            url: names.remove(&url_pk).unwrap_or_default(),
            pageviews,
            unique_visitors,
            unique_visitors_estimated: estimated,
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
