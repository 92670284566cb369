//! Connections: one writer (SQLite allows one at a time; a mutex queues them) and a small pool
//! of readers that WAL mode lets run beside it. All work runs on tokio's blocking threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::ingest::IngestCache;
use crate::StoreError;

const READERS: usize = 4;

/// Each reader's page cache, in KiB.
pub(crate) const READER_CACHE_KIB: i64 = 64_000;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL: readers never block the writer. synchronous=FULL syncs the WAL at every commit, so
    // an acknowledged write survives a power cut too, not only a crash or kill; group commit
    // (one commit for the batches that wait together) keeps that cost to one sync per group.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

pub(crate) fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    // Ingest touches index pages all over the file: a large cache and fewer, larger
    // checkpoints keep it from re-reading and re-syncing the same pages.
    conn.pragma_update(None, "cache_size", -256_000)?;
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    // Ingest alone cycles through more statements than rusqlite's default cache of 16 holds;
    // an evicted statement is re-prepared, which costs more than running it.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer connection and what ingest keeps between batches.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) cache: IngestCache,
}

pub(crate) struct Pool {
    writer: Arc<Mutex<Writer>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    permits: Semaphore,
}

impl Pool {
    pub(crate) fn new(path: &Path, writer: Connection) -> Result<Self, StoreError> {
        let readers = (0..READERS)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
                Ok(conn)
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Pool {
            writer: Arc::new(Mutex::new(Writer {
                conn: writer,
                cache: IngestCache::default(),
            })),
            readers: Arc::new(Mutex::new(readers)),
            permits: Semaphore::new(READERS),
        })
    }

    /// The writer, for the ingest thread.
    pub(crate) fn writer(&self) -> Arc<Mutex<Writer>> {
        Arc::clone(&self.writer)
    }

    /// Runs `f` with the writer connection. `f` must not touch visitors, sessions, page views,
    /// events or URLs (ingest's cache mirrors those); a write that does must go through
    /// [`Pool::write_with_cache`] and clear the cache.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_with_cache(move |writer| f(&mut writer.conn))
            .await
    }

    /// Runs `f` with the writer connection and ingest's cache.
    pub(crate) async fn write_with_cache<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves an uncommitted transaction, which SQLite
            // rolled back when it unwound; the cache may be off, so it is dropped.
            let mut guard = writer.lock().unwrap_or_else(|poisoned| {
                let mut guard = poisoned.into_inner();
                guard.cache.clear();
                guard
            });
            f(&mut guard)
        })
        .await?
    }

    /// Runs `f` with a reader connection, waiting for one to be free.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let conn = self
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .expect("a permit guarantees a free reader");
        let readers = Arc::clone(&self.readers);
        let joined = tokio::task::spawn_blocking(move || {
            let result = f(&conn);
            readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await;
        match joined {
            Ok(result) => {
                drop(permit);
                result
            }
            Err(e) => {
                // The closure panicked and took its connection with it: retire its permit too.
                permit.forget();
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_writer_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::open_writer(&dir.path().join("t.db")).unwrap();
        let level: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            level, 2,
            "synchronous=FULL: an acknowledged commit survives a power cut"
        );
    }
}
