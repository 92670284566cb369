use ferry_domain::Millis;

use crate::{
    Accounts, Analytics, Audit, BulkStore, DashboardUsers, Destinations, Erasures, Exports, Ingest,
    JobQueue, Keys, Limits, Requests, Schedules, SegmentStore, Subjects, Sweeping, VisitorActivity,
};

/// A UTC window `[start, end)` in milliseconds.
pub type Window = (Millis, Millis);

/// Everything Ferry keeps: every area at once, for the callers that hold one store
/// (`Arc<dyn Store>`) and should not care which backend it is. A backend implements the area
/// traits; this one follows from them.
pub trait Store:
    Accounts
    + Keys
    + Ingest
    + Analytics
    + Subjects
    + Exports
    + JobQueue
    + Audit
    + Limits
    + BulkStore
    + SegmentStore
    + Sweeping
    + Schedules
    + Destinations
    + Requests
    + DashboardUsers
    + VisitorActivity
    + Erasures
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: Accounts
        + Keys
        + Ingest
        + Analytics
        + Subjects
        + Exports
        + JobQueue
        + Audit
        + Limits
        + BulkStore
        + SegmentStore
        + Sweeping
        + Schedules
        + Destinations
        + Requests
        + DashboardUsers
        + VisitorActivity
        + Erasures
        + Send
        + Sync
        + 'static
{
}
