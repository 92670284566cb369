//! Ferry's application crate: everything that turns the store and pipeline crates into a running
//! service and a command-line tool.
//!
//! - [`cli`]: the `ferry` command line (clap).
//! - [`config`]: settings from flags and `FERRY_*` variables.
//! - [`telemetry`]: logging; ids only, never personal data.
//! - [`startup`]: builds the HTTP app once and binds it anywhere (port 0 in tests).
//! - [`api`]: the axum routes, auth, errors.
//! - [`audit`]: writing the audit trail.
//! - [`keys`]: API key and id generation (secrets are hashed before the store sees them).
//! - [`enrich`]: device, browser and country for tracker hits.
//! - [`pipeline`]: store rows → export writers, on a blocking thread.
//! - [`worker`]: runs queued export jobs; [`links`] signs their download links.
//! - [`segments`]: closed days formatted ahead of time, which bulk exports copy.
//! - [`demo`]: the deterministic demo and benchmark data generator.
//! - [`commands`]: one module per subcommand.

pub mod api;
pub mod audit;
pub mod bulk_source;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod enrich;
pub mod keys;
pub mod links;
pub mod pipeline;
pub mod segments;
pub mod startup;
pub mod telemetry;
pub mod worker;
