//! Data-subject requests (GDPR Art. 15, 17, 20): what was asked, by whom, when it is due,
//! and every step taken since.
//!
//! - [`status`]: the status machine; [`deadline`]: the due date.
//!
//! A request carries its own copy of the rule and the clock setting it was received under,
//! so changing the account's settings later never moves a date a subject was promised.

pub mod deadline;
pub mod status;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Millis;
pub use deadline::{Deadline, DueRule, MAX_EXTENSION_MONTHS};
pub use status::{IllegalTransition, RequestAction, RequestStatus};

/// What the subject asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// Art. 15: a copy of their data and what is done with it.
    Access,
    /// Art. 20: their data in a machine-readable format.
    Portability,
    /// Art. 17: their data deleted.
    Erasure,
}

impl RequestType {
    pub const ALL: [RequestType; 3] = [
        RequestType::Access,
        RequestType::Portability,
        RequestType::Erasure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Access => "access",
            RequestType::Portability => "portability",
            RequestType::Erasure => "erasure",
        }
    }

    pub fn parse(s: &str) -> Option<RequestType> {
        RequestType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// How far identity verification got. The secrets are kept only as keyed hashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// HMAC of the one-time code sent (`None`: none sent yet).
    pub code_hash: Option<String>,
    /// HMAC of the link token sent with it.
    pub token_hash: Option<String>,
    /// The code and link stop working at this instant.
    pub expires_at: Option<Millis>,
    /// Wrong codes entered against the current code.
    pub attempts: u32,
    /// Too many wrong codes: no code or link verifies this request any more.
    pub locked: bool,
    /// `email_code` (entered by staff) or `email_link` (the subject clicked); the evidence.
    pub method: Option<String>,
    pub verified_at: Option<Millis>,
}

/// How an access or portability request is answered. Kept on the request from `fulfil` on,
/// so an approval given later generates what was asked for then.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fulfilment {
    /// The exports made for it (`exp_…`): one JSON export for access, JSON and CSV for
    /// portability. Empty until the exports are asked for.
    #[serde(default)]
    pub export_ids: Vec<String>,
    /// Each download link works once.
    #[serde(default)]
    pub one_time: bool,
    /// An armored OpenPGP public key the files are encrypted to (checked when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgp_public_key: Option<String>,
    /// No encryption, even where the account has a stored key.
    #[serde(default)]
    pub no_encryption: bool,
    /// Erasure requests: export the person's data first (`export_ids`), erase once done.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export_first: bool,
}

/// Wrong codes a request takes before it locks.
pub const MAX_VERIFICATION_ATTEMPTS: u32 = 5;

/// One data-subject request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `req_…`.
    pub id: String,
    pub kind: RequestType,
    /// Lower-cased ([`normalize_email`]).
    pub subject_email: String,
    pub user_id: Option<String>,
    pub visitor_id: Option<String>,
    /// A request by visitor id alone (see [`Request::visitor_only`]): the website whose
    /// tracker holds `visitor_id`.
    pub subject_website_id: Option<String>,
    pub received_at: Millis,
    /// The day of receipt (UTC) the deadline counts from.
    pub received_on: NaiveDate,
    pub due_rule: DueRule,
    /// Whether the deadline runs while identity is unverified (the account's setting then).
    pub clock_runs_while_unverified: bool,
    /// Days the clock stood still, fixed once the subject is verified.
    pub paused_days: u32,
    pub extension_months: u32,
    /// The due date as last computed; see [`Request::deadline`] for the one that counts now.
    pub due_on: NaiveDate,
    pub status: RequestStatus,
    pub assignee: Option<String>,
    pub notes: Option<String>,
    /// The open request of the same email this one arrived beside.
    pub linked_to: Option<String>,
    /// The caller's own reference (bulk imports are idempotent by it).
    pub external_ref: Option<String>,
    pub verification: Verification,
    /// The answer to an access or portability request: how it was asked for, and the exports.
    pub fulfilment: Fulfilment,
    /// Bumped by every change: a change made from a stale copy is refused.
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// The evidence a request by visitor id alone is verified with: it was posted from the browser
/// whose tracker holds the visitor id.
pub const VISITOR_ID_POSSESSION: &str = "visitor_id_possession";

impl Request {
    /// Asked for by visitor id alone from the privacy page: no email on file, answered only
    /// on the status page in that browser and only with that visitor's own rows.
    pub fn visitor_only(&self) -> bool {
        self.subject_email.is_empty() && self.visitor_id.is_some()
    }

    /// How the subject is named in the audit trail: `email:…`, or `visitor_id:…` for a
    /// request by visitor id alone.
    pub fn audit_subject(&self) -> String {
        match (&self.visitor_id, self.visitor_only()) {
            (Some(v), true) => format!("visitor_id:{v}"),
            _ => format!("email:{}", self.subject_email),
        }
    }

    /// How staff see the subject in lists: the email, or `visitor v` and the visitor id's
    /// first eight characters.
    pub fn subject_label(&self) -> String {
        match (&self.visitor_id, self.visitor_only()) {
            (Some(v), true) => format!("visitor v{}…", v.chars().take(8).collect::<String>()),
            _ => self.subject_email.clone(),
        }
    }

    /// The deadline as it stands on `today`: while the clock stands still (unverified, and
    /// the account stops it), every day until today is a paused day.
    pub fn deadline(&self, today: NaiveDate) -> Deadline {
        let paused_days = if self.clock_stopped() {
            deadline::days_between(self.received_on, today).max(0) as u32
        } else {
            self.paused_days
        };
        Deadline {
            received_on: self.received_on,
            rule: self.due_rule,
            paused_days,
            extension_months: self.extension_months,
        }
    }

    /// The clock stands still now.
    pub fn clock_stopped(&self) -> bool {
        !self.clock_runs_while_unverified && self.status.is_unverified()
    }
}

/// A mail about a request, as its job carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestMail {
    /// To the subject: the one-time code and link. The job carries only a nonce; the code
    /// and token are derived from it with the server's secret, so the queue never holds
    /// them and a retried job sends the same ones.
    Verification { nonce: String },
    /// To the subject: the answer is extended (Art. 12(3)) to `due_on`, and why.
    Extension { due_on: NaiveDate, reason: String },
    /// To the subject: the request is refused, why, and their right to complain to a
    /// supervisory authority and to seek a judicial remedy (Art. 12(4)).
    Rejection { reason: String },
    /// To the account's privacy contact: the request reached `threshold` (`due_soon`,
    /// `overdue`) of its due day `due_on`.
    Escalation {
        threshold: String,
        due_on: NaiveDate,
    },
    /// To the subject: the request's exports are ready; the links to them and the "I received
    /// it" link. Queued once every export has completed; sending it delivers the request.
    Delivery,
    /// To the subject: their data is erased (with the deletion report's digest). Sending it
    /// delivers the erasure request; then the request forgets the address.
    ErasureCompleted,
}

/// One step of a request's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Millis,
    /// An API key id, `cli`, `worker` or `subject` (the link in the mail).
    pub actor: String,
    /// `received`, `verification_sent`, `verified`, `assigned`, `extended`, `mail_sent`, …
    pub step: String,
    /// What else is worth keeping (never a code or token).
    pub details: serde_json::Value,
}

/// An account's settings for data-subject requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSettings {
    pub due_rule: DueRule,
    /// Days on which no deadline falls (public holidays, office closures).
    pub holidays: Vec<NaiveDate>,
    pub clock_runs_while_unverified: bool,
    /// Requests this many days before their due date are escalated.
    pub escalate_days: u32,
    /// Where escalations are mailed (`None`: listed only).
    pub privacy_contact: Option<String>,
    /// Fulfilment stops at `awaiting_approval` until a person approves it.
    pub require_approval: bool,
    /// How long the links mailed to a subject work, in days.
    pub delivery_link_days: u32,
    /// Ingest drops lines of erased people (by keyed hashes of their identifiers).
    pub suppress_erased: bool,
    /// The self-service privacy page (`/privacy/{account}`) takes new requests.
    pub privacy_page: bool,
}

/// A subject's download links work 7 days unless the account says otherwise.
pub const DEFAULT_DELIVERY_LINK_DAYS: u32 = 7;

pub const DEFAULT_ESCALATE_DAYS: u32 = 7;

impl Default for RequestSettings {
    /// The clock runs while unverified by default: the stricter reading, under which no
    /// deadline is missed because a subject was slow to answer.
    fn default() -> Self {
        RequestSettings {
            due_rule: DueRule::EarlierOf,
            holidays: Vec::new(),
            clock_runs_while_unverified: true,
            escalate_days: DEFAULT_ESCALATE_DAYS,
            privacy_contact: None,
            require_approval: false,
            delivery_link_days: DEFAULT_DELIVERY_LINK_DAYS,
            suppress_erased: false,
            privacy_page: true,
        }
    }
}

/// The longest email address SMTP carries (RFC 5321).
pub const MAX_EMAIL_LEN: usize = 254;

/// An email address as requests keep it: trimmed and lower-cased, so that two requests of
/// one person link whatever case each was typed in. Refuses what cannot be an address.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(format!(
            "`subject_email` must be one email address (name@example.com, at most {MAX_EMAIL_LEN} characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_non_addresses_refused() {
        assert_eq!(
            normalize_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@example.com, bob@example.com",
            "a@b@example.com",
            "ann@.com",
            "<a@example.com>",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
        assert!(normalize_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    fn request(runs: bool, status: RequestStatus) -> Request {
        let day: NaiveDate = "2026-03-02".parse().unwrap();
        Request {
            id: "req_1".into(),
            kind: RequestType::Access,
            subject_email: "ann@example.com".into(),
            user_id: None,
            visitor_id: None,
            subject_website_id: None,
            received_at: 0,
            received_on: day,
            due_rule: DueRule::EarlierOf,
            clock_runs_while_unverified: runs,
            paused_days: 0,
            extension_months: 0,
            due_on: day,
            status,
            assignee: None,
            notes: None,
            linked_to: None,
            external_ref: None,
            verification: Verification::default(),
            fulfilment: Fulfilment::default(),
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_stopped_clock_counts_every_unverified_day_as_paused() {
        let today: NaiveDate = "2026-03-06".parse().unwrap();
        let stopped = request(false, RequestStatus::VerificationSent);
        assert_eq!(stopped.deadline(today).paused_days, 4);
        let running = request(true, RequestStatus::VerificationSent);
        assert_eq!(running.deadline(today).paused_days, 0);
        let verified = request(false, RequestStatus::Verified);
        assert_eq!(
            verified.deadline(today).paused_days,
            0,
            "fixed at verification"
        );
    }
}
