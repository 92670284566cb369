//! The operator's subcommands over the store: accounts, plans, websites, keys, dashboard
//! users, destinations, schedules, analytics rollups and the audit trail.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Recompute a website's rollups from its stored rows (every day, or --from to --to in
    /// the website's time zone).
    Rebuild {
        #[arg(long)]
        website: String,
        #[arg(long, requires = "to")]
        from: Option<chrono::NaiveDate>,
        #[arg(long, requires = "from")]
        to: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero and names the first bad entry if it was altered.
    Verify {
        /// Also prove that no entry up to this checkpoint (from `ferry audit checkpoint`) was
        /// edited, removed or cut.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The key the checkpoint must be signed with (64 hex digits, or a file holding them or
        /// the `/.well-known/ferry-audit-key` document); default: the data directory's.
        #[arg(long, requires = "checkpoint")]
        public_key: Option<String>,
    },
    /// Sign the chain's newest entry with the data directory's Ed25519 key (made on first use)
    /// and print the checkpoint, or write it to a file; keep it off this machine.
    Checkpoint {
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account.
    Create {
        name: String,
        #[arg(long, default_value = "pro", value_parser = ["pro", "scale", "enterprise"])]
        plan: String,
        /// How long download links live unless a request says (1–30 days; default 7).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=30))]
        link_expiry_days: Option<u64>,
    },
    /// Set an account's own export limits over its plan's (`plan` to follow the plan again).
    Limits {
        name: String,
        /// Exports the account may ask for in 24 hours: a number, `unlimited` or `plan`.
        #[arg(long)]
        exports_per_day: Option<String>,
        /// Largest export (data before compression), e.g. 5GB: a size, `unlimited` or `plan`.
        #[arg(long)]
        max_export_size: Option<String>,
    },
    /// The public key every export of the account is encrypted to unless the request or its
    /// destination names another (or the request opts out).
    #[command(subcommand)]
    Encryption(AccountEncryptionCommand),
    /// What every person's package tells them about the processing (Art. 15): controller,
    /// purposes, recipients, retention, source; per account, overridable per website.
    #[command(subcommand, name = "privacy-statement")]
    PrivacyStatement(PrivacyStatementCommand),
}

#[derive(Debug, Subcommand)]
pub enum PrivacyStatementCommand {
    /// Print the statement as JSON (with `--website`: its overrides and what applies there).
    Show {
        name: String,
        #[arg(long)]
        website: Option<String>,
    },
    /// Set fields from a JSON object in FILE (`-`: stdin), as `PUT /account/privacy-statement`
    /// takes it: fields left out keep their values, "" or null clears one.
    Set {
        name: String,
        #[arg(long)]
        website: Option<String>,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountEncryptionCommand {
    /// Set (or replace) the account's key from a file holding an armored OpenPGP public key.
    Set {
        name: String,
        #[arg(long, value_name = "FILE")]
        pgp_key: PathBuf,
    },
    /// Print the key's fingerprint, who set it and when.
    Show { name: String },
    /// Remove the key: exports without a key of their own go unencrypted again.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum SchedulesCommand {
    /// List an account's schedules.
    List {
        #[arg(long)]
        account: String,
    },
    /// Create a schedule and print its id.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        website: String,
        /// daily, weekly, monthly, or a cron expression that fires at midnight (`0 0 * * 1-5`).
        #[arg(long)]
        frequency: String,
        /// Data types, comma-separated (pageviews,events,sessions,visitors,summary) or `all`.
        #[arg(long, default_value = "all")]
        include: String,
        #[arg(long, default_value = "csv")]
        format: String,
        /// A destination id runs are delivered to (none: each run is a download).
        #[arg(long)]
        destination: Option<String>,
        /// A file with an armored OpenPGP public key to encrypt each run to.
        #[arg(long)]
        pgp_key: Option<std::path::PathBuf>,
        /// The first window's first day, YYYY-MM-DD (default: today in the website's zone).
        #[arg(long)]
        starts_on: Option<String>,
        /// Create it turned off.
        #[arg(long)]
        disabled: bool,
    },
    /// Delete a schedule.
    Delete {
        #[arg(long)]
        account: String,
        id: String,
    },
    /// Queue the next window now (a running `ferry serve` or `ferry worker` runs it).
    Run {
        #[arg(long)]
        account: String,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlansCommand {
    /// Show each plan's export limits.
    List,
    /// Change a plan's export limits (every account on it that has no limits of its own).
    Set {
        #[arg(value_parser = ["pro", "scale", "enterprise"])]
        plan: String,
        /// Exports a day: a number or `unlimited`.
        #[arg(long)]
        exports_per_day: String,
        /// Largest export, e.g. 1GB: a size or `unlimited`.
        #[arg(long)]
        max_export_size: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebsitesCommand {
    /// Create a website and print its id.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        domain: String,
        /// IANA time zone for date ranges and daily series.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Days to keep raw data (default: until deleted).
        #[arg(long)]
        retention_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key and print it (shown once).
    Create {
        #[arg(long)]
        account: String,
        /// Comma-separated: analytics:read, exports:read, exports:write, ingest, requests:read, requests:write, admin.
        #[arg(long, default_value = "analytics:read,exports:read,exports:write")]
        scopes: String,
        /// A label to tell keys apart.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a dashboard user; prints their password once when it is generated.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "member"])]
        role: String,
        /// Read the password from the first line of stdin instead of generating one (so it
        /// stays out of the shell history and the process list).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DestinationsCommand {
    /// The account's destinations, credentials redacted.
    List {
        #[arg(long)]
        account: String,
    },
    /// Create one from its JSON (the API's body), read from a file or `-` for stdin so that
    /// credentials stay out of the shell history and the process list.
    Create {
        #[arg(long)]
        account: String,
        json: PathBuf,
    },
    Delete {
        #[arg(long)]
        account: String,
        id: String,
    },
    /// Write and remove a small object at the destination.
    Test {
        #[arg(long)]
        account: String,
        id: String,
    },
}
