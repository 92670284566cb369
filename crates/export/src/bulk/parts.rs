//! Splitting a data file into numbered parts: `pageviews-00001.csv`, `pageviews-00002.csv`, …
//! Each part is a whole file on its own (its own CSV header, its own JSON document) of at most
//! the part size, closed before the row that would overflow it; every row lands in exactly one
//! part and a part holds at least one row (a single row larger than the part size gets a part
//! to itself). An empty data file is one part with no rows.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::segment::Block;
use super::sink::PartSink;

/// Bytes handed to the sink at a time.
const CHUNK: usize = 256 * 1024;

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

/// How one format frames its rows within a part.
pub trait Framing {
    /// `pageviews-00001.csv` for part 1.
    fn extension(&self) -> &'static str;
    /// Bytes that open each part (a CSV header, the head of a JSON document).
    fn head(&self, part: u32, out: &mut Vec<u8>);
    /// Between two rows of a part (`,\n` in a JSON array; rows end in `\n` otherwise).
    fn separator(&self) -> &'static [u8];
    /// Bytes that close each part.
    fn tail(&self) -> &'static [u8];
}

/// Writes rows into parts through a [`PartSink`].
pub struct Splitter<'a, F: Framing> {
    framing: F,
    stem: &'a str,
    part_size: u64,
    sink: &'a mut dyn PartSink,
    meter: &'a Meter,
    buffer: Vec<u8>,
    part: u32,
    part_bytes: u64,
    part_rows: u64,
    rows: u64,
    /// Rows formatted since the meter last heard.
    unmetered: (u64, u64),
}

impl<'a, F: Framing> Splitter<'a, F> {
    pub fn new(
        framing: F,
        stem: &'a str,
        part_size: u64,
        sink: &'a mut dyn PartSink,
        meter: &'a Meter,
    ) -> io::Result<Self> {
        let mut splitter = Splitter {
            framing,
            stem,
            part_size: part_size.max(1),
            sink,
            meter,
            buffer: Vec::with_capacity(CHUNK * 2),
            part: 0,
            part_bytes: 0,
            part_rows: 0,
            rows: 0,
            unmetered: (0, 0),
        };
        splitter.open()?;
        Ok(splitter)
    }

    fn open(&mut self) -> io::Result<()> {
        self.part += 1;
        let name = format!(
            "{}-{:05}.{}",
            self.stem,
            self.part,
            self.framing.extension()
        );
        self.sink.begin(&name, true)?;
        let start = self.buffer.len();
        self.framing.head(self.part, &mut self.buffer);
        self.part_bytes = (self.buffer.len() - start) as u64;
        self.part_rows = 0;
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        self.buffer.extend_from_slice(self.framing.tail());
        self.sink.write(std::mem::take(&mut self.buffer))?;
        self.buffer = Vec::with_capacity(CHUNK * 2);
        self.sink.end()
    }

    /// Adds one row: `format` appends its bytes to the buffer it is given.
    pub fn row(&mut self, format: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        let separator = if self.part_rows > 0 {
            self.framing.separator()
        } else {
            b""
        };
        let start = self.buffer.len();
        self.buffer.extend_from_slice(separator);
        format(&mut self.buffer);
        let added = (self.buffer.len() - start) as u64;
        let tail = self.framing.tail().len() as u64;
        if self.part_rows > 0 && self.part_bytes + added + tail > self.part_size {
            // Move the row (without its separator) into the next part.
            let row = self.buffer.split_off(start + separator.len());
            self.buffer.truncate(start);
            self.close()?;
            self.open()?;
            self.part_bytes += row.len() as u64;
            self.buffer.extend_from_slice(&row);
        } else {
            self.part_bytes += added;
        }
        self.part_rows += 1;
        self.rows += 1;
        self.unmetered.0 += 1;
        self.unmetered.1 += added;
        if self.buffer.len() >= CHUNK {
            self.sink.write(std::mem::replace(
                &mut self.buffer,
                Vec::with_capacity(CHUNK * 2),
            ))?;
        }
        if self.unmetered.0 >= 1024 {
            self.report()?;
        }
        Ok(())
    }

    /// Adds a block of rows formatted ahead of time. A block that fits the part goes to the
    /// sink whole (a ZIP keeps its deflated bytes); one that would cross the part's end, or a
    /// format that separates rows, takes the row-by-row path.
    pub fn block(&mut self, block: Block) -> io::Result<()> {
        let raw = block.raw.len() as u64;
        let tail = self.framing.tail().len() as u64;
        if !self.framing.separator().is_empty() || self.part_bytes + raw + tail > self.part_size {
            for row in block.rows() {
                self.row(|out| out.extend_from_slice(row))?;
            }
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.sink.write(std::mem::replace(
                &mut self.buffer,
                Vec::with_capacity(CHUNK * 2),
            ))?;
        }
        self.report()?;
        self.meter.add(block.rows, raw)?;
        self.part_bytes += raw;
        self.part_rows += block.rows;
        self.rows += block.rows;
        self.sink.write_block(block)
    }

    fn report(&mut self) -> io::Result<()> {
        let (rows, bytes) = std::mem::take(&mut self.unmetered);
        self.meter.add(rows, bytes)
    }

    /// Closes the last part; returns the rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        self.report()?;
        self.close()?;
        Ok(self.rows)
    }
}
