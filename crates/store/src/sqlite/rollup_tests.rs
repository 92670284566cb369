//! The rollups against the raw rows: random ingests (late page views that extend or join
//! sessions, events sent after the page views, several time zones) must give the same summary
//! and pages as the raw-row reference (`analytics_raw`), the Overview's top pages (`page_days`)
//! must be the reference's first rows, and the maintained rollup tables must equal the ones
//! rebuilt from the rows, sketch bytes included.

use chrono::NaiveDate;
use ferry_domain::{
    AccountId, Activity, ActivityKind, DateRange, IngestLine, Millis, Plan, ValidWebsite, Website,
};
use rusqlite::Connection;

use super::rollups::rebuild_everything;
use super::test_support::{DAY, MINUTE};
use super::{SqliteStore, analytics_raw as raw, page_days, rollup_read};
use crate::prelude::*;

/// xorshift64*: reproducible without a dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(super) const ZONES: [(&str, chrono_tz::Tz); 4] = [
    ("web_utc", chrono_tz::UTC),
    ("web_ktm", chrono_tz::Asia::Kathmandu),
    ("web_nyc", chrono_tz::America::New_York),
    ("web_lhi", chrono_tz::Australia::Lord_Howe),
];

/// 2024-03-08T00:00Z: New York moves its clocks on the 10th.
pub(super) const BASE: Millis = 1_709_856_000_000;

fn line(website: &str, visitor: u64, at: Millis, url: u64, page: bool) -> IngestLine {
    let kind = if page {
        ActivityKind::Pageview {
            url: format!("https://t.example/p{url}"),
            title: None,
            referrer: None,
        }
    } else {
        ActivityKind::Event {
            name: "e".into(),
            properties: Default::default(),
        }
    };
    IngestLine::Activity(Activity {
        website_id: website.into(),
        visitor_id: format!("v{visitor}"),
        at,
        kind,
        device: None,
        browser: None,
        country: None,
    })
}

/// Each visitor's activity as runs of steps mostly under the 30-minute gap; page views
/// first (in a shuffled order, so some arrive late), then the events.
pub(super) fn random_lines(rng: &mut Rng, website: &str) -> Vec<Vec<IngestLine>> {
    let (mut pages, mut events) = (Vec::new(), Vec::new());
    for visitor in 0..40 {
        let mut at = BASE + rng.below(6 * DAY as u64) as Millis;
        for _ in 0..1 + rng.below(12) {
            at += match rng.below(10) {
                0..=5 => rng.below(20 * MINUTE as u64) as Millis,
                6..=8 => (25 + rng.below(10)) as Millis * MINUTE,
                _ => rng.below(DAY as u64) as Millis,
            };
            let page = rng.below(4) != 0;
            let l = line(website, visitor, at, rng.below(5), page);
            if page { &mut pages } else { &mut events }.push(l);
        }
    }
    for i in (1..pages.len()).rev() {
        if rng.below(3) == 0 {
            pages.swap(i, rng.below(i as u64 + 1) as usize);
        }
    }
    let mut batches = Vec::new();
    for lines in [pages, events] {
        let mut rest = lines.as_slice();
        while !rest.is_empty() {
            let n = (1 + rng.below(40) as usize).min(rest.len());
            batches.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
    }
    batches
}

async fn store_with_zones() -> (tempfile::TempDir, SqliteStore, AccountId, Vec<Website>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let account = store.create_account("t", Plan::Pro).await.unwrap();
    let mut websites = Vec::new();
    for (id, timezone) in ZONES {
        let site = ValidWebsite {
            domain: format!("{id}.example"),
            timezone,
            retention_days: None,
        };
        websites.push(
            store
                .create_website(account.id, id, site, "fis_test")
                .await
                .unwrap(),
        );
    }
    (dir, store, account.id, websites)
}

fn ranges() -> Vec<DateRange> {
    let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap();
    // First: every day the generated activity can reach.
    let mut all = vec![DateRange {
        from: d(1),
        to: d(31),
    }];
    for day in 7..15 {
        all.push(DateRange {
            from: d(day),
            to: d(day),
        });
        all.push(DateRange {
            from: d(day),
            to: d(day + 1),
        });
    }
    all
}

/// The rollups answer exactly as the raw rows do, for every website and range.
pub(super) fn assert_same_answers(conn: &Connection, websites: &[Website], context: &str) {
    for website in websites {
        for range in ranges() {
            let from_rollups = rollup_read::totals(conn, website, range).unwrap();
            let from_rows = raw::totals(conn, website, range).unwrap();
            assert_eq!(
                from_rollups, from_rows,
                "{context}: {} {range:?}",
                website.id
            );
            let pages = rollup_read::pages_with(conn, website, range, None, 1000, 0).unwrap();
            let reference = raw::pages(conn, website, range, None, 1000).unwrap();
            let strip = |p: &ferry_domain::analytics::Page<ferry_domain::analytics::PageRow>| {
                p.data
                    .iter()
                    .map(|r| (r.url.clone(), r.pageviews))
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&pages), strip(&reference), "{context}: pages");
            for (estimated, exact) in pages.data.iter().zip(&reference.data) {
                assert!(estimated.unique_visitors_estimated);
                assert!(estimated.unique_visitors.abs_diff(exact.unique_visitors) <= 2);
            }
            assert_eq!(
                rollup_read::pages(conn, website, range, None, 1000).unwrap(),
                reference,
                "{context}: small ranges count unique visitors exactly"
            );
            for limit in [3, 1000] {
                let top: Vec<(String, u64)> = page_days::top(conn, website, range, limit)
                    .unwrap()
                    .into_iter()
                    .map(|p| (p.url, p.pageviews))
                    .collect();
                let mut first = strip(&reference);
                first.truncate(limit as usize);
                assert_eq!(top, first, "{context}: top pages {} {range:?}", website.id);
            }
        }
    }
}

type Rows = Vec<Vec<rusqlite::types::Value>>;
type Snapshot = (Rows, Rows, Rows);

/// The three rollup tables, without rows that count nothing (page days keep none).
fn snapshot(conn: &Connection) -> Snapshot {
    let read = |sql: &str| {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            (0..n).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    (
        read(
            "SELECT * FROM rollup_buckets WHERE pageviews + events + sessions + bounces + duration_ms != 0
             OR visitors IS NOT NULL ORDER BY website_pk, bucket",
        ),
        read("SELECT * FROM rollup_pages WHERE views != 0 ORDER BY website_pk, bucket, url_pk"),
        read("SELECT * FROM rollup_page_days ORDER BY website_pk, level, block, url_pk"),
    )
}

/// The maintained tables equal the ones rebuilt from the rows (then rolled back).
pub(super) async fn assert_same_as_rebuilt(store: &SqliteStore, context: &str) {
    let (kept, rebuilt) = store
        .pool
        .write(|c| {
            let tx = c.transaction()?;
            let kept = snapshot(&tx);
            rebuild_everything(&tx)?;
            page_days::rebuild_all(&tx)?;
            Ok((kept, snapshot(&tx)))
        })
        .await
        .unwrap();
    assert!(!kept.0.is_empty(), "{context}: something was counted");
    assert!(!kept.2.is_empty(), "{context}: page days were counted");
    assert_eq!(kept, rebuilt, "{context}");
}

#[tokio::test]
async fn random_ingests_give_the_raw_rows_answers_in_every_zone() {
    for seed in 1..=6u64 {
        let (_dir, store, account, websites) = store_with_zones().await;
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut batches: Vec<Vec<IngestLine>> = Vec::new();
        for (id, _) in ZONES {
            batches.extend(random_lines(&mut rng, id));
        }
        for (n, batch) in batches.into_iter().enumerate() {
            store
                .ingest(Some(account), batch, BASE + 10 * DAY)
                .await
                .unwrap();
            if n % 25 == 0 {
                let websites = websites.clone();
                store
                    .pool
                    .read(move |c| {
                        assert_same_answers(c, &websites, &format!("seed {seed}, batch {n}"));
                        Ok(())
                    })
                    .await
                    .unwrap();
            }
        }
        let all = websites.clone();
        store
            .pool
            .read(move |c| {
                assert_same_answers(c, &all, &format!("seed {seed}, at the end"));
                Ok(())
            })
            .await
            .unwrap();
        assert_same_as_rebuilt(&store, &format!("seed {seed}")).await;
    }
}

#[tokio::test]
async fn visitor_sketches_estimate_the_raw_count_and_say_so() {
    let (_dir, store, account, websites) = store_with_zones().await;
    let mut rng = Rng(42);
    for batch in random_lines(&mut rng, "web_nyc") {
        store
            .ingest(Some(account), batch, BASE + 10 * DAY)
            .await
            .unwrap();
    }
    let nyc = websites[2].clone();
    store
        .pool
        .read(move |c| {
            for range in ranges() {
                let (estimated, days) = rollup_read::totals_with(c, &nyc, range, 0).unwrap();
                let (exact, exact_days) = raw::totals(c, &nyc, range).unwrap();
                assert_eq!(estimated.visitors_estimated, exact.sessions > 0);
                assert!(
                    estimated.visitors.abs_diff(exact.visitors) <= 2,
                    "{range:?}"
                );
                for (e, x) in days.iter().zip(&exact_days) {
                    assert!(e.visitors.abs_diff(x.visitors) <= 2);
                    assert_eq!((e.pageviews, e.sessions), (x.pageviews, x.sessions));
                }
                let rest = (
                    estimated.pageviews,
                    estimated.sessions,
                    estimated.bounce_rate,
                );
                assert_eq!(rest, (exact.pageviews, exact.sessions, exact.bounce_rate));
            }
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn rebuilding_the_buckets_of_deleted_rows_lowers_the_totals_by_exactly_those_rows() {
    let (_dir, store, account, websites) = store_with_zones().await;
    let mut rng = Rng(7);
    for (id, _) in ZONES {
        for batch in random_lines(&mut rng, id) {
            store
                .ingest(Some(account), batch, BASE + 10 * DAY)
                .await
                .unwrap();
        }
    }
    let ktm = websites[1].clone();
    let whole = ranges()[0];
    let site = ktm.clone();
    let before = store
        .pool
        .read(move |c| rollup_read::totals(c, &site, whole))
        .await
        .unwrap()
        .0;
    // Erase visitor v3 of Kathmandu as an erasure would: its rows go, then their buckets are
    // rebuilt from the instants of the deleted rows and the starts of the deleted sessions.
    let (instants, pageviews, events, sessions) = store
        .pool
        .write_with_cache(|w| {
            // The ingest cache mirrors sessions: a write that deletes them clears it.
            w.cache.clear();
            let tx = w.conn.transaction()?;
            let v: i64 = tx.query_row(
                "SELECT pk FROM visitors WHERE visitor_id = 'v3' AND website_pk = (SELECT pk FROM websites WHERE public_id = 'web_ktm')",
                [],
                |r| r.get(0),
            )?;
            let mut instants: Vec<Millis> = Vec::new();
            for sql in [
                "SELECT ts FROM pageviews WHERE visitor_pk = ?1",
                "SELECT ts FROM events WHERE visitor_pk = ?1",
                "SELECT started_at FROM sessions WHERE visitor_pk = ?1",
            ] {
                let mut stmt = tx.prepare(sql)?;
                let found = stmt.query_map([v], |r| r.get(0))?;
                instants.extend(found.collect::<Result<Vec<Millis>, _>>()?);
            }
            let mut gone = [0usize; 3];
            for (i, table) in ["pageviews", "events", "sessions"].iter().enumerate() {
                gone[i] = tx.execute(&format!("DELETE FROM {table} WHERE visitor_pk = ?1"), [v])?;
            }
            tx.commit()?;
            Ok((instants, gone[0] as u64, gone[1] as u64, gone[2] as u64))
        })
        .await
        .unwrap();
    assert!(pageviews > 0 && sessions > 0);
    let spans = instants.iter().map(|&at| (at, at + 1)).collect();
    store.rebuild_rollups(&ktm, spans).await.unwrap();
    let site = ktm.clone();
    let (after, reference) = store
        .pool
        .read(move |c| {
            Ok((
                rollup_read::totals(c, &site, whole)?.0,
                raw::totals(c, &site, whole)?.0,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        after, reference,
        "the rollups agree with the remaining rows"
    );
    assert_eq!(
        (
            after.pageviews,
            after.events,
            after.sessions,
            after.visitors
        ),
        (
            before.pageviews - pageviews,
            before.events - events,
            before.sessions - sessions,
            before.visitors - 1
        )
    );
    let site = [ktm.clone()];
    store
        .pool
        .read(move |c| {
            assert_same_answers(c, &site, "after the erasure");
            Ok(())
        })
        .await
        .unwrap();
    assert_same_as_rebuilt(&store, "after the erasure").await;
}
