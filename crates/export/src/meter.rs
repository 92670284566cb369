//! Progress and limits of a running export: rows and bytes written so far, the plan's byte
//! limit, and the cancel flag the writers check. Shared by the bulk splitter, which counts and
//! checks at every batch of rows, and by [`crate::hashing::HashingWriter`], which counts bytes.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counts what an export has written so far, for progress, and stops it at the byte limit.
#[derive(Debug, Default)]
pub struct Meter {
    pub rows: AtomicU64,
    /// Data bytes before compression.
    pub bytes: AtomicU64,
    /// The plan's bytes-per-export limit, if any.
    pub limit: Option<u64>,
    /// Set when the job was cancelled: the writers stop at the next rows they count.
    pub cancelled: AtomicBool,
}

/// The error an export stops with once it was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("the export was cancelled")]
pub struct Cancelled;

/// The error an export fails with when it crosses its plan's size limit.
#[derive(Debug, thiserror::Error)]
#[error("the export passed its limit of {limit} bytes after {rows} rows")]
pub struct LimitExceeded {
    pub limit: u64,
    pub rows: u64,
}

impl Meter {
    pub fn new(limit: Option<u64>) -> Arc<Self> {
        Arc::new(Meter {
            limit,
            ..Meter::default()
        })
    }

    pub(crate) fn add(&self, rows: u64, bytes: u64) -> io::Result<()> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::other(Cancelled));
        }
        let rows = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        match self.limit {
            Some(limit) if total > limit => Err(io::Error::other(LimitExceeded { limit, rows })),
            _ => Ok(()),
        }
    }
}
