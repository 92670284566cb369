//! The audit trail: who did what to whose data, when, with what result. Entries are
//! append-only and hash-chained: each entry's hash covers its content and the previous hash,
//! so editing or removing any entry breaks every hash after it.
//!
//! Two hash versions, kept per entry: version 1 ([`entry_hash`]) covers the entry without its
//! account, version 2 ([`account_entry_hash`]) covers the account's name too, so an entry moved
//! to another account no longer verifies. Version 3 ([`pseudonymous_entry_hash`]) is version 2
//! with the SHA-256 of `subject` and `person` hashed in place of their text, so that an erasure
//! can replace the text with that digest ([`AuditEntry::pseudonymised`]) and the entry still
//! verifies. Every entry is written with [`HASH_VERSION`]; entries written before keep their
//! version and their hashes, so a trail written then still verifies (and their text stays).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// An API key id, `cli`, `worker` or `link` (an anonymous download).
    pub actor: String,
    /// `data_export.requested`, `data_export.completed`, `api_key.created`, …
    pub action: String,
    /// The person concerned (a user id, email or visitor id), when there is one.
    pub subject: Option<String>,
    pub data_types: Vec<String>,
    /// `ok` or an error code.
    pub status: String,
    pub export_id: Option<String>,
    /// Anything else worth keeping, e.g. bytes sent.
    pub details: serde_json::Value,
    /// Whom `subject` resolved to when the export was asked for: `user_id:…`, or
    /// `visitor_id:…` for a visitor no user is linked to ([`crate::export::Subject::person`]).
    /// `subject` keeps the identifier the request used; this links the entries of one person
    /// whichever identifier each request used. `None` for entries about no person and for
    /// entries written before Ferry recorded it.
    pub person: Option<String>,
}

/// The hash version every new entry is written with.
pub const HASH_VERSION: u8 = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(serialize_with = "crate::time::serde_rfc3339::serialize")]
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The name of the account the entry belongs to, as version 2 hashes it (empty for
    /// entries of the trail itself, which belong to no account).
    pub account: String,
    pub prev_hash: String,
    pub hash: String,
    /// 1: the hash leaves out the account (entries written before it was added); 2: it covers it;
    /// 3: it covers the digests of `subject` and `person` instead of their text.
    pub hash_version: u8,
    /// An erasure replaced `subject` and `person` with their SHA-256 ([`subject_digest`]):
    /// the person's identifiers are gone from the trail, and the entry (version 3) verifies.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pseudonymised: bool,
}

impl AuditEntry {
    /// The hash this entry should carry, by its own version; `None` for a version Ferry does
    /// not know.
    pub fn expected_hash(&self) -> Option<String> {
        let at_ms = self.at.timestamp_millis();
        match self.hash_version {
            1 => Some(entry_hash(&self.prev_hash, self.seq, at_ms, &self.event)),
            2 => Some(account_entry_hash(
                &self.prev_hash,
                self.seq,
                at_ms,
                &self.account,
                &self.event,
            )),
            3 => Some(pseudonymous_entry_hash(
                &self.prev_hash,
                self.seq,
                at_ms,
                &self.account,
                &self.event,
                self.pseudonymised,
            )),
            _ => None,
        }
    }
}

/// The hash of an entry: SHA-256 over the previous hash and the entry's fields, each
/// length-prefixed so that no two different entries hash the same text. `person` came later:
/// it is hashed (last) only when present, so entries written before it keep their hashes and
/// the chain they are part of still verifies; the length prefixes keep an entry with a person
/// from hashing like one without.
pub fn entry_hash(prev_hash: &str, seq: i64, at_ms: i64, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    let details = event.details.to_string();
    let data_types = event.data_types.join(",");
    let fields: [&str; 9] = [
        prev_hash,
        &seq.to_string(),
        &at_ms.to_string(),
        &event.actor,
        &event.action,
        event.subject.as_deref().unwrap_or(""),
        &data_types,
        &event.status,
        event.export_id.as_deref().unwrap_or(""),
    ];
    let later: Option<&str> = event.person.as_deref();
    for field in fields
        .iter()
        .chain([details.as_str()].iter())
        .chain(later.iter())
    {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The action of the entry an upgrade writes when it finds entries of version 1: its details
/// record which account each of them was filed under then (`entries_through`, the last of
/// them, and `accounts_sha256`, an [`AccountsDigest`] of them), so that moving one of them
/// afterwards shows although its own hash leaves the account out.
pub const ACCOUNTS_RECORDED: &str = "audit.accounts_recorded";

/// SHA-256 over the number and account name of each entry, in order, each length-prefixed.
#[derive(Default)]
pub struct AccountsDigest(Sha256);

impl AccountsDigest {
    pub fn add(&mut self, seq: i64, account: &str) {
        self.0.update(seq.to_be_bytes());
        self.0.update((account.len() as u64).to_be_bytes());
        self.0.update(account.as_bytes());
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0.clone().finalize())
    }
}

/// Version 2: SHA-256 over a version tag, the previous hash, the entry's number and time, the
/// account's name and every field of the event, each length-prefixed; an absent optional field
/// is marked apart from an empty one. Moving an entry to another account changes its hash.
pub fn account_entry_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    account: &str,
    event: &AuditEvent,
) -> String {
    let mut hasher = Sha256::new();
    let details = event.details.to_string();
    let data_types = event.data_types.join(",");
    let (seq, at_ms) = (seq.to_string(), at_ms.to_string());
    let fields: [Option<&str>; 13] = [
        Some("ferry-audit-v2"),
        Some(prev_hash),
        Some(&seq),
        Some(&at_ms),
        Some(account),
        Some(&event.actor),
        Some(&event.action),
        event.subject.as_deref(),
        Some(&data_types),
        Some(&event.status),
        event.export_id.as_deref(),
        Some(&details),
        event.person.as_deref(),
    ];
    for field in fields {
        match field {
            Some(text) => {
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            None => hasher.update(u64::MAX.to_be_bytes()),
        }
    }
    hex::encode(hasher.finalize())
}

/// The SHA-256 (hex) of an audit entry's `subject` or `person` text: what version 3 hashes, and
/// what an erasure leaves in its place.
pub fn subject_digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Version 3: [`account_entry_hash`] under its own tag, with `subject` and `person` replaced by
/// their [`subject_digest`]. `pseudonymised`: the event already holds the digests.
pub fn pseudonymous_entry_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    account: &str,
    event: &AuditEvent,
    pseudonymised: bool,
) -> String {
    let digest = |text: &Option<String>| match text {
        Some(t) if pseudonymised => Some(t.clone()),
        Some(t) => Some(subject_digest(t)),
        None => None,
    };
    let event = AuditEvent {
        subject: digest(&event.subject),
        person: digest(&event.person),
        ..event.clone()
    };
    let mut hasher = Sha256::new();
    hasher.update(b"ferry-audit-v3");
    hasher.update(account_entry_hash(prev_hash, seq, at_ms, account, &event).as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str) -> AuditEvent {
        AuditEvent {
            actor: "key_1".into(),
            action: action.into(),
            subject: Some("user_123".into()),
            data_types: vec!["pageviews".into()],
            status: "ok".into(),
            export_id: Some("exp_1".into()),
            details: serde_json::json!({}),
            person: None,
        }
    }

    #[test]
    fn any_change_to_an_entry_changes_its_hash() {
        let base = entry_hash(GENESIS, 1, 1000, &event("data_export.requested"));
        assert_ne!(
            base,
            entry_hash(GENESIS, 1, 1000, &event("data_export.completed"))
        );
        assert_ne!(
            base,
            entry_hash(GENESIS, 2, 1000, &event("data_export.requested"))
        );
        assert_ne!(
            base,
            entry_hash(&base, 1, 1000, &event("data_export.requested"))
        );
        assert_eq!(
            base,
            entry_hash(GENESIS, 1, 1000, &event("data_export.requested"))
        );
    }

    #[test]
    fn entries_without_a_person_hash_as_they_did_before_persons_were_recorded() {
        // Computed by the hash of before the `person` field: a trail written then must
        // still verify.
        assert_eq!(
            entry_hash(GENESIS, 1, 1000, &event("data_export.requested")),
            "8ec9f0ce37d1f2a07da39d868844d3a8007024d2c7ed1dd4d01c2a8aef098aa3"
        );
    }

    #[test]
    fn the_person_is_part_of_the_hash() {
        let without = event("data_export.requested");
        let with = |person: &str| AuditEvent {
            person: Some(person.into()),
            ..without.clone()
        };
        let base = entry_hash(GENESIS, 1, 1000, &without);
        let ann = entry_hash(GENESIS, 1, 1000, &with("user_id:ann"));
        assert_ne!(base, ann);
        assert_ne!(ann, entry_hash(GENESIS, 1, 1000, &with("user_id:bob")));
        assert_ne!(base, entry_hash(GENESIS, 1, 1000, &with("")));
    }

    #[test]
    fn version_two_covers_the_account_and_tells_absent_from_empty() {
        let e = event("data_export.requested");
        let acme = account_entry_hash(GENESIS, 1, 1000, "acme", &e);
        assert_ne!(acme, account_entry_hash(GENESIS, 1, 1000, "globex", &e));
        assert_ne!(acme, entry_hash(GENESIS, 1, 1000, &e), "versions differ");
        let no_subject = AuditEvent {
            subject: None,
            ..e.clone()
        };
        let empty_subject = AuditEvent {
            subject: Some(String::new()),
            ..e.clone()
        };
        assert_ne!(
            account_entry_hash(GENESIS, 1, 1000, "acme", &no_subject),
            account_entry_hash(GENESIS, 1, 1000, "acme", &empty_subject)
        );
        assert_eq!(acme, account_entry_hash(GENESIS, 1, 1000, "acme", &e));
    }

    #[test]
    fn version_three_verifies_the_same_after_the_text_is_replaced_by_its_digest() {
        let e = AuditEvent {
            person: Some("user_id:ann".into()),
            ..event("data_export.requested")
        };
        let plain = pseudonymous_entry_hash(GENESIS, 1, 1000, "acme", &e, false);
        let erased = AuditEvent {
            subject: Some(subject_digest("user_123")),
            person: Some(subject_digest("user_id:ann")),
            ..e.clone()
        };
        assert_eq!(
            plain,
            pseudonymous_entry_hash(GENESIS, 1, 1000, "acme", &erased, true)
        );
        let bob = AuditEvent {
            person: Some("user_id:bob".into()),
            ..e.clone()
        };
        assert_ne!(
            plain,
            pseudonymous_entry_hash(GENESIS, 1, 1000, "acme", &bob, false)
        );
        assert_ne!(plain, account_entry_hash(GENESIS, 1, 1000, "acme", &e));
        assert_ne!(
            plain,
            pseudonymous_entry_hash(GENESIS, 1, 1000, "acme", &erased, false),
            "a digest taken for text is hashed again"
        );
    }
}
