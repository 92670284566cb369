//! `POST /requests/import` and `ferry requests import`: many requests at once, as CSV (a
//! header row naming the columns) or NDJSON (one object per line), with the fields of
//! `POST /requests`. Every row needs an `external_ref`: the import is idempotent by it, so
//! re-sending a file (after a crash, a timeout, or on purpose) creates nothing twice and
//! answers with the requests that exist. Rows are committed in batches of [`BATCH`], each in
//! one transaction; an interrupted import leaves whole batches, and re-running the same file
//! completes it. Each bad row is reported by its line number (the CSV header is line 1) and
//! changes nothing; the good rows are kept.

use ferry_domain::request::RequestSettings;
use ferry_store::{Created, Store};
use serde::Serialize;

use super::{NewRequest, prepare};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// Rows committed per transaction: short enough not to hold the writer for long.
pub const BATCH: usize = 500;
/// The most rows one import takes.
pub const MAX_ROWS: usize = 100_000;
/// Errors a report lists; the count is always whole.
pub const MAX_ERRORS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// From the Content-Type when it says, else from the first character (`{`: NDJSON).
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> Format {
        match content_type.map(|c| c.split(';').next().unwrap_or("").trim()) {
            Some("text/csv") => Format::Csv,
            Some("application/x-ndjson" | "application/ndjson" | "application/jsonl") => {
                Format::Ndjson
            }
            _ if body.trim_ascii_start().first() == Some(&b'{') => Format::Ndjson,
            _ => Format::Csv,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    /// Rows whose `external_ref` the account had already: nothing written.
    pub existing: usize,
    pub rejected: usize,
    pub errors: Vec<RowError>,
    pub errors_truncated: bool,
}

impl Report {
    fn reject(&mut self, row: usize, problem: Problem) {
        self.rejected += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(RowError {
                row,
                code: problem.code.as_str(),
                message: problem.message,
            });
        } else {
            self.errors_truncated = true;
        }
    }
}

fn row_problem(message: String) -> Problem {
    Problem::new(ErrorCode::InvalidValue, message)
}

/// A row as parsed: its line number, and the request or why it is not one.
pub type Row = (usize, Result<NewRequest, Problem>);

/// The rows of `body`, each with its line number.
pub fn parse(format: Format, body: &[u8]) -> Result<Vec<Row>, Problem> {
    let rows = match format {
        Format::Ndjson => body
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.trim_ascii().is_empty())
            .map(|(i, line)| {
                let parsed = serde_json::from_slice::<NewRequest>(line).map_err(|e| {
                    let line_error = ferry_domain::ingest::json_error(&e);
                    Problem::new(
                        ErrorCode::parse(line_error.code).unwrap_or(ErrorCode::InvalidValue),
                        line_error.message,
                    )
                });
                (i + 1, parsed)
            })
            .collect::<Vec<_>>(),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
            let headers = reader.headers().map_err(|e| {
                Problem::new(
                    ErrorCode::UnreadableBody,
                    format!("the CSV header cannot be read: {e}"),
                )
            })?;
            let headers = headers.clone();
            reader
                .records()
                .map(|record| match record {
                    Ok(record) => {
                        let line = record.position().map_or(0, |p| p.line() as usize);
                        (line, csv_row(&headers, &record))
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line() as usize);
                        (line, Err(row_problem(format!("not a CSV row: {e}"))))
                    }
                })
                .collect()
        }
    };
    if rows.len() > MAX_ROWS {
        return Err(Problem::new(
            ErrorCode::BodyTooLarge,
            format!("an import takes at most {MAX_ROWS} rows: split the file"),
        ));
    }
    Ok(rows)
}

fn csv_row(headers: &csv::StringRecord, record: &csv::StringRecord) -> Result<NewRequest, Problem> {
    if record.len() != headers.len() {
        return Err(row_problem(format!(
            "{} fields where the header names {}",
            record.len(),
            headers.len()
        )));
    }
    let mut row = serde_json::Map::new();
    for (name, value) in headers.iter().zip(record.iter()) {
        if !value.is_empty() {
            row.insert(name.trim().to_string(), value.into());
        }
    }
    serde_json::from_value(serde_json::Value::Object(row)).map_err(|e| {
        Problem::new(ErrorCode::InvalidValue, format!("{e}; columns: type, subject_email, external_ref, user_id, visitor_id, received_at, assignee, notes"))
    })
}

/// Imports the parsed rows; the report counts every row.
pub async fn import(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    rows: Vec<Row>,
) -> Result<Report, Problem> {
    let settings: RequestSettings = store.request_settings(actor.account()).await?;
    let mut report = Report {
        rows: rows.len(),
        ..Report::default()
    };
    let mut batch = Vec::with_capacity(BATCH);
    for (line, row) in rows {
        let now = clock.now();
        let prepared = row.and_then(|body| {
            if body.external_ref.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(Problem::new(
                    ErrorCode::MissingField,
                    "`external_ref` is required on an import: it is what makes re-running the file safe",
                ));
            }
            prepare(actor, body, &settings, now)
        });
        match prepared {
            Ok(request) => batch.push(request),
            Err(problem) => report.reject(line, problem),
        }
        if batch.len() == BATCH {
            commit(store, actor, std::mem::take(&mut batch), now, &mut report).await?;
        }
    }
    if !batch.is_empty() {
        commit(store, actor, batch, clock.now(), &mut report).await?;
    }
    tracing::info!(
        rows = report.rows,
        created = report.created,
        rejected = report.rejected,
        "requests imported"
    );
    Ok(report)
}

async fn commit(
    store: &dyn Store,
    actor: &Actor,
    batch: Vec<(ferry_domain::request::Request, ferry_store::RequestChange)>,
    now: i64,
    report: &mut Report,
) -> Result<(), Problem> {
    for created in store.import_requests(actor.account(), batch, now).await? {
        match created {
            Created::New(_) => report.created += 1,
            Created::Existing(_) => report.existing += 1,
        }
    }
    Ok(())
}
