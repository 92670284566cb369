//! The one package path of every export: the ZIP writer ([`zip_stream`], with [`deflate`]
//! for entries that mix live and ahead-of-time deflated data), `manifest.json` ([`manifest`])
//! and `README.txt` ([`readme`]), each parameterised by the kind of export, not copied per kind.
//!
//! [`Package`] is a whole ZIP written on the caller's thread, file by file: a person's export.
//! A website's bulk export writes through the same pieces from a thread of its own
//! ([`crate::bulk::parts_out`]).

pub mod deflate;
pub mod manifest;
pub mod readme;
pub mod zip_stream;

use std::io::{self, BufWriter, Write};

use crate::hashing::HashingWriter;
pub use manifest::{Description, FileEntry, Kind, Manifest, RowCounts};
use zip_stream::ZipStream;

/// Deflate level of a person's package: it is small, so level 6's smaller output costs little
/// time (a bulk export picks its own level, usually 1).
const LEVEL: u32 = 6;

/// Row writers make many small writes; they are deflated and hashed in pieces this large.
const BUFFER: usize = 64 * 1024;

pub struct Package<W: Write> {
    zip: ZipStream<W>,
    files: Vec<FileEntry>,
}

impl<W: Write> Package<W> {
    pub fn new(out: W) -> Self {
        Package {
            zip: ZipStream::new(out, LEVEL),
            files: Vec::new(),
        }
    }

    /// Adds a file whose bytes `write` produces.
    pub fn file<T>(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut entry = self.zip.entry(name, true)?;
        let mut out = BufWriter::with_capacity(BUFFER, HashingWriter::new(&mut entry));
        let value = write(&mut out)?;
        let hashing = out.into_inner().map_err(|e| e.into_error())?;
        self.files.push(hashing.into_entry(name).1);
        entry.finish()?;
        Ok(value)
    }

    /// Files added so far, for the manifest.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Writes `README.txt` and, last, `manifest.json` (listing every file added before it),
    /// and closes the ZIP.
    pub fn finish(mut self, description: &Description, row_counts: &RowCounts) -> io::Result<W> {
        let readme = readme::text(description);
        self.file("README.txt", |w| w.write_all(readme.as_bytes()))?;
        let manifest = Manifest {
            description,
            row_counts,
            files: &self.files,
        }
        .to_json()?;
        self.file("manifest.json", |w| w.write_all(&manifest))?;
        self.zip.finish()
    }
}
