//! The ZIP a person receives: the data files, `README.txt` and, last, `manifest.json` with the
//! size and SHA-256 of every other file, written through the same [`ZipStream`] as a bulk
//! export's ZIP.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};

use ferry_domain::export::{Identity, SubjectRef};
use serde::Serialize;

use crate::hashing::HashingWriter;
use zip_stream::ZipStream;

pub mod deflate;
pub mod zip_stream;

/// One file of the package as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub export_id: &'a str,
    pub generated_at: &'a str,
    pub subject: &'a SubjectRef,
    /// Every visitor matched to the subject, so a reviewer sees what was included.
    pub identities: &'a [Identity],
    pub data_types: Vec<&'a str>,
    pub format: &'a str,
    pub date_range: DateRangeOut,
    pub row_counts: BTreeMap<String, u64>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DateRangeOut {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Deflate level of a person's package: small, so the smaller output is worth the time.
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

    /// Writes `manifest.json` (its `files` filled from what was added) and closes the ZIP.
    pub fn finish(mut self, mut manifest: Manifest) -> io::Result<W> {
        manifest.files = self.files.clone();
        let json = serde_json::to_vec_pretty(&manifest)?;
        self.file("manifest.json", |w| w.write_all(&json))?;
        self.zip.finish()
    }
}
