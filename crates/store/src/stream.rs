//! How rows leave the store: in batches through a bounded channel, so a consumer holds one
//! batch at a time however many rows there are, and a slow consumer slows the query.

use ferry_domain::bulk::Batch;

use crate::StoreError;

/// Rows arriving from the store in batches, oldest first; the channel closes after the last.
/// Dropping the receiver stops the query.
pub type RowReceiver<T> = tokio::sync::mpsc::Receiver<Result<Vec<T>, StoreError>>;

/// A bulk export's rows, batch by batch, for a consumer on a blocking thread: iterating blocks
/// until the next batch and ends after the last. Dropping it stops the query.
///
/// A newtype so the channel behind it stays the store's choice; it adds nothing per batch
/// (bulk exports move millions of rows through here).
pub struct BatchStream<R>(crossbeam_channel::Receiver<Result<Batch<R>, StoreError>>);

impl<R> BatchStream<R> {
    pub(crate) fn new(receiver: crossbeam_channel::Receiver<Result<Batch<R>, StoreError>>) -> Self {
        BatchStream(receiver)
    }
}

impl<R> Iterator for BatchStream<R> {
    type Item = Result<Batch<R>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.recv().ok()
    }
}
