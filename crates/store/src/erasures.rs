use async_trait::async_trait;
use ferry_domain::erasure::{ErasureRecord, Remaining};
use ferry_domain::request::Request;
use ferry_domain::{AccountId, Millis};

use crate::{RequestChange, StoreError};

/// Erasure requests (GDPR Art. 17), phase by phase. Each phase commits with its record in
/// `erasures`, so a run killed at any point resumes and ends with the same counts. Every phase
/// writes with SQLite's `secure_delete` on and ends with a WAL checkpoint that truncates the
/// log, so freed pages keep no bytes of the person.
#[async_trait]
pub trait Erasures: Send + Sync {
    /// The erasure of request `request_id`, once its rows phase has run.
    async fn erasure(
        &self,
        account: AccountId,
        request_id: &str,
    ) -> Result<Option<ErasureRecord>, StoreError>;
    /// Deletes, in one transaction, every row of the person `email` resolves to on every
    /// website of the account (page views, events, sessions, visitors, profiles, identity
    /// links), rebuilds the rollup buckets those rows were in, lets the triggers forget the
    /// export segments of their days, notes which exports' files held them (all but `keep`),
    /// keys their identifiers into the suppression list when the account suppresses, and
    /// records the counts. Run again, it returns the record and deletes nothing.
    async fn erase_rows(
        &self,
        account: AccountId,
        request_id: &str,
        email: &str,
        keep: Vec<String>,
        now: Millis,
    ) -> Result<ErasureRecord, StoreError>;
    /// The exports' files are gone: marks the exports erased (downloads answer
    /// `export_erased`), replaces the person in their records and receipts by a digest, and
    /// records the file counts. Run again, it changes nothing.
    async fn erase_exports(
        &self,
        account: AccountId,
        request_id: &str,
        artifact_files: u64,
        segment_files: u64,
        now: Millis,
    ) -> Result<ErasureRecord, StoreError>;
    /// Counts, by direct queries, what is left of the person the record names.
    async fn erasure_remaining(
        &self,
        account: AccountId,
        request_id: &str,
    ) -> Result<Remaining, StoreError>;
    /// Saves `request` (as `save_request`) with the report and its SHA-256, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn record_erasure_report(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        report: serde_json::Value,
        report_sha256: String,
        now: Millis,
    ) -> Result<Request, StoreError>;
    /// The last phase, after the subject's mail: the person's identifiers leave the audit
    /// trail (entries of hash version 3 keep their SHA-256 and still verify), the request
    /// (and the person's ended requests) keep `erased_email` in place of the address, the
    /// record forgets the identifiers. Returns how many audit entries were pseudonymised.
    async fn scrub_erasure(
        &self,
        account: AccountId,
        request_id: &str,
        erased_email: &str,
        now: Millis,
    ) -> Result<u64, StoreError>;
}
