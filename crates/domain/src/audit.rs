//! The audit trail: who did what to whose data, when, with what result. Entries are
//! append-only and hash-chained: each entry's hash covers its content and the previous hash,
//! so editing or removing any entry breaks every hash after it.

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(serialize_with = "crate::time::serde_rfc3339::serialize")]
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
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
}
