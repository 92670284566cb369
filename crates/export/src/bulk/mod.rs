//! A website's bulk export: every page view, event, session and visitor of a date range, and
//! its analytics summary, as CSV, JSON (one document per part), NDJSON or Parquet. Each data
//! file is split into numbered parts ([`parts`]); the files go to a [`parts_out::PartWriter`]
//! (one ZIP, or separate files), followed by `README.txt` and, last, `manifest.json`.
//!
//! Rows arrive in [`Batch`]es from a [`BulkSource`] and are formatted straight into the
//! part writer's chunks, so memory holds a few batches and chunks whatever the export's size.

pub mod cells;
mod digest;
pub mod formats;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod parts;
pub mod parts_out;
pub mod segment;
pub mod stage;

use std::io::{self, Write};
use std::path::Path;

use ferry_domain::analytics::VisitorRow;
use ferry_domain::bulk::{Batch, BulkEvent, BulkPageview, BulkSession};
use ferry_domain::export::{DataType, ExportRange, Format};

use crate::Rows;
use crate::package::{Description, FileEntry, Kind, Manifest, readme};
use formats::{
    PAGEVIEW_COLUMNS, RowWriter, SESSION_COLUMNS, TextFormat, TextFraming, VISITOR_COLUMNS,
};
use parts::{Meter, Splitter};
use parts_out::{DirParts, LastFile, PartWriter, ZipParts};
use segment::Block;

/// Batches of rows from the store; an error ends the export.
pub type Batches<'a, R> = Box<dyn Iterator<Item = io::Result<Batch<R>>> + 'a>;

/// A stretch of a data type's rows: to be formatted, or formatted ahead of time.
pub enum Piece<R> {
    Rows(Batch<R>),
    Formatted(Block),
}

pub type Pieces<'a, R> = Box<dyn Iterator<Item = io::Result<Piece<R>>> + 'a>;

/// How text rows are written; a block formatted ahead of time is used only if it was
/// written the same way.
#[derive(Debug, Clone, Copy)]
pub struct TextLayout<'a> {
    pub format: TextFormat,
    pub neutralise: bool,
    /// The events CSV's property columns.
    pub event_keys: &'a [String],
}

fn all_rows<'a, R: 'a>(batches: Batches<'a, R>) -> Pieces<'a, R> {
    Box::new(batches.map(|b| b.map(Piece::Rows)))
}

/// Where a bulk export's rows come from. Each call starts that data type from its first row.
pub trait BulkSource {
    /// The page views for text in `layout`: a source with blocks formatted ahead of time in
    /// that layout hands those over for the stretches they cover.
    fn pageview_text(&mut self, _layout: &TextLayout) -> io::Result<Pieces<'_, BulkPageview>> {
        Ok(all_rows(self.pageviews()?))
    }
    /// The events for text in `layout`, like [`BulkSource::pageview_text`].
    fn event_text(&mut self, _layout: &TextLayout) -> io::Result<Pieces<'_, BulkEvent>> {
        Ok(all_rows(self.events()?))
    }
    fn pageviews(&mut self) -> io::Result<Batches<'_, BulkPageview>>;
    fn events(&mut self) -> io::Result<Batches<'_, BulkEvent>>;
    /// Every property key of the range's events, sorted: the events CSV's columns.
    fn event_keys(&mut self) -> io::Result<Vec<String>>;
    fn sessions(&mut self) -> io::Result<Batches<'_, BulkSession>>;
    fn visitors(&mut self) -> io::Result<Rows<'_, VisitorRow>>;
    /// The analytics totals and per-day series of the range, as the API answers them.
    fn summary(&mut self) -> io::Result<serde_json::Value>;
}

pub use crate::package::RowCounts;

pub struct BulkExport<'a> {
    pub export_id: &'a str,
    pub generated_at: &'a str,
    pub website_id: &'a str,
    pub domain: &'a str,
    pub time_zone: &'a str,
    pub data_types: &'a [DataType],
    pub format: Format,
    /// The days of the export, resolved before it starts (both sides known).
    pub range: ExportRange,
    pub part_size: u64,
    /// Defuse spreadsheet formulas in CSV text cells.
    pub neutralise: bool,
    /// The OpenPGP key's fingerprint when the package is encrypted (the manifest says so).
    pub encrypted_to: Option<&'a str>,
    pub meter: &'a Meter,
}

impl BulkExport<'_> {
    fn wants(&self, t: DataType) -> bool {
        self.data_types.contains(&t)
    }

    /// The fields every JSON part document starts with.
    fn document_head(&self) -> String {
        let head = serde_json::json!({
            "export_id": self.export_id,
            "generated_at": self.generated_at,
            "website_id": self.website_id,
            "date_range": &self.range,
        })
        .to_string();
        // `{…}` → `{…,` so the part number and the rows follow.
        format!("{},", &head[..head.len() - 1])
    }

    fn text_format(&self) -> Option<TextFormat> {
        match self.format {
            Format::Csv => Some(TextFormat::Csv),
            Format::Json => Some(TextFormat::Json),
            Format::Ndjson => Some(TextFormat::Ndjson),
            Format::Parquet => None,
        }
    }

    /// Writes every data file, then `README.txt`; the caller's part writer adds the
    /// manifest.
    pub fn write(
        &self,
        files: &mut dyn PartWriter,
        source: &mut dyn BulkSource,
    ) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        match self.text_format() {
            Some(format) => self.write_text(format, files, source, &mut counts)?,
            None => self.write_parquet(files, source, &mut counts)?,
        }
        if self.wants(DataType::Summary) {
            let summary = serde_json::to_vec_pretty(&source.summary()?)?;
            files.begin("summary.json", true)?;
            files.write(summary)?;
            files.end()?;
        }
        files.begin("README.txt", true)?;
        files.write(readme::text(&self.description()).into_bytes())?;
        files.end()?;
        Ok(counts)
    }

    fn write_text(
        &self,
        format: TextFormat,
        files: &mut dyn PartWriter,
        source: &mut dyn BulkSource,
        counts: &mut RowCounts,
    ) -> io::Result<()> {
        let head = self.document_head();
        let owned = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let framing =
            |name: &'static str, cols: &[String]| TextFraming::new(format, name, cols, &head);
        if self.wants(DataType::Pageviews) {
            let mut rows = RowWriter::new(format, self.neutralise, Vec::new());
            let mut parts = self.splitter(
                framing("pageviews", &owned(&PAGEVIEW_COLUMNS)),
                "pageviews",
                files,
            )?;
            let layout = self.layout(format, &[]);
            for piece in source.pageview_text(&layout)? {
                match piece? {
                    Piece::Rows(batch) => {
                        for r in &batch.rows {
                            parts.row(|out| rows.pageview(&batch, r, out))?;
                        }
                    }
                    Piece::Formatted(block) => parts.block(block)?,
                }
            }
            counts.insert("pageviews".into(), parts.finish()?);
        }
        if self.wants(DataType::Events) {
            let keys = if format == TextFormat::Csv {
                source.event_keys()?
            } else {
                Vec::new()
            };
            let mut columns = owned(&["timestamp", "name"]);
            columns.extend(crate::property_columns::PropertyColumns::new(&keys).header());
            columns.extend(owned(&["visitor_id", "session_id"]));
            let layout = self.layout(format, &keys);
            let mut rows = RowWriter::new(format, self.neutralise, keys.clone());
            let mut parts = self.splitter(framing("events", &columns), "events", files)?;
            for piece in source.event_text(&layout)? {
                match piece? {
                    Piece::Rows(batch) => {
                        for r in &batch.rows {
                            parts.row(|out| rows.event(&batch, r, out))?;
                        }
                    }
                    Piece::Formatted(block) => parts.block(block)?,
                }
            }
            counts.insert("events".into(), parts.finish()?);
        }
        if self.wants(DataType::Sessions) {
            let mut rows = RowWriter::new(format, self.neutralise, Vec::new());
            let mut parts = self.splitter(
                framing("sessions", &owned(&SESSION_COLUMNS)),
                "sessions",
                files,
            )?;
            for batch in source.sessions()? {
                let batch = batch?;
                for r in &batch.rows {
                    parts.row(|out| rows.session(&batch, r, out))?;
                }
            }
            counts.insert("sessions".into(), parts.finish()?);
        }
        if self.wants(DataType::Visitors) {
            let mut rows = RowWriter::new(format, self.neutralise, Vec::new());
            let mut parts = self.splitter(
                framing("visitors", &owned(&VISITOR_COLUMNS)),
                "visitors",
                files,
            )?;
            for row in source.visitors()? {
                let row = row?;
                parts.row(|out| rows.visitor(&row, out))?;
            }
            counts.insert("visitors".into(), parts.finish()?);
        }
        Ok(())
    }

    fn layout<'k>(&self, format: TextFormat, event_keys: &'k [String]) -> TextLayout<'k> {
        TextLayout {
            format,
            neutralise: self.neutralise,
            event_keys,
        }
    }

    fn splitter<'s>(
        &'s self,
        framing: TextFraming,
        stem: &'s str,
        files: &'s mut dyn PartWriter,
    ) -> io::Result<Splitter<'s, TextFraming>> {
        Splitter::new(framing, stem, self.part_size, files, self.meter)
    }

    #[cfg(feature = "parquet")]
    fn write_parquet(
        &self,
        files: &mut dyn PartWriter,
        source: &mut dyn BulkSource,
        counts: &mut RowCounts,
    ) -> io::Result<()> {
        parquet::write(self, files, source, counts)
    }

    #[cfg(not(feature = "parquet"))]
    fn write_parquet(
        &self,
        _files: &mut dyn PartWriter,
        _source: &mut dyn BulkSource,
        _counts: &mut RowCounts,
    ) -> io::Result<()> {
        Err(io::Error::other(
            "this build of Ferry has no Parquet support (feature `parquet`)",
        ))
    }

    /// The whole export as one ZIP (deflate `level`) written to `out`. Returns the output, the
    /// ZIP's files (the manifest last) and the rows per data type.
    pub fn write_zip<W: Write + Send + 'static>(
        &self,
        out: W,
        level: u32,
        source: &mut dyn BulkSource,
    ) -> io::Result<(W, Vec<FileEntry>, RowCounts)> {
        let mut zip = ZipParts::new(out, level);
        let counts = self.write(&mut zip, source)?;
        let (out, files) = zip.finish(self.manifest(counts.clone()))?;
        Ok((out, files, counts))
    }

    /// The export as separate files in `dir`, `manifest.json` among them; `durable` syncs
    /// each to disk.
    pub fn write_dir(
        &self,
        dir: &Path,
        durable: bool,
        source: &mut dyn BulkSource,
    ) -> io::Result<(Vec<FileEntry>, RowCounts)> {
        let mut files = DirParts::new(dir, durable, None)?;
        let counts = self.write(&mut files, source)?;
        let (entries, _) = files.finish(self.manifest(counts.clone()))?;
        Ok((entries, counts))
    }

    /// [`BulkExport::write_dir`] with every file, the manifest and README included, passed
    /// through `stage`. Returns the files as stored (the manifest last) and the rows per data
    /// type; the manifest inside describes the files' content, before the stage.
    pub fn write_dir_staged(
        &self,
        dir: &Path,
        durable: bool,
        stage: Box<dyn stage::FileStage>,
        source: &mut dyn BulkSource,
    ) -> io::Result<(Vec<FileEntry>, RowCounts)> {
        let mut files = DirParts::new(dir, durable, Some(stage))?;
        let counts = self.write(&mut files, source)?;
        let (_, stored) = files.finish(self.manifest(counts.clone()))?;
        Ok((stored, counts))
    }

    /// What the manifest and README say about this export.
    fn description(&self) -> Description {
        Description {
            export_id: self.export_id.to_string(),
            generated_at: self.generated_at.to_string(),
            kind: Kind::Website {
                website_id: self.website_id.to_string(),
                domain: self.domain.to_string(),
                time_zone: self.time_zone.to_string(),
                part_size: self.part_size,
            },
            data_types: self.data_types.to_vec(),
            format: self.format,
            date_range: self.range,
            neutralise: self.neutralise,
            encrypted_to: self.encrypted_to.map(str::to_string),
        }
    }

    /// Builds `manifest.json` from the other files' entries, on the thread that wrote them.
    fn manifest(&self, row_counts: RowCounts) -> LastFile {
        let description = self.description();
        Box::new(move |files| {
            let manifest = Manifest {
                description: &description,
                row_counts: &row_counts,
                files,
            };
            Ok(("manifest.json".into(), manifest.to_json()?))
        })
    }
}
