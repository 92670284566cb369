//! Export segments: each closed day of a website's page views and events, formatted ahead of
//! time as CSV and NDJSON and deflated in blocks (the export crate's `bulk::segment`), so a
//! bulk export copies closed days instead of reading and formatting them again.
//!
//! - [`build`]: the compactor that writes missing segments, and removes files no record
//!   points to; the worker runs it in the background, `ferry compact` on demand.
//! - [`plan`]: which stretches of an export's window segments cover, and which are read live.
//! - [`read`]: a thread that hands an export its pieces in order, blocks and live rows.
//!
//! Segments are a cache: the store's triggers forget a segment when any row of its day
//! changes (a late event, an erasure), exports then read that day live, and the compactor
//! builds it again. Deleting the directory is safe.

pub mod build;
pub mod count;
pub mod plan;
pub mod read;

use std::path::{Path, PathBuf};

use ferry_export::bulk::formats::TextFormat;

/// The data types and formats segments are kept for: the text rows of the big tables.
pub const DATA_TYPES: [&str; 2] = ["pageviews", "events"];
pub const FORMATS: [(TextFormat, &str); 2] =
    [(TextFormat::Csv, "csv"), (TextFormat::Ndjson, "ndjson")];

/// Where segment files live: `DATA_DIR/segments/{id}.seg`.
#[derive(Debug, Clone)]
pub struct SegmentFiles {
    pub dir: PathBuf,
}

impl SegmentFiles {
    pub fn new(data_dir: &Path) -> Self {
        SegmentFiles {
            dir: data_dir.join("segments"),
        }
    }

    pub fn path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id}.seg"))
    }

    /// Where a segment is written before it is complete.
    pub fn building(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id}.seg.tmp"))
    }
}

pub fn format_name(format: TextFormat) -> Option<&'static str> {
    FORMATS.iter().find(|(f, _)| *f == format).map(|(_, n)| *n)
}
