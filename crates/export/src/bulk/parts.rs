//! Splitting a data file into numbered parts: `pageviews-00001.csv`, `pageviews-00002.csv`, …
//! Each part is a whole file on its own (its own CSV header, its own JSON document) of at most
//! the part size, closed before the row that would overflow it; every row lands in exactly one
//! part and a part holds at least one row (a single row larger than the part size gets a part
//! to itself). An empty data file is one part with no rows.

use std::io;

use super::parts_out::PartWriter;
use super::segment::Block;
// The meter counts every kind of export now; it stays reachable here, where callers found it.
pub use crate::meter::{Cancelled, LimitExceeded, Meter};

/// Bytes handed to the part writer at a time.
const CHUNK: usize = 256 * 1024;

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

/// Writes rows into parts through a [`PartWriter`].
pub struct Splitter<'a, F: Framing> {
    framing: F,
    stem: &'a str,
    part_size: u64,
    files: &'a mut dyn PartWriter,
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
        files: &'a mut dyn PartWriter,
        meter: &'a Meter,
    ) -> io::Result<Self> {
        let mut splitter = Splitter {
            framing,
            stem,
            part_size: part_size.max(1),
            files,
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
        self.files.begin(&name, true)?;
        let start = self.buffer.len();
        self.framing.head(self.part, &mut self.buffer);
        self.part_bytes = (self.buffer.len() - start) as u64;
        self.part_rows = 0;
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        self.buffer.extend_from_slice(self.framing.tail());
        self.files.write(std::mem::take(&mut self.buffer))?;
        self.buffer = Vec::with_capacity(CHUNK * 2);
        self.files.end()
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
            self.files.write(std::mem::replace(
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
    /// part writer whole (a ZIP keeps its deflated bytes); one that would cross the part's end, or a
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
            self.files.write(std::mem::replace(
                &mut self.buffer,
                Vec::with_capacity(CHUNK * 2),
            ))?;
        }
        self.report()?;
        self.meter.add(block.rows, raw)?;
        self.part_bytes += raw;
        self.part_rows += block.rows;
        self.rows += block.rows;
        self.files.write_block(block)
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
