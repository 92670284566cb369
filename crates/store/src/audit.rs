use async_trait::async_trait;
use ferry_domain::AccountId;
use ferry_domain::audit::{AuditEntry, AuditEvent};
use ferry_domain::job::Receipt;

use crate::StoreError;

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `data_export` matches every `data_export.*` action (compared as text: `%` and `_` are
    /// no wildcards).
    pub action: Option<String>,
    /// Any identifier of a person: a label (`user_id:…`, `email:…`, `visitor_id:…`, or
    /// `website:…` for bulk exports) or a bare user id, email or visitor id. Matches the
    /// entries whose subject or resolved person is that person by any of the identifiers
    /// linked to them now in the account (an email in any case), and the identifier itself.
    pub subject: Option<String>,
    pub actor: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Entries after this sequence number.
    pub after: Option<i64>,
    pub limit: u32,
}

/// The first entry that does not check out.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

/// What walking the whole chain found, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditChain {
    /// Entries read.
    pub count: u64,
    /// The newest entry's number and hash (`None` for an empty trail): what a checkpoint signs
    /// when nothing is broken.
    pub head: Option<(i64, String)>,
    /// The first entry that does not check out, if any.
    pub broken: Option<AuditBreak>,
    /// The hash of the entry the caller asked about, when it exists and every entry up to it
    /// checked out.
    pub hash_at: Option<String>,
}

/// The append-only, hash-chained audit trail (one chain for the whole store), and the
/// receipts of finished exports.
#[async_trait]
pub trait Audit: Send + Sync {
    /// Appends to the hash-chained audit trail.
    async fn audit(&self, account: AccountId, event: AuditEvent) -> Result<AuditEntry, StoreError>;
    async fn audit_entries(
        &self,
        account: AccountId,
        filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Checks the whole chain: how many entries, the newest, and the first that fails, if any;
    /// with `seq`, also the hash of that entry (what a checkpoint of it signed).
    async fn audit_verify(&self, seq: Option<i64>) -> Result<AuditChain, StoreError>;
    async fn receipt(&self, export_id: &str) -> Result<Option<Receipt>, StoreError>;
    /// Records delivery; `true` the first time.
    async fn mark_delivered(&self, export_id: &str) -> Result<bool, StoreError>;
}
