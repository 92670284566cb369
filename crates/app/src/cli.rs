//! The `ferry` command line, as DESIGN.md's CLI contract lays it out.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{ServeArgs, StoreArgs};

mod admin;
pub use admin::*;

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Self-hosted web analytics built for data portability"
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the tracker and ingest.
    Serve(ServeArgs),
    /// Create a demo account, website and key, fill demo data, then serve.
    Demo(DemoArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Plans and their export limits.
    #[command(subcommand)]
    Plans(PlansCommand),
    /// Manage websites.
    #[command(subcommand)]
    Websites(WebsitesCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// People who sign in to an account's dashboard.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Scheduled bulk exports of a website (`/api/external/v1/schedules`).
    #[command(subcommand)]
    Schedules(SchedulesCommand),
    /// Destinations exports are delivered to (credentials are never printed).
    #[command(subcommand)]
    Destinations(DestinationsCommand),
    /// Data-subject requests (`/api/external/v1/requests`).
    #[command(subcommand)]
    Requests(crate::commands::requests::RequestsCommand),
    /// Import NDJSON (the `POST /api/ingest` line format) from a file, or `-` for stdin.
    Import(ImportArgs),
    /// Export one person's data, or with --bulk a whole website's, to a file (the same files
    /// as the API's export).
    Export(ExportArgs),
    /// Run queued jobs only (`ferry serve` runs a worker too).
    Worker(WorkerArgs),
    /// Build the export segments of every closed day now (the worker builds them every ten
    /// minutes): bulk exports copy those days instead of reading them again.
    Compact(CompactArgs),
    /// The analytics rollups the summary and the pages list read.
    #[command(subcommand)]
    Analytics(AnalyticsCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Measure ingest throughput and analytics latency on generated data.
    Bench(BenchArgs),
}

impl Command {
    /// Servers log what they do; one-shot commands print their own summary and log only
    /// warnings, unless `FERRY_LOG` says otherwise.
    pub fn log_level(&self) -> &'static str {
        match self {
            Command::Serve(_) | Command::Demo(_) | Command::Worker(_) => "info",
            _ => "warn",
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["user", "email", "visitor", "bulk"])))]
pub struct ExportArgs {
    /// Export a whole website (--website) instead of one person: every page view, event,
    /// session and visitor of the range, and its summary, split into parts.
    #[arg(long, requires = "website")]
    pub bulk: bool,
    /// Bulk: split each data file into parts of at most this size (e.g. 500MB, 1GB).
    #[arg(long, requires = "bulk", default_value = "1GB")]
    pub part_size: String,
    /// Bulk: write the parts as separate files into the directory -o names, not one ZIP.
    #[arg(long, requires = "bulk")]
    pub no_zip: bool,
    /// Bulk: read every row from the store, ignoring export segments (`ferry compact`).
    #[arg(long, requires = "bulk")]
    pub no_segments: bool,
    /// The account to export from; may be left out when there is only one.
    #[arg(long)]
    pub account: Option<String>,
    /// The person, by the site's user id ...
    #[arg(long)]
    pub user: Option<String>,
    /// ... or by email ...
    #[arg(long)]
    pub email: Option<String>,
    /// ... or by visitor id.
    #[arg(long)]
    pub visitor: Option<String>,
    /// Only this website (default: every website of the account).
    #[arg(long)]
    pub website: Option<String>,
    #[arg(long, value_enum, default_value = "json")]
    pub format: FormatArg,
    /// `all`, or a comma-separated list of pageviews, events, sessions, profile (bulk:
    /// pageviews, events, sessions, visitors, summary).
    #[arg(long, default_value = "all")]
    pub include: String,
    /// First day (YYYY-MM-DD, UTC; bulk: the website's time zone), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, inclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Put a JSON export in a ZIP with manifest.json and README.txt (CSV and NDJSON always are).
    #[arg(long)]
    pub zip: bool,
    /// Keep CSV text cells exactly as stored, even ones a spreadsheet would run as formulas.
    #[arg(long)]
    pub keep_formulas: bool,
    /// Encrypt the export to this ASCII-armored OpenPGP public key (gpg --armor --export KEYID);
    /// the file written is an OpenPGP message (.gpg) that gpg --decrypt opens.
    /// Without it, the account's key (`ferry accounts encryption set`) applies, if it has one.
    #[arg(long, value_name = "FILE")]
    pub pgp_key: Option<PathBuf>,
    /// Write the export unencrypted even though the account has a key (recorded in the audit
    /// trail).
    #[arg(long, conflicts_with = "pgp_key")]
    pub no_encryption: bool,
    /// Where to write the file (with --no-zip: the directory).
    #[arg(long, short = 'o')]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Jobs run at once; bulk exports never take the last free slot.
    #[arg(long, env = "FERRY_WORKER_SLOTS", default_value_t = crate::jobs::DEFAULT_SLOTS)]
    pub slots: usize,
    /// Seconds between passes that build export segments of closed days; 0 builds none.
    #[arg(long, env = "FERRY_SEGMENT_INTERVAL", default_value_t = crate::config::DEFAULT_SEGMENT_INTERVAL)]
    pub segment_interval: u64,
    /// Days the download log keeps each client's address; 0 keeps them for good.
    #[arg(long, env = "FERRY_CLIENT_ADDRESS_RETENTION_DAYS", default_value_t = crate::jobs::DEFAULT_CLIENT_ADDRESS_RETENTION_DAYS)]
    pub client_address_retention_days: u64,
    /// The most visitors one person's export reads; a person linked to more fails with
    /// `too_many_visitors`.
    #[arg(long, env = "FERRY_MAX_SUBJECT_VISITORS", default_value_t = crate::jobs::DEFAULT_MAX_SUBJECT_VISITORS)]
    pub max_subject_visitors: usize,
    /// The URL users reach `ferry serve` at: email deliveries link to the download there.
    /// Needed when a mail relay is set (the worker refuses to start without it).
    #[arg(long, env = "FERRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub mail: crate::config::MailArgs,
}

#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// Days built at once (each takes one core).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Json,
    Csv,
    Ndjson,
    /// Bulk exports only.
    Parquet,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Visitors to generate (about 7 page views each).
    #[arg(long, default_value_t = 2_000)]
    pub visitors: u32,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Seed of the generator; the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fill the data and exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Lines per transaction.
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Visitors to generate; about 7 page views each (150,000 ≈ 1M page views).
    #[arg(long, default_value_t = 150_000)]
    pub visitors: u32,
    /// Requests per analytics endpoint for the latency figures.
    #[arg(long, default_value_t = 50)]
    pub requests: u32,
    /// Where to build the benchmark database (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Instead of ingest and analytics: per-person export latency and memory (see README).
    #[arg(long)]
    pub exports: bool,
    /// Instead: bulk export throughput, chain to a finished ZIP and memory (see README).
    #[arg(long)]
    pub bulk: bool,
    /// Instead: the dashboard Overview's latency, signed in over HTTP, for 7, 30 and 90 days,
    /// on a store of `--pageviews` page views with UUID visitor ids (built once per `--dir`).
    #[arg(long)]
    pub overview: bool,
    /// Bulk: page views to generate.
    #[arg(long, default_value_t = 10_000_000)]
    pub pageviews: u64,
    /// Bulk: events to generate.
    #[arg(long, default_value_t = 3_000_000)]
    pub events: u64,
    /// Bulk: visitors the page views and events come from.
    #[arg(long, default_value_t = 100_000)]
    pub bulk_visitors: u32,
    /// Bulk: also time the chain to a ZIP encrypted to this armored OpenPGP public key.
    #[arg(long, value_name = "FILE")]
    pub pgp_key: Option<PathBuf>,
    /// Bulk: also time delivering the ZIP to this S3-compatible server (a new bucket on it,
    /// e.g. moto at http://127.0.0.1:5000), through the S3 destination's sink.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Lines per ingest request (one transaction each).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Line order: `time` interleaves visitors as live traffic does; `visitor` sends each
    /// visitor's history in one run, as an import grouped by person would.
    #[arg(long, value_enum, default_value = "time")]
    pub order: Order,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    Time,
    Visitor,
}

impl Order {
    pub fn describe(self) -> &'static str {
        match self {
            Order::Time => "in time order",
            Order::Visitor => "grouped by visitor",
        }
    }
}
