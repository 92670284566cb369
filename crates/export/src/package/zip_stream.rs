//! The one ZIP writer of every export, a person's or a website's: streamed (no seeking, each
//! entry's sizes and CRC in a data descriptor after it), ZIP64 where sizes or counts need it,
//! entries dated 1980-01-01 so the same files always give the same bytes. An entry's deflate
//! stream may mix data deflated here with blocks deflated ahead of time ([`super::deflate`]),
//! which a bulk export splices in from its segments.

use std::io::{self, Write};

use rawzip::time::UtcDateTime;
use rawzip::{CompressionMethod, DataDescriptorOutput, ZipArchiveWriter, ZipEntryWriter};

use super::deflate::MixedDeflate;

fn zip_error(e: rawzip::Error) -> io::Error {
    io::Error::other(e)
}

/// A ZIP being written to `W`, one entry at a time.
pub struct ZipStream<W: Write> {
    zip: ZipArchiveWriter<W>,
    /// Deflate level of every compressed entry; 1 is several times faster than 6 for a few
    /// per cent more bytes.
    level: u32,
}

impl<W: Write> ZipStream<W> {
    pub fn new(out: W, level: u32) -> Self {
        ZipStream {
            zip: ZipArchiveWriter::new(out),
            level,
        }
    }

    /// Starts the entry `name`; `compress`: deflate it (not worth it for Parquet, which is
    /// compressed already). Write its bytes, then [`ZipEntry::finish`] it before the next.
    pub fn entry(&mut self, name: &str, compress: bool) -> io::Result<ZipEntry<'_, W>> {
        let method = if compress {
            CompressionMethod::DEFLATE
        } else {
            CompressionMethod::STORE
        };
        let dated = UtcDateTime::from_components(1980, 1, 1, 0, 0, 0, 0).expect("a valid date");
        let (out, _) = self
            .zip
            .new_file(name)
            .compression_method(method)
            .last_modified(dated)
            .start()
            .map_err(zip_error)?;
        Ok(ZipEntry {
            out,
            crc: crc32fast::Hasher::new(),
            bytes: 0,
            deflate: compress.then(|| MixedDeflate::new(self.level)),
        })
    }

    /// Writes the central directory; returns the output.
    pub fn finish(self) -> io::Result<W> {
        self.zip.finish().map_err(zip_error)
    }
}

/// One entry being written: its bytes as they are go in through [`Write`] or, deflated ahead of
/// time, through [`ZipEntry::splice`].
pub struct ZipEntry<'a, W: Write> {
    out: ZipEntryWriter<'a, W>,
    /// CRC-32 and size of the bytes before compression, for the data descriptor.
    crc: crc32fast::Hasher,
    bytes: u64,
    /// `None`: the entry is stored as it is.
    deflate: Option<MixedDeflate>,
}

impl<W: Write> ZipEntry<'_, W> {
    /// Adds `raw`, which `deflated` holds deflated by [`super::deflate::deflate_block`]: a
    /// deflated entry takes those bytes as they are, a stored one takes `raw`.
    pub fn splice(&mut self, raw: &[u8], deflated: &[u8]) -> io::Result<()> {
        self.crc.update(raw);
        self.bytes += raw.len() as u64;
        match &mut self.deflate {
            Some(d) => d.splice(deflated, &mut self.out),
            None => self.out.write_all(raw),
        }
    }

    /// Ends the deflate stream and writes the data descriptor.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(d) = self.deflate.take() {
            d.finish(&mut self.out)?;
        }
        self.out
            .finish(DataDescriptorOutput::new(self.crc.finalize(), self.bytes))
            .map_err(zip_error)?;
        Ok(())
    }
}

impl<W: Write> Write for ZipEntry<'_, W> {
    /// Takes all of `buf` (the deflater holds what it has not written yet), so callers may use
    /// `write` as `write_all`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.crc.update(buf);
        self.bytes += buf.len() as u64;
        match &mut self.deflate {
            Some(d) => d.write(buf, &mut self.out)?,
            None => self.out.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
