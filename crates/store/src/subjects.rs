use async_trait::async_trait;
use ferry_domain::export::{EventRow, ExportRange, PageviewRow, SessionRow, Subject, SubjectRef};
use ferry_domain::{AccountId, Millis};

use crate::{RowReceiver, StoreError};

/// One person's data, for a data-subject export. Their visitors are named by
/// [`ferry_domain::export::Identity::visitor_key`], a key only the store that handed it out
/// understands.
#[async_trait]
pub trait Subjects: Send + Sync {
    /// The person a user id, email or visitor id names in `account` (on one website when
    /// given): their profile and every visitor linked to them. `None` when nobody matches.
    async fn find_subject(
        &self,
        account: AccountId,
        subject: &SubjectRef,
        website_id: Option<&str>,
    ) -> Result<Option<Subject>, StoreError>;
    /// The page views of visitors (`Identity::visitor_key`) in the range.
    fn subject_pageviews(&self, visitors: Vec<i64>, range: ExportRange)
    -> RowReceiver<PageviewRow>;
    fn subject_events(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<EventRow>;
    fn subject_sessions(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<SessionRow>;
    /// Every property key of those visitors' events in the range, sorted.
    async fn subject_event_keys(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> Result<Vec<String>, StoreError>;
    /// The first and last instant of those visitors' activity, `None` without any.
    async fn subject_activity_span(
        &self,
        visitors: Vec<i64>,
    ) -> Result<Option<(Millis, Millis)>, StoreError>;
}
