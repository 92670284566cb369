//! The embedded default: SQLite in WAL mode, one file in the data directory. Each area trait
//! is implemented beside its SQL (`impl Accounts for SqliteStore` in `accounts`, and so on).
//!
//! - `conn`: the writer and the reader pool.
//! - `migrations`: schema versions.
//! - `accounts`: accounts and websites ([`crate::Accounts`]); `keys`: API keys
//!   ([`crate::Keys`]).
//! - `ingest`: batches of page views, events and identifies ([`crate::Ingest`]); `rows` writes
//!   them many at a time; `suppression` drops the lines of erased people.
//! - `group_commit`: the ingest thread, which commits waiting batches together.
//! - `sessions`: keeps sessions true to the 30-minute rule as rows arrive; `session_ids`: the
//!   key of the opaque ids they are shown by.
//! - `analytics`: totals, per-day series and page lists ([`crate::Analytics`]); `visitors`: the
//!   visitor list.
//! - `subject`, `subject_rows`: one person's identities, and their rows in time order
//!   ([`crate::Subjects`]).
//! - `queue`: the generic job queue with leases ([`crate::JobQueue`]); `export_mirror` keeps
//!   an export's record in step with its job.
//! - `jobs`: export jobs; `downloads`: their download log; `exports`: both as
//!   [`crate::Exports`].
//! - `audit`: the hash-chained audit trail and receipts ([`crate::Audit`]); `audit_chain`:
//!   checking the chain; `audit_subject`: which entries a `subject` filter names.
//! - `limits`: plan limits and per-account overrides ([`crate::Limits`]).
//! - `stream`: query results handed over in batches through a bounded channel.
//! - `bulk`, `bulk_lookup`, `bulk_facts`: a website's rows over a window for bulk exports, the
//!   lookups they use, and what is known of the window besides its rows; `split`: a bulk
//!   export's big tables read by two connections at once; `bulk_store`: all of them as
//!   [`crate::BulkStore`].
//! - `segments`: export segment records ([`crate::SegmentStore`]).
//! - `sweep`: which exports' files are dead ([`crate::Sweeping`]).
//! - `schedules`: schedules, their cursors and runs ([`crate::Schedules`]).
//! - `requests`: data-subject requests and their timelines ([`crate::Requests`]);
//!   `request_rows`: how their rows read; `request_settings`: the account's settings for them.
//! - `dashboard`: dashboard users and sessions ([`crate::DashboardUsers`]).
//! - `erasure`, `erasure_scrub`: erasure requests' phases, with `secure_delete` and a truncating
//!   checkpoint ([`crate::Erasures`], in `erasures`).
//! - `rollups`: per-15-minute counts and visitor sketches kept with every write, which the
//!   summary and the pages list read (`rollup_read`); `rollup_rebuild` recomputes them from
//!   the rows; `hll`: the HyperLogLog sketches. `analytics_raw` answers from the rows (days
//!   the buckets cannot make up, and the tests' reference).
//! - `spans`: the first and last activity of a website or a person, for "no data in that range".

mod accounts;
mod activity;
mod analytics;
mod analytics_raw;
mod audit;
mod audit_chain;
mod audit_subject;
mod bulk;
mod bulk_facts;
mod bulk_lookup;
mod bulk_store;
mod conn;
mod convert;
mod dashboard;
mod destinations;
mod downloads;
mod erasure;
mod erasure_scrub;
mod erasures;
mod export_mirror;
mod exports;
mod group_commit;
mod hll;
mod identify_policy;
mod ingest;
mod ingest_people;
mod jobs;
mod keys;
mod limits;
mod migrations;
mod page_days;
mod privacy_statements;
mod queue;
mod request_rows;
mod request_settings;
mod requests;
mod rollup_read;
mod rollup_rebuild;
#[cfg(test)]
mod rollup_tests;
#[cfg(test)]
mod rollup_upgrade_tests;
mod rollups;
mod rows;
mod schedule_runs;
mod schedules;
mod segments;
mod session_ids;
mod sessions;
mod spans;
mod split;
mod stream;
mod subject;
mod subject_rows;
mod suppression;
mod sweep;
#[cfg(test)]
mod test_support;
mod visitors;

use std::path::Path;
use std::sync::Arc;

use crate::StoreError;

pub struct SqliteStore {
    pool: Arc<conn::Pool>,
    ingest: group_commit::IngestQueue,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let owned = path.to_path_buf();
        let pool = tokio::task::spawn_blocking(move || -> Result<conn::Pool, StoreError> {
            let mut writer = conn::open_writer(&owned)?;
            migrations::migrate(&mut writer)?;
            conn::Pool::new(&owned, writer)
        })
        .await??;
        let ingest = group_commit::IngestQueue::start(pool.writer())?;
        Ok(SqliteStore {
            pool: Arc::new(pool),
            ingest,
        })
    }
}
