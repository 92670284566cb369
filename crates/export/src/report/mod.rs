//! The Art. 15 answer beside a person's data: [`About`] is what the caller gathered (the
//! controller's statement, each website's retention and overrides, the person's access log),
//! [`html`] writes `report.html` from it and the export's own figures, and [`readme_section`]
//! the README's "About this data" part.
//!
//! Every value in the report comes from outside — settings text typed by an admin, domains,
//! and the access log's labels — so every one is HTML-escaped ([`html::escape`]); the page
//! carries a CSP that allows no script, no image and no request anywhere.

pub mod html;
mod readme;

pub use readme::readme_section;

use ferry_domain::privacy_statement::PrivacyStatement;

/// What a person's package says about the processing of their data, gathered by the caller
/// (the export crate reads no database).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct About {
    /// The account's statement.
    pub statement: PrivacyStatement,
    /// Each website the person was seen on, in the order of the identities.
    pub websites: Vec<AboutWebsite>,
    /// Who exported or downloaded the person's data, oldest first (the newest lines when
    /// there were more than the caller keeps).
    pub access_log: Vec<Access>,
    /// Older lines left out of `access_log`.
    pub access_log_omitted: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AboutWebsite {
    pub website_id: String,
    pub domain: String,
    /// Days raw data is kept; `None`: until deleted.
    pub retention_days: Option<u32>,
    /// The statement that applies on this website when it overrides the account's.
    pub statement: Option<PrivacyStatement>,
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// RFC 3339 UTC.
    pub at: String,
    /// Who, in words: "API key “CRM sync”", "a member of staff (dashboard)", "you".
    pub who: String,
    /// What, in words: "asked for export exp_… (pageviews, events; json)".
    pub what: String,
}

/// How a website's retention reads.
pub(crate) fn retention_words(days: Option<u32>) -> String {
    match days {
        Some(1) => "raw data is deleted after 1 day".into(),
        Some(n) => format!("raw data is deleted after {n} days"),
        None => "raw data is kept until it is deleted (no automatic deletion)".into(),
    }
}
