//! A person's export, whole: which files, in which format, fed from a [`PersonSource`].
//!
//! - JSON: one document (`export.json`), bare or in a ZIP.
//! - CSV: `pageviews.csv`, `events.csv`, `sessions.csv`, `profile.csv` in a ZIP.
//! - NDJSON: `pageviews.ndjson`, `events.ndjson`, `sessions.ndjson`, `profile.ndjson` in a ZIP.
//!
//! Every ZIP also holds `README.txt` and `manifest.json`.

use std::io::{self, Write};

use ferry_domain::export::{
    DataType, EventRow, ExportRange, Format, PageviewRow, SessionRow, Subject, SubjectRef,
};

use crate::json::JsonDocument;
use crate::package::{DateRangeOut, Description, Kind, Package};
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
}

pub use crate::package::RowCounts;

impl PersonExport<'_> {
    fn wants(&self, t: DataType) -> bool {
        self.data_types.contains(&t)
    }

    /// The bare JSON document.
    pub fn write_json<W: Write>(
        &self,
        out: W,
        source: &mut dyn PersonSource,
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
            let n = doc.array("pageviews", source.pageviews()?)?;
            counts.insert("pageviews".into(), n);
        }
        if self.wants(DataType::Events) {
            let n = doc.array("events", source.events()?)?;
            counts.insert("events".into(), n);
        }
        if self.wants(DataType::Sessions) {
            let n = doc.array("sessions", source.sessions()?)?;
            counts.insert("sessions".into(), n);
        }
        Ok((doc.finish()?, counts))
    }

    /// The ZIP: data files in the chosen format, `README.txt`, `manifest.json`.
    pub fn write_zip<W: Write>(
        &self,
        out: W,
        source: &mut dyn PersonSource,
    ) -> io::Result<(W, RowCounts)> {
        let mut package = Package::new(out);
        let counts = match self.format {
            Format::Json => package.file("export.json", |w| {
                self.write_json(w, source).map(|(_, c)| c)
            })?,
            Format::Csv => self.csv_files(&mut package, source)?,
            Format::Ndjson => self.ndjson_files(&mut package, source)?,
            Format::Parquet => {
                return Err(io::Error::other(
                    "Parquet is a bulk export format; a person's export is JSON, CSV or NDJSON",
                ));
            }
        };
        Ok((package.finish(&self.description(), &counts)?, counts))
    }

    /// What the manifest and README say about this export.
    fn description(&self) -> Description {
        Description {
            export_id: self.export_id.to_string(),
            generated_at: self.generated_at.to_string(),
            kind: Kind::Person {
                subject: self.subject_ref.clone(),
                identities: self.subject.identities.clone(),
            },
            data_types: self.data_types.to_vec(),
            format: self.format,
            date_range: DateRangeOut {
                start: self.range.start.map(|d| d.to_string()),
                end: self.range.end.map(|d| d.to_string()),
            },
            neutralise: self.neutralise,
        }
    }

    fn csv_files<W: Write>(
        &self,
        package: &mut Package<W>,
        source: &mut dyn PersonSource,
    ) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        let n = self.neutralise;
        if self.wants(DataType::Pageviews) {
            let rows = source.pageviews()?;
            let c = package.file("pageviews.csv", |w| {
                csv_files::pageviews(w, rows, n).map(|r| r.1)
            })?;
            counts.insert("pageviews".into(), c);
        }
        if self.wants(DataType::Events) {
            let keys = source.event_property_keys()?;
            let rows = source.events()?;
            let c = package.file("events.csv", |w| {
                csv_files::events(w, &keys, rows, n).map(|r| r.1)
            })?;
            counts.insert("events".into(), c);
        }
        if self.wants(DataType::Sessions) {
            let rows = source.sessions()?;
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
    ) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        if self.wants(DataType::Pageviews) {
            let rows = source.pageviews()?;
            let c = package.file("pageviews.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("pageviews".into(), c);
        }
        if self.wants(DataType::Events) {
            let rows = source.events()?;
            let c = package.file("events.ndjson", |w| ndjson::write_lines(w, rows))?;
            counts.insert("events".into(), c);
        }
        if self.wants(DataType::Sessions) {
            let rows = source.sessions()?;
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
