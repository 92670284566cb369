//! The export stages between the store and a sink, each over `std::io::Write`, knowing nothing
//! of paths, networks, databases or HTTP. Rows come in as iterators; bytes go out.
//!
//! - [`rows`]: the reference page's row layouts (field names and order), shared by the writers.
//! - [`json`]: one streamed JSON document in the reference layout.
//! - [`csv_files`]: one CSV file per data type with the reference headers.
//! - [`formula`]: the one rule that defuses spreadsheet formulas in CSV text cells.
//! - [`property_columns`]: which event-property keys become CSV columns (at most 200).
//! - [`hashing`]: size and SHA-256 of a stream as it is written, for manifests and artifacts.
//! - [`meter`]: rows and bytes written so far, the byte limit, cancellation.
//! - [`ndjson`]: one JSON object per line.
//! - [`package`]: one package path for every export: ZIP writer, manifest, README.
//! - [`bulk`]: a website's bulk export, split into parts, as one ZIP or separate files.
//! - [`person`]: a person's whole export from a [`person::PersonSource`].
//! - [`report`]: the Art. 15 answer beside a person's data: `report.html` and the README's part.

pub mod bulk;
pub mod csv_files;
pub mod formula;
pub mod hashing;
pub mod json;
pub mod meter;
pub mod ndjson;
pub mod package;
pub mod person;
pub mod property_columns;
pub mod report;
pub mod rows;

/// A stream of rows from the store; an error ends the export.
pub type Rows<'a, R> = Box<dyn Iterator<Item = std::io::Result<R>> + 'a>;
