use async_trait::async_trait;
use ferry_domain::Millis;
use ferry_domain::bulk::{SegmentFacts, SegmentKey, SegmentRecord};

use crate::{StoreError, Window};

/// Records of export segments (closed days formatted ahead of time); the files are the
/// caller's. A record is claimed before its day's rows are read and made ready once its
/// file is complete; any change to a row of its day deletes the record.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// The website's segments, ready or building, that lie inside `window`, by start.
    async fn segments(
        &self,
        website: &str,
        window: Window,
    ) -> Result<Vec<SegmentRecord>, StoreError>;
    /// Every segment's id, for removing files no record points to.
    async fn segment_ids(&self) -> Result<Vec<i64>, StoreError>;
    /// Claims a segment for building; `None` if it exists already.
    async fn claim_segment(
        &self,
        website: &str,
        key: SegmentKey,
        now: Millis,
    ) -> Result<Option<i64>, StoreError>;
    /// Marks a claim ready; false if a change to its day deleted it while it was built.
    async fn complete_segment(&self, id: i64, facts: SegmentFacts) -> Result<bool, StoreError>;
    /// Forgets the segments `ids`, and claims still building since before `stale_before`.
    async fn drop_segments(
        &self,
        ids: Vec<i64>,
        stale_before: Option<Millis>,
    ) -> Result<u64, StoreError>;
}
