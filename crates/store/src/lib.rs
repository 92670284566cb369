//! Ferry's storage. Everything the rest of Ferry reads or writes goes through the [`Store`] trait;
//! no other crate builds SQL or sees a driver type.
//!
//! - [`Store`]: the one interface (accounts, websites, keys, ingest, analytics), with the
//!   bulk reads ([`BulkStore`]) and export segment records ([`SegmentStore`]) as its parts.
//! - [`StoreError`]: what can go wrong, in terms a caller can act on.
//! - [`sqlite`]: the embedded default, one WAL-mode database file in the data directory.
//! - [`cursor`]: opaque pagination cursors.

mod bulk;
pub mod cursor;
mod error;
mod queue;
mod segments;
pub mod sqlite;
mod store;

pub use bulk::BulkStore;
pub use error::StoreError;
pub use queue::JobQueue;
pub use segments::SegmentStore;
pub use sqlite::SqliteStore;
pub use sqlite::audit::{AuditBreak, AuditFilter};
pub use sqlite::jobs::{ExportFilter, Queued};
pub use store::{BatchReceiver, IngestOutcome, RowReceiver, Store, Window};

use std::path::Path;
use std::sync::Arc;

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
