//! One entry point per use case. The HTTP API, the CLI, and later the dashboard, the
//! scheduler and the request workflow call these; each validates, checks limits and writes
//! the audit trail in one place, so no entry point can skip a rule.
//!
//! - [`exports`]: asking for an export.
//! - [`schedules`]: schedules: creating, changing, running now, backfilling.
//! - [`destinations`]: where exports are delivered, and an export's delivery.
//! - [`encryption`]: which key an export is encrypted to; the account's default key.
//! - [`keys`]: API keys: creating one (shown once) and revoking one.
//! - [`privacy_statement`]: what the account tells a data subject beside their data.
//! - [`users`]: finding a person, before exporting their data.
//! - [`requests`]: data-subject requests: receipt, deadlines, verification, extensions.
//! - [`dashboard_users`]: who may sign in to the dashboard, and checking their passwords.

pub mod dashboard_users;
pub mod destinations;
pub mod encryption;
pub mod exports;
pub mod keys;
pub mod privacy_statement;
pub mod requests;
pub mod schedules;
pub mod users;

use ferry_domain::AccountId;

/// Who asks, as the audit trail and the receipt name them.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An API key: its public id (the audit actor) and its name (the receipt's requester).
    Key {
        account: AccountId,
        id: String,
        name: Option<String>,
    },
    /// The operator at the command line. Plan limits do not apply: it is their own tool.
    Cli { account: AccountId },
    /// A schedule's run. The daily limit does not refuse it (a schedule catching up after
    /// downtime asks for many windows at once, and an admin set it up), but it counts.
    Schedule { account: AccountId, id: String },
    /// The data subject, proving who they are through the link Ferry mailed them.
    Subject { account: AccountId },
    /// A person signed in to the dashboard: the audit trail and receipts name them by email
    /// (`requested_by: admin@company.com`); logs name them by id only.
    User {
        account: AccountId,
        id: String,
        email: String,
    },
}

impl Actor {
    pub fn account(&self) -> AccountId {
        match self {
            Actor::Key { account, .. }
            | Actor::Cli { account }
            | Actor::Schedule { account, .. }
            | Actor::Subject { account } => *account,
            Actor::User { account, .. } => *account,
        }
    }

    /// The audit trail's `actor`.
    pub fn audit_name(&self) -> &str {
        match self {
            Actor::Key { id, .. } | Actor::Schedule { id, .. } => id,
            Actor::Cli { .. } => "cli",
            Actor::Subject { .. } => "subject",
            Actor::User { email, .. } => email,
        }
    }

    /// Who asks, for log lines: never an email.
    pub fn log_name(&self) -> &str {
        match self {
            Actor::User { id, .. } => id,
            other => other.audit_name(),
        }
    }

    /// The receipt's `requested_by`: the key's name (its id when it has none), or `cli`.
    pub fn requested_by(&self) -> String {
        match self {
            Actor::Key { id, name, .. } => name.clone().unwrap_or_else(|| id.clone()),
            Actor::Cli { .. } => "cli".into(),
            Actor::Schedule { id, .. } => format!("schedule {id}"),
            Actor::Subject { .. } => "the data subject".into(),
            Actor::User { email, .. } => email.clone(),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Actor::Cli { .. })
    }

    /// Whether the plan's daily limit may refuse this caller's exports.
    pub fn is_limited(&self) -> bool {
        matches!(self, Actor::Key { .. } | Actor::User { .. })
    }
}
