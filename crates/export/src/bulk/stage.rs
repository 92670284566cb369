//! A stage between each separate file of an unzipped export and the disk: an encryptor, in
//! practice. The export crate knows nothing of OpenPGP; the caller hands in a [`FileStage`]
//! that wraps each file's writer and names the file as stored (`part.csv` → `part.csv.gpg`).
//! The stage runs on the file writer thread, beside the formatting that feeds it; the stored
//! file's size and SHA-256 are taken over the bytes that reach the disk.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use crate::hashing::HashingWriter;
use crate::package::FileEntry;

/// A stored file as it is written: buffered and hashed.
pub type HashedFile = HashingWriter<BufWriter<File>>;

/// Wraps each file's output. Errors end the export.
pub trait FileStage: Send + 'static {
    /// The name the file `name` is stored under.
    fn stored_name(&self, name: &str) -> String;
    /// The writer the content of the file `name` goes through on its way into `out`.
    fn wrap(&self, name: &str, out: HashedFile) -> io::Result<Box<dyn StagedFile>>;
}

/// One file's writer in a stage.
pub trait StagedFile: Write + Send {
    /// Ends the stage's output (an OpenPGP message's last packets) and hands the file back.
    fn finish(self: Box<Self>) -> io::Result<HashedFile>;
}

/// Writes one file through `stage` into `dir`; returns the stored file's entry.
pub(crate) fn write_staged(
    stage: &dyn FileStage,
    dir: &std::path::Path,
    name: &str,
    durable: bool,
    next: &mut dyn FnMut() -> io::Result<Option<super::digest::Shared>>,
) -> io::Result<FileEntry> {
    let stored = stage.stored_name(name);
    let file = File::create(dir.join(&stored))?;
    let mut out = stage.wrap(
        name,
        HashingWriter::new(BufWriter::with_capacity(1 << 20, file)),
    )?;
    while let Some(content) = next()? {
        out.write_all(content.raw())?;
    }
    let (inner, bytes, sha256) = out.finish()?.finish();
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    if durable {
        file.sync_all()?;
    }
    Ok(FileEntry {
        name: stored,
        bytes,
        sha256,
    })
}
