//! Where finished export files live until they expire. The worker writes through
//! [`ArtifactStore`] and the download handler reads through it; neither knows whether the
//! bytes are in a local directory ([`local::LocalArtifacts`], the default) or, later, in
//! object storage shared by several nodes.
//!
//! Keys are relative paths of `[A-Za-z0-9._-]` segments joined by `/` (an export's files are
//! `{export_id}/{attempt}/{file}`); anything else is refused, so no key reaches outside the
//! store.

pub mod local;

use std::io;
use std::ops::Range;
use std::path::Path;

use async_trait::async_trait;
use tokio::io::AsyncRead;

pub type Reader = Box<dyn AsyncRead + Send + Unpin>;

#[async_trait]
pub trait ArtifactStore: Send + Sync + 'static {
    /// Stores `body` under `key`, streamed; the key appears only once the body is whole.
    /// Returns the bytes stored.
    async fn put(&self, key: &str, body: Reader) -> io::Result<u64>;
    /// Stores a finished local file under `key`, taking it (the local store renames it).
    async fn put_file(&self, key: &str, path: &Path) -> io::Result<u64> {
        let file = tokio::fs::File::open(path).await?;
        let stored = self.put(key, Box::new(file)).await?;
        tokio::fs::remove_file(path).await?;
        Ok(stored)
    }
    /// The bytes of `key` in `range` (half-open).
    async fn open(&self, key: &str, range: Range<u64>) -> io::Result<Reader>;
    /// Where `key`'s bytes are on this machine's disk, when they are (a hard link or a
    /// rename beats a copy); `None` for remote stores.
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf>;
    /// Deletes every key under `prefix`.
    async fn delete(&self, prefix: &str) -> io::Result<()>;
    /// Every key under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
    /// Every key in the store, sorted, half-written ones too (the sweep looks for files no
    /// export needs).
    async fn list_all(&self) -> io::Result<Vec<String>>;
}

/// Checks a key or prefix: relative, no empty, `.` or `..` segments, plain characters only.
pub fn check_key(key: &str) -> io::Result<()> {
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    if key.split('/').all(plain) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{key}` is not an artifact key"),
        ))
    }
}
