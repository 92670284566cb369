//! Rollups: the analytics summary and the pages list read these instead of the raw rows, so
//! their cost follows the number of 15-minute buckets in the range, not the number of rows.
//!
//! - `rollup_buckets` (website, bucket): page views and events that happened in the bucket;
//!   sessions that started in it, their bounces and summed durations; a HyperLogLog sketch
//!   (`hll`) of those sessions' visitors.
//! - `rollup_pages` (website, bucket, url): page views and a sketch of their visitors.
//! - `rollup_page_days` (website, level, block of local days, url): page views only, for the
//!   Overview's top pages (`page_days`).
//!
//! A bucket is 15 minutes of UTC time. Every UTC offset in use today is a multiple of 15
//! minutes, so every local day (DST days included) is a whole run of buckets; a day that is not
//! (historic local mean time, e.g. Kathmandu before 1986) is answered from the raw rows.
//!
//! Kept exact in the transaction that writes the rows: ingest collects a [`RollupDelta`] and
//! writes it before committing. Counts are additive; a session that changes (a late page view
//! ends a bounce, lengthens it, or joins two sessions) takes back its old contribution and adds
//! its new one. A sketch cannot take a visitor back, so a bucket that loses a session start has
//! its sketch rebuilt from the sessions in it. Anything that deletes rows (erasure) calls
//! [`rebuild`] on the buckets it touched (`rollup_rebuild`).

use std::collections::{HashMap, HashSet};

use ferry_domain::Millis;
use rusqlite::{OptionalExtension, Transaction, params};

use super::hll::{Sketch, add_to_blob};
use super::page_days::PageDays;
use crate::StoreError;

pub(crate) use super::rollup_rebuild::{rebuild, rebuild_everything};

pub(crate) const BUCKET_MS: Millis = 15 * 60 * 1000;

pub(crate) fn bucket(at: Millis) -> i64 {
    at.div_euclid(BUCKET_MS)
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Counts {
    pub pageviews: i64,
    pub events: i64,
    pub sessions: i64,
    pub bounces: i64,
    pub duration_ms: i64,
}

/// A stored session as the rollups count it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SessionFacts {
    pub started: Millis,
    pub ended: Millis,
    pub pages: i64,
    pub events: i64,
}

impl SessionFacts {
    fn count(&self, sign: i64, counts: &mut Counts) {
        counts.sessions += sign;
        counts.bounces += sign * i64::from(self.pages == 1 && self.events == 0);
        counts.duration_ms += sign * (self.ended - self.started);
    }
}

/// What one transaction changes in the rollups, written by [`RollupDelta::write`].
#[derive(Default)]
pub(crate) struct RollupDelta {
    counts: HashMap<(i64, i64), Counts>,
    pages: HashMap<(i64, i64, i64), (i64, Vec<i64>)>,
    session_visitors: HashMap<(i64, i64), Vec<i64>>,
    rebuild_visitors: HashSet<(i64, i64)>,
    days: PageDays,
}

impl RollupDelta {
    /// A page view at `at`, on local day `day` of the website's time zone (`page_days`).
    pub(crate) fn pageview(&mut self, website: i64, at: Millis, day: i64, url: i64, visitor: i64) {
        self.days.add(website, day, url, 1);
        let b = bucket(at);
        self.counts.entry((website, b)).or_default().pageviews += 1;
        let page = self.pages.entry((website, b, url)).or_default();
        page.0 += 1;
        page.1.push(visitor);
    }

    pub(crate) fn event(&mut self, website: i64, at: Millis) {
        self.counts.entry((website, bucket(at))).or_default().events += 1;
    }

    pub(crate) fn session_added(&mut self, website: i64, visitor: i64, s: SessionFacts) {
        let b = bucket(s.started);
        s.count(1, self.counts.entry((website, b)).or_default());
        self.session_visitors
            .entry((website, b))
            .or_default()
            .push(visitor);
    }

    pub(crate) fn session_removed(&mut self, website: i64, s: SessionFacts) {
        let b = bucket(s.started);
        s.count(-1, self.counts.entry((website, b)).or_default());
        self.rebuild_visitors.insert((website, b));
    }

    pub(crate) fn session_changed(
        &mut self,
        website: i64,
        visitor: i64,
        old: SessionFacts,
        new: SessionFacts,
    ) {
        if old == new {
            return;
        }
        if bucket(old.started) == bucket(new.started) {
            let counts = self
                .counts
                .entry((website, bucket(new.started)))
                .or_default();
            old.count(-1, counts);
            new.count(1, counts);
        } else {
            self.session_removed(website, old);
            self.session_added(website, visitor, new);
        }
    }

    /// Writes the changes; call after every row and session of the transaction is written
    /// (rebuilt sketches are read from the sessions table).
    pub(crate) fn write(&mut self, tx: &Transaction) -> Result<(), StoreError> {
        let mut add = tx.prepare_cached(
            "INSERT INTO rollup_buckets (website_pk, bucket, pageviews, events, sessions, bounces, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO UPDATE SET pageviews = pageviews + excluded.pageviews,
               events = events + excluded.events, sessions = sessions + excluded.sessions,
               bounces = bounces + excluded.bounces, duration_ms = duration_ms + excluded.duration_ms",
        )?;
        for ((website, b), c) in self.counts.drain() {
            if c != Counts::default() {
                add.execute(params![
                    website,
                    b,
                    c.pageviews,
                    c.events,
                    c.sessions,
                    c.bounces,
                    c.duration_ms
                ])?;
            }
        }
        let mut read = tx.prepare_cached(
            "SELECT visitors FROM rollup_pages WHERE website_pk = ?1 AND bucket = ?2 AND url_pk = ?3",
        )?;
        let mut put = tx.prepare_cached(
            "INSERT INTO rollup_pages (website_pk, bucket, url_pk, views, visitors) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO UPDATE SET views = views + excluded.views, visitors = excluded.visitors",
        )?;
        for ((website, b, url), (views, visitors)) in self.pages.drain() {
            let stored: Option<Option<Vec<u8>>> = read
                .query_row(params![website, b, url], |r| r.get(0))
                .optional()?;
            let sketch = add_to_blob(&stored.flatten().unwrap_or_default(), &visitors);
            put.execute(params![website, b, url, views, sketch])?;
        }
        let mut read = tx.prepare_cached(
            "SELECT visitors FROM rollup_buckets WHERE website_pk = ?1 AND bucket = ?2",
        )?;
        let mut put = tx.prepare_cached(
            "INSERT INTO rollup_buckets (website_pk, bucket, visitors) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET visitors = excluded.visitors",
        )?;
        for ((website, b), visitors) in self.session_visitors.drain() {
            if self.rebuild_visitors.contains(&(website, b)) {
                continue;
            }
            let stored: Option<Option<Vec<u8>>> = read
                .query_row(params![website, b], |r| r.get(0))
                .optional()?;
            let sketch = add_to_blob(&stored.flatten().unwrap_or_default(), &visitors);
            put.execute(params![website, b, sketch])?;
        }
        let mut starts = tx.prepare_cached(
            "SELECT visitor_pk FROM sessions WHERE website_pk = ?1 AND started_at >= ?2 AND started_at < ?3",
        )?;
        for (website, b) in self.rebuild_visitors.drain() {
            let mut sketch = Sketch::default();
            let mut rows = starts.query(params![website, b * BUCKET_MS, (b + 1) * BUCKET_MS])?;
            while let Some(row) = rows.next()? {
                sketch.add(row.get(0)?);
            }
            put.execute(params![website, b, blob(&sketch)])?;
        }
        self.days.write(tx)?;
        Ok(())
    }
}

/// An empty sketch is stored as NULL, so that a rebuilt bucket and a maintained one read alike.
pub(crate) fn blob(sketch: &Sketch) -> Option<Vec<u8>> {
    Some(sketch.to_blob()).filter(|b| !b.is_empty())
}
