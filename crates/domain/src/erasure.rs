//! Erasure (GDPR Art. 17): who is erased, what was removed, and the deletion report that
//! proves it.
//!
//! An erasure runs in phases ([`ErasurePhase`]), each recorded before the next starts, so a
//! run killed at any point resumes where it stopped and ends with the same report: the rows
//! are deleted and counted in one transaction, and a second pass finds the record, not an
//! empty store.

use serde::{Deserialize, Serialize};

/// The identifiers an erasure removes: everything the request's email resolves to, as the
/// request shows them as identities. Kept only while the erasure runs (the after-the-fact
/// check searches for them), then dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedPerson {
    pub email: String,
    pub user_ids: Vec<String>,
    pub visitor_ids: Vec<String>,
}

impl ErasedPerson {
    /// How audit entries and exports name this person: `email:…`, `user_id:…`,
    /// `visitor_id:…`. Typed, never bare: a visitor id is whatever a browser sent, so one
    /// chosen to read `email:someone@…` must not name that someone.
    pub fn labels(&self) -> Vec<String> {
        let mut out = vec![self.email_label()];
        out.extend(self.user_ids.iter().map(|u| format!("user_id:{u}")));
        out.extend(self.visitor_ids.iter().map(|v| format!("visitor_id:{v}")));
        out
    }

    pub fn email_label(&self) -> String {
        format!("email:{}", self.email)
    }

    /// Whether `label` names this person: an email in any case (as requests compare them),
    /// a user or visitor id exactly (`Bob` and `bob` are two users).
    pub fn is_named_by(&self, label: &str) -> bool {
        match label.strip_prefix("email:") {
            Some(email) => email.to_lowercase() == self.email.to_lowercase(),
            None => self.labels().iter().skip(1).any(|l| l == label),
        }
    }

    /// Every identifier as text, for byte searches.
    pub fn needles(&self) -> Vec<&str> {
        let mut out = vec![self.email.as_str()];
        out.extend(self.user_ids.iter().map(String::as_str));
        out.extend(self.visitor_ids.iter().map(String::as_str));
        out
    }
}

/// How far an erasure got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasurePhase {
    /// The rows are deleted and counted, rollups rebuilt, segments forgotten.
    RowsDeleted,
    /// The export files holding them are deleted and their exports marked.
    ArtifactsDeleted,
    /// The report is written and signed into the audit chain; the mail is queued.
    Reported,
    /// The mail went out; the request keeps only a keyed hash of the email, the audit trail
    /// only digests of the identifiers.
    Scrubbed,
}

/// What the row deletion removed, counted in its transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub pageviews: u64,
    pub events: u64,
    pub sessions: u64,
    pub visitors: u64,
    /// User profiles (one per user id).
    pub profiles: u64,
    /// Visitor ↔ user links among the visitors.
    pub identity_links: u64,
    /// Export segment records forgotten because a day of theirs lost rows.
    pub segments: u64,
    /// 15-minute rollup buckets recomputed from the remaining rows.
    pub rollup_buckets: u64,
    /// Websites of the account the person had rows on.
    pub websites: u64,
}

/// What the row deletion hands to the later phases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    pub phase: Option<ErasurePhase>,
    pub counts: RowCounts,
    /// Exports whose files held the person's rows: their own, and bulk exports of a website
    /// they had rows on.
    pub exports: Vec<String>,
    /// `None` once scrubbed.
    pub person: Option<ErasedPerson>,
    /// Files deleted from the artifact store, and segment files removed.
    #[serde(default)]
    pub artifact_files: u64,
    #[serde(default)]
    pub segment_files: u64,
    pub report: Option<serde_json::Value>,
    pub report_sha256: Option<String>,
}

/// What the check after the fact found of the person; every field is 0 when nothing remains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remaining {
    pub pageviews: u64,
    pub events: u64,
    pub sessions: u64,
    pub visitors: u64,
    pub profiles: u64,
    /// Ready segments of the person's days still recorded.
    pub segments: u64,
    /// Segment and artifact files that still contain one of their identifiers.
    pub files: u64,
}

impl Remaining {
    pub fn is_nothing(&self) -> bool {
        *self == Remaining::default()
    }
}

/// The keyed hash (HMAC-SHA256, hex) of an identifier's label (`user_id:…`, `visitor_id:…`,
/// `email:…` lower-cased) in the suppression list: enough to recognise the identifier when it
/// comes again, useless to anyone who reads the list without the key.
pub fn suppression_hash(key: &[u8], label: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_named_by_typed_labels_only() {
        let person = ErasedPerson {
            email: "Ann@Example.com".into(),
            user_ids: vec!["Bob".into()],
            visitor_ids: vec!["email:victim@example.com".into()],
        };
        assert!(person.is_named_by("email:ann@example.com"));
        assert!(person.is_named_by("user_id:Bob"));
        assert!(!person.is_named_by("user_id:bob"), "user ids are exact");
        assert!(person.is_named_by("visitor_id:email:victim@example.com"));
        assert!(
            !person.is_named_by("email:victim@example.com"),
            "a visitor id that reads like an email names nobody"
        );
        assert!(!person.is_named_by("Bob"), "bare identifiers name nobody");
    }
}
