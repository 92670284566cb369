use async_trait::async_trait;
use ferry_domain::analytics::{DayPoint, Totals, VisitorRow};
use ferry_domain::bulk::{BulkCounts, BulkEvent, BulkPageview, BulkSession};
use ferry_domain::{DateRange, Millis, Website};

use crate::{BatchStream, RowReceiver, StoreError, Window};

/// A whole website's rows for a bulk export, streamed, and the facts known before them.
#[async_trait]
pub trait BulkStore: Send + Sync {
    /// A website's page views in the window, oldest first.
    fn bulk_pageviews(&self, website: &str, window: Window) -> BatchStream<BulkPageview>;
    fn bulk_events(&self, website: &str, window: Window) -> BatchStream<BulkEvent>;
    /// Sessions that started in the window.
    fn bulk_sessions(&self, website: &str, window: Window) -> BatchStream<BulkSession>;
    /// Visitors with a session started in the window, as the analytics visitor list has them.
    fn bulk_visitors(&self, website: &str, window: Window) -> RowReceiver<VisitorRow>;
    /// [`crate::Analytics::totals`] for a bulk export: one pass, without filling a reader's
    /// cache.
    async fn bulk_totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError>;
    /// Every property key of the window's events, sorted.
    async fn bulk_event_keys(
        &self,
        website: &str,
        window: Window,
    ) -> Result<Vec<String>, StoreError>;
    async fn bulk_counts(&self, website: &str, window: Window) -> Result<BulkCounts, StoreError>;
    /// When the website's first session started.
    async fn first_activity(&self, website: &str) -> Result<Option<Millis>, StoreError>;
}
