//! [`crate::Analytics`] for SQLite: the summary and the pages list from the rollups
//! (`rollup_read`), the Overview's top pages from the page views per local day
//! (`page_days`), the visitor list from the rows (`visitors`), and the rollups' rebuild.

use ferry_domain::analytics::{DayPoint, Page, PageRow, TopPage, Totals, VisitorRow};
use ferry_domain::{DateRange, Millis, Website};
use rusqlite::TransactionBehavior;

pub(super) use super::analytics_raw::website_pk;
use super::{SqliteStore, page_days, rollup_read, rollups, visitors};
use crate::{Analytics, StoreError};

pub(crate) fn totals(
    conn: &rusqlite::Connection,
    website: &Website,
    range: DateRange,
) -> Result<(Totals, Vec<DayPoint>), StoreError> {
    rollup_read::totals(conn, website, range)
}

#[async_trait::async_trait]
impl Analytics for SqliteStore {
    async fn totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError> {
        let website = website.clone();
        self.pool.read(move |c| totals(c, &website, range)).await
    }

    async fn visitors(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<VisitorRow>, StoreError> {
        let (website, cursor) = (website.clone(), cursor.map(str::to_string));
        self.pool
            .read(move |c| visitors::visitors(c, &website, range, cursor.as_deref(), limit))
            .await
    }

    async fn pages(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageRow>, StoreError> {
        let (website, cursor) = (website.clone(), cursor.map(str::to_string));
        self.pool
            .read(move |c| rollup_read::pages(c, &website, range, cursor.as_deref(), limit))
            .await
    }

    async fn top_pages(
        &self,
        website: &Website,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<TopPage>, StoreError> {
        let website = website.clone();
        self.pool
            .read(move |c| page_days::top(c, &website, range, limit))
            .await
    }

    async fn activity_span(
        &self,
        website: &Website,
    ) -> Result<Option<(Millis, Millis)>, StoreError> {
        let website = website.clone();
        self.pool
            .read(move |c| super::spans::website(c, &website))
            .await
    }

    async fn rebuild_rollups(
        &self,
        website: &Website,
        spans: Vec<(Millis, Millis)>,
    ) -> Result<usize, StoreError> {
        let website = website.clone();
        self.pool
            .write(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let pk = website_pk(&tx, &website)?;
                let mut filled = 0;
                let spans = merged_buckets(spans);
                for &(from, to) in &spans {
                    filled += rollups::rebuild(&tx, pk, from, to)?;
                }
                page_days::rebuild_spans(&tx, pk, website.timezone, &spans)?;
                tx.commit()?;
                Ok(filled)
            })
            .await
    }
}

/// The spans widened to whole buckets, sorted, overlapping and touching ones merged: an
/// erasure passes one span per deleted row, and each bucket is rebuilt once.
pub(super) fn merged_buckets(spans: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    use rollups::{BUCKET_MS, bucket};
    let mut whole: Vec<(Millis, Millis)> = spans
        .into_iter()
        .filter(|(from, to)| from < to)
        .map(|(from, to)| (bucket(from) * BUCKET_MS, (bucket(to - 1) + 1) * BUCKET_MS))
        .collect();
    whole.sort_unstable();
    let mut merged: Vec<(Millis, Millis)> = Vec::with_capacity(whole.len());
    for (from, to) in whole {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}
