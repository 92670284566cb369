//! A person's export, whole: which files, in which format, fed from a [`PersonSource`].
//!
//! - JSON: one document (`export.json`), bare or in a ZIP.
//! - CSV: `pageviews.csv`, `events.csv`, `sessions.csv`, `profile.csv` in a ZIP.
//! - NDJSON: `pageviews.ndjson`, `events.ndjson`, `sessions.ndjson`, `profile.ndjson` in a ZIP.
//!
//! Every ZIP also holds `README.txt` and `manifest.json`, and, when the caller gathered the
//! Art. 15 facts ([`PersonExport::about`]), `report.html` and the README's section on them.
//!
//! The rows' first and last instants are noted as they stream past ([`Span`]), so the days an
//! export without `from`/`to` really covers are known when it ends, without reading the rows
//! twice: the manifest (written last) and the receipt name them instead of `null`.

use std::cell::Cell;
use std::io::{self, Write};

use ferry_domain::Millis;
use ferry_domain::export::{
    DataType, EventRow, ExportRange, Format, PageviewRow, SessionRow, Subject, SubjectRef,
};

use crate::json::JsonDocument;
use crate::package::{Description, Kind, Package};
use crate::report::{About, html};
use crate::rows::ProfileOut;
use crate::{Rows, csv_files, ndjson};

/// Where the rows come from: the store, through whatever bridge the caller builds. Each call
/// starts that data type from its first row, in time order.
pub trait PersonSource {
    fn pageviews(&mut self) -> io::Result<Rows<'_, PageviewRow>>;
    fn events(&mut self) -> io::Result<Rows<'_, EventRow>>;
    /// Every property key of the person's events, sorted: the CSV columns.
    fn event_property_keys(&mut self) -> io::Result<Vec<String>>;
    fn sessions(&mut self) -> io::Result<Rows<'_, SessionRow>>;
}

pub struct PersonExport<'a> {
    pub export_id: &'a str,
    pub generated_at: &'a str,
    pub subject_ref: &'a SubjectRef,
    pub subject: &'a Subject,
    pub data_types: &'a [DataType],
    pub format: Format,
    pub range: ExportRange,
    /// Defuse spreadsheet formulas in CSV text cells (on unless asked otherwise).
    pub neutralise: bool,
    /// The OpenPGP key's fingerprint when the package is encrypted (the manifest says so).
    pub encrypted_to: Option<&'a str>,
    /// The Art. 15 answer beside the data: a ZIP then carries `report.html` (written after
    /// the data files, from the counts and days they streamed) and README.txt a section on
    /// it. A bare JSON document has no room for it and is unchanged.
    pub about: Option<&'a About>,
}

pub use crate::package::RowCounts;

/// What a person's export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Rows per data type.
    pub counts: RowCounts,
    /// The days covered: the requested range with each open side closed at the first or
    /// last row's UTC day ([`ExportRange::covering`]).
    pub range: ExportRange,
}

/// The first and last instants of the rows seen so far. A `Cell`, so that each data type's
/// row iterator can note into it while the writers hold the rest of the export.
#[derive(Default)]
struct Span(Cell<Option<(Millis, Millis)>>);

/// A row's first and last instant (a session lasts; a page view or event is one moment).
trait Timed {
    fn instants(&self) -> (Millis, Millis);
}

impl Timed for PageviewRow {
    fn instants(&self) -> (Millis, Millis) {
        (self.timestamp, self.timestamp)
    }
}

impl Timed for EventRow {
    fn instants(&self) -> (Millis, Millis) {
        (self.timestamp, self.timestamp)
    }
}

impl Timed for SessionRow {
    fn instants(&self) -> (Millis, Millis) {
        (self.started_at, self.ended_at)
    }
}

impl Span {
    /// `rows`, noting each row's instants as it passes.
    fn track<'s, R: Timed + 's>(
        &'s self,
        rows: impl Iterator<Item = io::Result<R>> + 's,
    ) -> impl Iterator<Item = io::Result<R>> + 's {
        rows.inspect(move |row| {
            if let Ok(row) = row {
                let (first, last) = row.instants();
                let seen = self
                    .0
                    .get()
                    .map_or((first, last), |(a, b)| (a.min(first), b.max(last)));
                self.0.set(Some(seen));
            }
        })
    }
}

impl PersonExport<'_> {
    fn wants(&self, t: DataType) -> bool {
        self.data_types.contains(&t)
    }

    /// The bare JSON document.
    pub fn write_json<W: Write>(
        &self,
        out: W,
        source: &mut dyn PersonSource,
    ) -> io::Result<(W, Written)> {
        let span = Span::default();
        let (out, counts) = self.json_document(out, source, &span)?;
        let range = self.range.covering(span.0.get());
        Ok((out, Written { counts, range }))
    }

    fn json_document<W: Write>(
        &self,
        out: W,
        source: &mut dyn PersonSource,
        span: &Span,
    ) -> io::Result<(W, RowCounts)> {
        let user = self
            .wants(DataType::Profile)
            .then(|| self.subject.profile.as_ref().map(ProfileOut::from));
        let mut doc = JsonDocument::begin(out, self.export_id, self.generated_at, user)?;
        let mut counts = RowCounts::new();
        if self.wants(DataType::Profile) {
            counts.insert("profile".into(), u64::from(self.subject.profile.is_some()));
        }
        if self.wants(DataType::Pageviews) {
            let n = doc.array("pageviews", span.track(source.pageviews()?))?;
            counts.insert("pageviews".into(), n);
        }
        if self.wants(DataType::Events) {
            let n = doc.array("events", span.track(source.events()?))?;
            counts.insert("events".into(), n);
        }
        if self.wants(DataType::Sessions) {
            let n = doc.array("sessions", span.track(source.sessions()?))?;
            counts.insert("sessions".into(), n);
        }
        Ok((doc.finish()?, counts))
    }

    /// The ZIP: data files in the chosen format, `README.txt`, `manifest.json`.
    pub fn write_zip<W: Write>(
        &self,
        out: W,
        source: &mut dyn PersonSource,
    ) -> io::Result<(W, Written)> {
        let mut package = Package::new(out);
        let span = Span::default();
        let counts = match self.format {
            Format::Json => package.file("export.json", |w| {
                self.json_document(w, source, &span).map(|(_, c)| c)
            })?,
            Format::Csv => self.csv_files(&mut package, source, &span)?,
            Format::Ndjson => self.ndjson_files(&mut package, source, &span)?,
            Format::Parquet => {
                return Err(io::Error::other(
                    "Parquet is a bulk export format; a person's export is JSON, CSV or NDJSON",
                ));
            }
        };
        if let Some(about) = self.about {
            let report = html::Report {
                export_id: self.export_id,
                generated_at: self.generated_at,
                files: package.files().iter().map(|f| f.name.clone()).collect(),
                counts: &counts,
                span: span.0.get(),
                identities: &self.subject.identities,
                about,
            };
            package.file("report.html", |w| html::write(w, &report))?;
        }
        let range = self.range.covering(span.0.get());
        let out = package.finish(&self.description(range), &counts)?;
        Ok((out, Written { counts, range }))
    }

    /// What the manifest and README say about this export, which covers `range`.
    fn description(&self, range: ExportRange) -> Description {
        Description {
            export_id: self.export_id.to_string(),
            generated_at: self.generated_at.to_string(),
            kind: Kind::Person {
                subject: self.subject_ref.clone(),
                identities: self.subject.identities.clone(),
                about: self.about.cloned().map(Box::new),
            },
            data_types: self.data_types.to_vec(),
            format: self.format,
            date_range: range,
            neutralise: self.neutralise,
            encrypted_to: self.encrypted_to.map(str::to_string),
        }
    }

    fn csv_files<W: Write>(
        &self,
        package: &mut Package<W>,
        source: &mut dyn PersonSource,
        span: &Span,
    ) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        let n = self.neutralise;
        if self.wants(DataType::Pageviews) {
            let rows = span.track(source.pageviews()?);
            let c = package.file("pageviews.csv", |w| {
                csv_files::pageviews(w, rows, n).map(|r| r.1)
            })?;
            counts.insert("pageviews".into(), c);
        }
        if self.wants(DataType::Events) {
            let keys = source.event_property_keys()?;
            let rows = span.track(source.events()?);
            let c = package.file("events.csv", |w| {
                csv_files::events(w, &keys, rows, n).map(|r| r.1)
            })?;
            counts.insert("events".into(), c);
        }
        if self.wants(DataType::Sessions) {
            let rows = span.track(source.sessions()?);
            let c = package.file("sessions.csv", |w| {
                csv_files::sessions(w, rows).map(|r| r.1)
            })?;
            counts.insert("sessions".into(), c);
        }
        if self.wants(DataType::Profile) {
            let profile = self.subject.profile.as_ref();
            let c = package.file("profile.csv", |w| {
                csv_files::profile(w, profile, n).map(|r| r.1)
            })?;
            counts.insert("profile".into(), c);
        }
        Ok(counts)
    }

    fn ndjson_files<W: Write>(
        &self,
        package: &mut Package<W>,
        source: &mut dyn PersonSource,
        span: &Span,
    ) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        if self.wants(DataType::Pageviews) {
            let rows = span.track(source.pageviews()?);
            let c = package.file("pageviews.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("pageviews".into(), c);
        }
        if self.wants(DataType::Events) {
            let rows = span.track(source.events()?);
            let c = package.file("events.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("events".into(), c);
        }
        if self.wants(DataType::Sessions) {
            let rows = span.track(source.sessions()?);
            let c = package.file("sessions.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("sessions".into(), c);
        }
        if self.wants(DataType::Profile) {
            let rows = self.subject.profile.iter().cloned().map(Ok);
            let c = package.file("profile.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("profile".into(), c);
        }
        Ok(counts)
    }
}
