//! Page views per URL per local day of the website's time zone, summed also into aligned blocks
//! of 4, 16 and 64 such days (`rollup_page_days`): what the dashboard Overview's top pages read.
//!
//! Why beside the 15-minute pages rollup (`rollups`): that one keeps a row per URL per bucket
//! with a visitor sketch, so a site with thousands of URLs has millions of rows in 90 days and
//! summing them took seconds. Any range of days here is a few runs of whole blocks (90 days:
//! about a dozen blocks), so the top pages read blocks × URLs rows of a few bytes each, through
//! the primary key alone.
//!
//! Keyed by the local day of each page view, so a range of the website's days is exact in any
//! zone and on any day (DST, half-hour offsets, historic local mean time alike). A website
//! cannot change its time zone today; whatever lets it must call [`rebuild_website`].
//!
//! Kept exact in the ingest transaction ([`PageDays`], written by `RollupDelta::write`), by
//! [`rebuild_spans`] after rows are deleted (`Analytics::rebuild_rollups`), and filled for a
//! store written before it by migration 0024 ([`rebuild_all`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate};
use chrono_tz::Tz;
use ferry_domain::analytics::TopPage;
use ferry_domain::{DateRange, Millis, Website};
use rusqlite::{Connection, params};

use super::analytics_raw::website_pk;
use crate::StoreError;

/// Levels `0..LEVELS` hold blocks of 1, 4, 16 and 64 days. Each level is one more row written
/// per URL and day at ingest; with 64-day blocks a year is still under 20 blocks.
const LEVELS: u32 = 4;
/// A rebuild writes what it counted once this many (day, URL) pairs are held, so that a site
/// with a URL per page view does not hold them all in memory (the writes are additive).
const FLUSH_AT: usize = 200_000;

fn days_per_block(level: u32) -> i64 {
    4i64.pow(level)
}

/// The local day (days from 0001-01-01, chrono's `num_days_from_ce`) of instant `at` in `tz`.
pub(crate) fn local_day(tz: Tz, at: Millis) -> i64 {
    let utc = DateTime::from_timestamp_millis(at).unwrap_or_default();
    i64::from(utc.with_timezone(&tz).date_naive().num_days_from_ce())
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn date_of(day: i64) -> NaiveDate {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default()
}

/// Changes to page views per (website, local day, URL), written to every level by
/// [`PageDays::write`].
#[derive(Default)]
pub(crate) struct PageDays {
    views: HashMap<(i64, i64, i64), i64>,
}

impl PageDays {
    pub(crate) fn add(&mut self, website: i64, day: i64, url: i64, views: i64) {
        *self.views.entry((website, day, url)).or_default() += views;
    }

    pub(crate) fn write(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let mut blocks: HashMap<(i64, u32, i64, i64), i64> = HashMap::new();
        for ((website, day, url), n) in self.views.drain() {
            for level in 0..LEVELS {
                let block = day.div_euclid(days_per_block(level));
                *blocks.entry((website, level, block, url)).or_default() += n;
            }
        }
        let mut add = conn.prepare_cached(
            "INSERT INTO rollup_page_days (website_pk, level, block, url_pk, views) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO UPDATE SET views = views + excluded.views",
        )?;
        let mut drop_empty = conn.prepare_cached(
            "DELETE FROM rollup_page_days
             WHERE website_pk = ?1 AND level = ?2 AND block = ?3 AND url_pk = ?4 AND views = 0",
        )?;
        for ((website, level, block, url), n) in blocks {
            if n == 0 {
                continue;
            }
            add.execute(params![website, level, block, url, n])?;
            // Only a rebuild takes views back: a row left counting nothing goes, so that the
            // maintained table equals a rebuilt one.
            if n < 0 {
                drop_empty.execute(params![website, level, block, url])?;
            }
        }
        Ok(())
    }
}

/// Adds one per page view of website `website_pk` in `[start, end)` to `into`, writing as it goes.
fn count_rows(
    conn: &Connection,
    website_pk: i64,
    tz: Tz,
    (start, end): (Millis, Millis),
    into: &mut PageDays,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts, url_pk FROM pageviews WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3",
    )?;
    let mut rows = stmt.query(params![website_pk, start, end])?;
    while let Some(row) = rows.next()? {
        into.add(website_pk, local_day(tz, row.get(0)?), row.get(1)?, 1);
        if into.views.len() >= FLUSH_AT {
            into.write(conn)?;
        }
    }
    into.write(conn)
}

/// Recomputes website `website_pk`'s local days `first..=last` from its page view rows; the
/// blocks above them change by the difference, so no block is summed again.
pub(crate) fn rebuild_days(
    conn: &Connection,
    website_pk: i64,
    tz: Tz,
    first: i64,
    last: i64,
) -> Result<(), StoreError> {
    let mut delta = PageDays::default();
    let mut stmt = conn.prepare_cached(
        "SELECT block, url_pk, views FROM rollup_page_days
         WHERE website_pk = ?1 AND level = 0 AND block >= ?2 AND block <= ?3",
    )?;
    let mut rows = stmt.query(params![website_pk, first, last])?;
    while let Some(row) = rows.next()? {
        delta.add(website_pk, row.get(0)?, row.get(1)?, -row.get::<_, i64>(2)?);
    }
    let days = DateRange {
        from: date_of(first),
        to: date_of(last),
    };
    count_rows(conn, website_pk, tz, days.bounds(tz), &mut delta)
}

/// Recomputes every local day that the instants `[from, to)` of `spans` touch, each day once;
/// a span past the dates chrono can name (`ferry analytics rebuild` without days) rebuilds
/// every day of the website.
pub(crate) fn rebuild_spans(
    conn: &Connection,
    website_pk: i64,
    tz: Tz,
    spans: &[(Millis, Millis)],
) -> Result<(), StoreError> {
    let nameable = |at: Millis| DateTime::from_timestamp_millis(at).is_some();
    let spans: Vec<(Millis, Millis)> = spans.iter().copied().filter(|(f, t)| f < t).collect();
    if spans.iter().any(|&(f, t)| !nameable(f) || !nameable(t)) {
        return rebuild_website(conn, website_pk, tz);
    }
    let mut days: Vec<(i64, i64)> = spans
        .iter()
        .map(|&(from, to)| (local_day(tz, from), local_day(tz, to - 1)))
        .collect();
    days.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(days.len());
    for (first, last) in days {
        match merged.last_mut() {
            Some(m) if first <= m.1 + 1 => m.1 = m.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    for (first, last) in merged {
        rebuild_days(conn, website_pk, tz, first, last)?;
    }
    Ok(())
}

/// Every day of one website from its rows: for a change of its time zone.
pub(crate) fn rebuild_website(
    conn: &Connection,
    website_pk: i64,
    tz: Tz,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM rollup_page_days WHERE website_pk = ?1")?
        .execute([website_pk])?;
    let all = (Millis::MIN, Millis::MAX);
    count_rows(conn, website_pk, tz, all, &mut PageDays::default())
}

/// Every website's days from its rows: migration 0024's step, for stores written before it.
pub(crate) fn rebuild_all(conn: &Connection) -> Result<(), StoreError> {
    let websites: Vec<(i64, String)> = conn
        .prepare("SELECT pk, timezone FROM websites")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (pk, tz) in websites {
        rebuild_website(conn, pk, tz.parse().unwrap_or(Tz::UTC))?;
    }
    Ok(())
}

/// Local days `first..=last` as runs of whole blocks `(level, first block, last block)`: at
/// each day the largest aligned block that fits, so a range is at most 3 blocks per level on
/// each side and the 64-day blocks between.
fn runs(first: i64, last: i64) -> Vec<(u32, i64, i64)> {
    let mut runs: Vec<(u32, i64, i64)> = Vec::new();
    let mut day = first;
    while day <= last {
        let level = (0..LEVELS)
            .rev()
            .find(|&l| {
                let n = days_per_block(l);
                day.rem_euclid(n) == 0 && day + n - 1 <= last
            })
            .unwrap_or(0);
        let n = days_per_block(level);
        let block = day.div_euclid(n);
        match runs.last_mut() {
            Some(run) if run.0 == level && run.2 + 1 == block => run.2 = block,
            _ => runs.push((level, block, block)),
        }
        day += n;
    }
    runs
}

/// The range's `limit` most viewed URLs, most first, then by URL (the pages list's order).
pub(crate) fn top(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    limit: u32,
) -> Result<Vec<TopPage>, StoreError> {
    let pk = website_pk(conn, website)?;
    let runs = runs(day_number(range.from), day_number(range.to));
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let mut values = String::new();
    for (i, (level, lo, hi)) in runs.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        write!(values, "{sep}({level},{lo},{hi})").expect("writing to a String");
    }
    // Each run is one range of the primary key; ties at the cut are settled by the URL, so
    // the names of all summed URLs are joined (thousands at most, a point read each).
    let sql = format!(
        "WITH runs(level, lo, hi) AS (VALUES {values}),
         sums(url_pk, views) AS (
           SELECT r.url_pk, sum(r.views) FROM runs JOIN rollup_page_days r
             ON r.website_pk = ?1 AND r.level = runs.level AND r.block >= runs.lo AND r.block <= runs.hi
           GROUP BY r.url_pk)
         SELECT u.url, sums.views FROM sums JOIN urls u ON u.pk = sums.url_pk
         ORDER BY sums.views DESC, u.url LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![pk, limit], |r| {
        Ok(TopPage {
            url: r.get(0)?,
            pageviews: r.get::<_, i64>(1)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_day_once_with_few_blocks() {
        for first in 730_000..730_070 {
            for len in 1..200 {
                let last = first + len - 1;
                let runs = runs(first, last);
                let mut days = Vec::new();
                for (level, lo, hi) in &runs {
                    let n = days_per_block(*level);
                    days.extend(lo * n..(hi + 1) * n);
                }
                assert_eq!(days, (first..=last).collect::<Vec<_>>());
                let blocks: i64 = runs.iter().map(|(_, lo, hi)| hi - lo + 1).sum();
                assert!(blocks <= 3 * 6 + len / 64 + 1, "{first} {len}: {runs:?}");
            }
        }
    }
}
