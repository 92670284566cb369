//! A website's rows from the store for the bulk writers, which run on a blocking thread: the
//! store's batch channels are read directly; the visitor list and the summary (async store
//! calls) are waited for on the runtime.

use std::io;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use ferry_domain::analytics::VisitorRow;
use ferry_domain::{DateRange, Website};
use ferry_export::Rows;
use ferry_export::bulk::{Batches, BulkSource};
use ferry_store::{BatchReceiver, Store, Window};
use tokio::runtime::Handle;

type KeysTask = tokio::task::JoinHandle<Result<Vec<String>, ferry_store::StoreError>>;

pub struct BulkStoreSource {
    pub store: Arc<dyn Store>,
    pub website: Website,
    pub range: DateRange,
    pub runtime: Handle,
    /// The events CSV's columns, read while the page views are written.
    keys: Option<KeysTask>,
}

/// The days a bulk export covers: as asked, else from the website's first visit (or today)
/// to today, in the website's time zone.
pub async fn export_days(
    store: &dyn Store,
    website: &Website,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<DateRange, ferry_store::StoreError> {
    let today = Utc::now().with_timezone(&website.timezone).date_naive();
    let to = to.unwrap_or(today);
    let from = match from {
        Some(d) => d,
        None => store
            .first_activity(&website.id)
            .await?
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map_or(to, |t| {
                t.with_timezone(&website.timezone).date_naive().min(to)
            }),
    };
    Ok(DateRange { from, to })
}

fn batches<'a, R: 'a>(receiver: BatchReceiver<R>) -> Batches<'a, R> {
    Box::new(
        receiver
            .into_iter()
            .map(|batch| batch.map_err(io::Error::other)),
    )
}

impl BulkStoreSource {
    /// `prefetch_keys`: start reading the events' property keys now (CSV exports of events
    /// need them for the header) so that it overlaps the page views.
    pub fn new(
        store: Arc<dyn Store>,
        website: Website,
        range: DateRange,
        runtime: Handle,
        prefetch_keys: bool,
    ) -> Self {
        let keys = prefetch_keys.then(|| {
            let (store, id) = (store.clone(), website.id.clone());
            let window = range.bounds(website.timezone);
            runtime.spawn(async move { store.bulk_event_keys(&id, window).await })
        });
        BulkStoreSource {
            store,
            website,
            range,
            runtime,
            keys,
        }
    }

    fn window(&self) -> Window {
        self.range.bounds(self.website.timezone)
    }

    fn start<R>(&self, open: impl FnOnce(&dyn Store) -> BatchReceiver<R>) -> BatchReceiver<R> {
        let _inside = self.runtime.enter();
        open(self.store.as_ref())
    }
}

impl BulkSource for BulkStoreSource {
    fn pageviews(&mut self) -> io::Result<Batches<'_, ferry_domain::bulk::BulkPageview>> {
        let window = self.window();
        Ok(batches(
            self.start(|s| s.bulk_pageviews(&self.website.id, window)),
        ))
    }

    fn events(&mut self) -> io::Result<Batches<'_, ferry_domain::bulk::BulkEvent>> {
        let window = self.window();
        Ok(batches(
            self.start(|s| s.bulk_events(&self.website.id, window)),
        ))
    }

    fn event_keys(&mut self) -> io::Result<Vec<String>> {
        let keys = match self.keys.take() {
            Some(task) => self.runtime.block_on(task).map_err(io::Error::other)?,
            None => self
                .runtime
                .block_on(self.store.bulk_event_keys(&self.website.id, self.window())),
        };
        keys.map_err(io::Error::other)
    }

    fn sessions(&mut self) -> io::Result<Batches<'_, ferry_domain::bulk::BulkSession>> {
        let window = self.window();
        Ok(batches(
            self.start(|s| s.bulk_sessions(&self.website.id, window)),
        ))
    }

    fn visitors(&mut self) -> io::Result<Rows<'_, VisitorRow>> {
        let window = self.window();
        let receiver = {
            let _inside = self.runtime.enter();
            self.store.bulk_visitors(&self.website.id, window)
        };
        Ok(crate::pipeline::rows(receiver, Arc::new(|| {})))
    }

    fn summary(&mut self) -> io::Result<serde_json::Value> {
        let (totals, series) = self
            .runtime
            .block_on(self.store.bulk_totals(&self.website, self.range))
            .map_err(io::Error::other)?;
        Ok(serde_json::json!({
            "website_id": self.website.id,
            "timezone": self.website.timezone.name(),
            "from": self.range.from,
            "to": self.range.to,
            "totals": totals,
            "series": series,
        }))
    }
}
