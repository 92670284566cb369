//! Reading a table of a bulk export with two connections at once. When a website is alone in
//! its tables, its rows are read straight from the table in row-key order; two readers take
//! alternate chunks of row keys and a merging thread hands the chunks on in order, so the rows
//! arrive in storage order while SQLite's decoding runs on both cores. A website that shares
//! the table is read by one connection through its time index.

use std::sync::Arc;

use ferry_domain::bulk::Batch;
use rusqlite::Connection;

use super::bulk::{Lookups, QUEUED_BATCHES, Rowids, Send, scanning, shares_tables, website_pk};
use super::conn::Pool;
use crate::{BatchStream, StoreError, Window};

/// Row keys per chunk: big enough that a chunk's query start costs nothing, small enough that
/// both readers stay busy.
const CHUNK_ROWIDS: i64 = 1 << 16;
const READERS: i64 = 2;
/// A window up to this long (a day, or two, as export segments leave to read live) has its
/// row keys bounded through the time index first, instead of reading the whole table.
const SHORT_WINDOW_MS: i64 = 3 * 86_400_000;

/// Reads one table's rows of a window, all (`None`) or one chunk of row keys.
pub(crate) type Read<R> =
    fn(&Connection, &mut Lookups, i64, Window, Rowids, Send<'_, R>) -> Result<(), StoreError>;

fn stopped<T>(_: T) -> StoreError {
    StoreError::Backend("the export stopped reading".into())
}

/// `table`'s rows of `website` in `window`, batch by batch (see the module's comment).
pub(crate) fn table_rows<R: std::marker::Send + 'static>(
    pool: &Arc<Pool>,
    table: &'static str,
    website: String,
    window: Window,
    read: Read<R>,
) -> BatchStream<R> {
    let (out, receiver) = crossbeam_channel::bounded(QUEUED_BATCHES);
    let pool = Arc::clone(pool);
    tokio::spawn(async move {
        let plan = pool
            .read(move |c| {
                let pk = website_pk(c, &website)?;
                let (min, max): (Option<i64>, Option<i64>) =
                    if window.1 - window.0 <= SHORT_WINDOW_MS {
                        c.query_row(
                            &format!(
                                "SELECT min(pk), max(pk) FROM {table} INDEXED BY {table}_range
                             WHERE website_pk = ?1 AND ts >= ?2 AND ts < ?3"
                            ),
                            rusqlite::params![pk, window.0, window.1],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?
                    } else {
                        c.query_row(&format!("SELECT 0, max(pk) FROM {table}"), [], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?
                    };
                let (min, max) = match (min, max) {
                    (Some(min), Some(max)) => (min, max),
                    _ => (1, 0),
                };
                Ok((pk, shares_tables(c, pk)?, min, max))
            })
            .await;
        let (website, shared, min, max) = match plan {
            Ok(plan) => plan,
            Err(e) => {
                let _ = out.send(Err(e));
                return;
            }
        };
        if shared {
            let errors = out.clone();
            let result = pool
                .read(move |c| {
                    scanning(c, |c| {
                        let mut lookups = Lookups::new(c)?;
                        let mut send = |b: Batch<R>| out.send(Ok(b)).map_err(stopped);
                        read(c, &mut lookups, website, window, None, &mut send)
                    })
                })
                .await;
            if let Err(e) = result {
                let _ = errors.send(Err(e));
            }
            return;
        }
        let mut lanes = Vec::new();
        for lane in 0..READERS {
            let (sender, lane_receiver) = crossbeam_channel::bounded(QUEUED_BATCHES);
            lanes.push(lane_receiver);
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                let errors = sender.clone();
                let result = pool
                    .read(move |c| {
                        scanning(c, |c| {
                            let mut lookups = Lookups::new(c)?;
                            let mut send = |b: Batch<R>| sender.send(Ok(b)).map_err(stopped);
                            let mut lo = min + lane * CHUNK_ROWIDS;
                            while lo <= max {
                                let chunk = Some((lo, lo + CHUNK_ROWIDS));
                                read(c, &mut lookups, website, window, chunk, &mut send)?;
                                // An empty batch ends the chunk (readers never send one else).
                                send(Batch::with_capacity(0))?;
                                lo += READERS * CHUNK_ROWIDS;
                            }
                            Ok(())
                        })
                    })
                    .await;
                if let Err(e) = result {
                    let _ = errors.send(Err(e));
                }
            });
        }
        tokio::task::spawn_blocking(move || merge(&lanes, &out));
    });
    BatchStream::new(receiver)
}

/// Chunk k comes from lane k % lanes; a lane that has closed has no chunks left.
fn merge<R>(
    lanes: &[crossbeam_channel::Receiver<Result<Batch<R>, StoreError>>],
    out: &crossbeam_channel::Sender<Result<Batch<R>, StoreError>>,
) {
    for chunk in 0.. {
        let lane = &lanes[chunk % lanes.len()];
        loop {
            match lane.recv() {
                Ok(Ok(batch)) if batch.is_empty() => break,
                Ok(Ok(batch)) => {
                    if out.send(Ok(batch)).is_err() {
                        return;
                    }
                }
                Ok(Err(e)) => {
                    let _ = out.send(Err(e));
                    return;
                }
                Err(_) => return,
            }
        }
    }
}
