//! Ferry's vocabulary, shared by every other crate. Pure data, validation and hashing: no I/O,
//! no async.
//!
//! - [`account`]: tenants and the public side of their API keys.
//! - [`audit`]: the hash-chained audit trail's entries.
//! - [`scope`]: what an API key may do.
//! - [`plan`]: an account's plan.
//! - [`privacy_statement`]: what the controller tells a data subject beside their data.
//! - [`website`]: a tracked site and the checks on creating one.
//! - [`ingest`]: the three ingest line types as they arrive (wire) and once validated.
//! - [`date_range`]: inclusive calendar ranges in a website's time zone, and their UTC windows.
//! - [`analytics`]: the rows the analytics API answers with.
//! - [`bulk`]: a website's rows in batches, for bulk exports.
//! - [`export`]: what a person's export holds: data types, formats, subject, rows.
//! - [`job`]: export jobs and their states.
//! - [`queue`]: the generic job queue: job kinds, lanes, leases.
//! - [`request`]: data-subject requests, their status machine and their legal deadline.
//! - [`schedule`]: schedules, their frequencies and the windows their runs cover.
//! - [`session`]: the rule that splits activity into sessions.
//! - [`time`]: the one RFC 3339 formatter of every output, and its serde helpers.

pub mod account;
pub mod alert;
pub mod analytics;
pub mod audit;
pub mod bulk;
pub mod date_range;
pub mod erasure;
pub mod export;
pub mod ingest;
pub mod job;
pub mod plan;
pub mod privacy_statement;
pub mod queue;
pub mod request;
pub mod schedule;
pub mod scope;
pub mod session;
pub mod time;
pub mod website;

pub use account::{Account, AccountId, ApiKeyInfo, NewApiKey};
pub use date_range::{DateRange, DateRangeError, DayWindow, parse_date};
pub use ingest::{Activity, ActivityKind, Identify, IngestLine, LineError, LinkTrust, WireLine};
pub use plan::{LimitSetting, Limits, Plan};
pub use scope::{Scope, Scopes};
pub use website::{IdentifyPolicy, NewWebsite, ValidWebsite, Website, WebsiteError};

/// Milliseconds since the Unix epoch, UTC. Every stored instant uses this unit.
pub type Millis = i64;
