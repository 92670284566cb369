//! Ferry's storage. Everything the rest of Ferry reads or writes goes through the [`Store`] trait;
//! no other crate builds SQL or sees a driver type.
//!
//! [`Store`] is every area at once; each area is a trait of its own, in its own file, with
//! backend-neutral types:
//! - [`Accounts`] (`accounts`): accounts and their websites.
//! - [`Keys`] (`keys`): API keys.
//! - [`Ingest`] (`ingest`): tracked activity coming in.
//! - [`Analytics`] (`analytics`): totals, visitor and page lists.
//! - [`Subjects`] (`subjects`): one person's identities and their rows, for data-subject exports.
//! - [`Exports`] (`exports`): export jobs, their progress and downloads.
//! - [`Audit`] (`audit`): the hash-chained audit trail and receipts.
//! - [`Limits`] (`limits`): plan limits and per-account overrides.
//! - [`BulkStore`] (`bulk`): a whole website's rows, streamed, for bulk exports.
//! - [`SegmentStore`] (`segments`): records of export segments formatted ahead of time.
//! - [`Sweeping`] (`sweep`): which exports' files are dead, and retiring them.
//! - [`Schedules`] (`schedules`): schedules, their cursors and runs.
//! - [`Destinations`] (`destinations`): destinations, deliveries and alert webhooks.
//! - [`Requests`] (`requests`): data-subject requests, their timelines, request settings.
//! - [`DashboardUsers`] (`dashboard`): who signs in to the dashboard, and their sessions.
//! - [`VisitorActivity`] (`activity`): one visitor's sessions, page views and events, newest
//!   first a page at a time (the dashboard's visitor page).
//! - [`Erasures`] (`erasures`): erasure requests' deletions, phase by phase, and their record.
//!
//! Besides them:
//! - [`prelude`]: the area traits, to import where a concrete store's methods are called.
//! - `stream`: how rows leave the store ([`RowReceiver`], [`BatchStream`]).
//! - [`StoreError`]: what can go wrong, in terms a caller can act on.
//! - [`sqlite`]: the embedded default, one WAL-mode database file in the data directory; each
//!   area's implementation sits beside its SQL there.
//! - [`cursor`]: opaque pagination cursors.
//!
//! `tests/contract.rs` is the story every backend must pass.

mod accounts;
mod activity;
mod analytics;
mod audit;
mod bulk;
pub mod cursor;
mod dashboard;
mod destinations;
mod erasures;
mod error;
mod exports;
mod ingest;
mod keys;
mod limits;
mod queue;
mod requests;
mod schedules;
mod segments;
pub mod sqlite;
mod store;
mod stream;
mod subjects;
mod sweep;

pub use accounts::Accounts;
pub use activity::VisitorActivity;
pub use analytics::Analytics;
pub use audit::{Audit, AuditBreak, AuditChain, AuditFilter};
pub use bulk::BulkStore;
pub use dashboard::{DashboardRole, DashboardUser, DashboardUsers, NewDashboardUser};
pub use destinations::{
    AccountKey, DeliveryRecord, DeliveryResult, DeliveryStatus, DestinationRecord, Destinations,
};
pub use erasures::Erasures;
pub use error::StoreError;
pub use exports::{ExportFilter, Exports, Queued};
pub use ingest::{Ingest, IngestOutcome};
pub use keys::Keys;
pub use limits::Limits;
pub use queue::JobQueue;
pub use requests::{Created, RequestChange, Requests};
pub use schedules::{RunStatus, Schedules};
pub use segments::SegmentStore;
pub use sqlite::SqliteStore;
pub use store::{Store, Window};
pub use stream::{BatchStream, RowReceiver};
pub use subjects::Subjects;
pub use sweep::{ArtifactOwner, DeadArtifact, RetireReason, Sweeping};

use std::path::Path;
use std::sync::Arc;

/// The area traits, for `use ferry_store::prelude::*;` where a concrete store is used (a
/// backend's own tests, a `SqliteStore`): its methods need their trait in scope. Through
/// `dyn Store` or a `T: Store` bound they resolve without it. Imported anonymously, because
/// the names collide with the domain's (`Limits` is also the domain's limits); name a trait
/// through the crate root when it must be named.
pub mod prelude {
    pub use crate::{
        Accounts as _, Analytics as _, Audit as _, BulkStore as _, DashboardUsers as _,
        Destinations as _, Erasures as _, Exports as _, Ingest as _, Keys as _, Limits as _,
        Requests as _, Schedules as _, SegmentStore as _, Subjects as _, Sweeping as _,
        VisitorActivity as _,
    };
}

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path) for SQLite.
pub async fn open(url: &str, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StoreError::Unsupported(
            "PostgreSQL support arrives with the scale-out issue; leave --database unset to use SQLite".into(),
        ));
    }
    let path = match url.strip_prefix("sqlite://") {
        Some(p) => Path::new(p).to_path_buf(),
        None if url.is_empty() => data_dir.join("ferry.db"),
        None => Path::new(url).to_path_buf(),
    };
    Ok(Arc::new(SqliteStore::open(&path).await?))
}
