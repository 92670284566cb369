use async_trait::async_trait;
use ferry_domain::analytics::{DayPoint, Page, PageRow, TopPage, Totals, VisitorRow};
use ferry_domain::{DateRange, Millis, Website};

use crate::StoreError;

/// The dashboard's and the API's reports over a website's days.
#[async_trait]
pub trait Analytics: Send + Sync {
    /// Totals over the range and one point per local day.
    async fn totals(
        &self,
        website: &Website,
        range: DateRange,
    ) -> Result<(Totals, Vec<DayPoint>), StoreError>;
    /// Visitors who started a session in the range, ordered by first appearance in the store.
    async fn visitors(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<VisitorRow>, StoreError>;
    /// URLs viewed in the range, most viewed first.
    async fn pages(
        &self,
        website: &Website,
        range: DateRange,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageRow>, StoreError>;
    /// The range's `limit` most viewed URLs with their page views, most first, then by URL: the
    /// `pages` list's first rows without unique visitors, at a cost that follows the URLs, not
    /// the rows or 15-minute buckets (the dashboard's Overview).
    async fn top_pages(
        &self,
        website: &Website,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<TopPage>, StoreError>;
    /// The first and last instant of any activity on the website, `None` without any: where
    /// its data lies, for an answer whose range turned out empty.
    async fn activity_span(
        &self,
        website: &Website,
    ) -> Result<Option<(Millis, Millis)>, StoreError>;
    /// Recomputes the website's rollups from its rows for every 15-minute bucket that overlaps
    /// one of `spans` (`[from, to)` instants), and its page views per local day for every day
    /// they touch; returns how many buckets hold data afterwards.
    /// Whatever deletes rows calls this for the instants of the rows it deleted (and the start
    /// of their sessions), so that the totals drop by exactly those rows. Also `ferry analytics
    /// rebuild`. Costs one read of the rows in those buckets.
    async fn rebuild_rollups(
        &self,
        website: &Website,
        spans: Vec<(Millis, Millis)>,
    ) -> Result<usize, StoreError>;
}
