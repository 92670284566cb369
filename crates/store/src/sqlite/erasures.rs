//! [`crate::Erasures`] on SQLite: every phase through `erasure::securely`.

use ferry_domain::erasure::{ErasureRecord, Remaining};
use ferry_domain::request::Request;
use ferry_domain::{AccountId, Millis};

use super::{SqliteStore, erasure, erasure_scrub};
use crate::{Erasures, RequestChange, StoreError};

#[async_trait::async_trait]
impl Erasures for SqliteStore {
    async fn erasure(
        &self,
        account: AccountId,
        request_id: &str,
    ) -> Result<Option<ErasureRecord>, StoreError> {
        let id = request_id.to_string();
        self.pool
            .read(move |c| erasure::record(c, account, &id))
            .await
    }

    async fn erase_rows(
        &self,
        account: AccountId,
        request_id: &str,
        email: &str,
        keep: Vec<String>,
        now: Millis,
    ) -> Result<ErasureRecord, StoreError> {
        let (id, email) = (request_id.to_string(), email.to_string());
        self.pool
            .write_with_cache(move |w| {
                // The ingest cache mirrors visitors and sessions: this write deletes some.
                w.cache.clear();
                erasure::securely(&mut w.conn, |tx| {
                    erasure::erase_rows(tx, account, &id, &email, &keep, now)
                })
            })
            .await
    }

    async fn erase_exports(
        &self,
        account: AccountId,
        request_id: &str,
        artifact_files: u64,
        segment_files: u64,
        now: Millis,
    ) -> Result<ErasureRecord, StoreError> {
        let id = request_id.to_string();
        self.pool
            .write(move |c| {
                erasure::securely(c, |tx| {
                    erasure_scrub::erase_exports(
                        tx,
                        account,
                        &id,
                        artifact_files,
                        segment_files,
                        now,
                    )
                })
            })
            .await
    }

    async fn erasure_remaining(
        &self,
        account: AccountId,
        request_id: &str,
    ) -> Result<Remaining, StoreError> {
        let id = request_id.to_string();
        self.pool
            .read(move |c| {
                let record = erasure::record(c, account, &id)?.ok_or(StoreError::NotFound)?;
                match record.person {
                    Some(person) => erasure_scrub::remaining(c, account, &person),
                    None => Ok(Remaining::default()),
                }
            })
            .await
    }

    async fn record_erasure_report(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        report: serde_json::Value,
        report_sha256: String,
        now: Millis,
    ) -> Result<Request, StoreError> {
        self.pool
            .write(move |c| {
                erasure::securely(c, |tx| {
                    erasure_scrub::record_report(
                        tx,
                        account,
                        &request,
                        &change,
                        &report,
                        &report_sha256,
                        now,
                    )
                })
            })
            .await
    }

    async fn scrub_erasure(
        &self,
        account: AccountId,
        request_id: &str,
        erased_email: &str,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let (id, erased) = (request_id.to_string(), erased_email.to_string());
        self.pool
            .write(move |c| {
                erasure::securely(c, |tx| erasure_scrub::scrub(tx, account, &id, &erased, now))
            })
            .await
    }
}
