//! Parquet parts (Snappy-compressed, row groups of 64k rows so a writer's buffers stay small).
//! A part closes at the first batch boundary past the part size, since Parquet sizes are known
//! only as row groups are written; each part is a complete Parquet file.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, TimestampMillisecondBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema, SchemaRef, TimeUnit};
use ferry_domain::export::DataType;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::parts::Meter;
use super::parts_out::PartWriter;
use super::{BulkExport, BulkSource, RowCounts};

const ROW_GROUP: usize = 65_536;

fn pq_error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

fn arrow_error(e: arrow_schema::ArrowError) -> io::Error {
    io::Error::other(e)
}

/// Passes the Parquet writer's bytes to the part writer in chunks, counting them.
struct PartBytes<'a> {
    files: &'a mut dyn PartWriter,
    buffer: Vec<u8>,
    written: u64,
}

impl Write for PartBytes<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        self.written += buf.len() as u64;
        if self.buffer.len() >= 256 * 1024 {
            self.files.write(std::mem::take(&mut self.buffer))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.files.write(std::mem::take(&mut self.buffer))?;
        }
        Ok(())
    }
}

fn text(name: &str) -> Field {
    Field::new(name, ArrowType::Utf8, true)
}

fn time(name: &str) -> Field {
    Field::new(
        name,
        ArrowType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        true,
    )
}

fn count(name: &str) -> Field {
    Field::new(name, ArrowType::UInt64, false)
}

fn timestamps(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
    b.extend(values);
    Arc::new(b.finish())
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn numbers(values: impl Iterator<Item = u64>) -> ArrayRef {
    let mut b = UInt64Builder::new();
    b.extend(values.map(Some));
    Arc::new(b.finish())
}

/// One data type's parts.
struct Parts<'a> {
    stem: &'static str,
    schema: SchemaRef,
    part_size: u64,
    meter: &'a Meter,
    part: u32,
    rows: u64,
    /// Bytes of the open part the meter has been told of.
    counted: u64,
    writer: Option<ArrowWriter<PartBytes<'a>>>,
    files: Option<&'a mut dyn PartWriter>,
}

impl<'a> Parts<'a> {
    fn new(
        stem: &'static str,
        schema: Schema,
        export: &'a BulkExport,
        files: &'a mut dyn PartWriter,
    ) -> Self {
        Parts {
            stem,
            schema: Arc::new(schema),
            part_size: export.part_size,
            meter: export.meter,
            part: 0,
            rows: 0,
            counted: 0,
            writer: None,
            files: Some(files),
        }
    }

    fn open(&mut self) -> io::Result<()> {
        self.part += 1;
        let files = self.files.take().expect("a part is not open");
        files.begin(&format!("{}-{:05}.parquet", self.stem, self.part), false)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let out = PartBytes {
            files,
            buffer: Vec::new(),
            written: 0,
        };
        self.writer =
            Some(ArrowWriter::try_new(out, self.schema.clone(), Some(props)).map_err(pq_error)?);
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        let writer = self.writer.take().expect("a part is open");
        let mut out = writer.into_inner().map_err(pq_error)?;
        out.flush()?;
        // The part's true size replaces the estimates counted while it was written.
        let rest = out.written.saturating_sub(self.counted);
        self.counted = 0;
        out.files.end()?;
        self.meter.add(0, rest)?;
        self.files = Some(out.files);
        Ok(())
    }

    fn add(&mut self, columns: Vec<ArrayRef>) -> io::Result<()> {
        if self.writer.is_none() {
            self.open()?;
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow_error)?;
        let rows = batch.num_rows() as u64;
        let writer = self.writer.as_mut().expect("opened above");
        writer.write(&batch).map_err(pq_error)?;
        self.rows += rows;
        // Parquet's size is known only as row groups close: the meter (and so the plan's byte
        // limit) hears the part's estimated growth as it goes.
        let size = (writer.bytes_written() + writer.in_progress_size()) as u64;
        let grown = size.saturating_sub(self.counted);
        self.counted += grown;
        self.meter.add(rows, grown)?;
        if size >= self.part_size {
            self.close()?;
        }
        Ok(())
    }

    /// Closes the last part (an empty data type still gets one, with no rows).
    fn finish(mut self) -> io::Result<u64> {
        if self.writer.is_none() && self.part == 0 {
            self.open()?;
        }
        if self.writer.is_some() {
            self.close()?;
        }
        Ok(self.rows)
    }
}

pub fn write(
    export: &BulkExport,
    files: &mut dyn PartWriter,
    source: &mut dyn BulkSource,
    counts: &mut RowCounts,
) -> io::Result<()> {
    if export.data_types.contains(&DataType::Pageviews) {
        let schema = Schema::new(vec![
            time("timestamp"),
            text("url"),
            text("title"),
            text("referrer"),
            text("device"),
            text("browser"),
            text("country"),
            text("visitor_id"),
            text("session_id"),
        ]);
        let mut parts = Parts::new("pageviews", schema, export, &mut *files);
        for batch in source.pageviews()? {
            let b = batch?;
            let r = &b.rows;
            parts.add(vec![
                timestamps(r.iter().map(|r| Some(r.timestamp))),
                strings(r.iter().map(|r| b.get(r.url))),
                strings(r.iter().map(|r| b.get(r.title))),
                strings(r.iter().map(|r| b.get(r.referrer))),
                strings(r.iter().map(|r| b.get(r.device))),
                strings(r.iter().map(|r| b.get(r.browser))),
                strings(r.iter().map(|r| b.get(r.country))),
                strings(r.iter().map(|r| b.get(r.visitor_id))),
                session_ids(r.iter().map(|r| r.session)),
            ])?;
        }
        counts.insert("pageviews".into(), parts.finish()?);
    }
    if export.data_types.contains(&DataType::Events) {
        let schema = Schema::new(vec![
            time("timestamp"),
            text("name"),
            // The properties object as JSON text: keys differ from event to event.
            text("properties"),
            text("visitor_id"),
            text("session_id"),
        ]);
        let mut parts = Parts::new("events", schema, export, &mut *files);
        for batch in source.events()? {
            let b = batch?;
            let r = &b.rows;
            parts.add(vec![
                timestamps(r.iter().map(|r| Some(r.timestamp))),
                strings(r.iter().map(|r| b.get(r.name))),
                strings(r.iter().map(|r| b.get(r.properties))),
                strings(r.iter().map(|r| b.get(r.visitor_id))),
                session_ids(r.iter().map(|r| r.session)),
            ])?;
        }
        counts.insert("events".into(), parts.finish()?);
    }
    if export.data_types.contains(&DataType::Sessions) {
        let schema = Schema::new(vec![
            text("session_id"),
            time("started_at"),
            time("ended_at"),
            count("pages_viewed"),
            count("events_triggered"),
            text("visitor_id"),
        ]);
        let mut parts = Parts::new("sessions", schema, export, &mut *files);
        for batch in source.sessions()? {
            let b = batch?;
            let r = &b.rows;
            parts.add(vec![
                session_ids(r.iter().map(|r| r.session)),
                timestamps(r.iter().map(|r| Some(r.started_at))),
                timestamps(r.iter().map(|r| Some(r.ended_at))),
                numbers(r.iter().map(|r| r.pages_viewed)),
                numbers(r.iter().map(|r| r.events_triggered)),
                strings(r.iter().map(|r| b.get(r.visitor_id))),
            ])?;
        }
        counts.insert("sessions".into(), parts.finish()?);
    }
    if export.data_types.contains(&DataType::Visitors) {
        let schema = Schema::new(vec![
            text("visitor_id"),
            time("first_seen"),
            time("last_seen"),
            count("pageviews"),
            count("sessions"),
            text("device"),
            text("browser"),
            text("country"),
            text("user_id"),
            text("email"),
        ]);
        let mut parts = Parts::new("visitors", schema, export, &mut *files);
        let mut rows = source.visitors()?;
        loop {
            let chunk: Vec<_> = rows.by_ref().take(4096).collect::<io::Result<_>>()?;
            if chunk.is_empty() {
                break;
            }
            let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
            parts.add(vec![
                strings(chunk.iter().map(|r| Some(r.visitor_id.as_str()))),
                timestamps(chunk.iter().map(|r| ms(r.first_seen))),
                timestamps(chunk.iter().map(|r| ms(r.last_seen))),
                numbers(chunk.iter().map(|r| r.pageviews)),
                numbers(chunk.iter().map(|r| r.sessions)),
                strings(chunk.iter().map(|r| r.device.as_deref())),
                strings(chunk.iter().map(|r| r.browser.as_deref())),
                strings(chunk.iter().map(|r| r.country.as_deref())),
                strings(chunk.iter().map(|r| r.user_id.as_deref())),
                strings(chunk.iter().map(|r| r.email.as_deref())),
            ])?;
        }
        counts.insert("visitors".into(), parts.finish()?);
    }
    Ok(())
}

fn session_ids(keys: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for key in keys {
        b.append_value(format!("sess_{key}"));
    }
    Arc::new(b.finish())
}
