//! The ZIP a person receives: the data files, `README.txt` and, last, `manifest.json` with the
//! size and SHA-256 of every other file. Written as a stream (no seeking), ZIP64 where sizes
//! need it, entries dated 1980-01-01 so the same rows always give the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use ferry_domain::export::{Identity, SubjectRef};
use serde::Serialize;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use crate::hashing::HashingWriter;

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

pub struct Package<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    files: Vec<FileEntry>,
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> Package<W> {
    pub fn new(out: W) -> Self {
        Package {
            zip: ZipWriter::new_stream(out),
            files: Vec::new(),
        }
    }

    /// Adds a file whose bytes `write` produces.
    pub fn file<T>(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> io::Result<T> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(zip::DateTime::default())
            .large_file(true);
        self.zip.start_file(name, options).map_err(zip_error)?;
        let mut hashing = HashingWriter::new(&mut self.zip);
        let value = write(&mut hashing)?;
        self.files.push(hashing.into_entry(name).1);
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
        Ok(self.zip.finish().map_err(zip_error)?.into_inner())
    }
}
