//! Export segment records. A record is claimed (`building`) before its day's rows are read and
//! made `ready` once its file is complete; the triggers of migration 0005 delete it when any
//! row of its day changes, so making it ready fails if the day changed while it was built.

use ferry_domain::Millis;
use ferry_domain::bulk::{SegmentFacts, SegmentKey, SegmentRecord};
use rusqlite::{Connection, Row, params};

use super::bulk::website_pk;
use crate::StoreError;

const COLUMNS: &str = "pk, data_type, format, layout, window_start, window_end, state, rows, \
                       raw_bytes, stored_bytes, event_keys, created_at";

fn record(r: &Row<'_>) -> rusqlite::Result<SegmentRecord> {
    let keys: String = r.get(10)?;
    Ok(SegmentRecord {
        id: r.get(0)?,
        key: SegmentKey {
            data_type: r.get(1)?,
            format: r.get(2)?,
            layout: r.get(3)?,
            window: (r.get(4)?, r.get(5)?),
        },
        ready: r.get::<_, String>(6)? == "ready",
        rows: r.get::<_, i64>(7)?.max(0) as u64,
        raw_bytes: r.get::<_, i64>(8)?.max(0) as u64,
        stored_bytes: r.get::<_, i64>(9)?.max(0) as u64,
        event_keys: serde_json::from_str(&keys).unwrap_or_default(),
        created_at: r.get(11)?,
    })
}

/// A website's segments (ready or building) that lie inside `window`, by start.
pub(crate) fn within(
    conn: &Connection,
    website: &str,
    window: (Millis, Millis),
) -> Result<Vec<SegmentRecord>, StoreError> {
    let pk = website_pk(conn, website)?;
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM export_segments WHERE website_pk = ?1 AND window_start >= ?2
         AND window_end <= ?3 ORDER BY window_start, data_type, format"
    ))?;
    let rows = statement.query_map(params![pk, window.0, window.1], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every segment's id, for removing files no record points to.
pub(crate) fn ids(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut statement = conn.prepare("SELECT pk FROM export_segments")?;
    let ids = statement.query_map([], |r| r.get(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

/// Claims a segment for building; `None` if it exists (ready, or claimed by another builder).
pub(crate) fn claim(
    conn: &Connection,
    website: &str,
    key: &SegmentKey,
    now: Millis,
) -> Result<Option<i64>, StoreError> {
    let pk = website_pk(conn, website)?;
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO export_segments
             (website_pk, data_type, format, layout, window_start, window_end, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            pk,
            key.data_type,
            key.format,
            key.layout,
            key.window.0,
            key.window.1,
            now
        ],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// Marks a claimed segment ready; false if a change to its day deleted the claim meanwhile.
pub(crate) fn complete(
    conn: &Connection,
    id: i64,
    facts: &SegmentFacts,
) -> Result<bool, StoreError> {
    let keys =
        serde_json::to_string(&facts.event_keys).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let updated = conn.execute(
        "UPDATE export_segments SET state = 'ready', rows = ?2, raw_bytes = ?3,
             stored_bytes = ?4, event_keys = ?5
         WHERE pk = ?1 AND state = 'building'",
        params![
            id,
            facts.rows as i64,
            facts.raw_bytes as i64,
            facts.stored_bytes as i64,
            keys
        ],
    )?;
    Ok(updated == 1)
}

/// Forgets segments: a failed build, a damaged file, a claim left by a builder that died
/// (`building` since before `stale_before`).
pub(crate) fn forget(
    conn: &Connection,
    ids: &[i64],
    stale_before: Option<Millis>,
) -> Result<u64, StoreError> {
    let mut dropped = 0;
    let mut statement = conn.prepare_cached("DELETE FROM export_segments WHERE pk = ?1")?;
    for id in ids {
        dropped += statement.execute([id])? as u64;
    }
    if let Some(before) = stale_before {
        dropped += conn.execute(
            "DELETE FROM export_segments WHERE state = 'building' AND created_at < ?1",
            [before],
        )? as u64;
    }
    Ok(dropped)
}

#[async_trait::async_trait]
impl crate::SegmentStore for super::SqliteStore {
    async fn segments(
        &self,
        website: &str,
        window: (Millis, Millis),
    ) -> Result<Vec<SegmentRecord>, StoreError> {
        let website = website.to_string();
        self.pool.read(move |c| within(c, &website, window)).await
    }

    async fn segment_ids(&self) -> Result<Vec<i64>, StoreError> {
        self.pool.read(ids).await
    }

    async fn claim_segment(
        &self,
        website: &str,
        key: SegmentKey,
        now: Millis,
    ) -> Result<Option<i64>, StoreError> {
        let website = website.to_string();
        self.pool
            .write(move |c| claim(c, &website, &key, now))
            .await
    }

    async fn complete_segment(&self, id: i64, facts: SegmentFacts) -> Result<bool, StoreError> {
        self.pool.write(move |c| complete(c, id, &facts)).await
    }

    async fn drop_segments(
        &self,
        ids: Vec<i64>,
        stale_before: Option<Millis>,
    ) -> Result<u64, StoreError> {
        self.pool
            .write(move |c| forget(c, &ids, stale_before))
            .await
    }
}

/// Forgets the segments of `data_type` whose days gain one of `rows` (website, time): called
/// by the ingest transaction for each batch it inserts. Rows of today match no segment (they
/// exist for closed days only), so a live batch costs one index probe per website.
pub(crate) fn forget_touched(
    conn: &Connection,
    data_type: &str,
    rows: impl Iterator<Item = (i64, Millis)>,
) -> Result<(), StoreError> {
    let mut by_website: std::collections::HashMap<i64, Vec<Millis>> = Default::default();
    for (website, at) in rows {
        by_website.entry(website).or_default().push(at);
    }
    for (website, mut times) in by_website {
        times.sort_unstable();
        let (first, last) = (times[0], times[times.len() - 1]);
        let mut candidates = conn.prepare_cached(
            "SELECT pk, window_start, window_end FROM export_segments
             WHERE website_pk = ?1 AND data_type = ?2 AND window_end > ?3 AND window_start <= ?4",
        )?;
        let touched: Vec<i64> = candidates
            .query_map(params![website, data_type, first, last], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Millis>(1)?,
                    r.get::<_, Millis>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|(_, start, end)| {
                let next = times.partition_point(|t| t < start);
                next < times.len() && times[next] < *end
            })
            .map(|(pk, _, _)| pk)
            .collect();
        if !touched.is_empty() {
            forget(conn, &touched, None)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{DAY, pageview, store_with_website};
    use super::*;
    use crate::prelude::*;

    /// A store with page views on days 1 to 3 and a ready page-view segment for each day.
    async fn three_days() -> (tempfile::TempDir, super::super::SqliteStore) {
        let (dir, store, _) = store_with_website().await;
        let lines = (1..=3).map(|d| pageview("v", d * DAY + 1000)).collect();
        store.ingest(None, lines, 4 * DAY).await.unwrap();
        for d in 1..=3 {
            let key = SegmentKey {
                data_type: "pageviews".into(),
                format: "csv".into(),
                layout: "1".into(),
                window: (d * DAY, (d + 1) * DAY),
            };
            let id = store.claim_segment("web_t", key, 0).await.unwrap().unwrap();
            let facts = SegmentFacts {
                rows: 1,
                ..SegmentFacts::default()
            };
            assert!(store.complete_segment(id, facts).await.unwrap());
        }
        (dir, store)
    }

    async fn days_left(store: &super::super::SqliteStore) -> Vec<Millis> {
        let records = store.segments("web_t", (0, 10 * DAY)).await.unwrap();
        records.iter().map(|r| r.key.window.0 / DAY).collect()
    }

    #[tokio::test]
    async fn a_batch_forgets_exactly_the_days_it_adds_rows_to() {
        let (_dir, store) = three_days().await;
        // Today's rows touch nothing; one late row touches its own day only.
        let lines = vec![
            pageview("v", 10 * DAY),
            pageview("v", 2 * DAY + 5),
            pageview("v", 10 * DAY + 1),
        ];
        store.ingest(None, lines, 10 * DAY).await.unwrap();
        assert_eq!(days_left(&store).await, [1, 3]);
    }

    #[tokio::test]
    async fn deleting_a_row_forgets_its_day_and_a_claim_then_cannot_become_ready() {
        let (_dir, store) = three_days().await;
        let key = SegmentKey {
            data_type: "pageviews".into(),
            format: "ndjson".into(),
            layout: "1".into(),
            window: (3 * DAY, 4 * DAY),
        };
        let claim = store.claim_segment("web_t", key, 0).await.unwrap().unwrap();
        store
            .pool
            .write(|c| Ok(c.execute("DELETE FROM pageviews WHERE ts = ?1", [3 * DAY + 1000])?))
            .await
            .unwrap();
        assert_eq!(days_left(&store).await, [1, 2]);
        assert!(
            !store
                .complete_segment(claim, SegmentFacts::default())
                .await
                .unwrap(),
            "the day changed while its segment was built"
        );
    }
}
