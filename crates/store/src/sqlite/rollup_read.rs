//! The summary and the pages list read from the rollups (`rollups`): one row per 15-minute
//! bucket (per URL for pages) in the range, summed into local days.
//!
//! Which answers are exact: page views, events, sessions, bounce rate and average duration
//! always. Distinct visitors are counted exactly from the sessions while the range holds at
//! most [`EXACT_VISITORS_MAX_SESSIONS`] sessions (pages: [`EXACT_PAGES_MAX_VIEWS`] page
//! views), which fits the time budget; past that they are merged from the buckets' HyperLogLog
//! sketches and the answer says `visitors_estimated` / `unique_visitors_estimated`.

use std::collections::HashMap;

use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals};
use ferry_domain::{DateRange, DayWindow, Website};
use rusqlite::{Connection, params};

use super::analytics_raw::{self as raw, ratio, website_pk};
use super::hll::Sketch;
use super::rollups::{BUCKET_MS, bucket};
use crate::StoreError;

/// Sessions in the range up to which visitors are counted exactly (about 30 ms of scanning).
pub(crate) const EXACT_VISITORS_MAX_SESSIONS: u64 = 100_000;
/// Page views in the range up to which a URL's unique visitors are counted exactly.
pub(crate) const EXACT_PAGES_MAX_VIEWS: u64 = 100_000;

fn aligned(at: i64) -> bool {
    at.rem_euclid(BUCKET_MS) == 0
}

pub(crate) fn totals(
    conn: &Connection,
    website: &Website,
    range: DateRange,
) -> Result<(Totals, Vec<DayPoint>), StoreError> {
    totals_with(conn, website, range, EXACT_VISITORS_MAX_SESSIONS)
}

/// [`totals`] with the exact-visitors limit as a parameter (tests reach the sketches with 0).
pub(crate) fn totals_with(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    exact_max_sessions: u64,
) -> Result<(Totals, Vec<DayPoint>), StoreError> {
    let windows = range.windows(website.timezone);
    if !windows.iter().all(|w| aligned(w.start) && aligned(w.end)) {
        return raw::totals(conn, website, range);
    }
    let pk = website_pk(conn, website)?;
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
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok((empty_totals(), points));
    };
    let (from, to) = (bucket(first.start), bucket(last.end));
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, pageviews, events, sessions, bounces, duration_ms FROM rollup_buckets
         WHERE website_pk = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket",
    )?;
    let mut rows = stmt.query(params![pk, from, to])?;
    let (mut bounces, mut duration_ms) = (0i64, 0i64);
    let mut day = 0;
    while let Some(row) = rows.next()? {
        let b: i64 = row.get(0)?;
        day = day_of(&windows, day, b);
        let p = &mut points[day];
        p.pageviews += row.get::<_, i64>(1)? as u64;
        p.events += row.get::<_, i64>(2)? as u64;
        p.sessions += row.get::<_, i64>(3)? as u64;
        bounces += row.get::<_, i64>(4)?;
        duration_ms += row.get::<_, i64>(5)?;
    }
    let sessions: u64 = points.iter().map(|p| p.sessions).sum();
    let estimated = sessions > exact_max_sessions;
    let visitors = if estimated {
        estimated_visitors(conn, pk, &windows, (from, to), &mut points)?
    } else {
        // The exact scan counts each day's visitors (and its sessions again, which we have).
        let mut scanned = vec_of_zeroes(&points);
        let sums = raw::sessions_per_day(conn, pk, &windows, &mut scanned)?;
        for (p, s) in points.iter_mut().zip(scanned) {
            p.visitors = s.visitors;
        }
        sums.visitors
    };
    let totals = Totals {
        pageviews: points.iter().map(|p| p.pageviews).sum(),
        events: points.iter().map(|p| p.events).sum(),
        visitors,
        sessions,
        bounce_rate: ratio(bounces as f64, sessions as f64),
        avg_session_duration: ratio(duration_ms as f64 / 1000.0, sessions as f64),
        visitors_estimated: estimated,
    };
    Ok((totals, points))
}

fn empty_totals() -> Totals {
    Totals {
        pageviews: 0,
        visitors: 0,
        sessions: 0,
        events: 0,
        bounce_rate: 0.0,
        avg_session_duration: 0.0,
        visitors_estimated: false,
    }
}

fn vec_of_zeroes(points: &[DayPoint]) -> Vec<DayPoint> {
    points
        .iter()
        .map(|p| DayPoint {
            date: p.date,
            pageviews: 0,
            visitors: 0,
            sessions: 0,
            events: 0,
        })
        .collect()
}

/// The day (at or after `day`) whose window holds bucket `b`; buckets come in order.
fn day_of(windows: &[DayWindow], mut day: usize, b: i64) -> usize {
    while b * BUCKET_MS >= windows[day].end && day + 1 < windows.len() {
        day += 1;
    }
    day
}

/// Each day's visitors from its buckets' sketches, and the range's from the days'.
fn estimated_visitors(
    conn: &Connection,
    pk: i64,
    windows: &[DayWindow],
    (from, to): (i64, i64),
    points: &mut [DayPoint],
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, visitors FROM rollup_buckets
         WHERE website_pk = ?1 AND bucket >= ?2 AND bucket < ?3 AND visitors IS NOT NULL
         ORDER BY bucket",
    )?;
    let mut rows = stmt.query(params![pk, from, to])?;
    let mut all = Sketch::default();
    let mut today = Sketch::default();
    let mut day = 0;
    while let Some(row) = rows.next()? {
        let b: i64 = row.get(0)?;
        let next = day_of(windows, day, b);
        if next != day {
            points[day].visitors = today.estimate();
            all.merge(&today);
            today = Sketch::default();
            day = next;
        }
        if let Ok(blob) = row.get_ref(1)?.as_blob() {
            today.merge_blob(blob);
        }
    }
    points[day].visitors = today.estimate();
    all.merge(&today);
    // An estimate never claims more visitors than there were sessions.
    for p in points.iter_mut() {
        p.visitors = p.visitors.min(p.sessions);
    }
    Ok(all.estimate().min(points.iter().map(|p| p.sessions).sum()))
}

pub(crate) fn pages(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<PageRow>, StoreError> {
    pages_with(conn, website, range, after, limit, EXACT_PAGES_MAX_VIEWS)
}

/// [`pages`] with the exact-uniques limit as a parameter.
pub(crate) fn pages_with(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
    exact_max_views: u64,
) -> Result<Page<PageRow>, StoreError> {
    let (start, end) = range.bounds(website.timezone);
    if !aligned(start) || !aligned(end) {
        return raw::pages(conn, website, range, after, limit);
    }
    let pk = website_pk(conn, website)?;
    let (from, to) = (bucket(start), bucket(end));
    let views: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(pageviews), 0) FROM rollup_buckets
             WHERE website_pk = ?1 AND bucket >= ?2 AND bucket < ?3",
        )?
        .query_row(params![pk, from, to], |r| r.get(0))?;
    if views as u64 <= exact_max_views {
        return raw::pages(conn, website, range, after, limit);
    }
    let mut per_url: HashMap<i64, (u64, Sketch)> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT url_pk, views, visitors FROM rollup_pages
         WHERE website_pk = ?1 AND bucket >= ?2 AND bucket < ?3",
    )?;
    let mut rows = stmt.query(params![pk, from, to])?;
    while let Some(row) = rows.next()? {
        let url: i64 = row.get(0)?;
        let entry = per_url.entry(url).or_default();
        entry.0 += row.get::<_, i64>(1)? as u64;
        if let Ok(blob) = row.get_ref(2)?.as_blob() {
            entry.1.merge_blob(blob);
        }
    }
    let counted = per_url
        .into_iter()
        .map(|(url, (n, sketch))| (url, (n, sketch.estimate().min(n))))
        .collect();
    raw::finish_pages(conn, pk, counted, after, limit, true)
}
