//! Finishing a file written through the export crate's [`HashingWriter`]: flush, sync when the
//! run is durable, and describe it for the export's record.

use std::io;

use ferry_domain::job::ArtifactFile;
use ferry_export::hashing::HashingWriter;

pub(crate) type HashedFile = HashingWriter<io::BufWriter<std::fs::File>>;

/// Flushes (and with `durable`, syncs) the file; returns its entry.
pub(crate) fn finish(file: HashedFile, name: &str, durable: bool) -> io::Result<ArtifactFile> {
    let (inner, bytes, sha256) = file.finish();
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    if durable {
        file.sync_all()?;
    }
    Ok(ArtifactFile {
        name: name.to_string(),
        bytes,
        sha256,
    })
}
