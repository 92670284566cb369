//! Export segments: the rows of one data type over one closed day, formatted ahead of time as
//! the bulk export writes them (CSV or NDJSON) and deflated in blocks of whole rows. A bulk
//! export places a segment's blocks in its ZIP as they are and inflates them for plain files,
//! so the rows of a closed day are read from the store and formatted once, not per export.
//!
//! A file holds a header (magic, format), the deflated blocks, and an index of the blocks
//! (deflated and raw length, rows, CRC-32 of the raw bytes) before a fixed-size trailer.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::formats::TextFormat;
use crate::package::deflate::deflate_block;

/// The row layout segments are written in. Bump it whenever a CSV or NDJSON row changes:
/// segments of another layout are then not used, and rebuilt.
pub const LAYOUT: &str = "1";

const MAGIC: &[u8; 8] = b"FRYSEG01";
const TRAILER: &[u8; 8] = b"FRYSEGIX";
/// Raw bytes per block: large enough to deflate well, small enough to re-split cheaply at a
/// part boundary.
const BLOCK_RAW: usize = 1 << 20;
const INDEX_ENTRY: usize = 16;
/// An empty final deflate block (fixed codes): what ends a stream after a sync flush.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// Whole rows, formatted, with their deflated form.
#[derive(Debug, Clone)]
pub struct Block {
    pub raw: Vec<u8>,
    pub deflated: Vec<u8>,
    pub rows: u64,
    /// CSV rows (quoted fields may hold line breaks); otherwise one row per line.
    pub csv: bool,
}

impl Block {
    /// The block's rows, each with its line ending.
    pub fn rows(&self) -> impl Iterator<Item = &[u8]> {
        let (raw, csv) = (&self.raw[..], self.csv);
        let mut start = 0;
        let mut quoted = false;
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < raw.len() {
                let byte = raw[at];
                at += 1;
                match byte {
                    b'"' if csv => quoted = !quoted,
                    b'\n' if !quoted => {
                        let row = &raw[start..at];
                        start = at;
                        return Some(row);
                    }
                    _ => {}
                }
            }
            (start < raw.len()).then(|| {
                let row = &raw[start..];
                start = raw.len();
                row
            })
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    deflated: u32,
    raw: u32,
    rows: u32,
    crc: u32,
}

/// What a finished segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentSummary {
    pub rows: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
}

fn format_byte(format: TextFormat) -> io::Result<u8> {
    match format {
        TextFormat::Csv => Ok(b'c'),
        TextFormat::Ndjson => Ok(b'n'),
        TextFormat::Json => Err(io::Error::other(
            "segments hold CSV or NDJSON rows, not JSON documents",
        )),
    }
}

/// Writes one segment: rows in, blocks out.
pub struct SegmentWriter {
    file: BufWriter<File>,
    level: u32,
    buffer: Vec<u8>,
    buffered_rows: u32,
    index: Vec<IndexEntry>,
    summary: SegmentSummary,
}

impl SegmentWriter {
    /// `level`: deflate level of the blocks, which is the level of every ZIP they go into.
    pub fn create(path: &Path, format: TextFormat, level: u32) -> io::Result<Self> {
        let mut file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        file.write_all(MAGIC)?;
        file.write_all(&[format_byte(format)?])?;
        Ok(SegmentWriter {
            file,
            level,
            buffer: Vec::with_capacity(BLOCK_RAW + 64 * 1024),
            buffered_rows: 0,
            index: Vec::new(),
            summary: SegmentSummary {
                stored_bytes: MAGIC.len() as u64 + 1,
                ..SegmentSummary::default()
            },
        })
    }

    /// Adds one row: `format` appends its bytes, line ending included.
    pub fn row(&mut self, format: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        format(&mut self.buffer);
        self.buffered_rows += 1;
        if self.buffer.len() >= BLOCK_RAW {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.buffered_rows == 0 {
            return Ok(());
        }
        let deflated = deflate_block(&self.buffer, self.level)?;
        self.file.write_all(&deflated)?;
        self.index.push(IndexEntry {
            deflated: deflated.len() as u32,
            raw: self.buffer.len() as u32,
            rows: self.buffered_rows,
            crc: crc32fast::hash(&self.buffer),
        });
        self.summary.rows += u64::from(self.buffered_rows);
        self.summary.raw_bytes += self.buffer.len() as u64;
        self.summary.stored_bytes += deflated.len() as u64;
        self.buffer.clear();
        self.buffered_rows = 0;
        Ok(())
    }

    /// Writes the last block and the index; the file is complete once this returns.
    pub fn finish(mut self) -> io::Result<SegmentSummary> {
        self.flush_block()?;
        for entry in &self.index {
            for value in [entry.deflated, entry.raw, entry.rows, entry.crc] {
                self.file.write_all(&value.to_le_bytes())?;
            }
        }
        self.file
            .write_all(&(self.index.len() as u64).to_le_bytes())?;
        self.file.write_all(TRAILER)?;
        self.file.flush()?;
        self.summary.stored_bytes += (self.index.len() * INDEX_ENTRY + 16) as u64;
        Ok(self.summary)
    }
}

/// Reads a segment's blocks back, inflated and checked against their CRC.
pub struct SegmentReader {
    file: File,
    csv: bool,
    index: Vec<IndexEntry>,
    next: usize,
    inflate: libdeflater::Decompressor,
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("export segment damaged: {what}"),
    )
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

impl SegmentReader {
    /// Opens a segment and reads its index; a truncated or foreign file is an error.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        let mut head = [0u8; 9];
        file.read_exact(&mut head)
            .map_err(|_| damaged("no header"))?;
        if &head[..8] != MAGIC {
            return Err(damaged("not a segment file"));
        }
        let csv = match head[8] {
            b'c' => true,
            b'n' => false,
            _ => return Err(damaged("unknown format")),
        };
        let length = file.metadata()?.len();
        let mut trailer = [0u8; 16];
        if length < 9 + 16 {
            return Err(damaged("no index"));
        }
        file.seek(SeekFrom::End(-16))?;
        file.read_exact(&mut trailer)?;
        if &trailer[8..] != TRAILER {
            return Err(damaged("no index"));
        }
        let blocks = u64::from_le_bytes(trailer[..8].try_into().expect("eight bytes"));
        let index_bytes = blocks
            .checked_mul(INDEX_ENTRY as u64)
            .filter(|b| b + 9 + 16 <= length)
            .ok_or_else(|| damaged("index larger than the file"))?;
        file.seek(SeekFrom::End(-16 - index_bytes as i64))?;
        let mut raw_index = vec![0u8; index_bytes as usize];
        file.read_exact(&mut raw_index)?;
        let index: Vec<IndexEntry> = raw_index
            .chunks_exact(INDEX_ENTRY)
            .map(|e| IndexEntry {
                deflated: u32_at(e, 0),
                raw: u32_at(e, 4),
                rows: u32_at(e, 8),
                crc: u32_at(e, 12),
            })
            .collect();
        let data: u64 = index.iter().map(|e| u64::from(e.deflated)).sum();
        if 9 + data + index_bytes + 16 != length {
            return Err(damaged("blocks and index disagree"));
        }
        file.seek(SeekFrom::Start(9))?;
        Ok(SegmentReader {
            file,
            csv,
            index,
            next: 0,
            inflate: libdeflater::Decompressor::new(),
        })
    }

    pub fn rows(&self) -> u64 {
        self.index.iter().map(|e| u64::from(e.rows)).sum()
    }

    fn read_block(&mut self, entry: IndexEntry) -> io::Result<Block> {
        let length = entry.deflated as usize;
        let mut deflated = Vec::with_capacity(length + FINAL_BLOCK.len());
        deflated.resize(length, 0);
        self.file.read_exact(&mut deflated)?;
        // libdeflate inflates whole streams: the block ends in a sync flush, so an empty final
        // block makes it one (and is taken off again: the block is spliced without it).
        deflated.extend_from_slice(&FINAL_BLOCK);
        let mut raw = vec![0u8; entry.raw as usize];
        let inflated = self.inflate.deflate_decompress(&deflated, &mut raw);
        deflated.truncate(length);
        if inflated.ok() != Some(raw.len()) || crc32fast::hash(&raw) != entry.crc {
            return Err(damaged("a block's checksum does not match"));
        }
        Ok(Block {
            raw,
            deflated,
            rows: u64::from(entry.rows),
            csv: self.csv,
        })
    }
}

impl Iterator for SegmentReader {
    type Item = io::Result<Block>;

    fn next(&mut self) -> Option<io::Result<Block>> {
        let entry = *self.index.get(self.next)?;
        self.next += 1;
        Some(self.read_block(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(format: TextFormat, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| match format {
                TextFormat::Csv if i % 7 == 0 => {
                    format!("2026-01-01T00:00:00Z,\"line\r\nbreak \"\"{i}\"\"\",x\r\n").into_bytes()
                }
                TextFormat::Csv => format!("2026-01-01T00:00:00Z,row {i},x\r\n").into_bytes(),
                _ => format!("{{\"row\":{i},\"text\":\"a\\nb\"}}\n").into_bytes(),
            })
            .collect()
    }

    #[test]
    fn a_segment_reads_back_as_its_rows_in_blocks() {
        let dir = tempfile::tempdir().unwrap();
        for format in [TextFormat::Csv, TextFormat::Ndjson] {
            let path = dir.path().join("seg");
            let rows = rows_of(format, 60_000);
            let mut writer = SegmentWriter::create(&path, format, 1).unwrap();
            for row in &rows {
                writer.row(|out| out.extend_from_slice(row)).unwrap();
            }
            let summary = writer.finish().unwrap();
            assert_eq!(summary.rows, 60_000);
            assert_eq!(
                summary.stored_bytes,
                std::fs::metadata(&path).unwrap().len()
            );
            let reader = SegmentReader::open(&path).unwrap();
            assert_eq!(reader.rows(), 60_000);
            let blocks: Vec<Block> = reader.map(Result::unwrap).collect();
            assert!(blocks.len() > 1, "{} blocks", blocks.len());
            let back: Vec<Vec<u8>> = blocks
                .iter()
                .flat_map(|b| {
                    assert_eq!(b.rows().count() as u64, b.rows);
                    b.rows().map(<[u8]>::to_vec).collect::<Vec<_>>()
                })
                .collect();
            assert_eq!(back, rows);
        }
    }

    #[test]
    fn a_damaged_segment_is_an_error_not_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let mut writer = SegmentWriter::create(&path, TextFormat::Csv, 1).unwrap();
        for row in rows_of(TextFormat::Csv, 1000) {
            writer.row(|out| out.extend_from_slice(&row)).unwrap();
        }
        writer.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let read: io::Result<Vec<Block>> = SegmentReader::open(&path).unwrap().collect();
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(SegmentReader::open(&path).is_err());
    }
}
