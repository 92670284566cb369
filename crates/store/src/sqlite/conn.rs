//! Connections: one writer (SQLite allows one at a time; a mutex queues them), a small pool
//! of readers that WAL mode lets run beside it, and one reader kept for look-ups. All work runs
//! on tokio's blocking threads.
//!
//! The look-up reader exists because a bulk export holds a pool reader for as long as it
//! streams, and a few of them at once hold every one: API-key checks and the tracker's website
//! look-ups must answer at once all the same. They are point queries on a primary key or a
//! unique index, so one connection behind a mutex serves them without a queue worth the name.
//! Nothing is cached: a revoked key is refused by the very next request.

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

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    Ok(conn)
}

pub(crate) fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    // Ingest touches index pages all over the file: a large cache and fewer, larger
    // checkpoints keep it from re-reading and re-syncing the same pages.
    conn.pragma_update(None, "cache_size", -256_000)?;
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    // Deleted or moved content is zeroed, in pages and on the free list: an erasure must leave
    // no bytes of the person in free space, including the leftovers of every earlier page
    // split or update that moved their rows. Costs a write per freed page, not per insert.
    conn.pragma_update(None, "secure_delete", true)?;
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
    /// Only for [`Pool::lookup`]: never lent to a scan or a row stream.
    lookup: Arc<Mutex<Connection>>,
}

impl Pool {
    pub(crate) fn new(path: &Path, writer: Connection) -> Result<Self, StoreError> {
        let readers = (0..READERS)
            .map(|_| open_reader(path))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let lookup = open_reader(path)?;
        Ok(Pool {
            writer: Arc::new(Mutex::new(Writer {
                conn: writer,
                cache: IngestCache::default(),
            })),
            readers: Arc::new(Mutex::new(readers)),
            permits: Semaphore::new(READERS),
            lookup: Arc::new(Mutex::new(lookup)),
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

impl Pool {
    /// Runs `f` on the look-up reader: for API-key checks and the tracker's website look-ups
    /// only, which must not wait behind exports. `f` must be a quick point query; anything
    /// that scans or streams belongs on [`Pool::read`].
    pub(crate) async fn lookup<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let lookup = Arc::clone(&self.lookup);
        tokio::task::spawn_blocking(move || {
            // A panic mid-query leaves the connection as it was: a read changes nothing.
            let conn = lookup.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn look_ups_answer_while_every_pool_reader_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let pool = Arc::new(super::Pool::new(&path, super::open_writer(&path).unwrap()).unwrap());
        // Every pool reader waits for a message that comes only when the test drops its
        // sender, as a stalled export would hold it.
        let mut gates = Vec::new();
        let held: Vec<_> = (0..super::READERS)
            .map(|_| {
                let (gate, wait) = std::sync::mpsc::channel::<()>();
                gates.push(gate);
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    pool.read(move |_| {
                        let _ = wait.recv();
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        // The reads start on tasks of their own: wait until one more has to queue.
        let queued = async {
            while tokio::time::timeout(Duration::from_millis(100), pool.read(|_| Ok(())))
                .await
                .is_ok()
            {}
        };
        tokio::time::timeout(Duration::from_secs(10), queued)
            .await
            .expect("every pool reader is held");
        let one: i64 = tokio::time::timeout(
            Duration::from_secs(5),
            pool.lookup(|c| Ok(c.query_row("SELECT 1", [], |r| r.get(0))?)),
        )
        .await
        .expect("a look-up does not wait for a pool reader")
        .unwrap();
        assert_eq!(one, 1);
        drop(gates);
        for task in held {
            task.await.unwrap().unwrap();
        }
    }

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
