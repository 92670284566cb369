//! The size and SHA-256 of a stream as it is written: what `manifest.json` lists for every file
//! in a package, and what the worker records for each artifact it stores. One writer for all of
//! them, so every checksum Ferry shows is taken the same way, over the bytes as written.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256};

use crate::meter::Meter;
use crate::package::FileEntry;

/// Passes writes on to `inner`, counting and hashing the bytes `inner` accepted.
///
/// ```
/// use std::io::Write;
/// let mut out = ferry_export::hashing::HashingWriter::new(Vec::new());
/// out.write_all(b"abc").unwrap();
/// let (bytes, entry) = out.into_entry("a.txt");
/// assert_eq!((bytes, entry.bytes), (b"abc".to_vec(), 3));
/// assert!(entry.sha256.starts_with("ba7816bf"));
/// ```
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
    /// Hears of every byte, for progress; `None` when something else counts them.
    meter: Option<Arc<Meter>>,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            meter: None,
        }
    }

    /// Reports the bytes written to `meter` as well (progress only: the byte limit is checked
    /// where rows are formatted, not here).
    pub fn with_meter(mut self, meter: Option<Arc<Meter>>) -> Self {
        self.meter = meter;
        self
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The writer, with the size and lowercase hex SHA-256 of what went into it.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }

    /// The writer, with the manifest entry of what went into it under `name`.
    pub fn into_entry(self, name: &str) -> (W, FileEntry) {
        let (inner, bytes, sha256) = self.finish();
        let entry = FileEntry {
            name: name.to_string(),
            bytes,
            sha256,
        };
        (inner, entry)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if let Some(meter) = &self.meter {
            meter.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most three bytes a call, as a pipe or socket may.
    struct Short(Vec<u8>);

    impl Write for Short {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_the_bytes_the_inner_writer_took_are_counted_hashed_and_metered() {
        let meter = Meter::new(None);
        let mut out = HashingWriter::new(Short(Vec::new())).with_meter(Some(meter.clone()));
        out.write_all(b"hello, world").unwrap();
        let (inner, bytes, sha256) = out.finish();
        assert_eq!(inner.0, b"hello, world");
        assert_eq!(bytes, 12);
        assert_eq!(sha256, hex::encode(Sha256::digest(b"hello, world")));
        assert_eq!(meter.bytes.load(Ordering::Relaxed), 12);
    }
}
