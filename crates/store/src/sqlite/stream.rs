//! Row streams: a query runs on a reader connection on a blocking thread and hands its rows
//! over in batches, so a consumer holds one batch at a time however many rows there are.

use std::sync::Arc;

use super::conn::Pool;
use crate::{RowReceiver, StoreError};

/// Rows per batch sent to a row stream's reader.
const STREAM_BATCH: usize = 1_000;

type Each<'a, T> = &'a mut dyn FnMut(T) -> Result<(), StoreError>;

/// Runs `query` on a reader connection in the background, sending its rows in batches of
/// [`STREAM_BATCH`]; the channel holds at most four batches, so a slow reader slows the
/// query instead of filling memory.
pub(crate) fn rows<T, Q>(pool: &Arc<Pool>, query: Q) -> RowReceiver<T>
where
    T: Send + 'static,
    Q: FnOnce(&rusqlite::Connection, Each<'_, T>) -> Result<(), StoreError> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let pool = Arc::clone(pool);
    tokio::spawn(async move {
        let errors = sender.clone();
        let result = pool
            .read(move |conn| {
                let mut batch = Vec::with_capacity(STREAM_BATCH);
                let mut each = |row: T| {
                    batch.push(row);
                    if batch.len() == STREAM_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(STREAM_BATCH));
                        sender
                            .blocking_send(Ok(full))
                            .map_err(|_| StoreError::Backend("the reader went away".into()))?;
                    }
                    Ok(())
                };
                query(conn, &mut each)?;
                if !batch.is_empty() {
                    sender
                        .blocking_send(Ok(batch))
                        .map_err(|_| StoreError::Backend("the reader went away".into()))?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            let _ = errors.send(Err(e)).await;
        }
    });
    receiver
}
