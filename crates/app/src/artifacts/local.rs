//! The artifact store in a local directory (`DATA_DIR/artifacts`). A put writes beside its
//! final name and renames, so a key is never seen half written.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{ArtifactStore, Reader, check_key};

pub struct LocalArtifacts {
    root: PathBuf,
}

impl LocalArtifacts {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalArtifacts { root: root.into() }
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    async fn parent_of(path: &Path) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        Ok(())
    }
}

/// A rename is durable only once its directory is synced: without it a power cut can lose
/// a file whose export the store already calls completed.
async fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => tokio::fs::File::open(dir).await?.sync_all().await,
        None => Ok(()),
    }
}

#[async_trait]
impl ArtifactStore for LocalArtifacts {
    async fn put(&self, key: &str, mut body: Reader) -> io::Result<u64> {
        let path = self.path(key)?;
        Self::parent_of(&path).await?;
        let partial = path.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial).await?;
        let stored = tokio::io::copy(&mut body, &mut file).await?;
        file.sync_all().await?;
        tokio::fs::rename(&partial, &path).await?;
        sync_parent(&path).await?;
        Ok(stored)
    }

    async fn put_file(&self, key: &str, source: &Path) -> io::Result<u64> {
        let path = self.path(key)?;
        Self::parent_of(&path).await?;
        let bytes = tokio::fs::metadata(source).await?.len();
        if tokio::fs::rename(source, &path).await.is_err() {
            // Another file system: copy, then let go of the source.
            let partial = path.with_extension("partial");
            tokio::fs::copy(source, &partial).await?;
            tokio::fs::rename(&partial, &path).await?;
            tokio::fs::remove_file(source).await?;
        }
        sync_parent(&path).await?;
        Ok(bytes)
    }

    async fn open(&self, key: &str, range: Range<u64>) -> io::Result<Reader> {
        let mut file = tokio::fs::File::open(self.path(key)?).await?;
        file.seek(io::SeekFrom::Start(range.start)).await?;
        Ok(Box::new(file.take(range.end.saturating_sub(range.start))))
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }

    async fn delete(&self, prefix: &str) -> io::Result<()> {
        let path = self.path(prefix)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_dir() => tokio::fs::remove_dir_all(&path).await?,
            Ok(_) => tokio::fs::remove_file(&path).await?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        // Directories left empty go too (an export's, once its last attempt's files are gone).
        let mut parent = path.parent();
        while let Some(dir) = parent.filter(|d| *d != self.root) {
            if tokio::fs::remove_dir(dir).await.is_err() {
                break;
            }
            parent = dir.parent();
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        self.walk(self.path(prefix)?).await
    }

    async fn list_all(&self) -> io::Result<Vec<String>> {
        self.walk(self.root.clone()).await
    }
}

impl LocalArtifacts {
    /// Every file under `base`, as keys.
    async fn walk(&self, base: PathBuf) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pending = vec![base];
        while let Some(dir) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                if entry.file_type().await?.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(&self.root) {
                    keys.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_round_trip_by_range_and_never_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalArtifacts::new(dir.path().join("artifacts"));
        let stored = store
            .put("exp_1/a/file.txt", Box::new(&b"hello world"[..]))
            .await
            .unwrap();
        assert_eq!(stored, 11);
        let mut part = String::new();
        store
            .open("exp_1/a/file.txt", 6..11)
            .await
            .unwrap()
            .read_to_string(&mut part)
            .await
            .unwrap();
        assert_eq!(part, "world");
        assert_eq!(store.list("exp_1").await.unwrap(), vec!["exp_1/a/file.txt"]);
        for hostile in [
            "../x",
            "/etc/passwd",
            "exp_1/../../x",
            "exp_1//x",
            "a/./b",
            "",
        ] {
            assert!(store.open(hostile, 0..1).await.is_err(), "{hostile}");
            assert!(store.delete(hostile).await.is_err(), "{hostile}");
        }
        store
            .put("exp_1/b/other.txt", Box::new(&b"x"[..]))
            .await
            .unwrap();
        store.delete("exp_1/a").await.unwrap();
        assert_eq!(
            store.list("exp_1").await.unwrap(),
            vec!["exp_1/b/other.txt"]
        );
        store.delete("exp_1/b").await.unwrap();
        assert!(store.list("").await.is_err(), "the root is not a key");
        assert!(
            !dir.path().join("artifacts/exp_1").exists(),
            "an export's emptied directory goes"
        );
    }
}
