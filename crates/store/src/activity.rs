use async_trait::async_trait;
use ferry_domain::analytics::Page;
use ferry_domain::export::{EventRow, PageviewRow, SessionRow};

use crate::StoreError;

/// One visitor's activity a page at a time, newest first: the dashboard's visitor page. The
/// visitor is an [`ferry_domain::export::Identity::visitor_key`] from `find_subject`, so the
/// caller has already checked whose it is. Cursors are opaque and tagged per list; a page
/// holds at most `limit` rows.
#[async_trait]
pub trait VisitorActivity: Send + Sync {
    async fn visitor_sessions(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<SessionRow>, StoreError>;
    async fn visitor_pageviews(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<PageviewRow>, StoreError>;
    async fn visitor_events(
        &self,
        visitor: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<EventRow>, StoreError>;
}
