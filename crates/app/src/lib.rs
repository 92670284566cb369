//! Ferry's application crate: everything that turns the store and pipeline crates into a running
//! service and a command-line tool.
//!
//! - [`cli`]: the `ferry` command line (clap).
//! - [`config`]: settings from flags and `FERRY_*` variables.
//! - [`telemetry`]: logging; ids only, never personal data.
//! - [`startup`]: builds the HTTP app once and binds it anywhere (port 0 in tests).
//! - [`api`]: the axum routes, auth, errors.
//! - [`dashboard`]: the server-rendered dashboard behind a sign-in; [`passwords`] hashes its
//!   users' passwords.
//! - [`privacy_page`]: the data subject's public page: ask, confirm, follow, download.
//! - [`audit`]: writing the audit trail; [`checkpoint`]: signed checkpoints of its head, with
//!   the key [`audit_key`] keeps.
//! - [`keys`]: API key and id generation (secrets are hashed before the store sees them).
//! - [`enrich`]: device, browser and country for tracker hits.
//! - [`pipeline`]: store rows → export writers, on a blocking thread.
//! - [`services`]: one entry point per use case (asking for an export), for every caller.
//! - [`jobs`]: the worker that runs queued jobs; [`artifacts`] keeps their files; [`links`]
//!   signs their download links; [`clock`] is the time they all read.
//! - [`error_code`]: every error code, with its HTTP status.
//! - [`segments`]: closed days formatted ahead of time, which bulk exports copy.
//! - [`private_fs`]: the owner-only data directory and secret files.
//! - [`demo`]: the deterministic demo and benchmark data generator.
//! - [`commands`]: one module per subcommand.

pub mod alerts;
pub mod api;
pub mod artifacts;
pub mod audit;
pub mod audit_key;
pub mod bulk_source;
pub mod checkpoint;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod enrich;
pub mod error_code;
pub mod identify_signature;
pub mod jobs;
pub mod keys;
pub mod links;
pub mod passwords;
pub mod pipeline;
pub mod privacy_page;
pub mod private_fs;
pub mod sealing;
pub mod segments;
pub mod services;
pub mod startup;
pub mod telemetry;
