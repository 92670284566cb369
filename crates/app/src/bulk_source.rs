//! A website's rows from the store for the bulk writers, which run on a blocking thread: the
//! store's batch channels are read directly; the visitor list and the summary (async store
//! calls) are waited for on the runtime. Page views and events as CSV or NDJSON come from
//! export segments for the closed days that have them, and from the store for the rest.

use std::io;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use ferry_domain::analytics::VisitorRow;
use ferry_domain::bulk::{BulkEvent, BulkPageview, SegmentRecord};
use ferry_domain::{DateRange, Website};
use ferry_export::Rows;
use ferry_export::bulk::segment::LAYOUT;
use ferry_export::bulk::{Batches, BulkSource, Piece, Pieces, TextLayout};
use ferry_store::{BatchStream, Store, StoreError, Window};
use tokio::runtime::Handle;

use crate::segments::plan::{Stretch, gaps, stretches};
use crate::segments::{SegmentFiles, format_name, read};

/// What is known before the rows: the window's segments, and (for an events CSV) the
/// property columns.
struct Facts {
    records: Vec<SegmentRecord>,
    keys: Option<Vec<String>>,
}

type FactsTask = tokio::task::JoinHandle<Result<Facts, StoreError>>;

pub struct BulkStoreSource {
    pub store: Arc<dyn Store>,
    pub website: Website,
    pub range: DateRange,
    pub runtime: Handle,
    /// `None`: every row is read from the store.
    segments: Option<SegmentFiles>,
    /// Read while the page views are written.
    facts: Option<FactsTask>,
    known: Option<Facts>,
    /// A schedule's series: the events CSV's columns in this order ([`Self::with_columns`]).
    columns: Option<Vec<String>>,
}

fn csv_events(r: &SegmentRecord) -> bool {
    r.key.data_type == "events" && r.key.format == "csv" && r.key.layout == LAYOUT
}

/// The events CSV's columns: those of the segments that cover days, and those found in the
/// events of the rest.
async fn event_keys(
    store: &dyn Store,
    website: &str,
    window: Window,
    records: &[SegmentRecord],
) -> Result<Vec<String>, StoreError> {
    let plan = stretches(records, window, csv_events);
    let mut keys = std::collections::BTreeSet::new();
    for stretch in &plan {
        if let Stretch::Segment(r) = stretch {
            keys.extend(r.event_keys.iter().cloned());
        }
    }
    for gap in gaps(&plan) {
        keys.extend(store.bulk_event_keys(website, gap).await?);
    }
    Ok(keys.into_iter().collect())
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

fn batches<'a, R: 'a>(receiver: BatchStream<R>) -> Batches<'a, R> {
    Box::new(
        receiver
            .into_iter()
            .map(|batch| batch.map_err(io::Error::other)),
    )
}

impl BulkStoreSource {
    /// `segments`: where export segments are, if they are to be used. `prefetch_keys`: start
    /// reading the events' property keys now (CSV exports of events need them for the header)
    /// so that it overlaps the page views.
    pub fn new(
        store: Arc<dyn Store>,
        website: Website,
        range: DateRange,
        runtime: Handle,
        segments: Option<SegmentFiles>,
        prefetch_keys: bool,
    ) -> Self {
        let facts = {
            let (store, id) = (store.clone(), website.id.clone());
            let window = range.bounds(website.timezone);
            let use_segments = segments.is_some();
            runtime.spawn(async move {
                let records = match use_segments {
                    true => store.segments(&id, window).await?,
                    false => Vec::new(),
                };
                let keys = match prefetch_keys {
                    true => Some(event_keys(store.as_ref(), &id, window, &records).await?),
                    false => None,
                };
                Ok(Facts { records, keys })
            })
        };
        BulkStoreSource {
            store,
            website,
            range,
            runtime,
            segments,
            facts: Some(facts),
            known: None,
            columns: None,
        }
    }

    /// Writes the events CSV's property columns in `columns`' order (a schedule's series);
    /// a key of the window that `columns` lacks (an event that arrived after the run was
    /// asked for) still gets a column, after them.
    pub fn with_columns(mut self, columns: Option<Vec<String>>) -> Self {
        self.columns = columns;
        self
    }

    fn facts(&mut self) -> io::Result<&mut Facts> {
        if let Some(task) = self.facts.take() {
            let facts = self
                .runtime
                .block_on(task)
                .map_err(io::Error::other)?
                .map_err(io::Error::other)?;
            self.known = Some(facts);
        }
        self.known
            .as_mut()
            .ok_or_else(|| io::Error::other("the export's facts were not read"))
    }

    /// Every row of `window` from the store, as it comes.
    fn live_only<R: 'static>(
        &self,
        live: fn(&dyn Store, &str, Window) -> BatchStream<R>,
        window: Window,
    ) -> Pieces<'static, R> {
        let rows = self.start(|s| live(s, &self.website.id, window));
        Box::new(
            rows.into_iter()
                .map(|b| b.map(Piece::Rows).map_err(io::Error::other)),
        )
    }

    /// A data type's pieces: segments of `layout` where they cover a day, live rows elsewhere.
    fn text<R: Send + 'static>(
        &mut self,
        data_type: &str,
        layout: &TextLayout,
        live: fn(&dyn Store, &str, Window) -> BatchStream<R>,
    ) -> io::Result<Pieces<'static, R>> {
        let window = self.window();
        let format = format_name(layout.format).filter(|_| layout.neutralise);
        let (Some(files), Some(format)) = (self.segments.clone(), format) else {
            return Ok(self.live_only(live, window));
        };
        let records = self.facts()?.records.clone();
        let plan = stretches(&records, window, |r| {
            r.key.data_type == data_type
                && r.key.format == format
                && r.key.layout == LAYOUT
                && (data_type != "events" || format != "csv" || r.event_keys == layout.event_keys)
        });
        let from_segments = plan
            .iter()
            .filter(|s| matches!(s, Stretch::Segment(_)))
            .count();
        tracing::info!(
            website = %self.website.id,
            data_type,
            days_from_segments = from_segments,
            stretches_read_live = plan.len() - from_segments,
            "bulk export rows"
        );
        if let [Stretch::Live(only)] = plan[..] {
            return Ok(self.live_only(live, only));
        }
        let (store, runtime, website) = (
            self.store.clone(),
            self.runtime.clone(),
            self.website.id.clone(),
        );
        let (drop_store, drop_runtime) = (self.store.clone(), self.runtime.clone());
        let receiver = read::pieces(
            plan,
            files,
            move |w| {
                let _inside = runtime.enter();
                live(store.as_ref(), &website, w)
            },
            move |id| {
                if let Err(e) = drop_runtime.block_on(drop_store.drop_segments(vec![id], None)) {
                    tracing::warn!(error = %e, "cannot forget a damaged export segment");
                }
            },
        )?;
        Ok(Box::new(receiver.into_iter()))
    }

    fn window(&self) -> Window {
        self.range.bounds(self.website.timezone)
    }

    fn start<R>(&self, open: impl FnOnce(&dyn Store) -> BatchStream<R>) -> BatchStream<R> {
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
        let (store, window, id) = (self.store.clone(), self.window(), self.website.id.clone());
        let runtime = self.runtime.clone();
        let series = self.columns.clone();
        let facts = self.facts()?;
        let keys = match facts.keys.take() {
            Some(keys) => keys,
            None => runtime
                .block_on(event_keys(store.as_ref(), &id, window, &facts.records))
                .map_err(io::Error::other)?,
        };
        Ok(match series {
            Some(series) => ferry_domain::schedule::extend_columns(&series, &keys),
            None => keys,
        })
    }

    fn pageview_text(&mut self, layout: &TextLayout) -> io::Result<Pieces<'_, BulkPageview>> {
        self.text("pageviews", layout, |s, w, window| {
            s.bulk_pageviews(w, window)
        })
    }

    fn event_text(&mut self, layout: &TextLayout) -> io::Result<Pieces<'_, BulkEvent>> {
        self.text("events", layout, |s, w, window| s.bulk_events(w, window))
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
