//! [`BulkStore`] on SQLite: the row readers of `bulk` and `split`, the facts of `bulk_facts`.

use ferry_domain::analytics::{DayPoint, Totals, VisitorRow};
use ferry_domain::bulk::{BulkCounts, BulkEvent, BulkPageview, BulkSession};
use ferry_domain::{DateRange, Millis, Website};

use super::{SqliteStore, analytics, bulk, bulk_facts, split, stream, visitors};
use crate::{BatchStream, BulkStore, RowReceiver, StoreError, Window};

#[async_trait::async_trait]
impl BulkStore for SqliteStore {
    fn bulk_pageviews(&self, website: &str, window: Window) -> BatchStream<BulkPageview> {
        split::table_rows(
            &self.pool,
            "pageviews",
            website.to_string(),
            window,
            bulk::pageviews,
        )
    }

    fn bulk_events(&self, website: &str, window: Window) -> BatchStream<BulkEvent> {
        split::table_rows(
            &self.pool,
            "events",
            website.to_string(),
            window,
            bulk::events,
        )
    }

    fn bulk_sessions(&self, website: &str, window: Window) -> BatchStream<BulkSession> {
        let website = website.to_string();
        bulk::batches(&self.pool, move |c, send| {
            bulk::sessions(c, &website, window, send)
        })
    }

    fn bulk_visitors(&self, website: &str, window: Window) -> RowReceiver<VisitorRow> {
        let website = website.to_string();
        stream::rows(&self.pool, move |c, each| {
            bulk::scanning(c, |c| {
                let pk = bulk::website_pk(c, &website)?;
                visitors::each_visitor(c, pk, window, each)
            })
        })
    }

    async fn bulk_event_keys(
        &self,
        website: &str,
        window: Window,
    ) -> Result<Vec<String>, StoreError> {
        let website = website.to_string();
        self.pool
            .read(move |c| bulk::scanning(c, |c| bulk_facts::event_keys(c, &website, window)))
            .await
    }

    async fn bulk_counts(&self, website: &str, window: Window) -> Result<BulkCounts, StoreError> {
        let website = website.to_string();
        self.pool
            .read(move |c| bulk::scanning(c, |c| bulk_facts::counts(c, &website, window)))
            .await
    }

    async fn first_activity(&self, website: &str) -> Result<Option<Millis>, StoreError> {
        let website = website.to_string();
        self.pool
            .read(move |c| bulk_facts::first_activity(c, &website))
            .await
    }

    async fn bulk_totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError> {
        let website = website.clone();
        self.pool
            .read(move |c| bulk::scanning(c, |c| analytics::totals(c, &website, range)))
            .await
    }
}
