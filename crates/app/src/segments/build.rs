//! The compactor: writes the missing segments of every website's closed days, and removes
//! segment files no record points to. A segment is claimed before its day's rows are read,
//! written under a temporary name, renamed, and only then made ready; if a row of its day
//! changed meanwhile, the store refuses to make it ready and the file is removed.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use ferry_domain::bulk::{Batch, SegmentFacts, SegmentKey, SegmentRecord};
use ferry_domain::{DateRange, Millis, Website};
use ferry_export::bulk::formats::{RowWriter, TextFormat};
use ferry_export::bulk::segment::{LAYOUT, SegmentWriter};
use ferry_store::{BatchStream, Store, Window};
use futures_util::StreamExt;

use super::{DATA_TYPES, FORMATS, SegmentFiles};

/// A day is closed, and worth a segment, this long after its end: rows that arrive later
/// still land (the day's segment is then dropped and built again).
pub const CLOSED_AFTER: Duration = Duration::from_secs(3600);
/// A claim still building after this long belongs to a builder that died.
const STALE_CLAIM: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Compactor {
    pub store: Arc<dyn Store>,
    pub files: SegmentFiles,
    /// Deflate level of the blocks, and so of the ZIPs they go into.
    pub level: u32,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    /// Segments made ready that hold rows.
    pub built: u64,
    /// Days recorded as having no rows (no file).
    pub empty: u64,
    pub rows: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
    /// Built, then thrown away because a row of the day changed meanwhile.
    pub discarded: u64,
    /// Files and records removed: orphans, stale claims.
    pub removed: u64,
}

impl Report {
    fn add(&mut self, other: Report) {
        self.built += other.built;
        self.empty += other.empty;
        self.rows += other.rows;
        self.raw_bytes += other.raw_bytes;
        self.stored_bytes += other.stored_bytes;
        self.discarded += other.discarded;
        self.removed += other.removed;
    }
}

/// One website's data type over one day, in the formats it still lacks.
struct Job {
    website: String,
    window: Window,
    data_type: &'static str,
    formats: Vec<(TextFormat, &'static str)>,
}

impl Compactor {
    /// Runs a pass every `every` until the process stops; the first after one interval.
    pub async fn run_forever(self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            match self.run_once(Utc::now().timestamp_millis(), 1).await {
                Ok(r) if r.built + r.discarded + r.removed > 0 => tracing::info!(
                    built = r.built,
                    rows = r.rows,
                    stored_bytes = r.stored_bytes,
                    discarded = r.discarded,
                    removed = r.removed,
                    "export segments compacted"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "export segment pass failed"),
            }
        }
    }

    /// Builds every missing segment of the days closed by `now`, `parallel` at a time.
    pub async fn run_once(&self, now: Millis, parallel: usize) -> anyhow::Result<Report> {
        self.run_with_progress(now, parallel, &|_, _| {}).await
    }

    /// [`Compactor::run_once`], calling `progress(done, total)` as days are built.
    pub async fn run_with_progress(
        &self,
        now: Millis,
        parallel: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> anyhow::Result<Report> {
        std::fs::create_dir_all(&self.files.dir)?;
        let mut report = Report {
            removed: self
                .store
                .drop_segments(Vec::new(), Some(now - STALE_CLAIM.as_millis() as i64))
                .await?,
            ..Report::default()
        };
        let mut jobs = Vec::new();
        for account in self.store.accounts().await? {
            for website in self.store.websites(account.id).await? {
                jobs.extend(self.missing(&website, now).await?);
            }
        }
        let total = jobs.len();
        progress(0, total);
        let mut results =
            futures_util::stream::iter(jobs.into_iter().map(|job| self.build(job, now)))
                .buffer_unordered(parallel.max(1));
        let mut done = 0;
        while let Some(result) = results.next().await {
            report.add(result?);
            done += 1;
            progress(done, total);
        }
        report.removed += self.remove_orphans().await?;
        Ok(report)
    }

    /// The jobs of a website's closed days that lack a segment.
    async fn missing(&self, website: &Website, now: Millis) -> anyhow::Result<Vec<Job>> {
        let Some(first) = self.store.first_activity(&website.id).await? else {
            return Ok(Vec::new());
        };
        let tz = website.timezone;
        let day_of = |ms: Millis| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.with_timezone(&tz).date_naive())
                .unwrap_or(NaiveDate::MIN)
        };
        let closed = now - CLOSED_AFTER.as_millis() as i64;
        // The day before the one `closed` falls in is the last that has ended.
        let Some(last) = day_of(closed).pred_opt() else {
            return Ok(Vec::new());
        };
        let first = day_of(first);
        if first > last {
            return Ok(Vec::new());
        }
        let days = DateRange {
            from: first,
            to: last,
        };
        let windows = days.windows(tz);
        let current: HashSet<Window> = windows.iter().map(|d| (d.start, d.end)).collect();
        let (kept, outdated): (Vec<SegmentRecord>, Vec<SegmentRecord>) = self
            .store
            .segments(&website.id, days.bounds(tz))
            .await?
            .into_iter()
            .partition(|r| r.key.layout == LAYOUT && current.contains(&r.key.window));
        if !outdated.is_empty() {
            // Another row layout, or days of the website's former time zone: exports no longer
            // use them (their files go with the orphans).
            let ids = outdated.iter().map(|r| r.id).collect();
            self.store.drop_segments(ids, None).await?;
        }
        let existing: HashSet<(String, String, Millis)> = kept
            .into_iter()
            .map(|r| (r.key.data_type, r.key.format, r.key.window.0))
            .collect();
        let mut jobs = Vec::new();
        for day in windows {
            for data_type in DATA_TYPES {
                let formats: Vec<_> = FORMATS
                    .iter()
                    .filter(|(_, name)| {
                        !existing.contains(&(data_type.to_string(), name.to_string(), day.start))
                    })
                    .copied()
                    .collect();
                if !formats.is_empty() {
                    jobs.push(Job {
                        website: website.id.clone(),
                        window: (day.start, day.end),
                        data_type,
                        formats,
                    });
                }
            }
        }
        Ok(jobs)
    }

    /// Builds one job's segments from one read of the day's rows.
    async fn build(&self, job: Job, now: Millis) -> anyhow::Result<Report> {
        let mut claimed = Vec::new();
        for (format, name) in &job.formats {
            let key = SegmentKey {
                data_type: job.data_type.to_string(),
                format: name.to_string(),
                layout: LAYOUT.to_string(),
                window: job.window,
            };
            if let Some(id) = self.store.claim_segment(&job.website, key, now).await? {
                claimed.push((id, *format));
            }
        }
        if claimed.is_empty() {
            return Ok(Report::default());
        }
        let ids: Vec<i64> = claimed.iter().map(|(id, _)| *id).collect();
        match self.write(&job, &claimed).await {
            Ok(report) => Ok(report),
            Err(e) => {
                for id in &ids {
                    let _ = std::fs::remove_file(self.files.building(*id));
                    let _ = std::fs::remove_file(self.files.path(*id));
                }
                self.store.drop_segments(ids, None).await?;
                Err(e)
            }
        }
    }

    async fn write(&self, job: &Job, claimed: &[(i64, TextFormat)]) -> anyhow::Result<Report> {
        let keys = match job.data_type {
            "events" => self.store.bulk_event_keys(&job.website, job.window).await?,
            _ => Vec::new(),
        };
        let mut writers = Vec::new();
        for (id, format) in claimed {
            let file = SegmentWriter::create(&self.files.building(*id), *format, self.level)?;
            writers.push((*id, RowWriter::new(*format, true, keys.clone()), file));
        }
        let written = match job.data_type {
            "pageviews" => {
                let rows = self.store.bulk_pageviews(&job.website, job.window);
                tokio::task::spawn_blocking(move || {
                    format_rows(rows, writers, |w, b, r, out| w.pageview(b, r, out))
                })
                .await??
            }
            _ => {
                let rows = self.store.bulk_events(&job.website, job.window);
                tokio::task::spawn_blocking(move || {
                    format_rows(rows, writers, |w, b, r, out| w.event(b, r, out))
                })
                .await??
            }
        };
        let mut report = Report::default();
        for (id, summary) in written {
            let (building, path) = (self.files.building(id), self.files.path(id));
            if summary.rows > 0 {
                std::fs::rename(&building, &path)?;
            } else {
                std::fs::remove_file(&building)?;
            }
            let facts = SegmentFacts {
                rows: summary.rows,
                raw_bytes: summary.raw_bytes,
                stored_bytes: summary.stored_bytes,
                event_keys: keys.clone(),
            };
            if self.store.complete_segment(id, facts).await? {
                match summary.rows {
                    0 => report.empty += 1,
                    _ => report.built += 1,
                }
                report.rows += summary.rows;
                report.raw_bytes += summary.raw_bytes;
                report.stored_bytes += summary.stored_bytes;
            } else {
                let _ = std::fs::remove_file(&path);
                report.discarded += 1;
            }
        }
        Ok(report)
    }

    /// Removes the files no record points to: segments forgotten because their day changed
    /// (rows erased among them), and what a builder that died left. A file whose claim was
    /// forgotten while it was being built is its builder's to remove, and removing it first
    /// is harmless (that build fails, or its day is read live).
    pub async fn remove_orphans(&self) -> anyhow::Result<u64> {
        let known: HashSet<i64> = self.store.segment_ids().await?.into_iter().collect();
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.files.dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name
                .strip_suffix(".seg")
                .or_else(|| name.strip_suffix(".seg.tmp"))
                .and_then(|id| id.parse::<i64>().ok());
            let orphan = id.is_some_and(|id| !known.contains(&id));
            if orphan && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

type FormatRow<R> = fn(&mut RowWriter, &Batch<R>, &R, &mut Vec<u8>);

/// Formats every row into each writer's segment; returns each segment's id and summary.
fn format_rows<R>(
    rows: BatchStream<R>,
    mut writers: Vec<(i64, RowWriter, SegmentWriter)>,
    format: FormatRow<R>,
) -> io::Result<Vec<(i64, ferry_export::bulk::segment::SegmentSummary)>> {
    for batch in rows {
        let batch = batch.map_err(io::Error::other)?;
        for (_, rows, file) in writers.iter_mut() {
            for r in &batch.rows {
                file.row(|out| format(rows, &batch, r, out))?;
            }
        }
    }
    writers
        .into_iter()
        .map(|(id, _, file)| Ok((id, file.finish()?)))
        .collect()
}
