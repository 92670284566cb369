//! Joins the store's async row streams to the export crate's synchronous writers: the writers
//! run on a blocking thread and pull rows batch by batch, so memory holds one batch per stream
//! whatever the export's size.

use std::io;
use std::sync::Arc;

use ferry_domain::export::{EventRow, ExportRange, PageviewRow, SessionRow};
use ferry_export::Rows;
use ferry_export::person::PersonSource;
use ferry_store::{RowReceiver, Store};
use tokio::runtime::Handle;

/// A person's rows from the store. Use only on a blocking thread (it waits on the runtime).
pub struct StoreSource {
    pub store: Arc<dyn Store>,
    pub visitors: Vec<i64>,
    pub range: ExportRange,
    pub runtime: Handle,
    /// Called with each row written, for progress.
    pub on_row: Arc<dyn Fn() + Send + Sync>,
}

/// A row stream as the writers' iterator, calling `on_row` for each row (for progress).
pub(crate) fn rows<'a, T: 'a>(
    mut receiver: RowReceiver<T>,
    on_row: Arc<dyn Fn() + Send + Sync>,
) -> Rows<'a, T> {
    let mut batch = Vec::new().into_iter();
    Box::new(std::iter::from_fn(move || {
        loop {
            if let Some(row) = batch.next() {
                on_row();
                return Some(Ok(row));
            }
            match receiver.blocking_recv()? {
                Ok(next) => batch = next.into_iter(),
                Err(e) => return Some(Err(io::Error::other(e))),
            }
        }
    }))
}

impl StoreSource {
    fn start<T>(&self, open: impl FnOnce(&dyn Store) -> RowReceiver<T>) -> RowReceiver<T> {
        let _inside = self.runtime.enter();
        open(self.store.as_ref())
    }
}

impl PersonSource for StoreSource {
    fn pageviews(&mut self) -> io::Result<Rows<'_, PageviewRow>> {
        let receiver = self.start(|s| s.subject_pageviews(self.visitors.clone(), self.range));
        Ok(rows(receiver, self.on_row.clone()))
    }

    fn events(&mut self) -> io::Result<Rows<'_, EventRow>> {
        let receiver = self.start(|s| s.subject_events(self.visitors.clone(), self.range));
        Ok(rows(receiver, self.on_row.clone()))
    }

    fn event_property_keys(&mut self) -> io::Result<Vec<String>> {
        self.runtime
            .block_on(
                self.store
                    .subject_event_keys(self.visitors.clone(), self.range),
            )
            .map_err(io::Error::other)
    }

    fn sessions(&mut self) -> io::Result<Rows<'_, SessionRow>> {
        let receiver = self.start(|s| s.subject_sessions(self.visitors.clone(), self.range));
        Ok(rows(receiver, self.on_row.clone()))
    }
}
